//! An emulated service's state: its replicas' workers and queues, its rate
//! limit, its balancer, and the counters it serves at `/_archbench/stats`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::oneshot;

use crate::model::Balancer;
use crate::sim::Rng;
use crate::sim::plan::{RateLimitPlan, Station};
use crate::stats::{LatencyHistogram, ReplicaStats};

/// Locks a mutex, taking over a poisoned one (a panicking task cannot
/// leave counters half-updated in a way that matters more than losing them).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Workers in arrival order, and the waiting room in front of them.
///
/// A freed worker is handed to the oldest waiting request together with the
/// instant it was freed, its *grant*: the request's work is timed from the
/// grant, not from when its task next runs, so the event loop's wake-up
/// delay does not idle the worker between two requests (which would
/// lengthen every busy period a little and queueing a lot).
pub(super) struct Admission {
    state: Mutex<Waiting>,
    /// The most that may wait; `None`: unbounded.
    capacity: Option<u32>,
}

struct Waiting {
    /// Workers free now.
    free: u32,
    /// Requests waiting, oldest first, each told its grant.
    queue: std::collections::VecDeque<oneshot::Sender<Instant>>,
}

/// Why a request got no worker.
pub(super) struct Full;

impl Admission {
    pub(super) fn new(workers: u32, capacity: Option<u32>) -> Self {
        Self {
            state: Mutex::new(Waiting {
                free: workers,
                queue: std::collections::VecDeque::new(),
            }),
            capacity,
        }
    }

    /// Takes a worker at `now`, waiting in line for one; returns the grant,
    /// or `Err` when the waiting room is full. `queued` is told when the
    /// request starts (+1) and stops (-1) waiting, with the instant.
    pub(super) async fn worker(
        &self,
        now: Instant,
        mut queued: impl FnMut(Instant, i64),
    ) -> Result<Instant, Full> {
        let granted = {
            let mut state = lock(&self.state);
            if state.free > 0 {
                state.free -= 1;
                return Ok(now);
            }
            let waiting = u32::try_from(state.queue.len()).unwrap_or(u32::MAX);
            if self.capacity.is_some_and(|c| waiting >= c) {
                return Err(Full);
            }
            let (grant, granted) = oneshot::channel();
            state.queue.push_back(grant);
            granted
        };
        queued(now, 1);
        // The sender is dropped only with the emulation. A worker freed
        // (as timed) before this request arrived, but released only when
        // its task ran, serves it from its arrival, not before.
        let grant = granted.await.map_err(|_| Full)?.max(now);
        queued(grant, -1);
        Ok(grant)
    }

    /// Frees a worker at `at`: the oldest waiting request takes it.
    pub(super) fn release(&self, at: Instant) {
        let mut state = lock(&self.state);
        while let Some(next) = state.queue.pop_front() {
            // A request whose task is gone (its connection closed before
            // the work began) gives the worker to the next.
            if next.send(at).is_ok() {
                return;
            }
        }
        state.free += 1;
    }
}

/// A count that changes over time, with its integral.
///
/// Changes may be recorded out of order: a worker freed at the end of its
/// work as timed is recorded when its task next runs, after later changes
/// of other requests may have been. The integral up to `t` is
/// `value × t − Σ deltaᵢ × tᵢ` (the level starting at `value₀` at 0), which
/// does not depend on the order the changes are recorded in, so a late
/// record is integrated from its own instant rather than from the last
/// record's (which would lengthen busy periods by the event loop's
/// lateness).
#[derive(Clone, Copy, Debug, Default)]
struct Level {
    value: i64,
    /// Σ deltaᵢ × tᵢ over the window's changes, in value × nanoseconds,
    /// less the value the window started with times 0.
    moments: i128,
    /// The latest instant recorded, in nanoseconds since the window start.
    latest_ns: u64,
}

impl Level {
    fn add(&mut self, at_ns: u64, delta: i64) {
        self.moments += i128::from(delta) * i128::from(at_ns);
        self.latest_ns = self.latest_ns.max(at_ns);
        self.value += delta;
    }

    /// ∫ value dt from the window start to `now_ns` (at least the latest
    /// change recorded), in value × nanoseconds.
    fn integral_at(&self, now_ns: u64) -> f64 {
        let now = i128::from(now_ns.max(self.latest_ns));
        (i128::from(self.value) * now - self.moments) as f64
    }

