//! The layering invariants of ARCHITECTURE.md: the model, stats and sim
//! layers import nothing from the GUI, the async runtime or the front ends,
//! nothing below the GUI uses it, the simulator reads no clock and does no
//! I/O, no two files import each other, directly or around a loop, and no
//! file is over 700 lines. Files are read as Rust syntax (syn), so a path
//! cannot hide in a `use` group, behind a rename or in a macro call; and CI
//! builds the lower layers without the `gui` and `loadgen` features, where
//! naming those modules or crates does not compile at all.

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

/// Every path a file names, in full: each `use` (groups, renames and globs
/// expanded, so `use crate::{gui}` is `crate::gui`), every path in code and
/// types, the paths inside macro calls, and `extern crate`. A name brought in
/// by `use` (or `as`) is followed to what it stands for, so `use std as s;
/// s::fs::read(…)` is `std::fs::read`. Read with syn, as the compiler reads
/// it: comments and strings are not code.
fn paths_named(text: &str) -> Vec<Vec<String>> {
    use syn::visit::Visit;

    #[derive(Default)]
    struct Paths {
        found: Vec<Vec<String>>,
        /// Names a `use` introduced, and the full path each stands for.
        aliases: Vec<(String, Vec<String>)>,
    }

    impl Paths {
        fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
            match tree {
                syn::UseTree::Path(p) => {
                    prefix.push(p.ident.to_string());
                    self.use_tree(prefix, &p.tree);
                    prefix.pop();
                }
                syn::UseTree::Name(n) => {
                    let mut full = prefix.clone();
                    if n.ident != "self" {
                        full.push(n.ident.to_string());
                    }
                    let name = full.last().cloned().unwrap_or_default();
                    self.aliases.push((name, full.clone()));
                    self.found.push(full);
                }
                syn::UseTree::Rename(r) => {
                    let mut full = prefix.clone();
                    if r.ident != "self" {
                        full.push(r.ident.to_string());
                    }
                    self.aliases.push((r.rename.to_string(), full.clone()));
                    self.found.push(full);
                }
                syn::UseTree::Glob(_) => {
                    let mut full = prefix.clone();
                    full.push("*".to_owned());
                    self.found.push(full);
                }
                syn::UseTree::Group(g) => {
                    for item in &g.items {
                        self.use_tree(prefix, item);
                    }
                }
            }
        }

        /// `a :: b :: c` runs of identifiers in a macro's tokens.
        fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
            let mut run: Vec<String> = Vec::new();
            let mut colons = 0;
            for token in tokens {
                match token {
                    proc_macro2::TokenTree::Ident(ident) => {
                        if colons != 2 && !run.is_empty() {
                            self.found.push(std::mem::take(&mut run));
                        }
                        run.push(ident.to_string());
                        colons = 0;
                    }
                    proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
                    proc_macro2::TokenTree::Group(g) => {
                        if !run.is_empty() {
                            self.found.push(std::mem::take(&mut run));
                        }
                        self.tokens(g.stream());
                        colons = 0;
                    }
                    proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {
                        if !run.is_empty() {
                            self.found.push(std::mem::take(&mut run));
                        }
                        colons = 0;
                    }
                }
            }
            if !run.is_empty() {
                self.found.push(run);
            }
        }
    }

    impl<'ast> Visit<'ast> for Paths {
        fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
            self.use_tree(&mut Vec::new(), &item.tree);
        }
        fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
            let name = item.ident.to_string();
            if let Some((_, rename)) = &item.rename {
                self.aliases.push((rename.to_string(), vec![name.clone()]));
            }
            self.found.push(vec![name]);
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            self.found
                .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
            syn::visit::visit_path(self, path);
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            self.visit_path(&mac.path);
            self.tokens(mac.tokens.clone());
        }
    }

    let file = syn::parse_file(text).unwrap_or_else(|e| panic!("not Rust: {e}"));
    let mut paths = Paths::default();
    paths.visit_file(&file);
    // Follow aliases (a few rounds: an alias may name another).
    let mut found = paths.found;
    for _ in 0..4 {
        found = found
            .into_iter()
            .map(|path| {
                let alias = path.first().and_then(|first| {
                    paths.aliases.iter().find(|(name, full)| {
                        name == first && full.as_slice() != [name.clone()] && full != &path
                    })
                });
                match alias {
                    Some((_, full)) => full.iter().chain(&path[1..]).cloned().collect(),
                    None => path,
                }
            })
            .collect();
    }
    found
}

