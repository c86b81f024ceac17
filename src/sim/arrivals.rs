//! The times of open arrivals: Poisson or evenly spaced, following a rate
//! profile. Shared by the simulator and the load generator's schedule, so a
//! project's workload means the same thing to both.

use crate::model::{ArrivalProcess, RateSegment};

use super::rng::Rng;

/// Generates successive arrival times, in seconds from the start.
///
/// Poisson arrivals are drawn by thinning within each straight piece of the
/// profile at that piece's peak rate (exact for a non-homogeneous Poisson
/// process, and memoryless across piece boundaries); evenly spaced ones step
/// 1/rate at the current rate. Pieces with no traffic are skipped, and when
/// no traffic is left the clock ends.
#[derive(Clone, Debug)]
pub struct ArrivalClock {
    process: ArrivalProcess,
    segments: Vec<RateSegment>,
    cursor: usize,
    rng: Rng,
    time: f64,
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
                ArrivalProcess::Poisson => t + self.rng.exp1() / peak,
                ArrivalProcess::Constant => t + 1.0 / rate_in(&piece, t).max(peak * 1e-6),
            };
            if next >= piece.end && (self.process == ArrivalProcess::Poisson || !piece.is_flat()) {
                // Past this piece: Poisson restarts at its end (memoryless);
                // constant spacing keeps its gap only within a flat piece.
                t = piece.end;
                continue;
            }
            t = next;
            let accept = match self.process {
                ArrivalProcess::Poisson => {
                    piece.is_flat() || self.rng.unit() * peak < rate_in(&piece, t)
                }
                ArrivalProcess::Constant => true,
            };
            if accept {
                self.time = t;
                return Some(t);
            }
        }
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
