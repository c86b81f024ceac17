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

use std::collections::VecDeque;

use crate::model::{KV_BLOCK_TOKENS, TokenCount};

use super::{CallId, Event, Plan, Role, SimTime, State, StationId};
use crate::sim::plan::LlmPlan;

/// What a sequence does in the step under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Idle,
    /// Computes this many more of its prefill's tokens.
    Prefill(u64),
    /// Produces its next token.
    Decode,
}

#[derive(Clone, Debug)]
struct Seq {
    call: CallId,
    prompt: u64,
    output: u64,
    /// Tokens produced so far.
    generated: u64,
    /// The tokens its (re)admission must compute: the prompt, and after a
    /// preemption the tokens it had produced too.
    target: u64,
    /// Of `target`, those computed.
    computed: u64,
    blocks: u64,
    work: Work,
    first_token: Option<SimTime>,
    last_token: SimTime,
    /// When its request entered the system, and whether that was measured.
    root_arrived: SimTime,
}

/// One LLM replica's sequences and cache.
#[derive(Clone, Debug, Default)]
pub(super) struct LlmReplica {
    waiting: VecDeque<Seq>,
    running: Vec<Seq>,
    free_blocks: u64,
    /// A step (or the start of one) is under way.
    stepping: bool,
    /// The blocks in use last counted in the station's `kv_blocks` level.
    counted_blocks: u64,
}

impl LlmReplica {
    pub(super) fn new(plan: &LlmPlan) -> Self {
        Self {
            free_blocks: plan.kv_blocks,
            ..Self::default()
        }
    }
}

/// KV blocks for `tokens` tokens.
fn blocks(tokens: u64) -> u64 {
    tokens.div_ceil(KV_BLOCK_TOKENS)
}

