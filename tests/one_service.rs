//! The emulator's one-service mode (`emulate --service NAME --listen ADDR
//! --peer NAME=URL`), as each pod of a cluster runs it: two processes on
//! 127.0.0.1, one service each, the first calling the second, against the
//! same architecture emulated in one process and the model's own figure.

#![allow(
    clippy::disallowed_methods,
    reason = "these tests check wall-clock timing"
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use archbench::loadgen::emulate::{CLASS_HEADER, EmulateConfig, Emulation};
use archbench::loadgen::{self, LoadPlan, Pacing, RequestSpec, Target};
use archbench::model::{Link, Project, ProjectFile, Validated};
use archbench::stats::LoadReport;

use crate::support::{open_project, service};

/// front (2 ms) calls back (3 ms) over a link of 1 ms: 6 ms a request.
fn two_services() -> Project {
    let link = Link {
        latency: crate::support::dist("1ms"),
        ..crate::support::link("front", "back")
    };
    open_project(
        100.0,
        vec![service("front", "2ms", 16), service("back", "3ms", 16)],
        vec![link],
        1,
    )
}

const MODELLED_MS: f64 = 6.0;

/// Writes `project` to a scratch folder of its own; returns both.
fn saved(project: &Project, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("archbench-one-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("two.ron");
    let project = project.clone();
    archbench::model::file::save(
        &ProjectFile {
            header: String::new(),
            project,
        },
        &file,
    )
    .unwrap();
    (dir, file)
}

fn drive(url: &str, seconds: f64) -> LoadReport {
    loadgen::run(LoadPlan {
        targets: vec![
            Target::new(&RequestSpec {
                url: url.to_owned(),
                method: "GET".into(),
                headers: vec![(CLASS_HEADER.into(), "all".into())],
                body: Vec::new(),
                weight: 1.0,
            })
            .unwrap(),
        ],
        pacing: Pacing::Open {
            process: archbench::model::ArrivalProcess::Poisson,
            segments: vec![archbench::model::RateSegment {
                start: 0.0,
                end: f64::INFINITY,
                start_rps: 100.0,
                end_rps: 100.0,
            }],
            connections: 64,
            seed: 3,
        },
        duration: Duration::from_secs_f64(seconds),
        precise: true,
        warmup: Duration::from_millis(300),
        timeout: Duration::from_secs(10),
        http2: false,
        insecure: false,
        thresholds: Vec::new(),
        threads: Some(1),
        shard: None,
        start_at: None,
        llm: None,
    })
    .unwrap()
}

/// An `archbench emulate` process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `archbench emulate FILE ARGS...` and returns it with the URL of
/// its listener, read from what it prints.
fn emulate(file: &std::path::Path, args: &[&str]) -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_archbench"))
        .arg("emulate")
        .arg(file)
        .args(args)
        .args(["--threads", "1", "--duration", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let process = Process(child);
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(at) = line.find("http://127.0.0.1:")
            && line.contains("balancer")
        {
            // Read the rest as it comes: a closed pipe would stop the process.
            std::thread::spawn(move || lines.for_each(drop));
            return (process, line[at..].trim().to_owned());
        }
    }
    panic!("emulate {args:?} printed no listener");
}

fn stats(url: &str) -> serde_json::Value {
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!(
            "GET {} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            archbench::loadgen::emulate::STATS_PATH
        )
        .as_bytes(),
    )
    .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    serde_json::from_str(body).unwrap()
}

#[test]
fn two_processes_one_service_each_behave_like_the_emulation_in_one() {
    let _serial = crate::support::timing_sensitive();
    let project = two_services();
    let (dir, file) = saved(&project, "run");

    let together = {
        let emulation = Emulation::start(
            Validated::new(&project).unwrap(),
            0,
            &EmulateConfig {
                seed: 7,
                base_port: None,
                threads: Some(1),
                traces: None,
                only: None,
            },
        )
        .unwrap();
        drive(&emulation.entries()[0].url, 3.0)
    };

    let (_back, back_url) = emulate(&file, &["--service", "back"]);
    let peer = format!("back={back_url}");
    let (_front, front_url) = emulate(&file, &["--service", "front", "--peer", &peer]);
    let apart = drive(&front_url, 3.0);

    for (label, report) in [("one process", &together), ("two processes", &apart)] {
        assert_eq!(
            report.errors.values().sum::<u64>(),
            0,
            "{label}: {report:?}"
        );
        assert!(
            report.requests >= 250,
            "{label}: {} requests",
            report.requests
        );
    }
    // Never below the model; above it by the loopback and the event loops'
    // wake-ups, which a host taking the CPU stretches: twice each run's
    // measured scheduling lag (its heartbeat's p99 lateness).
    let lag = together
        .generator_lag_ms
        .p99
        .max(apart.generator_lag_ms.p99);
    let (one, two) = (together.latency_ms.p50, apart.latency_ms.p50);
    eprintln!(
        "p50 {one:.2} ms in one process, {two:.2} ms in two; p99 {:.2} and {:.2} ms; lag p99 {lag:.2} ms",
        together.latency_ms.p99, apart.latency_ms.p99
    );
    for (label, p50) in [("one process", one), ("two processes", two)] {
        assert!(
            p50 >= MODELLED_MS - 0.05 && p50 <= MODELLED_MS + 1.5 + 2.0 * lag,
            "{label}: p50 {p50} ms, modelled {MODELLED_MS} ms (lag p99 {lag} ms)"
        );
    }
    assert!(
        (two - one).abs() <= 0.1 * one + 2.0 * lag,
        "p50 {two} ms in two processes against {one} ms in one (lag p99 {lag} ms)"
    );
    // Every request the front answered made its one call to back, in the
    // other process.
    let front = stats(&front_url);
    let back = stats(&back_url);
    assert_eq!(
        front["requests"], back["requests"],
        "front {front} back {back}"
    );
    assert!(back["requests"].as_u64().unwrap() >= apart.requests);
    let _ = std::fs::remove_dir_all(&dir);
}

fn archbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn one_service_mode_names_what_is_missing_or_wrong() {
    let project = two_services();
    let (dir, file) = saved(&project, "bad");
    let file = file.to_str().unwrap();
    for (args, says) in [
        (
            vec!["--service", "front"],
            "service \"front\" calls \"back\": give each an address, like --peer back=http://back:8080",
        ),
        (vec!["--service", "nope"], "--service \"nope\""),
        (
            vec!["--service", "front", "--peer", "bak=http://127.0.0.1:9"],
            "--peer bak: scenario \"test\" has no such service",
        ),
        (
            vec!["--service", "front", "--peer", "back=https://x:1"],
            "plain http://",
        ),
        (vec!["--listen", "127.0.0.1:0"], "--service"),
    ] {
        let mut all = vec!["emulate", file, "--duration", "100ms"];
        all.extend(args.iter().copied());
        let out = archbench(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} ran");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
