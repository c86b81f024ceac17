//! The simulator: a deterministic discrete-event simulation of a scenario.
//!
//! It is a pure library. It reads no clock, does no I/O and starts no
//! thread; a seed fixes every result. The GUI drives it in slices
//! ([`Simulation::step`]) and may drop it at any time to cancel; the CLI
//! runs it to the end ([`simulate`]).
//!
//! See [`engine`](self) docs for the ordering contract and a call's life.

mod engine;
mod plan;
mod rng;
mod sample;
mod time;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::{Problem, Project, StopCondition, validate};
use crate::stats::{
    ClassReport, LatencyHistogram, ScenarioReport, ServiceReport, SimulationReport,
};

pub use engine::Saturation;
pub use rng::Rng;
pub use sample::Sampler;
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
    /// The run was cancelled before it finished.
    #[error("the simulation was cancelled")]
    Cancelled,
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

/// A running simulation of one scenario over all its replications.
pub struct Simulation {
    plan: Arc<Plan>,
    seed: u64,
    warmup_ns: u64,
    stop: Stop,
    replications: u32,
    current: u32,
    running: Option<Replication>,
    totals: Totals,
}

#[derive(Default)]
struct Totals {
    measured_ns: u64,
    stations: Vec<StationTally>,
    classes: Vec<ClassTally>,
    saturation: Option<Saturation>,
    events: u64,
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
        let warmup_ns = run.warmup.as_nanos();
        let stop = match run.stop {
            StopCondition::Duration(d) => Stop::At(SimTime(warmup_ns.saturating_add(d.as_nanos()))),
            StopCondition::Requests(n) => Stop::Requests(n),
        };
        let mut simulation = Self {
            plan,
            seed: run.seed,
            warmup_ns,
            stop,
            replications: run.replications,
            current: 0,
            running: None,
            totals: Totals::default(),
        };
        simulation.start_replication();
        Ok(simulation)
    }

    fn start_replication(&mut self) {
        self.running = Some(Replication::new(
            Arc::clone(&self.plan),
            self.seed,
            self.current,
            self.warmup_ns,
            self.stop,
        ));
    }

    /// The scenario's name.
    pub fn scenario(&self) -> &str {
        &self.plan.scenario
    }

    /// Whether every replication has finished.
    pub fn is_finished(&self) -> bool {
        self.running.is_none()
    }

    /// Progress over all replications, from 0 to 1.
    pub fn progress(&self) -> f64 {
        let within = self.running.as_ref().map_or(0.0, Replication::progress);
        (f64::from(self.current) + within) / f64::from(self.replications.max(1))
    }

    /// Simulated time in the current replication.
    pub fn now(&self) -> SimTime {
        self.running
            .as_ref()
            .map_or(SimTime::ZERO, Replication::now)
    }

    /// Does up to `budget` of work; returns true once everything has finished.
    pub fn step(&mut self, budget: Budget) -> bool {
        let Some(replication) = self.running.as_mut() else {
            return true;
        };
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
        replication.advance(slice);
        if replication.is_finished() {
            let Some(done) = self.running.take() else {
                return true;
            };
            self.totals.absorb(done.into_outcome());
            self.current += 1;
            if self.current < self.replications {
                self.start_replication();
            }
        }
        self.running.is_none()
    }

    /// Runs to the end, checking `cancel` between slices.
    pub fn run(mut self, cancel: &AtomicBool) -> Result<ScenarioReport, SimError> {
        while !self.step(Budget::Events(1 << 20)) {
            if cancel.load(Ordering::Relaxed) {
                return Err(SimError::Cancelled);
            }
        }
        Ok(self.report())
    }

    /// The report of the finished replications (all of them once finished).
    pub fn report(&self) -> ScenarioReport {
        self.totals.report(&self.plan, self.current)
    }

    /// Events processed so far, over all replications.
    pub fn events(&self) -> u64 {
        self.totals.events
    }
}

