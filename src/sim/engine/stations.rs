//! Stations: admission, replicas and balancers, workers.

use super::{Balancer, CallId, Event, Plan, RateLimitPlan, State, StationId, Ticket};

/// Why a station did not admit a call.
#[derive(Clone, Copy)]
enum Refusal {
    /// Every replica is down.
    AllDown,
    /// The rate limit's bucket is empty.
    RateLimited,
    /// The replica's queue is full.
    QueueFull,
}

impl State {
    pub(super) fn arrive(&mut self, plan: &Plan, id: CallId) {
        let now = self.now;
        self.calls[id as usize].arrived = now;
        let station_index = self.calls[id as usize].station;
        let spec = &plan.stations[station_index];
        self.stations[station_index].arrived_total += 1;
        let Some(replica) = self.pick_replica(plan, station_index) else {
            self.refuse(plan, id, Refusal::AllDown);
            return;
        };
        self.calls[id as usize].replica = replica;
        self.calls[id as usize].life = self.stations[station_index].replicas[replica as usize].life;
        let from = self.measure_from;
        let measuring = self.measuring;
        let station = &mut self.stations[station_index];
        if let Some(RateLimitPlan {
            tokens_per_sec: rate,
            burst,
        }) = spec.rate_limit
        {
            let refill = rate * now.since(station.tokens_at) as f64 / 1e9;
            station.tokens = (station.tokens + refill).min(burst);
            station.tokens_at = now;
            if station.tokens >= 1.0 {
                station.tokens -= 1.0;
            } else {
                self.refuse(plan, id, Refusal::RateLimited);
                return;
            }
        }
        if spec.llm.is_some() {
            self.llm_arrive(plan, station_index, id);
            return;
        }
        let r = &mut station.replicas[replica as usize];
        if spec.batching.is_some() {
            // Every request waits for its batch.
            if spec
                .queue_capacity
                .is_some_and(|cap| r.queue.len() >= cap as usize)
            {
                self.refuse(plan, id, Refusal::QueueFull);
                return;
            }
            r.queue.push_back(id);
            r.outstanding += 1;
            station.tally.queued.change(now, from, 1);
            station.tally.present.change(now, from, 1);
            if measuring {
                station.tally.arrivals += 1;
            }
            self.try_batch(plan, station_index, replica);
            return;
        }
        let admitted = if r.busy < spec.workers && !r.down {
            r.busy += 1;
            true
        } else if spec
            .queue_capacity
            .is_none_or(|cap| r.queue.len() < cap as usize)
        {
            r.queue.push_back(id);
            station.tally.queued.change(now, from, 1);
            false
        } else {
            self.refuse(plan, id, Refusal::QueueFull);
            return;
        };
        r.outstanding += 1;
        station.tally.present.change(now, from, 1);
        if measuring {
            station.tally.arrivals += 1;
        }
        if admitted {
            station.tally.busy.change(now, from, 1);
            self.start_work(plan, id);
        }
    }

    /// Fails a call the station did not admit, counting why.
    fn refuse(&mut self, plan: &Plan, id: CallId, why: Refusal) {
        if self.measuring {
            let tally = &mut self.stations[self.calls[id as usize].station].tally;
            match why {
                Refusal::AllDown => tally.crash_failures += 1,
                Refusal::RateLimited => tally.rate_limited += 1,
                Refusal::QueueFull => tally.rejections += 1,
            }
        }
        self.calls[id as usize].failed = true;
        self.answer(plan, id);
    }

    /// The replica a call goes to, skipping crashed ones; none when all
    /// are down. Under Pull with none free it is the first replica, whose
    /// queue is the shared one.
    pub(super) fn pick_replica(&mut self, plan: &Plan, station_index: StationId) -> Option<u32> {
        let chosen = self.choose_replica(plan, station_index);
        let spec = &plan.stations[station_index];
        let station = &self.stations[station_index];
        if station.down == 0 {
            return Some(chosen);
        }
        let n = station.replicas_serving;
        let up = |k: u32| !station.replicas[k as usize].down;
        if (0..n).all(|k| !up(k)) {
            return None;
        }
        if spec.balancer == Balancer::Pull {
            let free = (0..n).find(|&k| up(k) && station.replicas[k as usize].busy < spec.workers);
            return Some(free.unwrap_or(0));
        }
        (0..n).map(|k| (chosen + k) % n).find(|&k| up(k))
    }

