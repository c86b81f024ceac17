//! Choosing the warm-up to discard: MSER-5 (White, 1997; White, Cobb and
//! Spratt, 2000).
//!
//! The output series is cut into batches of five and averaged. For each
//! candidate truncation point d (in batches, up to half the series), MSER
//! computes the squared standard error of the mean of what remains,
//! `Σ_{j>d} (Z_j − Z̄_d)² / (m − d)²`, and picks the d that minimises it: the
//! point after which the series is both long and steady.

/// Observations per batch.
const BATCH: usize = 5;

/// How many leading observations of `series` to discard.
pub fn mser5(series: &[f64]) -> usize {
    let batches: Vec<f64> = series
        .chunks_exact(BATCH)
        .map(|chunk| chunk.iter().sum::<f64>() / BATCH as f64)
        .collect();
    let m = batches.len();
    if m < 10 {
        return 0;
    }
    // Suffix sums of Z and Z², so each candidate costs O(1).
    let mut sum = vec![0.0; m + 1];
    let mut squares = vec![0.0; m + 1];
    for j in (0..m).rev() {
        sum[j] = sum[j + 1] + batches[j];
        squares[j] = squares[j + 1] + batches[j] * batches[j];
    }
    let mut best = (0, f64::INFINITY);
    for d in 0..=m / 2 {
        let k = (m - d) as f64;
        let mean = sum[d] / k;
        let statistic = (squares[d] - k * mean * mean).max(0.0) / (k * k);
        if statistic < best.1 {
            best = (d, statistic);
        }
    }
    best.0 * BATCH
}

#[cfg(test)]
mod tests {
    use super::mser5;

    #[test]
    fn cuts_a_transient_and_keeps_a_steady_series() {
        // 1,000 high values settling into noise around 1: the cut lands at
        // the end of the transient (to the batch).
        let noise = |i: usize| ((i * 7919 % 101) as f64 / 100.0 - 0.5) * 0.2;
        let mut series: Vec<f64> = (0..1000).map(|i| 10.0 - f64::from(i) / 200.0).collect();
        series.extend((0..9000).map(|i| 1.0 + noise(i)));
        let cut = mser5(&series);
        assert!((990..=1010).contains(&cut), "{cut}");
        let steady: Vec<f64> = (0..10_000).map(|i| 1.0 + noise(i)).collect();
        assert!(mser5(&steady) < 500, "{}", mser5(&steady));
    }
}
