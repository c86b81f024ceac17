//! File → Import traces… and Calibrate from traces…: a project built from
//! a traces file, or the scenario's measured figures updated from one. The
//! file is read on a background thread (a large one takes seconds), behind
//! a modal window with its progress and a Cancel button, so the window
//! stays live and nothing is edited meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::gui::command::Command;
use crate::gui::document::Document;
use crate::gui::edit::Edit;
use crate::model::ProjectFile;
use crate::model::traces::{self, Calibration, Import, ImportError, ImportOptions, Watch};

use super::{App, Message};

/// What a traces file is read for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TracesPurpose {
    /// File → Import traces….
    Import,
    /// File → Calibrate from traces….
    Calibrate,
}

type Imported = Result<(Import, Vec<String>), ImportError>;

/// A traces file being read on a background thread.
pub(super) struct TracesRun {
    purpose: TracesPurpose,
    path: PathBuf,
    /// The file's size, for the progress bar.
    size: u64,
    watch: Arc<Watch>,
    started: Instant,
    result: Receiver<Imported>,
}

impl TracesRun {
    fn start(purpose: TracesPurpose, path: &Path, ctx: &egui::Context) -> Self {
        let watch = Arc::new(Watch::default());
        let (tx, result) = std::sync::mpsc::sync_channel(1);
        let (w, p, ctx) = (Arc::clone(&watch), path.to_owned(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("traces".into())
            .spawn(move || {
                let _ = tx.send(traces::import_watched(
                    std::slice::from_ref(&p),
                    &ImportOptions::default(),
                    &w,
                ));
                ctx.request_repaint();
            });
        if spawned.is_err() {
            // Seen by `poll` as a disconnect.
        }
        Self {
            purpose,
            path: path.to_owned(),
            size: std::fs::metadata(path).map_or(0, |m| m.len()),
            watch,
            #[expect(clippy::disallowed_methods, reason = "the GUI shows elapsed time")]
            started: Instant::now(),
            result,
        }
    }

    fn poll(&self) -> Option<Imported> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(ImportError::Cancelled)),
        }
    }

    /// Asks the reading thread to stop.
    pub(super) fn cancel(&self) {
        self.watch.cancel();
    }
}

impl App {
    /// Starts reading `path` to open the project built from it as a new,
    /// unsaved document.
    pub(super) fn import_traces(&mut self, path: &Path, ctx: &egui::Context) {
        self.traces = Some(TracesRun::start(TracesPurpose::Import, path, ctx));
    }

    /// Starts reading `path` to calibrate the scenario on the canvas from it.
    pub(super) fn calibrate_from(&mut self, path: &Path, ctx: &egui::Context) {
        self.traces = Some(TracesRun::start(TracesPurpose::Calibrate, path, ctx));
    }

    /// A finished read: its project opened, or its calibration applied.
    pub(super) fn poll_traces(&mut self) {
        let Some(run) = &self.traces else {
            return;
        };
        let Some(result) = run.poll() else {
            return;
        };
        let (purpose, path) = (run.purpose, run.path.clone());
        self.traces = None;
        match (purpose, result) {
            (_, Err(ImportError::Cancelled)) => {
                self.status = format!("reading {} cancelled", path.display());
            }
            (TracesPurpose::Import, result) => self.imported(&path, result),
            (TracesPurpose::Calibrate, result) => self.calibrated(&path, result),
        }
    }

    /// The modal window of a read in progress.
    pub(super) fn traces_ui(&self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(run) = &self.traces else {
            return;
        };
        ctx.request_repaint_after(Duration::from_millis(100));
        egui::Modal::new(egui::Id::new("reading traces")).show(ctx, |ui| {
            ui.heading(match run.purpose {
                TracesPurpose::Import => "Importing traces",
                TracesPurpose::Calibrate => "Calibrating from traces",
            });
            ui.label(run.path.display().to_string());
            let read = run.watch.bytes();
            #[expect(clippy::cast_possible_truncation, reason = "a fraction for display")]
            let fraction = (read as f64 / run.size.max(1) as f64).min(1.0) as f32;
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(320.0)
                    .show_percentage(),
            );
            ui.label(format!(
                "{:.0} of {:.0} MB · {:.1} s",
                read as f64 / 1e6,
                run.size as f64 / 1e6,
                run.started.elapsed().as_secs_f64()
            ));
            if ui.button("Cancel").clicked() {
                commands.push(Command::Cancel);
            }
        });
    }

    fn imported(&mut self, path: &Path, result: Imported) {
        match result {
            Ok((import, sources)) => {
                let services = import.project.scenarios[0].services.len();
                let file = ProjectFile {
                    header: import.header(&sources),
                    project: import.project,
                };
                self.replace(Document::unsaved(file));
                self.status = format!(
                    "imported {services} services from {} spans of {} (not saved yet)",
                    import.spans,
                    path.display()
                );
            }
            Err(error) => self.cannot("Cannot import traces", &error),
        }
    }

    /// Calibrates the scenario on the canvas from what was read of `path`,
    /// as one undo step, and shows what changed.
    fn calibrated(&mut self, path: &Path, result: Imported) {
        let (import, _) = match result {
            Ok(done) => done,
            Err(error) => return self.cannot("Cannot calibrate from traces", &error),
        };
        let scenario = self.scenario;
        let mut project = self.doc.project().clone();
        let calibration = traces::calibrate(&mut project, scenario, &import);
        let changed = calibration.changes.len();
        if let Some(calibrated) = project.scenarios.into_iter().nth(scenario) {
            self.edit(&Edit::Calibrate(scenario, Box::new(calibrated)));
        }
        self.status = format!(
            "calibrated from {}: {changed} fields changed (Undo reverts them)",
            path.display()
        );
        self.message = Some(Message {
            title: "Calibrated from traces".into(),
            lines: lines(&calibration),
        });
    }

    fn cannot(&mut self, title: &str, error: &dyn std::fmt::Display) {
        self.status = format!("{error}");
        self.message = Some(Message {
            title: title.into(),
            lines: error.to_string().lines().map(str::to_owned).collect(),
        });
    }
}

/// The changes in words, one a line.
fn lines(calibration: &Calibration) -> Vec<String> {
    let mut lines = vec![format!("{} fields changed", calibration.changes.len())];
    for change in &calibration.changes {
        let mean = change
            .mean_change
            .map(|m| format!(" (mean {:+.1}%)", m * 100.0))
            .unwrap_or_default();
        lines.push(format!(
            "{} {}: {} -> {}{mean}, {} samples",
            change.place,
            change.field,
            traces::clipped(&change.old, 40),
            traces::clipped(&change.new, 40),
            change.samples
        ));
    }
    for (list, what) in [
        (&calibration.services_not_traced, "not in the traces"),
        (
            &calibration.services_not_modelled,
            "in the traces, not in the model",
        ),
        (&calibration.links_not_traced, "calls not in the traces"),
        (
            &calibration.links_not_modelled,
            "calls in the traces, not in the model",
        ),
    ] {
        if !list.is_empty() {
            lines.push(format!("{what}: {}", list.join(", ")));
        }
    }
    lines
}
