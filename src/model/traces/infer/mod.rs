//! Building a project from assembled traces: what `archbench import` does.
//! docs/traces.md explains each inference; in short:
//!
//! - A **handling** is a span of kind SERVER or CONSUMER, or a span of
//!   another kind (not CLIENT or PRODUCER) that starts a trace or whose
//!   parent is a call or another service's span. Spans inside a handling of
//!   the same service (INTERNAL ones) belong to it.
//! - A **call** is a CLIENT or PRODUCER span under a handling (its callee is
//!   the service of the handling below it), or a handling directly under
//!   another service's handling.
//! - A service's **own work** (its service time) is a handling's duration
//!   less its wait for a worker (when the span says, see
//!   [`QUEUE_WAIT`](super::QUEUE_WAIT)) less the union of its synchronous
//!   calls' intervals.
//! - A link's **latency** is the client span's duration less the callee's
//!   handling's, for a synchronous call; twice the delay from the producer's
//!   start to the consumer's, for an asynchronous one (the model's latency
//!   is a round trip).

mod header;
mod sample;
mod walk;
mod workers;

use std::collections::HashMap;

use super::fit::{self, Fit};
use super::{Anomalies, Trace};
use crate::model::{
    ArrivalProcess, Arrivals, CallMode, IoModel, Link, Project, RequestClass, RunSettings,
    Scenario, Service, ServiceKind, Workload,
};
use walk::{LinkKey, Walk};
use workers::{measure_workers, peak_in_progress};

/// The workers given to a service whose spans do not say how long requests
/// waited, when that is more than twice its peak of requests in progress.
pub const DEFAULT_WORKERS: u32 = 8;

/// What an import is asked for.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The project's name; by default one naming the files.
    pub name: Option<String>,
}

/// What was inferred about one service.
#[derive(Clone, Debug)]
pub struct ServiceReport {
    /// Its name.
    pub name: String,
    /// Handlings seen.
    pub handlings: u64,
    /// Distinct instances seen, or `None` when the spans name none.
    pub instances: Option<u32>,
    /// The workers chosen, and whether they were measured (from requests
    /// that waited for a worker) rather than assumed.
    pub workers: (u32, bool),
    /// The I/O model chosen, and whether it was measured.
    pub io: (IoModel, bool),
    /// The service time's fit.
    pub fit: Fit,
    /// The share of handlings that failed here (not downstream).
    pub error_rate: f64,
    /// The share of handlings that waited for a worker, when known.
    pub waited: Option<f64>,
}

/// What was inferred about one link.
#[derive(Clone, Debug)]
pub struct LinkReport {
    /// The caller.
    pub from: String,
    /// The callee.
    pub to: String,
    /// Calls seen.
    pub calls: u64,
    /// The caller's handlings that made the call at least once.
    pub calling: u64,
    /// The latency's fit, when any call gave a sample.
    pub latency: Option<Fit>,
}

/// An import's result.
#[derive(Clone, Debug)]
pub struct Import {
    /// The project.
    pub project: Project,
    /// Per service, in the project's order.
    pub services: Vec<ServiceReport>,
    /// Per link, in the project's order.
    pub links: Vec<LinkReport>,
    /// Traces read.
    pub traces: usize,
    /// Spans read.
    pub spans: usize,
    /// Requests that entered the system (the traces' roots).
    pub requests: u64,
    /// From the first request's start to the last's, in seconds.
    pub window_s: f64,
    /// What the traces lacked.
    pub anomalies: Anomalies,
    /// Calls to a service that left no span (their callee is unknown).
    pub untraced_calls: u64,
    /// What was assumed rather than measured, one sentence each.
    pub warnings: Vec<String>,
}

/// Why nothing could be built.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// No trace had a root handling to take as a request.
    #[error(
        "the traces hold no request: no trace has a root span that handles one (read {spans} spans in {traces} traces)"
    )]
    NoRequests {
        /// Spans read.
        spans: usize,
        /// Traces read.
        traces: usize,
    },
}

/// Builds a project from `traces`.
pub fn infer(
    traces: &[Trace],
    anomalies: Anomalies,
    sources: &[String],
    options: &ImportOptions,
) -> Result<Import, InferError> {
    let mut walk = Inference::new();
    for trace in traces {
        walk.add(trace);
    }
    walk.finish(anomalies, sources, options)
}

/// A project being built from traces handed over one at a time, as they
/// are assembled from a stream: each trace is walked and dropped, and what
/// is kept of it is numbers.
pub struct Inference {
    walk: Walk,
}

impl Default for Inference {
    fn default() -> Self {
        Self::new()
    }
}

impl Inference {
    /// Nothing walked yet.
    pub fn new() -> Self {
        Self { walk: Walk::new() }
    }

    /// Takes one more trace.
    pub fn add(&mut self, trace: &Trace) {
        self.walk.add(trace);
    }

    /// Builds the project from the traces taken.
    pub fn finish(
        self,
        anomalies: Anomalies,
        sources: &[String],
        options: &ImportOptions,
    ) -> Result<Import, InferError> {
        build(self.walk, anomalies, sources, options)
    }
}

