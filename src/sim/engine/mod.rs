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

use std::collections::{BinaryHeap, VecDeque};

use crate::model::{Balancer, MAX_SPAN_NS};

use super::arrivals::ArrivalClock;
use super::guard::{self, LinkGuard, Permit, Refusal};
use super::ids::{LinkId, StationId};
use super::plan::{
    ArrivalPlan, BatchingPlan, CachePlan, CrashPlan, FaultPlan, Plan, RateLimitPlan,
};
use super::rng::Rng;
use super::sample::Sampler;
use super::series::{Recorder, StationReading};
use super::time::SimTime;

mod answers;
mod attempts;
mod batching;
mod calls;
mod dynamics;
mod entry;
mod event;
mod llm;
mod saturation;
mod stations;
mod steps;
mod tally;

use event::{Event, Scheduled, Ticket, Tickets};
pub use saturation::bottleneck;
pub use tally::{ClassTally, Level, StationTally};

type CallId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A request entering the system; its answer ends the request. Under a
    /// closed workload, `user` sent it and thinks, then sends the next.
    Root { user: Option<u32> },
    /// A synchronous call whose caller waits for it.
    Child { caller: CallId },
    /// A fire-and-forget call; nobody waits.
    Detached,
}

#[derive(Clone, Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent flags of one call, packed for the slab"
)]
struct Call {
    station: StationId,
    replica: u32,
    role: Role,
    class: u32,
    arrived: SimTime,
    return_delay: u64,
    step: u32,
    pending: u32,
    failed: bool,
    holds_worker: bool,
    /// Whether the previous step's call was made (for repeated links).
    made_previous: bool,
    /// The guarded link this attempt was made on, if any.
    link: Option<LinkId>,
    /// 0 for the first attempt, then the retry's number.
    attempt: u32,
    /// What the link's breaker let it through as.
    permit: Permit,
    /// The ticket of the timeout that watches this attempt, if one does.
    watch: Option<Ticket>,
    /// Given up on by its caller: its answer goes nowhere.
    orphan: bool,
    /// Its replica's life when it was admitted: a later crash lost it.
    life: Ticket,
    /// At a prefill-only LLM server: the request's lengths and first
    /// token, once computed, for the decode server it calls.
    prefilled: Option<llm::Prefilled>,
}

