//! The results area: a percentile table, then the plots side by side, every
//! scenario in its own colour.

use std::collections::HashMap;

use eframe::egui::{self, Color32, Rect, RichText, Ui};

use crate::model::{LatencyStatistic, Project};
use crate::stats::{LoadReport, SimulationReport, SweepReport};

use super::super::command::{Command, ExportFormat};
use super::super::plots::{self, PlotId, format_ms};
use super::super::theme;
use super::figures::{human_ms, percent};

/// Results and the project revision they came from.
pub struct Computed<T> {
    /// The report.
    pub report: T,
    /// The document revision it was computed from.
    pub revision: u64,
}

/// The results area's own settings.
#[derive(Default)]
pub struct ResultsView {
    /// The histogram's latency axis is logarithmic.
    pub log_x: bool,
    /// Where each plot was drawn last frame, for PNG export.
    pub rects: HashMap<PlotId, Rect>,
    /// The figure the over-time card shows.
    pub over_time: plots::OverTime,
    /// Where the percentile table's scroll area was drawn last frame.
    pub table: Option<Rect>,
    /// The sweep's latency axis is linear (log by default).
    pub sweep_linear: bool,
    /// Scroll this card into view on the next frame (a finished sweep).
    pub reveal: Option<PlotId>,
    /// Show only this plot, across the whole width (for figure export).
    pub only: Option<PlotId>,
}

/// Everything the results area shows.
pub struct Shown<'a> {
    /// The project.
    pub project: &'a Project,
    /// The current document revision.
    pub revision: u64,
    /// The last simulation.
    pub simulation: Option<&'a Computed<SimulationReport>>,
    /// The last live measurement.
    pub measured: Option<&'a LoadReport>,
    /// The document revision when the measurement was taken.
    pub measured_revision: u64,
    /// The scenario the measurement drove, emulated here; `None` for a
    /// live system.
    pub emulated: Option<&'a str>,
    /// The scenario on the canvas, which a measurement is compared with.
    pub scenario: usize,
    /// The latency lines of both.
    pub curves: Option<&'a plots::Curves>,
    /// The last sweep.
    pub sweep: Option<&'a Computed<SweepReport>>,
}

