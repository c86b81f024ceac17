//! RFC 3339 instants, as `--start-at` takes them: `2026-12-02T10:00:00Z`,
//! with fractional seconds and a `±HH:MM` offset allowed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The instant `text` names.
pub fn rfc3339(text: &str) -> Result<SystemTime, String> {
    let bad = |what: &str| {
        Err(format!(
            "{what}; write an RFC 3339 instant like 2026-12-02T10:00:00Z or 2026-12-02T11:00:00.5+01:00"
        ))
    };
    let text = text.trim();
    let Some((date, rest)) = text.split_once(['T', 't', ' ']) else {
        return bad("no time of day");
    };
    let number = |s: &str, digits: usize| -> Option<u64> {
        (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut d = date.split('-');
    let (Some(year), Some(month), Some(day), None) = (
        d.next().and_then(|s| number(s, 4)),
        d.next().and_then(|s| number(s, 2)),
        d.next().and_then(|s| number(s, 2)),
        d.next(),
    ) else {
        return bad("the date is not YYYY-MM-DD");
    };
    let (clock, offset_s): (&str, i64) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(at) = rest.rfind(['+', '-']) {
        let (clock, zone) = rest.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let Some((h, m)) = zone[1..].split_once(':') else {
            return bad("the offset is not ±HH:MM");
        };
        let (Some(h), Some(m)) = (number(h, 2), number(m, 2)) else {
            return bad("the offset is not ±HH:MM");
        };
        if h > 23 || m > 59 {
            return bad("the offset is out of range");
        }
        (clock, sign * i64::try_from(h * 3600 + m * 60).unwrap_or(0))
    } else {
        return bad("no time zone (Z or ±HH:MM)");
    };
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut c = whole.split(':');
    let (Some(hour), Some(minute), Some(second), None) = (
        c.next().and_then(|s| number(s, 2)),
        c.next().and_then(|s| number(s, 2)),
        c.next().and_then(|s| number(s, 2)),
        c.next(),
    ) else {
        return bad("the time is not HH:MM:SS");
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return bad("the month is out of range"),
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return bad("a field is out of range");
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
        return bad("the fraction of a second is not digits (at most 9)");
    }
    let nanos: u32 = format!("{fraction:0<9}").parse().unwrap_or(0);
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400
        + i64::try_from(hour * 3600 + minute * 60 + second.min(59)).unwrap_or(0)
        - offset_s;
    let Ok(seconds) = u64::try_from(seconds) else {
        return bad("the instant is before 1970");
    };
    Ok(UNIX_EPOCH + Duration::new(seconds, nanos))
}

/// `at` in RFC 3339, UTC, to the second: `2026-12-02T10:00:00Z`.
pub fn format_rfc3339(at: SystemTime) -> String {
    let seconds = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> i64 {
    let y = i64::try_from(year).unwrap_or(0) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::try_from(month).unwrap_or(1);
    let doy =
        (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::try_from(day).unwrap_or(1) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds since the epoch.
    fn unix(text: &str) -> u128 {
        rfc3339(text)
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
    }

    #[test]
    fn instants_are_read_to_the_second_worked_by_hand() {
        assert_eq!(unix("1970-01-01T00:00:00Z"), 0);
        // 2000-03-01 is day 11,017 (30 years of 365 days, 7 leap days, and
        // Jan + Feb 2000: 31 + 29).
        assert_eq!(unix("2000-03-01T00:00:00Z"), 11_017 * 86_400_000);
        assert_eq!(unix("2026-12-02T10:00:00Z"), 1_796_205_600_000);
        assert_eq!(unix("2026-12-02T11:00:00+01:00"), 1_796_205_600_000);
        assert_eq!(unix("2026-12-02T04:30:00-05:30"), 1_796_205_600_000);
        assert_eq!(unix("2026-12-02t10:00:00.25z"), 1_796_205_600_250);
    }

    #[test]
    fn instants_are_written_as_they_are_read() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2000-03-01T00:00:00Z",
            "2026-12-02T10:00:00Z",
            "2100-12-31T12:34:56Z",
        ] {
            assert_eq!(format_rfc3339(rfc3339(text).unwrap()), text);
        }
    }

    #[test]
    fn malformed_instants_say_what_is_wrong() {
        for text in [
            "2026-12-02",
            "2026-12-02T10:00:00",
            "2026-13-02T10:00:00Z",
            "2026-02-29T10:00:00Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T10:00Z",
            "2026-12-02T10:00:00+1:00",
            "1969-12-31T23:59:59Z",
            "2026-12-02T10:00:00.x Z",
        ] {
            assert!(rfc3339(text).is_err(), "{text}");
        }
        assert!(rfc3339("2024-02-29T10:00:00Z").is_ok());
    }
}
