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
//! When the view does not hold every node, a minimap in the bottom right
//! corner shows them all: press or drag on it to move the view there.

mod draw;
mod geometry;

pub use geometry::DEFAULT_NODE;
mod gestures;
mod groups;
mod menus;
mod minimap;
mod paint;

use std::collections::{BTreeMap, HashMap};

use eframe::egui::{self, Color32, Pos2, Rect, Sense, Ui, Vec2, emath::TSTransform};

use crate::model::{Choice, Link, Position, Project, Scenario, ServiceKind};

use super::command::{Command, Wired};
use super::selection::Selection;
use super::theme;

use draw::{Metrics, NodeText};
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
    /// Completed requests a second by service name.
    pub throughput: BTreeMap<String, f64>,
    /// p99 response time in milliseconds by service name.
    pub p99_ms: BTreeMap<String, f64>,
    /// The services the workload enters at.
    pub entries: Vec<String>,
}

/// Frames over which a fit is repeated while the layout settles.
const FIT_FRAMES: u8 = 3;

/// Groups the selected services.
pub const GROUP_SHORTCUT: egui::KeyboardShortcut =
    egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::G);

/// The least zoom a service found by name is shown at: its figures read.
const FOCUS_ZOOM: f32 = 0.8;

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
    /// A group's title bar, or a folded group's node (an index into the
    /// groups drawn this frame).
    Group(usize),
    /// A group's fold/unfold toggle.
    GroupToggle(usize),
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
    /// Folded into this group (an index into the groups drawn): not drawn.
    hidden: Option<usize>,
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
    /// This frame's groups on screen.
    groups: Vec<groups::DrawnGroup>,
    /// Indices into `drawn` in painting order: the selection on top.
    order: Vec<usize>,
    wires: Vec<Vec<Pos2>>,
    /// The canvas on screen.
    rect: Rect,
    /// What the context menu was opened on.
    menu_target: Target,
    drop_menu: Option<DropMenu>,
    /// Centre the view on this service on the next frame.
    focus: Option<String>,
    /// The minimap on screen this frame, if it shows.
    minimap: Option<Rect>,
    /// The part of the canvas the minimap shows, held while it is dragged.
    minimap_world: Option<Rect>,
    /// The services drawn dimmed this frame: neither selected nor calling
    /// or called by the selection.
    dimmed: Vec<String>,
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
            groups: Vec::new(),
            order: Vec::new(),
            wires: Vec::new(),
            rect: Rect::NOTHING,
            menu_target: Target::Empty,
            drop_menu: None,
            focus: None,
            minimap: None,
            minimap_world: None,
            dimmed: Vec::new(),
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

    /// Centres the view on service `name` on the next frame, zoomed in far
    /// enough to read it.
    pub fn focus(&mut self, name: &str) {
        self.focus = Some(name.to_owned());
    }

    /// The minimap on screen, as drawn last frame; `None` when every node
    /// is in view.
    pub fn minimap_rect(&self) -> Option<Rect> {
        self.minimap
    }

    /// The services drawn dimmed last frame (not selected, and neither
    /// calling nor called by a selected service).
    pub fn dimmed(&self) -> &[String] {
        &self.dimmed
    }

    /// The zoom: screen points per canvas unit.
    pub fn zoom(&self) -> f32 {
        self.view.zoom()
    }

    /// A service's node on screen, as drawn last frame (`None` when it is
    /// folded into a group).
    pub fn node_rect(&self, name: &str) -> Option<Rect> {
        self.drawn
            .iter()
            .find(|d| d.name == name && d.hidden.is_none())
            .map(|d| d.rect)
    }

    /// A group's box (or its node when folded) and its title bar and
    /// fold toggle on screen, as drawn last frame.
    pub fn group_rects(&self, scenario_group: usize) -> Option<(Rect, Rect, Rect)> {
        self.groups
            .iter()
            .find(|g| g.index == scenario_group)
            .map(|g| (g.rect, g.title, g.toggle))
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

    /// The largest node as last measured (at least the default size): the
    /// box an automatic layout spaces nodes by.
    pub fn node_size(&self) -> Vec2 {
        self.sizes
            .values()
            .copied()
            .fold(geometry::DEFAULT_NODE, Vec2::max)
    }

    /// Where a new service goes near canvas point `near` (its centre): the
    /// nearest spot where it overlaps no node.
    pub fn free_spot(&self, scenario: &Scenario, near: Position) -> Position {
        let size = self.node_size();
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
        if let Some(name) = self.focus.take()
            && let Some(service) = scenario.services.iter().find(|s| s.name == name)
        {
            self.fit = 0;
            let center = geometry::node_rect(service.position, self.size_of(&name)).center();
            let zoom = self.view.zoom().max(FOCUS_ZOOM);
            self.view = View(TSTransform::new(
                rect.center().to_vec2() - center.to_vec2() * zoom,
                zoom,
            ));
        }
        if response.hovered() {
            self.wheel(ui, rect);
        }
        self.minimap_input(ui, scenario);

        self.layout(scenario, m, frame.selection);
        self.interact(ui, &response, frame, scenario, commands);
        self.layout(scenario, m, frame.selection);
        self.paint(&painter, frame, scenario, &texts, m);
        let selected: &[String] = match frame.selection {
            Selection::Services(names) => names,
            _ => &[],
        };
        self.minimap_paint(&painter, scenario, selected);
        self.dimmed = paint::lit(scenario, selected).map_or_else(Vec::new, |lit| {
            scenario
                .services
                .iter()
                .filter(|s| !lit.contains(s.name.as_str()))
                .map(|s| s.name.clone())
                .collect()
        });
        self.accessibility(ui, &texts);
        self.groups_accessibility(ui, scenario);
        self.tooltips(&response, scenario, frame.overlay);
        self.menus(ui, &response, frame, scenario, commands);
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
                    hidden: None,
                }
            })
            .collect();
        let moving = moving.to_vec();
        self.layout_groups(scenario, m, &moving, delta);
        let on_top = |name: &str| match (selection, &self.gesture) {
            (_, Gesture::Move { names, .. }) => names.iter().any(|n| n == name),
            (Selection::Services(names), _) => names.iter().any(|n| n == name),
            _ => false,
        };
        let (mut order, top): (Vec<usize>, Vec<usize>) = (0..self.drawn.len())
            .filter(|&i| self.drawn[i].hidden.is_none())
            .partition(|&i| !on_top(&self.drawn[i].name));
        order.extend(top);
        self.order = order;
        let index = scenario.index_by_name();
        self.wires = scenario
            .links
            .iter()
            .map(
                |l| match (index.get(l.from.as_str()), index.get(l.to.as_str())) {
                    (Some(&a), Some(&b)) => {
                        let (a, b) = (&self.drawn[a], &self.drawn[b]);
                        // A call inside a folded group is not drawn; one
                        // into or out of it meets the group's node.
                        if a.hidden.is_some() && a.hidden == b.hidden {
                            return Vec::new();
                        }
                        let from = a.hidden.map_or(a.output, |g| self.groups[g].output);
                        let to = b.hidden.map_or(b.input, |g| self.groups[g].input);
                        geometry::wire_points(from, to, zoom)
                    }
                    _ => Vec::new(),
                },
            )
            .collect();
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
