//! Durations as they are written in project files: `"12ms"`, `"1.5s"`, `"250us"`.
//!
//! A [`TimeSpan`] is a whole number of nanoseconds. It parses from a number
//! followed by a unit and always prints in the largest unit that keeps the
//! value at or above one, so the same span always saves to the same text.

use std::fmt;
use std::str::FromStr;

/// A non-negative span of time, in whole nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeSpan(u64);

/// Units accepted in time strings, largest first, with their length in nanoseconds.
const UNITS: [(&str, u64); 7] = [
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("ns", 1),
];

/// The longest span a project may name: one year, far beyond any sensible run,
/// and far below where nanosecond arithmetic would overflow.
pub const MAX_SPAN_NS: u64 = 365 * 24 * 3_600_000_000_000;

impl TimeSpan {
    /// No time at all.
    pub const ZERO: Self = Self(0);

    /// A span of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        Self(ns)
    }

    /// A span of `ms` milliseconds, rounded to the nanosecond. Negative or
    /// non-finite input gives zero.
    pub fn from_millis_f64(ms: f64) -> Self {
        Self::from_secs_f64(ms / 1e3)
    }

    /// A span of `secs` seconds, rounded to the nanosecond. Negative or
    /// non-finite input gives zero; huge input saturates.
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_finite() && secs > 0.0 {
            // `as` saturates for floats out of range, which is what we want.
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let ns = (secs * 1e9).round() as u64;
            Self(ns)
        } else {
            Self(0)
        }
    }

    /// The span in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The span in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// The span in milliseconds.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

/// Why a time string did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeSpanError {
    /// Nothing was given.
    #[error("empty time; write a number and a unit, like \"12ms\"")]
    Empty,
    /// The unit is missing or unknown.
    #[error("\"{0}\" needs a unit: ns, us, ms, s, m or h (like \"12ms\")")]
    Unit(String),
    /// The number is not a non-negative finite number.
    #[error("\"{0}\" is not a non-negative time")]
    Number(String),
    /// The span is over [`MAX_SPAN_NS`].
    #[error("\"{0}\" is longer than a year")]
    TooLong(String),
}

/// A duration for people to read, in the unit that suits it: `"350 µs"`,
/// `"21 ms"`, `"9.8 ms"`, `"12.5 s"`, `"2.0 h"`. Milliseconds up to 10 s,
/// seconds up to an hour, then hours. Three significant digits at most.
pub fn human_secs(secs: f64) -> String {
    if !secs.is_finite() {
        return "–".into();
    }
    let a = secs.abs();
    let (value, unit) = if a == 0.0 {
        (0.0, "ms")
    } else if a < 1e-6 {
        (secs * 1e9, "ns")
    } else if a < 1e-3 {
        (secs * 1e6, "µs")
    } else if a < 10.0 {
        (secs * 1e3, "ms")
    } else if a < 3600.0 {
        (secs, "s")
    } else {
        (secs / 3600.0, "h")
    };
    format!("{} {unit}", three_digits(value))
}

/// `value` with at most three significant digits and no trailing zeros.
fn three_digits(value: f64) -> String {
    let a = value.abs();
    let text = if a >= 100.0 {
        format!("{value:.0}")
    } else if a >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

impl FromStr for TimeSpan {
    type Err = TimeSpanError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TimeSpanError::Empty);
        }
        let split = text
            .find(|c: char| c.is_alphabetic() || c == 'µ')
            .ok_or_else(|| TimeSpanError::Unit(text.to_owned()))?;
        let (number, unit) = text.split_at(split);
        let Some(&(_, unit_ns)) = UNITS.iter().find(|(name, _)| *name == unit.trim()) else {
            return Err(TimeSpanError::Unit(text.to_owned()));
        };
        let number = number.trim();
        // A plain decimal is read exactly, so every span prints and reads
        // back as itself; other forms (exponents) go through f64.
        if let Some(ns) = exact_ns(number, unit_ns) {
            return if ns > u128::from(MAX_SPAN_NS) {
                Err(TimeSpanError::TooLong(text.to_owned()))
            } else {
                #[expect(clippy::cast_possible_truncation, reason = "at most MAX_SPAN_NS")]
                Ok(Self(ns as u64))
            };
        }
        let value: f64 = number
            .parse()
            .map_err(|_| TimeSpanError::Number(text.to_owned()))?;
        if !value.is_finite() || value < 0.0 || number.starts_with('-') {
            return Err(TimeSpanError::Number(text.to_owned()));
        }
        let ns = value * unit_ns as f64;
        if ns > MAX_SPAN_NS as f64 {
            return Err(TimeSpanError::TooLong(text.to_owned()));
        }
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(Self(ns.round() as u64))
    }
}

