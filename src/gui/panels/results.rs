//! The results area: a percentile table, then the plots side by side, every
//! scenario in its own colour.

use std::collections::HashMap;

use eframe::egui::{self, Rect, RichText, Ui};

use crate::model::{LatencyStatistic, Project};
use crate::stats::{LoadReport, SimulationReport, SweepReport};

use super::super::command::{Command, ExportFormat};
use super::super::plots::{self, PlotId, format_ms};
use super::super::theme;

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
    /// The figure the third plot shows: utilisation bars (`None`) or one
    /// figure over time.
    pub over_time: Option<plots::OverTime>,
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
        let stale = shown
            .simulation
            .is_some_and(|c| c.revision != shown.revision)
            || shown.sweep.is_some_and(|c| c.revision != shown.revision);
        if stale {
            ui.colored_label(
                theme::PROBLEM,
                "the project changed since this run: simulate again to update",
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
    table_ui(ui, shown.simulation.map(|c| &c.report), shown.measured);
    ui.add_space(4.0);
    let cards = if view.only.is_some() {
        1
    } else {
        usize::from(shown.curves.is_some()) * 2
            + usize::from(shown.simulation.is_some())
            + usize::from(shown.sweep.is_some()) * 2
    };
    let spacing = ui.spacing().item_spacing.x;
    // Each card's frame adds its margin and stroke around the plot.
    let frame = 2.0 * 6.0 + 2.0 + spacing;
    // Alone, the card keeps clear of the scroll bar and the panel edge.
    let slack = if view.only.is_some() { 56.0 } else { 0.0 };
    let width =
        ((ui.available_width() - slack - frame * cards as f32) / cards.max(1) as f32).max(230.0);
    let height = (ui.available_height() - 48.0).clamp(140.0, 420.0);
    egui::ScrollArea::horizontal().show(ui, |ui| {
        ui.horizontal_top(|ui| {
            if let Some(curves) = shown.curves {
                card(ui, view, PlotId::Histogram, width, commands, |ui, view| {
                    ui.checkbox(&mut view.log_x, "log latency axis");
                    plots::histogram_ui(ui, curves, view.log_x, height - 24.0);
                });
                card(ui, view, PlotId::Spectrum, width, commands, |ui, _| {
                    plots::spectrum_ui(ui, curves, height);
                });
            }
            if let Some(simulation) = shown.simulation {
                let id = match view.over_time {
                    None => PlotId::Utilisation,
                    Some(_) => PlotId::OverTime,
                };
                card(ui, view, id, width, commands, |ui, view| {
                    let label = |what: Option<plots::OverTime>| {
                        what.map_or("utilisation by service", plots::OverTime::label)
                    };
                    egui::ComboBox::from_id_salt("service-plot")
                        .selected_text(label(view.over_time))
                        .show_ui(ui, |ui| {
                            ui.selectable_value(&mut view.over_time, None, label(None));
                            ui.separator();
                            ui.label("over time:");
                            for what in plots::OverTime::ALL {
                                ui.selectable_value(
                                    &mut view.over_time,
                                    Some(what),
                                    label(Some(what)),
                                );
                            }
                        });
                    match view.over_time {
                        None => plots::utilisation_ui(ui, &simulation.report, height - 24.0),
                        Some(what) => {
                            plots::over_time_ui(ui, &simulation.report, what, height - 24.0);
                        }
                    }
                });
            }
            if let Some(sweep) = shown.sweep {
                let slo = p99_objective_ms(shown.project);
                card(ui, view, PlotId::LatencyCurve, width, commands, |ui, _| {
                    plots::latency_curve_ui(ui, &sweep.report, slo, height - 20.0);
                    sweep_notes_ui(ui, &sweep.report);
                });
                card(
                    ui,
                    view,
                    PlotId::ThroughputCurve,
                    width,
                    commands,
                    |ui, _| {
                        plots::throughput_curve_ui(ui, &sweep.report, height);
                    },
                );
            }
        });
    });
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

fn table_ui(ui: &mut Ui, report: Option<&SimulationReport>, measured: Option<&LoadReport>) {
    egui::Grid::new("percentiles")
        .striped(true)
        .spacing([16.0, 3.0])
        .show(ui, |ui| {
            for heading in [
                "scenario",
                "throughput",
                "mean",
                "p50",
                "p90",
                "p99",
                "p99.9",
                "max",
                "SLO",
                "bottleneck",
            ] {
                ui.strong(heading);
            }
            ui.end_row();
            let scenarios = report.map_or(&[][..], |r| r.scenarios.as_slice());
            for (i, s) in scenarios.iter().enumerate() {
                ui.label(
                    RichText::new(format!("■ {}", s.scenario)).color(theme::scenario_color(i)),
                );
                ui.label(format!("{:.0} req/s", s.throughput_rps));
                let l = &s.latency_ms;
                for value in [l.mean, l.p50, l.p90, l.p99, l.p999, l.max] {
                    ui.label(format!("{} ms", format_ms(value)));
                }
                if s.objectives.is_empty() {
                    ui.label("–");
                } else if s.slo_pass {
                    ui.colored_label(theme::utilisation_color(0.0), "met");
                } else {
                    ui.colored_label(theme::BOTTLENECK, "missed");
                }
                let mut bottleneck = s.bottleneck.clone();
                if s.saturated {
                    bottleneck = format!(
                        "{} (saturated)",
                        s.saturated_service.as_deref().unwrap_or(&s.bottleneck)
                    );
                }
                ui.label(bottleneck);
                ui.end_row();
            }
            if let Some(m) = measured {
                ui.label(RichText::new("■ measured (live)").color(theme::MEASURED));
                ui.label(format!("{:.0} req/s", m.throughput_rps));
                let l = &m.latency_ms;
                for value in [l.mean, l.p50, l.p90, l.p99, l.p999, l.max] {
                    ui.label(format!("{} ms", format_ms(value)));
                }
                ui.label("–");
                let errors: u64 = m.errors.values().sum();
                if m.generator_saturated {
                    ui.colored_label(theme::PROBLEM, "generator saturated");
                } else {
                    ui.label(format!("{errors} errors"));
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
