//! `archbench k8s load|sweep|emulate ARGS...`: prints the Kubernetes
//! manifests that run archbench's work on a cluster, to pipe into `kubectl
//! apply -f -`, with no coordinator of archbench's own:
//!
//! - `load` and `sweep`: an Indexed Job whose pods each run their shard
//!   (`--shard $(JOB_COMPLETION_INDEX)/N`; a load test's shards share one
//!   `--start-at`) and print their JSON result, which `kubectl logs ... |
//!   archbench merge -` adds up;
//! - `emulate`: a Deployment (the model's replicas) and a Service per
//!   modelled service, each pod running the emulator's one-service mode and
//!   calling its callees by their Services' DNS names.
//!
//! ARGS are the command's own, as `archbench load|sweep|emulate` takes
//! them (checked here by the same parser, so a mistake shows now, not in
//! forty pods), with this command's options anywhere among them.

mod manifest;
mod yaml;

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser as _;

use super::args::{Args, Command, K8sArgs, K8sWhat};
use super::{exit, usage};
use manifest::{Common, PORT, PROJECT_DIR, PROJECT_KEY, dns_label};
use yaml::Yaml;

/// The largest project a `ConfigMap` holds (Kubernetes allows 1 MiB in all).
const MAX_PROJECT_BYTES: usize = 900 * 1024;

/// This command's own options, taken out of ARGS.
struct Options {
    image: String,
    namespace: Option<String>,
    parallelism: Option<u32>,
    name: Option<String>,
    cpu: Option<String>,
    memory: Option<String>,
    start_in: Duration,
}

/// The options `k8s` takes, for the message that lists them.
const OPTIONS: &str = "--image IMAGE (required), --namespace NS, --parallelism N (load, sweep), \
                       --name NAME, --cpu CPU, --memory BYTES, --start-in DURATION (load)";

/// Exit 0 with the manifests on standard output; 2 on a wrong command line;
/// 1 on a project that cannot be read.
pub fn run(args: &K8sArgs) -> anyhow::Result<u8> {
    let mut rest = args.args.clone();
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        let mut help = <Args as clap::CommandFactory>::command();
        if let Some(k8s) = help.find_subcommand_mut("k8s") {
            let _ = k8s.print_long_help();
        }
        return Ok(exit::OK);
    }
    let options = options(&mut rest).map_err(usage)?;
    let what = args.what.name();
    let parsed = Args::try_parse_from(
        ["archbench", what]
            .into_iter()
            .map(str::to_owned)
            .chain(rest.iter().cloned()),
    )
    .map_err(|e| {
        usage(anyhow::anyhow!(
            "the arguments for `archbench {what}` in the pods: {}",
            e.render()
                .to_string()
                .trim_start_matches("error: ")
                .trim_end()
        ))
    })?;
    let text = match (args.what, parsed.command) {
        (K8sWhat::Load, Some(Command::Load(load))) => load_job(&options, rest, &load)?,
        (K8sWhat::Sweep, Some(Command::Sweep(sweep))) => sweep_job(&options, rest, &sweep)?,
        (K8sWhat::Emulate, Some(Command::Emulate(emulate))) => emulation(&options, rest, &emulate)?,
        _ => bail!("cannot read the arguments for `archbench {what}`"),
    };
    super::emit(None, text.as_bytes())?;
    Ok(exit::OK)
}

