//! Painting the canvas: nodes with their figures, pins, wires with arrows
//! and labels. Every text on a node is at the app's body size at 100% zoom.

use eframe::egui::{
    self, Align2, Color32, CornerRadius, FontId, Painter, Pos2, Rect, Shape, Stroke, StrokeKind,
    Ui, Vec2, pos2, vec2,
};

use crate::model::{CallMode, Choice, Link, Service, human_secs};

use super::super::theme;
use super::Overlay;
use super::geometry::{self, pin_radius};

/// Below this zoom a node shows only its name.
pub const DETAIL_ZOOM: f32 = 0.5;

/// Text smaller than this (in screen points) is not drawn at all.
const MIN_TEXT: f32 = 4.0;

/// What a node says, measured once per frame.
pub struct NodeText {
    /// The kind's short tag.
    pub tag: &'static str,
    /// The service's name.
    pub name: String,
    /// Figures, one a line, with their colour (`PLACEHOLDER`: the text colour).
    pub lines: Vec<(String, Color32)>,
    /// Validation problems, one a line.
    pub problems: Option<String>,
}

/// Metrics of a node in canvas units (100% zoom).
#[derive(Clone, Copy)]
pub struct Metrics {
    /// The body font size.
    pub font: f32,
    /// The header's height.
    pub header: f32,
    /// One line of figures.
    pub row: f32,
    /// Inner padding.
    pub pad: f32,
}

impl Metrics {
    /// The metrics for the app's body font.
    pub fn of(ui: &Ui) -> Self {
        let font = egui::TextStyle::Body.resolve(ui.style()).size;
        Self {
            font,
            header: (font * 2.1).round(),
            row: (font * 1.45).round(),
            pad: 8.0,
        }
    }
}

