//! LLM servers (continuous batching over a paged KV cache) against exact
//! and hand-computed values: one sequence at a time is an M/D/1 queue; a
//! deterministic stream's iteration schedule, worked out by hand, gives
//! every TTFT, TPOT, inter-token gap and latency to the nanosecond.

use archbench::model::{
    ArrivalProcess, Arrivals, KvCache, LlmServing, Project, Service, ServiceKind, StepTime,
    TimeSpan, TokenLengths,
};

use crate::support::{assert_theory, each, open_project, replicate};

fn us(micros: u64) -> TimeSpan {
    TimeSpan::from_nanos(micros * 1000)
}

/// One LLM server entered directly, `max_num_seqs` sequences, a cache too
/// large to bind, and constant token lengths.
fn llm_project(
    rate_rps: f64,
    max_num_seqs: u32,
    step: StepTime,
    (prompt, output): (&str, &str),
    requests: u64,
) -> Project {
    let mut server = Service::new("llm", ServiceKind::LlmServer, "0ms".parse().unwrap());
    server.llm = Some(LlmServing {
        max_num_seqs,
        max_batched_tokens: 4096,
        kv_cache: KvCache::Tokens(1_000_000),
        step,
        chunked_prefill: false,
        watermark: 0.0,
        tensor_parallel: 1,
        tp_efficiency: 0.9,
        phase: archbench::model::LlmPhase::Both,
    });
    let mut project = open_project(rate_rps, vec![server], Vec::new(), requests);
    project.workload.classes[0].tokens = Some(TokenLengths {
        prompt: prompt.parse().unwrap(),
        output: output.parse().unwrap(),
    });
    project
}

#[test]
fn one_sequence_at_a_time_is_an_md1_queue() {
    // Prefill of 100 tokens: 1 ms + 100 × 10 µs = 2 ms, which gives the
    // first token; then 9 decode steps of 1 ms + 100 µs: S = 11.9 ms,
    // always. At ρ = 0.6 Pollaczek–Khinchine's wait is ρ S / (2 (1 − ρ)).
    let step = StepTime {
        base: us(1000),
        per_prefill_token: us(10),
        per_decode_token: us(100),
        prefill_table: Vec::new(),
    };
    let service_ms = 2.0 + 9.0 * 1.1;
    let rho = 0.6;
    let lambda = rho / (service_ms / 1e3);
    let wait_ms = rho * service_ms / (2.0 * (1.0 - rho));
    let project = llm_project(lambda, 1, step, ("100", "10"), 40_000);
    let reports = replicate(&project, 16);
    let latency = each(&reports, |r| r.classes[0].latency_ms.mean);
    assert_theory(
        "LLM as M/D/1: mean latency",
        &latency,
        service_ms + wait_ms,
        0.03,
    );
    let ttft = each(&reports, |r| {
        r.classes[0].llm.as_ref().unwrap().ttft_ms.mean
    });
    assert_theory("LLM as M/D/1: mean TTFT", &ttft, wait_ms + 2.0, 0.03);
    for report in &reports {
        let llm = report.classes[0].llm.as_ref().unwrap();
        // Every sequence decodes alone: each gap is one decode step.
        assert!((llm.tpot_ms.mean - 1.1).abs() < 1e-9, "{:?}", llm.tpot_ms);
        assert!((llm.tpot_ms.max - 1.1).abs() < 1e-9, "{:?}", llm.tpot_ms);
        assert!((llm.itl_ms.max - 1.1).abs() < 1e-9, "{:?}", llm.itl_ms);
        assert_eq!(report.services[0].llm.unwrap().preemptions, 0);
    }
}