/// Takes this command's options out of `args`, wherever they are
/// (`--flag VALUE` or `--flag=VALUE`), leaving the command's own.
fn options(args: &mut Vec<String>) -> anyhow::Result<Options> {
    let mut take = |flag: &str| -> anyhow::Result<Option<String>> {
        let mut found = None;
        let mut i = 0;
        while i < args.len() {
            let value = if args[i] == flag {
                if i + 1 >= args.len() {
                    bail!("{flag} needs a value");
                }
                let value = args.remove(i + 1);
                args.remove(i);
                value
            } else if let Some(value) = args[i].strip_prefix(&format!("{flag}=")) {
                let value = value.to_owned();
                args.remove(i);
                value
            } else {
                i += 1;
                continue;
            };
            if found.replace(value).is_some() {
                bail!("{flag} is given twice");
            }
        }
        Ok(found)
    };
    let image = take("--image")?
        .with_context(|| format!("--image IMAGE is required (the options: {OPTIONS})"))?;
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        bail!("--image {image:?}: not an image reference");
    }
    let namespace = take("--namespace")?;
    if let Some(ns) = &namespace
        && dns_label(ns, 63).as_deref() != Some(ns.as_str())
    {
        bail!("--namespace {ns:?}: a namespace is a DNS label (lower-case letters, digits, -)");
    }
    let parallelism = take("--parallelism")?
        .map(|p| match p.parse::<u32>() {
            Ok(n) if (1..=crate::model::MAX_SHARDS).contains(&n) => Ok(n),
            _ => Err(anyhow::anyhow!(
                "--parallelism {p:?}: a whole number of pods from 1 to {}",
                crate::model::MAX_SHARDS
            )),
        })
        .transpose()?;
    let name = take("--name")?;
    if let Some(name) = &name
        && dns_label(name, 52).as_deref() != Some(name.as_str())
    {
        bail!(
            "--name {name:?}: lower-case letters, digits and -, starting with a letter, \
             at most 52 characters"
        );
    }
    let cpu = take("--cpu")?;
    if let Some(cpu) = &cpu
        && !is_quantity(cpu, &["m"])
    {
        bail!("--cpu {cpu:?}: a Kubernetes CPU quantity, like 2, 0.5 or 500m");
    }
    let memory = take("--memory")?;
    if let Some(memory) = &memory
        && !is_quantity(memory, &["Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T"])
    {
        bail!("--memory {memory:?}: a Kubernetes memory quantity, like 512Mi or 2Gi");
    }
    let start_in = match take("--start-in")? {
        Some(text) => text
            .parse::<crate::model::TimeSpan>()
            .map(Duration::from)
            .map_err(|e| anyhow::anyhow!("--start-in {text:?}: {e}"))?,
        None => Duration::from_mins(2),
    };
    Ok(Options {
        image,
        namespace,
        parallelism,
        name,
        cpu,
        memory,
        start_in,
    })
}

/// Whether `text` is a positive decimal number with one of `suffixes` or none.
fn is_quantity(text: &str, suffixes: &[&str]) -> bool {
    let number = suffixes
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .unwrap_or(text);
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.parse::<f64>().is_ok_and(|n| n > 0.0)
}

/// What a sharded Job's pods are given by the manifests, not by the user.
const SHARDED: &[(&str, &str)] = &[
    ("--shard", "one shard a pod"),
    ("--format", "the pods print JSON, for the merge"),
    (
        "--output",
        "the pods print their result, for `kubectl logs`",
    ),
    ("-o", "the pods print their result, for `kubectl logs`"),
];

/// The command line of a sharded Job's pods: `what`, the user's
/// arguments, and the shard and format every pod is given.
fn shard_args(what: &str, rest: Vec<String>, shards: u32) -> Vec<String> {
    let mut args = vec![what.to_owned()];
    args.extend(rest);
    args.extend([
        "--shard".to_owned(),
        format!("$(JOB_COMPLETION_INDEX)/{shards}"),
        "--format".to_owned(),
        "json".to_owned(),
    ]);
    args
}

/// Refuses the command's own options that the manifests set themselves.
fn refuse(rest: &[String], what: &str, flags: &[(&str, &str)]) -> anyhow::Result<()> {
    for (flag, why) in flags {
        if rest
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
        {
            return Err(usage(anyhow::anyhow!(
                "`k8s {what}` sets {flag} itself: {why}"
            )));
        }
    }
    Ok(())
}

/// Reads and checks the project `path`, for its `ConfigMap`; replaces its
/// path in `rest` with where the pods find it.
fn project(rest: &mut [String], path: &str) -> anyhow::Result<(String, crate::model::Project)> {
    let Some(file) = super::load_valid(std::path::Path::new(path)) else {
        bail!("{path}: not a valid project, so no manifests");
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    if text.len() > MAX_PROJECT_BYTES {
        bail!(
            "{path}: {} bytes, more than a ConfigMap holds ({MAX_PROJECT_BYTES})",
            text.len()
        );
    }
    if let Some(slot) = rest.iter_mut().find(|a| a.as_str() == path) {
        *slot = format!("{PROJECT_DIR}/{PROJECT_KEY}");
    }
    Ok((text, file.project))
}

fn common<'a>(options: &'a Options, name: &'a str, component: &'a str) -> Common<'a> {
    let (cpu, memory) = match component {
        "emulate" => ("1", "256Mi"),
        _ => ("2", "1Gi"),
    };
    Common {
        name,
        namespace: options.namespace.as_deref(),
        image: &options.image,
        cpu: options.cpu.as_deref().unwrap_or(cpu),
        memory: options.memory.as_deref().unwrap_or(memory),
        component,
    }
}

/// `-n NS ` for the printed kubectl commands, when a namespace was given.
fn namespace_flag(options: &Options) -> String {
    options
        .namespace
        .as_ref()
        .map_or_else(String::new, |ns| format!("-n {ns} "))
}

/// The documents, each after `---`, behind a header of comments.
fn documents(header: &str, objects: &[Yaml]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    for object in objects {
        out.push_str("---\n");
        out.push_str(&object.document());
    }
    out
}

