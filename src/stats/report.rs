//! The results of a run: what the JSON output holds, field for field.
//! docs/results-format.md documents this schema; keep them in step.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::{LatencyHistogram, LatencySummary};
use super::interval::Interval;

/// Results for every scenario that was run.
#[derive(Clone, Debug, Serialize)]
pub struct SimulationReport {
    /// The project's name.
    pub project: String,
    /// The seed the run used.
    pub seed: u64,
    /// One entry per scenario, in project order.
    pub scenarios: Vec<ScenarioReport>,
    /// Each scenario against the first (B − A), when replications allow an
    /// interval.
    pub comparisons: Vec<Comparison>,
}

/// The paired difference between two scenarios over the same replications.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The scenario compared against (A).
    pub baseline: String,
    /// The scenario compared (B).
    pub scenario: String,
    /// Whether both used common random numbers; pairing then removes the
    /// noise the two share.
    pub common_random_numbers: bool,
    /// B − A of the mean end-to-end latency, with its 95% interval.
    pub mean_ms: Interval,
    /// B − A of the p99 end-to-end latency, with its 95% interval.
    pub p99_ms: Interval,
}

/// How confident the figures are, from independent replications.
#[derive(Clone, Debug, Serialize)]
pub struct Confidence {
    /// The level of the intervals: 0.95.
    pub level: f64,
    /// How they were computed.
    pub method: String,
    /// The mean end-to-end latency.
    pub mean_ms: Interval,
    /// The p99 end-to-end latency.
    pub p99_ms: Interval,
    /// The throughput.
    pub throughput_rps: Interval,
}

/// One latency objective checked against a result.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveResult {
    /// The objective as written, like `p99 <= 200ms`.
    pub objective: String,
    /// The class it applies to; none for all requests.
    pub class: Option<String>,
    /// The measured value of the statistic.
    pub value_ms: f64,
    /// Whether it holds.
    pub pass: bool,
}

/// The headline figures of one replication, for intervals and comparisons.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplicationSummary {
    /// Mean end-to-end latency.
    pub mean_ms: f64,
    /// p99 end-to-end latency.
    pub p99_ms: f64,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Mean response time of each service, in scenario order.
    pub service_mean_ms: Vec<f64>,
}

/// Results for one scenario, over all its replications.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub scenario: String,
    /// Requests that finished successfully after the warm-up.
    pub requests: u64,
    /// Requests that failed (rejected somewhere on their path).
    pub failed: u64,
    /// Requests that arrived in the measured time (after the warm-up).
    pub arrived: u64,
    /// Of those, requests still in the system when the run ended:
    /// `arrived = requests + failed + unfinished`.
    pub unfinished: u64,
    /// Successful requests per second of measured time.
    pub throughput_rps: f64,
    /// End-to-end latency of successful requests.
    pub latency_ms: LatencySummary,
    /// True when a queue grew without bound: the offered load exceeds capacity.
    pub saturated: bool,
    /// The service that saturated first, when `saturated`.
    pub saturated_service: Option<String>,
    /// The service that limits the system: the fullest service with no
    /// fuller service below it in the call graph.
    pub bottleneck: String,
    /// Simulated seconds discarded at the start of each replication.
    pub warmup_s: f64,
    /// How the warm-up was chosen.
    pub warmup_method: WarmupMethod,
    /// Simulated seconds measured (after warm-up), summed over replications.
    pub measured_s: f64,
    /// Independent replications run.
    pub replications: u32,
    /// 95% intervals from the replications, when there are at least two.
    pub confidence: Option<Confidence>,
    /// The mean end-to-end latency from queueing theory, when the model fits
    /// its assumptions.
    pub analytic_ms: Option<f64>,
    /// Whether `analytic_ms` is exact (product form) or an approximation.
    pub analytic_method: Option<String>,
    /// The assumptions of the analytic model that this scenario breaks.
    pub analytic_assumptions_broken: Vec<String>,
    /// True when the simulation's interval for the mean excludes `analytic_ms`.
    pub analytic_outside_interval: bool,
    /// The project's latency objectives, checked.
    pub objectives: Vec<ObjectiveResult>,
    /// Whether every objective holds (true when there are none).
    pub slo_pass: bool,
    /// Per request class.
    pub classes: Vec<ClassReport>,
    /// The classes' token timings at LLM servers together; `null` when no
    /// class reaches one.
    pub llm: Option<LlmClassReport>,
    /// Per service, in the scenario's order.
    pub services: Vec<ServiceReport>,
    /// What the timeouts, retries, breakers and bulkheads did, for each link
    /// that has any, in the scenario's order.
    pub links: Vec<LinkReport>,
    /// How the first replication went over time, warm-up included.
    pub timeseries: TimeSeries,
    /// The end-to-end histogram behind `latency_ms`.
    #[serde(skip)]
    pub latency: LatencyHistogram,
    /// Each replication's headline figures.
    #[serde(skip)]
    pub per_replication: Vec<ReplicationSummary>,
}