/// `number` units of `unit_ns` nanoseconds, rounded to the nearest
/// nanosecond, when `number` is a plain decimal (digits, at most one point);
/// saturating far above any span allowed.
fn exact_ns(number: &str, unit_ns: u64) -> Option<u128> {
    // Beyond 24 digits either part is far past a year (or below a
    // nanosecond); 10^24 hours of nanoseconds still fit in a u128.
    const DIGITS: usize = 24;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let value = |s: &str| -> u128 {
        s.bytes()
            .take(DIGITS)
            .fold(0, |n, b| n * 10 + u128::from(b - b'0'))
    };
    let whole = whole.trim_start_matches('0');
    if whole.len() > DIGITS {
        return Some(u128::MAX);
    }
    let unit = u128::from(unit_ns);
    let fraction = &fraction[..fraction.len().min(DIGITS)];
    let scale = 10_u128.pow(u32::try_from(fraction.len()).unwrap_or(0));
    let part = (value(fraction) * unit + scale / 2) / scale;
    Some(value(whole) * unit + part)
}

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0ms");
        }
        // Seconds and below read best; minutes and hours only for whole values.
        let (unit, unit_ns) = UNITS
            .iter()
            .copied()
            .filter(|&(name, _)| name != "µs")
            .find(|&(_, unit_ns)| {
                self.0 >= unit_ns && (unit_ns <= 1_000_000_000 || self.0.is_multiple_of(unit_ns))
            })
            .unwrap_or(("ns", 1));
        // Exactly, in integers: the units that leave a remainder are powers
        // of ten, so the remainder is the decimal fraction's digits.
        let (whole, rest) = (self.0 / unit_ns, self.0 % unit_ns);
        if rest == 0 {
            return write!(f, "{whole}{unit}");
        }
        let width = unit_ns.ilog10() as usize;
        let fraction = format!("{rest:0width$}");
        write!(f, "{whole}.{}{unit}", fraction.trim_end_matches('0'))
    }
}

serde_as_text!(TimeSpan);

impl From<TimeSpan> for std::time::Duration {
    fn from(span: TimeSpan) -> Self {
        Self::from_nanos(span.0)
    }
}

#[cfg(test)]
mod tests {
    use super::TimeSpan;

    #[test]
    fn human_durations_use_the_unit_that_suits_them() {
        for (secs, text) in [
            (0.0, "0 ms"),
            (5e-7, "500 ns"),
            (3.5e-4, "350 µs"),
            (0.021, "21 ms"),
            (0.0098, "9.8 ms"),
            (9.5, "9500 ms"),
            (20.888, "20.9 s"),
            (7200.0, "2 h"),
        ] {
            assert_eq!(super::human_secs(secs), text, "{secs}");
        }
    }

    fn check(text: &str, ns: u64, printed: &str) {
        let span: TimeSpan = text.parse().unwrap();
        assert_eq!(span.as_nanos(), ns, "{text}");
        assert_eq!(span.to_string(), printed, "{text}");
        assert_eq!(printed.parse::<TimeSpan>().unwrap(), span, "{printed}");
    }

    #[test]
    fn parses_and_prints_units() {
        check("12ms", 12_000_000, "12ms");
        check("1.5s", 1_500_000_000, "1.5s");
        check("250us", 250_000, "250us");
        check("250µs", 250_000, "250us");
        check("1500ms", 1_500_000_000, "1.5s");
        check("90s", 90_000_000_000, "90s");
        check("2m", 120_000_000_000, "2m");
        check("0.5ns", 1, "1ns");
        check("0s", 0, "0ms");
        check(" 3 ms ", 3_000_000, "3ms");
    }

    #[test]
    fn refuses_bad_times() {
        for bad in [
            "",
            "12",
            "ms",
            "-5ms",
            "5 parsecs",
            "NaNms",
            "infs",
            "1e30s",
        ] {
            assert!(bad.parse::<TimeSpan>().is_err(), "{bad:?} should not parse");
        }
    }
}
