//! The Live panel: drive real HTTP endpoints from the app and watch
//! throughput and latency while the run goes (feature `loadgen`).
//!
//! Safety: nothing is sent until the user presses Start; before the first
//! run of a project the user confirms the hosts that will receive load; the
//! rate, users, connections and duration are bounded here, well inside the
//! load generator's own limits. Header values may name `${ENV_VARS}`, read
//! when the run starts, so secrets stay out of project files.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use eframe::egui::{self, Ui};
use egui_plot::Line;

use crate::loadgen::emulate::Emulation;
use crate::loadgen::{self, Live, LoadHandle, LoadPlan, Pacing, RequestSpec, Target};
use crate::model::{Distribution, Project, TokenCount};
use crate::stats::{LoadReport, ScenarioReport};

use super::emulated::{self, EmulatedRun, Measurement};

use super::super::command::Command;
use super::super::plots::{self, format_ms};
use super::super::theme;

/// The longest run the window offers, in seconds: the load generator's.
const MAX_DURATION_S: f64 = loadgen::MAX_DURATION.as_secs_f64();
/// The most users in a closed loop.
pub const MAX_USERS: u32 = 10_000;
/// The most connections.
pub const MAX_CONNECTIONS: u32 = 1000;

/// Where the load goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The endpoints bound to the scenario's entry services.
    Project,
    /// One URL typed here.
    Url,
    /// The scenario itself, emulated as real services on 127.0.0.1 and
    /// driven with the project's workload.
    Emulated,
}

/// A run in progress.
struct Run {
    handle: LoadHandle,
    started: Instant,
    duration: Duration,
    what: String,
    /// The services it drives, when they are the scenario emulated here;
    /// they stop with the run.
    emulation: Option<Emulation>,
}

/// The Live panel's settings and the run it drives.
pub struct LivePanel {
    /// Whether the window is shown.
    pub open: bool,
    source: Source,
    url: String,
    method: String,
    closed_loop: bool,
    rate_rps: f64,
    users: u32,
    think: String,
    duration_s: f64,
    connections: u32,
    /// Stream completions from an OpenAI-compatible endpoint and time the
    /// tokens, with these prompt and output lengths (distributions).
    llm: Option<(String, String)>,
    /// Connections for the emulated scenario: more, as its requests take
    /// as long as the model says, and too few would queue them in the
    /// load generator instead of at the services.
    emulated_connections: u32,
    /// Hosts the user agreed to load, for the open project.
    confirmed: BTreeSet<String>,
    /// A plan waiting for the user to confirm its hosts.
    confirming: Option<(LoadPlan, Vec<String>)>,
    run: Option<Run>,
    live: Live,
    /// The whole run, once it has ended.
    summary: Option<Measurement>,
    error: Option<String>,
}

impl Default for LivePanel {
    fn default() -> Self {
        Self {
            open: false,
            source: Source::Url,
            url: "http://127.0.0.1:8080/".into(),
            method: "GET".into(),
            closed_loop: false,
            rate_rps: 100.0,
            users: 10,
            think: "exp:100ms".into(),
            duration_s: 30.0,
            connections: 16,
            llm: None,
            emulated_connections: 256,
            confirmed: BTreeSet::new(),
            confirming: None,
            run: None,
            live: Live::default(),
            summary: None,
            error: None,
        }
    }
}

impl LivePanel {
    /// A new project: its hosts must be confirmed again, and a run stops.
    pub fn forget_project(&mut self) {
        self.confirmed.clear();
        self.confirming = None;
        if let Some(run) = &self.run {
            run.handle.stop();
        }
        self.live = Live::default();
        self.summary = None;
        self.error = None;
    }

