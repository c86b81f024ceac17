//! Saturation: a backlog that grows without bound, and the bottleneck.

use super::{ArrivalPlan, MAX_IN_FLIGHT, Plan, Saturation, State, Station};

/// A backlog growth test: growth above `min_growth` calls and above
/// `spread` × √(arrivals) since measuring began (see
/// [`State::growing_station`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Growth {
    pub min_growth: i64,
    pub spread: f64,
}

/// The test while the run goes on, every [`CHECK_EVERY`](super::CHECK_EVERY)
/// events: strict, so a stable queue's swings never end a run early.
pub(super) const WHILE_RUNNING: Growth = Growth {
    min_growth: 2_000,
    spread: 20.0,
};

/// The test once the run has ended: looser, for runs too short to grow a
/// backlog of thousands.
pub(super) const AT_THE_END: Growth = Growth {
    min_growth: 500,
    spread: 10.0,
};

/// Checks with simulated time standing still after which calls are taken
/// to spawn calls at one instant forever (a loop of zero-time calls).
const STALLED_CHECKS: u32 = 150;

/// The share of its workers held at which a service counts as full when
/// looking for the bottleneck.
const FULL: f64 = 0.98;

impl State {
    pub(super) fn check_saturation(&mut self, plan: &Plan) {
        // Simulated time that stops moving means calls spawn calls at one
        // instant forever (a loop of zero-time calls).
        if self.now == self.last_check {
            self.stalled_checks += 1;
        } else {
            self.stalled_checks = 0;
        }
        self.last_check = self.now;
        let runaway = self.runaway
            || self.in_flight() > MAX_IN_FLIGHT
            || self.stalled_checks > STALLED_CHECKS;
        if let (Some(station), true) = (plan.overloaded, self.measuring) {
            // Offered more work than it can do: no backlog need be awaited.
            self.saturation = Some(Saturation {
                station: station.index(),
            });
            self.finish(plan, self.now);
            return;
        }
        let growing = self.growing_station(plan, WHILE_RUNNING);
        if runaway {
            // An explosion (calls spawning calls faster than they finish) has
            // little history to average: judge it by who is full right now.
            let now: Vec<f64> = self
                .stations
                .iter()
                .zip(&plan.stations)
                .map(|(s, _)| s.tally.busy.value as f64 / s.tally.serving.value.max(1) as f64)
                .collect();
            self.saturation = Some(Saturation {
                station: bottleneck(plan, &now),
            });
            self.finish(plan, self.now);
        } else if growing.is_some() {
            self.saturation = growing;
            self.finish(plan, self.now);
        }
    }

    /// Whether some service's backlog grew by more than `min_growth` calls
    /// and more than `spread` times the square root of its arrivals since
    /// measuring began. A stable queue's backlog only fluctuates about its
    /// stationary level, a queue at exactly its capacity wanders like a
    /// random walk (of order √n after n arrivals), and an overloaded one
    /// grows in proportion to n; so growth beyond a multiple of √n is found
    /// however slight the overload, given arrivals enough. Returns the
    /// bottleneck if so.
    pub(super) fn growing_station(&self, plan: &Plan, test: Growth) -> Option<Saturation> {
        let Growth { min_growth, spread } = test;
        if !self.measuring {
            return None;
        }
        // A backlog an autoscaler may yet clear (its own, or its callers'
        // waiting on it) is not saturation; the in-flight cap still ends a
        // runaway.
        if plan.stations.iter().any(|s| s.autoscale.is_some()) {
            return None;
        }
        // A closed system's backlog is bounded by its users: it cannot grow
        // without bound, however long the queue. A scenario whose offered
        // work is known to fit is stable, however bursty.
        if plan.stable || matches!(plan.arrivals, ArrivalPlan::Closed { .. }) {
            return None;
        }
        let is_growing = |s: &Station| {
            let growth = s.tally.present.value - s.present_at_start;
            growth > min_growth && growth as f64 > spread * (s.tally.arrivals as f64).sqrt()
        };
        self.stations.iter().any(is_growing).then(|| Saturation {
            station: self.bottleneck(plan),
        })
    }

    pub(super) fn bottleneck(&self, plan: &Plan) -> usize {
        bottleneck(plan, &self.occupancy(plan))
    }

    /// The fraction of each service's workers held, averaged over the
    /// measured time, or at this instant before measuring has begun.
    pub(super) fn occupancy(&self, plan: &Plan) -> Vec<f64> {
        let elapsed = self.now.since(self.measure_from) as f64;
        self.stations
            .iter()
            .zip(&plan.stations)
            .map(|(station, _)| {
                let mut busy = station.tally.busy;
                let mut serving = station.tally.serving;
                if self.measuring && elapsed > 0.0 {
                    busy.settle(self.now, self.measure_from);
                    serving.settle(self.now, self.measure_from);
                    busy.area / serving.area.max(1.0)
                } else {
                    busy.value as f64 / serving.value.max(1) as f64
                }
            })
            .collect()
    }
}

/// The service that limits the system, given the fraction of each service's
/// workers held. Callers blocked on a slow service fill up too, so among the
/// services whose workers are (nearly) all held, it is the one with none such
/// among the services it calls, directly or not; otherwise simply the fullest.
/// Ties go to the first listed.
pub fn bottleneck(plan: &Plan, occupancy: &[f64]) -> usize {
    let full = |i: usize| occupancy[i] >= FULL;
    let downstream_full = |start: usize| {
        let mut seen = vec![false; plan.stations.len()];
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for call in plan.stations[i].steps.iter().flatten().filter(|c| c.sync) {
                let target = call.target.index();
                if !seen[target] {
                    if target != start && full(target) {
                        return true;
                    }
                    seen[target] = true;
                    stack.push(target);
                }
            }
        }
        false
    };
    let mut best: Option<usize> = None;
    for i in 0..plan.stations.len() {
        let candidate = !full(i) || !downstream_full(i);
        let better = best.is_none_or(|b| (full(i), occupancy[i]) > (full(b), occupancy[b]));
        if candidate && better {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}
