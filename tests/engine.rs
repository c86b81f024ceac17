//! Engine behaviour beyond the textbook queues: saturation verdicts, stepping
//! and cancelling, blocking versus async I/O, balancers, call counts, async
//! calls, network time, closed workloads, rate profiles and class mixes.

use std::sync::atomic::AtomicBool;

use crate::support::simulate_scenario;
use archbench::model::{
    ArrivalProcess, Arrivals, Balancer, IoModel, Link, QueueCapacity, RateChange, RequestClass,
    StopCondition, TimeSpan,
};
use archbench::sim::{Budget, SimError, SimTime, Simulation};

use crate::support::{
    assert_theory, async_link, dist, each, link, open_project, replicate, service, single_station,
};

fn seconds(s: f64) -> TimeSpan {
    TimeSpan::from_secs_f64(s)
}

#[test]
fn overload_ends_early_with_a_saturated_verdict() {
    // ρ = 1.2: the queue grows by 200 requests a second forever. A one-hour
    // run must stop on its own long before, naming the service.
    let mut project = single_station(1200.0, "exp:1ms", 1, QueueCapacity::Unbounded, 1);
    project.run.stop = StopCondition::Duration(seconds(3600.0));
    let report = simulate_scenario(&project, 0).unwrap();
    assert!(report.saturated);
    assert_eq!(report.saturated_service.as_deref(), Some("server"));
    assert!(
        report.measured_s < 600.0,
        "stopped early: {}",
        report.measured_s
    );
}

#[test]
fn stable_heavy_load_is_not_called_saturated() {
    let mut project = single_station(970.0, "exp:1ms", 1, QueueCapacity::Unbounded, 1);
    project.run.stop = StopCondition::Duration(seconds(2000.0));
    let report = simulate_scenario(&project, 0).unwrap();
    assert!(!report.saturated, "ρ = 0.97 is stable");
}

#[test]
fn the_bottleneck_is_named_below_blocked_callers() {
    // front (blocking, 64 workers) -> middle (blocking, 64 workers) -> slow
    // (async, 1 worker, 1 ms). At 1,100 rps only `slow` lacks capacity; the
    // blocked callers above it fill up too but are not the cause.
    let mut front = service("front", "100us", 64);
    front.io = IoModel::Blocking;
    let mut middle = service("middle", "100us", 64);
    middle.io = IoModel::Blocking;
    let mut project = open_project(
        1100.0,
        vec![
            front,
            middle,
            service("slow", "exp:1ms", 1),
            service("idle", "exp:1ms", 4),
        ],
        vec![
            link("front", "middle"),
            link("middle", "slow"),
            link("front", "idle"),
        ],
        1,
    );
    project.run.stop = StopCondition::Duration(seconds(600.0));
    let report = simulate_scenario(&project, 0).unwrap();
    assert!(report.saturated);
    assert_eq!(report.saturated_service.as_deref(), Some("slow"));
}

#[test]
fn stepping_gives_the_same_result_as_running_through() {
    let _cpu = crate::support::cpu_heavy();
    let mut project = single_station(800.0, "exp:1ms", 2, QueueCapacity::Unbounded, 1);
    project.run.stop = StopCondition::Duration(seconds(50.0));
    project.run.replications = 3;
    let whole = Simulation::new(&project, 0)
        .unwrap()
        .run(&AtomicBool::new(false))
        .unwrap();

    let mut stepped = Simulation::new(&project, 0).unwrap();
    let mut last = 0.0;
    let mut slices = 0;
    while !stepped.step(Budget::Events(997)) {
        let progress = stepped.progress();
        assert!(progress >= last && progress <= 1.0, "{last} -> {progress}");
        last = progress;
        slices += 1;
    }
    assert!(slices > 100);
    assert_close!(stepped.progress(), 1.0, 1e-12);
    let stepped = stepped.report();
    assert_eq!(stepped.requests, whole.requests);
    assert_eq!(stepped.latency, whole.latency);
}

