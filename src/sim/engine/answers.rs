//! Answers: responses to callers, completed requests.

use super::{ArrivalPlan, CallId, Event, Plan, Role, State, Stop};

impl State {
    /// An answer from a synchronous call reaches its caller.
    pub(super) fn response(&mut self, plan: &Plan, child: CallId) {
        let c = &self.calls[child as usize];
        let Role::Child { caller } = c.role else {
            unreachable!("only a synchronous call is answered with a response");
        };
        let (failed, orphan) = (c.failed, c.orphan);
        let (link, attempt, permit) = (c.link, c.attempt, c.permit);
        self.release(child);
        if orphan {
            // Timed out on the way back: nobody waits for it.
            return;
        }
        if let Some(link) = link {
            if failed && self.measuring {
                self.guards[link].tally.failures += 1;
            }
            self.attempt_ended(plan, caller, link, attempt, permit, !failed);
            return;
        }
        self.child_done(plan, caller, failed);
    }

    /// One of the calls a step waits for has ended for good.
    pub(super) fn child_done(&mut self, plan: &Plan, parent: CallId, failed: bool) {
        let call = &mut self.calls[parent as usize];
        call.pending -= 1;
        call.failed |= failed;
        if call.pending > 0 {
            return;
        }
        if call.failed {
            // A failed dependency fails the caller: it answers at once.
            self.complete(plan, parent);
        } else if !self.lost(plan, parent) {
            self.calls[parent as usize].step += 1;
            self.run_steps(plan, parent);
        }
    }

    /// The call's work and calls are done: it answers.
    pub(super) fn complete(&mut self, plan: &Plan, id: CallId) {
        let now = self.now;
        let from = self.measure_from;
        let (station_index, replica, holds_worker, arrived, life) = {
            let c = &self.calls[id as usize];
            (c.station, c.replica, c.holds_worker, c.arrived, c.life)
        };
        if holds_worker {
            self.calls[id as usize].holds_worker = false;
            self.release_worker(plan, station_index, replica, life);
        }
        let measuring = self.measuring;
        let station = &mut self.stations[station_index];
        station.replicas[replica as usize].outstanding -= 1;
        station.completed_total += 1;
        station.tally.present.change(now, from, -1);
        if measuring {
            station.tally.completions += 1;
            station.tally.response.record(now.since(arrived));
        }
        self.answer(plan, id);
    }

    /// Sends the call's answer (or its failure) to whoever waits for it.
    pub(super) fn answer(&mut self, plan: &Plan, id: CallId) {
        if self.end.is_some() {
            // The run ended earlier in this event (its last request was
            // counted while a batch or a crash answered several at once):
            // the rest stay unfinished, as they were at the end.
            return;
        }
        let call = &self.calls[id as usize];
        match call.role {
            Role::Child { .. } if call.orphan => self.release(id),
            Role::Child { .. } => {
                let delay = call.return_delay;
                self.schedule(delay, Event::Response(id));
            }
            Role::Detached => self.release(id),
            Role::Root { user } => {
                let (class, arrived, failed) = (call.class, call.arrived, call.failed);
                self.release(id);
                if let Some(recorder) = &mut self.recorder {
                    recorder.request_done((!failed).then(|| self.now.since(arrived)));
                }
                if !failed {
                    self.departed += 1;
                    if self.now >= self.measure_from {
                        self.classes[class as usize].departed += 1;
                    }
                }
                if arrived >= self.measure_from {
                    let tally = &mut self.classes[class as usize];
                    if failed {
                        tally.failed += 1;
                    } else {
                        tally.succeeded += 1;
                        tally.latency.record(self.now.since(arrived));
                    }
                }
                if !failed && self.trace.len() < self.trace_cap {
                    self.trace.push((self.now.0, self.now.since(arrived)));
                    if self.trace.len() == self.trace_cap {
                        self.finish(plan, self.now);
                    }
                }
                if arrived >= self.measure_from {
                    self.measured_requests += 1;
                    if let Stop::Requests(n) = self.stop
                        && self.measured_requests >= n
                    {
                        self.finish(plan, self.now);
                    }
                }
                if let ArrivalPlan::Closed { think_time, .. } = &plan.arrivals
                    && let Some(user) = user
                {
                    let think = think_time.sample(&mut self.think_rng);
                    self.schedule(think, Event::UserRequest(user));
                }
            }
        }
    }
}
