//! Sweeps: the same project simulated at many offered loads (or replica
//! counts), every point in parallel, reduced to curves, the maximum
//! sustainable throughput, the knee and the highest load within the SLO.
//!
//! Each point is an independent simulation with the project's own seed, so a
//! point's result does not depend on which thread ran it or when, and
//! neighbouring points share their random streams (smooth curves).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::model::{Arrivals, Project, Shard};
use crate::stats::{ScenarioReport, SweepPoint, SweepReport, SweepScenario, SweepShard};

use super::{SimError, Simulation, analytic};

/// What a sweep varies.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepAxis {
    /// The total open arrival rate, from `from` to `to` in `steps` even steps.
    Rate {
        /// Lowest rate, requests per second.
        from: f64,
        /// Highest rate.
        to: f64,
        /// Points, at least two.
        steps: u32,
    },
    /// The rate, from low to past saturation, chosen automatically: `steps`
    /// points from a tenth to 1.3 times a capacity estimate, extended
    /// upwards until some point saturates or falls short of its offered load.
    RateAuto {
        /// Points per round, at least two.
        steps: u32,
    },
    /// The replica count of one service, from `from` to `to`, at the
    /// project's rate or at `rate`.
    Replicas {
        /// The service's name (in every scenario that has it).
        service: String,
        /// Fewest replicas.
        from: u32,
        /// Most replicas.
        to: u32,
        /// The total open rate to hold, if not the project's.
        rate: Option<f64>,
    },
}

/// A sweep to run.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// What to vary.
    pub axis: SweepAxis,
    /// Only this scenario, or all.
    pub scenario: Option<String>,
    /// Threads to use; zero means one per core.
    pub threads: usize,
    /// Run only this shard's points: every `count`-th of the whole sweep's
    /// points (over all its scenarios, in order) from the `index`-th. The
    /// shards' reports merge into the whole sweep's ([`merge`]).
    pub shard: Option<Shard>,
}

/// How far a running sweep has got, for a progress bar: points finished out
/// of points planned. An automatic rate sweep plans one round per scenario
/// and adds rounds as it extends, so `planned` may grow.
#[derive(Debug, Default)]
pub struct SweepProgress {
    /// Points simulated so far.
    pub done: AtomicUsize,
    /// Points the sweep expects to simulate.
    pub planned: AtomicUsize,
}

impl SweepProgress {
    /// The finished fraction, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        let planned = self.planned.load(Ordering::Relaxed);
        if planned == 0 {
            return 0.0;
        }
        (self.done.load(Ordering::Relaxed) as f64 / planned as f64).min(1.0)
    }
}

/// Rounds of extension `RateAuto` makes before it gives up looking for saturation.
const AUTO_ROUNDS: usize = 6;

/// Runs a sweep. `cancel` is checked between points.
pub fn sweep(
    project: &Project,
    spec: &SweepSpec,
    cancel: &AtomicBool,
) -> Result<SweepReport, SimError> {
    sweep_with_progress(project, spec, cancel, &SweepProgress::default())
}