/// What limits a scenario, as the app and reports word it.
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// A queue grew without bound at this service.
    Saturated(String),
    /// The limiting service is above [`Limit::BOTTLENECK_BUSY`]: a bottleneck.
    Bottleneck(String, f64),
    /// Nothing is near its capacity; this is only the busiest service.
    Busiest(String, f64),
}

impl Limit {
    /// Above this busy share a service is called a bottleneck.
    pub const BOTTLENECK_BUSY: f64 = 0.8;
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Saturated(name) => write!(f, "saturated: {name}"),
            Self::Bottleneck(name, busy) => write!(f, "bottleneck: {name} ({:.0}%)", 100.0 * busy),
            Self::Busiest(name, busy) => write!(f, "busiest: {name} ({:.0}%)", 100.0 * busy),
        }
    }
}

impl ScenarioReport {
    /// What limits the scenario: the saturated service, or the bottleneck
    /// when it is more than 80% busy, or else just the busiest service.
    pub fn limit(&self) -> Limit {
        if self.saturated {
            return Limit::Saturated(
                self.saturated_service
                    .clone()
                    .unwrap_or_else(|| self.bottleneck.clone()),
            );
        }
        let busy = self
            .services
            .iter()
            .find(|x| x.name == self.bottleneck)
            .map_or(0.0, |x| x.utilization);
        if busy > Limit::BOTTLENECK_BUSY {
            Limit::Bottleneck(self.bottleneck.clone(), busy)
        } else {
            Limit::Busiest(self.bottleneck.clone(), busy)
        }
    }
}

/// Results for one request class.
#[derive(Clone, Debug, Serialize)]
pub struct ClassReport {
    /// The class's name.
    pub name: String,
    /// Requests that arrived in the measured time.
    pub arrived: u64,
    /// Requests that finished successfully.
    pub requests: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Requests that arrived in the measured time and had not finished at
    /// its end: `arrived = requests + failed + unfinished`.
    pub unfinished: u64,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// End-to-end latency of successful requests.
    pub latency_ms: LatencySummary,
    /// The histogram behind `latency_ms`.
    #[serde(skip)]
    pub latency: LatencyHistogram,
    /// Token timings at the LLM servers the class's requests reach; `null`
    /// for a class that reaches none.
    pub llm: Option<LlmClassReport>,
}

