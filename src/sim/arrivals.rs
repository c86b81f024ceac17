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
    /// Gamma gaps: the share of the drawn gap (an area under the rate)
    /// still to cover, carried across the profile's pieces.
    carried: Option<f64>,
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
            carried: None,
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
            let next = match self.process {
                ArrivalProcess::Poisson => {
                    self.draws += 1;
                    t + poisson_gap(&piece, t, self.rng.exp1())
                }
                ArrivalProcess::Constant => {
                    self.draws += 1;
                    t + 1.0 / rate_in(&piece, t).max(peak * 1e-6)
                }
                ArrivalProcess::Gamma { cv } => {
                    // A renewal process in operational time: each gap is an
                    // area under the rate, Gamma with mean 1, so at a steady
                    // rate the gaps are Gamma with mean 1/rate and this cv.
                    let area = if let Some(area) = self.carried.take() {
                        area
                    } else {
                        self.draws += 1;
                        let shape = 1.0 / (cv * cv);
                        crate::sim::sample::gamma(shape, &mut self.rng) / shape
                    };
                    let next = t + poisson_gap(&piece, t, area);
                    if next >= piece.end && piece.end.is_finite() {
                        // Carry what the rest of this piece does not cover.
                        self.carried = Some((area - area_to_end(&piece, t)).max(0.0));
                    }
                    next
                }
            };
            if next >= piece.end && (self.process != ArrivalProcess::Constant || !piece.is_flat()) {
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

/// The area under `piece`'s rate from `t` to its end (finite).
fn area_to_end(piece: &RateSegment, t: f64) -> f64 {
    let d = (piece.end - t).max(0.0);
    f64::midpoint(rate_in(piece, t), rate_in(piece, piece.end)) * d
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

    /// Gamma gaps at a steady 100/s have mean 10 ms and the coefficient of
    /// variation asked for, and across a step of the rate the count per
    /// second follows the rate.
    #[test]
    fn gamma_gaps_have_the_rate_and_the_variation_asked_for() {
        for cv in [0.5, 2.0, 4.0] {
            let mut clock = ArrivalClock::from_segments(
                ArrivalProcess::Gamma { cv },
                ramp(100.0, 100.0, 1.0),
                Rng::stream(3, 0, "arrivals"),
            );
            let n = 200_000;
            let (mut last, mut sum, mut sum2) = (0.0, 0.0, 0.0);
            for _ in 0..n {
                let t = clock.next_arrival().unwrap();
                let gap = t - last;
                (sum, sum2, last) = (sum + gap, sum2 + gap * gap, t);
            }
            let mean = sum / f64::from(n);
            let scv = (sum2 / f64::from(n) - mean * mean) / (mean * mean);
            assert!((mean / 0.01 - 1.0).abs() < 0.03, "cv {cv}: mean gap {mean}");
            assert!((scv / (cv * cv) - 1.0).abs() < 0.06, "cv {cv}: scv {scv}");
        }
        // 10/s for 100 s, then 1,000/s: the counts follow the steps.
        let mut clock = ArrivalClock::from_segments(
            ArrivalProcess::Gamma { cv: 3.0 },
            ramp(10.0, 1000.0, 1e-9)
                .into_iter()
                .map(|mut s| {
                    if s.start == 0.0 {
                        (s.end, s.end_rps) = (100.0, 10.0);
                    } else {
                        s.start = 100.0;
                    }
                    s
                })
                .collect(),
            Rng::stream(4, 0, "arrivals"),
        );
        let (mut before, mut after) = (0_u32, 0_u32);
        while let Some(t) = clock.next_arrival().filter(|t| *t < 200.0) {
            if t < 100.0 { before += 1 } else { after += 1 }
        }
        assert!((f64::from(before) / 1000.0 - 1.0).abs() < 0.35, "{before}");
        assert!((f64::from(after) / 100_000.0 - 1.0).abs() < 0.05, "{after}");
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
