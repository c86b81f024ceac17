//! Patterns of scalable services, against what theory says they do: a cache
//! is probabilistic routing, a cold cache warms linearly, injected errors
//! compound along a chain.

use crate::support::simulate_scenario;
use archbench::model::{
    Batching, Breaker, Cache, Jitter, LatencyFault, Link, RateLimit, Retry, RetryBudget, TimeSpan,
};
use archbench::sim::analytic;

use crate::support::{each, link, open_project, replicate, service};

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
        assert_close!(prediction, truth, 1e-9, "{label}: analytic {prediction}");
        let runs = replicate(&project, 20);
        let mean = each(&runs, |r| r.latency_ms.mean);
        crate::support::assert_theory(&format!("{label} end to end"), &mean, truth, 0.03);
        let share = each(&runs, |r| {
            r.services[1].arrivals as f64 / r.services[0].arrivals as f64
        });
        crate::support::assert_theory(&format!("{label} database share"), &share, 0.3, 0.03);
    }
    // Hits are the other 70%: those the database did not see.
    let report = simulate_scenario(&cached(0.7), 0).unwrap();
    let (cache, db) = (&report.services[0], &report.services[1]);
    assert_eq!(cache.cache_hits + db.arrivals, cache.arrivals);
    assert_close!(cache.cache_hits as f64 / cache.arrivals as f64, 0.7, 0.01);
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
    assert_close!(share, 0.4, 0.01, "{share}");
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
    assert_close!(success, 0.72, 0.007, "{success}");
    let (a, b) = (&report.services[0], &report.services[1]);
    assert_close!(b.arrivals as f64 / a.arrivals as f64, 0.9, 0.007);
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

/// front (1,000 workers, 100 µs) calls back (1,000 workers, `back_time`)
/// over `link`, at `rate` requests per second.
fn guarded(rate: f64, back_time: &str, link: Link, requests: u64) -> archbench::model::Project {
    open_project(
        rate,
        vec![
            service("front", "100us", 1000),
            service("back", back_time, 1000),
        ],
        vec![link],
        requests,
    )
}

fn retry(max_retries: u32) -> Retry {
    Retry {
        max_retries,
        backoff: TimeSpan::ZERO,
        max_backoff: TimeSpan::ZERO,
        jitter: Jitter::None,
        budget: None,
    }
}

#[test]
fn retries_multiply_the_load_by_the_truncated_geometric_sum() {
    // Each attempt fails with p = 0.3, independently. With n retries the
    // callee sees 1 + p + … + p^n attempts per call, and a call fails only
    // if all n + 1 fail: p^(n+1). As n grows the load tends to 1/(1 − p).
    let p = 0.3_f64;
    for n in [0_u32, 2, 100] {
        let mut project = guarded(
            500.0,
            "1ms",
            Link {
                retry: Some(retry(n)),
                ..link("front", "back")
            },
            100_000,
        );
        project.scenarios[0].services[1].error_rate = p;
        let report = simulate_scenario(&project, 0).unwrap();
        let calls = report.services[0].arrivals as f64;
        let load = report.services[1].arrivals as f64 / calls;
        let truth: f64 = (0..=n).map(|k| p.powi(k.try_into().unwrap())).sum();
        // The attempt count per call has σ ≤ 0.8: over 100,000 calls the
        // mean's σ is under 0.003.
        assert_close!(load, truth, 0.012, "n = {n}: {load} vs {truth}");
        let failed = report.failed as f64 / calls;
        let truth = p.powi((n + 1).try_into().unwrap());
        assert_close!(failed, truth, 0.005, "n = {n}: failed {failed} vs {truth}");
        let link = &report.links[0];
        assert_eq!(link.attempts, report.services[1].arrivals);
        assert_eq!(link.retries, link.attempts - report.services[0].arrivals);
    }
    // Unlimited (100) retries: 1/(1 − p).
    assert_close!(
        1.0 / (1.0 - p),
        (0..=100).map(|k| p.powi(k)).sum::<f64>(),
        1e-12
    );
}

