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
#[allow(
    clippy::float_cmp,
    reason = "other samples differ exactly, not by a margin"
)]
fn different_seeds_give_different_samples_of_the_same_system() {
    // The JSON names the seed, so comparing whole reports would pass even if
    // the seed were ignored. Compare the samples: every scenario's latency
    // histogram differs, yet both seeds measure one system, so their means
    // agree to within the sampling noise of 10,000s of requests.
    let mut project = example("ml-inference.ron");
    let first = crate::support::simulate(&project, None).unwrap();
    project.run.seed += 1;
    let second = crate::support::simulate(&project, None).unwrap();
    assert_eq!(first.scenarios.len(), second.scenarios.len());
    for (a, b) in first.scenarios.iter().zip(&second.scenarios) {
        assert_ne!(a.latency, b.latency, "{}: the same samples", a.scenario);
        assert_ne!(a.latency_ms.p50, b.latency_ms.p50, "{}", a.scenario);
        assert_close!(
            a.latency_ms.mean / b.latency_ms.mean,
            1.0,
            0.05,
            "{}: two seeds, one system",
            a.scenario
        );
    }
}

#[test]
#[allow(
    clippy::float_cmp,
    reason = "other samples differ exactly, not by a margin"
)]
fn replications_use_independent_streams() {
    // Replication i has its own stream, the same whatever the count: the
    // first of two replications is the single replication again, and the
    // second is not a repeat of it. The merged report adds both.
    let mut project = example("three-tier.ron");
    project.run.replications = 1;
    let one = crate::support::simulate_scenario(&project, 0).unwrap();
    project.run.replications = 2;
    let two = crate::support::simulate_scenario(&project, 0).unwrap();
    assert_eq!(two.replications, 2);
    assert_close!(two.measured_s, 2.0 * one.measured_s, 1e-9);
    assert_eq!(two.per_replication.len(), 2);
    assert_eq!(two.per_replication[0], one.per_replication[0]);
    let (first, second) = (&two.per_replication[0], &two.per_replication[1]);
    assert_ne!(first.mean_ms, second.mean_ms);
    assert_ne!(first.p99_ms, second.p99_ms);
    assert_ne!(first.service_mean_ms, second.service_mean_ms);
    // The merged mean weighs each replication's mean by its requests.
    let rest = (two.requests - one.requests) as f64;
    let merged =
        (one.requests as f64 * first.mean_ms + rest * second.mean_ms) / two.requests as f64;
    assert_close!(two.latency_ms.mean / merged, 1.0, 1e-9);
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
