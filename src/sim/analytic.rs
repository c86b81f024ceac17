//! Queueing theory for the models that fit it, to cross-check the simulation.
//!
//! - Open workloads: an open Jackson network. Each replica is an M/M/c queue
//!   (Erlang C) fed by Poisson traffic split at random (replicas that `Pull`
//!   from one queue are one M/M/(replicas × workers)); network latency is
//!   a pure delay. Exact under the assumptions below.
//! - Closed workloads: exact Mean Value Analysis, load-dependent for
//!   multi-worker replicas, with think time and network latency as delays.
//! - When the only broken assumption is the shape of a service time (or
//!   evenly spaced arrivals), open networks get the Allen–Cunneen
//!   approximation for G/G/c instead, labelled as an approximation.
//!
//! The assumptions: Poisson arrivals at a constant rate (open) or a fixed
//! population (closed); exponential service times; unbounded FCFS queues;
//! async I/O, or blocking only at services that make no synchronous calls;
//! no parallel fan-out; one replica, random balancing or `Pull`; no loops
//! of calls.

use crate::model::{
    ArrivalProcess, Arrivals, Balancer, CallMode, Distribution, IoModel, Project, QueueCapacity,
    Scenario,
};

/// What theory predicts for one scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prediction {
    /// Mean end-to-end latency, milliseconds.
    pub end_to_end_ms: Option<f64>,
    /// Mean response time of each service (downstream calls included), ms.
    pub services_ms: Vec<Option<f64>>,
    /// How it was computed, when it was.
    pub method: Option<String>,
    /// The assumptions this scenario breaks, in the user's words.
    pub broken: Vec<String>,
}

/// Largest closed population solved exactly (the recursion is O(N²) per station).
const MAX_MVA_USERS: u32 = 5_000;

/// The assumptions scenario `scenario` breaks: first those that rule out any
/// formula, then those (service-time shape, even spacing) that only rule out
/// an exact one.
fn broken_assumptions(project: &Project, scenario: &Scenario) -> (Vec<String>, Vec<String>) {
    let mut broken = Vec::new();
    let mut shape_only = Vec::new();
    match &project.workload.arrivals {
        Arrivals::Open {
            process, profile, ..
        } => {
            match process {
                ArrivalProcess::Poisson => {}
                ArrivalProcess::Constant => {
                    shape_only.push("arrivals are evenly spaced, not Poisson".to_owned());
                }
                ArrivalProcess::Gamma { .. } => {
                    shape_only.push("arrivals are Gamma-spaced, not Poisson".to_owned());
                }
            }
            if !profile.is_empty() {
                broken.push("the arrival rate changes over time (a rate profile)".to_owned());
            }
        }
        Arrivals::Closed { users, .. } => {
            if *users > MAX_MVA_USERS {
                broken.push(format!(
                    "{users} users is beyond exact MVA here (at most {MAX_MVA_USERS})"
                ));
            }
        }
    }
    for service in &scenario.services {
        let name = &service.name;
        if !is_exponential(&service.service_time) {
            shape_only.push(format!(
                "service {name:?}: service time {} is not exponential",
                service.service_time
            ));
        }
        if service.error_rate > 0.0 {
            broken.push(format!(
                "service {name:?}: injected errors, so successful requests are a biased sample"
            ));
        }
        if service.cache.is_some_and(|c| c.warmup.as_nanos() > 0) {
            broken.push(format!(
                "service {name:?}: its cache warms up, so the hit ratio changes over time"
            ));
        }
        if !service.crashes.is_empty() {
            broken.push(format!(
                "service {name:?}: its replicas crash, so its capacity changes over time"
            ));
        }
        if service.autoscale.is_some() {
            broken.push(format!(
                "service {name:?}: it is autoscaled, so its replicas change over time"
            ));
        }
        if service.llm.is_some() {
            broken.push(format!(
                "service {name:?}: an LLM server batches its requests step by step"
            ));
        }
        if service.batching.is_some() {
            broken.push(format!(
                "service {name:?}: it batches requests, so they are not served one by one"
            ));
        }
        if service.rate_limit.is_some() {
            broken.push(format!("service {name:?}: its rate limit refuses requests"));
        }
        if service.queue != QueueCapacity::Unbounded {
            broken.push(format!(
                "service {name:?}: its queue is bounded, so requests are lost"
            ));
        }
        let calls_sync = scenario
            .links
            .iter()
            .any(|l| l.from == *name && l.mode == CallMode::Sync);
        if service.io == IoModel::Blocking && calls_sync {
            broken.push(format!(
                "service {name:?}: blocking I/O holds workers during downstream calls"
            ));
        }
        if service.replicas > 1 && !matches!(service.balancer, Balancer::Random | Balancer::Pull) {
            broken.push(format!(
                "service {name:?}: {:?} balancing over replicas is not a random split",
                service.balancer
            ));
        }
    }
    for link in &scenario.links {
        let guarded = link.timeout.is_some()
            || link.retry.is_some()
            || link.breaker.is_some()
            || link.max_concurrent.is_some();
        if guarded {
            broken.push(format!(
                "link {:?} -> {:?}: timeouts, retries, a breaker or a bulkhead change the load",
                link.from, link.to
            ));
        }
        if link.fault.is_some() {
            broken.push(format!(
                "link {:?} -> {:?}: injected latency changes over time",
                link.from, link.to
            ));
        }
    }
    if scenario.links.iter().any(|l| l.parallel_group.is_some()) {
        broken.push("parallel fan-out: a caller waits for the slowest of several calls".to_owned());
    }
    (broken, shape_only)
}

