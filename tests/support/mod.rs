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
                tokens: None,
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
        goodput_share: archbench::model::GOODPUT_SHARE,
        scenarios: vec![Scenario {
            name: "test".into(),
            description: String::new(),
            services,
            links,
            groups: Vec::new(),
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

/// One figure from each replication of a report.
pub fn each_replication(
    report: &ScenarioReport,
    metric: impl Fn(&archbench::stats::ReplicationSummary) -> f64,
) -> Vec<f64> {
    report.per_replication.iter().map(metric).collect()
}

/// One figure from each report.
pub fn each(reports: &[ScenarioReport], metric: impl Fn(&ScenarioReport) -> f64) -> Vec<f64> {
    reports.iter().map(metric).collect()
}

/// P(|T| ≤ t) for Student's t with `df` degrees of freedom, exactly, by
/// the finite sums in θ = atan(t / √df) of Abramowitz and Stegun 26.7.3
/// (odd df) and 26.7.4 (even df).
pub fn student_t_central(t: f64, df: u32) -> f64 {
    assert!(df >= 1 && t >= 0.0);
    let theta = (t / f64::from(df).sqrt()).atan();
    let (sin, cos) = theta.sin_cos();
    let cos2 = cos * cos;
    if df % 2 == 1 {
        // cos θ + (2/3) cos³ θ + (2·4)/(3·5) cos⁵ θ + … up to cos^(df−2) θ.
        let mut sum = 0.0;
        if df > 1 {
            let mut term = cos;
            sum = term;
            for k in 1..(df - 1) / 2 {
                term *= cos2 * f64::from(2 * k) / f64::from(2 * k + 1);
                sum += term;
            }
        }
        2.0 / std::f64::consts::PI * (theta + sin * sum)
    } else {
        // 1 + (1/2) cos² θ + (1·3)/(2·4) cos⁴ θ + … up to cos^(df−2) θ.
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..df / 2 {
            term *= cos2 * f64::from(2 * k - 1) / f64::from(2 * k);
            sum += term;
        }
        sin * sum
    }
}

/// The t with P(|T| ≤ t) = 1 − `alpha` at `df` degrees of freedom, by
/// bisection (to 1e-9).
pub fn student_t_quantile(alpha: f64, df: u32) -> f64 {
    let (mut low, mut high) = (0.0, 1e6);
    while high - low > 1e-9 {
        let mid = f64::midpoint(low, high);
        if student_t_central(mid, df) < 1.0 - alpha {
            low = mid;
        } else {
            high = mid;
        }
    }
    f64::midpoint(low, high)
}

/// The mean of independent estimates and the half-width of its interval.
#[derive(Clone, Copy, Debug)]
pub struct Interval {
    pub mean: f64,
    pub half_width: f64,
}

/// The Student-t interval of the mean of `values` that misses with
/// probability `alpha`.
pub fn interval(values: &[f64], alpha: f64) -> Interval {
    let n = values.len();
    assert!(n >= 2, "need two runs at least");
    let mean = values.iter().sum::<f64>() / n as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let df = u32::try_from(n - 1).unwrap();
    Interval {
        mean,
        half_width: student_t_quantile(alpha, df) * (var / n as f64).sqrt(),
    }
}

/// The family-wise error of the theory checks: a correct simulator fails
/// one or more of all the `assert_theory` checks in the suite by chance
/// (after a change of random streams, say) with probability at most 1%.
/// Bonferroni: each of at most `THEORY_CHECKS` checks misses with
/// probability `FAMILY_ERROR / THEORY_CHECKS`.
pub const FAMILY_ERROR: f64 = 0.01;

/// How many `assert_theory` checks the suite makes, at most. A check past
/// this count fails, so that the bound cannot silently stop holding.
pub const THEORY_CHECKS: usize = 36;

static THEORY_CHECKS_MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Asserts that the Student-t interval over independent runs covers `truth`
/// at the family-wise level (see `FAMILY_ERROR`), and that the interval is
/// narrower than `precision` (relative), so that the check has the power to
/// catch an error of that size.
pub fn assert_theory(label: &str, values: &[f64], truth: f64, precision: f64) {
    let made = THEORY_CHECKS_MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    assert!(
        made <= THEORY_CHECKS,
        "{label}: more than THEORY_CHECKS = {THEORY_CHECKS} theory checks; raise it"
    );
    let ci = interval(values, FAMILY_ERROR / THEORY_CHECKS as f64);
    eprintln!(
        "{label}: simulated {:.6} ± {:.6} (family-wise 99%), theory {truth:.6}, off by {:+.2}%",
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

/// Round robin over `k` replicas of one exponential server hands each
/// replica every k-th arrival of a Poisson stream of rate `k λ`, so its
/// interarrival times are Erlang-k with mean 1/λ: each replica is an exact
/// Ek/M/1 queue. In GI/M/1 the response time is exponential with rate
/// μ (1 − σ) and the wait is σ / (μ (1 − σ)), where σ is the root in (0, 1)
/// of σ = A*(μ (1 − σ)), A*(s) = (k λ / (k λ + s))^k the Laplace transform
/// of the interarrival time (Kleinrock, Queueing Systems I, §6.4). Found by
/// fixed-point iteration from 0, which rises to the smallest root.
pub fn erlang_k_m1_sigma(k: u32, lambda: f64, mu: f64) -> f64 {
    assert!(lambda < mu, "stable queues only");
    let rate = f64::from(k) * lambda;
    let mut sigma = 0.0_f64;
    for _ in 0..10_000 {
        let next = (rate / (rate + mu * (1.0 - sigma))).powi(i32::try_from(k).unwrap());
        if (next - sigma).abs() < 1e-15 {
            return next;
        }
        sigma = next;
    }
    sigma
}

/// A small deterministic generator (`SplitMix64`), so generated inputs are
/// the same on every run.
pub struct Draws(pub u64);

impl Draws {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}
