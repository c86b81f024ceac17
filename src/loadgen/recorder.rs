//! Recording off the hot path: each worker fills a [`Snapshot`] for the
//! current second and sends it over a bounded channel when the second ends;
//! the [`Collector`] merges snapshots into totals and one point per second.
//! Memory is fixed per worker and per open second, whatever the request count.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::stats::{IntervalPoint, LatencyHistogram};

use super::Live;
use super::client::Failure;

/// What one worker measured during one second.
pub struct Snapshot {
    /// Seconds since the start of the schedule.
    pub second: u64,
    /// Latency from the intended send time.
    pub corrected: LatencyHistogram,
    /// Latency from the actual send.
    pub uncorrected: LatencyHistogram,
    /// With more than one target: the corrected latency by target, in the
    /// plan's order (grown as targets are first answered).
    pub by_target: Vec<LatencyHistogram>,
    /// Responses by status code.
    pub status: BTreeMap<u16, u64>,
    /// Failures by kind, in [`Failure::ALL`] order.
    pub failures: [u64; Failure::ALL.len()],
    /// Request bytes written.
    pub bytes_sent: u64,
    /// Response body bytes read.
    pub bytes_received: u64,
    /// Requests sent more than 10 ms after their intended time.
    pub sent_late: u64,
    /// Closed loop: the pauses between a user's answer and its next send.
    pub think_ns: u64,
    /// How many such pauses.
    pub thinks: u64,
    /// Streamed LLM answers' token timings.
    pub llm: Option<Box<LlmTally>>,
}

/// Token timings of streamed LLM answers (definitions in docs/llm.md).
#[derive(Clone)]
pub struct LlmTally {
    /// Answers that streamed at least one token.
    pub sequences: u64,
    /// Their prompt tokens (the server's count, or the words sent).
    pub tokens_in: u64,
    /// Their output tokens (the server's count, or the events with text).
    pub tokens_out: u64,
    /// From when the request was due to its first token's event.
    pub ttft: LatencyHistogram,
    /// Per answer: (last event − first event) / (output tokens − 1).
    pub tpot: LatencyHistogram,
    /// Every gap between consecutive events with text.
    pub itl: LatencyHistogram,
}

impl Default for LlmTally {
    fn default() -> Self {
        Self {
            sequences: 0,
            tokens_in: 0,
            tokens_out: 0,
            ttft: LatencyHistogram::coarse(),
            tpot: LatencyHistogram::coarse(),
            itl: LatencyHistogram::coarse(),
        }
    }
}

impl LlmTally {
    fn merge(&mut self, other: &Self) {
        self.sequences += other.sequences;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.ttft.merge(&other.ttft);
        self.tpot.merge(&other.tpot);
        self.itl.merge(&other.itl);
    }
}

impl Snapshot {
    /// An empty snapshot for `second`.
    pub fn new(second: u64) -> Self {
        Self {
            second,
            corrected: LatencyHistogram::coarse(),
            uncorrected: LatencyHistogram::coarse(),
            by_target: Vec::new(),
            status: BTreeMap::new(),
            failures: [0; Failure::ALL.len()],
            bytes_sent: 0,
            bytes_received: 0,
            sent_late: 0,
            think_ns: 0,
            thinks: 0,
            llm: None,
        }
    }

    /// Failed requests: transport failures and 5xx answers.
    pub fn errors(&self) -> u64 {
        self.failures.iter().sum::<u64>() + self.server_errors()
    }

    fn server_errors(&self) -> u64 {
        self.status.range(500..600).map(|(_, n)| n).sum()
    }

    /// Records a failure.
    pub fn fail(&mut self, failure: Failure) {
        let index = Failure::ALL
            .iter()
            .position(|f| *f == failure)
            .unwrap_or(Failure::ALL.len() - 1);
        self.failures[index] += 1;
    }

    fn absorb(&mut self, other: &Self) {
        self.corrected.merge(&other.corrected);
        self.uncorrected.merge(&other.uncorrected);
        if self.by_target.len() < other.by_target.len() {
            self.by_target
                .resize_with(other.by_target.len(), LatencyHistogram::coarse);
        }
        for (mine, theirs) in self.by_target.iter_mut().zip(&other.by_target) {
            mine.merge(theirs);
        }
        for (code, n) in &other.status {
            *self.status.entry(*code).or_default() += n;
        }
        for (a, b) in self.failures.iter_mut().zip(other.failures) {
            *a += b;
        }
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.sent_late += other.sent_late;
        self.think_ns += other.think_ns;
        self.thinks += other.thinks;
        if let Some(theirs) = &other.llm {
            self.llm.get_or_insert_default().merge(theirs);
        }
    }
}

