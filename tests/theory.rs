//! The simulator against queueing theory: M/M/1, M/M/c, M/D/1, M/G/1, G/M/1
//! with Gamma arrivals, M/M/1/K, an open Jackson network, and a two-way
//! fork-join.
//!
//! Every check runs twenty independent replications (different seeds) and
//! asserts that the Student-t interval of their mean covers the exact value,
//! and that the interval is narrow (the `precision` argument), so the check
//! would catch an error of that size. The intervals are Bonferroni-corrected
//! over all the suite's theory checks (`support::FAMILY_ERROR`): a correct
//! simulator fails any of them by chance, say after its random streams
//! change, with probability at most 1%, so a failure is a finding, not bad
//! luck to be fixed by another seed. Run lengths are chosen so the interval
//! is a percent or two; the comments give the exact values.

use archbench::model::QueueCapacity;

use crate::support::{
    self, assert_theory, each, jackson_network, link, open_project, replicate, service,
    single_station,
};

const RUNS: u64 = 20;

/// M/M/1 response time is exponential with rate μ − λ: mean 1/(μ−λ),
/// median ln 2/(μ−λ), 99th percentile ln 100/(μ−λ).
fn check_mm1(rho: f64, requests: u64, precision: f64) {
    let mu = 1000.0; // service time exp:1ms
    let lambda = rho * mu;
    let project = single_station(lambda, "exp:1ms", 1, QueueCapacity::Unbounded, requests);
    let mut project = project;
    // Start measuring once the queue has forgotten that it started empty.
    project.run.warmup = Some(archbench::model::TimeSpan::from_secs_f64(
        2000.0 / mu / (1.0 - rho),
    ));
    let runs = replicate(&project, RUNS);
    let scale_ms = 1000.0 / (mu - lambda);
    let mean = each(&runs, |r| r.latency_ms.mean);
    assert_theory(&format!("M/M/1 ρ={rho} mean"), &mean, scale_ms, precision);
    let p50 = each(&runs, |r| r.latency_ms.p50);
    assert_theory(
        &format!("M/M/1 ρ={rho} p50"),
        &p50,
        scale_ms * 2f64.ln(),
        precision,
    );
    let p99 = each(&runs, |r| r.latency_ms.p99);
    assert_theory(
        &format!("M/M/1 ρ={rho} p99"),
        &p99,
        scale_ms * 100f64.ln(),
        precision * 1.5,
    );
}

#[test]
fn mm1_at_half_load() {
    // Mean 2 ms, p50 1.386 ms, p99 9.210 ms.
    check_mm1(0.5, 200_000, 0.01);
}

#[test]
fn mm1_at_ninety_percent_load() {
    // Mean 10 ms, p50 6.931 ms, p99 46.05 ms. At ρ = 0.9 successive
    // responses are strongly correlated, so runs are long.
    check_mm1(0.9, 1_500_000, 0.025);
}

/// Erlang's C formula: the probability that an arrival waits in M/M/c.
fn erlang_c(c: u32, offered: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= offered / f64::from(k + 1);
    }
    let tail = term * f64::from(c) / (f64::from(c) - offered);
    tail / (sum + tail)
}

#[test]
fn mmc_probability_of_waiting_and_mean_wait() {
    // c = 4 servers of exp:4ms (μ = 250/s each), λ = 800/s: ρ = 0.8, a = 3.2.
    // C(4, 3.2) = 0.5964, Wq = C / (cμ − λ) = 2.982 ms.
    let (c, mu, lambda) = (4, 250.0, 800.0);
    let project = single_station(lambda, "exp:4ms", c, QueueCapacity::Unbounded, 300_000);
    let p_wait = erlang_c(c, lambda / mu);
    assert_close!(p_wait, 0.5964, 1e-3, "{p_wait}");
    let runs = replicate(&project, RUNS);
    let waited = each(&runs, |r| r.services[0].waited_fraction);
    assert_theory("M/M/4 P(wait)", &waited, p_wait, 0.02);
    let wait = each(&runs, |r| r.services[0].wait_ms.mean);
    assert_theory(
        "M/M/4 mean wait",
        &wait,
        p_wait / (f64::from(c) * mu - lambda) * 1e3,
        0.03,
    );
}

