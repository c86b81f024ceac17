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

use std::collections::{BTreeMap, HashMap};

use super::fit::{self, Fit};
use super::{Anomalies, SpanKind, Trace};
use crate::model::{
    ArrivalProcess, Arrivals, CallMode, IoModel, Link, Project, RequestClass, RunSettings,
    Scenario, Service, ServiceKind, TimeSpan, Workload,
};

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

/// Per service, as the handlings are walked.
#[derive(Default)]
struct ServiceAcc {
    handlings: u64,
    errors: u64,
    own: Vec<f64>,
    instances: BTreeMap<String, Vec<Held>>,
    waits_known: u64,
    waited: u64,
    peak: Vec<(u64, u64)>,
    sync_calls: bool,
}

/// One handling's hold of a worker: when it got one, when it ended, and
/// when its own work ended.
#[derive(Clone, Copy)]
struct Held {
    grant: u64,
    end: u64,
    work_end: u64,
    wait: u64,
}

/// Per link, as the handlings are walked.
#[derive(Default)]
struct LinkAcc {
    calls: u64,
    calling: u64,
    latency: Vec<f64>,
    offset_sum: f64,
    /// Handlings where two of this link's calls overlapped.
    self_overlap: u64,
    /// Handlings that made two or more of its calls.
    repeated: u64,
}

type LinkKey = (usize, usize, bool);

/// A call found under a handling.
struct Call {
    callee: usize,
    asynchronous: bool,
    start: u64,
    end: u64,
    latency_ns: Option<u64>,
    error: bool,
}

fn is_call(kind: SpanKind) -> bool {
    matches!(kind, SpanKind::Client | SpanKind::Producer)
}

