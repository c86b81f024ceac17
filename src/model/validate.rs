//! Semantic checks of a parsed project. Every problem is reported at once,
//! each naming its scenario, service or link, and field.

use std::collections::{BTreeMap, BTreeSet};

use super::distribution::Distribution;
use super::error::Problem;
use super::place::Place;
use super::project::{FORMAT_VERSION, Project, StopCondition};
use super::scenario::{CallMode, Link, Scenario};
use super::time::TimeSpan;
use super::workload::{Arrivals, RateChange, Workload};

/// Bounds that keep a hostile or mistaken file from exhausting memory.
pub mod limits {
    /// Services in one scenario.
    pub const SERVICES: usize = 10_000;
    /// Replicas of one service.
    pub const REPLICAS: u32 = 10_000;
    /// Workers in one replica.
    pub const WORKERS: u32 = 1_000_000;
    /// Calls one link makes per request.
    pub const CALL_COUNT: u32 = 1_000;
    /// Users in a closed workload.
    pub const USERS: u32 = 1_000_000;
    /// Replications of a run.
    pub const REPLICATIONS: u32 = 10_000;
    /// Requests one replication may simulate (warm-up included): about half
    /// a minute to a few minutes of work. More comes from replications.
    pub const REQUESTS_PER_REPLICATION: f64 = 1e8;
    /// Values in an empirical distribution.
    pub const EMPIRICAL_VALUES: usize = 100_000;
    /// Scenarios in a project.
    pub const SCENARIOS: usize = 1_000;
    /// Request classes.
    pub const CLASSES: usize = 1_000;
    /// Open arrival rate, requests per second.
    pub const RATE_RPS: f64 = 1e9;
    /// Retries of one call.
    pub const RETRIES: u32 = 100;
    /// Attempts per request that unbudgeted retries may multiply to along
    /// a chain of sync calls.
    pub const RETRY_ATTEMPTS: f64 = 10_000.0;
    /// The shortest autoscaler interval.
    pub const SCALE_INTERVAL_NS: u64 = 1_000_000;
    /// Requests in one batch.
    pub const BATCH: u32 = 4096;
    /// Crashes of one service.
    pub const CRASHES: usize = 10_000;
}

/// Every problem with the project, in file order. Empty means valid.
pub fn validate(project: &Project) -> Vec<Problem> {
    let mut problems = Problems::default();
    if project.format != FORMAT_VERSION {
        problems.add(
            Place::project(["format"]),
            format!(
                "unknown format version {}; this archbench reads version {FORMAT_VERSION}",
                project.format
            ),
        );
    }
    workload(&mut problems, &project.workload);
    run(&mut problems, project);
    if project.scenarios.is_empty() {
        problems.add(
            Place::project(["scenarios"]),
            "a project needs at least one scenario".into(),
        );
    }
    if project.scenarios.len() > limits::SCENARIOS {
        problems.add(
            Place::project(["scenarios"]),
            format!("at most {} scenarios are allowed", limits::SCENARIOS),
        );
    }
    let mut names = BTreeSet::new();
    for scenario in &project.scenarios {
        let place = Place::scenario(&scenario.name);
        if scenario.name.trim().is_empty() {
            problems.add(place.field("name"), "a scenario needs a name".into());
        } else if !names.insert(scenario.name.as_str()) {
            problems.add(place.field("name"), "two scenarios have this name".into());
        }
        self::scenario(&mut problems, &place, scenario, &project.workload);
    }
    problems.0
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, place: Place, message: String) {
        self.0.push(Problem { place, message });
    }

    fn distribution(&mut self, place: Place, distribution: &Distribution) {
        if let Err(message) = distribution.check() {
            self.add(place, message);
        } else if let Distribution::Empirical(values) = distribution
            && values.len() > limits::EMPIRICAL_VALUES
        {
            self.add(
                place,
                format!(
                    "at most {} empirical values are allowed",
                    limits::EMPIRICAL_VALUES
                ),
            );
        }
    }

    fn rate(&mut self, place: Place, rate: f64) {
        if !rate.is_finite() || rate < 0.0 {
            self.add(
                place,
                format!("a rate must be a finite number ≥ 0, got {rate}"),
            );
        } else if rate > limits::RATE_RPS {
            self.add(
                place,
                format!("a rate above {:e} rps is not supported", limits::RATE_RPS),
            );
        }
    }

    fn positive(&mut self, place: Place, span: TimeSpan, what: &str) {
        if span == TimeSpan::ZERO {
            self.add(place, format!("{what} must be longer than zero"));
        }
    }

    fn count(&mut self, place: Place, value: u32, min: u32, max: u32, what: &str) {
        if value < min || value > max {
            self.add(
                place,
                format!("{what} must be between {min} and {max}, got {value}"),
            );
        }
    }
}

