//! `archbench validate FILE`: the prediction for a scenario against a
//! measurement of the same scenario emulated as real services.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::loadgen;
use crate::loadgen::emulate::{self, EmulateConfig, Emulation};
use crate::model::{Arrivals, Project, StopCondition, TimeSpan, Validated};
use crate::sim::{SweepAxis, SweepSpec};
use crate::stats::{Tolerance, ValidationReport, compare, write_validation};

use super::args::{ValidateArgs, ValidateFormat};
use super::scenario_index;
use super::{emit, exit, load_valid};

/// The load asked for.
struct Load {
    /// The total open rate; `None` for a closed workload.
    rate: Option<f64>,
    /// With `--load`: (fraction, maximum sustainable throughput).
    of_max: Option<(f64, f64)>,
}

/// `0.6` or `60%`: above 0, at most 1.5 (a load past the maximum shows
/// how both sides break).
fn parse_load(text: &str) -> anyhow::Result<f64> {
    let value = match text.trim().strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.trim().parse::<f64>(),
    }
    .with_context(|| format!("--load {text:?}: write a fraction like 0.6 or 60%"))?;
    if !(value > 0.0 && value <= 1.5) {
        bail!("--load {text:?}: the fraction of the maximum must be above 0 and at most 1.5");
    }
    Ok(value)
}

/// The rate to run at: as given, or a fraction of the maximum a sweep finds.
fn load(args: &ValidateArgs, project: &Project, index: usize) -> anyhow::Result<Load> {
    let open = matches!(project.workload.arrivals, Arrivals::Open { .. });
    match (args.rate, &args.load, open) {
        (Some(rate), None, true) => Ok(Load {
            rate: Some(rate),
            of_max: None,
        }),
        (None, Some(text), true) => {
            let fraction = parse_load(text).map_err(super::usage)?;
            eprintln!(
                "finding the maximum sustainable throughput of {:?}…",
                project.scenarios[index].name
            );
            let spec = SweepSpec {
                axis: SweepAxis::RateAuto { steps: 10 },
                scenario: Some(project.scenarios[index].name.clone()),
                threads: 0,
                shard: None,
            };
            let mut quick = project.clone();
            quick.run.stop = StopCondition::Duration(TimeSpan::from_secs_f64(30.0));
            quick.run.precision = None;
            let sweep = crate::sim::sweep(&quick, &spec, &AtomicBool::new(false))?;
            let max = sweep
                .scenarios
                .first()
                .and_then(|s| s.max_throughput_rps)
                .context("the sweep found no sustainable load to take a fraction of")?;
            Ok(Load {
                rate: Some(fraction * max),
                of_max: Some((fraction, max)),
            })
        }
        (None, None, false) => Ok(Load {
            rate: None,
            of_max: None,
        }),
        (None, None, true) => Err(super::usage(anyhow::anyhow!(
            "say what load to validate at: --rate RPS or --load 0.6 (a fraction of the maximum)"
        ))),
        (_, _, false) => Err(super::usage(anyhow::anyhow!(
            "--rate and --load apply to open workloads; this project's workload is closed \
             (its users and think time are used as they are)"
        ))),
        (Some(_), Some(_), true) => unreachable!("clap keeps --rate and --load apart"),
    }
}

/// Exit 0 when every tolerance holds, 3 when one does not, 1 on bad input.
pub fn run(args: &ValidateArgs) -> anyhow::Result<u8> {
    let Some(file) = load_valid(&args.file) else {
        return Ok(exit::FAILURE);
    };
    let mut project = file.project;
    let index = scenario_index(&project, args.scenario.as_deref())?;
    let refused = emulate::unsupported(&project, index);
    if !refused.is_empty() {
        for problem in &refused {
            eprintln!("{}: {problem}", args.file.display());
        }
        eprintln!("the scenario cannot be emulated; nothing was run");
        return Ok(exit::FAILURE);
    }
    let tolerances = match &args.tolerance {
        Some(text) => Tolerance::parse_list(text)
            .map_err(|m| super::usage(anyhow::anyhow!("--tolerance: {m}")))?,
        None => Vec::new(),
    };
    let duration: Duration = args.duration.into();
    if duration < Duration::from_secs(1) {
        return Err(super::usage(anyhow::anyhow!(
            "--duration must be at least 1s, got {}",
            args.duration
        )));
    }
    let warmup: Duration = args.warmup.map_or_else(
        || (duration / 10).clamp(Duration::from_secs(2), Duration::from_secs(10)),
        Into::into,
    );
    if let Some(seed) = args.seed {
        project.run.seed = seed;
    }
    let load = load(args, &project, index)?;
    if let Some(rate) = load.rate {
        project.workload.scale_to_rate(rate);
    }
    project.run.stop = StopCondition::Duration(args.duration);
    project.run.warmup = Some(TimeSpan::from_nanos(
        u64::try_from(warmup.as_nanos()).unwrap_or(u64::MAX),
    ));
    project.run.replications = args.replications;
    project.run.max_replications = project.run.max_replications.max(args.replications);
    project.run.precision = None;
    let Ok(valid) = Validated::new(&project) else {
        bail!("the project is not valid at this load");
    };

    eprintln!("simulating {:?}…", project.scenarios[index].name);
    let predicted = crate::sim::simulate_scenario(&project, index)?;

    let emulation = Emulation::start(
        valid,
        index,
        &EmulateConfig {
            seed: project.run.seed,
            base_port: None,
            threads: None,
            traces: None,
            only: None,
        },
    )
    .with_context(|| {
        format!(
            "cannot emulate scenario {:?}",
            project.scenarios[index].name
        )
    })?;
    let plan = emulation
        .load_plan(&project, warmup + duration, warmup, args.connections)
        .map_err(|e| super::usage(e.into()))?;
    eprintln!(
        "emulating {} services on 127.0.0.1 and measuring for {:.0} s after {:.0} s of warm-up…",
        project.scenarios[index].services.len(),
        duration.as_secs_f64(),
        warmup.as_secs_f64()
    );
    let handle = loadgen::start(plan)?;
    // The schedule starts 20 ms after the handle; the services' counters
    // start afresh where the load generator starts measuring.
    if !warmup.is_zero() {
        std::thread::sleep(warmup + Duration::from_millis(20));
        emulation.restart_counters();
    }
    let measured = handle.join()?;
    let services = emulation.stats();
    emulation.stop();

    let (classes, services) = compare(&predicted, &measured, &services);
    let mut report = ValidationReport {
        scenario: predicted.scenario.clone(),
        offered_rps: load.rate,
        load_fraction: load.of_max.map(|(f, _)| f),
        max_throughput_rps: load.of_max.map(|(_, m)| m),
        duration_s: measured.duration_s,
        warmup_s: warmup.as_secs_f64(),
        seed: project.run.seed,
        replications: predicted.replications,
        classes,
        services,
        tolerances: Vec::new(),
        pass: true,
        measured_failures: measured.errors.values().sum(),
        generator_saturated: measured.generator_saturated,
        steal_ms: measured.steal_ms,
        predicted_saturated: predicted.saturated,
    };
    report.check(&tolerances);
    let mut bytes = Vec::new();
    write_validation(&report, args.format == ValidateFormat::Json, &mut bytes)
        .context("cannot format the report")?;
    emit(args.output.as_deref(), &bytes)?;
    Ok(if report.pass {
        exit::OK
    } else {
        exit::SLO_FAILED
    })
}
