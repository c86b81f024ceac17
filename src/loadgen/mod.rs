//! The live load generator, and a target server to aim it at.
//!
//! A run drives real HTTP endpoints (HTTP/1.1 with keep-alive or HTTP/2,
//! TLS through rustls) on its own tokio runtime, on a named thread, so the
//! caller (CLI or GUI) never blocks on the network.
//!
//! - **Open loop** ([`Pacing::Open`]): the send schedule is fixed in advance,
//!   like wrk2. Whichever connection is free claims the next request and sends
//!   it at its due time; latency counts from that due time, so a stalled
//!   server cannot hide its stall by slowing the generator down (no
//!   coordinated omission). The send-to-response latency is kept too.
//! - **Closed loop** ([`Pacing::Closed`]): users wait, think, and ask again.
//!
//! Workers record into fixed-size histograms for the current second and hand
//! snapshots to a collector over a bounded channel; memory does not grow with
//! the number of requests. A heartbeat measures the generator's own
//! scheduling delay, so a saturated generator is reported, never silent.
//!
//! This module is not the simulator: it reads the wall clock and the network.

mod client;
pub mod emulate;
mod error;
mod plan;
mod recorder;
mod sse;
mod steal;
pub mod target;
pub mod timer;
mod worker;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::model::ArrivalProcess;
use crate::sim::{ArrivalClock, Rng, Sampler};
use crate::stats::{
    EncodedHistogram, IntervalPoint, LagSummary, LatencyHistogram, LoadReport, ShardInfo,
    TargetLatency, ThresholdResult,
};

pub use client::{Answer, Failure, read_response};
pub use error::LoadError;
pub use plan::{
    LlmRequests, LoadPlan, MAX_CONNECTIONS, MAX_DURATION, MAX_RATE_RPS, MAX_SHARDS, MAX_THREADS,
    Pacing, RequestSpec, Shard, Target, Threshold, ThresholdMetric, expand_env, project_targets,
};
pub use target::{LlmTarget, TargetConfig, TargetServer};

use client::{Connection, Tls};
use recorder::{Collector, Snapshot};
use worker::{Pace, Schedule, Shared};

/// Snapshots the collector may have queued before workers wait.
const SNAPSHOT_QUEUE: usize = 4096;

/// How late the heartbeat may run (p99) before the generator counts as saturated.
const SATURATED_LAG: Duration = Duration::from_millis(10);

/// What a running test shows while it runs.
#[derive(Clone, Debug)]
pub struct Live {
    /// One point per finished second.
    pub intervals: Vec<IntervalPoint>,
    /// Latency (from when each request was due) over the finished seconds,
    /// to two significant digits.
    pub latency: LatencyHistogram,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            intervals: Vec::new(),
            latency: LatencyHistogram::coarse(),
        }
    }
}

/// A running load test.
pub struct LoadHandle {
    stop: watch::Sender<bool>,
    live: Arc<Mutex<Live>>,
    thread: std::thread::JoinHandle<Result<LoadReport, LoadError>>,
}

