//! What one replication counts: levels with their time integrals, and the
//! per-service and per-class tallies.

use crate::stats::LatencyHistogram;

use super::SimTime;

/// A count whose time integral is kept over the measured window.
#[derive(Clone, Copy, Debug, Default)]
pub struct Level {
    pub(super) value: i64,
    pub(super) last: SimTime,
    /// Integral of the value over measured time, in value × nanoseconds.
    pub area: f64,
    /// Integral of the value since time zero, for the time series.
    pub lifetime: f64,
}

impl Level {
    #[inline]
    pub(super) fn change(&mut self, now: SimTime, from: SimTime, delta: i64) {
        self.settle(now, from);
        self.value += delta;
    }

    #[inline]
    pub(super) fn settle(&mut self, now: SimTime, from: SimTime) {
        if now > self.last {
            self.lifetime += self.value as f64 * now.since(self.last) as f64;
        }
        let start = self.last.max(from);
        if now > start {
            self.area += self.value as f64 * now.since(start) as f64;
        }
        self.last = now;
    }
}

/// Per-service measurements of one replication; summed across replications.
#[derive(Clone, Debug, Default)]
pub struct StationTally {
    pub arrivals: u64,
    pub completions: u64,
    pub rejections: u64,
    /// Calls failed by the service's own error rate.
    pub errors: u64,
    /// Calls a cache answered itself.
    pub cache_hits: u64,
    /// Calls refused by the rate limit.
    pub rate_limited: u64,
    /// Batches run, by size (index 0 unused); empty without batching.
    pub batch_sizes: Vec<u64>,
    /// Calls lost to a crash, or refused with every replica down.
    pub crash_failures: u64,
    pub waited: u64,
    pub started: u64,
    pub service_ns: u128,
    pub response: LatencyHistogram,
    pub wait: LatencyHistogram,
    /// Workers held.
    pub busy: Level,
    /// Calls waiting for a worker.
    pub queued: Level,
    /// Calls admitted and not yet answered.
    pub present: Level,
    /// Workers of the replicas serving.
    pub serving: Level,
    /// An LLM server's KV-cache blocks in use, over all replicas.
    pub kv_blocks: Level,
    /// An LLM server's steps.
    pub llm: LlmStationTally,
}

/// An LLM server's counts of one replication.
#[derive(Clone, Copy, Debug, Default)]
pub struct LlmStationTally {
    pub steps: u64,
    pub prefill_tokens: u64,
    pub decode_tokens: u64,
    /// Sequences preempted (their KV freed, to be computed again).
    pub preemptions: u64,
}

/// A class's token timings at the LLM servers its requests reach.
#[derive(Clone, Debug, Default)]
pub struct LlmClassTally {
    /// Sequences finished whose request arrived in the measured time.
    pub requests: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// From the request's arrival in the system to its first token.
    pub ttft: LatencyHistogram,
    /// Per sequence: (last token − first token) / (output tokens − 1).
    pub tpot: LatencyHistogram,
    /// Every gap between two tokens of a sequence, pooled.
    pub itl: LatencyHistogram,
    /// Of `requests`, those that met the class's token bounds (goodput).
    pub attained: u64,
}

impl Level {
    /// Adds another replication's measured integral; the value and the
    /// lifetime integral belong to a run in progress and are left alone.
    pub fn merge(&mut self, other: &Self) {
        self.area += other.area;
    }
}

impl StationTally {
    /// Adds another replication's measurements of the same service.
    pub fn merge(&mut self, other: &Self) {
        let Self {
            arrivals,
            completions,
            rejections,
            errors,
            cache_hits,
            rate_limited,
            batch_sizes,
            crash_failures,
            waited,
            started,
            service_ns,
            response,
            wait,
            busy,
            queued,
            present,
            serving,
            kv_blocks,
            llm,
        } = self;
        *arrivals += other.arrivals;
        *completions += other.completions;
        *rejections += other.rejections;
        *errors += other.errors;
        *cache_hits += other.cache_hits;
        *rate_limited += other.rate_limited;
        *crash_failures += other.crash_failures;
        if batch_sizes.len() < other.batch_sizes.len() {
            batch_sizes.resize(other.batch_sizes.len(), 0);
        }
        for (x, y) in batch_sizes.iter_mut().zip(&other.batch_sizes) {
            *x += y;
        }
        *waited += other.waited;
        *started += other.started;
        *service_ns += other.service_ns;
        response.merge(&other.response);
        wait.merge(&other.wait);
        busy.merge(&other.busy);
        queued.merge(&other.queued);
        present.merge(&other.present);
        serving.merge(&other.serving);
        kv_blocks.merge(&other.kv_blocks);
        llm.steps += other.llm.steps;
        llm.prefill_tokens += other.llm.prefill_tokens;
        llm.decode_tokens += other.llm.decode_tokens;
        llm.preemptions += other.llm.preemptions;
    }
}

impl ClassTally {
    /// Adds another replication's measurements of the same class.
    pub fn merge(&mut self, other: &Self) {
        let Self {
            arrived,
            succeeded,
            departed,
            failed,
            unfinished,
            latency,
            llm,
        } = self;
        *arrived += other.arrived;
        *succeeded += other.succeeded;
        *departed += other.departed;
        *failed += other.failed;
        *unfinished += other.unfinished;
        latency.merge(&other.latency);
        llm.requests += other.llm.requests;
        llm.tokens_in += other.llm.tokens_in;
        llm.tokens_out += other.llm.tokens_out;
        llm.ttft.merge(&other.llm.ttft);
        llm.tpot.merge(&other.llm.tpot);
        llm.itl.merge(&other.llm.itl);
        llm.attained += other.llm.attained;
    }
}

/// Per-class measurements of one replication.
#[derive(Clone, Debug, Default)]
pub struct ClassTally {
    /// Requests that arrived in the measured time.
    pub arrived: u64,
    pub succeeded: u64,
    /// Successful requests that finished in the measured time, whenever
    /// they arrived: the class's throughput.
    pub departed: u64,
    pub failed: u64,
    /// Requests that arrived in the measured time and were still in the
    /// system at its end, counted from the live calls (not by subtraction).
    pub unfinished: u64,
    pub latency: LatencyHistogram,
    pub llm: LlmClassTally,
}
