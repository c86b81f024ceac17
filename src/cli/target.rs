//! `archbench target`: serve HTTP on 127.0.0.1 until stopped.

use std::io::Write as _;

use anyhow::Context as _;

use crate::loadgen::{LlmTarget, TargetConfig, TargetServer};
use crate::model::{Distribution, ServiceKind};

use super::args::TargetArgs;
use super::exit;

/// Serves until the process is stopped; prints `listening on 127.0.0.1:PORT` when ready.
pub fn run(args: &TargetArgs) -> anyhow::Result<u8> {
    let service_time: Distribution = args
        .service_time
        .parse()
        .with_context(|| format!("--service-time {:?}", args.service_time))
        .map_err(super::usage)?;
    let config = TargetConfig {
        port: args.port,
        service_time,
        workers: args.workers,
        stall: args
            .stall
            .zip(args.every)
            .map(|(s, e)| (s.into(), e.into())),
        error_rate: args.error_rate,
        seed: args.seed,
        llm: match &args.llm {
            Some(path) => match llm_server(args, path)? {
                Some(llm) => Some(llm),
                None => return Ok(exit::FAILURE),
            },
            None => None,
        },
    };
    config.validate().map_err(|e| super::usage(e.into()))?;
    let server = TargetServer::start(&config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", server.address())?;
    out.flush()?;
    drop(out);
    server.wait();
    Ok(exit::OK)
}

/// The LLM server `--llm PROJECT` names (`--scenario`, `--service`), or
/// `None` when the project does not open (its problems printed).
fn llm_server(args: &TargetArgs, path: &std::path::Path) -> anyhow::Result<Option<LlmTarget>> {
    let Some(file) = super::load_valid(path) else {
        return Ok(None);
    };
    let project = &file.project;
    let scenario = match &args.scenario {
        Some(name) => project
            .scenario_index(name)
            .with_context(|| format!("{}: no scenario is called {name:?}", path.display()))
            .map_err(super::usage)?,
        None => 0,
    };
    let scenario = &project.scenarios[scenario];
    let service = scenario
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::LlmServer)
        .find(|s| args.service.as_ref().is_none_or(|name| s.name == *name));
    let Some(service) = service else {
        return Err(super::usage(anyhow::anyhow!(
            "{}: scenario {:?} has no LLM server{}",
            path.display(),
            scenario.name,
            args.service
                .as_ref()
                .map_or_else(String::new, |n| format!(" called {n:?}"))
        )));
    };
    let Some(serving) = service.llm.clone() else {
        anyhow::bail!("{}: {:?} has no llm settings", path.display(), service.name);
    };
    if serving.phase != crate::model::LlmPhase::Both {
        return Err(super::usage(anyhow::anyhow!(
            "{}: {:?} is one side of a prefill/decode split ({}); --llm serves a whole LLM server",
            path.display(),
            service.name,
            serving.phase.label()
        )));
    }
    Ok(Some(LlmTarget {
        serving,
        replicas: service.replicas,
    }))
}
