//! The app: its state, the frame's logic (background work, autosave, the
//! title), the frame's drawing, and the one place commands are applied.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self};

use crate::model::{self, Problem, Project, ProjectFile};
use crate::stats::{SimulationReport, SweepReport};

use super::command::Edit;
use super::document::Document;
use super::editor::Canvas;
use super::files::{Dialogs, Loading, Pending, Purpose, StateDir};
use super::jobs::{Job, JobKind};
use super::panels::fields::Buffers;
use super::panels::results::{Computed, ResultsView};
use super::plots::Curves;
use super::plots::{Figure, PlotId};
use super::selection::Selection;
use super::{EXAMPLE, EXAMPLE_NAME};

mod commands;
mod draw;
mod figures;
mod logic;
mod modals;
mod traces;

/// How the app starts.
pub struct AppOptions {
    /// A project file to open instead of the bundled example.
    pub open: Option<PathBuf>,
    /// Where recent files and the autosave live.
    pub state: StateDir,
    /// Native dialogs, or scripted answers for tests.
    pub dialogs: Dialogs,
    /// How often unsaved work is written to the autosave.
    pub autosave_every: Duration,
    /// Start a simulation as soon as the window opens.
    pub simulate_at_start: bool,
    /// Plots to save as PNG, after which the app closes.
    pub figures: Vec<Figure>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            open: None,
            state: StateDir::default_location(),
            dialogs: Dialogs::Native,
            autosave_every: Duration::from_secs(10),
            simulate_at_start: false,
            figures: Vec::new(),
        }
    }
}

/// Something the user asked for that would discard unsaved work, held
/// until they say what to do with it.
#[derive(Clone, Debug)]
enum Discarding {
    New,
    Open,
    OpenPath(PathBuf),
    Example(usize),
    ImportTraces,
    Quit,
}

/// A message in a window of its own, such as why a file did not open.
struct Message {
    title: String,
    lines: Vec<String>,
}

/// Where the side and bottom panels were drawn last frame.
#[derive(Clone, Copy, Debug)]
pub struct Panels {
    /// The inspector on the right.
    pub inspector: egui::Rect,
    /// The results at the bottom.
    pub results: egui::Rect,
}

/// The archbench desktop app.
pub struct App {
    doc: Document,
    /// The scenario on the canvas, what is selected there, the canvas's
    /// view, and the text being typed in the inspector.
    scenario: usize,
    selection: Selection,
    canvas: Canvas,
    buffers: Buffers,
    /// The scenario being renamed in its tab.
    renaming: bool,
    /// Validation problems, as of a document revision.
    problems: Vec<Problem>,
    problems_revision: Option<u64>,
    files: FileFlow,
    runs: Runs,
    figures: FigureExport,
    results_view: ResultsView,
    /// Where the side and bottom panels were drawn last frame.
    panels: Panels,
    message: Option<Message>,
    /// A traces file being read, for Import traces… or Calibrate.
    traces: Option<traces::TracesRun>,
    /// "Find service", while open.
    find: Option<super::panels::find::Find>,
    status: String,
    /// The window title as last sent.
    title: String,
    /// Close without asking: the user chose to, or `--figure` is done.
    allow_close: bool,
}

/// Opening and saving, the questions around them, and the autosave.
struct FileFlow {
    dialogs: Dialogs,
    question: Option<Pending>,
    /// The question the last dialog left unanswered, and its suggested name.
    unanswered: Option<(Purpose, String)>,
    /// The in-app file browser, for desktops where no native dialog
    /// appears, and the question it answers.
    browser: Option<(Purpose, Box<egui_file_dialog::FileDialog>)>,
    loading: Option<Loading>,
    state: StateDir,
    recent: Vec<PathBuf>,
    recovery: Option<(ProjectFile, Option<PathBuf>)>,
    discarding: Option<Discarding>,
    /// Run after the save the user chose in the discard prompt.
    after_save: Option<Discarding>,
    autosave_every: Duration,
    autosaved: (u64, Option<Instant>),
}

