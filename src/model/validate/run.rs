//! Run settings and objectives, and the bound on a replication's work.

use crate::model::place::Place;
use crate::model::project::{Project, StopCondition};

use super::{Problems, limits};

/// Refuses a run whose one replication would simulate more requests than
/// [`limits::REQUESTS_PER_REPLICATION`] (open workloads, where the rate
/// says how many arrive): a year of warm-up at 1,450 requests/s is 46
/// billion, hours of work before the first measurement.
fn work(problems: &mut Problems, project: &Project) {
    let run = &project.run;
    let warmup = run.warmup.map_or(0.0, crate::model::TimeSpan::as_secs_f64);
    let arriving = |seconds: f64| {
        project
            .workload
            .mean_rate_rps(0.0, seconds)
            .map(|rate| rate * seconds)
            .filter(|n| n.is_finite())
    };
    let (place, total, what) = match run.stop {
        StopCondition::Duration(span) => {
            let seconds = warmup + span.as_secs_f64();
            let Some(total) = arriving(seconds) else {
                return;
            };
            (
                Place::project(["run", "stop"]),
                total,
                format!(
                    "{} of warm-up and measurement",
                    crate::model::human_secs(seconds)
                ),
            )
        }
        StopCondition::Requests(n) => {
            let before = arriving(warmup).unwrap_or(0.0);
            if (n as f64) > limits::REQUESTS_PER_REPLICATION {
                (
                    Place::project(["run", "stop"]),
                    n as f64,
                    format!("{n} requests"),
                )
            } else {
                (
                    Place::project(["run", "warmup"]),
                    before + n as f64,
                    format!("{} of warm-up", crate::model::human_secs(warmup)),
                )
            }
        }
    };
    if total > limits::REQUESTS_PER_REPLICATION {
        problems.add(
            place,
            format!(
                "{what} would simulate about {} requests in each replication; at most {} are \
                 allowed (ask for more replications instead)",
                in_words(total),
                in_words(limits::REQUESTS_PER_REPLICATION)
            ),
        );
    }
}

/// A large count as a person says it: "46.3 billion", "100 million".
fn in_words(n: f64) -> String {
    let (scaled, word) = if n >= 1e9 {
        (n / 1e9, "billion")
    } else {
        (n / 1e6, "million")
    };
    let text = format!("{scaled:.1}");
    format!("{} {word}", text.strip_suffix(".0").unwrap_or(&text))
}

pub(super) fn run(problems: &mut Problems, project: &Project) {
    let run = &project.run;
    work(problems, project);
    problems.positive(
        Place::project(["run", "interval"]),
        run.interval,
        "the interval",
    );
    match run.stop {
        StopCondition::Duration(span) if span.as_nanos() == 0 => {
            problems.add(
                Place::project(["run", "stop"]),
                "the duration must be above zero".into(),
            );
        }
        StopCondition::Requests(0) => {
            problems.add(
                Place::project(["run", "stop"]),
                "the request count must be at least 1".into(),
            );
        }
        _ => {}
    }
    problems.count(
        Place::project(["run", "replications"]),
        run.replications,
        1,
        limits::REPLICATIONS,
        "replications",
    );
    if let Some(precision) = run.precision
        && !(precision > 0.0 && precision < 1.0)
    {
        problems.add(
            Place::project(["run", "precision"]),
            format!("the precision is a fraction between 0 and 1 (0.02 for 2%), got {precision}"),
        );
    }
    problems.count(
        Place::project(["run", "max_replications"]),
        run.max_replications,
        // Below `replications` it is simply not reached: the run makes
        // `replications` whatever the precision rule's cap.
        1,
        limits::REPLICATIONS,
        "max_replications",
    );
    for (i, objective) in project.objectives.iter().enumerate() {
        if let Some(class) = &objective.class
            && !project.workload.classes.iter().any(|c| &c.name == class)
        {
            problems.add(
                Place::project([])
                    .field(format!("objectives[{i}]"))
                    .field("class"),
                format!("there is no request class {class:?}"),
            );
        }
    }
    let share = project.goodput_share;
    if !(share > 0.0 && share <= 1.0) {
        problems.add(
            Place::project(["goodput_share"]),
            format!("a share of sequences, above 0 and at most 1, like 0.9; got {share}"),
        );
    }
}
