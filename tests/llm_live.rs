//! LLM serving measured live: `load --llm` streams completions from the
//! built-in target's LLM mode on 127.0.0.1, whose replicas run the
//! simulator's batching rules on the wall clock, and its TTFT and TPOT
//! match the simulation of the same model; a server that sends its headers
//! long before its first token is measured from the first token; streams
//! with control frames, several tokens an event and no tokens at all are
//! read as docs/llm.md says.

#![allow(
    clippy::disallowed_methods,
    reason = "these tests check wall-clock timing"
)]

use std::time::Duration;

use archbench::loadgen::{
    self, LlmRequests, LlmTarget, LoadPlan, Pacing, RequestSpec, Target, TargetConfig, TargetServer,
};
use archbench::model::{ArrivalProcess, Project};
use archbench::stats::LoadReport;

/// One LLM server (8 sequences, 10 ms steps plus 20 µs a prompt token and
/// 1 ms a decoding sequence), entered directly, Poisson arrivals.
fn project(rate_rps: f64) -> Project {
    let text = format!(
        "(format: 1, name: \"llm live\",
          workload: (arrivals: Open(rate_rps: {rate_rps}, process: Poisson),
            classes: [(name: \"chat\", entry: \"llm\",
                       tokens: (prompt: \"uniform:100..300\", output: \"uniform:10..40\"))]),
          run: (stop: Duration(\"3000s\"), warmup: \"20s\", seed: 7),
          scenarios: [(name: \"one\", services: [
            (name: \"llm\", kind: LlmServer, service_time: \"0ms\",
             llm: (max_num_seqs: 8, max_batched_tokens: 2048, kv_cache: Tokens(100000),
                   step: (base: \"10ms\", per_prefill_token: \"20us\",
                          per_decode_token: \"1ms\")))])])"
    );
    archbench::model::file::parse(&text, std::path::Path::new("llm-live.ron"))
        .unwrap()
        .project
}

fn plan(url: &str, pacing: Pacing, seconds: f64, llm: LlmRequests) -> LoadPlan {
    let target = Target::new(&RequestSpec {
        url: url.into(),
        method: "POST".into(),
        weight: 1.0,
        ..RequestSpec::default()
    })
    .unwrap();
    LoadPlan {
        warmup: Duration::from_secs(5),
        llm: Some(llm),
        ..LoadPlan::new(vec![target], pacing, Duration::from_secs_f64(seconds))
    }
}

fn lengths(prompt: &str, max_tokens: &str) -> LlmRequests {
    LlmRequests {
        prompt: prompt.parse().unwrap(),
        max_tokens: max_tokens.parse().unwrap(),
        model: "test".into(),
    }
}

fn poisson(rate_rps: f64) -> Pacing {
    let mut pacing = loadgen::constant_rate(rate_rps, 64);
    if let Pacing::Open { process, seed, .. } = &mut pacing {
        *process = ArrivalProcess::Poisson;
        *seed = 11;
    }
    pacing
}

#[test]
fn measured_ttft_and_tpot_match_the_simulation_of_the_same_model_at_half_load() {
    let _serial = crate::support::timing_sensitive();
    let capacity = archbench::sim::analytic::capacity_rps(&project(1.0), 0).unwrap();
    let rate = capacity / 2.0;
    let seconds = 45.0;
    let server = TargetServer::start(&TargetConfig {
        llm: Some(LlmTarget {
            serving: project(rate).scenarios[0].services[0].llm.clone().unwrap(),
            replicas: 1,
        }),
        ..TargetConfig::default()
    })
    .unwrap();
    let url = format!("{}v1/completions", server.url());
    let report = loadgen::run(plan(
        &url,
        poisson(rate),
        seconds,
        lengths("uniform:100..300", "uniform:10..40"),
    ))
    .unwrap();
    // The simulation of the same model at the rate the schedule drew (a
    // Poisson count over 45 s is itself ±5%).
    let drawn = report.scheduled as f64 / seconds;
    let simulated = archbench::sim::simulate_scenario(&project(drawn), 0).unwrap();
    let simulated = simulated.classes[0].llm.clone().unwrap();
    let measured = &report.llm.as_ref().unwrap().tokens;
    assert_eq!(failures(&report), 0, "{:?}", report.errors);
    assert!(measured.sequences > 200, "{} sequences", measured.sequences);
    // Every token asked for came, and each answer told its usage.
    let tokens_out = report.llm.as_ref().unwrap().tokens_out;
    assert!(
        (tokens_out as f64 / measured.sequences as f64 - 25.0).abs() < 2.5,
        "{tokens_out} tokens for {} answers of 10 to 40",
        measured.sequences
    );
    let lag = report.generator_lag_ms.p99;
    let mut checked = Vec::new();
    for (what, measured, simulated) in [
        ("TTFT mean", measured.ttft_ms.mean, simulated.ttft_ms.mean),
        ("TTFT p50", measured.ttft_ms.p50, simulated.ttft_ms.p50),
        ("TPOT mean", measured.tpot_ms.mean, simulated.tpot_ms.mean),
        ("TPOT p50", measured.tpot_ms.p50, simulated.tpot_ms.p50),
    ] {
        // Within 10%, and the generator's own lateness on a loaded host.
        let allowed = 0.10 * simulated + lag;
        checked.push(format!(
            "{what}: measured {measured:.2} ms, simulated {simulated:.2} ms (allowed ±{allowed:.2})"
        ));
        assert!(
            (measured - simulated).abs() <= allowed,
            "at {drawn:.2} rps, about half of {capacity:.1}: {checked:#?}"
        );
    }
    eprintln!("at {drawn:.2} rps, about half of {capacity:.1}: {checked:#?}");
}

/// Failed requests: every kind, 5xx answers included.
fn failures(report: &LoadReport) -> u64 {
    report.errors.values().sum()
}

/// A hand-written streaming server on 127.0.0.1: it reads a request,
/// sends its headers at once, then after `first_after` a comment, an empty
/// event and a role event, then `tokens` events `gap` apart, chunked, and
/// `[DONE]`.
fn slow_first_token_server(first_after: Duration, tokens: u32, gap: Duration) -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                loop {
                    // The head, then the body by its Content-Length.
                    let mut pending = Vec::new();
                    let mut buf = [0_u8; 4096];
                    let head_end = loop {
                        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&pending[..head_end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while pending.len() < head_end + length {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    }
                    let chunk = |s: &mut std::net::TcpStream, text: &str| {
                        s.write_all(format!("{:x}\r\n{text}\r\n", text.len()).as_bytes())
                    };
                    let mut send = || -> std::io::Result<()> {
                        stream.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                              Transfer-Encoding: chunked\r\n\r\n",
                        )?;
                        std::thread::sleep(first_after);
                        chunk(&mut stream, ": keep-alive\n\ndata:\n\n")?;
                        chunk(
                            &mut stream,
                            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
                        )?;
                        for i in 0..tokens {
                            if i > 0 {
                                std::thread::sleep(gap);
                            }
                            chunk(
                                &mut stream,
                                "data: {\"choices\":[{\"delta\":{\"content\":\" hi\"}}]}\n\n",
                            )?;
                        }
                        chunk(&mut stream, "data: [DONE]\n\n")?;
                        stream.write_all(b"0\r\n\r\n")
                    };
                    if send().is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_server_that_sends_headers_long_before_the_first_token_is_timed_from_the_token() {
    let _serial = crate::support::timing_sensitive();
    // Headers at once, the first token 300 ms later, then 4 more 20 ms apart.
    let port = slow_first_token_server(Duration::from_millis(300), 5, Duration::from_millis(20));
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let mut plan = plan(
        &url,
        loadgen::constant_rate(4.0, 8),
        3.0,
        lengths("16", "5"),
    );
    plan.warmup = Duration::ZERO;
    let report = loadgen::run(plan).unwrap();
    let llm = report.llm.as_ref().unwrap();
    let t = &llm.tokens;
    assert_eq!(failures(&report), 0, "{:?}", report.errors);
    assert!(t.sequences >= 8, "{} sequences", t.sequences);
    // Control frames (a comment, an empty event, the role) are no tokens:
    // five each, the first 300 ms in, never at the headers.
    assert_eq!(llm.tokens_out, 5 * t.sequences);
    assert!(
        t.ttft.min_ns() >= 295_000_000,
        "TTFT from the headers, not the token: {:?}",
        t.ttft_ms
    );
    assert!(t.ttft_ms.p50 < 400.0, "{:?}", t.ttft_ms);
    // Four gaps of 20 ms: TPOT and ITL about 20 ms.
    assert!((19.0..30.0).contains(&t.tpot_ms.p50), "{:?}", t.tpot_ms);
    assert!((19.0..30.0).contains(&t.itl_ms.p50), "{:?}", t.itl_ms);
    assert!(
        report.latency.min_ns() >= 370_000_000,
        "{:?}",
        report.latency_ms
    );
}

#[test]
fn an_answer_that_streams_no_token_is_a_protocol_failure() {
    let _serial = crate::support::timing_sensitive();
    // The plain target answers "ok": no events at all.
    let server = TargetServer::start(&TargetConfig::default()).unwrap();
    let mut plan = plan(
        &server.url(),
        loadgen::constant_rate(50.0, 4),
        1.0,
        lengths("8", "4"),
    );
    plan.warmup = Duration::ZERO;
    let report = loadgen::run(plan).unwrap();
    let protocol = report.errors.get("protocol").copied().unwrap_or(0);
    assert!(protocol >= 40, "{:?}", report.errors);
    assert_eq!(report.llm.as_ref().unwrap().tokens.sequences, 0);
    assert_eq!(report.requests, 0);
}

#[test]
fn the_llm_target_answers_unstreamed_and_refuses_what_cannot_fit() {
    let project = project(1.0);
    let server = TargetServer::start(&TargetConfig {
        llm: Some(LlmTarget {
            serving: project.scenarios[0].services[0].llm.clone().unwrap(),
            replicas: 2,
        }),
        ..TargetConfig::default()
    })
    .unwrap();
    let ask = |path: &str, body: &str| {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(server.address()).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    // Three words, two tokens asked: "tok tok", and the usage.
    let whole = ask("/v1/completions", r#"{"prompt": "a b c", "max_tokens": 2}"#);
    assert!(whole.starts_with("HTTP/1.1 200"), "{whole}");
    assert!(whole.contains(r#""text":"tok tok""#), "{whole}");
    assert!(
        whole.contains(r#""completion_tokens":2"#) && whole.contains(r#""prompt_tokens":3"#),
        "{whole}"
    );
    let chat = ask(
        "/v1/chat/completions",
        r#"{"messages": [{"role": "user", "content": "hi there"}], "max_completion_tokens": 1}"#,
    );
    assert!(chat.contains(r#""content":"tok""#), "{chat}");
    // A prompt of 2,048 tokens and 100 more cannot fit one step unchunked
    // (the budget is 2,048): refused, as vLLM refuses a context too long.
    let long = format!(
        r#"{{"prompt": [{}], "max_tokens": 100}}"#,
        vec!["1"; 2048].join(",")
    );
    let refused = ask("/v1/completions", &long);
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
    assert!(refused.contains("do not fit"), "{refused}");
    let broken = ask("/v1/completions", "{not json");
    assert!(broken.starts_with("HTTP/1.1 400"), "{broken}");
    // The most tokens a u64 holds: refused, not added past the top.
    let huge = ask(
        "/v1/completions",
        r#"{"prompt": "a b c", "max_tokens": 18446744073709551615}"#,
    );
    assert!(huge.contains("do not fit"), "{huge}");
}

/// A gateway in front of two LLM replicas (64 sequences, 2 ms steps plus
/// 5 µs a prompt token and 50 µs a decoding sequence; prompts of 50 to 150
/// tokens, answers of 20 on average, exponential), entered at the gateway;
/// a KV cache of `kv_tokens` a replica.
fn gateway_project(rate_rps: f64, kv_tokens: u64) -> Project {
    gateway_project_with(rate_rps, kv_tokens, (2, 64, "Unbounded"))
}

/// [`gateway_project`] with `replicas` replicas of `max_num_seqs`
/// sequences and the LLM server's `queue`.
fn gateway_project_with(
    rate_rps: f64,
    kv_tokens: u64,
    (replicas, max_num_seqs, queue): (u32, u32, &str),
) -> Project {
    let text = format!(
        "(format: 1, name: \"llm emulated\",
          workload: (arrivals: Open(rate_rps: {rate_rps}, process: Poisson),
            classes: [(name: \"chat\", entry: \"gateway\",
                       tokens: (prompt: \"uniform:50..150\", output: \"exp:20\"))]),
          run: (stop: Duration(\"600s\"), warmup: \"10s\", seed: 3),
          scenarios: [(name: \"one\", services: [
            (name: \"gateway\", kind: Gateway, workers: 256, service_time: \"300us\"),
            (name: \"llm\", kind: LlmServer, replicas: {replicas}, workers: {max_num_seqs},
             service_time: \"0ms\", queue: {queue},
             llm: (max_num_seqs: {max_num_seqs}, max_batched_tokens: 2048,
                   kv_cache: Tokens({kv_tokens}),
                   chunked_prefill: true,
                   step: (base: \"2ms\", per_prefill_token: \"5us\",
                          per_decode_token: \"50us\")))],
            links: [(from: \"gateway\", to: \"llm\", latency: \"500us\")])])"
    );
    archbench::model::file::parse(&text, std::path::Path::new("llm-emulated.ron"))
        .unwrap()
        .project
}

fn emulate(project: &Project) -> archbench::loadgen::emulate::Emulation {
    archbench::loadgen::emulate::Emulation::start(
        archbench::model::Validated::new(project).unwrap(),
        0,
        &archbench::loadgen::emulate::EmulateConfig {
            seed: 5,
            base_port: None,
            threads: Some(1),
            traces: None,
            only: None,
        },
    )
    .unwrap()
}

/// Emulates `project` and drives its entry with Poisson arrivals at `rate`
/// for `seconds`, the first two a warm-up.
fn drive_emulated(project: &Project, rate: f64, seconds: f64) -> LoadReport {
    let emulation = emulate(project);
    let report = loadgen::run(LoadPlan {
        warmup: Duration::from_secs(2),
        ..LoadPlan::new(
            emulation.targets(project).unwrap(),
            poisson(rate),
            Duration::from_secs_f64(seconds),
        )
    })
    .unwrap();
    emulation.stop();
    report
}

/// The measured end-to-end mean and median within 12% of the simulated
/// (a request's time is mostly its 20 tokens on average, exponential: the
/// mean of 1,000 has a standard error near 3%), and the generator's own
/// lateness on a loaded host.
fn assert_near_simulation(report: &LoadReport, simulated: &archbench::stats::LatencySummary) {
    let lag = report.generator_lag_ms.p99;
    for (what, measured, simulated) in [
        ("mean", report.latency_ms.mean, simulated.mean),
        ("p50", report.latency_ms.p50, simulated.p50),
    ] {
        assert!(
            (measured - simulated).abs() <= 0.12 * simulated + lag,
            "{what}: measured {measured:.2} ms, simulated {simulated:.2} ms (lag p99 {lag:.2} ms)"
        );
        eprintln!("{what}: measured {measured:.2} ms, simulated {simulated:.2} ms");
    }
}

/// The emulator runs an LLM server's replicas with the simulator's batching
/// rules on the wall clock, drawing each request's lengths from its class:
/// driven by plain requests at its gateway (which name no class: the one
/// entering there is taken), the end-to-end mean and median match the
/// simulation of the same project.
#[test]
fn an_emulated_llm_server_answers_as_the_simulation_predicts() {
    let _serial = crate::support::timing_sensitive();
    let (rate, seconds) = (60.0, 20.0);
    let project = gateway_project(rate, 20_000);
    let report = drive_emulated(&project, rate, seconds);
    assert_eq!(failures(&report), 0, "{:?}", report.errors);
    assert!(report.requests > 800, "{} requests", report.requests);
    let drawn = report.scheduled as f64 / seconds;
    let simulated = archbench::sim::simulate_scenario(&gateway_project(drawn, 20_000), 0)
        .unwrap()
        .latency_ms;
    assert_near_simulation(&report, &simulated);
}

/// A sequence that can never fit a replica's KV cache (here a prompt of at
/// least 50 tokens against a 32-token cache) is refused, as the simulator
/// refuses it: every request fails, the gateway answering 502.
#[test]
fn an_emulated_llm_server_refuses_what_cannot_fit() {
    let _serial = crate::support::timing_sensitive();
    let project = gateway_project(20.0, 32);
    let simulated = archbench::sim::simulate_scenario(&project, 0).unwrap();
    assert_eq!(simulated.requests, 0, "the simulator refuses them all");
    let emulation = emulate(&project);
    let report = loadgen::run(LoadPlan::new(
        emulation.targets(&project).unwrap(),
        poisson(20.0),
        Duration::from_secs(1),
    ))
    .unwrap();
    assert!(report.scheduled > 5);
    assert_eq!(report.status.get("502").copied(), Some(report.scheduled));
    emulation.stop();
}

/// An LLM server with a bounded queue refuses a sequence that arrives when
/// its waiting room is full, as the simulator does: one replica of two
/// sequences (about 47 req/s) with one waiting place, at 60 req/s, refuses
/// the same share of requests emulated as simulated, within 5 points.
#[test]
fn an_emulated_llm_servers_bounded_queue_refuses_as_the_simulation_does() {
    let _serial = crate::support::timing_sensitive();
    let (rate, seconds, server) = (60.0, 20.0, (1, 2, "Bounded(1)"));
    let project = gateway_project_with(rate, 20_000, server);
    let report = drive_emulated(&project, rate, seconds);
    // Of the answers after the warm-up, those refused.
    let refused = report.status.get("502").copied().unwrap_or(0);
    let answered: u64 = report.status.values().sum();
    let measured = refused as f64 / answered as f64;
    let drawn = report.scheduled as f64 / seconds;
    let simulated =
        archbench::sim::simulate_scenario(&gateway_project_with(drawn, 20_000, server), 0).unwrap();
    let predicted = simulated.failed as f64 / simulated.arrived as f64;
    assert!(
        predicted > 0.1,
        "the queue overflows in the simulation: {predicted}"
    );
    assert!(
        (measured - predicted).abs() <= 0.05,
        "refused {measured:.3} emulated against {predicted:.3} simulated ({refused} of {answered})"
    );
    eprintln!(
        "refused {measured:.3} emulated against {predicted:.3} simulated ({refused} of {answered}, {} scheduled)",
        report.scheduled
    );
}

/// A gateway before a prefill/decode split: a prefill-only server (its
/// steps 2 ms plus 5 µs a prompt token) hands each sequence over a 4 ms
/// link to a decode-only server (2 ms plus 50 µs a decoding sequence).
fn split_project(rate_rps: f64) -> Project {
    let server = |name: &str, phase: &str| {
        format!(
            "(name: \"{name}\", kind: LlmServer, workers: 64, service_time: \"0ms\",
              llm: (max_num_seqs: 64, max_batched_tokens: 2048, kv_cache: Tokens(20000),
                    phase: {phase}, step: (base: \"2ms\", per_prefill_token: \"5us\",
                                          per_decode_token: \"50us\")))"
        )
    };
    let text = format!(
        "(format: 1, name: \"llm split\",
          workload: (arrivals: Open(rate_rps: {rate_rps}, process: Poisson),
            classes: [(name: \"chat\", entry: \"gateway\",
                       tokens: (prompt: \"uniform:50..150\", output: \"exp:20\"))]),
          run: (stop: Duration(\"600s\"), warmup: \"10s\", seed: 3),
          scenarios: [(name: \"split\", services: [
            (name: \"gateway\", kind: Gateway, workers: 256, service_time: \"300us\"),
            {}, {}],
            links: [(from: \"gateway\", to: \"prefill\", latency: \"500us\"),
                    (from: \"prefill\", to: \"decode\", latency: \"4ms\")])])",
        server("prefill", "Prefill"),
        server("decode", "Decode"),
    );
    archbench::model::file::parse(&text, std::path::Path::new("llm-split.ron"))
        .unwrap()
        .project
}

/// Split over two pools, the emulated prefill server computes the prompt
/// and first token, then calls the decode server with the sequence's
/// lengths, which generates the rest as prefilled: end to end, the mean
/// and median match the simulation of the same split.
#[test]
fn an_emulated_prefill_decode_split_answers_as_the_simulation_predicts() {
    let _serial = crate::support::timing_sensitive();
    let (rate, seconds) = (40.0, 20.0);
    let report = drive_emulated(&split_project(rate), rate, seconds);
    assert_eq!(failures(&report), 0, "{:?}", report.errors);
    let drawn = report.scheduled as f64 / seconds;
    let simulated = archbench::sim::simulate_scenario(&split_project(drawn), 0)
        .unwrap()
        .latency_ms;
    assert_near_simulation(&report, &simulated);
}
