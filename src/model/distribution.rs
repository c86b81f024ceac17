//! Probability distributions of time: service times, network latency, think time.
//!
//! In a project file a distribution is one string, the same syntax the CLI takes:
//!
//! | text                          | meaning                                             |
//! |-------------------------------|-----------------------------------------------------|
//! | `"5ms"` or `"const:5ms"`      | always 5 ms                                         |
//! | `"exp:5ms"`                   | exponential with mean 5 ms                          |
//! | `"uniform:1ms..5ms"`          | uniform between 1 and 5 ms                          |
//! | `"lognormal:10ms,p99=80ms"`   | lognormal with mean 10 ms and 99th percentile 80 ms |
//! | `"lognormal:mu=-4.6,sigma=0.5"` | lognormal whose log (of seconds) is N(mu, sigma²) |
//! | `"gamma:10ms,shape=2.5"`      | gamma with mean 10 ms and shape 2.5                 |
//! | `"erlang:10ms,k=3"`           | Erlang: the sum of k exponentials, mean 10 ms       |
//! | `"empirical:1ms,2ms,5ms"`     | each listed value equally likely                    |
//!
//! Parsing checks only the form. Whether the parameters make sense (a p99 below
//! the mean, a negative shape) is [`Distribution::check`]'s job, so a file with
//! several such mistakes reports all of them at once.

use std::fmt;
use std::str::FromStr;

use super::time::{TimeSpan, TimeSpanError};

/// The standard normal quantile at 0.99.
pub const Z_99: f64 = 2.326_347_874_040_841;

/// A distribution of non-negative times.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Always the same value.
    Constant(TimeSpan),
    /// Exponential (memoryless) with the given mean.
    Exponential {
        /// The mean.
        mean: TimeSpan,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// The smallest value.
        min: TimeSpan,
        /// The largest value.
        max: TimeSpan,
    },
    /// Lognormal given by its mean and 99th percentile, the way latencies are quoted.
    LogNormal {
        /// The mean.
        mean: TimeSpan,
        /// The 99th percentile; must be above the mean.
        p99: TimeSpan,
    },
    /// Lognormal whose natural log, in seconds, is normal with mean `mu` and
    /// standard deviation `sigma`.
    LogNormalMuSigma {
        /// Mean of the log of the value in seconds.
        mu: f64,
        /// Standard deviation of the log of the value.
        sigma: f64,
    },
    /// Gamma with the given mean and shape (shape 1 is exponential).
    Gamma {
        /// The mean.
        mean: TimeSpan,
        /// The shape parameter k; the squared coefficient of variation is 1/k.
        shape: f64,
    },
    /// Erlang: the sum of `k` exponential phases, with the given total mean.
    Erlang {
        /// The mean.
        mean: TimeSpan,
        /// The number of phases.
        k: u32,
    },
    /// Each listed value is equally likely.
    Empirical(Vec<TimeSpan>),
}

impl Default for Distribution {
    fn default() -> Self {
        Self::Constant(TimeSpan::ZERO)
    }
}

/// Parameters of a lognormal in natural-log seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormalParams {
    /// Mean of ln(value in seconds).
    pub mu: f64,
    /// Standard deviation of ln(value).
    pub sigma: f64,
}

