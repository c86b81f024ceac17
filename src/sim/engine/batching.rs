//! Dynamic batching: gathering calls into batches and finishing them.

use super::{BatchingPlan, CallId, Event, Plan, State, StationId};

impl State {
    /// Starts batches on a batching replica while a worker is free and a
    /// batch is ready: full, or its oldest request has waited long enough.
    /// Otherwise sets a timer for when the oldest will have.
    pub(super) fn try_batch(&mut self, plan: &Plan, station_index: StationId, replica: u32) {
        let spec = &plan.stations[station_index];
        let Some(BatchingPlan {
            max_batch: max,
            max_wait_ns: wait_ns,
            per_item_ns,
        }) = spec.batching
        else {
            return;
        };
        loop {
            let now = self.now;
            let from = self.measure_from;
            let station = &mut self.stations[station_index];
            let r = &mut station.replicas[replica as usize];
            let Some(&oldest) = r.queue.front() else {
                return;
            };
            if r.busy >= spec.workers {
                return;
            }
            let due = self.calls[oldest as usize].arrived.after(wait_ns);
            if r.queue.len() < max as usize && now < due {
                if r.batch_timer.is_none_or(|t| t > due) {
                    r.batch_timer = Some(due);
                    let event = Event::BatchDue {
                        station: station_index,
                        replica,
                    };
                    self.schedule(due.since(now), event);
                }
                return;
            }
            let size = r.queue.len().min(max as usize);
            let calls: Vec<CallId> = r.queue.drain(..size).collect();
            // The batch is the replica's current life's work (see start_work).
            for &call in &calls {
                self.calls[call as usize].life = r.life;
            }
            r.busy += 1;
            #[expect(clippy::cast_possible_wrap, reason = "at most 4,096")]
            station.tally.queued.change(now, from, -(size as i64));
            station.tally.busy.change(now, from, 1);
            let work = spec
                .service_time
                .sample(&mut station.service_rng)
                .saturating_add(per_item_ns.saturating_mul(size as u64));
            if self.measuring {
                let t = &mut station.tally;
                t.batch_sizes[size] += 1;
                for &call in &calls {
                    let waited = now.since(self.calls[call as usize].arrived);
                    t.started += 1;
                    t.service_ns += u128::from(work);
                    t.wait.record(waited);
                    if waited > 0 {
                        t.waited += 1;
                    }
                }
            }
            let batch = if let Some(slot) = self.free_batches.pop() {
                self.batches[slot as usize] = calls;
                slot
            } else {
                self.batches.push(calls);
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "batches in flight are far fewer than 2^32"
                )]
                let slot = (self.batches.len() - 1) as u32;
                slot
            };
            self.schedule(work, Event::BatchDone(batch));
        }
    }

    /// A batch is done: its worker is free, and each request goes on.
    pub(super) fn batch_done(&mut self, plan: &Plan, batch: u32) {
        let calls = std::mem::take(&mut self.batches[batch as usize]);
        self.free_batches.push(batch);
        let Some(&first) = calls.first() else {
            return;
        };
        let (station_index, replica, life) = {
            let c = &self.calls[first as usize];
            (c.station, c.replica, c.life)
        };
        let (now, from) = (self.now, self.measure_from);
        let station = &mut self.stations[station_index];
        let r = &mut station.replicas[replica as usize];
        r.busy -= 1;
        if r.life == life {
            station.tally.busy.change(now, from, -1);
        } else {
            // A crash lost this batch and stopped counting its worker.
            r.ghosts -= 1;
        }
        for call in calls {
            self.after_work(plan, call);
        }
        self.try_batch(plan, station_index, replica);
    }
}
