//! `archbench load TARGET`: drive real endpoints and measure them.

use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::loadgen::{self, LoadPlan, Pacing, RequestSpec, Shard, Target, Threshold};
use crate::model::{ArrivalProcess, Arrivals, Distribution, Project, StopCondition, TokenCount};
use crate::stats::{OutputFormat, write_hgrm, write_load};

use super::args::{LoadArgs, LoadFormat};
use super::{emit, exit, load_valid};

/// The timeout of a streamed LLM answer when none is given: long answers
/// take tens of seconds.
pub const LLM_TIMEOUT: Duration = Duration::from_mins(2);

/// Builds the plan for a URL.
fn url_plan(args: &LoadArgs) -> anyhow::Result<(Vec<Target>, Pacing, Duration)> {
    let body = match &args.body {
        Some(text) => match text.strip_prefix('@') {
            Some(path) => {
                std::fs::read(path).with_context(|| format!("cannot read the body from {path}"))?
            }
            None => text.clone().into_bytes(),
        },
        None => Vec::new(),
    };
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .with_context(|| format!("--header {h:?}: write it as 'Name: value'"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target = Target::new(&RequestSpec {
        url: args.target.clone(),
        method: if args.llm {
            "POST".into()
        } else {
            args.method.clone()
        },
        headers,
        body,
        weight: 1.0,
    })?;
    let pacing = match (args.rate, args.users) {
        (Some(rate), _) => {
            let mut pacing = loadgen::constant_rate(rate, args.connections);
            if let Pacing::Open { process, .. } = &mut pacing {
                *process = match args.arrivals.as_str() {
                    "constant" => ArrivalProcess::Constant,
                    "poisson" => ArrivalProcess::Poisson,
                    other => match other.strip_prefix("gamma:").map(str::parse::<f64>) {
                        Some(Ok(cv)) if (0.05..=100.0).contains(&cv) => {
                            ArrivalProcess::Gamma { cv }
                        }
                        _ => bail!(
                            "--arrivals {other:?}: write constant, poisson or gamma:CV \
                             (the gaps' coefficient of variation, 0.05 to 100)"
                        ),
                    },
                };
            }
            pacing
        }
        (None, Some(users)) => Pacing::Closed {
            users,
            think: think(args.think.as_deref())?,
        },
        (None, None) => bail!(
            "say how to load {}: --rate RPS (open loop) or --users N (closed loop)",
            args.target
        ),
    };
    let Some(duration) = args.duration else {
        bail!("--duration is required, like --duration 30s");
    };
    Ok((vec![target], pacing, duration.into()))
}

fn think(text: Option<&str>) -> anyhow::Result<Distribution> {
    let think: Distribution = text
        .unwrap_or("0ms")
        .parse()
        .with_context(|| format!("--think {}", text.unwrap_or("0ms")))?;
    think.check().map_err(|m| anyhow::anyhow!("--think: {m}"))?;
    Ok(think)
}

/// Builds the plan for a project: its workload against its entry services' endpoints.
fn project_plan(
    args: &LoadArgs,
    project: &Project,
) -> anyhow::Result<(Vec<Target>, Pacing, Duration)> {
    let index = match &args.scenario {
        Some(name) => project
            .scenario_index(name)
            .with_context(|| format!("no scenario is called {name:?}"))
            .map_err(super::usage)?,
        None => 0,
    };
    let targets = loadgen::project_targets(project, index)?;
    let mut workload = project.workload.clone();
    if let Some(rate) = args.rate
        && !workload.scale_to_rate(rate)
    {
        return Err(super::usage(anyhow::anyhow!(
            "--rate applies to open workloads; this project's workload is closed"
        )));
    }
    let pacing = match (&workload.arrivals, args.users) {
        (_, Some(users)) => Pacing::Closed {
            users,
            think: think(args.think.as_deref()).map_err(super::usage)?,
        },
        (Arrivals::Open { process, .. }, None) => Pacing::Open {
            process: *process,
            segments: workload.rate_segments(),
            connections: args.connections,
            seed: project.run.seed,
        },
        (Arrivals::Closed { users, think_time }, None) => Pacing::Closed {
            users: *users,
            think: think_time.clone(),
        },
    };
    let duration = match (args.duration, project.run.stop) {
        (Some(d), _) | (None, StopCondition::Duration(d)) => d.into(),
        (None, StopCondition::Requests(_)) => {
            return Err(super::usage(anyhow::anyhow!(
                "the project stops by request count; give --duration"
            )));
        }
    };
    Ok((targets, pacing, duration))
}

/// Exit 0 on success, 1 on bad input, 3 when a threshold fails.
pub fn run(args: &LoadArgs) -> anyhow::Result<u8> {
    let is_url = args.target.starts_with("http://") || args.target.starts_with("https://");
    if !is_url && let Some((scheme, _)) = args.target.split_once("://") {
        return Err(super::usage(anyhow::anyhow!(
            "cannot load {}: only http:// and https:// URLs can be loaded (not {scheme}://), \
             or give a project file",
            args.target
        )));
    }
    let (targets, mut pacing, duration, llm) = if is_url {
        let (targets, pacing, duration) = url_plan(args).map_err(super::usage)?;
        (targets, pacing, duration, llm_requests(args, None)?)
    } else {
        let Some(file) = load_valid(std::path::Path::new(&args.target)) else {
            return Ok(exit::FAILURE);
        };
        let (targets, pacing, duration) = project_plan(args, &file.project)?;
        let llm = llm_requests(args, Some(&file.project))?;
        (targets, pacing, duration, llm)
    };
    let shard = args
        .shard
        .as_deref()
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(|e| super::usage(e.into()))?;
    let start_at = args
        .start_at
        .as_deref()
        .map(|text| {
            super::time::rfc3339(text).map_err(|m| anyhow::anyhow!("--start-at {text:?}: {m}"))
        })
        .transpose()
        .map_err(super::usage)?;
    if let (Some(shard), Pacing::Closed { users, .. }) = (shard, &mut pacing) {
        let users_here = shard.users(*users);
        if users_here == 0 {
            return Err(super::usage(anyhow::anyhow!(
                "--shard {shard}: {users} users cannot be shared among {} shards",
                shard.count
            )));
        }
        *users = users_here;
    }
    let thresholds = thresholds(&args.thresholds)?;
    let plan = LoadPlan {
        targets,
        pacing,
        duration,
        precise: args.precise,
        warmup: Duration::ZERO,
        timeout: args.timeout.map_or(
            if args.llm {
                LLM_TIMEOUT
            } else {
                Duration::from_secs(10)
            },
            Into::into,
        ),
        http2: args.http2,
        insecure: args.insecure,
        thresholds,
        threads: args.threads,
        shard,
        start_at,
        llm,
    };
    plan.validate().map_err(|e| super::usage(e.into()))?;
    let report = loadgen::run(plan)?;
    finish(&report, args.format, args.output.as_deref())
}

/// With `--llm`, what each request asks for: the lengths given, or else
/// the first of the project's classes with token lengths, or else 512 and
/// 128 tokens.
fn llm_requests(
    args: &LoadArgs,
    project: Option<&Project>,
) -> anyhow::Result<Option<loadgen::LlmRequests>> {
    if !args.llm {
        return Ok(None);
    }
    let class = project.and_then(|p| p.workload.classes.iter().find_map(|c| c.tokens.as_ref()));
    let lengths =
        |given: &Option<String>, flag: &str, of_class: Option<&TokenCount>, default| match given {
            Some(text) => text
                .parse::<TokenCount>()
                .map_err(|m| super::usage(anyhow::anyhow!("{flag} {m}"))),
            None => Ok(of_class.cloned().unwrap_or_else(|| default_tokens(default))),
        };
    Ok(Some(loadgen::LlmRequests {
        prompt: lengths(
            &args.prompt_tokens,
            "--prompt-tokens",
            class.map(|t| &t.prompt),
            512,
        )?,
        max_tokens: lengths(
            &args.max_tokens,
            "--max-tokens",
            class.map(|t| &t.output),
            128,
        )?,
        model: args.model.clone(),
    }))
}

fn default_tokens(tokens: u32) -> TokenCount {
    tokens
        .to_string()
        .parse()
        .unwrap_or_else(|_| unreachable!("a whole number of tokens parses"))
}

/// `--threshold` flags, read (a bad one is a usage error).
pub(super) fn thresholds(texts: &[String]) -> anyhow::Result<Vec<Threshold>> {
    texts
        .iter()
        .map(|t| t.parse::<Threshold>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| super::usage(e.into()))
}

/// Writes `report` in `format` to `output` (or stdout), and gives the exit
/// code: `load`'s ending, and `merge`'s.
pub(super) fn finish(
    report: &crate::stats::LoadReport,
    format: LoadFormat,
    output: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let mut bytes = Vec::new();
    match format {
        LoadFormat::Hgrm => write_hgrm(&report.latency, &mut bytes),
        LoadFormat::Text => write_load(report, OutputFormat::Text, &mut bytes),
        LoadFormat::Json => write_load(report, OutputFormat::Json, &mut bytes),
        LoadFormat::Csv => write_load(report, OutputFormat::Csv, &mut bytes),
    }
    .context("cannot format the report")?;
    emit(output, &bytes)?;
    Ok(exit_code(report))
}

/// Exit 1 when not one request had a good answer (the run measured
/// nothing, whatever else it says), else 3 when a threshold failed, else 0.
pub(super) fn exit_code(report: &crate::stats::LoadReport) -> u8 {
    let server_errors = report.errors.get("http_5xx").copied().unwrap_or(0);
    let failed: u64 = report.errors.values().sum();
    if report.requests == server_errors && failed > 0 {
        let mut failures: Vec<(&String, &u64)> =
            report.errors.iter().filter(|(_, n)| **n > 0).collect();
        failures.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let listed: Vec<String> = failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
        eprintln!(
            "error: every request failed ({}); nothing was measured",
            listed.join(", ")
        );
        return exit::FAILURE;
    }
    if report.thresholds.iter().all(|t| t.pass) {
        exit::OK
    } else {
        exit::SLO_FAILED
    }
}