impl Distribution {
    /// Checks the parameters; the message says what is wrong in the user's terms.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Self::Constant(_) | Self::Exponential { .. } => Ok(()),
            Self::Uniform { min, max } => {
                if min > max {
                    Err(format!("uniform minimum {min} is above its maximum {max}"))
                } else {
                    Ok(())
                }
            }
            Self::LogNormal { mean, p99 } => lognormal_from_mean_p99(*mean, *p99).map(|_| ()),
            Self::LogNormalMuSigma { mu, sigma } => {
                if !mu.is_finite() || mu.abs() > 50.0 {
                    Err(format!(
                        "lognormal mu must be a finite log of seconds, got {mu}"
                    ))
                } else if !sigma.is_finite() || *sigma <= 0.0 || *sigma > 10.0 {
                    Err(format!(
                        "lognormal sigma must be above 0 and at most 10, got {sigma}"
                    ))
                } else {
                    Ok(())
                }
            }
            Self::Gamma { mean, shape } => {
                if !shape.is_finite() || *shape <= 0.0 || *shape > 1e6 {
                    Err(format!(
                        "gamma shape must be above 0 and at most 1e6, got {shape}"
                    ))
                } else if *mean == TimeSpan::ZERO {
                    Err("gamma mean must be above zero".to_owned())
                } else {
                    Ok(())
                }
            }
            Self::Erlang { k, .. } => {
                if *k == 0 || *k > 1_000_000 {
                    Err(format!("erlang k must be between 1 and 1000000, got {k}"))
                } else {
                    Ok(())
                }
            }
            Self::Empirical(values) => {
                if values.is_empty() {
                    Err("empirical distribution needs at least one value".to_owned())
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The mean in seconds. Meaningful only when [`check`](Self::check) passes.
    pub fn mean_secs(&self) -> f64 {
        match self {
            Self::Constant(value) => value.as_secs_f64(),
            Self::Exponential { mean }
            | Self::LogNormal { mean, .. }
            | Self::Gamma { mean, .. }
            | Self::Erlang { mean, .. } => mean.as_secs_f64(),
            Self::Uniform { min, max } => f64::midpoint(min.as_secs_f64(), max.as_secs_f64()),
            Self::LogNormalMuSigma { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Self::Empirical(values) => {
                values.iter().map(|v| v.as_secs_f64()).sum::<f64>() / values.len().max(1) as f64
            }
        }
    }

    /// The second moment E\[X²\] in seconds², as the Pollaczek–Khinchine formula needs.
    pub fn second_moment_secs2(&self) -> f64 {
        let m = self.mean_secs();
        match self {
            Self::Constant(_) => m * m,
            Self::Exponential { .. } => 2.0 * m * m,
            Self::Uniform { min, max } => {
                let (a, b) = (min.as_secs_f64(), max.as_secs_f64());
                (a * a + a * b + b * b) / 3.0
            }
            Self::LogNormal { .. } | Self::LogNormalMuSigma { .. } => {
                let sigma = self.lognormal_params().map_or(0.0, |p| p.sigma);
                m * m * (sigma * sigma).exp()
            }
            Self::Gamma { shape, .. } => m * m * (1.0 + 1.0 / shape),
            Self::Erlang { k, .. } => m * m * (1.0 + 1.0 / f64::from(*k)),
            Self::Empirical(values) => {
                values.iter().map(|v| v.as_secs_f64().powi(2)).sum::<f64>()
                    / values.len().max(1) as f64
            }
        }
    }

    /// The distribution in words, with its figures spelled out for people:
    /// `"lognormal 21 ms, p99 60 ms"`, `"exponential, mean 5 ms"`.
    pub fn describe(&self) -> String {
        use super::time::human_secs;
        let t = |span: &TimeSpan| human_secs(span.as_secs_f64());
        match self {
            Self::Constant(value) if value.as_nanos() == 0 => "none".into(),
            Self::Constant(value) => format!("constant {}", t(value)),
            Self::Exponential { mean } => format!("exponential, mean {}", t(mean)),
            Self::Uniform { min, max } => format!("uniform {} to {}", t(min), t(max)),
            Self::LogNormal { mean, p99 } => format!("lognormal {}, p99 {}", t(mean), t(p99)),
            Self::LogNormalMuSigma { mu, sigma } => format!(
                "lognormal {}, p99 {}",
                human_secs((mu + sigma * sigma / 2.0).exp()),
                human_secs((mu + Z_99 * sigma).exp())
            ),
            Self::Gamma { mean, shape } => format!("gamma {}, shape {shape}", t(mean)),
            Self::Erlang { mean, k } => format!("erlang {}, {k} phases", t(mean)),
            Self::Empirical(values) => format!(
                "empirical, {} values, mean {}",
                values.len(),
                human_secs(self.mean_secs())
            ),
        }
    }

    /// For the two lognormal forms, mu and sigma in natural-log seconds.
    pub fn lognormal_params(&self) -> Option<LogNormalParams> {
        match self {
            Self::LogNormal { mean, p99 } => lognormal_from_mean_p99(*mean, *p99).ok(),
            Self::LogNormalMuSigma { mu, sigma } => Some(LogNormalParams {
                mu: *mu,
                sigma: *sigma,
            }),
            _ => None,
        }
    }

    /// This distribution with every time multiplied by `factor` (shape unchanged).
    #[must_use]
    pub fn scaled(&self, factor: f64) -> Self {
        let scale = |t: &TimeSpan| TimeSpan::from_secs_f64(t.as_secs_f64() * factor);
        match self {
            Self::Constant(value) => Self::Constant(scale(value)),
            Self::Exponential { mean } => Self::Exponential { mean: scale(mean) },
            Self::Uniform { min, max } => Self::Uniform {
                min: scale(min),
                max: scale(max),
            },
            Self::LogNormal { mean, p99 } => Self::LogNormal {
                mean: scale(mean),
                p99: scale(p99),
            },
            Self::LogNormalMuSigma { mu, sigma } => Self::LogNormalMuSigma {
                mu: mu + factor.ln(),
                sigma: *sigma,
            },
            Self::Gamma { mean, shape } => Self::Gamma {
                mean: scale(mean),
                shape: *shape,
            },
            Self::Erlang { mean, k } => Self::Erlang {
                mean: scale(mean),
                k: *k,
            },
            Self::Empirical(values) => Self::Empirical(values.iter().map(scale).collect()),
        }
    }
}

/// Solves mean = exp(mu + sigma²/2) and p99 = exp(mu + z·sigma) for mu and sigma.
fn lognormal_from_mean_p99(mean: TimeSpan, p99: TimeSpan) -> Result<LogNormalParams, String> {
    if mean == TimeSpan::ZERO {
        return Err("lognormal mean must be above zero".to_owned());
    }
    if p99 <= mean {
        return Err(format!(
            "lognormal p99 ({p99}) must be above its mean ({mean})"
        ));
    }
    // ln(p99/mean) = z·sigma − sigma²/2 has a real root only while
    // ln(p99/mean) ≤ z²/2, i.e. p99 ≤ e^(z²/2)·mean ≈ 14.96·mean.
    let gap = (p99.as_secs_f64() / mean.as_secs_f64()).ln();
    let discriminant = Z_99 * Z_99 - 2.0 * gap;
    if discriminant < 0.0 {
        let limit = (Z_99 * Z_99 / 2.0).exp();
        return Err(format!(
            "no lognormal has mean {mean} and p99 {p99}: p99 can be at most {limit:.2}× the mean"
        ));
    }
    // The smaller root is the usual, right-skewed shape.
    let sigma = Z_99 - discriminant.sqrt();
    let mu = mean.as_secs_f64().ln() - sigma * sigma / 2.0;
    Ok(LogNormalParams { mu, sigma })
}

/// Why a distribution string did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DistributionError {
    /// The name before the colon is unknown.
    #[error(
        "unknown distribution \"{0}\"; use const, exp, uniform, lognormal, gamma, erlang or empirical"
    )]
    Kind(String),
    /// The parameters after the colon are not of the form the kind needs.
    #[error("\"{text}\": {expected}")]
    Form {
        /// The whole text.
        text: String,
        /// What the kind expects.
        expected: &'static str,
    },
    /// A time inside it did not parse.
    #[error(transparent)]
    Time(#[from] TimeSpanError),
}

impl FromStr for Distribution {
    type Err = DistributionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let Some((kind, rest)) = text.split_once(':') else {
            return Ok(Self::Constant(text.parse()?));
        };
        let form = |expected| DistributionError::Form {
            text: text.to_owned(),
            expected,
        };
        let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
        let named = |part: &str, key: &str| -> Option<String> {
            let (k, v) = part.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_owned())
        };
        let number = |value: Option<String>, expected| -> Result<f64, DistributionError> {
            value
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| form(expected))
        };
        match kind.trim() {
            "const" | "constant" => Ok(Self::Constant(rest.parse()?)),
            "exp" | "exponential" => Ok(Self::Exponential {
                mean: rest.parse()?,
            }),
            "uniform" => {
                const EXPECTED: &str = "expected uniform:MIN..MAX, like uniform:1ms..5ms";
                let (min, max) = rest.split_once("..").ok_or_else(|| form(EXPECTED))?;
                Ok(Self::Uniform {
                    min: min.parse()?,
                    max: max.parse()?,
                })
            }
            "lognormal" => {
                const EXPECTED: &str =
                    "expected lognormal:MEAN,p99=P99 or lognormal:mu=MU,sigma=SIGMA";
                match parts.as_slice() {
                    [mu, sigma] if mu.starts_with("mu") => Ok(Self::LogNormalMuSigma {
                        mu: number(named(mu, "mu"), EXPECTED)?,
                        sigma: number(named(sigma, "sigma"), EXPECTED)?,
                    }),
                    [mean, p99] => Ok(Self::LogNormal {
                        mean: mean.parse()?,
                        p99: named(p99, "p99").ok_or_else(|| form(EXPECTED))?.parse()?,
                    }),
                    _ => Err(form(EXPECTED)),
                }
            }
            "gamma" => {
                const EXPECTED: &str = "expected gamma:MEAN,shape=K, like gamma:10ms,shape=2.5";
                let [mean, shape] = parts.as_slice() else {
                    return Err(form(EXPECTED));
                };
                Ok(Self::Gamma {
                    mean: mean.parse()?,
                    shape: number(named(shape, "shape"), EXPECTED)?,
                })
            }
            "erlang" => {
                const EXPECTED: &str = "expected erlang:MEAN,k=K, like erlang:10ms,k=3";
                let [mean, k] = parts.as_slice() else {
                    return Err(form(EXPECTED));
                };
                Ok(Self::Erlang {
                    mean: mean.parse()?,
                    k: named(k, "k")
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| form(EXPECTED))?,
                })
            }
            "empirical" => Ok(Self::Empirical(
                parts
                    .iter()
                    .filter(|p| !p.is_empty())
                    .map(|p| p.parse())
                    .collect::<Result<_, _>>()?,
            )),
            other => Err(DistributionError::Kind(other.to_owned())),
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Constant(value) => write!(f, "{value}"),
            Self::Exponential { mean } => write!(f, "exp:{mean}"),
            Self::Uniform { min, max } => write!(f, "uniform:{min}..{max}"),
            Self::LogNormal { mean, p99 } => write!(f, "lognormal:{mean},p99={p99}"),
            Self::LogNormalMuSigma { mu, sigma } => write!(f, "lognormal:mu={mu},sigma={sigma}"),
            Self::Gamma { mean, shape } => write!(f, "gamma:{mean},shape={shape}"),
            Self::Erlang { mean, k } => write!(f, "erlang:{mean},k={k}"),
            Self::Empirical(values) => {
                f.write_str("empirical:")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{value}")?;
                }
                Ok(())
            }
        }
    }
}