/// Everything measured, merged.
pub struct Totals {
    /// All snapshots added together.
    pub all: Snapshot,
    /// One point per second, in order.
    pub intervals: Vec<IntervalPoint>,
}

/// Merges snapshots. Seconds more than `lag` behind the newest are closed
/// into points (a worker holds a second's data at most while one request is
/// in flight, so `lag` is the timeout plus a margin); data that arrives for a
/// closed second still counts in the totals.
pub struct Collector {
    all: Snapshot,
    open: BTreeMap<u64, Snapshot>,
    closed: Vec<IntervalPoint>,
    lag: u64,
    /// Latency over the closed seconds, for the live view.
    closed_latency: LatencyHistogram,
    live: Arc<Mutex<Live>>,
}

impl Collector {
    /// A collector that publishes closed points to `live` as it goes.
    pub fn new(lag_seconds: u64, live: Arc<Mutex<Live>>) -> Self {
        Self {
            all: Snapshot::new(0),
            open: BTreeMap::new(),
            closed: Vec::new(),
            lag: lag_seconds,
            closed_latency: LatencyHistogram::coarse(),
            live,
        }
    }

    /// Adds a worker's snapshot.
    pub fn add(&mut self, snapshot: &Snapshot) {
        self.all.absorb(snapshot);
        let closed_up_to = self.closed.last().map_or(0, |p| p.second + 1);
        if snapshot.second >= closed_up_to {
            self.open
                .entry(snapshot.second)
                .or_insert_with(|| Snapshot::new(snapshot.second))
                .absorb(snapshot);
        }
    }

    /// Closes seconds older than `now_second − lag`, and shows the live
    /// view every finished second, the recent ones provisionally (a slow
    /// answer may still add to them).
    pub fn close_before(&mut self, now_second: u64) {
        let limit = now_second.saturating_sub(self.lag);
        self.close_while(|second| second < limit, 1.0);
        let mut intervals = self.closed.clone();
        let mut latency = self.closed_latency.clone();
        let mut next = intervals.last().map_or(0, |p| p.second + 1);
        for (&second, snapshot) in self.open.range(..now_second) {
            while next < second {
                intervals.push(point(&Snapshot::new(next), 1.0));
                next += 1;
            }
            intervals.push(point(snapshot, 1.0));
            latency.merge(&snapshot.corrected);
            next = second + 1;
        }
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.intervals = intervals;
        live.latency = latency;
    }

    /// Closes every second; the last lasted `last_fraction` of a second.
    pub fn finish(mut self, last_fraction: f64) -> Totals {
        self.close_while(|_| true, last_fraction);
        Totals {
            all: self.all,
            intervals: self.closed,
        }
    }

    fn close_while(&mut self, keep_closing: impl Fn(u64) -> bool, last_fraction: f64) {
        let mut published = false;
        while let Some(entry) = self.open.first_entry() {
            let second = *entry.key();
            if !keep_closing(second) {
                break;
            }
            let snapshot = entry.remove();
            // Fill seconds in which nothing finished, so the series has no gaps.
            let mut next = self.closed.last().map_or(0, |p| p.second + 1);
            while next < second {
                self.closed.push(point(&Snapshot::new(next), 1.0));
                next += 1;
            }
            let length = if self.open.is_empty() {
                last_fraction.clamp(1e-3, 1.0)
            } else {
                1.0
            };
            // The second's histogram, encoded once, as it closes (the live
            // view's provisional points need none).
            let mut closed = point(&snapshot, length);
            if closed.requests > 0 {
                closed.latency_hdr = crate::stats::hdr::encode(&snapshot.corrected);
            }
            self.closed.push(closed);
            self.closed_latency.merge(&snapshot.corrected);
            published = true;
        }
        if published {
            let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
            live.intervals.clone_from(&self.closed);
            live.latency.clone_from(&self.closed_latency);
        }
    }
}

fn point(snapshot: &Snapshot, length_s: f64) -> IntervalPoint {
    let requests = snapshot.corrected.count();
    IntervalPoint {
        second: snapshot.second,
        requests,
        throughput_rps: requests as f64 / length_s,
        p50_ms: snapshot.corrected.quantile_ns(0.5) as f64 / 1e6,
        p99_ms: snapshot.corrected.quantile_ns(0.99) as f64 / 1e6,
        max_ms: snapshot.corrected.max_ns() as f64 / 1e6,
        errors: snapshot.errors(),
        steal_ms: None,
        latency_hdr: String::new(),
    }
}
