//! Editor responsiveness: one full frame of the app (every panel, the canvas
//! with all nodes in view, the inspector) for a project of 200 services,
//! headless through `egui_kittest`. Target: under 8 ms on the CI machine, so
//! the editor keeps 120 frames per second. Recorded in docs/BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use archbench::gui::files::{Dialogs, StateDir};
use archbench::gui::{App, AppOptions};
use archbench::model::{
    ArrivalProcess, Arrivals, Choice, Link, Position, Project, ProjectFile, RequestClass,
    RunSettings, Scenario, Service, ServiceKind, StopCondition, Workload, file,
};
use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;

/// A gateway fanning out to 199 services in a tree three levels deep, laid
/// out on a 20 × 10 grid.
fn big_project(services: usize) -> Project {
    let kinds = ServiceKind::ALL;
    let list: Vec<Service> = (0..services)
        .map(|i| {
            let kind = if i == 0 {
                ServiceKind::Gateway
            } else {
                kinds[1 + i % (kinds.len() - 1)]
            };
            let mut s = Service::new(
                format!("svc-{i}"),
                kind,
                "lognormal:2ms,p99=8ms".parse().unwrap(),
            );
            s.replicas = 2;
            s.workers = 16;
            #[expect(clippy::cast_precision_loss)]
            let (x, y) = ((i % 20) as f32 * 240.0, (i / 20) as f32 * 140.0);
            s.position = Position { x, y };
            s
        })
        .collect();
    let links = (1..services)
        .map(|i| {
            let mut link = Link::new(format!("svc-{}", (i - 1) / 14), format!("svc-{i}"));
            link.probability = 0.05;
            link
        })
        .collect();
    Project {
        format: archbench::model::FORMAT_VERSION,
        name: "two hundred services".into(),
        description: String::new(),
        workload: Workload {
            arrivals: Arrivals::Open {
                process: ArrivalProcess::Poisson,
                rate_rps: 200.0,
                profile: Vec::new(),
            },
            classes: vec![RequestClass {
                name: "all".into(),
                weight: 1.0,
                entry: "svc-0".into(),
            }],
        },
        run: RunSettings {
            stop: StopCondition::Requests(20_000),
            ..RunSettings::default()
        },
        objectives: Vec::new(),
        scenarios: vec![Scenario {
            name: "wide".into(),
            description: String::new(),
            services: list,
            links,
        }],
    }
}

fn frames(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("archbench-frame-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.ron");
    let project = big_project(200);
    assert!(archbench::model::validate(&project).is_empty());
    file::save(
        &ProjectFile {
            header: String::new(),
            project,
        },
        &path,
    )
    .unwrap();
    let options = || AppOptions {
        open: Some(path.clone()),
        state: StateDir::new(dir.join("state")),
        dialogs: Dialogs::Scripted(std::sync::Arc::default()),
        autosave_every: Duration::from_hours(1),
        simulate_at_start: false,
        figures: Vec::new(),
    };
    let mut group = c.benchmark_group("frame_200_services");
    let mut harness = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_max_steps(64)
        .build_eframe(|cc| App::new(cc, options()));
    harness.run_steps(10);
    assert_eq!(harness.state().project().scenarios[0].services.len(), 200);
    group.bench_function("editor", |b| {
        b.iter(|| {
            harness.step();
            black_box(harness.output().shapes.len())
        });
    });
    // The same frame with results drawn: utilisation colours and plots.
    let mut harness = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_max_steps(64)
        .build_eframe(|cc| {
            App::new(
                cc,
                AppOptions {
                    simulate_at_start: true,
                    ..options()
                },
            )
        });
    for _ in 0..6000 {
        harness.step();
        if harness.state().simulation().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        harness.state().simulation().is_some(),
        "the simulation finished"
    );
    harness.run_steps(10);
    group.bench_function("editor_with_results", |b| {
        b.iter(|| {
            harness.step();
            black_box(harness.output().shapes.len())
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, frames);
criterion_main!(benches);