/// Runs a sweep, counting finished points in `progress` as it goes.
pub fn sweep_with_progress(
    project: &Project,
    spec: &SweepSpec,
    cancel: &AtomicBool,
    progress: &SweepProgress,
) -> Result<SweepReport, SimError> {
    let problems = crate::model::validate(project);
    if !problems.is_empty() {
        return Err(SimError::Invalid(problems));
    }
    let scenarios = super::scenario_indices(project, spec.scenario.as_deref())?;
    let open = matches!(project.workload.arrivals, Arrivals::Open { .. });
    if spec.shard.is_some() && matches!(spec.axis, SweepAxis::RateAuto { .. }) {
        return Err(SimError::Sweep(
            "an automatic rate sweep chooses each round's rates from the last round's results, \
             so it cannot be split into shards: give the range (A..B)"
                .into(),
        ));
    }
    // Every scenario's points, before the shard takes its share.
    let mut planned: Vec<(usize, Vec<Job>)> = Vec::new();
    for &index in &scenarios {
        let jobs = match &spec.axis {
            SweepAxis::Rate { from, to, steps } => {
                check_rate_sweep(open, *from, *to, *steps)?;
                even_rates(*from, *to, *steps)
                    .into_iter()
                    .map(|rate| Job {
                        project: at_rate(project, rate),
                        replicas: None,
                    })
                    .collect()
            }
            SweepAxis::RateAuto { .. } => Vec::new(),
            SweepAxis::Replicas {
                service,
                from,
                to,
                rate,
            } => {
                if *from == 0 || from > to {
                    return Err(SimError::Sweep(format!(
                        "replicas run from at least 1 upwards, got {from}..{to}"
                    )));
                }
                let Some(position) = project.scenarios[index].service_index(service) else {
                    if spec.scenario.is_some() || scenarios.len() == 1 {
                        return Err(SimError::Sweep(format!(
                            "scenario {:?} has no service {service:?}",
                            project.scenarios[index].name
                        )));
                    }
                    continue;
                };
                if rate.is_some() && !open {
                    return Err(SimError::Sweep(
                        "--rate applies to open workloads; this one is closed".into(),
                    ));
                }
                (*from..=*to)
                    .map(|replicas| {
                        let mut p = rate.map_or_else(|| project.clone(), |r| at_rate(project, r));
                        p.scenarios[index].services[position].replicas = replicas;
                        Job {
                            project: p,
                            replicas: Some(replicas),
                        }
                    })
                    .collect()
            }
        };
        planned.push((index, jobs));
    }
    if planned.is_empty() {
        return Err(SimError::Sweep(
            "no scenario has the service to sweep".into(),
        ));
    }
    let total: usize = planned.iter().map(|(_, jobs)| jobs.len()).sum();
    let mut ordinal = 0_u64;
    for (_, jobs) in &mut planned {
        jobs.retain(|_| {
            ordinal += 1;
            spec.shard.is_none_or(|shard| shard.owns(ordinal - 1))
        });
    }
    let per_round = match &spec.axis {
        SweepAxis::RateAuto { steps } => scenarios.len() * (*steps).max(2) as usize,
        _ => planned.iter().map(|(_, jobs)| jobs.len()).sum(),
    };
    progress.planned.store(per_round, Ordering::Relaxed);
    let mut curves = Vec::new();
    for (index, jobs) in planned {
        let points = match &spec.axis {
            SweepAxis::RateAuto { steps } => auto_rate(
                project,
                index,
                *steps,
                spec.threads,
                (cancel, progress),
                open,
            )?,
            _ => run_points(&jobs, index, spec.threads, cancel, progress)?,
        };
        curves.push(curve(
            project.scenarios[index].name.clone(),
            points,
            !project.objectives.is_empty(),
            project.goodput_share,
        ));
    }
    Ok(SweepReport {
        project: project.name.clone(),
        axis: axis_name(&spec.axis),
        shard: spec.shard.map(|shard| SweepShard {
            shard: shard.to_string(),
            points: total,
            sweep: fingerprint(project, spec),
            objectives: !project.objectives.is_empty(),
        }),
        goodput_share: project.goodput_share,
        scenarios: curves,
    })
}

/// One point to simulate.
struct Job {
    project: Project,
    /// The swept service's replicas, for a replicas sweep.
    replicas: Option<u32>,
}

fn axis_name(axis: &SweepAxis) -> String {
    match axis {
        SweepAxis::Replicas { service, .. } => format!("replicas:{service}"),
        _ => "rate".to_owned(),
    }
}

