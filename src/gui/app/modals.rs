//! Modal windows (unsaved changes, recovery, messages) and the in-app file
//! browser. They push commands; the app applies them after drawing.

use std::path::Path;

use eframe::egui::{self};

use crate::gui::command::{Command, Unsaved};
use crate::gui::files::Purpose;

use super::{App, Discarding};

impl App {
    /// Opens the in-app file browser for `purpose`, in the project's
    /// folder (or the working one), suggesting `suggested` for a save.
    pub(super) fn browse(&mut self, purpose: Purpose, suggested: &str) {
        let folder = self
            .doc
            .path()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let mut dialog = egui_file_dialog::FileDialog::new()
            .initial_directory(folder)
            .default_file_name(suggested)
            .default_size([640.0, 420.0]);
        if purpose == Purpose::Open {
            dialog = dialog
                .add_file_filter_extensions("archbench projects (.ron)", vec!["ron"])
                .default_file_filter("archbench projects (.ron)");
            dialog.pick_file();
        } else if matches!(purpose, Purpose::ImportTraces | Purpose::Calibrate) {
            dialog =
                dialog.add_file_filter_extensions("traces (.json, .jsonl)", vec!["json", "jsonl"]);
            dialog.pick_file();
        } else {
            dialog.save_file();
        }
        self.files.browser = Some((purpose, Box::new(dialog)));
    }

    /// The in-app file browser, while it is open.
    fn browser_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some((purpose, dialog)) = &mut self.files.browser else {
            return;
        };
        dialog.update(ctx);
        if let Some(path) = dialog.take_picked() {
            commands.push(Command::FileChosen {
                purpose: purpose.clone(),
                path,
            });
            self.files.browser = None;
        } else if matches!(
            dialog.state(),
            egui_file_dialog::DialogState::Cancelled | egui_file_dialog::DialogState::Closed
        ) {
            self.files.browser = None;
            commands.push(Command::Notify("no file chosen".into()));
        }
    }

    /// The file browser and the modal windows, each pushing the user's
    /// answer as a command.
    pub(super) fn modals_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        self.browser_ui(ctx, commands);
        self.traces_ui(ctx, commands);
        if let Some(action) = &self.files.discarding {
            let what = match action {
                Discarding::Quit => "closing",
                Discarding::New => "starting a new project",
                Discarding::Open
                | Discarding::OpenPath(_)
                | Discarding::Example(_)
                | Discarding::ImportTraces => "opening another file",
            };
            egui::Modal::new(egui::Id::new("discard")).show(ctx, |ui| {
                ui.heading("Unsaved changes");
                ui.label(format!(
                    "{} has changes that are not saved. Save them before {what}?",
                    self.doc.title()
                ));
                ui.horizontal(|ui| {
                    let answers = [
                        ("Save", Unsaved::Save),
                        ("Discard changes", Unsaved::Discard),
                        ("Cancel", Unsaved::KeepEditing),
                    ];
                    for (label, answer) in answers {
                        if ui.button(label).clicked() {
                            commands.push(Command::Unsaved(answer));
                        }
                    }
                });
            });
        }
        if let Some((file, path)) = &self.files.recovery {
            let belongs = path.as_ref().map_or_else(
                || "an untitled project".to_owned(),
                |p| p.display().to_string(),
            );
            let name = file.project.name.clone();
            egui::Modal::new(egui::Id::new("recovery")).show(ctx, |ui| {
                ui.heading("Restore unsaved work?");
                ui.label(format!(
                    "archbench did not close cleanly last time. Unsaved changes to \
                     \"{name}\" ({belongs}) were kept."
                ));
                ui.horizontal(|ui| {
                    if ui.button("Restore").clicked() {
                        commands.push(Command::Recover);
                    }
                    if ui.button("Discard").clicked() {
                        commands.push(Command::DiscardRecovery);
                    }
                });
            });
        }
        if let Some(message) = &self.message {
            egui::Modal::new(egui::Id::new("message")).show(ctx, |ui| {
                ui.heading(&message.title);
                egui::ScrollArea::vertical()
                    .max_height(320.0)
                    .show(ui, |ui| {
                        for line in &message.lines {
                            ui.label(egui::RichText::new(line).monospace());
                        }
                    });
                if ui.button("OK").clicked() {
                    commands.push(Command::CloseMessage);
                }
            });
        }
    }
}