/// Whether `path` starts with `prefix` (`"crate::gui"`, `"std::fs"`), or
/// is the crate or module `prefix` names.
fn starts_with(path: &[String], prefix: &str) -> bool {
    let prefix: Vec<&str> = prefix.split("::").collect();
    path.len() >= prefix.len() && path.iter().zip(&prefix).all(|(a, b)| a == b)
}

fn assert_absent(layer: &str, forbidden: &[&str]) {
    assert_absent_except(layer, forbidden, &[]);
}

/// That no file of `layer` (except those whose path ends with one of
/// `allowed`) names a path that starts with one of `forbidden`.
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
        for named in paths_named(&text) {
            for prefix in forbidden {
                assert!(
                    !starts_with(&named, prefix),
                    "{path}: {layer} must not use `{prefix}` (it names `{}`)",
                    named.join("::")
                );
            }
        }
    }
}

const FRONT_ENDS: &[&str] = &[
    "egui",
    "eframe",
    "egui_plot",
    "egui_kittest",
    "tokio",
    "tokio_rustls",
    "hyper",
    "hyper_util",
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
        assert_absent(layer, &["crate::gui", "egui", "eframe", "egui_plot"]);
    }
    #[cfg(feature = "loadgen")]
    assert_absent("loadgen", &["crate::gui", "egui", "eframe", "egui_plot"]);
}

#[test]
fn sim_is_pure() {
    assert_absent("sim", FRONT_ENDS);
    let impure = [
        "std::time::Instant",
        "std::time::SystemTime",
        "std::time::*",
        "Instant",
        "SystemTime",
        "std::fs",
        "std::net",
        "std::io",
        "std::process",
        "std::env",
        "println",
        "eprintln",
        "print",
        "eprint",
        "dbg",
    ];
    assert_absent("sim", &impure);
    // Threads only run the points of a sweep.
    assert_absent_except("sim", &["std::thread"], &["sim/sweep.rs"]);
}

#[test]
fn the_layering_check_sees_through_groups_renames_and_macros() {
    // The ways a forbidden path could hide from a check of text.
    for (code, hidden) in [
        ("use crate::{gui};", "crate::gui"),
        ("use crate::{model, gui::App};", "crate::gui"),
        ("use std::{fs};", "std::fs"),
        ("use std::{fs as files};", "std::fs"),
        ("use std as s; fn f() { s::fs::read(\"x\"); }", "std::fs"),
        ("fn f() { let _ = crate::gui::App::new; }", "crate::gui"),
        ("fn f() { std::fs::read(\"x\").ok(); }", "std::fs"),
        ("fn f() { println!(\"{}\", 1); }", "println"),
        (
            "fn f() { format!(\"{}\", std::fs::read(\"x\").is_ok()); }",
            "std::fs",
        ),
        ("extern crate tokio as t;", "tokio"),
        (
            "use super::super::{gui as g}; fn f() -> g::App { todo!() }",
            "super::super::gui",
        ),
    ] {
        assert!(
            paths_named(code).iter().any(|p| starts_with(p, hidden)),
            "{code}: {hidden} not seen in {:?}",
            paths_named(code)
        );
    }
    // And a comment or a string is not code.
    for code in ["// use crate::gui;", "const S: &str = \"crate::gui\";"] {
        assert!(
            !paths_named(code)
                .iter()
                .any(|p| starts_with(p, "crate::gui")),
            "{code}"
        );
    }
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

/// The modules (files) that `text`, in module `at`, names by a `crate::`,
/// `super::` or `self::` path: the longest prefix of each path that is a file.
fn imports(text: &str, at: &[String], modules: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for path in paths_named(text) {
        let mut base: Vec<String> = at.to_vec();
        let mut rest = path.as_slice();
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("super" | "self") => {}
            _ => continue,
        }
        while let Some(head) = rest.first() {
            match head.as_str() {
                "super" => {
                    base.pop();
                }
                "self" => {}
                _ => break,
            }
            rest = &rest[1..];
        }
        let mut target = base;
        target.extend(rest.iter().filter(|s| *s != "*").cloned());
        while !target.is_empty() && !modules.contains(&target) {
            target.pop();
        }
        if !target.is_empty() && target != at {
            found.push(target);
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

/// The release build compiles the same code as the test build (CI builds
/// only the latter, at the same optimisation level): no item depends on
/// `debug_assertions`. `debug_assert!` is fine, as it type-checks in both.
#[test]
fn no_code_is_compiled_only_with_or_without_debug_assertions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (path, text) in sources(&root) {
        for (number, line) in text.lines().enumerate() {
            assert!(
                !(line.contains("cfg(debug_assertions)")
                    || line.contains("cfg(not(debug_assertions))")),
                "{path}:{}: code that only one of the test and release builds compiles",
                number + 1
            );
        }
    }
}
