//! The workload: open or closed arrivals, the rate profile, request classes.

use eframe::egui::{self, Ui};

use crate::gui::command::{Command, Edit};
use crate::gui::theme;
use crate::model::{
    ArrivalProcess, Arrivals, Place, RateChange, RequestClass, TimeSpan, Workload, validate::limits,
};

use super::super::fields::{self, Buffers, choice, drag_u32, grid, problems_ui, row};
use super::Context;

pub(super) fn workload_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    let workload = &cx.project.workload;
    let mut new: Workload = workload.clone();
    grid(ui, "workload", |ui| {
        row(ui, "arrivals", "", |ui| {
            let open = matches!(workload.arrivals, Arrivals::Open { .. });
            ui.horizontal(|ui| {
                if ui.selectable_label(open, "open (rate)").clicked() && !open {
                    new.arrivals = Arrivals::Open {
                        process: ArrivalProcess::Poisson,
                        rate_rps: 100.0,
                        profile: Vec::new(),
                    };
                }
                if ui.selectable_label(!open, "closed (users)").clicked() && open {
                    new.arrivals = Arrivals::Closed {
                        users: 50,
                        think_time: "exp:1s".parse().unwrap_or_default(),
                    };
                }
            });
        });
        match &workload.arrivals {
            Arrivals::Open {
                process,
                rate_rps,
                profile,
            } => {
                // Any Gamma shows as the offered one; picking Gamma again
                // keeps its cv.
                let shown = match process {
                    ArrivalProcess::Gamma { .. } => ArrivalProcess::Gamma { cv: 2.0 },
                    other => *other,
                };
                row(ui, "process", "", |ui| {
                    if let Some(p) = choice(ui, "process", shown)
                        && let Arrivals::Open { process, .. } = &mut new.arrivals
                    {
                        *process = p;
                    }
                });
                if let ArrivalProcess::Gamma { cv } = process {
                    row(ui, "  burstiness", "cv of the gaps", |ui| {
                        let mut value = *cv;
                        ui.add(
                            egui::DragValue::new(&mut value)
                                .range(0.05..=limits::ARRIVAL_CV)
                                .speed(0.05),
                        )
                        .on_hover_text(
                            "the gaps' standard deviation over their mean: 1 is Poisson, \
                             above 1 requests bunch up",
                        );
                        if value.to_bits() != cv.to_bits()
                            && let Arrivals::Open { process, .. } = &mut new.arrivals
                        {
                            *process = ArrivalProcess::Gamma { cv: value };
                        }
                    });
                }
                row(ui, "rate", "req/s", |ui| {
                    let mut r = *rate_rps;
                    ui.add(
                        egui::DragValue::new(&mut r)
                            .range(0.001..=limits::RATE_RPS)
                            .speed(1.0),
                    );
                    if (r - rate_rps).abs() > 0.0
                        && let Arrivals::Open { rate_rps, .. } = &mut new.arrivals
                    {
                        *rate_rps = r;
                    }
                });
                problems_ui(
                    ui,
                    cx.problems,
                    &Place::project(["workload", "arrivals", "rate_rps"]),
                );
                profile_rows(ui, cx, profile, &mut new, buffers);
            }
            Arrivals::Closed { users, think_time } => {
                row(ui, "users", "", |ui| {
                    if let Some(u) = drag_u32(ui, *users, 1..=limits::USERS)
                        && let Arrivals::Closed { users, .. } = &mut new.arrivals
                    {
                        *users = u;
                    }
                });
                ui.label("think time");
                if let Some(d) = fields::distribution(
                    ui,
                    buffers,
                    "w/think",
                    "pause between requests",
                    think_time,
                ) && let Arrivals::Closed { think_time, .. } = &mut new.arrivals
                {
                    *think_time = d;
                }
            }
        }
    });
    classes_ui(ui, cx, &mut new, buffers);
    if new != *workload {
        commands.push(Command::Edit(Edit::SetWorkload(Box::new(new))));
    }
}

