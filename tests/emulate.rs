//! The emulator: a scenario run as real HTTP services on 127.0.0.1 inside
//! the test, driven by the load generator, against queueing theory (Erlang
//! C), hand-computed shares, the simulator, and its own counters; and
//! `archbench emulate` / `validate` on bad input.

#![allow(
    clippy::disallowed_methods,
    reason = "these tests check wall-clock timing"
)]

use std::io::{Read as _, Write as _};
use std::time::Duration;

use archbench::loadgen::emulate::{EmulateConfig, Emulation};
use archbench::loadgen::{self, LoadPlan, Pacing};
use archbench::model::{
    Batching, IoModel, Link, Project, QueueCapacity, Retry, TimeSpan, Validated,
};
use archbench::stats::LoadReport;

use crate::support::{link, open_project, service, single_station};

fn serial() -> std::sync::RwLockWriteGuard<'static, ()> {
    crate::support::timing_sensitive()
}

fn start(project: &Project) -> Emulation {
    start_traced(project, None)
}

/// Starts the first scenario, writing its traces to `traces` if given.
fn start_traced(project: &Project, traces: Option<std::path::PathBuf>) -> Emulation {
    Emulation::start(
        Validated::new(project).expect("a valid project"),
        0,
        &EmulateConfig {
            seed: 7,
            base_port: None,
            threads: Some(1),
            traces,
            only: None,
        },
    )
    .expect("the emulation starts")
}

/// Drives the emulation's entry with `pacing` for `seconds`.
fn drive(emulation: &Emulation, project: &Project, pacing: Pacing, seconds: f64) -> LoadReport {
    loadgen::run(LoadPlan {
        targets: emulation.targets(project).unwrap(),
        pacing,
        duration: Duration::from_secs_f64(seconds),
        precise: true,
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(10),
        http2: false,
        insecure: false,
        thresholds: Vec::new(),
        threads: Some(1),
        shard: None,
        start_at: None,
        llm: None,
    })
    .unwrap()
}

fn poisson(rate: f64) -> Pacing {
    Pacing::Open {
        process: archbench::model::ArrivalProcess::Poisson,
        segments: vec![archbench::model::RateSegment {
            start: 0.0,
            end: f64::INFINITY,
            start_rps: rate,
            end_rps: rate,
        }],
        connections: 128,
        seed: 3,
    }
}

fn users(n: u32) -> Pacing {
    Pacing::Closed {
        users: n,
        think: "0ms".parse().unwrap(),
    }
}

/// GET `/_archbench/stats` of a listener, by hand over a socket.
fn stats(emulation: &Emulation, service: &str) -> serde_json::Value {
    let listener = emulation
        .listeners()
        .iter()
        .find(|l| l.service == service && l.replica.is_none())
        .expect("the service's balancer");
    let mut stream = std::net::TcpStream::connect(listener.address).unwrap();
    write!(
        stream,
        "GET /_archbench/stats HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").expect("a head and a body").1;
    serde_json::from_str(body).expect("the counters are JSON")
}

fn number(value: &serde_json::Value, path: &[&str]) -> f64 {
    let mut v = value;
    for key in path {
        v = match key.parse::<usize>() {
            Ok(index) => &v[index],
            Err(_) => &v[key],
        };
    }
    v.as_f64().unwrap_or_else(|| panic!("{path:?} in {value}"))
}

/// M/M/c by hand: Erlang C's chance of waiting, then W = C / (cμ − λ) + 1/μ.
fn erlang_c_response_s(lambda: f64, mean_s: f64, c: u32) -> f64 {
    let a = lambda * mean_s;
    let rho = a / f64::from(c);
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c) / (1.0 - rho);
    let wait_chance = last / (sum + last);
    wait_chance / (f64::from(c) / mean_s - lambda) + mean_s
}

#[test]
fn erlang_c_by_hand_matches_a_known_value() {
    // M/M/1: W = 1 / (μ − λ).
    assert_close!(erlang_c_response_s(500.0, 0.001, 1), 1.0 / 500.0, 1e-12);
    // c = 4, a = 2.8: C = 0.4287 (tables), W = C / 600 + 2 ms.
    assert_close!(
        erlang_c_response_s(1400.0, 0.002, 4),
        0.4287 / 600.0 + 0.002,
        1e-6
    );
}

