//! The canvas: the scenario's services as a node graph.
//!
//! The [`Snarl`] here is a view, rebuilt from the project when its structure
//! changes. The viewer never edits it: connecting, disconnecting, deleting
//! and dragging become [`Command`]s, and positions go back to the project as
//! plain numbers when a drag ends.

use std::collections::BTreeMap;

use eframe::egui::{self, Color32, Pos2, Rect, Stroke, Ui, Vec2, emath::TSTransform};
use egui_snarl::ui::{PinInfo, SnarlPin, SnarlStyle, SnarlViewer, SnarlWidget};
use egui_snarl::{InPin, InPinId, NodeId, OutPin, OutPinId, Snarl};

use crate::model::{Position, Project, Scenario, ServiceKind};

use super::command::{Command, Edit};
use super::theme;

/// A node's rough size in canvas units, for fitting the view.
const NODE_SIZE: Vec2 = Vec2::new(190.0, 90.0);

/// Below this zoom nodes show only their name: the details would be too
/// small to read, and a large graph draws faster without them.
const DETAIL_ZOOM: f32 = 0.6;

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

/// The canvas's own state: the graph view and how it was built.
pub struct Canvas {
    snarl: Snarl<usize>,
    /// What the graph was built from: scenario and structure.
    built: Option<(usize, Structure)>,
    /// Bumped on each rebuild, so snarl's selection starts afresh.
    generation: u64,
    /// The graph-to-screen transform, kept across rebuilds.
    transform: TSTransform,
    fit: bool,
    /// Put `transform` back into a rebuilt graph.
    restore: bool,
    /// The selection last seen in snarl, to notice when the user changes it.
    seen_selection: Vec<NodeId>,
    /// The canvas's rectangle on screen last frame.
    rect: Rect,
}

/// The service names and calls: a change means rebuilding the graph.
#[derive(Clone, PartialEq)]
struct Structure {
    names: Vec<String>,
    links: Vec<(String, String)>,
}

impl Structure {
    fn of(scenario: &Scenario) -> Self {
        Self {
            names: scenario.services.iter().map(|s| s.name.clone()).collect(),
            links: scenario
                .links
                .iter()
                .map(|l| (l.from.clone(), l.to.clone()))
                .collect(),
        }
    }
}

impl Default for Canvas {
    fn default() -> Self {
        Self {
            snarl: Snarl::new(),
            built: None,
            generation: 0,
            transform: TSTransform::IDENTITY,
            fit: true,
            restore: false,
            seen_selection: Vec::new(),
            rect: Rect::NOTHING,
        }
    }
}

impl Canvas {
    /// Fits the view to the services on the next frame.
    pub fn fit(&mut self) {
        self.fit = true;
    }

    /// The canvas point at the middle of the view, for placing new services.
    pub fn center(&self) -> Position {
        let center = if self.rect.is_positive() {
            self.transform.inverse() * self.rect.center()
        } else {
            Pos2::ZERO
        };
        Position {
            x: center.x,
            y: center.y,
        }
    }

    fn sync(&mut self, scenario_index: usize, scenario: &Scenario) {
        let structure = Structure::of(scenario);
        if self.built.as_ref() == Some(&(scenario_index, structure.clone())) {
            // Same nodes and wires: follow moves made elsewhere (undo).
            for (i, service) in scenario.services.iter().enumerate() {
                if let Some(node) = self.snarl.get_node_info_mut(NodeId(i)) {
                    node.pos = egui::pos2(service.position.x, service.position.y);
                }
            }
            return;
        }
        let switched = self
            .built
            .as_ref()
            .is_none_or(|(i, _)| *i != scenario_index);
        let mut snarl = Snarl::new();
        for (i, service) in scenario.services.iter().enumerate() {
            snarl.insert_node(egui::pos2(service.position.x, service.position.y), i);
        }
        for link in &scenario.links {
            if let (Some(from), Some(to)) = (
                scenario.service_index(&link.from),
                scenario.service_index(&link.to),
            ) {
                snarl.connect(
                    OutPinId {
                        node: NodeId(from),
                        output: 0,
                    },
                    InPinId {
                        node: NodeId(to),
                        input: 0,
                    },
                );
            }
        }
        self.snarl = snarl;
        self.built = Some((scenario_index, structure));
        self.generation += 1;
        self.seen_selection.clear();
        if switched {
            self.fit = true;
        } else {
            self.restore = true;
        }
    }

