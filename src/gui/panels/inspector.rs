//! The inspector: every field of the selected service or call, and of the
//! project's workload, run settings and objectives. It reads the project and
//! pushes edits; it never changes the project itself.

use std::collections::BTreeMap;

use eframe::egui::{self, Ui};

use crate::model::{
    ArrivalProcess, Arrivals, Cache, Endpoint, HTTP_METHODS, Link, Objective, Place, Problem,
    Project, QueueCapacity, RateChange, RequestClass, RunSettings, Service, StopCondition,
    TimeSpan, Workload, validate::limits,
};

use super::super::selection::Selection;
use super::super::command::{Command, Edit};
use super::super::{editor, theme};
use super::fields::{self, Buffers, choice, combo, error_row, grid, problems_ui, row};
use super::resilience;

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
            egui::CollapsingHeader::new("Workload")
                .default_open(true)
                .show(ui, |ui| workload_ui(ui, cx, buffers, commands));
            egui::CollapsingHeader::new("Run settings")
                .default_open(false)
                .show(ui, |ui| run_ui(ui, cx, buffers, commands));
            egui::CollapsingHeader::new("Objectives")
                .default_open(false)
                .show(ui, |ui| objectives_ui(ui, cx, buffers, commands));
            egui::CollapsingHeader::new("Project")
                .default_open(false)
                .show(ui, |ui| project_ui(ui, cx, buffers, commands));
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

