//! The palette: one button per kind of service, each with its preset.

use eframe::egui::{self, Ui};

use crate::model::{Choice, ServiceKind};

use super::super::command::Command;
use super::super::editor;

/// Draws the palette; a click adds a service in free space near the middle
/// of the view (found when clicked: searching it costs a scan of every
/// node, too much to repeat every frame of a large scenario).
pub fn palette_ui(ui: &mut Ui, commands: &mut Vec<Command>) {
    ui.heading("Add");
    ui.add_space(4.0);
    for &kind in ServiceKind::ALL {
        let clicked = ui
            .horizontal(|ui| {
                editor::tag_ui(ui, kind);
                ui.add(egui::Button::new(kind.label()).min_size(egui::vec2(110.0, 0.0)))
                    .on_hover_text(format!("add a {} with typical settings", kind.label()))
                    .clicked()
            })
            .inner;
        if clicked {
            commands.push(Command::AddServiceInView(kind));
        }
    }
    ui.add_space(12.0);
    ui.separator();
    ui.small("Drag a node to move it; click to select, Shift+click for several, or drag a rectangle on empty canvas.");
    ui.small("Drag from a pin to another node to add a call, or to empty canvas to add a connected service.");
    ui.small("Right-click for menus. Wheel zooms; drag with the right or middle button to pan. Delete removes, Ctrl+D duplicates, Ctrl+L tidies the layout, Ctrl+F finds a service, Ctrl+G groups the selection, Esc clears the selection. Selecting a service lights its callers and callees and dims the rest.");
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        if ui
            .button("Tidy up")
            .on_hover_text("lay the scenario out left to right along its calls (Ctrl+L)")
            .clicked()
        {
            commands.push(Command::TidyUp);
        }
        if ui.button("Fit to view").clicked() {
            commands.push(Command::FitView);
        }
    });
}