#[test]
fn a_timed_out_call_still_occupies_the_callee() {
    // The callee has ample workers, so a call takes its service time,
    // exponential with mean 10 ms. A 20 ms timeout gives up on
    // P(S > 20 ms) = e^−2 = 0.1353 of the calls, but the callee still
    // does all the work: its mean service time stays 10 ms and it answers
    // every call.
    let timeout = TimeSpan::from_millis_f64(20.0);
    let project = guarded(
        400.0,
        "exp:10ms",
        Link {
            timeout: Some(timeout),
            ..link("front", "back")
        },
        100_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    let calls = report.services[0].arrivals as f64;
    let failed = report.failed as f64 / calls;
    let truth = (-2.0_f64).exp();
    assert_close!(failed, truth, 0.005, "{failed} vs {truth}");
    assert_eq!(report.links[0].timeouts, report.failed);
    let back = &report.services[1];
    assert_close!(back.service_time_ms, 10.0, 0.15, "{}", back.service_time_ms);
    // Every call the callee admitted was answered (give or take those in
    // flight when the run ended).
    assert!(back.throughput_rps * report.measured_s > back.arrivals as f64 - 50.0);
    // Successful calls all beat the timeout; the front answers within it.
    assert!(report.latency_ms.max <= 20.2, "{}", report.latency_ms.max);

    // One retry: a call fails only if both attempts time out, and the
    // callee does 1 + e^−2 attempts per call.
    let mut project = project;
    project.scenarios[0].links[0].retry = Some(retry(1));
    let report = simulate_scenario(&project, 0).unwrap();
    let calls = report.services[0].arrivals as f64;
    let failed = report.failed as f64 / calls;
    assert_close!(failed, truth * truth, 0.002, "{failed}");
    let load = report.services[1].arrivals as f64 / calls;
    assert_close!(load, 1.0 + truth, 0.01, "{load}");
}

#[test]
fn a_bulkhead_loses_calls_as_erlang_b_says() {
    // At most 5 calls in flight; calls last exp(10 ms) and arrive as a
    // Poisson stream of 400/s: offered load a = 4 Erlangs. The share of
    // calls refused is Erlang B: (a^c / c!) / Σ_{k≤c} a^k / k!.
    let (c, a) = (5_u32, 4.0_f64);
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=c {
        term *= a / f64::from(k);
        sum += term;
    }
    let erlang_b = term / sum;
    assert_close!(erlang_b, 0.199_07, 1e-4);
    let project = guarded(
        400.0,
        "exp:10ms",
        Link {
            max_concurrent: Some(c),
            ..link("front", "back")
        },
        200_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    let link = &report.links[0];
    let refused = link.bulkhead_rejections as f64 / report.services[0].arrivals as f64;
    assert_close!(refused, erlang_b, 0.006, "{refused} vs {erlang_b}");
    assert_eq!(report.failed, link.bulkhead_rejections);
}

#[test]
fn a_token_bucket_admits_its_rate() {
    // 300 requests/s at a service limited to 100/s (burst 10): it admits
    // 100/s and refuses the rest. At 50/s the bucket almost never empties.
    for (rate, admitted, refused_share) in [(300.0, 100.0, 2.0 / 3.0), (50.0, 50.0, 0.0)] {
        let mut limited = service("api", "100us", 1000);
        limited.rate_limit = Some(RateLimit {
            rate: 100.0,
            burst: 10,
        });
        let mut project = open_project(rate, vec![limited], vec![], 0);
        project.run.stop =
            archbench::model::StopCondition::Duration(TimeSpan::from_secs_f64(600.0));
        let report = simulate_scenario(&project, 0).unwrap();
        let api = &report.services[0];
        let through = api.arrivals as f64 / report.measured_s;
        assert_close!(through, admitted, 0.01 * admitted, "{through}");
        let share = api.rate_limited as f64 / (api.arrivals + api.rate_limited) as f64;
        assert_close!(share, refused_share, 0.01, "{share}");
        assert_eq!(report.failed, api.rate_limited);
    }
}

#[test]
fn a_breaker_opens_within_its_window_after_the_callee_starts_failing() {
    // From 10 s to 20 s a fault adds 100 ms to every call, and the 50 ms
    // timeout fails them all. The breaker counts over 1 s and opens at half
    // failed, so it opens within the window: at most 1 s × 200/s calls
    // time out before it does. Open for 2 s, then one probe: it stays open
    // (a few probes fail) until the fault ends, then closes.
    let mut project = guarded(
        200.0,
        "1ms",
        Link {
            timeout: Some(TimeSpan::from_millis_f64(50.0)),
            breaker: Some(Breaker {
                failure_ratio: 0.5,
                window: TimeSpan::from_secs_f64(1.0),
                min_calls: 20,
                open_for: TimeSpan::from_secs_f64(2.0),
                probes: 1,
            }),
            fault: Some(LatencyFault {
                extra: "100ms".parse().unwrap(),
                from: TimeSpan::from_secs_f64(10.0),
                until: TimeSpan::from_secs_f64(20.0),
            }),
            ..link("front", "back")
        },
        0,
    );
    project.run.stop = archbench::model::StopCondition::Duration(TimeSpan::from_secs_f64(40.0));
    let report = simulate_scenario(&project, 0).unwrap();
    let link = &report.links[0];
    // Opened once at the start of the fault, then again after each failed
    // probe (every 2 s until 20 s): at most 6 times.
    assert!((2..=6).contains(&link.breaker_opened), "{link:?}");
    // Before opening, at most one window of calls timed out (plus probes).
    assert!(link.timeouts <= 200 + 6, "{link:?}");
    assert!(link.timeouts >= 20, "{link:?}");
    // While open, calls fail at once: most of the fault's 10 s × 200/s.
    assert!(link.breaker_rejections > 1_500, "{link:?}");
    assert_eq!(report.failed, link.timeouts + link.breaker_rejections);
    // After the fault it closed again: the last 20 s all succeeded.
    assert!(
        report.requests as f64 > 0.95 * 200.0 * 30.0,
        "{}",
        report.requests
    );
}

#[test]
fn resilience_settings_are_checked() {
    let mut project = guarded(100.0, "1ms", link("front", "back"), 10);
    let l = &mut project.scenarios[0].links[0];
    l.mode = archbench::model::CallMode::Async;
    l.timeout = Some(TimeSpan::ZERO);
    l.breaker = Some(Breaker {
        failure_ratio: 1.5,
        window: TimeSpan::ZERO,
        min_calls: 0,
        open_for: TimeSpan::from_secs_f64(1.0),
        probes: 1,
    });
    let problems: Vec<String> = archbench::model::validate(&project)
        .iter()
        .map(ToString::to_string)
        .collect();
    let expect = [
        r#"link "front" -> "back" / timeout: an async call"#,
        r#"link "front" -> "back" / breaker: an async call"#,
        r#"link "front" -> "back" / timeout: a timeout must be longer than zero"#,
        "breaker / failure_ratio: a failure ratio must be above 0 and at most 1, got 1.5",
        "breaker / window: the window must be longer than zero",
        "breaker / min_calls: min_calls must be between 1",
    ];
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    for (problem, expected) in problems.iter().zip(expect) {
        assert!(problem.contains(expected), "{problem} ∌ {expected}");
    }
}

/// `project` with constant (not Poisson) arrivals that step from its rate to
/// `then` at `at_s`, run for `seconds` with nothing discarded.
fn stepped(
    mut project: archbench::model::Project,
    then: f64,
    at_s: f64,
    seconds: f64,
) -> archbench::model::Project {
    use archbench::model::{ArrivalProcess, Arrivals, RateChange, StopCondition};
    if let Arrivals::Open {
        process, profile, ..
    } = &mut project.workload.arrivals
    {
        *process = ArrivalProcess::Constant;
        profile.push(RateChange::Step {
            at: TimeSpan::from_secs_f64(at_s),
            rate_rps: then,
        });
    }
    project.run.stop = StopCondition::Duration(TimeSpan::from_secs_f64(seconds));
    project
}

#[test]
fn the_time_series_counts_each_interval() {
    // Requests every 10 ms, then every 2.5 ms from 5 s, each taking exactly
    // 1 ms of one worker: 100/s then 400/s; no queue; the worker busy 10%
    // then 40%; every latency 1 ms. The series, by hand.
    let project = stepped(
        open_project(100.0, vec![service("api", "1ms", 1)], vec![], 0),
        400.0,
        5.0,
        10.0,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    let series = &report.timeseries;
    assert_close!(series.interval_s, 1.0, 1e-12);
    assert_eq!(series.time_s.len(), 10, "{:?}", series.time_s);
    let api = &series.services[0];
    for i in 0..10 {
        let (rate, busy) = if i < 5 { (100.0, 0.1) } else { (400.0, 0.4) };
        // An interval may catch a request more or less at its edges, and
        // the arrival clock changes pace over the step's first gaps.
        let got = series.throughput_rps[i];
        assert_close!(got, rate, 0.01 * rate + 1.0, "interval {i}: {got}");
        assert_close!(
            api.utilization[i],
            busy,
            0.005,
            "{i}: {}",
            api.utilization[i]
        );
        assert!(api.queue_depth[i].abs() < 1e-12);
        assert_eq!(api.replicas[i], 1);
        assert!(series.errors_per_s[i].abs() < f64::EPSILON);
        assert_close!(series.p99_ms[i], 1.0, 0.011, "{}", series.p99_ms[i]);
    }
    // Every request is in exactly one interval.
    let total: f64 = series
        .throughput_rps
        .iter()
        .map(|r| r * series.interval_s)
        .sum();
    assert_close!(total, report.requests as f64, 1e-6, "{total}");
    assert!(!series.truncated);
}

/// A retry storm: front calls back (10 workers, exp 10 ms: 1,000/s at most,
/// a queue of 200) with a 100 ms timeout and 3 retries. 600 requests/s,
/// a spike to 1,500/s from 10 s to 15 s, then 600/s again until 60 s.
fn storm(guard: impl FnOnce(&mut Link)) -> archbench::model::Project {
    use archbench::model::{ArrivalProcess, Arrivals, QueueCapacity, RateChange, StopCondition};
    let mut back = service("back", "exp:10ms", 10);
    back.queue = QueueCapacity::Bounded(200);
    let mut call = Link {
        timeout: Some(TimeSpan::from_millis_f64(100.0)),
        retry: Some(Retry {
            max_retries: 3,
            backoff: TimeSpan::from_millis_f64(10.0),
            max_backoff: TimeSpan::from_millis_f64(100.0),
            jitter: Jitter::Full,
            budget: None,
        }),
        ..link("front", "back")
    };
    guard(&mut call);
    let mut project = open_project(
        600.0,
        vec![service("front", "100us", 10_000), back],
        vec![call],
        0,
    );
    if let Arrivals::Open {
        process, profile, ..
    } = &mut project.workload.arrivals
    {
        *process = ArrivalProcess::Poisson;
        profile.extend([
            RateChange::Step {
                at: TimeSpan::from_secs_f64(10.0),
                rate_rps: 1500.0,
            },
            RateChange::Step {
                at: TimeSpan::from_secs_f64(15.0),
                rate_rps: 600.0,
            },
        ]);
    }
    project.run.stop = StopCondition::Duration(TimeSpan::from_secs_f64(60.0));
    project
}

/// Mean goodput (successful requests per second) from `from_s` to `to_s`.
fn goodput(report: &archbench::stats::ScenarioReport, from_s: f64, to_s: f64) -> f64 {
    let s = &report.timeseries;
    let kept: Vec<f64> = s
        .time_s
        .iter()
        .zip(&s.throughput_rps)
        .filter(|(t, _)| **t > from_s && **t <= to_s)
        .map(|(_, r)| *r)
        .collect();
    kept.iter().sum::<f64>() / kept.len() as f64
}

#[test]
fn a_retry_storm_stays_collapsed_after_the_spike_unless_retries_are_capped() {
    // Metastable failure: before the spike the system is healthy at 60%
    // load. The spike fills the queue past the timeout, so attempts time out
    // while the callee still does them, and every timeout brings a retry:
    // the callee now sees up to 4 × 600/s, far over its 1,000/s, and stays
    // overloaded after the spike ends. A retry budget (10%) or a breaker
    // takes the extra load away, and the system recovers.
    let plain = simulate_scenario(&storm(|_| {}), 0).unwrap();
    let budget = simulate_scenario(
        &storm(|l| {
            l.retry.as_mut().unwrap().budget = Some(RetryBudget {
                ratio: 0.1,
                min_per_second: 1.0,
            });
        }),
        0,
    )
    .unwrap();
    let breaker = simulate_scenario(
        &storm(|l| {
            l.breaker = Some(Breaker {
                failure_ratio: 0.5,
                window: TimeSpan::from_secs_f64(2.0),
                min_calls: 20,
                open_for: TimeSpan::from_secs_f64(1.0),
                probes: 5,
            });
        }),
        0,
    )
    .unwrap();
    for (label, report) in [
        ("plain", &plain),
        ("budget", &budget),
        ("breaker", &breaker),
    ] {
        let before = goodput(report, 2.0, 10.0);
        assert_close!(before, 600.0, 30.0, "{label}: {before} before the spike");
        assert!(!report.saturated, "{label}");
    }
    let after = |r| goodput(r, 40.0, 60.0);
    assert!(
        after(&plain) < 0.2 * 600.0,
        "the storm goes on: {}",
        after(&plain)
    );
    assert!(
        plain.links[0].retries > plain.services[0].arrivals,
        "{:?}",
        plain.links[0]
    );
    for (label, report) in [("budget", &budget), ("breaker", &breaker)] {
        let recovered = after(report);
        assert_close!(recovered, 600.0, 30.0, "{label}: {recovered}");
    }
    // The budget lets retries spend at most 0.1 per first attempt plus 1 a
    // second over any ten seconds; over the run's six disjoint ten-second
    // windows that bounds them by 0.1 × first attempts + 60. The storm asks
    // for far more, so the bound binds and retries are denied.
    let link = &budget.links[0];
    let firsts = link.attempts - link.retries;
    assert!(
        link.retries as f64 <= 0.1 * firsts as f64 + 60.0,
        "{link:?}"
    );
    assert!(link.budget_denials > 0, "{link:?}");
    // Each retry, made or denied, follows an attempt that failed or timed
    // out (a call's last failed attempt asks for none, hence ≤).
    assert!(
        link.retries + link.budget_denials <= link.timeouts + link.failures,
        "{link:?}"
    );
    // The breaker opened in the spike and failed calls at once while open;
    // each opening lasts 1 s, in which at most the offered 1,500/s plus their
    // retries (×4) arrive, so it cannot have refused more than that.
    let link = &breaker.links[0];
    assert!(link.breaker_opened > 0, "{link:?}");
    assert!(link.breaker_rejections > 0, "{link:?}");
    assert!(
        link.breaker_rejections <= link.breaker_opened * 4 * 1_500 * 11 / 10,
        "{link:?}"
    );
}

/// A model server with one worker (a GPU), batching up to 8 requests and
/// waiting at most 5 ms; a batch of n takes 1 ms + n × 0.5 ms.
fn gpu(batching: bool) -> archbench::model::Service {
    let mut gpu = service("gpu", "1ms", 1);
    if batching {
        gpu.batching = Some(Batching {
            max_batch: 8,
            max_wait: TimeSpan::from_millis_f64(5.0),
            per_item: TimeSpan::from_millis_f64(0.5),
        });
    } else {
        // The same work one request at a time: 1.5 ms each.
        gpu.service_time = "1500us".parse().unwrap();
    }
    gpu
}

#[test]
fn deterministic_arrivals_batch_as_computed_by_hand() {
    // A request every 2 ms. The first waits its 5 ms (arriving at 2, due at
    // 7) while two more arrive; the batch of 3 runs 2.5 ms; the next request
    // finds the GPU busy and starts the next 5 ms wait. So every batch holds
    // 3 requests that waited 5, 3 and 1 ms: mean wait 3 ms, latency 5.5 ms,
    // at most 7.5 ms, and the GPU is busy 2.5 of every 6 ms.
    use archbench::model::ArrivalProcess;
    let mut project = open_project(500.0, vec![gpu(true)], vec![], 30_000);
    if let archbench::model::Arrivals::Open { process, .. } = &mut project.workload.arrivals {
        *process = ArrivalProcess::Constant;
    }
    let report = simulate_scenario(&project, 0).unwrap();
    let gpu = &report.services[0];
    let batches = gpu.batching.as_ref().unwrap();
    assert_eq!(batches.by_size.len(), 8);
    let others: u64 = batches
        .by_size
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, n)| n)
        .sum();
    assert!(others <= 1, "{batches:?}");
    assert_close!(batches.mean_size, 3.0, 1e-3, "{batches:?}");
    assert_close!(gpu.wait_ms.mean, 3.0, 0.01, "{:?}", gpu.wait_ms);
    assert_close!(report.latency_ms.mean, 5.5, 0.01, "{:?}", report.latency_ms);
    assert_close!(report.latency_ms.max, 7.5, 0.01, "{:?}", report.latency_ms);
    assert_close!(gpu.utilization, 2.5 / 6.0, 0.002, "{}", gpu.utilization);
}

#[test]
fn batching_raises_throughput_at_high_load_and_costs_up_to_the_wait_at_low_load() {
    // At 1,000 requests/s one at a time needs 1.5 requests' worth of GPU
    // per request-time: it saturates. Batches of up to 8 take 5 ms for 8
    // (1,600/s at most), so it keeps up.
    let run = |rate: f64, batching: bool| {
        let project = open_project(rate, vec![gpu(batching)], vec![], 50_000);
        simulate_scenario(&project, 0).unwrap()
    };
    let single = run(1000.0, false);
    let batched = run(1000.0, true);
    assert!(single.saturated, "one at a time cannot keep up");
    assert!(!batched.saturated);
    assert_close!(
        batched.throughput_rps,
        1000.0,
        20.0,
        "{}",
        batched.throughput_rps
    );
    assert!(batched.services[0].batching.as_ref().unwrap().mean_size > 2.0);
    // At 20/s a request rarely has company: it waits out most of the 5 ms.
    let single = run(20.0, false);
    let batched = run(20.0, true);
    let cost = batched.latency_ms.mean - single.latency_ms.mean;
    assert!(cost > 4.0 && cost <= 5.0, "{cost}");
    assert!(batched.latency_ms.max <= 5.0 + 1.0 + 8.0 * 0.5 + 0.01);
}

/// A service of 10 ms requests, one worker per replica, autoscaled to 60%
/// every 5 s with a 10 s cold start, under Poisson load that steps from
/// 100/s to 400/s at 30 s.
fn autoscaled() -> archbench::model::Project {
    use archbench::model::{ArrivalProcess, Arrivals, Autoscale};
    let mut api = service("api", "10ms", 1);
    api.replicas = 2;
    api.autoscale = Some(Autoscale {
        target_utilization: 0.6,
        min_replicas: 1,
        max_replicas: 20,
        interval: TimeSpan::from_secs_f64(5.0),
        cold_start: TimeSpan::from_secs_f64(10.0),
    });
    let mut project = stepped(open_project(100.0, vec![api], vec![], 0), 400.0, 30.0, 90.0);
    if let Arrivals::Open { process, .. } = &mut project.workload.arrivals {
        *process = ArrivalProcess::Poisson;
    }
    project
}

#[test]
fn an_autoscaler_reaches_the_new_count_within_interval_plus_cold_start() {
    // 100/s × 10 ms is 1 worker of work: at 60%, 2 replicas (1/0.6 = 1.67).
    // 400/s is 4 workers: 7 replicas (6.67). The step at 30 s is seen by
    // the decision at 35 s; five replicas start, and serve from 45 s:
    // interval + cold start after the step.
    let report = simulate_scenario(&autoscaled(), 0).unwrap();
    let series = &report.timeseries;
    let replicas = &series.services[0].replicas;
    let at = |t: f64| {
        let k = series
            .time_s
            .iter()
            .position(|s| (*s - t).abs() < 1e-9)
            .unwrap();
        replicas[k]
    };
    for t in [5.0, 10.0, 20.0, 30.0, 35.0, 40.0, 45.0] {
        assert_eq!(at(t), 2, "at {t} s: {replicas:?}");
    }
    for t in [46.0, 50.0, 60.0, 90.0] {
        assert_eq!(at(t), 7, "at {t} s: {replicas:?}");
    }
    // The cold start shows: two replicas carry 200/s of the 400/s, so the
    // backlog and the p99 climb until the new ones serve, then drain.
    let p99 = |t: f64| {
        series.p99_ms[series
            .time_s
            .iter()
            .position(|s| (*s - t).abs() < 1e-9)
            .unwrap()]
    };
    assert!(
        p99(44.0) > 100.0 * p99(20.0),
        "{} vs {}",
        p99(44.0),
        p99(20.0)
    );
    assert!(
        p99(88.0) < 3.0 * p99(20.0),
        "{} vs {}",
        p99(88.0),
        p99(20.0)
    );
    assert!(
        !report.saturated,
        "a backlog the autoscaler will clear is not saturation"
    );
    // Utilisation is over the serving replicas. Each replica queues its own
    // requests, so the backlog sits with the two old ones: they stay busy
    // (serving 100/s, receiving 400/7) until it is gone, about 80 s, and
    // the seven then settle at 4/7 busy.
    let utilization = &series.services[0].utilization;
    let draining = utilization[50..75].iter().sum::<f64>() / 25.0;
    assert_close!(draining, (2.0 + 5.0 * 4.0 / 7.0) / 7.0, 0.03, "{draining}");
    let settled = utilization[82..90].iter().sum::<f64>() / 8.0;
    assert_close!(settled, 4.0 / 7.0, 0.04, "{settled}");
}

#[test]
fn autoscale_and_batching_settings_are_checked() {
    let mut project = autoscaled();
    let api = &mut project.scenarios[0].services[0];
    api.replicas = 30;
    if let Some(scale) = &mut api.autoscale {
        scale.target_utilization = 0.0;
        scale.min_replicas = 21;
    }
    api.batching = Some(Batching {
        max_batch: 0,
        max_wait: TimeSpan::ZERO,
        per_item: TimeSpan::ZERO,
    });
    let problems: Vec<String> = archbench::model::validate(&project)
        .iter()
        .map(ToString::to_string)
        .collect();
    let expect = [
        "autoscale / target_utilization: the target utilisation must be above 0",
        "autoscale / min_replicas: min_replicas (up to max_replicas) must be between 1 and 20, got 21",
        "service \"api\" / replicas: the replicas at the start (30) must be between",
        "batching / max_batch: max_batch must be between 1 and 4096, got 0",
    ];
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    for (problem, expected) in problems.iter().zip(expect) {
        assert!(problem.contains(expected), "{problem} ∌ {expected}");
    }
}

#[test]
fn consumers_pulling_from_one_queue_are_an_m_m_c_queue() {
    // Three replicas of one worker pulling from one queue: M/M/3 with
    // λ = 240/s, 1/μ = 10 ms (a = 2.4, ρ = 0.8). Erlang C: P(wait) =
    // 0.6472, mean wait C / (cμ − λ) = 10.787 ms. Pushing round robin to
    // per-replica queues waits longer.
    use archbench::model::Balancer;
    let erlang_c_wait_ms = {
        let (a, c) = (2.4_f64, 3.0);
        let head: f64 = 1.0 + a + a * a / 2.0;
        let tail = a.powi(3) / 6.0 / (1.0 - a / c);
        tail / (head + tail) / (300.0 - 240.0) * 1e3
    };
    assert_close!(erlang_c_wait_ms, 10.787, 0.01, "{erlang_c_wait_ms}");
    let project = |balancer| {
        let mut consumers = service("consumers", "exp:10ms", 1);
        consumers.replicas = 3;
        consumers.balancer = balancer;
        open_project(240.0, vec![consumers], vec![], 100_000)
    };
    let runs = replicate(&project(Balancer::Pull), 20);
    let wait = each(&runs, |r| r.services[0].wait_ms.mean);
    crate::support::assert_theory("pull M/M/3 mean wait", &wait, erlang_c_wait_ms, 0.04);
    // Pushed round robin, each replica is E3/M/1 at 80/s with μ = 100/s:
    // σ = (240 / (240 + 100 (1 − σ)))³ = 0.710934 and the wait is
    // σ / (μ (1 − σ)) = 24.594 ms, over twice the shared queue's.
    let sigma = crate::support::erlang_k_m1_sigma(3, 80.0, 100.0);
    let pushed_ms = sigma / (100.0 * (1.0 - sigma)) * 1e3;
    let runs = replicate(&project(Balancer::RoundRobin), 20);
    let wait = each(&runs, |r| r.services[0].wait_ms.mean);
    crate::support::assert_theory("round robin E3/M/1 mean wait", &wait, pushed_ms, 0.05);
}

#[test]
fn the_lag_of_consumers_that_fall_behind_grows_with_time() {
    // A message every 5 ms, consumed in 10 ms by one worker: the backlog
    // grows by 100 a second, and at time t the oldest waiting message is
    // the one that arrived at about t/2: the lag is t/2.
    let mut project = stepped(
        open_project(200.0, vec![service("consumer", "10ms", 1)], vec![], 0),
        200.0,
        1.0,
        20.0,
    );
    project.run.interval = TimeSpan::from_secs_f64(2.0);
    let report = simulate_scenario(&project, 0).unwrap();
    let series = &report.timeseries;
    for (t, lag) in series.time_s.iter().zip(&series.services[0].lag_s) {
        assert_close!(*lag, t / 2.0, 0.02, "at {t} s the lag is {lag}");
    }
    assert_eq!(series.time_s.len(), 10);
}

#[test]
fn a_crashed_replica_fails_its_requests_until_it_restarts() {
    // One replica, a request every 10 ms taking 1 ms. It crashes at 10 s and
    // serves again at 12 s: the 200 requests of those two seconds find no
    // replica and fail (errors 100/s in both intervals), and the series
    // shows no replica serving.
    use archbench::model::Crash;
    let mut api = service("api", "1ms", 1);
    api.crashes = vec![Crash {
        at: TimeSpan::from_secs_f64(10.0),
        replica: 0,
        restart_after: TimeSpan::from_secs_f64(2.0),
    }];
    let project = stepped(open_project(100.0, vec![api], vec![], 0), 100.0, 1.0, 20.0);
    let report = simulate_scenario(&project, 0).unwrap();
    assert!((199..=202).contains(&report.failed), "{}", report.failed);
    assert_eq!(report.services[0].crash_failures, report.failed);
    let s = &report.timeseries;
    let at = |t: f64| s.time_s.iter().position(|x| (*x - t).abs() < 1e-9).unwrap();
    for t in [11.0, 12.0] {
        assert_close!(
            s.errors_per_s[at(t)],
            100.0,
            1.0,
            "{t}: {}",
            s.errors_per_s[at(t)]
        );
        assert_eq!(s.services[0].replicas[at(t)], 0);
    }
    assert_eq!(s.services[0].replicas[at(13.0)], 1);
    assert!(s.errors_per_s[at(14.0)].abs() < 1e-9);

    // Two replicas round robin, one crashes: the other takes all the
    // traffic, and only the request the crash caught fails.
    let mut project = project;
    project.scenarios[0].services[0].replicas = 2;
    project.scenarios[0].services[0].service_time = "9ms".parse().unwrap();
    let report = simulate_scenario(&project, 0).unwrap();
    assert!(report.failed <= 1, "{}", report.failed);
    let s = &report.timeseries;
    assert_eq!(s.services[0].replicas[at(11.0)], 1);
    assert_close!(s.services[0].utilization[at(11.0)], 0.9, 0.01);
}

#[test]
fn crash_and_interval_settings_are_checked() {
    use archbench::model::Crash;
    let mut project = guarded(100.0, "1ms", link("front", "back"), 10);
    project.run.interval = TimeSpan::ZERO;
    project.scenarios[0].services[1].crashes = vec![Crash {
        at: TimeSpan::from_secs_f64(1.0),
        replica: 3,
        restart_after: TimeSpan::from_secs_f64(1.0),
    }];
    let problems: Vec<String> = archbench::model::validate(&project)
        .iter()
        .map(ToString::to_string)
        .collect();
    let expect = [
        "run / interval: the interval must be longer than zero",
        r#"service "back" / crashes / 0 / replica: replica 3 does not exist: the service has replicas 0 to 0"#,
    ];
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    for (problem, expected) in problems.iter().zip(expect) {
        assert!(problem.contains(expected), "{problem} ∌ {expected}");
    }
}
