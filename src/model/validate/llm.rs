//! LLM servers: their `llm` settings, the patterns they do not combine
//! with yet, and the token lengths of the classes that reach them.

use std::collections::{BTreeMap, VecDeque};

use crate::model::place::Place;
use crate::model::scenario::{Scenario, Service, ServiceKind};
use crate::model::workload::Workload;
use crate::model::{CallMode, KvCache, LlmPhase, LlmServing};

use super::{Problems, limits};

/// Checks one service's LLM settings against its kind.
pub(super) fn service(problems: &mut Problems, here: &Place, service: &Service) {
    let place = here.field("llm");
    let Some(llm) = &service.llm else {
        if service.kind == ServiceKind::LlmServer {
            problems.add(
                place,
                "an LLM server needs its llm settings: max_num_seqs, max_batched_tokens, \
                 kv_cache and step (see docs/llm.md)"
                    .into(),
            );
        }
        return;
    };
    if service.kind != ServiceKind::LlmServer {
        problems.add(
            place,
            format!(
                "llm settings are for kind LlmServer; this service is a {}",
                service.kind.name()
            ),
        );
        return;
    }
    for (field, present) in [
        ("batching", service.batching.is_some()),
        ("autoscale", service.autoscale.is_some()),
        ("crashes", !service.crashes.is_empty()),
        ("cache", service.cache.is_some()),
    ] {
        if present {
            problems.add(
                here.field(field),
                "an LLM server does not combine with this yet: its replicas batch \
                 continuously by themselves"
                    .into(),
            );
        }
    }
    settings(problems, &place, llm);
}

fn settings(problems: &mut Problems, place: &Place, llm: &LlmServing) {
    problems.count(
        place.field("max_num_seqs"),
        llm.max_num_seqs,
        1,
        limits::LLM_SEQS,
        "max_num_seqs",
    );
    problems.count(
        place.field("max_batched_tokens"),
        llm.max_batched_tokens,
        1,
        limits::LLM_BATCHED_TOKENS,
        "max_batched_tokens",
    );
    if !(0.0..=0.5).contains(&llm.watermark) {
        problems.add(
            place.field("watermark"),
            format!(
                "the watermark is a share of the KV cache from 0 to 0.5, got {}",
                llm.watermark
            ),
        );
    }
    problems.count(
        place.field("tensor_parallel"),
        llm.tensor_parallel,
        1,
        limits::TENSOR_PARALLEL,
        "tensor_parallel",
    );
    if !(llm.tp_efficiency >= 0.1 && llm.tp_efficiency <= 1.0) {
        problems.add(
            place.field("tp_efficiency"),
            format!(
                "tp_efficiency must be between 0.1 and 1, got {}",
                llm.tp_efficiency
            ),
        );
    }
    if llm.step.base.as_nanos() == 0 {
        problems.add(
            place.field("step").field("base"),
            "a step takes some time: base must be above 0".into(),
        );
    }
    prefill_table(problems, &place.field("step"), &llm.step);
    let kv = place.field("kv_cache");
    if let KvCache::Model(m) = &llm.kv_cache {
        let mut count = |field: &str, value: u32, max: u32| {
            problems.count(kv.field("Model").field(field), value, 1, max, field);
        };
        count("layers", m.layers, 10_000);
        count("kv_heads", m.kv_heads, 10_000);
        count("head_dim", m.head_dim, 100_000);
        count("bytes_per_value", m.bytes_per_value, 8);
        for (field, value, low) in [
            ("gpu_memory_gib", m.gpu_memory_gib, f64::MIN_POSITIVE),
            ("weights_gib", m.weights_gib, 0.0),
        ] {
            if !(value.is_finite() && value >= low && value <= 1e7) {
                problems.add(
                    kv.field("Model").field(field),
                    format!("{field} must be a size in GiB, got {value}"),
                );
            }
        }
        if !(m.memory_fraction > 0.0 && m.memory_fraction <= 1.0) {
            problems.add(
                kv.field("Model").field("memory_fraction"),
                format!(
                    "memory_fraction must be above 0 and at most 1, got {}",
                    m.memory_fraction
                ),
            );
        }
    }
    match llm.kv_tokens() {
        Some(tokens) if tokens > limits::KV_TOKENS => problems.add(
            kv,
            format!(
                "at most {} tokens of KV cache are allowed, got {tokens}",
                limits::KV_TOKENS
            ),
        ),
        Some(tokens) if tokens >= crate::model::KV_BLOCK_TOKENS => {}
        Some(tokens) => problems.add(
            kv,
            format!(
                "the KV cache must hold at least one block of {} tokens, got {tokens}",
                crate::model::KV_BLOCK_TOKENS
            ),
        ),
        None => problems.add(
            kv,
            "the weights leave no GPU memory for the KV cache".into(),
        ),
    }
}