fn build(
    walk: Walk,
    anomalies: Anomalies,
    sources: &[String],
    options: &ImportOptions,
) -> Result<Import, InferError> {
    let Walk {
        names,
        mut services,
        mut links,
        mut link_order,
        pairs,
        classes,
        class_order,
        first_root,
        last_root,
        requests,
        untraced_calls,
        spans,
        traces,
        ..
    } = walk;
    if requests == 0 {
        return Err(InferError::NoRequests { spans, traces });
    }
    let mut warnings = Vec::new();
    let window_s = (last_root.saturating_sub(first_root)) as f64 / 1e9;
    let rate = if window_s > 0.0 {
        (requests - 1) as f64 / window_s
    } else {
        warnings.push("all requests started at one instant: the rate is set to 1 req/s".into());
        1.0
    };

    // Services.
    let mut project_services = Vec::new();
    let mut reports = Vec::new();
    let mut no_instances = Vec::new();
    let mut workers_assumed = Vec::new();
    for (name, acc) in names.iter().zip(&mut services) {
        let Some(fit) = fit::fit(&mut acc.own.values) else {
            warnings.push(format!(
                "service {name:?} handled nothing in the traces (it was only called \
                 by spans of unknown kind): service time 1ms assumed"
            ));
            let mut service = Service::new(
                name.clone(),
                kind_from_name(name),
                crate::model::Distribution::Constant(crate::model::TimeSpan::from_nanos(1_000_000)),
            );
            service.workers = DEFAULT_WORKERS;
            project_services.push(service);
            reports.push(None);
            continue;
        };
        let distinct = acc.instance_names.iter().filter(|k| !k.is_empty()).count();
        let instances = (distinct > 0).then(|| u32::try_from(distinct).unwrap_or(u32::MAX));
        if instances.is_none() {
            no_instances.push(name.clone());
        }
        let replicas = instances.unwrap_or(1).max(1);
        let peak = peak_in_progress(&acc.peak, acc.timeline.cut).div_ceil(u64::from(replicas));
        let measured = measure_workers(acc, &fit);
        let (workers, io) = if let Some((workers, io)) = measured {
            ((workers, true), (io, acc.sync_calls))
        } else {
            workers_assumed.push(name.clone());
            let workers = u32::try_from(peak.saturating_mul(2))
                .unwrap_or(u32::MAX)
                .clamp(DEFAULT_WORKERS, 100_000);
            ((workers, false), (IoModel::Blocking, false))
        };
        let error_rate = fit::round3(acc.errors as f64 / acc.handlings.max(1) as f64);
        let mut service =
            Service::new(name.clone(), kind_from_name(name), fit.distribution.clone());
        service.replicas = replicas;
        service.workers = workers.0;
        service.io = io.0;
        service.error_rate = error_rate;
        project_services.push(service);
        reports.push(Some(ServiceReport {
            name: name.clone(),
            handlings: acc.handlings,
            instances,
            workers,
            io,
            fit,
            error_rate,
            waited: (acc.waits_known > 0).then(|| acc.waited as f64 / acc.waits_known as f64),
        }));
    }
    if !no_instances.is_empty() {
        warnings.push(format!(
            "no instance ids (service.instance.id, host.name, hostname, ip) for {}: one replica each",
            no_instances.join(", ")
        ));
    }
    if !workers_assumed.is_empty() {
        warnings.push(format!(
            "workers assumed (at least {DEFAULT_WORKERS}, twice the peak of requests in progress \
             per replica; no request was seen waiting for a worker) for {}",
            workers_assumed.join(", ")
        ));
    }

    // Links, by caller in the order of their calls' mean offset.
    link_order.sort_by(|a, b| {
        let offset = |k: &LinkKey| {
            let l = &links[k];
            l.offset_sum / l.calls.max(1) as f64
        };
        (a.0, offset(a))
            .partial_cmp(&(b.0, offset(b)))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut group_of: HashMap<LinkKey, String> = HashMap::new();
    let mut groups = 0;
    // In a fixed order, so the same traces give the same group names.
    let mut pairs: Vec<((LinkKey, LinkKey), (u64, u64))> = pairs.into_iter().collect();
    pairs.sort_unstable_by_key(|&(key, _)| key);
    for &((a, b), (together, overlapping)) in &pairs {
        if a.0 != b.0 || overlapping * 2 <= together {
            continue;
        }
        match (group_of.get(&a).cloned(), group_of.get(&b).cloned()) {
            (Some(g), None) => {
                group_of.insert(b, g);
            }
            (None, Some(g)) => {
                group_of.insert(a, g);
            }
            (None, None) => {
                groups += 1;
                let g = format!("parallel-{groups}");
                group_of.insert(a, g.clone());
                group_of.insert(b, g);
            }
            (Some(g), Some(h)) if g != h => {
                for value in group_of.values_mut() {
                    if *value == h {
                        value.clone_from(&g);
                    }
                }
            }
            _ => {}
        }
    }
    let mut project_links = Vec::new();
    let mut link_reports = Vec::new();
    for key in &link_order {
        let Some(acc) = links.get_mut(key) else {
            continue;
        };
        let handlings = services[key.0].handlings.max(1);
        let probability = fit::round3((acc.calling as f64 / handlings as f64).min(1.0));
        // Calls per calling handling, rounded to the nearest whole.
        let calling = acc.calling.max(1);
        let count = u32::try_from((acc.calls + calling / 2) / calling)
            .unwrap_or(u32::MAX)
            .max(1);
        let mut link = Link::new(names[key.0].clone(), names[key.1].clone());
        link.probability = probability;
        link.count = count;
        link.mode = if key.2 {
            CallMode::Async
        } else {
            CallMode::Sync
        };
        link.parallel_group = group_of.get(key).cloned();
        if link.parallel_group.is_none() && acc.self_overlap * 2 > acc.repeated.max(1) {
            groups += 1;
            link.parallel_group = Some(format!("parallel-{groups}"));
        }
        let latency = fit::fit(&mut acc.latency.values);
        if let Some(fit) = &latency {
            link.latency = fit.distribution.clone();
        }
        project_links.push(link);
        link_reports.push(LinkReport {
            from: names[key.0].clone(),
            to: names[key.1].clone(),
            calls: acc.calls,
            calling: acc.calling,
            latency,
        });
    }
    // Links of one parallel group must be listed together: move each
    // group's later members up behind its first.
    let mut ordered: Vec<(Link, LinkReport)> = Vec::new();
    for pair in project_links.into_iter().zip(link_reports) {
        let at = pair.0.parallel_group.as_ref().and_then(|g| {
            ordered
                .iter()
                .rposition(|(l, _)| l.from == pair.0.from && l.parallel_group.as_ref() == Some(g))
        });
        match at {
            Some(i) => ordered.insert(i + 1, pair),
            None => ordered.push(pair),
        }
    }
    let (project_links, link_reports): (Vec<Link>, Vec<LinkReport>) = ordered.into_iter().unzip();

    // The workload: a class per entry service and operation, weighted by
    // its share of the requests.
    let classified: u64 = classes.values().sum();
    let mut class_names: HashMap<String, u32> = HashMap::new();
    let workload_classes = class_order
        .iter()
        .map(|key| {
            let (service, operation) = key;
            let base = if operation.trim().is_empty() {
                names[*service].clone()
            } else {
                format!("{} {}", names[*service], operation.trim())
            };
            let seen = class_names.entry(base.clone()).or_insert(0);
            *seen += 1;
            RequestClass {
                name: if *seen == 1 {
                    base
                } else {
                    format!("{base} ({seen})")
                },
                weight: fit::round3(classes[key] as f64 / classified.max(1) as f64),
                entry: names[*service].clone(),
                tokens: None,
            }
        })
        .collect();
    let name = options.name.clone().unwrap_or_else(|| {
        format!(
            "Imported from {}",
            if sources.is_empty() {
                "traces".to_owned()
            } else {
                sources.join(", ")
            }
        )
    });
    let mut scenario = Scenario {
        name: "imported".into(),
        description: format!(
            "Built by archbench import from {requests} requests in {spans} spans."
        ),
        services: project_services,
        links: project_links,
        groups: Vec::new(),
    };
    crate::model::layout::place(&mut scenario, crate::model::layout::NODE);
    let project = Project {
        format: crate::model::FORMAT_VERSION,
        name,
        description: String::new(),
        workload: Workload {
            arrivals: Arrivals::Open {
                process: ArrivalProcess::Poisson,
                rate_rps: fit::round3(rate),
                profile: Vec::new(),
            },
            classes: workload_classes,
        },
        run: RunSettings::default(),
        objectives: Vec::new(),
        goodput_share: crate::model::GOODPUT_SHARE,
        scenarios: vec![scenario],
    };
    Ok(Import {
        project,
        services: reports.into_iter().flatten().collect(),
        links: link_reports,
        traces,
        spans,
        requests,
        window_s,
        anomalies,
        untraced_calls,
        warnings,
    })
}

/// A kind guessed from a service's name (it sets only the icon).
fn kind_from_name(name: &str) -> ServiceKind {
    let name = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&[
        "gateway",
        "ingress",
        "load-balancer",
        "loadbalancer",
        "proxy",
        "envoy",
        "nginx",
    ]) {
        ServiceKind::Gateway
    } else if has(&["cache", "redis", "memcache"]) {
        ServiceKind::Cache
    } else if has(&["feature"]) {
        ServiceKind::FeatureStore
    } else if has(&["model", "inference-server", "triton", "tfserving"]) {
        ServiceKind::ModelServer
    } else if has(&["queue", "kafka", "rabbit", "sqs", "pubsub", "nats"]) {
        ServiceKind::Queue
    } else if has(&[
        "database",
        "db",
        "postgres",
        "mysql",
        "mongo",
        "sql",
        "cassandra",
        "dynamo",
    ]) {
        ServiceKind::Database
    } else {
        ServiceKind::Service
    }
}
