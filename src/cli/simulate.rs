//! `archbench simulate FILE`: run the simulator and report.

use anyhow::{Context as _, bail};

use crate::model::{Project, StopCondition};
use crate::stats::{OutputFormat, write_report};

use super::args::SimulateArgs;
use super::{emit, exit, load_valid};

/// The validated form of [`SimulateArgs`].
struct SimulateConfig {
    project: Project,
    scenario: Option<String>,
    format: OutputFormat,
    output: Option<std::path::PathBuf>,
}

impl SimulateConfig {
    /// Applies the overrides to the loaded project, refusing impossible ones.
    fn new(args: SimulateArgs, mut project: Project) -> anyhow::Result<Self> {
        if let Some(seed) = args.seed {
            project.run.seed = seed;
        }
        if let Some(duration) = args.duration {
            if duration.as_nanos() == 0 {
                bail!("--duration must be above zero");
            }
            project.run.stop = StopCondition::Duration(duration);
        }
        if let Some(requests) = args.requests {
            if requests == 0 {
                bail!("--requests must be at least 1");
            }
            project.run.stop = StopCondition::Requests(requests);
        }
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
            format: args.format.into(),
            output: args.output,
        })
    }
}

/// Exit 0 on success, 1 when the file is invalid.
pub fn run(args: SimulateArgs) -> anyhow::Result<u8> {
    let Some(file) = load_valid(&args.file) else {
        return Ok(exit::FAILURE);
    };
    let config = SimulateConfig::new(args, file.project)?;
    let report = crate::sim::simulate(&config.project, config.scenario.as_deref())?;
    let mut bytes = Vec::new();
    write_report(&report, config.format, &mut bytes).context("cannot format the report")?;
    emit(config.output.as_deref(), &bytes)?;
    Ok(exit::OK)
}
