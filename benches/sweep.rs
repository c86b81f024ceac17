//! Sweep parallelism: a 20-point rate sweep of the ML inference example on
//! one thread and on every core. The ratio of the two is the speed-up
//! recorded in docs/BENCHMARKS.md (target: at least 1.7 on 2 cores).

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use archbench::model::{StopCondition, TimeSpan, file};
use archbench::sim::{SweepAxis, SweepSpec, sweep};
use criterion::{Criterion, criterion_group, criterion_main};

fn sweeps(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/ml-inference.ron");
    let mut project = file::load(&path).expect("example loads").project;
    project.run.stop = StopCondition::Requests(20_000);
    project.run.warmup = Some(TimeSpan::from_secs_f64(1.0));
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut group = c.benchmark_group("sweep_20_points");
    group.sample_size(10);
    for threads in [1, cores] {
        let spec = SweepSpec {
            axis: SweepAxis::Rate {
                from: 100.0,
                to: 1500.0,
                steps: 20,
            },
            scenario: None,
            threads,
            shard: None,
        };
        group.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| {
                let report =
                    sweep(black_box(&project), &spec, &AtomicBool::new(false)).expect("sweep runs");
                black_box(report.scenarios.len())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, sweeps);
criterion_main!(benches);
