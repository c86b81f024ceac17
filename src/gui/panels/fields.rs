//! Small editors shared by the inspector's sections: a labelled row, text
//! fields that parse as the user types, and the distribution editor with its
//! preview. Invalid text is flagged under the field and never reaches the
//! project.

use std::collections::HashMap;
use std::str::FromStr;

use eframe::egui::{self, Ui};
use egui_plot::{Line, Plot, PlotPoints};

use crate::model::{Choice, Distribution, Place, Problem, TimeSpan};
use crate::sim::{Rng, Sampler};

use super::super::{plots::format_ms, theme};

/// A combo box over `options`; returns the option picked, if it changed.
pub fn combo<T: Copy + PartialEq>(
    ui: &mut Ui,
    id: &str,
    current: T,
    options: &[(T, &str)],
) -> Option<T> {
    let mut value = current;
    let text = options
        .iter()
        .find(|(v, _)| *v == current)
        .map_or("", |(_, t)| *t);
    egui::ComboBox::from_id_salt(id)
        .selected_text(text)
        .show_ui(ui, |ui| {
            for (option, label) in options {
                ui.selectable_value(&mut value, *option, *label);
            }
        });
    (value != current).then_some(value)
}

/// A combo box offering every variant of a model [`Choice`].
pub fn choice<T: Choice>(ui: &mut Ui, id: &str, current: T) -> Option<T> {
    let options: Vec<(T, &str)> = T::ALL.iter().map(|v| (*v, v.label())).collect();
    combo(ui, id, current, &options)
}

/// Text typed into a field, kept while it is being edited.
#[derive(Default)]
pub struct Buffers {
    texts: HashMap<String, Buffer>,
    previews: HashMap<String, Preview>,
}

struct Buffer {
    text: String,
    /// The project's value when `text` was last taken from it.
    source: String,
    error: Option<String>,
}

impl Buffers {
    /// Forgets every buffer, after the project is replaced.
    pub fn clear(&mut self) {
        self.texts.clear();
    }

    /// A one-line text field bound to `current`. Returns the parsed value
    /// when the user changes the text to something valid; shows the parse
    /// error under the field otherwise. `key` must be unique per field.
    pub fn text<T>(
        &mut self,
        ui: &mut Ui,
        key: &str,
        label: &str,
        current: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let entry = self.texts.entry(key.to_owned()).or_insert_with(|| Buffer {
            text: current.to_owned(),
            source: current.to_owned(),
            error: None,
        });
        let id = ui.make_persistent_id(("field", key));
        let focused = ui.memory(|m| m.has_focus(id));
        if entry.source != current && !focused {
            current.clone_into(&mut entry.text);
            current.clone_into(&mut entry.source);
            entry.error = None;
        }
        let response = ui.add(
            egui::TextEdit::singleline(&mut entry.text)
                .id(id)
                .desired_width((ui.available_width() * 0.6).clamp(60.0, 220.0)),
        );
        // Screen readers (and the tests) find the field by its label.
        ui.ctx()
            .accesskit_node_builder(response.id, |node| node.set_label(label));
        let response = response.on_hover_text(label);
        let mut parsed = None;
        if response.changed() {
            match parse(entry.text.trim()) {
                Ok(value) => {
                    entry.error = None;
                    parsed = Some(value);
                }
                Err(message) => entry.error = Some(message),
            }
        }
        parsed
    }

    /// The error under field `key`, if its text does not parse.
    pub fn error(&self, key: &str) -> Option<&str> {
        self.texts.get(key)?.error.as_deref()
    }

    /// The shape of `distribution`, sampled once and kept.
    fn preview(&mut self, distribution: &Distribution) -> &Preview {
        let key = distribution.to_string();
        if self.previews.len() > 256 {
            self.previews.clear();
        }
        self.previews
            .entry(key)
            .or_insert_with(|| Preview::of(distribution))
    }
}

/// A sampled distribution: its density and headline figures.
struct Preview {
    mean_ms: f64,
    p99_ms: f64,
    density: Vec<[f64; 2]>,
}

/// Draws for a distribution preview.
const PREVIEW_DRAWS: usize = 20_000;

