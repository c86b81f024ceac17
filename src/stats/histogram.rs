//! A latency histogram that covers every value a run can produce, stores
//! only the ranges it has seen, and merges exactly.
//!
//! Values are kept in log-linear buckets, as `HdrHistogram` keeps them: below
//! 2 × 2^`bits` one bucket per nanosecond, above it 2^`bits` buckets per
//! doubling, so every bucket is narrower than 2^−`bits` of its values
//! (0.098% at 10 bits, three significant digits). The range is all of `u64`
//! nanoseconds (584 years): nothing a run produces is clamped.
//!
//! Memory follows what was recorded, not the range: buckets live in blocks
//! of 128 that are allocated when first touched, and each block's counters
//! start one byte wide and widen (to 2, 4, 8 bytes) only when a count
//! outgrows them. An empty histogram allocates nothing; a service's response
//! times over a dozen doublings take about 13 KiB where a dense `u64` layout
//! over a day took 300 KiB.

use serde::{Deserialize, Serialize};

/// Counters per block.
const BLOCK: usize = 128;

/// Latencies in nanoseconds to a fixed relative precision, in memory that
/// follows the values seen. The mean is exact (a running sum), as are the
/// smallest and largest values.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    /// Buckets per doubling are 2^bits.
    bits: u32,
    /// Block number to 1 + its position in `blocks`; 0 when untouched.
    directory: Vec<u32>,
    blocks: Vec<Block>,
    count: u64,
    sum_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

/// 128 counters, as narrow as their largest count allows.
#[derive(Clone, Debug)]
enum Block {
    U8(Box<[u8; BLOCK]>),
    U16(Box<[u16; BLOCK]>),
    U32(Box<[u32; BLOCK]>),
    U64(Box<[u64; BLOCK]>),
}

impl Block {
    fn get(&self, i: usize) -> u64 {
        match self {
            Block::U8(c) => u64::from(c[i]),
            Block::U16(c) => u64::from(c[i]),
            Block::U32(c) => u64::from(c[i]),
            Block::U64(c) => c[i],
        }
    }

    /// Adds `n` to counter `i`, widening the block when the sum outgrows it.
    #[inline]
    fn add(&mut self, i: usize, n: u64) {
        let fits = match self {
            Block::U8(c) => add_narrow(&mut c[i], n),
            Block::U16(c) => add_narrow(&mut c[i], n),
            Block::U32(c) => add_narrow(&mut c[i], n),
            Block::U64(c) => {
                c[i] = c[i].saturating_add(n);
                true
            }
        };
        if !fits {
            let sum = self.get(i).saturating_add(n);
            self.widen_for(sum);
            self.add(i, n);
        }
    }

    /// Widens every counter to the narrowest type that holds `value`.
    #[cold]
    fn widen_for(&mut self, value: u64) {
        let counts: Vec<u64> = (0..BLOCK).map(|i| self.get(i)).collect();
        let widest = counts.iter().copied().max().unwrap_or(0).max(value);
        *self = if u16::try_from(widest).is_ok() {
            Block::U16(Box::new(std::array::from_fn(|i| narrow(counts[i]))))
        } else if u32::try_from(widest).is_ok() {
            Block::U32(Box::new(std::array::from_fn(|i| narrow(counts[i]))))
        } else {
            Block::U64(Box::new(std::array::from_fn(|i| counts[i])))
        };
    }

    fn clear(&mut self) {
        *self = Block::U8(Box::new([0; BLOCK]));
    }
}

/// Adds `n` to a narrow counter; false (and unchanged) when it would overflow.
#[inline]
fn add_narrow<T: TryFrom<u64> + Into<u64> + Copy>(counter: &mut T, n: u64) -> bool {
    match T::try_from((*counter).into().saturating_add(n)) {
        Ok(sum) => {
            *counter = sum;
            true
        }
        Err(_) => false,
    }
}

/// A count known to fit the narrower type.
fn narrow<T: TryFrom<u64> + Default>(value: u64) -> T {
    T::try_from(value).unwrap_or_default()
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for LatencyHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
            && self.count == other.count
            && self.sum_ns == other.sum_ns
            && self.min_ns == other.min_ns
            && self.max_ns == other.max_ns
            && self.recorded().eq(other.recorded())
    }
}

