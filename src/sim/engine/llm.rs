//! LLM servers: iteration-level (continuous) batching over a paged KV cache,
//! one step at a time per replica (docs/llm.md has the rules in words).
//!
//! A replica keeps its requests as sequences, waiting (first come, first
//! served) or running (in the order admitted). Each step it chooses what to
//! compute, takes `base + per_prefill × prompt tokens + per_decode ×
//! decoding sequences`, and at its end every sequence it served has its
//! tokens: a prompt whose prefill completes produces the first output
//! token, a decode produces the next. A sequence holds `⌈tokens / 16⌉` KV
//! blocks of the tokens whose keys and values are stored; it is admitted
//! only if its prompt's blocks fit with the watermark left free, and when
//! a decode needs a block and none is free the newest running sequence is
//! preempted (its blocks freed, it waits at the front to be computed again,
//! its prompt and the tokens it had produced together).

use crate::model::{LlmPhase, TokenCount};
use crate::sim::batch::{Batcher, Seq};

use super::{CallId, Event, Plan, Role, SimTime, State, StationId};

/// A request's prompt as a prefill-only server computed it, for the
/// decode server it calls: the lengths and when its first token came.
#[derive(Clone, Copy, Debug)]
pub(super) struct Prefilled {
    prompt: u64,
    output: u64,
    first_token: SimTime,
}

/// What the simulator keeps with a sequence.
#[derive(Clone, Copy, Debug)]
pub(super) struct SeqTimes {
    call: CallId,
    /// The output tokens the request asks for (a prefill-only server's
    /// batch computes just the first).
    output: u64,
    first_token: Option<SimTime>,
    last_token: SimTime,
    /// When its request entered the system.
    root_arrived: SimTime,
}

/// One LLM replica: its batcher, and what the station's levels last saw.
#[derive(Clone, Debug)]
pub(super) struct LlmReplica {
    batch: Batcher<SeqTimes>,
    /// A step (or the start of one) is under way.
    stepping: bool,
    /// The blocks in use last counted in the station's `kv_blocks` level.
    counted_blocks: u64,
    /// Sequences preempted since the start, for the time series.
    preempted: u64,
}

impl LlmReplica {
    pub(super) fn new(plan: &crate::sim::plan::LlmPlan) -> Self {
        Self {
            batch: Batcher::new(plan.clone()),
            stepping: false,
            counted_blocks: 0,
            preempted: 0,
        }
    }
}

/// An LLM server's cache for the time series (see `series::StationReading`).
pub(super) fn reading(station: &super::Station) -> Option<(f64, f64, u64)> {
    let first = station.llm.first()?;
    let serving = station.replicas_serving as usize;
    let blocks = first.batch.plan().kv_blocks as f64 * serving as f64;
    let preempted = station.llm.iter().map(|r| r.preempted).sum();
    Some((station.tally.kv_blocks.lifetime, blocks, preempted))
}

impl State {
    /// A call arrives at an LLM replica: its lengths are drawn, and it
    /// waits; a request that could never run is refused.
    pub(super) fn llm_arrive(&mut self, plan: &Plan, station_index: StationId, id: CallId) {
        let spec = &plan.stations[station_index];
        if spec.llm.is_none() {
            return;
        }
        let (class, replica) = {
            let c = &self.calls[id as usize];
            (c.class as usize, c.replica)
        };
        let phase = spec.llm.as_ref().map_or(LlmPhase::Both, |l| l.phase);
        let lengths = if phase == LlmPhase::Decode {
            // The prompt's KV and first token come from the caller.
            match self.calls[id as usize].role {
                Role::Child { caller } => self.calls[caller as usize]
                    .prefilled
                    .map(|p| (p.prompt, p.output, Some(p.first_token))),
                Role::Root { .. } | Role::Detached => None,
            }
        } else {
            plan.classes[class].tokens.as_ref().map(|(prompt, output)| {
                let rng = &mut self.stations[station_index].service_rng;
                (
                    u64::from(TokenCount::tokens_of(prompt.sample(rng))),
                    u64::from(TokenCount::tokens_of(output.sample(rng))),
                    None,
                )
            })
        };
        // Validation asks every class that reaches an LLM for lengths, and
        // a decode server to be called by a prefill server.
        let Some((prompt, output, first_token)) = lengths else {
            self.llm_refuse(plan, id);
            return;
        };
        let station = &mut self.stations[station_index];
        let r = &station.llm[replica as usize];
        let kept = if phase == LlmPhase::Prefill {
            1
        } else {
            output
        };
        let never = r.batch.never_fits(prompt, kept);
        let full = spec
            .queue_capacity
            .is_some_and(|cap| r.batch.waiting() >= cap as usize);
        if never || full {
            self.llm_refuse(plan, id);
            return;
        }
        let root_arrived = self.root_arrival(id);
        let (now, from, measuring) = (self.now, self.measure_from, self.measuring);
        let station = &mut self.stations[station_index];
        station.replicas[replica as usize].outstanding += 1;
        station.tally.present.change(now, from, 1);
        station.tally.queued.change(now, from, 1);
        if measuring {
            station.tally.arrivals += 1;
        }
        let r = &mut station.llm[replica as usize];
        let times = SeqTimes {
            call: id,
            output,
            first_token,
            last_token: first_token.unwrap_or(now),
            root_arrived,
        };
        match phase {
            LlmPhase::Both => r.batch.push(times, prompt, output),
            LlmPhase::Prefill => r.batch.push(times, prompt, 1),
            LlmPhase::Decode => r.batch.push_prefilled(times, prompt, output, 1),
        }
        if !r.stepping {
            // The step starts once this instant's arrivals are all in, so
            // requests that arrive together are batched together.
            r.stepping = true;
            self.schedule(
                0,
                Event::LlmKick {
                    station: station_index,
                    replica,
                },
            );
        }
    }

