//! Simulator speed: simulated requests per second of wall time, on M/M/1 at
//! ρ = 0.9 and on the bundled ML inference example. Run with `cargo bench`;
//! figures are recorded in docs/BENCHMARKS.md.

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

criterion_group!(benches, simulate);
criterion_main!(benches);