    /// Draws scenario `scenario_index` and pushes what the user does.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        project: &Project,
        scenario_index: usize,
        overlay: &Overlay,
        selected: &[String],
        commands: &mut Vec<Command>,
    ) {
        let Some(scenario) = project.scenarios.get(scenario_index) else {
            return;
        };
        self.sync(scenario_index, scenario);
        self.rect = ui.available_rect_before_wrap();
        let widget = SnarlWidget::new()
            .id_salt(("canvas", self.generation))
            .style(style());
        let mut viewer = Viewer {
            scenario_index,
            scenario,
            overlay,
            selected,
            commands,
            fit: std::mem::take(&mut self.fit).then_some(self.rect),
            restore: std::mem::take(&mut self.restore),
            transform: &mut self.transform,
            screen: self.rect,
        };
        widget.show(&mut self.snarl, &mut viewer, ui);

        // Selection: report it when the user changes it in the graph.
        let now = widget.get_selected_nodes(ui);
        if now != self.seen_selection {
            self.seen_selection.clone_from(&now);
            let names = now
                .iter()
                .filter_map(|id| scenario.services.get(id.0).map(|s| s.name.clone()))
                .collect();
            commands.push(Command::SelectServices(names));
        }

        // Moves: once the drag is over, positions go back to the project.
        if !ui.input(|i| i.pointer.any_down()) {
            let moves: Vec<(String, Position)> = self
                .snarl
                .nodes_pos_ids()
                .filter_map(|(id, pos, _)| {
                    let service = scenario.services.get(id.0)?;
                    let at = Position { x: pos.x, y: pos.y };
                    (service.position != at).then(|| (service.name.clone(), at))
                })
                .collect();
            if !moves.is_empty() {
                commands.push(Command::Edit(Edit::MoveServices {
                    scenario: scenario_index,
                    moves,
                }));
            }
        }
    }
}

fn style() -> SnarlStyle {
    let mut style = SnarlStyle::new();
    style.collapsible = Some(false);
    style.pin_size = Some(9.0);
    style.wire_width = Some(2.0);
    style
}

struct Viewer<'a> {
    scenario_index: usize,
    scenario: &'a Scenario,
    overlay: &'a Overlay,
    selected: &'a [String],
    commands: &'a mut Vec<Command>,
    /// Fit the view to the nodes inside this screen rectangle.
    fit: Option<Rect>,
    /// Start from `transform` (the graph was rebuilt).
    restore: bool,
    transform: &'a mut TSTransform,
    /// The canvas on screen.
    screen: Rect,
}

impl Viewer<'_> {
    /// Whether a node is drawn large enough, and on screen, to show its
    /// details. snarl lays out every node each frame; keeping off-screen
    /// ones bare keeps large graphs fast.
    fn detailed(&self, node: usize) -> bool {
        if self.transform.scaling < DETAIL_ZOOM {
            return false;
        }
        let Some(service) = self.scenario.services.get(node) else {
            return false;
        };
        let at = egui::pos2(service.position.x, service.position.y);
        let visible = self.transform.inverse() * self.screen;
        visible
            .expand2(NODE_SIZE)
            .intersects(Rect::from_min_size(at, NODE_SIZE))
    }

    fn name(&self, node: usize) -> &str {
        self.scenario
            .services
            .get(node)
            .map_or("", |s| s.name.as_str())
    }

    fn edit(&mut self, edit: Edit) {
        self.commands.push(Command::Edit(edit));
    }

    fn link_between(&self, from: OutPinId, to: InPinId) -> Option<usize> {
        let (from, to) = (self.name(from.node.0), self.name(to.node.0));
        self.scenario
            .links
            .iter()
            .position(|l| l.from == from && l.to == to)
    }
}

