//! Automatic layout (`model::layout`): on every example and on generated
//! graphs (chains, fan-outs, diamonds, 200 random DAGs) no two nodes
//! overlap, every sync call points left to right, there are fewer crossings
//! than in a random placement, and laying out twice gives the same result.

use archbench::model::layout::{crossings, layered, needs_layout};
use archbench::model::{CallMode, Link, Position, Scenario, Service, ServiceKind, file};

const NODE: (f32, f32) = (190.0, 90.0);

use crate::support::Draws;

fn scenario(n: usize, edges: &[(usize, usize, bool)]) -> Scenario {
    Scenario {
        name: "generated".into(),
        description: String::new(),
        services: (0..n)
            .map(|i| {
                Service::new(
                    format!("s{i}"),
                    ServiceKind::Service,
                    "1ms".parse().unwrap(),
                )
            })
            .collect(),
        links: edges
            .iter()
            .map(|&(a, b, sync)| Link {
                mode: if sync {
                    CallMode::Sync
                } else {
                    CallMode::Async
                },
                ..Link::new(format!("s{a}"), format!("s{b}"))
            })
            .collect(),
        groups: Vec::new(),
    }
}

/// What every layout must be: no overlaps, sync calls left to right.
fn assert_sound(label: &str, scenario: &Scenario, placed: &[(String, Position)]) {
    assert_eq!(placed.len(), scenario.services.len(), "{label}");
    for (i, (a, p)) in placed.iter().enumerate() {
        for (b, q) in &placed[i + 1..] {
            let apart = (p.x - q.x).abs() >= NODE.0 || (p.y - q.y).abs() >= NODE.1;
            assert!(apart, "{label}: {a} at {p:?} overlaps {b} at {q:?}");
        }
    }
    let at = |name: &str| placed.iter().find(|(n, _)| n == name).unwrap().1;
    for link in scenario.links.iter().filter(|l| l.mode == CallMode::Sync) {
        assert!(
            at(&link.from).x + NODE.0 <= at(&link.to).x,
            "{label}: the sync call {} -> {} does not point right",
            link.from,
            link.to
        );
    }
    assert_eq!(layered(scenario, NODE), placed, "{label}: the same twice");
}

/// Mean crossings of the services placed at random on a grid, over ten
/// placements.
fn random_crossings(scenario: &Scenario, draws: &mut Draws) -> f64 {
    (0..10)
        .map(|_| one_random_crossings(scenario, draws) as f64)
        .sum::<f64>()
        / 10.0
}

/// Crossings of the services placed at random on a grid of the same size.
fn one_random_crossings(scenario: &Scenario, draws: &mut Draws) -> usize {
    let n = scenario.services.len();
    let side = (1..=n).find(|s| s * s >= n).unwrap_or(1);
    let mut cells: Vec<usize> = (0..side * side).collect();
    for i in (1..cells.len()).rev() {
        cells.swap(i, draws.below(i + 1));
    }
    let placed: Vec<(String, Position)> = scenario
        .services
        .iter()
        .zip(cells)
        .map(|(s, cell)| {
            let (x, y) = ((cell % side) as f32, (cell / side) as f32);
            (
                s.name.clone(),
                Position {
                    x: x * 260.0,
                    y: y * 120.0,
                },
            )
        })
        .collect();
    crossings(scenario, &placed, NODE)
}

#[test]
fn every_example_is_laid_out_soundly_and_with_fewer_crossings_than_at_random() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("projects");
    let mut draws = Draws(7);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let project = file::load(&path).unwrap().project;
        for scenario in &project.scenarios {
            let label = format!("{} / {}", path.display(), scenario.name);
            let placed = layered(scenario, NODE);
            assert_sound(&label, scenario, &placed);
            let ours = crossings(scenario, &placed, NODE) as f64;
            let random = random_crossings(scenario, &mut draws);
            assert!(
                ours <= random,
                "{label}: {ours} crossings, {random} at random on average"
            );
        }
    }
}

