//! The hot path: one worker per connection (open loop) or per user (closed
//! loop), with the pacing as a strategy rather than a copy of the loop.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::sim::{ArrivalClock, Rng, Sampler};

use super::client::{Answer, Body, Connection, Failure};
use super::plan::{LlmRequests, Target};
use super::recorder::{LlmTally, Snapshot};
use super::sse::TokenStream;

/// A request sent more than this after its intended time counts as late.
const LATE: Duration = Duration::from_millis(10);

/// The open-loop schedule, shared by the connections: whichever connection
/// is free claims the next request and sends it at its due time.
pub struct Schedule {
    clock: ArrivalClock,
    duration_s: f64,
    /// Evenly spaced schedules start at zero, so a run of D seconds at R
    /// requests per second schedules exactly D·R requests.
    offset: Option<f64>,
    exhausted: bool,
    /// Requests the schedule has handed out (its length, by the end).
    pub scheduled: u64,
    /// Keep only this shard's share of the requests.
    keep: Option<super::Shard>,
    /// Requests of the whole schedule passed, kept or not.
    passed: u64,
}

impl Schedule {
    /// A schedule of `duration_s` seconds from `clock`; `from_zero` shifts
    /// it so the first request is due at once (for evenly spaced ones).
    pub fn new(clock: ArrivalClock, duration_s: f64, from_zero: bool) -> Self {
        Self {
            clock,
            duration_s,
            offset: if from_zero { None } else { Some(0.0) },
            exhausted: false,
            scheduled: 0,
            keep: None,
            passed: 0,
        }
    }

    /// Keeps only `shard`'s share: every `count`-th request from the
    /// `index`-th.
    pub fn keeping(mut self, shard: Option<super::Shard>) -> Self {
        self.keep = shard;
        self
    }

    /// The next request's due time, in seconds from the start.
    pub fn claim(&mut self) -> Option<f64> {
        if self.exhausted {
            return None;
        }
        loop {
            let next = self
                .clock
                .next_arrival()
                .map(|t| t - *self.offset.get_or_insert(t));
            // The tolerance absorbs rounding in the sum of many equal gaps.
            let Some(t) = next.filter(|t| *t < self.duration_s - 1e-9) else {
                self.exhausted = true;
                return None;
            };
            self.passed += 1;
            if let Some(shard) = self.keep
                && !shard.owns(self.passed - 1)
            {
                continue;
            }
            self.scheduled += 1;
            return Some(t);
        }
    }
}

/// How a worker paces its requests.
pub enum Pace {
    /// Claim due times from the shared schedule.
    Open(Arc<Mutex<Schedule>>),
    /// Think, then send at once.
    Closed {
        /// Think time in nanoseconds.
        think: Sampler,
        /// Its random stream.
        rng: Rng,
    },
}

/// A worker's streamed LLM requests: their lengths' draws, and the token
/// stream of the one in flight.
pub struct LlmDraws {
    requests: Arc<LlmRequests>,
    prompt: Sampler,
    max_tokens: Sampler,
    rng: Rng,
    /// The request in flight: its body and prompt length.
    body: Option<(Body, u64)>,
    tokens: TokenStream,
}

impl LlmDraws {
    /// Draws for worker `index`, on a random stream of its own.
    pub fn new(requests: Arc<LlmRequests>, seed: u64, index: u32) -> Self {
        Self {
            prompt: Sampler::new(&requests.prompt.0),
            max_tokens: Sampler::new(&requests.max_tokens.0),
            requests,
            rng: Rng::stream(seed, index, "llm-lengths"),
            body: None,
            tokens: TokenStream::default(),
        }
    }

    /// Draws the next request's lengths and writes its body for `target`.
    fn next(&mut self, target: &Target) {
        let prompt = crate::model::TokenCount::tokens_of(self.prompt.sample(&mut self.rng));
        let max_tokens = crate::model::TokenCount::tokens_of(self.max_tokens.sample(&mut self.rng));
        let body = self.requests.body(target.is_chat(), prompt, max_tokens);
        self.body = Some((json_request(target, body), u64::from(prompt)));
        self.tokens.clear();
    }

    /// Records the streamed answer's token timings, its latency counted
    /// from `from`; false when it streamed no token.
    fn record(&self, snapshot: &mut Snapshot, from: Instant) -> bool {
        let tokens = &self.tokens;
        let (Some(first), Some(last)) = (tokens.first, tokens.last) else {
            return false;
        };
        let tally = snapshot.llm.get_or_insert_with(Box::<LlmTally>::default);
        tally.sequences += 1;
        let prompt = self.body.as_ref().map_or(0, |(_, prompt)| *prompt);
        tally.tokens_in += tokens.prompt_tokens.unwrap_or(prompt);
        let output = tokens.output_tokens().max(tokens.events);
        tally.tokens_out += output;
        tally
            .ttft
            .record(nanos(first.saturating_duration_since(from)));
        if output > 1 {
            tally
                .tpot
                .record(nanos(last.saturating_duration_since(first)) / (output - 1));
        }
        for gap in &tokens.gaps {
            tally.itl.record(*gap);
        }
        true
    }
}

