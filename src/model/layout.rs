//! Automatic layout of a scenario: a layered drawing (after Sugiyama, Tagawa
//! and Toda, 1981) read left to right along the calls.
//!
//! 1. **Layers**: a service's column is the longest chain of synchronous
//!    calls that reaches it from an entry, so every sync call points right.
//!    A service reached only by async calls (a queue's consumers, say) sits
//!    one column right of its earliest caller.
//! 2. **Order**: within each column, services are ordered to reduce wire
//!    crossings by the barycentre heuristic, sweeping right then left a few
//!    times and keeping the best order seen; the members of a parallel
//!    group stay together.
//! 3. **Place**: columns are a node's width plus a gap apart; in a column,
//!    services on the request path are stacked from the top, centred on the
//!    middle, and services reached only asynchronously go below them. A
//!    column of more than about 1.25 √n services (n in the scenario, at
//!    least 12) wraps into sub-columns side by side.
//!
//! The result depends only on the scenario: the same scenario is laid out
//! the same way every time.

use super::{CallMode, Position, Scenario};

/// A straight wire from one point to another.
type Segment = ((f32, f32), (f32, f32));

/// The space between columns and between nodes in a column, in canvas units.
const GAP: (f32, f32) = (70.0, 30.0);

/// Columns up to this many services never wrap.
const MIN_ROWS: usize = 12;

/// Sweeps of the crossing reduction (each one rightwards and one leftwards).
const SWEEPS: usize = 12;

/// A layered layout of `scenario` for nodes of `node` size (width, height):
/// each service's new position (its box's top-left corner), in the
/// scenario's order of services.
pub fn layered(scenario: &Scenario, node: (f32, f32)) -> Vec<(String, Position)> {
    let graph = Graph::of(scenario);
    let columns = graph.columns();
    let mut order = initial_order(&columns);
    graph.reduce_crossings(&mut order);
    scenario
        .services
        .iter()
        .map(|s| s.name.clone())
        .zip(graph.place(&order, node))
        .collect()
}

/// The size of a node on the canvas before it is measured, in canvas
/// units: what layouts made outside the app (an import) assume.
pub const NODE: (f32, f32) = (190.0, 90.0);

/// Lays `scenario` out with [`layered`], moving every service.
pub fn place(scenario: &mut Scenario, node: (f32, f32)) {
    let placed = layered(scenario, node);
    for (service, (_, at)) in scenario.services.iter_mut().zip(placed) {
        service.position = at;
    }
}

/// Whether a layout is needed: no services have been placed (they all
/// share one position), as in a file written by hand or by a script.
pub fn needs_layout(scenario: &Scenario) -> bool {
    let mut positions = scenario.services.iter().map(|s| s.position);
    let Some(first) = positions.next() else {
        return false;
    };
    scenario.services.len() > 1 && positions.all(|p| p == first)
}

/// Crossings between the calls of `scenario` drawn with its services at
/// `positions` (a call as the straight line from the caller's right edge to
/// the callee's left edge of nodes `node` wide), for tests and comparison.
pub fn crossings(scenario: &Scenario, positions: &[(String, Position)], node: (f32, f32)) -> usize {
    let at = |name: &str| positions.iter().find(|(n, _)| n == name).map(|(_, p)| *p);
    let segments: Vec<Segment> = scenario
        .links
        .iter()
        .filter_map(|l| {
            let (a, b) = (at(&l.from)?, at(&l.to)?);
            Some((
                (a.x + node.0, a.y + node.1 / 2.0),
                (b.x, b.y + node.1 / 2.0),
            ))
        })
        .collect();
    count_crossings(&segments)
}

/// Pairs of `segments` that cross.
fn count_crossings(segments: &[Segment]) -> usize {
    let mut count = 0;
    for (i, s) in segments.iter().enumerate() {
        for t in &segments[i + 1..] {
            if properly_cross(*s, *t) {
                count += 1;
            }
        }
    }
    count
}

/// Whether two segments cross at a point inside both (sharing an end does
/// not count).
fn properly_cross(s: Segment, t: Segment) -> bool {
    let side = |a: (f32, f32), b: (f32, f32), c: (f32, f32)| {
        let v = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
        if v.abs() < 1e-6 {
            0
        } else if v > 0.0 {
            1
        } else {
            -1
        }
    };
    let (d1, d2) = (side(s.0, s.1, t.0), side(s.0, s.1, t.1));
    let (d3, d4) = (side(t.0, t.1, s.0), side(t.0, t.1, s.1));
    d1 * d2 < 0 && d3 * d4 < 0
}

/// Services by column, each column in the scenario's order.
fn initial_order(columns: &[usize]) -> Vec<Vec<usize>> {
    let width = columns.iter().max().map_or(0, |c| c + 1);
    let mut order = vec![Vec::new(); width];
    for (v, &c) in columns.iter().enumerate() {
        order[c].push(v);
    }
    order
}

