//! `archbench k8s load|sweep|emulate`: the manifests hold the model (a
//! Deployment per service with its replicas, each calling its callees by
//! their Services' names), and the commands they give the pods, run here as
//! processes, do what the cluster's pods would: a sweep's shards merge into
//! the unsharded sweep. The schema check is `.ci/k8s-manifests`.

use std::process::{Command, Output};

fn archbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .output()
        .unwrap()
}

fn manifests(args: &[&str]) -> String {
    let out = archbench(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The documents of `kind`, as text.
fn of_kind<'a>(text: &'a str, kind: &str) -> Vec<&'a str> {
    text.split("\n---\n")
        .filter(|doc| doc.contains(&format!("\nkind: {kind}\n")))
        .collect()
}

/// The value of the first `key: value` line in `doc`, unquoted.
fn field<'a>(doc: &'a str, key: &str) -> &'a str {
    doc.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {doc}"))
        .trim_matches('"')
}

/// The container's arguments in a document (its `args:` list).
fn args(doc: &str) -> Vec<String> {
    let mut lines = doc.lines().skip_while(|l| l.trim() != "args:").skip(1);
    let mut args = Vec::new();
    for line in lines.by_ref() {
        let Some(item) = line.trim().strip_prefix("- ") else {
            break;
        };
        args.push(if item.starts_with('"') {
            serde_json::from_str(item).unwrap()
        } else {
            item.to_owned()
        });
    }
    args
}

