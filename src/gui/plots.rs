//! The result plots, one colour per scenario: latency histogram, percentile
//! spectrum, utilisation bars and the scalability curves. Each reads a
//! report and draws; none keeps state.

use eframe::egui;
use egui_plot::{
    AxisHints, Bar, BarChart, GridInput, GridMark, HLine, HoverPosition, Line, LineStyle,
    MarkerShape, Plot, PlotPoints, Points, VLine,
};

use crate::stats::{LatencyHistogram, SimulationReport, SweepReport};

use super::theme;

/// Which plot, for PNG export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlotId {
    /// Share of requests by latency.
    Histogram,
    /// Latency by percentile.
    Spectrum,
    /// Busy fraction per service.
    Utilisation,
    /// p50 and p99 against offered load.
    LatencyCurve,
    /// Achieved against offered throughput.
    ThroughputCurve,
    /// A figure of the first replication over time.
    OverTime,
}

/// Which figure the over-time plot shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverTime {
    /// Successful requests per second.
    #[default]
    Throughput,
    /// The 99th percentile latency.
    P99,
    /// Failed requests per second.
    Errors,
    /// Replicas serving, per service.
    Replicas,
    /// Requests waiting for a worker, per service.
    QueueDepth,
    /// How long the oldest waiting request has waited, per service.
    Lag,
}

impl OverTime {
    /// Every figure, in menu order.
    pub const ALL: [Self; 6] = [
        Self::Throughput,
        Self::P99,
        Self::Errors,
        Self::Replicas,
        Self::QueueDepth,
        Self::Lag,
    ];

    /// Its name on the command line.
    pub fn stem(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::P99 => "p99",
            Self::Errors => "errors",
            Self::Replicas => "replicas",
            Self::QueueDepth => "queue-depth",
            Self::Lag => "lag",
        }
    }

    /// Its name in the menu, and its axis label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Throughput => "throughput (req/s)",
            Self::P99 => "p99 (ms)",
            Self::Errors => "errors (req/s)",
            Self::Replicas => "replicas",
            Self::QueueDepth => "queue depth (requests)",
            Self::Lag => "lag: oldest waiting (s)",
        }
    }
}

/// A plot to save as PNG when the app is started with `--figure`.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Which plot.
    pub plot: PlotId,
    /// For the over-time plot, which figure.
    pub over_time: Option<OverTime>,
    /// Where to write it.
    pub path: std::path::PathBuf,
}

impl std::str::FromStr for Figure {
    type Err = String;

    /// `PLOT=PATH`, where PLOT is a plot's stem (`latency-histogram`,
    /// `over-time:replicas`, …).
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, path) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: write PLOT=PATH, like over-time:replicas=out.png"))?;
        let (plot, detail) = name
            .split_once(':')
            .map_or((name, None), |(p, d)| (p, Some(d)));
        let known = || {
            let mut names: Vec<String> = PlotId::ALL
                .iter()
                .filter(|p| **p != PlotId::OverTime)
                .map(|p| p.stem().to_owned())
                .collect();
            names.extend(
                OverTime::ALL
                    .iter()
                    .map(|o| format!("over-time:{}", o.stem())),
            );
            names.join(", ")
        };
        let plot = PlotId::ALL
            .into_iter()
            .find(|p| p.stem() == plot)
            .ok_or_else(|| format!("no plot is called {plot:?}; there are {}", known()))?;
        let over_time = match (plot, detail) {
            (PlotId::OverTime, Some(d)) => Some(
                OverTime::ALL
                    .into_iter()
                    .find(|o| o.stem() == d)
                    .ok_or_else(|| {
                        format!("no figure over time is called {d:?}; there are {}", known())
                    })?,
            ),
            (PlotId::OverTime, None) => Some(OverTime::Throughput),
            (_, None) => None,
            (_, Some(d)) => {
                return Err(format!(
                    "{name:?}: only over-time takes a figure, not {d:?}"
                ));
            }
        };
        if path.is_empty() {
            return Err(format!("{text:?}: the path is empty"));
        }
        Ok(Self {
            plot,
            over_time,
            path: path.into(),
        })
    }
}