/// How to collect an Indexed Job's results and merge them.
fn collect_instructions(options: &Options, job: &str, pods: u32, merge_flags: &str) -> String {
    let ns = namespace_flag(options);
    let logs = if pods > 5 {
        format!(" --max-log-requests={pods}")
    } else {
        String::new()
    };
    format!(
        "Apply, wait for every shard, then merge their results (each pod prints its JSON):\n\
         \x20 archbench k8s ... | kubectl apply -f -\n\
         \x20 kubectl {ns}wait --for=condition=complete job/{job} --timeout=24h\n\
         \x20 kubectl {ns}logs -l job-name={job} --tail=-1{logs} | archbench merge -{merge_flags}\n\
         A shard that failed shows in `kubectl {ns}get pods -l job-name={job}`; the merge names\n\
         any missing one. Remove everything with:\n\
         \x20 kubectl {ns}delete job,configmap -l app.kubernetes.io/instance={job}\n"
    )
}

fn load_job(
    options: &Options,
    mut rest: Vec<String>,
    load: &super::args::LoadArgs,
) -> anyhow::Result<String> {
    refuse(&rest, "load", SHARDED)?;
    let shards = options.parallelism.unwrap_or(1);
    // Thresholds hold on the whole load, not on a shard: the merge checks them.
    let mut merge_flags = String::new();
    for threshold in &load.thresholds {
        let _ = write!(merge_flags, " --threshold '{threshold}'");
    }
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == "--threshold" {
            rest.drain(i..(i + 2).min(rest.len()));
        } else if rest[i].starts_with("--threshold=") {
            rest.remove(i);
        } else {
            i += 1;
        }
    }
    let is_url = load.target.starts_with("http://") || load.target.starts_with("https://");
    let project_text = if is_url {
        let host = load
            .target
            .split("://")
            .nth(1)
            .and_then(|r| r.split(['/', ':']).next())
            .unwrap_or_default();
        if host == "localhost" || host.starts_with("127.") || host == "[" {
            eprintln!(
                "warning: {} is the pod's own loopback: in a pod it reaches nothing of yours",
                load.target
            );
        }
        None
    } else {
        Some(project(&mut rest, &load.target)?.0)
    };
    let start_at = if let Some(text) = &load.start_at {
        super::time::rfc3339(text)
            .map_err(|m| usage(anyhow::anyhow!("--start-at {text:?}: {m}")))?;
        text.clone()
    } else {
        #[expect(
            clippy::disallowed_methods,
            reason = "the start is a wall-clock instant"
        )]
        let now = std::time::SystemTime::now();
        let text = super::time::format_rfc3339(now + options.start_in);
        rest.extend(["--start-at".to_owned(), text.clone()]);
        text
    };
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| "archbench-load".into());
    let common = common(options, &name, "load");
    let pod_args = shard_args("load", rest, shards);
    let mut objects = Vec::new();
    if let Some(text) = &project_text {
        objects.push(common.config_map(text));
    }
    objects.push(common.indexed_job(&pod_args, shards, project_text.is_some()));
    let header = format!(
        "archbench k8s load: {shards} shard(s) of `archbench load {}`, every one starting at\n\
         {start_at} (a pod that starts later begins at once, out of step: give more lead with\n\
         --start-in or --start-at).\n\n{}",
        load.target,
        collect_instructions(options, &name, shards, &merge_flags)
    );
    Ok(documents(&header, &objects))
}

fn sweep_job(
    options: &Options,
    mut rest: Vec<String>,
    sweep: &super::args::SweepArgs,
) -> anyhow::Result<String> {
    refuse(&rest, "sweep", SHARDED)?;
    refuse(
        &rest,
        "sweep",
        &[("--fail-on-slo", "a shard holds some points only")],
    )?;
    if sweep.rate.as_deref().map(str::trim) == Some("auto") {
        return Err(usage(anyhow::anyhow!(
            "--rate auto chooses each round's rates from the last round's results, so it \
             cannot be split into shards: give the range (A..B)"
        )));
    }
    let path = sweep.file.to_string_lossy().into_owned();
    let (text, _) = project(&mut rest, &path)?;
    let shards = options.parallelism.unwrap_or(1);
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| "archbench-sweep".into());
    let common = common(options, &name, "sweep");
    let pod_args = shard_args("sweep", rest, shards);
    let objects = [
        common.config_map(&text),
        common.indexed_job(&pod_args, shards, true),
    ];
    let header = format!(
        "archbench k8s sweep: {shards} shard(s) of `archbench sweep {path}`; shard I runs\n\
         points I, I + {shards}, I + 2 x {shards}, ... of the whole sweep.\n\n{}",
        collect_instructions(options, &name, shards, "")
    );
    Ok(documents(&header, &objects))
}

