//! The simulator: a deterministic discrete-event simulation of a scenario.
//!
//! It is a pure library. It reads no clock, does no I/O, and starts threads
//! only to run the points of a sweep in parallel; a seed fixes every result.
//! The GUI drives a [`Simulation`] in slices ([`Simulation::step`]) and may
//! drop it at any time to cancel; the CLI runs it to the end ([`simulate`]).
//!
//! A simulation of one scenario runs, in order:
//! 1. a pilot replication, only when the project gives no warm-up: its first
//!    successful requests feed MSER-5 ([`warmup`]), which chooses the
//!    warm-up every replication then discards;
//! 2. the replications, each with its own random streams. With a precision
//!    target it keeps adding replications (at least ten) until the 95%
//!    interval of the p99 is narrow enough, or the cap is reached.
//!
//! The engine's docs give the ordering contract and a call's life.

pub mod analytic;
mod arrivals;
mod engine;
mod guard;
mod plan;
mod rng;
mod sample;
mod series;
mod sweep;
mod time;
pub mod warmup;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{LatencyStatistic, Objective, Problem, Project, StopCondition, validate};
use crate::stats::{
    BatchReport, ClassReport, Comparison, Confidence, Interval, LatencyHistogram, LinkReport,
    ObjectiveResult, ReplicationSummary, ScenarioReport, ServiceReport, SimulationReport,
    TimeSeries,
};

pub use analytic::Prediction;
pub use arrivals::ArrivalClock;
pub use engine::Saturation;
pub use rng::Rng;
pub use sample::Sampler;
pub use sweep::{SweepAxis, SweepProgress, SweepSpec, sweep, sweep_with_progress};
pub use time::SimTime;

use engine::{ClassTally, Outcome, Replication, Slice, StationTally, Stop};
use plan::Plan;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The project has problems; each names its place.
    #[error("the project is not valid:\n{}", list(.0))]
    Invalid(Vec<Problem>),
    /// No scenario has that name.
    #[error("no scenario is called {name:?}; the project has {}", .available.join(", "))]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// The names there are.
        available: Vec<String>,
    },
    /// A sweep was asked for something the project cannot do.
    #[error("{0}")]
    Sweep(String),
    /// The run was cancelled before it finished.
    #[error("the simulation was cancelled")]
    Cancelled,
    /// A replication reached [`engine::HORIZON_NS`] of simulated time before
    /// its stop condition.
    #[error(
        "scenario {scenario:?}: the run reached 100 years of simulated time before its stop \
         condition ({finished} requests had finished); stop it sooner (`stop: Duration(...)` \
         or fewer `Requests`) or shorten the times in the model"
    )]
    BeyondHorizon {
        /// The scenario.
        scenario: String,
        /// Requests finished in the replication that reached the horizon.
        finished: u64,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How much work one call to [`Simulation::step`] may do.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// At most this many events.
    Events(u64),
    /// Until simulated time passes this instant (within the current replication).
    Until(SimTime),
}

/// Successful requests the pilot run records for MSER-5.
const PILOT_REQUESTS: usize = 100_000;

/// Replications the precision rule runs at the least.
const MIN_PRECISION_REPLICATIONS: u32 = 10;

/// A running simulation of one scenario over all its replications.
pub struct Simulation {
    plan: Arc<Plan>,
    seed: u64,
    stop: Stop,
    warmup_ns: u64,
    warmup_method: &'static str,
    replications: u32,
    precision: Option<f64>,
    max_replications: u32,
    /// The width of the first replication's time series.
    interval_ns: u64,
    current: u32,
    phase: Phase,
    totals: Totals,
    objectives: Vec<Objective>,
    prediction: Prediction,
}

enum Phase {
    Pilot(Replication),
    Replicating(Replication),
    Done,
}

#[derive(Default)]
struct Totals {
    measured_ns: u64,
    elapsed_ns: u64,
    departed: u64,
    stations: Vec<StationTally>,
    classes: Vec<ClassTally>,
    links: Vec<LinkReport>,
    timeseries: Option<TimeSeries>,
    saturation: Option<Saturation>,
    events: u64,
    replications: Vec<ReplicationSummary>,
    /// Requests finished when a replication reached the horizon.
    beyond_horizon: Option<u64>,
}