/// Services drawn per scenario in the per-service over-time figures.
const OVER_TIME_SERVICES: usize = 4;

impl PlotId {
    /// Every plot.
    pub const ALL: [Self; 6] = [
        Self::Histogram,
        Self::Spectrum,
        Self::Utilisation,
        Self::OverTime,
        Self::LatencyCurve,
        Self::ThroughputCurve,
    ];

    /// Whether the plot needs a sweep rather than a simulation.
    pub fn needs_sweep(self) -> bool {
        matches!(self, Self::LatencyCurve | Self::ThroughputCurve)
    }

    /// A file name stem.
    pub fn stem(self) -> &'static str {
        match self {
            Self::Histogram => "latency-histogram",
            Self::Spectrum => "percentile-spectrum",
            Self::Utilisation => "utilisation",
            Self::LatencyCurve => "latency-vs-load",
            Self::ThroughputCurve => "throughput-vs-load",
            Self::OverTime => "over-time",
        }
    }

    /// The plot's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Histogram => "Latency histogram",
            Self::Spectrum => "Percentile spectrum",
            Self::Utilisation => "Utilisation by service",
            Self::LatencyCurve => "Latency against offered load",
            Self::ThroughputCurve => "Throughput against offered load",
            Self::OverTime => "Over time",
        }
    }
}

/// Services shown in the utilisation plot, the busiest first.
const UTILISATION_BARS: usize = 16;

/// Bars in the latency histogram.
const BINS: usize = 60;

/// A line's points.
type Series = Vec<[f64; 2]>;

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

/// A milliseconds value with sensible digits: 0, 0.35, 3.5, 35, 350, 3500.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".into();
    }
    if ms == 0.0 {
        return "0".into();
    }
    let a = ms.abs();
    if a >= 100.0 {
        format!("{ms:.0}")
    } else if a >= 10.0 {
        format!("{ms:.1}")
    } else if a >= 1.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.3}")
    }
}

/// An axis: its name with its unit, and how its values print.
#[derive(Clone, Copy)]
struct Axis {
    name: &'static str,
    format: fn(f64) -> String,
}

impl Axis {
    const LATENCY: Self = Self {
        name: "latency (ms)",
        format: format_ms,
    };
    /// Latency on a log axis: the plotted value is log10 of milliseconds.
    const LOG_LATENCY: Self = Self {
        name: "latency (ms, log)",
        format: log_ms,
    };
    const SHARE: Self = Self {
        name: "share of requests (%)",
        format: format_number,
    };
    const OFFERED: Self = Self {
        name: "offered load (req/s)",
        format: format_number,
    };
    const ACHIEVED: Self = Self {
        name: "achieved (req/s)",
        format: format_number,
    };
    const TIME: Self = Self {
        name: "time (s)",
        format: format_number,
    };
}

/// `10^v` milliseconds, for log axes.
fn log_ms(v: f64) -> String {
    format_ms(10f64.powf(v))
}

