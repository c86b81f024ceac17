//! File → Import traces… and Calibrate from traces…: a project built from
//! a traces file, or the scenario's measured figures updated from one.

use std::path::Path;

use crate::gui::document::Document;
use crate::gui::edit::Edit;
use crate::model::ProjectFile;
use crate::model::traces::{self, Calibration, ImportOptions};

use super::{App, Message};

impl App {
    /// Opens the project built from `path` as a new, unsaved document.
    pub(super) fn import_traces(&mut self, path: &Path) {
        match traces::import_files(&[path.to_owned()], &ImportOptions::default()) {
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

    /// Calibrates the scenario on the canvas from `path`, as one undo
    /// step, and shows what changed.
    pub(super) fn calibrate_from(&mut self, path: &Path) {
        let (import, _) = match traces::import_files(&[path.to_owned()], &ImportOptions::default())
        {
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