impl LatencyHistogram {
    /// An empty histogram to three significant digits (buckets narrower
    /// than 0.098% of their values).
    pub fn new() -> Self {
        Self::with_bits(10)
    }

    /// An empty histogram to two significant digits (buckets narrower than
    /// 0.79%): for the many per-connection recorders of a load test and the
    /// time series' intervals. Merge histograms of the same precision only.
    pub fn coarse() -> Self {
        Self::with_bits(7)
    }

    pub(super) fn with_bits(bits: u32) -> Self {
        Self {
            bits,
            directory: Vec::new(),
            blocks: Vec::new(),
            count: 0,
            sum_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    /// The bucket of a value: `HdrHistogram`'s counts index for a unit of
    /// one and 2^(`bits` + 1) sub-buckets.
    #[inline]
    pub(super) fn index(&self, ns: u64) -> usize {
        let sub = 1_u64 << self.bits;
        if ns < 2 * sub {
            #[expect(clippy::cast_possible_truncation, reason = "below 2^11")]
            return ns as usize;
        }
        let e = ns.ilog2();
        let shift = e - self.bits;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "at most (65 - bits) × 2^bits"
        )]
        let index = (u64::from(shift) * sub + (ns >> shift)) as usize;
        index
    }

    /// The smallest value in bucket `index`.
    pub(super) fn lowest(&self, index: usize) -> u64 {
        let sub = 1_usize << self.bits;
        if index < 2 * sub {
            return index as u64;
        }
        let shift = index / sub - 1;
        let mantissa = index - shift * sub;
        (mantissa as u64) << shift
    }

    /// The largest value in bucket `index`.
    fn highest(&self, index: usize) -> u64 {
        let sub = 1_usize << self.bits;
        if index < 2 * sub {
            return index as u64;
        }
        let shift = index / sub - 1;
        self.lowest(index) + ((1_u64 << shift) - 1)
    }

    /// Each bucket with values, in increasing order: (bucket, count).
    pub(super) fn recorded(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.directory
            .iter()
            .enumerate()
            .filter(|(_, slot)| **slot != 0)
            .flat_map(move |(block, slot)| {
                let counts = &self.blocks[*slot as usize - 1];
                (0..BLOCK).filter_map(move |i| {
                    let n = counts.get(i);
                    (n > 0).then_some((block * BLOCK + i, n))
                })
            })
    }

    /// The percentile distribution as `HdrHistogram` prints it: rows of
    /// (value in ns, quantile, count at or below), with `ticks` steps per
    /// halving of the distance to 100%.
    pub fn percentile_distribution(&self, ticks: u32) -> Vec<(u64, f64, u64)> {
        if self.count == 0 {
            return Vec::new();
        }
        let ticks = f64::from(ticks.max(1));
        let total = self.count as f64;
        let mut rows = Vec::new();
        let mut buckets = self.recorded();
        let (mut level, mut cumulative, mut index) = (0.0_f64, 0, 0);
        loop {
            // The first bucket whose cumulative count reaches `level`.
            let wanted = (level * total).ceil().max(1.0);
            while (cumulative as f64) < wanted {
                let Some((i, n)) = buckets.next() else { break };
                (index, cumulative) = (i, cumulative + n);
            }
            rows.push((self.highest(index).min(self.max_ns), level, cumulative));
            if cumulative >= self.count {
                rows.push((self.max_ns, 1.0, self.count));
                return rows;
            }
            // `ticks` levels per halving of the distance to 100%.
            let halvings = (1.0 / (1.0 - level)).log2().floor();
            level += 0.5_f64.powf(halvings + 1.0) / ticks;
        }
    }

    /// Standard deviation in nanoseconds, from the buckets' midpoints.
    pub fn stdev_ns(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mean = self.mean_ns();
        let squares: f64 = self
            .recorded()
            .map(|(index, n)| {
                let mid = f64::midpoint(self.lowest(index) as f64, self.highest(index) as f64);
                (mid - mean).powi(2) * n as f64
            })
            .sum();
        (squares / self.count as f64).sqrt()
    }

