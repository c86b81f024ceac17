//! The project: the document a user saves, shares and commits.

use serde::{Deserialize, Serialize};

use super::objective::Objective;
use super::scenario::Scenario;
use super::time::TimeSpan;
use super::workload::Workload;

/// The project file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A system to study: alternative architectures under one workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The file format version; see [`FORMAT_VERSION`].
    pub format: u32,
    /// Shown in the title bar and reports.
    pub name: String,
    /// What the project is about; free text.
    #[serde(default)]
    pub description: String,
    /// The load every scenario faces.
    pub workload: Workload,
    /// How long to simulate and with which seed.
    #[serde(default)]
    pub run: RunSettings,
    /// Latency objectives every scenario should meet.
    #[serde(default)]
    pub objectives: Vec<Objective>,
    /// LLM goodput: the share of sequences that must meet the `ttft` and
    /// `tpot` objectives' limits for a rate to count (docs/llm.md).
    #[serde(default = "goodput_share", skip_serializing_if = "is_goodput_default")]
    pub goodput_share: f64,
    /// The alternative architectures, in the order shown.
    pub scenarios: Vec<Scenario>,
}

impl Project {
    /// The index of the scenario called `name`.
    pub fn scenario_index(&self, name: &str) -> Option<usize> {
        self.scenarios.iter().position(|s| s.name == name)
    }
}

/// When a run stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopCondition {
    /// After this much simulated time beyond the warm-up.
    Duration(TimeSpan),
    /// After this many requests that arrived beyond the warm-up have finished.
    Requests(u64),
}

/// How a simulation is run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// When each replication stops.
    pub stop: StopCondition,
    /// Simulated time at the start whose measurements are discarded. When
    /// none is given, the simulator chooses it (MSER-5 on a pilot run).
    #[serde(default)]
    pub warmup: Option<TimeSpan>,
    /// The seed of every random stream; the same seed gives the same results.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Independent repetitions, each with its own random streams.
    #[serde(default = "one_replication")]
    pub replications: u32,
    /// Whether scenarios share random streams (the same arrivals, and the
    /// same draws at services of the same name), so that their differences
    /// come from the architecture rather than from chance.
    #[serde(default = "yes")]
    pub common_random_numbers: bool,
    /// When set, keep adding replications (at least ten) until the 95%
    /// interval of the p99 latency is within this fraction of it, e.g. 0.02.
    #[serde(default)]
    pub precision: Option<f64>,
    /// The most replications the precision rule may run.
    #[serde(default = "default_max_replications")]
    pub max_replications: u32,
    /// The width of each point of the time series (throughput, p99, errors,
    /// replicas and queue depth over time), taken from the first
    /// replication, warm-up included.
    #[serde(default = "default_interval")]
    pub interval: TimeSpan,
}

fn default_interval() -> TimeSpan {
    TimeSpan::from_nanos(1_000_000_000)
}

fn default_max_replications() -> u32 {
    200
}

fn yes() -> bool {
    true
}

fn default_seed() -> u64 {
    1
}

fn one_replication() -> u32 {
    1
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            stop: StopCondition::Duration(TimeSpan::from_nanos(60_000_000_000)),
            warmup: Some(TimeSpan::from_nanos(5_000_000_000)),
            seed: default_seed(),
            replications: one_replication(),
            common_random_numbers: true,
            precision: None,
            max_replications: default_max_replications(),
            interval: default_interval(),
        }
    }
}

/// The share of sequences within the token limits for goodput: `DistServe`'s
/// 90%.
pub const GOODPUT_SHARE: f64 = 0.9;

fn goodput_share() -> f64 {
    GOODPUT_SHARE
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_goodput_default(share: &f64) -> bool {
    share.to_bits() == GOODPUT_SHARE.to_bits()
}