serde_as_text!(Distribution);

#[cfg(test)]
mod tests {
    use super::{Distribution, Z_99};

    #[test]
    fn every_form_round_trips_through_text() {
        for text in [
            "5ms",
            "exp:5ms",
            "uniform:1ms..5ms",
            "lognormal:10ms,p99=80ms",
            "lognormal:mu=-4.6,sigma=0.5",
            "gamma:10ms,shape=2.5",
            "erlang:10ms,k=3",
            "empirical:1ms,2ms,5ms",
        ] {
            let parsed: Distribution = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
            assert!(parsed.check().is_ok(), "{text}");
        }
    }

    #[test]
    fn descriptions_spell_out_the_figures() {
        for (text, words) in [
            ("lognormal:21ms,p99=60ms", "lognormal 21 ms, p99 60 ms"),
            ("exp:250us", "exponential, mean 250 µs"),
            ("5ms", "constant 5 ms"),
            ("0ms", "none"),
            ("uniform:1ms..12s", "uniform 1 ms to 12 s"),
            ("gamma:15ms,shape=4", "gamma 15 ms, shape 4"),
            ("erlang:10ms,k=3", "erlang 10 ms, 3 phases"),
            ("empirical:1ms,2ms,6ms", "empirical, 3 values, mean 3 ms"),
        ] {
            let parsed: Distribution = text.parse().unwrap();
            assert_eq!(parsed.describe(), words, "{text}");
        }
    }

