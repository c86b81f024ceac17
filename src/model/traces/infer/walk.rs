//! Walking the traces once: every handling's own work, wait and calls,
//! gathered per service, per link and per entry.

use std::collections::{BTreeMap, HashMap};

use super::super::{Span, SpanKind, Trace};
use super::sample::{Reservoir, Timeline};

/// Per service, as the handlings are walked.
#[derive(Default)]
pub(super) struct ServiceAcc {
    pub handlings: u64,
    pub errors: u64,
    /// Own work, in seconds: a sample.
    pub own: Reservoir,
    /// Which handlings' instants are kept (in `instances` and `peak`).
    pub timeline: Timeline,
    /// Each instance's kept handlings that said their wait.
    pub instances: BTreeMap<String, Vec<Held>>,
    /// Distinct instances seen (named or not), whether kept or not.
    pub instance_names: std::collections::BTreeSet<String>,
    /// Kept handlings that said their wait; once the workers are measured,
    /// those that started before the timeline's cut.
    pub waits_known: u64,
    /// Of those, the ones that waited for a worker (set when measured).
    pub waited: u64,
    /// Kept handlings' starts and ends.
    pub peak: Vec<(u64, u64)>,
    pub sync_calls: bool,
}

/// One handling's hold of a worker: when it got one, when it ended, and
/// when its own work ended.
#[derive(Clone, Copy)]
pub(super) struct Held {
    pub grant: u64,
    pub end: u64,
    pub work_end: u64,
    pub wait: u64,
}

/// Per link, as the handlings are walked.
#[derive(Default)]
pub(super) struct LinkAcc {
    pub calls: u64,
    pub calling: u64,
    /// Network latency of the calls, in seconds: a sample.
    pub latency: Reservoir,
    pub offset_sum: f64,
    /// Handlings where two of this link's calls overlapped.
    pub self_overlap: u64,
    /// Handlings that made two or more of its calls.
    pub repeated: u64,
}

pub(super) type LinkKey = (usize, usize, bool);

/// Everything one pass over the traces gathers.
#[derive(Default)]
pub(super) struct Walk {
    /// Service names, in the order first seen; accumulators are by index.
    pub names: Vec<String>,
    index: HashMap<String, usize>,
    pub services: Vec<ServiceAcc>,
    pub links: BTreeMap<LinkKey, LinkAcc>,
    /// Links in the order first seen.
    pub link_order: Vec<LinkKey>,
    /// Sibling synchronous links of a caller: handlings where both were
    /// made, and where their calls overlapped.
    pub pairs: HashMap<(LinkKey, LinkKey), (u64, u64)>,
    /// Requests per entry service and operation.
    pub classes: BTreeMap<(usize, String), u64>,
    pub class_order: Vec<(usize, String)>,
    pub first_root: u64,
    pub last_root: u64,
    pub requests: u64,
    pub untraced_calls: u64,
    pub spans: usize,
    pub traces: usize,
}

impl Walk {
    /// A walk of no traces yet.
    pub fn new() -> Self {
        Self {
            first_root: u64::MAX,
            ..Self::default()
        }
    }

    /// Walks one more trace.
    pub fn add(&mut self, trace: &Trace) {
        self.traces += 1;
        self.spans += trace.spans.len();
        self.trace(trace);
        self.services
            .resize_with(self.names.len(), ServiceAcc::default);
    }

    /// The index of service `name`, added when new.
    fn service(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.index.insert(name.to_owned(), self.names.len());
        self.names.push(name.to_owned());
        self.names.len() - 1
    }

