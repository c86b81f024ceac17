//! Attempts over guarded links: timeouts and retries.

use super::{CallId, Event, LinkId, Permit, Plan, Refusal, Role, State, Ticket, guard};

impl State {
    /// Makes attempt `attempt` of a call from `caller` over guarded link
    /// `link`; false when the breaker or the bulkhead refused it.
    pub(super) fn try_attempt(
        &mut self,
        plan: &Plan,
        caller: CallId,
        link: LinkId,
        attempt: u32,
    ) -> bool {
        let spec = &plan.links[link];
        let now = self.now;
        let measuring = self.measuring;
        let replica = self.calls[caller as usize].replica;
        let guard = &mut self.guards[link];
        let permit = match guard.admit(spec, now, replica) {
            Ok(permit) => permit,
            Err(refusal) => {
                if measuring {
                    match refusal {
                        Refusal::Breaker => guard.tally.breaker_rejections += 1,
                        Refusal::Bulkhead => guard.tally.bulkhead_rejections += 1,
                    }
                }
                return false;
            }
        };
        if attempt == 0 {
            guard.first_attempt(now);
        }
        if measuring {
            guard.tally.attempts += 1;
            if attempt > 0 {
                guard.tally.retries += 1;
            }
        }
        let rtt = self.round_trip(link, &spec.latency, spec.fault.as_ref());
        let ticket = self.tickets.draw();
        // Nothing reads the attempt's fields before an event runs, so they
        // are set after `send`, which may run the callee's arrival at once.
        let child = self.send(plan, caller, Role::Child { caller }, spec.target, rtt);
        let call = &mut self.calls[child as usize];
        call.link = Some(link);
        call.attempt = attempt;
        call.permit = permit;
        if let Some(timeout) = spec.timeout_ns {
            call.watch = Some(ticket);
            self.schedule(
                timeout,
                Event::Timeout {
                    call: child,
                    ticket,
                },
            );
        }
        true
    }

    /// An attempt's timer went off: if it has not answered, its caller gives
    /// up on it (the callee keeps working).
    pub(super) fn timeout(&mut self, plan: &Plan, id: CallId, ticket: Ticket) {
        let call = &mut self.calls[id as usize];
        if call.watch != Some(ticket) || call.orphan {
            return;
        }
        call.orphan = true;
        let (Role::Child { caller }, Some(link)) = (call.role, call.link) else {
            unreachable!("only an attempt over a guarded link has a timeout");
        };
        let (attempt, permit) = (call.attempt, call.permit);
        if self.measuring {
            self.guards[link].tally.timeouts += 1;
        }
        self.attempt_ended(plan, caller, link, attempt, permit, false);
    }

    /// An attempt answered (`ok`) or failed; retries if the policy and the
    /// budget allow, otherwise the call ends for its caller.
    pub(super) fn attempt_ended(
        &mut self,
        plan: &Plan,
        caller: CallId,
        link: LinkId,
        attempt: u32,
        permit: Permit,
        ok: bool,
    ) {
        let now = self.now;
        let replica = self.calls[caller as usize].replica;
        let guard = &mut self.guards[link];
        if guard.settle(now, replica, permit, ok) && self.measuring {
            guard.tally.breaker_opened += 1;
        }
        if !ok
            && let Some(retry) = &plan.links[link].retry
            && attempt < retry.max_retries
        {
            if guard.spend_retry(now, retry) {
                let wait = guard::backoff(retry, attempt + 1, &mut self.link_rngs[link]);
                self.schedule(
                    wait,
                    Event::Retry {
                        caller,
                        link,
                        attempt: attempt + 1,
                    },
                );
                return;
            }
            if self.measuring {
                guard.tally.budget_denials += 1;
            }
        }
        self.child_done(plan, caller, !ok);
    }
}
