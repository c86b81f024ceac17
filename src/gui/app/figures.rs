//! `--figure`: run what each plot needs, show it alone, save it, close.

use eframe::egui::{self};

use crate::gui::jobs::JobKind;
use crate::gui::plots::PlotId;

use super::App;

impl App {
    /// Works through `--figure`: runs what each plot needs, shows it alone,
    /// saves it once it has settled, and closes the window after the last.
    pub(super) fn advance_figures(&mut self, ctx: &egui::Context) {
        let Some(figure) = self.figures.queue.front().cloned() else {
            return;
        };
        ctx.request_repaint();
        if self.runs.job.is_some() || self.files.loading.is_some() {
            return;
        }
        if self.message.is_some() {
            // The project did not open, or a run failed: say so and stop.
            eprintln!("error: {}", self.status);
            if let Some(message) = &self.message {
                for line in &message.lines {
                    eprintln!("  {line}");
                }
            }
            self.figures.queue.clear();
            self.allow_close = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        if figure.plot.needs_sweep() && self.runs.sweep.is_none() {
            self.start(JobKind::Sweep, ctx);
            return;
        }
        if !figure.plot.needs_sweep() && self.runs.simulation.is_none() {
            self.start(JobKind::Simulate, ctx);
            return;
        }
        if !self.figures.shots.is_empty() {
            return;
        }
        if self.figures.frames == u32::MAX {
            // Its shot was taken: on to the next.
            eprintln!("{}", self.status);
            self.figures.queue.pop_front();
            self.figures.frames = 0;
            if self.figures.queue.is_empty() {
                self.results_view.only = None;
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            return;
        }
        self.results_view.only = Some(figure.plot);
        if figure.plot == PlotId::OverTime {
            self.results_view.over_time = figure.over_time.unwrap_or_default();
        }
        // A few frames for the layout and the plot bounds to settle.
        self.figures.frames += 1;
        if self.figures.frames >= 8 {
            self.figures.frames = u32::MAX;
            self.figures.shots.push((figure.plot, figure.path.clone()));
            ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::new(
                figure.plot,
            )));
        }
    }
}
