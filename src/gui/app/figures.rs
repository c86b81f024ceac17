//! `--figure`: run what each plot needs, show it alone, save it, close.

use eframe::egui::{self};

use crate::gui::jobs::JobKind;
use crate::gui::plots::PlotId;

use super::App;

impl App {
    /// Works through `--figure`: runs what each plot needs, shows it alone,
    /// saves it once it has settled, and closes the window after the last.
    pub(super) fn figures(&mut self, ctx: &egui::Context) {
        let Some(figure) = self.figures.front().cloned() else {
            return;
        };
        ctx.request_repaint();
        if self.job.is_some() || self.loading.is_some() {
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
            self.figures.clear();
            self.allow_close = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        if figure.plot.needs_sweep() && self.sweep.is_none() {
            self.start(JobKind::Sweep, ctx);
            return;
        }
        if !figure.plot.needs_sweep() && self.simulation.is_none() {
            self.start(JobKind::Simulate, ctx);
            return;
        }
        if !self.shots.is_empty() {
            return;
        }
        if self.figure_frames == u32::MAX {
            // Its shot was taken: on to the next.
            eprintln!("{}", self.status);
            self.figures.pop_front();
            self.figure_frames = 0;
            if self.figures.is_empty() {
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
        self.figure_frames += 1;
        if self.figure_frames >= 8 {
            self.figure_frames = u32::MAX;
            self.shots.push((figure.plot, figure.path.clone()));
            ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::new(
                figure.plot,
            )));
        }
    }
}