impl LoadHandle {
    /// Asks the run to stop now; `join` then returns what it measured.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// The seconds measured so far.
    pub fn live(&self) -> Live {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the report.
    pub fn join(self) -> Result<LoadReport, LoadError> {
        self.thread.join().unwrap_or_else(|_| {
            Err(LoadError::Plan(
                "the load generator's thread panicked".into(),
            ))
        })
    }
}

/// Starts a validated plan on its own thread and runtime.
pub fn start(plan: LoadPlan) -> Result<LoadHandle, LoadError> {
    plan.validate()?;
    let (stop, stopped) = watch::channel(false);
    let live = Arc::new(Mutex::new(Live::default()));
    let published = Arc::clone(&live);
    let io = |what: &'static str| {
        move |source| LoadError::Io {
            what: what.into(),
            cause: source,
        }
    };
    // One single-threaded runtime per thread, like wrk's event loop per
    // thread: a worker and its connection stay on one thread, so a request
    // costs no cross-thread wake-ups. The first runtime also runs the
    // collector, the heartbeat and the orchestration.
    let threads = plan.threads();
    let mut helpers = Vec::new();
    for index in 1..threads {
        let runtime = single_threaded().map_err(io("cannot start a load generator runtime"))?;
        let handle = runtime.handle().clone();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("loadgen-{index}"))
            .spawn(move || {
                let _ = runtime.block_on(finished);
            })
            .map_err(io("cannot start a load generator thread"))?;
        helpers.push((handle, done, thread));
    }
    let thread = std::thread::Builder::new()
        .name("loadgen-0".into())
        .spawn(move || {
            let runtime =
                single_threaded().map_err(io("cannot start the load generator's runtime"))?;
            let mut handles = vec![runtime.handle().clone()];
            handles.extend(helpers.iter().map(|(handle, _, _)| handle.clone()));
            let report = runtime.block_on(drive(plan, stopped, published, handles));
            for (_, done, thread) in helpers {
                let _ = done.send(());
                let _ = thread.join();
            }
            Ok(report)
        })
        .map_err(io("cannot start the load generator's thread"))?;
    Ok(LoadHandle { stop, live, thread })
}

fn single_threaded() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs a plan to the end and returns its report.
pub fn run(plan: LoadPlan) -> Result<LoadReport, LoadError> {
    start(plan)?.join()
}

