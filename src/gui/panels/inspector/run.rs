//! Run settings: stop condition, warm-up, replications, precision, seed.

use eframe::egui::{self, Ui};

use crate::gui::command::{Command, Edit};
use crate::model::{Place, RunSettings, StopCondition, TimeSpan, validate::limits};

use super::super::fields::{
    self, Buffers, drag_percent, drag_u32, error_row, grid, problems_ui, row,
};
use super::Context;

pub(super) fn run_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    let run = &cx.project.run;
    let mut new: RunSettings = run.clone();
    grid(ui, "run", |ui| {
        row(ui, "stop after", "", |ui| {
            ui.horizontal(|ui| match run.stop {
                StopCondition::Duration(span) => {
                    if let Some(t) =
                        fields::time_span(ui, buffers, "r/stop", "simulated time", span)
                    {
                        new.stop = StopCondition::Duration(t);
                    }
                    if ui.small_button("requests instead").clicked() {
                        new.stop = StopCondition::Requests(100_000);
                    }
                }
                StopCondition::Requests(n) => {
                    let mut v = n;
                    ui.add(
                        egui::DragValue::new(&mut v)
                            .range(1..=u64::MAX)
                            .speed(100.0),
                    );
                    new.stop = StopCondition::Requests(v);
                    if ui.small_button("time instead").clicked() {
                        new.stop = StopCondition::Duration(TimeSpan::from_nanos(60_000_000_000));
                    }
                }
            });
        });
        error_row(ui, buffers, "r/stop");
        problems_ui(ui, cx.problems, &Place::project(["run", "stop"]));
        row(ui, "warm-up", "discarded", |ui| {
            ui.horizontal(|ui| {
                let mut auto = run.warmup.is_none();
                if ui.checkbox(&mut auto, "automatic (MSER-5)").changed() {
                    new.warmup = (!auto).then(|| TimeSpan::from_nanos(5_000_000_000));
                }
                if let Some(w) = run.warmup
                    && let Some(t) = fields::time_span(ui, buffers, "r/warmup", "warm-up", w)
                {
                    new.warmup = Some(t);
                }
            });
        });
        error_row(ui, buffers, "r/warmup");
        row(ui, "seed", "same seed, same results", |ui| {
            ui.add(egui::DragValue::new(&mut new.seed));
        });
        row(ui, "replications", "independent runs", |ui| {
            if let Some(v) = drag_u32(ui, run.replications, 1..=limits::REPLICATIONS) {
                new.replications = v;
            }
        });
        problems_ui(ui, cx.problems, &Place::project(["run", "replications"]));
        row(ui, "common random numbers", "", |ui| {
            ui.checkbox(&mut new.common_random_numbers, "scenarios share streams");
        });
        row(ui, "precision", "of p99, 95% interval", |ui| {
            ui.horizontal(|ui| {
                let mut on = run.precision.is_some();
                if ui.checkbox(&mut on, "replicate until").changed() {
                    new.precision = on.then_some(0.02);
                }
                if let Some(p) = run.precision
                    && let Some(v) = drag_percent(ui, p)
                {
                    new.precision = Some(v);
                }
            });
        });
        problems_ui(ui, cx.problems, &Place::project(["run", "precision"]));
        if run.precision.is_some() {
            row(ui, "max replications", "", |ui| {
                if let Some(v) = drag_u32(ui, run.max_replications, 1..=limits::REPLICATIONS) {
                    new.max_replications = v;
                }
            });
        }
    });
    if new != *run {
        commands.push(Command::Edit(Edit::SetRun(Box::new(new))));
    }
}