/// A class's token timings at LLM servers (definitions in docs/llm.md).
#[derive(Clone, Debug, Default, Serialize)]
pub struct LlmClassReport {
    /// Sequences finished, of requests that arrived in the measured time.
    pub sequences: u64,
    /// Time to first token: from the request's arrival in the system to the
    /// first output token leaving the LLM server.
    pub ttft_ms: LatencySummary,
    /// Time per output token, per sequence: (last token − first token) /
    /// (output tokens − 1), for sequences of two tokens or more.
    pub tpot_ms: LatencySummary,
    /// Inter-token latency: every gap between two tokens of a sequence,
    /// pooled over sequences.
    pub itl_ms: LatencySummary,
    /// Prompt tokens of the finished sequences per second.
    pub tokens_in_per_s: f64,
    /// Output tokens of the finished sequences per second.
    pub tokens_out_per_s: f64,
    /// The share of finished sequences that met both the project's `ttft`
    /// and `tpot` objectives' limits (each request on its own; goodput's
    /// attainment); `null` without such objectives.
    pub attainment: Option<f64>,
    /// The histogram behind `ttft_ms`.
    #[serde(skip)]
    pub ttft: LatencyHistogram,
    /// The histogram behind `tpot_ms`.
    #[serde(skip)]
    pub tpot: LatencyHistogram,
    /// The histogram behind `itl_ms`.
    #[serde(skip)]
    pub itl: LatencyHistogram,
}

/// An LLM server's batching over the measured time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LlmServiceReport {
    /// Steps run, over all replicas.
    pub steps: u64,
    /// Mean sequences running (admitted, holding KV) per replica.
    pub mean_running: f64,
    /// Mean share of the KV cache's blocks in use.
    pub kv_utilization: f64,
    /// Sequences preempted: their KV freed, computed again later.
    pub preemptions: u64,
    /// Prompt tokens computed per second (recomputation included).
    pub prefill_tokens_per_s: f64,
    /// Output tokens decoded per second (first tokens, made by prefill
    /// steps, not included).
    pub decode_tokens_per_s: f64,
}

/// Results for one service, over all its replicas.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    /// The service's name.
    pub name: String,
    /// Its kind, as written in the project file.
    pub kind: String,
    /// Time-averaged fraction of workers held (busy computing, or blocked on
    /// downstream calls under blocking I/O).
    pub utilization: f64,
    /// Time-averaged number of requests waiting for a worker.
    pub mean_queue_length: f64,
    /// Time-averaged number of requests at the service, waiting or in progress
    /// (the L of Little's law, L = λW with W the mean response time).
    pub mean_in_service: f64,
    /// Requests that arrived and were admitted.
    pub arrivals: u64,
    /// Responses sent per second.
    pub throughput_rps: f64,
    /// Requests refused because the queue was full.
    pub rejected: u64,
    /// Requests failed by the service's own error rate.
    pub errors: u64,
    /// Requests a cache answered itself, without its calls.
    pub cache_hits: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
    /// Requests lost to a replica's crash, or refused with every replica down.
    pub crash_failures: u64,
    /// The batches a batching service ran; `null` without batching.
    pub batching: Option<BatchReport>,
    /// An LLM server's steps, KV cache and preemptions; `null` for other
    /// kinds.
    pub llm: Option<LlmServiceReport>,
    /// Fraction of admitted requests that had to wait for a worker.
    pub waited_fraction: f64,
    /// From arrival at the service to its response, downstream calls included.
    pub response_ms: LatencySummary,
    /// From arrival to getting a worker.
    pub wait_ms: LatencySummary,
    /// Mean of the service's own work per request.
    pub service_time_ms: f64,
    /// The mean response time from queueing theory, when the model fits.
    pub analytic_ms: Option<f64>,
    /// 95% interval of the mean response time over replications.
    pub response_mean_interval: Option<Interval>,
}

/// Per-interval figures of one replication, from its start. Each vector has
/// one value per interval; `time_s` gives each interval's end.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimeSeries {
    /// The width of each interval in seconds.
    pub interval_s: f64,
    /// True when the run had more intervals than are kept (10,000): the
    /// series stops there.
    pub truncated: bool,
    /// The end of each interval, in seconds from the start.
    pub time_s: Vec<f64>,
    /// Requests that finished successfully in the interval, per second.
    pub throughput_rps: Vec<f64>,
    /// Requests that failed in the interval, per second.
    pub errors_per_s: Vec<f64>,
    /// The 99th percentile latency of the interval's successful requests
    /// (to 1%), or 0 when there were none.
    pub p99_ms: Vec<f64>,
    /// Per service, in the scenario's order.
    pub services: Vec<ServiceSeries>,
}