fn workload(problems: &mut Problems, workload: &Workload) {
    match &workload.arrivals {
        Arrivals::Open {
            rate_rps, profile, ..
        } => {
            problems.rate(
                Place::project(["workload", "arrivals", "rate_rps"]),
                *rate_rps,
            );
            let mut last_end = 0.0;
            for (i, change) in profile.iter().enumerate() {
                let place = Place::project(["workload", "arrivals"]).field(format!("profile[{i}]"));
                let (start, end, rate) = match change {
                    RateChange::Step { at, rate_rps } => (at, at, rate_rps),
                    RateChange::Ramp { from, to, rate_rps } => (from, to, rate_rps),
                };
                problems.rate(place.field("rate_rps"), *rate);
                if start > end {
                    problems.add(
                        place.clone(),
                        format!("the ramp ends ({end}) before it starts ({start})"),
                    );
                }
                if start.as_secs_f64() < last_end {
                    problems.add(
                        place,
                        "profile changes must be in time order and not overlap".into(),
                    );
                }
                last_end = end.as_secs_f64();
            }
        }
        Arrivals::Closed { users, think_time } => {
            problems.count(
                Place::project(["workload", "arrivals", "users"]),
                *users,
                1,
                limits::USERS,
                "users",
            );
            problems.distribution(
                Place::project(["workload", "arrivals", "think_time"]),
                think_time,
            );
        }
    }
    if workload.classes.is_empty() {
        problems.add(
            Place::project(["workload", "classes"]),
            "a workload needs at least one request class".into(),
        );
    }
    if workload.classes.len() > limits::CLASSES {
        problems.add(
            Place::project(["workload", "classes"]),
            format!("at most {} classes are allowed", limits::CLASSES),
        );
    }
    let mut names = BTreeSet::new();
    for class in &workload.classes {
        let place = Place::class(&class.name);
        if class.name.trim().is_empty() {
            problems.add(place.field("name"), "a request class needs a name".into());
        } else if !names.insert(class.name.as_str()) {
            problems.add(
                place.field("name"),
                "two request classes have this name".into(),
            );
        }
        if !class.weight.is_finite() || class.weight < 0.0 {
            problems.add(
                place.field("weight"),
                format!("a weight must be a finite number ≥ 0, got {}", class.weight),
            );
        }
    }
    if !workload.classes.is_empty() && workload.classes.iter().all(|c| c.weight <= 0.0) {
        problems.add(
            Place::project(["workload", "classes"]),
            "at least one class needs a weight above 0".into(),
        );
    }
}

/// Refuses a run whose one replication would simulate more requests than
/// [`limits::REQUESTS_PER_REPLICATION`] (open workloads, where the rate
/// says how many arrive): a year of warm-up at 1,450 requests/s is 46
/// billion, hours of work before the first measurement.
fn work(problems: &mut Problems, project: &Project) {
    let run = &project.run;
    let warmup = run.warmup.map_or(0.0, super::TimeSpan::as_secs_f64);
    let arriving = |seconds: f64| {
        project
            .workload
            .mean_rate_rps(0.0, seconds)
            .map(|rate| rate * seconds)
            .filter(|n| n.is_finite())
    };
    let (place, total, what) = match run.stop {
        StopCondition::Duration(span) => {
            let seconds = warmup + span.as_secs_f64();
            let Some(total) = arriving(seconds) else {
                return;
            };
            (
                Place::project(["run", "stop"]),
                total,
                format!("{} of warm-up and measurement", super::human_secs(seconds)),
            )
        }
        StopCondition::Requests(n) => {
            let before = arriving(warmup).unwrap_or(0.0);
            if (n as f64) > limits::REQUESTS_PER_REPLICATION {
                (
                    Place::project(["run", "stop"]),
                    n as f64,
                    format!("{n} requests"),
                )
            } else {
                (
                    Place::project(["run", "warmup"]),
                    before + n as f64,
                    format!("{} of warm-up", super::human_secs(warmup)),
                )
            }
        }
    };
    if total > limits::REQUESTS_PER_REPLICATION {
        problems.add(
            place,
            format!(
                "{what} would simulate about {} requests in each replication; at most {} are \
                 allowed (ask for more replications instead)",
                in_words(total),
                in_words(limits::REQUESTS_PER_REPLICATION)
            ),
        );
    }
}

