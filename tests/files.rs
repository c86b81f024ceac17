//! Project files: every bundled example loads, validates, simulates, obeys
//! Little's law and round-trips byte for byte; every kind of bad input gets a
//! clear error naming its place, and none panics.

use std::path::{Path, PathBuf};

use archbench::model::file::{self, MAX_FILE_BYTES};
use archbench::model::{LoadError, ProjectFile, validate};

fn examples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/projects"))
            .expect("projects/ exists")
            .map(|entry| entry.expect("readable").path())
            .filter(|path| path.extension().is_some_and(|e| e == "ron"))
            .collect();
    paths.sort();
    assert!(
        paths.len() >= 3,
        "the three examples of the core issue at least"
    );
    paths
}

/// A path in this run's scratch folder; `name` may include a subfolder, so a
/// test that lists its folder can have one to itself.
fn scratch(name: &str) -> PathBuf {
    let path = std::env::temp_dir()
        .join(format!("archbench-tests-{}", std::process::id()))
        .join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("temp dir");
    }
    path
}

#[test]
fn every_example_starts_with_a_comment_and_is_valid() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("// "),
            "{}: starts with a comment on what it shows",
            path.display()
        );
        let loaded = file::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let problems = validate(&loaded.project);
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        // The header is the file's leading comment lines, verbatim.
        let leading: String = text
            .split_inclusive('\n')
            .take_while(|l| l.starts_with("//"))
            .collect();
        assert!(!leading.is_empty());
        assert_eq!(loaded.header, leading, "{}", path.display());
    }
}

#[test]
fn every_example_round_trips_and_a_saved_file_reopens_byte_for_byte() {
    // The examples are written by hand, compactly (defaults left out); the
    // app writes every field. What must hold: what is saved reads back as
    // the same project, its header comment kept, and a file the app saved,
    // opened and saved again, is the same file on disk byte for byte, so a
    // team's committed project does not churn.
    for path in examples() {
        let loaded = file::load(&path).unwrap();
        let text = file::to_text(&loaded).unwrap();
        let again = file::parse(&text, &path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(again, loaded, "{}: parse(save(p)) == p", path.display());
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(on_disk.starts_with(&loaded.header) && text.starts_with(&loaded.header));
        // Through the disk, atomically, twice.
        let name = path.file_name().unwrap().to_str().unwrap();
        let (first, second) = (scratch(name), scratch(&format!("again-{name}")));
        file::save(&loaded, &first).unwrap();
        let reopened = file::load(&first).unwrap();
        assert_eq!(reopened, loaded);
        file::save(&reopened, &second).unwrap();
        let (a, b) = (
            std::fs::read(&first).unwrap(),
            std::fs::read(&second).unwrap(),
        );
        assert!(a == b, "{}: saving a saved file changes it", path.display());
        assert_eq!(
            a,
            text.as_bytes(),
            "{}: save writes to_text",
            path.display()
        );
    }
}

#[test]
fn littles_law_holds_for_every_service_in_every_example() {
    for path in examples() {
        let loaded = file::load(&path).unwrap();
        let report = crate::support::simulate(&loaded.project, None).unwrap();
        // An example may show a design that cannot keep up (the examples'
        // own tests say which); the others must be stable.
        assert!(
            report.scenarios.iter().any(|s| !s.saturated),
            "{}: some scenario is stable at its own rate",
            path.display()
        );
        for scenario in report.scenarios.iter().filter(|s| !s.saturated) {
            assert!(scenario.requests > 1000);
            for s in &scenario.services {
                // L (time-average number present) = λ (completions per second)
                // × W (mean response time). The two sides are measured
                // independently: one integrates counts over time, the other
                // averages per-call times.
                let l = s.mean_in_service;
                let lambda_w = s.throughput_rps * s.response_ms.mean / 1e3;
                assert_close!(
                    l,
                    lambda_w,
                    0.005 * l.max(1e-3),
                    "{} / {} / {}: L = {l}, λW = {lambda_w}",
                    path.display(),
                    scenario.scenario,
                    s.name
                );
            }
        }
    }
}

// --- bad input -----------------------------------------------------------

const VALID: &str = r#"(
    format: 1,
    name: "bad input",
    workload: (
        arrivals: Open(process: Poisson, rate_rps: 100.0),
        classes: [(name: "all", entry: "gateway")],
    ),
    run: (stop: Requests(1000)),
    scenarios: [
        (
            name: "main",
            services: [
                (name: "gateway", workers: 4, service_time: "exp:1ms"),
                (name: "api", workers: 4, service_time: "exp:2ms"),
                (name: "db", workers: 4, service_time: "exp:3ms"),
            ],
            links: [
                (from: "gateway", to: "api"),
                (from: "api", to: "db"),
            ],
        ),
    ],
)"#;

