//! The `archbench` binary: exit codes, the JSON schema's fixed fields, the
//! overrides, and that `simulate` refuses an invalid file as `check` does.

use std::path::PathBuf;
use std::process::{Command, Output};

fn archbench(args: &[&str]) -> Output {
    // The subcommands simulate on both cores: keep clear of timing tests.
    let _cpu = crate::support::cpu_heavy();
    Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn invalid_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archbench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("invalid.ron");
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/projects/three-tier.ron"
    ))
    .unwrap();
    std::fs::write(
        &path,
        good.replacen("workers: 8", "workers: 0", 1).replacen(
            "probability: 0.2",
            "probability: -0.2",
            1,
        ),
    )
    .unwrap();
    path
}

#[test]
fn help_lists_the_subcommands() {
    // With no subcommand the binary opens the app; `--help` is the CLI's map.
    // It lists exactly the commands the CLI has, and the README shows a
    // command line for each of them.
    let out = archbench(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // The load generator's commands are there when it is built in.
    let mut commands = vec!["check", "import", "calibrate", "simulate", "sweep"];
    if cfg!(feature = "loadgen") {
        commands.extend(["load", "merge", "target", "k8s", "emulate", "validate"]);
    }
    assert_eq!(listed, [&commands[..], &["help"]].concat(), "{help}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for command in commands {
        assert!(
            readme.contains(&format!("archbench {command} ")),
            "the README shows no `archbench {command} …`"
        );
        // And each command's own help answers.
        let out = archbench(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command} --help");
        assert!(text(&out.stdout).starts_with(listed_summary(&help, command)));
    }
}

/// The one-line summary `--help` gives for `command`.
fn listed_summary<'a>(help: &'a str, command: &str) -> &'a str {
    help.lines()
        .find_map(|l| {
            let mut words = l.trim_start().splitn(2, ' ');
            (words.next() == Some(command)).then(|| words.next().unwrap_or("").trim())
        })
        .unwrap()
}

