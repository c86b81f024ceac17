//! The drawn architecture as real services: every service of a scenario
//! becomes HTTP/1.1 servers on 127.0.0.1, one per replica plus one for its
//! balancer, that behave as the simulator's model says (docs/emulate.md).
//!
//! - `station.rs`: a service's replicas, workers in arrival order, bounded
//!   queues, the rate limit, the balancer, and the counters.
//! - `request.rs`: one request at a replica: the wait for a worker, the
//!   service time, errors and caches, the calls step by step over real
//!   HTTP (with timeouts, retries, breakers and bulkheads), the answer.
//! - `server.rs`: the listeners, hyper's HTTP/1.1 connections, and the
//!   `/_archbench/stats` endpoint.
//!
//! Every wait (service times, network time, backoff, timeouts) is on the
//! precise timer of `loadgen/timer.rs`, not tokio's whole milliseconds.
//!
//! It reads the wall clock and the network; it is not the simulator, but it
//! compiles the scenario with the simulator's own plan and draws from the
//! simulator's own samplers, so both read a project the same way.

mod llm;
mod request;
mod server;
mod station;
mod trace;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::{Place, Problem, Project, Validated};
use crate::sim::Rng;
use crate::sim::guard::LinkGuard;
use crate::sim::plan::Plan;
use crate::stats::{LatencyHistogram, LinkReport, ReplicaStats, ServiceStats};

use super::client::Plain;
use super::error::LoadError;

use super::timer::{PreciseTimer, Timer};

/// The most listeners (replicas plus one balancer per service) an
/// emulation opens.
pub const MAX_LISTENERS: usize = 4096;

/// The header that carries a request's id from hop to hop.
pub const REQUEST_HEADER: &str = "x-archbench-request";
/// The header that carries a request's class from hop to hop.
pub const CLASS_HEADER: &str = "x-archbench-class";
/// The header that carries a prefilled sequence's prompt and output
/// lengths (`prompt,output`) from a prefill-only LLM server to the
/// decode-only server it calls.
pub const LLM_HEADER: &str = "x-archbench-llm";
/// The path of every listener's counters.
pub const STATS_PATH: &str = "/_archbench/stats";

/// How to emulate.
#[derive(Clone, Debug)]
pub struct EmulateConfig {
    /// Seeds every service's draws; the project's seed by default.
    pub seed: u64,
    /// The first port: listeners take consecutive ports from it, each
    /// service's balancer and then its replicas. `None` lets the OS choose.
    pub base_port: Option<u16>,
    /// Event-loop threads serving every service; `None`: one per core.
    pub threads: Option<usize>,
    /// Write the requests' spans here as OTLP JSON Lines ([`trace`]).
    pub traces: Option<std::path::PathBuf>,
    /// Run one service only, its callees elsewhere: one emulator process per
    /// service, as on a cluster. `None` runs every service in this process.
    pub only: Option<OneService>,
}

/// The emulator's one-service mode: this process runs one service (all the
/// replicas the model gives it, behind one listener and its balancer), and
/// calls each callee over HTTP at the address given for it.
#[derive(Clone, Debug)]
pub struct OneService {
    /// The service to run.
    pub service: String,
    /// Where it listens, like `0.0.0.0:8080`.
    pub listen: SocketAddr,
    /// Each callee's address (`host:port`), by service name: another
    /// emulator's listener, or a balancer in front of several (a
    /// Kubernetes Service).
    pub peers: Vec<(String, String)>,
}

/// Reads a peer given as `NAME=URL` (`http://host:port`, the path ignored)
/// into its name and `host:port`.
pub fn parse_peer(text: &str) -> Result<(String, String), String> {
    let bad = |why: &str| format!("--peer {text:?}: {why}; write NAME=http://HOST:PORT");
    let (name, url) = text.split_once('=').ok_or_else(|| bad("no ="))?;
    let rest = url
        .trim()
        .strip_prefix("http://")
        .ok_or_else(|| bad("the emulator calls its peers over plain http://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| bad("the port is missing"))?;
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad("the host or port is not one"));
    }
    Ok((name.trim().to_owned(), authority.to_owned()))
}

/// The patterns the emulator does not run yet, each with its place: a
/// scenario using one is refused rather than emulated wrongly.
pub fn unsupported(project: &Project, scenario: usize) -> Vec<Problem> {
    let Some(s) = project.scenarios.get(scenario) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for service in &s.services {
        let place = Place::service(&s.name, &service.name);
        let mut refuse = |field: &str, what: &str| {
            problems.push(Problem {
                place: place.field(field),
                message: format!("the emulator cannot run {what} yet; simulate it instead"),
            });
        };
        if service.batching.is_some() {
            refuse("batching", "dynamic batching");
        }
        if service.autoscale.is_some() {
            refuse("autoscale", "an autoscaler");
        }
        if !service.crashes.is_empty() {
            refuse("crashes", "replica crashes");
        }
    }
    problems
}

