//! What the walk keeps of each handling, in bounded memory: a uniform
//! sample of values for fitting, and the first stretch of the timeline for
//! counting workers and requests in progress.

/// The most values a [`Reservoir`] keeps: a fit's error at this size is far
/// below the goodness-of-fit thresholds (`fit.rs`).
pub(super) const SAMPLES: usize = 100_000;

/// The most handlings of a service whose instants are kept for the
/// timeline (about 10 MB a service).
pub(super) const TIMELINE: usize = 200_000;

/// A uniform random sample of at most [`SAMPLES`] of the values offered
/// (Vitter's algorithm R), drawn from a fixed seed, so the same traces give
/// the same sample.
#[derive(Clone, Debug)]
pub(super) struct Reservoir {
    pub values: Vec<f64>,
    /// Values offered.
    pub seen: u64,
    state: u64,
}

impl Default for Reservoir {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            seen: 0,
            state: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl Reservoir {
    pub fn push(&mut self, value: f64) {
        self.seen += 1;
        if self.values.len() < SAMPLES {
            self.values.push(value);
            return;
        }
        // Keep it with chance SAMPLES / seen, in place of a uniform pick.
        let pick = self.next() % self.seen;
        if let Ok(at) = usize::try_from(pick)
            && at < SAMPLES
        {
            self.values[at] = value;
        }
    }

    /// splitmix64.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Which handlings' instants a service keeps: the first [`TIMELINE`]
/// walked. Once full, `cut` is the earliest start of a handling left out;
/// every handling that started before it is kept, so counts at instants
/// before `cut` are exact.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeline {
    pub kept: usize,
    pub cut: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            kept: 0,
            cut: u64::MAX,
        }
    }
}

impl Timeline {
    /// Whether a handling that started at `start` is kept.
    pub fn keep(&mut self, start: u64) -> bool {
        if self.kept < TIMELINE {
            self.kept += 1;
            true
        } else {
            self.cut = self.cut.min(start);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservoir_keeps_a_uniform_sample_of_its_bound() {
        let mut reservoir = Reservoir::default();
        let n = 10 * SAMPLES as u64;
        for k in 0..n {
            reservoir.push(k as f64);
        }
        assert_eq!(reservoir.values.len(), SAMPLES);
        assert_eq!(reservoir.seen, n);
        // Uniform over 0..n: mean n/2 and a tenth below n/10, within a few
        // standard errors (n/√(12·SAMPLES) ≈ 0.0009 n for the mean).
        let mean = reservoir.values.iter().sum::<f64>() / SAMPLES as f64;
        assert!((mean / n as f64 - 0.5).abs() < 0.005, "{mean}");
        let low = reservoir
            .values
            .iter()
            .filter(|&&v| v < n as f64 / 10.0)
            .count();
        assert!((low as f64 / SAMPLES as f64 - 0.1).abs() < 0.005, "{low}");
    }

    #[test]
    fn a_full_timeline_cuts_at_the_earliest_start_left_out() {
        let mut timeline = Timeline::default();
        for k in 0..TIMELINE as u64 {
            assert!(timeline.keep(k));
        }
        assert!(!timeline.keep(5_000_000));
        assert!(!timeline.keep(4_000_000));
        assert!(!timeline.keep(9_000_000));
        assert_eq!(timeline.cut, 4_000_000);
    }
}
