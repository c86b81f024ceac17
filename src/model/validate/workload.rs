//! The workload: arrivals, the rate profile and the request classes.

use std::collections::BTreeSet;

use crate::model::place::Place;
use crate::model::workload::{ArrivalProcess, Arrivals, RateChange, Workload};

use super::{Problems, limits};

pub(super) fn workload(problems: &mut Problems, workload: &Workload) {
    match &workload.arrivals {
        Arrivals::Open {
            rate_rps,
            profile,
            process,
        } => {
            problems.rate(
                Place::project(["workload", "arrivals", "rate_rps"]),
                *rate_rps,
            );
            if let ArrivalProcess::Gamma { cv } = process
                && !(*cv >= 0.05 && *cv <= limits::ARRIVAL_CV)
            {
                problems.add(
                    Place::project(["workload", "arrivals", "process", "cv"]),
                    format!(
                        "the gaps' coefficient of variation must be between 0.05 and {}, got {cv}",
                        limits::ARRIVAL_CV
                    ),
                );
            }
            let mut last_end = 0.0;
            for (i, change) in profile.iter().enumerate() {
                let place = Place::project(["workload", "arrivals"]).field(format!("profile[{i}]"));
                let (start, end, rate) = match change {
                    RateChange::Step { at, rate_rps } => (at, at, rate_rps),
                    RateChange::Ramp { from, to, rate_rps } => (from, to, rate_rps),
                };
                problems.rate(place.field("rate_rps"), *rate);
                if start > end {
                    problems.add(
                        place.clone(),
                        format!("the ramp ends ({end}) before it starts ({start})"),
                    );
                }
                if start.as_secs_f64() < last_end {
                    problems.add(
                        place,
                        "profile changes must be in time order and not overlap".into(),
                    );
                }
                last_end = end.as_secs_f64();
            }
        }
        Arrivals::Closed { users, think_time } => {
            problems.count(
                Place::project(["workload", "arrivals", "users"]),
                *users,
                1,
                limits::USERS,
                "users",
            );
            problems.distribution(
                Place::project(["workload", "arrivals", "think_time"]),
                think_time,
            );
        }
    }
    if workload.classes.is_empty() {
        problems.add(
            Place::project(["workload", "classes"]),
            "a workload needs at least one request class".into(),
        );
    }
    if workload.classes.len() > limits::CLASSES {
        problems.add(
            Place::project(["workload", "classes"]),
            format!("at most {} classes are allowed", limits::CLASSES),
        );
    }
    let mut names = BTreeSet::new();
    for class in &workload.classes {
        let place = Place::class(&class.name);
        if class.name.trim().is_empty() {
            problems.add(place.field("name"), "a request class needs a name".into());
        } else if !names.insert(class.name.as_str()) {
            problems.add(
                place.field("name"),
                "two request classes have this name".into(),
            );
        }
        if !class.weight.is_finite() || class.weight < 0.0 {
            problems.add(
                place.field("weight"),
                format!("a weight must be a finite number ≥ 0, got {}", class.weight),
            );
        }
        if let Some(tokens) = &class.tokens {
            let place = place.field("tokens");
            problems.distribution(place.field("prompt"), &tokens.prompt.0);
            problems.distribution(place.field("output"), &tokens.output.0);
            for (field, count) in [("prompt", &tokens.prompt), ("output", &tokens.output)] {
                if count.mean() > 1e7 {
                    problems.add(
                        place.field(field),
                        format!("at most 10,000,000 tokens on average, got {}", count.mean()),
                    );
                }
            }
        }
    }
    if !workload.classes.is_empty() && workload.classes.iter().all(|c| c.weight <= 0.0) {
        problems.add(
            Place::project(["workload", "classes"]),
            "at least one class needs a weight above 0".into(),
        );
    }
}
