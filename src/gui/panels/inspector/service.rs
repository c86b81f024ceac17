//! The selected service: its fields, patterns, endpoint and calls.

use std::collections::BTreeMap;

use eframe::egui::Ui;

use crate::gui::command::{Command, Edit};
use crate::gui::{editor, theme};
use crate::model::{
    Cache, Endpoint, HTTP_METHODS, Place, QueueCapacity, Service, TimeSpan, validate::limits,
};

use super::super::fields::{
    self, Buffers, choice, combo, drag_percent, drag_u32, error_row, grid, problems_ui, row,
};
use super::{Context, resilience};

pub(super) fn service_ui(
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
                // An LLM server runs by its llm settings, and only it has them.
                if kind == crate::model::ServiceKind::LlmServer {
                    new.llm
                        .get_or_insert_with(crate::model::LlmServing::example);
                } else {
                    new.llm = None;
                }
            }
        });
        row(ui, "replicas", "instances", |ui| {
            if let Some(v) = drag_u32(ui, service.replicas, 1..=limits::REPLICAS) {
                new.replicas = v;
            }
        });
        problems_ui(ui, cx.problems, &here.field("replicas"));
        // An LLM server's running sequences are its workers, and its steps
        // its work (its llm rows below): neither field applies.
        let llm = service.llm.is_some();
        if !llm {
            row(ui, "workers", "per replica", |ui| {
                if let Some(v) = drag_u32(ui, service.workers, 1..=limits::WORKERS) {
                    new.workers = v;
                }
            });
        }
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
        if !llm {
            fields::distribution_row(
                ui,
                buffers,
                &key("service_time"),
                ("service time", "the service's own work per request"),
                &mut new.service_time,
            );
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
        let rows = &mut resilience::Rows {
            problems: cx.problems,
            here: &here,
            buffers,
            key: &key,
        };
        resilience::rate_limit_rows(ui, rows, &mut new.rate_limit);
        resilience::autoscale_rows(ui, rows, &mut new.autoscale, service.replicas);
        resilience::crash_rows(ui, rows, &mut new.crashes);
        resilience::batching_rows(ui, rows, &mut new.batching);
        super::llm::llm_rows(ui, rows, &mut new.llm);
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