#[test]
fn an_emulation_is_a_deployment_per_service_with_the_models_replicas_calling_by_name() {
    let text = manifests(&[
        "k8s",
        "emulate",
        "projects/three-tier.ron",
        "--image",
        "registry.example/archbench:1",
    ]);
    let project =
        archbench::model::file::load_valid(std::path::Path::new("projects/three-tier.ron"))
            .unwrap()
            .project;
    let scenario = &project.scenarios[0];
    let deployments = of_kind(&text, "Deployment");
    assert_eq!(deployments.len(), scenario.services.len());
    assert_eq!(of_kind(&text, "Service").len(), scenario.services.len());
    for (service, doc) in scenario.services.iter().zip(&deployments) {
        assert_eq!(field(doc, "name"), service.name);
        assert_eq!(field(doc, "replicas"), service.replicas.to_string());
        let args = args(doc);
        let pair = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .map(|i| args[i + 1].as_str())
        };
        assert_eq!(pair("--service"), Some(service.name.as_str()), "{args:?}");
        assert_eq!(pair("--listen"), Some("0.0.0.0:8080"));
        assert_eq!(pair("--replicas"), Some("1"), "a pod is a replica");
        assert_eq!(pair("--seed"), Some("$(POD_NAME)"), "each pod draws apart");
        assert_eq!(args[1], "/project/project.ron");
        // Exactly its callees, each at its Service's DNS name.
        let mut peers: Vec<&str> = args
            .iter()
            .enumerate()
            .filter(|(_, a)| *a == "--peer")
            .map(|(i, _)| args[i + 1].as_str())
            .collect();
        let mut expected: Vec<String> = scenario
            .links
            .iter()
            .filter(|l| l.from == service.name)
            .map(|l| format!("{}=http://{}:8080", l.to, l.to))
            .collect();
        peers.sort_unstable();
        expected.sort_unstable();
        assert_eq!(peers, expected, "{}", service.name);
    }
    assert!(text.contains("class \"page\": http://load-balancer:8080/"));
    // A pod's name as a seed, as Kubernetes puts it in.
    let out = archbench(&[
        "emulate",
        "projects/three-tier.ron",
        "--service",
        "database",
        "--seed",
        "database-7f9c4-x2k8p",
        "--duration",
        "200ms",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_pods_of_a_sweep_job_run_as_processes_merge_into_the_whole_sweep() {
    let _cpu = crate::support::cpu_heavy();
    let sweep = ["--rate", "500..3000", "--steps", "6", "--duration", "3s"];
    let mut k8s = vec![
        "k8s",
        "sweep",
        "projects/three-tier.ron",
        "--image",
        "registry.example/archbench:1",
        "--parallelism",
        "3",
    ];
    k8s.extend(sweep);
    let text = manifests(&k8s);
    let job = of_kind(&text, "Job")[0];
    assert_eq!(field(job, "completions"), "3");
    assert_eq!(field(job, "parallelism"), "3");
    let pod_args = args(job);
    let mut results = String::new();
    for index in 0..3 {
        // What Kubernetes does: the index in, the project where it is mounted.
        let args: Vec<String> = pod_args
            .iter()
            .map(|a| {
                a.replace("$(JOB_COMPLETION_INDEX)", &index.to_string())
                    .replace("/project/project.ron", "projects/three-tier.ron")
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = archbench(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        results.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    let dir = std::env::temp_dir().join(format!("archbench-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let logs = dir.join("logs.json");
    std::fs::write(&logs, results).unwrap();
    let merged = archbench(&["merge", logs.to_str().unwrap(), "--format", "json"]);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let mut whole = vec!["sweep", "projects/three-tier.ron", "--format", "json"];
    whole.extend(sweep);
    let whole = archbench(&whole);
    assert!(whole.status.success() && whole.stdout.len() > 1000);
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&whole.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_load_job_shares_one_start_and_leaves_thresholds_to_the_merge() {
    let text = manifests(&[
        "k8s",
        "load",
        "https://api.example/",
        "--rate",
        "20000",
        "--duration",
        "60s",
        "--threshold",
        "p99<200ms",
        "--image=registry.example/archbench:1",
        "--parallelism",
        "8",
        "--namespace",
        "perf",
    ]);
    let job = of_kind(&text, "Job")[0];
    assert_eq!(field(job, "completionMode"), "Indexed");
    assert_eq!(field(job, "namespace"), "perf");
    let args = args(job);
    assert!(
        args.windows(2)
            .any(|w| w == ["--shard", "$(JOB_COMPLETION_INDEX)/8"]),
        "{args:?}"
    );
    assert!(!args.iter().any(|a| a.contains("threshold")), "{args:?}");
    let start = &args[args.iter().position(|a| a == "--start-at").unwrap() + 1];
    assert!(start.ends_with('Z') && start.len() == 20, "{start}");
    assert!(text.contains("| archbench merge - --threshold 'p99<200ms'"));
    assert!(text.contains("--max-log-requests=8"));
    assert!(
        of_kind(&text, "ConfigMap").is_empty(),
        "a URL needs no project"
    );
}

#[test]
fn what_cannot_run_on_a_cluster_is_refused_with_a_reason() {
    for (args, code, says) in [
        (
            vec!["load", "https://x/", "--rate", "10", "--duration", "1s"],
            2,
            "--image IMAGE is required",
        ),
        (
            vec![
                "load",
                "https://x/",
                "--rate",
                "10",
                "--duration",
                "1s",
                "--image",
                "i",
                "--shard",
                "0/2",
            ],
            2,
            "sets --shard itself",
        ),
        (
            vec![
                "load",
                "https://x/",
                "--rate",
                "-1",
                "--duration",
                "1s",
                "--image",
                "i",
            ],
            2,
            "the arguments for `archbench load`",
        ),
        (
            vec![
                "sweep",
                "projects/three-tier.ron",
                "--rate",
                "auto",
                "--image",
                "i",
            ],
            2,
            "cannot be split",
        ),
        (
            vec![
                "emulate",
                "projects/three-tier.ron",
                "--image",
                "i",
                "--parallelism",
                "2",
            ],
            2,
            "the model's replicas",
        ),
        (
            vec![
                "emulate",
                "projects/three-tier.ron",
                "--image",
                "i",
                "--cpu",
                "lots",
            ],
            2,
            "--cpu \"lots\"",
        ),
        (
            vec![
                "emulate",
                "projects/three-tier.ron",
                "--image",
                "i",
                "--image",
                "j",
            ],
            2,
            "given twice",
        ),
        (
            vec!["emulate", "Cargo.toml", "--image", "i"],
            1,
            "Cargo.toml:",
        ),
    ] {
        let mut all = vec!["k8s"];
        all.extend(args.iter().copied());
        let out = archbench(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed manifests");
    }
}

/// The Dockerfile (no engine runs here to build it) against what it must
/// agree with: the pinned toolchain, the build without the app, every file
/// the build stage copies, and the user the manifests' pods run as.
#[test]
fn the_container_image_builds_the_headless_binary_and_runs_as_the_manifests_user() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let toolchain = std::fs::read_to_string(root.join("rust-toolchain.toml")).unwrap();
    let channel = toolchain
        .lines()
        .find_map(|l| l.strip_prefix("channel = "))
        .unwrap()
        .trim_matches('"');
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(
        stages[0].contains(&format!("/rust:{channel}-")),
        "the build stage's Rust is not rust-toolchain.toml's {channel}: {}",
        stages[0]
    );
    assert!(stages[1].contains("distroless") && stages[1].ends_with(":nonroot"));
    let build = dockerfile
        .lines()
        .find(|l| l.contains("cargo build"))
        .unwrap();
    for flag in [
        "--release",
        "--locked",
        "--no-default-features",
        "--features loadgen",
    ] {
        assert!(build.contains(flag), "{flag} missing: {build}");
    }
    // Every file the build stage copies exists, and with them every target
    // Cargo.toml names (cargo refuses a manifest whose targets are missing).
    let copied: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
        .flat_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words[1..words.len() - 1].to_vec()
        })
        .collect();
    for path in &copied {
        assert!(root.join(path).exists(), "COPY {path}: no such file");
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut targets = Vec::new();
    let mut in_bench = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_bench = line == "[[bench]]";
        } else if let Some(path) = line.strip_prefix("path = ") {
            targets.push(path.trim_matches('"').to_owned());
        } else if let Some(name) = line.strip_prefix("name = ")
            && in_bench
        {
            targets.push(format!("benches/{}.rs", name.trim_matches('"')));
        }
    }
    assert!(targets.len() >= 5, "{targets:?}");
    for path in &targets {
        assert!(
            copied
                .iter()
                .any(|c| path.starts_with(c.trim_end_matches('/'))),
            "Cargo.toml's target {path} is not copied into the build"
        );
    }
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    assert_eq!(user, "65532:65532");
    let pods = manifests(&["k8s", "emulate", "projects/three-tier.ron", "--image", "i"]);
    assert!(pods.contains("runAsUser: 65532\n") && pods.contains("runAsGroup: 65532\n"));
}
