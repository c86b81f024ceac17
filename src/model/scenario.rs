//! A scenario: one candidate architecture, a graph of services and the calls between them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::distribution::Distribution;

/// One alternative architecture for the project's system, such as "monolith".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique within the project.
    pub name: String,
    /// What this variant tries; free text.
    #[serde(default)]
    pub description: String,
    /// The services, in the order the user placed them.
    pub services: Vec<Service>,
    /// The calls between services. The order matters: a caller makes its
    /// calls in this order (see [`Link::parallel_group`]).
    #[serde(default)]
    pub links: Vec<Link>,
    /// Boxes drawn around services on the canvas. Drawing only: groups
    /// have no effect on the simulation. Written only when there are some,
    /// so files without groups stay as they were.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
}

/// A named, coloured box around some of a scenario's services, which moves
/// them as one and can fold them into a single node on the canvas.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique among the scenario's groups.
    pub name: String,
    /// The services inside, by name; a service is in at most one group.
    pub services: Vec<String>,
    /// The box's colour as red, green, blue; `None`: one picked from the
    /// group's place in the list.
    #[serde(default)]
    pub color: Option<(u8, u8, u8)>,
    /// Drawn as one node with the group's figures instead of its services.
    #[serde(default)]
    pub collapsed: bool,
}

impl Scenario {
    /// The index of the group holding service `name`, if any.
    pub fn group_of(&self, name: &str) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| g.services.iter().any(|s| s == name))
    }

    /// The index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    /// Every service's index by name, for lookups in a loop (names are
    /// unique in a valid scenario; with duplicates, the first wins as in
    /// [`Self::service_index`]).
    pub fn index_by_name(&self) -> std::collections::HashMap<&str, usize> {
        let mut index = std::collections::HashMap::with_capacity(self.services.len());
        for (i, s) in self.services.iter().enumerate() {
            index.entry(s.name.as_str()).or_insert(i);
        }
        index
    }
}

/// What a service is; sets its icon and preset, not its behaviour.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum ServiceKind {
    /// An API gateway or load balancer in front.
    Gateway,
    /// A general application service.
    #[default]
    Service,
    /// A model server doing inference.
    ModelServer,
    /// A feature store read at request time.
    FeatureStore,
    /// A cache such as Redis or Memcached.
    Cache,
    /// A database.
    Database,
    /// A message queue or log.
    Queue,
    /// A third-party API outside the system.
    External,
    /// A large-language-model server whose replicas run continuous
    /// batching over a paged KV cache (its `llm` settings).
    LlmServer,
}

impl ServiceKind {
    /// Its name as written in a project file (and in reports).
    pub fn name(self) -> &'static str {
        match self {
            Self::Gateway => "Gateway",
            Self::Service => "Service",
            Self::ModelServer => "ModelServer",
            Self::FeatureStore => "FeatureStore",
            Self::Cache => "Cache",
            Self::Database => "Database",
            Self::Queue => "Queue",
            Self::External => "External",
            Self::LlmServer => "LlmServer",
        }
    }
}

/// How many requests may wait at one replica for a free worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueCapacity {
    /// Requests always wait.
    #[default]
    Unbounded,
    /// At most this many wait; one more is rejected and counted. `Bounded(0)`
    /// means a request is rejected whenever every worker is busy.
    Bounded(u32),
}

/// How a service spreads requests over its replicas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Balancer {
    /// Each replica in turn.
    #[default]
    RoundRobin,
    /// A replica chosen uniformly at random.
    Random,
    /// The replica with the fewest requests in progress (first on ties).
    LeastOutstanding,
    /// Two distinct replicas at random; the one with fewer requests in progress.
    PowerOfTwoChoices,
    /// One queue for all replicas, from which any free worker takes the
    /// oldest request: consumers pulling from a topic, or a shared work queue.
    Pull,
}

/// What a worker does while the service waits for its downstream calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IoModel {
    /// The worker stays held until the downstream calls return
    /// (thread-per-request servers).
    #[default]
    Blocking,
    /// The worker is freed after its own work; the response is sent when the
    /// downstream calls return (event-loop servers).
    Async,
}

/// A position on the canvas, in canvas units. Saved so layouts survive, but
/// nothing in the simulation reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Horizontal, growing rightwards.
    pub x: f32,
    /// Vertical, growing downwards.
    pub y: f32,
}

