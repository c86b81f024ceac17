//! `archbench emulate FILE`: run a scenario as real services on 127.0.0.1.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;

use crate::loadgen::emulate::{EmulateConfig, Emulation, OneService, parse_peer};
use crate::model::Validated;

use super::args::EmulateArgs;
use super::{exit, load_valid, scenario_index};

/// Serves until Ctrl+C (exit 130) or the end of `--duration` (exit 0).
pub fn run(args: &EmulateArgs) -> anyhow::Result<u8> {
    let Some(file) = load_valid(&args.file) else {
        return Ok(exit::FAILURE);
    };
    let mut project = file.project;
    let index = scenario_index(&project, args.scenario.as_deref())?;
    let only = match &args.service {
        None => None,
        Some(service) => {
            let peers = args
                .peers
                .iter()
                .map(|p| parse_peer(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| super::usage(anyhow::anyhow!(m)))?;
            if let Some(replicas) = args.replicas {
                let scenario = &mut project.scenarios[index];
                let Some(at) = scenario.service_index(service) else {
                    return Err(super::usage(anyhow::anyhow!(
                        "--service {service:?}: scenario {:?} has no such service",
                        scenario.name
                    )));
                };
                scenario.services[at].replicas = replicas;
            }
            Some(OneService {
                service: service.clone(),
                listen: args
                    .listen
                    .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
                peers,
            })
        }
    };
    let project = &project;
    let Ok(valid) = Validated::new(project) else {
        return Ok(exit::FAILURE);
    };
    let config = EmulateConfig {
        seed: args.seed.unwrap_or(project.run.seed),
        base_port: args.port,
        threads: args.threads.map(|t| t as usize),
        traces: args.traces.clone(),
        only,
    };
    let mut emulation = Emulation::start(valid, index, &config).with_context(|| {
        format!(
            "cannot emulate scenario {:?}",
            project.scenarios[index].name
        )
    })?;
    let mut out = std::io::stdout().lock();
    match &config.only {
        None => writeln!(out, "scenario {:?} on 127.0.0.1", emulation.scenario())?,
        Some(one) => {
            writeln!(
                out,
                "scenario {:?}: service {:?} only",
                emulation.scenario(),
                one.service
            )?;
            for (name, address) in &one.peers {
                writeln!(out, "calls {name:?} at http://{address}/")?;
            }
        }
    }
    writeln!(out, "{:<24} {:>8}  url", "service", "replica")?;
    for listener in emulation.listeners() {
        let replica = listener
            .replica
            .map_or_else(|| "balancer".to_owned(), |r| r.to_string());
        writeln!(
            out,
            "{:<24} {:>8}  http://{}/",
            listener.service, replica, listener.address
        )?;
    }
    for entry in emulation.entries() {
        writeln!(
            out,
            "class {:?} enters at {}: {}",
            entry.class, entry.service, entry.url
        )?;
    }
    writeln!(
        out,
        "counters: GET {{url}}{} on any of them",
        &crate::loadgen::emulate::STATS_PATH[1..]
    )?;
    out.flush()?;
    drop(out);
    let interrupted = wait(args.duration.map(Into::into))?;
    let listeners = emulation.listeners().len();
    if let (Some(written), Some(path)) = (emulation.finish_traces(), &args.traces) {
        let (spans, dropped) =
            written.with_context(|| format!("cannot write traces to {}", path.display()))?;
        eprintln!("wrote {spans} spans to {}", path.display());
        if dropped > 0 {
            eprintln!("warning: {dropped} spans dropped: the trace writer fell behind");
        }
    }
    emulation.stop();
    if interrupted {
        eprintln!("interrupted: closed all {listeners} listeners");
        return Ok(exit::INTERRUPTED);
    }
    Ok(exit::OK)
}

/// Waits for Ctrl+C (true) or the end of `duration` (false).
pub(crate) fn wait(duration: Option<Duration>) -> anyhow::Result<bool> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot wait for Ctrl+C")?;
    Ok(runtime.block_on(async {
        let end = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = tokio::signal::ctrl_c() => signal.is_ok(),
            () = end => false,
        }
    }))
}
