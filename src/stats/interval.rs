//! Confidence intervals from independent estimates (Student's t).

use serde::Serialize;

/// A two-sided confidence interval around an estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// The estimate: the mean of the independent values.
    pub estimate: f64,
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// Half the width.
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }

    /// Whether `value` lies inside.
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }

    /// The 95% Student-t interval of the mean of independent, identically
    /// distributed `values`; none for fewer than two.
    pub fn of_mean(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n < 2 {
            return None;
        }
        let count = n as f64;
        let mean = values.iter().sum::<f64>() / count;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (count - 1.0);
        let half = t_975(n - 1) * (variance / count).sqrt();
        Some(Self {
            estimate: mean,
            low: mean - half,
            high: mean + half,
        })
    }
}

/// Two-sided 95% quantiles of Student's t for 1 to 30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// Student's t 0.975 quantile: the table up to 30 degrees of freedom, then
/// the Cornish–Fisher expansion around the normal quantile (error < 1e-4).
pub fn t_975(degrees_of_freedom: usize) -> f64 {
    if degrees_of_freedom == 0 {
        return f64::INFINITY;
    }
    if let Some(t) = T_975.get(degrees_of_freedom - 1) {
        return *t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = degrees_of_freedom as f64;
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
}

#[cfg(test)]
mod tests {
    use super::{Interval, t_975};

    #[test]
    fn interval_of_a_known_sample() {
        // Mean 3, sample sd sqrt(2.5), n = 5: half-width 2.776 · sqrt(0.5).
        let ci = Interval::of_mean(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((ci.estimate - 3.0).abs() < 1e-12);
        assert!((ci.half_width() - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
        assert!(Interval::of_mean(&[1.0]).is_none());
    }

    #[test]
    fn t_quantiles_join_the_table_smoothly() {
        assert!((t_975(31) - 2.0395).abs() < 1e-3);
        assert!((t_975(60) - 2.0003).abs() < 1e-3);
        assert!((t_975(1000) - 1.9623).abs() < 1e-3);
    }
}