#[test]
fn a_deterministic_stream_follows_the_hand_computed_iteration_schedule() {
    // Arrivals every 15.625 ms (64 a second, exact in binary), 100-token
    // prompts, 4 output tokens, steps of 5 ms + 50 µs a prompt token + 1 ms
    // a decoding sequence, no chunking: a prompt waiting when a step starts
    // is run alone (10 ms) and gives its first token; otherwise every
    // running sequence decodes (5 ms + n ms). Times from R1's arrival:
    //
    //   [0, 10)   prefill R1            R1 token 1 at 10
    //   [10, 16)  decode R1             R1 token 2 at 16   (R2 arrives 15.625)
    //   [16, 26)  prefill R2            R2 token 1 at 26
    //   [26, 33)  decode R1 R2          tokens at 33        (R3 arrives 31.25)
    //   [33, 43)  prefill R3            R3 token 1 at 43
    //   [43, 51)  decode R1 R2 R3       R1 done at 51       (R4 arrives 46.875)
    //   [51, 61)  prefill R4            R4 token 1 at 61
    //   [61, 69)  decode R2 R3 R4       R2 done at 69: the run's second request
    let step = StepTime {
        base: us(5000),
        per_prefill_token: us(50),
        per_decode_token: us(1000),
        prefill_table: Vec::new(),
    };
    let mut project = llm_project(64.0, 8, step, ("100", "4"), 2);
    project.workload.arrivals = Arrivals::Open {
        process: ArrivalProcess::Constant,
        rate_rps: 64.0,
        profile: Vec::new(),
    };
    project.objectives = [
        "ttft max <= 14.125ms",
        "ttft max <= 14ms",
        "tpot mean <= 14ms",
        "p99 <= 1s",
    ]
    .iter()
    .map(|text| archbench::model::Objective {
        class: None,
        latency: text.parse().unwrap(),
    })
    .collect();
    let report = archbench::sim::simulate_scenario(&project, 0).unwrap();
    // The objectives read the token timings: R4's first token came 14.125 ms
    // after it arrived, and the mean TPOT is a hair under 14 ms.
    let passed: Vec<bool> = report.objectives.iter().map(|o| o.pass).collect();
    assert_eq!(passed, [true, false, true, true], "{:?}", report.objectives);
    let class = &report.classes[0];
    let llm = class.llm.as_ref().unwrap();
    let close = |label: &str, actual: f64, expected: f64| {
        assert!(
            (actual - expected).abs() < 1e-9,
            "{label}: {actual} ms, by hand {expected} ms"
        );
    };
    // Latency: R1 51 ms, R2 69 − 15.625.
    assert_eq!(class.requests, 2);
    close("latency max", class.latency_ms.max, 53.375);
    close(
        "latency mean",
        class.latency_ms.mean,
        f64::midpoint(51.0, 53.375),
    );
    // TTFT of every first token: R1 10, R2 26 − 15.625, R3 43 − 31.25,
    // R4 61 − 46.875.
    close("TTFT max", llm.ttft_ms.max, 14.125);
    close(
        "TTFT mean",
        llm.ttft_ms.mean,
        (10.0 + 10.375 + 11.75 + 14.125) / 4.0,
    );
    // TPOT of the finished: R1 (51 − 10) / 3, R2 (69 − 26) / 3, each to
    // the nanosecond below.
    close(
        "TPOT mean",
        llm.tpot_ms.mean,
        f64::midpoint(13_666_666.0, 14_333_333.0) / 1e6,
    );
    // The gaps between tokens: R1 6, 17, 18; R2 7, 18, 18; R3 8, 18; R4 8.
    close("ITL max", llm.itl_ms.max, 18.0);
    close("ITL mean", llm.itl_ms.mean, 118.0 / 9.0);
    assert_eq!(llm.sequences, 2);
    let server = report.services[0].llm.unwrap();
    assert_eq!(server.preemptions, 0);
}