impl Simulation {
    /// Prepares scenario `scenario` of `project`, validating the project first.
    pub fn new(project: &Project, scenario: usize) -> Result<Self, SimError> {
        let problems = validate(project);
        if !problems.is_empty() {
            return Err(SimError::Invalid(problems));
        }
        if scenario >= project.scenarios.len() {
            return Err(SimError::UnknownScenario {
                name: format!("#{scenario}"),
                available: project.scenarios.iter().map(|s| s.name.clone()).collect(),
            });
        }
        let plan = Arc::new(Plan::new(project, scenario));
        let run = &project.run;
        // Independent streams per scenario unless they share common random numbers.
        let seed = if run.common_random_numbers {
            run.seed
        } else {
            Rng::stream(run.seed, 0, &format!("scenario/{}", plan.scenario)).next_u64()
        };
        let stop = match run.stop {
            StopCondition::Duration(d) => Stop::At(SimTime(d.as_nanos())),
            StopCondition::Requests(n) => Stop::Requests(n),
        };
        let mut simulation = Self {
            plan,
            seed,
            stop,
            warmup_ns: run.warmup.map_or(0, crate::model::TimeSpan::as_nanos),
            warmup_method: "configured",
            replications: run.replications,
            precision: run.precision,
            max_replications: run.max_replications.max(run.replications),
            interval_ns: run.interval.as_nanos(),
            current: 0,
            phase: Phase::Done,
            totals: Totals::default(),
            objectives: project.objectives.clone(),
            prediction: analytic::predict(project, scenario),
        };
        simulation.phase = if run.warmup.is_none() {
            simulation.warmup_method = "mser-5";
            Phase::Pilot(Replication::new(
                Arc::clone(&simulation.plan),
                simulation.seed,
                u32::MAX,
                0,
                simulation.stop_after_warmup(0),
                PILOT_REQUESTS,
                None,
            ))
        } else {
            Phase::Replicating(simulation.replication(0))
        };
        Ok(simulation)
    }

    fn stop_after_warmup(&self, warmup_ns: u64) -> Stop {
        match self.stop {
            Stop::At(duration) => Stop::At(SimTime(warmup_ns.saturating_add(duration.0))),
            requests @ Stop::Requests(_) => requests,
        }
    }

    fn replication(&self, index: u32) -> Replication {
        Replication::new(
            Arc::clone(&self.plan),
            self.seed,
            index,
            self.warmup_ns,
            self.stop_after_warmup(self.warmup_ns),
            0,
            (index == 0).then_some(self.interval_ns),
        )
    }

    /// The scenario's name.
    pub fn scenario(&self) -> &str {
        &self.plan.scenario
    }