/// One service over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServiceSeries {
    /// The service's name.
    pub name: String,
    /// Replicas serving at the interval's end.
    pub replicas: Vec<u32>,
    /// Time-averaged requests waiting for a worker (the queue depth).
    pub queue_depth: Vec<f64>,
    /// Time-averaged fraction of the serving replicas' workers held.
    pub utilization: Vec<f64>,
    /// How long the oldest waiting request had waited at the interval's end,
    /// in seconds: for consumers of a queue, their lag.
    pub lag_s: Vec<f64>,
    /// An LLM server's time-averaged share of its serving replicas' KV
    /// blocks in use; `None` for other services.
    pub kv_utilization: Option<Vec<f64>>,
    /// An LLM server's sequences preempted in the interval; `None` for
    /// other services.
    pub preemptions: Option<Vec<u64>>,
}

/// The batches of a batching service.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BatchReport {
    /// Batches run.
    pub batches: u64,
    /// The mean number of requests in a batch.
    pub mean_size: f64,
    /// Batches by size: the first value counts batches of one request, the
    /// last batches of `max_batch`.
    pub by_size: Vec<u64>,
}

/// What a link's guards did over the measured time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkReport {
    /// `caller -> callee`.
    pub link: String,
    /// Attempts made, retries included.
    pub attempts: u64,
    /// Retries made.
    pub retries: u64,
    /// Attempts given up on after the timeout (the callee still did the work).
    pub timeouts: u64,
    /// Attempts that answered with a failure.
    pub failures: u64,
    /// Calls failed at once because the breaker was open.
    pub breaker_rejections: u64,
    /// Calls failed at once because the bulkhead was full.
    pub bulkhead_rejections: u64,
    /// Retries not made because the retry budget was spent.
    pub budget_denials: u64,
    /// Times the breaker opened.
    pub breaker_opened: u64,
}

impl LinkReport {
    /// Adds another replication's counts of the same link.
    pub fn merge(&mut self, other: &Self) {
        let Self {
            link: _,
            attempts,
            retries,
            timeouts,
            failures,
            breaker_rejections,
            bulkhead_rejections,
            budget_denials,
            breaker_opened,
        } = self;
        *attempts += other.attempts;
        *retries += other.retries;
        *timeouts += other.timeouts;
        *failures += other.failures;
        *breaker_rejections += other.breaker_rejections;
        *bulkhead_rejections += other.bulkhead_rejections;
        *budget_denials += other.budget_denials;
        *breaker_opened += other.breaker_opened;
    }
}

/// How a scenario's warm-up was chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum WarmupMethod {
    /// As the project's run settings say.
    #[default]
    #[serde(rename = "configured")]
    Configured,
    /// By MSER-5 on a pilot run, since the project sets none.
    #[serde(rename = "mser-5")]
    Mser5,
}

impl WarmupMethod {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Configured => "configured",
            Self::Mser5 => "mser-5",
        }
    }
}