impl SnarlViewer<usize> for Viewer<'_> {
    fn title(&mut self, node: &usize) -> String {
        self.name(*node).to_owned()
    }

    fn node_frame(
        &mut self,
        default: egui::Frame,
        node: NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        snarl: &Snarl<usize>,
    ) -> egui::Frame {
        let Some(service) = snarl
            .get_node(node)
            .and_then(|&i| self.scenario.services.get(i))
        else {
            return default;
        };
        let mut frame = default;
        if let Some(&u) = self.overlay.utilisation.get(&service.name) {
            frame.fill = theme::utilisation_color(u).gamma_multiply(0.35);
        }
        if self.overlay.bottleneck.as_deref() == Some(service.name.as_str()) {
            frame.stroke = Stroke::new(3.0, theme::BOTTLENECK);
        } else if self.selected.contains(&service.name) {
            frame.stroke = Stroke::new(2.0, theme::SELECTED);
        } else {
            frame.stroke = Stroke::new(1.5, theme::kind_color(service.kind));
        }
        frame
    }

    fn show_header(
        &mut self,
        node: NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<usize>,
    ) {
        let Some(service) = self.scenario.services.get(snarl[node]) else {
            return;
        };
        let detailed = self.detailed(snarl[node]);
        ui.horizontal(|ui| {
            if detailed {
                tag_ui(ui, service.kind);
            }
            ui.strong(&service.name);
            // The badge shows at every zoom: a problem must not hide.
            if let Some(problems) = self.overlay.problems.get(&service.name) {
                let text = problems.join("\n");
                let badge = ui.colored_label(theme::PROBLEM, "⚠");
                // Screen readers (and the tests) read the problems too.
                badge.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::WidgetType::Label, true, format!("⚠ {text}"))
                });
                badge.on_hover_text(text);
            }
        });
    }

    fn inputs(&mut self, _node: &usize) -> usize {
        1
    }

    fn outputs(&mut self, _node: &usize) -> usize {
        1
    }

    fn show_input(
        &mut self,
        _pin: &InPin,
        _ui: &mut Ui,
        _snarl: &mut Snarl<usize>,
    ) -> impl SnarlPin + 'static {
        PinInfo::circle().with_fill(theme::MUTED)
    }

    fn show_output(
        &mut self,
        pin: &OutPin,
        _ui: &mut Ui,
        snarl: &mut Snarl<usize>,
    ) -> impl SnarlPin + 'static {
        let kind = self
            .scenario
            .services
            .get(snarl[pin.id.node])
            .map_or(ServiceKind::Service, |s| s.kind);
        PinInfo::circle()
            .with_fill(theme::kind_color(kind))
            .with_wire_color(theme::kind_color(kind))
    }

    fn has_body(&mut self, node: &usize) -> bool {
        self.detailed(*node)
    }

    fn show_body(
        &mut self,
        node: NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<usize>,
    ) {
        let Some(service) = self.scenario.services.get(snarl[node]) else {
            return;
        };
        // Labels never wrap: a node's size must not depend on its last size,
        // or the layout would never settle.
        ui.vertical(|ui| {
            ui.add(
                egui::Label::new(
                    egui::RichText::new(format!("{} × {}", service.replicas, service.workers))
                        .small(),
                )
                .extend(),
            );
            ui.add(
                egui::Label::new(egui::RichText::new(service.service_time.to_string()).small())
                    .extend(),
            );
            if let Some(&u) = self.overlay.utilisation.get(&service.name) {
                let mut text = format!("busy {:.0}%", 100.0 * u);
                if self.overlay.bottleneck.as_deref() == Some(service.name.as_str()) {
                    text.push_str(" · bottleneck");
                }
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(text)
                            .small()
                            .color(theme::utilisation_color(u)),
                    )
                    .extend(),
                );
            }
        });
    }

    fn has_on_hover_popup(&mut self, node: &usize) -> bool {
        self.overlay.problems.contains_key(self.name(*node))
    }

    fn show_on_hover_popup(
        &mut self,
        node: NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<usize>,
    ) {
        if let Some(problems) = self.overlay.problems.get(self.name(snarl[node])) {
            for problem in problems {
                ui.colored_label(theme::PROBLEM, problem);
            }
        }
    }

    fn has_graph_menu(&mut self, _pos: Pos2, _snarl: &mut Snarl<usize>) -> bool {
        true
    }

    fn show_graph_menu(&mut self, pos: Pos2, ui: &mut Ui, _snarl: &mut Snarl<usize>) {
        ui.label("Add");
        for kind in ServiceKind::ALL {
            if ui.button(kind.label()).clicked() {
                self.edit(Edit::AddService {
                    scenario: self.scenario_index,
                    kind,
                    at: Position { x: pos.x, y: pos.y },
                });
                ui.close();
            }
        }
    }

    fn has_node_menu(&mut self, _node: &usize) -> bool {
        true
    }

    fn show_node_menu(
        &mut self,
        node: NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<usize>,
    ) {
        let name = self.name(snarl[node]).to_owned();
        if ui.button("Duplicate").clicked() {
            self.edit(Edit::DuplicateServices {
                scenario: self.scenario_index,
                names: vec![name.clone()],
            });
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.edit(Edit::RemoveServices {
                scenario: self.scenario_index,
                names: vec![name],
            });
            ui.close();
        }
    }

    fn connect(&mut self, from: &OutPin, to: &InPin, _snarl: &mut Snarl<usize>) {
        self.edit(Edit::Connect {
            scenario: self.scenario_index,
            from: self.name(from.id.node.0).to_owned(),
            to: self.name(to.id.node.0).to_owned(),
        });
    }

    fn disconnect(&mut self, from: &OutPin, to: &InPin, _snarl: &mut Snarl<usize>) {
        if let Some(index) = self.link_between(from.id, to.id) {
            self.edit(Edit::RemoveLink {
                scenario: self.scenario_index,
                index,
            });
        }
    }

    fn drop_outputs(&mut self, pin: &OutPin, _snarl: &mut Snarl<usize>) {
        for &to in pin.remotes.iter().rev() {
            if let Some(index) = self.link_between(pin.id, to) {
                self.edit(Edit::RemoveLink {
                    scenario: self.scenario_index,
                    index,
                });
            }
        }
    }

    fn drop_inputs(&mut self, pin: &InPin, _snarl: &mut Snarl<usize>) {
        for &from in pin.remotes.iter().rev() {
            if let Some(index) = self.link_between(from, pin.id) {
                self.edit(Edit::RemoveLink {
                    scenario: self.scenario_index,
                    index,
                });
            }
        }
    }

    fn current_transform(&mut self, to_global: &mut TSTransform, snarl: &mut Snarl<usize>) {
        if let Some(screen) = self.fit.take() {
            if let Some(bounds) = snarl
                .nodes_pos()
                .map(|(pos, _)| Rect::from_min_size(pos, NODE_SIZE))
                .reduce(Rect::union)
            {
                let view = bounds.expand(40.0);
                let scale = (screen.size() / view.size()).min_elem().clamp(0.2, 1.5);
                *to_global = TSTransform::new(
                    screen.center().to_vec2() - view.center().to_vec2() * scale,
                    scale,
                );
            } else {
                *to_global = TSTransform::from_translation(screen.center().to_vec2());
            }
        } else if std::mem::take(&mut self.restore) {
            // A rebuilt graph starts afresh: keep the user's view.
            *to_global = *self.transform;
        }
        *self.transform = *to_global;
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
