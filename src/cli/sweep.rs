//! `archbench sweep FILE`: simulate across loads or replica counts.

use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, bail};

use crate::model::{Arrivals, Project};
use crate::sim::{SweepAxis, SweepSpec};
use crate::stats::{OutputFormat, SweepReport, write_sweep};

use super::args::SweepArgs;
use super::{emit, exit, load_valid, overrides};

/// The validated form of [`SweepArgs`].
struct SweepConfig {
    project: Project,
    spec: SweepSpec,
    format: OutputFormat,
    output: Option<std::path::PathBuf>,
    fail_on_slo: bool,
}

impl SweepConfig {
    fn new(args: SweepArgs, mut project: Project) -> anyhow::Result<Self> {
        overrides::apply(&args.run, &mut project)?;
        if args.steps < 2 || args.steps > 1000 {
            bail!("--steps must be between 2 and 1000, got {}", args.steps);
        }
        let axis = match (&args.replicas, &args.rate) {
            (Some(replicas), rate) => {
                let (service, range) = replicas.split_once('=').with_context(|| {
                    format!("--replicas {replicas:?}: write SERVICE=A..B, like api=1..8")
                })?;
                let (from, to) = parse_range::<u32>(range)
                    .with_context(|| format!("--replicas {replicas:?}"))?;
                if from == 0 || to < from || to > crate::model::validate::limits::REPLICAS {
                    bail!("--replicas {replicas:?}: the range must rise from at least 1");
                }
                let rate = match rate {
                    None => None,
                    Some(text) => Some(parse_rate(text)?),
                };
                SweepAxis::Replicas {
                    service: service.trim().to_owned(),
                    from,
                    to,
                    rate,
                }
            }
            (None, Some(rate)) if rate.trim() == "auto" => {
                SweepAxis::RateAuto { steps: args.steps }
            }
            (None, Some(rate)) => {
                let (from, to) = parse_range::<f64>(rate)
                    .with_context(|| format!("--rate {rate:?}: write A..B or auto"))?;
                SweepAxis::Rate {
                    from,
                    to,
                    steps: args.steps,
                }
            }
            (None, None) => {
                bail!("say what to sweep: --rate A..B, --rate auto, or --replicas SERVICE=A..B")
            }
        };
        let shard = args
            .shard
            .as_deref()
            .map(str::parse::<crate::model::Shard>)
            .transpose()?;
        Ok(Self {
            project,
            spec: SweepSpec {
                axis,
                scenario: args.scenario,
                threads: args.threads,
                shard,
            },
            format: args.report.format.into(),
            output: args.report.output,
            fail_on_slo: args.fail_on_slo,
        })
    }
}

fn parse_range<T: std::str::FromStr>(text: &str) -> anyhow::Result<(T, T)>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let (from, to) = text.split_once("..").context("expected A..B")?;
    Ok((from.trim().parse()?, to.trim().parse()?))
}

fn parse_rate(text: &str) -> anyhow::Result<f64> {
    let rate: f64 = text
        .trim()
        .parse()
        .with_context(|| format!("--rate {text:?}"))?;
    if !(rate.is_finite() && rate > 0.0) {
        bail!("--rate must be a positive number of requests per second, got {text}");
    }
    Ok(rate)
}

/// Whether some scenario misses an objective at the project's own load: for
/// a rate sweep at any point up to the project's rate, for a replicas sweep
/// at the highest replica count.
fn misses_objectives(project: &Project, report: &SweepReport) -> bool {
    let own_rate = match &project.workload.arrivals {
        Arrivals::Open { rate_rps, .. } => *rate_rps,
        Arrivals::Closed { .. } => f64::INFINITY,
    };
    report.scenarios.iter().any(|scenario| {
        if report.axis == "rate" {
            scenario
                .points
                .iter()
                .filter(|p| p.offered_rps <= own_rate * (1.0 + 1e-9))
                .any(|p| !p.slo_pass)
        } else {
            scenario.points.last().is_some_and(|p| !p.slo_pass)
        }
    })
}

/// Exit 0 on success, 1 on invalid input, 3 on a missed objective with `--fail-on-slo`.
pub fn run(args: SweepArgs) -> anyhow::Result<u8> {
    let Some(file) = load_valid(&args.file) else {
        return Ok(exit::FAILURE);
    };
    let config = SweepConfig::new(args, file.project).map_err(super::usage)?;
    let report = {
        let points = std::sync::Arc::new(crate::sim::SweepProgress::default());
        let _progress = super::progress::Progress::follow_sweep(
            super::progress::Counting {
                what: "sweep",
                unit: Some("points"),
            },
            std::sync::Arc::clone(&points),
        );
        crate::sim::sweep_with_progress(
            &config.project,
            &config.spec,
            &AtomicBool::new(false),
            &points,
        )
        .map_err(|error| match error {
            // Asked for what the project cannot do: the command line is wrong.
            crate::sim::SimError::Sweep(_) | crate::sim::SimError::UnknownScenario { .. } => {
                super::usage(error.into())
            }
            other => other.into(),
        })?
    };
    let mut bytes = Vec::new();
    write_sweep(&report, config.format, &mut bytes).context("cannot format the report")?;
    emit(config.output.as_deref(), &bytes)?;
    // A shard holds some points only: the objectives are checked on the merge.
    let failed = config.fail_on_slo
        && config.spec.shard.is_none()
        && misses_objectives(&config.project, &report);
    Ok(if failed { exit::SLO_FAILED } else { exit::OK })
}