async fn drive(
    plan: LoadPlan,
    mut stop: watch::Receiver<bool>,
    live: Arc<Mutex<Live>>,
    runtimes: Vec<tokio::runtime::Handle>,
) -> LoadReport {
    // Workers listen to `halt`, which the run controls; the caller's `stop` only triggers it.
    let (halt, halted) = watch::channel(false);
    // A short lead so every worker is ready when the schedule begins, or
    // the wait until the instant every shard starts at.
    #[expect(
        clippy::disallowed_methods,
        reason = "--start-at names a wall-clock instant every shard shares"
    )]
    let now = std::time::SystemTime::now();
    let lead = plan
        .start_at
        .and_then(|at| at.duration_since(now).ok())
        .unwrap_or_default()
        .max(Duration::from_millis(20));
    let start = Instant::now() + lead;
    let end = start + plan.duration;
    let measure_from = start + plan.warmup;
    // Kept until every worker has finished.
    let timer = if plan.precise {
        timer::PreciseTimer::start().ok()
    } else {
        None
    };
    let total_weight: f64 = plan.targets.iter().map(|t| t.weight).sum();
    let mut running = 0.0;
    let targets = plan
        .targets
        .iter()
        .map(|t| {
            running += t.weight / total_weight;
            (t.clone(), running)
        })
        .collect();
    let shared = Arc::new(Shared {
        start,
        end,
        measure_from,
        timer: timer.as_ref().map(timer::PreciseTimer::handle),
        timeout: plan.timeout,
        targets,
        dropped: AtomicU64::default(),
        sent: AtomicU64::default(),
    });
    let tls = Tls::new(plan.insecure, plan.http2);
    let (snapshots, inbox) = mpsc::channel::<Snapshot>(SNAPSHOT_QUEUE);
    // A second closes once no answer can still be in flight for it, but
    // at most 32 s late, so the live view keeps up with long (streamed)
    // answers; data that comes later still counts in the totals.
    let lag = plan.timeout.as_secs().min(30) + 2;
    let collector = tokio::spawn(collect(inbox, start, lag, live));
    let heartbeat = tokio::spawn(heartbeat(start, end, halted.clone()));
    let schedule = schedule(&plan);
    let workers = match &plan.pacing {
        Pacing::Open { connections, .. } => *connections,
        Pacing::Closed { users, .. } => *users,
    };
    let llm = plan.llm.clone().map(Arc::new);
    let plan_seed = match &plan.pacing {
        Pacing::Open { seed, .. } => *seed,
        Pacing::Closed { .. } => 1,
    };
    let mut tasks = Vec::new();
    for index in 0..workers {
        let pace = match (&plan.pacing, &schedule) {
            (Pacing::Open { .. }, Some(schedule)) => Pace::Open(Arc::clone(schedule)),
            (Pacing::Closed { think, .. }, _) => Pace::Closed {
                think: Sampler::new(think),
                rng: Rng::stream(1, index, "think"),
            },
            (Pacing::Open { .. }, None) => unreachable!("an open plan has a schedule"),
        };
        let runtime = &runtimes[index as usize % runtimes.len()];
        let llm = llm
            .as_ref()
            .map(|requests| worker::LlmDraws::new(Arc::clone(requests), plan_seed, index));
        tasks.push(runtime.spawn(worker::run(
            Arc::clone(&shared),
            Connection::new(plan.http2, tls.clone()),
            pace,
            Rng::stream(2, index, "targets"),
            llm,
            snapshots.clone(),
            halted.clone(),
        )));
    }
    drop(snapshots);
    // Run to the end, then give requests in flight a short grace before
    // abandoning them as dropped; a stop from the caller halts at once.
    let stopped_early = tokio::select! {
        () = tokio::time::sleep_until(end) => false,
        _ = stop.wait_for(|stopped| *stopped) => true,
    };
    let stopped_at = Instant::now();
    if !stopped_early {
        let grace = plan.timeout.min(Duration::from_secs(2));
        let _ = tokio::time::timeout(grace, async {
            // A task leaves the list once it has finished, so none is awaited twice.
            while let Some(task) = tasks.last_mut() {
                let _ = task.await;
                tasks.pop();
            }
        })
        .await;
    }
    let _ = halt.send(true);
    for task in tasks {
        // Halted workers flush their last snapshot and return promptly.
        let _ = task.await;
    }
    let heartbeat = heartbeat.await.unwrap_or_default();
    let collector = collector.await.ok();
    let elapsed = stopped_at
        .saturating_duration_since(measure_from)
        .min(plan.duration.saturating_sub(plan.warmup))
        .max(Duration::from_millis(1));
    let mut scheduled = shared.sent.load(Ordering::Relaxed);
    let mut dropped = shared.dropped.load(Ordering::Relaxed);
    if let Some(schedule) = &schedule {
        let mut schedule = schedule.lock().unwrap_or_else(PoisonError::into_inner);
        // Requests due before the end that no connection got to.
        while schedule.claim().is_some() {
            dropped += 1;
        }
        scheduled = schedule.scheduled;
    }
    // The last second's share of a whole second, counted from the start.
    let fraction = stopped_at
        .saturating_duration_since(start)
        .min(plan.duration)
        .as_secs_f64()
        .fract();
    let totals = collector.map(|c| c.finish(if fraction > 0.0 { fraction } else { 1.0 }));
    report(&plan, totals, elapsed, scheduled, dropped, &heartbeat)
}

/// The shared open-loop schedule, or none for a closed loop.
fn schedule(plan: &LoadPlan) -> Option<Arc<Mutex<Schedule>>> {
    let Pacing::Open {
        process,
        segments,
        seed,
        ..
    } = &plan.pacing
    else {
        return None;
    };
    let from_zero = *process == ArrivalProcess::Constant;
    // A shard of an evenly spaced schedule keeps its share of the whole
    // one; a shard of a Poisson one has a stream of its own at its share
    // of the rate.
    let (segments, stream, keep) = match plan.shard {
        Some(shard) if !from_zero => {
            let fraction = 1.0 / f64::from(shard.count);
            let scaled = segments
                .iter()
                .map(|s| crate::model::RateSegment {
                    start_rps: s.start_rps * fraction,
                    end_rps: s.end_rps * fraction,
                    ..*s
                })
                .collect();
            (scaled, shard.index + 1, None)
        }
        shard => (segments.clone(), 0, shard),
    };
    let clock = ArrivalClock::from_segments(
        *process,
        segments,
        Rng::stream(*seed, stream, "load-schedule"),
    );
    Some(Arc::new(Mutex::new(
        Schedule::new(clock, plan.duration.as_secs_f64(), from_zero).keeping(keep),
    )))
}