#[test]
fn a_time_budget_stops_at_that_simulated_time() {
    let _cpu = crate::support::cpu_heavy();
    let mut project = single_station(100.0, "exp:1ms", 1, QueueCapacity::Unbounded, 1);
    project.run.stop = StopCondition::Duration(seconds(100.0));
    let mut sim = Simulation::new(&project, 0).unwrap();
    assert!(!sim.step(Budget::Until(SimTime(10_000_000_000))));
    assert!(sim.now() <= SimTime(10_000_000_000));
    assert!(sim.now() > SimTime(9_000_000_000), "{}", sim.now());
    assert_close!(sim.progress(), 0.1, 0.01, "{}", sim.progress());
}

#[test]
fn cancelling_a_running_simulation_returns_cancelled() {
    // A run of 10⁸ requests (a minute or more of CPU), cancelled from
    // another thread once it is under way: the flag is clear when the run
    // starts, so only a run that looks at it between slices stops early
    // (one that does not would finish with a report).
    let mut project = single_station(100.0, "exp:1ms", 1, QueueCapacity::Unbounded, 1);
    project.run.stop = StopCondition::Duration(seconds(1e6));
    let cancel = AtomicBool::new(false);
    let sim = Simulation::new(&project, 0).unwrap();
    let _cpu = crate::support::cpu_heavy();
    let result = std::thread::scope(|scope| {
        let run = scope.spawn(|| sim.run(&cancel));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!run.is_finished(), "the run is under way");
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        run.join().unwrap()
    });
    assert!(matches!(result, Err(SimError::Cancelled)), "{result:?}");
}

#[test]
fn utilisation_counts_blocked_time_only_under_blocking_io() {
    // Utilisation = λ · E[worker holding time] / workers (Little's law on
    // the workers). Async: holding = own work = 2 ms. Blocking: own work
    // plus the downstream response time.
    for io in [IoModel::Async, IoModel::Blocking] {
        let mut caller = service("caller", "exp:2ms", 8);
        caller.io = io;
        let project = open_project(
            1000.0,
            vec![caller, service("callee", "exp:1ms", 2)],
            vec![link("caller", "callee")],
            200_000,
        );
        let report = simulate_scenario(&project, 0).unwrap();
        let (caller, downstream) = (&report.services[0], &report.services[1]);
        let holding_ms = match io {
            IoModel::Async => caller.service_time_ms,
            IoModel::Blocking => caller.service_time_ms + downstream.response_ms.mean,
        };
        let expected = caller.throughput_rps * holding_ms / 1e3 / 8.0;
        assert_close!(
            caller.utilization / expected,
            1.0,
            0.01,
            "{io:?}: utilisation {} vs λ·E[hold]/c = {expected}",
            caller.utilization
        );
    }
}

#[test]
fn random_balancing_splits_poisson_traffic_into_independent_mm1s() {
    // Random routing thins a Poisson stream into Poisson streams, so four
    // replicas behind a random balancer are four M/M/1 queues at λ/4:
    // λ = 3200/s, μ = 1000/s, mean = 1/(1000 − 800) = 5 ms.
    let mut s = service("server", "exp:1ms", 1);
    s.replicas = 4;
    s.balancer = Balancer::Random;
    let project = open_project(3200.0, vec![s], Vec::new(), 300_000);
    let means = each(&replicate(&project, 20), |r| r.latency_ms.mean);
    assert_theory("random balancer", &means, 5.0, 0.03);
}

#[test]
fn round_robin_makes_each_replica_an_erlang_queue() {
    // Four replicas of exp:1ms at 3,400/s in all: each sees every fourth
    // arrival, an E4/M/1 queue at 850/s. σ = (3400 / (3400 + 1000 (1 − σ)))⁴
    // gives σ = 0.767669, so the response time is exponential with rate
    // 1000 (1 − σ): mean 4.304203 ms, p99 ln 100 × that = 19.821588 ms.
    let sigma = crate::support::erlang_k_m1_sigma(4, 850.0, 1000.0);
    assert_close!(sigma, 0.767_669, 1e-6);
    let mean_ms = 1e3 / (1000.0 * (1.0 - sigma));
    assert_close!(mean_ms, 4.304_203, 1e-6);
    let mut s = service("server", "exp:1ms", 1);
    s.replicas = 4;
    s.balancer = Balancer::RoundRobin;
    let mut project = open_project(3400.0, vec![s], Vec::new(), 300_000);
    project.run.warmup = Some(seconds(1.0));
    let runs = replicate(&project, 20);
    let means = each(&runs, |r| r.latency_ms.mean);
    assert_theory("round robin E4/M/1 mean", &means, mean_ms, 0.03);
    let p99 = each(&runs, |r| r.latency_ms.p99);
    assert_theory("round robin E4/M/1 p99", &p99, mean_ms * 100f64.ln(), 0.05);
}