pub(super) fn drag_u32(
    ui: &mut Ui,
    value: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Option<u32> {
    let mut v = value;
    ui.add(egui::DragValue::new(&mut v).range(range).speed(0.2));
    (v != value).then_some(v)
}

fn drag_percent(ui: &mut Ui, fraction: f64) -> Option<f64> {
    let mut percent = fraction * 100.0;
    ui.add(
        egui::DragValue::new(&mut percent)
            .range(0.0..=100.0)
            .speed(0.1)
            .max_decimals(3),
    );
    let new = percent / 100.0;
    ((new - fraction).abs() > 1e-12).then_some(new)
}

fn service_ui(
    ui: &mut Ui,
    cx: &Context<'_>,
    index: usize,
    buffers: &mut Buffers,
    commands: &mut Vec<Command>,
) {
    let scenario = &cx.project.scenarios[cx.scenario];
    let service = &scenario.services[index];
    let here = Place::service(&scenario.name, &service.name);
    let key = |field: &str| format!("s/{}/{index}/{field}", cx.scenario);
    let mut new = service.clone();
    ui.horizontal(|ui| {
        editor::tag_ui(ui, service.kind);
        ui.heading(&service.name);
    });
    grid(ui, "service", |ui| {
        ui.label("name");
        let others: Vec<&str> = scenario
            .services
            .iter()
            .filter(|s| s.name != service.name)
            .map(|s| s.name.as_str())
            .collect();
        if let Some(name) = buffers.text(ui, &key("name"), "name", &service.name, |t| {
            if t.is_empty() {
                Err("a service needs a name".into())
            } else if others.contains(&t) {
                Err(format!("there is already a service called {t:?}"))
            } else {
                Ok(t.to_owned())
            }
        }) {
            new.name = name;
        }
        ui.label("");
        ui.end_row();
        error_row(ui, buffers, &key("name"));
        row(ui, "kind", "", |ui| {
            if let Some(kind) = choice(ui, &key("kind"), service.kind) {
                new.kind = kind;
            }
        });
        row(ui, "replicas", "instances", |ui| {
            if let Some(v) = drag_u32(ui, service.replicas, 1..=limits::REPLICAS) {
                new.replicas = v;
            }
        });
        problems_ui(ui, cx.problems, &here.field("replicas"));
        row(ui, "workers", "per replica", |ui| {
            if let Some(v) = drag_u32(ui, service.workers, 1..=limits::WORKERS) {
                new.workers = v;
            }
        });
        problems_ui(ui, cx.problems, &here.field("workers"));
        row(ui, "queue", "waiting per replica", |ui| {
            ui.horizontal(|ui| {
                let mut bounded = matches!(service.queue, QueueCapacity::Bounded(_));
                if ui.checkbox(&mut bounded, "bounded").changed() {
                    new.queue = if bounded {
                        QueueCapacity::Bounded(100)
                    } else {
                        QueueCapacity::Unbounded
                    };
                }
                if let QueueCapacity::Bounded(n) = service.queue
                    && let Some(v) = drag_u32(ui, n, 0..=u32::MAX)
                {
                    new.queue = QueueCapacity::Bounded(v);
                }
            });
        });
        ui.label("service time");
        if let Some(d) = fields::distribution(
            ui,
            buffers,
            &key("service_time"),
            "the service's own work per request",
            &service.service_time,
        ) {
            new.service_time = d;
        }
        problems_ui(ui, cx.problems, &here.field("service_time"));
        row(ui, "balancer", "", |ui| {
            if let Some(b) = choice(ui, &key("balancer"), service.balancer) {
                new.balancer = b;
            }
        });
        row(ui, "I/O", "during calls", |ui| {
            if let Some(io) = choice(ui, &key("io"), service.io) {
                new.io = io;
            }
        });
        row(ui, "error rate", "% of requests", |ui| {
            if let Some(v) = drag_percent(ui, service.error_rate) {
                new.error_rate = v;
            }
        });
        problems_ui(ui, cx.problems, &here.field("error_rate"));
        resilience::rate_limit_rows(ui, cx.problems, &here, &mut new.rate_limit);
        resilience::autoscale_rows(
            ui,
            cx.problems,
            &here,
            &mut new.autoscale,
            service.replicas,
            buffers,
            &key,
        );
        resilience::crash_rows(ui, cx.problems, &here, &mut new.crashes, buffers, &key);
        resilience::batching_rows(ui, cx.problems, &here, &mut new.batching, buffers, &key);
        row(ui, "cache", "", |ui| {
            let mut on = service.cache.is_some();
            if ui.checkbox(&mut on, "answers hits itself").changed() {
                new.cache = on.then_some(Cache {
                    hit_ratio: 0.8,
                    warmup: TimeSpan::default(),
                });
            }
        });
        if let Some(cache) = service.cache {
            row(ui, "  hit ratio", "%", |ui| {
                if let Some(v) = drag_percent(ui, cache.hit_ratio) {
                    new.cache = Some(Cache {
                        hit_ratio: v,
                        ..cache
                    });
                }
            });
            problems_ui(ui, cx.problems, &here.field("cache").field("hit_ratio"));
            row(ui, "  warm-up", "cold start", |ui| {
                if let Some(w) =
                    fields::time_span(ui, buffers, &key("warmup"), "warm-up", cache.warmup)
                {
                    new.cache = Some(Cache { warmup: w, ..cache });
                }
            });
            error_row(ui, buffers, &key("warmup"));
        }
        endpoint_rows(ui, cx, service, &mut new, buffers, &key);
        problems_ui(ui, cx.problems, &here.field("endpoint"));
    });
    if new != *service {
        commands.push(Command::Edit(Edit::SetService {
            scenario: cx.scenario,
            index,
            service: Box::new(new),
        }));
    }
    calls_ui(ui, cx, &service.name, commands);
    ui.horizontal(|ui| {
        if ui.button("Duplicate").clicked() {
            commands.push(Command::Edit(Edit::DuplicateServices {
                scenario: cx.scenario,
                names: vec![service.name.clone()],
            }));
        }
        if ui.button("Delete service").clicked() {
            commands.push(Command::Edit(Edit::RemoveServices {
                scenario: cx.scenario,
                names: vec![service.name.clone()],
            }));
        }
    });
}

fn endpoint_rows(
    ui: &mut Ui,
    _cx: &Context<'_>,
    service: &Service,
    new: &mut Service,
    buffers: &mut Buffers,
    key: &dyn Fn(&str) -> String,
) {
    row(ui, "endpoint", "for live tests", |ui| {
        let mut on = service.endpoint.is_some();
        if ui.checkbox(&mut on, "bound to a URL").changed() {
            new.endpoint = on.then(|| Endpoint {
                url: "http://127.0.0.1:8080/".into(),
                method: "GET".into(),
                headers: BTreeMap::new(),
                body: None,
            });
        }
    });
    let Some(endpoint) = &service.endpoint else {
        return;
    };
    ui.label("  URL");
    if let Some(url) = buffers.text(ui, &key("url"), "URL", &endpoint.url, |t| Ok(t.to_owned()))
        && let Some(e) = &mut new.endpoint
    {
        e.url = url;
    }
    ui.label("");
    ui.end_row();
    row(ui, "  method", "", |ui| {
        let options: Vec<(&str, &str)> = HTTP_METHODS.iter().map(|m| (*m, *m)).collect();
        if let Some(m) = combo(ui, &key("method"), endpoint.method.as_str(), &options)
            && let Some(e) = &mut new.endpoint
        {
            m.clone_into(&mut e.method);
        }
    });
    ui.label("  headers");
    let headers = endpoint
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(h) = buffers.text(
        ui,
        &key("headers"),
        "Name: value; Name: value",
        &headers,
        parse_headers,
    ) && let Some(e) = &mut new.endpoint
    {
        e.headers = h;
    }
    ui.colored_label(theme::MUTED, "Name: value; …");
    ui.end_row();
    error_row(ui, buffers, &key("headers"));
    ui.label("  body");
    if let Some(b) = buffers.text(
        ui,
        &key("body"),
        "request body",
        endpoint.body.as_deref().unwrap_or(""),
        |t| Ok((!t.is_empty()).then(|| t.to_owned())),
    ) && let Some(e) = &mut new.endpoint
    {
        e.body = b;
    }
    ui.label("");
    ui.end_row();
}

fn parse_headers(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair
                .split_once(':')
                .ok_or_else(|| format!("{pair:?} needs the form Name: value"))?;
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

fn calls_ui(ui: &mut Ui, cx: &Context<'_>, name: &str, commands: &mut Vec<Command>) {
    let scenario = &cx.project.scenarios[cx.scenario];
    ui.separator();
    ui.strong("Calls");
    let mut any = false;
    for (i, link) in scenario.links.iter().enumerate() {
        let text = if link.from == name {
            format!("➡ {}", link.to)
        } else if link.to == name {
            format!("⬅ {}", link.from)
        } else {
            continue;
        };
        any = true;
        if ui.link(text).on_hover_text("edit this call").clicked() {
            commands.push(Command::SelectLink(i));
        }
    }
    if !any {
        ui.colored_label(theme::MUTED, "none");
    }
    // The keyboard's way to connect, besides dragging between pins.
    let callable: Vec<&str> = scenario
        .services
        .iter()
        .map(|s| s.name.as_str())
        .filter(|&to| to != name && !scenario.links.iter().any(|l| l.from == name && l.to == to))
        .collect();
    if !callable.is_empty() {
        ui.menu_button("add a call to…", |ui| {
            for to in callable {
                if ui.button(format!("➡ {to}")).clicked() {
                    commands.push(Command::Edit(Edit::Connect {
                        scenario: cx.scenario,
                        from: name.to_owned(),
                        to: to.to_owned(),
                    }));
                }
            }
        });
    }
}

fn link_ui(
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
        ui.label("network latency");
        if let Some(d) = fields::distribution(
            ui,
            buffers,
            &key("latency"),
            "round trip added to each call",
            &link.latency,
        ) {
            new.latency = d;
        }
        problems_ui(ui, cx.problems, &here.field("latency"));
        row(ui, "mode", "", |ui| {
            if let Some(m) = choice(ui, &key("mode"), link.mode) {
                new.mode = m;
            }
        });
        resilience::link_rows(ui, cx.problems, &here, &mut new, buffers, &key);
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

fn workload_ui(ui: &mut Ui, cx: &Context<'_>, buffers: &mut Buffers, commands: &mut Vec<Command>) {
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
                row(ui, "process", "", |ui| {
                    if let Some(p) = choice(ui, "process", *process)
                        && let Arrivals::Open { process, .. } = &mut new.arrivals
                    {
                        *process = p;
                    }
                });
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
            for field in ["name", "weight", "entry"] {
                problems_ui(ui, cx.problems, &place.field(field));
            }
        }
    });
    if ui.small_button("+ class").clicked() {
        let name = super::super::command::first_free("class", "-", |n| {
            workload.classes.iter().any(|c| c.name == n)
        });
        new.classes.push(RequestClass {
            name,
            weight: 1.0,
            entry: services.first().cloned().unwrap_or_default(),
        });
    }
}

fn run_ui(ui: &mut Ui, cx: &Context<'_>, buffers: &mut Buffers, commands: &mut Vec<Command>) {
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

fn objectives_ui(
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

fn project_ui(ui: &mut Ui, cx: &Context<'_>, buffers: &mut Buffers, commands: &mut Vec<Command>) {
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
