//! The layering invariants of ARCHITECTURE.md: the model, stats and sim
//! layers import nothing from the GUI, the async runtime or the front ends,
//! nothing below the GUI uses it, and the simulator reads no clock and does
//! no I/O.

use std::path::Path;

/// Every `.rs` file below `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out
}

fn assert_absent(layer: &str, forbidden: &[&str]) {
    assert_absent_except(layer, forbidden, &[]);
}

/// As `assert_absent`, skipping files whose path ends with one of `allowed`.
fn assert_absent_except(layer: &str, forbidden: &[&str], allowed: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let files: Vec<_> = sources(&root)
        .into_iter()
        .filter(|(path, _)| !allowed.iter().any(|a| path.ends_with(a)))
        .collect();
    assert!(!files.is_empty(), "{layer} has sources");
    for (path, text) in files {
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in forbidden {
                assert!(
                    !code.contains(word),
                    "{path}:{}: {layer} must not use `{word}`",
                    number + 1
                );
            }
        }
    }
}

const FRONT_ENDS: &[&str] = &[
    "egui",
    "eframe",
    "tokio",
    "hyper",
    "crate::gui",
    "crate::cli",
    "crate::loadgen",
    "clap",
];

#[test]
fn model_knows_nothing_of_the_layers_above() {
    assert_absent("model", FRONT_ENDS);
    assert_absent("model", &["crate::sim", "crate::stats"]);
}

#[test]
fn stats_knows_nothing_of_the_layers_above() {
    assert_absent("stats", FRONT_ENDS);
    assert_absent("stats", &["crate::sim", "crate::model"]);
}

#[test]
fn nothing_depends_on_the_gui() {
    for layer in ["model", "stats", "sim", "cli"] {
        assert_absent(layer, &["crate::gui", "egui", "eframe"]);
    }
    #[cfg(feature = "loadgen")]
    assert_absent("loadgen", &["crate::gui", "egui", "eframe"]);
}

#[test]
fn sim_is_pure() {
    assert_absent("sim", FRONT_ENDS);
    let impure = [
        "Instant",
        "SystemTime",
        "std::fs",
        "std::net",
        "std::io",
        "println!",
        "eprintln!",
    ];
    assert_absent("sim", &impure);
    // Threads only run the points of a sweep.
    assert_absent_except("sim", &["std::thread"], &["sim/sweep.rs"]);
}
