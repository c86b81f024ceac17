//! Groups on the canvas: a named, coloured box around services, with a
//! title bar to drag them by and a toggle that folds them into one node
//! showing the group's figures. Drawing only: the simulation never sees
//! groups.

use eframe::egui::{
    Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Stroke, StrokeKind, Vec2, pos2,
    vec2,
};

use crate::model::{Group, Scenario};

use crate::gui::theme;

use super::draw::{self, Metrics, NodeLook, NodeText};
use super::geometry;
use super::{Canvas, Overlay};

/// Canvas units between a group's box and the services inside.
const PAD: f32 = 18.0;

/// A folded group's width in canvas units.
const FOLDED_WIDTH: f32 = 230.0;

/// One group as drawn this frame.
pub(super) struct DrawnGroup {
    /// Its index in the scenario's groups.
    pub index: usize,
    /// The box (expanded) or the node (collapsed), on screen.
    pub rect: Rect,
    /// The title bar: drag the group by it.
    pub title: Rect,
    /// The fold/unfold toggle in the title bar.
    pub toggle: Rect,
    pub collapsed: bool,
    /// A folded group's pins: calls into and out of the group meet here.
    pub input: Pos2,
    pub output: Pos2,
}

/// A group's colour: its own, or one picked from its name.
pub fn color(group: &Group) -> Color32 {
    group.color.map_or_else(
        || theme::group_color(&group.name),
        |(r, g, b)| Color32::from_rgb(r, g, b),
    )
}