/// The acceptance test: one service as M/M/4 at 70% load, over more than
/// 20,000 requests, has the mean response time of Erlang C within 5% (plus
/// the scheduling delay the run measured), and its utilisation is the
/// offered load. The mean service time is 5 ms:
/// the emulator's own cost is a few tens of microseconds a request, which
/// at 2 ms and this load read as 0–6% (machine noise, run to run), at 5 ms
/// as under 1%.
#[test]
fn an_emulated_mm4_at_70_percent_has_erlang_cs_mean_response_time() {
    let _serial = serial();
    let project = single_station(560.0, "exp:5ms", 4, QueueCapacity::Unbounded, 1);
    let emulation = start(&project);
    let report = drive(&emulation, &project, poisson(560.0), 38.0);
    let server = stats(&emulation, "server");
    let completed = number(&server, &["replicas", "0", "completed"]);
    assert!(completed >= 20_000.0, "{completed} requests");
    let truth_ms = erlang_c_response_s(560.0, 0.005, 4) * 1e3;
    let mean_ms = number(&server, &["response_ms", "mean"]);
    // On a shared machine the host can take the cores for milliseconds at
    // a time, which stretches every service time caught in it: allow, on
    // top of 5%, the scheduling delay this run measured itself (the p99
    // lateness of the load generator's heartbeat, a fraction of a
    // millisecond on a quiet machine).
    let lag_ms = report.generator_lag_ms.p99;
    eprintln!(
        "mean {mean_ms:.3} ms against Erlang C {truth_ms:.3} ms; lag p99 {lag_ms:.3} ms, steal {:?} ms",
        report.steal_ms
    );
    assert_close!(
        mean_ms,
        truth_ms,
        0.05 * truth_ms + lag_ms,
        "(lag p99 {lag_ms} ms)"
    );
    // Busy workers over time: λ E[S] / c = 0.7, diluted by the idle time
    // before and after the load in the counters' window; a service time
    // stretched by the lag holds its worker that much longer.
    let utilization = number(&server, &["utilization"]);
    let window = number(&server, &["window_s"]);
    assert_close!(
        utilization * window / report.duration_s,
        0.7,
        0.05 + 0.7 * lag_ms / 5.0
    );
    assert_eq!(report.errors.values().sum::<u64>(), 0);
}

/// `probability: 0.3`: the callee sees 30% ± 1.5% of the caller's requests.
#[test]
fn a_call_with_probability_reaches_its_callee_that_often() {
    let _serial = serial();
    let mut a = service("a", "0ms", 64);
    a.io = IoModel::Async;
    let project = open_project(
        5000.0,
        vec![a, service("b", "0ms", 64)],
        vec![Link {
            probability: 0.3,
            ..link("a", "b")
        }],
        1,
    );
    let emulation = start(&project);
    drive(&emulation, &project, poisson(5000.0), 5.0);
    let (a, b) = (stats(&emulation, "a"), stats(&emulation, "b"));
    let (calls, reached) = (number(&a, &["requests"]), number(&b, &["requests"]));
    assert!(calls >= 20_000.0, "{calls} requests");
    assert_close!(reached / calls, 0.3, 0.015);
}

/// A parallel group of two calls takes the longer of the two, not the sum;
/// the same two calls one after the other take the sum.
#[test]
fn a_parallel_group_takes_the_longer_call_and_a_sequence_the_sum() {
    let _serial = serial();
    for (group, expected_ms) in [(Some("fetch"), 10.0), (None, 14.0)] {
        let mut a = service("a", "0ms", 16);
        a.io = IoModel::Async;
        let in_group = |to: &str| Link {
            parallel_group: group.map(str::to_owned),
            ..link("a", to)
        };
        let project = open_project(
            10.0,
            vec![a, service("slow", "10ms", 16), service("fast", "4ms", 16)],
            vec![in_group("slow"), in_group("fast")],
            1,
        );
        let emulation = start(&project);
        let report = drive(&emulation, &project, users(1), 2.0);
        let mean = number(&stats(&emulation, "a"), &["response_ms", "mean"]);
        // Never below the model; above it by the loopback and the event
        // loop's wake-ups (a request makes a few), which a host that steals
        // the CPU stretches: the heartbeat's p99 lateness, measured in the
        // same run, twice over (fresh-clone CI measured 15.3 ms for 14).
        let lag_ms = report.generator_lag_ms.p99;
        assert!(
            mean >= expected_ms - 0.05 && mean <= expected_ms + 1.0 + 2.0 * lag_ms,
            "{group:?}: {mean} ms, expected {expected_ms} ms (lag p99 {lag_ms} ms)"
        );
    }
}

