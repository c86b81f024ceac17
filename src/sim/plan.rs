//! A scenario compiled for the engine: names resolved to indices, links
//! grouped into steps, distributions turned into samplers.

use crate::model::{
    ArrivalProcess, Arrivals, Balancer, Breaker, CallMode, IoModel, Jitter, QueueCapacity,
    RateSegment, Scenario, ServiceKind, Validated,
};

use super::ids::{LinkId, StationId};
use super::sample::Sampler;

/// Everything the engine needs, with no strings on the hot path.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scenario: String,
    pub stations: Vec<Station>,
    pub classes: Vec<Class>,
    pub arrivals: ArrivalPlan,
    /// Stable names for each link's random stream, by link index.
    pub link_streams: Vec<String>,
    /// Each link's timeouts, retries, breaker and bulkhead, by link index.
    pub links: Vec<LinkPlan>,
    /// The station offered more work than it can do, when the scenario's
    /// offered work is exactly known (see [`super::analytic::overloaded`]):
    /// the run is saturated from the start, whatever its backlog shows.
    pub overloaded: Option<StationId>,
    /// Every service can do its offered work, and its offered utilisation
    /// is exactly its busy share: the scenario is stable, and a growing
    /// backlog is a fluctuation, not saturation.
    pub stable: bool,
}

/// What a link does beyond carrying calls.
#[derive(Clone, Debug)]
pub struct LinkPlan {
    pub name: String,
    pub from: StationId,
    /// Whether calls go through attempts (see [`guarded`]).
    pub guarded: bool,
    pub target: StationId,
    pub latency: Sampler,
    /// Give up on an attempt after this many nanoseconds.
    pub timeout_ns: Option<u64>,
    pub retry: Option<RetryPlan>,
    pub breaker: Option<Breaker>,
    /// Attempts in flight per caller replica.
    pub max_concurrent: Option<u32>,
    pub fault: Option<FaultPlan>,
}

/// Extra round-trip time on a link for a while.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    /// From this instant (nanoseconds)...
    pub from_ns: u64,
    /// ...until this one, exclusive.
    pub until_ns: u64,
    /// The extra time, drawn per call.
    pub extra: Sampler,
}