impl Call {
    fn new(station: StationId, role: Role, class: u32, now: SimTime) -> Self {
        Self {
            station,
            replica: 0,
            role,
            class,
            arrived: now,
            return_delay: 0,
            step: 0,
            pending: 0,
            failed: false,
            holds_worker: false,
            made_previous: false,
            link: None,
            attempt: 0,
            permit: Permit::Call,
            watch: None,
            orphan: false,
            life: Ticket::FIRST,
            prefilled: None,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Replica {
    busy: u32,
    /// Of `busy`, the workers still finishing work a crash lost: the replica
    /// is down (or restarted) so they no longer count as held, but they take
    /// nothing new until that work ends.
    ghosts: u32,
    outstanding: u32,
    queue: VecDeque<CallId>,
    /// When the pending batch timer goes off, if one is pending: also its
    /// ticket (see [`event`]).
    batch_timer: Option<SimTime>,
    /// Crashed and not yet restarted.
    down: bool,
    /// Drawn anew at each crash: the work of an earlier life is lost.
    life: Ticket,
}

struct Station {
    replicas: Vec<Replica>,
    /// An LLM server's replicas' sequences and caches (empty otherwise).
    llm: Vec<llm::LlmReplica>,
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
    /// Calls that arrived and calls completed since time zero.
    arrived_total: u64,
    completed_total: u64,
    /// The totals at the autoscaler's last decision.
    scale_mark: ScaleMark,
}

/// A station's totals at the autoscaler's last decision.
#[derive(Clone, Copy, Debug, Default)]
struct ScaleMark {
    arrived: u64,
    completed: u64,
    /// The busy integral (worker-nanoseconds).
    busy_ns: f64,
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
    /// Tickets for telling stale events (see [`event`]).
    tickets: Tickets,
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
                llm: s.llm.as_ref().map_or_else(Vec::new, |l| {
                    vec![llm::LlmReplica::new(l); s.slots as usize]
                }),
                next_replica: 0,
                service_rng: Rng::stream(seed, replication, &format!("service/{}", s.name)),
                balancer_rng: Rng::stream(seed, replication, &format!("balancer/{}", s.name)),
                outcome_rng: Rng::stream(seed, replication, &format!("outcome/{}", s.name)),
                tally: StationTally {
                    batch_sizes: s
                        .batching
                        .map_or_else(Vec::new, |b| vec![0; b.max_batch as usize + 1]),
                    serving: Level {
                        value: i64::from(s.replicas) * i64::from(s.workers),
                        ..Level::default()
                    },
                    ..StationTally::default()
                },
                present_at_start: 0,
                tokens: s.rate_limit.map_or(0.0, |r| r.burst),
                tokens_at: SimTime::ZERO,
                replicas_serving: s.replicas,
                starting: 0,
                down: 0,
                arrived_total: 0,
                completed_total: 0,
                scale_mark: ScaleMark::default(),
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
                .map(|link| LinkGuard::new(link, plan.stations[link.from].slots))
                .collect(),
            tickets: Tickets::new(),
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
            let station = StationId::new(i);
            if let Some(scale) = &spec.autoscale {
                replication.schedule(scale.interval.as_nanos(), Event::ScaleTick(station));
            }
            for (k, c) in spec.crashes.iter().enumerate() {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "crashes are limited to 10,000"
                )]
                let crash = k as u32;
                replication.schedule(c.at_ns, Event::Crash { station, crash });
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
        self.count_unfinished();
        if self.saturation.is_none() {
            self.saturation = match plan.overloaded {
                Some(station) => Some(Saturation {
                    station: station.index(),
                }),
                None => self.growing_station(plan, saturation::AT_THE_END),
            };
        }
    }

    /// Counts, per class, the measured requests still in the system: the
    /// live root calls in the slab.
    fn count_unfinished(&mut self) {
        let mut free = vec![false; self.calls.len()];
        for &id in &self.free {
            free[id as usize] = true;
        }
        for (call, _) in self.calls.iter().zip(&free).filter(|(_, free)| !**free) {
            if matches!(call.role, Role::Root { .. }) && call.arrived >= self.measure_from {
                self.classes[call.class as usize].unfinished += 1;
            }
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
                for level in [
                    &mut s.tally.queued,
                    &mut s.tally.busy,
                    &mut s.tally.serving,
                    &mut s.tally.kv_blocks,
                ] {
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
                    llm: llm::reading(s),
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
                self.start_root(plan, class, None);
                self.schedule_next_arrival();
            }
            Event::UserRequest(user) => {
                let class = self.pick_class(plan);
                self.start_root(plan, class, Some(user));
            }
            Event::CallArrive(call) => self.arrive(plan, call),
            Event::WorkDone(call) => self.work_done(plan, call),
            Event::Response(call) => self.response(plan, call),
            Event::Timeout { call, ticket } => self.timeout(plan, call, ticket),
            Event::Retry {
                caller,
                link,
                attempt,
            } => {
                if !self.try_attempt(plan, caller, link, attempt) {
                    self.child_done(plan, caller, true);
                }
            }
            Event::BatchDue { station, replica } => {
                let r = &mut self.stations[station].replicas[replica as usize];
                if r.batch_timer == Some(self.now) {
                    r.batch_timer = None;
                    self.try_batch(plan, station, replica);
                }
            }
            Event::BatchDone(batch) => self.batch_done(plan, batch),
            Event::LlmStep { station, replica } => self.llm_step_done(plan, station, replica),
            Event::LlmKick { station, replica } => self.llm_kick(station, replica),
            Event::ScaleTick(station) => self.scale(plan, station),
            Event::Crash { station, crash } => self.crash(plan, station, crash),
            Event::Restart { station, replica } => {
                let (now, from) = (self.now, self.measure_from);
                let s = &mut self.stations[station];
                let r = &mut s.replicas[replica as usize];
                if r.down {
                    r.down = false;
                    s.down -= 1;
                    let workers = i64::from(plan.stations[station].workers);
                    s.tally.serving.change(now, from, workers);
                }
            }
            Event::ReplicaReady(station) => {
                let (now, from) = (self.now, self.measure_from);
                let s = &mut self.stations[station];
                s.starting -= 1;
                s.replicas_serving += 1;
                let workers = plan.stations[station].workers;
                s.tally.serving.change(now, from, i64::from(workers));
            }
        }
    }
}