fn parse(text: &str) -> Result<ProjectFile, LoadError> {
    file::parse(text, Path::new("bad.ron"))
}

/// The validation messages for `VALID` with `from` replaced by `to`.
fn problems_after(from: &str, to: &str) -> Vec<String> {
    assert!(VALID.contains(from), "{from}");
    let text = VALID.replacen(from, to, 1);
    let project = parse(&text).unwrap_or_else(|e| panic!("{e}")).project;
    validate(&project).iter().map(ToString::to_string).collect()
}

/// Asserts that exactly one problem is reported, mentioning every fragment.
fn check_problem(from: &str, to: &str, fragments: &[&str]) {
    let problems = problems_after(from, to);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    for fragment in fragments {
        assert!(
            problems[0].contains(fragment),
            "{:?} should mention {fragment:?}",
            problems[0]
        );
    }
}

#[test]
fn the_template_is_valid() {
    assert_eq!(problems_after("gateway", "gateway"), Vec::<String>::new());
}

#[test]
fn link_to_a_missing_service() {
    check_problem(
        r#"(from: "api", to: "db")"#,
        r#"(from: "api", to: "ghost")"#,
        &[
            r#"scenario "main" / link "api" -> "ghost" / to"#,
            r#"no service "ghost""#,
        ],
    );
}