/// Draws the results area.
pub fn results_ui(
    ui: &mut Ui,
    shown: &Shown<'_>,
    view: &mut ResultsView,
    commands: &mut Vec<Command>,
) {
    if shown.simulation.is_none() && shown.sweep.is_none() && shown.measured.is_none() {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            ui.heading("No results yet");
            ui.label(
                "Press Simulate to predict latency, throughput and utilisation of every \
                 scenario, or Sweep to find where each one breaks.",
            );
        });
        return;
    }
    ui.horizontal(|ui| {
        ui.heading("Results");
        let stale: Vec<&str> = [
            (
                shown.simulation.map(|c| c.revision),
                "the simulation (Simulate)",
            ),
            (shown.sweep.map(|c| c.revision), "the sweep (Sweep)"),
            (
                shown.measured.map(|_| shown.measured_revision),
                "the live measurement (Live test)",
            ),
        ]
        .into_iter()
        .filter(|(revision, _)| revision.is_some_and(|r| r != shown.revision))
        .map(|(_, what)| what)
        .collect();
        if !stale.is_empty() {
            ui.colored_label(
                theme::PROBLEM,
                format!(
                    "the project changed since {}: run again to update",
                    stale.join(" and ")
                ),
            );
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if shown.sweep.is_some() {
                if ui.button("Sweep JSON").clicked() {
                    commands.push(Command::ExportResults(ExportFormat::SweepJson));
                }
                if ui.button("Sweep CSV").clicked() {
                    commands.push(Command::ExportResults(ExportFormat::SweepCsv));
                }
            }
            if shown.simulation.is_some() {
                if ui.button("JSON").clicked() {
                    commands.push(Command::ExportResults(ExportFormat::SimulationJson));
                }
                if ui.button("CSV").clicked() {
                    commands.push(Command::ExportResults(ExportFormat::SimulationCsv));
                }
            }
            ui.label("Export:");
        });
    });
    // The table scrolls sideways in a narrow window rather than spill over
    // the inspector.
    let table = egui::ScrollArea::horizontal()
        .id_salt("percentile-table")
        .show(ui, |ui| {
            table_ui(
                ui,
                shown.simulation.map(|c| &c.report),
                shown.measured,
                shown.emulated.is_some(),
            );
        });
    view.table = Some(table.inner_rect);
    let measured_label = if shown.emulated.is_some() {
        "measured (emulated)"
    } else {
        "measured (live)"
    };
    // Like the latency table, it scrolls sideways in a narrow window.
    egui::ScrollArea::horizontal()
        .id_salt("token-table")
        .show(ui, |ui| {
            super::tokens::llm_table_ui(
                ui,
                shown.simulation.map(|c| &c.report),
                shown.measured.map(|m| (measured_label, m)),
            );
        });
    if let Some(m) = shown.measured {
        match shown.emulated {
            Some(scenario) => {
                ui.label(
                    RichText::new(format!(
                        "measured (emulated): {} against scenario \"{scenario}\" run as real \
                         services on 127.0.0.1",
                        m.mode
                    ))
                    .small()
                    .color(theme::MUTED),
                );
            }
            None => live_note_ui(ui, shown.project, shown.scenario, m),
        }
    }
    ui.add_space(4.0);
    let mut ids = Vec::new();
    if shown.curves.is_some() {
        ids.extend([PlotId::Histogram, PlotId::Spectrum]);
    }
    if shown.simulation.is_some() {
        ids.extend([PlotId::Utilisation, PlotId::OverTime]);
    }
    if shown.sweep.is_some() {
        ids.extend([PlotId::LatencyCurve, PlotId::ThroughputCurve]);
    }
    if let Some(only) = view.only {
        ids.retain(|id| *id == only);
    }
    // Cards wrap into rows as wide as the panel; the rows scroll.
    let spacing = ui.spacing().item_spacing.x;
    // Each card's frame adds its margin and stroke around the plot.
    let frame = 2.0 * 6.0 + 2.0 + spacing;
    // Keep clear of the vertical scroll bar.
    let room = ui.available_width() - 18.0;
    let columns = if view.only.is_some() {
        1
    } else {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a small count of cards, at least 0 after max"
        )]
        let fit = (room / (MIN_CARD_WIDTH + frame)).floor().max(0.0) as usize;
        fit.clamp(1, ids.len().max(1))
    };
    let width = ((room - frame * columns as f32) / columns as f32).max(MIN_CARD_WIDTH.min(room));
    let height = (ui.available_height() - 48.0).clamp(140.0, 380.0);
    let reveal = std::mem::take(&mut view.reveal);
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for row in ids.chunks(columns) {
                ui.horizontal_top(|ui| {
                    for &id in row {
                        card_ui(ui, shown, view, id, width, height, commands);
                        if reveal == Some(id)
                            && let Some(rect) = view.rects.get(&id)
                        {
                            ui.scroll_to_rect(*rect, Some(egui::Align::TOP));
                        }
                    }
                });
            }
        });
}

/// The narrowest a card gets before the cards wrap to another row.
const MIN_CARD_WIDTH: f32 = 300.0;

