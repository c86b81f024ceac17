//! After the work: a call's outgoing calls, step by step, over the network.

use super::{
    CachePlan, Call, CallId, Event, FaultPlan, LinkId, Plan, Role, Sampler, State, StationId,
};

impl State {
    pub(super) fn work_done(&mut self, plan: &Plan, id: CallId) {
        let call = &self.calls[id as usize];
        let station_index = call.station;
        let replica = call.replica;
        let spec = &plan.stations[station_index];
        if !spec.blocking {
            self.calls[id as usize].holds_worker = false;
            let life = self.calls[id as usize].life;
            self.release_worker(plan, station_index, replica, life);
        }
        self.after_work(plan, id);
    }

    /// The call's own work is done: it fails, hits the cache, or makes its
    /// calls.
    pub(super) fn after_work(&mut self, plan: &Plan, id: CallId) {
        if self.lost(plan, id) {
            return;
        }
        let station_index = self.calls[id as usize].station;
        let spec = &plan.stations[station_index];
        // An injected error fails the call here; a cache hit answers here.
        // Either way no calls are made.
        let station = &mut self.stations[station_index];
        if spec.error_rate > 0.0 && station.outcome_rng.chance(spec.error_rate) {
            if self.measuring {
                station.tally.errors += 1;
            }
            self.calls[id as usize].failed = true;
            self.complete(plan, id);
            return;
        }
        if let Some(CachePlan {
            hit_ratio,
            warmup_ns,
        }) = spec.cache
        {
            let warmth = if warmup_ns == 0 {
                1.0
            } else {
                (self.now.0 as f64 / warmup_ns as f64).min(1.0)
            };
            if station.outcome_rng.chance(hit_ratio * warmth) {
                if self.measuring {
                    station.tally.cache_hits += 1;
                }
                self.complete(plan, id);
                return;
            }
        }
        self.run_steps(plan, id);
    }

    /// Makes the call's outgoing calls from its current step on, until a step
    /// must wait for answers or all steps are done.
    pub(super) fn run_steps(&mut self, plan: &Plan, id: CallId) {
        loop {
            let call = &self.calls[id as usize];
            let steps = &plan.stations[call.station].steps;
            let Some(step) = steps.get(call.step as usize) else {
                self.complete(plan, id);
                return;
            };
            let made_previous = call.made_previous;
            let mut pending = 0;
            let mut made_any = false;
            let mut refused = false;
            for spec in step {
                let make = if spec.repeats_previous {
                    made_previous
                } else {
                    self.link_rngs[spec.link].chance(spec.probability)
                };
                if !make {
                    continue;
                }
                made_any = true;
                for _ in 0..spec.count {
                    if self.runaway {
                        // Over the in-flight cap: the run is ending as saturated.
                        break;
                    }
                    if spec.guarded {
                        if self.try_attempt(plan, id, spec.link, 0) {
                            pending += 1;
                        } else {
                            refused = true;
                        }
                        continue;
                    }
                    let rtt = self.round_trip(spec.link, &spec.latency, spec.fault.as_ref());
                    let role = if spec.sync {
                        pending += 1;
                        Role::Child { caller: id }
                    } else {
                        Role::Detached
                    };
                    self.send(plan, id, role, spec.target, rtt);
                }
            }
            let call = &mut self.calls[id as usize];
            call.made_previous = made_any;
            call.failed |= refused;
            if pending > 0 {
                call.pending = pending;
                return;
            }
            if refused {
                // A call refused at once (breaker open, bulkhead full)
                // fails this one as an error answer would.
                self.complete(plan, id);
                return;
            }
            call.step += 1;
        }
    }

    /// A call's round trip over link `link`, with any fault active now.
    pub(super) fn round_trip(
        &mut self,
        link: LinkId,
        latency: &Sampler,
        fault: Option<&FaultPlan>,
    ) -> u64 {
        let rng = &mut self.link_rngs[link];
        let mut rtt = latency.sample(rng);
        if let Some(fault) = fault
            && fault.active(self.now.0)
        {
            rtt = rtt.saturating_add(fault.extra.sample(rng));
        }
        rtt
    }

    /// Sends a new call from `from` to `target`; returns its id.
    pub(super) fn send(
        &mut self,
        plan: &Plan,
        from: CallId,
        role: Role,
        target: StationId,
        rtt: u64,
    ) -> CallId {
        let there = rtt / 2;
        let class = self.calls[from as usize].class;
        let mut call = Call::new(target, role, class, self.now);
        call.return_delay = rtt - there;
        let child = self.alloc(call);
        if there == 0 {
            self.arrive(plan, child);
        } else {
            self.schedule(there, Event::CallArrive(child));
        }
        child
    }
}