    /// Whether every replication has finished.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Replications the run expects to need: the configured count, or with a
    /// precision target an estimate from the interval so far.
    fn expected_replications(&self) -> u32 {
        let Some(target) = self.precision else {
            return self.replications.max(1);
        };
        let floor = self.replications.max(MIN_PRECISION_REPLICATIONS);
        let p99s: Vec<f64> = self.totals.replications.iter().map(|r| r.p99_ms).collect();
        let estimate = Interval::of_mean(&p99s).map_or(floor, |ci| {
            // The half-width shrinks as 1/√n.
            let ratio = ci.half_width() / (target * ci.estimate.abs().max(1e-12));
            let needed = (p99s.len() as f64 * ratio * ratio).ceil();
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "clamped below"
            )]
            let needed = needed.min(f64::from(self.max_replications)) as u32;
            needed.max(floor)
        });
        estimate.clamp(
            self.current + u32::from(!self.is_finished()),
            self.max_replications.max(floor),
        )
    }

    /// Progress over all replications (and the pilot), from 0 to 1.
    pub fn progress(&self) -> f64 {
        let (done, within) = match &self.phase {
            Phase::Pilot(pilot) => return 0.05 * pilot.progress(),
            Phase::Replicating(r) => (self.current, r.progress()),
            Phase::Done => return 1.0,
        };
        let fraction = (f64::from(done) + within) / f64::from(self.expected_replications().max(1));
        let start = if self.warmup_method == "mser-5" {
            0.05
        } else {
            0.0
        };
        start + (1.0 - start) * fraction.min(1.0)
    }

    /// Simulated time in the current replication.
    pub fn now(&self) -> SimTime {
        match &self.phase {
            Phase::Pilot(r) | Phase::Replicating(r) => r.now(),
            Phase::Done => SimTime::ZERO,
        }
    }

    /// Does up to `budget` of work; returns true once everything has finished.
    pub fn step(&mut self, budget: Budget) -> bool {
        let slice = match budget {
            Budget::Events(n) => Slice {
                max_events: n,
                until: SimTime::NEVER,
            },
            Budget::Until(t) => Slice {
                max_events: u64::MAX,
                until: t,
            },
        };
        match &mut self.phase {
            Phase::Done => return true,
            Phase::Pilot(pilot) => {
                pilot.advance(slice);
                if pilot.is_finished() {
                    let Phase::Pilot(pilot) = std::mem::replace(&mut self.phase, Phase::Done)
                    else {
                        unreachable!("matched above")
                    };
                    let outcome = pilot.into_outcome();
                    if outcome.beyond_horizon {
                        self.totals.beyond_horizon = Some(outcome.finished_requests);
                        return true;
                    }
                    let trace = outcome.trace;
                    let latencies: Vec<f64> = trace.iter().map(|&(_, l)| l as f64).collect();
                    let cut = warmup::mser5(&latencies);
                    self.warmup_ns = cut.checked_sub(1).map_or(0, |i| trace[i].0);
                    self.phase = Phase::Replicating(self.replication(0));
                }
            }
            Phase::Replicating(replication) => {
                replication.advance(slice);
                if replication.is_finished() {
                    let Phase::Replicating(done) = std::mem::replace(&mut self.phase, Phase::Done)
                    else {
                        unreachable!("matched above")
                    };
                    self.totals.absorb(done.into_outcome());
                    self.current += 1;
                    if self.totals.beyond_horizon.is_none() && self.wants_another_replication() {
                        self.phase = Phase::Replicating(self.replication(self.current));
                    }
                }
            }
        }
        self.is_finished()
    }

    fn wants_another_replication(&self) -> bool {
        if self.current < self.replications {
            return true;
        }
        let Some(target) = self.precision else {
            return false;
        };
        if self.current >= self.max_replications {
            return false;
        }
        if self.current < MIN_PRECISION_REPLICATIONS {
            return true;
        }
        let p99s: Vec<f64> = self.totals.replications.iter().map(|r| r.p99_ms).collect();
        Interval::of_mean(&p99s).is_none_or(|ci| ci.half_width() > target * ci.estimate.abs())
    }

    /// Runs to the end, checking `cancel` between slices.
    pub fn run(mut self, cancel: &AtomicBool) -> Result<ScenarioReport, SimError> {
        while !self.step(Budget::Events(1 << 20)) {
            if cancel.load(Ordering::Relaxed) {
                return Err(SimError::Cancelled);
            }
        }
        self.outcome()
    }

    /// The report once finished, or why there is none: a replication ran
    /// past the horizon of simulated time.
    pub fn outcome(&self) -> Result<ScenarioReport, SimError> {
        match self.totals.beyond_horizon {
            Some(finished) => Err(SimError::BeyondHorizon {
                scenario: self.plan.scenario.clone(),
                finished,
            }),
            None => Ok(self.report()),
        }
    }

    /// The report of the finished replications (all of them once finished).
    pub fn report(&self) -> ScenarioReport {
        let mut report = self.totals.report(&self.plan, self.current);
        report.warmup_s = self.warmup_ns as f64 / 1e9;
        self.warmup_method.clone_into(&mut report.warmup_method);
        self.apply_prediction(&mut report);
        report.objectives = check_objectives(&self.objectives, &report);
        report.slo_pass = report.objectives.iter().all(|o| o.pass);
        report
    }

    fn apply_prediction(&self, report: &mut ScenarioReport) {
        let prediction = &self.prediction;
        report.analytic_ms = prediction.end_to_end_ms;
        report.analytic_method.clone_from(&prediction.method);
        report
            .analytic_assumptions_broken
            .clone_from(&prediction.broken);
        if let (Some(analytic), Some(confidence)) = (prediction.end_to_end_ms, &report.confidence) {
            report.analytic_outside_interval = !confidence.mean_ms.contains(analytic);
        }
        for (service, analytic) in report.services.iter_mut().zip(&prediction.services_ms) {
            service.analytic_ms = *analytic;
        }
    }

    /// Events processed so far, over all replications.
    pub fn events(&self) -> u64 {
        self.totals.events
    }
}

