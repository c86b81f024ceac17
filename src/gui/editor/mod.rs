//! The canvas: the scenario's services as a node editor.
//!
//! It is drawn from the project on every frame, so the canvas and the
//! project cannot disagree. What the user does becomes [`Command`]s: a drag
//! shows its nodes moving and ends in one `MoveServices` edit (one undo
//! step); a wire dropped on a node is a `Connect`; clicks and rectangles
//! change the selection. The view (pan and zoom), the gesture under way and
//! the measured node sizes are the canvas's own state, never saved.
//!
//! Pointer: press on a node and drag to move it (with the rest of the
//! selection); click to select, Shift or Ctrl+click to add or remove; drag
//! on empty canvas to select with a rectangle; drag from a pin to a node to
//! add a call, or to empty canvas to add a service there, connected. The
//! wheel zooms about the pointer; the middle or right button drags the view.

mod draw;
mod geometry;

use std::collections::{BTreeMap, HashMap};

use eframe::egui::{
    self, Color32, Id, Key, PointerButton, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2,
    emath::TSTransform,
};

use crate::model::{CallMode, Choice, Link, Position, Project, Scenario, ServiceKind};

use super::command::{Command, Edit, Wired};
use super::selection::Selection;
use super::theme;

use draw::{Metrics, NodeLook, NodeText, WireLook};
use geometry::View;

/// Results drawn over the canvas after a run.
#[derive(Default)]
pub struct Overlay {
    /// Busy fraction by service name.
    pub utilisation: BTreeMap<String, f64>,
    /// The service that limits throughput.
    pub bottleneck: Option<String>,
    /// Validation messages by service name.
    pub problems: BTreeMap<String, Vec<String>>,
}

/// Frames over which a fit is repeated while the layout settles.
const FIT_FRAMES: u8 = 3;

/// What is under a point of the canvas.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Empty,
    Node(usize),
    /// A node's output pin: calls leave here.
    Output(usize),
    /// A node's input pin: calls arrive here.
    Input(usize),
    Link(usize),
}

/// What the pointer is doing, from press to release.
#[derive(Clone, Debug, Default)]
enum Gesture {
    #[default]
    Idle,
    /// Moving these services by `delta` (canvas units).
    Move { names: Vec<String>, delta: Vec2 },
    /// A wire from a pin of `service` follows the pointer.
    Wire {
        service: String,
        /// From the output pin (a call out), or the input pin (a call in).
        output: bool,
        pointer: Pos2,
    },
    /// A selection rectangle (screen points).
    Select {
        from: Pos2,
        to: Pos2,
        additive: bool,
    },
    /// Dragging the view.
    Pan,
}

/// A wire dropped on empty canvas: offer a new service there, connected.
struct DropMenu {
    wired: Wired,
    /// Where the new service goes (canvas units).
    at: Position,
    /// Where the menu shows (screen points).
    screen: Pos2,
}

/// One node as drawn this frame.
struct Drawn {
    name: String,
    /// On screen.
    rect: Rect,
    input: Pos2,
    output: Pos2,
}

/// The canvas's own state.
pub struct Canvas {
    view: View,
    /// Fit the view to the nodes for this many more frames (the panels
    /// around the canvas settle in the first frames of a window).
    fit: u8,
    /// The scenario drawn last frame.
    shown: Option<usize>,
    gesture: Gesture,
    /// The project's revision when the gesture began: if the project
    /// changes under a gesture (undo, delete), the gesture is dropped.
    gesture_revision: u64,
    /// Node sizes in canvas units, as last measured.
    sizes: HashMap<String, Vec2>,
    /// This frame's nodes and wires on screen, for hit testing and tests.
    drawn: Vec<Drawn>,
    /// Indices into `drawn` in painting order: the selection on top.
    order: Vec<usize>,
    wires: Vec<Vec<Pos2>>,
    /// The canvas on screen.
    rect: Rect,
    /// What the context menu was opened on.
    menu_target: Target,
    drop_menu: Option<DropMenu>,
}

