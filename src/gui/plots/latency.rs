//! Latency: the histogram and the percentile spectrum of each scenario
//! (and of a measurement), from the lines computed once per report.

use eframe::egui;
use egui_plot::{Line, PlotPoints};

use crate::stats::{LatencyHistogram, SimulationReport};

use crate::gui::theme;

use super::{
    Axis, Key, LEGEND_HEIGHT, PlotId, Series, base_plot, legend_ui, nines_label, series_style,
    whole_marks,
};

/// Bars in the latency histogram.
const BINS: usize = 60;

/// The histogram and spectrum lines of latency distributions (each
/// scenario, and a measurement), computed once when a report arrives rather
/// than in every frame.
pub struct Curves {
    lines: Vec<CurveSet>,
}

/// One distribution's lines.
struct CurveSet {
    name: String,
    color: egui::Color32,
    /// The histogram outline on a linear latency axis.
    histogram: Series,
    /// The same on a log axis (x is log10 of milliseconds).
    histogram_log: Series,
    /// Latency against "nines".
    spectrum: Series,
}

impl CurveSet {
    fn of(name: &str, color: egui::Color32, latency: &LatencyHistogram) -> Self {
        Self {
            name: name.to_owned(),
            color,
            histogram: histogram_series(latency, false),
            histogram_log: histogram_series(latency, true),
            spectrum: latency
                .percentile_distribution(5)
                .into_iter()
                .filter(|&(_, q, _)| q < 1.0)
                .map(|(ns, q, _)| [-(1.0 - q).log10(), ns as f64 / 1e6])
                .collect(),
        }
    }
}

impl Curves {
    /// The lines of every scenario of `report`, in the scenarios' colours.
    pub fn of(report: &SimulationReport) -> Self {
        Self {
            lines: report
                .scenarios
                .iter()
                .enumerate()
                .map(|(i, s)| CurveSet::of(&s.scenario, theme::scenario_color(i), &s.latency))
                .collect(),
        }
    }

    /// Lines of named distributions, in the colour of measurements.
    pub fn of_histograms(named: &[(&str, &LatencyHistogram)]) -> Self {
        Self {
            lines: named
                .iter()
                .map(|(name, h)| CurveSet::of(name, theme::MEASURED, h))
                .collect(),
        }
    }

    /// The legend: each line's name, colour and dash.
    fn keys(&self) -> Vec<Key> {
        self.lines
            .iter()
            .enumerate()
            .map(|(k, l)| Key::line(l.name.clone(), l.color, series_style(k)))
            .collect()
    }

    /// Adds a measured distribution, drawn over the simulated ones.
    pub fn add_measured(&mut self, name: &str, latency: &LatencyHistogram) {
        self.lines
            .push(CurveSet::of(name, theme::MEASURED, latency));
    }
}

/// A step outline of the share of requests per bin.
fn histogram_series(latency: &LatencyHistogram, log_x: bool) -> Series {
    let total = latency.count().max(1) as f64;
    let x = |ns: f64| {
        let ms = ns / 1e6;
        if log_x { ms.max(1e-6).log10() } else { ms }
    };
    let mut points = Vec::with_capacity(BINS * 2 + 2);
    for bin in latency.bins(BINS, log_x) {
        let share = 100.0 * bin.count as f64 / total;
        points.push([x(bin.low_ns), share]);
        points.push([x(bin.high_ns), share]);
    }
    if let (Some(first), Some(last)) = (points.first().copied(), points.last().copied()) {
        points.insert(0, [first[0], 0.0]);
        points.push([last[0], 0.0]);
    }
    points
}

/// The share of requests in each latency bin, per scenario; `log_x` puts the
/// latency on a log scale, where long tails are visible.
pub fn histogram_ui(ui: &mut egui::Ui, curves: &Curves, log_x: bool, height: f32) {
    let x = if log_x {
        Axis::LOG_LATENCY
    } else {
        Axis::LATENCY
    };
    base_plot(PlotId::Histogram, height - LEGEND_HEIGHT, x, Axis::SHARE)
        .include_y(0.0)
        .show(ui, |plot_ui| {
            for (k, line) in curves.lines.iter().enumerate() {
                let points = if log_x {
                    &line.histogram_log
                } else {
                    &line.histogram
                };
                plot_ui.line(
                    Line::new(line.name.clone(), PlotPoints::from(points.clone()))
                        .color(line.color)
                        .style(series_style(k))
                        .width(1.5),
                );
            }
        });
    legend_ui(ui, &curves.keys());
}

/// Latency against percentile on a "nines" axis (90%, 99%, 99.9%, …), as
/// `HdrHistogram` plots it: the tail is stretched so it can be read.
pub fn spectrum_ui(ui: &mut egui::Ui, curves: &Curves, height: f32) {
    let nines = Axis {
        name: "percentile",
        format: nines_label,
    };
    base_plot(
        PlotId::Spectrum,
        height - LEGEND_HEIGHT,
        nines,
        Axis::LATENCY,
    )
    .x_grid_spacer(whole_marks)
    .include_x(0.0)
    .include_x(3.0)
    .include_y(0.0)
    .show(ui, |plot_ui| {
        for (k, line) in curves.lines.iter().enumerate() {
            plot_ui.line(
                Line::new(line.name.clone(), PlotPoints::from(line.spectrum.clone()))
                    .color(line.color)
                    .style(series_style(k))
                    .width(1.5),
            );
        }
    });
    legend_ui(ui, &curves.keys());
}