impl Totals {
    fn absorb(&mut self, outcome: Outcome) {
        self.measured_ns += outcome.measured_ns;
        self.events += outcome.events;
        if self.saturation.is_none() {
            self.saturation = outcome.saturation;
        }
        merge_all(&mut self.stations, outcome.stations, |a, b| {
            a.arrivals += b.arrivals;
            a.completions += b.completions;
            a.rejections += b.rejections;
            a.waited += b.waited;
            a.started += b.started;
            a.service_ns += b.service_ns;
            a.response.merge(&b.response);
            a.wait.merge(&b.wait);
            a.busy.area += b.busy.area;
            a.queued.area += b.queued.area;
            a.present.area += b.present.area;
        });
        merge_all(&mut self.classes, outcome.classes, |a, b| {
            a.succeeded += b.succeeded;
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
        let time_average = |area: f64| {
            if self.measured_ns > 0 {
                area / self.measured_ns as f64
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
                    throughput_rps: per_second(tally.succeeded),
                    latency_ms: tally.latency.summary(),
                    latency: tally.latency.clone(),
                }
            })
            .collect();
        let services = plan
            .stations
            .iter()
            .zip(
                self.stations
                    .iter()
                    .chain(std::iter::repeat(&StationTally::default())),
            )
            .map(|(spec, t)| {
                let workers = f64::from(spec.replicas) * f64::from(spec.workers);
                ServiceReport {
                    name: spec.name.clone(),
                    kind: format!("{:?}", spec.kind),
                    utilization: time_average(t.busy.area) / workers,
                    mean_queue_length: time_average(t.queued.area),
                    mean_in_service: time_average(t.present.area),
                    arrivals: t.arrivals,
                    throughput_rps: per_second(t.completions),
                    rejected: t.rejections,
                    waited_fraction: if t.started > 0 {
                        t.waited as f64 / t.started as f64
                    } else {
                        0.0
                    },
                    response_ms: t.response.summary(),
                    wait_ms: t.wait.summary(),
                    service_time_ms: if t.started > 0 {
                        t.service_ns as f64 / t.started as f64 / 1e6
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        let requests = classes.iter().map(|c| c.requests).sum();
        ScenarioReport {
            scenario: plan.scenario.clone(),
            requests,
            failed: classes.iter().map(|c| c.failed).sum(),
            throughput_rps: per_second(requests),
            latency_ms: overall.summary(),
            saturated: self.saturation.is_some(),
            saturated_service: self
                .saturation
                .as_ref()
                .map(|s| plan.stations[s.station].name.clone()),
            measured_s: seconds,
            replications,
            classes,
            services,
            latency: overall,
        }
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

/// Simulates scenario `scenario` of `project` to the end.
pub fn simulate_scenario(project: &Project, scenario: usize) -> Result<ScenarioReport, SimError> {
    Simulation::new(project, scenario)?.run(&AtomicBool::new(false))
}

/// Simulates every scenario of `project` (or just `only`, by name).
pub fn simulate(project: &Project, only: Option<&str>) -> Result<SimulationReport, SimError> {
    let indices: Vec<usize> = match only {
        None => (0..project.scenarios.len()).collect(),
        Some(name) => {
            vec![
                project
                    .scenario_index(name)
                    .ok_or_else(|| SimError::UnknownScenario {
                        name: name.to_owned(),
                        available: project.scenarios.iter().map(|s| s.name.clone()).collect(),
                    })?,
            ]
        }
    };
    let problems = validate(project);
    if !problems.is_empty() {
        return Err(SimError::Invalid(problems));
    }
    let scenarios = indices
        .into_iter()
        .map(|i| simulate_scenario(project, i))
        .collect::<Result<_, _>>()?;
    Ok(SimulationReport {
        project: project.name.clone(),
        seed: project.run.seed,
        scenarios,
    })
}
