//! The pointer and the wheel: what a press, a drag and a release on the
//! canvas mean, and the commands they end in.

use eframe::egui::{self, Key, PointerButton, Pos2, Rect, Ui, Vec2};

use crate::model::{Link, Position, Project, Scenario};

use crate::gui::command::{Command, Edit, Wired};
use crate::gui::selection::Selection;

use super::geometry::{self};

use super::{Canvas, DropMenu, Frame, Gesture, Target, bounded};

impl Canvas {
    /// The wheel zooms about the pointer, a gentle step a notch; a
    /// trackpad's two-finger scroll pans.
    pub(super) fn wheel(&mut self, ui: &Ui, rect: Rect) {
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

    /// What is at screen point `p`: pins first, then nodes (top first),
    /// then wires.
    pub(super) fn hit(&self, p: Pos2) -> Target {
        if let Some(k) = self.groups.iter().rposition(|g| g.toggle.contains(p)) {
            return Target::GroupToggle(k);
        }
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
        if let Some(k) = self
            .groups
            .iter()
            .rposition(|g| g.title.contains(p) || (g.collapsed && g.rect.contains(p)))
        {
            return Target::Group(k);
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

    pub(super) fn interact(
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
                Target::Group(k) | Target::GroupToggle(k) => Gesture::Move {
                    names: self.members(scenario, k),
                    delta: Vec2::ZERO,
                },
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
                Target::GroupToggle(k) => {
                    if let Some(d) = self.groups.get(k) {
                        commands.push(Command::Edit(Edit::CollapseGroup {
                            scenario: frame.scenario,
                            group: d.index,
                            collapsed: !d.collapsed,
                        }));
                    }
                }
                Target::Group(k) => {
                    commands.push(Command::SelectServices(self.members(scenario, k)));
                }
                Target::Empty => {
                    if !additive {
                        commands.push(Command::SelectServices(Vec::new()));
                    }
                }
            }
        }
        // A double click on a folded group unfolds it.
        if response.double_clicked_by(PointerButton::Primary)
            && let Some(p) = pointer
            && let Target::Group(k) = self.hit(p)
            && let Some(d) = self.groups.get(k).filter(|d| d.collapsed)
        {
            commands.push(Command::Edit(Edit::CollapseGroup {
                scenario: frame.scenario,
                group: d.index,
                collapsed: false,
            }));
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
    pub(super) fn finish(
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
                Target::Group(_) | Target::GroupToggle(_) => {
                    commands.push(Command::Notify(
                        "unfold the group to connect one of its services".into(),
                    ));
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
                for d in self.drawn.iter().filter(|d| d.hidden.is_none()) {
                    if area.intersects(d.rect) && !names.contains(&d.name) {
                        names.push(d.name.clone());
                    }
                }
                commands.push(Command::SelectServices(names));
            }
            Gesture::Pan | Gesture::Idle => {}
        }
    }
}

impl Canvas {
    /// The services of group `k` as drawn this frame, by name.
    pub(super) fn members(&self, scenario: &Scenario, k: usize) -> Vec<String> {
        self.groups
            .get(k)
            .and_then(|d| scenario.groups.get(d.index))
            .map(|g| {
                g.services
                    .iter()
                    .filter(|s| scenario.service_index(s).is_some())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
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
