//! One replication: the event loop and the state of every queue.
//!
//! # Ordering
//! Events are ordered by (time, sequence number), where the sequence number
//! counts scheduled events from zero. Two events at the same nanosecond run in
//! the order they were scheduled. Nothing else (no hash order, no thread, no
//! clock) affects the order, so a seed fixes the whole run.
//!
//! # A call's life
//! A call arrives at a service (after half its link's round-trip time), waits
//! for a worker on the replica its balancer picked, does one service-time draw
//! of work, then makes its outgoing calls step by step, then answers (the
//! answer reaches the caller after the other half of the round trip). Under
//! blocking I/O the worker is held until the answer is sent; under async I/O
//! it is released when the work is done.
//!
//! # Memory
//! Calls in flight live in a slab that reuses freed slots, and every
//! statistic is a counter, a time integral or a fixed-size histogram, so
//! memory depends on the calls in flight, not on how many have been simulated.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::model::{Balancer, MAX_SPAN_NS};
use crate::stats::LatencyHistogram;

use super::arrivals::ArrivalClock;
use super::guard::{self, LinkGuard, Permit, Refusal};
use super::plan::{ArrivalPlan, Plan};
use super::rng::Rng;
use super::sample::Sampler;
use super::series::{Recorder, StationReading};
use super::time::SimTime;

type CallId = u32;
const NO_PARENT: CallId = CallId::MAX;
/// A call not made over a guarded link.
const NO_LINK: u32 = u32::MAX;
/// The serial of a call no timer watches (or of a free slot).
const UNWATCHED: u64 = 0;

#[derive(Clone, Copy, Debug)]
enum Event {
    OpenArrival,
    UserRequest(u32),
    CallArrive(CallId),
    WorkDone(CallId),
    Response(CallId),
    /// An attempt's timeout: the call and its serial, which tells a live
    /// attempt from a slot since reused.
    Timeout(CallId, u64),
    /// A retry: the caller, the link and the attempt number.
    Retry(CallId, u32, u32),
    /// A batching replica's oldest request has waited long enough:
    /// station and replica.
    BatchDue(u32, u32),
    /// A batch is done.
    BatchDone(u32),
    /// An autoscaler decides: the station.
    ScaleTick(u32),
    /// A new replica has finished its cold start: the station.
    ReplicaReady(u32),
    /// A replica crashes: station and crash (by index).
    Crash(u32, u32),
    /// A crashed replica serves again: station and replica.
    Restart(u32, u32),
}

#[derive(Clone, Copy, Debug)]
struct Scheduled {
    time: SimTime,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A request entering the system; its answer ends the request.
    Root,
    /// A synchronous call whose caller waits for it.
    Child,
    /// A fire-and-forget call; nobody waits.
    Detached,
}

#[derive(Clone, Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent flags of one call, packed for the slab"
)]
struct Call {
    station: u32,
    replica: u32,
    parent: CallId,
    role: Role,
    class: u32,
    user: u32,
    arrived: SimTime,
    return_delay: u64,
    step: u32,
    pending: u32,
    failed: bool,
    holds_worker: bool,
    /// Whether the previous step's call was made (for repeated links).
    made_previous: bool,
    /// The guarded link this attempt was made on, or `NO_LINK`.
    link: u32,
    /// 0 for the first attempt, then the retry's number.
    attempt: u32,
    /// What the link's breaker let it through as.
    permit: Permit,
    /// Nonzero while a timeout watches this attempt.
    serial: u64,
    /// Given up on by its caller: its answer goes nowhere.
    orphan: bool,
    /// Its replica's crash count when it was admitted: a later crash lost it.
    epoch: u32,
}

impl Call {
    fn new(station: u32, parent: CallId, role: Role, class: u32, user: u32, now: SimTime) -> Self {
        Self {
            station,
            replica: 0,
            parent,
            role,
            class,
            user,
            arrived: now,
            return_delay: 0,
            step: 0,
            pending: 0,
            failed: false,
            holds_worker: false,
            made_previous: false,
            link: NO_LINK,
            attempt: 0,
            permit: Permit::Call,
            serial: UNWATCHED,
            orphan: false,
            epoch: 0,
        }
    }
}

/// A count whose time integral is kept over the measured window.
#[derive(Clone, Copy, Debug, Default)]
pub struct Level {
    value: i64,
    last: SimTime,
    /// Integral of the value over measured time, in value × nanoseconds.
    pub area: f64,
    /// Integral of the value since time zero, for the time series.
    pub lifetime: f64,
}

impl Level {
    #[inline]
    fn change(&mut self, now: SimTime, from: SimTime, delta: i64) {
        self.settle(now, from);
        self.value += delta;
    }

    #[inline]
    fn settle(&mut self, now: SimTime, from: SimTime) {
        if now > self.last {
            self.lifetime += self.value as f64 * now.since(self.last) as f64;
        }
        let start = self.last.max(from);
        if now > start {
            self.area += self.value as f64 * now.since(start) as f64;
        }
        self.last = now;
    }
}

#[derive(Clone, Debug, Default)]
struct Replica {
    busy: u32,
    outstanding: u32,
    queue: VecDeque<CallId>,
    /// When the pending batch timer goes off, if one is pending.
    batch_timer: Option<SimTime>,
    /// Crashed and not yet restarted.
    down: bool,
    /// Crashes so far.
    epoch: u32,
}

/// Per-service measurements of one replication; summed across replications.
#[derive(Clone, Debug, Default)]
pub struct StationTally {
    pub arrivals: u64,
    pub completions: u64,
    pub rejections: u64,
    /// Calls failed by the service's own error rate.
    pub errors: u64,
    /// Calls a cache answered itself.
    pub cache_hits: u64,
    /// Calls refused by the rate limit.
    pub rate_limited: u64,
    /// Batches run, by size (index 0 unused); empty without batching.
    pub batch_sizes: Vec<u64>,
    /// Calls lost to a crash, or refused with every replica down.
    pub crash_failures: u64,
    pub waited: u64,
    pub started: u64,
    pub service_ns: u128,
    pub response: LatencyHistogram,
    pub wait: LatencyHistogram,
    /// Workers held.
    pub busy: Level,
    /// Calls waiting for a worker.
    pub queued: Level,
    /// Calls admitted and not yet answered.
    pub present: Level,
    /// Workers of the replicas serving.
    pub serving: Level,
}

/// Per-class measurements of one replication.
#[derive(Clone, Debug, Default)]
pub struct ClassTally {
    pub succeeded: u64,
    /// Successful requests that finished in the measured time, whenever
    /// they arrived: the class's throughput.
    pub departed: u64,
    pub failed: u64,
    pub latency: LatencyHistogram,
}

