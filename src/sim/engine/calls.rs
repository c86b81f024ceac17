//! The slab of calls in flight.

use super::{Call, CallId, MAX_IN_FLIGHT, State};

impl State {
    pub(super) fn alloc(&mut self, call: Call) -> CallId {
        // One event can create many calls (a fan-out with a count), so the
        // cap is enforced here, not only at the periodic check.
        if self.calls.len() - self.free.len() >= MAX_IN_FLIGHT {
            self.runaway = true;
        }
        if let Some(id) = self.free.pop() {
            self.calls[id as usize] = call;
            id
        } else {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "in-flight calls are capped far below 2^32"
            )]
            let id = self.calls.len() as CallId;
            self.calls.push(call);
            id
        }
    }

    pub(super) fn release(&mut self, call: CallId) {
        self.calls[call as usize].watch = None;
        self.free.push(call);
    }

    pub(super) fn in_flight(&self) -> usize {
        self.calls.len() - self.free.len()
    }
}