/// Background runs and what they produced.
struct Runs {
    job: Option<Job>,
    simulation: Option<Computed<SimulationReport>>,
    /// The last live measurement (feature `loadgen`).
    measured: Option<crate::stats::LoadReport>,
    /// The document revision when it was measured.
    measured_revision: u64,
    /// The scenario it measured, when it was emulated here.
    emulated: Option<String>,
    /// Latency lines of the simulation and the measurement.
    curves: Option<Curves>,
    #[cfg(feature = "loadgen")]
    live: super::panels::live::LivePanel,
    sweep: Option<Computed<SweepReport>>,
    simulate_at_start: bool,
}

/// Plots saved as PNG: from File ▸ Export, and the `--figure` queue.
struct FigureExport {
    /// Plots waiting for a screenshot, and where to write them.
    shots: Vec<(PlotId, PathBuf)>,
    /// `--figure` plots still to save.
    queue: std::collections::VecDeque<Figure>,
    /// Frames drawn for the first in the queue (`u32::MAX` once shot).
    frames: u32,
}

impl App {
    /// The app with the bundled example, or the file in `options`.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let mut app = Self::headless(options);
        if let Some(path) = app.doc.path().map(Path::to_path_buf)
            && app.message.is_none()
        {
            app.status = format!("opened {}", path.display());
        }
        cc.egui_ctx.set_theme(egui::Theme::Dark);
        app
    }

    /// The app without a window, for tests and benchmarks.
    pub fn headless(options: AppOptions) -> Self {
        let AppOptions {
            open,
            state,
            dialogs,
            autosave_every,
            simulate_at_start,
            figures,
        } = options;
        let example = || {
            let file = model::file::parse(EXAMPLE, Path::new(EXAMPLE_NAME)).unwrap_or_else(|_| {
                ProjectFile {
                    header: String::new(),
                    project: blank_project(),
                }
            });
            Document::new(file, None)
        };
        let mut message = None;
        let doc = match open {
            None => example(),
            Some(path) => match super::files::read_project(&path) {
                Ok(file) => {
                    let _ = state.remember(&path);
                    Document::new(file, Some(path))
                }
                Err(lines) => {
                    message = Some(Message {
                        title: format!("Cannot open {}", path.display()),
                        lines,
                    });
                    example()
                }
            },
        };
        let recovery = state.recovery();
        let recent = state.recent();
        Self {
            doc,
            scenario: 0,
            selection: Selection::None,
            canvas: Canvas::default(),
            buffers: Buffers::default(),
            renaming: false,
            problems: Vec::new(),
            problems_revision: None,
            files: FileFlow {
                dialogs,
                question: None,
                unanswered: None,
                browser: None,
                loading: None,
                state,
                recent,
                recovery,
                discarding: None,
                after_save: None,
                autosave_every,
                autosaved: (0, None),
            },
            runs: Runs {
                job: None,
                simulation: None,
                measured: None,
                measured_revision: 0,
                emulated: None,
                curves: None,
                #[cfg(feature = "loadgen")]
                live: super::panels::live::LivePanel::default(),
                sweep: None,
                simulate_at_start,
            },
            figures: FigureExport {
                shots: Vec::new(),
                queue: figures.into(),
                frames: 0,
            },
            results_view: ResultsView::default(),
            panels: Panels {
                inspector: egui::Rect::NOTHING,
                results: egui::Rect::NOTHING,
            },
            message,
            traces: None,
            find: None,
            status: String::new(),
            title: String::new(),
            allow_close: false,
        }
    }

    /// The project being edited.
    pub fn project(&self) -> &Project {
        self.doc.project()
    }

    /// The document: project, path, undo and dirty state.
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// The last simulation's report.
    pub fn simulation(&self) -> Option<&SimulationReport> {
        self.runs.simulation.as_ref().map(|c| &c.report)
    }

    /// The last sweep's report.
    pub fn sweep(&self) -> Option<&SweepReport> {
        self.runs.sweep.as_ref().map(|c| &c.report)
    }

    /// Where `plot` was drawn last frame, in points: the region its PNG
    /// export crops from the window.
    pub fn plot_rect(&self, plot: PlotId) -> Option<egui::Rect> {
        self.results_view.rects.get(&plot).copied()
    }

    /// Whether a simulation or sweep is running.
    pub fn is_running(&self) -> bool {
        self.runs.job.is_some()
    }

    /// The canvas: its view and where it drew each node.
    pub fn canvas(&self) -> &Canvas {
        &self.canvas
    }

    /// The figure the over-time card shows.
    pub fn results_view_over_time(&self) -> super::plots::OverTime {
        self.results_view.over_time
    }

    /// Where the inspector and results panels were drawn last frame.
    pub fn panels(&self) -> Panels {
        self.panels
    }

    /// Where each result card, and the percentile table, were drawn last
    /// frame.
    pub fn card_rects(&self) -> Vec<egui::Rect> {
        let mut rects: Vec<egui::Rect> = self.results_view.rects.values().copied().collect();
        rects.extend(self.results_view.table);
        rects
    }

    /// The status line's text.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The scenario on the canvas.
    pub fn scenario(&self) -> usize {
        self.scenario
    }

    /// What is selected.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// The title the window shows: project, file, and `•` when unsaved.
    pub fn window_title(&self) -> String {
        let dirty = if self.doc.is_dirty() { " •" } else { "" };
        format!("{}{dirty} — archbench", self.doc.title())
    }

    /// Whether a live load test is running.
    #[cfg(feature = "loadgen")]
    pub fn is_live_running(&self) -> bool {
        self.runs.live.is_running()
    }

    /// The last live measurement.
    pub fn measured(&self) -> Option<&crate::stats::LoadReport> {
        self.runs.measured.as_ref()
    }

    /// Writes the autosave now (tests use this to simulate a crash).
    pub fn autosave_now(&mut self) -> std::io::Result<()> {
        self.files.state.autosave(self.doc.file(), self.doc.path())
    }
}

