//! Files: native dialogs off the UI thread, loading in the background, the
//! recent-files list and the autosave used to recover after a crash.
//!
//! Dialogs go through [`Dialogs`], so tests script the paths a user would
//! pick instead of opening a native window.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};

use eframe::egui;

use crate::model::{self, ProjectFile};

/// Where paths come from when the user is asked for one.
#[derive(Clone)]
pub enum Dialogs {
    /// The platform's native dialogs (through the XDG portal on Linux).
    Native,
    /// Paths given in advance, one per question; `None` is a cancel. For tests.
    Scripted(Arc<Mutex<VecDeque<Option<PathBuf>>>>),
}

/// What a file question is for.
#[derive(Clone, Debug, PartialEq)]
pub enum Purpose {
    /// Open a project.
    Open,
    /// Build a project from a traces file.
    ImportTraces,
    /// Calibrate the scenario from a traces file.
    Calibrate,
    /// Save the project under a new name.
    SaveAs,
    /// Write exported results or a plot.
    Export(Export),
}

/// What is being exported.
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    /// Results in a format.
    Results(ExportFormat),
    /// A plot as PNG.
    Plot(super::plots::PlotId),
}

/// A question in flight and its eventual answer.
pub struct Pending {
    /// What the answer is for.
    pub purpose: Purpose,
    answer: Receiver<Option<PathBuf>>,
    asked: std::time::Instant,
}

/// An empty answer sooner than this after asking means no dialog appeared
/// (a desktop without an XDG portal answers at once); nobody cancels a
/// dialog that fast.
const NO_DIALOG: std::time::Duration = std::time::Duration::from_millis(400);

impl Pending {
    /// The answer, once the user has given one (`Some(None)` is a cancel).
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        match self.answer.try_recv() {
            Ok(answer) => Some(answer),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(None),
        }
    }

    /// Whether an answer came too soon after the question for a dialog to
    /// have been shown.
    pub fn answered_at_once(&self) -> bool {
        self.asked.elapsed() < NO_DIALOG
    }
}

impl Dialogs {
    /// Asks for a path for `purpose`, without blocking: a native dialog runs
    /// on its own thread and the answer arrives through [`Pending::poll`].
    pub fn ask(&self, purpose: Purpose, suggested: &str, ctx: &egui::Context) -> Pending {
        let (tx, answer) = std::sync::mpsc::sync_channel(1);
        match self {
            Self::Scripted(queue) => {
                let next = queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front()
                    .flatten();
                let _ = tx.send(next);
            }
            Self::Native => {
                let (purpose, suggested, ctx) =
                    (purpose.clone(), suggested.to_owned(), ctx.clone());
                let spawned = std::thread::Builder::new()
                    .name("file-dialog".into())
                    .spawn(move || native(&purpose, &suggested, &tx, &ctx));
                if spawned.is_err() {
                    // The receiver sees a disconnect, which reads as a cancel.
                }
            }
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "the GUI times how soon a dialog answers"
        )]
        let asked = std::time::Instant::now();
        Pending {
            purpose,
            answer,
            asked,
        }
    }
}

fn native(
    purpose: &Purpose,
    suggested: &str,
    tx: &SyncSender<Option<PathBuf>>,
    ctx: &egui::Context,
) {
    let dialog = rfd::FileDialog::new();
    let path = match purpose {
        Purpose::Open => dialog
            .add_filter("archbench project", &["ron"])
            .add_filter("all files", &["*"])
            .set_title("Open project")
            .pick_file(),
        Purpose::ImportTraces | Purpose::Calibrate => dialog
            .add_filter("traces (OTLP, Jaeger, Zipkin JSON)", &["json", "jsonl"])
            .add_filter("all files", &["*"])
            .set_title(if *purpose == Purpose::Calibrate {
                "Calibrate from traces"
            } else {
                "Import traces"
            })
            .pick_file(),
        Purpose::SaveAs => dialog
            .add_filter("archbench project", &["ron"])
            .set_title("Save project as")
            .set_file_name(suggested)
            .save_file(),
        Purpose::Export(Export::Results(format)) => dialog
            .add_filter(format.extension(), &[format.extension()])
            .set_title("Export results")
            .set_file_name(suggested)
            .save_file(),
        Purpose::Export(Export::Plot(_)) => dialog
            .add_filter("PNG image", &["png"])
            .set_title("Save plot as PNG")
            .set_file_name(suggested)
            .save_file(),
    };
    let _ = tx.send(path);
    ctx.request_repaint();
}

/// A file being read and checked in the background.
pub struct Loading {
    /// The file.
    pub path: PathBuf,
    result: Receiver<Result<ProjectFile, Vec<String>>>,
}