/// A large count as a person says it: "46.3 billion", "100 million".
fn in_words(n: f64) -> String {
    let (scaled, word) = if n >= 1e9 {
        (n / 1e9, "billion")
    } else {
        (n / 1e6, "million")
    };
    let text = format!("{scaled:.1}");
    format!("{} {word}", text.strip_suffix(".0").unwrap_or(&text))
}

fn run(problems: &mut Problems, project: &Project) {
    let run = &project.run;
    work(problems, project);
    problems.positive(
        Place::project(["run", "interval"]),
        run.interval,
        "the interval",
    );
    match run.stop {
        StopCondition::Duration(span) if span.as_nanos() == 0 => {
            problems.add(
                Place::project(["run", "stop"]),
                "the duration must be above zero".into(),
            );
        }
        StopCondition::Requests(0) => {
            problems.add(
                Place::project(["run", "stop"]),
                "the request count must be at least 1".into(),
            );
        }
        _ => {}
    }
    problems.count(
        Place::project(["run", "replications"]),
        run.replications,
        1,
        limits::REPLICATIONS,
        "replications",
    );
    if let Some(precision) = run.precision
        && !(precision > 0.0 && precision < 1.0)
    {
        problems.add(
            Place::project(["run", "precision"]),
            format!("the precision is a fraction between 0 and 1 (0.02 for 2%), got {precision}"),
        );
    }
    problems.count(
        Place::project(["run", "max_replications"]),
        run.max_replications,
        // Below `replications` it is simply not reached: the run makes
        // `replications` whatever the precision rule's cap.
        1,
        limits::REPLICATIONS,
        "max_replications",
    );
    for (i, objective) in project.objectives.iter().enumerate() {
        if let Some(class) = &objective.class
            && !project.workload.classes.iter().any(|c| &c.name == class)
        {
            problems.add(
                Place::project([])
                    .field(format!("objectives[{i}]"))
                    .field("class"),
                format!("there is no request class {class:?}"),
            );
        }
    }
}

