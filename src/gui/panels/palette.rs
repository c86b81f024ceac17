//! The palette: one button per kind of service, each with its preset.

use eframe::egui::{self, Ui};

use crate::model::{Position, ServiceKind};

use super::super::command::{Command, Edit};
use super::super::editor;

/// Draws the palette; a click adds a service near `at` (the view's centre).
pub fn palette_ui(ui: &mut Ui, scenario: usize, at: Position, commands: &mut Vec<Command>) {
    ui.heading("Add");
    ui.add_space(4.0);
    for (i, kind) in ServiceKind::ALL.into_iter().enumerate() {
        let clicked = ui
            .horizontal(|ui| {
                editor::tag_ui(ui, kind);
                ui.add(egui::Button::new(kind.label()).min_size(egui::vec2(110.0, 0.0)))
                    .on_hover_text(format!("add a {} with typical settings", kind.label()))
                    .clicked()
            })
            .inner;
        if clicked {
            // Fan new nodes out a little so repeated clicks do not stack.
            let step = (i % 4) as f32 * 24.0;
            commands.push(Command::Edit(Edit::AddService {
                scenario,
                kind,
                at: Position {
                    x: at.x - 90.0 + step,
                    y: at.y - 40.0 + step,
                },
            }));
        }
    }
    ui.add_space(12.0);
    ui.separator();
    ui.small("Drag nodes to move them. Drag from a right pin to a left pin to add a call.");
    ui.small("Right-click a call to remove it, a node for its menu, the canvas to add.");
    ui.small("Shift-drag to select several. Delete removes, Ctrl+D duplicates.");
    ui.add_space(4.0);
    if ui.button("Fit to view").clicked() {
        commands.push(Command::FitView);
    }
}
