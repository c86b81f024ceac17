//! The raw command line, as clap parses it. Nothing here is validated beyond
//! its type; see each subcommand for the checks.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::TimeSpan;
use crate::stats::OutputFormat;

/// Design, simulate and compare service architectures.
#[derive(Debug, Parser)]
#[command(name = "archbench", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// What to do; with none, open the app (or print this help in a build
    /// without the app).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A project to open in the app.
    #[arg(value_name = "FILE")]
    pub open: Option<std::path::PathBuf>,
    /// Start simulating as soon as the app opens (for demonstrations).
    #[arg(long)]
    pub simulate: bool,
    /// Save a plot as PNG, then close the app: PLOT=PATH, where PLOT is
    /// latency-histogram, percentile-spectrum, utilisation,
    /// over-time:{throughput,p99,errors,replicas,queue-depth,lag},
    /// latency-vs-load or throughput-vs-load. Repeatable. Needs a display
    /// (Xvfb will do).
    #[arg(long, value_name = "PLOT=PATH")]
    pub figure: Vec<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a project file and list every problem (exit 1 if any).
    Check(CheckArgs),
    /// Build a project from distributed traces (OTLP JSON, Jaeger JSON or
    /// Zipkin v2 JSON): services, calls, service times and the workload.
    Import(ImportArgs),
    /// Update a project's service times, call probabilities, counts and
    /// latencies from distributed traces, and print what changed.
    Calibrate(CalibrateArgs),
    /// Simulate a project and report latency, throughput and utilisation.
    Simulate(SimulateArgs),
    /// Simulate at many loads (or replica counts) and report the curves,
    /// the maximum sustainable throughput and the knee.
    Sweep(SweepArgs),
    /// Drive a real HTTP endpoint (or a project's endpoints) at a set rate
    /// or with a set number of users, and measure it.
    #[cfg(feature = "loadgen")]
    Load(LoadArgs),
    /// Add up the JSON results of a sharded load test (`load --shard I/N
    /// --format json`), histograms bucket for bucket, and check thresholds
    /// on the merge; or put a sharded sweep's points back together.
    #[cfg(feature = "loadgen")]
    Merge(MergeArgs),
    /// Serve HTTP on 127.0.0.1 with a chosen service time, to aim `load` at.
    #[cfg(feature = "loadgen")]
    Target(TargetArgs),
    /// Print Kubernetes manifests that run a load test or a sweep as an
    /// Indexed Job of shards, or an emulation as a Deployment and a Service
    /// per modelled service (pipe them into `kubectl apply -f -`).
    #[cfg(feature = "loadgen")]
    K8s(K8sArgs),
    /// Run a scenario as real HTTP services on 127.0.0.1, each replica on
    /// its own port, behaving as the model says, until Ctrl+C; or one
    /// service of it (--service), as each pod of `k8s emulate` does.
    #[cfg(feature = "loadgen")]
    Emulate(EmulateArgs),
    /// Simulate a scenario at a load, emulate it on 127.0.0.1, drive it
    /// with the project's workload, and print predicted against measured.
    #[cfg(feature = "loadgen")]
    Validate(ValidateArgs),
}

/// `archbench validate`.
#[cfg(feature = "loadgen")]
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The project file (.ron).
    pub file: PathBuf,
    /// The scenario to validate (default: the first).
    #[arg(long)]
    pub scenario: Option<String>,
    /// The total open rate, requests per second.
    #[arg(long, conflicts_with = "load", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// A fraction of the scenario's maximum sustainable throughput, found
    /// by a sweep: 0.6 or 60%.
    #[arg(long)]
    pub load: Option<String>,
    /// How long to measure, like 60s.
    #[arg(long)]
    pub duration: TimeSpan,
    /// Load sent first and not measured (default: a tenth of the duration,
    /// from 2s to 10s).
    #[arg(long)]
    pub warmup: Option<TimeSpan>,
    /// Simulated replications behind the prediction.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub replications: u32,
    /// Seed of the simulation and the emulated services (default: the project's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The largest relative errors allowed, like 'p99=20%,p50=10%'; exit 3
    /// when one is exceeded. Metrics: throughput, mean, p50, p90, p99,
    /// p999, utilization, `service_p99`.
    #[arg(long)]
    pub tolerance: Option<String>,
    /// Connections sending the open-loop schedule.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
    /// Write the report here instead of stdout (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Report formats of `validate`.
