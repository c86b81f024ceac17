//! Workers per replica and the I/O model, measured from the requests that
//! waited for a worker.

use std::collections::HashMap;

use super::super::fit::Fit;
use super::walk::{Held, ServiceAcc};
use crate::model::{IoModel, TimeSpan};

/// The most intervals in progress at once, before `cut` (every interval
/// that started before it is among `intervals`).
pub(super) fn peak_in_progress(intervals: &[(u64, u64)], cut: u64) -> u64 {
    let mut events: Vec<(u64, i64)> = intervals
        .iter()
        .flat_map(|&(s, e)| [(s, 1), (e, -1)])
        .filter(|&(t, _)| t < cut)
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
pub(super) fn measure_workers(acc: &mut ServiceAcc, fit: &Fit) -> Option<(u32, IoModel)> {
    // A wait shorter than a quarter of the typical work (and 20 µs) is the
    // server's own overhead, not a queue.
    let threshold = TimeSpan::from_secs_f64(fit.mean_s * 0.25)
        .as_nanos()
        .max(20_000);
    // Counts are exact only at instants before the timeline's cut: every
    // handling that started before it was kept.
    let cut = acc.timeline.cut;
    let lists: Vec<&Vec<Held>> = acc.instances.values().collect();
    let before_cut: Vec<Vec<usize>> = lists
        .iter()
        .map(|list| (0..list.len()).filter(|&i| list[i].grant < cut).collect())
        .collect();
    let waited_at: Vec<Vec<usize>> = lists
        .iter()
        .zip(&before_cut)
        .map(|(list, before)| {
            before
                .iter()
                .copied()
                .filter(|&i| list[i].wait > threshold)
                .collect()
        })
        .collect();
    let waited: usize = waited_at.iter().map(Vec::len).sum();
    let handlings: usize = before_cut.iter().map(Vec::len).sum();
    acc.waited = waited as u64;
    acc.waits_known = handlings as u64;
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
            all.extend(
                list.iter()
                    .filter(|h| h.grant < cut)
                    .map(|h| holding(h.grant)),
            );
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
