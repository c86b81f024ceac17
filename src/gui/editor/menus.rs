//! Context menus, tooltips and the canvas's accessibility tree.

use eframe::egui::{self, Id, Pos2, Rect, Sense, Ui, Vec2};

use crate::model::{Choice, Position, Scenario, ServiceKind};

use crate::gui::command::{Command, Edit, Wired};
use crate::gui::selection::Selection;
use crate::gui::theme;

use super::draw::{self, NodeText};
use super::geometry::{self};

use super::{Canvas, Frame, GROUP_SHORTCUT, Gesture, Overlay, Target, groups};

impl Canvas {
    /// Each node, and each problem badge, as a labelled widget, so screen
    /// readers (and the tests) find them.
    pub(super) fn accessibility(&self, ui: &mut Ui, texts: &[NodeText]) {
        for (d, text) in self.drawn.iter().zip(texts) {
            if !d.rect.intersects(self.rect) || d.hidden.is_some() {
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

    /// Each group's title (or folded node) and toggle as labelled widgets.
    pub(super) fn groups_accessibility(&self, ui: &mut Ui, scenario: &Scenario) {
        for d in &self.groups {
            let Some(group) = scenario.groups.get(d.index) else {
                continue;
            };
            let id = Id::new(("canvas-group", d.index));
            let area = if d.collapsed { d.rect } else { d.title };
            if area.intersects(self.rect) {
                let title = ui.interact(area.intersect(self.rect), id, Sense::hover());
                let label = format!("{} group", group.name);
                title.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::WidgetType::Other, true, label.clone())
                });
            }
        }
    }

    /// Hovering a node shows its figures and problems; a wire, its settings.
    pub(super) fn tooltips(
        &self,
        response: &egui::Response,
        scenario: &Scenario,
        overlay: &Overlay,
    ) {
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
            Target::Group(k) => {
                let Some(group) = self
                    .groups
                    .get(k)
                    .and_then(|d| scenario.groups.get(d.index))
                else {
                    return;
                };
                let mut lines = vec![format!("{} (group)", group.name)];
                lines.extend(groups::figures(scenario, group, overlay));
                lines.push("drag the title to move it; right-click for more".into());
                lines
            }
            Target::GroupToggle(k) => vec![if self.groups.get(k).is_some_and(|d| d.collapsed) {
                "unfold the group".into()
            } else {
                "fold the group into one node".into()
            }],
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

    pub(super) fn menus(
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
                let names = match frame.selection {
                    Selection::Services(names) if names.contains(&name) => names.clone(),
                    _ => vec![name.clone()],
                };
                let group = egui::Button::new(if names.len() == 1 {
                    "Group".to_owned()
                } else {
                    format!("Group the {} selected", names.len())
                })
                .shortcut_text(ui.ctx().format_shortcut(&GROUP_SHORTCUT));
                if ui.add(group).clicked() {
                    commands.push(Command::Edit(Edit::Group {
                        scenario: frame.scenario,
                        names,
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
            Target::Group(k) | Target::GroupToggle(k) => {
                let Some((index, group)) = self
                    .groups
                    .get(k)
                    .and_then(|d| scenario.groups.get(d.index).map(|g| (d.index, g)))
                else {
                    return;
                };
                ui.horizontal(|ui| {
                    ui.label("group");
                    let mut name = group.name.clone();
                    if ui.text_edit_singleline(&mut name).changed() {
                        commands.push(Command::Edit(Edit::RenameGroup {
                            scenario: frame.scenario,
                            group: index,
                            name,
                        }));
                    }
                });
                let fold = if group.collapsed {
                    "Unfold"
                } else {
                    "Fold into one node"
                };
                if ui.button(fold).clicked() {
                    commands.push(Command::Edit(Edit::CollapseGroup {
                        scenario: frame.scenario,
                        group: index,
                        collapsed: !group.collapsed,
                    }));
                    ui.close();
                }
                if ui.button("Ungroup").clicked() {
                    commands.push(Command::Edit(Edit::Ungroup {
                        scenario: frame.scenario,
                        group: index,
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
