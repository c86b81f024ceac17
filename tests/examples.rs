//! The example projects teach what their header comments say: each claim,
//! checked against the simulation.

use archbench::model::{Arrivals, Project, file};
use archbench::stats::ScenarioReport;

fn example(name: &str) -> Project {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("projects")
        .join(name);
    file::load(&path).unwrap_or_else(|e| panic!("{e}")).project
}

fn at_rate(mut project: Project, rate: f64) -> Project {
    if let Arrivals::Open { rate_rps, .. } = &mut project.workload.arrivals {
        *rate_rps = rate;
    }
    project
}

fn run(project: &Project) -> Vec<ScenarioReport> {
    crate::support::simulate(project, None).unwrap().scenarios
}

/// The value of `series` at the interval ending at `t` seconds.
fn at(report: &ScenarioReport, series: &[f64], t: f64) -> f64 {
    let k = report
        .timeseries
        .time_s
        .iter()
        .position(|s| (*s - t).abs() < 1e-9)
        .unwrap_or_else(|| panic!("no interval ends at {t}"));
    series[k]
}

/// The mean of `series` over the intervals ending in (`from`, `to`].
fn mean(report: &ScenarioReport, series: &[f64], from: f64, to: f64) -> f64 {
    let kept: Vec<f64> = report
        .timeseries
        .time_s
        .iter()
        .zip(series)
        .filter(|(t, _)| **t > from && **t <= to)
        .map(|(_, v)| *v)
        .collect();
    kept.iter().sum::<f64>() / kept.len() as f64
}

#[test]
fn microservices_lose_at_low_load_and_win_near_the_limit() {
    let project = example("monolith-vs-microservices.ron");
    let low = run(&at_rate(project.clone(), 100.0));
    let (monolith, micro) = (&low[0], &low[1]);
    assert!(
        micro.latency_ms.p50 > monolith.latency_ms.p50 + 2.0,
        "the hops cost at low load: {} vs {}",
        micro.latency_ms.p50,
        monolith.latency_ms.p50
    );
    let near = run(&at_rate(project.clone(), 1300.0));
    assert!(
        near[1].latency_ms.p99 < 0.7 * near[0].latency_ms.p99,
        "the lower tail near the monolith's limit: {} vs {}",
        near[1].latency_ms.p99,
        near[0].latency_ms.p99
    );
    let past = run(&at_rate(project, 1450.0));
    assert!(past[0].saturated, "the monolith cannot carry 1,450/s");
    assert!(!past[1].saturated, "the microservices can");
}

#[test]
fn batching_is_what_lets_the_gpus_keep_up() {
    let reports = run(&example("recommendation.ron"));
    let (batched, single) = (&reports[0], &reports[1]);
    assert!(!batched.saturated && batched.slo_pass);
    assert!(single.saturated && !single.slo_pass);
    assert_eq!(single.saturated_service.as_deref(), Some("ranking"));
    let ranking = batched
        .services
        .iter()
        .find(|s| s.name == "ranking")
        .unwrap();
    assert!(ranking.batching.as_ref().unwrap().mean_size > 1.5);
    // The cache answers about 60%: the rest reach the candidates.
    let cache = &batched.services[1];
    let share = cache.cache_hits as f64 / cache.arrivals as f64;
    assert_close!(share, 0.6, 0.01, "{share}");
}

#[test]
fn the_training_pipeline_off_the_request_path_leaves_serving_alone() {
    let project = example("ml-platform.ron");
    let reports = run(&project);
    let (queued, crashed, inline) = (&reports[0], &reports[1], &reports[2]);
    // The same scenario with no pipeline at all: same arrivals, same draws.
    let mut alone = project.clone();
    alone.scenarios.truncate(1);
    alone.scenarios[0]
        .links
        .retain(|l| l.from == "api" && (l.to == "features" || l.to == "model"));
    let alone = &run(&alone)[0];
    let ratio = queued.latency_ms.p99 / alone.latency_ms.p99;
    assert_close!(ratio, 1.0, 0.01, "{ratio}");
    assert!(inline.latency_ms.p99 > 2.5 * queued.latency_ms.p99);
    assert!(!queued.saturated && !inline.saturated);
    // The consumers' backlog moves over time.
    let ingest = |r: &ScenarioReport| {
        r.timeseries
            .services
            .iter()
            .find(|s| s.name == "ingest")
            .unwrap()
            .clone()
    };
    let peak = ingest(queued)
        .queue_depth
        .iter()
        .copied()
        .fold(0.0, f64::max);
    assert!(peak > 5.0, "{peak}");
    // A consumer crash (40 s to 45 s) is lag, not serving latency.
    let ratio = crashed.latency_ms.p99 / queued.latency_ms.p99;
    assert_close!(ratio, 1.0, 0.01, "{ratio}");
    let lag = ingest(crashed).lag_s;
    assert!((1.0..4.0).contains(&at(crashed, &lag, 46.0)), "{lag:?}");
    assert!(
        at(crashed, &lag, 38.0) < 0.2 && at(crashed, &lag, 80.0) < 0.2,
        "{lag:?}"
    );
    let replicas: Vec<f64> = ingest(crashed)
        .replicas
        .iter()
        .map(|&n| f64::from(n))
        .collect();
    assert_close!(at(crashed, &replicas, 42.0), 1.0, 1e-9);
}