struct Station {
    replicas: Vec<Replica>,
    next_replica: u32,
    service_rng: Rng,
    balancer_rng: Rng,
    /// Draws for injected errors and cache hits.
    outcome_rng: Rng,
    tally: StationTally,
    /// Calls present when measuring began, to tell growth from noise.
    present_at_start: i64,
    /// The rate limit's tokens, as of `tokens_at`.
    tokens: f64,
    tokens_at: SimTime,
    /// Replicas serving (the first this many slots).
    replicas_serving: u32,
    /// Replicas in their cold start.
    starting: u32,
    /// Replicas down after a crash.
    down: u32,
    /// Calls that arrived and calls completed since time zero, and the
    /// busy integral, at the autoscaler's last decision and now.
    arrived_total: u64,
    completed_total: u64,
    scale_mark: (u64, u64, f64),
}

/// Why and where a replication found the system unstable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saturation {
    /// Index of the service named as the bottleneck.
    pub station: usize,
}

/// When a replication ends.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// At this simulated instant.
    At(SimTime),
    /// When this many requests that arrived after the warm-up have finished.
    Requests(u64),
}

/// How long `advance` may run before returning.
#[derive(Clone, Copy, Debug)]
pub struct Slice {
    pub max_events: u64,
    pub until: SimTime,
}

/// Events between saturation checks.
const CHECK_EVERY: u64 = 1 << 16;

/// Simulated time after which a run ends whatever its stop condition: a
/// hundred years, far below the clock's 584 and far beyond any model (each
/// time in a project is at most a year, so no step crosses the clock's end).
pub const HORIZON_NS: u64 = 100 * 365 * 24 * 3_600_000_000_000;

/// Calls in flight beyond which a run is declared saturated, whatever else.
const MAX_IN_FLIGHT: usize = 2_000_000;

/// One replication of a scenario: its plan and the engine state.
pub struct Replication {
    plan: std::sync::Arc<Plan>,
    state: State,
}

impl Replication {
    /// A replication; with `trace_cap` above zero it also records the first
    /// `trace_cap` successful requests and ends when it has them.
    pub fn new(
        plan: std::sync::Arc<Plan>,
        seed: u64,
        replication: u32,
        warmup_ns: u64,
        stop: Stop,
        trace_cap: usize,
        series_interval_ns: Option<u64>,
    ) -> Self {
        let mut state = State::new(&plan, seed, replication, warmup_ns, stop);
        state.trace_cap = trace_cap;
        if let Some(interval) = series_interval_ns {
            let recorder = Recorder::new(interval, plan.stations.iter().map(|s| s.name.clone()));
            state.boundary = recorder.next_boundary().unwrap_or(SimTime(u64::MAX));
            state.recorder = Some(recorder);
        }
        state.trace.reserve(trace_cap);
        Self { plan, state }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.state.now
    }

    /// Whether the replication has ended.
    pub fn is_finished(&self) -> bool {
        self.state.end.is_some()
    }

    /// How far through the replication, from 0 to 1.
    pub fn progress(&self) -> f64 {
        self.state.progress()
    }

    /// Runs events until the slice is used up or the replication ends.
    pub fn advance(&mut self, slice: Slice) {
        self.state.advance(&self.plan, slice);
    }

    /// The measurements, once finished.
    pub fn into_outcome(self) -> Outcome {
        self.state.into_outcome()
    }
}

/// The engine state of one replication.
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts of one run: measuring, runaway, no arrivals left, past the horizon"
)]
struct State {
    now: SimTime,
    seq: u64,
    heap: BinaryHeap<Scheduled>,
    calls: Vec<Call>,
    free: Vec<CallId>,
    stations: Vec<Station>,
    link_rngs: Vec<Rng>,
    /// Guards of each link, by link index.
    guards: Vec<LinkGuard>,
    /// The next timeout serial.
    next_serial: u64,
    /// Batches in progress, and free slots among them.
    batches: Vec<Vec<CallId>>,
    free_batches: Vec<u32>,
    /// The time series, in the replication that keeps one.
    recorder: Option<Recorder>,
    /// The end of the series' current interval (never, without one).
    boundary: SimTime,
    arrivals: Option<ArrivalClock>,
    class_rng: Rng,
    think_rng: Rng,
    /// Requests that succeeded so far, whenever they arrived.
    departed: u64,
    measure_from: SimTime,
    measuring: bool,
    stop: Stop,
    measured_requests: u64,
    classes: Vec<ClassTally>,
    events: u64,
    end: Option<SimTime>,
    saturation: Option<Saturation>,
    stalled_checks: u32,
    last_check: SimTime,
    /// Set when calls in flight reach the cap; the run then ends saturated.
    runaway: bool,
    /// No open arrival is left to come.
    arrivals_done: bool,
    /// The run passed [`HORIZON_NS`] before its stop condition.
    beyond_horizon: bool,
    /// (completion time, latency) of the first successful requests, for
    /// choosing a warm-up; the replication ends when it is full.
    trace: Vec<(u64, u64)>,
    trace_cap: usize,
}

/// What a finished replication measured.
pub struct Outcome {
    pub measured_ns: u64,
    /// Simulated time from the start to the end of the run.
    pub elapsed_ns: u64,
    /// Requests that succeeded at any time in the run, whenever they arrived:
    /// the run's whole throughput, which a saturated run reports.
    pub departed: u64,
    pub stations: Vec<StationTally>,
    pub classes: Vec<ClassTally>,
    pub links: Vec<crate::stats::LinkReport>,
    pub timeseries: Option<crate::stats::TimeSeries>,
    pub saturation: Option<Saturation>,
    pub events: u64,
    /// The run passed [`HORIZON_NS`] of simulated time before its stop
    /// condition, and was ended there.
    pub beyond_horizon: bool,
    /// Requests finished (successful or not) in the measured time.
    pub finished_requests: u64,
    /// The trace asked for with `trace_cap`, in completion order.
    pub trace: Vec<(u64, u64)>,
}