impl State {
    /// A call arrives at an LLM replica: its lengths are drawn, and it
    /// waits; a request that could never run is refused.
    pub(super) fn llm_arrive(&mut self, plan: &Plan, station_index: StationId, id: CallId) {
        let spec = &plan.stations[station_index];
        let Some(llm) = &spec.llm else { return };
        let (class, replica) = {
            let c = &self.calls[id as usize];
            (c.class as usize, c.replica)
        };
        let Some((prompt_sampler, output_sampler)) = &plan.classes[class].tokens else {
            // Validation asks every class that reaches an LLM for lengths.
            self.llm_refuse(plan, id);
            return;
        };
        let station = &mut self.stations[station_index];
        let prompt = u64::from(TokenCount::tokens_of(
            prompt_sampler.sample(&mut station.service_rng),
        ));
        let output = u64::from(TokenCount::tokens_of(
            output_sampler.sample(&mut station.service_rng),
        ));
        // Its whole context must fit the cache with the watermark free, and
        // without chunking its prompt must fit one step.
        // (Without chunking a preempted sequence is computed again in one
        // step, prompt and output so far: vLLM's max_model_len rule.)
        let never = blocks(prompt + output) + llm.watermark_blocks > llm.kv_blocks
            || (!llm.chunked_prefill && prompt + output > llm.max_batched_tokens);
        let waiting = station.llm[replica as usize].waiting.len();
        let full = spec
            .queue_capacity
            .is_some_and(|cap| waiting >= cap as usize);
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
        r.waiting.push_back(Seq {
            call: id,
            prompt,
            output,
            generated: 0,
            target: prompt,
            computed: 0,
            blocks: 0,
            work: Work::Idle,
            first_token: None,
            last_token: now,
            root_arrived,
        });
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
    pub(super) fn llm_kick(&mut self, plan: &Plan, station_index: StationId, replica: u32) {
        self.stations[station_index].llm[replica as usize].stepping = false;
        self.llm_step(plan, station_index, replica);
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
    fn llm_step(&mut self, plan: &Plan, station_index: StationId, replica: u32) {
        let Some(llm) = plan.stations[station_index].llm else {
            return;
        };
        let (now, from) = (self.now, self.measure_from);
        let station = &mut self.stations[station_index];
        let tally = &mut station.tally;
        let r = &mut station.llm[replica as usize];
        let mut budget = llm.max_batched_tokens;
        let (mut prefill, mut decodes) = (0_u64, 0_u64);
        let mut preempted = 0_u64;
        // Decodes first when chunking; without it, only when no prompt is
        // admitted (a step runs prompts or decodes, as vLLM's first scheduler).
        let decode =
            |r: &mut LlmReplica, budget: &mut u64, decodes: &mut u64, preempted: &mut u64| {
                let mut i = 0;
                while i < r.running.len() {
                    let seq = &r.running[i];
                    if seq.computed < seq.target || *budget == 0 {
                        i += 1;
                        continue;
                    }
                    let need = blocks(seq.prompt + seq.generated).saturating_sub(seq.blocks);
                    // Free a block by preempting the newest, this one perhaps.
                    while need > r.free_blocks && i < r.running.len() {
                        let Some(mut newest) = r.running.pop() else {
                            break;
                        };
                        r.free_blocks += newest.blocks;
                        newest.blocks = 0;
                        newest.computed = 0;
                        newest.target = newest.prompt + newest.generated;
                        newest.work = Work::Idle;
                        r.waiting.push_front(newest);
                        *preempted += 1;
                    }
                    if i >= r.running.len() {
                        break;
                    }
                    let seq = &mut r.running[i];
                    seq.blocks += need;
                    r.free_blocks -= need;
                    seq.work = Work::Decode;
                    *decodes += 1;
                    *budget -= 1;
                    i += 1;
                }
            };
        for seq in &mut r.running {
            seq.work = Work::Idle;
        }
        if llm.chunked_prefill {
            decode(r, &mut budget, &mut decodes, &mut preempted);
            for seq in &mut r.running {
                if seq.computed < seq.target && budget > 0 {
                    let chunk = (seq.target - seq.computed).min(budget);
                    seq.work = Work::Prefill(chunk);
                    prefill += chunk;
                    budget -= chunk;
                }
            }
        }
        // Admit waiting prompts, first come first served, while they fit.
        let mut admitted = 0_i64;
        while let Some(head) = r.waiting.front() {
            let want = if llm.chunked_prefill {
                head.target.min(budget)
            } else {
                head.target
            };
            let fits = r.running.len() < llm.max_num_seqs as usize
                && want > 0
                && want <= budget
                && blocks(head.target) + llm.watermark_blocks <= r.free_blocks;
            if !fits {
                break;
            }
            let Some(mut seq) = r.waiting.pop_front() else {
                break;
            };
            seq.blocks = blocks(seq.target);
            r.free_blocks -= seq.blocks;
            seq.work = Work::Prefill(want);
            prefill += want;
            budget -= want;
            r.running.push(seq);
            admitted += 1;
        }
        if !llm.chunked_prefill && prefill == 0 {
            decode(r, &mut budget, &mut decodes, &mut preempted);
        }
        #[expect(
            clippy::cast_possible_wrap,
            reason = "sequences are far fewer than 2^63"
        )]
        let preempted_i = preempted as i64;
        tally.busy.change(now, from, admitted - preempted_i);
        tally.queued.change(now, from, preempted_i - admitted);
        let used = llm.kv_blocks - r.free_blocks;
        #[expect(clippy::cast_possible_wrap, reason = "blocks are far fewer than 2^63")]
        let delta = used as i64 - r.counted_blocks as i64;
        r.counted_blocks = used;
        tally.kv_blocks.change(now, from, delta);
        if self.measuring {
            tally.llm.preemptions += preempted;
        }
        if prefill == 0 && decodes == 0 {
            r.stepping = false;
            return;
        }
        r.stepping = true;
        if self.measuring {
            tally.llm.steps += 1;
            tally.llm.prefill_tokens += prefill;
            tally.llm.decode_tokens += decodes;
        }
        let time = llm.step_ns(prefill, decodes);
        self.schedule(
            time,
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
        let mut finished = Vec::new();
        let mut i = 0;
        while i < r.running.len() {
            let seq = &mut r.running[i];
            let produced = match seq.work {
                Work::Idle => false,
                Work::Decode => true,
                Work::Prefill(n) => {
                    seq.computed += n;
                    seq.computed == seq.target
                }
            };
            seq.work = Work::Idle;
            if produced {
                seq.generated += 1;
                let counted = measuring && seq.root_arrived >= from;
                let classes = &mut self.classes;
                let class = self.calls[seq.call as usize].class as usize;
                match seq.first_token {
                    None => {
                        seq.first_token = Some(now);
                        if counted {
                            classes[class].llm.ttft.record(now.since(seq.root_arrived));
                        }
                    }
                    Some(_) if counted => {
                        classes[class].llm.itl.record(now.since(seq.last_token));
                    }
                    Some(_) => {}
                }
                seq.last_token = now;
                if seq.generated >= seq.output {
                    let seq = r.running.remove(i);
                    r.free_blocks += seq.blocks;
                    station.tally.busy.change(now, from, -1);
                    if counted {
                        let tally = &mut classes[class].llm;
                        tally.requests += 1;
                        tally.tokens_in += seq.prompt;
                        tally.tokens_out += seq.output;
                        let first = seq.first_token.unwrap_or(now);
                        let tpot = (seq.output > 1).then(|| now.since(first) / (seq.output - 1));
                        if let Some(tpot) = tpot {
                            tally.tpot.record(tpot);
                        }
                        if let Some(slo) = &plan.classes[class].slo
                            && slo.met(first.since(seq.root_arrived), tpot)
                        {
                            tally.attained += 1;
                        }
                    }
                    finished.push(seq.call);
                    continue;
                }
            }
            i += 1;
        }
        r.stepping = false;
        self.llm_step(plan, station_index, replica);
        for call in finished {
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
            },
            chunked_prefill: false,
            watermark: 0.0,
            tensor_parallel: 1,
            tp_efficiency: 0.9,
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
        let r = &state.stations[0].llm[0];
        assert_eq!(r.running.len(), 3);
        assert_eq!(r.waiting.len(), 7);
        assert_eq!(r.free_blocks, 1);
        // With room for every prompt, all ten are.
        let state = run_until(&crowd(16 * 30), 1);
        assert_eq!(state.stations[0].llm[0].running.len(), 10);
    }

    #[test]
    fn a_decode_that_needs_a_block_preempts_the_newest_sequence() {
        // After the prefill (1 ms + 144 µs) each of the three has 49 tokens
        // to keep: 4 blocks each, 12 in all, with 10. The first takes the
        // free block; the second's needs the newest, the third, preempted:
        // its 3 blocks freed, it waits at the front; then the two decode.
        let plan = crowd(160);
        let state = run_until(&plan, 1_144_001);
        let r = &state.stations[0].llm[0];
        let running: Vec<u64> = r.running.iter().map(|s| s.blocks).collect();
        assert_eq!(running, [4, 4]);
        assert_eq!(r.free_blocks, 2);
        assert_eq!(r.waiting.len(), 8);
        let front = r.waiting.front().unwrap();
        assert_eq!((front.generated, front.target, front.blocks), (1, 49, 0));
        assert_eq!(state.stations[0].tally.llm.preemptions, 1);
    }
}
