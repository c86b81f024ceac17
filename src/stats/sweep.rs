//! A sweep's results: one curve per scenario, its points, and a shard's
//! place in a sweep split over machines.

use serde::{Deserialize, Serialize};

use super::histogram::LatencySummary;

/// The results of a sweep: one curve per scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    /// The project's name.
    pub project: String,
    /// What was varied: `rate`, or `replicas:SERVICE`.
    pub axis: String,
    /// For a shard of a sweep (`sweep --shard I/N`), which one; `None` for
    /// a whole sweep.
    pub shard: Option<SweepShard>,
    /// The share of sequences within the token limits that `goodput_rps`
    /// asks for (the project's `goodput_share`).
    #[serde(default = "default_goodput_share")]
    pub goodput_share: f64,
    /// One curve per scenario, in project order.
    pub scenarios: Vec<SweepScenario>,
}

/// A sweep shard's place in its sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepShard {
    /// `INDEX/COUNT`.
    pub shard: String,
    /// The whole sweep's points, over every shard and scenario.
    pub points: usize,
    /// Identifies the sweep: its axis and range in words, and a hash of
    /// the project and the settings; shards of one sweep share it.
    pub sweep: String,
    /// Whether the project has objectives (the merge recomputes
    /// `max_rps_within_slo` only then).
    pub objectives: bool,
}

/// One scenario's curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepScenario {
    /// The scenario's name.
    pub scenario: String,
    /// The points, in increasing order of the swept value.
    pub points: Vec<SweepPoint>,
    /// The largest offered load at which achieved throughput is at least 99%
    /// of offered and nothing saturated.
    pub max_throughput_rps: Option<f64>,
    /// Where p99 starts to rise steeply: the offered load at which p99 first
    /// reaches twice its value at the lowest swept load (interpolated).
    pub knee_rps: Option<f64>,
    /// The service that saturates first as load grows.
    pub first_saturated: Option<String>,
    /// The highest offered load at which every objective holds.
    pub max_rps_within_slo: Option<f64>,
    /// LLM goodput: the offered load at which the share of sequences
    /// meeting the `ttft` and `tpot` objectives' limits falls to 90%,
    /// interpolated between the points around it; `null` without such
    /// objectives or for a replicas sweep.
    pub goodput_rps: Option<f64>,
}

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Offered load, requests per second.
    pub offered_rps: f64,
    /// The swept service's replica count, for a replicas sweep.
    pub replicas: Option<u32>,
    /// Achieved (successful) throughput.
    pub achieved_rps: f64,
    /// End-to-end latency.
    pub latency_ms: LatencySummary,
    /// The utilisation of the busiest service.
    pub max_utilization: f64,
    /// The limiting service.
    pub bottleneck: String,
    /// Whether a queue grew without bound.
    pub saturated: bool,
    /// Whether every objective holds (true when there are none).
    pub slo_pass: bool,
    /// The share of LLM sequences meeting the `ttft` and `tpot` objectives'
    /// limits, over every class with such objectives; `null` without them.
    pub attainment: Option<f64>,
}

/// A report written before the share was recorded asked for 90% (the
/// model's `GOODPUT_SHARE`).
fn default_goodput_share() -> f64 {
    0.9
}