impl Default for Canvas {
    fn default() -> Self {
        Self {
            view: View(TSTransform::IDENTITY),
            fit: FIT_FRAMES,
            shown: None,
            gesture: Gesture::Idle,
            gesture_revision: 0,
            sizes: HashMap::new(),
            drawn: Vec::new(),
            order: Vec::new(),
            wires: Vec::new(),
            rect: Rect::NOTHING,
            menu_target: Target::Empty,
            drop_menu: None,
        }
    }
}

/// What the canvas needs to draw a frame.
pub struct Frame<'a> {
    /// The project.
    pub project: &'a Project,
    /// Its revision, to notice changes under a gesture.
    pub revision: u64,
    /// The scenario on the canvas.
    pub scenario: usize,
    /// Results and problems drawn over it.
    pub overlay: &'a Overlay,
    /// What is selected.
    pub selection: &'a Selection,
    /// A text field had the keyboard when the frame began (its Escape is
    /// not the canvas's).
    pub typing: bool,
}

impl Canvas {
    /// Fits the view to the services on the next frame.
    pub fn fit(&mut self) {
        self.fit = FIT_FRAMES;
    }

    /// The zoom: screen points per canvas unit.
    pub fn zoom(&self) -> f32 {
        self.view.zoom()
    }

    /// A service's node on screen, as drawn last frame.
    pub fn node_rect(&self, name: &str) -> Option<Rect> {
        self.drawn.iter().find(|d| d.name == name).map(|d| d.rect)
    }

    /// A service's input and output pins on screen, as drawn last frame.
    pub fn node_pins(&self, name: &str) -> Option<(Pos2, Pos2)> {
        self.drawn
            .iter()
            .find(|d| d.name == name)
            .map(|d| (d.input, d.output))
    }

    /// The middle of link `index`'s wire on screen, as drawn last frame.
    pub fn link_point(&self, index: usize) -> Option<Pos2> {
        self.wires
            .get(index)
            .filter(|w| !w.is_empty())
            .map(|w| geometry::along(w, 0.5))
    }

    /// Whether screen point `p` is empty canvas: no node, pin or wire.
    pub fn is_empty_at(&self, p: Pos2) -> bool {
        self.rect.contains(p) && self.hit(p) == Target::Empty
    }