/// Checks each objective against the report. A saturated run, or one with no
/// successful request to measure, fails every objective.
fn check_objectives(objectives: &[Objective], report: &ScenarioReport) -> Vec<ObjectiveResult> {
    objectives
        .iter()
        .map(|objective| {
            let histogram = match &objective.class {
                None => &report.latency,
                Some(name) => report
                    .classes
                    .iter()
                    .find(|c| &c.name == name)
                    .map_or(&report.latency, |c| &c.latency),
            };
            let value_ms = statistic_ms(histogram, objective.latency.statistic);
            let measurable = histogram.count() > 0 && !report.saturated;
            ObjectiveResult {
                objective: objective.latency.to_string(),
                class: objective.class.clone(),
                value_ms,
                pass: measurable && objective.latency.is_met_by(value_ms),
            }
        })
        .collect()
}

fn statistic_ms(histogram: &LatencyHistogram, statistic: LatencyStatistic) -> f64 {
    match statistic {
        LatencyStatistic::Mean => histogram.mean_ns() / 1e6,
        LatencyStatistic::Max => histogram.max_ns() as f64 / 1e6,
        LatencyStatistic::Percentile(_) => {
            histogram.quantile_ns(statistic.quantile().unwrap_or(1.0)) as f64 / 1e6
        }
    }
}

impl Totals {
    fn absorb(&mut self, outcome: Outcome) {
        if outcome.beyond_horizon {
            self.beyond_horizon = Some(outcome.finished_requests);
        }
        self.replications.push(summarise(&outcome));
        self.measured_ns += outcome.measured_ns;
        self.elapsed_ns += outcome.elapsed_ns;
        self.departed += outcome.departed;
        self.events += outcome.events;
        if self.saturation.is_none() {
            self.saturation = outcome.saturation;
        }
        if self.timeseries.is_none() {
            self.timeseries = outcome.timeseries;
        }
        merge_all(&mut self.stations, outcome.stations, |a, b| {
            a.arrivals += b.arrivals;
            a.completions += b.completions;
            a.rejections += b.rejections;
            a.errors += b.errors;
            a.cache_hits += b.cache_hits;
            a.rate_limited += b.rate_limited;
            a.crash_failures += b.crash_failures;
            if a.batch_sizes.len() < b.batch_sizes.len() {
                a.batch_sizes.resize(b.batch_sizes.len(), 0);
            }
            for (x, y) in a.batch_sizes.iter_mut().zip(&b.batch_sizes) {
                *x += y;
            }
            a.waited += b.waited;
            a.started += b.started;
            a.service_ns += b.service_ns;
            a.response.merge(&b.response);
            a.wait.merge(&b.wait);
            a.busy.area += b.busy.area;
            a.queued.area += b.queued.area;
            a.present.area += b.present.area;
            a.serving.area += b.serving.area;
        });
        merge_all(&mut self.links, outcome.links, |a, b| {
            a.attempts += b.attempts;
            a.retries += b.retries;
            a.timeouts += b.timeouts;
            a.failures += b.failures;
            a.breaker_rejections += b.breaker_rejections;
            a.bulkhead_rejections += b.bulkhead_rejections;
            a.budget_denials += b.budget_denials;
            a.breaker_opened += b.breaker_opened;
        });
        merge_all(&mut self.classes, outcome.classes, |a, b| {
            a.succeeded += b.succeeded;
            a.departed += b.departed;
            a.failed += b.failed;
            a.latency.merge(&b.latency);
        });
    }

