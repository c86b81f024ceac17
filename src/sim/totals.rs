//! What the replications of one scenario measured, merged, and the report
//! made from it.

use crate::stats::{
    BatchReport, ClassReport, Confidence, Interval, LatencyHistogram, LinkReport, LlmClassReport,
    LlmServiceReport, ReplicationSummary, ScenarioReport, ServiceReport, TimeSeries, WarmupMethod,
};

use super::Saturation;
use super::engine::{self, ClassTally, Outcome, StationTally};
use super::plan::Plan;

#[derive(Default)]
pub(super) struct Totals {
    pub(super) measured_ns: u64,
    pub(super) elapsed_ns: u64,
    pub(super) departed: u64,
    pub(super) stations: Vec<StationTally>,
    pub(super) classes: Vec<ClassTally>,
    pub(super) links: Vec<LinkReport>,
    pub(super) timeseries: Option<TimeSeries>,
    pub(super) saturation: Option<Saturation>,
    pub(super) events: u64,
    pub(super) replications: Vec<ReplicationSummary>,
    /// Requests finished when a replication reached the horizon.
    pub(super) beyond_horizon: Option<u64>,
}

impl Totals {
    pub(super) fn absorb(&mut self, outcome: Outcome) {
        if outcome.beyond_horizon {
            self.beyond_horizon = Some(outcome.finished_requests);
        }
        self.replications.push(summarise(&outcome));
        self.measured_ns += outcome.measured_ns;
        self.elapsed_ns += outcome.elapsed_ns;
        self.departed += outcome.departed;
        self.events += outcome.events;
        if self.saturation.is_none() {
            self.saturation = outcome.saturation;
        }
        if self.timeseries.is_none() {
            self.timeseries = outcome.timeseries;
        }
        merge_all(&mut self.stations, outcome.stations, StationTally::merge);
        merge_all(&mut self.links, outcome.links, LinkReport::merge);
        merge_all(&mut self.classes, outcome.classes, ClassTally::merge);
    }