/// One listener of a running emulation.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The service.
    pub service: String,
    /// The replica, from 0; `None` for the service's balancer.
    pub replica: Option<u32>,
    /// Where it listens.
    pub address: SocketAddr,
}

/// Where a request class enters.
#[derive(Clone, Debug)]
pub struct EntryPoint {
    /// The class.
    pub class: String,
    /// Its entry service.
    pub service: String,
    /// The entry service's balancer.
    pub url: String,
}

/// Everything the emulated services share.
struct Emulated {
    plan: Plan,
    services: Vec<station::Service>,
    /// Each link's guards, and its draws (call decisions, latencies, backoff).
    guards: Vec<Mutex<LinkGuard>>,
    link_rngs: Vec<Mutex<Rng>>,
    /// Idle connections to each service's replicas.
    pools: Vec<Vec<Mutex<Vec<Plain>>>>,
    timer: Timer,
    /// Time zero of the emulation: caches warm up and faults are timed from it.
    epoch: Instant,
    next_request: AtomicU64,
    /// Where spans go, when traces are written.
    tracer: Option<trace::Tracer>,
    /// By station, the address (`host:port`) of a service run elsewhere
    /// (in one-service mode); `None` for the services run here.
    peers: Vec<Option<String>>,
    /// By station, an LLM server's replicas (each a batcher's thread).
    llm: Vec<Option<crate::loadgen::target::llm::Replicas>>,
}

/// The header marking a synchronous call, whose caller waits for the
/// answer: the callee reports its handling time in
/// [`HANDLED_HEADER`](super::client::HANDLED_HEADER), and the caller takes
/// the rest of the exchange, the loopback's (or network's) own time, out of
/// the link's latency (see `request::attempt`).
pub const SYNC_HEADER: &str = "x-archbench-sync";

impl Emulated {
    /// Nanoseconds since the emulation started, as the guards count time.
    fn now_ns(&self, now: Instant) -> crate::sim::SimTime {
        crate::sim::SimTime(
            u64::try_from(now.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX),
        )
    }

    fn service_stats(&self, index: usize, now: Instant) -> ServiceStats {
        let station = &self.plan.stations[index];
        let service = &self.services[index];
        let replicas: Vec<ReplicaStats> = service
            .replicas
            .iter()
            .zip(0..)
            .map(|(r, i)| r.stats(i, station.workers, now))
            .collect();
        let mut response = LatencyHistogram::new();
        for r in &replicas {
            response.merge(&r.response);
        }
        let sum = |f: fn(&ReplicaStats) -> u64| replicas.iter().map(f).sum::<u64>();
        let window_s = replicas.first().map_or(0.0, |r| r.window_s);
        let busy_s: f64 = replicas.iter().map(|r| r.busy_s).sum();
        let capacity = f64::from(station.workers) * f64::from(station.replicas) * window_s;
        let completed = sum(|r| r.completed);
        let links = self
            .plan
            .links
            .iter()
            .zip(&self.guards)
            .filter(|(link, _)| link.from.index() == index && link.guarded)
            .map(|(_, guard)| station::lock(guard).tally.clone())
            .collect();
        ServiceStats {
            service: station.name.clone(),
            replica_count: station.replicas,
            workers: station.workers,
            window_s,
            requests: sum(|r| r.requests),
            throughput_rps: if window_s > 0.0 {
                completed as f64 / window_s
            } else {
                0.0
            },
            errors: sum(|r| r.errors),
            downstream_failures: sum(|r| r.downstream_failures),
            rejected: sum(|r| r.rejected),
            rate_limited: sum(|r| r.rate_limited),
            cache_hits: sum(|r| r.cache_hits),
            utilization: if capacity > 0.0 {
                busy_s / capacity
            } else {
                0.0
            },
            mean_queue_length: replicas.iter().map(|r| r.mean_queue_length).sum(),
            queue_per_second: {
                let seconds = replicas
                    .iter()
                    .map(|r| r.queue_per_second.len())
                    .min()
                    .unwrap_or(0);
                (0..seconds)
                    .map(|k| replicas.iter().map(|r| r.queue_per_second[k]).sum())
                    .collect()
            },
            response_ms: response.summary(),
            replicas,
            links,
            response,
        }
    }
}

/// A running emulation; every listener closes when it is dropped.
pub struct Emulation {
    shared: Arc<Emulated>,
    listeners: Vec<Listener>,
    entries: Vec<EntryPoint>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Dropped after the runtime, so no task waits on a stopped timer.
    _timer: PreciseTimer,
}