impl std::fmt::Display for WarmupMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Compares with the name in reports, as a reader of a JSON report would.
impl PartialEq<&str> for WarmupMethod {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// The results of a live load test. Where a field means the same as in a
/// simulation report it has the same name.
#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    /// The URLs driven, in order.
    pub targets: Vec<String>,
    /// How load was offered, like `open 2000 rps` or `closed 50 users`.
    pub mode: String,
    /// Seconds the schedule ran.
    pub duration_s: f64,
    /// Requests the open-loop schedule called for (closed loop: requests sent).
    pub scheduled: u64,
    /// Responses received, whatever their status.
    pub requests: u64,
    /// Scheduled requests never sent (the schedule ended first) or still
    /// unanswered when the run's grace period ran out.
    pub dropped: u64,
    /// Responses per second of the run.
    pub throughput_rps: f64,
    /// Latency from each request's intended send time to its response (the
    /// schedule's time for open loop), free of coordinated omission.
    pub latency_ms: LatencySummary,
    /// With more than one target: each target's answered requests and
    /// latency (from the intended send time), in `targets` order; empty
    /// with one target, where it would repeat `latency_ms`.
    pub by_target: Vec<TargetLatency>,
    /// Latency from the actual send to the response, as tools without a
    /// schedule report it; kept to show the difference.
    pub uncorrected_latency_ms: LatencySummary,
    /// Failed requests by kind: `connect_refused`, `timeout`, `reset`, `tls`,
    /// `http_5xx`, `other`.
    pub errors: BTreeMap<String, u64>,
    /// Responses by status code.
    pub status: BTreeMap<String, u64>,
    /// Request bytes written (bodies and headers as sent on the wire is not
    /// known to HTTP/2; this counts request bodies and header text).
    pub bytes_sent: u64,
    /// Response body bytes read.
    pub bytes_received: u64,
    /// True when the generator itself could not keep the schedule: its own
    /// scheduling delay (p99 of a 10 ms heartbeat's lateness) exceeded 10 ms.
    pub generator_saturated: bool,
    /// The generator's scheduling delay: p99 and max lateness of its heartbeat, ms.
    pub generator_lag_ms: LagSummary,
    /// CPU time the machine's host took during the run (steal time, summed
    /// over the cores), ms; absent where it is not known (off Linux).
    pub steal_ms: Option<f64>,
    /// Requests sent more than 10 ms after their intended time because every
    /// connection was still waiting for a response.
    pub sent_late: u64,
    /// Closed loop: the mean pause, measured, between a user's answer and its
    /// next request (the think time asked for, plus the timer's lateness).
    pub think_ms: Option<f64>,
    /// One point per second of the run.
    pub intervals: Vec<IntervalPoint>,
    /// The `--threshold` checks, in order.
    pub thresholds: Vec<ThresholdResult>,
    /// `latency`, whole, in `HdrHistogram`'s interchange encoding, so runs
    /// (the shards of one) merge exactly (`archbench merge`).
    pub latency_hdr: EncodedHistogram,
    /// `uncorrected_latency`, likewise.
    pub uncorrected_latency_hdr: EncodedHistogram,
    /// Which share of a sharded run this is; `None` for a whole run.
    pub shard: Option<ShardInfo>,
    /// With `--llm`: the streamed answers' token timings, as the simulator
    /// reports a class's (docs/llm.md).
    pub llm: Option<LlmLoadReport>,
    /// The histogram behind `latency_ms`.
    #[serde(skip)]
    pub latency: LatencyHistogram,
    /// The histogram behind `uncorrected_latency_ms`.
    #[serde(skip)]
    pub uncorrected_latency: LatencyHistogram,
}

/// Measured token timings of streamed LLM answers.
#[derive(Clone, Debug, Serialize)]
pub struct LlmLoadReport {
    /// The figures a simulated class reports, measured: `sequences` are
    /// answers that streamed a token, TTFT counts from when the request
    /// was due.
    #[serde(flatten)]
    pub tokens: LlmClassReport,
    /// Prompt tokens of those answers (the server's `usage` count, or the
    /// words sent).
    pub tokens_in: u64,
    /// Their output tokens (the server's count, or the events with text).
    pub tokens_out: u64,
    /// `ttft`, whole, so shards merge exactly.
    pub ttft_hdr: EncodedHistogram,
    /// `tpot`, likewise.
    pub tpot_hdr: EncodedHistogram,
    /// `itl`, likewise.
    pub itl_hdr: EncodedHistogram,
}

