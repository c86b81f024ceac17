//! One LLM replica's iteration-level (continuous) batching over a paged KV
//! cache, as vLLM and its peers do it (docs/llm.md has the rules in words).
//!
//! [`Batcher`] is the rules alone, with no clock: it holds sequences,
//! waiting (first come, first served) or running (in the order admitted),
//! chooses what the next step computes ([`Batcher::plan_step`]) and hands
//! out the tokens the step produced when told it has ended
//! ([`Batcher::finish_step`]). The simulator runs it on simulated time; the
//! built-in target's LLM mode (`loadgen::target`) runs the very same rules
//! on the wall clock, so a measurement of the one checks the other.
//!
//! A step takes `base + prefill + per_decode × decoding sequences`, where
//! prefill is `per_prefill × tokens` or the prefill table's cost of the
//! tokens computed; at its end every sequence it served has its token: a
//! prompt whose prefill completes produces the first output token, a decode
//! produces the next. A sequence holds `⌈tokens / 16⌉` KV blocks of the
//! tokens whose keys and values are stored; it is admitted only if its
//! prompt's blocks fit with the watermark left free, and when a decode
//! needs a block and none is free the newest running sequence is preempted
//! (its blocks freed, it waits at the front to be computed again, its
//! prompt and the tokens it had produced together).

use std::collections::VecDeque;

use crate::model::KV_BLOCK_TOKENS;

use super::plan::LlmPlan;

/// What a sequence does in the step under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Idle,
    /// Computes this many more of its prefill's tokens.
    Prefill(u64),
    /// Produces its next token.
    Decode,
}

/// A request at an LLM replica, and whatever its owner keeps with it.
#[derive(Clone, Debug)]
pub struct Seq<T> {
    /// The owner's own data (the simulator's call, the target's stream).
    pub tag: T,
    /// Tokens in the prompt.
    pub prompt: u64,
    /// Tokens to generate.
    pub output: u64,
    /// Tokens produced so far.
    pub generated: u64,
    /// The tokens its (re)admission must compute: the prompt, and after a
    /// preemption the tokens it had produced too.
    target: u64,
    /// Of `target`, those computed.
    computed: u64,
    /// KV blocks it holds.
    pub blocks: u64,
    work: Work,
}

/// What a step computes, as [`Batcher::plan_step`] chose it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Prompt tokens computed (recomputation included).
    pub prefill_tokens: u64,
    /// Sequences decoding a token.
    pub decodes: u64,
    /// Sequences admitted from the queue.
    pub admitted: u64,
    /// Running sequences preempted to free blocks.
    pub preempted: u64,
    /// How long the step takes, in nanoseconds; 0 when there is nothing to
    /// compute (the replica is idle).
    pub time_ns: u64,
}

/// One LLM replica's sequences and cache.
#[derive(Clone, Debug)]
pub struct Batcher<T> {
    plan: LlmPlan,
    waiting: VecDeque<Seq<T>>,
    running: Vec<Seq<T>>,
    free_blocks: u64,
}

/// KV blocks for `tokens` tokens.
fn blocks(tokens: u64) -> u64 {
    tokens.div_ceil(KV_BLOCK_TOKENS)
}

impl<T> Batcher<T> {
    /// An idle replica with an empty cache.
    pub fn new(plan: LlmPlan) -> Self {
        Self {
            free_blocks: plan.kv_blocks,
            plan,
            waiting: VecDeque::new(),
            running: Vec::new(),
        }
    }

    /// Whether a request of these lengths can never run here (see
    /// [`LlmPlan::never_fits`]).
    pub fn never_fits(&self, prompt: u64, output: u64) -> bool {
        self.plan.never_fits(prompt, output)
    }

    /// A request joins the back of the queue. Lengths of at least one
    /// token each are assumed.
    pub fn push(&mut self, tag: T, prompt: u64, output: u64) {
        self.waiting.push_back(Seq {
            tag,
            prompt,
            output: output.max(1),
            generated: 0,
            target: prompt.max(1),
            computed: 0,
            blocks: 0,
            work: Work::Idle,
        });
    }

    /// A request whose prompt was computed elsewhere joins the back of
    /// the queue with its KV cache and its first `generated` tokens (a
    /// decode server of a prefill/decode split): admitted, it takes its
    /// prompt's blocks and no prefill, and decodes the rest.
    pub fn push_prefilled(&mut self, tag: T, prompt: u64, output: u64, generated: u64) {
        let prompt = prompt.max(1);
        self.waiting.push_back(Seq {
            tag,
            prompt,
            output: output.max(1),
            generated,
            target: prompt,
            computed: prompt,
            blocks: 0,
            work: Work::Idle,
        });
    }

    /// Sequences waiting to be admitted (preempted ones included).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Sequences admitted and holding blocks.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// KV blocks in use.
    pub fn used_blocks(&self) -> u64 {
        self.plan.kv_blocks - self.free_blocks
    }

    /// The batching settings it runs.
    pub fn plan(&self) -> &LlmPlan {
        &self.plan
    }