/// Builds a project from `traces`.
pub fn infer(
    traces: &[Trace],
    anomalies: Anomalies,
    sources: &[String],
    options: &ImportOptions,
) -> Result<Import, InferError> {
    let spans: usize = traces.iter().map(|t| t.spans.len()).sum();
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut service_of = |name: &str, names: &mut Vec<String>| -> usize {
        if let Some(&i) = index.get(name) {
            return i;
        }
        index.insert(name.to_owned(), names.len());
        names.push(name.to_owned());
        names.len() - 1
    };
    let mut services: Vec<ServiceAcc> = Vec::new();
    let mut links: BTreeMap<LinkKey, LinkAcc> = BTreeMap::new();
    let mut link_order: Vec<LinkKey> = Vec::new();
    // Sibling links of a caller: handlings where both were made, and where
    // their calls overlapped.
    let mut pairs: HashMap<(LinkKey, LinkKey), (u64, u64)> = HashMap::new();
    let mut classes: BTreeMap<(usize, String), u64> = BTreeMap::new();
    let mut class_order: Vec<(usize, String)> = Vec::new();
    let (mut first_root, mut last_root) = (u64::MAX, 0);
    let mut requests = 0;
    let mut untraced_calls = 0;
    for trace in traces {
        let handling = |i: usize| -> bool {
            let span = &trace.spans[i];
            match span.kind {
                SpanKind::Server | SpanKind::Consumer => true,
                SpanKind::Client | SpanKind::Producer => false,
                SpanKind::Internal | SpanKind::Unspecified => {
                    let parent = span
                        .parent
                        .as_ref()
                        .and_then(|p| trace.spans.iter().position(|s| &s.id == p));
                    parent.is_none_or(|p| {
                        is_call(trace.spans[p].kind) || trace.spans[p].service != span.service
                    })
                }
            }
        };
        let handlings: Vec<bool> = (0..trace.spans.len()).map(handling).collect();
        // The request: the root handling, or the handling under a root call.
        for &root in &trace.roots {
            let span = &trace.spans[root];
            if span.parent.is_some() {
                continue;
            }
            let entry = if handlings[root] {
                Some(root)
            } else if is_call(span.kind) {
                trace.children[root].iter().copied().find(|&c| handlings[c])
            } else {
                None
            };
            if let Some(entry) = entry {
                let entry_span = &trace.spans[entry];
                let s = service_of(&entry_span.service, &mut names);
                let key = (s, entry_span.operation.clone());
                let count = classes.entry(key.clone()).or_insert_with(|| {
                    class_order.push(key);
                    0
                });
                *count += 1;
                requests += 1;
                first_root = first_root.min(span.start_ns);
                last_root = last_root.max(span.start_ns);
            }
        }
        for h in (0..trace.spans.len()).filter(|&i| handlings[i]) {
            let span = &trace.spans[h];
            let s = service_of(&span.service, &mut names);
            if services.len() <= s {
                services.resize_with(s + 1, ServiceAcc::default);
            }
            // The calls under it, through its own internal spans.
            let mut calls = Vec::new();
            let mut stack: Vec<usize> = trace.children[h].clone();
            while let Some(c) = stack.pop() {
                let child = &trace.spans[c];
                if handlings[c] {
                    calls.push(Call {
                        callee: service_of(&child.service, &mut names),
                        asynchronous: child.kind == SpanKind::Consumer || child.follows_from,
                        start: child.start_ns,
                        end: child.end_ns,
                        latency_ns: None,
                        error: child.error,
                    });
                } else if is_call(child.kind) {
                    let callee = trace.children[c].iter().copied().find(|&g| handlings[g]);
                    let Some(callee) = callee else {
                        untraced_calls += 1;
                        continue;
                    };
                    let server = &trace.spans[callee];
                    let asynchronous = child.kind == SpanKind::Producer
                        || server.kind == SpanKind::Consumer
                        || server.follows_from
                        || child.follows_from;
                    let latency_ns = if asynchronous {
                        Some(2 * server.start_ns.saturating_sub(child.start_ns))
                    } else {
                        Some(child.duration_ns().saturating_sub(server.duration_ns()))
                    };
                    calls.push(Call {
                        callee: service_of(&server.service, &mut names),
                        asynchronous,
                        start: child.start_ns,
                        end: child.end_ns,
                        latency_ns,
                        error: child.error || server.error,
                    });
                } else if child.service == span.service {
                    stack.extend(trace.children[c].iter().copied());
                }
            }
            calls.sort_by_key(|c| (c.start, c.end));
            let acc = &mut services[s];
            acc.handlings += 1;
            let own_error = span.error && !calls.iter().any(|c| c.error);
            acc.errors += u64::from(own_error);
            let wait = span.queue_wait_ns.map(|w| w.min(span.duration_ns()));
            let grant = span.start_ns + wait.unwrap_or(0);
            // Own work: the handling from its grant, less its synchronous
            // calls' union.
            let mut busy = 0;
            let mut covered_to = grant;
            for call in calls.iter().filter(|c| !c.asynchronous) {
                let (from, to) = (call.start.max(covered_to), call.end.min(span.end_ns));
                if to > from {
                    busy += to - from;
                    covered_to = to;
                }
            }
            let own = span.end_ns.saturating_sub(grant).saturating_sub(busy);
            acc.own.push(own as f64 / 1e9);
            acc.sync_calls |= calls.iter().any(|c| !c.asynchronous);
            acc.peak.push((span.start_ns, span.end_ns));
            if let Some(w) = wait {
                acc.waits_known += 1;
                let instance = span.instance.clone().unwrap_or_default();
                acc.instances.entry(instance).or_default().push(Held {
                    grant,
                    end: span.end_ns,
                    work_end: grant + own.min(span.end_ns - grant),
                    wait: w,
                });
            } else {
                acc.instances
                    .entry(span.instance.clone().unwrap_or_default())
                    .or_default();
            }
            // Links: each callee's calls in this handling.
            let mut made: BTreeMap<LinkKey, Vec<(u64, u64)>> = BTreeMap::new();
            for call in &calls {
                let key = (s, call.callee, call.asynchronous);
                let link = links.entry(key).or_insert_with(|| {
                    link_order.push(key);
                    LinkAcc::default()
                });
                link.calls += 1;
                link.offset_sum += call.start.saturating_sub(span.start_ns) as f64;
                if let Some(l) = call.latency_ns {
                    link.latency.push(l as f64 / 1e9);
                }
                made.entry(key).or_default().push((call.start, call.end));
            }
            for (key, intervals) in &made {
                let Some(link) = links.get_mut(key) else {
                    continue;
                };
                link.calling += 1;
                if intervals.len() > 1 {
                    link.repeated += 1;
                    if intervals.windows(2).any(|w| w[1].0 < w[0].1) {
                        link.self_overlap += 1;
                    }
                }
            }
            let sync: Vec<(&LinkKey, (u64, u64))> = made
                .iter()
                .filter(|(k, _)| !k.2)
                .map(|(k, iv)| {
                    let start = iv.iter().map(|i| i.0).min().unwrap_or(0);
                    let end = iv.iter().map(|i| i.1).max().unwrap_or(0);
                    (k, (start, end))
                })
                .collect();
            for (i, (a, ia)) in sync.iter().enumerate() {
                for (b, ib) in &sync[i + 1..] {
                    let entry = pairs.entry((**a, **b)).or_default();
                    entry.0 += 1;
                    if ia.0 < ib.1 && ib.0 < ia.1 {
                        entry.1 += 1;
                    }
                }
            }
        }
    }
    if requests == 0 {
        return Err(InferError::NoRequests {
            spans,
            traces: traces.len(),
        });
    }
    services.resize_with(names.len(), ServiceAcc::default);
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
        let Some(fit) = fit::fit(&mut acc.own) else {
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
        let distinct = acc.instances.keys().filter(|k| !k.is_empty()).count();
        let instances = (distinct > 0).then(|| u32::try_from(distinct).unwrap_or(u32::MAX));
        if instances.is_none() {
            no_instances.push(name.clone());
        }
        let replicas = instances.unwrap_or(1).max(1);
        let peak = peak_in_progress(&mut acc.peak).div_ceil(u64::from(replicas));
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
    for &(a, b) in pairs.keys() {
        let (together, overlapping) = pairs[&(a, b)];
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
        let latency = fit::fit(&mut acc.latency);
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

    // The workload: a class per entry service and operation.
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
                weight: classes[key] as f64,
                entry: names[*service].clone(),
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
        scenarios: vec![scenario],
    };
    Ok(Import {
        project,
        services: reports.into_iter().flatten().collect(),
        links: link_reports,
        traces: traces.len(),
        spans,
        requests,
        window_s,
        anomalies,
        untraced_calls,
        warnings,
    })
}

/// The most intervals in progress at once.
fn peak_in_progress(intervals: &mut [(u64, u64)]) -> u64 {
    let mut events: Vec<(u64, i64)> = intervals
        .iter()
        .flat_map(|&(s, e)| [(s, 1), (e, -1)])
        .collect();
    events.sort_unstable();
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, delta) in events {
        now += delta;
        peak = peak.max(now);
    }
    u64::try_from(peak).unwrap_or(0)
}