/// A deployable service: replicas of identical workers in front of a queue.
///
/// A request that reaches a service waits for a worker, takes one service-time
/// draw of its work, then makes its outgoing calls (see [`Link`]), then answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Unique within the scenario; links name services by it.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub kind: ServiceKind,
    /// Identical instances behind the balancer.
    #[serde(default = "one")]
    pub replicas: u32,
    /// Requests one replica works on at once.
    #[serde(default = "one")]
    pub workers: u32,
    /// Waiting room per replica.
    #[serde(default)]
    pub queue: QueueCapacity,
    /// The service's own work per request, excluding downstream calls.
    pub service_time: Distribution,
    /// How requests are spread over replicas.
    #[serde(default)]
    pub balancer: Balancer,
    /// Whether a worker is held during downstream calls.
    #[serde(default)]
    pub io: IoModel,
    /// Where it is drawn.
    #[serde(default)]
    pub position: Position,
    /// Where a live load test sends requests that enter here.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// Answers some requests itself, skipping its calls (a cache).
    #[serde(default)]
    pub cache: Option<Cache>,
    /// The chance that a request fails here after its own work; the failure
    /// goes back to every caller up to the client, and no calls are made.
    #[serde(default)]
    pub error_rate: f64,
    /// A token bucket in front of the service, shared by its replicas:
    /// requests beyond it are rejected at once.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Dynamic batching, as model servers do it: requests wait to be run
    /// together, and `service_time` becomes the fixed time of a batch.
    #[serde(default)]
    pub batching: Option<Batching>,
    /// Adds and removes replicas to hold a target utilisation; `replicas`
    /// is then the count at the start.
    #[serde(default)]
    pub autoscale: Option<Autoscale>,
    /// Replicas that crash at given times and restart after a delay.
    #[serde(default)]
    pub crashes: Vec<Crash>,
    /// How an `LlmServer` batches, and its KV cache and step time; only
    /// for that kind, and required for it.
    #[serde(default)]
    pub llm: Option<super::LlmServing>,
}

/// A replica crash: at `at`, replica `replica` (counting from 0) stops. The
/// requests waiting in its queue fail at once; those it was working on fail
/// when their work would have ended (the lost work still takes its time);
/// no new requests go to it. After `restart_after` it serves again.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crash {
    /// When it crashes.
    pub at: super::time::TimeSpan,
    /// Which replica.
    #[serde(default)]
    pub replica: u32,
    /// How long until it serves again.
    pub restart_after: super::time::TimeSpan,
}

/// A horizontal autoscaler. Every `interval` it measures the work that
/// arrived over the last interval (requests × the mean time a request held
/// a worker) and asks for the replicas that would carry it at
/// `target_utilization`, between `min_replicas` and `max_replicas`. New
/// replicas serve after `cold_start` (loading a model, say); removed ones
/// take no new requests and finish what they hold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    /// The busy share of workers to aim for, such as 0.6.
    pub target_utilization: f64,
    /// The fewest replicas.
    #[serde(default = "one")]
    pub min_replicas: u32,
    /// The most replicas.
    pub max_replicas: u32,
    /// How often it decides.
    #[serde(default = "fifteen_seconds")]
    pub interval: super::time::TimeSpan,
    /// How long a new replica takes before it serves.
    #[serde(default)]
    pub cold_start: super::time::TimeSpan,
}

fn fifteen_seconds() -> super::time::TimeSpan {
    super::time::TimeSpan::from_nanos(15_000_000_000)
}

/// Dynamic batching. A worker (a GPU, say) takes the waiting requests as one
/// batch as soon as `max_batch` are waiting, or when the oldest has waited
/// `max_wait`, whichever comes first. A batch of n takes one draw of the
/// service time plus n × `per_item`, and frees its worker when done.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batching {
    /// The most requests in one batch.
    pub max_batch: u32,
    /// The longest the oldest waiting request waits for a batch to fill.
    pub max_wait: super::time::TimeSpan,
    /// Time added per request in the batch.
    #[serde(default)]
    pub per_item: super::time::TimeSpan,
}

/// A token-bucket rate limit: `rate` tokens a second, at most `burst` saved.
/// Each request takes a token or is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rate: f64,
    /// The most tokens the bucket holds (it starts full).
    #[serde(default = "one")]
    pub burst: u32,
}

/// Retries of a failed or timed-out call.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Retries after the first attempt, at most.
    pub max_retries: u32,
    /// The wait before the first retry; each later one doubles it.
    #[serde(default)]
    pub backoff: super::time::TimeSpan,
    /// The longest wait between attempts.
    #[serde(default = "max_backoff")]
    pub max_backoff: super::time::TimeSpan,
    /// How the wait is randomised.
    #[serde(default)]
    pub jitter: Jitter,
    /// Caps retries at a share of first attempts.
    #[serde(default)]
    pub budget: Option<RetryBudget>,
}

fn max_backoff() -> super::time::TimeSpan {
    super::time::TimeSpan::from_nanos(10_000_000_000)
}

/// How a backoff wait is randomised; `b` is the exponential backoff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Jitter {
    /// Wait exactly `b`.
    None,
    /// Wait uniformly between 0 and `b` (spreads retries the most).
    #[default]
    Full,
    /// Wait `b/2` plus uniformly up to `b/2`.
    Equal,
}

/// A retry budget, as in Finagle and gRPC: retries may use `ratio` tokens per
/// first attempt, plus `min_per_second` a second so that a quiet link can
/// still retry. A retry spends one token; with none left it is not made.
/// The bucket holds at most ten seconds' worth of tokens (at least 10).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryBudget {
    /// Retries allowed per first attempt, such as 0.1.
    pub ratio: f64,
    /// Retries allowed per second whatever the traffic.
    #[serde(default)]
    pub min_per_second: f64,
}

