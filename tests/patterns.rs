//! Patterns of scalable services, against what theory says they do: a cache
//! is probabilistic routing, a cold cache warms linearly, injected errors
//! compound along a chain.

use crate::support::simulate_scenario;
use archbench::model::{Cache, Link, TimeSpan};
use archbench::sim::analytic;

use crate::support::{each, link, open_project, replicate, service};
use archbench::stats::Interval;

fn cache(hit_ratio: f64, warmup_s: f64) -> Cache {
    Cache {
        hit_ratio,
        warmup: TimeSpan::from_secs_f64(warmup_s),
    }
}

/// gateway -> cache -> database; the cache answers `hit_ratio` itself.
fn cached(hit_ratio: f64) -> archbench::model::Project {
    let mut front = service("cache", "exp:1ms", 1);
    front.cache = Some(cache(hit_ratio, 0.0));
    open_project(
        300.0,
        vec![front, service("db", "exp:4ms", 1)],
        vec![link("cache", "db")],
        100_000,
    )
}

/// The same with a plain service calling the database with probability 1 − h.
fn routed(hit_ratio: f64) -> archbench::model::Project {
    open_project(
        300.0,
        vec![service("cache", "exp:1ms", 1), service("db", "exp:4ms", 1)],
        vec![Link {
            probability: 1.0 - hit_ratio,
            ..link("cache", "db")
        }],
        100_000,
    )
}

#[test]
fn a_cache_equals_probabilistic_routing() {
    // Hit ratio 0.7: the database sees 30% of requests (90/s, ρ = 0.36).
    // Both models are Jackson networks with the same solution:
    // cache 1/(1000 − 300) = 1.4286 ms, db 1/(250 − 90) = 6.25 ms, end to end
    // 1.4286 + 0.3 · 6.25 = 3.3036 ms.
    // replicate() holds the shared CPU lock itself (taking it twice could
    // deadlock behind a waiting writer).
    let truth = 1e3 / 700.0 + 0.3 * 1e3 / 160.0;
    for (label, project) in [("cache", cached(0.7)), ("routing", routed(0.7))] {
        let prediction = analytic::predict(&project, 0).end_to_end_ms.unwrap();
        assert!(
            (prediction - truth).abs() < 1e-9,
            "{label}: analytic {prediction}"
        );
        let runs = replicate(&project, 10);
        let ci = Interval::of_mean(&each(&runs, |r| r.latency_ms.mean)).unwrap();
        assert!(ci.contains(truth), "{label}: {ci:?} vs {truth}");
        assert!(ci.half_width() < 0.03 * truth);
        let share = each(&runs, |r| {
            r.services[1].arrivals as f64 / r.services[0].arrivals as f64
        });
        let share = Interval::of_mean(&share).unwrap();
        assert!(share.contains(0.3), "{label}: the database sees {share:?}");
    }
    let hits = simulate_scenario(&cached(0.7), 0).unwrap().services[0].cache_hits;
    assert!(hits > 60_000, "{hits}");
}

#[test]
fn a_cold_cache_warms_linearly() {
    // The hit ratio rises from 0 to 0.8 over the first 100 s, then stays.
    // Over 200 s (no warm-up discarded) the mean hit ratio is
    // 0.8 · (50 + 100) / 200 = 0.6, so the database sees 40% of requests.
    let mut project = cached(0.8);
    project.scenarios[0].services[0].cache = Some(cache(0.8, 100.0));
    project.run.stop = archbench::model::StopCondition::Duration(TimeSpan::from_secs_f64(200.0));
    let report = simulate_scenario(&project, 0).unwrap();
    let (front, db) = (&report.services[0], &report.services[1]);
    let share = db.arrivals as f64 / front.arrivals as f64;
    // Binomial with n ≈ 60,000: σ ≈ 0.002.
    assert!((share - 0.4).abs() < 0.01, "{share}");
    // Warm-up is a time-varying hit ratio: not product form.
    let broken = analytic::predict(&project, 0).broken;
    assert!(broken.iter().any(|b| b.contains("warms up")), "{broken:?}");
}

#[test]
fn injected_errors_compound_along_a_chain() {
    // Two services in a row failing 10% and 20%: a request succeeds with
    // probability 0.9 · 0.8 = 0.72. The second sees only the first's successes.
    let mut first = service("first", "100us", 8);
    first.error_rate = 0.1;
    let mut second = service("second", "100us", 8);
    second.error_rate = 0.2;
    let project = open_project(
        1000.0,
        vec![first, second],
        vec![link("first", "second")],
        100_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    let total = (report.requests + report.failed) as f64;
    let success = report.requests as f64 / total;
    // Binomial, n = 100,000: σ = 0.0014.
    assert!((success - 0.72).abs() < 0.007, "{success}");
    let (a, b) = (&report.services[0], &report.services[1]);
    assert!((b.arrivals as f64 / a.arrivals as f64 - 0.9).abs() < 0.007);
    assert_eq!(report.failed, a.errors + b.errors);
    let broken = analytic::predict(&project, 0).broken;
    assert!(
        broken.iter().any(|b| b.contains("injected errors")),
        "{broken:?}"
    );
}

#[test]
fn impossible_pattern_settings_are_refused() {
    let mut project = cached(1.5);
    project.scenarios[0].services[1].error_rate = -0.1;
    let problems: Vec<String> = archbench::model::validate(&project)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains(r#"service "cache" / cache / hit_ratio"#),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains(r#"service "db" / error_rate"#),
        "{}",
        problems[1]
    );
}