/// Predicts scenario `index` of a validated project.
pub fn predict(project: &Project, index: usize) -> Prediction {
    let scenario = &project.scenarios[index];
    let (mut broken, mut shape_only) = broken_assumptions(project, scenario);
    let Some(order) = topological_order(scenario) else {
        broken.push("calls form a loop".to_owned());
        return Prediction {
            broken,
            ..Prediction::default()
        };
    };
    let closed = matches!(project.workload.arrivals, Arrivals::Closed { .. });
    let approximate = !shape_only.is_empty();
    if approximate && closed {
        broken.append(&mut shape_only);
    }
    if !broken.is_empty() {
        broken.append(&mut shape_only);
        return Prediction {
            broken,
            ..Prediction::default()
        };
    }

    let visits = visits(project, scenario, &order);
    let residence = match &project.workload.arrivals {
        Arrivals::Open {
            rate_rps, process, ..
        } => {
            let arrival_scv = process.gap_scv();
            match open_residence(scenario, &visits, *rate_rps, arrival_scv) {
                Ok(r) => r,
                Err(reason) => {
                    return Prediction {
                        broken: vec![reason],
                        ..Prediction::default()
                    };
                }
            }
        }
        Arrivals::Closed { users, think_time } => {
            mva_residence(scenario, &visits, *users, think_time.mean_secs())
        }
    };
    // Response time of each service: its residence plus its synchronous
    // calls, in reverse topological order so callees come first.
    let mut response = vec![0.0; scenario.services.len()];
    for &i in order.iter().rev() {
        let name = &scenario.services[i].name;
        let mut total = residence[i];
        for link in scenario
            .links
            .iter()
            .filter(|l| l.from == *name && l.mode == CallMode::Sync)
        {
            if let Some(j) = scenario.service_index(&link.to) {
                total += onward(&scenario.services[i])
                    * link.probability
                    * f64::from(link.count)
                    * (link.latency.mean_secs() + response[j]);
            }
        }
        response[i] = total;
    }
    let total_weight: f64 = project.workload.classes.iter().map(|c| c.weight).sum();
    let end_to_end: f64 = project
        .workload
        .classes
        .iter()
        .filter_map(|c| {
            scenario
                .service_index(&c.entry)
                .map(|i| c.weight / total_weight * response[i])
        })
        .sum();
    let method = match (closed, approximate) {
        (true, _) => "exact: mean value analysis (closed network)",
        (false, false) => "exact: open Jackson network of M/M/c queues",
        (false, true) => "approximate: Allen–Cunneen for G/G/c queues",
    };
    Prediction {
        end_to_end_ms: Some(end_to_end * 1e3),
        services_ms: response.iter().map(|r| Some(r * 1e3)).collect(),
        method: Some(method.to_owned()),
        broken: shape_only,
    }
}

