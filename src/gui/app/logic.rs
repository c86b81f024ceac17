//! The frame's logic before drawing: finished runs, answered dialogs,
//! loaded files, screenshots, autosave and close requests.

use std::path::{Path, PathBuf};
use std::time::Instant;

use eframe::egui::{self};

use crate::model::{self};
use crate::stats::{write_report, write_sweep};

use crate::gui::command::{Command, ExportFormat};
use crate::gui::document::Document;
use crate::gui::files::{Export, Purpose};
use crate::gui::jobs::Outcome;
use crate::gui::panels::results::Computed;
use crate::gui::plots::Curves;
use crate::gui::plots::PlotId;

use super::{App, Discarding, Message};

impl App {
    /// Recomputes the latency lines after a simulation or a measurement.
    pub(super) fn refresh_curves(&mut self) {
        let mut curves = self.simulation().map(Curves::of);
        if let Some(measured) = &self.runs.measured {
            curves
                .get_or_insert_with(|| Curves::of_histograms(&[]))
                .add_measured(self.measured_label(), &measured.latency);
        }
        self.runs.curves = curves;
    }

    /// What the measurement is called in plots and tables.
    pub(super) fn measured_label(&self) -> &'static str {
        if self.runs.emulated.is_some() {
            "measured (emulated)"
        } else {
            "measured (live)"
        }
    }

    pub(super) fn refresh_problems(&mut self) {
        if self.problems_revision != Some(self.doc.revision()) {
            self.problems = model::validate(self.doc.project());
            self.problems_revision = Some(self.doc.revision());
        }
    }

    /// Background work: finished runs, answered dialogs, loaded files,
    /// screenshots for PNG export.
    pub(super) fn poll(&mut self, ctx: &egui::Context) {
        if let Some(job) = &self.runs.job
            && let Some(result) = job.poll()
        {
            let (kind, revision, elapsed) = (job.kind(), job.revision(), job.elapsed());
            self.runs.job = None;
            match result {
                Ok(Outcome::Simulation(report)) => {
                    self.status = format!("simulated in {:.1} s", elapsed.as_secs_f64());
                    self.runs.simulation = Some(Computed { report, revision });
                    self.refresh_curves();
                }
                Ok(Outcome::Sweep(report)) => {
                    self.status = format!("swept in {:.1} s", elapsed.as_secs_f64());
                    self.runs.sweep = Some(Computed { report, revision });
                    self.results_view.reveal = Some(PlotId::LatencyCurve);
                }
                Err(crate::sim::SimError::Cancelled) => {
                    self.status = format!("{kind:?} cancelled").to_lowercase();
                }
                Err(error) => {
                    self.message = Some(Message {
                        title: format!("{kind:?} failed"),
                        lines: error.to_string().lines().map(str::to_owned).collect(),
                    });
                }
            }
        }
        self.poll_traces();
        if let Some(question) = &self.files.question
            && let Some(answer) = question.poll()
        {
            let purpose = question.purpose.clone();
            let at_once = question.answered_at_once();
            self.files.question = None;
            if let Some(path) = answer {
                self.files.unanswered = None;
                self.answered(&purpose, path, ctx);
            } else if at_once && let Some((purpose, suggested)) = self.files.unanswered.take() {
                // No dialog appeared (no XDG portal): browse in the app.
                self.status = "no file dialog appeared: choose the file here".into();
                self.browse(purpose, &suggested);
            } else {
                self.status = "no file chosen".into();
            }
        }
        if let Some(loading) = &self.files.loading
            && let Some(result) = loading.poll()
        {
            let path = loading.path.clone();
            self.files.loading = None;
            match result {
                Ok(file) => {
                    let _ = self.files.state.remember(&path);
                    self.files.recent = self.files.state.recent();
                    self.status = format!("opened {}", path.display());
                    self.replace(Document::new(file, Some(path)));
                    self.files.state.clear_autosave();
                }
                Err(lines) => {
                    self.status = "the file was not opened; your project is unchanged".into();
                    self.message = Some(Message {
                        title: format!("Cannot open {}", path.display()),
                        lines,
                    });
                }
            }
        }
        if !self.figures.shots.is_empty() {
            let shots: Vec<(egui::UserData, std::sync::Arc<egui::ColorImage>)> = ctx.input(|i| {
                i.raw
                    .events
                    .iter()
                    .filter_map(|e| match e {
                        egui::Event::Screenshot {
                            user_data, image, ..
                        } => Some((user_data.clone(), image.clone())),
                        _ => None,
                    })
                    .collect()
            });
            for (user_data, image) in shots {
                let Some(&id) = user_data
                    .data
                    .as_ref()
                    .and_then(|d| d.downcast_ref::<PlotId>())
                else {
                    continue;
                };
                if let Some(at) = self.figures.shots.iter().position(|(i, _)| *i == id) {
                    let (_, path) = self.figures.shots.remove(at);
                    let rect = self.results_view.rects.get(&id).copied();
                    let ppp = ctx.pixels_per_point();
                    self.status = match rect
                        .ok_or_else(|| "the plot is not on screen".to_owned())
                        .and_then(|r| crate::gui::png::write_region(&image, r, ppp, &path))
                    {
                        Ok(()) => format!("saved {}", path.display()),
                        Err(e) => format!("cannot save the plot: {e}"),
                    };
                }
            }
        }
    }

    pub(super) fn answered(&mut self, purpose: &Purpose, path: PathBuf, ctx: &egui::Context) {
        match purpose {
            Purpose::Open => self.open(path, ctx),
            Purpose::ImportTraces => self.import_traces(&path, ctx),
            Purpose::Calibrate => self.calibrate_from(&path, ctx),
            Purpose::SaveAs => {
                self.save_to(path);
                if !self.doc.is_dirty()
                    && let Some(action) = self.files.after_save.take()
                {
                    self.proceed(action, ctx);
                }
            }
            Purpose::Export(Export::Results(format)) => {
                self.status = match self.export(*format, &path) {
                    Ok(()) => format!("exported {}", path.display()),
                    Err(e) => format!("cannot export: {e}"),
                };
            }
            Purpose::Export(Export::Plot(id)) => {
                self.figures.shots.push((*id, path));
                ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::new(*id)));
            }
        }
    }

    pub(super) fn export(&self, format: ExportFormat, path: &Path) -> Result<(), String> {
        let mut bytes = Vec::new();
        let written = match format {
            ExportFormat::SimulationCsv | ExportFormat::SimulationJson => {
                let report = self.simulation().ok_or("no simulation to export")?;
                write_report(report, format.output(), &mut bytes)
            }
            ExportFormat::SweepCsv | ExportFormat::SweepJson => {
                let report = self.sweep().ok_or("no sweep to export")?;
                write_sweep(report, format.output(), &mut bytes)
            }
        };
        written.map_err(|e| e.to_string())?;
        model::file::write_atomically(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes unsaved work to the autosave every so often.
    pub(super) fn autosave(&mut self) {
        let revision = self.doc.revision();
        if !self.doc.is_dirty() || self.files.autosaved.0 == revision {
            return;
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "autosave paces itself by the wall clock"
        )]
        let now = Instant::now();
        match self.files.autosaved.1 {
            None => {
                // The first change starts the clock.
                self.files.autosaved.1 = Some(now);
                return;
            }
            Some(since) if now.duration_since(since) < self.files.autosave_every => return,
            Some(_) => {}
        }
        if self
            .files
            .state
            .autosave(self.doc.file(), self.doc.path())
            .is_ok()
        {
            self.files.autosaved = (revision, Some(now));
        }
    }

    pub(super) fn close_requested(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && !self.allow_close {
            if self.doc.is_dirty() {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.files.discarding = Some(Discarding::Quit);
            } else {
                self.files.state.clear_autosave();
            }
        }
    }

    pub(super) fn dropped_files(ctx: &egui::Context, commands: &mut Vec<Command>) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            commands.push(Command::OpenPath(path));
        }
    }
}
