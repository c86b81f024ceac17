//! The output schema: real `simulate`, `sweep` and `load` JSON has exactly
//! the fields that docs/results-format.md's tables list, each of the type
//! they give. And a golden report for a fixed seed: a regression guard, not
//! a proof of correctness, so that any change of the random streams or the
//! engine's arithmetic is seen and made on purpose.

use serde_json::Value;

/// The `nth` table (from 0) with a `| field | type | meaning |` header
/// after the heading `heading`: each field with its type. A row naming
/// several fields gives each the row's type.
fn documented(heading: &str, nth: usize) -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/results-format.md"
    ))
    .unwrap();
    let start = doc
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    let section = &doc[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let table = section
        .split("| field | type | meaning |\n|---|---|---|\n")
        .nth(nth + 1)
        .unwrap_or_else(|| panic!("{heading}: no table {nth}"));
    let mut fields = Vec::new();
    for row in table.lines().take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let names = cells[0].trim_start_matches("| ");
        for name in names.split(", ") {
            let name = name.trim_matches('`');
            fields.push((name.to_owned(), cells[1].to_owned()));
        }
    }
    assert!(!fields.is_empty(), "{heading}: table {nth} is empty");
    fields
}

/// Whether `value` is of the documented `kind`: `integer`, `number`,
/// `string`, `boolean`, `object`, `array`, or one of those `or null`.
fn is_of(value: &Value, kind: &str) -> bool {
    if let Some(kind) = kind.strip_suffix(" or null") {
        return value.is_null() || is_of(value, kind);
    }
    match kind {
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        other => panic!("the docs give an unknown type {other:?}"),
    }
}

/// That `object` has exactly the documented fields, each of its type.
fn assert_documented(what: &str, object: &Value, fields: &[(String, String)]) {
    let object = object
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object"));
    let mut have: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
    have.sort_unstable();
    want.sort_unstable();
    assert_eq!(
        have, want,
        "{what}: the fields written and the fields documented"
    );
    for (field, kind) in fields {
        assert!(
            is_of(&object[field], kind),
            "{what}.{field} is {} but documented as {kind}",
            object[field]
        );
    }
}

fn archbench(args: &[&str]) -> Value {
    let _cpu = crate::support::cpu_heavy();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn simulate_json_has_exactly_the_documented_fields() {
    // Two scenarios and three replications, so comparisons and intervals
    // are there; a nullable field is checked as present or null.
    let json = archbench(&[
        "simulate",
        "projects/monolith-vs-microservices.ron",
        "--duration",
        "10s",
        "--replications",
        "3",
        "--format",
        "json",
    ]);
    assert_documented("report", &json, &documented("## Top level", 0));
    let scenarios = json["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 2);
    for scenario in scenarios {
        assert_documented("scenario", scenario, &documented("## Scenario", 0));
        for service in scenario["services"].as_array().unwrap() {
            assert_documented("service", service, &documented("## Service", 0));
        }
    }
}

#[test]
fn sweep_json_has_exactly_the_documented_fields() {
    let json = archbench(&[
        "sweep",
        "projects/three-tier.ron",
        "--rate",
        "500..3000",
        "--steps",
        "4",
        "--duration",
        "5s",
        "--format",
        "json",
    ]);
    assert_documented("sweep", &json, &documented("## Sweeps", 0));
    for curve in json["scenarios"].as_array().unwrap() {
        assert_documented("curve", curve, &documented("## Sweeps", 1));
        for point in curve["points"].as_array().unwrap() {
            assert_documented("point", point, &documented("## Sweeps", 2));
        }
    }
}

#[cfg(feature = "loadgen")]
#[test]
fn load_json_has_exactly_the_documented_fields() {
    use archbench::loadgen::{TargetConfig, TargetServer};
    let server = TargetServer::start(&TargetConfig {
        service_time: "1ms".parse().unwrap(),
        ..TargetConfig::default()
    })
    .unwrap();
    let url = server.url();
    let json = archbench(&[
        "load",
        &url,
        "--rate",
        "200",
        "--duration",
        "2s",
        "--format",
        "json",
    ]);
    assert_documented("load", &json, &documented("## Load tests", 0));
}

/// The golden report: `simulate projects/three-tier.ron --duration 10s
/// --replications 2 --seed 1 --format json`, as stored.
const GOLDEN: &str = "tests/golden/three-tier-seed-1.json";

#[test]
fn the_golden_report_is_unchanged_a_regression_guard() {
    // Not evidence that the numbers are right (the theory tests are that):
    // evidence that they did not move. A change of random streams, of the
    // order of events or of arithmetic shows here first. If the change is
    // deliberate, write the new report over the old one with
    // ARCHBENCH_BLESS=1 cargo test golden, and say why in the commit.
    let args = [
        "simulate",
        "projects/three-tier.ron",
        "--duration",
        "10s",
        "--replications",
        "2",
        "--seed",
        "1",
        "--format",
        "json",
    ];
    let report = serde_json::to_string_pretty(&archbench(&args)).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("ARCHBENCH_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &report).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    if report != golden {
        let line = report
            .lines()
            .zip(golden.lines())
            .position(|(a, b)| a != b)
            .map_or(report.lines().count().min(golden.lines().count()), |i| i);
        panic!(
            "the report differs from {GOLDEN} from line {}: {:?} where it had {:?}",
            line + 1,
            report.lines().nth(line),
            golden.lines().nth(line)
        );
    }
}