/// The share of requests that go on to make the service's calls: those a
/// warm cache does not answer and that do not fail there. Both are
/// independent draws, so in the steady state they are probabilistic routing.
fn onward(service: &crate::model::Service) -> f64 {
    let miss = service.cache.map_or(1.0, |c| 1.0 - c.hit_ratio);
    miss * (1.0 - service.error_rate)
}

fn is_exponential(distribution: &Distribution) -> bool {
    match distribution {
        Distribution::Exponential { .. } => true,
        Distribution::Gamma { shape, .. } => (shape - 1.0).abs() < 1e-12,
        Distribution::Erlang { k, .. } => *k == 1,
        // A service that takes no time is a pass-through.
        Distribution::Constant(t) => t.as_nanos() == 0,
        _ => false,
    }
}

/// Services in an order where every caller precedes its callees (all links),
/// or none if the links form a loop.
fn topological_order(scenario: &Scenario) -> Option<Vec<usize>> {
    let n = scenario.services.len();
    let mut indegree = vec![0_usize; n];
    let edges: Vec<(usize, usize)> = scenario
        .links
        .iter()
        .filter_map(|l| {
            Some((
                scenario.service_index(&l.from)?,
                scenario.service_index(&l.to)?,
            ))
        })
        .collect();
    for &(_, to) in &edges {
        indegree[to] += 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &(from, to) in &edges {
            if from == i {
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    ready.push(to);
                }
            }
        }
    }
    (order.len() == n).then_some(order)
}

/// Mean visits to each service per request (sync and async calls alike).
fn visits(project: &Project, scenario: &Scenario, order: &[usize]) -> Vec<f64> {
    let mut visits = vec![0.0; scenario.services.len()];
    let total_weight: f64 = project.workload.classes.iter().map(|c| c.weight).sum();
    for class in &project.workload.classes {
        if let Some(i) = scenario.service_index(&class.entry) {
            visits[i] += class.weight / total_weight;
        }
    }
    for &i in order {
        let name = &scenario.services[i].name;
        for link in scenario.links.iter().filter(|l| l.from == *name) {
            if let Some(j) = scenario.service_index(&link.to) {
                visits[j] += visits[i]
                    * onward(&scenario.services[i])
                    * link.probability
                    * f64::from(link.count);
            }
        }
    }
    visits
}

/// Erlang's C formula: the probability of waiting in M/M/c with offered load `a`.
pub fn erlang_c(servers: u32, offered: f64) -> f64 {
    let c = f64::from(servers);
    if offered >= c {
        return 1.0;
    }
    // Build a^k/k! iteratively and normalise, stable for large c.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..servers {
        sum += term;
        term *= offered / f64::from(k + 1);
    }
    let tail = term * c / (c - offered);
    tail / (sum + tail)
}

/// How theory sees a service's servers: (stations, servers at each). Random
/// balancing splits the traffic into `replicas` independent M/G/c queues;
/// `Pull` is one queue served by every worker of every replica, an
/// M/G/(replicas × workers).
fn stations_of(service: &crate::model::Service) -> (u32, u32) {
    if service.balancer == Balancer::Pull {
        (1, service.replicas.saturating_mul(service.workers))
    } else {
        (service.replicas, service.workers)
    }
}