/// A plain number with sensible digits.
fn format_number(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || (a - a.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// What hovering a plot says: the series and both values under the pointer.
fn readout(position: &HoverPosition<'_>, x: Axis, y: Axis) -> String {
    let (name, point) = match position {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (*plot_name, position),
        HoverPosition::Elsewhere { position } => ("", position),
    };
    let values = format!(
        "{}: {}\n{}: {}",
        x.name,
        (x.format)(point.x),
        y.name,
        (y.format)(point.y)
    );
    if name.is_empty() {
        values
    } else {
        format!("{name}\n{values}")
    }
}

/// A plot with labelled axes (at least four labelled ticks each), a readout
/// under the pointer, and no legend inside (see [`legend_ui`]).
fn base_plot(id: PlotId, height: f32, x: Axis, y: Axis) -> Plot<'static> {
    plot_with(id.stem(), height, x, y)
}

/// A live plot of a figure against seconds, like the result plots.
pub fn seconds_plot(id: &str, height: f32, y: &'static str) -> Plot<'static> {
    let y = Axis {
        name: y,
        format: format_number,
    };
    plot_with(id, height, Axis::TIME, y).include_y(0.0)
}

fn plot_with(id: &str, height: f32, x: Axis, y: Axis) -> Plot<'static> {
    Plot::new(id)
        .x_grid_spacer(nice_marks)
        .y_grid_spacer(nice_marks)
        .height(height)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .custom_x_axes(vec![
            AxisHints::new_x()
                .label(x.name)
                .label_spacing(34.0..=50.0)
                .formatter(move |mark, _| (x.format)(mark.value)),
        ])
        .custom_y_axes(vec![
            AxisHints::new_y()
                .label(y.name)
                .label_spacing(18.0..=26.0)
                .formatter(move |mark, _| (y.format)(mark.value)),
        ])
        .label_formatter(move |position| Some(readout(position, x, y)))
}

/// Grid marks at 1, 2 or 5 times a power of ten, about six across the
/// range: every axis gets at least four labelled ticks, whatever its size.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature egui_plot asks for"
)]
pub fn nice_marks(input: GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    let range = high - low;
    if !range.is_finite() || range <= 0.0 {
        return Vec::new();
    }
    let raw = range / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|f| f * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil();
    #[expect(clippy::cast_possible_truncation, reason = "about six marks")]
    let count = ((high / step).floor() - first).max(-1.0) as i64 + 1;
    (0..count.min(100))
        .map(|k| GridMark {
            value: (first + k as f64) * step,
            step_size: step,
        })
        .collect()
}

/// The dash of series `k`, so series differ by more than colour.
pub fn series_style(k: usize) -> LineStyle {
    [
        LineStyle::Solid,
        LineStyle::Dashed { length: 10.0 },
        LineStyle::Dotted { spacing: 5.0 },
        LineStyle::Dashed { length: 4.0 },
    ][k % 4]
}

/// One entry of a legend drawn under its plot.
pub struct Key {
    /// What the series is.
    pub name: String,
    /// Its colour.
    pub color: egui::Color32,
    /// How its line is drawn; `None` for a hollow marker.
    pub style: Option<LineStyle>,
}

impl Key {
    fn line(name: impl Into<String>, color: egui::Color32, style: LineStyle) -> Self {
        Self {
            name: name.into(),
            color,
            style: Some(style),
        }
    }
}

/// A legend under the plot, so it never covers data: each series' line
/// sample in its colour and dash, then its name.
pub fn legend_ui(ui: &mut egui::Ui, keys: &[Key]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        for key in keys {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(24.0, 12.0), egui::Sense::hover());
            let painter = ui.painter();
            let (a, b) = (rect.left_center(), rect.right_center());
            let stroke = egui::Stroke::new(2.0, key.color);
            match key.style {
                Some(LineStyle::Solid) => {
                    painter.line_segment([a, b], stroke);
                }
                Some(LineStyle::Dashed { length }) => {
                    painter.extend(egui::Shape::dashed_line(
                        &[a, b],
                        stroke,
                        length.min(8.0),
                        3.0,
                    ));
                }
                Some(LineStyle::Dotted { .. }) => {
                    painter.extend(egui::Shape::dotted_line(&[a, b], key.color, 4.0, 1.2));
                }
                None => {
                    painter.circle_stroke(rect.center(), 4.0, stroke);
                }
            }
            ui.label(egui::RichText::new(&key.name).small());
            ui.add_space(6.0);
        }
    });
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

/// Room under a plot for its legend.
const LEGEND_HEIGHT: f32 = 22.0;

/// Grid marks at whole numbers only: whole "nines", or one per service.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature egui_plot asks for"
)]
fn whole_marks(input: GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    #[expect(clippy::cast_possible_truncation, reason = "plot bounds are small")]
    let (first, last) = (low.ceil().max(0.0) as i64, high.floor().min(1000.0) as i64);
    (first..=last)
        .map(|v| GridMark {
            value: v as f64,
            step_size: 1.0,
        })
        .collect()
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

/// The percentile at `nines` on the spectrum axis: 1 is 90%, 2 is 99%.
pub fn nines_label(nines: f64) -> String {
    if nines < 0.0 {
        return String::new();
    }
    let percent = 100.0 * (1.0 - 10f64.powf(-nines));
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "at least 2, and a plot has few nines"
    )]
    let digits = nines.ceil().clamp(2.0, 12.0) as usize - 2;
    format!("{percent:.digits$}%")
}

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