/// Merges snapshots as they come, closing seconds `lag_seconds` old, until
/// every worker has hung up.
async fn collect(
    mut inbox: mpsc::Receiver<Snapshot>,
    start: Instant,
    lag_seconds: u64,
    live: Arc<Mutex<Live>>,
) -> Collector {
    let mut collector = Collector::new(lag_seconds, live);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            message = inbox.recv() => match message {
                Some(snapshot) => collector.add(&snapshot),
                None => break,
            },
            _ = tick.tick() => {
                collector.close_before(Instant::now().saturating_duration_since(start).as_secs());
            }
        }
    }
    collector
}

/// Sleeps 10 ms at a time until the end and records how late each wake-up
/// is: the generator's own scheduling delay.
/// What the heartbeat saw: its own lateness, and the host's steal time in
/// each second of the run (ms), when the system says it.
#[derive(Default)]
struct Heartbeat {
    lag: LatencyHistogram,
    steal_ms: Option<Vec<f64>>,
}

async fn heartbeat(start: Instant, end: Instant, mut stop: watch::Receiver<bool>) -> Heartbeat {
    let mut lag = LatencyHistogram::coarse();
    let period = Duration::from_millis(10);
    let mut next = Instant::now() + period;
    let mut steal = steal::Meter::start();
    while next < end && !*stop.borrow() {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            _ = stop.wait_for(|stopped| *stopped) => break,
        }
        let now = Instant::now();
        lag.record(
            u64::try_from(now.saturating_duration_since(next).as_nanos()).unwrap_or(u64::MAX),
        );
        if let Some(meter) = &mut steal {
            meter.at(now.saturating_duration_since(start).as_secs());
        }
        next = (next + period).max(now);
    }
    Heartbeat {
        lag,
        steal_ms: steal.map(|meter| meter.finish(end.saturating_duration_since(start).as_secs())),
    }
}