impl Preview {
    fn of(distribution: &Distribution) -> Self {
        let sampler = Sampler::new(distribution);
        let mut rng = Rng::stream(1, 0, "preview");
        let mut draws: Vec<f64> = (0..PREVIEW_DRAWS)
            .map(|_| sampler.sample(&mut rng) as f64 / 1e6)
            .collect();
        draws.sort_by(f64::total_cmp);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "q is in [0, 1]"
        )]
        let at = |q: f64| draws[((q * (PREVIEW_DRAWS - 1) as f64) as usize).min(PREVIEW_DRAWS - 1)];
        let (low, high) = (at(0.0), at(0.995).max(at(0.0) + 1e-9));
        let bins = 40;
        let width = (high - low) / bins as f64;
        let mut counts = vec![0_u32; bins];
        for &d in &draws {
            if d <= high {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "d is at least low"
                )]
                let i = (((d - low) / width) as usize).min(bins - 1);
                counts[i] += 1;
            }
        }
        let density = counts
            .iter()
            .enumerate()
            .flat_map(|(i, &c)| {
                let x = low + width * i as f64;
                let y = f64::from(c) / PREVIEW_DRAWS as f64;
                [[x, y], [x + width, y]]
            })
            .collect();
        Self {
            mean_ms: distribution.mean_secs() * 1e3,
            p99_ms: at(0.99),
            density,
        }
    }
}

/// Starts a grid of label | editor | unit rows.
pub fn grid(ui: &mut Ui, id: &str, rows: impl FnOnce(&mut Ui)) {
    // No column takes more than 40% of the width, so a long checkbox text
    // or combo wraps and leaves the units room.
    let widest = (ui.available_width() * 0.4).max(100.0);
    egui::Grid::new(id)
        .num_columns(3)
        .max_col_width(widest)
        .spacing([8.0, 4.0])
        .striped(false)
        .show(ui, rows);
}

/// A row: the label, the editor, then the unit in muted text.
pub fn row(ui: &mut Ui, label: &str, unit: &str, editor: impl FnOnce(&mut Ui)) {
    ui.label(label);
    editor(ui);
    // A narrow inspector cuts the unit short with an ellipsis (the whole
    // of it on hover) rather than clipping it at the panel's edge.
    ui.add(egui::Label::new(egui::RichText::new(unit).color(theme::MUTED)).truncate());
    ui.end_row();
}

/// Messages of `problems` placed exactly at `place`, under a field.
pub fn problems_ui(ui: &mut Ui, problems: &[Problem], place: &Place) {
    show_problems(ui, problems.iter().filter(|p| p.place == *place));
}

/// Messages of `problems` placed at `place` or any field inside it.
pub fn problems_under(ui: &mut Ui, problems: &[Problem], place: &Place) {
    show_problems(ui, problems.iter().filter(|p| p.place.is_within(place)));
}

fn show_problems<'a>(ui: &mut Ui, problems: impl Iterator<Item = &'a Problem>) {
    for problem in problems {
        ui.label("");
        ui.colored_label(theme::PROBLEM, format!("⚠ {}", problem.message));
        ui.label("");
        ui.end_row();
    }
}

/// A parse error under a field.
pub fn error_row(ui: &mut Ui, buffers: &Buffers, key: &str) {
    if let Some(error) = buffers.error(key) {
        ui.label("");
        ui.colored_label(theme::PROBLEM, format!("⚠ {error}"));
        ui.label("");
        ui.end_row();
    }
}

/// Parses with `FromStr`, giving its error as text.
pub fn parse<T: FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse::<T>().map_err(|e| e.to_string())
}

/// A time span field, like `250ms`.
pub fn time_span(
    ui: &mut Ui,
    buffers: &mut Buffers,
    key: &str,
    label: &str,
    current: TimeSpan,
) -> Option<TimeSpan> {
    buffers.text(ui, key, label, &current.to_string(), parse::<TimeSpan>)
}

/// The syntax of distributions, shown on hover.
const DISTRIBUTION_HELP: &str = "\
5ms                      constant
exp:5ms                  exponential with mean 5 ms
uniform:1ms..9ms         uniform
lognormal:5ms,p99=20ms   lognormal by mean and p99
gamma:5ms,shape=2        gamma by mean and shape
erlang:5ms,k=3           Erlang by mean and phases
empirical:1ms,2ms,9ms    each value equally likely";

/// A distribution field: text, its mean and p99, and a small plot of its shape.
/// A grid row: `label`, then a distribution editor (with `hint`) that
/// writes into `value`.
pub fn distribution_row(
    ui: &mut Ui,
    buffers: &mut Buffers,
    key: &str,
    (label, hint): (&str, &str),
    value: &mut Distribution,
) {
    ui.label(label);
    if let Some(d) = distribution(ui, buffers, key, hint, value) {
        *value = d;
    }
}

