//! `archbench merge RESULT...`: the JSON results of a sharded load test
//! (`archbench load --shard I/N --format json`), or of runs of one schedule
//! from several machines, added up exactly: the merged histograms are the
//! ones a single recorder would have filled with every sample, because each
//! result carries its histograms whole (`HdrHistogram`'s interchange
//! encoding) and histograms of one precision add bucket by bucket.

use std::collections::BTreeMap;
use std::io::Read as _;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::loadgen::{self, Threshold};
use crate::stats::{
    EncodedHistogram, IntervalPoint, LagSummary, LatencyHistogram, LlmLoadReport, LoadReport,
    ShardInfo,
};

use super::args::MergeArgs;

/// What a result must hold to be merged (the rest of `load`'s JSON is
/// derived, and recomputed).
#[derive(Deserialize)]
struct Run {
    targets: Vec<String>,
    mode: String,
    duration_s: f64,
    scheduled: u64,
    requests: u64,
    dropped: u64,
    errors: BTreeMap<String, u64>,
    status: BTreeMap<String, u64>,
    bytes_sent: u64,
    bytes_received: u64,
    generator_saturated: bool,
    generator_lag_ms: Lag,
    steal_ms: Option<f64>,
    sent_late: u64,
    think_ms: Option<f64>,
    intervals: Vec<Second>,
    latency_hdr: Option<EncodedHistogram>,
    uncorrected_latency_hdr: Option<EncodedHistogram>,
    shard: Option<ShardInfo>,
    #[serde(default)]
    llm: Option<LlmRun>,
}

/// A run's streamed LLM answers, as `load --llm` writes them.
#[derive(Deserialize)]
struct LlmRun {
    sequences: u64,
    tokens_in: u64,
    tokens_out: u64,
    ttft_hdr: EncodedHistogram,
    tpot_hdr: EncodedHistogram,
    itl_hdr: EncodedHistogram,
}

#[derive(Deserialize)]
struct Lag {
    p99: f64,
    max: f64,
}

#[derive(Deserialize)]
struct Second {
    #[serde(rename = "second")]
    at: u64,
    requests: u64,
    throughput_rps: f64,
    errors: u64,
    steal_ms: Option<f64>,
    #[serde(default)]
    latency_hdr: String,
}

/// A result read, with where it came from.
struct Named {
    name: String,
    run: Run,
    latency: LatencyHistogram,
    uncorrected: LatencyHistogram,
}

/// Exit 0 when merged, 1 on bad or mismatched input (or when not one
/// request had a good answer), 3 when a threshold fails on the merge.
pub fn run(args: &MergeArgs) -> anyhow::Result<u8> {
    let thresholds = super::load::thresholds(&args.thresholds)?;
    let mut results = Vec::new();
    for source in &args.results {
        let (name, text) = if source == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            ("<stdin>".to_owned(), text)
        } else {
            let text =
                std::fs::read_to_string(source).with_context(|| format!("cannot read {source}"))?;
            (source.clone(), text)
        };
        let before = results.len();
        read_results(&name, &text, &mut results)?;
        if results.len() == before {
            bail!("{name}: holds no result");
        }
    }
    let sweeps = results
        .iter()
        .filter(|(_, value)| value.get("axis").is_some())
        .count();
    if sweeps > 0 {
        if sweeps < results.len() {
            bail!("sweeps and load tests cannot merge into one result");
        }
        if !thresholds.is_empty() {
            bail!("--threshold checks a load test's result; sweeps have their objectives");
        }
        return merge_sweeps(results, args);
    }
    let mut runs = Vec::new();
    for (label, value) in results {
        let run = serde_json::from_value(value).map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        runs.push(decode(label, run)?);
    }
    let report = merge(&runs, &thresholds)?;
    super::load::finish(&report, args.format, args.output.as_deref())
}