fn report(
    plan: &LoadPlan,
    totals: Option<recorder::Totals>,
    elapsed: Duration,
    scheduled: u64,
    dropped: u64,
    heartbeat: &Heartbeat,
) -> LoadReport {
    let lag = &heartbeat.lag;
    let (all, mut intervals) = match totals {
        Some(t) => (t.all, t.intervals),
        None => (Snapshot::new(0), Vec::new()),
    };
    if let Some(steal) = &heartbeat.steal_ms {
        for point in &mut intervals {
            point.steal_ms = usize::try_from(point.second)
                .ok()
                .and_then(|s| steal.get(s).copied());
        }
    }
    let requests = all.corrected.count();
    let mut errors: BTreeMap<String, u64> = Failure::ALL
        .iter()
        .zip(all.failures)
        .map(|(f, n)| (f.name().to_owned(), n))
        .collect();
    errors.insert(
        "http_5xx".into(),
        all.status.range(500..600).map(|(_, n)| n).sum(),
    );
    let status = all
        .status
        .iter()
        .map(|(code, n)| (code.to_string(), *n))
        .collect();
    let lag_p99 = Duration::from_nanos(lag.quantile_ns(0.99));
    let mut report = LoadReport {
        targets: plan.targets.iter().map(|t| t.url.clone()).collect(),
        mode: plan.describe(),
        duration_s: elapsed.as_secs_f64(),
        scheduled,
        requests,
        dropped,
        throughput_rps: requests as f64 / elapsed.as_secs_f64(),
        latency_ms: all.corrected.summary(),
        by_target: if plan.targets.len() > 1 {
            plan.targets
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let latency = all.by_target.get(i).cloned().unwrap_or_default();
                    TargetLatency {
                        url: t.url.clone(),
                        requests: latency.count(),
                        latency_ms: latency.summary(),
                        latency,
                    }
                })
                .collect()
        } else {
            Vec::new()
        },
        uncorrected_latency_ms: all.uncorrected.summary(),
        errors,
        status,
        bytes_sent: all.bytes_sent,
        bytes_received: all.bytes_received,
        generator_saturated: lag_p99 > SATURATED_LAG,
        generator_lag_ms: LagSummary {
            p99: lag_p99.as_secs_f64() * 1e3,
            max: lag.max_ns() as f64 / 1e6,
        },
        steal_ms: heartbeat.steal_ms.as_ref().map(|s| s.iter().sum()),
        sent_late: all.sent_late,
        think_ms: (all.thinks > 0).then(|| all.think_ns as f64 / all.thinks as f64 / 1e6),
        intervals,
        thresholds: Vec::new(),
        latency_hdr: EncodedHistogram::of(&all.corrected),
        uncorrected_latency_hdr: EncodedHistogram::of(&all.uncorrected),
        shard: plan.shard.map(|shard| ShardInfo {
            shard: shard.to_string(),
            start_at_unix_ms: plan.start_at.and_then(|at| {
                at.duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| u64::try_from(d.as_millis()).ok())
            }),
        }),
        llm: plan.llm.as_ref().map(|_| {
            let tally = all.llm.as_deref().cloned().unwrap_or_default();
            crate::stats::LlmLoadReport::new(
                (tally.sequences, tally.tokens_in, tally.tokens_out),
                [tally.ttft, tally.tpot, tally.itl],
                elapsed.as_secs_f64(),
            )
        }),
        latency: all.corrected,
        uncorrected_latency: all.uncorrected,
    };
    report.thresholds = plan.thresholds.iter().map(|t| check(t, &report)).collect();
    report
}

/// Evaluates one threshold against a report.
pub fn check(threshold: &Threshold, report: &LoadReport) -> ThresholdResult {
    let value = match threshold.metric {
        ThresholdMetric::Errors => {
            let failed: u64 = report
                .errors
                .iter()
                .filter(|(k, _)| k.as_str() != "http_5xx")
                .map(|(_, n)| n)
                .sum();
            let server_errors = report.errors.get("http_5xx").copied().unwrap_or(0);
            let attempts = report.requests + failed;
            if attempts == 0 {
                1.0
            } else {
                (failed + server_errors) as f64 / attempts as f64
            }
        }
        ThresholdMetric::Latency(statistic) => {
            let h = &report.latency;
            match statistic.quantile() {
                Some(q) => h.quantile_ns(q) as f64 / 1e6,
                None if statistic == crate::model::LatencyStatistic::Max => h.max_ns() as f64 / 1e6,
                None => h.mean_ns() / 1e6,
            }
        }
    };
    // A latency over no successful request is no evidence: it fails.
    let server_errors = report.errors.get("http_5xx").copied().unwrap_or(0);
    let evidence =
        matches!(threshold.metric, ThresholdMetric::Errors) || report.requests > server_errors;
    ThresholdResult {
        threshold: threshold.text.clone(),
        value,
        pass: evidence && threshold.holds(value),
    }
}

/// An open-loop pacing at a constant `rate_rps`, evenly spaced.
pub fn constant_rate(rate_rps: f64, connections: u32) -> Pacing {
    Pacing::Open {
        process: ArrivalProcess::Constant,
        segments: vec![crate::model::RateSegment {
            start: 0.0,
            end: f64::INFINITY,
            start_rps: rate_rps,
            end_rps: rate_rps,
        }],
        connections,
        seed: 1,
    }
}