/// A bounded queue answers 503; the load generator's count of 503s is the
/// service's count of rejections.
#[test]
fn a_bounded_queue_answers_503_and_counts_every_rejection() {
    let _serial = serial();
    let project = single_station(100.0, "20ms", 1, QueueCapacity::Bounded(2), 1);
    let emulation = start(&project);
    let report = drive(&emulation, &project, users(12), 2.0);
    let server = stats(&emulation, "server");
    let rejected = number(&server, &["rejected"]);
    // Twelve users keep the waiting room of two full: the queue length over
    // the first whole second of load is two, less the moments a freed
    // place waits for the next user's request to arrive, and never above
    // (an unbounded room would hold about eleven). A loaded machine
    // stretches those moments (fresh-clone CI has measured below 1.8), so
    // the floor is one: the room is full most of the time.
    let queue = number(&server, &["queue_per_second", "1"]);
    assert!((1.0..=2.0 + 1e-9).contains(&queue), "{server}");
    let answered_503 = report.status.get("503").copied().unwrap_or(0);
    assert!(answered_503 > 0, "{:?}", report.status);
    // Requests abandoned when the run ended were never answered, so the
    // server may have rejected a few the generator did not see.
    assert!(
        rejected >= answered_503 as f64 && rejected <= answered_503 as f64 + 12.0,
        "rejected {rejected}, 503s {answered_503}"
    );
    // One worker and a waiting room of two: at most three at once are served.
    assert!(report.status.get("200").copied().unwrap_or(0) > 0);
}

/// Blocking I/O holds the caller's worker through its call, async frees
/// it: the caller's utilisation follows, as the simulator predicts.
#[test]
fn blocking_and_async_io_change_the_callers_utilisation_as_simulated() {
    let _serial = serial();
    for io in [IoModel::Blocking, IoModel::Async] {
        let mut caller = service("caller", "1ms", 4);
        caller.io = io;
        let mut project = open_project(
            200.0,
            vec![caller, service("callee", "5ms", 8)],
            vec![link("caller", "callee")],
            1,
        );
        project.run.stop = archbench::model::StopCondition::Duration(TimeSpan::from_secs_f64(60.0));
        let predicted = archbench::sim::simulate_scenario(&project, 0)
            .unwrap()
            .services[0]
            .utilization;
        // By hand: 200/s × (1 ms, or 6 ms when blocking) / 4 workers.
        let by_hand = if io == IoModel::Blocking { 0.3 } else { 0.05 };
        assert_close!(predicted, by_hand, 0.02, "({io:?}, simulated)");
        let emulation = start(&project);
        let report = drive(&emulation, &project, poisson(200.0), 6.0);
        let caller = stats(&emulation, "caller");
        let busy_s = number(&caller, &["replicas", "0", "busy_s"]);
        let measured = busy_s / (4.0 * report.duration_s);
        // Async: the worker is freed at the end of its work as timed, so
        // the busy time is the sampled work exactly (the tolerance is the
        // sampling error of about 1,200 requests). Blocking: the worker is
        // also held through the real call, which a busy host stretches by
        // its scheduling delay (the heartbeat's p99 lateness, measured).
        let lag_ms = report.generator_lag_ms.p99;
        let allowance = match io {
            IoModel::Blocking => 0.15 + lag_ms / 6.0,
            IoModel::Async => 0.15,
        };
        assert_close!(
            measured / predicted,
            1.0,
            allowance,
            "({io:?}: measured {measured}, lag p99 {lag_ms} ms)"
        );
    }
}

