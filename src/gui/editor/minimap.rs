//! The minimap: the whole scenario in a corner of the canvas, with the
//! view's rectangle over it. Press or drag on it to move the view there.
//!
//! It shows when the view does not hold every node (when everything is in
//! view there is nothing to find), and stays while it is being dragged.

use eframe::egui::{self, Id, Painter, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, vec2};

use crate::model::Scenario;

use crate::gui::theme;

use super::Canvas;
use super::geometry;

/// The most room the minimap takes, in screen points.
const MAX_SIZE: egui::Vec2 = egui::Vec2::new(220.0, 150.0);

/// Its distance from the canvas's edges.
const INSET: f32 = 10.0;

/// Canvas units left around the nodes.
const MARGIN: f32 = 80.0;

/// Where the minimap is this frame and what it maps.
#[derive(Clone, Copy, Debug)]
pub(super) struct Map {
    /// On screen.
    pub screen: Rect,
    /// The part of the canvas it shows (canvas units).
    pub world: Rect,
}

impl Map {
    fn to_screen(self, p: Pos2) -> Pos2 {
        let t = (p - self.world.min) / self.world.size();
        self.screen.min + t * self.screen.size()
    }

    fn to_canvas(self, p: Pos2) -> Pos2 {
        let t = (p - self.screen.min) / self.screen.size();
        self.world.min + t * self.world.size()
    }

    fn rect_to_screen(self, r: Rect) -> Rect {
        Rect::from_min_max(self.to_screen(r.min), self.to_screen(r.max))
    }
}

/// The least width of the part shown, against its height (and the other
/// way round): a tall column or a long chain still gets a map wide enough
/// to aim at.
const MIN_ASPECT: f32 = 0.4;

/// `world` widened or heightened about its centre to at least
/// [`MIN_ASPECT`].
fn widened(world: Rect) -> Rect {
    let size = world.size();
    let wanted = egui::vec2(
        size.x.max(size.y * MIN_ASPECT),
        size.y.max(size.x * MIN_ASPECT),
    );
    Rect::from_center_size(world.center(), wanted)
}

impl Canvas {
    /// The nodes' bounds in canvas units.
    fn bounds(&self, scenario: &Scenario) -> Option<Rect> {
        scenario
            .services
            .iter()
            .map(|s| geometry::node_rect(s.position, self.size_of(&s.name)))
            .reduce(Rect::union)
    }

    /// The canvas in view (canvas units).
    fn in_view(&self) -> Rect {
        Rect::from_min_max(
            self.view.to_canvas(self.rect.min),
            self.view.to_canvas(self.rect.max),
        )
    }

    /// Where the minimap goes this frame, if it shows.
    fn map(&self, scenario: &Scenario) -> Option<Map> {
        let bounds = self.bounds(scenario)?;
        let view = self.in_view();
        let world = match self.minimap_world {
            Some(world) => world,
            None if view.contains_rect(bounds) => return None,
            None => widened(bounds.expand(MARGIN).union(view)),
        };
        let room = MAX_SIZE.min(self.rect.size() * 0.4);
        let scale = (room / world.size()).min_elem();
        if !(scale.is_finite() && scale > 0.0) {
            return None;
        }
        let size = world.size() * scale;
        let screen = Rect::from_min_size(self.rect.max - size - vec2(INSET, INSET), size);
        Some(Map { screen, world })
    }

    /// A press or drag on the minimap centres the view on the point under
    /// the pointer. The part of the canvas it shows is held still while the
    /// button is down, so the map does not slide under the pointer.
    pub(super) fn minimap_input(&mut self, ui: &Ui, scenario: &Scenario) {
        let Some(map) = self.map(scenario) else {
            self.minimap = None;
            self.minimap_world = None;
            return;
        };
        self.minimap = Some(map.screen);
        let response = ui.interact(
            map.screen,
            Id::new("canvas-minimap"),
            Sense::click_and_drag(),
        );
        response
            .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Other, true, "Minimap"));
        // Held still from press to release: the view's rectangle is part
        // of what the map shows, so moving the view would move the map.
        let down = response.is_pointer_button_down_on();
        self.minimap_world = down.then_some(self.minimap_world.unwrap_or(map.world));
        if (down || response.clicked())
            && let Some(p) = response.interact_pointer_pos()
        {
            let target = map.to_canvas(map.screen.clamp(p));
            let zoom = self.view.zoom();
            self.view.0.translation = self.rect.center().to_vec2() - target.to_vec2() * zoom;
            self.fit = 0;
        }
        if response.hovered() {
            response.on_hover_text("the whole scenario: press or drag to move the view");
        }
    }

    /// Paints the minimap over the canvas: nodes in their kind's colour
    /// (the selection highlighted), calls as straight lines, the view's
    /// rectangle.
    pub(super) fn minimap_paint(
        &mut self,
        painter: &Painter,
        scenario: &Scenario,
        selected: &[String],
    ) {
        let Some(map) = self.map(scenario) else {
            self.minimap = None;
            return;
        };
        self.minimap = Some(map.screen);
        let visuals = &painter.ctx().global_style().visuals;
        painter.rect_filled(
            map.screen.expand(4.0),
            4.0,
            visuals.extreme_bg_color.gamma_multiply(0.93),
        );
        painter.rect_stroke(
            map.screen.expand(4.0),
            4.0,
            Stroke::new(1.0, visuals.weak_text_color()),
            StrokeKind::Outside,
        );
        let painter = painter.with_clip_rect(map.screen.expand(4.0));
        let rects: Vec<Rect> = scenario
            .services
            .iter()
            .map(|s| {
                let r = map.rect_to_screen(geometry::node_rect(s.position, self.size_of(&s.name)));
                Rect::from_center_size(r.center(), r.size().max(vec2(2.0, 2.0)))
            })
            .collect();
        let index = scenario.index_by_name();
        let wire = Stroke::new(1.0, visuals.weak_text_color().gamma_multiply(0.6));
        for link in &scenario.links {
            if let (Some(&a), Some(&b)) =
                (index.get(link.from.as_str()), index.get(link.to.as_str()))
            {
                painter.line_segment([rects[a].right_center(), rects[b].left_center()], wire);
            }
        }
        for (service, rect) in scenario.services.iter().zip(&rects) {
            let color = if selected.contains(&service.name) {
                theme::SELECTED
            } else {
                theme::kind_color(service.kind)
            };
            painter.rect_filled(*rect, 1.0, color);
        }
        let view = map.rect_to_screen(self.in_view()).intersect(map.screen);
        painter.rect_filled(view, 2.0, theme::SELECTED.gamma_multiply(0.12));
        painter.rect_stroke(
            view,
            2.0,
            Stroke::new(1.5, theme::SELECTED),
            StrokeKind::Inside,
        );
    }
}