/// The call graph by service index.
struct Graph {
    n: usize,
    /// Callees by caller: (callee, synchronous).
    out: Vec<Vec<(usize, bool)>>,
    /// Callers by callee.
    into: Vec<Vec<usize>>,
    /// The parallel group each service is called in, if any (by the group's
    /// first appearance), to keep a group's members together.
    group: Vec<Option<usize>>,
    /// Reached by some synchronous call or an entry: on the request path.
    on_path: Vec<bool>,
}

impl Graph {
    fn of(scenario: &Scenario) -> Self {
        let n = scenario.services.len();
        let index = |name: &str| scenario.services.iter().position(|s| s.name == name);
        let mut out = vec![Vec::new(); n];
        let mut into = vec![Vec::new(); n];
        let mut group = vec![None; n];
        let mut groups: Vec<(&str, &str)> = Vec::new();
        for link in &scenario.links {
            let (Some(a), Some(b)) = (index(&link.from), index(&link.to)) else {
                continue;
            };
            if a == b {
                continue;
            }
            let sync = link.mode == CallMode::Sync;
            if !out[a].contains(&(b, sync)) {
                out[a].push((b, sync));
                into[b].push(a);
            }
            if let Some(name) = &link.parallel_group {
                let key = (link.from.as_str(), name.as_str());
                let id = groups.iter().position(|g| *g == key).unwrap_or_else(|| {
                    groups.push(key);
                    groups.len() - 1
                });
                group[b].get_or_insert(id);
            }
        }
        let mut on_path = vec![false; n];
        for (b, callers) in into.iter().enumerate() {
            on_path[b] = callers.is_empty()
                || callers
                    .iter()
                    .any(|&a| out[a].iter().any(|&(t, sync)| t == b && sync));
        }
        Self {
            n,
            out,
            into,
            group,
            on_path,
        }
    }

