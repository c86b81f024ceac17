//! Progress of a long run on stderr, when stderr is a terminal: after two
//! seconds, one line redrawn in place (done, rate, time left), erased when
//! the run ends. Nothing goes to stdout, and nothing to a pipe or a file.

use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run goes quietly before its progress is shown.
const QUIET: Duration = Duration::from_secs(2);
/// How often the line is redrawn.
const EVERY: Duration = Duration::from_millis(250);

/// What the line says: the unit counted and the total expected.
#[derive(Clone, Debug)]
pub struct Counting {
    /// The command, such as `simulate`.
    pub what: &'static str,
    /// The unit counted, plural: `points`; `None` counts percent.
    pub unit: Option<&'static str>,
}

/// The shared state a run updates and the drawing thread reads.
#[derive(Debug, Default)]
struct Shared {
    /// Units (or percent × 100) done, as f64 bits.
    done: AtomicU64,
    /// Units (or 10,000) planned, as f64 bits.
    planned: AtomicU64,
    /// A sweep's own counters, read in place of `done` and `planned`.
    sweep: Option<Arc<crate::sim::SweepProgress>>,
    finished: AtomicBool,
    wake: (Mutex<()>, std::sync::Condvar),
}

impl Shared {
    /// (done, planned), from the sweep's counters when following a sweep.
    fn read(&self) -> (f64, f64) {
        match &self.sweep {
            Some(points) => (
                points.done.load(Ordering::Relaxed) as f64,
                points.planned.load(Ordering::Relaxed) as f64,
            ),
            None => (
                f64::from_bits(self.done.load(Ordering::Relaxed)),
                f64::from_bits(self.planned.load(Ordering::Relaxed)),
            ),
        }
    }
}

/// A progress line on stderr; does nothing when stderr is not a terminal.
pub struct Progress {
    shared: Arc<Shared>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the drawing thread if stderr is a terminal; the run tells it
    /// how far it has got with [`Progress::set`].
    pub fn start(counting: Counting) -> Self {
        Self::with(counting, Shared::default())
    }

    /// Starts the drawing thread if stderr is a terminal, reading how far a
    /// sweep has got from its own counters.
    pub fn follow_sweep(counting: Counting, points: Arc<crate::sim::SweepProgress>) -> Self {
        Self::with(
            counting,
            Shared {
                sweep: Some(points),
                ..Shared::default()
            },
        )
    }