/// What identifies a sweep, for telling its shards from another's: the
/// axis in words and a hash (FNV-1a, fixed forever) of the project and the
/// sweep's settings, so shards of different files or ranges are not merged.
fn fingerprint(project: &Project, spec: &SweepSpec) -> String {
    let axis = match &spec.axis {
        SweepAxis::Rate { from, to, steps } => format!("rate {from}..{to} in {steps} steps"),
        SweepAxis::RateAuto { steps } => format!("rate auto in rounds of {steps}"),
        SweepAxis::Replicas {
            service,
            from,
            to,
            rate,
        } => match rate {
            Some(rate) => format!("replicas of {service:?} {from}..{to} at {rate} rps"),
            None => format!("replicas of {service:?} {from}..{to}"),
        },
    };
    let scenario = spec.scenario.as_ref().map_or_else(
        || "every scenario".to_owned(),
        |s| format!("scenario {s:?}"),
    );
    let hash = super::rng::fnv1a(&format!(
        "{project:?}\n{:?}\n{:?}",
        spec.axis, spec.scenario
    ));
    format!("{axis}, {scenario}, project {hash:016x}")
}

fn check_rate_sweep(open: bool, from: f64, to: f64, steps: u32) -> Result<(), SimError> {
    if !open {
        return Err(SimError::Sweep(
            "a rate sweep needs an open workload; this one is closed (users and think time)".into(),
        ));
    }
    if !(from.is_finite() && to.is_finite() && from > 0.0 && to >= from) {
        return Err(SimError::Sweep(format!(
            "the rate range must be positive and rising, got {from}..{to}"
        )));
    }
    if steps < 2 || to <= from {
        return Err(SimError::Sweep(format!(
            "a sweep needs at least two distinct points, got {steps}"
        )));
    }
    Ok(())
}

fn even_rates(from: f64, to: f64, steps: u32) -> Vec<f64> {
    (0..steps)
        .map(|i| from + (to - from) * f64::from(i) / f64::from(steps - 1))
        .collect()
}

fn at_rate(project: &Project, rate: f64) -> Project {
    let mut p = project.clone();
    p.workload.scale_to_rate(rate);
    p
}

/// Starts at a tenth of the estimated capacity and extends upwards until the
/// system saturates or stops keeping up.
fn auto_rate(
    project: &Project,
    index: usize,
    steps: u32,
    threads: usize,
    (cancel, progress): (&AtomicBool, &SweepProgress),
    open: bool,
) -> Result<Vec<SweepPoint>, SimError> {
    if !open {
        return Err(SimError::Sweep(
            "a rate sweep needs an open workload; this one is closed".into(),
        ));
    }
    let steps = steps.max(2);
    let capacity = analytic::capacity_rps(project, index)
        .filter(|c| c.is_finite() && *c > 0.0)
        .unwrap_or_else(|| project.workload.peak_rate_rps().unwrap_or(1.0).max(1.0) * 2.0);
    let (mut low, mut high) = (0.1 * capacity, 1.3 * capacity);
    let mut points = Vec::new();
    for round in 0..AUTO_ROUNDS {
        if round > 0 {
            progress
                .planned
                .fetch_add(steps as usize, Ordering::Relaxed);
        }
        let jobs: Vec<Job> = even_rates(low, high, steps)
            .into_iter()
            .map(|r| Job {
                project: at_rate(project, r),
                replicas: None,
            })
            .collect();
        let round = run_points(&jobs, index, threads, cancel, progress)?;
        let past = round
            .iter()
            .any(|p| p.saturated || p.achieved_rps < 0.99 * p.offered_rps);
        points.extend(round);
        if past {
            break;
        }
        let width = high - low;
        (low, high) = (high + width / f64::from(steps - 1), high + 2.0 * width);
    }
    Ok(points)
}

/// Simulates scenario `index` of each project on up to `threads` threads and
/// reduces each to its sweep point, in the order given.
fn run_points(
    jobs: &[Job],
    index: usize,
    threads: usize,
    cancel: &AtomicBool,
    progress: &SweepProgress,
) -> Result<Vec<SweepPoint>, SimError> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        n => n,
    }
    .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SweepPoint, SimError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let (next, results) = (&next, &results);
            let spawned = std::thread::Builder::new()
                .name(format!("sweep-{worker}"))
                .spawn_scoped(scope, move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        let point = if cancel.load(Ordering::Relaxed) {
                            Err(SimError::Cancelled)
                        } else {
                            Simulation::new(&job.project, index)
                                .and_then(|s| s.run(cancel))
                                .map(|report| point(&job.project, &report, job.replicas))
                        };
                        results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(point);
                        progress.done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            if spawned.is_err() {
                // Too few threads is slower, not wrong: the others take the work.
                break;
            }
        }
    });
    let results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    results
        .into_iter()
        .map(|r| r.unwrap_or(Err(SimError::Cancelled)))
        .collect()
}