impl FaultPlan {
    /// Whether the fault is active at `now_ns`.
    pub fn active(&self, now_ns: u64) -> bool {
        (self.from_ns..self.until_ns).contains(&now_ns)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RetryPlan {
    pub max_retries: u32,
    pub backoff_ns: u64,
    pub max_backoff_ns: u64,
    pub jitter: Jitter,
    pub budget: Option<BudgetPlan>,
}

/// How many retries a link may make: Finagle's retry budget.
#[derive(Clone, Copy, Debug)]
pub struct BudgetPlan {
    /// Retries allowed per first attempt.
    pub ratio: f64,
    /// Retries allowed per second whatever the first attempts.
    pub min_per_second: f64,
}

/// A cache in front of a service.
#[derive(Clone, Copy, Debug)]
pub struct CachePlan {
    /// The share of calls answered by the cache once it is warm.
    pub hit_ratio: f64,
    /// How long it takes to warm up, from empty at time zero (0: always warm).
    pub warmup_ns: u64,
}

/// A token bucket in front of a service.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitPlan {
    pub tokens_per_sec: f64,
    /// The bucket's size, and the tokens it starts with.
    pub burst: f64,
}

/// Dynamic batching on a service.
#[derive(Clone, Copy, Debug)]
pub struct BatchingPlan {
    pub max_batch: u32,
    /// The longest the oldest waiting call waits for a batch to fill.
    pub max_wait_ns: u64,
    /// Work added to the batch's service time per call in it.
    pub per_item_ns: u64,
}

/// An LLM server's continuous batching (`sim::batch`), its times in
/// nanoseconds after tensor parallelism's speed-up.
#[derive(Clone, Debug)]
pub struct LlmPlan {
    /// The most sequences running at once.
    pub max_num_seqs: u32,
    /// The most tokens one step computes.
    pub max_batched_tokens: u64,
    /// The KV cache of one replica, in blocks of `KV_BLOCK_TOKENS`.
    pub kv_blocks: u64,
    /// Blocks kept free when admitting a prompt.
    pub watermark_blocks: u64,
    /// Decodes first, then prompts in chunks.
    pub chunked_prefill: bool,
    /// The part of each request's work it does.
    pub phase: crate::model::LlmPhase,
    /// Every step's fixed time.
    pub base_ns: f64,
    /// Per prompt token, without a prefill table.
    pub per_prefill_ns: f64,
    /// Per decoding sequence.
    pub per_decode_ns: f64,
    /// The prefill table, unscaled (empty for none).
    prefill_table: std::sync::Arc<[(u64, crate::model::TimeSpan)]>,
    /// What the table's times are divided by.
    speedup: f64,
}

impl LlmPlan {
    /// The plan of a (validated) server's settings.
    pub fn new(llm: &crate::model::LlmServing) -> Self {
        let speedup = llm.speedup();
        let kv_blocks = llm.kv_blocks().unwrap_or(1);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a share of at most half the blocks"
        )]
        let watermark_blocks = (llm.watermark * kv_blocks as f64).floor() as u64;
        Self {
            max_num_seqs: llm.max_num_seqs,
            max_batched_tokens: u64::from(llm.max_batched_tokens),
            kv_blocks,
            watermark_blocks,
            chunked_prefill: llm.chunked_prefill,
            phase: llm.phase,
            base_ns: llm.step.base.as_nanos() as f64 / speedup,
            per_prefill_ns: llm.step.per_prefill_token.as_nanos() as f64 / speedup,
            per_decode_ns: llm.step.per_decode_token.as_nanos() as f64 / speedup,
            prefill_table: llm.step.prefill_table.clone().into(),
            speedup,
        }
    }

    /// Whether a request of these lengths can never run on a replica: its
    /// whole context does not fit the cache with the watermark free, or,
    /// without chunking, its context does not fit one step (a preempted
    /// sequence is computed again in one step, prompt and output so far:
    /// vLLM's `max_model_len` rule).
    /// Lengths from outside (a request's `max_tokens`, a header) may be
    /// as large as a u64 holds: such never fit, rather than overflow.
    pub fn never_fits(&self, prompt: u64, output: u64) -> bool {
        let context = prompt.saturating_add(output);
        context
            .div_ceil(crate::model::KV_BLOCK_TOKENS)
            .saturating_add(self.watermark_blocks)
            > self.kv_blocks
            || (!self.chunked_prefill && context > self.max_batched_tokens)
    }

    /// The prefill time of `chunk` prompt tokens computed after the first
    /// `from`, in nanoseconds: `per_prefill × chunk`, or with a table
    /// `T(from + chunk) − T(from)`.
    pub fn prefill_ns(&self, from: u64, chunk: u64) -> f64 {
        if self.prefill_table.is_empty() {
            return self.per_prefill_ns * chunk as f64;
        }
        let t = |tokens| {
            crate::model::llm_prefill_ns(
                &self.prefill_table,
                crate::model::TimeSpan::default(),
                tokens,
            )
        };
        (t(from + chunk) - t(from)) / self.speedup
    }

    /// A step's time: `base + prefill + per_decode × decode`, rounded to
    /// the nanosecond, at least one.
    pub fn step_ns(&self, prefill_ns: f64, decodes: u64) -> u64 {
        let ns = self.base_ns + prefill_ns + self.per_decode_ns * decodes as f64;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "positive, and far below 2^64 for any valid model"
        )]
        let ns = ns.round().min(crate::model::MAX_SPAN_NS as f64) as u64;
        ns.max(1)
    }
}

/// A replica's crash.
#[derive(Clone, Copy, Debug)]
pub struct CrashPlan {
    pub at_ns: u64,
    pub replica: u32,
    /// It serves again this long after the crash.
    pub restart_after_ns: u64,
}

#[derive(Clone, Debug)]
pub struct Station {
    pub name: String,
    pub kind: ServiceKind,
    pub replicas: u32,
    pub workers: u32,
    pub queue_capacity: Option<u32>,
    pub service_time: Sampler,
    pub balancer: Balancer,
    pub blocking: bool,
    pub cache: Option<CachePlan>,
    /// The chance a request fails here.
    pub error_rate: f64,
    pub rate_limit: Option<RateLimitPlan>,
    pub batching: Option<BatchingPlan>,
    /// An LLM server's batching; its `workers` are then its `max_num_seqs`.
    pub llm: Option<LlmPlan>,
    pub autoscale: Option<crate::model::Autoscale>,
    pub crashes: Vec<CrashPlan>,
    /// Replica slots: the most replicas the service can have.
    pub slots: u32,
    /// The mean service time, in nanoseconds.
    pub mean_service_ns: f64,
    /// Outgoing calls, step by step; calls in one step run in parallel.
    pub steps: Vec<Vec<Call>>,
}

#[derive(Clone, Debug)]
pub struct Call {
    /// The link, which also names its random stream.
    pub link: LinkId,
    pub target: StationId,
    pub probability: f64,
    pub count: u32,
    pub latency: Sampler,
    pub sync: bool,
    /// Made as attempts (see [`guarded`]).
    pub guarded: bool,
    pub fault: Option<FaultPlan>,
    /// A later repetition of a sequential link with a count: made exactly
    /// when the previous step's call was made, without a new draw.
    pub repeats_previous: bool,
}

