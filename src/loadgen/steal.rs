//! The host's steal time: CPU time a virtual machine's host gave to others
//! while this machine's cores wanted to run. A load test on a shared cloud
//! machine can lose tens of milliseconds at a time this way; the report says
//! so per second rather than pass it off as the server's latency.
//!
//! Linux reports it in `/proc/stat` in clock ticks (`USER_HZ`, 100 a second
//! on every architecture Linux supports for user space that matters here),
//! summed over the cores. Elsewhere it is not known.

/// Milliseconds in one clock tick of `/proc/stat`.
const MS_PER_TICK: f64 = 10.0;

/// Steal time per second of a run, read at second boundaries.
pub struct Meter {
    /// The second being measured, and the counter at its start.
    second: u64,
    at_start: u64,
    /// Milliseconds of steal in each second so far.
    per_second: Vec<f64>,
}

impl Meter {
    /// Starts measuring, or none where steal time is not known.
    pub fn start() -> Option<Self> {
        Some(Self {
            second: 0,
            at_start: read()?,
            per_second: Vec::new(),
        })
    }

    /// Called often; closes each second as `second` passes it.
    pub fn at(&mut self, second: u64) {
        if second <= self.second {
            return;
        }
        let Some(now) = read() else { return };
        let ms = now.saturating_sub(self.at_start) as f64 * MS_PER_TICK;
        // The steal of a second the heartbeat slept through is put on the
        // second it woke in; the seconds skipped show none.
        while self.second < second {
            self.per_second.push(0.0);
            self.second += 1;
        }
        if let Some(last) = self.per_second.last_mut() {
            *last = ms;
        }
        self.at_start = now;
    }

    /// Closes the last second and returns the steal of each, in ms.
    pub fn finish(mut self, seconds: u64) -> Vec<f64> {
        self.at(seconds.max(self.second + 1));
        self.per_second
    }
}

/// The total steal time so far, in ticks.
fn read() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse(&text)
}

/// The steal field (the eighth number) of the `cpu` line of `/proc/stat`.
fn parse(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    line.split_whitespace().nth(8)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steal_field_is_read_from_the_cpu_line() {
        let stat = "cpu  1748135 0 175517 1039332 11813 0 17332 9080 0 0\n\
                    cpu0 874067 0 87758 519666 5906 0 8666 4540 0 0\n";
        assert_eq!(parse(stat), Some(9080));
        assert_eq!(parse("cpu0 1 2 3\n"), None);
        assert_eq!(parse("cpu  1 2 3\n"), None);
    }
}
