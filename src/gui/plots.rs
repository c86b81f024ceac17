//! The result plots, one colour per scenario: latency histogram, percentile
//! spectrum, utilisation bars and the scalability curves. Each reads a
//! report and draws; none keeps state.

use eframe::egui;
use egui_plot::{
    AxisHints, Bar, BarChart, GridInput, GridMark, HLine, Legend, Line, LineStyle, Plot,
    PlotPoints, VLine,
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

/// A milliseconds value with sensible digits: 0.35, 3.5, 35, 350, 3500.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".into();
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

fn base_plot(id: PlotId, height: f32) -> Plot<'static> {
    Plot::new(id.stem())
        .height(height)
        .legend(Legend::default())
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
}

/// The share of requests in each latency bin, per scenario; `log_x` puts the
/// latency on a log scale, where long tails are visible.
pub fn histogram_ui(ui: &mut egui::Ui, curves: &Curves, log_x: bool, height: f32) {
    let mut plot = base_plot(PlotId::Histogram, height)
        .x_axis_label("latency (ms)")
        .y_axis_label("share of requests (%)")
        .include_y(0.0);
    if log_x {
        plot = plot.x_axis_formatter(|mark, _| format_ms(10f64.powf(mark.value)));
    }
    plot.show(ui, |plot_ui| {
        for line in &curves.lines {
            let points = if log_x {
                &line.histogram_log
            } else {
                &line.histogram
            };
            plot_ui.line(
                Line::new(line.name.clone(), PlotPoints::from(points.clone()))
                    .color(line.color)
                    .width(1.5),
            );
        }
    });
}

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
    base_plot(PlotId::Spectrum, height)
        .custom_x_axes(vec![
            AxisHints::new_x()
                .label("percentile")
                .label_spacing(30.0..=40.0)
                .formatter(|mark, _| nines_label(mark.value)),
        ])
        .x_grid_spacer(whole_marks)
        .y_axis_label("latency (ms)")
        .include_x(0.0)
        .include_x(3.0)
        .include_y(0.0)
        .show(ui, |plot_ui| {
            for line in &curves.lines {
                plot_ui.line(
                    Line::new(line.name.clone(), PlotPoints::from(line.spectrum.clone()))
                        .color(line.color)
                        .width(1.5),
                );
            }
        });
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
    Plot::new(PlotId::OverTime.stem())
        .height(height)
        .legend(Legend::default())
        .x_axis_label("time (s)")
        .y_axis_label(what.label())
        .include_y(0.0)
        .show(ui, |plot| {
            for (k, (name, color, series)) in lines.into_iter().enumerate() {
                let style = if k % 2 == 0 {
                    LineStyle::Solid
                } else {
                    LineStyle::dashed_loose()
                };
                plot.line(
                    Line::new(name, PlotPoints::from(series))
                        .color(color)
                        .style(style),
                );
            }
        });
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

/// p50 (dashed) and p99 (solid) against offered load, with each scenario's
/// knee and the SLO bound.
pub fn latency_curve_ui(ui: &mut egui::Ui, sweep: &SweepReport, slo_ms: Option<f64>, height: f32) {
    base_plot(PlotId::LatencyCurve, height)
        .x_axis_label("offered load (req/s)")
        .y_axis_label("latency (ms)")
        .include_y(0.0)
        .show(ui, |plot_ui| {
            for (i, curve) in sweep.scenarios.iter().enumerate() {
                let color = theme::scenario_color(i);
                let series = |f: fn(&crate::stats::SweepPoint) -> f64| -> Vec<[f64; 2]> {
                    curve.points.iter().map(|p| [p.offered_rps, f(p)]).collect()
                };
                plot_ui.line(
                    Line::new(
                        format!("{} p99", curve.scenario),
                        series(|p| p.latency_ms.p99),
                    )
                    .color(color)
                    .width(2.0),
                );
                plot_ui.line(
                    Line::new(
                        format!("{} p50", curve.scenario),
                        series(|p| p.latency_ms.p50),
                    )
                    .color(color)
                    .style(LineStyle::dashed_loose()),
                );
                if let Some(knee) = curve.knee_rps {
                    plot_ui.vline(
                        VLine::new(format!("{} knee", curve.scenario), knee)
                            .color(color)
                            .style(LineStyle::dotted_dense()),
                    );
                }
            }
            if let Some(slo) = slo_ms {
                plot_ui.hline(HLine::new("SLO", slo).color(theme::SLO).width(1.5));
            }
        });
}

/// Achieved against offered throughput; the diagonal is "keeps up".
pub fn throughput_curve_ui(ui: &mut egui::Ui, sweep: &SweepReport, height: f32) {
    base_plot(PlotId::ThroughputCurve, height)
        .x_axis_label("offered load (req/s)")
        .y_axis_label("achieved (req/s)")
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
                let points: Vec<[f64; 2]> = curve
                    .points
                    .iter()
                    .map(|p| [p.offered_rps, p.achieved_rps])
                    .collect();
                plot_ui.line(
                    Line::new(curve.scenario.clone(), points)
                        .color(theme::scenario_color(i))
                        .width(2.0),
                );
                if let Some(max) = curve.max_throughput_rps {
                    plot_ui.hline(
                        HLine::new(format!("{} max", curve.scenario), max)
                            .color(theme::scenario_color(i))
                            .style(LineStyle::dotted_dense()),
                    );
                }
            }
        });
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
