//! Helpers: small projects built in code, and confidence intervals.

#![allow(dead_code, reason = "each test module uses a different part")]

use archbench::model::{
    ArrivalProcess, Arrivals, CallMode, Distribution, FORMAT_VERSION, IoModel, Link, Project,
    QueueCapacity, RequestClass, RunSettings, Scenario, Service, ServiceKind, StopCondition,
    TimeSpan, Workload,
};
use archbench::stats::ScenarioReport;

/// Asserts that `actual` is within `tolerance` of `expected`, saying all
/// three (and an optional message) when it is not. For a relative bound,
/// compare a ratio with 1: `assert_close!(measured / truth, 1.0, 0.01)`.
#[macro_export]
macro_rules! assert_close {
    ($actual:expr, $expected:expr, $tolerance:expr $(,)?) => {
        $crate::assert_close!($actual, $expected, $tolerance, "")
    };
    ($actual:expr, $expected:expr, $tolerance:expr, $($message:tt)+) => {{
        let actual: f64 = ::core::convert::Into::into($actual);
        let expected: f64 = ::core::convert::Into::into($expected);
        let tolerance: f64 = ::core::convert::Into::into($tolerance);
        assert!(
            (actual - expected).abs() <= tolerance,
            "{} = {actual} is not within {tolerance} of {} = {expected} {}",
            stringify!($actual),
            stringify!($expected),
            format_args!($($message)+),
        );
    }};
}

/// Tests that measure wall-clock time (the load generator's) hold this
/// exclusively; CPU-heavy simulations hold it shared, so the two never
/// compete for the cores, while simulations still run side by side.
static CPU: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// For a test whose results depend on having the CPU to itself.
pub fn timing_sensitive() -> std::sync::RwLockWriteGuard<'static, ()> {
    CPU.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// For a test that keeps the CPU busy.
pub fn cpu_heavy() -> std::sync::RwLockReadGuard<'static, ()> {
    CPU.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `archbench::sim::simulate_scenario`, holding the shared CPU lock.
pub fn simulate_scenario(
    project: &Project,
    scenario: usize,
) -> Result<ScenarioReport, archbench::sim::SimError> {
    let _cpu = cpu_heavy();
    archbench::sim::simulate_scenario(project, scenario)
}

/// `archbench::sim::simulate`, holding the shared CPU lock.
pub fn simulate(
    project: &Project,
    only: Option<&str>,
) -> Result<archbench::stats::SimulationReport, archbench::sim::SimError> {
    let _cpu = cpu_heavy();
    archbench::sim::simulate(project, only)
}

/// An async service with `workers` workers and the given service time.
pub fn service(name: &str, service_time: &str, workers: u32) -> Service {
    let mut s = Service::new(name, ServiceKind::Service, dist(service_time));
    s.workers = workers;
    s.io = IoModel::Async;
    s
}

pub fn dist(text: &str) -> Distribution {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub fn link(from: &str, to: &str) -> Link {
    Link::new(from, to)
}

pub fn async_link(from: &str, to: &str) -> Link {
    Link {
        mode: CallMode::Async,
        ..Link::new(from, to)
    }
}

/// A one-scenario project with Poisson arrivals at `rate_rps` entering at
/// the first service, stopping after `requests` measured requests.
pub fn open_project(
    rate_rps: f64,
    services: Vec<Service>,
    links: Vec<Link>,
    requests: u64,
) -> Project {
    let entry = services[0].name.clone();
    Project {
        format: FORMAT_VERSION,
        name: "test".into(),
        description: String::new(),
        workload: Workload {
            arrivals: Arrivals::Open {
                process: ArrivalProcess::Poisson,
                rate_rps,
                profile: Vec::new(),
            },
            classes: vec![RequestClass {
                name: "all".into(),
                weight: 1.0,
                entry,
            }],
        },
        run: RunSettings {
            stop: StopCondition::Requests(requests),
            warmup: Some(TimeSpan::from_nanos(0)),
            common_random_numbers: true,
            precision: None,
            max_replications: 200,
            seed: 1,
            replications: 1,
            interval: TimeSpan::from_secs_f64(1.0),
        },
        objectives: Vec::new(),
        scenarios: vec![Scenario {
            name: "test".into(),
            description: String::new(),
            services,
            links,
        }],
    }
}

/// The open Jackson network of the theory tests: gateway (exp:1ms) calls a
/// (exp:2ms), then b (exp:5ms) with probability 0.3; a calls c (exp:3ms)
/// with probability 0.6; 300 requests/s, async I/O, one worker each.
pub fn jackson_network(requests: u64) -> Project {
    open_project(
        300.0,
        vec![
            service("gateway", "exp:1ms", 1),
            service("a", "exp:2ms", 1),
            service("b", "exp:5ms", 1),
            service("c", "exp:3ms", 1),
        ],
        vec![
            link("gateway", "a"),
            Link {
                probability: 0.3,
                ..link("gateway", "b")
            },
            Link {
                probability: 0.6,
                ..link("a", "c")
            },
        ],
        requests,
    )
}

/// A single station: M/G/c, or M/G/c/K with a bounded queue.
pub fn single_station(
    rate_rps: f64,
    service_time: &str,
    workers: u32,
    queue: QueueCapacity,
    requests: u64,
) -> Project {
    let mut s = service("server", service_time, workers);
    s.queue = queue;
    open_project(rate_rps, vec![s], Vec::new(), requests)
}

/// Runs `project`'s first scenario once for each of `runs` seeds: independent
/// replications.
pub fn replicate(project: &Project, runs: u64) -> Vec<ScenarioReport> {
    let _cpu = cpu_heavy();
    (1..=runs)
        .map(|seed| {
            let mut p = project.clone();
            p.run.seed = seed * 7919;
            archbench::sim::simulate_scenario(&p, 0).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// One figure from each report.
pub fn each(reports: &[ScenarioReport], metric: impl Fn(&ScenarioReport) -> f64) -> Vec<f64> {
    reports.iter().map(metric).collect()
}

/// Two-sided 99% Student t quantiles, by degrees of freedom 1..=30.
const T_995: [f64; 30] = [
    63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169, 3.106, 3.055, 3.012,
    2.977, 2.947, 2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779,
    2.771, 2.763, 2.756, 2.750,
];

/// The mean of independent estimates and the half-width of its 99% interval.
#[derive(Clone, Copy, Debug)]
pub struct Interval {
    pub mean: f64,
    pub half_width: f64,
}

pub fn interval(values: &[f64]) -> Interval {
    let n = values.len();
    assert!((2..=31).contains(&n), "need 2 to 31 runs");
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Interval {
        mean,
        half_width: T_995[n - 2] * (var / n as f64).sqrt(),
    }
}

/// Asserts that the 99% interval over independent runs covers `truth`, and
/// that the interval is narrower than `precision` (relative), so that the
/// check has the power to catch an error of that size.
pub fn assert_theory(label: &str, values: &[f64], truth: f64, precision: f64) {
    let ci = interval(values);
    eprintln!(
        "{label}: simulated {:.6} ± {:.6} (99%), theory {truth:.6}, off by {:+.2}%",
        ci.mean,
        ci.half_width,
        (ci.mean / truth - 1.0) * 100.0
    );
    assert!(
        ci.half_width <= precision * truth.abs(),
        "{label}: interval ±{:.6} is wider than {:.1}% of {truth}; run longer",
        ci.half_width,
        precision * 100.0
    );
    assert!(
        (ci.mean - truth).abs() <= ci.half_width,
        "{label}: simulated {:.6} ± {:.6} does not cover theory {truth:.6}",
        ci.mean,
        ci.half_width
    );
}
