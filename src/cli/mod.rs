//! The headless front end: `archbench check`, `import`, `calibrate`, `simulate`, `sweep`, and with
//! the `loadgen` feature `load` and `target`.
//!
//! Arguments are parsed in two steps: [`args`] holds the raw flags as clap
//! sees them, and each subcommand turns them into a validated config before
//! doing any work. Errors travel as `anyhow` chains and are printed once, here.

mod args;
mod check;
#[cfg(feature = "loadgen")]
mod emulate;
mod import;
#[cfg(feature = "loadgen")]
mod k8s;
#[cfg(feature = "loadgen")]
mod load;
#[cfg(feature = "loadgen")]
mod merge;
mod overrides;
mod progress;
mod simulate;
mod sweep;
#[cfg(feature = "loadgen")]
mod target;
#[cfg(feature = "loadgen")]
mod time;
#[cfg(feature = "loadgen")]
mod validate;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser as _;

pub use args::{Args, Command};

/// Exit codes, as documented in the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The input is invalid or the run failed.
    pub const FAILURE: u8 = 1;
    /// The command line is wrong.
    pub const USAGE: u8 = 2;
    /// A latency objective was missed (with `--fail-on-slo`), or a
    /// measurement missed its tolerance (`validate`).
    pub const SLO_FAILED: u8 = 3;
    /// Stopped by Ctrl+C (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: u8 = 130;
}

/// A wrong command line found after parsing (an impossible value, a
/// missing option, a flag that does not fit the project): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub(crate) struct Usage(anyhow::Error);

/// Marks an error as a wrong command line.
pub(crate) fn usage(error: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(Usage(error))
}

/// Parses the process arguments. On `--help`, `--version` or a usage error
/// it prints and returns the exit code to end with.
pub fn parse() -> Result<Args, ExitCode> {
    Args::try_parse().map_err(|error| {
        // clap prints help and version to stdout and exits 0 for them,
        // and usage errors to stderr with exit code 2.
        let _ = error.print();
        ExitCode::from(if error.use_stderr() {
            exit::USAGE
        } else {
            exit::OK
        })
    })
}

/// Runs parsed arguments, printing errors to stderr.
pub fn run(args: Args) -> ExitCode {
    let result = match args.command {
        None if args.open.is_some() => {
            let _ = writeln!(
                std::io::stderr(),
                "error: opening a project needs the app; this build has no `gui` feature \
                 (try `archbench check FILE` or `archbench simulate FILE`)"
            );
            Ok(exit::USAGE)
        }
        None => {
            let mut help = <Args as clap::CommandFactory>::command();
            let _ = help.print_help();
            Ok(exit::OK)
        }
        Some(Command::Check(check)) => Ok(check::run(&check)),
        Some(Command::Import(import)) => import::run(&import),
        Some(Command::Calibrate(calibrate)) => import::calibrate(&calibrate),
        Some(Command::Simulate(simulate)) => simulate::run(simulate),
        Some(Command::Sweep(sweep)) => sweep::run(sweep),
        #[cfg(feature = "loadgen")]
        Some(Command::Load(load)) => load::run(&load),
        #[cfg(feature = "loadgen")]
        Some(Command::Merge(merge)) => merge::run(&merge),
        #[cfg(feature = "loadgen")]
        Some(Command::Target(target)) => target::run(&target),
        #[cfg(feature = "loadgen")]
        Some(Command::K8s(k8s)) => k8s::run(&k8s),
        #[cfg(feature = "loadgen")]
        Some(Command::Emulate(emulate)) => emulate::run(&emulate),
        #[cfg(feature = "loadgen")]
        Some(Command::Validate(validate)) => validate::run(&validate),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(if error.is::<Usage>() {
                exit::USAGE
            } else {
                exit::FAILURE
            })
        }
    }
}

/// Loads and validates a project file. On any problem, prints every message
/// (`file:line:column` for syntax, `file: place: message` for validation) and
/// returns `None`.
pub(crate) fn load_valid(path: &Path) -> Option<crate::model::ProjectFile> {
    let error = match crate::model::file::load_valid(path) {
        Ok(file) => return Some(file),
        Err(error) => error,
    };
    for line in error.lines() {
        eprintln!("{line}");
    }
    if let crate::model::OpenError::Invalid { .. } = error {
        // The count, after the problems.
        eprintln!("{error}");
    }
    None
}

/// Writes `bytes` to `path` atomically, or to stdout when there is no path.
pub(crate) fn emit(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if let Some(path) = path {
        return crate::model::file::write_atomically(path, bytes)
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")
}

/// The scenario named on the command line, or the first.
pub(crate) fn scenario_index(
    project: &crate::model::Project,
    name: Option<&str>,
) -> anyhow::Result<usize> {
    use anyhow::Context as _;
    match name {
        Some(name) => project
            .scenario_index(name)
            .with_context(|| format!("--scenario: no scenario is called {name:?}"))
            .map_err(usage),
        None => Ok(0),
    }
}
