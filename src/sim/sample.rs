//! Distributions compiled for fast sampling in nanoseconds.

use crate::model::Distribution;

use super::rng::Rng;

/// A [`Distribution`] ready to draw from, in nanoseconds.
#[derive(Clone, Debug)]
pub enum Sampler {
    /// Always this value.
    Constant(u64),
    /// Exponential with this mean.
    Exponential(f64),
    /// Uniform on `[low, low + width]`.
    Uniform {
        /// Lower end.
        low: f64,
        /// Width.
        width: f64,
    },
    /// exp(N(mu, sigma²)), in log-nanoseconds.
    LogNormal {
        /// Mean of the log.
        mu: f64,
        /// Standard deviation of the log.
        sigma: f64,
    },
    /// Gamma with this shape and scale.
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ (mean = kθ).
        scale: f64,
    },
    /// Each value equally likely.
    Empirical(Box<[u64]>),
}

impl Sampler {
    /// Compiles a checked distribution.
    pub fn new(distribution: &Distribution) -> Self {
        let ns = |t: &crate::model::TimeSpan| t.as_nanos();
        let f = |t: &crate::model::TimeSpan| t.as_nanos() as f64;
        match distribution {
            Distribution::Constant(value) => Self::Constant(ns(value)),
            Distribution::Exponential { mean } => Self::Exponential(f(mean)),
            Distribution::Uniform { min, max } => Self::Uniform {
                low: f(min),
                width: f(max) - f(min),
            },
            Distribution::LogNormal { .. } | Distribution::LogNormalMuSigma { .. } => {
                let params =
                    distribution
                        .lognormal_params()
                        .unwrap_or(crate::model::LogNormalParams {
                            mu: 0.0,
                            sigma: 0.0,
                        });
                Self::LogNormal {
                    mu: params.mu + 1e9_f64.ln(),
                    sigma: params.sigma,
                }
            }
            Distribution::Gamma { mean, shape } => Self::Gamma {
                shape: *shape,
                scale: f(mean) / shape,
            },
            Distribution::Erlang { mean, k } => {
                let shape = f64::from(*k);
                Self::Gamma {
                    shape,
                    scale: f(mean) / shape,
                }
            }
            Distribution::Empirical(values) => Self::Empirical(values.iter().map(ns).collect()),
        }
    }

    /// True when every draw is zero, so callers can skip scheduling a delay.
    pub fn is_zero(&self) -> bool {
        matches!(self, Self::Constant(0))
    }

    /// One draw, in nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        let value = match self {
            Self::Constant(value) => return *value,
            Self::Exponential(mean) => mean * rng.exp1(),
            Self::Uniform { low, width } => low + width * rng.unit(),
            Self::LogNormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
            Self::Gamma { shape, scale } => scale * gamma(*shape, rng),
            Self::Empirical(values) => {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "validated below 2^32 values"
                )]
                let index = rng.below(values.len() as u32) as usize;
                return values[index];
            }
        };
        // `as` saturates: huge draws become u64::MAX, NaN becomes 0.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ns = value.round() as u64;
        ns
    }
}

/// A Gamma(shape, 1) draw by Marsaglia and Tsang's method (2000), boosted
/// by U^(1/shape) for shapes below one.
#[expect(clippy::many_single_char_names, reason = "the names of the paper")]
pub(super) fn gamma(shape: f64, rng: &mut Rng) -> f64 {
    if shape < 1.0 {
        return gamma(shape + 1.0, rng) * rng.unit_open().powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z = rng.normal();
        let v = 1.0 + c * z;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.unit_open();
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sampler;
    use crate::model::Distribution;
    use crate::sim::rng::Rng;

    /// Sample mean and second moment against the distribution's own formulas.
    fn check_moments(text: &str) {
        let dist: Distribution = text.parse().unwrap();
        let sampler = Sampler::new(&dist);
        let mut rng = Rng::stream(3, 0, text);
        let n = 300_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let x = sampler.sample(&mut rng) as f64 / 1e9;
            sum += x;
            sq += x * x;
        }
        let n = f64::from(n);
        let (mean, m2) = (dist.mean_secs(), dist.second_moment_secs2());
        let sd = (m2 - mean * mean).max(0.0).sqrt();
        // Five standard errors of the mean; the second moment is looser
        // because heavy tails make its estimate noisy.
        assert!(
            (sum / n - mean).abs() <= 5.0 * sd / n.sqrt() + 1e-9,
            "{text}: mean {} vs {mean}",
            sum / n
        );
        assert!(
            (sq / n / m2 - 1.0).abs() < 0.05,
            "{text}: E[X²] {} vs {m2}",
            sq / n
        );
    }

    #[test]
    fn sample_moments_match_the_formulas() {
        for text in [
            "5ms",
            "exp:5ms",
            "uniform:1ms..5ms",
            "lognormal:10ms,p99=40ms",
            "lognormal:mu=-4.6,sigma=0.5",
            "gamma:10ms,shape=2.5",
            "gamma:10ms,shape=0.5",
            "erlang:10ms,k=3",
            "empirical:1ms,2ms,6ms",
        ] {
            check_moments(text);
        }
    }
}