#[test]
fn goodput_is_where_the_sweeps_attainment_crosses_ninety_percent() {
    let _cpu = crate::support::cpu_heavy();
    // Eight sequences at once, 200-token prompts and 50-token answers; each
    // request meets its bounds when its first token comes within 250 ms and
    // its tokens 25 ms apart on average.
    let step = StepTime {
        base: us(5000),
        per_prefill_token: us(20),
        per_decode_token: us(1000),
        prefill_table: Vec::new(),
    };
    let mut project = llm_project(5.0, 8, step, ("200", "exp:50"), 1);
    project.run.stop =
        archbench::model::StopCondition::Duration(TimeSpan::from_nanos(400_000_000_000));
    project.run.warmup = Some(TimeSpan::from_nanos(20_000_000_000));
    project.objectives = ["ttft p90 <= 250ms", "tpot p90 <= 25ms"]
        .iter()
        .map(|text| archbench::model::Objective {
            class: None,
            latency: text.parse().unwrap(),
        })
        .collect();
    let spec = archbench::sim::SweepSpec {
        axis: archbench::sim::SweepAxis::Rate {
            from: 2.0,
            to: 40.0,
            steps: 20,
        },
        scenario: None,
        threads: 0,
        shard: None,
    };
    let sweep =
        archbench::sim::sweep(&project, &spec, &std::sync::atomic::AtomicBool::new(false)).unwrap();
    let curve = &sweep.scenarios[0];
    let goodput = curve
        .goodput_rps
        .expect("attainment falls below 90% in the range");
    let attainment = |rate: f64| {
        let mut p = project.clone();
        p.workload.scale_to_rate(rate);
        let report = archbench::sim::simulate_scenario(&p, 0).unwrap();
        report.classes[0].llm.as_ref().unwrap().attainment.unwrap()
    };
    let points: Vec<(f64, f64)> = curve
        .points
        .iter()
        .map(|p| (p.offered_rps, p.attainment.unwrap()))
        .collect();
    eprintln!("goodput {goodput:.2} req/s over {points:?}");
    // The sweep's own points: at or above 90% below the goodput, below past it.
    for &(rate, a) in &points {
        if rate < goodput - 2.0 {
            assert!(a >= 0.9, "{rate} req/s attains {a}");
        }
        if rate > goodput + 2.0 {
            assert!(a < 0.9, "{rate} req/s attains {a}");
        }
    }
    // Independent runs on either side of it, between the sweep's points.
    assert!(attainment(goodput * 0.85) > 0.9, "below the goodput");
    assert!(attainment(goodput * 1.15) < 0.9, "above the goodput");
    // The share is the project's (90% by default); asking 75% of the
    // sequences to attain moves the goodput up the same curve.
    assert!((sweep.goodput_share - 0.9).abs() < 1e-12);
    let lenient = archbench::sim::goodput(&curve.points, 0.75).unwrap();
    assert!(lenient > goodput, "{lenient} against {goodput}");
    for &(rate, a) in &points {
        if rate < lenient - 2.0 {
            assert!(a >= 0.75, "{rate} req/s attains {a}");
        }
        if rate > lenient + 2.0 {
            assert!(a < 0.75, "{rate} req/s attains {a}");
        }
    }
    let mut wrong = project.clone();
    wrong.goodput_share = 1.5;
    let problems = archbench::model::Validated::new(&wrong).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().starts_with("goodput_share")),
        "{problems:?}"
    );
}

#[test]
fn a_prefill_table_costs_a_chunked_prompt_what_it_costs_whole() {
    // T(100) = 10 ms, T(200) = 30 ms: a 150-token prompt costs T(150) = 20
    // ms. Whole: one step of 5 + 20 ms gives the first token at 25 ms.
    // Chunked by a budget of 100 tokens (unchunked, a prompt must fit one
    // step's budget): 5 + T(100) − T(0) = 15 ms, then
    // 5 + T(150) − T(100) = 15 ms: the first token at 30 ms. The second
    // token is one decode step later, 5 + 1 ms. Requests a second apart
    // never meet.
    let ms = |n: u64| us(n * 1000);
    let step = StepTime {
        base: ms(5),
        per_prefill_token: TimeSpan::default(),
        per_decode_token: ms(1),
        prefill_table: vec![(100, ms(10)), (200, ms(30))],
    };
    for (chunked, ttft) in [(false, 25.0), (true, 30.0)] {
        let mut project = llm_project(1.0, 8, step.clone(), ("150", "2"), 3);
        project.workload.arrivals = Arrivals::Open {
            process: ArrivalProcess::Constant,
            rate_rps: 1.0,
            profile: Vec::new(),
        };
        let llm = project.scenarios[0].services[0].llm.as_mut().unwrap();
        llm.chunked_prefill = chunked;
        if chunked {
            llm.max_batched_tokens = 100;
        }
        let report = archbench::sim::simulate_scenario(&project, 0).unwrap();
        let tokens = report.classes[0].llm.as_ref().unwrap();
        assert_eq!(tokens.sequences, 3, "chunked {chunked}");
        for (what, value, expected) in [
            ("TTFT mean", tokens.ttft_ms.mean, ttft),
            ("TTFT max", tokens.ttft_ms.max, ttft),
            ("TPOT max", tokens.tpot_ms.max, 6.0),
        ] {
            assert!(
                (value - expected).abs() < 1e-9,
                "chunked {chunked}: {what} {value} ms, by hand {expected} ms"
            );
        }
    }
}