/// Every class whose requests reach an LLM server (through sync or async
/// calls) needs its token lengths.
pub(super) fn classes(
    problems: &mut Problems,
    scenario: &Scenario,
    workload: &Workload,
    index: &BTreeMap<&str, usize>,
) {
    let is_llm = |i: usize| scenario.services[i].kind == ServiceKind::LlmServer;
    if !(0..scenario.services.len()).any(is_llm) {
        return;
    }
    for class in &workload.classes {
        let Some(&entry) = index.get(class.entry.as_str()) else {
            continue;
        };
        if scenario.services[entry].llm.as_ref().map(|l| l.phase) == Some(LlmPhase::Decode) {
            problems.add(
                Place::class(&class.name).field("entry"),
                format!(
                    "{:?} in scenario {:?} is decode-only: requests reach it from a \
                     prefill-only server, not directly",
                    class.entry, scenario.name
                ),
            );
        }
        // The services its requests can reach, breadth first.
        let mut seen = vec![false; scenario.services.len()];
        let mut queue = VecDeque::from([entry]);
        seen[entry] = true;
        let mut reached = None;
        while let Some(at) = queue.pop_front() {
            if is_llm(at) {
                reached = Some(at);
                break;
            }
            for link in &scenario.links {
                if link.from == scenario.services[at].name
                    && let Some(&to) = index.get(link.to.as_str())
                    && !seen[to]
                {
                    seen[to] = true;
                    queue.push_back(to);
                }
            }
        }
        let place = Place::class(&class.name).field("tokens");
        if let (None, Some(llm)) = (&class.tokens, reached) {
            problems.add(
                place,
                format!(
                    "its requests reach LLM server {:?} in scenario {:?}: give their token \
                     lengths, like tokens: (prompt: \"lognormal:1000,p99=4000\", output: \"exp:200\")",
                    scenario.services[llm].name, scenario.name
                ),
            );
        }
    }
}

/// A prefill/decode split: each prefill-only server calls a decode-only
/// one synchronously (with the prompt's KV cache), and a decode-only
/// server is called only so, by prefill-only servers.
pub(super) fn phases(problems: &mut Problems, scenario: &Scenario) {
    let phase = |name: &str| {
        scenario
            .services
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.llm.as_ref())
            .map(|l| l.phase)
    };
    for service in &scenario.services {
        let Some(mine) = service.llm.as_ref().map(|l| l.phase) else {
            continue;
        };
        let place = Place::service(&scenario.name, &service.name)
            .field("llm")
            .field("phase");
        match mine {
            LlmPhase::Both => {}
            LlmPhase::Prefill => {
                let hands_on = scenario.links.iter().any(|l| {
                    l.from == service.name
                        && l.mode == CallMode::Sync
                        && phase(&l.to) == Some(LlmPhase::Decode)
                });
                if !hands_on {
                    problems.add(
                        place,
                        "a prefill-only server hands each request on to a decode-only LLM \
                         server: give it a synchronous call to one (its latency is the KV \
                         cache's transfer)"
                            .into(),
                    );
                }
            }
            LlmPhase::Decode => {
                for link in scenario.links.iter().filter(|l| l.to == service.name) {
                    if link.mode != CallMode::Sync || phase(&link.from) != Some(LlmPhase::Prefill) {
                        problems.add(
                            place.clone(),
                            format!(
                                "a decode-only server takes requests from prefill-only \
                                 servers, by synchronous calls; {:?} is not one",
                                link.from
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// A prefill table's points rise in length and time, and replace the
/// per-token prefill rather than add to it.
fn prefill_table(problems: &mut Problems, step: &Place, time: &crate::model::StepTime) {
    let table = &time.prefill_table;
    if table.is_empty() {
        return;
    }
    let place = step.field("prefill_table");
    if time.per_prefill_token.as_nanos() > 0 {
        problems.add(
            place.clone(),
            "a prefill table replaces per_prefill_token: leave per_prefill_token out".into(),
        );
    }
    if table.len() > 1000 {
        problems.add(
            place.clone(),
            format!("at most 1000 points, got {}", table.len()),
        );
        return;
    }
    let mut last = (0, 0);
    for (i, &(tokens, time)) in table.iter().enumerate() {
        let here = place.field(i);
        if tokens <= last.0 || tokens > 10_000_000 {
            problems.add(
                here,
                format!(
                    "prompt lengths must rise from above 0 to at most 10,000,000 tokens; \
                     {tokens} follows {}",
                    last.0
                ),
            );
        } else if time.as_nanos() < last.1 {
            problems.add(
                here,
                "a longer prompt cannot take less time to prefill".into(),
            );
        }
        last = (tokens, time.as_nanos());
    }
}
