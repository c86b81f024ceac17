//! Sweeps: latency and throughput against offered load (or replicas).

use eframe::egui;
use egui_plot::{HLine, Line, LineStyle, MarkerShape, PlotPoints, Points, VLine};

use crate::stats::SweepReport;

use crate::gui::theme;

use super::{Axis, Key, LEGEND_HEIGHT, PlotId, Series, base_plot, legend_ui, series_style};

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