/// Mean residence (wait + own work) per visit at each service, open network.
fn open_residence(
    scenario: &Scenario,
    visits: &[f64],
    rate_rps: f64,
    arrival_scv: f64,
) -> Result<Vec<f64>, String> {
    scenario
        .services
        .iter()
        .zip(visits)
        .map(|(service, &v)| {
            let mean = service.service_time.mean_secs();
            if mean == 0.0 {
                return Ok(0.0);
            }
            let (replicas, c) = stations_of(service);
            let lambda = rate_rps * v / f64::from(replicas);
            let offered = lambda * mean;
            if offered >= f64::from(c) {
                return Err(format!(
                    "service {:?} is offered {:.0}% of its capacity, so no steady state exists",
                    service.name,
                    offered / f64::from(c) * 100.0
                ));
            }
            let wait_mm_c = erlang_c(c, offered) * mean / (f64::from(c) - offered);
            let service_scv = service.service_time.second_moment_secs2() / (mean * mean) - 1.0;
            // Allen–Cunneen: scale the M/M/c wait by (ca² + cs²) / 2; exact when both are 1.
            Ok(mean + wait_mm_c * (arrival_scv + service_scv) / 2.0)
        })
        .collect()
}

/// Mean residence per visit at each service for a closed population, by exact
/// (load-dependent) mean value analysis. Think time and network latency are
/// delays; each replica is one station with its share of the visits.
fn mva_residence(scenario: &Scenario, visits: &[f64], users: u32, think_s: f64) -> Vec<f64> {
    struct Station {
        visits: f64,
        mean: f64,
        workers: u32,
        /// p(j jobs at the station | population), for load-dependent stations.
        marginal: Vec<f64>,
        queue: f64,
        residence: f64,
    }
    let mut stations: Vec<Station> = scenario
        .services
        .iter()
        .zip(visits)
        .map(|(s, &v)| Station {
            visits: v / f64::from(stations_of(s).0),
            mean: s.service_time.mean_secs(),
            workers: stations_of(s).1,
            marginal: vec![1.0],
            queue: 0.0,
            residence: s.service_time.mean_secs(),
        })
        .collect();
    let replicas: Vec<f64> = scenario
        .services
        .iter()
        .map(|s| f64::from(stations_of(s).0))
        .collect();
    let network: f64 = scenario
        .links
        .iter()
        .filter(|l| l.mode == CallMode::Sync)
        .filter_map(|l| {
            let i = scenario.service_index(&l.from)?;
            Some(visits[i] * l.probability * f64::from(l.count) * l.latency.mean_secs())
        })
        .sum();
    for n in 1..=users {
        for st in &mut stations {
            st.residence = if st.mean == 0.0 {
                0.0
            } else if st.workers >= users {
                st.mean // never waits: a delay
            } else if st.workers == 1 {
                st.mean * (1.0 + st.queue)
            } else {
                // R(n) = Σ_j j / μ(j) · p(j−1 | n−1), μ(j) = min(j, c) / S.
                (1..=n as usize)
                    .map(|j| {
                        let rate = (j.min(st.workers as usize)) as f64 / st.mean;
                        j as f64 / rate * st.marginal.get(j - 1).copied().unwrap_or(0.0)
                    })
                    .sum()
            };
        }
        let cycle: f64 = think_s
            + network
            + stations
                .iter()
                .zip(&replicas)
                .map(|(st, r)| st.visits * r * st.residence)
                .sum::<f64>();
        let throughput = f64::from(n) / cycle;
        for st in &mut stations {
            st.queue = throughput * st.visits * st.residence;
            if st.workers > 1 && st.workers < users && st.mean > 0.0 {
                let mut next = vec![0.0; n as usize + 1];
                for (j, p) in next.iter_mut().enumerate().skip(1) {
                    let rate = (j.min(st.workers as usize)) as f64 / st.mean;
                    *p = throughput * st.visits / rate
                        * st.marginal.get(j - 1).copied().unwrap_or(0.0);
                }
                next[0] = (1.0 - next[1..].iter().sum::<f64>()).max(0.0);
                st.marginal = next;
            }
        }
    }
    stations.iter().map(|st| st.residence).collect()
}

