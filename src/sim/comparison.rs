//! Scenarios compared with the first: paired differences over replications.

use crate::stats::{Comparison, Interval, ScenarioReport};

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