#[cfg(feature = "loadgen")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Tables for people.
    Text,
    /// The schema of docs/results-format.md.
    Json,
}

/// `archbench emulate`.
#[cfg(feature = "loadgen")]
#[derive(Debug, clap::Args)]
pub struct EmulateArgs {
    /// The project file (.ron).
    pub file: PathBuf,
    /// The scenario to run (default: the first).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Seed for every service's draws (default: the project's): a number,
    /// or any other text, hashed (a pod's name: `k8s emulate` gives each
    /// pod its own, so replicas in separate pods draw apart).
    #[arg(long, value_parser = seed_or_text)]
    pub seed: Option<u64>,
    /// The first port: listeners take consecutive ports from it (default:
    /// free ports the system chooses).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Event-loop threads serving every service (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: Option<u32>,
    /// Stop after this long, like 60s (default: run until Ctrl+C).
    #[arg(long)]
    pub duration: Option<TimeSpan>,
    /// Write every request's spans to this file as OpenTelemetry JSON Lines
    /// (OTLP, one `TracesData` a line), finished when the emulation stops.
    #[arg(long, value_name = "FILE")]
    pub traces: Option<PathBuf>,
    /// Run this service only (one process per service, as on a cluster):
    /// its replicas behind one listener, calling the others at --peer.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// With --service: where to listen (default 127.0.0.1:0, a free port).
    #[arg(
        long,
        value_name = "ADDR",
        requires = "service",
        conflicts_with = "port"
    )]
    pub listen: Option<std::net::SocketAddr>,
    /// With --service: a service it calls and where, like
    /// database=http://database:8080. Repeatable; every callee needs one.
    #[arg(long = "peer", value_name = "NAME=URL", requires = "service")]
    pub peers: Vec<String>,
    /// With --service: run this many replicas here instead of the model's
    /// (1 in a Kubernetes pod, whose Deployment has the model's count).
    #[arg(long, requires = "service", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub replicas: Option<u32>,
}