    /// Chooses what the next step computes and how long it takes.
    /// Chunking: decodes first, then running prompts' chunks, then new
    /// prompts, first come first served, while they fit the token budget,
    /// `max_num_seqs` and the cache. Without it a step runs either whole
    /// prompts (when any is admitted) or decodes, as vLLM's first scheduler.
    pub fn plan_step(&mut self) -> Step {
        let Self {
            plan,
            waiting,
            running,
            free_blocks,
        } = self;
        let mut step = Step::default();
        let mut budget = plan.max_batched_tokens;
        let mut prefill_ns = 0.0;
        for seq in running.iter_mut() {
            seq.work = Work::Idle;
        }
        if plan.chunked_prefill {
            decode(running, waiting, free_blocks, &mut budget, &mut step);
            for seq in running.iter_mut() {
                if seq.computed < seq.target && budget > 0 {
                    let chunk = (seq.target - seq.computed).min(budget);
                    seq.work = Work::Prefill(chunk);
                    prefill_ns += plan.prefill_ns(seq.computed, chunk);
                    step.prefill_tokens += chunk;
                    budget -= chunk;
                }
            }
        }
        while let Some(head) = waiting.front() {
            // A prefilled sequence (its KV came with it) needs no budget.
            let prefilled = head.computed == head.target;
            let want = if prefilled {
                0
            } else if plan.chunked_prefill {
                head.target.min(budget)
            } else {
                head.target
            };
            let fits = running.len() < plan.max_num_seqs as usize
                && (prefilled || (want > 0 && want <= budget))
                && blocks(head.target) + plan.watermark_blocks <= *free_blocks;
            if !fits {
                break;
            }
            let Some(mut seq) = waiting.pop_front() else {
                break;
            };
            seq.blocks = blocks(seq.target);
            *free_blocks -= seq.blocks;
            if !prefilled {
                seq.work = Work::Prefill(want);
                prefill_ns += plan.prefill_ns(0, want);
                step.prefill_tokens += want;
                budget -= want;
            }
            running.push(seq);
            step.admitted += 1;
        }
        if !plan.chunked_prefill && step.prefill_tokens == 0 {
            decode(running, waiting, free_blocks, &mut budget, &mut step);
        }
        if step.prefill_tokens > 0 || step.decodes > 0 {
            step.time_ns = plan.step_ns(prefill_ns, step.decodes);
        }
        step
    }

    /// The step under way has ended: each sequence that produced a token
    /// is handed to `on_token` (with `generated` counting it), and those
    /// that produced their last are removed, their blocks freed, and
    /// returned in the order they ran.
    pub fn finish_step(&mut self, mut on_token: impl FnMut(&mut Seq<T>)) -> Vec<Seq<T>> {
        let mut finished = Vec::new();
        let mut i = 0;
        while i < self.running.len() {
            let seq = &mut self.running[i];
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
                on_token(seq);
                if seq.generated >= seq.output {
                    let seq = self.running.remove(i);
                    self.free_blocks += seq.blocks;
                    finished.push(seq);
                    continue;
                }
            }
            i += 1;
        }
        finished
    }

    /// The running sequences' block counts, in the order admitted.
    pub fn running_blocks(&self) -> impl Iterator<Item = u64> + '_ {
        self.running.iter().map(|s| s.blocks)
    }

    /// The sequence at the front of the queue: generated tokens, the tokens
    /// its admission must compute, and its blocks.
    pub fn front(&self) -> Option<(u64, u64, u64)> {
        self.waiting
            .front()
            .map(|s| (s.generated, s.target, s.blocks))
    }

    /// Free KV blocks.
    pub fn free_blocks(&self) -> u64 {
        self.free_blocks
    }
}

/// Gives every running sequence whose prefill is done its decode, in the
/// order admitted, while the budget lasts; a decode that needs a block when
/// none is free preempts the newest sequence, this one perhaps.
fn decode<T>(
    running: &mut Vec<Seq<T>>,
    waiting: &mut VecDeque<Seq<T>>,
    free_blocks: &mut u64,
    budget: &mut u64,
    step: &mut Step,
) {
    let mut i = 0;
    while i < running.len() {
        let seq = &running[i];
        if seq.computed < seq.target || *budget == 0 {
            i += 1;
            continue;
        }
        let need = blocks(seq.prompt + seq.generated).saturating_sub(seq.blocks);
        while need > *free_blocks && i < running.len() {
            let Some(mut newest) = running.pop() else {
                break;
            };
            *free_blocks += newest.blocks;
            newest.blocks = 0;
            newest.computed = 0;
            newest.target = newest.prompt + newest.generated;
            newest.work = Work::Idle;
            waiting.push_front(newest);
            step.preempted += 1;
        }
        if i >= running.len() {
            break;
        }
        let seq = &mut running[i];
        seq.blocks += need;
        *free_blocks -= need;
        seq.work = Work::Decode;
        step.decodes += 1;
        *budget -= 1;
        i += 1;
    }
}
