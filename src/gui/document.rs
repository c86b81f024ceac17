//! The open document: the project, where it lives, its undo history and
//! whether it has unsaved changes. Every change goes through
//! [`Document::apply`], [`Document::undo`] or [`Document::redo`].

use std::path::{Path, PathBuf};

use eframe::egui;

use crate::model::{self, Project, ProjectFile};

use super::command::{Edit, MergeKey};

/// Undo steps kept; older ones are dropped.
const MAX_UNDO: usize = 500;

/// A project being edited.
pub struct Document {
    file: ProjectFile,
    path: Option<PathBuf>,
    /// The project as last opened or saved, to tell whether it changed.
    saved: Option<Project>,
    undo: Vec<Step>,
    redo: Vec<Step>,
    revision: u64,
}

/// A project as it was before an edit.
struct Step {
    project: Project,
    label: &'static str,
    merge: Option<MergeKey>,
}

/// Which of the two stacks.
#[derive(Clone, Copy)]
enum Stack {
    Undo,
    Redo,
}

impl Document {
    /// A document for `file`, saved at `path` if it has one; it starts clean.
    pub fn new(mut file: ProjectFile, path: Option<PathBuf>) -> Self {
        // A project whose services were never placed (all at one spot, as a
        // script or a hand-written file leaves them) opens laid out: the
        // file has no positions to lose, so this is no unsaved change.
        lay_out_unplaced(&mut file.project, super::editor::DEFAULT_NODE);
        let saved = Some(file.project.clone());
        Self {
            file,
            path,
            saved,
            undo: Vec::new(),
            redo: Vec::new(),
            revision: 0,
        }
    }

    /// A document restored from an autosave: it belongs at `path` but has
    /// unsaved changes.
    pub fn recovered(file: ProjectFile, path: Option<PathBuf>) -> Self {
        Self {
            saved: None,
            ..Self::new(file, path)
        }
    }

    /// A document that exists nowhere yet (a project built from traces):
    /// it starts with unsaved changes, so closing or opening asks first.
    pub fn unsaved(file: ProjectFile) -> Self {
        Self::recovered(file, None)
    }

    /// The project.
    pub fn project(&self) -> &Project {
        &self.file.project
    }

    /// The project and its leading comment, as saved.
    pub fn file(&self) -> &ProjectFile {
        &self.file
    }

    /// Where it is saved, if anywhere.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Counts every change, undo and redo included; views rebuild when it moves.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether the project differs from the file it was opened from or saved
    /// to. Undoing back to the saved state makes it clean again.
    pub fn is_dirty(&self) -> bool {
        self.saved.as_ref() != Some(&self.file.project)
    }

    /// Applies `edit` as one undo step, merged with the previous step when
    /// both edit the same field. Returns whether anything changed.
    pub fn apply(&mut self, edit: &Edit) -> bool {
        let before = self.file.project.clone();
        if !edit.apply(&mut self.file.project) {
            return false;
        }
        let merge = edit.merge_key();
        let merges = merge.is_some()
            && self.redo.is_empty()
            && self.undo.last().is_some_and(|last| last.merge == merge);
        if !merges {
            self.undo.push(Step {
                project: before,
                label: edit.label(),
                merge,
            });
            if self.undo.len() > MAX_UNDO {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
        self.revision += 1;
        true
    }

    /// Ends merging: the next edit starts a new undo step even if it edits
    /// the same field (called when a text field loses focus).
    pub fn seal(&mut self) {
        if let Some(last) = self.undo.last_mut() {
            last.merge = None;
        }
    }

    /// Undoes the last step; returns its label.
    pub fn undo(&mut self) -> Option<&'static str> {
        let step = self.undo.pop()?;
        Some(self.restore(step, Stack::Redo))
    }

    /// Redoes the last undone step; returns its label.
    pub fn redo(&mut self) -> Option<&'static str> {
        let step = self.redo.pop()?;
        Some(self.restore(step, Stack::Undo))
    }

    /// Puts `step`'s project back, keeping the one it replaces on `onto` so
    /// the move can be reversed; returns the step's label.
    fn restore(&mut self, step: Step, onto: Stack) -> &'static str {
        let label = step.label;
        let now = std::mem::replace(&mut self.file.project, step.project);
        let stack = match onto {
            Stack::Undo => &mut self.undo,
            Stack::Redo => &mut self.redo,
        };
        stack.push(Step {
            project: now,
            label,
            merge: None,
        });
        self.revision += 1;
        label
    }

    /// The label of the step [`Self::undo`] would undo.
    pub fn undo_label(&self) -> Option<&'static str> {
        self.undo.last().map(|s| s.label)
    }

    /// The label of the step [`Self::redo`] would redo.
    pub fn redo_label(&self) -> Option<&'static str> {
        self.redo.last().map(|s| s.label)
    }

    /// Records that the project was saved to `path`.
    pub fn saved_to(&mut self, path: PathBuf) {
        self.saved = Some(self.file.project.clone());
        self.path = Some(path);
        self.seal();
    }

    /// The file name shown in the title, or "untitled".
    pub fn title(&self) -> String {
        let file = self.path.as_deref().and_then(Path::file_name).map_or_else(
            || "untitled".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("{} — {file}", self.file.project.name)
    }
}

/// Lays out each scenario of `project` whose services were never placed
/// (they all share one position), for nodes of `node` size.
fn lay_out_unplaced(project: &mut Project, node: egui::Vec2) {
    for scenario in &mut project.scenarios {
        if model::layout::needs_layout(scenario) {
            model::layout::place(scenario, (node.x, node.y));
        }
    }
}
