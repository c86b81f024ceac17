//! Objectives: latency targets per class.

use eframe::egui::{self, Ui};

use crate::gui::command::{Command, Edit};
use crate::model::{Objective, Place};

use super::super::fields::{self, Buffers, error_row, grid, problems_ui};
use super::Context;

pub(super) fn objectives_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    let objectives = &cx.project.objectives;
    let mut new: Vec<Objective> = objectives.clone();
    let classes: Vec<String> = cx
        .project
        .workload
        .classes
        .iter()
        .map(|c| c.name.clone())
        .collect();
    grid(ui, "objectives", |ui| {
        for (i, objective) in objectives.iter().enumerate() {
            let mut class = objective.class.clone();
            egui::ComboBox::from_id_salt(("objective-class", i))
                .selected_text(class.as_deref().unwrap_or("all requests"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut class, None, "all requests");
                    for name in &classes {
                        ui.selectable_value(&mut class, Some(name.clone()), name);
                    }
                });
            new[i].class = class;
            if let Some(target) = buffers.text(
                ui,
                &format!("o/{i}"),
                "like p99 <= 200ms",
                &objective.latency.to_string(),
                fields::parse,
            ) {
                new[i].latency = target;
            }
            if ui.small_button("✖").clicked() {
                new.remove(i);
                ui.end_row();
                break;
            }
            ui.end_row();
            error_row(ui, buffers, &format!("o/{i}"));
            problems_ui(
                ui,
                cx.problems,
                &Place::project([])
                    .field(format!("objectives[{i}]"))
                    .field("class"),
            );
        }
    });
    if ui.small_button("+ objective").clicked()
        && let Ok(latency) = "p99 <= 200ms".parse()
    {
        new.push(Objective {
            class: None,
            latency,
        });
    }
    if new != *objectives {
        commands.push(Command::Edit(Edit::SetObjectives(new)));
    }
}
