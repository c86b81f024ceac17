//! Grouping a stream of spans into traces and rebuilding each trace's tree,
//! in bounded memory: a trace is closed (handed on, and forgotten) once the
//! stream has moved a quiet window past its latest span.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::formats::reparent_shared;
use super::{Anomalies, Span, SpanKind, Trace};

/// How far past a trace's latest span end the spans read must reach before
/// the trace is taken as whole: 30 s, the OpenTelemetry Collector's tail
/// sampler's default wait for a trace's spans.
pub const QUIET_WINDOW_NS: u64 = 30_000_000_000;

/// The most spans held in open traces; past it, the traces quiet the
/// longest are closed early. About 80 MB of spans.
pub const MAX_OPEN_SPANS: usize = 250_000;

/// Gathers spans into traces as they are read.
///
/// Spans come in any order. Each trace stays open until the latest span
/// end read (from the current file) is [`QUIET_WINDOW_NS`] past the
/// trace's own latest end, or until the end; then its tree is built and
/// handed on. Exporters write spans as they end, so a trace's spans are
/// near each other in a file, and the open traces are those of the last
/// half minute, whatever the file's size. A span that arrives after its
/// trace was closed starts the trace again, and its parent is then counted
/// as missing.
#[derive(Debug)]
pub struct Assembler {
    open: HashMap<String, Open>,
    /// Open traces by their latest span end, oldest first; an entry is
    /// stale when its trace has since grown (it is then put back with the
    /// new end) or been closed.
    by_end: BinaryHeap<Reverse<(u64, u64, String)>>,
    next: u64,
    open_spans: usize,
    latest_end: u64,
    window_ns: u64,
    max_open_spans: usize,
    anomalies: Anomalies,
    closed: usize,
    closed_early: u64,
}

#[derive(Debug)]
struct Open {
    /// The order of the trace's first span, among all traces.
    order: u64,
    latest_end: u64,
    spans: Vec<Span>,
}

impl Default for Assembler {
    fn default() -> Self {
        Self::new(QUIET_WINDOW_NS, MAX_OPEN_SPANS)
    }
}

impl Assembler {
    /// An assembler with a quiet window of `window_ns` and at most
    /// `max_open_spans` spans held.
    pub fn new(window_ns: u64, max_open_spans: usize) -> Self {
        Self {
            open: HashMap::new(),
            by_end: BinaryHeap::new(),
            next: 0,
            open_spans: 0,
            latest_end: 0,
            window_ns,
            max_open_spans: max_open_spans.max(1),
            anomalies: Anomalies::default(),
            closed: 0,
            closed_early: 0,
        }
    }

    /// Takes one span; `done` gets each trace closed meanwhile.
    pub fn push(&mut self, span: Span, done: &mut dyn FnMut(Trace)) {
        if span.end_ns < span.start_ns {
            self.anomalies.negative += 1;
            return;
        }
        self.latest_end = self.latest_end.max(span.end_ns);
        let end = span.end_ns;
        if let Some(open) = self.open.get_mut(&span.trace) {
            open.latest_end = open.latest_end.max(end);
            open.spans.push(span);
        } else {
            let order = self.next;
            self.next += 1;
            self.by_end.push(Reverse((end, order, span.trace.clone())));
            self.open.insert(
                span.trace.clone(),
                Open {
                    order,
                    latest_end: end,
                    spans: vec![span],
                },
            );
        }
        self.open_spans += 1;
        let quiet_before = self.latest_end.saturating_sub(self.window_ns);
        while self.close_oldest(Some(quiet_before), done) {}
        while self.open_spans > self.max_open_spans && self.close_oldest(None, done) {
            self.closed_early += 1;
        }
    }

    /// The next spans come from another file, whose times start afresh.
    pub fn next_file(&mut self) {
        self.latest_end = 0;
    }

