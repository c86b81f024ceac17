//! A precise timer for the emulator's waits and the load generator's
//! precise pacing, without a thread per wait.
//!
//! tokio's timer rounds every sleep up to a whole millisecond, which would
//! turn a 300 µs service time into more than 1 ms. Here one named thread
//! keeps every pending wait in a heap ordered by deadline. It parks until a
//! little before the earliest deadline (by its running estimate of how late
//! the OS wakes it), then spins the last stretch and wakes the waiting task
//! through a oneshot channel. Spinning is bounded by that estimate plus
//! [`SPIN_SLACK`], so an idle emulator costs no CPU and a busy one spends
//! at most one core on time.
//!
//! A woken task runs a little after the timer fires (the event loop must
//! notice the wake-up). Each wait measures how late its task ran, and the
//! timer fires that much early, by a running average: waits end on time on
//! average, instead of late by a steady tens of microseconds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Spun on top of the expected oversleep: most wake-ups then land before
/// their deadline and spin the rest, the few later ones are averaged out by
/// the lead (below). A trade: with 20 µs plus twice the jitter the timer
/// thread took 40% of a core at 5,600 waits a second, CPU the services and
/// the load generator need; with 5 µs an M/M/4 of 2 ms services measured
/// up to 8% above Erlang C, against up to 4% with this.
const SPIN_SLACK: Duration = Duration::from_micros(30);

/// The most a wait is fired early to make up for the task's wake-up.
const MAX_LEAD_NS: i64 = 300_000;

/// The most oversleep the estimate follows (a descheduled thread can be
/// late by far more; such wakes say nothing about the usual lateness).
const MAX_OVERSHOOT: Duration = Duration::from_millis(1);

struct Entry {
    at: Instant,
    sequence: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.sequence) == (other.at, other.sequence)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

struct Shared {
    heap: Mutex<(BinaryHeap<Reverse<Entry>>, u64)>,
    /// The earliest deadline, in nanoseconds from `epoch` (`u64::MAX`: none),
    /// so a new earlier wait can interrupt a spin without the lock.
    earliest_ns: AtomicU64,
    epoch: Instant,
    /// How early to fire, in nanoseconds: a running average of how late
    /// tasks ran after their deadlines (see the module's docs).
    lead_ns: AtomicI64,
    stop: AtomicBool,
    thread: Thread,
}