    /// Starts a new window at the current instant, keeping the current value.
    fn restart(&mut self) {
        *self = Self {
            value: self.value,
            moments: 0,
            latest_ns: 0,
        };
    }
}

/// The most seconds of queue length a replica keeps (an hour).
const MAX_SECONDS: usize = 3600;

/// A level's average over each whole second of the window, the last
/// [`MAX_SECONDS`] of them.
#[derive(Debug, Default)]
struct PerSecond {
    /// The second being filled, from the window's start.
    second: u64,
    /// The level's integral when that second began.
    area_at_start: f64,
    points: std::collections::VecDeque<f64>,
    /// Seconds dropped from the front.
    dropped: u64,
}

impl PerSecond {
    /// Closes every second that ended before `now_ns`; call before the
    /// level changes at `now_ns`. A change recorded after its second was
    /// closed counts in the second open then: the total is exact.
    fn advance(&mut self, level: &Level, now_ns: u64) {
        const SECOND: u64 = 1_000_000_000;
        let now_ns = now_ns.max(level.latest_ns);
        while (self.second + 1) * SECOND <= now_ns {
            let end = level.integral_at((self.second + 1) * SECOND);
            self.points
                .push_back((end - self.area_at_start) / SECOND as f64);
            if self.points.len() > MAX_SECONDS {
                self.points.pop_front();
                self.dropped += 1;
            }
            self.area_at_start = end;
            self.second += 1;
        }
    }
}

/// What happened to one request at a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Answered successfully (a cache hit included).
    Ok,
    /// Failed by the service's own error rate.
    Error,
    /// A call it made failed, so it failed.
    Downstream,
    /// Refused: the waiting room was full.
    Rejected,
    /// Refused by the rate limit.
    RateLimited,
}

impl Outcome {
    /// The HTTP status it is answered with.
    pub(super) fn status(self) -> u16 {
        match self {
            Self::Ok => 200,
            Self::Error => 500,
            Self::Downstream => 502,
            Self::Rejected => 503,
            Self::RateLimited => 429,
        }
    }
}

/// A replica's counters over the current window.
#[derive(Debug)]
struct Counters {
    /// When the window started.
    start: Instant,
    requests: u64,
    completed: u64,
    errors: u64,
    downstream_failures: u64,
    rejected: u64,
    rate_limited: u64,
    cache_hits: u64,
    waited: u64,
    busy: Level,
    queue: Level,
    queue_per_second: PerSecond,
    response: LatencyHistogram,
}

impl Counters {
    fn new(start: Instant) -> Self {
        Self {
            start,
            requests: 0,
            completed: 0,
            errors: 0,
            downstream_failures: 0,
            rejected: 0,
            rate_limited: 0,
            cache_hits: 0,
            waited: 0,
            busy: Level::default(),
            queue: Level::default(),
            queue_per_second: PerSecond::default(),
            response: LatencyHistogram::new(),
        }
    }

    fn ns(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.start).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// One replica.
pub(super) struct Replica {
    /// Where it listens.
    pub address: SocketAddr,
    /// Its own workers and queue (unused under `Pull`, whose replicas share one).
    pub admission: Admission,
    /// Requests at the replica: waiting, working, or waiting on calls.
    pub outstanding: AtomicU32,
    /// Its draws: service times, errors, cache hits.
    pub rng: Mutex<Rng>,
    counters: Mutex<Counters>,
}

/// One emulated service.
pub(super) struct Service {
    pub replicas: Vec<Replica>,
    /// Under `Pull`, the one queue every replica's workers take from.
    pub shared: Option<Admission>,
    rate_limit: Option<Mutex<Bucket>>,
    balancer: Balancer,
    turn: AtomicU32,
    balancer_rng: Mutex<Rng>,
}

/// A token bucket.
struct Bucket {
    plan: RateLimitPlan,
    tokens: f64,
    at: Instant,
}

impl Service {
    pub(super) fn new(
        station: &Station,
        addresses: &[SocketAddr],
        seed: u64,
        epoch: Instant,
    ) -> Self {
        let pull = station.balancer == Balancer::Pull;
        let replicas = addresses
            .iter()
            .zip(0..)
            .map(|(&address, index)| Replica {
                address,
                admission: Admission::new(
                    if pull { 0 } else { station.workers },
                    station.queue_capacity,
                ),
                outstanding: AtomicU32::new(0),
                rng: Mutex::new(Rng::stream(
                    seed,
                    index,
                    &format!("emulate/service/{}", station.name),
                )),
                counters: Mutex::new(Counters::new(epoch)),
            })
            .collect();
        Self {
            replicas,
            shared: pull.then(|| {
                Admission::new(station.workers * station.replicas, station.queue_capacity)
            }),
            rate_limit: station.rate_limit.map(|plan| {
                Mutex::new(Bucket {
                    plan,
                    tokens: plan.burst,
                    at: epoch,
                })
            }),
            balancer: station.balancer,
            turn: AtomicU32::new(0),
            balancer_rng: Mutex::new(Rng::stream(
                seed,
                0,
                &format!("emulate/balancer/{}", station.name),
            )),
        }
    }

