//! Errors of the model layer: a file that cannot be read, and problems found by validation.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a project, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where, from the top of the project down to the field, such as
    /// `scenario "micro" / service "api" / workers`.
    pub place: super::Place,
    /// What is wrong, in the user's words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Why a project file could not be loaded. Validation problems are separate:
/// see [`crate::model::validate`].
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is larger than a project could sensibly be.
    #[error("{path}: the file is over {limit} bytes, more than a project file may be")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bytes read before giving up: at most one past the limit.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The text is not valid RON for a project.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file, or a name for text that has none.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// The file has no `format` field.
    #[error("{path}: no `format` field; a project file starts with `format: {current}`")]
    MissingFormat {
        /// The file.
        path: PathBuf,
        /// The version this build writes.
        current: u32,
    },
    /// The file was written by a newer or unknown version of archbench.
    #[error("{path}: unknown format version {found}; this archbench reads version {current}")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        current: u32,
    },
}

/// Why a project could not be saved. The previous file, if any, is untouched.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Writing or renaming failed.
    #[error("cannot save {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The project could not be turned into text.
    #[error("cannot save {path}: {message}")]
    Serialize {
        /// The file being written.
        path: PathBuf,
        /// What the serializer said.
        message: String,
    },
}

/// Why a project file cannot be used: it did not load, or it loaded and is
/// not valid.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// It could not be read or parsed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// It parsed, and validation found problems.
    #[error("{}: {} problem{}", path.display(), problems.len(), if problems.len() == 1 { "" } else { "s" })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

impl OpenError {
    /// One line per error, as `archbench check` prints them:
    /// `file:line:column: message` for syntax, `file: place: message` for
    /// each validation problem.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Load(error) => vec![error.to_string()],
            Self::Invalid { path, problems } => problems
                .iter()
                .map(|p| format!("{}: {p}", path.display()))
                .collect(),
        }
    }
}