/// Retries: a callee that always fails sees each call three times (the
/// first attempt and two retries), and the caller's client sees 502s.
#[test]
fn retries_repeat_a_failed_call_and_the_failure_reaches_the_client() {
    let _serial = serial();
    let mut broken = service("broken", "0ms", 16);
    broken.error_rate = 1.0;
    let project = open_project(
        100.0,
        vec![service("front", "0ms", 16), broken],
        vec![Link {
            retry: Some(Retry {
                max_retries: 2,
                backoff: TimeSpan::from_nanos(0),
                max_backoff: TimeSpan::from_nanos(0),
                jitter: archbench::model::Jitter::None,
                budget: None,
            }),
            ..link("front", "broken")
        }],
        1,
    );
    let emulation = start(&project);
    let report = drive(&emulation, &project, users(2), 1.0);
    let (front, broken) = (stats(&emulation, "front"), stats(&emulation, "broken"));
    let calls = number(&front, &["requests"]);
    assert!(calls > 10.0);
    assert_close!(number(&broken, &["requests"]), 3.0 * calls, 6.0);
    assert_close!(number(&front, &["links", "0", "retries"]), 2.0 * calls, 4.0);
    assert_eq!(report.status.get("502").copied(), Some(report.requests));
}

/// A pattern the emulator does not run is refused, naming the service and
/// the field, rather than emulated wrongly.
#[test]
fn an_unsupported_pattern_is_refused_naming_its_service_and_field() {
    let mut gpu = service("gpu", "5ms", 1);
    gpu.batching = Some(Batching {
        max_batch: 8,
        max_wait: TimeSpan::from_secs_f64(0.002),
        per_item: TimeSpan::from_nanos(0),
    });
    let project = open_project(10.0, vec![gpu], Vec::new(), 1);
    let Err(error) = Emulation::start(
        Validated::new(&project).unwrap(),
        0,
        &EmulateConfig {
            seed: 1,
            base_port: None,
            threads: Some(1),
            traces: None,
            only: None,
        },
    ) else {
        panic!("a batching service was emulated");
    };
    let message = error.to_string();
    assert!(
        message.contains("scenario \"test\" / service \"gpu\" / batching"),
        "{message}"
    );
}

fn archbench_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .output()
        .unwrap()
}

