//! The emulator's two costs, as figures for docs/BENCHMARKS.md (not a
//! criterion timing: what matters is an error distribution, not a loop's
//! speed):
//!
//! 1. **Wake-up error of the precise timer**: waits of exp(500 µs) started
//!    as a Poisson stream at 1,000, 10,000 and 50,000 waits per second on a
//!    two-thread runtime, each measured as the distance (early or late)
//!    from its deadline to when its task runs again; p50, p99 and max,
//!    against tokio's own timer at the same rate.
//! 2. **Per-hop overhead of the emulated HTTP path**: one client waits for
//!    each answer from a chain of k services of zero service time and zero
//!    link latency (k = 1 and 6), so every microsecond is the emulator's own
//!    (HTTP over loopback, the hop's task, the pooled connection); the
//!    per-hop cost is the slope between the two medians.
//!
//! `cargo bench --bench emulator` (env `EACH` = seconds per rate, default 5).

#![expect(clippy::disallowed_methods, reason = "a benchmark of real-time waits")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use archbench::loadgen::emulate::{EmulateConfig, Emulation};
use archbench::loadgen::timer::PreciseTimer;
use archbench::model::{Project, Validated};
use archbench::sim::{Rng, Sampler};
use archbench::stats::LatencyHistogram;

fn main() {
    let each: u64 = std::env::var("EACH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!("wake-up error (µs) of waits of exp(500us), {each} s per rate");
    println!(
        "{:>8} {:>10} {:>9} {:>9} {:>9}",
        "rate/s", "timer", "p50", "p99", "max"
    );
    for rate in [1_000.0, 10_000.0, 50_000.0] {
        for precise in [true, false] {
            let h = wake_errors(rate, Duration::from_secs(each), precise);
            println!(
                "{rate:>8} {:>10} {:>9.1} {:>9.1} {:>9.1}",
                if precise { "precise" } else { "tokio" },
                h.quantile_ns(0.5) as f64 / 1e3,
                h.quantile_ns(0.99) as f64 / 1e3,
                h.max_ns() as f64 / 1e3,
            );
        }
    }
    println!();
    println!("per-hop overhead of the emulated HTTP path (one client, zero-time services)");
    for threads in [1, 2] {
        let one = chain_latency(1, 3_000, threads);
        let six = chain_latency(6, 3_000, threads);
        println!(
            "{threads} event loop(s): chain of 1: p50 {:.1} µs; chain of 6: p50 {:.1} µs; per hop {:.1} µs",
            one / 1e3,
            six / 1e3,
            (six - one) / 5.0 / 1e3
        );
    }
}

/// Lateness of waits started at `rate` per second for `span`.
fn wake_errors(rate: f64, span: Duration, precise: bool) -> LatencyHistogram {
    let timer = PreciseTimer::start().expect("timer starts");
    let handle = timer.handle();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let errors = Arc::new(std::sync::Mutex::new(LatencyHistogram::new()));
    runtime.block_on(async {
        let mut rng = Rng::stream(1, 0, "bench/timer");
        let wait = Sampler::new(&"exp:500us".parse().expect("distribution"));
        let start = Instant::now();
        let mut next = 0.0_f64;
        let mut tasks = tokio::task::JoinSet::new();
        while start.elapsed() < span {
            next += rng.exp1() / rate;
            let due = start + Duration::from_secs_f64(next);
            // Start the wait at its own time, from the precise timer too.
            handle.sleep_until(due).await;
            let at = Instant::now() + Duration::from_nanos(wait.sample(&mut rng));
            let (handle, errors) = (handle.clone(), Arc::clone(&errors));
            tasks.spawn(async move {
                if precise {
                    handle.sleep_until(at).await;
                } else {
                    tokio::time::sleep_until(at.into()).await;
                }
                // Early or late alike: the error is the distance from the deadline.
                let now = Instant::now();
                let late = now.saturating_duration_since(at) + at.saturating_duration_since(now);
                errors
                    .lock()
                    .expect("not poisoned")
                    .record(u64::try_from(late.as_nanos()).unwrap_or(u64::MAX));
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });
    drop(runtime);
    let errors = errors.lock().expect("not poisoned");
    errors.clone()
}

/// The median time of `requests` requests through a chain of `k` services
/// served by `threads` event loops.
fn chain_latency(k: usize, requests: u32, threads: usize) -> f64 {
    let services: Vec<String> = (0..k)
        .map(|i| format!("(name: \"s{i}\", workers: 64, service_time: \"0ms\", io: Async)"))
        .collect();
    let links: Vec<String> = (1..k)
        .map(|i| format!("(from: \"s{}\", to: \"s{i}\")", i - 1))
        .collect();
    let text = format!(
        "(format: 1, name: \"chain\", workload: (arrivals: Open(process: Poisson, rate_rps: 1.0), \
         classes: [(name: \"c\", entry: \"s0\")]), scenarios: [(name: \"chain\", services: [{}], links: [{}])])",
        services.join(", "),
        links.join(", ")
    );
    let project: Project = ron::from_str(&text).expect("chain project");
    let valid = Validated::new(&project).expect("valid");
    let emulation = Emulation::start(
        valid,
        0,
        &EmulateConfig {
            seed: 1,
            base_port: None,
            threads: Some(threads),
            traces: None,
            only: None,
        },
    )
    .expect("emulation starts");
    let address = emulation.entries()[0]
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connects");
    stream.set_nodelay(true).expect("nodelay");
    let request = format!("GET / HTTP/1.1\r\nhost: {address}\r\n\r\n");
    let mut latencies = LatencyHistogram::new();
    let mut buf = [0_u8; 4096];
    for i in 0..requests + 200 {
        let start = Instant::now();
        std::io::Write::write_all(&mut stream, request.as_bytes()).expect("writes");
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = std::io::Read::read(&mut stream, &mut buf).expect("reads");
            assert!(n > 0, "closed");
            got.extend_from_slice(&buf[..n]);
        }
        if i >= 200 {
            latencies.record(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
    }
    latencies.quantile_ns(0.5) as f64
}
