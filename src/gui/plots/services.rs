//! Services: each one's figures over time, and the utilisation bars.

use eframe::egui;
use egui_plot::{AxisHints, Bar, BarChart, Line, LineStyle, Plot, PlotPoints, VLine};

use crate::stats::SimulationReport;

use crate::gui::theme;

use super::{
    Axis, Key, LEGEND_HEIGHT, OverTime, PlotId, Series, base_plot, format_number, legend_ui,
    series_style, whole_marks,
};

/// Services drawn per scenario in the per-service over-time figures.
const OVER_TIME_SERVICES: usize = 4;

/// Services shown in the utilisation plot, the busiest first.
const UTILISATION_BARS: usize = 16;

/// One figure of each scenario's first replication against time. The
/// per-service figures show, per scenario, the services that vary most.
pub fn over_time_ui(ui: &mut egui::Ui, report: &SimulationReport, what: OverTime, height: f32) {
    let mut lines: Vec<(String, egui::Color32, Series)> = Vec::new();
    for (i, scenario) in report.scenarios.iter().enumerate() {
        let s = &scenario.timeseries;
        let color = theme::scenario_color(i);
        let points = |values: &mut dyn Iterator<Item = f64>| -> Series {
            s.time_s.iter().zip(values).map(|(t, v)| [*t, v]).collect()
        };
        let whole = match what {
            OverTime::Throughput => Some(&s.throughput_rps),
            OverTime::P99 => Some(&s.p99_ms),
            OverTime::Errors => Some(&s.errors_per_s),
            OverTime::Replicas | OverTime::QueueDepth | OverTime::Lag => None,
        };
        if let Some(values) = whole {
            lines.push((
                scenario.scenario.clone(),
                color,
                points(&mut values.iter().copied()),
            ));
            continue;
        }
        let value = |service: &crate::stats::ServiceSeries, k: usize| match what {
            OverTime::Replicas => f64::from(service.replicas[k]),
            OverTime::Lag => service.lag_s[k],
            _ => service.queue_depth[k],
        };
        // The services whose figure moves the most, then the largest.
        let mut ranked: Vec<(f64, f64, &crate::stats::ServiceSeries)> = s
            .services
            .iter()
            .map(|service| {
                let (lo, hi) = (0..s.time_s.len())
                    .map(|k| value(service, k))
                    .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    });
                (hi - lo.min(hi), hi, service)
            })
            .collect();
        ranked.sort_by(|a, b| {
            (b.0, b.1)
                .partial_cmp(&(a.0, a.1))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        // Flat lines say nothing: show the services that move (a queue that
        // never holds a whole request does not count), or else the largest.
        let step = if what == OverTime::Lag { 1e-3 } else { 1.0 };
        let moving = ranked
            .iter()
            .take_while(|(range, ..)| *range >= step)
            .count();
        for (_, _, service) in ranked.into_iter().take(moving.clamp(1, OVER_TIME_SERVICES)) {
            let name = format!("{} / {}", scenario.scenario, service.name);
            let values = (0..s.time_s.len()).map(|k| value(service, k));
            lines.push((name, color, points(&mut values.into_iter())));
        }
    }
    let keys: Vec<Key> = lines
        .iter()
        .enumerate()
        .map(|(k, (name, color, _))| Key::line(name.clone(), *color, series_style(k)))
        .collect();
    let y = Axis {
        name: what.label(),
        format: format_number,
    };
    base_plot(PlotId::OverTime, height - LEGEND_HEIGHT, Axis::TIME, y)
        .include_y(0.0)
        .show(ui, |plot| {
            for (k, (name, color, series)) in lines.into_iter().enumerate() {
                plot.line(
                    Line::new(name, PlotPoints::from(series))
                        .color(color)
                        .style(series_style(k)),
                );
            }
        });
    legend_ui(ui, &keys);
}

/// The busy fraction of each service, grouped by service, one bar per scenario.
pub fn utilisation_ui(ui: &mut egui::Ui, report: &SimulationReport, height: f32) {
    // The busiest services (by their busiest scenario), busiest on top.
    let mut busiest: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for scenario in &report.scenarios {
        for service in &scenario.services {
            let u = busiest.entry(service.name.as_str()).or_insert(0.0);
            *u = u.max(service.utilization);
        }
    }
    let total = busiest.len();
    let mut ranked: Vec<(&str, f64)> = busiest.into_iter().collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let names: Vec<String> = ranked
        .iter()
        .rev()
        .take(UTILISATION_BARS)
        .rev()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    if total > names.len() {
        ui.label(
            egui::RichText::new(format!("the {} busiest of {total} services", names.len()))
                .small()
                .color(theme::MUTED),
        );
    }
    let count = report.scenarios.len().max(1) as f64;
    let width = 0.8 / count;
    let labels = names.clone();
    // Horizontal bars, so that service names read along the left axis. No
    // legend: the colours are the scenarios' colours in the table above.
    Plot::new(PlotId::Utilisation.stem())
        .height(height)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .x_axis_label("busy (%)")
        .include_x(0.0)
        .include_x(100.0)
        .include_y(-0.5)
        .include_y(names.len() as f64 - 0.5)
        .y_grid_spacer(whole_marks)
        .custom_y_axes(vec![
            AxisHints::new_y()
                .label_spacing(12.0..=16.0)
                .formatter(move |mark, _| {
                    let i = mark.value.round();
                    if (mark.value - i).abs() > 1e-6 || i < 0.0 {
                        return String::new();
                    }
                    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    labels.get(i as usize).cloned().unwrap_or_default()
                }),
        ])
        .show(ui, |plot_ui| {
            for (s, scenario) in report.scenarios.iter().enumerate() {
                let bars: Vec<Bar> = scenario
                    .services
                    .iter()
                    .filter_map(|service| {
                        let at = names.iter().position(|n| n == &service.name)? as f64;
                        let offset = (s as f64 - (count - 1.0) / 2.0) * width;
                        Some(
                            Bar::new(at + offset, 100.0 * service.utilization)
                                .width(width * 0.95)
                                .name(format!("{} / {}", scenario.scenario, service.name)),
                        )
                    })
                    .collect();
                plot_ui.bar_chart(
                    BarChart::new(scenario.scenario.clone(), bars)
                        .color(theme::scenario_color(s))
                        .horizontal(),
                );
            }
            plot_ui.vline(
                VLine::new("100%", 100.0)
                    .color(theme::SLO)
                    .style(LineStyle::dashed_dense()),
            );
        });
}
