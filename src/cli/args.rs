//! The raw command line, as clap parses it. Nothing here is validated beyond
//! its type; see each subcommand for the checks.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::TimeSpan;
use crate::stats::OutputFormat;

/// Design, simulate and compare service architectures.
#[derive(Debug, Parser)]
#[command(name = "archbench", version, about, long_about = None)]
pub struct Args {
    /// What to do; with none, print this help.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a project file and list every problem (exit 1 if any).
    Check(CheckArgs),
    /// Simulate a project and report latency, throughput and utilisation.
    Simulate(SimulateArgs),
}

/// `archbench check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The project file (.ron).
    pub file: PathBuf,
}

/// `archbench simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The project file (.ron).
    pub file: PathBuf,
    /// Only this scenario (default: all of them).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Seed for every random stream (default: the project's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated time to measure after the warm-up, like 60s.
    #[arg(long, conflicts_with = "requests")]
    pub duration: Option<TimeSpan>,
    /// Requests to measure after the warm-up.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Scale the open workload to this total rate (requests per second).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of stdout (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Report formats on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for people.
    Text,
    /// The stable schema of docs/results-format.md.
    Json,
    /// One row per scenario and class or service.
    Csv,
}

impl From<Format> for OutputFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Text => Self::Text,
            Format::Json => Self::Json,
            Format::Csv => Self::Csv,
        }
    }
}