#[test]
fn the_retry_storm_outlives_its_spike_unless_capped() {
    let reports = run(&example("retry-storm.ron"));
    let goodput = |r: &ScenarioReport| mean(r, &r.timeseries.throughput_rps, 40.0, 60.0);
    assert!(goodput(&reports[0]) < 60.0, "{}", goodput(&reports[0]));
    for report in &reports[1..] {
        assert_close!(
            goodput(report),
            600.0,
            30.0,
            "{}: {}",
            report.scenario,
            goodput(report)
        );
    }
    for report in &reports {
        let before = mean(report, &report.timeseries.throughput_rps, 2.0, 10.0);
        assert_close!(before, 600.0, 30.0, "{before}");
    }
}

#[test]
fn a_cold_start_is_a_latency_spike_until_the_replicas_serve() {
    let reports = run(&example("autoscaling.ron"));
    let replicas = |r: &ScenarioReport| -> Vec<f64> {
        r.timeseries.services[1]
            .replicas
            .iter()
            .map(|&n| f64::from(n))
            .collect()
    };
    let (slow, fast, fixed) = (&reports[0], &reports[1], &reports[2]);
    // Decision at 70 s; serving from 100 s and from 75 s.
    assert_close!(at(slow, &replicas(slow), 100.0), 4.0, 1e-9);
    assert_close!(at(slow, &replicas(slow), 101.0), 10.0, 1e-9);
    assert_close!(at(fast, &replicas(fast), 76.0), 10.0, 1e-9);
    let peak = |r: &ScenarioReport| r.timeseries.p99_ms.iter().copied().fold(0.0, f64::max);
    assert!(peak(slow) > 10_000.0, "{}", peak(slow));
    assert!(
        peak(fast) < 0.5 * peak(slow),
        "{} vs {}",
        peak(fast),
        peak(slow)
    );
    assert!(peak(fixed) < 100.0, "{}", peak(fixed));
    // After the backlog drains, all three serve alike.
    for r in &reports {
        let p99 = mean(r, &r.timeseries.p99_ms, 150.0, 240.0);
        assert!(p99 < 60.0, "{}: {p99}", r.scenario);
    }
}

#[test]
fn each_way_to_serve_the_llm_misses_a_different_objective() {
    let reports = run(&example("llm-serving.ron"));
    let (one, two, chunked, split) = (&reports[0], &reports[1], &reports[2], &reports[3]);
    let verdicts =
        |r: &ScenarioReport| -> Vec<bool> { r.objectives.iter().map(|o| o.pass).collect() };
    // [TTFT p99 <= 1 s, TPOT p99 <= 30 ms]
    assert_eq!(verdicts(one), [true, false], "{:?}", one.objectives);
    assert_eq!(verdicts(chunked), [false, true], "{:?}", chunked.objectives);
    assert_eq!(verdicts(two), [true, true], "{:?}", two.objectives);
    assert_eq!(verdicts(split), [true, true], "{:?}", split.objectives);
    let llm = |r: &ScenarioReport| r.classes[0].llm.clone().unwrap();
    // One replica: a long prompt stops decoding for its whole prefill.
    assert!(llm(one).itl_ms.max > 1000.0, "{:?}", llm(one).itl_ms);
    // Chunked: every gap is a step of decodes and at most 512 prompt tokens
    // (5 ms + 512 × 30 µs + up to a few dozen sequences × 40 µs).
    assert!(llm(chunked).itl_ms.max < 25.0, "{:?}", llm(chunked).itl_ms);
    assert!(llm(chunked).ttft_ms.p99 > 2.0 * llm(one).ttft_ms.p99);
    // Split onto a prefill GPU and a decode GPU, no prompt ever stops a
    // decode: every gap is a decode step (5 ms + 40 µs a sequence), the
    // first after the KV transfer aside; TPOT is below the two replicas'.
    assert!(
        llm(split).tpot_ms.p99 < llm(two).tpot_ms.p99,
        "{:?}",
        llm(split).tpot_ms
    );
    assert!(llm(split).tpot_ms.p99 < 10.0, "{:?}", llm(split).tpot_ms);
    let decode = split.services[3].llm.unwrap();
    assert!(decode.prefill_tokens_per_s < 1.0, "{decode:?}");
    for r in &reports {
        assert!(!r.saturated, "{}", r.scenario);
    }
    // Chunked prefill refuses no request; the others refuse the few too long.
    let rejected = |r: &ScenarioReport| r.services[2].rejected;
    assert_eq!(rejected(chunked), 0);
    assert!((1..=40).contains(&rejected(one)), "{}", rejected(one));
}
