//! Links: their targets and numbers, and their resilience patterns.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::place::Place;
use crate::model::scenario::{CallMode, Link, Scenario};

use super::{Problems, limits};

/// Checks each link and returns the graph of synchronous calls.
pub(super) fn links(
    problems: &mut Problems,

    scenario: &Scenario,
    index: &BTreeMap<&str, usize>,
) -> BTreeMap<usize, BTreeSet<usize>> {
    let mut sync_edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for link in &scenario.links {
        let here = Place::link(&scenario.name, &link.from, &link.to);
        let from = index.get(link.from.as_str()).copied();
        let to = index.get(link.to.as_str()).copied();
        if from.is_none() {
            problems.add(
                here.field("from"),
                format!("there is no service {:?}", link.from),
            );
        }
        if to.is_none() {
            problems.add(
                here.field("to"),
                format!("there is no service {:?}", link.to),
            );
        }
        if !(0.0..=1.0).contains(&link.probability) {
            problems.add(
                here.field("probability"),
                format!(
                    "a probability must be between 0 and 1, got {}",
                    link.probability
                ),
            );
        }
        problems.count(
            here.field("count"),
            link.count,
            1,
            limits::CALL_COUNT,
            "the call count",
        );
        problems.distribution(here.field("latency"), &link.latency);
        resilience(problems, &here, link);
        if let (Some(from), Some(to), CallMode::Sync) = (from, to, link.mode) {
            sync_edges.entry(from).or_default().insert(to);
        }
    }
    sync_edges
}

/// Cycles in the graph of synchronous calls, each as the path that closes it
/// (first node repeated at the end). One cycle is reported per back edge.
pub(super) fn sync_cycles(edges: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let size = edges
        .iter()
        .flat_map(|(from, tos)| std::iter::once(*from).chain(tos.iter().copied()))
        .max()
        .map_or(0, |m| m + 1);
    let mut marks = vec![Mark::New; size];
    let mut cycles = Vec::new();
    let empty = BTreeSet::new();
    for root in 0..size {
        if marks[root] != Mark::New {
            continue;
        }
        // Iterative depth-first search, so a long chain cannot overflow the stack.
        let mut path = vec![root];
        let mut iters = vec![edges.get(&root).unwrap_or(&empty).iter()];
        marks[root] = Mark::OnPath;
        while let Some(iter) = iters.last_mut() {
            if let Some(&next) = iter.next() {
                match marks[next] {
                    Mark::New => {
                        marks[next] = Mark::OnPath;
                        path.push(next);
                        iters.push(edges.get(&next).unwrap_or(&empty).iter());
                    }
                    Mark::OnPath => {
                        let start = path.iter().position(|&n| n == next).unwrap_or(0);
                        let mut cycle = path[start..].to_vec();
                        cycle.push(next);
                        cycles.push(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                iters.pop();
                if let Some(done) = path.pop() {
                    marks[done] = Mark::Done;
                }
            }
        }
    }
    cycles
}

/// Timeouts, retries, breakers, bulkheads and faults on a link.
fn resilience(problems: &mut Problems, here: &Place, link: &Link) {
    if link.mode == CallMode::Async {
        let waited_for = [
            ("timeout", link.timeout.is_some()),
            ("retry", link.retry.is_some()),
            ("breaker", link.breaker.is_some()),
            ("max_concurrent", link.max_concurrent.is_some()),
        ];
        for (field, set) in waited_for {
            if set {
                problems.add(
                    here.field(field),
                    "an async call is not waited for, so it cannot time out, be retried, \
                     trip a breaker or fill a bulkhead; make the call sync"
                        .into(),
                );
            }
        }
    }
    if let Some(timeout) = link.timeout {
        problems.positive(here.field("timeout"), timeout, "a timeout");
    }
    if let Some(retry) = &link.retry {
        let place = here.field("retry");
        problems.count(
            place.field("max_retries"),
            retry.max_retries,
            0,
            limits::RETRIES,
            "max_retries",
        );
        if retry.max_backoff < retry.backoff {
            problems.add(
                place.field("max_backoff"),
                format!(
                    "max_backoff ({}) is shorter than backoff ({})",
                    retry.max_backoff, retry.backoff
                ),
            );
        }
        if let Some(budget) = &retry.budget {
            if !(budget.ratio.is_finite() && (0.0..=10.0).contains(&budget.ratio)) {
                problems.add(
                    place.field("budget").field("ratio"),
                    format!(
                        "a retry ratio must be between 0 and 10, got {}",
                        budget.ratio
                    ),
                );
            }
            problems.rate(
                place.field("budget").field("min_per_second"),
                budget.min_per_second,
            );
        }
    }
    if let Some(breaker) = &link.breaker {
        let place = here.field("breaker");
        if !(breaker.failure_ratio > 0.0 && breaker.failure_ratio <= 1.0) {
            problems.add(
                place.field("failure_ratio"),
                format!(
                    "a failure ratio must be above 0 and at most 1, got {}",
                    breaker.failure_ratio
                ),
            );
        }
        problems.positive(place.field("window"), breaker.window, "the window");
        problems.positive(place.field("open_for"), breaker.open_for, "open_for");
        problems.count(
            place.field("min_calls"),
            breaker.min_calls,
            1,
            u32::MAX,
            "min_calls",
        );
        problems.count(place.field("probes"), breaker.probes, 1, u32::MAX, "probes");
    }
    if let Some(max) = link.max_concurrent {
        problems.count(
            here.field("max_concurrent"),
            max,
            1,
            u32::MAX,
            "max_concurrent",
        );
    }
    if let Some(fault) = &link.fault {
        let place = here.field("fault");
        problems.distribution(place.field("extra"), &fault.extra);
        if fault.until <= fault.from {
            problems.add(
                place.field("until"),
                format!(
                    "the fault must end after it starts ({} is not after {})",
                    fault.until, fault.from
                ),
            );
        }
    }
}