    fn with(counting: Counting, shared: Shared) -> Self {
        let shared = Arc::new(shared);
        let drawer = std::io::stderr()
            .is_terminal()
            .then(|| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("progress".into())
                    .spawn(move || {
                        draw(&shared, &counting, &mut std::io::stderr(), QUIET, EVERY);
                    })
                    // No thread, no progress line: the run itself goes on.
                    .ok()
            })
            .flatten();
        Self { shared, drawer }
    }

    /// Records how far the run has got.
    pub fn set(&self, done: f64, planned: f64) {
        self.shared.done.store(done.to_bits(), Ordering::Relaxed);
        self.shared
            .planned
            .store(planned.to_bits(), Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.shared.finished.store(true, Ordering::Relaxed);
        self.shared.wake.1.notify_all();
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

/// Draws until the run finishes: first after `quiet`, then every `every`.
fn draw(
    shared: &Shared,
    counting: &Counting,
    out: &mut dyn Write,
    quiet: Duration,
    every: Duration,
) {
    #[expect(clippy::disallowed_methods, reason = "the CLI paces its progress line")]
    let start = Instant::now();
    let mut shown = false;
    let (lock, wake) = &shared.wake;
    let mut guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let wait = if shown {
            every
        } else {
            quiet.saturating_sub(start.elapsed())
        };
        guard = wake
            .wait_timeout(guard, wait)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if shared.finished.load(Ordering::Relaxed) {
            break;
        }
        if start.elapsed() < quiet {
            continue;
        }
        let (done, planned) = shared.read();
        let text = line(counting, done, planned, start.elapsed());
        // Erase to the end of the line, so a shorter line leaves nothing.
        let _ = write!(out, "\r{text}\x1b[K");
        let _ = out.flush();
        shown = true;
    }
    if shown {
        let _ = write!(out, "\r\x1b[K");
        let _ = out.flush();
    }
}

/// The progress line: done, rate and time left.
pub fn line(counting: &Counting, done: f64, planned: f64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let fraction = if planned > 0.0 {
        (done / planned).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let left = if fraction > 0.0 {
        format!("about {} left", rough(secs * (1.0 - fraction) / fraction))
    } else {
        "time left not yet known".to_owned()
    };
    match counting.unit {
        Some(unit) => format!(
            "{}: {done:.0} of {planned:.0} {unit} ({:.1} {unit}/s), {left}",
            counting.what,
            done / secs,
        ),
        None => format!(
            "{}: {:.0}% done ({:.1}%/s), {left}",
            counting.what,
            100.0 * fraction,
            100.0 * fraction / secs,
        ),
    }
}

/// A time to wait, as a person would say it: "12 s", "4 min", "1.5 h".
fn rough(secs: f64) -> String {
    if secs < 90.0 {
        format!("{:.0} s", secs.ceil())
    } else if secs < 90.0 * 60.0 {
        format!("{:.0} min", (secs / 60.0).round())
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_done_rate_and_time_left() {
        let points = Counting {
            what: "sweep",
            unit: Some("points"),
        };
        // 5 of 20 points in 10 s: 0.5 a second, 30 s left.
        assert_eq!(
            line(&points, 5.0, 20.0, Duration::from_secs(10)),
            "sweep: 5 of 20 points (0.5 points/s), about 30 s left"
        );
        let percent = Counting {
            what: "simulate",
            unit: None,
        };
        // A quarter in 4 s: 6.25% a second, 12 s left.
        assert_eq!(
            line(&percent, 0.25, 1.0, Duration::from_secs(4)),
            "simulate: 25% done (6.2%/s), about 12 s left"
        );
        assert_eq!(
            line(&percent, 0.9, 1.0, Duration::from_secs(1000)),
            "simulate: 90% done (0.1%/s), about 2 min left"
        );
        assert_eq!(
            line(&percent, 0.0, 1.0, Duration::from_secs(3)),
            "simulate: 0% done (0.0%/s), time left not yet known"
        );
    }

    /// Runs the drawing loop with `quiet` against a run that ends after
    /// `run`, returning what it wrote.
    fn drawn(quiet: Duration, run: Duration) -> String {
        let shared = Arc::new(Shared::default());
        shared.done.store(0.5_f64.to_bits(), Ordering::Relaxed);
        shared.planned.store(1.0_f64.to_bits(), Ordering::Relaxed);
        let drawer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("drawer".into())
                .spawn(move || {
                    let counting = Counting {
                        what: "simulate",
                        unit: None,
                    };
                    let mut bytes = Vec::new();
                    draw(
                        &shared,
                        &counting,
                        &mut bytes,
                        quiet,
                        Duration::from_millis(10),
                    );
                    bytes
                })
                .unwrap()
        };
        std::thread::sleep(run);
        shared.finished.store(true, Ordering::Relaxed);
        shared.wake.1.notify_all();
        String::from_utf8(drawer.join().unwrap()).unwrap()
    }

    /// A run shorter than the quiet time draws nothing; a longer one draws
    /// lines and erases the last when it ends.
    #[test]
    fn a_short_run_draws_nothing_and_a_long_one_erases_its_line() {
        assert_eq!(drawn(Duration::from_mins(1), Duration::from_millis(50)), "");
        let text = drawn(Duration::ZERO, Duration::from_millis(300));
        assert!(text.starts_with("\rsimulate: 50% done"), "{text:?}");
        assert!(text.ends_with("\r\x1b[K"), "{text:?}");
    }
}
