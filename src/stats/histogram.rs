//! A latency histogram in fixed memory that merges exactly.

use hdrhistogram::Histogram;
use serde::Serialize;

/// The longest latency recorded exactly: one day. Longer values are clamped to it.
const HIGHEST_NS: u64 = 86_400_000_000_000;

/// Latencies in nanoseconds, kept to three significant digits (0.1%) in
/// fixed memory (about 300 KiB) whatever the count. The mean is exact: it
/// comes from a running sum, not from the buckets.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    buckets: Histogram<u64>,
    sum_ns: u128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for LatencyHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.sum_ns == other.sum_ns && self.buckets == other.buckets
    }
}

impl LatencyHistogram {
    /// An empty histogram: three significant digits (0.1%) up to a day,
    /// about 300 KiB.
    pub fn new() -> Self {
        Self::with_precision(3)
    }

    /// An empty histogram with two significant digits (1%) up to a day,
    /// about 40 KiB: for the many per-connection recorders of a load test.
    /// Merge histograms of the same precision only.
    pub fn coarse() -> Self {
        Self::with_precision(2)
    }

    fn with_precision(significant_digits: u8) -> Self {
        let Ok(buckets) = Histogram::new_with_bounds(1, HIGHEST_NS, significant_digits) else {
            unreachable!("the bounds are constants that hdrhistogram accepts")
        };
        Self { buckets, sum_ns: 0 }
    }

    /// The percentile distribution as `HdrHistogram` prints it: rows of
    /// (value in ns, quantile, count at or below), with `ticks` steps per
    /// halving of the distance to 100%.
    pub fn percentile_distribution(&self, ticks: u32) -> Vec<(u64, f64, u64)> {
        if self.count() == 0 {
            return Vec::new();
        }
        let mut cumulative = 0;
        self.buckets
            .iter_quantiles(ticks)
            .map(|step| {
                cumulative += step.count_since_last_iteration();
                (
                    self.buckets.highest_equivalent(step.value_iterated_to()),
                    step.quantile_iterated_to(),
                    cumulative,
                )
            })
            .collect()
    }

    /// Standard deviation in nanoseconds (from the buckets).
    pub fn stdev_ns(&self) -> f64 {
        if self.count() == 0 {
            0.0
        } else {
            self.buckets.stdev()
        }
    }

    /// The histogram's bucket layout, as `.hgrm` footers print it:
    /// (bucket count, sub-bucket count).
    pub fn layout(&self) -> (u8, usize) {
        let buckets = self.buckets.buckets();
        let counts = self.buckets.distinct_values();
        (buckets, 2 * counts / (usize::from(buckets) + 1))
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let ns = ns.min(HIGHEST_NS);
        self.buckets.saturating_record(ns);
        self.sum_ns += u128::from(ns);
    }

    /// Forgets every value, keeping the precision.
    pub fn clear(&mut self) {
        self.buckets.reset();
        self.sum_ns = 0;
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Self) {
        // Both were made with the same bounds, so adding cannot fail.
        let _ = self.buckets.add(&other.buckets);
        self.sum_ns += other.sum_ns;
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.buckets.len()
    }

