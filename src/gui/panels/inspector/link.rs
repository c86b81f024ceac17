//! The selected call: probability, count, latency, mode and patterns.

use eframe::egui::Ui;

use crate::gui::command::{Command, Edit};
use crate::gui::theme;
use crate::model::{Link, Place, validate::limits};

use super::super::fields::{self, Buffers, choice, drag_percent, drag_u32, grid, problems_ui, row};
use super::{Context, resilience};

pub(super) fn link_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    index: usize,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    let scenario = &cx.project.scenarios[cx.scenario];
    let Some(link) = scenario.links.get(index) else {
        return;
    };
    let here = Place::link(&scenario.name, &link.from, &link.to);
    let key = |field: &str| format!("l/{}/{index}/{field}", cx.scenario);
    let mut new: Link = link.clone();
    ui.heading(format!("{} ➡ {}", link.from, link.to));
    grid(ui, "link", |ui| {
        row(ui, "probability", "% of requests", |ui| {
            if let Some(v) = drag_percent(ui, link.probability) {
                new.probability = v;
            }
        });
        problems_ui(ui, cx.problems, &here.field("probability"));
        row(ui, "count", "calls each time", |ui| {
            if let Some(v) = drag_u32(ui, link.count, 1..=limits::CALL_COUNT) {
                new.count = v;
            }
        });
        ui.label("parallel group");
        if let Some(g) = buffers.text(
            ui,
            &key("group"),
            "calls sharing a group run in parallel",
            link.parallel_group.as_deref().unwrap_or(""),
            |t| Ok((!t.is_empty()).then(|| t.to_owned())),
        ) {
            new.parallel_group = g;
        }
        ui.colored_label(theme::MUTED, "same name = fan-out");
        ui.end_row();
        fields::distribution_row(
            ui,
            buffers,
            &key("latency"),
            ("network latency", "round trip added to each call"),
            &mut new.latency,
        );
        problems_ui(ui, cx.problems, &here.field("latency"));
        row(ui, "mode", "", |ui| {
            if let Some(m) = choice(ui, &key("mode"), link.mode) {
                new.mode = m;
            }
        });
        let rows = &mut resilience::Rows {
            problems: cx.problems,
            here: &here,
            buffers,
            key: &key,
        };
        resilience::link_rows(ui, rows, &mut new);
    });
    if new != *link {
        commands.push(Command::Edit(Edit::SetLink {
            scenario: cx.scenario,
            index,
            link: Box::new(new),
        }));
    }
    ui.horizontal(|ui| {
        if ui.button(format!("Select {}", link.from)).clicked() {
            commands.push(Command::SelectServices(vec![link.from.clone()]));
        }
        if ui.button("Delete call").clicked() {
            commands.push(Command::Edit(Edit::RemoveLink {
                scenario: cx.scenario,
                index,
            }));
        }
    });
}