/// Every JSON result in `text` (one, or several one after another, as
/// `kubectl logs` prints its pods'), labelled with where it came from.
/// Lines outside a result that do not open one (a pod's warnings, which
/// `kubectl logs` mixes in) are skipped, with a warning saying how many.
fn read_results(
    name: &str,
    text: &str,
    results: &mut Vec<(String, serde_json::Value)>,
) -> anyhow::Result<()> {
    let (mut at, mut skipped, mut count) = (0, 0_usize, 0_usize);
    while at < text.len() {
        let rest = &text[at..];
        let start = rest.len() - rest.trim_start().len();
        at += start;
        if at == text.len() {
            break;
        }
        if !text[at..].starts_with('{') {
            skipped += 1;
            at = text[at..].find('\n').map_or(text.len(), |end| at + end + 1);
            continue;
        }
        let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter();
        let value: serde_json::Value = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                // The place in the whole text, not in the rest.
                let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                let line = text[..at].matches('\n').count() + e.line();
                let column = if e.line() == 1 {
                    text[line_start..at].chars().count() + e.column()
                } else {
                    e.column()
                };
                bail!("{name}:{line}:{column}: {}", strip_place(&e));
            }
            None => break,
        };
        at += stream.byte_offset();
        count += 1;
        let label = if count == 1 {
            name.to_owned()
        } else {
            format!("{name} (result {count})")
        };
        results.push((label, value));
    }
    if skipped > 0 {
        eprintln!("note: {name}: skipped {skipped} line(s) that are not part of a JSON result");
    }
    Ok(())
}

/// Merges the shards of one sweep (`sweep --shard I/N --format json`).
fn merge_sweeps(results: Vec<(String, serde_json::Value)>, args: &MergeArgs) -> anyhow::Result<u8> {
    let mut shards = Vec::new();
    let mut seen: Vec<Option<String>> = Vec::new();
    for (label, value) in results {
        let report: crate::stats::SweepReport =
            serde_json::from_value(value).map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        let Some(info) = &report.shard else {
            bail!("{label} is a whole sweep, not a shard of one (sweep --shard I/N)");
        };
        let shard: crate::model::Shard = info
            .shard
            .parse()
            .map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        if seen.is_empty() {
            seen = vec![None; shard.count as usize];
        }
        if seen.len() != shard.count as usize {
            bail!(
                "{label} is a shard of {} but the first result is one of {}: they are not one sweep",
                shard.count,
                seen.len()
            );
        }
        if let Some(other) = seen[shard.index as usize].replace(label.clone()) {
            bail!("{other} and {label} are both shard {shard}");
        }
        shards.push(report);
    }
    let merged = crate::sim::merge_sweeps(&shards).map_err(|e| anyhow::anyhow!("{e}"))?;
    let missing: Vec<String> = (0..seen.len())
        .filter(|&i| seen[i].is_none())
        .map(|i| format!("{i}/{}", seen.len()))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: shard(s) {} missing: their points are not in the merged sweep",
            missing.join(", ")
        );
    }
    let format = match args.format {
        super::args::LoadFormat::Text => crate::stats::OutputFormat::Text,
        super::args::LoadFormat::Json => crate::stats::OutputFormat::Json,
        super::args::LoadFormat::Csv => crate::stats::OutputFormat::Csv,
        super::args::LoadFormat::Hgrm => {
            bail!("--format hgrm is a load test's latency distribution; a sweep has curves")
        }
    };
    let mut bytes = Vec::new();
    crate::stats::write_sweep(&merged, format, &mut bytes).context("cannot format the sweep")?;
    super::emit(args.output.as_deref(), &bytes)?;
    Ok(super::exit::OK)
}

