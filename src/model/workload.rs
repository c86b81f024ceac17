//! The workload: how requests arrive and what kinds of request there are.

use serde::{Deserialize, Serialize};

use super::distribution::Distribution;
use super::time::TimeSpan;

/// The load offered to every scenario of a project, so they compare fairly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// How requests arrive.
    pub arrivals: Arrivals,
    /// The kinds of request and their share of the traffic.
    pub classes: Vec<RequestClass>,
}

/// How requests arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Arrivals {
    /// Requests arrive at a rate whatever the system does (an open system).
    Open {
        /// Poisson or evenly spaced.
        process: ArrivalProcess,
        /// Total requests per second over all classes, before any profile change.
        rate_rps: f64,
        /// Changes of rate over time, in time order.
        #[serde(default)]
        profile: Vec<RateChange>,
    },
    /// A fixed population of users, each waiting for its answer and then
    /// thinking before the next request (a closed system).
    Closed {
        /// How many users.
        users: u32,
        /// The pause between an answer and the user's next request.
        think_time: Distribution,
    },
}

/// The spacing of open arrivals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ArrivalProcess {
    /// Exponential gaps: independent users.
    #[default]
    Poisson,
    /// Equal gaps of 1/rate.
    Constant,
    /// Gamma-distributed gaps with this coefficient of variation (their
    /// standard deviation over their mean): above 1 burstier than
    /// Poisson (requests bunch up), below 1 smoother; 1 is Poisson.
    Gamma {
        /// The gaps' coefficient of variation, above 0.
        cv: f64,
    },
}

impl ArrivalProcess {
    /// The squared coefficient of variation of the gaps between arrivals.
    pub fn gap_scv(self) -> f64 {
        match self {
            Self::Poisson => 1.0,
            Self::Constant => 0.0,
            Self::Gamma { cv } => cv * cv,
        }
    }
}

/// A change in the open arrival rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RateChange {
    /// From `at` on, the rate is `rate_rps`.
    Step {
        /// When the rate changes, from the start of the run.
        at: TimeSpan,
        /// The new total rate.
        rate_rps: f64,
    },
    /// Between `from` and `to` the rate moves in a straight line to `rate_rps`.
    Ramp {
        /// When the ramp starts.
        from: TimeSpan,
        /// When it ends.
        to: TimeSpan,
        /// The rate reached at `to`.
        rate_rps: f64,
    },
}

/// A kind of request, entering the system at its own service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestClass {
    /// Unique within the workload.
    pub name: String,
    /// Relative share of the traffic.
    #[serde(default = "unit_weight")]
    pub weight: f64,
    /// The service it enters at; every scenario must have one of this name.
    pub entry: String,
    /// Its requests' prompt and output lengths in tokens, for the LLM
    /// servers they reach (required when they reach one).
    #[serde(default)]
    pub tokens: Option<super::TokenLengths>,
}

fn unit_weight() -> f64 {
    1.0
}

/// One straight piece of a rate profile: the rate moves linearly from
/// `start_rps` at `start` to `end_rps` at `end`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateSegment {
    /// Start of the piece, in seconds from the start of the run.
    pub start: f64,
    /// End of the piece; infinite for the last.
    pub end: f64,
    /// Rate at `start`.
    pub start_rps: f64,
    /// Rate at `end` (equal to `start_rps` for a flat piece).
    pub end_rps: f64,
}

impl RateSegment {
    /// Whether the rate is the same all along the piece.
    #[expect(
        clippy::float_cmp,
        reason = "flat pieces are built with one value for both ends"
    )]
    pub fn is_flat(&self) -> bool {
        self.start_rps == self.end_rps
    }
}

impl Workload {
    /// The open rate profile as straight pieces covering all time from zero,
    /// in order. Empty for a closed workload. Assumes a validated profile.
    pub fn rate_segments(&self) -> Vec<RateSegment> {
        let Arrivals::Open {
            rate_rps, profile, ..
        } = &self.arrivals
        else {
            return Vec::new();
        };
        let mut segments = Vec::new();
        let (mut time, mut rate) = (0.0, *rate_rps);
        for change in profile {
            match change {
                RateChange::Step { at, rate_rps } => {
                    let at = at.as_secs_f64();
                    if at > time {
                        segments.push(flat(time, at, rate));
                    }
                    (time, rate) = (time.max(at), *rate_rps);
                }
                RateChange::Ramp { from, to, rate_rps } => {
                    let (from, to) = (from.as_secs_f64(), to.as_secs_f64());
                    if from > time {
                        segments.push(flat(time, from, rate));
                    }
                    segments.push(RateSegment {
                        start: from.max(time),
                        end: to,
                        start_rps: rate,
                        end_rps: *rate_rps,
                    });
                    (time, rate) = (to, *rate_rps);
                }
            }
        }
        segments.push(flat(time, f64::INFINITY, rate));
        segments
    }