#[test]
fn zero_workers_or_replicas() {
    check_problem(
        r#"(name: "api", workers: 4"#,
        r#"(name: "api", workers: 0"#,
        &[
            r#"scenario "main" / service "api" / workers"#,
            "between 1 and",
        ],
    );
    check_problem(
        r#"(name: "db", workers: 4"#,
        r#"(name: "db", replicas: 0, workers: 4"#,
        &[r#"service "db" / replicas"#],
    );
}

#[test]
fn negative_or_nan_rate() {
    for rate in ["-5.0", "NaN", "inf"] {
        check_problem(
            "rate_rps: 100.0",
            &format!("rate_rps: {rate}"),
            &["workload / arrivals / rate_rps", "finite number"],
        );
    }
}

#[test]
fn cycle_of_sync_calls() {
    check_problem(
        r#"(from: "api", to: "db"),"#,
        r#"(from: "api", to: "db"), (from: "db", to: "gateway"),"#,
        &[
            r#"scenario "main" / links"#,
            "gateway -> api -> db -> gateway",
            "cycle",
        ],
    );
    // The same loop is fine when one call is fire-and-forget.
    assert!(problems_after(
        r#"(from: "api", to: "db"),"#,
        r#"(from: "api", to: "db"), (from: "db", to: "gateway", probability: 0.1, mode: Async),"#
    )
    .is_empty());
}

#[test]
fn probability_outside_zero_one() {
    check_problem(
        r#"(from: "api", to: "db")"#,
        r#"(from: "api", to: "db", probability: 1.5)"#,
        &[r#"link "api" -> "db" / probability"#, "between 0 and 1"],
    );
}

#[test]
fn impossible_distribution_parameters() {
    check_problem(
        r#"service_time: "exp:2ms""#,
        r#"service_time: "lognormal:10ms,p99=5ms""#,
        &[r#"service "api" / service_time"#, "above its mean"],
    );
    check_problem(
        r#"service_time: "exp:2ms""#,
        r#"service_time: "uniform:5ms..1ms""#,
        &[r#"service "api" / service_time"#, "above its maximum"],
    );
}

#[test]
fn entry_service_that_does_not_exist() {
    check_problem(
        r#"entry: "gateway""#,
        r#"entry: "front-door""#,
        &[
            r#"workload / class "all" / entry"#,
            r#"scenario "main" has no service "front-door""#,
        ],
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let text = VALID
        .replacen("rate_rps: 100.0", "rate_rps: -1.0", 1)
        .replacen(
            r#"(name: "api", workers: 4"#,
            r#"(name: "api", workers: 0"#,
            1,
        )
        .replacen(
            r#"(from: "api", to: "db")"#,
            r#"(from: "api", to: "nowhere", probability: 2.0)"#,
            1,
        )
        .replacen(r#"entry: "gateway""#, r#"entry: "lobby""#, 1);
    let problems = validate(&parse(&text).unwrap().project);
    assert_eq!(problems.len(), 5, "{problems:#?}");
}

#[test]
fn unknown_format_version() {
    let error = parse(&VALID.replacen("format: 1", "format: 99", 1)).unwrap_err();
    assert!(
        matches!(
            error,
            LoadError::UnknownFormat {
                found: 99,
                current: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("unknown format version 99"));
    // A newer file's new fields do not hide the real reason.
    let newer = VALID.replacen("format: 1,", "format: 2, autoscaling_v9: (on: true),", 1);
    assert!(matches!(
        parse(&newer).unwrap_err(),
        LoadError::UnknownFormat { found: 2, .. }
    ));
    let missing = parse(&VALID.replacen("format: 1,", "", 1)).unwrap_err();
    assert!(
        matches!(missing, LoadError::MissingFormat { .. }),
        "{missing}"
    );
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    // Line 6 of the template is `        classes: [(name: "all", entry: "gateway")],`;
    // breaking the string's closing quote makes the error land on that line.
    let text = VALID.replacen(r#"classes: [(name: "all","#, "classes: [(name: all,", 1);
    let error = parse(&text).unwrap_err();
    let LoadError::Syntax { line, column, .. } = &error else {
        panic!("expected a syntax error, got {error}");
    };
    assert_eq!(*line, 6, "{error}");
    assert!(*column > 1, "{error}");
    assert!(error.to_string().starts_with("bad.ron:6:"), "{error}");
}

#[test]
fn a_file_that_is_not_one_struct_says_what_a_project_looks_like() {
    // Without the outer parentheses the first field reads as a struct name;
    // the error must describe a project, not name an internal type.
    let bare = VALID.trim_start().trim_start_matches('(').trim_start();
    for text in [bare, "Foo(format: 1)", "[1, 2]", "42"] {
        let error = parse(text).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, LoadError::Syntax { line: 1, .. }),
            "{text}: {message}"
        );
        assert!(message.contains("(format: 1, name:"), "{text}: {message}");
        assert!(!message.contains("Probe"), "{text}: {message}");
    }
    // A named struct is fine when the name is the project's.
    assert!(parse(&format!("Project{}", VALID.trim_start())).is_ok());
}

#[test]
fn misspelt_fields_are_refused_with_their_position() {
    let text = VALID.replacen(
        "workers: 4, service_time: \"exp:2ms\"",
        "wrokers: 4, service_time: \"exp:2ms\"",
        1,
    );
    let error = parse(&text).unwrap_err();
    assert!(
        matches!(error, LoadError::Syntax { line: 14, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("wrokers"), "{error}");
}

#[test]
fn bad_times_and_distributions_are_syntax_errors_with_position() {
    for (bad, says) in [
        (r#""exp:2parsecs""#, "unit"),
        (r#""weibull:2ms""#, "unknown distribution"),
        (r#""-2ms""#, "non-negative"),
    ] {
        let text = VALID.replacen(r#""exp:2ms""#, bad, 1);
        let error = parse(&text).unwrap_err();
        assert!(
            matches!(error, LoadError::Syntax { line: 14, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains(says),
            "{error} should say {says}"
        );
    }
}

#[test]
fn huge_files_are_refused_before_reading() {
    let path = scratch("huge.ron");
    let mut text = String::from("// padding\n");
    while text.len() as u64 <= MAX_FILE_BYTES {
        text.push_str(&"// ".repeat(10_000));
        text.push('\n');
    }
    std::fs::write(&path, &text).unwrap();
    let error = file::load(&path).unwrap_err();
    assert!(matches!(error, LoadError::TooLarge { .. }), "{error}");
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let depth = 200_000;
    let text = format!(
        "(format: 1, name: {}{})",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse(&text).unwrap_err();
    assert!(matches!(error, LoadError::Syntax { .. }), "{error}");
}

#[test]
fn hostile_sizes_are_refused_by_validation() {
    check_problem(
        r#"(name: "db", workers: 4"#,
        r#"(name: "db", replicas: 4000000000, workers: 4"#,
        &["replicas"],
    );
    check_problem(
        r#"(from: "api", to: "db")"#,
        r#"(from: "api", to: "db", count: 100000)"#,
        &["count"],
    );
}

#[test]
fn files_that_are_not_text_or_not_there() {
    let path = scratch("binary.ron");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    assert!(matches!(
        file::load(&path).unwrap_err(),
        LoadError::Syntax { line: 1, .. }
    ));
    let error = file::load(&scratch("missing.ron")).unwrap_err();
    assert!(matches!(error, LoadError::Io { .. }));
    assert!(error.to_string().contains("missing.ron"), "{error}");
}

#[test]
fn a_failed_save_leaves_the_old_file_whole() {
    let path = scratch("alone/keep.ron");
    let loaded = parse(VALID).unwrap();
    file::save(&loaded, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // Saving into a folder that does not exist fails without touching the original.
    let error = file::save(
        &loaded,
        &path.with_file_name("no-such-folder").join("keep.ron"),
    )
    .unwrap_err();
    assert!(error.to_string().contains("keep.ron"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // No temporary files are left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_complete_example_in_the_format_docs_is_valid_and_runs() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/project-format.md"
    ))
    .unwrap();
    let start = doc.find("```ron\n").expect("a ron block") + "```ron\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let loaded = parse(&doc[start..end]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(validate(&loaded.project), Vec::new());
    let report = crate::support::simulate(&loaded.project, None).unwrap();
    let scenario = &report.scenarios[0];
    assert_eq!(scenario.replications, 3);
    assert_eq!(scenario.classes.len(), 2);
    let service = |name: &str| scenario.services.iter().find(|s| s.name == name).unwrap();
    let (gateway, api, admin, db) = (
        service("gateway"),
        service("api"),
        service("admin-api"),
        service("db"),
    );
    assert!(!scenario.saturated);
    // Offered: 500/s from the warm-up's end at 10 s to 60 s, 800/s to 120 s,
    // a ramp to 200/s by 180 s (500/s on average), then 200/s; the 240 s
    // measured end at 250 s. Per replication 25,000 + 48,000 + 30,000 +
    // 12,000 + 2,000 = 117,000 requests, Poisson (±0.2% over three).
    let offered = (gateway.arrivals + admin.arrivals) as f64;
    assert_close!(offered / 351_000.0, 1.0, 0.01, "{offered}");
    // One request in five is of the admin class, which enters at admin-api.
    let admin_share = admin.arrivals as f64 / (admin.arrivals + gateway.arrivals) as f64;
    assert_close!(admin_share, 0.2, 0.005, "{admin_share}");
    // The guarded call to the database is reported; the API makes it with
    // p = 0.3 (the first attempts; retries come on top).
    assert_eq!(scenario.links.len(), 1);
    let guarded = &scenario.links[0];
    assert_eq!(guarded.link, "api -> db");
    let firsts = (guarded.attempts - guarded.retries) as f64;
    assert_close!(firsts / api.arrivals as f64, 0.3, 0.01, "{guarded:?}");
    // The database sees those attempts plus admin-api's three calls each
    // (up to the few in flight as the measured window opens and closes).
    let expected = 3.0 * admin.arrivals as f64 + guarded.attempts as f64;
    assert_close!(
        db.arrivals as f64 / expected,
        1.0,
        0.002,
        "db {}",
        db.arrivals
    );
}

#[cfg(unix)]
#[test]
fn a_device_or_endless_stream_is_refused_at_the_size_limit() {
    // /dev/zero reports a size of 0 and never ends: at most the limit is read.
    let error = archbench::model::file::load(Path::new("/dev/zero")).unwrap_err();
    assert!(
        matches!(error, LoadError::TooLarge { bytes, limit, .. } if bytes == limit + 1),
        "{error}"
    );
    assert!(error.to_string().contains("/dev/zero"), "{error}");
}

#[test]
fn nesting_is_refused_past_64_levels_in_the_users_words() {
    let dir = std::env::temp_dir().join(format!("archbench-nesting-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nested = |depth: usize| {
        let path = dir.join(format!("deep-{depth}.ron"));
        let text = format!(
            "(format: 1, name: {}{})",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        std::fs::write(&path, text).unwrap();
        archbench::model::file::load(&path).unwrap_err().to_string()
    };
    // The project's own parentheses are the first level: 63 more brackets
    // make 64 levels, which are read (and then refused for what they are,
    // not a name); one more is refused as too deep.
    let at_limit = nested(63);
    assert!(!at_limit.contains("nested"), "{at_limit}");
    let past = nested(64);
    assert!(
        past.contains("brackets are nested deeper than 64 levels"),
        "{past}"
    );
    assert!(!past.contains("serde_stacker"), "{past}");
    let _ = std::fs::remove_dir_all(&dir);
}

// --- groups ----------------------------------------------------------------

const WITH_GROUP: &str = r#"(from: "api", to: "db"),
            ],
            groups: [(name: "backend", services: ["api", "db"], color: (200, 90, 40), collapsed: true)],"#;

#[test]
fn a_file_with_groups_loads_and_one_without_writes_no_groups_field() {
    let text = VALID.replacen(
        r#"(from: "api", to: "db"),
            ],"#,
        WITH_GROUP,
        1,
    );
    let grouped = parse(&text).unwrap_or_else(|e| panic!("{e}")).project;
    let group = &grouped.scenarios[0].groups[0];
    assert_eq!(
        (group.name.as_str(), group.services.as_slice()),
        ("backend", &["api".to_owned(), "db".to_owned()][..])
    );
    assert_eq!((group.color, group.collapsed), (Some((200, 90, 40)), true));
    assert!(validate(&grouped).is_empty());
    // Written and read back: the same project.
    let again = file::to_text(&ProjectFile {
        header: String::new(),
        project: grouped.clone(),
    })
    .unwrap();
    assert_eq!(parse(&again).unwrap().project, grouped);
    // A project without groups is written without the field, as before.
    let plain = parse(VALID).unwrap();
    assert!(plain.project.scenarios[0].groups.is_empty());
    assert!(!file::to_text(&plain).unwrap().contains("groups"));
}

#[test]
fn bad_groups_are_named_at_their_place() {
    let bad = |groups: &str| {
        problems_after(
            r#"(from: "api", to: "db"),
            ],"#,
            &format!(
                r#"(from: "api", to: "db"),
            ],
            groups: {groups},"#
            ),
        )
    };
    let one = |groups: &str, fragments: &[&str]| {
        let problems = bad(groups);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        for fragment in fragments {
            assert!(
                problems[0].contains(fragment),
                "{:?} / {fragment:?}",
                problems[0]
            );
        }
    };
    one(
        r#"[(name: "g", services: ["api", "ghost"])]"#,
        &[
            r#"scenario "main" / groups / 0 / services"#,
            r#"no service "ghost""#,
        ],
    );
    one(
        r#"[(name: "g", services: ["api"]), (name: "h", services: ["api", "db"])]"#,
        &["groups / 1 / services", r#""api" is already in group "g""#],
    );
    one(
        r#"[(name: "g", services: ["api"]), (name: "g", services: ["db"])]"#,
        &["groups / 1 / name", "two groups"],
    );
    one(
        r#"[(name: " ", services: [])]"#.replace("[])", r#"["db"])"#).as_str(),
        &["groups / 0 / name", "needs a name"],
    );
    one(
        r#"[(name: "empty", services: [])]"#,
        &["groups / 0 / services", "at least one service"],
    );
}

/// Groups are drawing only: the same project grouped and folded simulates
/// to the same report, bit for bit.
#[test]
fn groups_do_not_change_the_simulation() {
    let plain = parse(VALID).unwrap().project;
    let mut grouped = plain.clone();
    grouped.scenarios[0].groups = vec![archbench::model::Group {
        name: "backend".into(),
        services: vec!["api".into(), "db".into()],
        color: None,
        collapsed: true,
    }];
    let a = archbench::sim::simulate_scenario(&plain, 0).unwrap();
    let b = archbench::sim::simulate_scenario(&grouped, 0).unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(a.requests > 0);
}