/// The open arrival rate at which the first service would have all its
/// workers held, ignoring queueing: each visit holds a worker for its own
/// mean work, plus (under blocking I/O) its synchronous calls' latency and
/// work below. A rough capacity, for choosing where a sweep should look.
/// None when the calls loop.
pub fn capacity_rps(project: &Project, index: usize) -> Option<f64> {
    demand_per_request(project, index)?
        .into_iter()
        .filter(|d| *d > 0.0)
        .map(|d| 1.0 / d)
        .min_by(f64::total_cmp)
}

/// Each service's worker-seconds held per request, per worker: its visits
/// times the time each visit holds a worker (its own mean work, plus under
/// blocking I/O its synchronous calls' latency and the work below them,
/// without queueing), over its replicas × workers. At an open arrival rate
/// λ, λ × demand is the service's offered utilisation, a lower bound on the
/// busy share it would need. None when the calls loop.
fn demand_per_request(project: &Project, index: usize) -> Option<Vec<f64>> {
    let scenario = &project.scenarios[index];
    let order = topological_order(scenario)?;
    let visits = visits(project, scenario, &order);
    let mut response = vec![0.0; scenario.services.len()];
    let mut holding = vec![0.0; scenario.services.len()];
    for &i in order.iter().rev() {
        let service = &scenario.services[i];
        let mut calls = 0.0;
        for link in scenario
            .links
            .iter()
            .filter(|l| l.from == service.name && l.mode == CallMode::Sync)
        {
            if let Some(j) = scenario.service_index(&link.to) {
                calls += onward(service)
                    * link.probability
                    * f64::from(link.count)
                    * (link.latency.mean_secs() + response[j]);
            }
        }
        if let Some((alone, per_request)) = llm_estimate(project, service) {
            // A sequence holds one of the max_num_seqs slots; at full load the
            // replica spends `per_request` seconds on each request.
            response[i] = alone + calls;
            let slots = service.llm.as_ref().map_or(1, |l| l.max_num_seqs);
            holding[i] = per_request * f64::from(slots);
            continue;
        }
        let own = service.service_time.mean_secs();
        response[i] = own + calls;
        holding[i] = if service.io == IoModel::Blocking {
            own + calls
        } else {
            own
        };
    }
    Some(
        scenario
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let workers = s.llm.as_ref().map_or(s.workers, |l| l.max_num_seqs);
                visits[i] * holding[i] / (f64::from(s.replicas) * f64::from(workers))
            })
            .collect(),
    )
}

/// An LLM server's time for one request alone (its prefill step, then a
/// decode step per further token), and the replica-seconds one request
/// costs at full load: its prompt's share of the prefill, and its output
/// tokens' share of decode steps run with as many sequences as fit
/// (`max_num_seqs`, or fewer when the KV cache holds fewer average
/// contexts). Token lengths are the means over the classes that have them,
/// by weight. None for other services, or without token lengths.
fn llm_estimate(project: &Project, service: &crate::model::Service) -> Option<(f64, f64)> {
    let llm = service.llm.as_ref()?;
    let classes: Vec<_> = project
        .workload
        .classes
        .iter()
        .filter_map(|c| c.tokens.as_ref().map(|t| (c.weight, t)))
        .collect();
    let weight: f64 = classes.iter().map(|(w, _)| w).sum();
    if weight <= 0.0 {
        return None;
    }
    let mean = |f: fn(&crate::model::TokenLengths) -> f64| {
        classes.iter().map(|(w, t)| w * f(t)).sum::<f64>() / weight
    };
    let prompt = mean(|t| t.prompt.mean()).max(1.0);
    let output = mean(|t| t.output.mean()).max(1.0);
    let speedup = llm.speedup();
    let secs = |span: crate::model::TimeSpan| span.as_secs_f64() / speedup;
    let (base, pd) = (secs(llm.step.base), secs(llm.step.per_decode_token));
    // The prefill of a prompt of the mean length (the table's, if any).
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a mean of at least one token"
    )]
    let prefill = llm.step.prefill_ns(prompt.round() as u64) / 1e9 / speedup;
    let blocks = llm.kv_blocks().unwrap_or(1) as f64;
    let per_context = ((prompt + output / 2.0) / crate::model::KV_BLOCK_TOKENS as f64).ceil();
    let batch = f64::from(llm.max_num_seqs)
        .min((blocks / per_context).floor())
        .max(1.0);
    // A prefill-only server computes the prompt and the first token; a
    // decode-only one the rest.
    let (prefill, output) = match llm.phase {
        crate::model::LlmPhase::Both => (prefill, output),
        crate::model::LlmPhase::Prefill => (prefill, 1.0),
        crate::model::LlmPhase::Decode => (0.0, output),
    };
    let alone = base + prefill + (output - 1.0) * (base + pd);
    let per_request = prefill + base / batch + (output - 1.0) * (base / batch + pd);
    Some((alone, per_request))
}