/// `emulate` prints every listener and the entry, serves for the duration,
/// and exits 0; a port in use is named, nothing is left listening, exit 1.
#[test]
fn the_emulate_command_lists_its_listeners_and_names_a_port_in_use() {
    let _serial = serial();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/three-tier.ron");
    let path = path.to_str().unwrap();
    let out = archbench_cli(&["emulate", path, "--duration", "300ms"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // A balancer per service (4), a line per replica (2 + 2 + 1 + 1), the entry.
    assert_eq!(
        text.matches("http://127.0.0.1:").count(),
        4 + 6 + 1,
        "{text}"
    );
    assert!(
        text.contains("class \"page\" enters at load-balancer"),
        "{text}"
    );

    // Hold a port; ask for a range that runs into it.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let base = (port - 2).to_string();
    let out = archbench_cli(&["emulate", path, "--port", &base, "--duration", "100ms"]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{error}");
    assert!(
        error.contains(&format!(
            "cannot listen on 127.0.0.1:{port} for service \"load-balancer\" replica 1"
        )),
        "{error}"
    );
    // The ports before it were closed again: they can be bound now.
    for p in [port - 2, port - 1] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", p)).is_ok(),
            "port {p} left open"
        );
    }
}

/// `validate` at a light load: JSON with predicted and measured figures
/// side by side, an exit code that follows the tolerance, and a refusal
/// of a closed workload's --rate.
#[test]
fn the_validate_command_prints_predicted_against_measured() {
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("archbench-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mm2.ron");
    std::fs::write(
        &path,
        r#"(format: 1, name: "mm2",
            workload: (arrivals: Open(process: Poisson, rate_rps: 100.0), classes: [(name: "c", entry: "s")]),
            scenarios: [(name: "one", services: [(name: "s", workers: 2, service_time: "exp:4ms")])])"#,
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let out = archbench_cli(&[
        "validate",
        path,
        "--rate",
        "200",
        "--duration",
        "3s",
        "--warmup",
        "1s",
        "--format",
        "json",
        "--tolerance",
        "throughput=15%",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let pass = report["pass"].as_bool().unwrap();
    assert_eq!(out.status.code(), Some(if pass { 0 } else { 3 }), "{text}");
    let throughput = &report["classes"][0]["throughput_rps"];
    assert_close!(
        number(throughput, &["measured"]) / 200.0,
        1.0,
        0.15,
        "{text}"
    );
    assert!(number(throughput, &["predicted"]) > 0.0);
    assert_eq!(report["services"][0]["service"], "s");

    let out = archbench_cli(&[
        "validate",
        path,
        "--rate",
        "200",
        "--duration",
        "2s",
        "--tolerance",
        "p98=5%",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p98"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stopping closes every listener: each port can be bound again at once.
#[test]
fn stopping_an_emulation_closes_every_listener() {
    let project = single_station(10.0, "1ms", 2, QueueCapacity::Unbounded, 1);
    let emulation = start(&project);
    let addresses: Vec<std::net::SocketAddr> =
        emulation.listeners().iter().map(|l| l.address).collect();
    assert_eq!(addresses.len(), 2, "a balancer and one replica");
    for address in &addresses {
        assert!(address.ip().is_loopback(), "{address} is not loopback");
        assert!(
            std::net::TcpListener::bind(address).is_err(),
            "{address} is not listening"
        );
    }
    emulation.stop();
    for address in &addresses {
        assert!(
            std::net::TcpListener::bind(address).is_ok(),
            "{address} left open"
        );
    }
}

/// Ctrl+C stops `emulate` with exit code 130 and a message, and nothing is
/// left listening.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_emulate_command_and_closes_its_ports() {
    use std::io::BufRead as _;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/three-tier.ron");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(["emulate", path.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut ports = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            ports.push(rest.trim_end_matches('/').parse::<u16>().unwrap());
        }
        if line.starts_with("counters:") {
            break;
        }
    }
    assert!(ports.len() >= 10, "{ports:?}");
    let killed = std::process::Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("interrupted: closed all"), "{error}");
    for port in ports {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} left open"
        );
    }
}

