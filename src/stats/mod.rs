//! Statistics: fixed-memory latency histograms, their summaries, and the
//! reports that the simulator (and later the load generator) produce, with
//! writers for text, JSON and CSV.
//!
//! Nothing here knows where the numbers came from; the same report types
//! serve a simulation and a measurement, so they compare field by field.

pub mod hdr;
mod histogram;
mod interval;
mod report;
mod sweep;
mod validation;
mod write;

pub use histogram::{Bin, LatencyHistogram, LatencySummary};
pub use interval::{Interval, t_975};
pub use report::{
    BatchReport, ClassReport, Comparison, Confidence, EncodedHistogram, IntervalPoint, LagSummary,
    Limit, LinkReport, LlmClassReport, LlmLoadReport, LlmServiceReport, LoadReport,
    ObjectiveResult, ReplicationSummary, ScenarioReport, ServiceReport, ServiceSeries, ShardInfo,
    SimulationReport, TargetLatency, ThresholdResult, TimeSeries, WarmupMethod,
};
pub use sweep::{SweepPoint, SweepReport, SweepScenario, SweepShard};
pub use validation::{
    ClassVersus, Metric, ReplicaStats, ServiceStats, ServiceVersus, Tolerance, ToleranceResult,
    ValidationReport, Versus, compare, write_validation,
};
pub use write::{OutputFormat, write_hgrm, write_load, write_report, write_sweep};
