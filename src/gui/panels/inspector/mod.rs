//! The inspector: every field of the selected service or call, and of the
//! project's workload, run settings and objectives. It reads the project and
//! pushes edits; it never changes the project itself.

use eframe::egui::{self, Ui};

use crate::model::{Problem, Project};

use super::super::command::{Command, Edit};
use super::super::selection::Selection;
use super::super::theme;
use super::fields::Buffers;

mod link;
mod llm;
mod objectives;
mod project;
mod resilience;
mod run;
mod service;
mod workload;

use link::link_ui;
use objectives::objectives_ui;
use project::project_ui;
use run::run_ui;
use service::service_ui;
use workload::workload_ui;

/// Everything the inspector reads.
pub struct Context<'a> {
    /// The project.
    pub project: &'a Project,
    /// The scenario on the canvas.
    pub scenario: usize,
    /// What is selected there.
    pub selection: &'a Selection,
    /// The project's validation problems.
    pub problems: &'a [Problem],
    /// The comment at the top of the project's file: an example's explanation.
    pub header: &'a str,
}

/// A section of the project's settings below the selection's fields.
type SectionUi = fn(&mut Ui, &Context<'_>, &mut Buffers, &mut Vec<Command>);

/// Draws the inspector.
pub fn inspector_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    // Both ways: a row wider than the panel scrolls instead of widening the
    // panel, so the inspector keeps the width the user gave it.
    let width = ui.available_width();
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            // Text wraps at the panel's width.
            ui.set_max_width(width);
            match cx.selection {
                Selection::Services(names) if names.len() == 1 => {
                    if let Some(index) = cx
                        .project
                        .scenarios
                        .get(cx.scenario)
                        .and_then(|s| s.service_index(&names[0]))
                    {
                        service_ui(ui, cx, index, buffers, commands);
                    }
                }
                Selection::Services(names) if names.len() > 1 => {
                    ui.heading(format!("{} services", names.len()));
                    ui.label(names.join(", "));
                    ui.horizontal(|ui| {
                        if ui.button("Duplicate").clicked() {
                            commands.push(Command::Edit(Edit::DuplicateServices {
                                scenario: cx.scenario,
                                names: names.clone(),
                            }));
                        }
                        if ui.button("Delete").clicked() {
                            commands.push(Command::Edit(Edit::RemoveServices {
                                scenario: cx.scenario,
                                names: names.clone(),
                            }));
                        }
                    });
                }
                Selection::Link(index) => link_ui(ui, cx, *index, buffers, commands),
                Selection::Services(_) | Selection::None => {
                    ui.colored_label(
                        theme::MUTED,
                        "Click a service or a call on the canvas to edit it. Drag from a \
                         pin to another service to add a call, or to empty canvas to add a \
                         connected service.",
                    );
                }
            }
            ui.separator();
            let sections: [(&str, bool, SectionUi); 4] = [
                ("Workload", true, workload_ui),
                ("Run settings", false, run_ui),
                ("Objectives", false, objectives_ui),
                ("Project", false, project_ui),
            ];
            for (title, open, section) in sections {
                egui::CollapsingHeader::new(title)
                    .default_open(open)
                    .show(ui, |ui| section(ui, cx, buffers, commands));
            }
            about_ui(ui, cx);
            let count = cx.problems.len();
            if count > 0 {
                ui.separator();
                egui::CollapsingHeader::new(
                    egui::RichText::new(format!(
                        "⚠ {count} problem{}",
                        if count == 1 { "" } else { "s" }
                    ))
                    .color(theme::PROBLEM),
                )
                .default_open(true)
                .show(ui, |ui| {
                    for problem in cx.problems {
                        ui.colored_label(theme::PROBLEM, problem.to_string());
                    }
                });
            }
        });
}

/// "About this project": the project's description and the comment at the
/// top of its file, where each example explains what it teaches.
fn about_ui(ui: &mut Ui, cx: &Context<'_>) {
    // The comment's lines joined into paragraphs; blank lines and "- "
    // items start new ones, so the text wraps to the panel.
    let mut comment = String::new();
    for line in cx.header.lines() {
        let line = line.trim();
        let line = line.strip_prefix("//").map_or(line, str::trim);
        if line.is_empty() {
            comment.push_str("\n\n");
        } else {
            if line.starts_with("- ") && !comment.ends_with('\n') {
                comment.push('\n');
            } else if !comment.is_empty() && !comment.ends_with('\n') {
                comment.push(' ');
            }
            comment.push_str(line);
        }
    }
    let comment = comment.trim();
    if cx.project.description.trim().is_empty() && comment.is_empty() {
        return;
    }
    egui::CollapsingHeader::new("About this project")
        .default_open(true)
        .show(ui, |ui| {
            // Wrap at the visible edge, even where a wide row above made the
            // scrolled content wider.
            let visible = ui.clip_rect().right() - ui.cursor().left() - 8.0;
            ui.set_max_width(visible.max(120.0));
            ui.strong(&cx.project.name);
            if !cx.project.description.trim().is_empty() {
                ui.label(&cx.project.description);
            }
            if !comment.is_empty() {
                ui.add_space(4.0);
                ui.label(egui::RichText::new(comment).small());
            }
        });
}
