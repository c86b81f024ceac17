//! Bounds that keep a hostile or mistaken file from exhausting memory.

/// Services in one scenario.
pub const SERVICES: usize = 10_000;
/// Replicas of one service.
pub const REPLICAS: u32 = 10_000;
/// Workers in one replica.
pub const WORKERS: u32 = 1_000_000;
/// Calls one link makes per request.
pub const CALL_COUNT: u32 = 1_000;
/// Users in a closed workload.
pub const USERS: u32 = 1_000_000;
/// Replications of a run.
pub const REPLICATIONS: u32 = 10_000;
/// Requests one replication may simulate (warm-up included): about half
/// a minute to a few minutes of work. More comes from replications.
pub const REQUESTS_PER_REPLICATION: f64 = 1e8;
/// Values in an empirical distribution.
pub const EMPIRICAL_VALUES: usize = 100_000;
/// Scenarios in a project.
pub const SCENARIOS: usize = 1_000;
/// Request classes.
pub const CLASSES: usize = 1_000;
/// Open arrival rate, requests per second.
pub const RATE_RPS: f64 = 1e9;
/// The coefficient of variation of Gamma gaps between arrivals.
pub const ARRIVAL_CV: f64 = 100.0;
/// Retries of one call.
pub const RETRIES: u32 = 100;
/// Attempts per request that unbudgeted retries may multiply to along
/// a chain of sync calls.
pub const RETRY_ATTEMPTS: f64 = 10_000.0;
/// The shortest autoscaler interval.
pub const SCALE_INTERVAL_NS: u64 = 1_000_000;
/// Requests in one batch.
pub const BATCH: u32 = 4096;
/// Crashes of one service.
pub const CRASHES: usize = 10_000;
/// Sequences one LLM replica runs at once.
pub const LLM_SEQS: u32 = 100_000;
/// Tokens one LLM step computes.
pub const LLM_BATCHED_TOKENS: u32 = 10_000_000;
/// GPUs one LLM replica is split over.
pub const TENSOR_PARALLEL: u32 = 64;
/// Tokens of KV cache in one LLM replica.
pub const KV_TOKENS: u64 = 1_000_000_000_000;