/// A request of its own for `target`: `POST` of `body` as JSON, with the
/// target's headers (its `Content-Length` and `Content-Type` replaced).
fn json_request(target: &Target, body: bytes::Bytes) -> Body {
    use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
    let mut headers: Vec<_> = target
        .headers
        .iter()
        .filter(|(name, _)| *name != CONTENT_LENGTH && *name != CONTENT_TYPE)
        .cloned()
        .collect();
    headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
    let http1 = super::plan::http1_request(
        &hyper::Method::POST,
        &target.path,
        &target.authority,
        &headers,
        &body,
    );
    Body {
        bytes: body,
        http1: http1.to_vec(),
    }
}

/// Sends one request: `target`'s own, or the LLM request drawn for it.
async fn send(
    connection: &mut Connection,
    target: &Target,
    llm: Option<&mut LlmDraws>,
) -> Result<Answer, Failure> {
    match llm {
        Some(LlmDraws {
            body: Some((body, _)),
            tokens,
            ..
        }) => connection.send_streaming(target, body, tokens).await,
        _ => connection.send(target).await,
    }
}

/// What every worker shares.
pub struct Shared {
    /// The schedule's time zero.
    pub start: Instant,
    /// When the schedule ends.
    pub end: Instant,
    /// Requests due before this are sent but not recorded (the warm-up).
    pub measure_from: Instant,
    /// Sends and thinks wait on this precise timer instead of tokio's,
    /// which rounds up to whole milliseconds.
    pub timer: Option<super::timer::Timer>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The targets and their cumulative weights (last is 1).
    pub targets: Vec<(Target, f64)>,
    /// Requests scheduled but never answered: not sent before the end, or
    /// abandoned in flight when the run stopped.
    pub dropped: AtomicU64,
    /// Requests sent by closed-loop users.
    pub sent: AtomicU64,
}