    fn report(&self, plan: &Plan, replications: u32) -> ScenarioReport {
        let seconds = self.measured_ns as f64 / 1e9;
        let per_second = |count: u64| {
            if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            }
        };
        let mut overall = LatencyHistogram::new();
        let classes: Vec<ClassReport> = plan
            .classes
            .iter()
            .zip(
                self.classes
                    .iter()
                    .chain(std::iter::repeat(&ClassTally::default())),
            )
            .map(|(spec, tally)| {
                overall.merge(&tally.latency);
                ClassReport {
                    name: spec.name.clone(),
                    requests: tally.succeeded,
                    failed: tally.failed,
                    // Departures per second: a request that arrived in the
                    // warm-up and finished after it counts, one that has
                    // not finished by the end does not, as for a real
                    // system's throughput.
                    throughput_rps: per_second(tally.departed),
                    latency_ms: tally.latency.summary(),
                    latency: tally.latency.clone(),
                }
            })
            .collect();
        let services = self.services(plan, seconds);
        let occupancy: Vec<f64> = services.iter().map(|s| s.utilization).collect();
        let requests = classes.iter().map(|c| c.requests).sum();
        let column =
            |f: fn(&ReplicationSummary) -> f64| self.replications.iter().map(f).collect::<Vec<_>>();
        let confidence = match (
            Interval::of_mean(&column(|r| r.mean_ms)),
            Interval::of_mean(&column(|r| r.p99_ms)),
            Interval::of_mean(&column(|r| r.throughput_rps)),
        ) {
            (Some(mean_ms), Some(p99_ms), Some(throughput_rps)) => Some(Confidence {
                level: 0.95,
                method: "independent replications, Student t".to_owned(),
                mean_ms,
                p99_ms,
                throughput_rps,
            }),
            _ => None,
        };
        ScenarioReport {
            scenario: plan.scenario.clone(),
            requests,
            failed: classes.iter().map(|c| c.failed).sum(),
            // A saturated run ends early, and few of the requests that
            // arrived after the warm-up finish before the end: its
            // throughput is that of the whole run, start to end, which in
            // overload is the rate the bottleneck keeps up.
            throughput_rps: if self.saturation.is_some() && self.elapsed_ns > 0 {
                self.departed as f64 / (self.elapsed_ns as f64 / 1e9)
            } else {
                per_second(self.classes.iter().map(|c| c.departed).sum())
            },
            latency_ms: overall.summary(),
            saturated: self.saturation.is_some(),
            saturated_service: self
                .saturation
                .as_ref()
                .map(|s| plan.stations[s.station].name.clone()),
            bottleneck: plan
                .stations
                .get(engine::bottleneck(plan, &occupancy))
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            warmup_s: 0.0,
            warmup_method: String::new(),
            measured_s: seconds,
            replications,
            confidence,
            analytic_ms: None,
            analytic_method: None,
            analytic_assumptions_broken: Vec::new(),
            analytic_outside_interval: false,
            objectives: Vec::new(),
            slo_pass: true,
            classes,
            services,
            links: self.links(plan),
            timeseries: self.timeseries.clone().unwrap_or_default(),
            latency: overall,
            per_replication: self.replications.clone(),
        }
    }
}

impl Totals {
    fn services(&self, plan: &Plan, seconds: f64) -> Vec<ServiceReport> {
        let per_second = |count: u64| {
            if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            }
        };
        let time_average = |area: f64| {
            if self.measured_ns > 0 {
                area / self.measured_ns as f64
            } else {
                0.0
            }
        };
        plan.stations
            .iter()
            .enumerate()
            .zip(
                self.stations
                    .iter()
                    .chain(std::iter::repeat(&StationTally::default())),
            )
            .map(|((index, spec), t)| {
                let means: Vec<f64> = self
                    .replications
                    .iter()
                    .map(|r| r.service_mean_ms[index])
                    .collect();
                ServiceReport {
                    name: spec.name.clone(),
                    kind: format!("{:?}", spec.kind),
                    utilization: if t.serving.area > 0.0 {
                        t.busy.area / t.serving.area
                    } else {
                        0.0
                    },
                    mean_queue_length: time_average(t.queued.area),
                    mean_in_service: time_average(t.present.area),
                    arrivals: t.arrivals,
                    throughput_rps: per_second(t.completions),
                    rejected: t.rejections,
                    errors: t.errors,
                    cache_hits: t.cache_hits,
                    rate_limited: t.rate_limited,
                    crash_failures: t.crash_failures,
                    batching: batches(&t.batch_sizes),
                    waited_fraction: ratio(t.waited, t.started),
                    response_ms: t.response.summary(),
                    wait_ms: t.wait.summary(),
                    service_time_ms: if t.started > 0 {
                        t.service_ns as f64 / t.started as f64 / 1e6
                    } else {
                        0.0
                    },
                    analytic_ms: None,
                    response_mean_interval: Interval::of_mean(&means),
                }
            })
            .collect()
    }
}

impl Totals {
    /// The guarded links' tallies.
    fn links(&self, plan: &Plan) -> Vec<LinkReport> {
        plan.links
            .iter()
            .enumerate()
            .filter(|(_, link)| link.guarded)
            .map(|(i, link)| {
                self.links.get(i).cloned().unwrap_or_else(|| LinkReport {
                    link: link.name.clone(),
                    ..LinkReport::default()
                })
            })
            .collect()
    }
}