impl Shared {
    fn ns(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The timer's thread; it stops when dropped.
pub struct PreciseTimer {
    handle: Timer,
    thread: Option<JoinHandle<()>>,
}

/// A cheap handle to wait on the timer from any task.
#[derive(Clone)]
pub struct Timer(Arc<Shared>);

impl PreciseTimer {
    /// Starts the timer's thread.
    pub fn start() -> std::io::Result<Self> {
        let (ready, shared) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("emulate-timer".into())
            .spawn(move || {
                // Linux lets a sleeping thread wake up to 50 µs late by
                // default (its timer slack), to batch wake-ups; this
                // thread's purpose is waking on time. Elsewhere, no file.
                let _ = std::fs::write("/proc/thread-self/timerslack_ns", "1");
                #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
                let epoch = Instant::now();
                let state = Arc::new(Shared {
                    heap: Mutex::new((BinaryHeap::new(), 0)),
                    earliest_ns: AtomicU64::new(u64::MAX),
                    epoch,
                    lead_ns: AtomicI64::new(0),
                    stop: AtomicBool::new(false),
                    thread: std::thread::current(),
                });
                if ready.send(Arc::clone(&state)).is_ok() {
                    run(&state);
                }
            })?;
        let shared = shared
            .recv()
            .map_err(|_| std::io::Error::other("the timer thread did not start"))?;
        Ok(Self {
            handle: Timer(shared),
            thread: Some(thread),
        })
    }

    /// A handle to wait on it.
    pub fn handle(&self) -> Timer {
        self.handle.clone()
    }
}

impl Drop for PreciseTimer {
    fn drop(&mut self) {
        self.handle.0.stop.store(true, Ordering::Release);
        self.handle.0.thread.unpark();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Timer {
    /// Waits until `at`; at once when it has passed. A wait outliving the
    /// timer ends when the timer stops.
    pub async fn sleep_until(&self, at: Instant) {
        let shared = &self.0;
        #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
        if at <= Instant::now() {
            return;
        }
        let (wake, woken) = oneshot::channel();
        let at_ns = shared.ns(at);
        {
            let mut heap = shared.heap.lock().unwrap_or_else(PoisonError::into_inner);
            let sequence = heap.1;
            heap.1 += 1;
            heap.0.push(Reverse(Entry { at, sequence, wake }));
        }
        // When the timer will fire it: its deadline less the lead.
        let lead = u64::try_from(shared.lead_ns.load(Ordering::Relaxed)).unwrap_or(0);
        let fire_ns = at_ns.saturating_sub(lead);
        if shared.earliest_ns.fetch_min(fire_ns, Ordering::AcqRel) > fire_ns {
            shared.thread.unpark();
        }
        if woken.await.is_ok() {
            // How late this task ran, signed; the lead follows it by an
            // exponential average (races between tasks only blur it).
            #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
            let now = Instant::now();
            let late = i64::try_from(shared.ns(now)).unwrap_or(i64::MAX)
                - i64::try_from(at_ns).unwrap_or(i64::MAX);
            let lead = shared.lead_ns.load(Ordering::Relaxed);
            let next = (lead + late.clamp(-MAX_LEAD_NS, MAX_LEAD_NS) / 16).clamp(0, MAX_LEAD_NS);
            shared.lead_ns.store(next, Ordering::Relaxed);
        }
    }

    /// Waits for `duration`.
    pub async fn sleep(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
        let at = Instant::now() + duration;
        self.sleep_until(at).await;
    }
}

/// The timer thread: fire what is due, then park or spin until the next.
#[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
fn run(shared: &Shared) {
    let mut overshoot = Duration::from_micros(60);
    let mut due = Vec::new();
    while !shared.stop.load(Ordering::Acquire) {
        let lead = Duration::from_nanos(
            u64::try_from(shared.lead_ns.load(Ordering::Relaxed)).unwrap_or(0),
        );
        // Fire what is due within the lead: its task runs about on time.
        let now = Instant::now() + lead;
        let next = {
            let mut heap = shared.heap.lock().unwrap_or_else(PoisonError::into_inner);
            while heap.0.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(entry)) = heap.0.pop() {
                    due.push(entry.wake);
                }
            }
            let next = heap
                .0
                .peek()
                .map(|Reverse(e)| e.at.checked_sub(lead).unwrap_or(e.at));
            shared
                .earliest_ns
                .store(next.map_or(u64::MAX, |at| shared.ns(at)), Ordering::Release);
            next
        };
        for wake in due.drain(..) {
            let _ = wake.send(());
        }
        let Some(at) = next else {
            std::thread::park();
            continue;
        };
        let lead = at.saturating_duration_since(Instant::now());
        let margin = (overshoot + SPIN_SLACK).min(MAX_OVERSHOOT);
        if lead > margin {
            let asked = lead.saturating_sub(margin);
            let start = Instant::now();
            std::thread::park_timeout(asked);
            let late = Instant::now().saturating_duration_since(start + asked);
            // An early return was an unpark (a new wait), not the OS's lateness.
            if Instant::now() >= start + asked && late < MAX_OVERSHOOT {
                overshoot = (overshoot * 7 + late) / 8;
            }
            continue;
        }
        // The last stretch: spin, unless a new earlier wait or a stop comes.
        let at_ns = shared.ns(at);
        loop {
            let now_ns = shared.ns(Instant::now());
            if now_ns >= at_ns
                || shared.earliest_ns.load(Ordering::Acquire) < at_ns
                || shared.stop.load(Ordering::Relaxed)
            {
                break;
            }
            std::hint::spin_loop();
        }
    }
    // Wake every remaining wait: the emulation is stopping.
    let mut heap = shared.heap.lock().unwrap_or_else(PoisonError::into_inner);
    heap.0.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits end after their deadline, close to it, and in deadline order.
    #[test]
    fn waits_end_just_after_their_deadlines() {
        let timer = PreciseTimer::start().unwrap();
        let handle = timer.handle();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        #[expect(clippy::disallowed_methods, reason = "a real-time test")]
        let errors = runtime.block_on(async {
            let mut errors = Vec::new();
            for k in 0..200_u64 {
                let wait = Duration::from_micros(100 + (k * 37) % 900);
                let at = Instant::now() + wait;
                handle.sleep_until(at).await;
                errors.push(Instant::now().saturating_duration_since(at));
            }
            errors
        });
        for error in &errors {
            assert!(*error < Duration::from_secs(1));
        }
        let mut sorted = errors.clone();
        sorted.sort();
        // The median is what the design promises; the tail belongs to a
        // shared machine.
        assert!(
            sorted[sorted.len() / 2] < Duration::from_micros(200),
            "median lateness {:?}",
            sorted[sorted.len() / 2]
        );
    }
}
