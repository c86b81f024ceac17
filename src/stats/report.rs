//! The results of a run: what the JSON output holds, field for field.
//! docs/results-format.md documents this schema; keep them in step.

use serde::Serialize;

use super::histogram::{LatencyHistogram, LatencySummary};

/// Results for every scenario that was run.
#[derive(Clone, Debug, Serialize)]
pub struct SimulationReport {
    /// The project's name.
    pub project: String,
    /// The seed the run used.
    pub seed: u64,
    /// One entry per scenario, in project order.
    pub scenarios: Vec<ScenarioReport>,
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
    /// Successful requests per second of measured time.
    pub throughput_rps: f64,
    /// End-to-end latency of successful requests.
    pub latency_ms: LatencySummary,
    /// True when a queue grew without bound: the offered load exceeds capacity.
    pub saturated: bool,
    /// The service that saturated first, when `saturated`.
    pub saturated_service: Option<String>,
    /// Simulated seconds measured (after warm-up), summed over replications.
    pub measured_s: f64,
    /// Independent replications run.
    pub replications: u32,
    /// Per request class.
    pub classes: Vec<ClassReport>,
    /// Per service, in the scenario's order.
    pub services: Vec<ServiceReport>,
    /// The end-to-end histogram behind `latency_ms`.
    #[serde(skip)]
    pub latency: LatencyHistogram,
}

/// Results for one request class.
#[derive(Clone, Debug, Serialize)]
pub struct ClassReport {
    /// The class's name.
    pub name: String,
    /// Requests that finished successfully.
    pub requests: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// End-to-end latency of successful requests.
    pub latency_ms: LatencySummary,
    /// The histogram behind `latency_ms`.
    #[serde(skip)]
    pub latency: LatencyHistogram,
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
    /// Fraction of admitted requests that had to wait for a worker.
    pub waited_fraction: f64,
    /// From arrival at the service to its response, downstream calls included.
    pub response_ms: LatencySummary,
    /// From arrival to getting a worker.
    pub wait_ms: LatencySummary,
    /// Mean of the service's own work per request.
    pub service_time_ms: f64,
}