/// A circuit breaker on a link. Closed, it counts the outcomes of calls over
/// a sliding `window`; when at least `min_calls` finished in it and the
/// failed share (errors, timeouts, rejections) reaches `failure_ratio`, it
/// opens. Open, it fails calls at once for `open_for`, then half-opens: it
/// lets `probes` calls through, closes if they all succeed, and opens again
/// if one fails.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaker {
    /// The failed share of calls that opens the breaker.
    pub failure_ratio: f64,
    /// The sliding window outcomes are counted over.
    pub window: super::time::TimeSpan,
    /// Calls the window must hold before the breaker may open.
    #[serde(default = "twenty")]
    pub min_calls: u32,
    /// How long it stays open.
    pub open_for: super::time::TimeSpan,
    /// Trial calls let through when half-open.
    #[serde(default = "one")]
    pub probes: u32,
}

fn twenty() -> u32 {
    20
}

/// Extra latency on a link during a window of simulated time, as a fault
/// injector would add it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyFault {
    /// Added to the round trip of each call made in the window.
    pub extra: Distribution,
    /// When the fault starts.
    pub from: super::time::TimeSpan,
    /// When it ends.
    pub until: super::time::TimeSpan,
}

/// A cache: after its own work (the lookup), a hit answers at once and a
/// miss makes the service's calls as usual.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// The share of lookups that hit, once warm.
    pub hit_ratio: f64,
    /// A cold start: the hit ratio rises in a straight line from zero at the
    /// start of the run to `hit_ratio` at this time. Zero means always warm.
    #[serde(default)]
    pub warmup: super::time::TimeSpan,
}

/// A real HTTP endpoint bound to an entry service, for `archbench load FILE`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `http://` or `https://` URL.
    pub url: String,
    /// The HTTP method.
    #[serde(default = "get")]
    pub method: String,
    /// Request headers. A value may name environment variables as
    /// `${NAME}`, read when the test starts, so secrets stay out of files.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body, if any.
    #[serde(default)]
    pub body: Option<String>,
}

fn get() -> String {
    "GET".to_owned()
}

fn one() -> u32 {
    1
}

impl Service {
    /// A service with one replica of one worker and the given service time.
    pub fn new(name: impl Into<String>, kind: ServiceKind, service_time: Distribution) -> Self {
        Self {
            name: name.into(),
            kind,
            replicas: 1,
            workers: 1,
            queue: QueueCapacity::Unbounded,
            service_time,
            balancer: Balancer::RoundRobin,
            io: IoModel::Blocking,
            position: Position::default(),
            endpoint: None,
            cache: None,
            error_rate: 0.0,
            rate_limit: None,
            batching: None,
            autoscale: None,
            crashes: Vec::new(),
            llm: None,
        }
    }
}

/// Whether the caller waits for the answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallMode {
    /// The caller waits for the response.
    #[default]
    Sync,
    /// Fire and forget, like publishing to a queue.
    Async,
}

/// A call from one service to another.
///
/// After its own work, a service makes its outgoing calls in steps, in the
/// order its links are listed. A link with no `parallel_group` is a step of
/// its own. Links from the same caller that share a `parallel_group` name form
/// one step, a fan-out: they start together and the caller waits for all of
/// them. The step sits where the group's first link is listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The calling service.
    pub from: String,
    /// The called service.
    pub to: String,
    /// The chance that a request makes this call at all.
    #[serde(default = "always")]
    pub probability: f64,
    /// How many calls are made when it is made; in a parallel group they run
    /// in parallel, otherwise one after another.
    #[serde(default = "one")]
    pub count: u32,
    /// Links sharing this name (from the same caller) run in parallel.
    #[serde(default)]
    pub parallel_group: Option<String>,
    /// Round-trip network time added to each call: half on the way there,
    /// half on the way back.
    #[serde(default)]
    pub latency: Distribution,
    /// Whether the caller waits.
    #[serde(default)]
    pub mode: CallMode,
    /// The caller gives up on an attempt after this long and treats it as
    /// failed; the callee is not told and finishes the work anyway.
    #[serde(default)]
    pub timeout: Option<super::time::TimeSpan>,
    /// Retries of attempts that failed or timed out.
    #[serde(default)]
    pub retry: Option<Retry>,
    /// A circuit breaker in front of the callee.
    #[serde(default)]
    pub breaker: Option<Breaker>,
    /// A bulkhead: at most this many attempts in flight per caller replica;
    /// more fail at once.
    #[serde(default)]
    pub max_concurrent: Option<u32>,
    /// Extra latency during a window.
    #[serde(default)]
    pub fault: Option<LatencyFault>,
}

fn always() -> f64 {
    1.0
}

impl Link {
    /// A synchronous call made once by every request, with no network latency.
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
            probability: 1.0,
            count: 1,
            parallel_group: None,
            latency: Distribution::default(),
            mode: CallMode::Sync,
            timeout: None,
            retry: None,
            breaker: None,
            max_concurrent: None,
            fault: None,
        }
    }
}