    /// Whether a run is going.
    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Polls the run: the latest seconds while it goes, the report (and
    /// an emulation's counters) when it ends, when the emulation stops too.
    /// Call once per frame.
    pub fn logic(&mut self, ctx: &egui::Context) -> Option<(LoadReport, Option<EmulatedRun>)> {
        let run = self.run.as_ref()?;
        self.live = run.handle.live();
        if !run.handle.is_finished() {
            ctx.request_repaint_after(Duration::from_millis(250));
            return None;
        }
        let run = self.run.take()?;
        let emulated = run.emulation.map(|emulation| {
            let run = EmulatedRun {
                scenario: emulation.scenario().to_owned(),
                services: emulation.stats(),
            };
            emulation.stop();
            run
        });
        match run.handle.join() {
            Ok(report) => {
                self.error = None;
                self.summary = Some(Measurement {
                    report: report.clone(),
                    emulated: emulated.clone(),
                });
                Some((report, emulated))
            }
            Err(error) => {
                self.error = Some(error.to_string());
                None
            }
        }
    }

    fn plan(&self, project: &Project, scenario: usize) -> Result<LoadPlan, String> {
        let targets = match self.source {
            Source::Emulated => unreachable!("an emulated run is planned with its emulation"),
            Source::Project => {
                loadgen::project_targets(project, scenario).map_err(|e| e.to_string())?
            }
            Source::Url => vec![
                Target::new(&RequestSpec {
                    url: self.url.trim().to_owned(),
                    method: if self.llm.is_some() {
                        "POST".into()
                    } else {
                        self.method.clone()
                    },
                    headers: Vec::new(),
                    body: Vec::new(),
                    weight: 1.0,
                })
                .map_err(|e| e.to_string())?,
            ],
        };
        let pacing = if self.closed_loop {
            let think: Distribution = self.think.parse().map_err(|e| format!("think time: {e}"))?;
            think.check().map_err(|e| format!("think time: {e}"))?;
            Pacing::Closed {
                users: self.users.clamp(1, MAX_USERS),
                think,
            }
        } else {
            loadgen::constant_rate(
                self.rate_rps.clamp(0.1, loadgen::MAX_RATE_RPS),
                self.connections.clamp(1, MAX_CONNECTIONS),
            )
        };
        let mut plan = LoadPlan::new(
            targets,
            pacing,
            Duration::from_secs_f64(self.duration_s.clamp(1.0, MAX_DURATION_S)),
        );
        if let Some((prompt, output)) = &self.llm {
            let parse = |text: &str, what: &str| {
                text.parse::<TokenCount>()
                    .map_err(|e| format!("{what} tokens: {e}"))
            };
            plan.timeout = Duration::from_mins(2);
            plan.llm = Some(loadgen::LlmRequests {
                prompt: parse(prompt, "prompt")?,
                max_tokens: parse(output, "output")?,
                model: "archbench".into(),
            });
        }
        plan.validate().map_err(|e| e.to_string())?;
        Ok(plan)
    }

    fn start(&mut self, plan: LoadPlan, emulation: Option<Emulation>) {
        let what = match &emulation {
            Some(e) => format!(
                "{} against scenario \"{}\" emulated on 127.0.0.1 ({} listeners)",
                plan.describe(),
                e.scenario(),
                e.listeners().len()
            ),
            None => format!(
                "{} against {}",
                plan.describe(),
                hosts(&plan).into_iter().collect::<Vec<_>>().join(", ")
            ),
        };
        let duration = plan.duration;
        match loadgen::start(plan) {
            Ok(handle) => {
                self.live = Live::default();
                self.error = None;
                self.run = Some(Run {
                    handle,
                    #[expect(clippy::disallowed_methods, reason = "a live run shows wall time")]
                    started: Instant::now(),
                    duration,
                    what,
                    emulation,
                });
            }
            Err(error) => self.error = Some(error.to_string()),
        }
    }

    /// The user's answer to "send load to these hosts?": starts the
    /// waiting plan, remembering its hosts, or drops it.
    pub fn answer_hosts(&mut self, yes: bool) {
        if let Some((plan, new)) = self.confirming.take()
            && yes
        {
            self.confirmed.extend(new);
            self.start(plan, None);
        }
    }

    /// Asks for confirmation of new hosts, or starts. The emulated
    /// scenario needs none: it listens on 127.0.0.1, in this process.
    fn request_start(&mut self, project: &Project, scenario: usize) {
        if self.source == Source::Emulated {
            let duration = Duration::from_secs_f64(self.duration_s.clamp(1.0, MAX_DURATION_S));
            match emulated::start(project, scenario, duration, self.emulated_connections) {
                Ok((emulation, plan)) => self.start(plan, Some(emulation)),
                Err(error) => self.error = Some(error),
            }
            return;
        }
        match self.plan(project, scenario) {
            Ok(plan) => {
                let new: Vec<String> = hosts(&plan)
                    .into_iter()
                    .filter(|h| !self.confirmed.contains(h))
                    .collect();
                if new.is_empty() {
                    self.start(plan, None);
                } else {
                    self.confirming = Some((plan, new));
                }
            }
            Err(error) => self.error = Some(error),
        }
    }
}

/// The project's workload, in words.
fn workload_text(project: &Project) -> String {
    match &project.workload.arrivals {
        crate::model::Arrivals::Open {
            rate_rps, profile, ..
        } => format!(
            "the project's: {rate_rps} req/s{}",
            if profile.is_empty() {
                ""
            } else {
                " with its rate profile"
            }
        ),
        crate::model::Arrivals::Closed { users, think_time } => {
            format!("the project's: {users} users thinking {think_time}")
        }
    }
}

/// The host:port pairs a plan sends to.
fn hosts(plan: &LoadPlan) -> BTreeSet<String> {
    plan.targets
        .iter()
        .map(|t| format!("{}:{}", t.host, t.port))
        .collect()
}

/// Draws the Live window, if open.
///
/// `simulated` is the current simulation of the scenario, which an
/// emulated measurement is compared with.
pub fn live_ui(
    ctx: &egui::Context,
    panel: &mut LivePanel,
    project: &Project,
    scenario: usize,
    simulated: Option<&ScenarioReport>,
    commands: &mut Vec<Command>,
) {
    let mut open = panel.open;
    // Opens at the bottom right, clear of the toolbar's buttons.
    let screen = ctx.content_rect();
    egui::Window::new("Live load test")
        .open(&mut open)
        .default_size([560.0, 520.0])
        .pivot(egui::Align2::RIGHT_BOTTOM)
        .default_pos(screen.right_bottom() - egui::vec2(24.0, 24.0))
        // Never taller than the window below the toolbar, so its title bar
        // stays in reach; what does not fit scrolls.
        .constrain_to(screen.with_min_y(screen.top() + 40.0))
        .max_height(screen.height() - 80.0)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                settings_ui(ui, panel, project, scenario, simulated);
            });
        });
    panel.open = open;
    if let Some((_, new)) = &panel.confirming {
        egui::Modal::new(egui::Id::new("confirm-hosts")).show(ctx, |ui| {
            ui.heading("Send load to these hosts?");
            ui.label("The test sends real HTTP requests to:");
            for host in new {
                ui.label(egui::RichText::new(host).monospace().strong());
            }
            ui.label("Only load systems you own or are allowed to test.");
            ui.horizontal(|ui| {
                if ui.button("Send load").clicked() {
                    commands.push(Command::SendLoad(true));
                }
                if ui.button("Don't send").clicked() {
                    commands.push(Command::SendLoad(false));
                }
            });
        });
    }
}