    /// The replica a new request goes to, by the service's balancer.
    pub(super) fn choose(&self) -> usize {
        let n = self.replicas.len();
        let load = |i: usize| self.replicas[i].outstanding.load(Ordering::Relaxed);
        let turn = || self.turn.fetch_add(1, Ordering::Relaxed) as usize % n;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "replicas are at most 10,000"
        )]
        let below = |k: usize| lock(&self.balancer_rng).below(k as u32) as usize;
        match self.balancer {
            Balancer::RoundRobin | Balancer::Pull => turn(),
            Balancer::Random => below(n),
            Balancer::LeastOutstanding => (0..n).min_by_key(|&i| load(i)).unwrap_or(0),
            Balancer::PowerOfTwoChoices if n > 1 => {
                let a = below(n);
                let b = (a + 1 + below(n - 1)) % n;
                if load(b) < load(a) { b } else { a }
            }
            Balancer::PowerOfTwoChoices => 0,
        }
    }

    /// Takes a token from the rate limit; false when there is none.
    pub(super) fn admit_rate(&self, now: Instant) -> bool {
        let Some(bucket) = &self.rate_limit else {
            return true;
        };
        let mut bucket = lock(bucket);
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.at = now.max(bucket.at);
        bucket.tokens =
            (bucket.tokens + elapsed * bucket.plan.tokens_per_sec).min(bucket.plan.burst);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The workers a request at `replica` waits for.
    pub(super) fn admission(&self, replica: usize) -> &Admission {
        self.shared
            .as_ref()
            .unwrap_or(&self.replicas[replica].admission)
    }
}

impl Replica {
    /// A request arrived.
    pub(super) fn arrived(&self) {
        self.outstanding.fetch_add(1, Ordering::AcqRel);
        lock(&self.counters).requests += 1;
    }

    /// A request started or stopped waiting for a worker (`delta` ±1).
    pub(super) fn queued(&self, at: Instant, delta: i64) {
        let now = at;
        let mut c = lock(&self.counters);
        let ns = c.ns(now);
        let queue = c.queue;
        c.queue_per_second.advance(&queue, ns);
        c.queue.add(ns, delta);
        if delta > 0 {
            c.waited += 1;
        }
    }

    /// A worker was taken (`delta` 1) or freed (-1).
    pub(super) fn busy(&self, now: Instant, delta: i64) {
        let mut c = lock(&self.counters);
        let ns = c.ns(now);
        c.busy.add(ns, delta);
    }

    /// A cache answered a request itself.
    pub(super) fn cache_hit(&self) {
        lock(&self.counters).cache_hits += 1;
    }

    /// A request was answered, `arrived` being when it came.
    pub(super) fn answered(&self, arrived: Instant, now: Instant, outcome: Outcome) {
        self.outstanding.fetch_sub(1, Ordering::AcqRel);
        let mut c = lock(&self.counters);
        match outcome {
            Outcome::Ok => {}
            Outcome::Error => c.errors += 1,
            Outcome::Downstream => c.downstream_failures += 1,
            Outcome::Rejected => c.rejected += 1,
            Outcome::RateLimited => c.rate_limited += 1,
        }
        // Requests that arrived before the window started are not counted,
        // as the simulator counts only requests after its warm-up.
        if arrived >= c.start && !matches!(outcome, Outcome::Rejected | Outcome::RateLimited) {
            c.completed += 1;
            let ns = u64::try_from(now.saturating_duration_since(arrived).as_nanos())
                .unwrap_or(u64::MAX);
            c.response.record(ns);
        }
    }