/// A class whose entry the scenario lacks is found before anything
/// listens: the problem's place is named and the exit code is 1.
#[test]
fn a_scenario_without_a_class_entry_is_refused_before_anything_listens() {
    let dir = std::env::temp_dir().join(format!("archbench-emulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("no-entry.ron");
    std::fs::write(
        &path,
        r#"(format: 1, name: "x",
            workload: (arrivals: Open(process: Poisson, rate_rps: 10.0), classes: [(name: "c", entry: "ghost")]),
            scenarios: [(name: "one", services: [(name: "s", service_time: "1ms")])])"#,
    )
    .unwrap();
    let out = archbench_cli(&["emulate", path.to_str().unwrap(), "--duration", "1s"]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{error}");
    assert!(error.contains("ghost"), "{error}");
    assert!(out.stdout.is_empty(), "nothing listed: nothing listened");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One span read back from the OTLP JSON Lines file.
#[derive(Debug)]
struct ReadSpan {
    service: String,
    trace: String,
    id: String,
    parent: Option<String>,
    kind: u64,
    name: String,
    start: u64,
    end: u64,
}

fn read_spans(path: &std::path::Path) -> Vec<ReadSpan> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut spans = Vec::new();
    for line in text.lines() {
        let data: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        for resource in data["resourceSpans"].as_array().expect("resourceSpans") {
            let service = resource["resource"]["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "service.name")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .expect("service.name")
                .to_owned();
            for scope in resource["scopeSpans"].as_array().unwrap() {
                for span in scope["spans"].as_array().unwrap() {
                    let text = |key: &str| span[key].as_str().unwrap_or_default().to_owned();
                    let nanos = |key: &str| text(key).parse::<u64>().expect("unix nanos");
                    spans.push(ReadSpan {
                        service: service.clone(),
                        trace: text("traceId"),
                        id: text("spanId"),
                        parent: span.get("parentSpanId").map(|_| text("parentSpanId")),
                        kind: span["kind"].as_u64().unwrap(),
                        name: text("name"),
                        start: nanos("startTimeUnixNano"),
                        end: nanos("endTimeUnixNano"),
                    });
                }
            }
        }
    }
    spans
}

/// `--traces`: every handling is a SERVER span (CONSUMER behind an async
/// call) and every call a CLIENT span (PRODUCER when async), linked parent
/// to child across the services by the `traceparent` header; a callee's
/// span lies within its caller's call; the calls of a parallel group
/// overlap; the exclusive time of a 2 ms constant service is 2 ms.
#[test]
fn the_emulator_writes_otlp_traces_that_rebuild_each_request() {
    let _serial = serial();
    let mut api = service("api", "2ms", 8);
    api.io = IoModel::Async;
    let in_group = |to: &str| Link {
        parallel_group: Some("fetch".into()),
        ..link("api", to)
    };
    let project = open_project(
        50.0,
        vec![
            service("gateway", "0ms", 16),
            api,
            service("db", "3ms", 8),
            service("cache", "1ms", 8),
            service("worker", "1ms", 8),
        ],
        vec![
            link("gateway", "api"),
            in_group("db"),
            in_group("cache"),
            crate::support::async_link("api", "worker"),
        ],
        1,
    );
    let dir = std::env::temp_dir().join(format!("archbench-traces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("traces.jsonl");
    let mut emulation = start_traced(&project, Some(path.clone()));
    let report = drive(&emulation, &project, users(2), 1.0);
    // Let the async calls of the last requests land.
    std::thread::sleep(Duration::from_millis(200));
    let (written, dropped) = emulation.finish_traces().unwrap().unwrap();
    assert_eq!(dropped, 0);
    let spans = read_spans(&path);
    assert_eq!(spans.len() as u64, written);
    let answered = report.status.get("200").copied().unwrap_or(0);
    assert!(answered > 50, "{:?}", report.status);

    let by_id: std::collections::HashMap<&str, &ReadSpan> =
        spans.iter().map(|s| (s.id.as_str(), s)).collect();
    assert_eq!(by_id.len(), spans.len(), "span ids are unique");
    let of = |service: &'static str, kind: u64| {
        spans
            .iter()
            .filter(move |s| s.service == service && s.kind == kind)
    };
    // The gateway's handlings are the roots: one per request answered (a
    // request cut off at the end of the run may add one).
    let roots: Vec<&ReadSpan> = spans.iter().filter(|s| s.parent.is_none()).collect();
    assert!(roots.iter().all(|s| s.service == "gateway" && s.kind == 2));
    assert!(
        (answered..=answered + 2).contains(&(roots.len() as u64)),
        "{} roots, {answered} answered",
        roots.len()
    );
    // Every other span's parent is in the file, in the same trace: a call's
    // parent is its caller's handling; a handling's parent is the call that
    // sent it, from the service that calls it, and lies within that call.
    for span in spans.iter().filter(|s| s.parent.is_some()) {
        let parent = by_id[span.parent.as_deref().unwrap()];
        assert_eq!(parent.trace, span.trace);
        match span.kind {
            3 | 4 => {
                assert_eq!(
                    (parent.service.as_str(), parent.kind),
                    (span.service.as_str(), 2)
                );
                assert!(span.name.starts_with(&format!("{} -> ", span.service)));
            }
            2 | 5 => {
                assert_eq!(
                    parent.name,
                    format!("{} -> {}", parent.service, span.service)
                );
                assert_eq!(parent.kind, if span.kind == 5 { 4 } else { 3 });
                assert!(
                    parent.start <= span.start && span.end <= parent.end,
                    "{parent:?} {span:?}"
                );
            }
            other => panic!("kind {other}"),
        }
    }
    // The worker is reached only asynchronously; the rest synchronously.
    assert!(of("worker", 5).count() > 50 && of("worker", 2).count() == 0);
    assert!(of("api", 4).count() > 50);
    assert!(of("db", 2).count() > 50 && of("db", 5).count() == 0);
    // The two calls of the parallel group overlap: each starts before the
    // other ends.
    let calls = |handling: &ReadSpan, to: &str| {
        spans
            .iter()
            .find(|s| s.parent.as_deref() == Some(&handling.id) && s.name == format!("api -> {to}"))
            .unwrap_or_else(|| panic!("api -> {to} under {handling:?}"))
    };
    let mut exclusive = Vec::new();
    for handling in of("api", 2) {
        let (db, cache) = (calls(handling, "db"), calls(handling, "cache"));
        assert!(
            db.start < cache.end && cache.start < db.end,
            "{db:?} {cache:?}"
        );
        // Exclusive time: the handling less its synchronous calls (the
        // async call's span is only its send).
        let busy = db.end.max(cache.end) - db.start.min(cache.start);
        exclusive.push((handling.end - handling.start).saturating_sub(busy) as f64 / 1e6);
    }
    let mean = exclusive.iter().sum::<f64>() / exclusive.len() as f64;
    let lag_ms = report.generator_lag_ms.p99;
    assert!(
        mean >= 1.95 && mean <= 2.5 + lag_ms,
        "api's exclusive time {mean} ms (lag p99 {lag_ms} ms)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The round trip of issue #14, with a known truth: each example emulated
/// at half its maximum sustainable throughput (1,143 and 2,361 req/s, from
/// `archbench sweep FILE --rate auto`) with traces written, then imported.
/// The imported project has the same services and calls (parallel groups
/// and async calls recovered), each service's mean service time within 5%
/// of the model's and its coefficient of variation within 20% (within 0.1
/// of a constant's 0), each probability within 0.02 and each count equal;
/// simulated alike, its p50 and p99 are within 10% of the original's; and
/// calibrating the original from the traces changes little. docs/traces.md
/// has the 60 s runs of `benches/roundtrip.sh`.
#[test]
fn traces_of_an_emulated_example_import_back_to_its_model() {
    const SECONDS: f64 = 8.0;
    use archbench::model::traces::{self, ImportOptions};
    let _serial = serial();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("archbench-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, rate) in [("ml-inference.ron", 571.0), ("three-tier.ron", 1180.0)] {
        let original = archbench::model::file::load_valid(&root.join("projects").join(file))
            .unwrap()
            .project;
        let path = dir.join(format!("{file}.jsonl"));
        let mut emulation = start_traced(&original, Some(path.clone()));
        let report = drive(&emulation, &original, poisson(rate), SECONDS);
        std::thread::sleep(Duration::from_millis(200));
        let (_, dropped) = emulation.finish_traces().unwrap().unwrap();
        emulation.stop();
        assert_eq!(dropped, 0, "{file}");
        assert!(
            report.status.get("200").copied().unwrap_or(0) > 2000,
            "{file}"
        );

        let (_, spans) = traces::read(&path).unwrap();
        let (assembled, anomalies) = traces::assemble(spans);
        let import = traces::infer(&assembled, anomalies, &[], &ImportOptions::default()).unwrap();
        let (model, imported) = (&original.scenarios[0], &import.project.scenarios[0]);
        let names = |s: &archbench::model::Scenario| {
            let mut n: Vec<String> = s.services.iter().map(|s| s.name.clone()).collect();
            n.sort();
            n
        };
        assert_eq!(names(model), names(imported), "{file}");
        for service in &model.services {
            let found = &imported.services[imported.service_index(&service.name).unwrap()];
            let (mean, got) = (
                service.service_time.mean_secs(),
                found.service_time.mean_secs(),
            );
            assert!(
                (got / mean - 1.0).abs() <= 0.05,
                "{file}: {} mean {got} against {mean} ({})",
                service.name,
                found.service_time
            );
            let cv = |d: &archbench::model::Distribution| {
                let m = d.mean_secs();
                (d.second_moment_secs2() / (m * m) - 1.0).max(0.0).sqrt()
            };
            let (want, got) = (cv(&service.service_time), cv(&found.service_time));
            let near = if want == 0.0 {
                got <= 0.1
            } else {
                (got / want - 1.0).abs() <= 0.2
            };
            assert!(near, "{file}: {} CV {got} against {want}", service.name);
            assert_eq!(found.replicas, service.replicas, "{file}: {}", service.name);
        }
        assert_eq!(model.links.len(), imported.links.len(), "{file}");
        let find = |s: &'_ archbench::model::Scenario, from: &str, to: &str| {
            s.links
                .iter()
                .find(|l| l.from == from && l.to == to)
                .cloned()
                .unwrap_or_else(|| panic!("{file}: no link {from} -> {to}"))
        };
        for link in &model.links {
            let got = find(imported, &link.from, &link.to);
            assert!(
                (got.probability - link.probability).abs() <= 0.02,
                "{file}: {} -> {} probability {} against {}",
                link.from,
                link.to,
                got.probability,
                link.probability
            );
            assert_eq!((got.count, got.mode), (link.count, link.mode), "{file}");
            // Two links share a group in the import exactly when they do in
            // the model.
            for other in model.links.iter().filter(|o| o.from == link.from) {
                let together = |s: &archbench::model::Scenario| {
                    let (a, b) = (
                        find(s, &link.from, &link.to),
                        find(s, &other.from, &other.to),
                    );
                    a.parallel_group.is_some() && a.parallel_group == b.parallel_group
                };
                assert_eq!(
                    together(model),
                    together(imported),
                    "{file}: {link:?} {other:?}"
                );
            }
        }
        assert!(archbench::model::validate(&import.project).is_empty());
        // Simulated alike (the same seed, warm-up and length; the original
        // at the rate it was driven at), the imported project predicts the
        // original's p50 and p99 within 10%. The links' latencies are the
        // loopback's as measured, so a host that takes more than 2% of the
        // machine's CPU in the run (steal time) makes them longer than the
        // model's (docs/traces.md saw +24% at 13%): then only the lower
        // bound, which a slow host cannot help, is asserted.
        let predict = |project: &Project, rate: Option<f64>| {
            let mut project = project.clone();
            if let Some(rate) = rate {
                assert!(project.workload.scale_to_rate(rate));
            }
            project.run.stop =
                archbench::model::StopCondition::Duration(TimeSpan::from_secs_f64(120.0));
            project.run.warmup = Some(TimeSpan::from_secs_f64(5.0));
            (project.run.seed, project.run.replications) = (1, 1);
            archbench::sim::simulate_scenario(&project, 0)
                .unwrap()
                .latency_ms
        };
        let (want, got) = (
            predict(&original, Some(rate)),
            predict(&import.project, None),
        );
        let cpu_ms =
            SECONDS * 1000.0 * std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
        let stolen = report.steal_ms.unwrap_or(0.0) / cpu_ms;
        for (what, want, got) in [("p50", want.p50, got.p50), ("p99", want.p99, got.p99)] {
            let error = got / want - 1.0;
            assert!(
                error >= -0.10 && (error <= 0.10 || stolen > 0.02),
                "{file}: the imported project's {what} {got:.3} ms against the original's {want:.3} ms ({:.1}% of the CPU stolen)",
                stolen * 100.0
            );
        }
        eprintln!(
            "{file}: p50 {:.3} against {:.3} ms, p99 {:.3} against {:.3} ms ({:.1}% of the CPU stolen)",
            got.p50,
            want.p50,
            got.p99,
            want.p99,
            stolen * 100.0
        );
        // Calibrating the original from the same traces: the service
        // times' means move by less than 5%, and nothing is missing.
        let mut calibrated = original.clone();
        let calibration = traces::calibrate(&mut calibrated, 0, &import);
        let largest = calibration
            .largest_mean_change("service_time")
            .map_or(0.0, |(_, m)| m);
        assert!(largest <= 0.05, "{file}: {calibration:?}");
        assert!(
            calibration.services_not_traced.is_empty()
                && calibration.services_not_modelled.is_empty()
                && calibration.links_not_traced.is_empty()
                && calibration.links_not_modelled.is_empty(),
            "{file}: {calibration:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