/// One point from a full report; the histograms are dropped here, so a
/// sweep's memory does not grow with its points.
fn point(project: &Project, report: &ScenarioReport, replicas: Option<u32>) -> SweepPoint {
    let offered_rps = match &project.workload.arrivals {
        Arrivals::Open {
            rate_rps, profile, ..
        } if profile.is_empty() => *rate_rps,
        // Under a rate profile, the mean rate over the measured window (that
        // of one replication: the report sums them).
        Arrivals::Open { rate_rps, .. } => {
            let from = report.warmup_s;
            let to = from + report.measured_s / f64::from(report.replications.max(1));
            project
                .workload
                .mean_rate_rps(from, to)
                .unwrap_or(*rate_rps)
        }
        // A closed system offers what it achieves.
        Arrivals::Closed { .. } => report.throughput_rps,
    };
    SweepPoint {
        offered_rps,
        replicas,
        achieved_rps: report.throughput_rps,
        latency_ms: report.latency_ms,
        max_utilization: report
            .services
            .iter()
            .map(|s| s.utilization)
            .fold(0.0, f64::max),
        bottleneck: report
            .saturated_service
            .clone()
            .unwrap_or_else(|| report.bottleneck.clone()),
        saturated: report.saturated,
        slo_pass: report.slo_pass,
        attainment: {
            // Over the classes with token objectives; none, none to report.
            let (classes, attained, sequences) = report
                .classes
                .iter()
                .filter_map(|c| c.llm.as_ref())
                .filter_map(|l| l.attainment.map(|a| (a * l.sequences as f64, l.sequences)))
                .fold((0, 0.0, 0), |(k, a, n), (x, m)| (k + 1, a + x, n + m));
            // A saturated point's finished sequences are the lucky ones:
            // past saturation nothing is attained.
            (classes > 0).then(|| {
                if report.saturated || sequences == 0 {
                    0.0
                } else {
                    attained / sequences as f64
                }
            })
        },
    }
}

/// The whole sweep from its shards' reports: each scenario's points put
/// together and ordered by load (or replicas), its headline figures
/// recomputed from them, so the result is the one the unsharded sweep
/// reports, field for field. The reports must be shards of one sweep
/// (`Err` says why not); a missing shard leaves its points out.
pub fn merge(shards: &[SweepReport]) -> Result<SweepReport, String> {
    let Some(first) = shards.first() else {
        return Err("no sweep to merge".into());
    };
    let Some(info) = &first.shard else {
        return Err("not a shard of a sweep (sweep --shard I/N)".into());
    };
    let mut scenarios: Vec<(String, Vec<SweepPoint>)> = Vec::new();
    for report in shards {
        let same = report.shard.as_ref().is_some_and(|s| {
            s.sweep == info.sweep && s.points == info.points && s.objectives == info.objectives
        }) && report.goodput_share.to_bits() == first.goodput_share.to_bits();
        if !same || report.axis != first.axis || report.project != first.project {
            return Err(format!(
                "shards of different sweeps: {:?} of project {:?} and {:?} of project {:?}",
                info.sweep,
                first.project,
                report.shard.as_ref().map_or("(not a shard)", |s| &s.sweep),
                report.project
            ));
        }
        for scenario in &report.scenarios {
            match scenarios
                .iter_mut()
                .find(|(name, _)| *name == scenario.scenario)
            {
                Some((_, points)) => points.extend(scenario.points.iter().cloned()),
                None => scenarios.push((scenario.scenario.clone(), scenario.points.clone())),
            }
        }
    }
    Ok(SweepReport {
        project: first.project.clone(),
        axis: first.axis.clone(),
        shard: None,
        goodput_share: first.goodput_share,
        scenarios: scenarios
            .into_iter()
            .map(|(name, points)| curve(name, points, info.objectives, first.goodput_share))
            .collect(),
    })
}