/// The legend entry of saturated sweep points.
const SATURATED: &str = "saturated: queue grows without bound";

/// A scenario's sweep points split at saturation: the stable ones as a
/// line, and the saturated ones (with the last stable one first, so the
/// dashed segment starts where the line ends).
fn split_saturated(
    curve: &crate::stats::SweepScenario,
    value: impl Fn(&crate::stats::SweepPoint) -> f64,
) -> (Series, Series) {
    let mut stable: Series = Vec::new();
    let mut saturated: Series = Vec::new();
    for p in &curve.points {
        let point = [p.offered_rps, value(p)];
        if !point[1].is_finite() {
            // A saturated point where no measured request finished has no
            // latency to draw.
            continue;
        }
        if p.saturated {
            if saturated.is_empty() {
                saturated.push(stable.last().copied().unwrap_or(point));
            }
            saturated.push(point);
        } else {
            stable.push(point);
        }
    }
    (stable, saturated)
}

/// Draws one series of sweep points: the stable ones as a line in `style`,
/// the saturated ones dashed with hollow markers.
fn sweep_series(
    plot_ui: &mut egui_plot::PlotUi<'_>,
    name: &str,
    color: egui::Color32,
    style: LineStyle,
    (stable, saturated): (Series, Series),
) {
    plot_ui.line(
        Line::new(name.to_owned(), PlotPoints::from(stable))
            .color(color)
            .style(style)
            .width(2.0),
    );
    if saturated.len() < 2 {
        return;
    }
    let label = format!("{name} ({SATURATED})");
    plot_ui.line(
        Line::new(label.clone(), PlotPoints::from(saturated.clone()))
            .color(color.gamma_multiply(0.6))
            .style(LineStyle::Dashed { length: 4.0 }),
    );
    // The first point is the last stable one: no hollow marker there.
    plot_ui.points(
        Points::new(label, saturated[1..].to_vec())
            .color(color)
            .shape(MarkerShape::Circle)
            .filled(false)
            .radius(4.0),
    );
}

/// The legend entry for saturated points, when a sweep has any.
fn saturated_key(sweep: &SweepReport) -> Option<Key> {
    sweep
        .scenarios
        .iter()
        .any(|c| c.points.iter().any(|p| p.saturated))
        .then(|| Key {
            name: SATURATED.into(),
            color: theme::MUTED,
            style: None,
        })
}

/// p99 (solid) and p50 (dashed) against offered load, with each scenario's
/// knee and the SLO bound. Latency is on a log axis unless `linear`, and the
/// range fits the stable points: saturated points (hollow, dashed) may run
/// off the top.
pub fn latency_curve_ui(
    ui: &mut egui::Ui,
    sweep: &SweepReport,
    slo_ms: Option<f64>,
    linear: bool,
    height: f32,
) {
    let to_y = move |ms: f64| if linear { ms } else { ms.max(1e-3).log10() };
    let y = if linear {
        Axis::LATENCY
    } else {
        Axis::LOG_LATENCY
    };
    let (lo, hi) = sweep
        .scenarios
        .iter()
        .flat_map(|c| c.points.iter().filter(|p| !p.saturated))
        .flat_map(|p| [p.latency_ms.p50, p.latency_ms.p99])
        .chain(slo_ms)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let dashed = LineStyle::Dashed { length: 10.0 };
    let mut keys = Vec::new();
    base_plot(
        PlotId::LatencyCurve,
        height - LEGEND_HEIGHT,
        Axis::OFFERED,
        y,
    )
    .show(ui, |plot_ui| {
        for (i, curve) in sweep.scenarios.iter().enumerate() {
            let color = theme::scenario_color(i);
            let p99: fn(&crate::stats::SweepPoint) -> f64 = |p| p.latency_ms.p99;
            let p50: fn(&crate::stats::SweepPoint) -> f64 = |p| p.latency_ms.p50;
            for (what, style, value) in [("p99", LineStyle::Solid, p99), ("p50", dashed, p50)] {
                let name = format!("{} {what}", curve.scenario);
                // A saturated point where no measured request finished has
                // no latency to draw.
                let points = split_saturated(curve, |p| {
                    let ms = value(p);
                    if ms > 0.0 { to_y(ms) } else { f64::NAN }
                });
                sweep_series(plot_ui, &name, color, style, points);
                keys.push(Key::line(name, color, style));
            }
            if let Some(knee) = curve.knee_rps {
                plot_ui.vline(
                    VLine::new(format!("{} knee", curve.scenario), knee)
                        .color(color)
                        .style(LineStyle::dotted_dense()),
                );
            }
        }
        if let Some(slo) = slo_ms {
            plot_ui.hline(HLine::new("SLO", to_y(slo)).color(theme::SLO).width(1.5));
            keys.push(Key::line("SLO", theme::SLO, LineStyle::Solid));
        }
        if lo.is_finite() && hi.is_finite() {
            let (a, b) = (to_y(lo), to_y(hi));
            let pad = ((b - a) * 0.08).max(if linear { 0.05 * b.abs() } else { 0.05 });
            let bottom = if linear { 0.0 } else { a - pad };
            plot_ui.set_plot_bounds_y(bottom..=b + pad);
        }
    });
    keys.extend(saturated_key(sweep));
    legend_ui(ui, &keys);
}