impl State {
    fn new(plan: &Plan, seed: u64, replication: u32, warmup_ns: u64, stop: Stop) -> Self {
        let stations = plan
            .stations
            .iter()
            .map(|s| Station {
                replicas: vec![Replica::default(); s.slots as usize],
                next_replica: 0,
                service_rng: Rng::stream(seed, replication, &format!("service/{}", s.name)),
                balancer_rng: Rng::stream(seed, replication, &format!("balancer/{}", s.name)),
                outcome_rng: Rng::stream(seed, replication, &format!("outcome/{}", s.name)),
                tally: StationTally {
                    batch_sizes: s
                        .batching
                        .map_or_else(Vec::new, |(max, ..)| vec![0; max as usize + 1]),
                    serving: Level {
                        value: i64::from(s.replicas) * i64::from(s.workers),
                        ..Level::default()
                    },
                    ..StationTally::default()
                },
                present_at_start: 0,
                tokens: s.rate_limit.map_or(0.0, |(_, burst)| burst),
                tokens_at: SimTime::ZERO,
                replicas_serving: s.replicas,
                starting: 0,
                down: 0,
                arrived_total: 0,
                completed_total: 0,
                scale_mark: (0, 0, 0.0),
            })
            .collect();
        let mut replication = Self {
            now: SimTime::ZERO,
            seq: 0,
            heap: BinaryHeap::new(),
            calls: Vec::new(),
            free: Vec::new(),
            stations,
            link_rngs: plan
                .link_streams
                .iter()
                .map(|name| Rng::stream(seed, replication, name))
                .collect(),
            guards: plan
                .links
                .iter()
                .map(|link| LinkGuard::new(link, plan.stations[link.from as usize].slots))
                .collect(),
            next_serial: UNWATCHED + 1,
            batches: Vec::new(),
            free_batches: Vec::new(),
            recorder: None,
            boundary: SimTime(u64::MAX),
            arrivals: match &plan.arrivals {
                ArrivalPlan::Open { process, segments } => Some(ArrivalClock::from_segments(
                    *process,
                    segments.clone(),
                    Rng::stream(seed, replication, "arrivals"),
                )),
                ArrivalPlan::Closed { .. } => None,
            },
            class_rng: Rng::stream(seed, replication, "classes"),
            think_rng: Rng::stream(seed, replication, "think"),
            measure_from: SimTime(warmup_ns),
            departed: 0,
            measuring: false,
            stop,
            measured_requests: 0,
            classes: vec![ClassTally::default(); plan.classes.len()],
            events: 0,
            end: None,
            saturation: None,
            stalled_checks: 0,
            last_check: SimTime::ZERO,
            runaway: false,
            arrivals_done: false,
            beyond_horizon: false,
            trace: Vec::new(),
            trace_cap: 0,
        };
        replication.start_arrivals(plan);
        for (i, spec) in plan.stations.iter().enumerate() {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "services are limited to 10,000"
            )]
            let station = i as u32;
            if let Some(scale) = &spec.autoscale {
                replication.schedule(scale.interval.as_nanos(), Event::ScaleTick(station));
            }
            for (k, &(at, ..)) in spec.crashes.iter().enumerate() {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "crashes are limited to 10,000"
                )]
                let crash = k as u32;
                replication.schedule(at, Event::Crash(station, crash));
            }
        }
        replication
    }

    /// How far through the replication, from 0 to 1.
    fn progress(&self) -> f64 {
        if self.end.is_some() {
            return 1.0;
        }
        match self.stop {
            Stop::At(end) => self.now.as_secs_f64() / end.as_secs_f64().max(1e-12),
            Stop::Requests(n) if self.measuring => self.measured_requests as f64 / n as f64,
            Stop::Requests(_) => 0.0,
        }
        .clamp(0.0, 1.0)
    }

    /// Runs events until the slice is used up or the replication ends.
    fn advance(&mut self, plan: &Plan, slice: Slice) {
        let mut budget = slice.max_events;
        while budget > 0 && self.end.is_none() {
            let Some(next) = self.heap.peek().copied() else {
                // Nothing left to happen: the run is over.
                let at = match self.stop {
                    Stop::At(end) => end,
                    Stop::Requests(_) => self.now,
                };
                self.finish(plan, at);
                return;
            };
            if let Stop::At(end) = self.stop
                && next.time > end
            {
                self.finish(plan, end);
                return;
            }
            if next.time.0 > HORIZON_NS {
                self.beyond_horizon = true;
                self.finish(plan, self.now);
                return;
            }
            if next.time > slice.until {
                return;
            }
            while next.time >= self.boundary {
                self.close_interval(self.boundary);
            }
            self.heap.pop();
            self.now = next.time;
            if !self.measuring && self.now >= self.measure_from {
                self.begin_measuring();
            }
            self.dispatch(plan, next.event);
            budget -= 1;
            self.events += 1;
            if self.runaway || self.events.is_multiple_of(CHECK_EVERY) {
                self.check_saturation(plan);
            }
        }
    }

    /// The measurements, once finished.
    fn into_outcome(self) -> Outcome {
        let end = self.end.unwrap_or(self.now);
        let finished_requests = self.classes.iter().map(|c| c.succeeded + c.failed).sum();
        Outcome {
            trace: self.trace,
            measured_ns: end.since(self.measure_from),
            elapsed_ns: end.0,
            departed: self.departed,
            stations: self.stations.into_iter().map(|s| s.tally).collect(),
            classes: self.classes,
            links: self.guards.into_iter().map(|g| g.tally).collect(),
            timeseries: self.recorder.map(Recorder::finish),
            saturation: self.saturation,
            events: self.events,
            beyond_horizon: self.beyond_horizon,
            finished_requests,
        }
    }

    fn begin_measuring(&mut self) {
        self.measuring = true;
        for station in &mut self.stations {
            station.present_at_start = station.tally.present.value;
        }
    }

    fn finish(&mut self, plan: &Plan, at: SimTime) {
        if self.end.is_some() {
            return;
        }
        let at = at.max(self.now);
        if !self.measuring && at >= self.measure_from {
            self.begin_measuring();
        }
        let from = self.measure_from;
        for station in &mut self.stations {
            let t = &mut station.tally;
            for level in [&mut t.busy, &mut t.queued, &mut t.present, &mut t.serving] {
                level.settle(at, from);
            }
        }
        while at >= self.boundary {
            self.close_interval(self.boundary);
        }
        self.close_interval(at);
        self.now = at;
        self.end = Some(at);
        if self.saturation.is_none() {
            self.saturation = match plan.overloaded {
                Some(station) => Some(Saturation {
                    station: station as usize,
                }),
                None => self.growing_station(plan, 500, 10.0),
            };
        }
    }

    /// Ends the time series' current interval at `at`.
    fn close_interval(&mut self, at: SimTime) {
        let Some(recorder) = self.recorder.as_mut() else {
            return;
        };
        let from = self.measure_from;
        let readings: Vec<StationReading> = self
            .stations
            .iter_mut()
            .map(|s| {
                for level in [&mut s.tally.queued, &mut s.tally.busy, &mut s.tally.serving] {
                    level.settle(at, from);
                }
                let oldest = s
                    .replicas
                    .iter()
                    .filter_map(|r| r.queue.front())
                    .map(|&c| self.calls[c as usize].arrived)
                    .min();
                StationReading {
                    oldest_wait_ns: oldest.map_or(0, |t| at.since(t)),
                    queued_area: s.tally.queued.lifetime,
                    busy_area: s.tally.busy.lifetime,
                    capacity_area: s.tally.serving.lifetime,
                    replicas: s.replicas_serving - s.down.min(s.replicas_serving),
                }
            })
            .collect();
        recorder.close(at, &readings);
        self.boundary = recorder.next_boundary().unwrap_or(SimTime(u64::MAX));
    }

    fn schedule(&mut self, delay_ns: u64, event: Event) {
        let time = self.now.after(delay_ns);
        self.heap.push(Scheduled {
            time,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    fn dispatch(&mut self, plan: &Plan, event: Event) {
        match event {
            Event::OpenArrival => {
                let class = self.pick_class(plan);
                self.start_root(plan, class, u32::MAX);
                self.schedule_next_arrival();
            }
            Event::UserRequest(user) => {
                let class = self.pick_class(plan);
                self.start_root(plan, class, user);
            }
            Event::CallArrive(call) => self.arrive(plan, call),
            Event::WorkDone(call) => self.work_done(plan, call),
            Event::Response(call) => self.response(plan, call),
            Event::Timeout(call, serial) => self.timeout(plan, call, serial),
            Event::Retry(caller, link, attempt) => {
                if !self.try_attempt(plan, caller, link, attempt) {
                    self.child_done(plan, caller, true);
                }
            }
            Event::BatchDue(station, replica) => {
                let r = &mut self.stations[station as usize].replicas[replica as usize];
                if r.batch_timer == Some(self.now) {
                    r.batch_timer = None;
                    self.try_batch(plan, station as usize, replica);
                }
            }
            Event::BatchDone(batch) => self.batch_done(plan, batch),
            Event::ScaleTick(station) => self.scale(plan, station),
            Event::Crash(station, crash) => self.crash(plan, station, crash),
            Event::Restart(station, replica) => {
                let (now, from) = (self.now, self.measure_from);
                let s = &mut self.stations[station as usize];
                let r = &mut s.replicas[replica as usize];
                if r.down {
                    r.down = false;
                    s.down -= 1;
                    let workers = i64::from(plan.stations[station as usize].workers);
                    s.tally.serving.change(now, from, workers);
                }
            }
            Event::ReplicaReady(station) => {
                let (now, from) = (self.now, self.measure_from);
                let s = &mut self.stations[station as usize];
                s.starting -= 1;
                s.replicas_serving += 1;
                let workers = plan.stations[station as usize].workers;
                s.tally.serving.change(now, from, i64::from(workers));
            }
        }
    }

    /// A replica crashes: it takes no requests until it restarts, those
    /// waiting in its queue fail now, and those it holds fail when their
    /// work would have ended (see `lost`).
    fn crash(&mut self, plan: &Plan, station_index: u32, crash: u32) {
        let spec = &plan.stations[station_index as usize];
        let (_, replica, restart_after) = spec.crashes[crash as usize];
        let (now, from, measuring) = (self.now, self.measure_from, self.measuring);
        let s = &mut self.stations[station_index as usize];
        let r = &mut s.replicas[replica as usize];
        if r.down {
            return;
        }
        r.down = true;
        r.epoch += 1;
        s.down += 1;
        s.tally.serving.change(now, from, -i64::from(spec.workers));
        // A pulled queue is the topic's, and outlives its consumers.
        let waiting: Vec<CallId> = if spec.balancer == Balancer::Pull {
            Vec::new()
        } else {
            r.queue.drain(..).collect()
        };
        for id in waiting {
            let s = &mut self.stations[station_index as usize];
            s.replicas[replica as usize].outstanding -= 1;
            s.tally.queued.change(now, from, -1);
            s.tally.present.change(now, from, -1);
            if measuring {
                s.tally.crash_failures += 1;
            }
            self.calls[id as usize].failed = true;
            self.answer(plan, id);
        }
        self.schedule(restart_after, Event::Restart(station_index, replica));
    }

    /// Whether a crash of its replica lost the call; if so, it fails now.
    fn lost(&mut self, plan: &Plan, id: CallId) -> bool {
        let c = &self.calls[id as usize];
        let station = &mut self.stations[c.station as usize];
        if station.replicas[c.replica as usize].epoch == c.epoch {
            return false;
        }
        if self.measuring {
            station.tally.crash_failures += 1;
        }
        self.calls[id as usize].failed = true;
        self.complete(plan, id);
        true
    }

    /// An autoscaler's decision: the replicas that would carry the work that
    /// arrived over the last interval at the target utilisation.
    fn scale(&mut self, plan: &Plan, station_index: u32) {
        let spec = &plan.stations[station_index as usize];
        let Some(scale) = spec.autoscale else {
            return;
        };
        // With no traffic left to come and none in flight there is nothing
        // to scale for: the ticks stop, so the run can end.
        if self.arrivals_done && self.in_flight() == 0 {
            return;
        }
        let (now, from) = (self.now, self.measure_from);
        let s = &mut self.stations[station_index as usize];
        s.tally.busy.settle(now, from);
        let (arrived, completed, busy) = s.scale_mark;
        let arrivals = s.arrived_total - arrived;
        let completions = s.completed_total - completed;
        let busy_ns = s.tally.busy.lifetime - busy;
        s.scale_mark = (s.arrived_total, s.completed_total, s.tally.busy.lifetime);
        // The time a request held a worker, measured, or the service time.
        let hold_ns = if completions > 0 {
            busy_ns / completions as f64
        } else {
            spec.mean_service_ns
        };
        let interval = scale.interval.as_nanos();
        let demand = arrivals as f64 * hold_ns / interval as f64;
        let wanted = (demand / (f64::from(spec.workers) * scale.target_utilization)).ceil();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to the replica limits"
        )]
        let wanted = (wanted.max(0.0).min(f64::from(scale.max_replicas)) as u32)
            .clamp(scale.min_replicas, scale.max_replicas);
        let have = s.replicas_serving + s.starting;
        if wanted > have {
            s.starting += wanted - have;
            for _ in have..wanted {
                self.schedule(
                    scale.cold_start.as_nanos(),
                    Event::ReplicaReady(station_index),
                );
            }
        } else if wanted < s.replicas_serving && s.starting == 0 {
            // The last replicas take no new requests; what they hold finishes.
            let removed = s.replicas_serving - wanted;
            s.replicas_serving = wanted;
            let workers = i64::from(removed) * i64::from(spec.workers);
            s.tally.serving.change(now, from, -workers);
            s.next_replica %= wanted;
        }
        self.schedule(interval, Event::ScaleTick(station_index));
    }

    // --- arrivals -----------------------------------------------------------

    fn start_arrivals(&mut self, plan: &Plan) {
        match &plan.arrivals {
            ArrivalPlan::Open { .. } => self.schedule_next_arrival(),
            ArrivalPlan::Closed { users, think_time } => {
                // Users start out thinking, so they do not all arrive at once.
                for user in 0..*users {
                    let think = think_time.sample(&mut self.think_rng);
                    self.schedule(think, Event::UserRequest(user));
                }
            }
        }
    }

    /// Schedules the next open arrival, if any traffic is left.
    fn schedule_next_arrival(&mut self) {
        let Some(clock) = self.arrivals.as_mut() else {
            return;
        };
        let Some(t) = clock
            .next_arrival()
            .filter(|t| *t <= MAX_SPAN_NS as f64 / 1e9)
        else {
            self.arrivals_done = true;
            return;
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "t is below a year"
        )]
        let at = SimTime((t * 1e9).round() as u64).max(self.now);
        let delay = at.since(self.now);
        self.schedule(delay, Event::OpenArrival);
    }

    fn pick_class(&mut self, plan: &Plan) -> u32 {
        let classes = &plan.classes;
        if classes.len() == 1 {
            return 0;
        }
        let u = self.class_rng.unit();
        let index = classes
            .iter()
            .position(|c| u < c.cumulative_weight)
            .unwrap_or(classes.len() - 1);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "classes are limited to 1,000"
        )]
        let index = index as u32;
        index
    }

    fn start_root(&mut self, plan: &Plan, class: u32, user: u32) {
        let entry = plan.classes[class as usize].entry;
        let call = self.alloc(Call::new(
            entry,
            NO_PARENT,
            Role::Root,
            class,
            user,
            self.now,
        ));
        self.arrive(plan, call);
    }

    // --- calls --------------------------------------------------------------

    fn alloc(&mut self, call: Call) -> CallId {
        // One event can create many calls (a fan-out with a count), so the
        // cap is enforced here, not only at the periodic check.
        if self.calls.len() - self.free.len() >= MAX_IN_FLIGHT {
            self.runaway = true;
        }
        if let Some(id) = self.free.pop() {
            self.calls[id as usize] = call;
            id
        } else {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "in-flight calls are capped far below 2^32"
            )]
            let id = self.calls.len() as CallId;
            self.calls.push(call);
            id
        }
    }

    fn release(&mut self, call: CallId) {
        self.calls[call as usize].serial = UNWATCHED;
        self.free.push(call);
    }

    fn in_flight(&self) -> usize {
        self.calls.len() - self.free.len()
    }

    fn arrive(&mut self, plan: &Plan, id: CallId) {
        let now = self.now;
        self.calls[id as usize].arrived = now;
        let station_index = self.calls[id as usize].station as usize;
        let spec = &plan.stations[station_index];
        self.stations[station_index].arrived_total += 1;
        let Some(replica) = self.pick_replica(plan, station_index) else {
            // Every replica is down.
            let station = &mut self.stations[station_index];
            if self.measuring {
                station.tally.crash_failures += 1;
            }
            self.calls[id as usize].failed = true;
            self.answer(plan, id);
            return;
        };
        self.calls[id as usize].replica = replica;
        self.calls[id as usize].epoch =
            self.stations[station_index].replicas[replica as usize].epoch;
        let from = self.measure_from;
        let measuring = self.measuring;
        let station = &mut self.stations[station_index];
        if let Some((rate, burst)) = spec.rate_limit {
            let refill = rate * now.since(station.tokens_at) as f64 / 1e9;
            station.tokens = (station.tokens + refill).min(burst);
            station.tokens_at = now;
            if station.tokens >= 1.0 {
                station.tokens -= 1.0;
            } else {
                if measuring {
                    station.tally.rate_limited += 1;
                }
                self.calls[id as usize].failed = true;
                self.answer(plan, id);
                return;
            }
        }
        let r = &mut station.replicas[replica as usize];
        if spec.batching.is_some() {
            // Every request waits for its batch.
            if spec
                .queue_capacity
                .is_some_and(|cap| r.queue.len() >= cap as usize)
            {
                if measuring {
                    station.tally.rejections += 1;
                }
                self.calls[id as usize].failed = true;
                self.answer(plan, id);
                return;
            }
            r.queue.push_back(id);
            r.outstanding += 1;
            station.tally.queued.change(now, from, 1);
            station.tally.present.change(now, from, 1);
            if measuring {
                station.tally.arrivals += 1;
            }
            self.try_batch(plan, station_index, replica);
            return;
        }
        let admitted = if r.busy < spec.workers && !r.down {
            r.busy += 1;
            true
        } else if spec
            .queue_capacity
            .is_none_or(|cap| r.queue.len() < cap as usize)
        {
            r.queue.push_back(id);
            station.tally.queued.change(now, from, 1);
            false
        } else {
            if measuring {
                station.tally.rejections += 1;
            }
            self.calls[id as usize].failed = true;
            self.answer(plan, id);
            return;
        };
        r.outstanding += 1;
        station.tally.present.change(now, from, 1);
        if measuring {
            station.tally.arrivals += 1;
        }
        if admitted {
            station.tally.busy.change(now, from, 1);
            self.start_work(plan, id);
        }
    }

    /// The replica a call goes to, skipping crashed ones; none when all
    /// are down. Under Pull with none free it is the first replica, whose
    /// queue is the shared one.
    fn pick_replica(&mut self, plan: &Plan, station_index: usize) -> Option<u32> {
        let chosen = self.choose_replica(plan, station_index);
        let spec = &plan.stations[station_index];
        let station = &self.stations[station_index];
        if station.down == 0 {
            return Some(chosen);
        }
        let n = station.replicas_serving;
        let up = |k: u32| !station.replicas[k as usize].down;
        if (0..n).all(|k| !up(k)) {
            return None;
        }
        if spec.balancer == Balancer::Pull {
            let free = (0..n).find(|&k| up(k) && station.replicas[k as usize].busy < spec.workers);
            return Some(free.unwrap_or(0));
        }
        (0..n).map(|k| (chosen + k) % n).find(|&k| up(k))
    }

    fn choose_replica(&mut self, plan: &Plan, station_index: usize) -> u32 {
        let spec = &plan.stations[station_index];
        let station = &mut self.stations[station_index];
        let n = station.replicas_serving;
        if n == 1 {
            return 0;
        }
        match spec.balancer {
            Balancer::RoundRobin => {
                let r = station.next_replica;
                station.next_replica = (r + 1) % n;
                r
            }
            Balancer::Random => station.balancer_rng.below(n),
            Balancer::LeastOutstanding => {
                let mut best = 0;
                for (i, replica) in station.replicas[..n as usize].iter().enumerate() {
                    if replica.outstanding < station.replicas[best].outstanding {
                        best = i;
                    }
                }
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "replicas are limited to 10,000"
                )]
                let best = best as u32;
                best
            }
            Balancer::Pull => {
                // Any free worker takes it; when none is free it waits in the
                // one shared queue, kept on the first replica.
                let free = station.replicas[..n as usize]
                    .iter()
                    .position(|r| r.busy < spec.workers)
                    .unwrap_or(0);
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "replicas are limited to 10,000"
                )]
                let free = free as u32;
                free
            }
            Balancer::PowerOfTwoChoices => {
                let a = station.balancer_rng.below(n);
                let b = (a + 1 + station.balancer_rng.below(n - 1)) % n;
                let load = |r: u32| station.replicas[r as usize].outstanding;
                if load(b) < load(a) { b } else { a }
            }
        }
    }

    /// The call has a worker: record its wait and start its own work.
    fn start_work(&mut self, plan: &Plan, id: CallId) {
        let now = self.now;
        let call = &mut self.calls[id as usize];
        call.holds_worker = true;
        let station_index = call.station as usize;
        let waited = now.since(call.arrived);
        let spec = &plan.stations[station_index];
        let station = &mut self.stations[station_index];
        let work = spec.service_time.sample(&mut station.service_rng);
        if self.measuring {
            let t = &mut station.tally;
            t.started += 1;
            t.service_ns += u128::from(work);
            t.wait.record(waited);
            if waited > 0 {
                t.waited += 1;
            }
        }
        self.schedule(work, Event::WorkDone(id));
    }

    /// Gives the worker to the next queued call, or frees it.
    fn release_worker(&mut self, plan: &Plan, station_index: usize, replica: u32) {
        let now = self.now;
        let from = self.measure_from;
        let shared = plan.stations[station_index].balancer == Balancer::Pull;
        let station = &mut self.stations[station_index];
        // Under Pull every replica takes from the one queue on the first.
        let source = if shared { 0 } else { replica as usize };
        // A crashed replica finishing lost work takes nothing new.
        let next = if station.replicas[replica as usize].down {
            None
        } else {
            station.replicas[source].queue.pop_front()
        };
        if let Some(next) = next {
            station.tally.queued.change(now, from, -1);
            if source != replica as usize {
                station.replicas[source].outstanding -= 1;
                station.replicas[replica as usize].outstanding += 1;
                self.calls[next as usize].replica = replica;
            }
            self.start_work(plan, next);
        } else {
            let r = &mut station.replicas[replica as usize];
            r.busy -= 1;
            station.tally.busy.change(now, from, -1);
        }
    }

    /// Starts batches on a batching replica while a worker is free and a
    /// batch is ready: full, or its oldest request has waited long enough.
    /// Otherwise sets a timer for when the oldest will have.
    fn try_batch(&mut self, plan: &Plan, station_index: usize, replica: u32) {
        let spec = &plan.stations[station_index];
        let Some((max, wait_ns, per_item_ns)) = spec.batching else {
            return;
        };
        loop {
            let now = self.now;
            let from = self.measure_from;
            let station = &mut self.stations[station_index];
            let r = &mut station.replicas[replica as usize];
            let Some(&oldest) = r.queue.front() else {
                return;
            };
            if r.busy >= spec.workers {
                return;
            }
            let due = self.calls[oldest as usize].arrived.after(wait_ns);
            if r.queue.len() < max as usize && now < due {
                if r.batch_timer.is_none_or(|t| t > due) {
                    r.batch_timer = Some(due);
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "services are limited to 10,000"
                    )]
                    let event = Event::BatchDue(station_index as u32, replica);
                    self.schedule(due.since(now), event);
                }
                return;
            }
            let size = r.queue.len().min(max as usize);
            let calls: Vec<CallId> = r.queue.drain(..size).collect();
            r.busy += 1;
            #[expect(clippy::cast_possible_wrap, reason = "at most 4,096")]
            station.tally.queued.change(now, from, -(size as i64));
            station.tally.busy.change(now, from, 1);
            let work = spec
                .service_time
                .sample(&mut station.service_rng)
                .saturating_add(per_item_ns.saturating_mul(size as u64));
            if self.measuring {
                let t = &mut station.tally;
                t.batch_sizes[size] += 1;
                for &call in &calls {
                    let waited = now.since(self.calls[call as usize].arrived);
                    t.started += 1;
                    t.service_ns += u128::from(work);
                    t.wait.record(waited);
                    if waited > 0 {
                        t.waited += 1;
                    }
                }
            }
            let batch = if let Some(slot) = self.free_batches.pop() {
                self.batches[slot as usize] = calls;
                slot
            } else {
                self.batches.push(calls);
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "batches in flight are far fewer than 2^32"
                )]
                let slot = (self.batches.len() - 1) as u32;
                slot
            };
            self.schedule(work, Event::BatchDone(batch));
        }
    }

    /// A batch is done: its worker is free, and each request goes on.
    fn batch_done(&mut self, plan: &Plan, batch: u32) {
        let calls = std::mem::take(&mut self.batches[batch as usize]);
        self.free_batches.push(batch);
        let Some(&first) = calls.first() else {
            return;
        };
        let (station_index, replica) = {
            let c = &self.calls[first as usize];
            (c.station as usize, c.replica)
        };
        let (now, from) = (self.now, self.measure_from);
        let station = &mut self.stations[station_index];
        station.replicas[replica as usize].busy -= 1;
        station.tally.busy.change(now, from, -1);
        for call in calls {
            self.after_work(plan, call);
        }
        self.try_batch(plan, station_index, replica);
    }

    fn work_done(&mut self, plan: &Plan, id: CallId) {
        let call = &self.calls[id as usize];
        let station_index = call.station as usize;
        let replica = call.replica;
        let spec = &plan.stations[station_index];
        if !spec.blocking {
            self.calls[id as usize].holds_worker = false;
            self.release_worker(plan, station_index, replica);
        }
        self.after_work(plan, id);
    }

    /// The call's own work is done: it fails, hits the cache, or makes its
    /// calls.
    fn after_work(&mut self, plan: &Plan, id: CallId) {
        if self.lost(plan, id) {
            return;
        }
        let station_index = self.calls[id as usize].station as usize;
        let spec = &plan.stations[station_index];
        // An injected error fails the call here; a cache hit answers here.
        // Either way no calls are made.
        let station = &mut self.stations[station_index];
        if spec.error_rate > 0.0 && station.outcome_rng.chance(spec.error_rate) {
            if self.measuring {
                station.tally.errors += 1;
            }
            self.calls[id as usize].failed = true;
            self.complete(plan, id);
            return;
        }
        if let Some((hit_ratio, warmup_ns)) = spec.cache {
            let warmth = if warmup_ns == 0 {
                1.0
            } else {
                (self.now.0 as f64 / warmup_ns as f64).min(1.0)
            };
            if station.outcome_rng.chance(hit_ratio * warmth) {
                if self.measuring {
                    station.tally.cache_hits += 1;
                }
                self.complete(plan, id);
                return;
            }
        }
        self.run_steps(plan, id);
    }

    /// Makes the call's outgoing calls from its current step on, until a step
    /// must wait for answers or all steps are done.
    fn run_steps(&mut self, plan: &Plan, id: CallId) {
        loop {
            let call = &self.calls[id as usize];
            let steps = &plan.stations[call.station as usize].steps;
            let Some(step) = steps.get(call.step as usize) else {
                self.complete(plan, id);
                return;
            };
            let made_previous = call.made_previous;
            let mut pending = 0;
            let mut made_any = false;
            let mut refused = false;
            for spec in step {
                let make = if spec.repeats_previous {
                    made_previous
                } else {
                    self.link_rngs[spec.link].chance(spec.probability)
                };
                if !make {
                    continue;
                }
                made_any = true;
                for _ in 0..spec.count {
                    if self.runaway {
                        // Over the in-flight cap: the run is ending as saturated.
                        break;
                    }
                    if spec.guarded {
                        #[expect(
                            clippy::cast_possible_truncation,
                            reason = "links are far fewer than 2^32"
                        )]
                        let link = spec.link as u32;
                        if self.try_attempt(plan, id, link, 0) {
                            pending += 1;
                        } else {
                            refused = true;
                        }
                        continue;
                    }
                    let rtt = self.round_trip(spec.link, &spec.latency, spec.fault.as_ref());
                    let (parent, role) = if spec.sync {
                        pending += 1;
                        (id, Role::Child)
                    } else {
                        (NO_PARENT, Role::Detached)
                    };
                    self.send(plan, id, parent, role, spec.target, rtt);
                }
            }
            let call = &mut self.calls[id as usize];
            call.made_previous = made_any;
            call.failed |= refused;
            if pending > 0 {
                call.pending = pending;
                return;
            }
            if refused {
                // A call refused at once (breaker open, bulkhead full)
                // fails this one as an error answer would.
                self.complete(plan, id);
                return;
            }
            call.step += 1;
        }
    }

    /// A call's round trip over link `link`, with any fault active now.
    fn round_trip(
        &mut self,
        link: usize,
        latency: &Sampler,
        fault: Option<&(u64, u64, Sampler)>,
    ) -> u64 {
        let rng = &mut self.link_rngs[link];
        let mut rtt = latency.sample(rng);
        if let Some((from, until, extra)) = fault
            && (*from..*until).contains(&self.now.0)
        {
            rtt = rtt.saturating_add(extra.sample(rng));
        }
        rtt
    }

    /// Sends a new call from `caller` to `target`; returns its id.
    fn send(
        &mut self,
        plan: &Plan,
        caller: CallId,
        parent: CallId,
        role: Role,
        target: u32,
        rtt: u64,
    ) -> CallId {
        let there = rtt / 2;
        let (class, user) = {
            let c = &self.calls[caller as usize];
            (c.class, c.user)
        };
        let mut call = Call::new(target, parent, role, class, user, self.now);
        call.return_delay = rtt - there;
        let child = self.alloc(call);
        if there == 0 {
            self.arrive(plan, child);
        } else {
            self.schedule(there, Event::CallArrive(child));
        }
        child
    }

    /// Makes attempt `attempt` of a call from `caller` over guarded link
    /// `link`; false when the breaker or the bulkhead refused it.
    fn try_attempt(&mut self, plan: &Plan, caller: CallId, link: u32, attempt: u32) -> bool {
        let spec = &plan.links[link as usize];
        let now = self.now;
        let measuring = self.measuring;
        let replica = self.calls[caller as usize].replica;
        let guard = &mut self.guards[link as usize];
        let permit = match guard.admit(spec, now, replica) {
            Ok(permit) => permit,
            Err(refusal) => {
                if measuring {
                    match refusal {
                        Refusal::Breaker => guard.tally.breaker_rejections += 1,
                        Refusal::Bulkhead => guard.tally.bulkhead_rejections += 1,
                    }
                }
                return false;
            }
        };
        if attempt == 0 {
            guard.first_attempt(now);
        }
        if measuring {
            guard.tally.attempts += 1;
            if attempt > 0 {
                guard.tally.retries += 1;
            }
        }
        let rtt = self.round_trip(link as usize, &spec.latency, spec.fault.as_ref());
        let serial = self.next_serial;
        self.next_serial += 1;
        // Nothing reads the attempt's fields before an event runs, so they
        // are set after `send`, which may run the callee's arrival at once.
        let child = self.send(plan, caller, caller, Role::Child, spec.target, rtt);
        let call = &mut self.calls[child as usize];
        call.link = link;
        call.attempt = attempt;
        call.permit = permit;
        if let Some(timeout) = spec.timeout_ns {
            call.serial = serial;
            self.schedule(timeout, Event::Timeout(child, serial));
        }
        true
    }

    /// An attempt's timer went off: if it has not answered, its caller gives
    /// up on it (the callee keeps working).
    fn timeout(&mut self, plan: &Plan, id: CallId, serial: u64) {
        let call = &mut self.calls[id as usize];
        if call.serial != serial || call.orphan {
            return;
        }
        call.orphan = true;
        let (caller, link, attempt, permit) = (call.parent, call.link, call.attempt, call.permit);
        if self.measuring {
            self.guards[link as usize].tally.timeouts += 1;
        }
        self.attempt_ended(plan, caller, link, attempt, permit, false);
    }

    /// An attempt answered (`ok`) or failed; retries if the policy and the
    /// budget allow, otherwise the call ends for its caller.
    fn attempt_ended(
        &mut self,
        plan: &Plan,
        caller: CallId,
        link: u32,
        attempt: u32,
        permit: Permit,
        ok: bool,
    ) {
        let now = self.now;
        let replica = self.calls[caller as usize].replica;
        let guard = &mut self.guards[link as usize];
        if guard.settle(now, replica, permit, ok) && self.measuring {
            guard.tally.breaker_opened += 1;
        }
        if !ok
            && let Some(retry) = &plan.links[link as usize].retry
            && attempt < retry.max_retries
        {
            if guard.spend_retry(now, retry) {
                let wait = guard::backoff(retry, attempt + 1, &mut self.link_rngs[link as usize]);
                self.schedule(wait, Event::Retry(caller, link, attempt + 1));
                return;
            }
            if self.measuring {
                guard.tally.budget_denials += 1;
            }
        }
        self.child_done(plan, caller, !ok);
    }

    /// An answer from a synchronous call reaches its caller.
    fn response(&mut self, plan: &Plan, child: CallId) {
        let c = &self.calls[child as usize];
        let (parent, failed, orphan) = (c.parent, c.failed, c.orphan);
        let (link, attempt, permit) = (c.link, c.attempt, c.permit);
        self.release(child);
        if orphan {
            // Timed out on the way back: nobody waits for it.
            return;
        }
        if link != NO_LINK {
            if failed && self.measuring {
                self.guards[link as usize].tally.failures += 1;
            }
            self.attempt_ended(plan, parent, link, attempt, permit, !failed);
            return;
        }
        self.child_done(plan, parent, failed);
    }

    /// One of the calls a step waits for has ended for good.
    fn child_done(&mut self, plan: &Plan, parent: CallId, failed: bool) {
        let call = &mut self.calls[parent as usize];
        call.pending -= 1;
        call.failed |= failed;
        if call.pending > 0 {
            return;
        }
        if call.failed {
            // A failed dependency fails the caller: it answers at once.
            self.complete(plan, parent);
        } else if !self.lost(plan, parent) {
            self.calls[parent as usize].step += 1;
            self.run_steps(plan, parent);
        }
    }

    /// The call's work and calls are done: it answers.
    fn complete(&mut self, plan: &Plan, id: CallId) {
        let now = self.now;
        let from = self.measure_from;
        let (station_index, replica, holds_worker, arrived) = {
            let c = &self.calls[id as usize];
            (c.station as usize, c.replica, c.holds_worker, c.arrived)
        };
        if holds_worker {
            self.calls[id as usize].holds_worker = false;
            self.release_worker(plan, station_index, replica);
        }
        let measuring = self.measuring;
        let station = &mut self.stations[station_index];
        station.replicas[replica as usize].outstanding -= 1;
        station.completed_total += 1;
        station.tally.present.change(now, from, -1);
        if measuring {
            station.tally.completions += 1;
            station.tally.response.record(now.since(arrived));
        }
        self.answer(plan, id);
    }

    /// Sends the call's answer (or its failure) to whoever waits for it.
    fn answer(&mut self, plan: &Plan, id: CallId) {
        let call = &self.calls[id as usize];
        match call.role {
            Role::Child if call.orphan => self.release(id),
            Role::Child => {
                let delay = call.return_delay;
                self.schedule(delay, Event::Response(id));
            }
            Role::Detached => self.release(id),
            Role::Root => {
                let (class, user, arrived, failed) =
                    (call.class, call.user, call.arrived, call.failed);
                self.release(id);
                if let Some(recorder) = &mut self.recorder {
                    recorder.request_done((!failed).then(|| self.now.since(arrived)));
                }
                if !failed {
                    self.departed += 1;
                    if self.now >= self.measure_from {
                        self.classes[class as usize].departed += 1;
                    }
                }
                if arrived >= self.measure_from {
                    let tally = &mut self.classes[class as usize];
                    if failed {
                        tally.failed += 1;
                    } else {
                        tally.succeeded += 1;
                        tally.latency.record(self.now.since(arrived));
                    }
                }
                if !failed && self.trace.len() < self.trace_cap {
                    self.trace.push((self.now.0, self.now.since(arrived)));
                    if self.trace.len() == self.trace_cap {
                        self.finish(plan, self.now);
                    }
                }
                if arrived >= self.measure_from {
                    self.measured_requests += 1;
                    if let Stop::Requests(n) = self.stop
                        && self.measured_requests >= n
                    {
                        self.finish(plan, self.now);
                    }
                }
                if let ArrivalPlan::Closed { think_time, .. } = &plan.arrivals {
                    let think = think_time.sample(&mut self.think_rng);
                    self.schedule(think, Event::UserRequest(user));
                }
            }
        }
    }

    // --- saturation ---------------------------------------------------------

    fn check_saturation(&mut self, plan: &Plan) {
        // Simulated time that stops moving means calls spawn calls at one
        // instant forever (a loop of zero-time calls).
        if self.now == self.last_check {
            self.stalled_checks += 1;
        } else {
            self.stalled_checks = 0;
        }
        self.last_check = self.now;
        let runaway = self.runaway || self.in_flight() > MAX_IN_FLIGHT || self.stalled_checks > 150;
        if let (Some(station), true) = (plan.overloaded, self.measuring) {
            // Offered more work than it can do: no backlog need be awaited.
            self.saturation = Some(Saturation {
                station: station as usize,
            });
            self.finish(plan, self.now);
            return;
        }
        let growing = self.growing_station(plan, 2_000, 20.0);
        if runaway {
            // An explosion (calls spawning calls faster than they finish) has
            // little history to average: judge it by who is full right now.
            let now: Vec<f64> = self
                .stations
                .iter()
                .zip(&plan.stations)
                .map(|(s, _)| s.tally.busy.value as f64 / s.tally.serving.value.max(1) as f64)
                .collect();
            self.saturation = Some(Saturation {
                station: bottleneck(plan, &now),
            });
            self.finish(plan, self.now);
        } else if growing.is_some() {
            self.saturation = growing;
            self.finish(plan, self.now);
        }
    }

    /// Whether some service's backlog grew by more than `min_growth` calls
    /// and more than `spread` times the square root of its arrivals since
    /// measuring began. A stable queue's backlog only fluctuates about its
    /// stationary level, a queue at exactly its capacity wanders like a
    /// random walk (of order √n after n arrivals), and an overloaded one
    /// grows in proportion to n; so growth beyond a multiple of √n is found
    /// however slight the overload, given arrivals enough. Returns the
    /// bottleneck if so.
    fn growing_station(&self, plan: &Plan, min_growth: i64, spread: f64) -> Option<Saturation> {
        if !self.measuring {
            return None;
        }
        // A backlog an autoscaler may yet clear (its own, or its callers'
        // waiting on it) is not saturation; the in-flight cap still ends a
        // runaway.
        if plan.stations.iter().any(|s| s.autoscale.is_some()) {
            return None;
        }
        // A closed system's backlog is bounded by its users: it cannot grow
        // without bound, however long the queue. A scenario whose offered
        // work is known to fit is stable, however bursty.
        if plan.stable || matches!(plan.arrivals, ArrivalPlan::Closed { .. }) {
            return None;
        }
        let is_growing = |s: &Station| {
            let growth = s.tally.present.value - s.present_at_start;
            growth > min_growth && growth as f64 > spread * (s.tally.arrivals as f64).sqrt()
        };
        self.stations.iter().any(is_growing).then(|| Saturation {
            station: self.bottleneck(plan),
        })
    }

    fn bottleneck(&self, plan: &Plan) -> usize {
        bottleneck(plan, &self.occupancy(plan))
    }

    /// The fraction of each service's workers held, averaged over the
    /// measured time, or at this instant before measuring has begun.
    fn occupancy(&self, plan: &Plan) -> Vec<f64> {
        let elapsed = self.now.since(self.measure_from) as f64;
        self.stations
            .iter()
            .zip(&plan.stations)
            .map(|(station, _)| {
                let mut busy = station.tally.busy;
                let mut serving = station.tally.serving;
                if self.measuring && elapsed > 0.0 {
                    busy.settle(self.now, self.measure_from);
                    serving.settle(self.now, self.measure_from);
                    busy.area / serving.area.max(1.0)
                } else {
                    busy.value as f64 / serving.value.max(1) as f64
                }
            })
            .collect()
    }
}

/// The service that limits the system, given the fraction of each service's
/// workers held. Callers blocked on a slow service fill up too, so among the
/// services whose workers are (nearly) all held, it is the one with none such
/// among the services it calls, directly or not; otherwise simply the fullest.
/// Ties go to the first listed.
pub fn bottleneck(plan: &Plan, occupancy: &[f64]) -> usize {
    let full = |i: usize| occupancy[i] >= 0.98;
    let downstream_full = |start: usize| {
        let mut seen = vec![false; plan.stations.len()];
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for call in plan.stations[i].steps.iter().flatten().filter(|c| c.sync) {
                let target = call.target as usize;
                if !seen[target] {
                    if target != start && full(target) {
                        return true;
                    }
                    seen[target] = true;
                    stack.push(target);
                }
            }
        }
        false
    };
    let mut best: Option<usize> = None;
    for i in 0..plan.stations.len() {
        let candidate = !full(i) || !downstream_full(i);
        let better = best.is_none_or(|b| (full(i), occupancy[i]) > (full(b), occupancy[b]));
        if candidate && better {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}