/// What a folded group says: its size, and with results, the throughput
/// into it, its busiest member and the p99 through it (the slowest p99 of
/// the members called from outside the group, or entered by the workload).
pub fn figures(scenario: &Scenario, group: &Group, overlay: &Overlay) -> Vec<String> {
    let member = |name: &str| group.services.iter().any(|s| s == name);
    let mut lines = vec![if group.services.len() == 1 {
        "1 service".to_owned()
    } else {
        format!("{} services", group.services.len())
    }];
    let entries: Vec<&str> = group
        .services
        .iter()
        .map(String::as_str)
        .filter(|name| {
            overlay.entries.iter().any(|e| e == name)
                || scenario
                    .links
                    .iter()
                    .any(|l| l.to == *name && !member(&l.from))
        })
        .collect();
    let throughput: f64 = entries
        .iter()
        .filter_map(|name| overlay.throughput.get(*name))
        .sum();
    let busiest = group
        .services
        .iter()
        .filter_map(|name| overlay.utilisation.get(name).map(|u| (name, *u)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let p99 = entries
        .iter()
        .filter_map(|name| overlay.p99_ms.get(*name))
        .copied()
        .fold(None, |max: Option<f64>, v| {
            Some(max.map_or(v, |m| m.max(v)))
        });
    if let Some((name, u)) = busiest {
        lines.push(format!("in {throughput:.1} req/s"));
        lines.push(format!("busiest {name} {:.0}%", 100.0 * u));
        if let Some(p99) = p99 {
            lines.push(format!(
                "p99 through {}",
                crate::model::human_secs(p99 / 1e3)
            ));
        }
    } else {
        lines.push("simulate for its figures".to_owned());
    }
    lines
}

impl Canvas {
    /// Puts every group on screen for this frame, after the nodes: a box
    /// around its members, or one node in their place when folded, whose
    /// members are then hidden. `moving` services are shifted by `delta`.
    pub(super) fn layout_groups(
        &mut self,
        scenario: &Scenario,
        m: Metrics,
        moving: &[String],
        delta: Vec2,
    ) {
        let zoom = self.view.zoom();
        let index = scenario.index_by_name();
        self.groups.clear();
        for (g, group) in scenario.groups.iter().enumerate() {
            let members: Vec<usize> = group
                .services
                .iter()
                .filter_map(|name| index.get(name.as_str()).copied())
                .collect();
            let Some(bounds) = members
                .iter()
                .map(|&i| {
                    let s = &scenario.services[i];
                    let mut r = geometry::node_rect(s.position, self.size_of(&s.name));
                    if moving.contains(&s.name) {
                        r = r.translate(delta);
                    }
                    r
                })
                .reduce(Rect::union)
            else {
                continue;
            };
            let canvas = if group.collapsed {
                let rows = 4.0;
                Rect::from_min_size(
                    bounds.min,
                    vec2(FOLDED_WIDTH, m.header + rows * m.row + m.pad),
                )
            } else {
                Rect::from_min_max(
                    bounds.min - vec2(PAD, PAD + m.header),
                    bounds.max + vec2(PAD, PAD),
                )
            };
            let rect = Rect::from_min_max(
                self.view.to_screen(canvas.min),
                self.view.to_screen(canvas.max),
            );
            let title = Rect::from_min_size(rect.min, vec2(rect.width(), m.header * zoom));
            let side = (m.header * zoom * 0.8).max(12.0);
            // At the title's right end, clear of a folded node's output pin.
            let inset = side * 0.5 + geometry::pin_radius(zoom) + 6.0;
            let toggle = Rect::from_center_size(
                pos2(title.right() - inset, title.center().y),
                Vec2::splat(side),
            );
            let (input, output) = geometry::pins(rect, m.header * zoom);
            if group.collapsed {
                for &i in &members {
                    self.drawn[i].hidden = Some(self.groups.len());
                }
            }
            self.groups.push(DrawnGroup {
                index: g,
                rect,
                title,
                toggle,
                collapsed: group.collapsed,
                input,
                output,
            });
        }
    }

    /// Paints the expanded groups' boxes, under the wires and nodes.
    pub(super) fn paint_group_boxes(&self, painter: &Painter, scenario: &Scenario, m: Metrics) {
        let zoom = self.view.zoom();
        for d in self.groups.iter().filter(|d| !d.collapsed) {
            let group = &scenario.groups[d.index];
            let c = color(group);
            painter.rect_filled(d.rect, CornerRadius::same(8), c.gamma_multiply(0.08));
            painter.rect_stroke(
                d.rect,
                CornerRadius::same(8),
                Stroke::new(1.5, c.gamma_multiply(0.8)),
                StrokeKind::Inside,
            );
            painter.rect_filled(
                d.title,
                CornerRadius {
                    nw: 8,
                    ne: 8,
                    sw: 0,
                    se: 0,
                },
                c.gamma_multiply(0.3),
            );
            let size = m.font * zoom;
            if size >= 4.0 {
                let strong = painter.ctx().global_style().visuals.strong_text_color();
                painter.text(
                    d.toggle.center(),
                    Align2::CENTER_CENTER,
                    "−",
                    FontId::proportional(size),
                    strong,
                );
                painter.text(
                    pos2(d.title.left() + m.pad * zoom, d.title.center().y),
                    Align2::LEFT_CENTER,
                    &group.name,
                    FontId::proportional(size),
                    strong,
                );
            }
        }
    }

    /// Paints the folded groups as nodes, with their figures.
    pub(super) fn paint_folded(
        &self,
        painter: &Painter,
        scenario: &Scenario,
        overlay: &Overlay,
        m: Metrics,
        selected: &[String],
        lit: &dyn Fn(usize) -> bool,
    ) {
        let zoom = self.view.zoom();
        for (k, d) in self.groups.iter().enumerate().filter(|(_, d)| d.collapsed) {
            let group = &scenario.groups[d.index];
            let c = color(group);
            let text = NodeText {
                tag: "GRP",
                name: group.name.clone(),
                lines: figures(scenario, group, overlay)
                    .into_iter()
                    .map(|line| (line, Color32::PLACEHOLDER))
                    .collect(),
                problems: None,
            };
            let busy = group
                .services
                .iter()
                .filter_map(|s| overlay.utilisation.get(s))
                .copied()
                .reduce(f64::max);
            let look = NodeLook {
                kind: c,
                busy,
                bottleneck: overlay
                    .bottleneck
                    .as_ref()
                    .is_some_and(|b| group.services.contains(b)),
                selected: !group.services.is_empty()
                    && group.services.iter().all(|s| selected.contains(s)),
                lit: lit(k),
            };
            draw::node(painter, d.rect, zoom, m, &text, &look);
            draw::pins(painter, d.input, d.output, zoom, c, look.lit);
            if m.font * zoom >= 4.0 {
                painter.text(
                    d.toggle.center(),
                    Align2::CENTER_CENTER,
                    "+",
                    FontId::proportional(m.font * zoom),
                    painter.ctx().global_style().visuals.strong_text_color(),
                );
            }
            // A second outline: a folded group, not a service.
            painter.rect_stroke(
                d.rect.expand(3.0),
                CornerRadius::same(8),
                Stroke::new(1.0, c.gamma_multiply(0.7)),
                StrokeKind::Outside,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Overlay, figures};
    use crate::model::{Group, Link, Scenario, Service, ServiceKind};

    /// gateway → api → {db, cache}, api → search; the group holds api, db
    /// and cache. Into the group: api's 100 req/s (db is called only from
    /// inside). The busiest member is db at 90%; the p99 through the group
    /// is api's, its only entry.
    #[test]
    fn a_folded_group_sums_what_enters_it_and_names_its_busiest_member() {
        let service = |n: &str| Service::new(n, ServiceKind::Service, "1ms".parse().unwrap());
        let scenario = Scenario {
            name: "s".into(),
            description: String::new(),
            services: ["gateway", "api", "db", "cache", "search"]
                .map(service)
                .to_vec(),
            links: vec![
                Link::new("gateway", "api"),
                Link::new("api", "db"),
                Link::new("api", "cache"),
                Link::new("api", "search"),
            ],
            groups: Vec::new(),
        };
        let group = Group {
            name: "core".into(),
            services: vec!["api".into(), "db".into(), "cache".into()],
            color: None,
            collapsed: true,
        };
        let mut overlay = Overlay::default();
        assert_eq!(
            figures(&scenario, &group, &overlay),
            ["3 services", "simulate for its figures"]
        );
        for (name, rps, u, p99) in [
            ("gateway", 100.0, 0.1, 30.0),
            ("api", 100.0, 0.5, 25.0),
            ("db", 100.0, 0.9, 12.0),
            ("cache", 100.0, 0.2, 1.0),
            ("search", 100.0, 0.95, 8.0),
        ] {
            overlay.throughput.insert(name.into(), rps);
            overlay.utilisation.insert(name.into(), u);
            overlay.p99_ms.insert(name.into(), p99);
        }
        assert_eq!(
            figures(&scenario, &group, &overlay),
            [
                "3 services",
                "in 100.0 req/s",
                "busiest db 90%",
                "p99 through 25 ms"
            ]
        );
        // The workload entering at a member counts it as an entry too.
        overlay.entries = vec!["cache".into()];
        assert_eq!(figures(&scenario, &group, &overlay)[1], "in 200.0 req/s");
    }
}