impl LlmLoadReport {
    /// The report of these counts and histograms over `seconds` measured.
    pub fn new(
        (sequences, tokens_in, tokens_out): (u64, u64, u64),
        [ttft, tpot, itl]: [LatencyHistogram; 3],
        seconds: f64,
    ) -> Self {
        let seconds = seconds.max(1e-9);
        Self {
            tokens_in,
            tokens_out,
            ttft_hdr: EncodedHistogram::of(&ttft),
            tpot_hdr: EncodedHistogram::of(&tpot),
            itl_hdr: EncodedHistogram::of(&itl),
            tokens: LlmClassReport {
                sequences,
                ttft_ms: ttft.summary(),
                tpot_ms: tpot.summary(),
                itl_ms: itl.summary(),
                tokens_in_per_s: tokens_in as f64 / seconds,
                tokens_out_per_s: tokens_out as f64 / seconds,
                attainment: None,
                ttft,
                tpot,
                itl,
            },
        }
    }
}

/// A histogram in `HdrHistogram`'s V2 compressed encoding (base64), with
/// the exact figures the encoding does not carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedHistogram {
    /// The buckets (see [`super::hdr`]).
    pub hdr: String,
    /// Values recorded.
    pub count: u64,
    /// Their exact sum, ns.
    pub sum_ns: u128,
    /// The smallest, ns.
    pub min_ns: u64,
    /// The largest, ns.
    pub max_ns: u64,
}

impl EncodedHistogram {
    /// The encoding of `histogram`.
    pub fn of(histogram: &LatencyHistogram) -> Self {
        Self {
            hdr: super::hdr::encode(histogram),
            count: histogram.count(),
            sum_ns: histogram.sum_ns(),
            min_ns: histogram.min_ns(),
            max_ns: histogram.max_ns(),
        }
    }

    /// The histogram back, exactly.
    pub fn decode(&self) -> Result<LatencyHistogram, super::hdr::HdrError> {
        let histogram = super::hdr::decode_exact(&self.hdr, self.sum_ns, self.min_ns, self.max_ns)?;
        if histogram.count() == self.count {
            Ok(histogram)
        } else {
            Err(super::hdr::HdrError::Count(0))
        }
    }
}

/// A shard's place in a sharded run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// `INDEX/COUNT`.
    pub shard: String,
    /// The `--start-at` every shard was given, in Unix milliseconds.
    pub start_at_unix_ms: Option<u64>,
}

/// One target's share of a load test.
#[derive(Clone, Debug, Serialize)]
pub struct TargetLatency {
    /// The URL.
    pub url: String,
    /// Responses received from it, whatever their status.
    pub requests: u64,
    /// Latency from the intended send time, as `latency_ms`.
    pub latency_ms: LatencySummary,
    /// The histogram behind `latency_ms`.
    #[serde(skip)]
    pub latency: LatencyHistogram,
}

/// The generator's own scheduling delay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LagSummary {
    /// 99th percentile, ms.
    pub p99: f64,
    /// Largest, ms.
    pub max: f64,
}

/// One second of a load test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IntervalPoint {
    /// Seconds from the start (the interval is [second, second + 1)).
    pub second: u64,
    /// Responses completed in it.
    pub requests: u64,
    /// Responses per second.
    pub throughput_rps: f64,
    /// Median latency of those responses, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// The slowest, ms.
    pub max_ms: f64,
    /// Failed requests in it.
    pub errors: u64,
    /// CPU time the machine's host took from it (Linux's steal time, summed
    /// over the cores; 10 ms resolution), ms; absent where it is not known.
    /// Latency measured in a second with steal includes the wait for the CPU.
    pub steal_ms: Option<f64>,
    /// The second's latency histogram (two significant digits) in
    /// `HdrHistogram`'s interchange encoding.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub latency_hdr: String,
}

/// One `--threshold` check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdResult {
    /// As written, like `p99<200ms`.
    pub threshold: String,
    /// The measured value (ms for latencies, a fraction for errors).
    pub value: f64,
    /// Whether it holds.
    pub pass: bool,
}
