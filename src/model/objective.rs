//! Latency objectives (SLOs): "p99 <= 200ms", overall or for one request class.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::time::TimeSpan;

/// One latency objective of a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// The request class it applies to; none means all requests together.
    #[serde(default)]
    pub class: Option<String>,
    /// What must hold, like `"p99 <= 200ms"`.
    pub latency: LatencyTarget,
}

/// Which statistic of the latency distribution an objective bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyStatistic {
    /// The mean.
    Mean,
    /// A percentile, in thousandths: 500 is the median, 990 the p99, 999 the p99.9.
    Percentile(u16),
    /// The largest value.
    Max,
}

impl LatencyStatistic {
    /// The quantile in [0, 1] for a percentile, or none.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Self::Percentile(thousandths) => Some(f64::from(thousandths) / 1000.0),
            Self::Mean | Self::Max => None,
        }
    }
}

impl fmt::Display for LatencyStatistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mean => f.write_str("mean"),
            Self::Max => f.write_str("max"),
            Self::Percentile(t) if t % 10 == 0 => write!(f, "p{}", t / 10),
            Self::Percentile(t) => write!(f, "p{t}"),
        }
    }
}

/// Which latency an objective bounds: the request's end to end, or a token
/// timing at the LLM servers it reaches (docs/llm.md#metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LatencyMeasure {
    /// From the request's arrival to its answer.
    #[default]
    EndToEnd,
    /// Time to first token.
    Ttft,
    /// Time per output token, per sequence.
    Tpot,
    /// Every gap between two tokens.
    Itl,
}

impl LatencyMeasure {
    /// Its prefix in an objective (`ttft p99 <= 1s`); empty end to end.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::EndToEnd => "",
            Self::Ttft => "ttft",
            Self::Tpot => "tpot",
            Self::Itl => "itl",
        }
    }
}

/// A bound on a latency statistic: `"p99 <= 200ms"`, or on a token timing
/// of LLM serving: `"ttft p99 <= 1s"`, `"tpot mean <= 50ms"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyTarget {
    /// The latency bounded.
    pub measure: LatencyMeasure,
    /// The statistic bounded.
    pub statistic: LatencyStatistic,
    /// The largest acceptable value.
    pub limit: TimeSpan,
}

impl LatencyTarget {
    /// Whether `value_ms` meets the target.
    pub fn is_met_by(&self, value_ms: f64) -> bool {
        value_ms <= self.limit.as_millis_f64()
    }
}

impl FromStr for LatencyTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "{text:?} is not a latency objective; write a statistic, <= and a time, like \"p99 <= 200ms\" (statistics: mean, p50, p90, p95, p99, p999, max), with ttft, tpot or itl before it for LLM serving (\"ttft p99 <= 1s\")"
            )
        };
        let (statistic, limit) = text
            .split_once("<=")
            .or_else(|| text.split_once('<'))
            .ok_or_else(usage)?;
        let statistic = statistic.trim();
        let (measure, statistic) = match statistic.split_once(char::is_whitespace) {
            Some(("ttft", rest)) => (LatencyMeasure::Ttft, rest.trim()),
            Some(("tpot", rest)) => (LatencyMeasure::Tpot, rest.trim()),
            Some(("itl", rest)) => (LatencyMeasure::Itl, rest.trim()),
            _ => (LatencyMeasure::EndToEnd, statistic),
        };
        let statistic = match statistic {
            "mean" => LatencyStatistic::Mean,
            "max" => LatencyStatistic::Max,
            "p50" | "median" => LatencyStatistic::Percentile(500),
            "p90" => LatencyStatistic::Percentile(900),
            "p95" => LatencyStatistic::Percentile(950),
            "p99" => LatencyStatistic::Percentile(990),
            "p999" | "p99.9" => LatencyStatistic::Percentile(999),
            _ => return Err(usage()),
        };
        let limit = limit
            .trim()
            .parse::<TimeSpan>()
            .map_err(|e| format!("{text:?}: {e}"))?;
        Ok(Self {
            measure,
            statistic,
            limit,
        })
    }
}

impl fmt::Display for LatencyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.measure {
            LatencyMeasure::EndToEnd => write!(f, "{} <= {}", self.statistic, self.limit),
            measure => write!(
                f,
                "{} {} <= {}",
                measure.prefix(),
                self.statistic,
                self.limit
            ),
        }
    }
}

serde_as_text!(LatencyTarget);

#[cfg(test)]
mod tests {
    use super::{LatencyMeasure, LatencyStatistic, LatencyTarget};

    #[test]
    fn targets_parse_and_print() {
        for (text, printed) in [
            ("p99 <= 200ms", "p99 <= 200ms"),
            ("p99.9<=1s", "p999 <= 1s"),
            ("mean < 20ms", "mean <= 20ms"),
            ("median <= 5ms", "p50 <= 5ms"),
            ("ttft p99 <= 1s", "ttft p99 <= 1s"),
            ("tpot  mean < 50ms", "tpot mean <= 50ms"),
            ("itl max<=200ms", "itl max <= 200ms"),
        ] {
            let target: LatencyTarget = text.parse().unwrap();
            assert_eq!(target.to_string(), printed);
        }
        let t: LatencyTarget = "p99 <= 200ms".parse().unwrap();
        assert_eq!(t.statistic, LatencyStatistic::Percentile(990));
        assert_eq!(t.measure, LatencyMeasure::EndToEnd);
        assert!(t.is_met_by(200.0) && !t.is_met_by(200.001));
        let t: LatencyTarget = "ttft p99 <= 1s".parse().unwrap();
        assert_eq!(t.measure, LatencyMeasure::Ttft);
        for bad in [
            "p99 200ms",
            "p42 <= 1ms",
            "p99 <= fast",
            "ttfb p99 <= 1s",
            "ttft <= 1s",
        ] {
            assert!(bad.parse::<LatencyTarget>().is_err(), "{bad}");
        }
    }
}
