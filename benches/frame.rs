//! Editor responsiveness: one full frame of the app (every panel, the canvas
//! with all nodes in view, the inspector) headless through `egui_kittest`,
//! for a 200-service tree placed on a grid, and for a 1,000-service fan-out
//! and a 1,000-service chain written without positions (laid out when
//! opened). Targets: under 8 ms for 200 services, under 16 ms for 1,000
//! with results drawn; the layout of 1,000 services under 1 s. Recorded in
//! docs/BENCHMARKS.md.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use archbench::gui::files::{Dialogs, StateDir};
use archbench::gui::{App, AppOptions};
use archbench::model::{
    ArrivalProcess, Arrivals, Choice, Link, Position, Project, ProjectFile, RequestClass,
    RunSettings, Scenario, Service, ServiceKind, StopCondition, Workload, file, layout,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;

/// The shapes benchmarked.
#[derive(Clone, Copy)]
enum Shape {
    /// A gateway fanning out in a tree three levels deep, on a 20-wide grid.
    Tree,
    /// A gateway calling every other service.
    FanOut,
    /// Each service calling the next.
    Chain,
}

/// `services` services of `shape`.
fn project(shape: Shape, services: usize) -> Project {
    let kinds = ServiceKind::ALL;
    let list: Vec<Service> = (0..services)
        .map(|i| {
            let kind = if i == 0 {
                ServiceKind::Gateway
            } else {
                kinds[1 + i % (kinds.len() - 1)]
            };
            let time = match shape {
                Shape::Chain => "exp:20us",
                Shape::Tree | Shape::FanOut => "lognormal:2ms,p99=8ms",
            };
            let mut s = Service::new(format!("svc-{i}"), kind, time.parse().unwrap());
            s.replicas = 2;
            s.workers = 16;
            if let Shape::Tree = shape {
                #[expect(clippy::cast_precision_loss)]
                let (x, y) = ((i % 20) as f32 * 240.0, (i / 20) as f32 * 140.0);
                s.position = Position { x, y };
            }
            s
        })
        .collect();
    let links = (1..services)
        .map(|i| {
            let caller = match shape {
                Shape::Tree => (i - 1) / 14,
                Shape::FanOut => 0,
                Shape::Chain => i - 1,
            };
            let mut link = Link::new(format!("svc-{caller}"), format!("svc-{i}"));
            link.probability = match shape {
                Shape::Tree => 0.05,
                Shape::FanOut => 0.01,
                Shape::Chain => 1.0,
            };
            link
        })
        .collect();
    let (rate, requests) = match shape {
        Shape::Tree | Shape::FanOut => (200.0, 20_000),
        Shape::Chain => (20.0, 2_000),
    };
    Project {
        format: archbench::model::FORMAT_VERSION,
        name: format!("{services} services"),
        description: String::new(),
        workload: Workload {
            arrivals: Arrivals::Open {
                process: ArrivalProcess::Poisson,
                rate_rps: rate,
                profile: Vec::new(),
            },
            classes: vec![RequestClass {
                name: "all".into(),
                weight: 1.0,
                entry: "svc-0".into(),
                tokens: None,
            }],
        },
        run: RunSettings {
            stop: StopCondition::Requests(requests),
            ..RunSettings::default()
        },
        objectives: Vec::new(),
        goodput_share: archbench::model::GOODPUT_SHARE,
        scenarios: vec![Scenario {
            name: "wide".into(),
            description: String::new(),
            services: list,
            links,
            groups: Vec::new(),
        }],
    }
}

/// The app at 1600 × 1000 with `path` open, after its first frames; with
/// `results`, after the simulation has finished and its results are drawn.
fn app(path: &Path, state: &Path, results: bool) -> Harness<'static, App> {
    let options = AppOptions {
        open: Some(path.to_owned()),
        state: StateDir::new(state.to_owned()),
        dialogs: Dialogs::Scripted(std::sync::Arc::default()),
        autosave_every: Duration::from_hours(1),
        simulate_at_start: results,
        figures: Vec::new(),
    };
    let mut harness = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_max_steps(64)
        .build_eframe(move |cc| App::new(cc, options));
    if results {
        for _ in 0..30_000 {
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
    }
    harness.run_steps(10);
    harness
}

fn frames(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("archbench-frame-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (group, shape, services) in [
        ("frame_200_services", Shape::Tree, 200),
        ("frame_1000_fan_out", Shape::FanOut, 1000),
        ("frame_1000_chain", Shape::Chain, 1000),
    ] {
        let path = dir.join(format!("{group}.ron"));
        let project = project(shape, services);
        assert!(archbench::model::validate(&project).is_empty());
        file::save(
            &ProjectFile {
                header: String::new(),
                project,
            },
            &path,
        )
        .unwrap();
        let mut group = c.benchmark_group(group);
        for (name, results) in [("editor", false), ("editor_with_results", true)] {
            let mut harness = app(&path, &dir.join("state"), results);
            let scenario = &harness.state().project().scenarios[0];
            assert_eq!(scenario.services.len(), services);
            assert!(!layout::needs_layout(scenario), "laid out when opened");
            group.bench_function(name, |b| {
                b.iter(|| {
                    harness.step();
                    black_box(harness.output().shapes.len())
                });
            });
        }
        group.finish();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The layered layout of 1,000 services (the size of the canvas's nodes).
fn layouts(c: &mut Criterion) {
    let mut group = c.benchmark_group("layout_1000");
    group.sample_size(10);
    for (name, shape) in [("fan_out", Shape::FanOut), ("chain", Shape::Chain)] {
        let scenario = &project(shape, 1000).scenarios[0];
        group.bench_with_input(BenchmarkId::from_parameter(name), scenario, |b, s| {
            b.iter(|| black_box(layout::layered(s, (190.0, 90.0))));
        });
    }
    group.finish();
}

criterion_group!(benches, frames, layouts);
criterion_main!(benches);