/// "1 replica", "4 replicas".
fn count(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl NodeText {
    /// The texts of `service` with the run's results over it.
    pub fn of(service: &Service, overlay: &Overlay) -> Self {
        let mut lines = match &service.llm {
            // An LLM server: its batch and its step, not workers and work.
            Some(llm) => vec![
                (
                    format!(
                        "{} × {}",
                        count(service.replicas, "replica", "replicas"),
                        count(llm.max_num_seqs, "sequence", "sequences")
                    ),
                    Color32::PLACEHOLDER,
                ),
                (
                    match (llm.phase, llm.step.prefill_table.is_empty()) {
                        (crate::model::LlmPhase::Both, true) => format!(
                            "step {} + {}/token",
                            llm.step.base, llm.step.per_prefill_token
                        ),
                        (crate::model::LlmPhase::Both, false) => {
                            format!("step {} + prefill table", llm.step.base)
                        }
                        // One side of a split says which.
                        (phase, _) => format!("{}, step {}", phase.label(), llm.step.base),
                    },
                    Color32::PLACEHOLDER,
                ),
            ],
            None => vec![
                (
                    format!(
                        "{} × {}",
                        count(service.replicas, "replica", "replicas"),
                        count(service.workers, "worker", "workers")
                    ),
                    Color32::PLACEHOLDER,
                ),
                (service.service_time.describe(), Color32::PLACEHOLDER),
            ],
        };
        if let Some(&u) = overlay.utilisation.get(&service.name) {
            let mut text = format!("busy {:.0}%", 100.0 * u);
            if overlay.bottleneck.as_deref() == Some(service.name.as_str()) {
                text.push_str(" · bottleneck");
            }
            lines.push((text, theme::utilisation_color(u)));
        }
        Self {
            tag: theme::kind_tag(service.kind),
            name: service.name.clone(),
            lines,
            problems: overlay.problems.get(&service.name).map(|p| p.join("\n")),
        }
    }

    /// The node's size in canvas units.
    pub fn size(&self, painter: &Painter, m: Metrics) -> Vec2 {
        let font = FontId::proportional(m.font);
        let width = |text: &str| {
            painter
                .layout_no_wrap(text.to_owned(), font.clone(), Color32::WHITE)
                .size()
                .x
        };
        let badge = if self.problems.is_some() {
            m.font * 1.6
        } else {
            0.0
        };
        let header = width(self.tag) + 10.0 + 6.0 + width(&self.name) + badge;
        let body = self
            .lines
            .iter()
            .map(|(line, _)| width(line))
            .fold(0.0, f32::max);
        #[expect(clippy::cast_precision_loss, reason = "a handful of lines")]
        let height = m.header + self.lines.len() as f32 * m.row + m.pad;
        vec2((header.max(body) + 2.0 * m.pad).max(150.0).ceil(), height)
    }
}

/// How a node is drawn besides its texts.
pub struct NodeLook {
    /// The kind's colour.
    pub kind: Color32,
    /// Fill from the utilisation, if simulated.
    pub busy: Option<f64>,
    /// Outlined as the bottleneck.
    pub bottleneck: bool,
    /// Selected.
    pub selected: bool,
    /// Connected to the selection (or no selection): drawn at full strength.
    pub lit: bool,
}

/// Draws a node in its screen rectangle at `zoom`.
pub fn node(
    painter: &Painter,
    rect: Rect,
    zoom: f32,
    m: Metrics,
    text: &NodeText,
    look: &NodeLook,
) {
    let visuals = &painter.ctx().global_style().visuals;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to 1..=12"
    )]
    let radius = CornerRadius::same((6.0 * zoom).clamp(1.0, 12.0) as u8);
    let mut fill = visuals.window_fill;
    if let Some(u) = look.busy {
        fill = blend(fill, theme::utilisation_color(u), 0.28);
    }
    let dim = |c: Color32| if look.lit { c } else { c.gamma_multiply(0.45) };
    let stroke = if look.selected {
        Stroke::new(3.0, theme::SELECTED)
    } else if look.bottleneck {
        Stroke::new(3.0, theme::BOTTLENECK)
    } else {
        Stroke::new(1.5, dim(look.kind))
    };
    painter.rect_filled(rect, radius, dim(fill));
    let header = Rect::from_min_size(rect.min, vec2(rect.width(), m.header * zoom));
    painter.rect_filled(
        header,
        CornerRadius {
            nw: radius.nw,
            ne: radius.ne,
            sw: 0,
            se: 0,
        },
        dim(look.kind.gamma_multiply(0.35)),
    );
    painter.rect_stroke(rect, radius, stroke, StrokeKind::Inside);
    if look.selected && look.bottleneck {
        painter.rect_stroke(
            rect.expand(3.0),
            radius,
            Stroke::new(2.0, theme::BOTTLENECK),
            StrokeKind::Outside,
        );
    }

    let size = m.font * zoom;
    if size < MIN_TEXT {
        return;
    }
    let font = FontId::proportional(size);
    let strong = dim(visuals.strong_text_color());
    let pad = m.pad * zoom;
    let middle = header.center().y;
    if zoom < DETAIL_ZOOM {
        painter.text(
            header.center(),
            Align2::CENTER_CENTER,
            &text.name,
            font,
            strong,
        );
        return;
    }
    // The kind's tag as a chip, then the name.
    let tag = painter.layout_no_wrap(text.tag.to_owned(), font.clone(), Color32::WHITE);
    let chip = Rect::from_min_size(
        pos2(rect.left() + pad, middle - tag.size().y / 2.0 - 1.0),
        tag.size() + vec2(10.0 * zoom, 2.0),
    );
    painter.rect_filled(chip, CornerRadius::same(3), dim(look.kind));
    painter.galley(chip.min + vec2(5.0 * zoom, 1.0), tag, Color32::WHITE);
    painter.text(
        pos2(chip.right() + 6.0 * zoom, middle),
        Align2::LEFT_CENTER,
        &text.name,
        font.clone(),
        strong,
    );
    if text.problems.is_some() {
        painter.text(
            pos2(rect.right() - pad, middle),
            Align2::RIGHT_CENTER,
            "⚠",
            font.clone(),
            theme::PROBLEM,
        );
    }
    let plain = visuals.text_color();
    for (i, (line, color)) in text.lines.iter().enumerate() {
        let color = if *color == Color32::PLACEHOLDER {
            plain
        } else {
            *color
        };
        #[expect(clippy::cast_precision_loss, reason = "a handful of lines")]
        let y = header.bottom() + (i as f32 + 0.5) * m.row * zoom;
        painter.text(
            pos2(rect.left() + pad, y),
            Align2::LEFT_CENTER,
            line,
            font.clone(),
            dim(color),
        );
    }
}

