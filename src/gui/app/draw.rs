//! Drawing the frame: the toolbar, palette, inspector and results panels,
//! the canvas, the Live window and the modals; keyboard shortcuts.

use std::collections::BTreeMap;

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use crate::model::{self};

use crate::gui::command::{self, Command, Edit};
use crate::gui::editor::{self, Overlay};
use crate::gui::panels::results::Shown;
use crate::gui::panels::{find, inspector, palette, results, scenarios, toolbar};
use crate::gui::selection::Selection;

use super::{App, Panels};

impl App {
    pub(super) fn shortcuts(&self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        // While a traces file is read, nothing is edited: Escape cancels.
        if self.traces.is_some() {
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
                commands.push(Command::Cancel);
            }
            return;
        }
        let typing = ctx.egui_wants_keyboard_input();
        let active = if typing {
            &command::WITH_SHORTCUTS[..command::WHILE_TYPING]
        } else {
            &command::WITH_SHORTCUTS[..]
        };
        ctx.input_mut(|i| {
            for command in active {
                if command.shortcuts().iter().any(|s| i.consume_shortcut(s)) {
                    commands.push(command.clone());
                }
            }
            if typing {
                return;
            }
            let selected = match &self.selection {
                Selection::Services(names) => names.clone(),
                _ => Vec::new(),
            };
            if i.consume_shortcut(&editor::GROUP_SHORTCUT) && !selected.is_empty() {
                commands.push(Command::Edit(Edit::Group {
                    scenario: self.scenario,
                    names: selected.clone(),
                }));
            }
            if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::D))
                && !selected.is_empty()
            {
                commands.push(Command::Edit(Edit::DuplicateServices {
                    scenario: self.scenario,
                    names: selected.clone(),
                }));
            }
            if i.consume_key(Modifiers::NONE, Key::Delete)
                || i.consume_key(Modifiers::NONE, Key::Backspace)
            {
                match &self.selection {
                    Selection::Services(names) => {
                        commands.push(Command::Edit(Edit::RemoveServices {
                            scenario: self.scenario,
                            names: names.clone(),
                        }));
                    }
                    Selection::Link(index) => {
                        commands.push(Command::Edit(Edit::RemoveLink {
                            scenario: self.scenario,
                            index: *index,
                        }));
                    }
                    Selection::None => {}
                }
            }
        });
    }

    pub(super) fn overlay(&self) -> Overlay {
        let project = self.doc.project();
        let Some(scenario) = project.scenarios.get(self.scenario) else {
            return Overlay::default();
        };
        let mut overlay = Overlay::default();
        if let Some(report) = self.simulation()
            && let Some(report) = report
                .scenarios
                .iter()
                .find(|s| s.scenario == scenario.name)
        {
            overlay.utilisation = report
                .services
                .iter()
                .map(|s| (s.name.clone(), s.utilization))
                .collect();
            overlay.throughput = report
                .services
                .iter()
                .map(|s| (s.name.clone(), s.throughput_rps))
                .collect();
            overlay.p99_ms = report
                .services
                .iter()
                .map(|s| (s.name.clone(), s.response_ms.p99))
                .collect();
            // Outlined only when it is one: saturated, or above 80% busy.
            overlay.bottleneck = match report.limit() {
                crate::stats::Limit::Saturated(name) | crate::stats::Limit::Bottleneck(name, _) => {
                    Some(name)
                }
                crate::stats::Limit::Busiest(..) => None,
            };
        }
        overlay.entries = project
            .workload
            .classes
            .iter()
            .map(|c| c.entry.clone())
            .collect();
        let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for problem in &self.problems {
            // A link's problems show on its caller.
            let owner = match &problem.place.part {
                model::Part::Service {
                    scenario: s,
                    service,
                } if *s == scenario.name => service,
                model::Part::Link {
                    scenario: s, from, ..
                } if *s == scenario.name => from,
                _ => continue,
            };
            if scenario.services.iter().any(|s| s.name == *owner) {
                problems.entry(owner.clone()).or_default().push(format!(
                    "{}: {}",
                    problem.place.within_scenario(),
                    problem.message
                ));
            }
        }
        overlay.problems = problems;
        overlay
    }

    /// Draws the frame: panels first, then the canvas, then the windows and
    /// modals; then applies the commands they pushed.
    pub(super) fn draw(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let typing = ctx.memory(|m| m.focused().is_some());
        let mut commands = Vec::new();
        self.shortcuts(&ctx, &mut commands);
        Self::dropped_files(&ctx, &mut commands);

        let running = self.runs.job.as_ref().map(|job| toolbar::Running {
            kind: job.kind(),
            fraction: job.fraction(),
            eta: job.eta(),
            elapsed: job.elapsed(),
        });
        egui::Panel::top("toolbar").show(ui, |ui| {
            toolbar::toolbar_ui(
                ui,
                &toolbar::Bar {
                    running,
                    recent: &self.files.recent,
                    undo: self.doc.undo_label(),
                    redo: self.doc.redo_label(),
                    has_simulation: self.runs.simulation.is_some(),
                    has_sweep: self.runs.sweep.is_some(),
                    status: &self.status,
                    offer_browser: self.files.unanswered.is_some()
                        && self.files.question.is_none()
                        && self.files.browser.is_none(),
                },
                &mut commands,
            );
        });
        egui::Panel::left("palette")
            .resizable(false)
            .default_size(170.0)
            .show(ui, |ui| {
                palette::palette_ui(ui, &mut commands);
            });
        // Every panel keeps a usable size from 1024×700 up: the inspector
        // narrows to 280 and never grows on its own; the results leave the
        // canvas at least a third of the height.
        let window = ui.max_rect();
        let inspector = egui::Panel::right("inspector")
            .resizable(true)
            .default_size(360.0)
            .size_range(280.0..=(window.width() * 0.45).max(300.0))
            .show(ui, |ui| {
                inspector::inspector_ui(
                    ui,
                    &inspector::Context {
                        project: self.doc.project(),
                        scenario: self.scenario,
                        selection: &self.selection,
                        problems: &self.problems,
                        header: &self.doc.file().header,
                    },
                    &mut self.buffers,
                    &mut commands,
                );
            });
        let results = egui::Panel::bottom("results")
            .resizable(true)
            .default_size((window.height() * 0.45).clamp(200.0, 430.0))
            .size_range(120.0..=(window.height() - 300.0).max(160.0))
            .show(ui, |ui| {
                results::results_ui(
                    ui,
                    &Shown {
                        project: self.doc.project(),
                        revision: self.doc.revision(),
                        simulation: self.runs.simulation.as_ref(),
                        measured: self.runs.measured.as_ref(),
                        measured_revision: self.runs.measured_revision,
                        emulated: self.runs.emulated.as_deref(),
                        scenario: self.scenario,
                        curves: self.runs.curves.as_ref(),
                        sweep: self.runs.sweep.as_ref(),
                    },
                    &mut self.results_view,
                    &mut commands,
                );
                ui.take_available_space();
            });
        self.panels = Panels {
            inspector: inspector.response.rect,
            results: results.response.rect,
        };
        let overlay = self.overlay();
        egui::CentralPanel::default().show(ui, |ui| {
            scenarios::scenarios_ui(
                ui,
                self.doc.project(),
                self.scenario,
                &mut self.buffers,
                &mut self.renaming,
                &mut commands,
            );
            ui.separator();
            self.canvas.ui(
                ui,
                &editor::Frame {
                    project: self.doc.project(),
                    revision: self.doc.revision(),
                    scenario: self.scenario,
                    overlay: &overlay,
                    selection: &self.selection,
                    // Escape closes the find box first (egui takes the
                    // keyboard from its field before the frame begins).
                    typing: typing || self.find.is_some(),
                },
                &mut commands,
            );
        });
        if let Some(scenario) = self.doc.project().scenarios.get(self.scenario) {
            find::find_ui(
                &ctx,
                &mut self.find,
                scenario,
                self.canvas.rect(),
                &mut commands,
            );
        }
        #[cfg(feature = "loadgen")]
        {
            // The current simulation of the scenario on the canvas, which an
            // emulated measurement is compared with.
            let simulated = self
                .runs
                .simulation
                .as_ref()
                .filter(|c| c.revision == self.doc.revision())
                .and_then(|c| {
                    let name = &self.doc.project().scenarios.get(self.scenario)?.name;
                    c.report.scenarios.iter().find(|s| &s.scenario == name)
                });
            crate::gui::panels::live::live_ui(
                &ctx,
                &mut self.runs.live,
                self.doc.project(),
                self.scenario,
                simulated,
                &mut commands,
            );
        }
        self.modals_ui(&ctx, &mut commands);

        // Text fields merge their edits into one undo step while focused.
        if ctx.memory(|m| m.focused().is_none()) {
            self.doc.seal();
        }
        for command in commands {
            self.execute(&ctx, command);
        }
    }
}