fn scenario(problems: &mut Problems, place: &Place, scenario: &Scenario, workload: &Workload) {
    if scenario.services.is_empty() {
        problems.add(
            place.field("services"),
            "a scenario needs at least one service".into(),
        );
    }
    if scenario.services.len() > limits::SERVICES {
        problems.add(
            place.field("services"),
            format!("at most {} services are allowed", limits::SERVICES),
        );
    }
    let mut index = BTreeMap::new();
    for (i, service) in scenario.services.iter().enumerate() {
        let here = Place::service(&scenario.name, &service.name);
        if service.name.trim().is_empty() {
            problems.add(here.field("name"), "a service needs a name".into());
        } else if index.insert(service.name.as_str(), i).is_some() {
            problems.add(
                here.field("name"),
                "two services in this scenario have this name".into(),
            );
        }
        problems.count(
            here.field("replicas"),
            service.replicas,
            1,
            limits::REPLICAS,
            "replicas",
        );
        problems.count(
            here.field("workers"),
            service.workers,
            1,
            limits::WORKERS,
            "workers",
        );
        problems.distribution(here.field("service_time"), &service.service_time);
        if !(0.0..=1.0).contains(&service.error_rate) {
            problems.add(
                here.field("error_rate"),
                format!(
                    "an error rate must be between 0 and 1, got {}",
                    service.error_rate
                ),
            );
        }
        if let Some(cache) = &service.cache
            && !(0.0..=1.0).contains(&cache.hit_ratio)
        {
            problems.add(
                here.field("cache").field("hit_ratio"),
                format!(
                    "a hit ratio must be between 0 and 1, got {}",
                    cache.hit_ratio
                ),
            );
        }
        if let Some(scale) = &service.autoscale {
            let place = here.field("autoscale");
            if !(scale.target_utilization > 0.0 && scale.target_utilization <= 1.0) {
                problems.add(
                    place.field("target_utilization"),
                    format!(
                        "the target utilisation must be above 0 and at most 1, got {}",
                        scale.target_utilization
                    ),
                );
            }
            problems.count(
                place.field("max_replicas"),
                scale.max_replicas,
                1,
                limits::REPLICAS,
                "max_replicas",
            );
            problems.count(
                place.field("min_replicas"),
                scale.min_replicas,
                1,
                scale.max_replicas.max(1),
                "min_replicas (up to max_replicas)",
            );
            if !(scale.min_replicas..=scale.max_replicas).contains(&service.replicas) {
                problems.add(
                    here.field("replicas"),
                    format!(
                        "the replicas at the start ({}) must be between min_replicas ({}) and max_replicas ({})",
                        service.replicas, scale.min_replicas, scale.max_replicas
                    ),
                );
            }
            if scale.interval.as_nanos() < limits::SCALE_INTERVAL_NS {
                problems.add(
                    place.field("interval"),
                    format!(
                        "the interval must be at least 1ms (an autoscaler decides every few seconds), got {}",
                        scale.interval
                    ),
                );
            }
        }
        let slots = service
            .autoscale
            .map_or(service.replicas, |a| a.max_replicas.max(service.replicas));
        if service.crashes.len() > limits::CRASHES {
            problems.add(
                here.field("crashes"),
                format!("at most {} crashes are allowed", limits::CRASHES),
            );
        }
        for (i, crash) in service.crashes.iter().enumerate() {
            if crash.replica >= slots {
                problems.add(
                    here.field("crashes").field(i).field("replica"),
                    format!(
                        "replica {} does not exist: the service has replicas 0 to {}",
                        crash.replica,
                        slots.saturating_sub(1)
                    ),
                );
            }
        }
        if let Some(batching) = &service.batching {
            problems.count(
                here.field("batching").field("max_batch"),
                batching.max_batch,
                1,
                limits::BATCH,
                "max_batch",
            );
        }
        if let Some(limit) = &service.rate_limit {
            if limit.rate.is_finite() && limit.rate > 0.0 {
                problems.rate(here.field("rate_limit").field("rate"), limit.rate);
            } else {
                problems.add(
                    here.field("rate_limit").field("rate"),
                    format!(
                        "a rate limit must be above 0 per second, got {}",
                        limit.rate
                    ),
                );
            }
            problems.count(
                here.field("rate_limit").field("burst"),
                limit.burst,
                1,
                u32::MAX,
                "the burst",
            );
        }
        if let Some(endpoint) = &service.endpoint {
            for message in endpoint_problems(endpoint) {
                problems.add(here.field("endpoint"), message);
            }
        }
    }
    for class in &workload.classes {
        if !class.name.is_empty() && !index.contains_key(class.entry.as_str()) {
            problems.add(
                Place::class(&class.name).field("entry"),
                format!("{place} has no service {:?} to enter at", class.entry),
            );
        }
    }
    let sync_edges = links(problems, scenario, &index);
    let cycles = sync_cycles(&sync_edges);
    if cycles.is_empty() {
        retry_storms(problems, place, scenario, &index);
    }
    for cycle in cycles {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&i| scenario.services[i].name.as_str())
            .collect();
        problems.add(
            place.field("links"),
            format!(
                "the sync calls {} form a cycle, so a request would never finish; make one of them async",
                names.join(" -> ")
            ),
        );
    }
}