/// Draws a node's two pins.
pub fn pins(painter: &Painter, input: Pos2, output: Pos2, zoom: f32, kind: Color32, lit: bool) {
    let r = pin_radius(zoom);
    let dim = |c: Color32| if lit { c } else { c.gamma_multiply(0.45) };
    painter.circle(
        input,
        r,
        dim(theme::MUTED),
        Stroke::new(1.0, dim(Color32::BLACK)),
    );
    painter.circle(output, r, dim(kind), Stroke::new(1.0, dim(Color32::BLACK)));
}

/// How a wire is drawn.
pub struct WireLook {
    /// Its colour.
    pub color: Color32,
    /// Its width in screen points.
    pub width: f32,
    /// Dashed for an asynchronous call.
    pub dashed: bool,
}

/// Draws a wire along `points` (output pin to input pin), with an arrowhead
/// at the callee.
pub fn wire(painter: &Painter, points: &[Pos2], zoom: f32, look: &WireLook) {
    let (Some(&tip), true) = (points.last(), points.len() >= 2) else {
        return;
    };
    let stroke = Stroke::new(look.width, look.color);
    let tip = tip - vec2(pin_radius(zoom), 0.0);
    let length = (11.0 * zoom).clamp(7.0, 16.0) + look.width;
    let base = tip - vec2(length, 0.0);
    // The curve stops at the arrow's base; the arrow points along it.
    let keep = points
        .iter()
        .rposition(|p| p.distance(tip) > length)
        .unwrap_or(0);
    let mut line: Vec<Pos2> = points[..=keep].to_vec();
    line.push(base);
    if look.dashed {
        let dash = (8.0 * zoom).clamp(4.0, 12.0);
        painter.extend(Shape::dashed_line(&line, stroke, dash, dash * 0.7));
    } else {
        painter.add(Shape::line(line, stroke));
    }
    let half = length * 0.5;
    painter.add(Shape::convex_polygon(
        vec![tip, base + vec2(0.0, -half), base + vec2(0.0, half)],
        look.color,
        Stroke::NONE,
    ));
}