    pub(super) fn choose_replica(&mut self, plan: &Plan, station_index: StationId) -> u32 {
        let spec = &plan.stations[station_index];
        let station = &mut self.stations[station_index];
        let n = station.replicas_serving;
        if n == 1 {
            return 0;
        }
        match spec.balancer {
            Balancer::RoundRobin => {
                let r = station.next_replica;
                station.next_replica = (r + 1) % n;
                r
            }
            Balancer::Random => station.balancer_rng.below(n),
            Balancer::LeastOutstanding => {
                let mut best = 0;
                for (i, replica) in station.replicas[..n as usize].iter().enumerate() {
                    if replica.outstanding < station.replicas[best].outstanding {
                        best = i;
                    }
                }
                replica_number(best)
            }
            Balancer::Pull => {
                // Any free worker takes it; when none is free it waits in the
                // one shared queue, kept on the first replica.
                let free = station.replicas[..n as usize]
                    .iter()
                    .position(|r| r.busy < spec.workers)
                    .unwrap_or(0);
                replica_number(free)
            }
            Balancer::PowerOfTwoChoices => {
                let a = station.balancer_rng.below(n);
                let b = (a + 1 + station.balancer_rng.below(n - 1)) % n;
                let load = |r: u32| station.replicas[r as usize].outstanding;
                if load(b) < load(a) { b } else { a }
            }
        }
    }

    /// The call has a worker: record its wait and start its own work.
    pub(super) fn start_work(&mut self, plan: &Plan, id: CallId) {
        let now = self.now;
        let call = &mut self.calls[id as usize];
        call.holds_worker = true;
        let station_index = call.station;
        let waited = now.since(call.arrived);
        let spec = &plan.stations[station_index];
        let station = &mut self.stations[station_index];
        // The work belongs to the replica's life now: a call that waited in a
        // pulled queue through a crash is done by the restarted replica.
        call.life = station.replicas[call.replica as usize].life;
        let work = spec.service_time.sample(&mut station.service_rng);
        if self.measuring {
            let t = &mut station.tally;
            t.started += 1;
            t.service_ns += u128::from(work);
            t.wait.record(waited);
            if waited > 0 {
                t.waited += 1;
            }
        }
        self.schedule(work, Event::WorkDone(id));
    }

    /// Gives the worker to the next queued call, or frees it.
    /// `life` is that of the call that held it: of an earlier life, the
    /// worker was a ghost of a crash (see `Replica::ghosts`).
    pub(super) fn release_worker(
        &mut self,
        plan: &Plan,
        station_index: StationId,
        replica: u32,
        life: Ticket,
    ) {
        let now = self.now;
        let from = self.measure_from;
        let shared = plan.stations[station_index].balancer == Balancer::Pull;
        let station = &mut self.stations[station_index];
        // Under Pull every replica takes from the one queue on the first.
        let source = if shared { 0 } else { replica as usize };
        // A crashed replica finishing lost work takes nothing new.
        let next = if station.replicas[replica as usize].down {
            None
        } else {
            station.replicas[source].queue.pop_front()
        };
        let r = &mut station.replicas[replica as usize];
        let ghost = r.life != life;
        if ghost {
            // The worker counts as held again only if it takes new work.
            r.ghosts -= 1;
        }
        if let Some(next) = next {
            if ghost {
                station.tally.busy.change(now, from, 1);
            }
            station.tally.queued.change(now, from, -1);
            if source != replica as usize {
                station.replicas[source].outstanding -= 1;
                station.replicas[replica as usize].outstanding += 1;
                self.calls[next as usize].replica = replica;
            }
            self.start_work(plan, next);
        } else {
            station.replicas[replica as usize].busy -= 1;
            if !ghost {
                station.tally.busy.change(now, from, -1);
            }
        }
    }
}

/// A replica's index as the engine keeps it.
fn replica_number(index: usize) -> u32 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "replicas are limited to 10,000"
    )]
    let number = index as u32;
    number
}
