//! The state a link keeps to guard its calls: the circuit breaker, the retry
//! budget, the bulkhead's counts, and what each of them did.

use crate::model::{Breaker, Jitter};
use crate::stats::LinkReport;

use super::plan::{BudgetPlan, LinkPlan, RetryPlan};
use super::rng::Rng;
use super::time::SimTime;

/// Buckets in a sliding window.
const BUCKETS: usize = 10;

/// Two counts over a sliding window of ten buckets: the sums cover between
/// nine and ten bucket widths back from now.
#[derive(Clone, Debug)]
struct Window {
    width_ns: u64,
    /// Index (time / width) of the newest bucket.
    newest: u64,
    counts: [(u64, u64); BUCKETS],
}

impl Window {
    fn new(span_ns: u64) -> Self {
        Self {
            width_ns: (span_ns / BUCKETS as u64).max(1),
            newest: 0,
            counts: [(0, 0); BUCKETS],
        }
    }

    /// Moves the window to `now`, emptying buckets that fell out of it.
    fn advance(&mut self, now: SimTime) {
        let index = now.0 / self.width_ns;
        if index == self.newest {
            return;
        }
        let stale = (index - self.newest).min(BUCKETS as u64);
        for k in 1..=stale {
            #[expect(clippy::cast_possible_truncation, reason = "taken modulo BUCKETS")]
            let slot = ((self.newest + k) % BUCKETS as u64) as usize;
            self.counts[slot] = (0, 0);
        }
        self.newest = index;
    }

    fn add(&mut self, now: SimTime, a: u64, b: u64) {
        self.advance(now);
        #[expect(clippy::cast_possible_truncation, reason = "taken modulo BUCKETS")]
        let slot = (self.newest % BUCKETS as u64) as usize;
        self.counts[slot].0 += a;
        self.counts[slot].1 += b;
    }

    fn sums(&mut self, now: SimTime) -> (u64, u64) {
        self.advance(now);
        self.counts
            .iter()
            .fold((0, 0), |(a, b), (x, y)| (a + x, b + y))
    }

    fn clear(&mut self) {
        self.counts = [(0, 0); BUCKETS];
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum BreakerState {
    Closed,
    Open { until: SimTime },
    HalfOpen { probing: u32, passed: u32 },
}

/// A circuit breaker (see [`Breaker`] for the rules).
#[derive(Clone, Debug)]
pub struct BreakerGate {
    spec: Breaker,
    state: BreakerState,
    /// (calls, failures) that finished while closed.
    outcomes: Window,
}

/// Whether a call may go through a breaker, and as what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// Closed: an ordinary call.
    Call,
    /// Half-open: a trial call whose outcome decides.
    Probe,
    /// Open: fail at once.
    Refused,
}

impl BreakerGate {
    fn new(spec: Breaker) -> Self {
        Self {
            spec,
            state: BreakerState::Closed,
            outcomes: Window::new(spec.window.as_nanos()),
        }
    }

    fn permit(&mut self, now: SimTime) -> Permit {
        if let BreakerState::Open { until } = self.state
            && now >= until
        {
            self.state = BreakerState::HalfOpen {
                probing: 0,
                passed: 0,
            };
        }
        match &mut self.state {
            BreakerState::Closed => Permit::Call,
            BreakerState::Open { .. } => Permit::Refused,
            BreakerState::HalfOpen { probing, passed } => {
                if *probing + *passed < self.spec.probes {
                    *probing += 1;
                    Permit::Probe
                } else {
                    Permit::Refused
                }
            }
        }
    }

    /// Records how a call ended; returns true when this opened the breaker.
    fn record(&mut self, now: SimTime, permit: Permit, ok: bool) -> bool {
        match (self.state, permit) {
            (BreakerState::Closed, Permit::Call) => {
                self.outcomes.add(now, 1, u64::from(!ok));
                let (calls, failures) = self.outcomes.sums(now);
                let trips = calls >= u64::from(self.spec.min_calls)
                    && failures as f64 >= self.spec.failure_ratio * calls as f64;
                if trips {
                    self.open(now);
                }
                trips
            }
            (BreakerState::HalfOpen { probing, passed }, Permit::Probe) => {
                if ok {
                    let passed = passed + 1;
                    if passed >= self.spec.probes {
                        self.state = BreakerState::Closed;
                        self.outcomes.clear();
                    } else {
                        self.state = BreakerState::HalfOpen {
                            probing: probing - 1,
                            passed,
                        };
                    }
                    false
                } else {
                    self.open(now);
                    true
                }
            }
            // Calls that started in an earlier state say nothing now.
            _ => false,
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = BreakerState::Open {
            until: now.after(self.spec.open_for.as_nanos()),
        };
        self.outcomes.clear();
    }
}

/// One link's guards.
#[derive(Clone, Debug)]
pub struct LinkGuard {
    pub breaker: Option<BreakerGate>,
    /// Attempts in flight, per caller replica.
    in_flight: Vec<u32>,
    /// (first attempts, retries) over the last ten seconds.
    budget: Window,
    /// What the guards did over the measured window.
    pub tally: LinkReport,
}

/// The retry budget's window: ten seconds, as in Finagle.
const BUDGET_SPAN_NS: u64 = 10_000_000_000;

impl LinkGuard {
    pub fn new(link: &LinkPlan, caller_replicas: u32) -> Self {
        Self {
            breaker: link.breaker.map(BreakerGate::new),
            in_flight: vec![0; caller_replicas as usize],
            budget: Window::new(BUDGET_SPAN_NS),
            tally: LinkReport {
                link: link.name.clone(),
                ..LinkReport::default()
            },
        }
    }