/// Runs one worker until the schedule ends or `stop` turns true.
pub async fn run(
    shared: Arc<Shared>,
    mut connection: Connection,
    mut pace: Pace,
    mut target_rng: Rng,
    mut llm: Option<LlmDraws>,
    snapshots: mpsc::Sender<Snapshot>,
    stop: watch::Receiver<bool>,
) {
    // One future for the stop signal, polled by every wait: cheaper than a
    // new one per request. Every branch that sees it fire leaves the loop.
    let flag = stop.clone();
    let stopped = async move {
        let mut stop = stop;
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    tokio::pin!(stopped);
    let mut snapshot = Snapshot::new(0);
    // When the last answer came, to measure the pause before the next send.
    let mut answered: Option<Instant> = None;
    // One timer for every request's timeout, reset each time: cheaper than
    // a new timer per request on the hot path.
    let deadline = tokio::time::sleep(shared.timeout);
    tokio::pin!(deadline);
    if let Pace::Closed { think, rng } = &mut pace {
        // Users start out thinking, so they do not all arrive at once.
        let pause = Duration::from_nanos(think.sample(rng));
        if sleep_or_stop(&shared, shared.start + pause, stopped.as_mut()).await {
            return;
        }
    }
    loop {
        let due = match &mut pace {
            Pace::Open(schedule) => {
                let claimed = schedule
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .claim();
                let Some(t) = claimed else { break };
                shared.start + Duration::from_secs_f64(t)
            }
            Pace::Closed { .. } => Instant::now(),
        };
        // A request claimed after its due time found every connection busy:
        // the wait is the server's doing and its latency counts from the due
        // time. One claimed in time waits for its due time on a free
        // connection, and any lateness then is the generator's own timer
        // (about a millisecond), so its latency counts from the actual send.
        let backlogged = matches!(pace, Pace::Open(_)) && Instant::now() > due;
        if Instant::now() >= shared.end || *flag.borrow() {
            if matches!(pace, Pace::Open(_)) {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            break;
        }
        // Hand in the last second's data before waiting, so it is never held long.
        flush_if_stale(&mut snapshot, &shared, &snapshots).await;
        if due > Instant::now() && sleep_or_stop(&shared, due, stopped.as_mut()).await {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            break;
        }
        let sent = Instant::now();
        if backlogged && sent.saturating_duration_since(due) > LATE {
            snapshot.sent_late += 1;
        }
        let latency_from = if backlogged { due } else { sent };
        if matches!(pace, Pace::Closed { .. }) {
            shared.sent.fetch_add(1, Ordering::Relaxed);
            if let Some(answered) = answered {
                snapshot.think_ns += nanos(sent - answered);
                snapshot.thinks += 1;
            }
        }
        let target_index = pick(&shared.targets, &mut target_rng);
        let target = &shared.targets[target_index].0;
        if let Some(llm) = &mut llm {
            llm.next(target);
        }
        deadline.as_mut().reset(sent + shared.timeout);
        // The timer and the stop signal are polled outside tokio's
        // cooperative budget: a server streaming a body without pause keeps
        // the read ready until the budget is spent, and a budgeted timer
        // would then never be seen to fire.
        let outcome = tokio::select! {
            biased;
            answer = send(&mut connection, target, llm.as_mut()) => Ok(answer),
            () = tokio::task::unconstrained(deadline.as_mut()) => Err(()),
            () = tokio::task::unconstrained(stopped.as_mut()) => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                break;
            }
        };
        let done = Instant::now();
        let second = done.saturating_duration_since(shared.start).as_secs();
        if second != snapshot.second {
            let full = std::mem::replace(&mut snapshot, Snapshot::new(second));
            if snapshots.send(full).await.is_err() {
                return;
            }
        }
        let request_size = match &llm {
            Some(LlmDraws {
                body: Some((body, _)),
                ..
            }) => body.http1.len() as u64,
            _ => request_bytes(target),
        };
        snapshot.bytes_sent += connection.take_written() * request_size;
        let warming_up = due < shared.measure_from;
        match outcome {
            // Sent and answered in the warm-up: nothing recorded.
            Ok(_) | Err(()) if warming_up => {
                if outcome.is_err() {
                    connection = connection.reset();
                }
            }
            // A streamed LLM answer of 2xx with no token in it says nothing
            // of the model's timing: it is a protocol failure.
            Ok(Ok(answer))
                if (200..300).contains(&answer.status)
                    && llm
                        .as_ref()
                        .is_some_and(|l| !l.record(&mut snapshot, latency_from)) =>
            {
                snapshot.fail(Failure::Protocol);
            }
            Ok(Ok(answer)) => {
                snapshot.corrected.record(nanos(done - latency_from));
                snapshot.uncorrected.record(nanos(done - sent));
                if shared.targets.len() > 1 {
                    if snapshot.by_target.len() <= target_index {
                        snapshot
                            .by_target
                            .resize_with(target_index + 1, crate::stats::LatencyHistogram::coarse);
                    }
                    snapshot.by_target[target_index].record(nanos(done - latency_from));
                }
                *snapshot.status.entry(answer.status).or_default() += 1;
                snapshot.bytes_received += answer.bytes;
            }
            Ok(Err(failure)) => snapshot.fail(failure),
            Err(()) => {
                // The connection may be mid-response: start a fresh one.
                connection = connection.reset();
                snapshot.fail(Failure::Timeout);
            }
        }
        answered = Some(done);
        if let Pace::Closed { think, rng } = &mut pace {
            flush_if_stale(&mut snapshot, &shared, &snapshots).await;
            let pause = Duration::from_nanos(think.sample(rng));
            if !pause.is_zero()
                && sleep_or_stop(&shared, Instant::now() + pause, stopped.as_mut()).await
            {
                break;
            }
        }
    }
    let _ = snapshots.send(snapshot).await;
}

/// Sends the snapshot if its second is over, and starts a new one.
async fn flush_if_stale(
    snapshot: &mut Snapshot,
    shared: &Shared,
    snapshots: &mpsc::Sender<Snapshot>,
) {
    let second = Instant::now()
        .saturating_duration_since(shared.start)
        .as_secs();
    if second != snapshot.second {
        let full = std::mem::replace(snapshot, Snapshot::new(second));
        let _ = snapshots.send(full).await;
    }
}

/// Sleeps until `until` (on the precise timer when the plan has one);
/// true if told to stop first.
async fn sleep_or_stop(
    shared: &Shared,
    until: Instant,
    stop: Pin<&mut impl Future<Output = ()>>,
) -> bool {
    if let Some(timer) = &shared.timer {
        tokio::select! {
            () = timer.sleep_until(until.into_std()) => false,
            () = stop => true,
        }
    } else {
        tokio::select! {
            () = tokio::time::sleep_until(until) => false,
            () = stop => true,
        }
    }
}

/// The index of a target drawn by weight.
fn pick(targets: &[(Target, f64)], rng: &mut Rng) -> usize {
    rng.weighted(targets, |(_, cumulative)| *cumulative)
}

/// Request line, headers and body, as HTTP/1.1 would put them on the wire.
fn request_bytes(target: &Target) -> u64 {
    let line = target.method.as_str().len() + target.path.len() + 12;
    let host = target.authority.len() + 8;
    let headers: usize = target
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    (line + host + headers + 2 + target.body.len()) as u64
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
