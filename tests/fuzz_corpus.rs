//! The fuzz targets' checks (fuzz/checks.rs) over every file of their
//! corpora (fuzz/corpus/<target>/), on the stable toolchain: a
//! deterministic smoke run of what `cargo +nightly fuzz run` explores.

#[path = "../fuzz/checks.rs"]
mod checks;

fn run_corpus(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{target}: a corpus of {} files",
        files.len()
    );
    for path in files {
        let data = std::fs::read(&path).unwrap();
        // Name the input that fails.
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(
            outcome.is_ok(),
            "{target}: {} fails its check",
            path.display()
        );
    }
}

#[test]
fn the_project_file_corpus_passes_its_check() {
    run_corpus("project_file", checks::project_file);
}

#[test]
fn the_user_text_corpus_passes_its_check() {
    run_corpus("user_text", checks::user_text);
}

#[test]
fn the_http_response_corpus_passes_its_check() {
    run_corpus("http_response", checks::http_response);
}