    /// An idle replica's next step starts (see [`Self::llm_arrive`]).
    pub(super) fn llm_kick(&mut self, station_index: StationId, replica: u32) {
        self.stations[station_index].llm[replica as usize].stepping = false;
        self.llm_step(station_index, replica);
    }

    /// Refuses a call an LLM replica cannot run (too long for its cache or
    /// its step, or its queue full), counted as a rejection.
    fn llm_refuse(&mut self, plan: &Plan, id: CallId) {
        if self.measuring {
            self.stations[self.calls[id as usize].station]
                .tally
                .rejections += 1;
        }
        self.calls[id as usize].failed = true;
        self.answer(plan, id);
    }

    /// When the request a call belongs to entered the system.
    fn root_arrival(&self, mut id: CallId) -> SimTime {
        loop {
            let call = &self.calls[id as usize];
            match call.role {
                Role::Child { caller } => id = caller,
                Role::Root { .. } | Role::Detached => return call.arrived,
            }
        }
    }

    /// Chooses and starts a replica's next step, if it has work.
    fn llm_step(&mut self, station_index: StationId, replica: u32) {
        let (now, from) = (self.now, self.measure_from);
        let station = &mut self.stations[station_index];
        let tally = &mut station.tally;
        let r = &mut station.llm[replica as usize];
        let step = r.batch.plan_step();
        #[expect(
            clippy::cast_possible_wrap,
            reason = "sequences are far fewer than 2^63"
        )]
        let moved = step.admitted as i64 - step.preempted as i64;
        tally.busy.change(now, from, moved);
        tally.queued.change(now, from, -moved);
        let used = r.batch.used_blocks();
        #[expect(clippy::cast_possible_wrap, reason = "blocks are far fewer than 2^63")]
        let delta = used as i64 - r.counted_blocks as i64;
        r.counted_blocks = used;
        tally.kv_blocks.change(now, from, delta);
        r.preempted += step.preempted;
        if self.measuring {
            tally.llm.preemptions += step.preempted;
        }
        if step.time_ns == 0 {
            r.stepping = false;
            return;
        }
        r.stepping = true;
        if self.measuring {
            tally.llm.steps += 1;
            tally.llm.prefill_tokens += step.prefill_tokens;
            tally.llm.decode_tokens += step.decodes;
        }
        self.schedule(
            step.time_ns,
            Event::LlmStep {
                station: station_index,
                replica,
            },
        );
    }

    /// A step ends: its sequences have their tokens; the finished go on.
    pub(super) fn llm_step_done(&mut self, plan: &Plan, station_index: StationId, replica: u32) {
        let (now, from, measuring) = (self.now, self.measure_from, self.measuring);
        let station = &mut self.stations[station_index];
        let r = &mut station.llm[replica as usize];
        let (classes, calls) = (&mut self.classes, &self.calls);
        let finished = r.batch.finish_step(|seq| {
            let times = &mut seq.tag;
            let counted = measuring && times.root_arrived >= from;
            let class = calls[times.call as usize].class as usize;
            match times.first_token {
                None => {
                    times.first_token = Some(now);
                    if counted {
                        classes[class]
                            .llm
                            .ttft
                            .record(now.since(times.root_arrived));
                    }
                }
                Some(_) if counted => {
                    classes[class].llm.itl.record(now.since(times.last_token));
                }
                Some(_) => {}
            }
            times.last_token = now;
        });
        let prefill_only = plan.stations[station_index]
            .llm
            .as_ref()
            .is_some_and(|l| l.phase == LlmPhase::Prefill);
        let mut calls_done = Vec::with_capacity(finished.len());
        for seq in finished {
            station.tally.busy.change(now, from, -1);
            let Seq {
                tag: times, prompt, ..
            } = seq;
            let first = times.first_token.unwrap_or(now);
            if prefill_only {
                // The decode server finishes the request and counts it.
                self.calls[times.call as usize].prefilled = Some(Prefilled {
                    prompt,
                    output: times.output,
                    first_token: first,
                });
            } else if measuring && times.root_arrived >= from {
                let output = times.output;
                let class = self.calls[times.call as usize].class as usize;
                let tally = &mut self.classes[class].llm;
                tally.requests += 1;
                tally.tokens_in += prompt;
                tally.tokens_out += output;
                let tpot = (output > 1).then(|| now.since(first) / (output - 1));
                if let Some(tpot) = tpot {
                    tally.tpot.record(tpot);
                }
                if let Some(slo) = &plan.classes[class].slo
                    && slo.met(first.since(times.root_arrived), tpot)
                {
                    tally.attained += 1;
                }
            }
            calls_done.push(times.call);
        }
        station.llm[replica as usize].stepping = false;
        self.llm_step(station_index, replica);
        for call in calls_done {
            self.after_work(plan, call);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Slice, State, Stop};
    use crate::model::{
        KvCache, LlmServing, Project, Service, ServiceKind, StepTime, TimeSpan, Validated,
    };
    use crate::sim::SimTime;
    use crate::sim::plan::Plan;

    /// Ten users, no think time, all at one LLM replica at time zero, with
    /// a cache of `kv_tokens`: 48-token prompts (3 blocks), 100 output tokens
    /// (148 in all: 10 blocks, which a cache of 10 just holds).
    fn crowd(kv_tokens: u64) -> Plan {
        let mut server = Service::new("llm", ServiceKind::LlmServer, "0ms".parse().unwrap());
        server.llm = Some(LlmServing {
            max_num_seqs: 100,
            max_batched_tokens: 100_000,
            kv_cache: KvCache::Tokens(kv_tokens),
            step: StepTime {
                base: TimeSpan::from_nanos(1_000_000),
                per_prefill_token: TimeSpan::from_nanos(1_000),
                per_decode_token: TimeSpan::from_nanos(10_000),
                prefill_table: Vec::new(),
            },
            chunked_prefill: false,
            watermark: 0.0,
            tensor_parallel: 1,
            tp_efficiency: 0.9,
            phase: crate::model::LlmPhase::Both,
        });
        let mut project: Project = crate::model::file::parse(
            "(format: 1, name: \"kv\", workload: (arrivals: Closed(users: 10, think_time: \"0ms\"), \
             classes: [(name: \"chat\", entry: \"llm\", tokens: (prompt: \"48\", output: \"100\"))]), \
             scenarios: [(name: \"s\", services: [(name: \"llm\", service_time: \"0ms\")])])",
            std::path::Path::new("kv.ron"),
        )
        .unwrap()
        .project;
        project.scenarios[0].services[0] = server;
        Plan::new(Validated::new(&project).unwrap(), 0)
    }

    fn run_until(plan: &Plan, until_ns: u64) -> State {
        let mut state = State::new(plan, 1, 0, 0, Stop::At(SimTime(10_000_000_000)));
        state.advance(
            plan,
            Slice {
                max_events: u64::MAX,
                until: SimTime(until_ns),
            },
        );
        state
    }

    #[test]
    fn the_cache_admits_as_many_prompts_as_its_blocks_hold() {
        // 10 blocks of 16 tokens, 3 a prompt: floor(10 / 3) = 3 admitted,
        // whatever max_num_seqs (100) and the token budget would allow.
        let plan = crowd(160);
        let state = run_until(&plan, 1);
        let r = &state.stations[0].llm[0].batch;
        assert_eq!(r.running(), 3);
        assert_eq!(r.waiting(), 7);
        assert_eq!(r.free_blocks(), 1);
        // With room for every prompt, all ten are.
        let state = run_until(&crowd(16 * 30), 1);
        assert_eq!(state.stations[0].llm[0].batch.running(), 10);
    }

    #[test]
    fn a_decode_that_needs_a_block_preempts_the_newest_sequence() {
        // After the prefill (1 ms + 144 µs) each of the three has 49 tokens
        // to keep: 4 blocks each, 12 in all, with 10. The first takes the
        // free block; the second's needs the newest, the third, preempted:
        // its 3 blocks freed, it waits at the front; then the two decode.
        let plan = crowd(160);
        let state = run_until(&plan, 1_144_001);
        let r = &state.stations[0].llm[0].batch;
        let running: Vec<u64> = r.running_blocks().collect();
        assert_eq!(running, [4, 4]);
        assert_eq!(r.free_blocks(), 2);
        assert_eq!(r.waiting(), 8);
        assert_eq!(r.front(), Some((1, 49, 0)));
        assert_eq!(state.stations[0].tally.llm.preemptions, 1);
    }
}