    /// The canvas on screen, as drawn last frame.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    fn size_of(&self, name: &str) -> Vec2 {
        self.sizes
            .get(name)
            .copied()
            .unwrap_or(geometry::DEFAULT_NODE)
    }

    /// Where a new service goes near canvas point `near` (its centre): the
    /// nearest spot where it overlaps no node.
    pub fn free_spot(&self, scenario: &Scenario, near: Position) -> Position {
        let size = self
            .sizes
            .values()
            .copied()
            .fold(geometry::DEFAULT_NODE, Vec2::max);
        geometry::free_spot(scenario, |name| self.size_of(name), size, near)
    }

    /// Where a palette service goes: free space near the middle of the view.
    pub fn place_new(&self, scenario: &Scenario) -> Position {
        let center = if self.rect.is_positive() {
            self.view.to_canvas(self.rect.center())
        } else {
            Pos2::ZERO
        };
        self.free_spot(
            scenario,
            Position {
                x: center.x,
                y: center.y,
            },
        )
    }

    /// Draws the scenario and turns what the user does into commands.
    pub fn ui(&mut self, ui: &mut Ui, frame: &Frame<'_>, commands: &mut Vec<Command>) {
        let Some(scenario) = frame.project.scenarios.get(frame.scenario) else {
            return;
        };
        if self.shown != Some(frame.scenario) {
            self.shown = Some(frame.scenario);
            self.fit = FIT_FRAMES;
            self.gesture = Gesture::Idle;
            self.drop_menu = None;
        }
        if frame.revision != self.gesture_revision {
            // The project changed under the gesture: drop it, so nothing
            // stale is applied on release.
            self.gesture = Gesture::Idle;
            self.gesture_revision = frame.revision;
        }

        let rect = ui.available_rect_before_wrap();
        self.rect = rect;
        let response = ui.allocate_rect(rect, Sense::click_and_drag());
        let painter = ui.painter_at(rect);
        let m = Metrics::of(ui);

        // Measure every node at 100% (cheap: egui caches laid-out text).
        let texts: Vec<NodeText> = scenario
            .services
            .iter()
            .map(|s| NodeText::of(s, frame.overlay))
            .collect();
        self.sizes.clear();
        for text in &texts {
            self.sizes.insert(text.name.clone(), text.size(&painter, m));
        }

        if self.fit > 0 {
            self.fit -= 1;
            self.view = match scenario
                .services
                .iter()
                .map(|s| geometry::node_rect(s.position, self.size_of(&s.name)))
                .reduce(Rect::union)
            {
                Some(bounds) if rect.is_positive() => View::fitting(bounds, rect),
                _ => View(TSTransform::from_translation(rect.center().to_vec2())),
            };
        }
        if response.hovered() {
            self.wheel(ui, rect);
        }

        self.layout(scenario, m, frame.selection);
        self.interact(ui, &response, frame, scenario, commands);
        self.layout(scenario, m, frame.selection);
        self.paint(&painter, frame, scenario, &texts, m);
        self.accessibility(ui, &texts);
        self.tooltips(&response, scenario, frame.overlay);
        self.menus(ui, &response, frame, scenario, commands);
    }

    /// The wheel zooms about the pointer, a gentle step a notch; a
    /// trackpad's two-finger scroll pans.
    fn wheel(&mut self, ui: &Ui, rect: Rect) {
        let (events, pointer) = ui.input(|i| (i.events.clone(), i.pointer.hover_pos()));
        let pointer = pointer.unwrap_or(rect.center());
        for event in events {
            match event {
                egui::Event::MouseWheel {
                    unit,
                    delta,
                    modifiers,
                    ..
                } => {
                    let notches = match unit {
                        egui::MouseWheelUnit::Line => delta.y,
                        egui::MouseWheelUnit::Page => delta.y * 3.0,
                        egui::MouseWheelUnit::Point => {
                            if !modifiers.command {
                                // A trackpad: scroll the view.
                                self.view.0.translation += delta;
                                continue;
                            }
                            delta.y / 40.0
                        }
                    };
                    self.fit = 0;
                    let notches = notches.clamp(-3.0, 3.0);
                    self.view
                        .zoom_about(pointer, geometry::ZOOM_PER_NOTCH.powf(notches));
                }
                egui::Event::Zoom(factor) => {
                    self.fit = 0;
                    self.view.zoom_about(pointer, factor);
                }
                _ => {}
            }
        }
    }

    /// Puts every node, pin and wire on screen for this frame.
    fn layout(&mut self, scenario: &Scenario, m: Metrics, selection: &Selection) {
        let zoom = self.view.zoom();
        let (moving, delta) = match &self.gesture {
            Gesture::Move { names, delta } => (names.as_slice(), *delta),
            _ => (&[][..], Vec2::ZERO),
        };
        self.drawn = scenario
            .services
            .iter()
            .map(|s| {
                let mut canvas = geometry::node_rect(s.position, self.size_of(&s.name));
                if moving.contains(&s.name) {
                    canvas = canvas.translate(delta);
                }
                let rect = Rect::from_min_max(
                    self.view.to_screen(canvas.min),
                    self.view.to_screen(canvas.max),
                );
                let (input, output) = geometry::pins(rect, m.header * zoom);
                Drawn {
                    name: s.name.clone(),
                    rect,
                    input,
                    output,
                }
            })
            .collect();
        let on_top = |name: &str| match (selection, &self.gesture) {
            (_, Gesture::Move { names, .. }) => names.iter().any(|n| n == name),
            (Selection::Services(names), _) => names.iter().any(|n| n == name),
            _ => false,
        };
        let (mut order, top): (Vec<usize>, Vec<usize>) =
            (0..self.drawn.len()).partition(|&i| !on_top(&self.drawn[i].name));
        order.extend(top);
        self.order = order;
        self.wires = scenario
            .links
            .iter()
            .map(|l| {
                match (
                    scenario.service_index(&l.from),
                    scenario.service_index(&l.to),
                ) {
                    (Some(a), Some(b)) => {
                        geometry::wire_points(self.drawn[a].output, self.drawn[b].input, zoom)
                    }
                    _ => Vec::new(),
                }
            })
            .collect();
    }

    /// What is at screen point `p`: pins first, then nodes (top first),
    /// then wires.
    fn hit(&self, p: Pos2) -> Target {
        // Generous at every zoom: a pin is small when zoomed out.
        let reach = (geometry::pin_radius(self.view.zoom()) + 4.0).max(10.0);
        for &i in self.order.iter().rev() {
            let d = &self.drawn[i];
            if d.output.distance(p) <= reach {
                return Target::Output(i);
            }
            if d.input.distance(p) <= reach {
                return Target::Input(i);
            }
        }
        if let Some(&i) = self
            .order
            .iter()
            .rev()
            .find(|&&i| self.drawn[i].rect.contains(p))
        {
            return Target::Node(i);
        }
        if let Some(i) = self
            .wires
            .iter()
            .rposition(|w| !w.is_empty() && geometry::hits_wire(w, p))
        {
            return Target::Link(i);
        }
        Target::Empty
    }

    fn interact(
        &mut self,
        ui: &Ui,
        response: &egui::Response,
        frame: &Frame<'_>,
        scenario: &Scenario,
        commands: &mut Vec<Command>,
    ) {
        let (modifiers, origin, pointer, escape) = ui.input(|i| {
            (
                i.modifiers,
                i.pointer.press_origin(),
                i.pointer.interact_pos(),
                i.key_pressed(Key::Escape),
            )
        });
        let additive = modifiers.shift || modifiers.command;
        let selected: &[String] = match frame.selection {
            Selection::Services(names) => names,
            _ => &[],
        };
        let name = |i: usize| scenario.services[i].name.clone();

        if response.drag_started_by(PointerButton::Middle)
            || response.drag_started_by(PointerButton::Secondary)
        {
            self.fit = 0;
            self.gesture = Gesture::Pan;
        } else if response.drag_started_by(PointerButton::Primary)
            && let Some(origin) = origin
        {
            self.drop_menu = None;
            self.gesture_revision = frame.revision;
            self.gesture = match self.hit(origin) {
                Target::Output(i) | Target::Input(i) => Gesture::Wire {
                    service: name(i),
                    output: matches!(self.hit(origin), Target::Output(_)),
                    pointer: pointer.unwrap_or(origin),
                },
                Target::Node(i) => {
                    let grabbed = name(i);
                    let names = if selected.contains(&grabbed) {
                        selected.to_vec()
                    } else if additive {
                        let mut names = selected.to_vec();
                        names.push(grabbed);
                        names
                    } else {
                        vec![grabbed]
                    };
                    if names != selected {
                        commands.push(Command::SelectServices(names.clone()));
                    }
                    Gesture::Move {
                        names,
                        delta: Vec2::ZERO,
                    }
                }
                Target::Link(_) | Target::Empty => Gesture::Select {
                    from: origin,
                    to: origin,
                    additive,
                },
            };
        }

        // Follow the pointer while the button is held.
        let zoom = self.view.zoom();
        match &mut self.gesture {
            Gesture::Move { delta, .. } => {
                if let (Some(origin), Some(pointer)) = (origin, pointer) {
                    *delta = (pointer - origin) / zoom;
                }
            }
            Gesture::Wire { pointer: at, .. } | Gesture::Select { to: at, .. } => {
                if let Some(pointer) = pointer {
                    *at = pointer;
                }
            }
            Gesture::Pan => self.view.0.translation += response.drag_delta(),
            Gesture::Idle => {}
        }

        if response.drag_stopped() || (escape && !matches!(self.gesture, Gesture::Idle)) {
            let gesture = std::mem::take(&mut self.gesture);
            if !escape {
                self.finish(gesture, frame, scenario, selected, commands);
            }
            return;
        }

        if response.clicked_by(PointerButton::Primary)
            && let Some(p) = pointer
        {
            self.drop_menu = None;
            match self.hit(p) {
                Target::Node(i) | Target::Input(i) | Target::Output(i) => {
                    let clicked = name(i);
                    let names = if additive {
                        let mut names = selected.to_vec();
                        if let Some(at) = names.iter().position(|n| *n == clicked) {
                            names.remove(at);
                        } else {
                            names.push(clicked);
                        }
                        names
                    } else {
                        vec![clicked]
                    };
                    commands.push(Command::SelectServices(names));
                }
                Target::Link(i) => commands.push(Command::SelectLink(i)),
                Target::Empty => {
                    if !additive {
                        commands.push(Command::SelectServices(Vec::new()));
                    }
                }
            }
        }
        if response.secondary_clicked()
            && let Some(p) = pointer
        {
            self.menu_target = self.hit(p);
        }
        if escape
            && !frame.typing
            && self.drop_menu.take().is_none()
            && *frame.selection != Selection::None
        {
            commands.push(Command::SelectServices(Vec::new()));
        }
    }

    /// Ends a gesture at release.
    fn finish(
        &mut self,
        gesture: Gesture,
        frame: &Frame<'_>,
        scenario: &Scenario,
        selected: &[String],
        commands: &mut Vec<Command>,
    ) {
        match gesture {
            Gesture::Move { names, delta } => {
                if delta == Vec2::ZERO {
                    return;
                }
                let moves = scenario
                    .services
                    .iter()
                    .filter(|s| names.contains(&s.name))
                    .map(|s| {
                        let at = Position {
                            x: bounded(s.position.x + delta.x),
                            y: bounded(s.position.y + delta.y),
                        };
                        (s.name.clone(), at)
                    })
                    .collect();
                commands.push(Command::Edit(Edit::MoveServices {
                    scenario: frame.scenario,
                    moves,
                }));
            }
            Gesture::Wire {
                service,
                output,
                pointer,
            } => match self.hit(pointer) {
                Target::Node(i) | Target::Input(i) | Target::Output(i) => {
                    let other = scenario.services[i].name.clone();
                    let (from, to) = if output {
                        (service, other)
                    } else {
                        (other, service)
                    };
                    match refusal(frame.project, frame.scenario, &from, &to) {
                        Some(why) => commands.push(Command::Notify(why)),
                        None => commands.push(Command::Edit(Edit::Connect {
                            scenario: frame.scenario,
                            from,
                            to,
                        })),
                    }
                }
                Target::Empty | Target::Link(_) => {
                    let at = self.view.to_canvas(pointer);
                    let wired = if output {
                        Wired::CalledBy(service)
                    } else {
                        Wired::Calling(service)
                    };
                    self.drop_menu = Some(DropMenu {
                        wired,
                        at: Position { x: at.x, y: at.y },
                        screen: pointer,
                    });
                }
            },
            Gesture::Select { from, to, additive } => {
                let area = Rect::from_two_pos(from, to);
                let mut names: Vec<String> = if additive {
                    selected.to_vec()
                } else {
                    Vec::new()
                };
                for d in &self.drawn {
                    if area.intersects(d.rect) && !names.contains(&d.name) {
                        names.push(d.name.clone());
                    }
                }
                commands.push(Command::SelectServices(names));
            }
            Gesture::Pan | Gesture::Idle => {}
        }
    }

    fn paint(
        &self,
        painter: &egui::Painter,
        frame: &Frame<'_>,
        scenario: &Scenario,
        texts: &[NodeText],
        m: Metrics,
    ) {
        let zoom = self.view.zoom();
        draw::grid(painter, self.rect, self.view);
        let selected: &[String] = match frame.selection {
            Selection::Services(names) => names,
            _ => &[],
        };
        let selected_link = match frame.selection {
            Selection::Link(i) => Some(*i),
            _ => None,
        };
        // With a selection, its callers and callees stay lit and the rest dims.
        let lit = |name: &str| {
            selected.is_empty()
                || selected.iter().any(|s| s == name)
                || scenario.links.iter().any(|l| {
                    (l.from == name && selected.contains(&l.to))
                        || (l.to == name && selected.contains(&l.from))
                })
        };
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

    /// Each node, and each problem badge, as a labelled widget, so screen
    /// readers (and the tests) find them.
    fn accessibility(&self, ui: &mut Ui, texts: &[NodeText]) {
        for (d, text) in self.drawn.iter().zip(texts) {
            if !d.rect.intersects(self.rect) {
                continue;
            }
            let id = Id::new(("canvas-node", &d.name));
            let node = ui.interact(d.rect.intersect(self.rect), id, Sense::hover());
            let label = format!("{} node", d.name);
            node.widget_info(|| {
                egui::WidgetInfo::labeled(egui::WidgetType::Other, true, label.clone())
            });
            if let Some(problems) = &text.problems {
                let badge = ui.interact(
                    Rect::from_center_size(
                        Pos2::new(d.rect.right() - 14.0, d.input.y),
                        Vec2::splat(16.0),
                    )
                    .intersect(self.rect),
                    id.with("badge"),
                    Sense::hover(),
                );
                let label = format!("⚠ {problems}");
                badge.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::WidgetType::Label, true, label.clone())
                });
            }
        }
    }

    /// Hovering a node shows its figures and problems; a wire, its settings.
    fn tooltips(&self, response: &egui::Response, scenario: &Scenario, overlay: &Overlay) {
        if !matches!(self.gesture, Gesture::Idle) || self.drop_menu.is_some() {
            return;
        }
        let Some(p) = response.hover_pos() else {
            return;
        };
        let lines = match self.hit(p) {
            Target::Node(i) | Target::Input(i) | Target::Output(i) => {
                let service = &scenario.services[i];
                let mut lines = draw::service_details(service, overlay);
                if let Some(problems) = overlay.problems.get(&service.name) {
                    lines.extend(problems.iter().map(|p| format!("⚠ {p}")));
                }
                lines
            }
            Target::Link(i) => draw::link_details(&scenario.links[i]),
            Target::Empty => return,
        };
        response.clone().on_hover_ui_at_pointer(|ui| {
            for line in lines {
                if let Some(problem) = line.strip_prefix("⚠ ") {
                    ui.colored_label(theme::PROBLEM, format!("⚠ {problem}"));
                } else {
                    ui.label(line);
                }
            }
        });
    }

    fn menus(
        &mut self,
        ui: &Ui,
        response: &egui::Response,
        frame: &Frame<'_>,
        scenario: &Scenario,
        commands: &mut Vec<Command>,
    ) {
        let target = self.menu_target.clone();
        let menu_at = ui
            .ctx()
            .pointer_interact_pos()
            .map_or(Pos2::ZERO, |p| self.view.to_canvas(p));
        response.context_menu(|ui| match target {
            Target::Node(i) | Target::Input(i) | Target::Output(i) => {
                let name = scenario.services[i].name.clone();
                ui.label(&name);
                if ui.button("Duplicate").clicked() {
                    commands.push(Command::Edit(Edit::DuplicateServices {
                        scenario: frame.scenario,
                        names: vec![name.clone()],
                    }));
                    ui.close();
                }
                if ui.button("Delete").clicked() {
                    commands.push(Command::Edit(Edit::RemoveServices {
                        scenario: frame.scenario,
                        names: vec![name],
                    }));
                    ui.close();
                }
            }
            Target::Link(i) => {
                let link = &scenario.links[i];
                ui.label(format!("{} calls {}", link.from, link.to));
                if ui.button("Delete call").clicked() {
                    commands.push(Command::Edit(Edit::RemoveLink {
                        scenario: frame.scenario,
                        index: i,
                    }));
                    ui.close();
                }
            }
            Target::Empty => {
                ui.label("Add");
                for &kind in ServiceKind::ALL {
                    if ui.button(kind.label()).clicked() {
                        let at = self.free_spot(
                            scenario,
                            Position {
                                x: menu_at.x,
                                y: menu_at.y,
                            },
                        );
                        commands.push(Command::Edit(Edit::AddService {
                            scenario: frame.scenario,
                            kind,
                            at,
                        }));
                        ui.close();
                    }
                }
            }
        });

        let Some(menu) = &self.drop_menu else {
            return;
        };
        let mut close = false;
        let area = egui::Area::new(Id::new("canvas-drop-menu"))
            .order(egui::Order::Foreground)
            .fixed_pos(menu.screen)
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.label(match &menu.wired {
                        Wired::CalledBy(name) => format!("A new service called by {name}:"),
                        Wired::Calling(name) => format!("A new service that calls {name}:"),
                    });
                    for &kind in ServiceKind::ALL {
                        if ui.button(kind.label()).clicked() {
                            let at = self.free_spot(
                                scenario,
                                Position {
                                    x: menu.at.x + geometry::DEFAULT_NODE.x / 2.0,
                                    y: menu.at.y,
                                },
                            );
                            commands.push(Command::Edit(Edit::AddWired {
                                scenario: frame.scenario,
                                kind,
                                at,
                                wired: menu.wired.clone(),
                            }));
                            close = true;
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        close = true;
                    }
                });
            });
        let clicked_elsewhere = ui.input(|i| i.pointer.any_pressed())
            && ui
                .ctx()
                .pointer_interact_pos()
                .is_some_and(|p| !area.response.rect.contains(p));
        if close || clicked_elsewhere {
            self.drop_menu = None;
        }
    }
}

