//! The app: its state, the frame's logic (background work, autosave, the
//! title), the frame's drawing, and the one place commands are applied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use crate::model::{self, Problem, Project, ProjectFile};
use crate::stats::{SimulationReport, SweepReport, write_report, write_sweep};

use super::command::{Command, Edit, ExportFormat};
use super::document::Document;
use super::editor::{self, Canvas, Overlay};
use super::files::{Dialogs, Export, Loading, Pending, Purpose, StateDir};
use super::jobs::{Job, JobKind, Outcome};
use super::panels::fields::Buffers;
use super::panels::results::{Computed, ResultsView, Shown};
use super::panels::{inspector, palette, results, scenarios, toolbar};
use super::plots::Curves;
use super::plots::{Figure, PlotId};
use super::selection::Selection;
use super::{EXAMPLE, EXAMPLE_NAME};

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
    panels: Panels,
    doc: Document,
    scenario: usize,
    selection: Selection,
    canvas: Canvas,
    buffers: Buffers,
    problems: Vec<Problem>,
    problems_revision: Option<u64>,
    renaming: bool,
    job: Option<Job>,
    simulation: Option<Computed<SimulationReport>>,
    /// The last live measurement (feature `loadgen`).
    measured: Option<crate::stats::LoadReport>,
    /// The document revision when it was measured.
    measured_revision: u64,
    /// Latency lines of the simulation and the measurement.
    curves: Option<Curves>,
    #[cfg(feature = "loadgen")]
    live: super::panels::live::LivePanel,
    sweep: Option<Computed<SweepReport>>,
    results_view: ResultsView,
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
    message: Option<Message>,
    status: String,
    title: String,
    autosave_every: Duration,
    autosaved: (u64, Option<Instant>),
    /// Plots waiting for a screenshot, and where to write them.
    shots: Vec<(PlotId, PathBuf)>,
    allow_close: bool,
    simulate_at_start: bool,
    /// `--figure` plots still to save, and frames drawn for the first.
    figures: std::collections::VecDeque<Figure>,
    figure_frames: u32,
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
            panels: Panels {
                inspector: egui::Rect::NOTHING,
                results: egui::Rect::NOTHING,
            },
            buffers: Buffers::default(),
            problems: Vec::new(),
            problems_revision: None,
            renaming: false,
            job: None,
            simulation: None,
            measured: None,
            measured_revision: 0,
            curves: None,
            #[cfg(feature = "loadgen")]
            live: super::panels::live::LivePanel::default(),
            sweep: None,
            results_view: ResultsView::default(),
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
            message,
            status: String::new(),
            title: String::new(),
            autosave_every,
            autosaved: (0, None),
            shots: Vec::new(),
            allow_close: false,
            simulate_at_start,
            figures: figures.into(),
            figure_frames: 0,
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
        self.simulation.as_ref().map(|c| &c.report)
    }

    /// The last sweep's report.
    pub fn sweep(&self) -> Option<&SweepReport> {
        self.sweep.as_ref().map(|c| &c.report)
    }

    /// Where `plot` was drawn last frame, in points: the region its PNG
    /// export crops from the window.
    pub fn plot_rect(&self, plot: PlotId) -> Option<egui::Rect> {
        self.results_view.rects.get(&plot).copied()
    }

    /// Whether a simulation or sweep is running.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
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

    /// Applies `command` as if the UI had pushed it.
    pub fn execute(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::Edit(edit) => self.edit(&edit),
            Command::Undo => {
                if let Some(label) = self.doc.undo() {
                    self.status = format!("undid {label}");
                    self.after_change();
                }
            }
            Command::Redo => {
                if let Some(label) = self.doc.redo() {
                    self.status = format!("redid {label}");
                    self.after_change();
                }
            }
            Command::New => self.discard_then(Discarding::New, ctx),
            Command::Open => self.discard_then(Discarding::Open, ctx),
            Command::OpenPath(path) => self.discard_then(Discarding::OpenPath(path), ctx),
            Command::Quit => self.discard_then(Discarding::Quit, ctx),
            Command::Save => self.save(ctx),
            Command::SaveAs => self.ask(Purpose::SaveAs, ctx),
            Command::Simulate => self.start(JobKind::Simulate, ctx),
            Command::Sweep => self.start(JobKind::Sweep, ctx),
            Command::Browse => {
                if let Some((purpose, suggested)) = self.unanswered.take() {
                    self.browse(purpose, &suggested);
                }
            }
            Command::ShowLive => {
                #[cfg(feature = "loadgen")]
                {
                    self.live.open = true;
                }
                #[cfg(not(feature = "loadgen"))]
                {
                    self.status = "this build has no load generator (feature `loadgen`)".into();
                }
            }
            Command::Cancel => {
                if let Some(job) = &self.job {
                    job.cancel();
                }
            }
            Command::ShowScenario(index) => {
                let index = index.min(self.doc.project().scenarios.len().saturating_sub(1));
                if index != self.scenario {
                    self.scenario = index;
                    self.selection = Selection::None;
                    self.renaming = false;
                }
            }
            Command::SelectServices(names) => {
                self.selection = if names.is_empty() {
                    Selection::None
                } else {
                    Selection::Services(names)
                };
            }
            Command::SelectLink(index) => self.selection = Selection::Link(index),
            Command::Notify(message) => self.status = message,
            Command::OpenExample(index) => self.discard_then(Discarding::Example(index), ctx),
            Command::FitView => self.canvas.fit(),
            Command::ExportResults(format) => {
                let stem = if matches!(format, ExportFormat::SweepCsv | ExportFormat::SweepJson) {
                    "sweep"
                } else {
                    "results"
                };
                self.ask_named(
                    Purpose::Export(Export::Results(format)),
                    &format!("{stem}.{}", format.extension()),
                    ctx,
                );
            }
            Command::ExportPlot(id) => self.ask_named(
                Purpose::Export(Export::Plot(id)),
                &format!("{}.png", id.stem()),
                ctx,
            ),
            Command::Recover => {
                if let Some((file, path)) = self.recovery.take() {
                    self.replace(Document::recovered(file, path));
                    self.status = "restored unsaved work".into();
                }
            }
            Command::DiscardRecovery => {
                self.recovery = None;
                self.state.clear_autosave();
            }
        }
    }

    fn edit(&mut self, edit: &Edit) {
        if self.doc.apply(edit) {
            if let Edit::AddService { scenario, .. } | Edit::AddWired { scenario, .. } = edit
                && let Some(added) = self.doc.project().scenarios[*scenario].services.last()
            {
                self.selection = Selection::Services(vec![added.name.clone()]);
            }
            if let Edit::DuplicateServices { scenario, names } = edit {
                let services = &self.doc.project().scenarios[*scenario].services;
                let copies = services[services.len().saturating_sub(names.len())..]
                    .iter()
                    .map(|s| s.name.clone())
                    .collect();
                self.selection = Selection::Services(copies);
            }
            if let Edit::SetService {
                scenario, index, ..
            } = edit
                && let Selection::Services(names) = &mut self.selection
                && names.len() == 1
                && let Some(service) = self.doc.project().scenarios[*scenario].services.get(*index)
            {
                // Follow a rename.
                names[0].clone_from(&service.name);
            }
            self.after_change();
        }
    }

    /// Keeps the view consistent with a changed project.
    fn after_change(&mut self) {
        let project = self.doc.project();
        self.scenario = self.scenario.min(project.scenarios.len().saturating_sub(1));
        let scenario = &project.scenarios[self.scenario];
        match &mut self.selection {
            Selection::Services(names) => {
                names.retain(|n| scenario.service_index(n).is_some());
                if names.is_empty() {
                    self.selection = Selection::None;
                }
            }
            Selection::Link(index) if *index >= scenario.links.len() => {
                self.selection = Selection::None;
            }
            _ => {}
        }
    }

    fn replace(&mut self, doc: Document) {
        self.doc = doc;
        self.scenario = 0;
        self.selection = Selection::None;
        self.buffers.clear();
        self.canvas = Canvas::default();
        self.simulation = None;
        self.measured = None;
        self.curves = None;
        #[cfg(feature = "loadgen")]
        self.live.forget_project();
        self.sweep = None;
        self.renaming = false;
        if let Some(job) = self.job.take() {
            job.cancel();
        }
    }

    /// Runs `action` now if nothing unsaved would be lost; otherwise asks.
    fn discard_then(&mut self, action: Discarding, ctx: &egui::Context) {
        if self.doc.is_dirty() {
            self.discarding = Some(action);
        } else {
            self.proceed(action, ctx);
        }
    }

    fn proceed(&mut self, action: Discarding, ctx: &egui::Context) {
        match action {
            Discarding::New => {
                self.replace(Document::new(
                    ProjectFile {
                        header: String::new(),
                        project: blank_project(),
                    },
                    None,
                ));
                self.state.clear_autosave();
                self.status = "new project".into();
            }
            Discarding::Open => self.ask(Purpose::Open, ctx),
            Discarding::OpenPath(path) => self.open(path, ctx),
            Discarding::Example(index) => {
                let Some((name, text)) = super::EXAMPLES.get(index) else {
                    return;
                };
                match model::file::parse(text, Path::new(name)) {
                    Ok(file) => {
                        self.replace(Document::new(file, None));
                        self.status = format!(
                            "opened the example {name} (untitled: Save as to keep changes)"
                        );
                    }
                    Err(error) => self.status = format!("{error:#}"),
                }
            }
            Discarding::Quit => {
                self.allow_close = true;
                self.state.clear_autosave();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    fn open(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.status = format!("opening {}…", path.display());
        self.loading = Some(Loading::start(path, ctx));
    }

    fn ask(&mut self, purpose: Purpose, ctx: &egui::Context) {
        let suggested = self.doc.path().and_then(Path::file_name).map_or_else(
            || "project.ron".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.ask_named(purpose, &suggested, ctx);
    }

    fn ask_named(&mut self, purpose: Purpose, suggested: &str, ctx: &egui::Context) {
        if self.question.is_some() {
            return;
        }
        self.unanswered = Some((purpose.clone(), suggested.to_owned()));
        self.question = Some(self.dialogs.ask(purpose, suggested, ctx));
    }

    fn save(&mut self, ctx: &egui::Context) {
        match self.doc.path().map(Path::to_path_buf) {
            Some(path) => self.save_to(path),
            None => self.ask(Purpose::SaveAs, ctx),
        }
    }

    fn save_to(&mut self, path: PathBuf) {
        let path = if path.extension().is_none() {
            path.with_extension("ron")
        } else {
            path
        };
        match model::file::save(self.doc.file(), &path) {
            Ok(()) => {
                self.status = format!("saved to {}", path.display());
                let _ = self.state.remember(&path);
                self.recent = self.state.recent();
                self.doc.saved_to(path);
                self.state.clear_autosave();
            }
            Err(error) => {
                self.message = Some(Message {
                    title: "Cannot save".into(),
                    lines: vec![error.to_string()],
                });
            }
        }
    }

    fn start(&mut self, kind: JobKind, ctx: &egui::Context) {
        if self.job.is_some() {
            return;
        }
        self.refresh_problems();
        if !self.problems.is_empty() {
            self.message = Some(Message {
                title: "Fix these problems first".into(),
                lines: self.problems.iter().map(ToString::to_string).collect(),
            });
            return;
        }
        match Job::start(
            kind,
            self.doc.project().clone(),
            self.doc.revision(),
            ctx.clone(),
        ) {
            Ok(job) => self.job = Some(job),
            Err(error) => self.status = format!("cannot start: {error}"),
        }
    }

    /// Recomputes the latency lines after a simulation or a measurement.
    fn refresh_curves(&mut self) {
        let mut curves = self.simulation().map(Curves::of);
        if let Some(measured) = &self.measured {
            curves
                .get_or_insert_with(|| Curves::of_histograms(&[]))
                .add_measured("measured", &measured.latency);
        }
        self.curves = curves;
    }

    /// Whether a live load test is running.
    #[cfg(feature = "loadgen")]
    pub fn is_live_running(&self) -> bool {
        self.live.is_running()
    }

    /// The last live measurement.
    pub fn measured(&self) -> Option<&crate::stats::LoadReport> {
        self.measured.as_ref()
    }

    fn refresh_problems(&mut self) {
        if self.problems_revision != Some(self.doc.revision()) {
            self.problems = model::validate(self.doc.project());
            self.problems_revision = Some(self.doc.revision());
        }
    }

    /// Background work: finished runs, answered dialogs, loaded files,
    /// screenshots for PNG export.
    fn poll(&mut self, ctx: &egui::Context) {
        if let Some(job) = &self.job
            && let Some(result) = job.poll()
        {
            let (kind, revision, elapsed) = (job.kind(), job.revision(), job.elapsed());
            self.job = None;
            match result {
                Ok(Outcome::Simulation(report)) => {
                    self.status = format!("simulated in {:.1} s", elapsed.as_secs_f64());
                    self.simulation = Some(Computed { report, revision });
                    self.refresh_curves();
                }
                Ok(Outcome::Sweep(report)) => {
                    self.status = format!("swept in {:.1} s", elapsed.as_secs_f64());
                    self.sweep = Some(Computed { report, revision });
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
        if let Some(question) = &self.question
            && let Some(answer) = question.poll()
        {
            let purpose = question.purpose.clone();
            let at_once = question.answered_at_once();
            self.question = None;
            if let Some(path) = answer {
                self.unanswered = None;
                self.answered(&purpose, path, ctx);
            } else if at_once && let Some((purpose, suggested)) = self.unanswered.take() {
                // No dialog appeared (no XDG portal): browse in the app.
                self.status = "no file dialog appeared: choose the file here".into();
                self.browse(purpose, &suggested);
            } else {
                self.status = "no file chosen".into();
            }
        }
        if let Some(loading) = &self.loading
            && let Some(result) = loading.poll()
        {
            let path = loading.path.clone();
            self.loading = None;
            match result {
                Ok(file) => {
                    let _ = self.state.remember(&path);
                    self.recent = self.state.recent();
                    self.status = format!("opened {}", path.display());
                    self.replace(Document::new(file, Some(path)));
                    self.state.clear_autosave();
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
        if !self.shots.is_empty() {
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
                if let Some(at) = self.shots.iter().position(|(i, _)| *i == id) {
                    let (_, path) = self.shots.remove(at);
                    let rect = self.results_view.rects.get(&id).copied();
                    let ppp = ctx.pixels_per_point();
                    self.status = match rect
                        .ok_or_else(|| "the plot is not on screen".to_owned())
                        .and_then(|r| super::png::write_region(&image, r, ppp, &path))
                    {
                        Ok(()) => format!("saved {}", path.display()),
                        Err(e) => format!("cannot save the plot: {e}"),
                    };
                }
            }
        }
    }

    fn answered(&mut self, purpose: &Purpose, path: PathBuf, ctx: &egui::Context) {
        match purpose {
            Purpose::Open => self.open(path, ctx),
            Purpose::SaveAs => {
                self.save_to(path);
                if !self.doc.is_dirty()
                    && let Some(action) = self.after_save.take()
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
                self.shots.push((*id, path));
                ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::new(*id)));
            }
        }
    }

    fn export(&self, format: ExportFormat, path: &Path) -> Result<(), String> {
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
    fn autosave(&mut self) {
        let revision = self.doc.revision();
        if !self.doc.is_dirty() || self.autosaved.0 == revision {
            return;
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "autosave paces itself by the wall clock"
        )]
        let now = Instant::now();
        match self.autosaved.1 {
            None => {
                // The first change starts the clock.
                self.autosaved.1 = Some(now);
                return;
            }
            Some(since) if now.duration_since(since) < self.autosave_every => return,
            Some(_) => {}
        }
        if self
            .state
            .autosave(self.doc.file(), self.doc.path())
            .is_ok()
        {
            self.autosaved = (revision, Some(now));
        }
    }

    /// Writes the autosave now (tests use this to simulate a crash).
    pub fn autosave_now(&mut self) -> std::io::Result<()> {
        self.state.autosave(self.doc.file(), self.doc.path())
    }

    /// Works through `--figure`: runs what each plot needs, shows it alone,
    /// saves it once it has settled, and closes the window after the last.
    fn figures(&mut self, ctx: &egui::Context) {
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

    fn close_requested(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && !self.allow_close {
            if self.doc.is_dirty() {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.discarding = Some(Discarding::Quit);
            } else {
                self.state.clear_autosave();
            }
        }
    }

    fn shortcuts(&self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let ctrl = |key| KeyboardShortcut::new(Modifiers::COMMAND, key);
        let ctrl_shift = |key| KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, key);
        let typing = ctx.egui_wants_keyboard_input();
        ctx.input_mut(|i| {
            if i.consume_shortcut(&ctrl_shift(Key::S)) {
                commands.push(Command::SaveAs);
            }
            if i.consume_shortcut(&ctrl(Key::S)) {
                commands.push(Command::Save);
            }
            if i.consume_shortcut(&ctrl(Key::O)) {
                commands.push(Command::Open);
            }
            if i.consume_shortcut(&ctrl(Key::N)) {
                commands.push(Command::New);
            }
            if typing {
                return;
            }
            if i.consume_shortcut(&ctrl_shift(Key::Z)) || i.consume_shortcut(&ctrl(Key::Y)) {
                commands.push(Command::Redo);
            }
            if i.consume_shortcut(&ctrl(Key::Z)) {
                commands.push(Command::Undo);
            }
            let selected = match &self.selection {
                Selection::Services(names) => names.clone(),
                _ => Vec::new(),
            };
            if i.consume_shortcut(&ctrl(Key::D)) && !selected.is_empty() {
                commands.push(Command::Edit(Edit::DuplicateServices {
                    scenario: self.scenario,
                    names: selected.clone(),
                }));
            }
            if i.consume_key(Modifiers::NONE, Key::Delete)
                || i.consume_key(Modifiers::NONE, Key::Backspace)
            {
                match &self.selection {
                    Selection::Services(names) => {
                        commands.push(Command::Edit(Edit::RemoveServices {
                            scenario: self.scenario,
                            names: names.clone(),
                        }));
                    }
                    Selection::Link(index) => {
                        commands.push(Command::Edit(Edit::RemoveLink {
                            scenario: self.scenario,
                            index: *index,
                        }));
                    }
                    Selection::None => {}
                }
            }
        });
    }

    fn dropped_files(ctx: &egui::Context, commands: &mut Vec<Command>) {
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

    fn overlay(&self) -> Overlay {
        let project = self.doc.project();
        let Some(scenario) = project.scenarios.get(self.scenario) else {
            return Overlay::default();
        };
        let mut overlay = Overlay::default();
        if let Some(report) = self.simulation()
            && let Some(report) = report
                .scenarios
                .iter()
                .find(|s| s.scenario == scenario.name)
        {
            overlay.utilisation = report
                .services
                .iter()
                .map(|s| (s.name.clone(), s.utilization))
                .collect();
            // Outlined only when it is one: saturated, or above 80% busy.
            overlay.bottleneck = match report.limit() {
                crate::stats::Limit::Saturated(name) | crate::stats::Limit::Bottleneck(name, _) => {
                    Some(name)
                }
                crate::stats::Limit::Busiest(..) => None,
            };
        }
        let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for problem in &self.problems {
            // A link's problems show on its caller.
            let owner = match &problem.place.part {
                model::Part::Service {
                    scenario: s,
                    service,
                } if *s == scenario.name => service,
                model::Part::Link {
                    scenario: s, from, ..
                } if *s == scenario.name => from,
                _ => continue,
            };
            if scenario.services.iter().any(|s| s.name == *owner) {
                problems.entry(owner.clone()).or_default().push(format!(
                    "{}: {}",
                    problem.place.within_scenario(),
                    problem.message
                ));
            }
        }
        overlay.problems = problems;
        overlay
    }

    /// Opens the in-app file browser for `purpose`, in the project's
    /// folder (or the working one), suggesting `suggested` for a save.
    fn browse(&mut self, purpose: Purpose, suggested: &str) {
        let folder = self
            .doc
            .path()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let mut dialog = egui_file_dialog::FileDialog::new()
            .initial_directory(folder)
            .default_file_name(suggested)
            .default_size([640.0, 420.0]);
        if purpose == Purpose::Open {
            dialog = dialog
                .add_file_filter_extensions("archbench projects (.ron)", vec!["ron"])
                .default_file_filter("archbench projects (.ron)");
            dialog.pick_file();
        } else {
            dialog.save_file();
        }
        self.browser = Some((purpose, Box::new(dialog)));
    }

    /// The in-app file browser, while it is open.
    fn browser_ui(&mut self, ctx: &egui::Context) {
        let Some((_, dialog)) = &mut self.browser else {
            return;
        };
        dialog.update(ctx);
        if let Some(path) = dialog.take_picked() {
            if let Some((purpose, _)) = self.browser.take() {
                self.answered(&purpose, path, ctx);
            }
        } else if matches!(
            dialog.state(),
            egui_file_dialog::DialogState::Cancelled | egui_file_dialog::DialogState::Closed
        ) {
            self.browser = None;
            self.status = "no file chosen".into();
        }
    }

    fn modals_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        self.browser_ui(ctx);
        if let Some(action) = self.discarding.clone() {
            let what = match action {
                Discarding::Quit => "closing",
                Discarding::New => "starting a new project",
                Discarding::Open | Discarding::OpenPath(_) | Discarding::Example(_) => {
                    "opening another file"
                }
            };
            egui::Modal::new(egui::Id::new("discard")).show(ctx, |ui| {
                ui.heading("Unsaved changes");
                ui.label(format!(
                    "{} has changes that are not saved. Save them before {what}?",
                    self.doc.title()
                ));
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        self.discarding = None;
                        if let Some(path) = self.doc.path().map(Path::to_path_buf) {
                            self.save_to(path);
                            if !self.doc.is_dirty() {
                                self.proceed(action.clone(), ctx);
                            }
                        } else {
                            self.after_save = Some(action.clone());
                            self.ask(Purpose::SaveAs, ctx);
                        }
                    }
                    if ui.button("Discard changes").clicked() {
                        self.discarding = None;
                        self.proceed(action.clone(), ctx);
                    }
                    if ui.button("Cancel").clicked() {
                        self.discarding = None;
                    }
                });
            });
        }
        if let Some((file, path)) = &self.recovery {
            let belongs = path.as_ref().map_or_else(
                || "an untitled project".to_owned(),
                |p| p.display().to_string(),
            );
            let name = file.project.name.clone();
            egui::Modal::new(egui::Id::new("recovery")).show(ctx, |ui| {
                ui.heading("Restore unsaved work?");
                ui.label(format!(
                    "archbench did not close cleanly last time. Unsaved changes to \
                     \"{name}\" ({belongs}) were kept."
                ));
                ui.horizontal(|ui| {
                    if ui.button("Restore").clicked() {
                        commands.push(Command::Recover);
                    }
                    if ui.button("Discard").clicked() {
                        commands.push(Command::DiscardRecovery);
                    }
                });
            });
        }
        if let Some(message) = &self.message {
            let mut close = false;
            egui::Modal::new(egui::Id::new("message")).show(ctx, |ui| {
                ui.heading(&message.title);
                egui::ScrollArea::vertical()
                    .max_height(320.0)
                    .show(ui, |ui| {
                        for line in &message.lines {
                            ui.label(egui::RichText::new(line).monospace());
                        }
                    });
                if ui.button("OK").clicked() {
                    close = true;
                }
            });
            if close {
                self.message = None;
            }
        }
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
            }],
        },
        run: RunSettings::default(),
        objectives: Vec::new(),
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
        if let Some(report) = self.live.logic(ctx) {
            self.status = format!(
                "measured {} requests at {:.0} req/s",
                report.requests, report.throughput_rps
            );
            self.measured = Some(report);
            self.measured_revision = self.doc.revision();
            self.refresh_curves();
        }
        if std::mem::take(&mut self.simulate_at_start) {
            self.start(JobKind::Simulate, ctx);
        }
        self.poll(ctx);
        self.figures(ctx);
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
        let ctx = ui.ctx().clone();
        let typing = ctx.memory(|m| m.focused().is_some());
        let mut commands = Vec::new();
        self.shortcuts(&ctx, &mut commands);
        Self::dropped_files(&ctx, &mut commands);

        let running = self.job.as_ref().map(|job| toolbar::Running {
            kind: job.kind(),
            fraction: job.fraction(),
            eta: job.eta(),
            elapsed: job.elapsed(),
        });
        egui::Panel::top("toolbar").show(ui, |ui| {
            toolbar::toolbar_ui(
                ui,
                &toolbar::Bar {
                    running,
                    recent: &self.recent,
                    undo: self.doc.undo_label(),
                    redo: self.doc.redo_label(),
                    has_simulation: self.simulation.is_some(),
                    has_sweep: self.sweep.is_some(),
                    status: &self.status,
                    offer_browser: self.unanswered.is_some()
                        && self.question.is_none()
                        && self.browser.is_none(),
                },
                &mut commands,
            );
        });
        egui::Panel::left("palette")
            .resizable(false)
            .default_size(170.0)
            .show(ui, |ui| {
                let at = self
                    .doc
                    .project()
                    .scenarios
                    .get(self.scenario)
                    .map(|s| self.canvas.place_new(s))
                    .unwrap_or_default();
                palette::palette_ui(ui, self.scenario, at, &mut commands);
            });
        // Every panel keeps a usable size from 1024×700 up: the inspector
        // narrows to 280 and never grows on its own; the results leave the
        // canvas at least a third of the height.
        let window = ui.max_rect();
        let inspector = egui::Panel::right("inspector")
            .resizable(true)
            .default_size(360.0)
            .size_range(280.0..=(window.width() * 0.45).max(300.0))
            .show(ui, |ui| {
                inspector::inspector_ui(
                    ui,
                    &inspector::Context {
                        project: self.doc.project(),
                        scenario: self.scenario,
                        selection: &self.selection,
                        problems: &self.problems,
                        header: &self.doc.file().header,
                    },
                    &mut self.buffers,
                    &mut commands,
                );
            });
        let results = egui::Panel::bottom("results")
            .resizable(true)
            .default_size((window.height() * 0.45).clamp(200.0, 430.0))
            .size_range(120.0..=(window.height() - 300.0).max(160.0))
            .show(ui, |ui| {
                results::results_ui(
                    ui,
                    &Shown {
                        project: self.doc.project(),
                        revision: self.doc.revision(),
                        simulation: self.simulation.as_ref(),
                        measured: self.measured.as_ref(),
                        measured_revision: self.measured_revision,
                        scenario: self.scenario,
                        curves: self.curves.as_ref(),
                        sweep: self.sweep.as_ref(),
                    },
                    &mut self.results_view,
                    &mut commands,
                );
                ui.take_available_space();
            });
        self.panels = Panels {
            inspector: inspector.response.rect,
            results: results.response.rect,
        };
        let overlay = self.overlay();
        egui::CentralPanel::default().show(ui, |ui| {
            scenarios::scenarios_ui(
                ui,
                self.doc.project(),
                self.scenario,
                &mut self.buffers,
                &mut self.renaming,
                &mut commands,
            );
            ui.separator();
            self.canvas.ui(
                ui,
                &editor::Frame {
                    project: self.doc.project(),
                    revision: self.doc.revision(),
                    scenario: self.scenario,
                    overlay: &overlay,
                    selection: &self.selection,
                    typing,
                },
                &mut commands,
            );
        });
        #[cfg(feature = "loadgen")]
        super::panels::live::live_ui(&ctx, &mut self.live, self.doc.project(), self.scenario);
        self.modals_ui(&ctx, &mut commands);

        // Text fields merge their edits into one undo step while focused.
        if ctx.memory(|m| m.focused().is_none()) {
            self.doc.seal();
        }
        for command in commands {
            self.execute(&ctx, command);
        }
    }
}
