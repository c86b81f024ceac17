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
pub mod batch;
mod comparison;
mod engine;
pub(crate) mod guard;
mod ids;
mod objectives;
pub(crate) mod plan;
mod rng;
mod sample;
mod series;
mod sweep;
mod time;
mod totals;
pub mod warmup;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{Objective, Problem, Project, StopCondition, Validated};
use crate::stats::{Interval, ScenarioReport, SimulationReport, WarmupMethod};

pub use analytic::Prediction;
pub use arrivals::ArrivalClock;
pub use comparison::compare;
pub use engine::Saturation;
pub use plan::LlmPlan;
pub use rng::Rng;
pub use sample::Sampler;
/// FNV-1a of `text`: a hash whose value is fixed forever (seeds from names).
pub fn rng_hash(text: &str) -> u64 {
    rng::fnv1a(text)
}

pub use sweep::{
    SweepAxis, SweepProgress, SweepSpec, goodput, merge as merge_sweeps, sweep, sweep_with_progress,
};
pub use time::SimTime;

use engine::{Replication, Slice, Stop};
use objectives::check_objectives;
use plan::Plan;
use totals::Totals;

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
    warmup_method: WarmupMethod,
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

impl Simulation {
    /// Prepares scenario `scenario` of `project`, validating the project first.
    pub fn new(project: &Project, scenario: usize) -> Result<Self, SimError> {
        let project = Validated::new(project).map_err(SimError::Invalid)?;
        Self::of(project, scenario)
    }

    /// Prepares scenario `scenario` of a validated project.
    pub fn of(project: Validated<'_>, scenario: usize) -> Result<Self, SimError> {
        if scenario >= project.scenarios.len() {
            return Err(SimError::UnknownScenario {
                name: format!("#{scenario}"),
                available: project.scenarios.iter().map(|s| s.name.clone()).collect(),
            });
        }
        let plan = Arc::new(Plan::new(project, scenario));
        let project = project.project();
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
            warmup_method: WarmupMethod::Configured,
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
            simulation.warmup_method = WarmupMethod::Mser5;
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
        let start = if self.warmup_method == WarmupMethod::Mser5 {
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
        report.warmup_method = self.warmup_method;
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
    let valid = Validated::new(project).map_err(SimError::Invalid)?;
    let count = indices.len() as f64;
    let mut scenarios = Vec::with_capacity(indices.len());
    for (done, index) in indices.into_iter().enumerate() {
        let mut simulation = Simulation::of(valid, index)?;
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
