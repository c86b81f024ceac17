//! Latency objectives checked against a report.

use crate::model::{LatencyMeasure, LatencyStatistic, Objective};
use crate::stats::{ClassReport, LatencyHistogram, ObjectiveResult, ScenarioReport};

/// Checks each objective against the report. A saturated run, or one with no
/// successful request to measure, fails every objective.
pub(super) fn check_objectives(
    objectives: &[Objective],
    report: &ScenarioReport,
) -> Vec<ObjectiveResult> {
    objectives
        .iter()
        .map(|objective| {
            let classes: Vec<&ClassReport> = report
                .classes
                .iter()
                .filter(|c| objective.class.as_ref().is_none_or(|name| &c.name == name))
                .collect();
            let histogram = &measured(&classes, objective.latency.measure);
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

/// The histogram of `measure` over `classes`, merged (empty for token
/// timings of classes that reach no LLM server).
fn measured(classes: &[&ClassReport], measure: LatencyMeasure) -> LatencyHistogram {
    let pick = |c: &ClassReport| -> Option<LatencyHistogram> {
        let llm = c.llm.as_ref();
        match measure {
            LatencyMeasure::EndToEnd => Some(c.latency.clone()),
            LatencyMeasure::Ttft => llm.map(|l| l.ttft.clone()),
            LatencyMeasure::Tpot => llm.map(|l| l.tpot.clone()),
            LatencyMeasure::Itl => llm.map(|l| l.itl.clone()),
        }
    };
    let mut merged = LatencyHistogram::new();
    for class in classes {
        if let Some(h) = pick(class) {
            merged.merge(&h);
        }
    }
    merged
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
