//! The project's name and description.

use eframe::egui::Ui;

use crate::gui::command::{Command, Edit};

use super::super::fields::{Buffers, grid};
use super::Context;

pub(super) fn project_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    let project = cx.project;
    grid(ui, "project", |ui| {
        ui.label("name");
        if let Some(name) = buffers.text(ui, "p/name", "project name", &project.name, |t| {
            Ok(t.to_owned())
        }) {
            commands.push(Command::Edit(Edit::SetProjectInfo {
                name,
                description: project.description.clone(),
            }));
        }
        ui.label("");
        ui.end_row();
        ui.label("description");
        if let Some(description) = buffers.text(
            ui,
            "p/description",
            "what the project is about",
            &project.description,
            |t| Ok(t.to_owned()),
        ) {
            commands.push(Command::Edit(Edit::SetProjectInfo {
                name: project.name.clone(),
                description,
            }));
        }
        ui.label("");
        ui.end_row();
    });
}