/// Workers per replica and the I/O model, measured from the requests that
/// waited for a worker: when one got its worker, every worker of its
/// replica was busy, so the handlings then holding one count the workers.
/// Which spans hold a worker depends on the I/O model (blocking: to the
/// handling's end; async: to the end of its own work), so both are tried,
/// and the one under which the count is most consistent (fewest instants
/// with more holders than workers) is kept. `None` when too few requests
/// waited for the count to be measured.
fn measure_workers(acc: &mut ServiceAcc, fit: &Fit) -> Option<(u32, IoModel)> {
    // A wait shorter than a quarter of the typical work (and 20 µs) is the
    // server's own overhead, not a queue.
    let threshold = TimeSpan::from_secs_f64(fit.mean_s * 0.25)
        .as_nanos()
        .max(20_000);
    let lists: Vec<&Vec<Held>> = acc.instances.values().collect();
    let waited_at: Vec<Vec<usize>> = lists
        .iter()
        .map(|list| {
            (0..list.len())
                .filter(|&i| list[i].wait > threshold)
                .collect()
        })
        .collect();
    let waited: usize = waited_at.iter().map(Vec::len).sum();
    acc.waited = waited as u64;
    let handlings: usize = lists.iter().map(|l| l.len()).sum();
    if waited < 5 || waited * 1000 < handlings {
        return None;
    }
    let candidates = if acc.sync_calls {
        vec![IoModel::Blocking, IoModel::Async]
    } else {
        vec![IoModel::Blocking]
    };
    let tolerance = 200_000;
    let mut best: Option<(f64, u32, IoModel)> = None;
    for io in candidates {
        let mut counts: HashMap<u64, u64> = HashMap::new();
        let mut all = Vec::new();
        for (list, at) in lists.iter().zip(&waited_at) {
            let mut starts: Vec<u64> = list.iter().map(|h| h.grant).collect();
            let mut ends: Vec<u64> = list
                .iter()
                .map(|h| match io {
                    IoModel::Blocking => h.end,
                    IoModel::Async => h.work_end,
                })
                .collect();
            starts.sort_unstable();
            ends.sort_unstable();
            let holding = |t: u64| {
                let started = starts.partition_point(|&s| s <= t) as u64;
                let ended = ends.partition_point(|&e| e <= t + tolerance) as u64;
                started.saturating_sub(ended)
            };
            for &i in at {
                *counts.entry(holding(list[i].grant)).or_default() += 1;
            }
            all.extend(list.iter().map(|h| holding(h.grant)));
        }
        let Some((&workers, _)) = counts
            .iter()
            .max_by_key(|&(&c, &n)| (n, std::cmp::Reverse(c)))
        else {
            continue;
        };
        let workers = workers.max(1);
        let over = all.iter().filter(|&&c| c > workers).count() as f64 / all.len().max(1) as f64;
        if best.is_none_or(|(o, ..)| over < o) {
            best = Some((over, u32::try_from(workers).unwrap_or(u32::MAX), io));
        }
    }
    // Under the right count, hardly any request finds more holders than
    // workers; when even the best count is often exceeded, the waits were
    // the server's own delays, not a queue.
    best.filter(|&(over, ..)| over <= MAX_OVER)
        .map(|(_, workers, io)| (workers, io))
}