pub fn distribution(
    ui: &mut Ui,
    buffers: &mut Buffers,
    key: &str,
    label: &str,
    current: &Distribution,
) -> Option<Distribution> {
    let changed = ui
        .vertical(|ui| {
            let changed = buffers.text(ui, key, label, &current.to_string(), |text| {
                let d: Distribution = parse(text)?;
                d.check()?;
                Ok(d)
            });
            if let Some(error) = buffers.error(key) {
                ui.colored_label(theme::PROBLEM, format!("⚠ {error}"));
            }
            if current.check().is_ok() {
                let preview = buffers.preview(current);
                ui.horizontal(|ui| {
                    ui.colored_label(
                        theme::MUTED,
                        format!(
                            "mean {} ms · p99 {} ms",
                            format_ms(preview.mean_ms),
                            format_ms(preview.p99_ms)
                        ),
                    );
                });
                if preview.density.len() > 1 {
                    Plot::new(("preview", key))
                        .height(48.0)
                        .width(ui.available_width().min(220.0))
                        .show_axes([false, false])
                        .show_grid(false)
                        .allow_drag(false)
                        .allow_zoom(false)
                        .allow_scroll(false)
                        .allow_boxed_zoom(false)
                        .show_x(false)
                        .show_y(false)
                        .show(ui, |plot_ui| {
                            plot_ui.line(
                                Line::new("", PlotPoints::from(preview.density.clone()))
                                    .color(theme::MUTED),
                            );
                        });
                }
            }
            changed
        })
        .inner;
    ui.colored_label(theme::MUTED, "ℹ")
        .on_hover_text(DISTRIBUTION_HELP);
    ui.end_row();
    changed
}

/// A whole number dragged within `range`; the new value, if it changed.
pub fn drag_u32(ui: &mut Ui, value: u32, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
    let mut v = value;
    ui.add(egui::DragValue::new(&mut v).range(range).speed(0.2));
    (v != value).then_some(v)
}

/// A fraction shown and dragged as a percentage; the new value, if it changed.
pub fn drag_percent(ui: &mut Ui, fraction: f64) -> Option<f64> {
    let mut percent = fraction * 100.0;
    ui.add(
        egui::DragValue::new(&mut percent)
            .range(0.0..=100.0)
            .speed(0.1)
            .max_decimals(3),
    );
    let new = percent / 100.0;
    ((new - fraction).abs() > 1e-12).then_some(new)
}

/// `v` milliseconds.
pub fn ms(v: f64) -> TimeSpan {
    TimeSpan::from_millis_f64(v)
}

/// A checkbox row that turns an optional pattern on (with `preset`) or off.
pub fn toggle<T>(
    ui: &mut Ui,
    label: &str,
    text: &str,
    value: &mut Option<T>,
    preset: impl FnOnce() -> T,
) {
    row(ui, label, "", |ui| {
        let mut on = value.is_some();
        if ui.checkbox(&mut on, text).changed() {
            *value = on.then(preset);
        }
    });
}

/// A time field row editing `value`; `key` is unique per field.
pub fn time_row(
    ui: &mut Ui,
    buffers: &mut Buffers,
    key: &str,
    (label, unit): (&str, &str),
    value: &mut TimeSpan,
) {
    row(ui, label, unit, |ui| {
        if let Some(t) = time_span(ui, buffers, key, label.trim(), *value) {
            *value = t;
        }
    });
    error_row(ui, buffers, key);
}

/// A whole-number row editing `value` within `range`.
pub fn count_row(
    ui: &mut Ui,
    (label, unit): (&str, &str),
    value: &mut u32,
    range: std::ops::RangeInclusive<u32>,
) {
    row(ui, label, unit, |ui| {
        if let Some(v) = drag_u32(ui, *value, range) {
            *value = v;
        }
    });
}

/// A row editing a fraction as a percentage within `percents`.
pub fn percent_row(
    ui: &mut Ui,
    (label, unit): (&str, &str),
    fraction: &mut f64,
    percents: std::ops::RangeInclusive<f64>,
) {
    row(ui, label, unit, |ui| {
        let mut percent = *fraction * 100.0;
        ui.add(
            egui::DragValue::new(&mut percent)
                .range(percents)
                .speed(0.1),
        );
        if (percent / 100.0 - *fraction).abs() > 1e-12 {
            *fraction = percent / 100.0;
        }
    });
}

/// A number dragged within `range`; the new value, if it changed.
pub fn drag_f64(ui: &mut Ui, value: f64, range: std::ops::RangeInclusive<f64>) -> Option<f64> {
    let mut v = value;
    ui.add(egui::DragValue::new(&mut v).range(range).speed(0.05));
    (v.to_bits() != value.to_bits()).then_some(v)
}