    /// Admits an attempt from `replica`, or says why not.
    pub fn admit(
        &mut self,
        link: &LinkPlan,
        now: SimTime,
        replica: u32,
    ) -> Result<Permit, Refusal> {
        if let Some(max) = link.max_concurrent
            && self.in_flight[replica as usize] >= max
        {
            return Err(Refusal::Bulkhead);
        }
        let permit = self
            .breaker
            .as_mut()
            .map_or(Permit::Call, |b| b.permit(now));
        if permit == Permit::Refused {
            return Err(Refusal::Breaker);
        }
        self.in_flight[replica as usize] += 1;
        Ok(permit)
    }

    /// An admitted attempt ended (answered or timed out); returns true when
    /// this opened the breaker.
    pub fn settle(&mut self, now: SimTime, replica: u32, permit: Permit, ok: bool) -> bool {
        self.in_flight[replica as usize] -= 1;
        self.breaker
            .as_mut()
            .is_some_and(|b| b.record(now, permit, ok))
    }

    /// Counts a first attempt towards the retry budget.
    pub fn first_attempt(&mut self, now: SimTime) {
        self.budget.add(now, 1, 0);
    }

    /// Whether the budget allows one more retry; spends it if so.
    pub fn spend_retry(&mut self, now: SimTime, retry: &RetryPlan) -> bool {
        let Some(BudgetPlan {
            ratio,
            min_per_second: per_second,
        }) = retry.budget
        else {
            return true;
        };
        let (firsts, retries) = self.budget.sums(now);
        let allowed = ratio * firsts as f64 + per_second * (BUDGET_SPAN_NS as f64 / 1e9);
        if (retries + 1) as f64 <= allowed {
            self.budget.add(now, 0, 1);
            true
        } else {
            false
        }
    }
}

/// Why an attempt was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Breaker,
    Bulkhead,
}

/// The wait before retry number `retry` (1 for the first), in nanoseconds.
pub fn backoff(retry: &RetryPlan, number: u32, rng: &mut Rng) -> u64 {
    let doubled = retry
        .backoff_ns
        .saturating_mul(1_u64 << (number - 1).min(40))
        .min(retry.max_backoff_ns);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a fraction of a u64"
    )]
    let part = |share: f64| (share * doubled as f64) as u64;
    match retry.jitter {
        Jitter::None => doubled,
        Jitter::Full => part(rng.unit()),
        Jitter::Equal => doubled / 2 + part(rng.unit() / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSpan;

    fn ms(v: u64) -> SimTime {
        SimTime(v * 1_000_000)
    }

    #[test]
    fn a_window_forgets_old_buckets() {
        let mut w = Window::new(1_000_000_000); // 1 s in 100 ms buckets
        w.add(ms(0), 5, 1);
        w.add(ms(550), 2, 2);
        assert_eq!(w.sums(ms(900)), (7, 3));
        // At 1.05 s the first bucket (0–100 ms) has left.
        assert_eq!(w.sums(ms(1050)), (2, 2));
        assert_eq!(w.sums(ms(5000)), (0, 0));
    }

    #[test]
    fn a_breaker_opens_half_opens_and_closes() {
        let mut b = BreakerGate::new(Breaker {
            failure_ratio: 0.5,
            window: TimeSpan::from_nanos(1_000_000_000),
            min_calls: 4,
            open_for: TimeSpan::from_nanos(100_000_000),
            probes: 2,
        });
        for (t, ok) in [(1, true), (2, false), (3, true)] {
            assert_eq!(b.permit(ms(t)), Permit::Call);
            assert!(!b.record(ms(t), Permit::Call, ok));
        }
        // The fourth call makes 2 of 4 failed: open.
        assert!(b.record(ms(4), Permit::Call, false));
        assert_eq!(b.permit(ms(50)), Permit::Refused);
        // After 100 ms, two probes and no more.
        assert_eq!(b.permit(ms(104)), Permit::Probe);
        assert_eq!(b.permit(ms(105)), Permit::Probe);
        assert_eq!(b.permit(ms(106)), Permit::Refused);
        assert!(!b.record(ms(110), Permit::Probe, true));
        assert!(!b.record(ms(111), Permit::Probe, true));
        assert_eq!(b.permit(ms(112)), Permit::Call);
        // A failed probe opens it again.
        let mut again = b.clone();
        again.open(ms(200));
        assert_eq!(again.permit(ms(300)), Permit::Probe);
        assert!(again.record(ms(301), Permit::Probe, false));
        assert_eq!(again.permit(ms(302)), Permit::Refused);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = RetryPlan {
            max_retries: 10,
            backoff_ns: 10,
            max_backoff_ns: 50,
            jitter: Jitter::None,
            budget: None,
        };
        let mut rng = Rng::stream(1, 0, "x");
        let waits: Vec<u64> = (1..=5).map(|n| backoff(&retry, n, &mut rng)).collect();
        assert_eq!(waits, [10, 20, 40, 50, 50]);
        let full = RetryPlan {
            jitter: Jitter::Full,
            ..retry
        };
        assert!((0..100).all(|_| backoff(&full, 3, &mut rng) <= 40));
        let equal = RetryPlan {
            jitter: Jitter::Equal,
            ..retry
        };
        assert!((0..100).all(|_| (20..=40).contains(&backoff(&equal, 3, &mut rng))));
    }
}
