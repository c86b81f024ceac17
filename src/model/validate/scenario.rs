//! A scenario's services and the checks over its whole call graph: entry
//! points, sync cycles and retry storms.

use std::collections::BTreeMap;

use crate::model::place::Place;
use crate::model::scenario::{CallMode, Scenario};
use crate::model::workload::Workload;

use super::links::{links, sync_cycles};
use super::{Problems, limits};

pub(super) fn scenario(
    problems: &mut Problems,
    place: &Place,
    scenario: &Scenario,
    workload: &Workload,
) {
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
        super::llm::service(problems, &here, service);
    }
    super::llm::classes(problems, scenario, workload, &index);
    super::llm::phases(problems, scenario);
    for class in &workload.classes {
        if !class.name.is_empty() && !index.contains_key(class.entry.as_str()) {
            problems.add(
                Place::class(&class.name).field("entry"),
                format!("{place} has no service {:?} to enter at", class.entry),
            );
        }
    }
    groups(problems, place, scenario, &index);
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

/// What is wrong with an endpoint binding, if anything.
pub fn endpoint_problems(endpoint: &crate::model::Endpoint) -> Vec<String> {
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

/// Groups: named, each name once, each holding services of the scenario,
/// and a service in at most one.
fn groups(
    problems: &mut Problems,
    place: &Place,
    scenario: &Scenario,
    index: &BTreeMap<&str, usize>,
) {
    let mut names = BTreeMap::new();
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (i, group) in scenario.groups.iter().enumerate() {
        let here = place.field("groups").field(i);
        if group.name.trim().is_empty() {
            problems.add(here.field("name"), "a group needs a name".into());
        } else if names.insert(group.name.as_str(), i).is_some() {
            problems.add(
                here.field("name"),
                format!("two groups in this scenario are called \"{}\"", group.name),
            );
        }
        if group.services.is_empty() {
            problems.add(
                here.field("services"),
                "a group needs at least one service".into(),
            );
        }
        for service in &group.services {
            if !index.contains_key(service.as_str()) {
                problems.add(
                    here.field("services"),
                    format!("there is no service \"{service}\" in this scenario"),
                );
            } else if let Some(other) = owner.insert(service, &group.name) {
                problems.add(
                    here.field("services"),
                    format!("\"{service}\" is already in group \"{other}\": a service is in at most one group"),
                );
            }
        }
    }
}