    #[test]
    fn lognormal_from_mean_and_p99_reproduces_both() {
        let dist: Distribution = "lognormal:10ms,p99=80ms".parse().unwrap();
        let p = dist.lognormal_params().unwrap();
        let mean = (p.mu + p.sigma * p.sigma / 2.0).exp();
        let p99 = (p.mu + Z_99 * p.sigma).exp();
        assert!((mean - 0.010).abs() < 1e-12, "{mean}");
        assert!((p99 - 0.080).abs() < 1e-12, "{p99}");
    }

    #[test]
    fn impossible_parameters_are_explained() {
        for text in [
            "uniform:5ms..1ms",
            "lognormal:10ms,p99=5ms",
            "lognormal:10ms,p99=1s",
            "lognormal:mu=0,sigma=-1",
            "gamma:10ms,shape=0",
            "erlang:10ms,k=0",
        ] {
            let parsed: Distribution = text.parse().unwrap();
            assert!(parsed.check().is_err(), "{text} should be refused");
        }
        for text in [
            "weibull:5ms",
            "uniform:5ms",
            "lognormal:5ms",
            "gamma:5ms",
            "exp:-1ms",
        ] {
            assert!(
                text.parse::<Distribution>().is_err(),
                "{text} should not parse"
            );
        }
    }
}