fn settings_ui(
    ui: &mut Ui,
    panel: &mut LivePanel,
    project: &Project,
    scenario: usize,
    simulated: Option<&ScenarioReport>,
) {
    let running = panel.run.is_some();
    ui.add_enabled_ui(!running, |ui| {
        egui::Grid::new("live-settings")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                ui.label("target");
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut panel.source, Source::Url, "a URL");
                    ui.selectable_value(
                        &mut panel.source,
                        Source::Project,
                        "the scenario's endpoints",
                    );
                    ui.selectable_value(
                        &mut panel.source,
                        Source::Emulated,
                        "Emulate this scenario",
                    );
                });
                ui.end_row();
                match panel.source {
                    Source::Emulated => {
                        ui.label("services");
                        ui.vertical(|ui| {
                            let s = &project.scenarios[scenario.min(project.scenarios.len() - 1)];
                            ui.label(format!(
                                "scenario \"{}\": {} services as real HTTP servers on 127.0.0.1, \
                                 driven with the project's workload",
                                s.name,
                                s.services.len()
                            ));
                            for problem in crate::loadgen::emulate::unsupported(project, scenario) {
                                ui.colored_label(theme::PROBLEM, problem.to_string());
                            }
                        });
                        ui.end_row();
                    }
                    Source::Url => {
                        ui.label("URL");
                        ui.horizontal(|ui| {
                            egui::ComboBox::from_id_salt("live-method")
                                .selected_text(&panel.method)
                                .show_ui(ui, |ui| {
                                    for m in crate::model::HTTP_METHODS {
                                        ui.selectable_value(&mut panel.method, m.to_owned(), m);
                                    }
                                });
                            let url = ui.add(
                                egui::TextEdit::singleline(&mut panel.url).desired_width(320.0),
                            );
                            ui.ctx()
                                .accesskit_node_builder(url.id, |n| n.set_label("target URL"));
                        });
                        ui.end_row();
                    }
                    Source::Project => {
                        ui.label("endpoints");
                        ui.vertical(|ui| match loadgen::project_targets(project, scenario) {
                            Ok(targets) => {
                                for t in targets {
                                    ui.monospace(format!("{} {}", t.method, t.url));
                                }
                            }
                            Err(e) => {
                                ui.colored_label(theme::PROBLEM, e.to_string());
                            }
                        });
                        ui.end_row();
                    }
                }
                if panel.source == Source::Emulated {
                    ui.label("load");
                    ui.label(workload_text(project));
                    ui.end_row();
                    ui.label("connections");
                    ui.add(
                        egui::DragValue::new(&mut panel.emulated_connections)
                            .range(1..=MAX_CONNECTIONS),
                    );
                    ui.end_row();
                } else {
                    ui.label("load");
                    ui.horizontal(|ui| {
                        ui.selectable_value(&mut panel.closed_loop, false, "rate (open)");
                        ui.selectable_value(&mut panel.closed_loop, true, "users (closed)");
                    });
                    ui.end_row();
                    if panel.closed_loop {
                        ui.label("users");
                        ui.add(egui::DragValue::new(&mut panel.users).range(1..=MAX_USERS));
                        ui.end_row();
                        ui.label("think time");
                        ui.text_edit_singleline(&mut panel.think);
                        ui.end_row();
                    } else {
                        ui.label("rate");
                        ui.add(
                            egui::DragValue::new(&mut panel.rate_rps)
                                .range(1.0..=loadgen::MAX_RATE_RPS)
                                .suffix(" req/s"),
                        );
                        ui.end_row();
                        ui.label("connections");
                        ui.add(
                            egui::DragValue::new(&mut panel.connections).range(1..=MAX_CONNECTIONS),
                        );
                        ui.end_row();
                    }
                }
                if panel.source != Source::Emulated {
                    super::tokens::live_llm_row(ui, &mut panel.llm, project);
                }
                ui.label("duration");
                ui.add(
                    egui::DragValue::new(&mut panel.duration_s)
                        .range(1.0..=MAX_DURATION_S)
                        .suffix(" s"),
                );
                ui.end_row();
            });
    });
    ui.horizontal(|ui| {
        if let Some(run) = &panel.run {
            let elapsed = run.started.elapsed();
            #[expect(clippy::cast_possible_truncation, reason = "a fraction for display")]
            let fraction = (elapsed.as_secs_f64() / run.duration.as_secs_f64()).min(1.0) as f32;
            ui.add(egui::ProgressBar::new(fraction).desired_width(200.0));
            ui.label(format!("{:.0} s", elapsed.as_secs_f64()));
            if ui.button("Stop").clicked() {
                run.handle.stop();
            }
        } else if ui.button("Start").clicked() {
            panel.request_start(project, scenario);
        }
    });
    if let Some(run) = &panel.run {
        ui.colored_label(theme::MUTED, &run.what);
    }
    if let Some(error) = &panel.error {
        ui.colored_label(theme::PROBLEM, error);
    }
    if let Some(measurement) = &panel.summary
        && panel.run.is_none()
    {
        summary_ui(ui, &measurement.report);
        if let Some(run) = &measurement.emulated {
            match simulated.filter(|s| s.scenario == run.scenario) {
                Some(predicted) => {
                    emulated::comparison_ui(ui, predicted, &measurement.report, run);
                }
                None => {
                    ui.colored_label(
                        theme::MUTED,
                        "Simulate (with the project unchanged) to see the prediction's error \
                         against this measurement.",
                    );
                }
            }
            ui.separator();
        }
    }
    live_plots_ui(
        ui,
        &panel.live,
        panel.summary.as_ref().map(|m| m.report.duration_s),
    );
}