#[test]
fn a_prefill_table_that_falls_or_doubles_the_per_token_cost_is_refused_by_place() {
    let ms = |n: u64| us(n * 1000);
    let step = StepTime {
        base: ms(5),
        per_prefill_token: us(10),
        per_decode_token: ms(1),
        prefill_table: vec![(100, ms(10)), (100, ms(12)), (300, ms(9))],
    };
    let project = llm_project(1.0, 8, step, ("150", "2"), 3);
    let problems = archbench::model::Validated::new(&project).unwrap_err();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let field = "llm / step / prefill_table";
    for expected in [
        format!("{field}: a prefill table replaces per_prefill_token"),
        format!("{field} / 1: prompt lengths must rise"),
        format!("{field} / 2: a longer prompt cannot take less time"),
    ] {
        assert!(
            text.iter().any(|t| t.contains(&expected)),
            "{expected:?} not in {text:#?}"
        );
    }
}

/// A prefill pool and a decode pool, the KV cache carried between them by a
/// link of round-trip latency `latency` (half of it on the way there);
/// requests a second apart, so they never meet.
fn split(latency: &str) -> Project {
    let text = format!(
        "(format: 1, name: \"split\",
          workload: (arrivals: Open(rate_rps: 1.0, process: Constant),
            classes: [(name: \"chat\", entry: \"prefill\", tokens: (prompt: \"100\", output: \"5\"))]),
          run: (stop: Requests(3), seed: 1),
          scenarios: [(name: \"s\",
            services: [
              (name: \"prefill\", kind: LlmServer, service_time: \"0ms\",
               llm: (kv_cache: Tokens(100000), phase: Prefill,
                     step: (base: \"5ms\", per_prefill_token: \"50us\", per_decode_token: \"1ms\"))),
              (name: \"decode\", kind: LlmServer, service_time: \"0ms\",
               llm: (kv_cache: Tokens(100000), phase: Decode,
                     step: (base: \"5ms\", per_prefill_token: \"50us\", per_decode_token: \"1ms\")))],
            links: [(from: \"prefill\", to: \"decode\", latency: \"{latency}\")])])"
    );
    archbench::model::file::parse(&text, std::path::Path::new("split.ron"))
        .unwrap()
        .project
}

#[test]
fn a_prefill_decode_split_hands_the_first_token_on_after_the_kv_transfer() {
    // Prefill: 5 ms + 100 × 50 µs = 10 ms, the first token. The KV cache
    // takes 3 ms to the decode pool (half the link's 6 ms round trip), whose step of 5 + 1 ms gives token 2
    // at 19 ms, then 25, 31 and 37. TTFT 10 ms; TPOT (37 − 10) / 4 =
    // 6.75 ms; gaps 9, 6, 6, 6.
    let report = archbench::sim::simulate_scenario(&split("6ms"), 0).unwrap();
    let class = &report.classes[0];
    let llm = class.llm.as_ref().unwrap();
    assert_eq!((class.requests, llm.sequences), (3, 3));
    for (what, value, expected) in [
        ("TTFT", llm.ttft_ms.max, 10.0),
        ("TPOT", llm.tpot_ms.mean, 6.75),
        ("ITL max", llm.itl_ms.max, 9.0),
        ("ITL mean", llm.itl_ms.mean, 6.75),
    ] {
        assert!(
            (value - expected).abs() < 1e-9,
            "{what}: {value} ms, by hand {expected} ms"
        );
    }
    assert!(class.latency_ms.mean >= 37.0, "{:?}", class.latency_ms);
    // Each pool did its half: 3 prompts of 100 tokens prefilled, none at
    // the decode pool; 4 decodes a request there, none at the prefill pool.
    let services = &report.services;
    let prefill = services[0].llm.unwrap();
    let decode = services[1].llm.unwrap();
    assert!(prefill.prefill_tokens_per_s > 0.0, "{prefill:?}");
    assert!(prefill.decode_tokens_per_s.abs() < 1e-12, "{prefill:?}");
    assert!(decode.prefill_tokens_per_s.abs() < 1e-12, "{decode:?}");
    assert_eq!(decode.steps, 12);
    // A slower transfer adds to the first decode gap, not to TTFT.
    let slower = archbench::sim::simulate_scenario(&split("26ms"), 0).unwrap();
    let llm = slower.classes[0].llm.as_ref().unwrap();
    assert!((llm.ttft_ms.max - 10.0).abs() < 1e-9);
    assert!((llm.itl_ms.max - 19.0).abs() < 1e-9);
}

#[test]
fn a_split_pool_that_is_not_wired_as_one_is_refused_by_place() {
    let mut project = split("6ms");
    project.scenarios[0].links.clear();
    project.workload.classes[0].entry = "decode".into();
    let problems = archbench::model::Validated::new(&project).unwrap_err();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "service \"prefill\" / llm / phase: a prefill-only server hands each request on",
        "entry: \"decode\" in scenario \"s\" is decode-only",
    ] {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {text:#?}"
        );
    }
}

#[test]
fn the_time_series_shows_the_kv_cache_filling_and_its_preemptions() {
    // A cache of 320 tokens (20 blocks) for 100-token prompts and 60-token
    // answers (10 blocks a finished sequence): two fit at most, and a busy
    // replica preempts. The series' KV use, weighted by interval, averages
    // to the run's, and its preemptions add up to the run's count.
    let step = StepTime {
        base: us(5000),
        per_prefill_token: us(10),
        per_decode_token: us(100),
        prefill_table: Vec::new(),
    };
    let mut project = llm_project(4.0, 8, step, ("100", "uniform:20..100"), 3000);
    project.scenarios[0].services[0]
        .llm
        .as_mut()
        .unwrap()
        .kv_cache = KvCache::Tokens(320);
    project.run.warmup = Some(TimeSpan::default());
    let report = archbench::sim::simulate_scenario(&project, 0).unwrap();
    let llm = report.services[0].llm.unwrap();
    assert!(llm.preemptions > 10, "{llm:?}");
    let series = &report.timeseries.services[0];
    let kv = series.kv_utilization.as_ref().unwrap();
    let preemptions = series.preemptions.as_ref().unwrap();
    assert_eq!(preemptions.iter().sum::<u64>(), llm.preemptions);
    let times = &report.timeseries.time_s;
    let (mut weighted, mut last) = (0.0, 0.0);
    for (t, used) in times.iter().zip(kv) {
        assert!((0.0..=1.0).contains(used), "{used}");
        weighted += used * (t - last);
        last = *t;
    }
    let mean = weighted / last;
    assert!(
        (mean - llm.kv_utilization).abs() < 1e-6,
        "series {mean}, run {}",
        llm.kv_utilization
    );
    // Other services have no such series.
    let mut plain = crate::support::single_station(
        10.0,
        "1ms",
        1,
        archbench::model::QueueCapacity::Unbounded,
        100,
    );
    plain.run.warmup = Some(TimeSpan::default());
    let plain = archbench::sim::simulate_scenario(&plain, 0).unwrap();
    assert!(plain.timeseries.services[0].kv_utilization.is_none());
}

#[test]
fn a_scenarios_token_timings_gather_its_classes() {
    // Two classes at one server, 100- and 300-token prompts, 4 answers
    // tokens: the scenario's figures are theirs together.
    let step = StepTime {
        base: us(5000),
        per_prefill_token: us(20),
        per_decode_token: us(500),
        prefill_table: Vec::new(),
    };
    let mut project = llm_project(20.0, 8, step, ("100", "4"), 4000);
    let mut long = project.workload.classes[0].clone();
    long.name = "long".into();
    long.tokens = Some(TokenLengths {
        prompt: "300".parse().unwrap(),
        output: "4".parse().unwrap(),
    });
    project.workload.classes.push(long);
    let report = archbench::sim::simulate_scenario(&project, 0).unwrap();
    let [short, long] = [0, 1].map(|i| report.classes[i].llm.clone().unwrap());
    let all = report.llm.as_ref().unwrap();
    assert_eq!(all.sequences, short.sequences + long.sequences);
    let weighted = (short.ttft_ms.mean * short.sequences as f64
        + long.ttft_ms.mean * long.sequences as f64)
        / all.sequences as f64;
    assert!((all.ttft_ms.mean - weighted).abs() < 1e-9, "{all:?}");
    assert!((all.tokens_in_per_s - short.tokens_in_per_s - long.tokens_in_per_s).abs() < 1e-9);
    assert!(all.ttft_ms.max >= short.ttft_ms.max.max(long.ttft_ms.max) - 1e-9);
    assert!(all.attainment.is_none());
    // Without an LLM server there is none.
    let plain = crate::support::single_station(
        10.0,
        "1ms",
        1,
        archbench::model::QueueCapacity::Unbounded,
        100,
    );
    assert!(
        archbench::sim::simulate_scenario(&plain, 0)
            .unwrap()
            .llm
            .is_none()
    );
}
