//! `archbench simulate FILE`: run the simulator and report.

use anyhow::{Context as _, bail};

use crate::model::Project;
use crate::stats::{OutputFormat, write_report};

use super::args::SimulateArgs;
use super::{emit, exit, load_valid, overrides};

/// The validated form of [`SimulateArgs`].
struct SimulateConfig {
    project: Project,
    scenario: Option<String>,
    format: OutputFormat,
    output: Option<std::path::PathBuf>,
    fail_on_slo: bool,
}

impl SimulateConfig {
    /// Applies the overrides to the loaded project, refusing impossible ones.
    fn new(args: SimulateArgs, mut project: Project) -> anyhow::Result<Self> {
        overrides::apply(&args.run, &mut project)?;
        if let Some(rate) = args.rate {
            if !rate.is_finite() || rate <= 0.0 {
                bail!("--rate must be a positive number of requests per second, got {rate}");
            }
            if !project.workload.scale_to_rate(rate) {
                bail!(
                    "--rate applies to open workloads; this project's workload is closed (users and think time)"
                );
            }
        }
        if let Some(name) = &args.scenario
            && project.scenario_index(name).is_none()
        {
            let names: Vec<&str> = project.scenarios.iter().map(|s| s.name.as_str()).collect();
            bail!(
                "no scenario is called {name:?}; the project has {}",
                names.join(", ")
            );
        }
        Ok(Self {
            project,
            scenario: args.scenario,
            format: args.report.format.into(),
            output: args.report.output,
            fail_on_slo: args.fail_on_slo,
        })
    }
}

/// Exit 0 on success, 1 when the file is invalid, 3 when `--fail-on-slo`
/// and an objective is missed.
pub fn run(args: SimulateArgs) -> anyhow::Result<u8> {
    let Some(file) = load_valid(&args.file) else {
        return Ok(exit::FAILURE);
    };
    let config = SimulateConfig::new(args, file.project).map_err(super::usage)?;
    let report = {
        let progress = super::progress::Progress::start(super::progress::Counting {
            what: "simulate",
            unit: None,
        });
        crate::sim::simulate_with_progress(
            &config.project,
            config.scenario.as_deref(),
            &mut |fraction| progress.set(fraction, 1.0),
        )?
    };
    let mut bytes = Vec::new();
    write_report(&report, config.format, &mut bytes).context("cannot format the report")?;
    emit(config.output.as_deref(), &bytes)?;
    let missed = report.scenarios.iter().any(|s| !s.slo_pass);
    Ok(if config.fail_on_slo && missed {
        exit::SLO_FAILED
    } else {
        exit::OK
    })
}
