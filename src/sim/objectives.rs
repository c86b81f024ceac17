//! Latency objectives checked against a report.

use crate::model::{LatencyStatistic, Objective};
use crate::stats::{LatencyHistogram, ObjectiveResult, ScenarioReport};

/// Checks each objective against the report. A saturated run, or one with no
/// successful request to measure, fails every objective.
pub(super) fn check_objectives(
    objectives: &[Objective],
    report: &ScenarioReport,
) -> Vec<ObjectiveResult> {
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