    /// Closes the open trace quiet the longest, if its latest end is before
    /// `before` (any, when `None`); whether one was closed.
    fn close_oldest(&mut self, before: Option<u64>, done: &mut dyn FnMut(Trace)) -> bool {
        while let Some(Reverse((end, order, _))) = self.by_end.peek() {
            if before.is_some_and(|b| *end >= b) {
                return false;
            }
            let (end, order) = (*end, *order);
            let Some(Reverse((_, _, id))) = self.by_end.pop() else {
                return false;
            };
            match self.open.get(&id) {
                Some(open) if open.order == order && open.latest_end > end => {
                    self.by_end.push(Reverse((open.latest_end, order, id)));
                }
                Some(open) if open.order == order => {
                    let open = self.open.remove(&id).map(|o| o.spans).unwrap_or_default();
                    self.close(open, done);
                    return true;
                }
                // Closed already (and perhaps opened again since).
                _ => {}
            }
        }
        false
    }

    fn close(&mut self, mut spans: Vec<Span>, done: &mut dyn FnMut(Trace)) {
        self.open_spans -= spans.len();
        self.closed += 1;
        reparent_shared(&mut spans);
        done(tree(spans, &mut self.anomalies));
    }

    /// Closes every open trace, in the order of their first spans, and
    /// returns what the traces lacked and how many traces there were.
    pub fn finish(mut self, done: &mut dyn FnMut(Trace)) -> Assembled {
        let mut rest: Vec<Open> = self.open.drain().map(|(_, open)| open).collect();
        rest.sort_by_key(|open| open.order);
        for open in rest {
            self.close(open.spans, done);
        }
        Assembled {
            anomalies: self.anomalies,
            traces: self.closed,
            closed_early: self.closed_early,
        }
    }
}

/// What an [`Assembler`] saw, once finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Assembled {
    /// What the traces lacked.
    pub anomalies: Anomalies,
    /// Traces built.
    pub traces: usize,
    /// Traces closed before their quiet window had passed, because too many
    /// spans were open.
    pub closed_early: u64,
}

/// Groups spans into traces and links each to its parent, counting what is
/// missing or inconsistent. Traces come in the order of their first span.
pub fn assemble(spans: Vec<Span>) -> (Vec<Trace>, Anomalies) {
    let mut assembler = Assembler::new(u64::MAX, usize::MAX);
    let mut traces = Vec::new();
    let mut done = |trace| traces.push(trace);
    for span in spans {
        assembler.push(span, &mut done);
    }
    let seen = assembler.finish(&mut done);
    (traces, seen.anomalies)
}

fn tree(spans: Vec<Span>, anomalies: &mut Anomalies) -> Trace {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut kept = Vec::with_capacity(spans.len());
    for span in spans {
        if index.contains_key(&span.id) {
            anomalies.duplicate += 1;
            continue;
        }
        index.insert(span.id.clone(), kept.len());
        kept.push(span);
    }
    let mut children = vec![Vec::new(); kept.len()];
    let mut roots = Vec::new();
    for (i, span) in kept.iter().enumerate() {
        match span.parent.as_ref().map(|p| index.get(p)) {
            None => roots.push(i),
            Some(None) => {
                anomalies.missing_parent += 1;
                roots.push(i);
            }
            Some(Some(&p)) => {
                let parent = &kept[p];
                // A child the parent did not wait for (follows-from, or a
                // message's consumer) may outlive it, but not start before.
                let may_outlive = span.follows_from
                    || span.kind == SpanKind::Consumer
                    || parent.kind == SpanKind::Producer;
                if span.start_ns < parent.start_ns || (span.end_ns > parent.end_ns && !may_outlive)
                {
                    anomalies.skewed += 1;
                }
                children[p].push(i);
            }
        }
    }
    for list in &mut children {
        list.sort_by_key(|&c| (kept[c].start_ns, kept[c].end_ns));
    }
    Trace {
        spans: kept,
        children,
        roots,
    }
}