/// `archbench load`.
#[cfg(feature = "loadgen")]
#[derive(Debug, clap::Args)]
#[expect(clippy::struct_excessive_bools, reason = "command-line flags")]
pub struct LoadArgs {
    /// A URL (http:// or https://), or a project file whose entry services
    /// have endpoints.
    pub target: String,
    /// Open loop: requests per second on a fixed schedule (for a project,
    /// scales its workload to this total).
    #[arg(long, conflicts_with = "users", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Closed loop: this many users, each waiting for its answer.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub users: Option<u32>,
    /// Closed loop: each user's pause between requests, like 100ms or exp:1s.
    #[arg(long, requires = "users")]
    pub think: Option<String>,
    /// How long to run, like 30s (at most 24h).
    #[arg(long)]
    pub duration: Option<TimeSpan>,
    /// Connections sending the open-loop schedule.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Per-request timeout, the whole answer included (default 10s, or
    /// 120s with --llm: a long answer streams for a while).
    #[arg(long)]
    pub timeout: Option<TimeSpan>,
    /// Send each request on time to the microsecond, on a timer thread,
    /// instead of to tokio's millisecond (which sends requests due in the
    /// same millisecond together: burstier than asked for).
    #[arg(long)]
    pub precise: bool,
    /// Threads sending requests, each with its own event loop (default: one
    /// per core, or half the cores when the target is on this machine)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// HTTP method (for a URL).
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value`; values may use `${ENV_VAR}`. Repeatable.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// The request body, or @FILE to read it from a file.
    #[arg(long)]
    pub body: Option<String>,
    /// Speak HTTP/2.
    #[arg(long)]
    pub http2: bool,
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long)]
    pub insecure: bool,
    /// For a project: the scenario whose endpoints to drive (default: the first).
    #[arg(long)]
    pub scenario: Option<String>,
    /// A check on the result, like p99<200ms or errors<1%; exit 3 if one fails. Repeatable.
    #[arg(long = "threshold")]
    pub thresholds: Vec<String>,
    /// Send only share INDEX of COUNT of the load (0/4 to 3/4), for a run
    /// from several machines whose JSON results `archbench merge` adds up.
    #[arg(long)]
    pub shard: Option<String>,
    /// Start the schedule at this instant (RFC 3339, like
    /// 2026-12-02T10:00:00Z), so that every shard starts together.
    #[arg(long)]
    pub start_at: Option<String>,
    /// For a URL with --rate: the spacing of the schedule's requests,
    /// `constant` (evenly spaced), `poisson`, or `gamma:CV` (Gamma gaps of
    /// this coefficient of variation: above 1, bursty).
    #[arg(long, default_value = "constant", requires = "rate")]
    pub arrivals: String,
    /// Stream completions from an OpenAI-compatible endpoint
    /// (/v1/completions, or /v1/chat/completions) and time each streamed
    /// token: TTFT, TPOT, inter-token latency and tokens per second.
    #[arg(long)]
    pub llm: bool,
    /// With --llm: prompt lengths in tokens, a distribution like 512,
    /// exp:200 or lognormal:1000,p99=4000 (default: the project's class
    /// lengths, or 512 for a URL).
    #[arg(long, requires = "llm")]
    pub prompt_tokens: Option<String>,
    /// With --llm: `max_tokens` of each request, a distribution (default:
    /// the project's class lengths, or 128 for a URL).
    #[arg(long, requires = "llm")]
    pub max_tokens: Option<String>,
    /// With --llm: the `model` field of each request.
    #[arg(long, default_value = "archbench", requires = "llm")]
    pub model: String,
    /// Output format; hgrm is `HdrHistogram`'s percentile distribution.
    #[arg(long, value_enum, default_value_t = LoadFormat::Text)]
    pub format: LoadFormat,
    /// Write the report here instead of stdout (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Report formats of `load`.
#[cfg(feature = "loadgen")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LoadFormat {
    /// Tables for people.
    Text,
    /// The schema of docs/results-format.md.
    Json,
    /// One row per second.
    Csv,
    /// `HdrHistogram`'s percentile distribution of the corrected latency.
    Hgrm,
}

/// `archbench merge`.
#[cfg(feature = "loadgen")]
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Result files of `load --format json` or `sweep --shard I/N --format
    /// json`, or - for standard input (several results one after another).
    #[arg(required = true)]
    pub results: Vec<String>,
    /// A check on the merged result, like p99<200ms or errors<1%; exit 3 if
    /// one fails. Repeatable.
    #[arg(long = "threshold")]
    pub thresholds: Vec<String>,
    /// Output format, as `load`'s.
    #[arg(long, value_enum, default_value_t = LoadFormat::Text)]
    pub format: LoadFormat,
    /// Write the report here instead of stdout (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// `archbench k8s`.
#[cfg(feature = "loadgen")]
#[derive(Debug, clap::Args)]
pub struct K8sArgs {
    /// What the pods run.
    #[arg(value_enum)]
    pub what: K8sWhat,
    /// The command's own arguments, as `archbench load|sweep|emulate` takes
    /// them, and anywhere among them: --image IMAGE (required; see the
    /// Dockerfile), --namespace NS, --parallelism N (load and sweep: the
    /// shards, one a pod; default 1), --name NAME (of the Job, or of the
    /// emulation's objects' instance label), --cpu CPU and --memory BYTES
    /// (each pod's request and limit: default 2 and 1Gi, emulated services
    /// 1 and 256Mi), --start-in DURATION (load: when the shards start,
    /// from now; default 2m; or the command's own --start-at).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// What `archbench k8s` runs on the cluster.
#[cfg(feature = "loadgen")]
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum K8sWhat {
    /// A load test from N pods (an Indexed Job), merged exactly.
    Load,
    /// A sweep split over N pods (an Indexed Job), merged exactly.
    Sweep,
    /// The drawn architecture, a Deployment and a Service per service.
    Emulate,
}

#[cfg(feature = "loadgen")]
impl K8sWhat {
    /// The subcommand the pods run.
    pub fn name(self) -> &'static str {
        match self {
            Self::Load => "load",
            Self::Sweep => "sweep",
            Self::Emulate => "emulate",
        }
    }
}

/// `archbench target`.
#[cfg(feature = "loadgen")]
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Service time per request, in the project file's syntax (exp:5ms, …).
    #[arg(long, default_value = "0ms")]
    pub service_time: String,
    /// Requests served at once.
    #[arg(long, default_value_t = 64)]
    pub workers: u32,
    /// Stall completely for this long…
    #[arg(long, requires = "every")]
    pub stall: Option<TimeSpan>,
    /// …at the end of every period this long.
    #[arg(long, requires = "stall")]
    pub every: Option<TimeSpan>,
    /// Fraction of requests answered with status 500.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Seed for the service-time and error draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Serve OpenAI-compatible completions (/v1/completions and
    /// /v1/chat/completions, streamed as server-sent events or not) as
    /// this project's LLM server would: its replicas batch continuously,
    /// with the simulator's rules and step times.
    #[arg(long, value_name = "PROJECT")]
    pub llm: Option<PathBuf>,
    /// With --llm: the scenario (default: the first).
    #[arg(long, requires = "llm")]
    pub scenario: Option<String>,
    /// With --llm: the LLM server (default: the scenario's first).
    #[arg(long, requires = "llm")]
    pub service: Option<String>,
}

