//! Simulator speed: simulated requests per second of wall time, on M/M/1 at
//! ρ = 0.9 and on the bundled ML inference example; and simulated output
//! tokens per second of wall time for an LLM server kept at 64 running
//! sequences. Run with `cargo bench`; figures are recorded in
//! docs/BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;

use archbench::model::{Project, StopCondition, file};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const REQUESTS: u64 = 200_000;

fn load(name: &str) -> Project {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let mut project = file::load(&path).expect("bench project loads").project;
    project.run.stop = StopCondition::Requests(REQUESTS);
    project.run.warmup = Some(archbench::model::TimeSpan::ZERO);
    project
}

fn simulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(REQUESTS));
    group.sample_size(20);
    for (label, path) in [
        ("mm1_rho_0.9", "benches/peers/mm1.ron"),
        ("ml_inference", "projects/ml-inference.ron"),
    ] {
        let project = load(path);
        group.bench_function(label, |b| {
            b.iter(|| {
                let report = archbench::sim::simulate_scenario(black_box(&project), 0)
                    .expect("valid bench project");
                black_box(report.requests)
            });
        });
    }
    group.finish();
}

/// Sequences of the LLM benchmark: 64 users with no think time keep an LLM
/// server (`max_num_seqs: 64`, a cache that holds them all) at 64 running
/// sequences of 512 prompt and 256 output tokens.
const LLM_REQUESTS: u64 = 2_000;
const OUTPUT_TOKENS: u64 = 256;

fn llm_project() -> Project {
    let text = format!(
        "(format: 1, name: \"llm-64\", \
         workload: (arrivals: Closed(users: 64, think_time: \"0ms\"), \
           classes: [(name: \"chat\", entry: \"llm\", \
             tokens: (prompt: \"512\", output: \"{OUTPUT_TOKENS}\"))]), \
         run: (stop: Requests({LLM_REQUESTS}), warmup: \"0s\"), \
         scenarios: [(name: \"s\", services: [(name: \"llm\", kind: LlmServer, \
           service_time: \"0ms\", llm: (max_num_seqs: 64, kv_cache: Tokens(1000000), \
           step: (base: \"5ms\", per_prefill_token: \"30us\", per_decode_token: \"40us\")))])])"
    );
    file::parse(&text, Path::new("llm-64.ron"))
        .expect("bench project parses")
        .project
}

fn llm(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate_llm");
    group.throughput(Throughput::Elements(LLM_REQUESTS * OUTPUT_TOKENS));
    group.sample_size(20);
    let project = llm_project();
    group.bench_function("64_sequences_tokens", |b| {
        b.iter(|| {
            let report = archbench::sim::simulate_scenario(black_box(&project), 0)
                .expect("valid bench project");
            black_box(report.requests)
        });
    });
    group.finish();
}

criterion_group!(benches, simulate, llm);
criterion_main!(benches);