/// The Pollaczek–Khinchine mean wait of M/G/1: λ E[S²] / (2 (1 − ρ)).
fn pollaczek_khinchine_ms(lambda: f64, service_time: &str) -> f64 {
    let d: archbench::model::Distribution = service_time.parse().unwrap();
    let rho = lambda * d.mean_secs();
    lambda * d.second_moment_secs2() / (2.0 * (1.0 - rho)) * 1e3
}

#[test]
fn md1_mean_wait() {
    // Constant 1 ms at λ = 800/s: Wq = 800 · 1e-6 / 0.4 = 2 ms exactly.
    let project = single_station(800.0, "1ms", 1, QueueCapacity::Unbounded, 300_000);
    let truth = pollaczek_khinchine_ms(800.0, "1ms");
    assert_close!(truth, 2.0, 1e-12);
    let wait = each(&replicate(&project, RUNS), |r| r.services[0].wait_ms.mean);
    assert_theory("M/D/1 mean wait", &wait, truth, 0.03);
}

#[test]
fn mg1_lognormal_mean_wait() {
    // Lognormal with mean 1 ms and p99 5 ms: with ln S ~ N(m, σ²), the mean
    // exp(m + σ²/2) = 1 gives m = −σ²/2, and the p99 exp(m + z σ) = 5 with
    // z = 2.326348 (the normal's 99th percentile) gives
    // σ = z − √(z² − 2 ln 5) = 0.845463. Then E[S²] = exp(2m + 2σ²) =
    // exp(σ²) = 2.043795 ms², and at ρ = 0.7 Pollaczek–Khinchine gives
    // Wq = 700 · 2.043795e-6 / (2 · 0.3) = 2.384428 ms.
    let z = 2.326_347_874_040_841;
    let sigma = z - (z * z - 2.0 * 5f64.ln()).sqrt();
    assert_close!(sigma, 0.845_463, 1e-6);
    let second_moment_ms2 = (sigma * sigma).exp();
    assert_close!(second_moment_ms2, 2.043_795, 1e-6);
    let truth = 700.0 * second_moment_ms2 * 1e-6 / (2.0 * 0.3) * 1e3;
    assert_close!(truth, 2.384_428, 1e-6);
    let dist = "lognormal:1ms,p99=5ms";
    let project = single_station(700.0, dist, 1, QueueCapacity::Unbounded, 400_000);
    let wait = each(&replicate(&project, RUNS), |r| r.services[0].wait_ms.mean);
    assert_theory("M/G/1 lognormal mean wait", &wait, truth, 0.04);
}

#[test]
fn mg1_gamma_mean_wait() {
    // Gamma mean 1 ms, shape 0.5 (squared coefficient of variation 2),
    // ρ = 0.6: Wq = 600 · 3e-6 / 0.8 = 2.25 ms.
    let dist = "gamma:1ms,shape=0.5";
    let project = single_station(600.0, dist, 1, QueueCapacity::Unbounded, 400_000);
    let truth = pollaczek_khinchine_ms(600.0, dist);
    assert_close!(truth, 2.25, 1e-9, "{truth}");
    let wait = each(&replicate(&project, RUNS), |r| r.services[0].wait_ms.mean);
    assert_theory("M/G/1 gamma mean wait", &wait, truth, 0.04);
}

/// G/M/1 with Gamma gaps: the number an arrival finds is geometric, with
/// σ the root in (0, 1) of σ = A*(μ(1 − σ)), A* the gaps' Laplace–Stieltjes
/// transform, (1 + s/(kλ))^(−k) for Gamma gaps of shape k = 1/cv²; the
/// mean response time is 1/(μ(1 − σ)).
fn gm1_response_ms(lambda: f64, mu: f64, cv: f64) -> f64 {
    let k = 1.0 / (cv * cv);
    let mut sigma: f64 = 0.5;
    for _ in 0..10_000 {
        sigma = (1.0 + mu * (1.0 - sigma) / (k * lambda)).powf(-k);
    }
    1000.0 / (mu * (1.0 - sigma))
}