/// What a call says on its wire: "30%" below probability 1, "×3" for a
/// count above one.
pub fn wire_label(link: &Link) -> Option<String> {
    let mut parts = Vec::new();
    if link.probability < 1.0 {
        parts.push(percent(link.probability));
    }
    if link.count > 1 {
        parts.push(format!("×{}", link.count));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `0.3` as "30%", `0.005` as "0.5%".
fn percent(p: f64) -> String {
    let v = 100.0 * p;
    if v >= 10.0 || (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}%")
    } else {
        format!("{v:.1}%")
    }
}

/// A text on a wire, on a small plate so it reads over other wires.
pub fn plate(painter: &Painter, at: Pos2, text: &str, size: f32, color: Color32) {
    if size < MIN_TEXT {
        return;
    }
    let galley = painter.layout_no_wrap(text.to_owned(), FontId::proportional(size), color);
    let rect = Rect::from_center_size(at, galley.size() + vec2(8.0, 2.0));
    let fill = painter.ctx().global_style().visuals.extreme_bg_color;
    painter.rect_filled(rect, CornerRadius::same(3), fill.gamma_multiply(0.9));
    painter.galley(rect.min + vec2(4.0, 1.0), galley, color);
}

/// The call's settings, for its tooltip.
pub fn link_details(link: &Link) -> Vec<String> {
    let mut lines = vec![format!(
        "{} calls {} ({})",
        link.from,
        link.to,
        match link.mode {
            CallMode::Sync => "waits for the answer",
            CallMode::Async => "async: does not wait",
        }
    )];
    if link.probability < 1.0 {
        lines.push(format!("made by {} of requests", percent(link.probability)));
    }
    if link.count > 1 {
        lines.push(format!("{} calls each time", link.count));
    }
    if let Some(group) = &link.parallel_group {
        lines.push(format!(
            "in parallel with the other calls of group “{group}”"
        ));
    }
    lines.push(format!("network: {}", link.latency.describe()));
    if let Some(timeout) = link.timeout {
        lines.push(format!("timeout {}", human_secs(timeout.as_secs_f64())));
    }
    if let Some(retry) = &link.retry {
        lines.push(format!(
            "up to {} retries, backoff from {}",
            retry.max_retries,
            human_secs(retry.backoff.as_secs_f64())
        ));
    }
    if link.breaker.is_some() {
        lines.push("circuit breaker".into());
    }
    if let Some(n) = link.max_concurrent {
        lines.push(format!(
            "bulkhead: at most {n} in flight per caller replica"
        ));
    }
    if link.fault.is_some() {
        lines.push("injected latency fault".into());
    }
    lines
}

/// The service's full figures, for its tooltip.
pub fn service_details(service: &Service, overlay: &Overlay) -> Vec<String> {
    let mut lines = vec![format!("{} · {}", service.name, service.kind.label())];
    if let Some(llm) = &service.llm {
        lines.extend([
            format!(
                "{} × up to {} running",
                count(service.replicas, "replica", "replicas"),
                count(llm.max_num_seqs, "sequence", "sequences")
            ),
            format!(
                "KV cache: {} tokens a replica",
                llm.kv_tokens().unwrap_or(0)
            ),
            if llm.step.prefill_table.is_empty() {
                format!(
                    "step: {} + {} a prompt token + {} a decoding sequence",
                    llm.step.base, llm.step.per_prefill_token, llm.step.per_decode_token
                )
            } else {
                format!(
                    "step: {} + the prefill table's time + {} a decoding sequence",
                    llm.step.base, llm.step.per_decode_token
                )
            },
        ]);
    } else {
        lines.extend([
            format!(
                "{} × {}, {} I/O",
                count(service.replicas, "replica", "replicas"),
                count(service.workers, "worker", "workers"),
                match service.io {
                    crate::model::IoModel::Blocking => "blocking",
                    crate::model::IoModel::Async => "async",
                }
            ),
            format!("service time: {}", service.service_time.describe()),
            format!("mean {}", human_secs(service.service_time.mean_secs())),
        ]);
    }
    if let Some(cache) = &service.cache {
        lines.push(format!("cache hit ratio {}", percent(cache.hit_ratio)));
    }
    if service.error_rate > 0.0 {
        lines.push(format!("fails {} of requests", percent(service.error_rate)));
    }
    if service.batching.is_some() {
        lines.push("dynamic batching".into());
    }
    if service.autoscale.is_some() {
        lines.push("autoscaled".into());
    }
    if let Some(&u) = overlay.utilisation.get(&service.name) {
        lines.push(format!("busy {:.1}% in the last run", 100.0 * u));
    }
    lines
}

/// `a` moved a share `t` of the way to `b`.
fn blend(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "u8 mix"
        )]
        let v = (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
        v
    };
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// The dotted background grid.
pub fn grid(painter: &Painter, screen: Rect, view: geometry::View) {
    let zoom = view.zoom();
    let mut step = 40.0 * zoom;
    while step < 14.0 {
        step *= 2.0;
    }
    let origin = view.to_screen(Pos2::ZERO);
    let color = painter
        .ctx()
        .global_style()
        .visuals
        .weak_text_color()
        .gamma_multiply(0.35);
    let start = |o: f32, min: f32| o - ((o - min) / step).floor() * step;
    let mut x = start(origin.x, screen.left());
    while x <= screen.right() {
        let mut y = start(origin.y, screen.top());
        while y <= screen.bottom() {
            painter.circle_filled(pos2(x, y), 1.0, color);
            y += step;
        }
        x += step;
    }
}