    pub(super) fn report(&self, plan: &Plan, replications: u32) -> ScenarioReport {
        let seconds = self.measured_ns as f64 / 1e9;
        let per_second = |count: u64| {
            if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            }
        };
        let mut overall = LatencyHistogram::new();
        let has_llm = plan.stations.iter().any(|s| s.llm.is_some());
        let classes: Vec<ClassReport> = plan
            .classes
            .iter()
            .zip(
                self.classes
                    .iter()
                    .chain(std::iter::repeat(&ClassTally::default())),
            )
            .map(|(spec, tally)| {
                overall.merge(&tally.latency);
                ClassReport {
                    name: spec.name.clone(),
                    arrived: tally.arrived,
                    requests: tally.succeeded,
                    failed: tally.failed,
                    unfinished: tally.unfinished,
                    // Departures per second: a request that arrived in the
                    // warm-up and finished after it counts, one that has
                    // not finished by the end does not, as for a real
                    // system's throughput.
                    throughput_rps: per_second(tally.departed),
                    latency_ms: tally.latency.summary(),
                    latency: tally.latency.clone(),
                    llm: (has_llm && spec.tokens.is_some()).then(|| LlmClassReport {
                        sequences: tally.llm.requests,
                        ttft_ms: tally.llm.ttft.summary(),
                        tpot_ms: tally.llm.tpot.summary(),
                        itl_ms: tally.llm.itl.summary(),
                        tokens_in_per_s: per_second(tally.llm.tokens_in),
                        tokens_out_per_s: per_second(tally.llm.tokens_out),
                        attainment: spec
                            .slo
                            .map(|_| tally.llm.attained as f64 / tally.llm.requests.max(1) as f64),
                        ttft: tally.llm.ttft.clone(),
                        tpot: tally.llm.tpot.clone(),
                        itl: tally.llm.itl.clone(),
                    }),
                }
            })
            .collect();
        let services = self.services(plan, seconds);
        let occupancy: Vec<f64> = services.iter().map(|s| s.utilization).collect();
        let requests = classes.iter().map(|c| c.requests).sum();
        let column =
            |f: fn(&ReplicationSummary) -> f64| self.replications.iter().map(f).collect::<Vec<_>>();
        let confidence = match (
            Interval::of_mean(&column(|r| r.mean_ms)),
            Interval::of_mean(&column(|r| r.p99_ms)),
            Interval::of_mean(&column(|r| r.throughput_rps)),
        ) {
            (Some(mean_ms), Some(p99_ms), Some(throughput_rps)) => Some(Confidence {
                level: 0.95,
                method: "independent replications, Student t".to_owned(),
                mean_ms,
                p99_ms,
                throughput_rps,
            }),
            _ => None,
        };
        ScenarioReport {
            scenario: plan.scenario.clone(),
            requests,
            failed: classes.iter().map(|c| c.failed).sum(),
            arrived: classes.iter().map(|c| c.arrived).sum(),
            unfinished: classes.iter().map(|c| c.unfinished).sum(),
            // A saturated run ends early, and few of the requests that
            // arrived after the warm-up finish before the end: its
            // throughput is that of the whole run, start to end, which in
            // overload is the rate the bottleneck keeps up.
            throughput_rps: if self.saturation.is_some() && self.elapsed_ns > 0 {
                self.departed as f64 / (self.elapsed_ns as f64 / 1e9)
            } else {
                per_second(self.classes.iter().map(|c| c.departed).sum())
            },
            latency_ms: overall.summary(),
            saturated: self.saturation.is_some(),
            saturated_service: self
                .saturation
                .as_ref()
                .map(|s| plan.stations[s.station].name.clone()),
            bottleneck: plan
                .stations
                .get(engine::bottleneck(plan, &occupancy))
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            warmup_s: 0.0,
            warmup_method: WarmupMethod::Configured,
            measured_s: seconds,
            replications,
            confidence,
            analytic_ms: None,
            analytic_method: None,
            analytic_assumptions_broken: Vec::new(),
            analytic_outside_interval: false,
            objectives: Vec::new(),
            slo_pass: true,
            llm: scenario_llm(&classes),
            classes,
            services,
            links: self.links(plan),
            timeseries: self.timeseries.clone().unwrap_or_default(),
            latency: overall,
            per_replication: self.replications.clone(),
        }
    }
}

impl Totals {
    pub(super) fn services(&self, plan: &Plan, seconds: f64) -> Vec<ServiceReport> {
        let per_second = |count: u64| {
            if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            }
        };
        let time_average = |area: f64| {
            if self.measured_ns > 0 {
                area / self.measured_ns as f64
            } else {
                0.0
            }
        };
        plan.stations
            .iter()
            .enumerate()
            .zip(
                self.stations
                    .iter()
                    .chain(std::iter::repeat(&StationTally::default())),
            )
            .map(|((index, spec), t)| {
                let means: Vec<f64> = self
                    .replications
                    .iter()
                    .map(|r| r.service_mean_ms[index])
                    .collect();
                ServiceReport {
                    name: spec.name.clone(),
                    kind: spec.kind.name().to_owned(),
                    utilization: if t.serving.area > 0.0 {
                        t.busy.area / t.serving.area
                    } else {
                        0.0
                    },
                    mean_queue_length: time_average(t.queued.area),
                    mean_in_service: time_average(t.present.area),
                    arrivals: t.arrivals,
                    throughput_rps: per_second(t.completions),
                    rejected: t.rejections,
                    errors: t.errors,
                    cache_hits: t.cache_hits,
                    rate_limited: t.rate_limited,
                    crash_failures: t.crash_failures,
                    batching: batches(&t.batch_sizes),
                    llm: spec.llm.as_ref().map(|llm| LlmServiceReport {
                        steps: t.llm.steps,
                        mean_running: time_average(t.busy.area) / f64::from(spec.replicas),
                        kv_utilization: time_average(t.kv_blocks.area)
                            / (llm.kv_blocks as f64 * f64::from(spec.replicas)),
                        preemptions: t.llm.preemptions,
                        prefill_tokens_per_s: per_second(t.llm.prefill_tokens),
                        decode_tokens_per_s: per_second(t.llm.decode_tokens),
                    }),
                    waited_fraction: ratio(t.waited, t.started),
                    response_ms: t.response.summary(),
                    wait_ms: t.wait.summary(),
                    service_time_ms: if t.started > 0 {
                        t.service_ns as f64 / t.started as f64 / 1e6
                    } else {
                        0.0
                    },
                    analytic_ms: None,
                    response_mean_interval: Interval::of_mean(&means),
                }
            })
            .collect()
    }
}

