//! The document: projects, scenarios, services, links, workloads and
//! distributions, with their `.ron` file format and validation.
//!
//! This layer is plain data. It knows nothing of the simulator, of egui or of
//! tokio, so the CLI, the GUI and the load generator all share it.

/// Implements `Serialize` and `Deserialize` through `Display` and `FromStr`,
/// for the types that a project file writes as one string.
macro_rules! serde_as_text {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

mod choice;
mod distribution;
mod error;
pub mod file;
pub mod layout;
mod llm;
mod objective;
mod place;
pub mod presets;
mod project;
mod scenario;
mod shard;
mod time;
pub mod traces;
pub mod validate;
mod workload;

pub use choice::{Choice, HTTP_METHODS};
pub use distribution::{Distribution, DistributionError, LogNormalParams, Z_99};
pub use error::{LoadError, OpenError, Problem, SaveError};
pub use file::ProjectFile;
pub use llm::{
    KV_BLOCK_TOKENS, KvCache, LlmPhase, LlmServing, ModelMemory, StepTime, TokenCount,
    TokenLengths, parse_prefill_table, prefill_ns as llm_prefill_ns, prefill_table_text,
};
pub use objective::{LatencyMeasure, LatencyStatistic, LatencyTarget, Objective};
pub use place::{Part, Place};
pub use project::{FORMAT_VERSION, GOODPUT_SHARE, Project, RunSettings, StopCondition};
pub use scenario::{
    Autoscale, Balancer, Batching, Breaker, Cache, CallMode, Crash, Endpoint, Group, IoModel,
    Jitter, LatencyFault, Link, Position, QueueCapacity, RateLimit, Retry, RetryBudget, Scenario,
    Service, ServiceKind,
};
pub use shard::{MAX_SHARDS, Shard, ShardError};
pub use time::{MAX_SPAN_NS, TimeSpan, TimeSpanError, human_secs};
pub use validate::{Validated, validate};
pub use workload::{ArrivalProcess, Arrivals, RateChange, RateSegment, RequestClass, Workload};