    /// The highest rate the open profile reaches, or `None` for a closed workload.
    pub fn peak_rate_rps(&self) -> Option<f64> {
        let Arrivals::Open { .. } = &self.arrivals else {
            return None;
        };
        Some(
            self.rate_segments()
                .iter()
                .map(|s| s.start_rps.max(s.end_rps))
                .fold(0.0, f64::max),
        )
    }

    /// The mean open arrival rate from `from` to `to` seconds (the rate at
    /// `from` when the window is empty), or `None` for a closed workload.
    pub fn mean_rate_rps(&self, from: f64, to: f64) -> Option<f64> {
        let Arrivals::Open { .. } = &self.arrivals else {
            return None;
        };
        let segments = self.rate_segments();
        let rate_at = |t: f64, s: &RateSegment| {
            if s.is_flat() || !s.end.is_finite() || s.end <= s.start {
                s.start_rps
            } else {
                s.start_rps + (s.end_rps - s.start_rps) * (t - s.start) / (s.end - s.start)
            }
        };
        if to <= from {
            let s = segments.iter().find(|s| from < s.end).or(segments.last())?;
            return Some(rate_at(from.max(s.start), s));
        }
        // Requests in the window: the trapezoid over each piece's overlap.
        let requests: f64 = segments
            .iter()
            .filter_map(|s| {
                let (a, b) = (from.max(s.start), to.min(s.end));
                (b > a).then(|| f64::midpoint(rate_at(a, s), rate_at(b, s)) * (b - a))
            })
            .sum();
        Some(requests / (to - from))
    }

    /// Scales an open workload so its base rate is `rate_rps`, keeping the
    /// profile's shape. Returns false for a closed workload, which has no rate.
    pub fn scale_to_rate(&mut self, target_rps: f64) -> bool {
        let Arrivals::Open {
            rate_rps, profile, ..
        } = &mut self.arrivals
        else {
            return false;
        };
        let factor = if *rate_rps > 0.0 {
            target_rps / *rate_rps
        } else {
            0.0
        };
        *rate_rps = target_rps;
        for change in profile {
            match change {
                RateChange::Step { rate_rps, .. } | RateChange::Ramp { rate_rps, .. } => {
                    *rate_rps *= factor;
                }
            }
        }
        true
    }
}

fn flat(start: f64, end: f64, rate: f64) -> RateSegment {
    RateSegment {
        start,
        end,
        start_rps: rate,
        end_rps: rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base 100/s, ramping from 10 s to 20 s up to 300/s, by hand.
    #[test]
    fn the_mean_rate_over_a_window_integrates_steps_and_ramps() {
        let workload = Workload {
            arrivals: Arrivals::Open {
                process: ArrivalProcess::Poisson,
                rate_rps: 100.0,
                profile: vec![RateChange::Ramp {
                    from: "10s".parse().unwrap(),
                    to: "20s".parse().unwrap(),
                    rate_rps: 300.0,
                }],
            },
            classes: Vec::new(),
        };
        let mean = |a, b| workload.mean_rate_rps(a, b).unwrap();
        // (10 s × 100 + 10 s × 200 on average) / 20 s.
        assert!((mean(0.0, 20.0) - 150.0).abs() < 1e-9);
        // At 15 s the ramp is halfway, at 200/s: (5 s × 250 on average +
        // 5 s × 300) / 10 s.
        assert!((mean(15.0, 25.0) - 275.0).abs() < 1e-9);
        // An empty window: the rate at that instant.
        assert!((mean(15.0, 15.0) - 200.0).abs() < 1e-9);
        assert!((mean(0.0, 5.0) - 100.0).abs() < 1e-9);
    }
}