/// The whole run, when it has ended: what it sent, what came back, and the
/// latency counted from when each request was due against from when it was sent.
fn summary_ui(ui: &mut Ui, report: &LoadReport) {
    ui.strong("Whole run");
    let errors: u64 = report.errors.values().sum();
    ui.label(format!(
        "{} requests answered in {:.1} s: {:.0} req/s ({}), {} errors",
        report.requests, report.duration_s, report.throughput_rps, report.mode, errors
    ));
    egui::Grid::new("live-summary")
        .striped(true)
        .show(ui, |ui| {
            for heading in ["latency", "p50", "p90", "p99", "p99.9"] {
                ui.strong(heading);
            }
            ui.end_row();
            for (what, l) in [
                ("from when due (corrected)", &report.latency_ms),
                (
                    "from when sent (uncorrected)",
                    &report.uncorrected_latency_ms,
                ),
            ] {
                ui.label(what);
                for v in [l.p50, l.p90, l.p99, l.p999] {
                    ui.label(crate::model::human_secs(v / 1e3));
                }
                ui.end_row();
            }
        });
    if errors > 0 {
        let kinds: Vec<String> = report
            .errors
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        ui.colored_label(
            theme::PROBLEM,
            format!("errors by kind: {}", kinds.join(", ")),
        );
    }
    if report.generator_saturated {
        ui.colored_label(
            theme::PROBLEM,
            "the load generator fell behind its schedule: the rate was not offered",
        );
    }
    ui.separator();
}

