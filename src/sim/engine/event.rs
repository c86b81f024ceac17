//! Events and their order: by time, then by the order they were scheduled
//! (see the module's documentation on ordering).
//!
//! # Stale events
//! A scheduled event is never taken back out of the queue. Where something
//! that happens later can make it moot (an attempt answers before its
//! timeout, an earlier batch timer replaces a later one, a replica crashes
//! while it works on a call), the thing it concerns holds a [`Ticket`], drawn
//! fresh from the replication's one counter each time the thing is armed
//! again, and what was scheduled under it keeps a copy. The handler acts only
//! when the two are equal; otherwise the event (or the work) is stale. A
//! batch timer's ticket is its due time, which its event carries as its own
//! time (a timer is only ever replaced by an earlier one), so events stay at
//! 16 bytes and the queue's entries at 32 (see the test below):
//!
//! | event          | holds the ticket          | a new ticket when             |
//! |----------------|---------------------------|-------------------------------|
//! | `Timeout`      | the attempt (`watch`)     | its slot is reused            |
//! | `BatchDue`     | the replica (`batch_timer`) | an earlier timer replaces it |
//! | a call's work  | the replica (`life`)      | the replica crashes           |

use std::cmp::Ordering;

use super::{CallId, LinkId, SimTime, StationId};

#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    OpenArrival,
    UserRequest(u32),
    CallArrive(CallId),
    WorkDone(CallId),
    Response(CallId),
    /// An attempt's timeout.
    Timeout {
        call: CallId,
        /// The attempt's ticket, which tells a live attempt from a slot
        /// since reused.
        ticket: Ticket,
    },
    /// A retry of a call from `caller` over guarded link `link`.
    Retry {
        caller: CallId,
        link: LinkId,
        /// The attempt's number, the first being 0.
        attempt: u32,
    },
    /// A batching replica's oldest request has waited long enough.
    BatchDue {
        station: StationId,
        replica: u32,
    },
    /// A batch is done.
    BatchDone(u32),
    /// An idle LLM replica starts a step.
    LlmKick {
        station: StationId,
        replica: u32,
    },
    /// An LLM replica's step ends.
    LlmStep {
        station: StationId,
        replica: u32,
    },
    /// An autoscaler decides: the station.
    ScaleTick(StationId),
    /// A new replica has finished its cold start: the station.
    ReplicaReady(StationId),
    /// A replica crashes: the station and the crash (by index).
    Crash {
        station: StationId,
        crash: u32,
    },
    /// A crashed replica serves again.
    Restart {
        station: StationId,
        replica: u32,
    },
}

/// What a stale event is told apart by (see "Stale events" above).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Ticket(u64);

impl Ticket {
    /// The ticket every replica starts its life with (also the default).
    pub(super) const FIRST: Self = Self(0);
}

/// Draws tickets, each different from every one drawn before.
#[derive(Debug)]
pub(super) struct Tickets(u64);

impl Tickets {
    pub(super) fn new() -> Self {
        Self(Ticket::FIRST.0 + 1)
    }

    pub(super) fn draw(&mut self) -> Ticket {
        let ticket = Ticket(self.0);
        self.0 += 1;
        ticket
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Scheduled {
    pub(super) time: SimTime,
    pub(super) seq: u64,
    pub(super) event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue moves these on every push and pop, so a larger event
    /// costs every simulation (a `u64` ticket on `BatchDue` made entries 40
    /// bytes, and a million-request M/M/1 measured about 10% slower).
    #[test]
    fn queue_entries_stay_small() {
        assert_eq!(std::mem::size_of::<Event>(), 16);
        assert_eq!(std::mem::size_of::<Scheduled>(), 32);
    }
}