/// One plot's card.
fn card_ui(
    ui: &mut Ui,
    shown: &Shown<'_>,
    view: &mut ResultsView,
    id: PlotId,
    width: f32,
    height: f32,
    commands: &mut Vec<Command>,
) {
    match id {
        PlotId::Histogram => {
            let Some(curves) = shown.curves else { return };
            card(ui, view, id, width, commands, |ui, view| {
                ui.checkbox(&mut view.log_x, "log latency axis");
                plots::histogram_ui(ui, curves, view.log_x, height - 24.0);
            });
        }
        PlotId::Spectrum => {
            let Some(curves) = shown.curves else { return };
            card(ui, view, id, width, commands, |ui, _| {
                plots::spectrum_ui(ui, curves, height);
            });
        }
        PlotId::Utilisation => {
            let Some(simulation) = shown.simulation else {
                return;
            };
            card(ui, view, id, width, commands, |ui, _| {
                plots::utilisation_ui(ui, &simulation.report, height);
            });
        }
        PlotId::OverTime => {
            let Some(simulation) = shown.simulation else {
                return;
            };
            card(ui, view, id, width, commands, |ui, view| {
                egui::ComboBox::from_id_salt("over-time")
                    .selected_text(view.over_time.label())
                    .show_ui(ui, |ui| {
                        for what in plots::OverTime::ALL {
                            ui.selectable_value(&mut view.over_time, what, what.label());
                        }
                    });
                plots::over_time_ui(ui, &simulation.report, view.over_time, height - 24.0);
            });
        }
        PlotId::LatencyCurve => {
            let Some(sweep) = shown.sweep else { return };
            let slo = p99_objective_ms(shown.project);
            card(ui, view, id, width, commands, |ui, view| {
                ui.checkbox(&mut view.sweep_linear, "linear latency axis");
                plots::latency_curve_ui(ui, &sweep.report, slo, view.sweep_linear, height - 44.0);
                sweep_notes_ui(ui, &sweep.report);
            });
        }
        PlotId::ThroughputCurve => {
            let Some(sweep) = shown.sweep else { return };
            card(ui, view, id, width, commands, |ui, _| {
                plots::throughput_curve_ui(ui, &sweep.report, height);
            });
        }
    }
}

/// The bound of the project's p99 objective for all requests, if it has one.
fn p99_objective_ms(project: &Project) -> Option<f64> {
    project
        .objectives
        .iter()
        .find(|o| o.class.is_none() && o.latency.statistic == LatencyStatistic::Percentile(990))
        .map(|o| o.latency.limit.as_millis_f64())
}

fn card(
    ui: &mut Ui,
    view: &mut ResultsView,
    id: PlotId,
    width: f32,
    commands: &mut Vec<Command>,
    contents: impl FnOnce(&mut Ui, &mut ResultsView),
) {
    if view.only.is_some_and(|only| only != id) {
        return;
    }
    let response = egui::Frame::group(ui.style())
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.vertical(|ui| {
                ui.set_width(width);
                ui.horizontal(|ui| {
                    ui.strong(id.title());
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .small_button("PNG")
                            .on_hover_text("save this plot as a PNG image")
                            .clicked()
                        {
                            commands.push(Command::ExportPlot(id));
                        }
                    });
                });
                contents(ui, view);
            });
        })
        .response;
    view.rects.insert(id, response.rect);
}