fn emulation(
    options: &Options,
    mut rest: Vec<String>,
    emulate: &super::args::EmulateArgs,
) -> anyhow::Result<String> {
    refuse(
        &rest,
        "emulate",
        &[
            ("--service", "a Deployment per service"),
            ("--listen", "every pod listens on port 8080"),
            ("--peer", "the callees are the services' DNS names"),
            ("--replicas", "one replica a pod, the model's count of pods"),
            ("--port", "every pod listens on port 8080"),
            ("--duration", "a Deployment runs until deleted"),
            ("--traces", "the pods' file systems are read-only"),
        ],
    )?;
    if options.parallelism.is_some() {
        return Err(usage(anyhow::anyhow!(
            "--parallelism: an emulation runs the model's replicas of each service"
        )));
    }
    let path = emulate.file.to_string_lossy().into_owned();
    let (text, project) = project(&mut rest, &path)?;
    let index = super::scenario_index(&project, emulate.scenario.as_deref())?;
    let scenario = &project.scenarios[index];
    let unsupported = crate::loadgen::emulate::unsupported(&project, index);
    if !unsupported.is_empty() {
        let lines: Vec<String> = unsupported.iter().map(ToString::to_string).collect();
        bail!("{}", lines.join("\n"));
    }
    let default_name = dns_label(&project.name, 40).unwrap_or_else(|| "archbench".into());
    let name = options.name.clone().unwrap_or(default_name);
    let common = common(options, &name, "emulate");
    // Each service's DNS name: its own name made a DNS label, told apart
    // from the others' by a number if two come out the same.
    let mut names: Vec<String> = Vec::new();
    for service in &scenario.services {
        let base = dns_label(&service.name, 55).unwrap_or_else(|| "service".into());
        let mut dns = base.clone();
        let mut n = 2;
        while names.contains(&dns) {
            dns = format!("{base}-{n}");
            n += 1;
        }
        names.push(dns);
    }
    let dns_of = |service: &str| {
        scenario
            .services
            .iter()
            .position(|s| s.name == service)
            .map(|i| names[i].as_str())
    };
    let mut objects = vec![common.config_map(&text)];
    let mut table = String::new();
    for (service, dns) in scenario.services.iter().zip(&names) {
        let mut args = vec!["emulate".to_owned()];
        args.extend(rest.iter().cloned());
        args.extend([
            "--service".to_owned(),
            service.name.clone(),
            "--listen".to_owned(),
            format!("0.0.0.0:{PORT}"),
            "--replicas".to_owned(),
            "1".to_owned(),
        ]);
        if emulate.seed.is_none() {
            // Each pod its own draws: replicas in separate pods would
            // otherwise draw the same service times.
            args.extend(["--seed".to_owned(), "$(POD_NAME)".to_owned()]);
        }
        let mut callees: Vec<&str> = scenario
            .links
            .iter()
            .filter(|link| link.from == service.name)
            .map(|link| link.to.as_str())
            .collect();
        callees.dedup();
        callees.sort_unstable();
        callees.dedup();
        for callee in callees {
            if let Some(callee_dns) = dns_of(callee) {
                args.extend([
                    "--peer".to_owned(),
                    format!("{callee}=http://{callee_dns}:{PORT}"),
                ]);
            }
        }
        objects.extend(common.emulated_service(dns, service.replicas, &args));
        let _ = writeln!(
            table,
            "  {:<24} {:>3} pod(s)  http://{dns}:{PORT}/",
            service.name, service.replicas
        );
    }
    let ns = namespace_flag(options);
    let mut entries = String::new();
    for class in &project.workload.classes {
        if let Some(dns) = dns_of(&class.entry) {
            let _ = writeln!(
                entries,
                "  class {:?}: http://{dns}:{PORT}/ with the header '{}: {}'",
                class.name,
                crate::loadgen::emulate::CLASS_HEADER,
                crate::loadgen::emulate::header_value(&class.name)
            );
        }
    }
    let header = format!(
        "archbench k8s emulate: scenario {:?} of {path}, one Deployment (a pod a replica,\n\
         each running `archbench emulate --service NAME`) and one Service per service:\n\
         {table}\n\
         Requests enter at:\n{entries}\n\
         Apply, and wait until every pod is ready:\n\
         \x20 archbench k8s emulate ... | kubectl apply -f -\n\
         \x20 kubectl {ns}wait --for=condition=available deployment -l app.kubernetes.io/instance={name} --timeout=10m\n\
         Drive it from the cluster (`archbench k8s load http://ENTRY:{PORT}/ --header ... --image ...`),\n\
         and read each service's counters at http://SERVICE:{PORT}{}. Remove it with:\n\
         \x20 kubectl {ns}delete deployment,service,configmap -l app.kubernetes.io/instance={name}\n",
        scenario.name,
        crate::loadgen::emulate::STATS_PATH
    );
    Ok(documents(&header, &objects))
}
