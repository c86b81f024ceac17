//! What the UI asks for. Panels read the project and push [`Command`]s; the
//! app applies them in one place after drawing ([`super::app`]). Edits of the
//! project are [`Edit`]s, applied by [`Edit::apply`], so undo, the dirty flag
//! and the tests all see every change the same way.

use std::path::PathBuf;

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

pub use super::edit::{Edit, MergeKey, Wired, call_latency, first_free, preset};
pub use super::files::ExportFormat;

/// Everything the UI can ask the app to do.
#[derive(Clone, Debug)]
pub enum Command {
    /// Change the project (one undo step).
    Edit(Edit),
    /// Undo the last edit.
    Undo,
    /// Redo the last undone edit.
    Redo,
    /// Start a new project (asks first if there is unsaved work).
    New,
    /// Choose a file and open it (asks first if there is unsaved work).
    Open,
    /// Open this file (asks first if there is unsaved work).
    OpenPath(PathBuf),
    /// Choose a traces file and open the project built from it (asks
    /// first if there is unsaved work).
    ImportTraces,
    /// Choose a traces file and calibrate the scenario from it, as one
    /// undo step.
    CalibrateTraces,
    /// Save to the current file, or ask where.
    Save,
    /// Ask where, then save.
    SaveAs,
    /// Simulate every scenario in the background.
    Simulate,
    /// Sweep the offered load of every scenario in the background.
    Sweep,
    /// Stop the background run.
    Cancel,
    /// Show the Live load test window.
    ShowLive,
    /// Type the path the last file dialog did not give (for desktops
    /// Choose the file for the question the last dialog left unanswered
    /// in the app's own file browser.
    Browse,
    /// Show scenario `0` on the canvas.
    ShowScenario(usize),
    /// Select services (by name) on the canvas.
    SelectServices(Vec<String>),
    /// Select the link at this index.
    SelectLink(usize),
    /// Open bundled example `0` (an index into [`super::EXAMPLES`]) as a new,
    /// untitled project.
    OpenExample(usize),
    /// Say something in the status line, such as why a call was refused.
    Notify(String),
    /// Fit the canvas to its services.
    FitView,
    /// Lay the shown scenario out left to right along its calls (one undo
    /// step).
    TidyUp,
    /// Add a service of this kind, with its preset, in free space near the
    /// middle of the canvas's view (one undo step).
    AddServiceInView(crate::model::ServiceKind),
    /// Open "Find service" over the canvas.
    FindService,
    /// Select this service and centre the canvas on it.
    FocusService(String),
    /// Write the results as CSV or JSON.
    ExportResults(ExportFormat),
    /// Save a plot as PNG.
    ExportPlot(super::plots::PlotId),
    /// Restore the autosaved work found at start.
    Recover,
    /// Discard the autosaved work found at start.
    DiscardRecovery,
    /// Close the window (asks first if there is unsaved work).
    Quit,
    /// The user's answer to "save the unsaved changes first?".
    Unsaved(Unsaved),
    /// Close the message window.
    CloseMessage,
    /// The in-app file browser answered a question with this path.
    FileChosen {
        /// The question.
        purpose: super::files::Purpose,
        /// The file chosen.
        path: PathBuf,
    },
    /// The user's answer to "send load to these hosts?" in the Live window.
    SendLoad(bool),
}

/// An answer to "save the unsaved changes first?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsaved {
    /// Save, then go on.
    Save,
    /// Go on without saving.
    Discard,
    /// Do not go on.
    KeepEditing,
}

const fn ctrl(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND, key)
}

const fn ctrl_shift(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(
        Modifiers {
            shift: true,
            ..Modifiers::COMMAND
        },
        key,
    )
}

/// The commands that have keyboard shortcuts, in the order they are
/// matched (Ctrl+Shift+S before Ctrl+S, redo before undo). The first
/// [`WHILE_TYPING`] also work while a text field has the keyboard; undo and
/// redo then belong to the field.
pub const WITH_SHORTCUTS: [Command; 8] = [
    Command::SaveAs,
    Command::Save,
    Command::Open,
    Command::New,
    Command::Redo,
    Command::Undo,
    Command::TidyUp,
    Command::FindService,
];

/// How many of [`WITH_SHORTCUTS`] work while typing.
pub const WHILE_TYPING: usize = 4;

impl Command {
    /// The keyboard shortcuts that run this command; the first is the one
    /// menus show. Empty for most commands.
    pub fn shortcuts(&self) -> &'static [KeyboardShortcut] {
        const NEW: [KeyboardShortcut; 1] = [ctrl(Key::N)];
        const OPEN: [KeyboardShortcut; 1] = [ctrl(Key::O)];
        const SAVE: [KeyboardShortcut; 1] = [ctrl(Key::S)];
        const SAVE_AS: [KeyboardShortcut; 1] = [ctrl_shift(Key::S)];
        const UNDO: [KeyboardShortcut; 1] = [ctrl(Key::Z)];
        const REDO: [KeyboardShortcut; 2] = [ctrl_shift(Key::Z), ctrl(Key::Y)];
        const TIDY_UP: [KeyboardShortcut; 1] = [ctrl(Key::L)];
        const FIND: [KeyboardShortcut; 1] = [ctrl(Key::F)];
        match self {
            Self::FindService => &FIND,
            Self::TidyUp => &TIDY_UP,
            Self::New => &NEW,
            Self::Open => &OPEN,
            Self::Save => &SAVE,
            Self::SaveAs => &SAVE_AS,
            Self::Undo => &UNDO,
            Self::Redo => &REDO,
            _ => &[],
        }
    }

    /// The shortcut as menus show it (`Ctrl+S`), or nothing.
    pub fn shortcut_text(&self, ctx: &egui::Context) -> String {
        self.shortcuts()
            .first()
            .map(|s| ctx.format_shortcut(s))
            .unwrap_or_default()
    }
}