fn live_plots_ui(ui: &mut Ui, live: &Live, ended_after_s: Option<f64>) {
    if live.intervals.is_empty() {
        ui.colored_label(
            theme::MUTED,
            "Throughput and latency appear here, second by second, once the run starts. \
             Latency counts from when each request was due.",
        );
        return;
    }
    // Only whole seconds: the part of a second after the run ended would
    // read as a collapse.
    let whole: Vec<&crate::stats::IntervalPoint> = live
        .intervals
        .iter()
        .filter(|p| ended_after_s.is_none_or(|d| p.second as f64 + 1.0 <= d + 1e-6))
        .collect();
    if ended_after_s.is_none()
        && let Some(p) = whole.last()
    {
        ui.label(format!(
            "second {}: {:.0} req/s · p50 {} ms · p99 {} ms · {} errors",
            p.second + 1,
            p.throughput_rps,
            format_ms(p.p50_ms),
            format_ms(p.p99_ms),
            p.errors
        ));
    }
    let height = 120.0;
    let series = |f: fn(&crate::stats::IntervalPoint) -> f64| -> Vec<[f64; 2]> {
        whole
            .iter()
            .map(|p| [p.second as f64 + 1.0, f(p)])
            .collect()
    };
    let plot = |id: &str, y: &'static str| plots::seconds_plot(id, height, y);
    plot("live-throughput", "throughput (req/s)").show(ui, |plot_ui| {
        plot_ui.line(
            Line::new("throughput", series(|p| p.throughput_rps))
                .color(theme::scenario_color(2))
                .width(2.0),
        );
    });
    let p99 = theme::scenario_color(5);
    let p50 = theme::scenario_color(0);
    plot("live-latency", "latency (ms)").show(ui, |plot_ui| {
        plot_ui.line(Line::new("p99", series(|p| p.p99_ms)).color(p99).width(2.0));
        plot_ui.line(
            Line::new("p50", series(|p| p.p50_ms))
                .color(p50)
                .style(plots::series_style(1)),
        );
    });
    plots::legend_ui(
        ui,
        &[
            plots::Key {
                name: "p99".into(),
                color: p99,
                style: Some(plots::series_style(0)),
            },
            plots::Key {
                name: "p50".into(),
                color: p50,
                style: Some(plots::series_style(1)),
            },
        ],
    );
    ui.strong("Latency histogram so far");
    let lines = plots::Curves::of_histograms(&[("measured", &live.latency)]);
    plots::histogram_ui(ui, &lines, true, height + 22.0);
}
