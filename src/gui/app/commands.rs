//! Applying commands: the one place the project, the selection and the
//! file flow change.

use std::path::{Path, PathBuf};

use eframe::egui::{self};

use crate::model::{self, ProjectFile};

use crate::gui::command::{Command, Edit, ExportFormat, Unsaved};
use crate::gui::document::Document;
use crate::gui::editor::Canvas;
use crate::gui::files::{Export, Loading, Purpose};
use crate::gui::jobs::{Job, JobKind};
use crate::gui::panels::find;
use crate::gui::selection::Selection;

use super::{App, Discarding, Message, blank_project};

impl App {
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
            Command::ImportTraces => self.discard_then(Discarding::ImportTraces, ctx),
            Command::CalibrateTraces => self.ask_named(Purpose::Calibrate, "traces.jsonl", ctx),
            Command::Quit => self.discard_then(Discarding::Quit, ctx),
            Command::Save => self.save(ctx),
            Command::SaveAs => self.ask(Purpose::SaveAs, ctx),
            Command::Simulate => self.start(JobKind::Simulate, ctx),
            Command::Sweep => self.start(JobKind::Sweep, ctx),
            Command::Browse => {
                if let Some((purpose, suggested)) = self.files.unanswered.take() {
                    self.browse(purpose, &suggested);
                }
            }
            Command::ShowLive => {
                #[cfg(feature = "loadgen")]
                {
                    self.runs.live.open = true;
                }
                #[cfg(not(feature = "loadgen"))]
                {
                    self.status = "this build has no load generator (feature `loadgen`)".into();
                }
            }
            Command::Cancel => {
                if let Some(job) = &self.runs.job {
                    job.cancel();
                }
                if let Some(run) = &self.traces {
                    run.cancel();
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
            Command::TidyUp => {
                let scenario = self.scenario;
                let size = self.canvas.node_size();
                let moves = model::layout::layered(
                    &self.doc.project().scenarios[scenario],
                    (size.x, size.y),
                );
                self.edit(&Edit::MoveServices { scenario, moves });
                self.status = "laid out left to right along the calls".into();
                self.canvas.fit();
            }
            Command::AddServiceInView(kind) => {
                let scenario = self.scenario;
                if let Some(s) = self.doc.project().scenarios.get(scenario) {
                    let at = self.canvas.place_new(s);
                    self.execute(ctx, Command::Edit(Edit::AddService { scenario, kind, at }));
                }
            }
            Command::FindService => self.find = Some(find::Find::open()),
            Command::FocusService(name) => {
                // A service folded into a group is shown by unfolding it.
                let scenario = self.scenario;
                if let Some(group) = self.doc.project().scenarios[scenario]
                    .group_of(&name)
                    .filter(|&g| self.doc.project().scenarios[scenario].groups[g].collapsed)
                {
                    self.edit(&Edit::CollapseGroup {
                        scenario,
                        group,
                        collapsed: false,
                    });
                }
                self.selection = Selection::Services(vec![name.clone()]);
                self.canvas.focus(&name);
                self.status = format!("found {name}");
            }
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
                if let Some((file, path)) = self.files.recovery.take() {
                    self.replace(Document::recovered(file, path));
                    self.status = "restored unsaved work".into();
                }
            }
            Command::DiscardRecovery => {
                self.files.recovery = None;
                self.files.state.clear_autosave();
            }
            Command::Unsaved(answer) => {
                let Some(action) = self.files.discarding.take() else {
                    return;
                };
                match answer {
                    Unsaved::Save => {
                        if let Some(path) = self.doc.path().map(Path::to_path_buf) {
                            self.save_to(path);
                            if !self.doc.is_dirty() {
                                self.proceed(action, ctx);
                            }
                        } else {
                            self.files.after_save = Some(action);
                            self.ask(Purpose::SaveAs, ctx);
                        }
                    }
                    Unsaved::Discard => self.proceed(action, ctx),
                    Unsaved::KeepEditing => {}
                }
            }
            Command::CloseMessage => self.message = None,
            Command::FileChosen { purpose, path } => self.answered(&purpose, path, ctx),
            Command::SendLoad(yes) => {
                #[cfg(feature = "loadgen")]
                self.runs.live.answer_hosts(yes);
                #[cfg(not(feature = "loadgen"))]
                let _ = yes;
            }
        }
    }

    pub(super) fn edit(&mut self, edit: &Edit) {
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
    pub(super) fn after_change(&mut self) {
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

    pub(super) fn replace(&mut self, doc: Document) {
        self.doc = doc;
        self.scenario = 0;
        self.selection = Selection::None;
        self.buffers.clear();
        self.canvas = Canvas::default();
        self.runs.simulation = None;
        self.runs.measured = None;
        self.runs.emulated = None;
        self.runs.curves = None;
        #[cfg(feature = "loadgen")]
        self.runs.live.forget_project();
        self.runs.sweep = None;
        self.renaming = false;
        if let Some(job) = self.runs.job.take() {
            job.cancel();
        }
    }

    /// Runs `action` now if nothing unsaved would be lost; otherwise asks.
    pub(super) fn discard_then(&mut self, action: Discarding, ctx: &egui::Context) {
        if self.doc.is_dirty() {
            self.files.discarding = Some(action);
        } else {
            self.proceed(action, ctx);
        }
    }

    pub(super) fn proceed(&mut self, action: Discarding, ctx: &egui::Context) {
        match action {
            Discarding::New => {
                self.replace(Document::new(
                    ProjectFile {
                        header: String::new(),
                        project: blank_project(),
                    },
                    None,
                ));
                self.files.state.clear_autosave();
                self.status = "new project".into();
            }
            Discarding::Open => self.ask(Purpose::Open, ctx),
            Discarding::ImportTraces => self.ask_named(Purpose::ImportTraces, "traces.jsonl", ctx),
            Discarding::OpenPath(path) => self.open(path, ctx),
            Discarding::Example(index) => {
                let Some((name, text)) = crate::gui::EXAMPLES.get(index) else {
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
                self.files.state.clear_autosave();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    pub(super) fn open(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.status = format!("opening {}…", path.display());
        self.files.loading = Some(Loading::start(path, ctx));
    }

    pub(super) fn ask(&mut self, purpose: Purpose, ctx: &egui::Context) {
        let suggested = self.doc.path().and_then(Path::file_name).map_or_else(
            || "project.ron".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.ask_named(purpose, &suggested, ctx);
    }

    pub(super) fn ask_named(&mut self, purpose: Purpose, suggested: &str, ctx: &egui::Context) {
        if self.files.question.is_some() {
            return;
        }
        self.files.unanswered = Some((purpose.clone(), suggested.to_owned()));
        self.files.question = Some(self.files.dialogs.ask(purpose, suggested, ctx));
    }

    pub(super) fn save(&mut self, ctx: &egui::Context) {
        match self.doc.path().map(Path::to_path_buf) {
            Some(path) => self.save_to(path),
            None => self.ask(Purpose::SaveAs, ctx),
        }
    }

    pub(super) fn save_to(&mut self, path: PathBuf) {
        let path = if path.extension().is_none() {
            path.with_extension("ron")
        } else {
            path
        };
        match model::file::save(self.doc.file(), &path) {
            Ok(()) => {
                self.status = format!("saved to {}", path.display());
                let _ = self.files.state.remember(&path);
                self.files.recent = self.files.state.recent();
                self.doc.saved_to(path);
                self.files.state.clear_autosave();
            }
            Err(error) => {
                self.message = Some(Message {
                    title: "Cannot save".into(),
                    lines: vec![error.to_string()],
                });
            }
        }
    }

    pub(super) fn start(&mut self, kind: JobKind, ctx: &egui::Context) {
        if self.runs.job.is_some() {
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
            Ok(job) => self.runs.job = Some(job),
            Err(error) => self.status = format!("cannot start: {error}"),
        }
    }
}