/// Whether link `index` is the first of its parallel group from its caller,
/// where the group's label goes.
fn first_of_group(scenario: &Scenario, index: usize, link: &Link) -> bool {
    scenario
        .links
        .iter()
        .position(|l| l.from == link.from && l.parallel_group == link.parallel_group)
        == Some(index)
}

/// Why a new call from `from` to `to` is refused, in `archbench check`'s
/// words: a call to itself, one that exists, or a cycle of sync calls.
fn refusal(project: &Project, scenario: usize, from: &str, to: &str) -> Option<String> {
    let s = project.scenarios.get(scenario)?;
    if s.links.iter().any(|l| l.from == from && l.to == to) {
        return Some(format!("{from} already calls {to}"));
    }
    let before = cycle_problems(project);
    let mut trial = project.clone();
    trial.scenarios[scenario]
        .links
        .push(Link::new(from.to_owned(), to.to_owned()));
    cycle_problems(&trial)
        .into_iter()
        .find(|p| !before.contains(p))
}

/// The sync-cycle problems `archbench check` reports, as it prints them.
fn cycle_problems(project: &Project) -> Vec<String> {
    crate::model::validate(project)
        .into_iter()
        .filter(|p| p.message.contains("form a cycle"))
        .map(|p| p.to_string())
        .collect()
}

/// A canvas coordinate kept finite and within reach.
fn bounded(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(-1.0e6, 1.0e6)
    } else {
        0.0
    }
}

/// The kind's tag in its colour.
pub fn tag_ui(ui: &mut Ui, kind: ServiceKind) {
    let text = egui::RichText::new(theme::kind_tag(kind))
        .small()
        .strong()
        .color(Color32::WHITE)
        .background_color(theme::kind_color(kind));
    ui.label(text).on_hover_text(kind.label());
}