#[test]
fn generated_graphs_are_laid_out_soundly() {
    // A chain, a fan-out, a diamond, and a queue's consumers behind an
    // async call, each with the shape a person would draw.
    let chain = scenario(50, &(0..49).map(|i| (i, i + 1, true)).collect::<Vec<_>>());
    let placed = layered(&chain, NODE);
    assert_sound("chain", &chain, &placed);
    assert!(
        placed
            .iter()
            .all(|(_, p)| (p.y - placed[0].1.y).abs() < 1e-3),
        "a chain is one row"
    );

    let fan = scenario(201, &(1..201).map(|i| (0, i, true)).collect::<Vec<_>>());
    let placed = layered(&fan, NODE);
    assert_sound("fan-out", &fan, &placed);
    // 200 callees wrap into sub-columns of at most 19 (1.25 √201, rounded
    // up), all right of the caller: 11 of them, the first ten full.
    let mut columns: Vec<(i64, usize)> = Vec::new();
    for (_, p) in &placed[1..] {
        assert!(p.x > placed[0].1.x);
        #[expect(clippy::cast_possible_truncation)]
        let x = p.x.round() as i64;
        match columns.iter_mut().find(|(cx, _)| *cx == x) {
            Some((_, n)) => *n += 1,
            None => columns.push((x, 1)),
        }
    }
    assert_eq!(columns.len(), 11, "{columns:?}");
    assert!(columns[..10].iter().all(|&(_, n)| n == 19), "{columns:?}");

    let diamond = scenario(4, &[(0, 1, true), (0, 2, true), (1, 3, true), (2, 3, true)]);
    let placed = layered(&diamond, NODE);
    assert_sound("diamond", &diamond, &placed);
    assert_eq!(crossings(&diamond, &placed, NODE), 0);

    // api -> orders (sync), api -> queue (async), queue -> worker (sync):
    // the async branch goes below the request path.
    let queue = scenario(4, &[(0, 1, true), (0, 2, false), (2, 3, true)]);
    let placed = layered(&queue, NODE);
    assert_sound("queue", &queue, &placed);
    assert!(
        placed[2].1.y > placed[1].1.y,
        "the queue sits below: {placed:?}"
    );
}

#[test]
fn two_hundred_random_dags_have_fewer_crossings_than_at_random() {
    // Each layout has no more crossings than random placements have on
    // average, and in all under a third of theirs (about a quarter today).
    let mut draws = Draws(2026);
    let (mut ours_total, mut random_total) = (0.0, 0.0);
    for round in 0..200 {
        let n = 5 + draws.below(26);
        let mut edges = Vec::new();
        for b in 1..n {
            // Every service is called by an earlier one; a few more calls.
            edges.push((draws.below(b), b, draws.below(5) != 0));
            if draws.below(3) == 0 {
                let a = draws.below(b);
                if !edges.iter().any(|&(x, y, _)| (x, y) == (a, b)) {
                    edges.push((a, b, true));
                }
            }
        }
        let s = scenario(n, &edges);
        let placed = layered(&s, NODE);
        assert_sound(&format!("random DAG {round}"), &s, &placed);
        let ours = crossings(&s, &placed, NODE) as f64;
        let random = random_crossings(&s, &mut draws);
        assert!(
            ours <= random,
            "random DAG {round}: {ours} vs {random} at random on average"
        );
        ours_total += ours;
        random_total += random;
    }
    eprintln!("{ours_total} crossings laid out, {random_total} at random on average");
    assert!(
        ours_total * 3.0 < random_total,
        "{ours_total} crossings laid out, {random_total} at random"
    );
}

#[test]
fn a_thousand_services_are_laid_out() {
    let fan = scenario(1000, &(1..1000).map(|i| (0, i, true)).collect::<Vec<_>>());
    let placed = layered(&fan, NODE);
    assert_sound("1,000-service fan-out", &fan, &placed);
    // A block, not a column: the drawing is within a factor of three as
    // wide as it is tall, so it reads at the zoom that fits it to a window.
    let span = |f: fn(&Position) -> f32| {
        let values = placed.iter().map(|(_, p)| f(p));
        values.clone().fold(f32::MIN, f32::max) - values.fold(f32::MAX, f32::min)
    };
    let (width, height) = (span(|p| p.x) + NODE.0, span(|p| p.y) + NODE.1);
    assert!(
        width < 3.0 * height && height < 3.0 * width,
        "{width} × {height}"
    );
    let chain = scenario(
        1000,
        &(0..999).map(|i| (i, i + 1, true)).collect::<Vec<_>>(),
    );
    assert_sound("1,000-service chain", &chain, &layered(&chain, NODE));
}

#[test]
fn only_unplaced_scenarios_need_a_layout() {
    let mut s = scenario(3, &[(0, 1, true), (1, 2, true)]);
    assert!(needs_layout(&s), "all at the origin");
    s.services[1].position = Position { x: 220.0, y: 0.0 };
    assert!(!needs_layout(&s));
    assert!(
        !needs_layout(&scenario(1, &[])),
        "one service is placed wherever it is"
    );
}