/// A project with one small scenario, for File ▸ New.
fn blank_project() -> Project {
    use crate::model::{ArrivalProcess, Arrivals, RequestClass, RunSettings, Workload};
    let mut project = Project {
        format: model::FORMAT_VERSION,
        name: "untitled".into(),
        description: String::new(),
        workload: Workload {
            arrivals: Arrivals::Open {
                process: ArrivalProcess::Poisson,
                rate_rps: 100.0,
                profile: Vec::new(),
            },
            classes: vec![RequestClass {
                name: "requests".into(),
                weight: 1.0,
                entry: "gateway".into(),
                tokens: None,
            }],
        },
        run: RunSettings::default(),
        objectives: Vec::new(),
        goodput_share: crate::model::GOODPUT_SHARE,
        scenarios: Vec::new(),
    };
    Edit::AddScenario.apply(&mut project);
    if let Some(first) = project.scenarios.first_mut() {
        "baseline".clone_into(&mut first.name);
    }
    project
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        #[cfg(feature = "loadgen")]
        if let Some((report, emulated)) = self.runs.live.logic(ctx) {
            self.status = format!(
                "measured {} requests at {:.0} req/s{}",
                report.requests,
                report.throughput_rps,
                emulated.as_ref().map_or_else(String::new, |e| format!(
                    " (scenario \"{}\" emulated)",
                    e.scenario
                ))
            );
            self.runs.emulated = emulated.map(|e| e.scenario);
            self.runs.measured = Some(report);
            self.runs.measured_revision = self.doc.revision();
            self.refresh_curves();
        }
        if std::mem::take(&mut self.runs.simulate_at_start) {
            self.start(JobKind::Simulate, ctx);
        }
        self.poll(ctx);
        self.advance_figures(ctx);
        self.close_requested(ctx);
        self.autosave();
        self.refresh_problems();
        let title = self.window_title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }
}
