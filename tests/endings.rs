//! Runs that always end: each model that used to run forever (or until the
//! simulated clock overflowed) now ends, with a result or a clear error, or
//! is refused by `check` at its place.

use std::path::Path;

use archbench::model::{Project, file, validate};
use archbench::sim::SimError;

use crate::support::simulate_scenario;

fn project(text: &str) -> Project {
    file::parse(text, Path::new("test.ron"))
        .unwrap_or_else(|e| panic!("{e}"))
        .project
}

/// One scenario with `services` and `links`, open arrivals `arrivals` and
/// a stop condition.
fn scenario(arrivals: &str, stop: &str, services: &str, links: &str) -> Project {
    project(&format!(
        r#"(
    format: 1,
    name: "t",
    workload: (arrivals: {arrivals}, classes: [(name: "all", entry: "a")]),
    run: (stop: {stop}, warmup: "0s", seed: 1),
    scenarios: [(name: "s", services: [{services}], links: [{links}])],
)"#
    ))
}

/// With no traffic left to come, an autoscaler's ticks no longer keep the
/// run alive: a run asked for 1,000 requests at rate 0 (or on a profile
/// that steps to 0 after 200) ends with what it has.
#[test]
fn no_traffic_with_an_autoscaler_ends() {
    let autoscaled = r#"(name: "a", service_time: "exp:1ms", replicas: 1,
        autoscale: Some((target_utilization: 0.5, min_replicas: 1, max_replicas: 4, interval: "1s", cold_start: "1s")))"#;
    for arrivals in [
        "Open(process: Poisson, rate_rps: 0.0)",
        r#"Open(process: Constant, rate_rps: 100.0, profile: [Step(at: "2s", rate_rps: 0.0)])"#,
    ] {
        let p = scenario(arrivals, "Requests(1000)", autoscaled, "");
        assert!(validate(&p).is_empty(), "{:?}", validate(&p));
        let report = simulate_scenario(&p, 0).unwrap();
        assert!(report.requests <= 200, "{arrivals}: {}", report.requests);
    }
}

/// One user through a 1,000 h service for 5,125 requests needs 584 years
/// of simulated time, past the clock's end (2^64 ns); a think time of a
/// year per request, 200 of them, 200 years. Both end at the 100-year
/// horizon with an error that says so.
#[test]
fn a_run_that_needs_centuries_ends_with_an_error() {
    for (service_time, think, requests) in [("1000h", "0ms", 5_125), ("1ms", "8760h", 200)] {
        let p = scenario(
            &format!(r#"Closed(users: 1, think_time: "{think}")"#),
            &format!("Requests({requests})"),
            &format!(r#"(name: "a", service_time: "{service_time}")"#),
            "",
        );
        let error = simulate_scenario(&p, 0).unwrap_err();
        assert!(
            matches!(error, SimError::BeyondHorizon { finished, .. } if finished < requests),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("100 years") && message.contains("Duration"),
            "{message}"
        );
    }
}

/// An autoscaler deciding every nanosecond is refused at its place.
#[test]
fn an_autoscaler_interval_below_a_millisecond_is_refused() {
    let p = scenario(
        "Open(process: Poisson, rate_rps: 100.0)",
        "Requests(1000)",
        r#"(name: "a", service_time: "exp:1ms",
        autoscale: Some((target_utilization: 0.5, min_replicas: 1, max_replicas: 4, interval: "1ns")))"#,
        "",
    );
    let problems = validate(&p);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].place,
        "scenario \"s\" / service \"a\" / autoscale / interval"
    );
    assert!(problems[0].message.contains("at least 1ms"));
}

/// 100 retries without a budget on each of five chained links would make
/// 101^5 attempts per request: refused, naming the chain. With a budget
/// (which caps retries at a share of first attempts) the same chain is
/// accepted, as are 3 retries on each link (4^5 = 1,024 attempts).
#[test]
fn retries_that_multiply_past_ten_thousand_attempts_are_refused() {
    let services = (0..6)
        .map(|i| format!(r#"(name: "{}", service_time: "1ms")"#, (b'a' + i) as char))
        .collect::<Vec<_>>()
        .join(", ");
    let chain = |retry: &str| {
        (0..5)
            .map(|i| {
                format!(
                    r#"(from: "{}", to: "{}", retry: Some({retry}))"#,
                    (b'a' + i) as char,
                    (b'a' + i + 1) as char
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let open = "Open(process: Poisson, rate_rps: 10.0)";
    let p = scenario(
        open,
        "Requests(100)",
        &services,
        &chain("(max_retries: 100)"),
    );
    let problems = validate(&p);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].place, "scenario \"s\" / links");
    assert!(
        problems[0]
            .message
            .contains("a -> b -> c -> d -> e -> f: up to 10510100501 attempts"),
        "{}",
        problems[0].message
    );
    for fine in [
        "(max_retries: 3)",
        "(max_retries: 100, budget: Some((ratio: 0.1)))",
    ] {
        let p = scenario(open, "Requests(100)", &services, &chain(fine));
        assert!(validate(&p).is_empty(), "{fine}: {:?}", validate(&p));
    }
}

/// A year of warm-up at 100 requests/s is 3.2 billion requests before the
/// first measurement: hours of work, refused at its place with the count.
/// A day of it (8.6 million) is fine, as is --requests 100 million.
#[test]
fn a_run_of_more_than_a_hundred_million_requests_is_refused() {
    let service = r#"(name: "a", service_time: "exp:1ms")"#;
    let open = "Open(process: Poisson, rate_rps: 100.0)";
    let mut p = scenario(open, "Requests(1000)", service, "");
    p.run.warmup = Some("8760h".parse().unwrap());
    let problems = validate(&p);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].place, "run / warmup");
    assert!(
        problems[0]
            .message
            .starts_with("8760 h of warm-up would simulate about 3.2 billion requests"),
        "{}",
        problems[0].message
    );
    p.run.warmup = Some("24h".parse().unwrap());
    assert!(validate(&p).is_empty());
    let mut p = scenario(open, "Requests(100000000)", service, "");
    assert!(validate(&p).is_empty());
    p.run.stop = archbench::model::StopCondition::Requests(100_000_001);
    assert_eq!(validate(&p)[0].place, "run / stop");
}