/// The service offered more work than its workers can do, and its offered
/// utilisation, when the scenario's open, constant arrival rate exceeds
/// what some service can serve: such a queue grows without bound, however
/// slowly, so the run is saturated whatever the backlog shows so far.
pub fn overloaded(project: &Project, index: usize) -> Option<(usize, f64)> {
    match offered_load(project, index)? {
        OfferedLoad::Over {
            station,
            utilisation,
        } => Some((station, utilisation)),
        OfferedLoad::Within { .. } => None,
    }
}

/// What the plan knows of a scenario's offered work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OfferedLoad {
    /// Some service is offered more work than its workers can do.
    Over {
        /// The service offered the most work for its workers.
        station: usize,
        /// Its offered utilisation, above 1.
        utilisation: f64,
    },
    /// Every service can do its offered work.
    Within {
        /// The offered utilisation is the busy share each service will have
        /// (no service holds a worker while it waits on another), so the
        /// scenario is stable however its backlog fluctuates.
        exact: bool,
    },
}

/// The offered work of a scenario, when it is exactly known: open arrivals
/// at one rate (no profile), and no pattern that sheds, caps or changes
/// work over time (bounded queues, rate limits, batching, autoscaling,
/// crashes, cache warm-up, timeouts, retries, breakers, bulkheads, latency
/// faults). Retries and faults would only add work, but they come with
/// shedding patterns. None otherwise.
pub fn offered_load(project: &Project, index: usize) -> Option<OfferedLoad> {
    let Arrivals::Open {
        rate_rps, profile, ..
    } = &project.workload.arrivals
    else {
        return None;
    };
    let scenario = project.scenarios.get(index)?;
    let plain_services = scenario.services.iter().all(|s| {
        s.queue == QueueCapacity::Unbounded
            && s.rate_limit.is_none()
            && s.batching.is_none()
            && s.llm.is_none()
            && s.autoscale.is_none()
            && s.crashes.is_empty()
            && s.cache.is_none_or(|c| c.warmup.as_secs_f64() == 0.0)
    });
    let plain_links = scenario.links.iter().all(|l| {
        l.timeout.is_none()
            && l.retry.is_none()
            && l.breaker.is_none()
            && l.max_concurrent.is_none()
            && l.fault.is_none()
    });
    if !profile.is_empty() || !plain_services || !plain_links {
        return None;
    }
    let (i, demand) = demand_per_request(project, index)?
        .into_iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let offered = rate_rps * demand;
    // A hair above 1 is still above: the queue grows by (ρ − 1) λ a second.
    if offered > 1.0 + 1e-9 {
        return Some(OfferedLoad::Over {
            station: i,
            utilisation: offered,
        });
    }
    // A blocking service holds a worker while its calls queue below it: its
    // demand above is only a lower bound.
    let exact = scenario.services.iter().all(|s| {
        s.io != IoModel::Blocking
            || !scenario
                .links
                .iter()
                .any(|l| l.from == s.name && l.mode == CallMode::Sync)
    });
    Some(OfferedLoad::Within { exact })
}
