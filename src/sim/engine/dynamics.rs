//! Crashes, restarts and autoscaling: the replicas serving over time.

use super::{Balancer, CallId, CrashPlan, Event, Plan, ScaleMark, State, StationId};

impl State {
    /// A replica crashes: it takes no requests until it restarts, those
    /// waiting in its queue fail now, and those it holds fail when their
    /// work would have ended (see `lost`).
    pub(super) fn crash(&mut self, plan: &Plan, station_index: StationId, crash: u32) {
        let spec = &plan.stations[station_index];
        let CrashPlan {
            replica,
            restart_after_ns: restart_after,
            ..
        } = spec.crashes[crash as usize];
        let (now, from, measuring) = (self.now, self.measure_from, self.measuring);
        let s = &mut self.stations[station_index];
        let r = &mut s.replicas[replica as usize];
        if r.down {
            return;
        }
        r.down = true;
        r.life = self.tickets.draw();
        s.down += 1;
        s.tally.serving.change(now, from, -i64::from(spec.workers));
        // The work in progress is lost (its calls fail when it would have
        // ended) and a replica that is down holds no workers: they stop
        // counting as held now, so the share held never exceeds the serving.
        let r = &mut s.replicas[replica as usize];
        let newly_lost = r.busy - r.ghosts;
        r.ghosts = r.busy;
        s.tally.busy.change(now, from, -i64::from(newly_lost));
        // A pulled queue is the topic's, and outlives its consumers.
        let waiting: Vec<CallId> = if spec.balancer == Balancer::Pull {
            Vec::new()
        } else {
            r.queue.drain(..).collect()
        };
        for id in waiting {
            let s = &mut self.stations[station_index];
            s.replicas[replica as usize].outstanding -= 1;
            s.tally.queued.change(now, from, -1);
            s.tally.present.change(now, from, -1);
            if measuring {
                s.tally.crash_failures += 1;
            }
            self.calls[id as usize].failed = true;
            self.answer(plan, id);
        }
        self.schedule(
            restart_after,
            Event::Restart {
                station: station_index,
                replica,
            },
        );
    }

    /// Whether a crash of its replica lost the call; if so, it fails now.
    pub(super) fn lost(&mut self, plan: &Plan, id: CallId) -> bool {
        let c = &self.calls[id as usize];
        let station = &mut self.stations[c.station];
        if station.replicas[c.replica as usize].life == c.life {
            return false;
        }
        if self.measuring {
            station.tally.crash_failures += 1;
        }
        self.calls[id as usize].failed = true;
        self.complete(plan, id);
        true
    }

    /// An autoscaler's decision: the replicas that would carry the work that
    /// arrived over the last interval at the target utilisation.
    pub(super) fn scale(&mut self, plan: &Plan, station_index: StationId) {
        let spec = &plan.stations[station_index];
        let Some(scale) = spec.autoscale else {
            return;
        };
        // With no traffic left to come and none in flight there is nothing
        // to scale for: the ticks stop, so the run can end.
        if self.arrivals_done && self.in_flight() == 0 {
            return;
        }
        let (now, from) = (self.now, self.measure_from);
        let s = &mut self.stations[station_index];
        s.tally.busy.settle(now, from);
        let ScaleMark {
            arrived,
            completed,
            busy_ns: busy,
        } = s.scale_mark;
        let arrivals = s.arrived_total - arrived;
        let completions = s.completed_total - completed;
        let busy_ns = s.tally.busy.lifetime - busy;
        s.scale_mark = ScaleMark {
            arrived: s.arrived_total,
            completed: s.completed_total,
            busy_ns: s.tally.busy.lifetime,
        };
        // The time a request held a worker, measured, or the service time.
        let hold_ns = if completions > 0 {
            busy_ns / completions as f64
        } else {
            spec.mean_service_ns
        };
        let interval = scale.interval.as_nanos();
        let demand = arrivals as f64 * hold_ns / interval as f64;
        let wanted = (demand / (f64::from(spec.workers) * scale.target_utilization)).ceil();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to the replica limits"
        )]
        let wanted = (wanted.max(0.0).min(f64::from(scale.max_replicas)) as u32)
            .clamp(scale.min_replicas, scale.max_replicas);
        let have = s.replicas_serving + s.starting;
        if wanted > have {
            s.starting += wanted - have;
            for _ in have..wanted {
                self.schedule(
                    scale.cold_start.as_nanos(),
                    Event::ReplicaReady(station_index),
                );
            }
        } else if wanted < s.replicas_serving && s.starting == 0 {
            // The last replicas take no new requests; what they hold finishes.
            let removed = s.replicas_serving - wanted;
            s.replicas_serving = wanted;
            let workers = i64::from(removed) * i64::from(spec.workers);
            s.tally.serving.change(now, from, -workers);
            s.next_replica %= wanted;
        }
        self.schedule(interval, Event::ScaleTick(station_index));
    }
}
