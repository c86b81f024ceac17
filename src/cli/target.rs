//! `archbench target`: serve HTTP on 127.0.0.1 until stopped.

use std::io::Write as _;

use anyhow::Context as _;

use crate::loadgen::{TargetConfig, TargetServer};
use crate::model::Distribution;

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