    /// One trace: its request, then each handling.
    fn trace(&mut self, trace: &Trace) {
        let mut parent = vec![None; trace.spans.len()];
        for (p, children) in trace.children.iter().enumerate() {
            for &c in children {
                parent[c] = Some(p);
            }
        }
        let handlings: Vec<bool> = (0..trace.spans.len())
            .map(|i| {
                let span = &trace.spans[i];
                match span.kind {
                    SpanKind::Server | SpanKind::Consumer => true,
                    SpanKind::Client | SpanKind::Producer => false,
                    SpanKind::Internal | SpanKind::Unspecified => parent[i].is_none_or(|p| {
                        is_call(trace.spans[p].kind) || trace.spans[p].service != span.service
                    }),
                }
            })
            .collect();
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
                let s = self.service(&entry_span.service);
                let key = (s, entry_span.operation.clone());
                let count = self.classes.entry(key.clone()).or_insert_with(|| {
                    self.class_order.push(key);
                    0
                });
                *count += 1;
                self.requests += 1;
                self.first_root = self.first_root.min(span.start_ns);
                self.last_root = self.last_root.max(span.start_ns);
            }
        }
        for h in (0..trace.spans.len()).filter(|&i| handlings[i]) {
            let calls = self.calls(trace, &handlings, h);
            self.handling(&trace.spans[h], &calls);
        }
    }

    /// The calls under handling `h`, through its own internal spans, by
    /// start.
    fn calls(&mut self, trace: &Trace, handlings: &[bool], h: usize) -> Vec<Call> {
        let span = &trace.spans[h];
        let mut calls = Vec::new();
        let mut stack: Vec<usize> = trace.children[h].clone();
        while let Some(c) = stack.pop() {
            let child = &trace.spans[c];
            if handlings[c] {
                calls.push(Call {
                    callee: self.service(&child.service),
                    asynchronous: child.kind == SpanKind::Consumer || child.follows_from,
                    start: child.start_ns,
                    end: child.end_ns,
                    latency_ns: None,
                    error: child.error,
                });
            } else if is_call(child.kind) {
                let callee = trace.children[c].iter().copied().find(|&g| handlings[g]);
                let Some(callee) = callee else {
                    self.untraced_calls += 1;
                    continue;
                };
                let server = &trace.spans[callee];
                let asynchronous = child.kind == SpanKind::Producer
                    || server.kind == SpanKind::Consumer
                    || server.follows_from
                    || child.follows_from;
                let latency_ns = if asynchronous {
                    2 * server.start_ns.saturating_sub(child.start_ns)
                } else {
                    child.duration_ns().saturating_sub(server.duration_ns())
                };
                calls.push(Call {
                    callee: self.service(&server.service),
                    asynchronous,
                    start: child.start_ns,
                    end: child.end_ns,
                    latency_ns: Some(latency_ns),
                    error: child.error || server.error,
                });
            } else if child.service == span.service {
                stack.extend(trace.children[c].iter().copied());
            }
        }
        calls.sort_by_key(|c| (c.start, c.end));
        calls
    }

    /// One handling and its calls: its service's figures, then its links'.
    fn handling(&mut self, span: &Span, calls: &[Call]) {
        let s = self.service(&span.service);
        if self.services.len() <= s {
            self.services.resize_with(s + 1, ServiceAcc::default);
        }
        let acc = &mut self.services[s];
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
        let instance = span.instance.as_deref().unwrap_or_default();
        if !acc.instance_names.contains(instance) {
            acc.instance_names.insert(instance.to_owned());
        }
        if !acc.timeline.keep(span.start_ns) {
            self.links_of(s, span, calls);
            return;
        }
        acc.peak.push((span.start_ns, span.end_ns));
        let held = acc.instances.entry(instance.to_owned()).or_default();
        if let Some(w) = wait {
            acc.waits_known += 1;
            held.push(Held {
                grant,
                end: span.end_ns,
                work_end: grant + own.min(span.end_ns - grant),
                wait: w,
            });
        }
        self.links_of(s, span, calls);
    }

    /// The links of one handling of service `s`.
    fn links_of(&mut self, s: usize, span: &Span, calls: &[Call]) {
        // Each callee's calls in this handling.
        let mut made: BTreeMap<LinkKey, Vec<(u64, u64)>> = BTreeMap::new();
        for call in calls {
            let key = (s, call.callee, call.asynchronous);
            let link = self.links.entry(key).or_insert_with(|| {
                self.link_order.push(key);
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
            let Some(link) = self.links.get_mut(key) else {
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
        let sync: Vec<(LinkKey, (u64, u64))> = made
            .iter()
            .filter(|(k, _)| !k.2)
            .map(|(k, iv)| {
                let start = iv.iter().map(|i| i.0).min().unwrap_or(0);
                let end = iv.iter().map(|i| i.1).max().unwrap_or(0);
                (*k, (start, end))
            })
            .collect();
        for (i, (a, ia)) in sync.iter().enumerate() {
            for (b, ib) in &sync[i + 1..] {
                let entry = self.pairs.entry((*a, *b)).or_default();
                entry.0 += 1;
                if ia.0 < ib.1 && ib.0 < ia.1 {
                    entry.1 += 1;
                }
            }
        }
    }
}

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