impl Totals {
    /// The guarded links' tallies.
    pub(super) fn links(&self, plan: &Plan) -> Vec<LinkReport> {
        plan.links
            .iter()
            .enumerate()
            .filter(|(_, link)| link.guarded)
            .map(|(i, link)| {
                self.links.get(i).cloned().unwrap_or_else(|| LinkReport {
                    link: link.name.clone(),
                    ..LinkReport::default()
                })
            })
            .collect()
    }
}

/// The batch report of a tally of batches by size, if the service batches.
fn batches(by_size: &[u64]) -> Option<BatchReport> {
    let by_size = by_size.get(1..)?;
    let batches: u64 = by_size.iter().sum();
    let requests: u64 = by_size.iter().zip(1..).map(|(n, size)| n * size).sum();
    Some(BatchReport {
        batches,
        mean_size: ratio(requests, batches),
        by_size: by_size.to_vec(),
    })
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// The headline figures of one replication.
fn summarise(outcome: &Outcome) -> ReplicationSummary {
    let mut latency = LatencyHistogram::new();
    for class in &outcome.classes {
        latency.merge(&class.latency);
    }
    let seconds = outcome.measured_ns as f64 / 1e9;
    ReplicationSummary {
        mean_ms: latency.mean_ns() / 1e6,
        p99_ms: latency.quantile_ns(0.99) as f64 / 1e6,
        throughput_rps: if seconds > 0.0 {
            outcome.classes.iter().map(|c| c.departed).sum::<u64>() as f64 / seconds
        } else {
            0.0
        },
        service_mean_ms: outcome
            .stations
            .iter()
            .map(|s| s.response.mean_ns() / 1e6)
            .collect(),
    }
}

fn merge_all<T: Default>(into: &mut Vec<T>, from: Vec<T>, merge: impl Fn(&mut T, &T)) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (a, b) in into.iter_mut().zip(&from) {
        merge(a, b);
    }
}

/// The token timings of every class that reaches an LLM server, together:
/// counts and rates added, histograms merged, attainment over all their
/// sequences (of the classes with token objectives).
fn scenario_llm(classes: &[ClassReport]) -> Option<LlmClassReport> {
    let mut with = classes.iter().filter_map(|c| c.llm.as_ref());
    let mut all = with.next()?.clone();
    let attained = |l: &LlmClassReport| l.attainment.map(|a| (a * l.sequences as f64, l.sequences));
    let mut attainment = attained(&all);
    for llm in with {
        all.sequences += llm.sequences;
        all.tokens_in_per_s += llm.tokens_in_per_s;
        all.tokens_out_per_s += llm.tokens_out_per_s;
        all.ttft.merge(&llm.ttft);
        all.tpot.merge(&llm.tpot);
        all.itl.merge(&llm.itl);
        attainment = match (attainment, attained(llm)) {
            (Some((a, n)), Some((b, m))) => Some((a + b, n + m)),
            (a, b) => a.or(b),
        };
    }
    all.ttft_ms = all.ttft.summary();
    all.tpot_ms = all.tpot.summary();
    all.itl_ms = all.itl.summary();
    all.attainment = attainment.map(|(a, n)| a / n.max(1) as f64);
    Some(all)
}
