//! Fitting a distribution of the project format to measured times.
//!
//! The rule, as docs/traces.md states it:
//! 1. When the middle of the samples lies in a narrow band (a robust CV,
//!    1.4826 × the median absolute deviation over the median, at or below
//!    [`CONSTANT_CV`]) and at most [`CONSTANT_OUTLIERS`] of them are more
//!    than half the median away from it, the times are a constant plus
//!    measurement jitter: `constant` at their mean.
//! 2. Otherwise exponential (at the mean), gamma and lognormal (both matched
//!    to the mean and the CV) are each compared with the samples by the
//!    Kolmogorov–Smirnov distance D, the largest gap between the samples'
//!    and the fit's cumulative distribution. The smallest D wins when it is
//!    at most [`KS_ACCEPT`] plus the 5% critical value 1.36/√n.
//! 3. When none is that close, `empirical` with [`QUANTILES`] quantiles of
//!    the samples, each equally likely.
//!
//! Every fit keeps the samples' mean (the empirical one within the
//! quantiles' rounding), so the load a service carries is what was traced.

use super::super::distribution::Distribution;
use super::super::time::TimeSpan;

/// The robust CV at or below which times may be taken as a constant.
pub const CONSTANT_CV: f64 = 0.1;

/// The largest share of samples further than half the median from it that
/// a constant allows.
pub const CONSTANT_OUTLIERS: f64 = 0.02;

/// How far (in KS distance, beyond the 5% critical value) the best family
/// may be from the samples and still be chosen.
pub const KS_ACCEPT: f64 = 0.03;

/// How many quantiles an empirical fit keeps.
pub const QUANTILES: usize = 100;

/// Which distribution a fit chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Always the mean.
    Constant,
    /// Exponential.
    Exponential,
    /// Gamma.
    Gamma,
    /// Lognormal.
    LogNormal,
    /// The samples' quantiles.
    Empirical,
}

impl Family {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Exponential => "exponential",
            Self::Gamma => "gamma",
            Self::LogNormal => "lognormal",
            Self::Empirical => "empirical",
        }
    }
}

/// A fitted distribution and how well it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The distribution, as the project will hold it.
    pub distribution: Distribution,
    /// Which family it is.
    pub family: Family,
    /// The Kolmogorov–Smirnov distance of the chosen family from the
    /// samples; `None` for a constant (a point mass has no useful D) and
    /// for an empirical fit (it is the samples).
    pub ks: Option<f64>,
    /// The best family's D when the samples were left empirical.
    pub best_rejected: Option<(Family, f64)>,
    /// How many samples.
    pub samples: usize,
    /// Their mean, in seconds.
    pub mean_s: f64,
    /// Their coefficient of variation.
    pub cv: f64,
}

impl Fit {
    /// The fit in words for reports: `"gamma (KS 0.012), mean 18 ms, CV 0.50, 8,400 samples"`.
    pub fn describe(&self) -> String {
        let quality = match (self.ks, self.best_rejected) {
            (Some(d), _) => format!(" (KS {d:.3})"),
            (None, Some((family, d))) => {
                format!(" (best family {} at KS {d:.3} was too far)", family.name())
            }
            (None, None) => String::new(),
        };
        format!(
            "{}{quality}: {}; samples: mean {}, CV {:.2}, n {}",
            self.family.name(),
            self.distribution,
            super::super::time::human_secs(self.mean_s),
            self.cv,
            self.samples
        )
    }
}

/// Rounds to three significant figures.
pub fn round3(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powf(2.0 - x.abs().log10().floor());
    (x * scale).round() / scale
}

fn span(secs: f64) -> TimeSpan {
    TimeSpan::from_secs_f64(round3(secs.max(0.0)))
}

/// A cumulative distribution function.
type Cdf = Box<dyn Fn(f64) -> f64>;