fn profile_rows(
    ui: &mut Ui,
    cx: &Context<'_>,
    profile: &[RateChange],
    new: &mut Workload,
    buffers: &mut Buffers,
) {
    let Arrivals::Open {
        profile: new_profile,
        ..
    } = &mut new.arrivals
    else {
        return;
    };
    for (i, change) in profile.iter().enumerate() {
        let place = Place::project(["workload", "arrivals"]).field(format!("profile[{i}]"));
        match change {
            RateChange::Step { at, rate_rps } => {
                ui.label(format!("step {}", i + 1));
                ui.horizontal(|ui| {
                    ui.label("at");
                    if let Some(t) =
                        fields::time_span(ui, buffers, &format!("p/{i}/at"), "when", *at)
                        && let Some(RateChange::Step { at, .. }) = new_profile.get_mut(i)
                    {
                        *at = t;
                    }
                    ui.label("to");
                    let mut r = *rate_rps;
                    ui.add(egui::DragValue::new(&mut r).range(0.0..=limits::RATE_RPS));
                    if let Some(RateChange::Step { rate_rps, .. }) = new_profile.get_mut(i) {
                        *rate_rps = r;
                    }
                });
            }
            RateChange::Ramp { from, to, rate_rps } => {
                ui.label(format!("ramp {}", i + 1));
                ui.horizontal(|ui| {
                    if let Some(t) =
                        fields::time_span(ui, buffers, &format!("p/{i}/from"), "from", *from)
                        && let Some(RateChange::Ramp { from, .. }) = new_profile.get_mut(i)
                    {
                        *from = t;
                    }
                    ui.label("–");
                    if let Some(t) = fields::time_span(ui, buffers, &format!("p/{i}/to"), "to", *to)
                        && let Some(RateChange::Ramp { to, .. }) = new_profile.get_mut(i)
                    {
                        *to = t;
                    }
                    ui.label("to");
                    let mut r = *rate_rps;
                    ui.add(egui::DragValue::new(&mut r).range(0.0..=limits::RATE_RPS));
                    if let Some(RateChange::Ramp { rate_rps, .. }) = new_profile.get_mut(i) {
                        *rate_rps = r;
                    }
                });
            }
        }
        if ui
            .small_button("✖")
            .on_hover_text("remove this change")
            .clicked()
        {
            new_profile.remove(i);
            ui.end_row();
            return;
        }
        ui.end_row();
        problems_ui(ui, cx.problems, &place);
    }
    ui.label("");
    ui.horizontal(|ui| {
        let last = profile.last().map_or(TimeSpan::default(), |c| match c {
            RateChange::Step { at, .. } => *at,
            RateChange::Ramp { to, .. } => *to,
        });
        let later = TimeSpan::from_nanos(last.as_nanos() + 10_000_000_000);
        if ui.small_button("+ step").clicked() {
            new_profile.push(RateChange::Step {
                at: later,
                rate_rps: 100.0,
            });
        }
        if ui.small_button("+ ramp").clicked() {
            new_profile.push(RateChange::Ramp {
                from: later,
                to: TimeSpan::from_nanos(later.as_nanos() + 10_000_000_000),
                rate_rps: 100.0,
            });
        }
    });
    ui.colored_label(theme::MUTED, "rate changes over time");
    ui.end_row();
}