    /// The exact mean in nanoseconds; zero when empty.
    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The value at quantile `q` in `[0, 1]`, in nanoseconds; zero when empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count() == 0 {
            return 0;
        }
        self.buckets.value_at_quantile(q.clamp(0.0, 1.0))
    }

    /// The largest value recorded (to the histogram's precision).
    pub fn max_ns(&self) -> u64 {
        if self.count() == 0 {
            0
        } else {
            self.buckets.max()
        }
    }

    /// Counts in `bins` bins of equal width spanning the smallest to the
    /// largest value recorded; with `log`, equal width in log space, so a
    /// long tail keeps its detail. Every recorded value falls in one bin.
    pub fn bins(&self, bins: usize, log: bool) -> Vec<Bin> {
        if self.count() == 0 || bins == 0 {
            return Vec::new();
        }
        let low = self.buckets.min().max(1) as f64;
        let high = (self.max_ns() as f64).max(low * (1.0 + 1e-9));
        let (a, b) = if log {
            (low.ln(), high.ln())
        } else {
            (low, high)
        };
        let edge = |i: usize| {
            let x = a + (b - a) * i as f64 / bins as f64;
            if log { x.exp() } else { x }
        };
        let mut out: Vec<Bin> = (0..bins)
            .map(|i| Bin {
                low_ns: edge(i),
                high_ns: edge(i + 1),
                count: 0,
            })
            .collect();
        for step in self.buckets.iter_recorded() {
            let value =
                (self.buckets.highest_equivalent(step.value_iterated_to()) as f64).clamp(low, high);
            let x = if log { value.ln() } else { value };
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "clamped to 0..bins"
            )]
            let i = (((x - a) / (b - a) * bins as f64) as usize).min(bins - 1);
            out[i].count += step.count_at_value();
        }
        out
    }

    /// The usual summary, in milliseconds.
    pub fn summary(&self) -> LatencySummary {
        let ms = |ns: u64| ns_to_ms(ns);
        LatencySummary {
            mean: self.mean_ns() / 1e6,
            p50: ms(self.quantile_ns(0.5)),
            p90: ms(self.quantile_ns(0.9)),
            p99: ms(self.quantile_ns(0.99)),
            p999: ms(self.quantile_ns(0.999)),
            max: ms(self.max_ns()),
        }
    }
}

/// One bar of a latency histogram: the values in `[low_ns, high_ns)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bin {
    /// The lower edge, in nanoseconds.
    pub low_ns: f64,
    /// The upper edge, in nanoseconds.
    pub high_ns: f64,
    /// Values recorded in the bin.
    pub count: u64,
}

fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Mean and percentiles of a latency distribution, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest value.
    pub max: f64,
}

#[cfg(test)]
mod tests {
    use super::LatencyHistogram;

    #[test]
    fn quantiles_of_a_known_sample() {
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000_u64 {
            h.record(ms * 1_000_000);
        }
        assert_eq!(h.count(), 1000);
        assert!((h.mean_ns() - 500.5e6).abs() < 1e-3);
        let p99 = h.quantile_ns(0.99) as f64;
        assert!((p99 / 990e6 - 1.0).abs() < 1e-3, "{p99}");
        let s = h.summary();
        assert!((s.p50 - 500.0).abs() < 0.5, "{s:?}");
        assert!((s.max - 1000.0).abs() < 1.0, "{s:?}");
    }

    #[test]
    fn merging_equals_recording_together() {
        let (mut a, mut b, mut both) = (
            LatencyHistogram::new(),
            LatencyHistogram::new(),
            LatencyHistogram::new(),
        );
        for v in 0..5000_u64 {
            let ns = v * v * 37 + 1;
            if v % 3 == 0 {
                a.record(ns);
            } else {
                b.record(ns);
            }
            both.record(ns);
        }
        a.merge(&b);
        assert_eq!(a, both);
    }

    #[test]
    fn bins_hold_every_value_where_it_belongs() {
        // 1..=1000 ms, one each: ten linear bins of 99.9 ms hold about a
        // hundred each; log bins from 1 ms to 1 s put 3 decades in 30 bins,
        // so the first bin [1, 1.26) ms holds only the value 1 ms.
        let mut h = LatencyHistogram::new();
        for ms in 1..=1000_u64 {
            h.record(ms * 1_000_000);
        }
        let linear = h.bins(10, false);
        assert_eq!(linear.iter().map(|b| b.count).sum::<u64>(), 1000);
        for bin in &linear {
            assert!((95..=105).contains(&bin.count), "{bin:?}");
        }
        let log = h.bins(30, true);
        assert_eq!(log.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert_eq!(log[0].count, 1);
        assert!((log[29].high_ns / log[0].low_ns - 1000.0).abs() < 2.0);
        assert!(LatencyHistogram::new().bins(10, true).is_empty());
    }
}