    /// Starts a new window of counters at `now`.
    pub(super) fn restart(&self, now: Instant) {
        let mut c = lock(&self.counters);
        let ns = c.ns(now);
        c.busy.add(ns, 0);
        c.queue.add(ns, 0);
        let (busy, queue) = (c.busy, c.queue);
        *c = Counters::new(now);
        c.busy = busy;
        c.queue = queue;
        c.busy.restart();
        c.queue.restart();
    }

    /// Its counters over the window so far.
    pub(super) fn stats(&self, index: u32, workers: u32, now: Instant) -> ReplicaStats {
        let mut c = lock(&self.counters);
        let ns = c.ns(now);
        let queue = c.queue;
        c.queue_per_second.advance(&queue, ns);
        let window_s = ns as f64 / 1e9;
        let per_ns = |level: &Level| {
            if ns == 0 {
                0.0
            } else {
                level.integral_at(ns) / ns as f64
            }
        };
        ReplicaStats {
            replica: index,
            window_s,
            requests: c.requests,
            completed: c.completed,
            errors: c.errors,
            downstream_failures: c.downstream_failures,
            rejected: c.rejected,
            rate_limited: c.rate_limited,
            cache_hits: c.cache_hits,
            waited: c.waited,
            busy_s: c.busy.integral_at(ns) / 1e9,
            utilization: per_ns(&c.busy) / f64::from(workers.max(1)),
            mean_queue_length: per_ns(&c.queue),
            queue_per_second: c.queue_per_second.points.iter().copied().collect(),
            queue_first_second: c.queue_per_second.dropped,
            response_ms: c.response.summary(),
            response: c.response.clone(),
        }
    }
}

#[cfg(test)]
#[expect(
    clippy::float_cmp,
    reason = "the integrals here are whole numbers, exact in f64"
)]
mod tests {
    use super::{Level, PerSecond};

    const MS: u64 = 1_000_000;

    /// Two workers busy over [0, 3 ms] and [2 ms, 4 ms]: 5 ms of work by
    /// hand, whichever order the four changes are recorded in.
    #[test]
    fn a_level_integrates_changes_recorded_late_from_their_own_instants() {
        let changes = [(0, 1), (3 * MS, -1), (2 * MS, 1), (4 * MS, -1)];
        let orders: [[usize; 4]; 3] = [[0, 2, 1, 3], [0, 2, 3, 1], [0, 1, 2, 3]];
        for order in orders {
            let mut level = Level::default();
            for i in order {
                let (at, delta) = changes[i];
                level.add(at, delta);
            }
            assert_eq!(level.value, 0);
            assert_eq!(level.integral_at(10 * MS), 5.0 * MS as f64, "{order:?}");
        }
    }

    /// A level of two from 0.5 s to 1.5 s: half a second's area in each of
    /// the first two seconds, and the total kept when the drop to zero is
    /// recorded only after the second second has closed.
    #[test]
    fn per_second_averages_keep_the_total_of_a_late_change() {
        const S: u64 = 1_000_000_000;
        let (mut level, mut seconds) = (Level::default(), PerSecond::default());
        seconds.advance(&level, S / 2);
        level.add(S / 2, 2);
        seconds.advance(&level, 3 * S / 2);
        level.add(3 * S / 2, -2);
        seconds.advance(&level, 3 * S);
        assert_eq!(Vec::from(seconds.points.clone()), [1.0, 1.0, 0.0]);

        let (mut level, mut seconds) = (Level::default(), PerSecond::default());
        seconds.advance(&level, S / 2);
        level.add(S / 2, 2);
        seconds.advance(&level, 5 * S / 2);
        level.add(3 * S / 2, -2);
        seconds.advance(&level, 3 * S);
        let total: f64 = seconds.points.iter().sum();
        assert_eq!(total, 2.0);
        assert_eq!(level.integral_at(3 * S), 2.0 * S as f64);
    }
}
