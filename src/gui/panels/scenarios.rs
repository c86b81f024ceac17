//! Scenario tabs: pick the scenario on the canvas; add, rename, duplicate
//! and delete scenarios.

use eframe::egui::{self, Ui};

use crate::model::Project;

use super::super::command::{Command, Edit};
use super::super::theme;
use super::fields::Buffers;

/// Draws the tab strip for `project`, with `current` shown.
pub fn scenarios_ui(
    ui: &mut Ui,
    project: &Project,
    current: usize,
    buffers: &mut Buffers,
    renaming: &mut bool,
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        for (i, scenario) in project.scenarios.iter().enumerate() {
            ui.colored_label(theme::scenario_color(i), "■");
            let text = egui::RichText::new(&scenario.name);
            let text = if i == current { text.strong() } else { text };
            let tab = ui.selectable_label(i == current, text).on_hover_text(
                if scenario.description.is_empty() {
                    "double-click to rename"
                } else {
                    scenario.description.as_str()
                },
            );
            if tab.clicked() && i != current {
                commands.push(Command::ShowScenario(i));
            }
            if tab.double_clicked() {
                commands.push(Command::ShowScenario(i));
                *renaming = true;
            }
        }
        if ui.button("+").on_hover_text("add a scenario").clicked() {
            commands.push(Command::Edit(Edit::AddScenario));
            commands.push(Command::ShowScenario(project.scenarios.len()));
        }
        ui.separator();
        let Some(scenario) = project.scenarios.get(current) else {
            return;
        };
        if *renaming {
            let others: Vec<&str> = project
                .scenarios
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != current)
                .map(|(_, s)| s.name.as_str())
                .collect();
            ui.label("name");
            if let Some(name) = buffers.text(
                ui,
                &format!("scenario-name/{current}"),
                "scenario name",
                &scenario.name,
                |t| {
                    if t.is_empty() {
                        Err("a scenario needs a name".to_owned())
                    } else if others.contains(&t) {
                        Err(format!("there is already a scenario called {t:?}"))
                    } else {
                        Ok(t.to_owned())
                    }
                },
            ) {
                commands.push(Command::Edit(Edit::RenameScenario(current, name)));
            }
            if let Some(error) = buffers.error(&format!("scenario-name/{current}")) {
                ui.colored_label(theme::PROBLEM, error);
            }
            if ui.button("Done").clicked() {
                *renaming = false;
            }
        } else if ui.button("Rename").clicked() {
            *renaming = true;
        }
        if ui
            .button("Duplicate scenario")
            .on_hover_text("copy this scenario to make a variant to compare")
            .clicked()
        {
            commands.push(Command::Edit(Edit::DuplicateScenario(current)));
            commands.push(Command::ShowScenario(current + 1));
        }
        if project.scenarios.len() > 1
            && ui
                .button("Delete scenario")
                .on_hover_text("Ctrl+Z brings it back")
                .clicked()
        {
            commands.push(Command::Edit(Edit::RemoveScenario(current)));
            commands.push(Command::ShowScenario(current.saturating_sub(1)));
        }
    });
}