/// Retries without a budget multiply along a chain of sync calls: 100
/// retries on each of five links would make 101^5 attempts per request.
/// Refuses a chain whose attempts multiply past
/// [`limits::RETRY_ATTEMPTS`]. Assumes the sync calls have no cycle.
fn retry_storms(
    problems: &mut Problems,
    place: &Place,
    scenario: &Scenario,
    index: &BTreeMap<&str, usize>,
) {
    fn worst(
        i: usize,
        scenario: &Scenario,
        index: &BTreeMap<&str, usize>,
        attempts: &mut Vec<Option<(f64, Option<usize>)>>,
        depth: usize,
    ) -> f64 {
        if let Some((a, _)) = attempts[i] {
            return a;
        }
        let mut best = (1.0, None);
        if depth < scenario.services.len() {
            for link in scenario
                .links
                .iter()
                .filter(|l| l.mode == CallMode::Sync && l.from == scenario.services[i].name)
            {
                let Some(&to) = index.get(link.to.as_str()) else {
                    continue;
                };
                let tries = link
                    .retry
                    .filter(|r| r.budget.is_none())
                    .map_or(1.0, |r| 1.0 + f64::from(r.max_retries));
                let below = tries * worst(to, scenario, index, attempts, depth + 1);
                if below > best.0 {
                    best = (below, Some(to));
                }
            }
        }
        attempts[i] = Some(best);
        best.0
    }
    // attempts[i]: the most attempts a call to i can make of the services
    // below it, and the next service on that worst chain.
    let n = scenario.services.len();
    let mut attempts: Vec<Option<(f64, Option<usize>)>> = vec![None; n];
    for start in 0..n {
        if worst(start, scenario, index, &mut attempts, 0) <= limits::RETRY_ATTEMPTS {
            continue;
        }
        let mut chain = vec![scenario.services[start].name.as_str()];
        let mut at = start;
        while let Some((_, Some(next))) = attempts[at] {
            chain.push(scenario.services[next].name.as_str());
            at = next;
        }
        let total = attempts[start].map_or(1.0, |a| a.0);
        problems.add(
            place.field("links"),
            format!(
                "retries multiply along the sync calls {}: up to {total:.0} attempts per call \
                 to {:?} (at most {} are allowed); lower max_retries or give the retries a budget",
                chain.join(" -> "),
                scenario.services[start].name,
                limits::RETRY_ATTEMPTS,
            ),
        );
        // One report per scenario: the services above a storm share it.
        return;
    }
}

/// Checks each link and returns the graph of synchronous calls.
fn links(
    problems: &mut Problems,

    scenario: &Scenario,
    index: &BTreeMap<&str, usize>,
) -> BTreeMap<usize, BTreeSet<usize>> {
    let mut sync_edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for link in &scenario.links {
        let here = Place::link(&scenario.name, &link.from, &link.to);
        let from = index.get(link.from.as_str()).copied();
        let to = index.get(link.to.as_str()).copied();
        if from.is_none() {
            problems.add(
                here.field("from"),
                format!("there is no service {:?}", link.from),
            );
        }
        if to.is_none() {
            problems.add(
                here.field("to"),
                format!("there is no service {:?}", link.to),
            );
        }
        if !(0.0..=1.0).contains(&link.probability) {
            problems.add(
                here.field("probability"),
                format!(
                    "a probability must be between 0 and 1, got {}",
                    link.probability
                ),
            );
        }
        problems.count(
            here.field("count"),
            link.count,
            1,
            limits::CALL_COUNT,
            "the call count",
        );
        problems.distribution(here.field("latency"), &link.latency);
        resilience(problems, &here, link);
        if let (Some(from), Some(to), CallMode::Sync) = (from, to, link.mode) {
            sync_edges.entry(from).or_default().insert(to);
        }
    }
    sync_edges
}