    /// Each service's column: the longest sync path to it from a service
    /// no sync call reaches; async-only services one right of their earliest
    /// caller. Sync calls form no cycle (validation refuses them); async
    /// ones may, and are followed only forwards in service order when they
    /// do.
    fn columns(&self) -> Vec<usize> {
        let mut column = vec![0_usize; self.n];
        // Longest path over sync edges, by relaxing in a topological order.
        let mut indegree = vec![0_usize; self.n];
        for edges in &self.out {
            for &(b, sync) in edges {
                if sync {
                    indegree[b] += 1;
                }
            }
        }
        let mut ready: Vec<usize> = (0..self.n).filter(|&v| indegree[v] == 0).collect();
        ready.reverse();
        let mut topological = Vec::with_capacity(self.n);
        while let Some(v) = ready.pop() {
            topological.push(v);
            for &(b, sync) in self.out[v].iter().rev() {
                if sync {
                    column[b] = column[b].max(column[v] + 1);
                    indegree[b] -= 1;
                    if indegree[b] == 0 {
                        ready.push(b);
                    }
                }
            }
        }
        // A sync cycle (in a project that does not validate) leaves some
        // services out: they keep column 0 and follow in their own order.
        for v in 0..self.n {
            if !topological.contains(&v) {
                topological.push(v);
            }
        }
        // Async-only services: one right of their earliest-placed caller,
        // and what they call synchronously after them.
        for _ in 0..self.n.min(64) {
            let mut changed = false;
            for &v in &topological {
                if !self.on_path[v] {
                    let want = self.into[v]
                        .iter()
                        .map(|&a| column[a] + 1)
                        .min()
                        .unwrap_or(0);
                    if want > column[v] && want < self.n {
                        column[v] = want;
                        changed = true;
                    }
                }
                for &(b, sync) in &self.out[v] {
                    if sync && column[b] <= column[v] && column[v] + 1 < self.n {
                        column[b] = column[v] + 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        column
    }

    /// Barycentre sweeps; keeps the order with the fewest crossings between
    /// adjacent columns.
    fn reduce_crossings(&self, order: &mut [Vec<usize>]) {
        let mut best = order.to_vec();
        let mut fewest = self.order_crossings(order);
        for sweep in 0..SWEEPS {
            let columns: Vec<usize> = if sweep % 2 == 0 {
                (1..order.len()).collect()
            } else {
                (0..order.len().saturating_sub(1)).rev().collect()
            };
            for c in columns {
                let height = self.heights(order);
                self.sort_by_neighbours(&mut order[c], &height, sweep % 2 == 0);
            }
            let now = self.order_crossings(order);
            if now < fewest {
                fewest = now;
                best = order.to_vec();
            }
        }
        order.clone_from_slice(&best);
    }

    /// Orders `column` by the mean height of each service's neighbours (its
    /// callers when `callers`, else its callees), wherever they are, a
    /// height being a slot's place in its column centred on the middle; a
    /// service with none keeps its place. Members of a parallel group are
    /// kept together, at their group's mean.
    fn sort_by_neighbours(&self, column: &mut [usize], height: &[f64], callers: bool) {
        let barycentre = |slot: usize, v: usize| {
            let neighbours: Vec<f64> = if callers {
                self.into[v].iter().map(|&a| height[a]).collect()
            } else {
                self.out[v].iter().map(|&(b, _)| height[b]).collect()
            };
            if neighbours.is_empty() {
                height[v] + slot as f64 * 1e-9
            } else {
                neighbours.iter().sum::<f64>() / neighbours.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize, usize)> = column
            .iter()
            .enumerate()
            .map(|(slot, &v)| (barycentre(slot, v), slot, v))
            .collect();
        // A group's members share the mean of their keys.
        let keys: Vec<(f64, usize)> = keyed.iter().map(|k| (k.0, k.2)).collect();
        for k in &mut keyed {
            if let Some(g) = self.group[k.2] {
                let members: Vec<f64> = keys
                    .iter()
                    .filter(|(_, v)| self.group[*v] == Some(g))
                    .map(|(key, _)| *key)
                    .collect();
                k.0 = members.iter().sum::<f64>() / members.len() as f64;
            }
        }
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (slot, (_, _, v)) in keyed.into_iter().enumerate() {
            column[slot] = v;
        }
    }

    /// Each service's height in `order`: its slot, centred on the middle of
    /// its column, as the drawing will place it.
    fn heights(&self, order: &[Vec<usize>]) -> Vec<f64> {
        let mut height = vec![0.0; self.n];
        for column in order {
            let middle = (column.len() as f64 - 1.0) / 2.0;
            for (slot, &v) in column.iter().enumerate() {
                height[v] = slot as f64 - middle;
            }
        }
        height
    }

    /// Crossings of the calls drawn straight between the services' places
    /// in `order` (columns one apart, slots one apart): all calls, not only
    /// those between neighbouring columns.
    fn order_crossings(&self, order: &[Vec<usize>]) -> usize {
        let height = self.heights(order);
        let mut column = vec![0.0; self.n];
        for (c, members) in order.iter().enumerate() {
            for &v in members {
                column[v] = c as f64;
            }
        }
        let segments: Vec<Segment> = (0..self.n)
            .flat_map(|a| self.out[a].iter().map(move |&(b, _)| (a, b)))
            .map(|(a, b)| {
                #[expect(clippy::cast_possible_truncation, reason = "small slot numbers")]
                let point = |v: usize, dx: f64| ((column[v] + dx) as f32, height[v] as f32);
                (point(a, 0.5), point(b, 0.0))
            })
            .collect();
        count_crossings(&segments)
    }

    /// Positions: columns left to right; in each, the request path stacked
    /// about the middle and the async-only services below it. A column
    /// taller than [`rows`] wraps into sub-columns side by side (filled top
    /// to bottom, then left to right), so a fan-out of hundreds is a block
    /// rather than a column too tall to read at any zoom.
    fn place(&self, order: &[Vec<usize>], node: (f32, f32)) -> Vec<Position> {
        let step = (node.0 + GAP.0, node.1 + GAP.1);
        let rows = rows(self.n);
        let mut positions = vec![Position { x: 0.0, y: 0.0 }; self.n];
        let tallest = order
            .iter()
            .map(|c| c.iter().filter(|&&v| self.on_path[v]).count())
            .max()
            .unwrap_or(0)
            .min(rows);
        let path_bottom = tallest as f32 * step.1;
        let mut x = 0.0;
        for column in order {
            let path: Vec<usize> = column
                .iter()
                .copied()
                .filter(|&v| self.on_path[v])
                .collect();
            let below: Vec<usize> = column
                .iter()
                .copied()
                .filter(|&v| !self.on_path[v])
                .collect();
            let top = (tallest - path.len().min(rows)) as f32 * step.1 / 2.0;
            for (k, &v) in path.iter().enumerate() {
                positions[v] = Position {
                    x: x + (k / rows) as f32 * step.0,
                    y: top + (k % rows) as f32 * step.1,
                };
            }
            for (k, &v) in below.iter().enumerate() {
                positions[v] = Position {
                    x: x + (k / rows) as f32 * step.0,
                    y: path_bottom + GAP.1 + (k % rows) as f32 * step.1,
                };
            }
            let wide = path
                .len()
                .div_ceil(rows)
                .max(below.len().div_ceil(rows))
                .max(1);
            x += wide as f32 * step.0;
        }
        positions
    }
}

/// The most services stacked in one column of a scenario of `n` services:
/// about 1.25 √n, at least 12, so the whole drawing stays roughly as wide as
/// it is tall (a 1,000-service fan-out wraps its 999 callees into 25
/// columns of 40).
fn rows(n: usize) -> usize {
    // Integer square root, rounded up, without floats.
    let mut root = 0;
    while root * root < n {
        root += 1;
    }
    (root * 5).div_ceil(4).max(MIN_ROWS)
}
