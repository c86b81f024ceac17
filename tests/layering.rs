//! The layering invariants of ARCHITECTURE.md: the model, stats and sim
//! layers import nothing from the GUI, the async runtime or the front ends,
//! nothing below the GUI uses it, the simulator reads no clock and does no
//! I/O, no two files import each other, directly or around a loop, and no
//! file is over 700 lines.

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

/// A source file's module path (`gui/app/mod.rs` is `["gui", "app"]`).
fn module_of(root: &Path, path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str()))
    {
        parts.pop();
    }
    parts
}

/// The modules (files) that `text`, in module `at`, names by a `crate::` or
/// `super::` path: the longest prefix of each path that is a file.
fn imports(text: &str, at: &[String], modules: &[Vec<String>]) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let word_before = |i: usize| {
        code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    };
    let starts = code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
        .map(|(i, _)| i)
        .filter(|&i| !word_before(i));
    let mut found = Vec::new();
    for start in starts {
        let mut rest = &code[start..];
        let mut base: Vec<String> = at.to_vec();
        if let Some(tail) = rest.strip_prefix("crate::") {
            base.clear();
            rest = tail;
        }
        while let Some(tail) = rest.strip_prefix("super::") {
            base.pop();
            rest = tail;
        }
        // `super::{a::B, c}`: each item of a group is a path of its own.
        let paths: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for path in paths {
            let mut target = base.clone();
            for segment in path.trim().split("::") {
                let word: String = segment
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if word.is_empty() || word == "self" {
                    break;
                }
                target.push(word);
            }
            while !target.is_empty() && !modules.contains(&target) {
                target.pop();
            }
            if !target.is_empty() && target != at {
                found.push(target);
            }
        }
    }
    found
}

#[test]
fn no_two_files_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<(Vec<String>, String)> = sources(&root)
        .into_iter()
        .map(|(path, text)| (module_of(&root, Path::new(&path)), text))
        .collect();
    let modules: Vec<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    // Edges to a module's own ancestors are its context, not a dependency.
    let edges: Vec<(Vec<String>, Vec<Vec<String>>)> = files
        .iter()
        .map(|(at, text)| {
            let mut to: Vec<Vec<String>> = imports(text, at, &modules)
                .into_iter()
                .filter(|t| !at.starts_with(t))
                .collect();
            to.sort();
            to.dedup();
            (at.clone(), to)
        })
        .collect();
    let reaches = |from: &Vec<String>, goal: &Vec<String>| {
        let mut seen = vec![from.clone()];
        let mut stack = vec![from.clone()];
        while let Some(at) = stack.pop() {
            for (_, to) in edges.iter().filter(|(m, _)| *m == at) {
                for next in to {
                    if next == goal {
                        return true;
                    }
                    if !seen.contains(next) {
                        seen.push(next.clone());
                        stack.push(next.clone());
                    }
                }
            }
        }
        false
    };
    for (from, to) in &edges {
        for target in to {
            assert!(
                !reaches(target, from),
                "{} imports {}, which leads back to it",
                from.join("/"),
                target.join("/")
            );
        }
    }
}

#[test]
fn no_source_file_is_over_700_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (path, text) in sources(&root) {
        let lines = text.lines().count();
        assert!(
            lines <= 700,
            "{path} has {lines} lines: split it by concept (see ARCHITECTURE.md)"
        );
    }
}
