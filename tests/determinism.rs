//! Determinism: the same project and seed give identical reports; another
//! seed gives other samples; replications are independent streams.

use archbench::model::file;
use archbench::stats::{OutputFormat, write_report};

fn json(project: &archbench::model::Project) -> String {
    let report = crate::support::simulate(project, None).unwrap();
    let mut out = Vec::new();
    write_report(&report, OutputFormat::Json, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn example(name: &str) -> archbench::model::Project {
    let path = format!("{}/projects/{name}", env!("CARGO_MANIFEST_DIR"));
    file::load(std::path::Path::new(&path)).unwrap().project
}

#[test]
fn same_seed_gives_identical_json() {
    let project = example("monolith-vs-microservices.ron");
    assert_eq!(json(&project), json(&project));
}

#[test]
fn different_seeds_give_different_samples() {
    let mut project = example("ml-inference.ron");
    let first = json(&project);
    project.run.seed += 1;
    let second = json(&project);
    assert_ne!(first, second);
}

#[test]
fn replications_use_independent_streams() {
    // Two replications of one seed must not repeat each other: the merged
    // histogram of two identical runs would have every count doubled.
    let mut project = example("three-tier.ron");
    project.run.replications = 1;
    let one = crate::support::simulate_scenario(&project, 0).unwrap();
    project.run.replications = 2;
    let two = crate::support::simulate_scenario(&project, 0).unwrap();
    assert_eq!(two.replications, 2);
    assert_close!(two.measured_s, 2.0 * one.measured_s, 1e-9);
    assert_ne!(two.requests, 2 * one.requests);
}

#[test]
fn scenarios_share_their_arrival_stream() {
    // Common random numbers: both scenarios of a project see the same
    // arrivals, so at the same seed they count the same requests offered.
    let project = example("monolith-vs-microservices.ron");
    let report = crate::support::simulate(&project, None).unwrap();
    let offered: Vec<u64> = report
        .scenarios
        .iter()
        .map(|s| {
            s.services
                .iter()
                .find(|v| v.name == "frontend")
                .unwrap()
                .arrivals
        })
        .collect();
    assert_eq!(offered[0], offered[1]);
}