#[test]
fn check_exit_codes() {
    assert_eq!(
        archbench(&["check", "projects/three-tier.ron"])
            .status
            .code(),
        Some(0)
    );
    let invalid = invalid_file();
    let out = archbench(&["check", invalid.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(r#"scenario "baseline" / service "web" / workers"#),
        "{stderr}"
    );
    assert!(stderr.contains("probability"), "{stderr}");
    assert!(stderr.contains("2 problems"), "{stderr}");
    assert_eq!(archbench(&["check"]).status.code(), Some(2));
    assert_eq!(
        archbench(&["check", "a.ron", "--bogus"]).status.code(),
        Some(2)
    );
    assert_eq!(
        archbench(&["check", "no/such/file.ron"]).status.code(),
        Some(1)
    );
}

#[test]
fn simulate_refuses_an_invalid_file_with_the_same_messages() {
    let invalid = invalid_file();
    let checked = archbench(&["check", invalid.to_str().unwrap()]);
    let simulated = archbench(&["simulate", invalid.to_str().unwrap()]);
    assert_eq!(simulated.status.code(), Some(1));
    assert_eq!(text(&simulated.stderr), text(&checked.stderr));
    assert!(simulated.stdout.is_empty());
}

#[test]
fn json_has_the_documented_fields() {
    let out = archbench(&[
        "simulate",
        "projects/monolith-vs-microservices.ron",
        "--format",
        "json",
        "--duration",
        "20s",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenarios = json["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    for s in scenarios {
        for field in [
            "scenario",
            "requests",
            "throughput_rps",
            "saturated",
            "services",
        ] {
            assert!(!s[field].is_null(), "missing {field}");
        }
        for p in ["mean", "p50", "p90", "p99", "p999", "max"] {
            assert!(s["latency_ms"][p].is_f64(), "latency_ms.{p}");
        }
        for service in s["services"].as_array().unwrap() {
            for field in ["name", "utilization", "mean_queue_length", "rejected"] {
                assert!(!service[field].is_null(), "services[].{field}");
            }
            assert!(
                service["response_ms"]["mean"].is_f64() && service["response_ms"]["p99"].is_f64()
            );
        }
        // 20 s measured at 600 rps.
        let requests = s["requests"].as_u64().unwrap();
        assert!((11_000..13_000).contains(&requests), "{requests}");
    }
}

#[test]
fn overrides_apply() {
    let run = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["simulate", "projects/three-tier.ron", "--format", "json"];
        all.extend_from_slice(args);
        let out = archbench(&all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let json = run(&["--rate", "200", "--requests", "5000", "--seed", "9"]);
    let s = &json["scenarios"][0];
    assert_eq!(json["seed"], 9);
    assert_eq!(s["requests"], 5000);
    let rps = s["throughput_rps"].as_f64().unwrap();
    assert_close!(rps / 200.0, 1.0, 0.06, "{rps}");
    assert_eq!(
        run(&["--seed", "9", "--requests", "5000", "--rate", "200"]),
        json,
        "same seed, same report"
    );
}

#[test]
fn impossible_overrides_are_refused() {
    // Values clap can judge alone (a rate of -3 or NaN, zero requests)
    // are command-line errors: see `impossible_option_values_are_command_line_errors`.
    for args in [&["--duration", "0s"][..], &["--scenario", "nope"]] {
        let mut all = vec!["simulate", "projects/three-tier.ron"];
        all.extend_from_slice(args);
        let out = archbench(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).starts_with("error: "),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = archbench(&[
        "simulate",
        "projects/three-tier.ron",
        "--duration",
        "ten seconds",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn output_goes_to_a_file_and_csv_has_a_row_per_service() {
    let path = std::env::temp_dir().join(format!("archbench-cli-out-{}.csv", std::process::id()));
    let out = archbench(&[
        "simulate",
        "projects/ml-inference.ron",
        "--format",
        "csv",
        "--duration",
        "5s",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // Header, overall, one class, five services.
    assert_eq!(lines.len(), 8, "{csv}");
    let columns = lines[0].split(',').count();
    assert!(
        lines.iter().all(|l| l.split(',').count() == columns),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cached,service,model-server,"))
    );
}

#[test]
fn closed_workloads_refuse_a_rate() {
    let dir = std::env::temp_dir().join(format!("archbench-cli-closed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("closed.ron");
    let text_in = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/projects/three-tier.ron"
    ))
    .unwrap();
    std::fs::write(
        &path,
        text_in.replacen(
            "Open(process: Poisson, rate_rps: 1500.0)",
            r#"Closed(users: 50, think_time: "exp:100ms")"#,
            1,
        ),
    )
    .unwrap();
    let out = archbench(&["simulate", path.to_str().unwrap(), "--rate", "100"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("closed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        archbench(&["simulate", path.to_str().unwrap(), "--duration", "5s"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn sweep_json_has_the_documented_shape() {
    let out = archbench(&[
        "sweep",
        "projects/three-tier.ron",
        "--rate",
        "500..3000",
        "--steps",
        "6",
        "--duration",
        "20s",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenario = &json["scenarios"][0];
    assert_eq!(scenario["scenario"], "baseline");
    let points = scenario["points"].as_array().unwrap();
    assert_eq!(points.len(), 6);
    // As documented: the maximum sustainable throughput is the largest
    // offered load that was kept up with (99% achieved, not saturated), and
    // the knee is a sustainable load no larger.
    let kept_up = points
        .iter()
        .filter(|p| {
            p["saturated"] == false
                && p["achieved_rps"].as_f64().unwrap() >= 0.99 * p["offered_rps"].as_f64().unwrap()
        })
        .map(|p| p["offered_rps"].as_f64().unwrap())
        .fold(f64::NAN, f64::max);
    assert_eq!(scenario["max_throughput_rps"].as_f64(), Some(kept_up));
    let knee = scenario["knee_rps"].as_f64().expect("a knee (a number)");
    assert!((500.0..=kept_up).contains(&knee), "knee {knee}");
    for p in points {
        for field in [
            "offered_rps",
            "achieved_rps",
            "max_utilization",
            "bottleneck",
            "saturated",
        ] {
            assert!(!p[field].is_null(), "points[].{field}");
        }
        for stat in ["mean", "p50", "p99", "p999"] {
            assert!(p["latency_ms"][stat].is_f64(), "latency_ms.{stat}");
        }
    }
    assert_eq!(points[0]["offered_rps"], 500.0);
    assert_eq!(points[5]["offered_rps"], 3000.0);
    assert_eq!(
        points[5]["saturated"], true,
        "3,000 rps is past the web tier's capacity (about 2,600)"
    );
}

#[test]
fn fail_on_slo_exit_codes() {
    // three-tier.ron asks for p99 <= 50 ms, which holds at its own 1,500 rps.
    let simulate = |extra: &[&str]| {
        let mut all = vec!["simulate", "projects/three-tier.ron", "--duration", "20s"];
        all.extend_from_slice(extra);
        archbench(&all).status.code()
    };
    assert_eq!(simulate(&["--fail-on-slo"]), Some(0));
    assert_eq!(
        simulate(&["--fail-on-slo", "--rate", "3000"]),
        Some(3),
        "overloaded, the objective fails"
    );
    assert_eq!(
        simulate(&["--rate", "3000"]),
        Some(0),
        "without the flag a miss is only reported"
    );
    let sweep = |range: &str| {
        archbench(&[
            "sweep",
            "projects/three-tier.ron",
            "--rate",
            range,
            "--steps",
            "3",
            "--duration",
            "20s",
            "--fail-on-slo",
        ])
        .status
        .code()
    };
    assert_eq!(sweep("500..1500"), Some(0));
    assert_eq!(
        sweep("500..3000"),
        Some(0),
        "misses above the project's own rate do not fail it"
    );
    assert_eq!(sweep("1500..1600"), Some(0));
}

#[test]
fn precision_and_replications_from_the_command_line() {
    let out = archbench(&[
        "simulate",
        "projects/ml-inference.ron",
        "--duration",
        "5s",
        "--precision",
        "3%",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["scenarios"][0];
    // The flag reaches the engine: the same run through the library with a
    // 3% precision target stops at the same replication with the same p99.
    // (The rule itself is checked in tests/analysis.rs.)
    let mut project = archbench::model::file::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/projects/ml-inference.ron"
    )))
    .unwrap()
    .project;
    project.run.stop =
        archbench::model::StopCondition::Duration(archbench::model::TimeSpan::from_secs_f64(5.0));
    assert!(
        project.run.replications < 10,
        "the flag, not the file, asks for ten"
    );
    project.run.precision = Some(0.03);
    let library = crate::support::simulate_scenario(&project, 0).unwrap();
    assert!(library.replications >= 10, "{}", library.replications);
    assert_eq!(
        s["replications"].as_u64(),
        Some(u64::from(library.replications))
    );
    let p99 = &s["confidence"]["p99_ms"];
    let expected = library.confidence.unwrap().p99_ms;
    assert_eq!(p99["estimate"].as_f64(), Some(expected.estimate));
    assert!(expected.half_width() <= 0.03 * expected.estimate);
    for bad in ["0%", "150%", "fast"] {
        let out = archbench(&["simulate", "projects/ml-inference.ron", "--precision", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    let out = archbench(&[
        "simulate",
        "projects/ml-inference.ron",
        "--duration",
        "5s",
        "--warmup",
        "auto",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scenarios"][0]["warmup_method"], "mser-5");
}

#[test]
fn sweep_usage_errors() {
    for args in [
        &["sweep", "projects/three-tier.ron"][..],
        &["sweep", "projects/three-tier.ron", "--rate", "fast"],
        &["sweep", "projects/three-tier.ron", "--replicas", "web"],
        &["sweep", "projects/three-tier.ron", "--replicas", "web=0..3"],
        &[
            "sweep",
            "projects/three-tier.ron",
            "--replicas",
            "ghost=1..3",
        ],
        &[
            "sweep",
            "projects/three-tier.ron",
            "--rate",
            "100..200",
            "--steps",
            "1",
        ],
    ] {
        let out = archbench(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).starts_with("error: "), "{args:?}");
    }
}

#[test]
fn impossible_option_values_are_command_line_errors() {
    // Exit 2 is a wrong command line (README); each message names the
    // option and the value as typed.
    let project = "projects/three-tier.ron";
    let mut cases = vec![
        (vec!["simulate", project, "--requests", "0"], "--requests"),
        (
            vec!["simulate", project, "--replications", "0"],
            "--replications",
        ),
        (vec!["simulate", project, "--rate", "0"], "--rate"),
        (vec!["simulate", project, "--rate", "NaN"], "\"NaN\""),
        (vec!["simulate", project, "--rate=-5"], "--rate"),
        (vec!["sweep", project, "--steps", "0"], "--steps"),
        (vec!["simulate", project, "--scenario", "nope"], "\"nope\""),
    ];
    if cfg!(feature = "loadgen") {
        let url = "http://127.0.0.1:9/";
        let load = |extra: &[&'static str]| {
            let mut args = vec!["load", url];
            args.extend_from_slice(extra);
            args
        };
        cases.extend([
            (
                load(&["--rate", "5", "--duration", "1s", "--timeout", "0s"]),
                "timeout",
            ),
            (
                load(&["--rate", "5", "--duration", "1s", "--threshold", "bogus"]),
                "\"bogus\"",
            ),
            (
                load(&["--rate", "5", "--duration", "1s", "--header", "nocolon"]),
                "\"nocolon\"",
            ),
            (load(&["--rate", "5"]), "--duration"),
            (
                load(&["--users", "2", "--think", "exp:-1s", "--duration", "1s"]),
                "--think exp:-1s:",
            ),
            (
                vec![
                    "load",
                    "ftp://127.0.0.1/",
                    "--rate",
                    "5",
                    "--duration",
                    "1s",
                ],
                "only http:// and https://",
            ),
            (vec!["target", "--workers", "0"], "--workers"),
            (vec!["target", "--service-time", "bogus"], "--service-time"),
        ]);
        cases.extend([
            (
                vec![
                    "load",
                    "http://127.0.0.1:9/",
                    "--users",
                    "0",
                    "--duration",
                    "1s",
                ],
                "--users",
            ),
            (
                vec![
                    "load",
                    "http://127.0.0.1:9/",
                    "--rate",
                    "5",
                    "--connections",
                    "0",
                    "--duration",
                    "1s",
                ],
                "--connections",
            ),
        ]);
    }
    for (args, named) in cases {
        let out = archbench(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// `replications: 10000` is allowed, and nothing is said about
/// `max_replications`, a field the user never wrote (its default, 200, is
/// only the precision rule's cap).
#[test]
fn many_replications_need_no_max_replications() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/mm1.ron"),
    )
    .unwrap()
    .replace(
        "run: (stop: Requests(1000000), warmup: \"0s\", seed: 1)",
        "run: (stop: Requests(10), warmup: \"0s\", seed: 1, replications: 10000)",
    );
    let project = archbench::model::file::parse(&text, std::path::Path::new("t.ron"))
        .unwrap()
        .project;
    assert_eq!(project.run.replications, 10_000);
    let problems = archbench::model::validate(&project);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn the_text_report_calls_a_service_a_bottleneck_only_above_80_percent_busy() {
    // three-tier's web tier has a capacity of about 2,600 req/s: 1,500 keep
    // it about 58% busy and 2,400 about 92%.
    let limit_line = |rate: &str| {
        let out = archbench(&[
            "simulate",
            "projects/three-tier.ron",
            "--requests",
            "20000",
            "--rate",
            rate,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .find(|l| l.contains("warm-up discarded"))
            .unwrap_or_default()
            .to_owned()
    };
    let light = limit_line("1500");
    assert!(light.contains("busiest: web ("), "{light}");
    assert!(!light.contains("bottleneck"), "{light}");
    let heavy = limit_line("2400");
    assert!(heavy.contains("bottleneck: web ("), "{heavy}");
}