/// Fits `samples` (seconds, in any order; sorted in place). `None` when
/// there are none.
pub fn fit(samples: &mut [f64]) -> Option<Fit> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let cv = if mean > 0.0 {
        variance.sqrt() / mean
    } else {
        0.0
    };
    let base = Fit {
        distribution: Distribution::Constant(span(mean)),
        family: Family::Constant,
        ks: None,
        best_rejected: None,
        samples: samples.len(),
        mean_s: mean,
        cv,
    };
    if mean <= 0.0 || is_constant(samples) {
        return Some(base);
    }
    let shape = round3(1.0 / (cv * cv));
    let sigma = (1.0 + cv * cv).ln().sqrt();
    let mu = mean.ln() - sigma * sigma / 2.0;
    let candidates: [(Family, Distribution, Cdf); 3] = [
        (
            Family::Exponential,
            Distribution::Exponential { mean: span(mean) },
            Box::new(move |x: f64| 1.0 - (-x / mean).exp()),
        ),
        (
            Family::Gamma,
            Distribution::Gamma {
                mean: span(mean),
                shape,
            },
            Box::new(move |x: f64| gamma_p(shape, x * shape / mean)),
        ),
        (
            Family::LogNormal,
            Distribution::LogNormal {
                mean: span(mean),
                p99: span((mu + super::super::Z_99 * sigma).exp()),
            },
            Box::new(move |x: f64| {
                if x <= 0.0 {
                    0.0
                } else {
                    normal_cdf((x.ln() - mu) / sigma)
                }
            }),
        ),
    ];
    let (family, distribution, d) = candidates
        .into_iter()
        .map(|(family, distribution, cdf)| (family, distribution, ks_distance(samples, &cdf)))
        .min_by(|a, b| a.2.total_cmp(&b.2))?;
    if d <= KS_ACCEPT + 1.36 / n.sqrt() {
        return Some(Fit {
            distribution,
            family,
            ks: Some(d),
            ..base
        });
    }
    let quantiles = (0..QUANTILES)
        .map(|i| {
            let at = (2 * i + 1) * samples.len() / (2 * QUANTILES);
            span(samples[at.min(samples.len() - 1)])
        })
        .collect();
    Some(Fit {
        distribution: Distribution::Empirical(quantiles),
        family: Family::Empirical,
        ks: None,
        best_rejected: Some((family, d)),
        ..base
    })
}

/// Whether sorted `samples` are a constant plus jitter: see the module.
fn is_constant(samples: &[f64]) -> bool {
    let median = samples[samples.len() / 2];
    if median <= 0.0 {
        return false;
    }
    let mut deviations: Vec<f64> = samples.iter().map(|x| (x - median).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let mad = deviations[deviations.len() / 2];
    let far = deviations.partition_point(|&d| d <= median / 2.0);
    1.4826 * mad / median <= CONSTANT_CV
        && (deviations.len() - far) as f64 <= CONSTANT_OUTLIERS * samples.len() as f64
}

/// The Kolmogorov–Smirnov distance of sorted `samples` from `cdf`.
pub fn ks_distance(samples: &[f64], cdf: &dyn Fn(f64) -> f64) -> f64 {
    let n = samples.len() as f64;
    samples
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (((i + 1) as f64 / n) - f).max(f - i as f64 / n)
        })
        .fold(0.0, f64::max)
}

