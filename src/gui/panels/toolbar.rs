//! The menu bar and the run controls: Simulate, Sweep, progress with an ETA,
//! and Cancel.

use std::path::PathBuf;
use std::time::Duration;

use eframe::egui::{self, Ui};

use super::super::command::{Command, ExportFormat};
use super::super::jobs::JobKind;
use super::super::theme;

/// A run in progress, as the toolbar shows it.
pub struct Running {
    /// Simulate or sweep.
    pub kind: JobKind,
    /// Finished fraction.
    pub fraction: f64,
    /// Time left, once it can be guessed.
    pub eta: Option<Duration>,
    /// Time so far.
    pub elapsed: Duration,
}

/// What the toolbar shows.
pub struct Bar<'a> {
    /// The run in progress.
    pub running: Option<Running>,
    /// Recent files, newest first.
    pub recent: &'a [PathBuf],
    /// What undo would undo.
    pub undo: Option<&'static str>,
    /// What redo would redo.
    pub redo: Option<&'static str>,
    /// Whether there are results to export.
    pub has_simulation: bool,
    /// Whether there is a sweep to export.
    pub has_sweep: bool,
    /// The last status message.
    pub status: &'a str,
    /// The last file dialog ended without a path: offer the in-app browser.
    pub offer_browser: bool,
}

/// Draws the menu bar and the run controls.
pub fn toolbar_ui(ui: &mut Ui, bar: &Bar<'_>, commands: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            let item = |ui: &mut Ui, label: &str, command: Command| {
                let shortcut = command.shortcut_text(ui.ctx());
                ui.add(egui::Button::new(label).shortcut_text(shortcut))
                    .clicked()
                    .then_some(command)
            };
            commands.extend(item(ui, "New", Command::New));
            commands.extend(item(ui, "Open…", Command::Open));
            ui.menu_button("Open recent", |ui| {
                if bar.recent.is_empty() {
                    ui.label("no recent files");
                }
                for path in bar.recent {
                    if ui.button(path.display().to_string()).clicked() {
                        commands.push(Command::OpenPath(path.clone()));
                    }
                }
            });
            ui.menu_button("Examples", |ui| {
                for (i, (name, _)) in super::super::EXAMPLES.iter().enumerate() {
                    if ui.button(name.trim_end_matches(".ron")).clicked() {
                        commands.push(Command::OpenExample(i));
                    }
                }
            });
            commands.extend(item(ui, "Import traces…", Command::ImportTraces));
            commands.extend(item(ui, "Calibrate from traces…", Command::CalibrateTraces));
            ui.separator();
            commands.extend(item(ui, "Save", Command::Save));
            commands.extend(item(ui, "Save as…", Command::SaveAs));
            ui.separator();
            ui.add_enabled_ui(bar.has_simulation || bar.has_sweep, |ui| {
                ui.menu_button("Export results", |ui| {
                    let formats = [
                        (
                            bar.has_simulation,
                            "Simulation as CSV…",
                            ExportFormat::SimulationCsv,
                        ),
                        (
                            bar.has_simulation,
                            "Simulation as JSON…",
                            ExportFormat::SimulationJson,
                        ),
                        (bar.has_sweep, "Sweep as CSV…", ExportFormat::SweepCsv),
                        (bar.has_sweep, "Sweep as JSON…", ExportFormat::SweepJson),
                    ];
                    for (enabled, label, format) in formats {
                        if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
                            commands.push(Command::ExportResults(format));
                        }
                    }
                });
            });
            ui.separator();
            commands.extend(item(ui, "Quit", Command::Quit));
        });
        ui.menu_button("Edit", |ui| {
            for (verb, label, command) in [
                ("Undo", bar.undo, Command::Undo),
                ("Redo", bar.redo, Command::Redo),
            ] {
                let text = label.map_or_else(|| verb.to_owned(), |l| format!("{verb} {l}"));
                let shortcut = command.shortcut_text(ui.ctx());
                let button = egui::Button::new(text).shortcut_text(shortcut);
                if ui.add_enabled(label.is_some(), button).clicked() {
                    commands.push(command);
                }
            }
            ui.separator();
            let tidy = egui::Button::new("Tidy up layout")
                .shortcut_text(Command::TidyUp.shortcut_text(ui.ctx()));
            if ui.add(tidy).clicked() {
                commands.push(Command::TidyUp);
            }
            let find = egui::Button::new("Find service…")
                .shortcut_text(Command::FindService.shortcut_text(ui.ctx()));
            if ui.add(find).clicked() {
                commands.push(Command::FindService);
            }
            if ui.button("Fit canvas to view").clicked() {
                commands.push(Command::FitView);
            }
        });
    });
    ui.horizontal(|ui| {
        let busy = bar.running.is_some();
        if ui
            .add_enabled(!busy, egui::Button::new("▶ Simulate"))
            .on_hover_text("simulate every scenario and compare them")
            .clicked()
        {
            commands.push(Command::Simulate);
        }
        if ui
            .add_enabled(!busy, egui::Button::new("📈 Sweep"))
            .on_hover_text("raise the offered load until each scenario saturates")
            .clicked()
        {
            commands.push(Command::Sweep);
        }
        if ui
            .button("⏺ Live test")
            .on_hover_text("send real HTTP load to endpoints and measure them")
            .clicked()
        {
            commands.push(Command::ShowLive);
        }
        if let Some(running) = &bar.running {
            let what = match running.kind {
                JobKind::Simulate => "simulating",
                JobKind::Sweep => "sweeping",
            };
            let eta = running.eta.map_or_else(
                || "estimating time left…".to_owned(),
                |eta| format!("{:.0} s left", eta.as_secs_f64().ceil()),
            );
            #[expect(clippy::cast_possible_truncation, reason = "a fraction for display")]
            let fraction = running.fraction as f32;
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(220.0)
                    .show_percentage(),
            );
            ui.label(format!(
                "{what} · {:.1} s · {eta}",
                running.elapsed.as_secs_f64()
            ));
            if ui.button("Cancel").clicked() {
                commands.push(Command::Cancel);
            }
        }
        ui.separator();
        ui.colored_label(theme::MUTED, bar.status);
        if bar.offer_browser
            && ui
                .small_button("browse…")
                .on_hover_text("if no file dialog appeared, choose the file in the app instead")
                .clicked()
        {
            commands.push(Command::Browse);
        }
    });
}
