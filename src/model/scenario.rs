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
}

impl Scenario {
    /// The index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
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
}

impl ServiceKind {
    /// Every kind, in palette order.
    pub const ALL: [Self; 8] = [
        Self::Gateway,
        Self::Service,
        Self::ModelServer,
        Self::FeatureStore,
        Self::Cache,
        Self::Database,
        Self::Queue,
        Self::External,
    ];

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Self::Gateway => "API gateway",
            Self::Service => "service",
            Self::ModelServer => "model server",
            Self::FeatureStore => "feature store",
            Self::Cache => "cache",
            Self::Database => "database",
            Self::Queue => "queue",
            Self::External => "external API",
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
        }
    }
}