    /// The histogram's bucket layout, as `.hgrm` footers print it: (bucket
    /// count, sub-bucket count), `HdrHistogram`'s terms for the doublings
    /// up to the largest value and the buckets in the first of them.
    pub fn layout(&self) -> (u8, usize) {
        let sub = 1_usize << self.bits;
        let top = self.index(self.max_ns);
        #[expect(clippy::cast_possible_truncation, reason = "at most 64")]
        let doublings = (top / sub).max(1) as u8;
        (doublings, 2 * sub)
    }

    /// Records one latency.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.record_n(ns, 1);
    }

    pub(super) fn record_n(&mut self, ns: u64, n: u64) {
        let index = self.index(ns);
        let (block, i) = (index / BLOCK, index % BLOCK);
        if block >= self.directory.len() {
            self.directory.resize(block + 1, 0);
        }
        let slot = match self.directory[block] {
            0 => {
                self.blocks.push(Block::U8(Box::new([0; BLOCK])));
                #[expect(clippy::cast_possible_truncation, reason = "at most 440 blocks")]
                let slot = self.blocks.len() as u32;
                self.directory[block] = slot;
                slot
            }
            slot => slot,
        };
        self.blocks[slot as usize - 1].add(i, n);
        self.count += n;
        self.sum_ns += u128::from(ns) * u128::from(n);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Buckets per doubling are 2^`bits`.
    pub(super) fn bits(&self) -> u32 {
        self.bits
    }

    /// Sets the exact sum, smallest and largest value, which an encoding
    /// of the buckets alone does not carry.
    pub(super) fn set_exact(&mut self, sum_ns: u128, min_ns: u64, max_ns: u64) {
        self.sum_ns = sum_ns;
        self.min_ns = min_ns;
        self.max_ns = max_ns;
    }

    /// The exact sum of the values, in nanoseconds.
    pub fn sum_ns(&self) -> u128 {
        self.sum_ns
    }

    /// Forgets every value, keeping the precision.
    pub fn clear(&mut self) {
        for block in &mut self.blocks {
            block.clear();
        }
        self.count = 0;
        self.sum_ns = 0;
        self.min_ns = u64::MAX;
        self.max_ns = 0;
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Self) {
        if other.count == 0 {
            return;
        }
        let (sum, min, max) = (self.sum_ns, self.min_ns, self.max_ns);
        for (index, n) in other.recorded() {
            // Same precision: the same bucket. Otherwise the bucket that
            // holds the other's bucket's lowest value.
            self.record_n(other.lowest(index), n);
        }
        self.sum_ns = sum + other.sum_ns;
        self.min_ns = min.min(other.min_ns);
        self.max_ns = max.max(other.max_ns);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The exact mean in nanoseconds; zero when empty.
    pub fn mean_ns(&self) -> f64 {
        match self.count {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The value at quantile `q` in `[0, 1]`, in nanoseconds (the largest
    /// value of its bucket, and never above the largest recorded); zero
    /// when empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "between 1 and the count"
        )]
        let wanted = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut cumulative = 0;
        for (index, n) in self.recorded() {
            cumulative += n;
            if cumulative >= wanted {
                return self.highest(index).min(self.max_ns);
            }
        }
        self.max_ns
    }

    /// The largest value recorded, exactly.
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// The smallest value recorded, exactly; zero when empty.
    pub fn min_ns(&self) -> u64 {
        if self.count == 0 { 0 } else { self.min_ns }
    }

    /// Bytes held for counters, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| match b {
                Block::U8(_) => BLOCK,
                Block::U16(_) => 2 * BLOCK,
                Block::U32(_) => 4 * BLOCK,
                Block::U64(_) => 8 * BLOCK,
            })
            .sum();
        blocks
            + self.directory.capacity() * size_of::<u32>()
            + self.blocks.capacity() * size_of::<Block>()
    }

    /// Counts in `bins` bins of equal width spanning the smallest to the
    /// largest value recorded; with `log`, equal width in log space, so a
    /// long tail keeps its detail. Every recorded value falls in one bin.
    pub fn bins(&self, bins: usize, log: bool) -> Vec<Bin> {
        if self.count == 0 || bins == 0 {
            return Vec::new();
        }
        let low = self.min_ns.max(1) as f64;
        let high = (self.max_ns as f64).max(low * (1.0 + 1e-9));
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
        for (index, n) in self.recorded() {
            let value = (self.highest(index) as f64).clamp(low, high);
            let x = if log { value.ln() } else { value };
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "clamped to 0..bins"
            )]
            let i = (((x - a) / (b - a) * bins as f64) as usize).min(bins - 1);
            out[i].count += n;
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
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

    /// Every value from 0 to `u64::MAX` lands in a bucket that holds it and is
    /// narrower than 2^-10 of it (2^-7 when coarse): three (two)
    /// significant digits over the whole range, nothing clamped.
    #[test]
    fn every_value_is_in_a_narrow_bucket_that_holds_it() {
        for (h, bits) in [
            (LatencyHistogram::new(), 10),
            (LatencyHistogram::coarse(), 7),
        ] {
            let mut value = 0_u64;
            let mut step = 1_u64;
            let mut indices = Vec::new();
            loop {
                let index = h.index(value);
                let (low, high) = (h.lowest(index), h.highest(index));
                assert!(low <= value && value <= high, "{value} in [{low}, {high}]");
                assert!(
                    (high - low) as f64 <= value as f64 / f64::from(1 << bits),
                    "{value}: [{low}, {high}]"
                );
                indices.push(index);
                match value.checked_add(step) {
                    Some(next) => value = next,
                    None if value == u64::MAX => break,
                    None => value = u64::MAX,
                }
                step = step.saturating_add(step / 7 + 1);
            }
            // Buckets grow with their values.
            assert!(indices.windows(2).all(|w| w[0] <= w[1]));
        }
    }

    /// A two-day latency is a two-day latency (it was clamped to one day).
    #[test]
    fn values_beyond_a_day_are_kept() {
        let mut h = LatencyHistogram::new();
        let two_days = 2 * 86_400_000_000_000_u64;
        h.record(two_days);
        h.record(u64::MAX);
        assert_eq!(h.max_ns(), u64::MAX);
        let p50 = h.quantile_ns(0.5) as f64;
        assert!((p50 / two_days as f64 - 1.0).abs() < 1e-3, "{p50}");
        assert_eq!(h.min_ns(), two_days);
    }

    /// Counts outgrow narrow counters without loss, and memory follows the
    /// values seen: 100,000 exponential values over 17 doublings take a
    /// few KiB, an empty histogram none.
    #[test]
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "test values"
    )]
    fn counters_widen_and_memory_follows_the_values() {
        let mut h = LatencyHistogram::new();
        for _ in 0..70_000 {
            h.record(5_000_000);
        }
        h.record(5_000_001);
        h.record(u64::from(u32::MAX) + 7);
        assert_eq!(h.count(), 70_002);
        assert_eq!(h.quantile_ns(0.5), h.quantile_ns(0.999_9));
        let mut big = h.clone();
        for _ in 0..16 {
            big.merge(&big.clone());
        }
        assert_eq!(big.count(), 70_002 << 16);
        assert_eq!(LatencyHistogram::new().heap_bytes(), 0);
        let mut exp = LatencyHistogram::new();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1_u64 << 53) as f64;
            exp.record((-(1.0 - u).ln() * 1e6) as u64);
        }
        assert!(exp.heap_bytes() < 40_000, "{} bytes", exp.heap_bytes());
    }

    /// The rows of an `.hgrm`: `HdrHistogram`'s levels (0, 0.1, ... 0.5,
    /// 0.55, ...), each with the value at that level, ending at 100%.
    #[test]
    fn the_percentile_distribution_steps_as_hdrhistogram_does() {
        let mut h = LatencyHistogram::new();
        for v in 1..=1000_u64 {
            h.record(v);
        }
        let rows = h.percentile_distribution(5);
        let levels: Vec<f64> = rows.iter().take(8).map(|r| r.1).collect();
        for (got, want) in levels.iter().zip([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6]) {
            assert!((got - want).abs() < 1e-9, "{levels:?}");
        }
        assert_eq!(rows[0].0, 1);
        assert_eq!(rows[5], (500, 0.5, 500));
        assert_eq!(*rows.last().unwrap(), (1000, 1.0, 1000));
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