#[test]
fn gm1_with_bursty_and_smooth_gamma_arrivals() {
    // λ = 600/s, μ = 1000/s. Bursty gaps (cv 2, shape 1/4): σ = 0.822929,
    // mean response 5.647442 ms, against the M/M/1's 2.5 ms. Smooth gaps
    // (cv 0.5, shape 4): σ = 0.421627, 1.728989 ms.
    for (cv, truth, requests) in [(2.0, 5.647_442, 800_000), (0.5, 1.728_989, 300_000)] {
        assert_close!(gm1_response_ms(600.0, 1000.0, cv), truth, 1e-6);
        let mut project = single_station(600.0, "exp:1ms", 1, QueueCapacity::Unbounded, requests);
        project.workload.arrivals = archbench::model::Arrivals::Open {
            process: archbench::model::ArrivalProcess::Gamma { cv },
            rate_rps: 600.0,
            profile: Vec::new(),
        };
        project.run.warmup = Some(archbench::model::TimeSpan::from_secs_f64(10.0));
        let mean = each(&replicate(&project, RUNS), |r| r.latency_ms.mean);
        assert_theory(&format!("G/M/1 Gamma cv {cv} mean"), &mean, truth, 0.03);
    }
}

/// M/M/1/K blocking probability: (1 − ρ) ρ^K / (1 − ρ^(K+1)).
fn mm1k_blocking(rho: f64, k: i32) -> f64 {
    (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1))
}

#[test]
fn mm1k_blocking_probability() {
    // K = 5 in the system: one in service and a queue of four.
    for (rho, truth) in [(0.9, 0.12602), (1.5, 0.36541)] {
        assert_close!(mm1k_blocking(rho, 5), truth, 1e-5);
        let project = single_station(
            rho * 1000.0,
            "exp:1ms",
            1,
            QueueCapacity::Bounded(4),
            200_000,
        );
        let blocked = each(&replicate(&project, RUNS), |r| {
            let s = &r.services[0];
            assert!(
                !r.saturated,
                "a bounded queue sheds load; it is not saturated"
            );
            s.rejected as f64 / (s.rejected + s.arrivals) as f64
        });
        assert_theory(&format!("M/M/1/5 ρ={rho} blocking"), &blocked, truth, 0.02);
    }
}

#[test]
fn open_jackson_network() {
    // gateway (exp:1ms) calls a (exp:2ms), then b (exp:5ms) with probability
    // 0.3; a calls c (exp:3ms) with probability 0.6. All async I/O, one
    // worker each, no network time: a feed-forward Jackson network whose
    // stations are independent M/M/1 queues with λ_i = 300/s × visits.
    //   gateway: λ 300, μ 1000  → 1/(μ−λ) = 1.4286 ms
    //   a:       λ 300, μ 500   → 5.0 ms
    //   c:       λ 180, μ 333.3 → 6.5217 ms
    //   b:       λ  90, μ 200   → 9.0909 ms
    // End to end: 1.4286 + 5 + 0.6·6.5217 + 0.3·9.0909 = 13.0689 ms.
    let lambda = 300.0;
    let project = jackson_network(400_000);
    let stations = [
        ("gateway", 1000.0, 1.0),
        ("a", 500.0, 1.0),
        ("b", 200.0, 0.3),
        ("c", 1000.0 / 3.0, 0.6),
    ];
    let runs = replicate(&project, RUNS);
    let mut end_to_end = 0.0;
    for (index, (name, mu, visits)) in stations.into_iter().enumerate() {
        let truth = 1e3 / (mu - lambda * visits);
        end_to_end += visits * truth;
        // The station's own residence: waiting plus its own work.
        let residence = each(&runs, |r| {
            let s = &r.services[index];
            assert_eq!(s.name, name);
            s.wait_ms.mean + s.service_time_ms
        });
        assert_theory(
            &format!("Jackson station {name} residence"),
            &residence,
            truth,
            0.03,
        );
    }
    assert_close!(end_to_end, 13.0689, 1e-3, "{end_to_end}");
    let e2e = each(&runs, |r| r.latency_ms.mean);
    assert_theory("Jackson end to end", &e2e, end_to_end, 0.02);
}

#[test]
fn two_way_fork_join() {
    // A gateway with no work fans out to two identical M/M/1 queues and
    // waits for both. Nelson and Tantawi (1988), exact for two branches:
    // E[T] = (12 − ρ)/8 · 1/(μ − λ).
    for rho in [0.5, 0.8] {
        let (mu, lambda) = (1000.0, rho * 1000.0);
        let fan = |to: &str| archbench::model::Link {
            parallel_group: Some("fan".into()),
            ..link("gateway", to)
        };
        let project = open_project(
            lambda,
            vec![
                service("gateway", "0ms", 10_000),
                service("x", "exp:1ms", 1),
                service("y", "exp:1ms", 1),
            ],
            vec![fan("x"), fan("y")],
            if rho > 0.6 { 600_000 } else { 200_000 },
        );
        let truth = (12.0 - rho) / 8.0 * 1e3 / (mu - lambda);
        let e2e = each(&replicate(&project, RUNS), |r| r.latency_ms.mean);
        assert_theory(&format!("fork-join ρ={rho}"), &e2e, truth, 0.025);
    }
}

