//! Requests entering the system: open arrivals, closed users, request classes.

use super::{ArrivalPlan, Call, Event, MAX_SPAN_NS, Plan, Role, SimTime, State};

impl State {
    pub(super) fn start_arrivals(&mut self, plan: &Plan) {
        match &plan.arrivals {
            ArrivalPlan::Open { .. } => self.schedule_next_arrival(),
            ArrivalPlan::Closed { users, think_time } => {
                // Users start out thinking, so they do not all arrive at once.
                for user in 0..*users {
                    let think = think_time.sample(&mut self.think_rng);
                    self.schedule(think, Event::UserRequest(user));
                }
            }
        }
    }

    /// Schedules the next open arrival, if any traffic is left.
    pub(super) fn schedule_next_arrival(&mut self) {
        let Some(clock) = self.arrivals.as_mut() else {
            return;
        };
        let Some(t) = clock
            .next_arrival()
            .filter(|t| *t <= MAX_SPAN_NS as f64 / 1e9)
        else {
            self.arrivals_done = true;
            return;
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "t is below a year"
        )]
        let at = SimTime((t * 1e9).round() as u64).max(self.now);
        let delay = at.since(self.now);
        self.schedule(delay, Event::OpenArrival);
    }

    pub(super) fn pick_class(&mut self, plan: &Plan) -> u32 {
        let index = self
            .class_rng
            .weighted(&plan.classes, |c| c.cumulative_weight);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "classes are limited to 1,000"
        )]
        let index = index as u32;
        index
    }

    pub(super) fn start_root(&mut self, plan: &Plan, class: u32, user: Option<u32>) {
        if self.now >= self.measure_from {
            self.classes[class as usize].arrived += 1;
        }
        let entry = plan.classes[class as usize].entry;
        let call = self.alloc(Call::new(entry, Role::Root { user }, class, self.now));
        self.arrive(plan, call);
    }
}