/// Cycles in the graph of synchronous calls, each as the path that closes it
/// (first node repeated at the end). One cycle is reported per back edge.
fn sync_cycles(edges: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let size = edges
        .iter()
        .flat_map(|(from, tos)| std::iter::once(*from).chain(tos.iter().copied()))
        .max()
        .map_or(0, |m| m + 1);
    let mut marks = vec![Mark::New; size];
    let mut cycles = Vec::new();
    let empty = BTreeSet::new();
    for root in 0..size {
        if marks[root] != Mark::New {
            continue;
        }
        // Iterative depth-first search, so a long chain cannot overflow the stack.
        let mut path = vec![root];
        let mut iters = vec![edges.get(&root).unwrap_or(&empty).iter()];
        marks[root] = Mark::OnPath;
        while let Some(iter) = iters.last_mut() {
            if let Some(&next) = iter.next() {
                match marks[next] {
                    Mark::New => {
                        marks[next] = Mark::OnPath;
                        path.push(next);
                        iters.push(edges.get(&next).unwrap_or(&empty).iter());
                    }
                    Mark::OnPath => {
                        let start = path.iter().position(|&n| n == next).unwrap_or(0);
                        let mut cycle = path[start..].to_vec();
                        cycle.push(next);
                        cycles.push(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                iters.pop();
                if let Some(done) = path.pop() {
                    marks[done] = Mark::Done;
                }
            }
        }
    }
    cycles
}

/// What is wrong with an endpoint binding, if anything.
pub fn endpoint_problems(endpoint: &super::scenario::Endpoint) -> Vec<String> {
    let mut problems = Vec::new();
    let url = endpoint.url.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        None => problems.push(format!(
            "the url {url:?} must start with http:// or https://"
        )),
        Some(rest) if rest.split(['/', '?']).next().is_none_or(str::is_empty) => {
            problems.push(format!("the url {url:?} has no host"));
        }
        Some(_) => {}
    }
    let is_token = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !is_token(&endpoint.method) {
        problems.push(format!("{:?} is not an HTTP method", endpoint.method));
    }
    for (name, value) in &endpoint.headers {
        if !is_token(name) {
            problems.push(format!("{name:?} is not a header name"));
        }
        if value.contains(['\r', '\n']) {
            problems.push(format!("the header {name:?} has a line break in its value"));
        }
    }
    problems
}

/// Timeouts, retries, breakers, bulkheads and faults on a link.
fn resilience(problems: &mut Problems, here: &Place, link: &Link) {
    if link.mode == CallMode::Async {
        let waited_for = [
            ("timeout", link.timeout.is_some()),
            ("retry", link.retry.is_some()),
            ("breaker", link.breaker.is_some()),
            ("max_concurrent", link.max_concurrent.is_some()),
        ];
        for (field, set) in waited_for {
            if set {
                problems.add(
                    here.field(field),
                    "an async call is not waited for, so it cannot time out, be retried, \
                     trip a breaker or fill a bulkhead; make the call sync"
                        .into(),
                );
            }
        }
    }
    if let Some(timeout) = link.timeout {
        problems.positive(here.field("timeout"), timeout, "a timeout");
    }
    if let Some(retry) = &link.retry {
        let place = here.field("retry");
        problems.count(
            place.field("max_retries"),
            retry.max_retries,
            0,
            limits::RETRIES,
            "max_retries",
        );
        if retry.max_backoff < retry.backoff {
            problems.add(
                place.field("max_backoff"),
                format!(
                    "max_backoff ({}) is shorter than backoff ({})",
                    retry.max_backoff, retry.backoff
                ),
            );
        }
        if let Some(budget) = &retry.budget {
            if !(budget.ratio.is_finite() && (0.0..=10.0).contains(&budget.ratio)) {
                problems.add(
                    place.field("budget").field("ratio"),
                    format!(
                        "a retry ratio must be between 0 and 10, got {}",
                        budget.ratio
                    ),
                );
            }
            problems.rate(
                place.field("budget").field("min_per_second"),
                budget.min_per_second,
            );
        }
    }
    if let Some(breaker) = &link.breaker {
        let place = here.field("breaker");
        if !(breaker.failure_ratio > 0.0 && breaker.failure_ratio <= 1.0) {
            problems.add(
                place.field("failure_ratio"),
                format!(
                    "a failure ratio must be above 0 and at most 1, got {}",
                    breaker.failure_ratio
                ),
            );
        }
        problems.positive(place.field("window"), breaker.window, "the window");
        problems.positive(place.field("open_for"), breaker.open_for, "open_for");
        problems.count(
            place.field("min_calls"),
            breaker.min_calls,
            1,
            u32::MAX,
            "min_calls",
        );
        problems.count(place.field("probes"), breaker.probes, 1, u32::MAX, "probes");
    }
    if let Some(max) = link.max_concurrent {
        problems.count(
            here.field("max_concurrent"),
            max,
            1,
            u32::MAX,
            "max_concurrent",
        );
    }
    if let Some(fault) = &link.fault {
        let place = here.field("fault");
        problems.distribution(place.field("extra"), &fault.extra);
        if fault.until <= fault.from {
            problems.add(
                place.field("until"),
                format!(
                    "the fault must end after it starts ({} is not after {})",
                    fault.until, fault.from
                ),
            );
        }
    }
}

/// A project that passed [`validate`]: the only kind the simulator accepts,
/// so it neither runs an unchecked project nor checks one twice.
#[derive(Clone, Copy, Debug)]
pub struct Validated<'a>(&'a Project);

impl<'a> Validated<'a> {
    /// Validates `project`; every problem when it is not valid.
    pub fn new(project: &'a Project) -> Result<Self, Vec<Problem>> {
        let problems = validate(project);
        if problems.is_empty() {
            Ok(Self(project))
        } else {
            Err(problems)
        }
    }

    /// The project.
    pub fn project(self) -> &'a Project {
        self.0
    }
}

impl std::ops::Deref for Validated<'_> {
    type Target = Project;

    fn deref(&self) -> &Project {
        self.0
    }
}
