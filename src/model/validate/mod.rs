//! Semantic checks of a parsed project. Every problem is reported at once,
//! each naming its scenario, service or link, and field.

use super::distribution::Distribution;
use super::error::Problem;
use super::place::Place;
use super::project::{FORMAT_VERSION, Project};
use super::time::TimeSpan;

use std::collections::BTreeSet;

pub mod limits;
mod links;
mod llm;
mod run;
mod scenario;
mod workload;

pub use scenario::endpoint_problems;

/// Every problem with the project, in file order. Empty means valid.
pub fn validate(project: &Project) -> Vec<Problem> {
    let mut problems = Problems::default();
    if project.format != FORMAT_VERSION {
        problems.add(
            Place::project(["format"]),
            format!(
                "unknown format version {}; this archbench reads version {FORMAT_VERSION}",
                project.format
            ),
        );
    }
    workload::workload(&mut problems, &project.workload);
    run::run(&mut problems, project);
    if project.scenarios.is_empty() {
        problems.add(
            Place::project(["scenarios"]),
            "a project needs at least one scenario".into(),
        );
    }
    if project.scenarios.len() > limits::SCENARIOS {
        problems.add(
            Place::project(["scenarios"]),
            format!("at most {} scenarios are allowed", limits::SCENARIOS),
        );
    }
    let mut names = BTreeSet::new();
    for scenario in &project.scenarios {
        let place = Place::scenario(&scenario.name);
        if scenario.name.trim().is_empty() {
            problems.add(place.field("name"), "a scenario needs a name".into());
        } else if !names.insert(scenario.name.as_str()) {
            problems.add(place.field("name"), "two scenarios have this name".into());
        }
        scenario::scenario(&mut problems, &place, scenario, &project.workload);
    }
    problems.0
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, place: Place, message: String) {
        self.0.push(Problem { place, message });
    }

    fn distribution(&mut self, place: Place, distribution: &Distribution) {
        if let Err(message) = distribution.check() {
            self.add(place, message);
        } else if let Distribution::Empirical(values) = distribution
            && values.len() > limits::EMPIRICAL_VALUES
        {
            self.add(
                place,
                format!(
                    "at most {} empirical values are allowed",
                    limits::EMPIRICAL_VALUES
                ),
            );
        }
    }

    fn rate(&mut self, place: Place, rate: f64) {
        if !rate.is_finite() || rate < 0.0 {
            self.add(
                place,
                format!("a rate must be a finite number ≥ 0, got {rate}"),
            );
        } else if rate > limits::RATE_RPS {
            self.add(
                place,
                format!("a rate above {:e} rps is not supported", limits::RATE_RPS),
            );
        }
    }

    fn positive(&mut self, place: Place, span: TimeSpan, what: &str) {
        if span == TimeSpan::ZERO {
            self.add(place, format!("{what} must be longer than zero"));
        }
    }

    fn count(&mut self, place: Place, value: u32, min: u32, max: u32, what: &str) {
        if value < min || value > max {
            self.add(
                place,
                format!("{what} must be between {min} and {max}, got {value}"),
            );
        }
    }
}

/// A project that passed [`validate`]: the only kind the simulator accepts,
/// so it neither runs an unchecked project nor checks one twice.
#[derive(Clone, Copy, Debug)]
pub struct Validated<'a>(&'a Project);

impl<'a> Validated<'a> {
    /// Validates `project`; every problem when it is not valid.
    pub fn new(project: &'a Project) -> Result<Self, Vec<Problem>> {
        let problems = validate(project);
        if problems.is_empty() {
            Ok(Self(project))
        } else {
            Err(problems)
        }
    }

    /// The project.
    pub fn project(self) -> &'a Project {
        self.0
    }
}

impl std::ops::Deref for Validated<'_> {
    type Target = Project;

    fn deref(&self) -> &Project {
        self.0
    }
}