#[derive(Clone, Debug)]
pub struct Class {
    pub name: String,
    pub entry: StationId,
    /// Running total of normalised weights; the last is 1.
    pub cumulative_weight: f64,
    /// Prompt and output lengths, drawn in microseconds a token (see
    /// `model::TokenCount`), for the LLM servers its requests reach.
    pub tokens: Option<(Sampler, Sampler)>,
    /// The bounds a sequence of this class meets for goodput: the limits
    /// of the project's `ttft` and `tpot` objectives for it (or for every
    /// class), in nanoseconds; `None` without either.
    pub slo: Option<TokenSlo>,
}

/// Per-request bounds on token timings, from the project's objectives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenSlo {
    pub ttft_ns: Option<u64>,
    pub tpot_ns: Option<u64>,
}

impl TokenSlo {
    /// The bounds of `class` from `objectives`: a class's own objective
    /// before one for every class.
    fn of(objectives: &[crate::model::Objective], class: &str) -> Option<Self> {
        use crate::model::LatencyMeasure;
        let bound = |measure: LatencyMeasure| {
            let matching = |own: bool| {
                objectives.iter().find(|o| {
                    o.latency.measure == measure
                        && (o.class.as_deref() == Some(class)) == own
                        && (own || o.class.is_none())
                })
            };
            matching(true)
                .or_else(|| matching(false))
                .map(|o| o.latency.limit.as_nanos())
        };
        let slo = Self {
            ttft_ns: bound(LatencyMeasure::Ttft),
            tpot_ns: bound(LatencyMeasure::Tpot),
        };
        (slo != Self::default()).then_some(slo)
    }

    /// Whether a sequence with these timings meets the bounds (one without
    /// a TPOT, a single token, meets that bound).
    pub fn met(&self, ttft_ns: u64, tpot_ns: Option<u64>) -> bool {
        self.ttft_ns.is_none_or(|b| ttft_ns <= b)
            && self.tpot_ns.is_none_or(|b| tpot_ns.is_none_or(|t| t <= b))
    }
}

#[derive(Clone, Debug)]
pub enum ArrivalPlan {
    Open {
        process: ArrivalProcess,
        segments: Vec<RateSegment>,
    },
    Closed {
        users: u32,
        think_time: Sampler,
    },
}

impl Plan {
    /// Compiles scenario `index` of a validated project.
    pub fn new(project: Validated<'_>, index: usize) -> Self {
        let project = project.project();
        let scenario = &project.scenarios[index];
        let station_of = |name: &str| scenario.service_index(name).map(StationId::new);
        let mut stations: Vec<Station> = scenario
            .services
            .iter()
            .map(|s| Station {
                name: s.name.clone(),
                kind: s.kind,
                replicas: s.replicas,
                workers: s.llm.as_ref().map_or(s.workers, |l| l.max_num_seqs),
                queue_capacity: match s.queue {
                    QueueCapacity::Unbounded => None,
                    QueueCapacity::Bounded(n) => Some(n),
                },
                service_time: Sampler::new(&s.service_time),
                balancer: s.balancer,
                blocking: s.io == IoModel::Blocking,
                cache: s.cache.map(|c| CachePlan {
                    hit_ratio: c.hit_ratio,
                    warmup_ns: c.warmup.as_nanos(),
                }),
                error_rate: s.error_rate,
                rate_limit: s.rate_limit.map(|r| RateLimitPlan {
                    tokens_per_sec: r.rate,
                    burst: f64::from(r.burst),
                }),
                batching: s.batching.map(|b| BatchingPlan {
                    max_batch: b.max_batch,
                    max_wait_ns: b.max_wait.as_nanos(),
                    per_item_ns: b.per_item.as_nanos(),
                }),
                llm: s.llm.as_ref().map(LlmPlan::new),
                autoscale: s.autoscale,
                crashes: s
                    .crashes
                    .iter()
                    .map(|c| CrashPlan {
                        at_ns: c.at.as_nanos(),
                        replica: c.replica,
                        restart_after_ns: c.restart_after.as_nanos(),
                    })
                    .collect(),
                slots: s
                    .autoscale
                    .map_or(s.replicas, |a| a.max_replicas.max(s.replicas)),
                mean_service_ns: s.service_time.mean_secs() * 1e9,
                steps: Vec::new(),
            })
            .collect();
        let link_streams = group_links_into_steps(scenario, &mut stations);
        let links = scenario
            .links
            .iter()
            .map(|l| LinkPlan {
                name: format!("{} -> {}", l.from, l.to),
                from: station_of(&l.from).unwrap_or(StationId::new(0)),
                guarded: guarded(l),
                target: station_of(&l.to).unwrap_or(StationId::new(0)),
                latency: Sampler::new(&l.latency),
                timeout_ns: l.timeout.map(crate::model::TimeSpan::as_nanos),
                retry: l.retry.map(|r| RetryPlan {
                    max_retries: r.max_retries,
                    backoff_ns: r.backoff.as_nanos(),
                    max_backoff_ns: r.max_backoff.as_nanos(),
                    jitter: r.jitter,
                    budget: r.budget.map(|b| BudgetPlan {
                        ratio: b.ratio,
                        min_per_second: b.min_per_second,
                    }),
                }),
                breaker: l.breaker,
                max_concurrent: l.max_concurrent,
                fault: fault(l),
            })
            .collect();
        let total_weight: f64 = project.workload.classes.iter().map(|c| c.weight).sum();
        let mut running = 0.0;
        let classes = project
            .workload
            .classes
            .iter()
            .map(|c| {
                running += c.weight / total_weight;
                Class {
                    name: c.name.clone(),
                    entry: station_of(&c.entry).unwrap_or(StationId::new(0)),
                    cumulative_weight: running,
                    tokens: c
                        .tokens
                        .as_ref()
                        .map(|t| (Sampler::new(&t.prompt.0), Sampler::new(&t.output.0))),
                    slo: TokenSlo::of(&project.objectives, &c.name),
                }
            })
            .collect();
        let arrivals = match &project.workload.arrivals {
            Arrivals::Open { process, .. } => ArrivalPlan::Open {
                process: *process,
                segments: project.workload.rate_segments(),
            },
            Arrivals::Closed { users, think_time } => ArrivalPlan::Closed {
                users: *users,
                think_time: Sampler::new(think_time),
            },
        };
        Self {
            scenario: scenario.name.clone(),
            stations,
            classes,
            arrivals,
            link_streams,
            links,
            overloaded: super::analytic::overloaded(project, index).map(|(i, _)| StationId::new(i)),
            stable: super::analytic::offered_load(project, index)
                == Some(super::analytic::OfferedLoad::Within { exact: true }),
        }
    }
}