/// A single exponential server offered a hair more than it can do: the
/// queue grows by (ρ − 1)λ a second, too slowly for a backlog test to see in
/// a short run, yet without bound. The offered work is known exactly, so
/// the run is saturated, and a sweep across the capacity never reports a
/// maximum above it (issue: overloads up to 2% were called stable).
#[test]
fn a_slight_overload_is_saturated_and_never_sustainable() {
    for rho in [1.005, 1.019, 1.05] {
        let project = support::open_project(
            1000.0 * rho,
            vec![support::service("server", "exp:1ms", 1)],
            Vec::new(),
            200_000,
        );
        let report = support::simulate_scenario(&project, 0).unwrap();
        assert!(report.saturated, "ρ = {rho} is not called saturated");
        assert_eq!(report.saturated_service.as_deref(), Some("server"));
        // What a saturated run reports is the whole run's rate: the server's.
        assert_close!(
            report.throughput_rps / 1000.0,
            1.0,
            0.05,
            "ρ = {rho}: {} req/s",
            report.throughput_rps
        );
    }
    // Just below capacity a stable but heavily loaded queue is not
    // saturated: the verdict follows the load, not luck.
    let project = support::open_project(
        900.0,
        vec![support::service("server", "exp:1ms", 1)],
        Vec::new(),
        100_000,
    );
    assert!(!support::simulate_scenario(&project, 0).unwrap().saturated);

    let project = support::open_project(
        1000.0,
        vec![support::service("server", "exp:1ms", 1)],
        Vec::new(),
        20_000,
    );
    let sweep = {
        let _cpu = support::cpu_heavy();
        archbench::sim::sweep(
            &project,
            &archbench::sim::SweepSpec {
                axis: archbench::sim::SweepAxis::Rate {
                    from: 985.0,
                    to: 1015.0,
                    steps: 7,
                },
                scenario: None,
                threads: 0,
                shard: None,
            },
            &std::sync::atomic::AtomicBool::new(false),
        )
        .unwrap()
    };
    let max = sweep.scenarios[0].max_throughput_rps.unwrap_or(0.0);
    assert!(max <= 1000.0, "a maximum of {max} req/s above the capacity");
    for p in &sweep.scenarios[0].points {
        assert_eq!(
            p.saturated,
            p.offered_rps > 1000.0,
            "{} offered",
            p.offered_rps
        );
    }
}

/// A closed system cannot saturate: its queue is bounded by its users. With
/// 10,000 users and no think time on one exponential 1 ms server, the
/// server is always busy: throughput 1,000 req/s, and by the response time
/// law R = N/X − Z = 10,000 / 1,000 − 0 = 10 s.
#[test]
fn a_closed_workload_with_many_users_is_stable_at_the_response_time_law() {
    let mut project = support::open_project(
        1.0,
        vec![support::service("server", "exp:1ms", 1)],
        Vec::new(),
        60_000,
    );
    project.workload.arrivals = archbench::model::Arrivals::Closed {
        users: 10_000,
        think_time: support::dist("0ms"),
    };
    project.run.warmup = Some("20s".parse().unwrap());
    let report = support::simulate_scenario(&project, 0).unwrap();
    assert!(!report.saturated, "a closed system was called saturated");
    assert_close!(
        report.throughput_rps / 1000.0,
        1.0,
        0.02,
        "{} req/s",
        report.throughput_rps
    );
    let mean_s = report.latency_ms.mean / 1e3;
    assert_close!(mean_s / 10.0, 1.0, 0.02, "mean response {mean_s} s");
}

#[test]
fn student_t_quantiles_match_the_printed_tables() {
    // The intervals above rest on these; values from the standard tables
    // (two-sided, so the 99% column is alpha = 0.01).
    for (alpha, df, table) in [
        (0.05, 1, 12.706),
        (0.01, 2, 9.925),
        (0.01, 9, 3.250),
        (0.05, 9, 2.262),
        (0.001, 10, 4.587),
        (0.01, 19, 2.861),
        (0.05, 30, 2.042),
    ] {
        let t = support::student_t_quantile(alpha, df);
        assert_close!(t, table, 5e-4, "t({alpha}, {df})");
    }
}
