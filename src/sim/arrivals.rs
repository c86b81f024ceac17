//! The times of open arrivals: Poisson or evenly spaced, following a rate
//! profile. Shared by the simulator and the load generator's schedule, so a
//! project's workload means the same thing to both.

use crate::model::{ArrivalProcess, RateSegment};

use super::rng::Rng;

/// Generates successive arrival times, in seconds from the start.
///
/// Poisson arrivals are drawn by inverting the integrated rate within each
/// straight piece of the profile: from `t`, the next arrival is where the
/// area under the rate reaches an exponential draw (exact for a
/// non-homogeneous Poisson process, one draw per arrival whatever the
/// ramp, and memoryless across piece boundaries). Evenly spaced ones step
/// 1/rate at the current rate. Pieces with no traffic are skipped, and when
/// no traffic is left the clock ends.
#[derive(Clone, Debug)]
pub struct ArrivalClock {
    process: ArrivalProcess,
    segments: Vec<RateSegment>,
    cursor: usize,
    rng: Rng,
    time: f64,
    /// Candidate times drawn, accepted or not (for tests of the cost).
    draws: u64,
}

impl ArrivalClock {
    /// A clock over rate pieces, as `Workload::rate_segments` makes them.
    pub fn from_segments(process: ArrivalProcess, segments: Vec<RateSegment>, rng: Rng) -> Self {
        Self {
            process,
            segments,
            cursor: 0,
            rng,
            time: 0.0,
            draws: 0,
        }
    }

    /// The next arrival time, or none when no traffic is left.
    pub fn next_arrival(&mut self) -> Option<f64> {
        let mut t = self.time;
        loop {
            while self.cursor + 1 < self.segments.len() && t >= self.segments[self.cursor].end {
                self.cursor += 1;
            }
            let piece = *self.segments.get(self.cursor)?;
            let peak = piece.start_rps.max(piece.end_rps);
            if peak <= 0.0 {
                if piece.end.is_infinite() {
                    return None;
                }
                t = piece.end;
                continue;
            }
            self.draws += 1;
            let next = match self.process {
                ArrivalProcess::Poisson => t + poisson_gap(&piece, t, self.rng.exp1()),
                ArrivalProcess::Constant => t + 1.0 / rate_in(&piece, t).max(peak * 1e-6),
            };
            if next >= piece.end && (self.process == ArrivalProcess::Poisson || !piece.is_flat()) {
                if piece.end.is_infinite() {
                    // A rate so small that the next arrival is beyond any
                    // time (1e-320 per second): none will come.
                    return None;
                }
                // Past this piece: Poisson restarts at its end (memoryless);
                // constant spacing keeps its gap only within a flat piece.
                t = piece.end;
                continue;
            }
            self.time = next;
            return Some(next);
        }
    }

    /// Candidate times drawn so far.
    pub fn draws(&self) -> u64 {
        self.draws
    }
}

/// The gap from `t` to the time where the area under `piece`'s rate reaches
/// `area` (an exponential draw); infinite when the piece's remaining area
/// is smaller. With the rate r at `t` and slope k, the area after d seconds
/// is r d + k d²/2; the root is written 2 area / (r + √(r² + 2 k area)),
/// which stays accurate as k goes to zero.
fn poisson_gap(piece: &RateSegment, t: f64, area: f64) -> f64 {
    let r = rate_in(piece, t);
    let k = if piece.is_flat() || !piece.end.is_finite() || piece.end <= piece.start {
        0.0
    } else {
        (piece.end_rps - piece.start_rps) / (piece.end - piece.start)
    };
    let discriminant = r * r + 2.0 * k * area;
    if discriminant < 0.0 {
        // A falling rate whose remaining area is less than `area`.
        return f64::INFINITY;
    }
    let denominator = r + discriminant.sqrt();
    if denominator > 0.0 {
        2.0 * area / denominator
    } else {
        f64::INFINITY
    }
}

/// The rate within `piece` at `t` seconds.
fn rate_in(piece: &RateSegment, t: f64) -> f64 {
    if piece.end.is_infinite() || piece.end <= piece.start {
        return piece.start_rps;
    }
    let f = ((t - piece.start) / (piece.end - piece.start)).clamp(0.0, 1.0);
    piece.start_rps + f * (piece.end_rps - piece.start_rps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(from_rps: f64, to_rps: f64, over_s: f64) -> Vec<RateSegment> {
        vec![
            RateSegment {
                start: 0.0,
                end: over_s,
                start_rps: from_rps,
                end_rps: to_rps,
            },
            RateSegment {
                start: over_s,
                end: f64::INFINITY,
                start_rps: to_rps,
                end_rps: to_rps,
            },
        ]
    }

    /// A ramp from 0 to 10^9 requests/s over 1,000 s rises at k = 10^6/s²,
    /// so Λ(t) = k t²/2 and the 57,000th arrival comes near √(2 × 57,000 / k)
    /// = 0.33764 s (a count of 57,000 ± 239: ±0.21% in time). Thinning at
    /// the peak rate drew a billion candidates per second of the ramp's
    /// start; inversion draws one per arrival.
    #[test]
    fn a_steep_ramp_costs_one_draw_per_arrival() {
        let mut clock = ArrivalClock::from_segments(
            ArrivalProcess::Poisson,
            ramp(0.0, 1e9, 1000.0),
            Rng::stream(1, 0, "arrivals"),
        );
        let mut last = 0.0;
        for _ in 0..57_000 {
            let t = clock.next_arrival().unwrap();
            assert!(t >= last);
            last = t;
        }
        assert!((last / 0.337_64 - 1.0).abs() < 0.01, "{last} s");
        assert!(clock.draws() <= 57_000, "{} draws", clock.draws());
    }

    /// A rate too small for any arrival to come in finite time ends the
    /// clock (it looped forever at 1e-320 per second).
    #[test]
    fn a_vanishing_rate_ends_the_clock() {
        for process in [ArrivalProcess::Poisson, ArrivalProcess::Constant] {
            let mut clock = ArrivalClock::from_segments(
                process,
                ramp(1e-320, 1e-320, 10.0),
                Rng::stream(1, 0, "arrivals"),
            );
            assert!(clock.next_arrival().is_none_or(|t| t > 1e300));
        }
    }

    /// A rate falling from 100/s to 0 over 10 s offers an area of 500
    /// requests, and then the clock ends: the counts of 40 runs average
    /// 500 (standard error √(500/40) = 3.5).
    #[test]
    fn a_falling_ramp_offers_its_area_and_ends() {
        let runs = 40;
        let mut total = 0;
        for seed in 0..runs {
            let mut clock = ArrivalClock::from_segments(
                ArrivalProcess::Poisson,
                ramp(100.0, 0.0, 10.0),
                Rng::stream(seed, 0, "arrivals"),
            );
            while let Some(t) = clock.next_arrival() {
                assert!(t < 10.0);
                total += 1;
            }
        }
        let mean = f64::from(total) / runs as f64;
        assert!((mean - 500.0).abs() < 4.0 * 3.54, "{mean}");
    }
}