fn table_ui(
    ui: &mut Ui,
    report: Option<&SimulationReport>,
    measured: Option<&LoadReport>,
    emulated: bool,
) {
    ui.label(
        RichText::new("Latencies are of successful requests; failed ones are counted apart.")
            .small()
            .color(theme::MUTED),
    );
    egui::Grid::new("percentiles")
        .striped(true)
        .spacing([14.0, 3.0])
        .show(ui, |ui| {
            for heading in [
                "scenario", "goodput", "failed", "errors", "timeouts", "rejected", "mean", "p50",
                "p90", "p99", "p99.9", "max", "SLO", "limit",
            ] {
                let response = ui.strong(heading);
                if let Some(note) = failure_note(heading) {
                    response.on_hover_text(note);
                }
            }
            ui.end_row();
            let scenarios = report.map_or(&[][..], |r| r.scenarios.as_slice());
            for (i, s) in scenarios.iter().enumerate() {
                let verdict = Verdict::of(s);
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(format!("■ {}", s.scenario)).color(theme::scenario_color(i)),
                    );
                    if let Some(word) = verdict.word() {
                        ui.label(
                            RichText::new(word)
                                .strong()
                                .color(Color32::WHITE)
                                .background_color(theme::BOTTLENECK),
                        );
                    }
                });
                ui.label(format!("{:.0} req/s", s.throughput_rps))
                    .on_hover_text("successful requests per second");
                let failed = ui.label(match verdict.failed_share {
                    0.0 => "0%".to_owned(),
                    share => percent(share),
                });
                failed.on_hover_ui(|ui| failures_ui(ui, s));
                let causes = Causes::of(s);
                let total = (s.requests + s.failed).max(1) as f64;
                for count in [causes.errors, causes.timeouts, causes.rejected] {
                    ui.label(if count == 0 {
                        "0%".to_owned()
                    } else {
                        percent(count as f64 / total)
                    });
                }
                let l = &s.latency_ms;
                for value in [l.mean, l.p50, l.p90, l.p99, l.p999, l.max] {
                    ui.label(human_ms(value));
                }
                if s.objectives.is_empty() {
                    ui.label("–");
                } else if s.slo_pass {
                    ui.colored_label(theme::utilisation_color(0.0), "met");
                } else {
                    ui.colored_label(theme::BOTTLENECK, "missed");
                }
                ui.label(s.limit().to_string());
                ui.end_row();
            }
            if let Some(m) = measured {
                let label = if emulated {
                    "■ measured (emulated)"
                } else {
                    "■ measured (live)"
                };
                ui.label(RichText::new(label).color(theme::MEASURED));
                ui.label(format!("{:.0} req/s", m.throughput_rps));
                let errors: u64 = m.errors.values().sum();
                let total = m.requests + errors;
                ui.label(if total == 0 {
                    "–".to_owned()
                } else {
                    percent(errors as f64 / total as f64)
                });
                let timeouts = m.errors.get("timeout").copied().unwrap_or(0);
                let kind_share = |count: u64| {
                    if total == 0 {
                        "–".to_owned()
                    } else {
                        percent(count as f64 / total as f64)
                    }
                };
                ui.label(kind_share(errors - timeouts));
                ui.label(kind_share(timeouts));
                ui.label("–");
                let l = &m.latency_ms;
                for value in [l.mean, l.p50, l.p90, l.p99, l.p999, l.max] {
                    ui.label(human_ms(value));
                }
                ui.label("–");
                if m.generator_saturated {
                    ui.colored_label(theme::PROBLEM, "generator saturated");
                } else {
                    ui.label("–");
                }
                ui.end_row();
            }
        });
    let comparisons = report.map_or(&[][..], |r| r.comparisons.as_slice());
    for c in comparisons {
        ui.colored_label(
            theme::MUTED,
            format!(
                "{} − {}: p99 {:+} ms ± {} (95%), mean {:+} ms ± {}",
                c.scenario,
                c.baseline,
                format_ms(c.p99_ms.estimate),
                format_ms(c.p99_ms.half_width()),
                format_ms(c.mean_ms.estimate),
                format_ms(c.mean_ms.half_width()),
            ),
        );
    }
}

/// Which scenario a measurement is compared with, and a warning when what
/// was measured is none of that scenario's endpoints.
fn live_note_ui(ui: &mut Ui, project: &Project, scenario: usize, m: &LoadReport) {
    let Some(s) = project.scenarios.get(scenario) else {
        return;
    };
    let endpoints: Vec<&str> = s
        .services
        .iter()
        .filter_map(|x| x.endpoint.as_ref().map(|e| e.url.trim()))
        .collect();
    ui.label(
        RichText::new(format!(
            "measured (live): {} against {}, compared with scenario \"{}\"",
            m.mode,
            m.targets.join(", "),
            s.name
        ))
        .small()
        .color(theme::MUTED),
    );
    let ours = m
        .targets
        .iter()
        .any(|t| endpoints.iter().any(|e| same_url(e, t)));
    if !ours {
        ui.colored_label(
            theme::PROBLEM,
            format!(
                "the live target is not one of scenario \"{}\"'s endpoints, so the \
                 measurement may have nothing to do with this design",
                s.name
            ),
        );
    }
}

/// Two URLs that name the same endpoint, ignoring a trailing slash.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// How a scenario's run went, for the mark beside its name.
struct Verdict {
    saturated: bool,
    /// Failed requests as a share of all that finished.
    failed_share: f64,
}

impl Verdict {
    /// A scenario that fails more than this share of requests is marked.
    const FAILING: f64 = 0.01;