/// Achieved against offered throughput; the diagonal is "keeps up".
/// Saturated points are hollow, on a dashed segment.
pub fn throughput_curve_ui(ui: &mut egui::Ui, sweep: &SweepReport, height: f32) {
    let mut keys = vec![Key::line(
        "offered",
        theme::MUTED,
        LineStyle::dashed_dense(),
    )];
    base_plot(
        PlotId::ThroughputCurve,
        height - LEGEND_HEIGHT,
        Axis::OFFERED,
        Axis::ACHIEVED,
    )
    .include_y(0.0)
    .show(ui, |plot_ui| {
        let top = sweep
            .scenarios
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.offered_rps))
            .fold(0.0, f64::max);
        plot_ui.line(
            Line::new("offered", vec![[0.0, 0.0], [top, top]])
                .color(theme::MUTED)
                .style(LineStyle::dashed_dense()),
        );
        for (i, curve) in sweep.scenarios.iter().enumerate() {
            let color = theme::scenario_color(i);
            let style = series_style(i);
            let points = split_saturated(curve, |p| p.achieved_rps);
            sweep_series(plot_ui, &curve.scenario, color, style, points);
            keys.push(Key::line(curve.scenario.clone(), color, style));
            if let Some(max) = curve.max_throughput_rps {
                plot_ui.hline(
                    HLine::new(format!("{} max", curve.scenario), max)
                        .color(color)
                        .style(LineStyle::dotted_dense()),
                );
            }
        }
    });
    keys.extend(saturated_key(sweep));
    legend_ui(ui, &keys);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_parse_plot_and_path() {
        let f: Figure = "over-time:replicas=out/r.png".parse().unwrap();
        assert_eq!(f.plot, PlotId::OverTime);
        assert_eq!(f.over_time, Some(OverTime::Replicas));
        assert_eq!(f.path, std::path::PathBuf::from("out/r.png"));
        let f: Figure = "latency-vs-load=a.png".parse().unwrap();
        assert_eq!((f.plot, f.over_time), (PlotId::LatencyCurve, None));
        for stem in PlotId::ALL.map(PlotId::stem) {
            assert!(format!("{stem}=x.png").parse::<Figure>().is_ok(), "{stem}");
        }
        let err = "histogram=x.png".parse::<Figure>().unwrap_err();
        assert!(err.contains("latency-histogram"), "{err}");
        assert!("over-time:nope=x.png".parse::<Figure>().is_err());
        assert!("utilisation:p99=x.png".parse::<Figure>().is_err());
        assert!("utilisation".parse::<Figure>().is_err());
        assert!("utilisation=".parse::<Figure>().is_err());
    }
}