/// `archbench import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Trace files, each OTLP JSON (or JSON Lines), Jaeger JSON or Zipkin
    /// v2 JSON, told apart by content.
    #[arg(required = true, value_name = "TRACES")]
    pub traces: Vec<PathBuf>,
    /// Write the project here (atomically) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The project's name.
    #[arg(long)]
    pub name: Option<String>,
}

/// `archbench calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The project file (.ron).
    pub file: PathBuf,
    /// Trace files, as `import` reads them.
    #[arg(long, required = true, num_args = 1.., value_name = "TRACES")]
    pub traces: Vec<PathBuf>,
    /// The scenario to calibrate (default: the first).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Write the calibrated project here (atomically; it may be FILE
    /// itself). Without it, only the changes are printed.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
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
    /// Scale the open workload to this total rate (requests per second).
    #[arg(long, value_parser = positive_rate)]
    pub rate: Option<f64>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Exit with code 3 when a latency objective is missed.
    #[arg(long)]
    pub fail_on_slo: bool,
}

/// Run overrides shared by `simulate` and `sweep`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Seed for every random stream (default: the project's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated time to measure after the warm-up, like 60s.
    #[arg(long, conflicts_with = "requests")]
    pub duration: Option<TimeSpan>,
    /// Requests to measure after the warm-up.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Independent replications (default: the project's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub replications: Option<u32>,
    /// Add replications until the 95% interval of p99 is within this much,
    /// like 2% (at least ten replications).
    #[arg(long)]
    pub precision: Option<String>,
    /// Warm-up to discard, like 10s; `auto` chooses it by MSER-5.
    #[arg(long)]
    pub warmup: Option<String>,
}

/// `archbench sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The project file (.ron).
    pub file: PathBuf,
    /// Total rates to sweep, `A..B` (requests per second) or `auto`; with
    /// `--replicas`, the one rate to hold.
    #[arg(long)]
    pub rate: Option<String>,
    /// Sweep a service's replica count instead: `SERVICE=A..B`.
    #[arg(long)]
    pub replicas: Option<String>,
    /// Points in the sweep (for `auto`, per round).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: u32,
    /// Only this scenario (default: all of them).
    #[arg(long)]
    pub scenario: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Threads to run points on (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Run only share INDEX of COUNT of the points (0/3 to 2/3): every
    /// COUNT-th point from the INDEX-th. `archbench merge` puts the
    /// shards' JSON results together into the whole sweep.
    #[arg(long)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Exit with code 3 when a scenario misses a latency objective at the
    /// project's own rate or below (for a replicas sweep, at the most replicas).
    #[arg(long)]
    pub fail_on_slo: bool,
}

/// Where and how `simulate` and `sweep` write their report.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
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

/// A seed: a number, or a text's FNV-1a hash (fixed forever).
#[cfg(feature = "loadgen")]
fn seed_or_text(text: &str) -> Result<u64, String> {
    if text.is_empty() {
        return Err("a seed is a number or some text".into());
    }
    Ok(text.parse().unwrap_or_else(|_| crate::sim::rng_hash(text)))
}

/// A rate in requests per second: a finite number above zero. A wrong one
/// is a command-line error (exit 2), named as the user wrote it.
fn positive_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of requests per second"))?;
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(format!(
            "a rate must be a finite number above 0 requests per second, got {text:?}"
        ))
    }
}