/// The batch report of a tally of batches by size, if the service batches.
fn batches(by_size: &[u64]) -> Option<BatchReport> {
    let by_size = by_size.get(1..)?;
    let batches: u64 = by_size.iter().sum();
    let requests: u64 = by_size.iter().zip(1..).map(|(n, size)| n * size).sum();
    Some(BatchReport {
        batches,
        mean_size: ratio(requests, batches),
        by_size: by_size.to_vec(),
    })
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// The headline figures of one replication.
fn summarise(outcome: &Outcome) -> ReplicationSummary {
    let mut latency = LatencyHistogram::new();
    for class in &outcome.classes {
        latency.merge(&class.latency);
    }
    let seconds = outcome.measured_ns as f64 / 1e9;
    ReplicationSummary {
        mean_ms: latency.mean_ns() / 1e6,
        p99_ms: latency.quantile_ns(0.99) as f64 / 1e6,
        throughput_rps: if seconds > 0.0 {
            outcome.classes.iter().map(|c| c.departed).sum::<u64>() as f64 / seconds
        } else {
            0.0
        },
        service_mean_ms: outcome
            .stations
            .iter()
            .map(|s| s.response.mean_ns() / 1e6)
            .collect(),
    }
}

fn merge_all<T: Default>(into: &mut Vec<T>, from: Vec<T>, merge: impl Fn(&mut T, &T)) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (a, b) in into.iter_mut().zip(&from) {
        merge(a, b);
    }
}

/// The indices of every scenario, or of the one called `only`.
pub fn scenario_indices(project: &Project, only: Option<&str>) -> Result<Vec<usize>, SimError> {
    match only {
        None => Ok((0..project.scenarios.len()).collect()),
        Some(name) => project
            .scenario_index(name)
            .map(|i| vec![i])
            .ok_or_else(|| SimError::UnknownScenario {
                name: name.to_owned(),
                available: project.scenarios.iter().map(|s| s.name.clone()).collect(),
            }),
    }
}

/// Simulates scenario `scenario` of `project` to the end.
pub fn simulate_scenario(project: &Project, scenario: usize) -> Result<ScenarioReport, SimError> {
    Simulation::new(project, scenario)?.run(&AtomicBool::new(false))
}

/// Simulates every scenario of `project` (or just `only`, by name), and
/// compares each with the first.
pub fn simulate(project: &Project, only: Option<&str>) -> Result<SimulationReport, SimError> {
    simulate_with_progress(project, only, &mut |_| {})
}

/// [`simulate`], telling `progress` the finished fraction (0 to 1) of the
/// whole run between slices of work.
pub fn simulate_with_progress(
    project: &Project,
    only: Option<&str>,
    progress: &mut dyn FnMut(f64),
) -> Result<SimulationReport, SimError> {
    let indices = scenario_indices(project, only)?;
    let problems = validate(project);
    if !problems.is_empty() {
        return Err(SimError::Invalid(problems));
    }
    let count = indices.len() as f64;
    let mut scenarios = Vec::with_capacity(indices.len());
    for (done, index) in indices.into_iter().enumerate() {
        let mut simulation = Simulation::new(project, index)?;
        while !simulation.step(Budget::Events(1 << 18)) {
            progress((done as f64 + simulation.progress()) / count);
        }
        scenarios.push(simulation.outcome()?);
    }
    progress(1.0);
    Ok(assemble(project, scenarios))
}

/// The report of `project` from its scenarios' reports, with each scenario
/// compared against the first.
pub fn assemble(project: &Project, scenarios: Vec<ScenarioReport>) -> SimulationReport {
    let comparisons = compare(&scenarios, project.run.common_random_numbers);
    SimulationReport {
        project: project.name.clone(),
        seed: project.run.seed,
        scenarios,
        comparisons,
    }
}

/// Paired differences B − A of each scenario against the first, over the
/// replications both ran (replication r of each used the same streams when
/// common random numbers are on).
pub fn compare(scenarios: &[ScenarioReport], common_random_numbers: bool) -> Vec<Comparison> {
    let Some((baseline, rest)) = scenarios.split_first() else {
        return Vec::new();
    };
    rest.iter()
        .filter_map(|other| {
            let pairs = baseline.per_replication.iter().zip(&other.per_replication);
            let mean: Vec<f64> = pairs.clone().map(|(a, b)| b.mean_ms - a.mean_ms).collect();
            let p99: Vec<f64> = pairs.map(|(a, b)| b.p99_ms - a.p99_ms).collect();
            Some(Comparison {
                baseline: baseline.scenario.clone(),
                scenario: other.scenario.clone(),
                common_random_numbers,
                mean_ms: Interval::of_mean(&mean)?,
                p99_ms: Interval::of_mean(&p99)?,
            })
        })
        .collect()
}