fn strip_place(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

fn decode(name: String, run: Run) -> anyhow::Result<Named> {
    let (Some(latency), Some(uncorrected)) = (&run.latency_hdr, &run.uncorrected_latency_hdr)
    else {
        bail!(
            "{name}: holds no histograms, so it cannot be merged exactly; write each result \
             with `archbench load ... --format json`"
        );
    };
    let latency = latency
        .decode()
        .map_err(|e| anyhow::anyhow!("{name}: latency_hdr: {e}"))?;
    let uncorrected = uncorrected
        .decode()
        .map_err(|e| anyhow::anyhow!("{name}: uncorrected_latency_hdr: {e}"))?;
    Ok(Named {
        name,
        run,
        latency,
        uncorrected,
    })
}

/// The runs' token timings added up, when they streamed LLM answers
/// (all of them, or none).
fn merge_llm(runs: &[Named], duration_s: f64) -> anyhow::Result<Option<LlmLoadReport>> {
    let streamed = runs.iter().filter(|r| r.run.llm.is_some()).count();
    if streamed == 0 {
        return Ok(None);
    }
    if streamed < runs.len() {
        bail!(
            "some results streamed LLM answers (load --llm) and some did not: they are not one test"
        );
    }
    let mut counts = (0, 0, 0);
    let mut histograms = [
        LatencyHistogram::coarse(),
        LatencyHistogram::coarse(),
        LatencyHistogram::coarse(),
    ];
    for named in runs {
        let Some(llm) = &named.run.llm else { continue };
        counts.0 += llm.sequences;
        counts.1 += llm.tokens_in;
        counts.2 += llm.tokens_out;
        for ((merged, encoded), field) in histograms
            .iter_mut()
            .zip([&llm.ttft_hdr, &llm.tpot_hdr, &llm.itl_hdr])
            .zip(["ttft_hdr", "tpot_hdr", "itl_hdr"])
        {
            let histogram = encoded
                .decode()
                .map_err(|e| anyhow::anyhow!("{}: llm.{field}: {e}", named.name))?;
            if merged.count() == 0 {
                *merged = histogram;
            } else {
                merged.merge(&histogram);
            }
        }
    }
    Ok(Some(LlmLoadReport::new(counts, histograms, duration_s)))
}

/// Checks that the results belong together, then adds them up.
fn merge(runs: &[Named], thresholds: &[Threshold]) -> anyhow::Result<LoadReport> {
    let Some(first) = runs.first() else {
        bail!("nothing to merge");
    };
    for other in &runs[1..] {
        if other.run.targets != first.run.targets {
            bail!(
                "{} drove {:?} but {} drove {:?}: only results of one test merge",
                first.name,
                first.run.targets,
                other.name,
                other.run.targets
            );
        }
        if other.latency.layout().1 != first.latency.layout().1 {
            bail!(
                "{} and {} record latency to different precisions; they cannot merge exactly",
                first.name,
                other.name
            );
        }
    }
    check_shards(runs)?;

    let mut latency = LatencyHistogram::new();
    let mut uncorrected = LatencyHistogram::new();
    let (mut errors, mut status) = (BTreeMap::new(), BTreeMap::new());
    let mut seconds: BTreeMap<u64, (u64, f64, u64, Option<f64>, LatencyHistogram)> =
        BTreeMap::new();
    for named in runs {
        latency.merge(&named.latency);
        uncorrected.merge(&named.uncorrected);
        for (k, n) in &named.run.errors {
            *errors.entry(k.clone()).or_insert(0) += n;
        }
        for (k, n) in &named.run.status {
            *status.entry(k.clone()).or_insert(0) += n;
        }
        for s in &named.run.intervals {
            let entry = seconds
                .entry(s.at)
                .or_insert_with(|| (0, 0.0, 0, None, LatencyHistogram::coarse()));
            entry.0 += s.requests;
            entry.1 += s.throughput_rps;
            entry.2 += s.errors;
            entry.3 = match (entry.3, s.steal_ms) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            if !s.latency_hdr.is_empty() {
                let second = crate::stats::hdr::decode(&s.latency_hdr).map_err(|e| {
                    anyhow::anyhow!("{}: second {}: latency_hdr: {e}", named.name, s.at)
                })?;
                entry.4.merge(&second);
            }
        }
    }
    let sum = |f: fn(&Run) -> u64| runs.iter().map(|r| f(&r.run)).sum::<u64>();
    let duration_s = runs
        .iter()
        .map(|r| r.run.duration_s)
        .fold(0.0, f64::max)
        .max(1e-3);
    let requests = sum(|r| r.requests);
    let thinks: Vec<f64> = runs.iter().filter_map(|r| r.run.think_ms).collect();
    let mut report = LoadReport {
        targets: first.run.targets.clone(),
        mode: format!(
            "{} results merged; the first: {}",
            runs.len(),
            first.run.mode
        ),
        duration_s,
        scheduled: sum(|r| r.scheduled),
        requests,
        dropped: sum(|r| r.dropped),
        throughput_rps: requests as f64 / duration_s,
        latency_ms: latency.summary(),
        by_target: Vec::new(),
        uncorrected_latency_ms: uncorrected.summary(),
        errors,
        status,
        bytes_sent: sum(|r| r.bytes_sent),
        bytes_received: sum(|r| r.bytes_received),
        generator_saturated: runs.iter().any(|r| r.run.generator_saturated),
        // The worst generator's: percentiles of separate machines' delays
        // do not add up.
        generator_lag_ms: LagSummary {
            p99: runs
                .iter()
                .map(|r| r.run.generator_lag_ms.p99)
                .fold(0.0, f64::max),
            max: runs
                .iter()
                .map(|r| r.run.generator_lag_ms.max)
                .fold(0.0, f64::max),
        },
        steal_ms: runs.iter().filter_map(|r| r.run.steal_ms).reduce(f64::max),
        sent_late: sum(|r| r.sent_late),
        think_ms: (!thinks.is_empty()).then(|| thinks.iter().sum::<f64>() / thinks.len() as f64),
        intervals: seconds
            .into_iter()
            .map(
                |(second, (requests, rps, errors, steal, h))| IntervalPoint {
                    second,
                    requests,
                    throughput_rps: rps,
                    p50_ms: h.quantile_ns(0.5) as f64 / 1e6,
                    p99_ms: h.quantile_ns(0.99) as f64 / 1e6,
                    max_ms: h.max_ns() as f64 / 1e6,
                    errors,
                    steal_ms: steal,
                    latency_hdr: if requests > 0 {
                        crate::stats::hdr::encode(&h)
                    } else {
                        String::new()
                    },
                },
            )
            .collect(),
        thresholds: Vec::new(),
        latency_hdr: EncodedHistogram::of(&latency),
        uncorrected_latency_hdr: EncodedHistogram::of(&uncorrected),
        shard: None,
        llm: merge_llm(runs, duration_s)?,
        latency,
        uncorrected_latency: uncorrected,
    };
    report.thresholds = thresholds
        .iter()
        .map(|t| loadgen::check(t, &report))
        .collect();
    Ok(report)
}

/// Shards of one run: all or none say their shard, of one count, started
/// at one instant, each index once.
fn check_shards(runs: &[Named]) -> anyhow::Result<()> {
    let sharded: Vec<(&Named, &ShardInfo)> = runs
        .iter()
        .filter_map(|r| r.run.shard.as_ref().map(|s| (r, s)))
        .collect();
    if sharded.is_empty() {
        return Ok(());
    }
    if sharded.len() != runs.len() {
        let plain = runs
            .iter()
            .find(|r| r.run.shard.is_none())
            .map_or("", |r| &r.name);
        bail!(
            "{plain} is not a shard, but {} is: they are not one run",
            sharded[0].0.name
        );
    }
    let parse = |(named, info): &(&Named, &ShardInfo)| -> anyhow::Result<loadgen::Shard> {
        info.shard
            .parse()
            .map_err(|e| anyhow::anyhow!("{}: {e}", named.name))
    };
    let first = parse(&sharded[0])?;
    let mut seen = vec![None; first.count as usize];
    for entry in &sharded {
        let shard = parse(entry)?;
        let (named, info) = entry;
        if shard.count != first.count {
            bail!(
                "{} is a shard of {} but {} of {}: they are not one run",
                sharded[0].0.name,
                first.count,
                named.name,
                shard.count
            );
        }
        if info.start_at_unix_ms != sharded[0].1.start_at_unix_ms {
            bail!(
                "{} and {} started at different instants (--start-at): they are not one run",
                sharded[0].0.name,
                named.name
            );
        }
        if let Some(other) = seen[shard.index as usize].replace(named.name.as_str()) {
            bail!("{other} and {} are both shard {shard}", named.name);
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{}", first.count))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: shard(s) {} missing: the merge covers {} of {} shares of the load",
            missing.join(", "),
            first.count as usize - missing.len(),
            first.count
        );
    }
    Ok(())
}
