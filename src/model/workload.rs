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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArrivalProcess {
    /// Exponential gaps: independent users.
    #[default]
    Poisson,
    /// Equal gaps of 1/rate.
    Constant,
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