/// Reduces a scenario's points to its curve and headline figures.
fn curve(
    scenario: String,
    mut points: Vec<SweepPoint>,
    has_objectives: bool,
    goodput_share: f64,
) -> SweepScenario {
    points.sort_by(|a, b| {
        a.replicas
            .cmp(&b.replicas)
            .then(a.offered_rps.total_cmp(&b.offered_rps))
    });
    let sustainable = |p: &&SweepPoint| !p.saturated && p.achieved_rps >= 0.99 * p.offered_rps;
    let max_throughput_rps = points
        .iter()
        .filter(sustainable)
        .map(|p| p.offered_rps)
        .reduce(f64::max);
    let first_saturated = points
        .iter()
        .find(|p| p.saturated)
        .or_else(|| points.last())
        .map(|p| p.bottleneck.clone());
    let max_rps_within_slo = has_objectives
        .then(|| {
            points
                .iter()
                .filter(|p| p.slo_pass && !p.saturated)
                .map(|p| p.offered_rps)
                .reduce(f64::max)
        })
        .flatten();
    SweepScenario {
        scenario,
        knee_rps: knee(&points),
        goodput_rps: goodput(&points, goodput_share),
        points,
        max_throughput_rps,
        first_saturated,
        max_rps_within_slo,
    }
}

/// LLM goodput: along a rate sweep, the offered load at which attainment
/// (the share of sequences within the token limits) first falls below
/// `share` (the project's `goodput_share`, 90% by default, as in the
/// `DistServe` paper), interpolated linearly between the last point at or
/// above it and the first below; the highest load swept when none falls
/// below; `None` when the first point is already below, without token
/// objectives, or for a replicas sweep.
pub fn goodput(points: &[SweepPoint], share: f64) -> Option<f64> {
    if points.iter().any(|p| p.replicas.is_some()) {
        return None;
    }
    let attained: Vec<(f64, f64)> = points
        .iter()
        .map(|p| p.attainment.map(|a| (p.offered_rps, a)))
        .collect::<Option<_>>()?;
    let below = attained.iter().position(|&(_, a)| a < share);
    match below {
        Some(0) => None,
        None => attained.last().map(|&(x, _)| x),
        Some(k) => {
            let ((x0, a0), (x1, a1)) = (attained[k - 1], attained[k]);
            Some(x0 + (a0 - share) / (a0 - a1) * (x1 - x0))
        }
    }
}

/// The knee by Kleinrock's power: throughput divided by mean latency,
/// which is largest where more load starts to buy more delay than
/// throughput (L. Kleinrock, "Power and deterministic rules of thumb for
/// probabilistic problems in computer communications", ICC 1979). Found
/// among the sustainable points (not saturated, keeping up with at least
/// 99% of the offered load), so it never exceeds the maximum sustainable
/// throughput; the best point is refined by the parabola through it and its
/// neighbours. For M/M/1 the power λ(μ − λ) peaks at λ = μ/2. None for
/// sweeps that do not vary the rate.
pub fn knee(points: &[SweepPoint]) -> Option<f64> {
    if points.iter().any(|p| p.replicas.is_some()) {
        return None;
    }
    let usable: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| !p.saturated && p.achieved_rps >= 0.99 * p.offered_rps)
        .filter(|p| p.latency_ms.mean > 0.0)
        .map(|p| (p.offered_rps, p.achieved_rps / (p.latency_ms.mean / 1e3)))
        .collect();
    let best = usable
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1))?
        .0;
    if best == 0 || best + 1 == usable.len() {
        return Some(usable[best].0);
    }
    let ((x0, y0), (x1, y1), (x2, y2)) = (usable[best - 1], usable[best], usable[best + 1]);
    let denominator = (x0 - x1) * (x0 - x2) * (x1 - x2);
    let a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator;
    let b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denominator;
    if a.is_nan() || a >= 0.0 || !a.is_finite() || !b.is_finite() {
        return Some(x1);
    }
    Some((-b / (2.0 * a)).clamp(x0, x2))
}