fn classes_ui(ui: &mut Ui, cx: &Context<'_>, new: &mut Workload, buffers: &mut Buffers) {
    let workload = &cx.project.workload;
    let services: Vec<String> = cx
        .project
        .scenarios
        .get(cx.scenario)
        .map(|s| s.services.iter().map(|x| x.name.clone()).collect())
        .unwrap_or_default();
    // Token lengths are offered once the scenario has an LLM server.
    let reaches_llm = cx.project.scenarios.get(cx.scenario).is_some_and(|s| {
        s.services
            .iter()
            .any(|x| x.kind == crate::model::ServiceKind::LlmServer)
    });
    ui.strong("Request classes");
    grid(ui, "classes", |ui| {
        for (i, class) in workload.classes.iter().enumerate() {
            let place = Place::class(&class.name);
            ui.label("class");
            ui.vertical(|ui| {
                if let Some(name) =
                    buffers.text(ui, &format!("c/{i}/name"), "class name", &class.name, |t| {
                        if t.is_empty() {
                            Err("a class needs a name".to_owned())
                        } else {
                            Ok(t.to_owned())
                        }
                    })
                {
                    new.classes[i].name = name;
                }
                ui.horizontal(|ui| {
                    let mut w = class.weight;
                    ui.add(
                        egui::DragValue::new(&mut w)
                            .range(0.0..=1e9)
                            .speed(0.05)
                            .prefix("weight "),
                    );
                    new.classes[i].weight = w;
                    let mut entry = class.entry.clone();
                    egui::ComboBox::from_id_salt(("entry", i))
                        .selected_text(format!("enters at {entry}"))
                        .show_ui(ui, |ui| {
                            for name in &services {
                                ui.selectable_value(&mut entry, name.clone(), name);
                            }
                        });
                    new.classes[i].entry = entry;
                });
                tokens_ui(
                    ui,
                    buffers,
                    i,
                    class,
                    &mut new.classes[i].tokens,
                    reaches_llm,
                );
            });
            if workload.classes.len() > 1
                && ui
                    .small_button("✖")
                    .on_hover_text("remove this class")
                    .clicked()
            {
                new.classes.remove(i);
                ui.end_row();
                return;
            }
            ui.end_row();
            for field in ["name", "weight", "entry", "tokens"] {
                problems_ui(ui, cx.problems, &place.field(field));
            }
        }
    });
    if ui.small_button("+ class").clicked() {
        let name = crate::gui::command::first_free("class", "-", |n| {
            workload.classes.iter().any(|c| c.name == n)
        });
        new.classes.push(RequestClass {
            name,
            weight: 1.0,
            entry: services.first().cloned().unwrap_or_default(),
            tokens: None,
        });
    }
}

/// A class's prompt and output lengths in tokens, for LLM servers: two
/// fields when it has them, a button to add them when its scenario has an
/// LLM server.
fn tokens_ui(
    ui: &mut Ui,
    buffers: &mut Buffers,
    i: usize,
    class: &RequestClass,
    tokens: &mut Option<crate::model::TokenLengths>,
    offered: bool,
) {
    let Some(current) = &class.tokens else {
        if offered
            && ui
                .small_button("+ token lengths")
                .on_hover_text("prompt and output tokens, for the LLM servers it reaches")
                .clicked()
        {
            // lognormal:1000,p99=4000 and exp:200 tokens, a token a microsecond.
            let us = |n: u64| TimeSpan::from_nanos(n * 1000);
            *tokens = Some(crate::model::TokenLengths {
                prompt: crate::model::TokenCount(crate::model::Distribution::LogNormal {
                    mean: us(1000),
                    p99: us(4000),
                }),
                output: crate::model::TokenCount(crate::model::Distribution::Exponential {
                    mean: us(200),
                }),
            });
        }
        return;
    };
    for (field, current) in [("prompt", &current.prompt), ("output", &current.output)] {
        ui.horizontal(|ui| {
            ui.label(field);
            if let Some(count) = buffers.text(
                ui,
                &format!("c/{i}/{field}"),
                &format!("{field} tokens"),
                &current.to_string(),
                str::parse::<crate::model::TokenCount>,
            ) && let Some(t) = tokens.as_mut()
            {
                *if field == "prompt" {
                    &mut t.prompt
                } else {
                    &mut t.output
                } = count;
            }
            if field == "output"
                && ui
                    .small_button("✖")
                    .on_hover_text("no token lengths")
                    .clicked()
            {
                *tokens = None;
            }
        });
    }
    ui.menu_button("preset…", |ui| {
        for preset in &crate::model::presets::LENGTH_PRESETS {
            if ui
                .button(preset.name)
                .on_hover_text(format!(
                    "prompt and output lengths of the trace, a hundred equally likely \
                     values each; from the {}",
                    preset.source
                ))
                .clicked()
            {
                *tokens = Some(preset.lengths());
                ui.close();
            }
        }
    })
    .response
    .on_hover_text("published token lengths (docs/llm.md#presets)");
    for key in [format!("c/{i}/prompt"), format!("c/{i}/output")] {
        if let Some(error) = buffers.error(&key) {
            ui.colored_label(theme::PROBLEM, format!("⚠ {error}"));
        }
    }
}
