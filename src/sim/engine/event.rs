//! Events and their order: by time, then by the order they were scheduled
//! (see the module's documentation on ordering).

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
        /// The attempt's serial, which tells a live attempt from a slot
        /// since reused.
        serial: u64,
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