/// The largest share of requests that may find more holders than the
/// measured workers (timing noise) for the count to stand.
const MAX_OVER: f64 = 0.02;

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

impl Import {
    /// The comment block the project file opens with: where it came from,
    /// what was measured and what was assumed.
    pub fn header(&self, sources: &[String]) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mut line = |text: String| {
            for part in text.lines() {
                let _ = writeln!(out, "// {part}");
            }
        };
        line(format!(
            "Imported by archbench import from {}.",
            if sources.is_empty() {
                "traces".to_owned()
            } else {
                sources.join(", ")
            }
        ));
        line(format!(
            "{} spans in {} traces; {} requests over {:.1} s, {} req/s at the entry.",
            self.spans,
            self.traces,
            self.requests,
            self.window_s,
            fit::round3(if self.window_s > 0.0 {
                (self.requests - 1) as f64 / self.window_s
            } else {
                0.0
            })
        ));
        let a = &self.anomalies;
        line(format!(
            "Anomalies: {} spans without their parent, {} outside their parent (clock skew), \
             {} duplicate ids, {} ending before they start; {} calls to services without spans.",
            a.missing_parent, a.skewed, a.duplicate, a.negative, self.untraced_calls
        ));
        line("Service times (own work: a handling less its wait for a worker and its".into());
        line("synchronous calls), fitted as docs/traces.md says:".into());
        for s in &self.services {
            let workers = if s.workers.1 { "measured" } else { "assumed" };
            line(format!(
                "  {}: {}; {} handlings, {} replica(s), {} workers ({workers}), io {:?}{}",
                s.name,
                s.fit.describe(),
                s.handlings,
                s.instances.unwrap_or(1),
                s.workers.0,
                s.io.0,
                if s.io.1 { " (measured)" } else { "" }
            ));
        }
        line("Assumed: balancers RoundRobin, queues unbounded, kinds guessed from names,".into());
        line("one scenario, Poisson arrivals at the traced rate.".into());
        for warning in &self.warnings {
            line(format!("Warning: {warning}"));
        }
        out
    }
}