    fn of(s: &crate::stats::ScenarioReport) -> Self {
        let total = s.requests + s.failed;
        Self {
            saturated: s.saturated,
            failed_share: if total == 0 {
                0.0
            } else {
                s.failed as f64 / total as f64
            },
        }
    }

    fn word(&self) -> Option<String> {
        if self.saturated {
            Some(" saturated ".into())
        } else if self.failed_share > Self::FAILING {
            Some(format!(" failing {} ", percent(self.failed_share)))
        } else {
            None
        }
    }
}

/// Failure events of a scenario by cause, counted where they happened
/// (attempts: with retries one request can time out more than once).
struct Causes {
    /// Errors a service answered (its error rate) or lost to a crash.
    errors: u64,
    /// Attempts given up by a caller's timeout.
    timeouts: u64,
    /// Refused before any work: a full queue, a rate limit, an open
    /// breaker or a full bulkhead.
    rejected: u64,
}

impl Causes {
    fn of(s: &crate::stats::ScenarioReport) -> Self {
        Self {
            errors: s.services.iter().map(|x| x.errors + x.crash_failures).sum(),
            timeouts: s.links.iter().map(|l| l.timeouts).sum(),
            rejected: s
                .services
                .iter()
                .map(|x| x.rejected + x.rate_limited)
                .chain(
                    s.links
                        .iter()
                        .map(|l| l.breaker_rejections + l.bulkhead_rejections),
                )
                .sum(),
        }
    }
}

/// What a failure column counts, for its heading's tooltip.
fn failure_note(heading: &str) -> Option<&'static str> {
    match heading {
        "failed" => Some("requests that failed, of all that finished"),
        "errors" => Some(
            "errors answered by services (error rate) or lost to crashes, per 100 requests; \
             with retries an attempt can fail and still be retried",
        ),
        "timeouts" => Some("attempts a caller gave up on, per 100 requests"),
        "rejected" => Some(
            "attempts refused before any work (queue full, rate limit, open breaker, \
             full bulkhead), per 100 requests",
        ),
        _ => None,
    }
}

/// Where a scenario's failures came from, for the failed column's tooltip.
fn failures_ui(ui: &mut Ui, s: &crate::stats::ScenarioReport) {
    let total = s.requests + s.failed;
    ui.label(format!(
        "{} of {} requests failed ({})",
        s.failed,
        total,
        percent(if total == 0 {
            0.0
        } else {
            s.failed as f64 / total as f64
        })
    ));
    let services = s.services.iter().flat_map(|x| {
        [
            (x.rejected, "rejected: queue full"),
            (x.rate_limited, "rate limited"),
            (x.errors, "errors"),
            (x.crash_failures, "lost to crashes"),
        ]
        .map(|(count, what)| (&x.name, count, what))
    });
    let links = s.links.iter().flat_map(|link| {
        [
            (link.timeouts, "timeouts"),
            (link.breaker_rejections, "refused by the circuit breaker"),
            (link.bulkhead_rejections, "refused by the bulkhead"),
            (link.budget_denials, "retries denied by the budget"),
        ]
        .map(|(count, what)| (&link.link, count, what))
    });
    for (name, count, what) in services.chain(links) {
        if count > 0 {
            ui.label(format!("{name}: {count} {what}"));
        }
    }
}

fn sweep_notes_ui(ui: &mut Ui, sweep: &SweepReport) {
    for (i, curve) in sweep.scenarios.iter().enumerate() {
        let mut parts = Vec::new();
        if let Some(max) = curve.max_throughput_rps {
            parts.push(format!("max {max:.0} req/s"));
        }
        if let Some(knee) = curve.knee_rps {
            parts.push(format!("knee {knee:.0}"));
        }
        if let Some(slo) = curve.max_rps_within_slo {
            parts.push(format!("SLO to {slo:.0}"));
        }
        if let Some(first) = &curve.first_saturated {
            parts.push(format!("breaks at {first}"));
        }
        ui.label(
            RichText::new(format!("■ {}: {}", curve.scenario, parts.join(" · ")))
                .small()
                .color(theme::scenario_color(i)),
        );
    }
}