#[test]
fn smarter_balancers_cut_the_wait() {
    // No closed form for these with four replicas; the order is known:
    // looking at two queues beats looking at none (random), and looking at
    // all beats two.
    let mean_for = |balancer| {
        let mut s = service("server", "exp:1ms", 1);
        s.replicas = 4;
        s.balancer = balancer;
        let project = open_project(3400.0, vec![s], Vec::new(), 300_000);
        simulate_scenario(&project, 0).unwrap().latency_ms.mean
    };
    let random = mean_for(Balancer::Random);
    let two_choices = mean_for(Balancer::PowerOfTwoChoices);
    let least = mean_for(Balancer::LeastOutstanding);
    // Random: four M/M/1 at 850/s, 1 / (1000 − 850) = 6.667 ms.
    assert_close!(random / (1e3 / 150.0), 1.0, 0.05, "random {random}");
    assert!(
        two_choices < 0.6 * random,
        "p2c {two_choices} vs random {random}"
    );
    assert!(least < two_choices, "least {least} vs p2c {two_choices}");
}

#[test]
fn call_counts_multiply_downstream_traffic() {
    let sequential = Link {
        count: 3,
        ..link("api", "db")
    };
    let project = open_project(
        100.0,
        vec![service("api", "0ms", 100), service("db", "1ms", 100)],
        vec![sequential],
        20_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    let db = &report.services[1];
    assert_eq!(db.arrivals, 3 * report.services[0].arrivals);
    // Three sequential 1 ms calls with no queueing: exactly 3 ms.
    assert_close!(
        report.latency_ms.mean,
        3.0,
        0.01,
        "{}",
        report.latency_ms.mean
    );

    let parallel = Link {
        count: 3,
        parallel_group: Some("all".into()),
        ..link("api", "db")
    };
    let project = open_project(
        100.0,
        vec![service("api", "0ms", 100), service("db", "1ms", 100)],
        vec![parallel],
        20_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    assert_close!(
        report.latency_ms.mean,
        1.0,
        0.01,
        "{}",
        report.latency_ms.mean
    );
}

#[test]
fn network_latency_is_a_round_trip_per_call() {
    let slow_link = Link {
        latency: dist("4ms"),
        ..link("api", "db")
    };
    let project = open_project(
        50.0,
        vec![service("api", "1ms", 100), service("db", "2ms", 100)],
        vec![slow_link],
        5_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    // 1 ms own work + 4 ms round trip + 2 ms at db; db's own response is 2 ms.
    assert_close!(
        report.latency_ms.mean,
        7.0,
        0.01,
        "{}",
        report.latency_ms.mean
    );
    assert_close!(report.services[1].response_ms.mean, 2.0, 0.01);
}

#[test]
fn async_calls_do_not_delay_the_caller() {
    let project = open_project(
        100.0,
        vec![service("api", "1ms", 100), service("audit", "50ms", 100)],
        vec![async_link("api", "audit")],
        20_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    assert_close!(
        report.latency_ms.mean,
        1.0,
        0.01,
        "{}",
        report.latency_ms.mean
    );
    let audit = &report.services[1];
    assert_close!(audit.throughput_rps / report.throughput_rps, 1.0, 0.02);
}

#[test]
fn rejections_downstream_fail_the_request() {
    // db has one worker and no waiting room: M/M/1/1 with ρ = 1 rejects half.
    let mut db = service("db", "exp:1ms", 1);
    db.queue = QueueCapacity::Bounded(0);
    let project = open_project(
        1000.0,
        vec![service("api", "0ms", 1000), db],
        vec![link("api", "db")],
        200_000,
    );
    let report = simulate_scenario(&project, 0).unwrap();
    let share = report.failed as f64 / (report.failed + report.requests) as f64;
    assert_close!(share, 0.5, 0.01, "{share}");
    assert_eq!(report.failed, report.services[1].rejected);
}

#[test]
fn closed_workload_obeys_the_response_time_law() {
    // N users, think time Z: throughput X = N / (Z + R) exactly, on average.
    let mut project = single_station(1.0, "exp:2ms", 1, QueueCapacity::Unbounded, 200_000);
    project.workload.arrivals = Arrivals::Closed {
        users: 20,
        think_time: dist("exp:50ms"),
    };
    let report = simulate_scenario(&project, 0).unwrap();
    let r = report.latency_ms.mean / 1e3;
    let expected = 20.0 / (0.050 + r);
    assert_close!(
        report.throughput_rps / expected,
        1.0,
        0.01,
        "X {} vs N/(Z+R) {expected}",
        report.throughput_rps
    );
    assert!(!report.saturated, "a closed system cannot run away");
}

#[test]
fn rate_profiles_shape_the_arrivals() {
    // Constant spacing makes counts exact: 100/s for 30 s, then 300/s for
    // 30 s, then a ramp from 300/s to 0 over 30 s (4,500 more).
    let mut project = single_station(100.0, "10us", 1, QueueCapacity::Unbounded, 1);
    let Arrivals::Open {
        process, profile, ..
    } = &mut project.workload.arrivals
    else {
        unreachable!()
    };
    *process = ArrivalProcess::Constant;
    *profile = vec![
        RateChange::Step {
            at: seconds(30.0),
            rate_rps: 300.0,
        },
        RateChange::Ramp {
            from: seconds(60.0),
            to: seconds(90.0),
            rate_rps: 0.0,
        },
    ];
    project.run.stop = StopCondition::Duration(seconds(120.0));
    let report = simulate_scenario(&project, 0).unwrap();
    let total = (report.requests + report.failed) as f64;
    assert_close!(total, 16_500.0, 3.0, "{total}");

    // Poisson thinning gives the same expectation; 16,500 ± 3σ (σ ≈ 128).
    let Arrivals::Open { process, .. } = &mut project.workload.arrivals else {
        unreachable!()
    };
    *process = ArrivalProcess::Poisson;
    let report = simulate_scenario(&project, 0).unwrap();
    let total = (report.requests + report.failed) as f64;
    assert_close!(total, 16_500.0, 385.0, "{total}");
}

#[test]
fn class_mix_follows_the_weights() {
    let mut project = open_project(
        500.0,
        vec![service("web", "exp:1ms", 4), service("api", "exp:1ms", 4)],
        Vec::new(),
        100_000,
    );
    project.workload.classes = vec![
        RequestClass {
            name: "browse".into(),
            weight: 3.0,
            entry: "web".into(),
            tokens: None,
        },
        RequestClass {
            name: "call".into(),
            weight: 1.0,
            entry: "api".into(),
            tokens: None,
        },
    ];
    let report = simulate_scenario(&project, 0).unwrap();
    let browse = report.classes[0].requests as f64 / report.requests as f64;
    // Binomial share 0.75 with n = 100,000: σ = 0.0014.
    assert_close!(browse, 0.75, 0.006, "{browse}");
    // Each measured browse request entered at web; a few are still in flight at the stop.
    assert!(
        report.services[0]
            .arrivals
            .abs_diff(report.classes[0].requests)
            < 50
    );
}

#[test]
fn warmup_is_discarded() {
    let mut project = single_station(100.0, "1ms", 1, QueueCapacity::Unbounded, 1);
    project.run.stop = StopCondition::Duration(seconds(10.0));
    project.run.warmup = Some(seconds(90.0));
    let report = simulate_scenario(&project, 0).unwrap();
    assert_close!(report.measured_s, 10.0, 1e-9);
    // About 1,000 requests in the 10 s measured, not the 10,000 simulated.
    assert!(report.requests < 1_200, "{}", report.requests);
}

#[test]
fn a_fan_out_explosion_is_stopped_at_the_in_flight_cap() {
    // Every request makes 1,000 × 1,000 × 1,000 calls in zero time, ending at
    // one slow worker: the run must end at once, as saturated at that worker,
    // instead of filling memory with a billion calls (one event creates a
    // thousand, so the cap is enforced when a call is made).
    let fan = |from: &str, to: &str| Link {
        count: 1000,
        parallel_group: Some("all".into()),
        ..link(from, to)
    };
    let mut project = open_project(
        100.0,
        vec![
            service("a", "0ms", 1_000_000),
            service("b", "0ms", 1_000_000),
            service("c", "0ms", 1_000_000),
            service("d", "1ms", 1),
        ],
        vec![fan("a", "b"), fan("b", "c"), fan("c", "d")],
        1,
    );
    project.run.stop = StopCondition::Duration(seconds(600.0));
    let report = simulate_scenario(&project, 0).unwrap();
    assert!(report.saturated);
    assert_eq!(report.saturated_service.as_deref(), Some("d"));
    assert!(report.measured_s < 1.0, "{}", report.measured_s);
}

/// When the plan cannot know the offered load (here a rate limiter, far
/// above the traffic, makes the service "not plain"), a slight overload is
/// still found by the backlog growing faster than √n: at ρ = 1.02 the
/// backlog grows by 0.02 n, past 20 √n after 10^6 arrivals. Before, growth
/// had to exceed 5% of arrivals, so ρ = 1.02 was never saturated.
#[test]
fn a_slight_overload_the_plan_cannot_see_is_found_by_its_growing_backlog() {
    let limited = |rate: f64, service_time: &str, requests: u64| {
        let mut project = single_station(rate, service_time, 1, QueueCapacity::Unbounded, requests);
        project.scenarios[0].services[0].rate_limit = Some(archbench::model::RateLimit {
            rate: 1e9,
            burst: 1_000_000,
        });
        project
    };
    let report = simulate_scenario(&limited(1020.0, "exp:1ms", 3_000_000), 0).unwrap();
    assert!(report.saturated, "ρ = 1.02 with 3 M requests");
    assert!(
        report.measured_s < 2_900.0,
        "saturation ends the run early: {} s",
        report.measured_s
    );
    // A bursty but stable queue (gamma service times with a squared
    // coefficient of variation of 4, ρ = 0.97, mean queue 78) fluctuates
    // widely but never grows: it is not saturated.
    let report = simulate_scenario(&limited(970.0, "gamma:1ms,shape=0.25", 3_000_000), 0).unwrap();
    assert!(!report.saturated, "ρ = 0.97 is stable");
}

/// A stable queue whose offered load the plan knows is never saturated,
/// however bursty: gamma service times with a squared coefficient of
/// variation of 10 at ρ = 0.99 (mean queue 539, swings of thousands).
#[test]
fn a_bursty_queue_just_below_capacity_is_never_saturated() {
    for seed in [1, 2, 3] {
        let mut project = single_station(
            990.0,
            "gamma:1ms,shape=0.1",
            1,
            QueueCapacity::Unbounded,
            1_000_000,
        );
        project.run.seed = seed;
        let report = simulate_scenario(&project, 0).unwrap();
        assert!(!report.saturated, "seed {seed}: ρ = 0.99 is stable");
    }
}

/// A latency beyond a day is reported as it is (it was clamped to 24 h):
/// one request at a time through a constant 48 h service.
#[test]
fn latencies_beyond_a_day_are_reported_whole() {
    let mut project = single_station(1.0, "48h", 1, QueueCapacity::Unbounded, 3);
    project.workload.arrivals = Arrivals::Closed {
        users: 1,
        think_time: dist("0ms"),
    };
    project.run.warmup = Some(TimeSpan::ZERO);
    let report = simulate_scenario(&project, 0).unwrap();
    let two_days_ms = 48.0 * 3600.0 * 1e3;
    for (what, value) in [
        ("mean", report.latency_ms.mean),
        ("p99", report.latency_ms.p99),
        ("max", report.latency_ms.max),
    ] {
        assert_close!(
            value / two_days_ms,
            1.0,
            1e-3,
            "{what} {value} ms, not 48 h"
        );
    }
}
