//! What each fuzz target checks of one input. Shared by the fuzz targets
//! (cargo-fuzz, nightly) and by `cargo test` (`tests/fuzz_corpus.rs`), which
//! runs every file of `corpus/` through these on the stable toolchain.
//! Each check panics only when archbench is wrong.

use std::path::Path;

use archbench::model::{self, Distribution, LatencyTarget, TimeSpan, file};

/// A `.ron` project file: it loads or says where it is wrong, never panics;
/// a project that loads and validates saves to text that loads back equal,
/// and saving that again gives the same bytes.
pub fn project_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Path::new("fuzz.ron");
    let Ok(loaded) = file::parse(text, origin) else {
        return;
    };
    if !model::validate(&loaded.project).is_empty() {
        return;
    }
    let saved = file::to_text(&loaded).expect("a valid project saves");
    let again = file::parse(&saved, origin).expect("a saved project loads");
    assert_eq!(again, loaded, "save then load gives the same project");
    assert_eq!(
        file::to_text(&again).expect("saves"),
        saved,
        "saving is stable"
    );
}

/// The parsers of what users type: distributions, times, latency objectives
/// and load-test thresholds. Each parses or says why; what parses prints
/// back to text that parses to the same value.
pub fn user_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = text.parse::<Distribution>() {
        assert_eq!(d.to_string().parse::<Distribution>().ok(), Some(d));
    }
    if let Ok(t) = text.parse::<TimeSpan>() {
        assert_eq!(t.to_string().parse::<TimeSpan>().ok(), Some(t));
    }
    if let Ok(target) = text.parse::<LatencyTarget>() {
        assert_eq!(
            target.to_string().parse::<LatencyTarget>().ok(),
            Some(target)
        );
    }
    let _ = text.parse::<archbench::loadgen::Threshold>();
    let _ = archbench::stats::Tolerance::parse_list(&text);
}

/// The load generator's HTTP/1.1 response reader: the first byte says how
/// many bytes each read delivers; whatever the rest is, the reader answers
/// or fails, never panics, and answers the same however the bytes arrive.
pub fn http_response(data: &[u8]) {
    let Some((&chunk, bytes)) = data.split_first() else {
        return;
    };
    let whole = archbench::loadgen::read_response(bytes, bytes.len().max(1));
    let pieces = archbench::loadgen::read_response(bytes, usize::from(chunk).max(1));
    assert_eq!(format!("{whole:?}"), format!("{pieces:?}"));
    if let Ok(answer) = whole {
        assert!(answer.bytes <= bytes.len() as u64);
    }
}