impl Emulation {
    /// Starts scenario `scenario` of a validated project on 127.0.0.1.
    pub fn start(
        project: Validated<'_>,
        scenario: usize,
        config: &EmulateConfig,
    ) -> Result<Self, LoadError> {
        let unsupported = unsupported(project.project(), scenario);
        if !unsupported.is_empty() {
            let lines: Vec<String> = unsupported.iter().map(ToString::to_string).collect();
            return Err(LoadError::Plan(lines.join("\n")));
        }
        let plan = Plan::new(project, scenario);
        let only = match &config.only {
            Some(one) => Some(one_service(&plan, one)?),
            None => None,
        };
        let count: usize = plan.stations.iter().map(|s| s.replicas as usize + 1).sum();
        if only.is_none() && count > MAX_LISTENERS {
            return Err(LoadError::Plan(format!(
                "scenario {:?} needs {count} listeners (one per replica and one per service); \
                 the emulator opens at most {MAX_LISTENERS}",
                plan.scenario
            )));
        }
        let bound = match (&only, &config.only) {
            (Some((station, _)), Some(one)) => server::bind_one(&plan, *station, one.listen)?,
            _ => server::bind(&plan, config.base_port)?,
        };
        let timer = PreciseTimer::start().map_err(|source| LoadError::Io {
            what: "cannot start the emulator's timer".into(),
            cause: source,
        })?;
        #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
        let epoch = Instant::now();
        let services = plan
            .stations
            .iter()
            .zip(&bound)
            .map(|(station, b)| station::Service::new(station, &b.addresses(), config.seed, epoch))
            .collect();
        let guards = plan
            .links
            .iter()
            .map(|link| Mutex::new(LinkGuard::new(link, plan.stations[link.from].replicas)))
            .collect();
        let link_rngs = plan
            .link_streams
            .iter()
            .map(|name| Mutex::new(Rng::stream(config.seed, 0, &format!("emulate/{name}"))))
            .collect();
        // A service run elsewhere is one address: its own balancer chooses.
        let pools = bound
            .iter()
            .map(|b| {
                (0..b.replicas.len().max(1))
                    .map(|_| Mutex::new(Vec::new()))
                    .collect()
            })
            .collect();
        let here = only.as_ref().map(|(station, _)| *station);
        let llm = llm::start(&plan, here)?;
        let peers = only.map_or_else(|| vec![None; plan.stations.len()], |(_, peers)| peers);
        let mut listeners = Vec::new();
        for (station, b) in plan.stations.iter().zip(&bound) {
            let Some(front) = &b.front else { continue };
            listeners.push(Listener {
                service: station.name.clone(),
                replica: None,
                address: front.1,
            });
            for (replica, (listener, address)) in (0..).zip(&b.replicas) {
                if listener.is_some() {
                    listeners.push(Listener {
                        service: station.name.clone(),
                        replica: Some(replica),
                        address: *address,
                    });
                }
            }
        }
        let entries = plan
            .classes
            .iter()
            .filter_map(|class| {
                let front = bound[class.entry.index()].front.as_ref()?;
                Some(EntryPoint {
                    class: class.name.clone(),
                    service: plan.stations[class.entry].name.clone(),
                    url: format!("http://{}/", front.1),
                })
            })
            .collect();
        let tracer = match &config.traces {
            Some(path) => Some(
                trace::Tracer::create(
                    path,
                    plan.stations.iter().map(|s| s.name.clone()).collect(),
                    epoch,
                    config.seed,
                )
                .map_err(|source| LoadError::Io {
                    what: format!("cannot write traces to {}", path.display()),
                    cause: source,
                })?,
            ),
            None => None,
        };
        let shared = Arc::new(Emulated {
            plan,
            services,
            guards,
            link_rngs,
            pools,
            timer: timer.handle(),
            epoch,
            next_request: AtomicU64::new(1),
            tracer,
            peers,
            llm,
        });
        let threads = config.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.clamp(1, 64))
            .thread_name("emulate-io")
            .enable_io()
            .build()
            .map_err(|source| LoadError::Io {
                what: "cannot start the emulator's event loops".into(),
                cause: source,
            })?;
        server::serve(&runtime, &shared, bound);
        Ok(Self {
            shared,
            listeners,
            entries,
            runtime: Some(runtime),
            _timer: timer,
        })
    }

    /// Every listener: each service's balancer, then its replicas.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// Where each request class enters.
    pub fn entries(&self) -> &[EntryPoint] {
        &self.entries
    }

    /// The scenario emulated.
    pub fn scenario(&self) -> &str {
        &self.shared.plan.scenario
    }

    /// Every service's counters since the start or the last [`Self::restart_counters`].
    pub fn stats(&self) -> Vec<ServiceStats> {
        #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
        let now = Instant::now();
        (0..self.shared.services.len())
            .map(|i| self.shared.service_stats(i, now))
            .collect()
    }

    /// Starts every counter's window afresh (after a warm-up).
    pub fn restart_counters(&self) {
        #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
        let now = Instant::now();
        for service in &self.shared.services {
            for replica in &service.replicas {
                replica.restart(now);
            }
        }
        for guard in &self.shared.guards {
            let mut guard = station::lock(guard);
            guard.tally = LinkReport {
                link: guard.tally.link.clone(),
                ..LinkReport::default()
            };
        }
    }

    /// Load-test targets for the project's classes: each class's entry,
    /// weighted, with its class header.
    pub fn targets(&self, project: &Project) -> Result<Vec<super::Target>, LoadError> {
        self.entries
            .iter()
            .map(|entry| {
                let weight = project
                    .workload
                    .classes
                    .iter()
                    .find(|c| c.name == entry.class)
                    .map_or(1.0, |c| c.weight);
                super::Target::new(&super::RequestSpec {
                    url: entry.url.clone(),
                    method: "GET".into(),
                    headers: vec![(CLASS_HEADER.into(), header_value(&entry.class))],
                    body: Vec::new(),
                    weight,
                })
            })
            .collect()
    }

    /// A load test of the project's workload against this emulation: its
    /// rate and profile (or users and think time), each class at its entry
    /// by weight, for `duration` of which the first `warmup` is not
    /// measured, on precise pacing from one sending thread (the services
    /// need the other cores), with a 30 s timeout per request.
    pub fn load_plan(
        &self,
        project: &Project,
        duration: Duration,
        warmup: Duration,
        connections: u32,
    ) -> Result<super::LoadPlan, LoadError> {
        let pacing = match &project.workload.arrivals {
            crate::model::Arrivals::Open { process, .. } => super::Pacing::Open {
                process: *process,
                segments: project.workload.rate_segments(),
                connections,
                seed: project.run.seed,
            },
            crate::model::Arrivals::Closed { users, think_time } => super::Pacing::Closed {
                users: *users,
                think: think_time.clone(),
            },
        };
        let plan = super::LoadPlan {
            targets: self.targets(project)?,
            pacing,
            duration,
            precise: true,
            warmup,
            timeout: Duration::from_secs(30),
            http2: false,
            insecure: false,
            thresholds: Vec::new(),
            threads: Some(1),
            shard: None,
            start_at: None,
            llm: None,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// Closes every listener and connection and stops the event loops.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }

    /// Stops serving and finishes the traces file: every span recorded is
    /// written and the file flushed. Returns how many spans were written
    /// and how many were dropped because the writer fell behind, or `None`
    /// when no traces were asked for.
    pub fn finish_traces(&mut self) -> Option<std::io::Result<(u64, u64)>> {
        self.shut_down();
        self.shared
            .tracer
            .as_ref()
            .map(|t| t.close().map(|written| (written, t.dropped())))
    }
}

impl Drop for Emulation {
    fn drop(&mut self) {
        let _ = self.finish_traces();
    }
}

/// Checks a one-service run against the plan: the service exists, and
/// every service it calls has an address. Returns the service's station and
/// each station's peer address.
fn one_service(plan: &Plan, one: &OneService) -> Result<(usize, Vec<Option<String>>), LoadError> {
    let named = |name: &str| plan.stations.iter().position(|s| s.name == name);
    let station = named(&one.service).ok_or_else(|| {
        LoadError::Plan(format!(
            "--service {:?}: scenario {:?} has no such service",
            one.service, plan.scenario
        ))
    })?;
    let mut peers = vec![None; plan.stations.len()];
    for (name, address) in &one.peers {
        let Some(at) = named(name) else {
            return Err(LoadError::Plan(format!(
                "--peer {name}: scenario {:?} has no such service",
                plan.scenario
            )));
        };
        if at == station {
            return Err(LoadError::Plan(format!(
                "--peer {name}: that is the service this process runs"
            )));
        }
        peers[at] = Some(address.clone());
    }
    let missing: Vec<&str> = plan
        .links
        .iter()
        .filter(|link| link.from.index() == station && peers[link.target.index()].is_none())
        .map(|link| plan.stations[link.target].name.as_str())
        .collect();
    if let Some(first) = missing.first() {
        return Err(LoadError::Plan(format!(
            "service {:?} calls {}: give each an address, like --peer {first}=http://{first}:8080",
            one.service,
            missing
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok((station, peers))
}

/// Text made safe for an HTTP header value: printable ASCII is kept, every
/// other byte is percent-encoded (a class name may hold anything).
pub fn header_value(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