/// Whether calls on this link go through attempts (timeouts, retries,
/// breaker or bulkhead), rather than the plain call path.
fn guarded(link: &crate::model::Link) -> bool {
    link.mode == CallMode::Sync
        && (link.timeout.is_some()
            || link.retry.is_some()
            || link.breaker.is_some()
            || link.max_concurrent.is_some())
}

fn fault(link: &crate::model::Link) -> Option<FaultPlan> {
    link.fault.as_ref().map(|f| FaultPlan {
        from_ns: f.from.as_nanos(),
        until_ns: f.until.as_nanos(),
        extra: Sampler::new(&f.extra),
    })
}

/// Groups each caller's links into steps and returns each link's stream name.
/// A link without a parallel group is a step of its own (one per call when it
/// has a count); a group's step sits at its first link.
fn group_links_into_steps(scenario: &Scenario, stations: &mut [Station]) -> Vec<String> {
    let station_of = |name: &str| scenario.service_index(name).map(StationId::new);
    let mut group_step: Vec<Vec<(String, usize)>> = vec![Vec::new(); stations.len()];
    let mut link_streams = Vec::with_capacity(scenario.links.len());
    for (link_index, link) in scenario.links.iter().enumerate() {
        let repeats = scenario.links[..link_index]
            .iter()
            .filter(|l| l.from == link.from && l.to == link.to)
            .count();
        link_streams.push(format!("link/{}->{}#{repeats}", link.from, link.to));
        let (Some(from), Some(target)) = (station_of(&link.from), station_of(&link.to)) else {
            continue;
        };
        let call = Call {
            link: LinkId::new(link_index),
            target,
            probability: link.probability,
            count: link.count,
            latency: Sampler::new(&link.latency),
            sync: link.mode == CallMode::Sync,
            guarded: guarded(link),
            fault: fault(link),
            repeats_previous: false,
        };
        let from = from.index();
        let steps = &mut stations[from].steps;
        match &link.parallel_group {
            // A sequential link with a count makes its calls one after
            // another: one step each, all decided by the first.
            None => {
                let repeats = call.count;
                steps.push(vec![Call {
                    count: 1,
                    ..call.clone()
                }]);
                for _ in 1..repeats {
                    steps.push(vec![Call {
                        count: 1,
                        repeats_previous: true,
                        ..call.clone()
                    }]);
                }
            }
            Some(group) => {
                if let Some((_, step)) = group_step[from].iter().find(|(g, _)| g == group) {
                    steps[*step].push(call);
                } else {
                    group_step[from].push((group.clone(), steps.len()));
                    steps.push(vec![call]);
                }
            }
        }
    }
    link_streams
}