impl Loading {
    /// Starts reading `path` on a named thread.
    pub fn start(path: PathBuf, ctx: &egui::Context) -> Self {
        let (tx, result) = std::sync::mpsc::sync_channel(1);
        let (p, ctx) = (path.clone(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("open".into())
            .spawn(move || {
                let _ = tx.send(read_project(&p));
                ctx.request_repaint();
            });
        if spawned.is_err() {
            // Seen by `poll` as a disconnect.
        }
        Self { path, result }
    }

    /// The project, or every message saying why it cannot be opened.
    pub fn poll(&self) -> Option<Result<ProjectFile, Vec<String>>> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(vec![format!(
                "{}: could not start reading the file",
                self.path.display()
            )])),
        }
    }
}

/// Reads and validates a project; the errors name `file:line:column` or the
/// place in the project, as `archbench check` prints them.
pub fn read_project(path: &Path) -> Result<ProjectFile, Vec<String>> {
    model::file::load_valid(path).map_err(|e| e.lines())
}

/// Recent files kept.
const RECENT: usize = 10;

/// The app's own files: recent projects and the autosave.
#[derive(Clone, Debug)]
pub struct StateDir {
    dir: PathBuf,
}

/// The first line of an autosave names the file it belongs to.
const RECOVERY_MARK: &str = "// archbench autosave of:";

impl StateDir {
    /// The state folder at `dir` (created when first written).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `$XDG_STATE_HOME/archbench`, or `~/.local/state/archbench`, or a
    /// folder in the temporary directory when there is no home.
    pub fn default_location() -> Self {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state"))
            })
            .unwrap_or_else(std::env::temp_dir);
        Self::new(base.join("archbench"))
    }

    fn recent_file(&self) -> PathBuf {
        self.dir.join("recent.txt")
    }

    fn recovery_file(&self) -> PathBuf {
        self.dir.join("autosave.ron")
    }

    /// Recently opened or saved projects, newest first, that still exist.
    pub fn recent(&self) -> Vec<PathBuf> {
        std::fs::read_to_string(self.recent_file())
            .unwrap_or_default()
            .lines()
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .take(RECENT)
            .collect()
    }

    /// Puts `path` at the top of the recent list.
    pub fn remember(&self, path: &Path) -> std::io::Result<()> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let mut list = self.recent();
        list.retain(|p| p != &path);
        list.insert(0, path);
        list.truncate(RECENT);
        let text: String = list
            .iter()
            .map(|p| p.display().to_string() + "\n")
            .collect();
        std::fs::create_dir_all(&self.dir)?;
        model::file::write_atomically(&self.recent_file(), text.as_bytes())
    }

    /// Writes the autosave of unsaved work that belongs at `path`.
    pub fn autosave(&self, file: &ProjectFile, path: Option<&Path>) -> std::io::Result<()> {
        let body = model::file::to_text(&ProjectFile {
            header: String::new(),
            project: file.project.clone(),
        })
        .map_err(std::io::Error::other)?;
        let owner = path.map(|p| p.display().to_string()).unwrap_or_default();
        let text = format!("{RECOVERY_MARK} {owner}\n{}{body}", file.header);
        std::fs::create_dir_all(&self.dir)?;
        model::file::write_atomically(&self.recovery_file(), text.as_bytes())
    }

    /// Removes the autosave (after a save, or when the user discards it).
    pub fn clear_autosave(&self) {
        let _ = std::fs::remove_file(self.recovery_file());
    }

    /// Unsaved work left by a previous run that did not end cleanly: the
    /// project and the file it belongs to.
    pub fn recovery(&self) -> Option<(ProjectFile, Option<PathBuf>)> {
        let path = self.recovery_file();
        let mut file = model::file::load(&path).ok()?;
        let (first, rest) = file.header.split_once('\n')?;
        let owner = first.strip_prefix(RECOVERY_MARK)?.trim();
        let owner = (!owner.is_empty()).then(|| PathBuf::from(owner));
        file.header = rest.to_owned();
        Some((file, owner))
    }
}

/// How results are exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// The simulation report as CSV, one row per scenario and service.
    SimulationCsv,
    /// The simulation report as JSON.
    SimulationJson,
    /// The sweep report as CSV.
    SweepCsv,
    /// The sweep report as JSON.
    SweepJson,
}

impl ExportFormat {
    /// The report writers' format.
    pub fn output(self) -> crate::stats::OutputFormat {
        match self {
            Self::SimulationCsv | Self::SweepCsv => crate::stats::OutputFormat::Csv,
            Self::SimulationJson | Self::SweepJson => crate::stats::OutputFormat::Json,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::SimulationCsv | Self::SweepCsv => "csv",
            Self::SimulationJson | Self::SweepJson => "json",
        }
    }
}
