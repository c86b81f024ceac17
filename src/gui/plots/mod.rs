//! The result plots, one colour per scenario: latency histogram, percentile
//! spectrum, utilisation bars and the scalability curves. Each reads a
//! report and draws; none keeps state.

use eframe::egui;
use egui_plot::{AxisHints, GridInput, GridMark, HoverPosition, LineStyle, Plot};

/// A line's points.
pub(super) type Series = Vec<[f64; 2]>;

mod latency;
mod services;
mod sweep;

pub use latency::{Curves, histogram_ui, spectrum_ui};
pub use services::{over_time_ui, utilisation_ui};
pub use sweep::{latency_curve_ui, throughput_curve_ui};

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
pub(super) struct Axis {
    name: &'static str,
    format: fn(f64) -> String,
}

impl Axis {
    const fn new(name: &'static str, format: fn(f64) -> String) -> Self {
        Self { name, format }
    }

    const LATENCY: Self = Self::new("latency (ms)", format_ms);
    /// Latency on a log axis: the plotted value is log10 of milliseconds.
    const LOG_LATENCY: Self = Self::new("latency (ms, log)", log_ms);
    // Short: on a laptop screen the plot is not much taller than this.
    const SHARE: Self = Self::new("% of requests", format_number);
    const OFFERED: Self = Self::new("offered load (req/s)", format_number);
    const ACHIEVED: Self = Self::new("achieved (req/s)", format_number);
    const TIME: Self = Self::new("time (s)", format_number);
}

/// `10^v` milliseconds, for log axes.
pub(super) fn log_ms(v: f64) -> String {
    format_ms(10f64.powf(v))
}

/// A plain number with sensible digits.
pub(super) fn format_number(v: f64) -> String {
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
pub(super) fn readout(position: &HoverPosition<'_>, x: Axis, y: Axis) -> String {
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
pub(super) fn base_plot(id: PlotId, height: f32, x: Axis, y: Axis) -> Plot<'static> {
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

pub(super) fn plot_with(id: &str, height: f32, x: Axis, y: Axis) -> Plot<'static> {
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

/// Room under a plot for its legend.
pub(super) const LEGEND_HEIGHT: f32 = 22.0;

/// Grid marks at whole numbers only: whole "nines", or one per service.
#[expect(
    clippy::needless_pass_by_value,
    reason = "the signature egui_plot asks for"
)]
pub(super) fn whole_marks(input: GridInput) -> Vec<GridMark> {
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