/// The standard normal cumulative distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The complementary error function, with a relative error below 1.2e-7
/// everywhere (Numerical Recipes' Chebyshev fit, `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularised lower incomplete gamma function P(a, x): the gamma
/// distribution of shape `a` and scale 1's CDF at `x` (series below a + 1,
/// continued fraction above, as in Numerical Recipes).
#[expect(
    clippy::many_single_char_names,
    reason = "the notation of Numerical Recipes, which the code follows"
)]
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let log_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (sum.ln() + log_front).exp().min(1.0)
    } else {
        // Lentz's method for the continued fraction of Q(a, x).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let i = f64::from(i);
            let an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (1.0 - (log_front.exp() * h)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Family, fit, gamma_p, ln_gamma, normal_cdf, round3};
    use crate::model::Distribution;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn special_functions_match_tabulated_values() {
        // Γ(5) = 24, Γ(0.5) = √π.
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-12
        ));
        // Φ(1.96) = 0.975002, Φ(-1) = 0.158655.
        assert!(close(normal_cdf(1.96), 0.975_002, 1e-6));
        assert!(close(normal_cdf(-1.0), 0.158_655, 1e-6));
        // Shape 1 is exponential: P(1, x) = 1 − e^−x, on both branches.
        for x in [0.1f64, 1.5, 2.5, 8.0] {
            assert!(close(gamma_p(1.0, x), 1.0 - (-x).exp(), 1e-12), "{x}");
        }
        // Shape 3 (Erlang): P(3, x) = 1 − e^−x (1 + x + x²/2).
        for x in [0.5f64, 3.0, 4.5, 12.0] {
            let exact = 1.0 - (-x).exp() * (1.0 + x + x * x / 2.0);
            assert!(close(gamma_p(3.0, x), exact, 1e-12), "{x}");
        }
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "rounding gives these exact values")]
    fn rounding_keeps_three_significant_figures() {
        assert_eq!(round3(0.012_345), 0.0123);
        assert_eq!(round3(18_049.0), 18_000.0);
        assert_eq!(round3(0.000_300_4), 0.000_3);
    }

    /// Quantiles of a known distribution: a sample with no randomness.
    fn quantiles(n: usize, inverse: impl Fn(f64) -> f64) -> Vec<f64> {
        (0..n)
            .map(|i| inverse((i as f64 + 0.5) / n as f64))
            .collect()
    }

    #[test]
    fn each_family_is_recovered_from_its_own_quantiles() {
        // Exponential, mean 5 ms.
        let mut exp = quantiles(2000, |u| -0.005 * (1.0 - u).ln());
        let f = fit(&mut exp).unwrap();
        assert_eq!(f.family, Family::Exponential, "{}", f.describe());
        assert!(close(f.mean_s, 0.005, 1e-4));
        // Lognormal, mu ln(10 ms), sigma 0.8: the normal quantile by
        // bisection on the CDF.
        let inverse_normal = |u: f64| {
            let (mut lo, mut hi) = (-10.0, 10.0);
            for _ in 0..100 {
                let mid = f64::midpoint(lo, hi);
                if normal_cdf(mid) < u {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        let mut lognormal = quantiles(2000, |u| (0.01f64.ln() + 0.8 * inverse_normal(u)).exp());
        let f = fit(&mut lognormal).unwrap();
        assert_eq!(f.family, Family::LogNormal, "{}", f.describe());
        // Gamma, shape 4, mean 18 ms, by bisection on P.
        let mut gamma = quantiles(2000, |u| {
            let (mut lo, mut hi) = (0.0, 100.0);
            for _ in 0..100 {
                let mid = f64::midpoint(lo, hi);
                if gamma_p(4.0, mid) < u {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            lo * 0.018 / 4.0
        });
        let f = fit(&mut gamma).unwrap();
        assert_eq!(f.family, Family::Gamma, "{}", f.describe());
        assert_eq!(
            f.distribution,
            Distribution::Gamma {
                mean: crate::model::TimeSpan::from_nanos(18_000_000),
                shape: 4.0
            }
        );
        // Jitter of ±3% about 300 µs is a constant, and so it is with 1%
        // of late outliers (their share of the mean kept), but not with 5%.
        let mut flat = quantiles(500, |u| 0.0003 * (0.97 + 0.06 * u));
        let f = fit(&mut flat).unwrap();
        assert_eq!(
            f.distribution,
            Distribution::Constant(crate::model::TimeSpan::from_nanos(300_000))
        );
        let late = |share: f64| {
            quantiles(1000, move |u| {
                if u > 1.0 - share {
                    0.003
                } else {
                    0.0003 * (0.97 + 0.06 * u)
                }
            })
        };
        let f = fit(&mut late(0.01)).unwrap();
        assert_eq!(f.family, Family::Constant);
        assert!(
            close(f.mean_s, 0.99 * 0.0003 + 0.01 * 0.003, 2e-6),
            "{}",
            f.mean_s
        );
        assert_ne!(fit(&mut late(0.05)).unwrap().family, Family::Constant);
    }

    #[test]
    fn two_humps_fit_no_family_and_stay_empirical_with_their_mean() {
        // Half at 1 ms, half at 20 ms, each with a little spread.
        let mut samples = quantiles(1000, |u| {
            if u < 0.5 {
                0.001 * (0.9 + 0.4 * u)
            } else {
                0.02 * (0.9 + 0.2 * u)
            }
        });
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let f = fit(&mut samples).unwrap();
        assert_eq!(f.family, Family::Empirical, "{}", f.describe());
        assert!(f.best_rejected.is_some_and(|(_, d)| d > 0.1));
        assert!(
            (f.distribution.mean_secs() - mean).abs() / mean < 0.01,
            "{} against {mean}",
            f.distribution.mean_secs()
        );
        assert!(fit(&mut []).is_none());
    }
}
