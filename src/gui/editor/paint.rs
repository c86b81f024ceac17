//! Painting the whole canvas for a frame: grid, wires, nodes, the gesture
//! under way.

use std::collections::HashSet;

use eframe::egui::{self, Rect, Stroke, StrokeKind};

use crate::model::{CallMode, Scenario, ServiceKind};

use crate::gui::selection::Selection;
use crate::gui::theme;

use super::draw::{self, Metrics, NodeLook, NodeText, WireLook};
use super::geometry::{self};

use super::{Canvas, Frame, Gesture, Target, first_of_group};

/// With services selected, the names drawn at full strength: the
/// selection, its callers and its callees (the rest dims); `None` without
/// a selection (nothing dims).
pub(super) fn lit<'a>(scenario: &'a Scenario, selected: &'a [String]) -> Option<HashSet<&'a str>> {
    if selected.is_empty() {
        return None;
    }
    let mut names: HashSet<&str> = selected.iter().map(String::as_str).collect();
    for l in &scenario.links {
        if selected.contains(&l.to) {
            names.insert(&l.from);
        }
        if selected.contains(&l.from) {
            names.insert(&l.to);
        }
    }
    Some(names)
}

impl Canvas {
    pub(super) fn paint(
        &self,
        painter: &egui::Painter,
        frame: &Frame<'_>,
        scenario: &Scenario,
        texts: &[NodeText],
        m: Metrics,
    ) {
        let zoom = self.view.zoom();
        draw::grid(painter, self.rect, self.view);
        self.paint_group_boxes(painter, scenario, m);
        let selected: &[String] = match frame.selection {
            Selection::Services(names) => names,
            _ => &[],
        };
        let selected_link = match frame.selection {
            Selection::Link(i) => Some(*i),
            _ => None,
        };
        let lit_names = lit(scenario, selected);
        let lit = |name: &str| lit_names.as_ref().is_none_or(|l| l.contains(name));
        let visible = self.rect.expand(40.0);
        let hovered = match &self.gesture {
            Gesture::Idle => painter
                .ctx()
                .pointer_hover_pos()
                .filter(|p| self.rect.contains(*p))
                .map(|p| self.hit(p)),
            _ => None,
        };

        for (i, (link, points)) in scenario.links.iter().zip(&self.wires).enumerate() {
            if points.is_empty() {
                continue;
            }
            let bounds = Rect::from_points(points);
            if !bounds.intersects(visible) {
                continue;
            }
            let kind = scenario
                .service_index(&link.from)
                .map_or(ServiceKind::Service, |a| scenario.services[a].kind);
            let on =
                selected.is_empty() || selected.contains(&link.from) || selected.contains(&link.to);
            let mut color = link
                .parallel_group
                .as_deref()
                .map_or(theme::kind_color(kind), theme::group_color);
            let mut width = 2.0;
            if selected_link == Some(i) {
                color = theme::SELECTED;
                width = 3.5;
            } else if hovered == Some(Target::Link(i)) {
                width = 3.0;
            } else if !on {
                color = color.gamma_multiply(0.35);
            }
            draw::wire(
                painter,
                points,
                zoom,
                &WireLook {
                    color,
                    width,
                    dashed: link.mode == CallMode::Async,
                },
            );
            let size = m.font * zoom * 0.92;
            if let Some(label) = draw::wire_label(link) {
                draw::plate(painter, geometry::along(points, 0.5), &label, size, color);
            }
            if let Some(group) = &link.parallel_group
                && first_of_group(scenario, i, link)
            {
                draw::plate(
                    painter,
                    geometry::along(points, 0.18),
                    &format!("|| {group}"),
                    size,
                    color,
                );
            }
        }

        let group_lit = |k: usize| {
            self.groups
                .get(k)
                .and_then(|d| scenario.groups.get(d.index))
                .is_some_and(|g| g.services.iter().any(|s| lit(s)))
        };
        self.paint_folded(painter, scenario, frame.overlay, m, selected, &group_lit);
        for &i in &self.order {
            let (Some(service), Some(d), Some(text)) =
                (scenario.services.get(i), self.drawn.get(i), texts.get(i))
            else {
                continue;
            };
            if !d.rect.intersects(visible) {
                continue;
            }
            let is_lit = lit(&service.name);
            let look = NodeLook {
                kind: theme::kind_color(service.kind),
                busy: frame.overlay.utilisation.get(&service.name).copied(),
                bottleneck: frame.overlay.bottleneck.as_deref() == Some(service.name.as_str()),
                selected: selected.contains(&service.name),
                lit: is_lit,
            };
            draw::node(painter, d.rect, zoom, m, text, &look);
            draw::pins(painter, d.input, d.output, zoom, look.kind, is_lit);
        }

        match &self.gesture {
            Gesture::Wire {
                service,
                output,
                pointer,
            } => {
                if let Some(d) = self.drawn.iter().find(|d| d.name == *service) {
                    let points = if *output {
                        geometry::wire_points(d.output, *pointer, zoom)
                    } else {
                        geometry::wire_points(*pointer, d.input, zoom)
                    };
                    draw::wire(
                        painter,
                        &points,
                        zoom,
                        &WireLook {
                            color: theme::SELECTED,
                            width: 2.5,
                            dashed: false,
                        },
                    );
                }
            }
            Gesture::Select { from, to, .. } => {
                let area = Rect::from_two_pos(*from, *to);
                painter.rect_filled(area, 2.0, theme::SELECTED.gamma_multiply(0.08));
                painter.rect_stroke(
                    area,
                    2.0,
                    Stroke::new(1.0, theme::SELECTED),
                    StrokeKind::Inside,
                );
            }
            _ => {}
        }
    }
}
