//! Reading and writing `.ron` project files.
//!
//! Loading is defensive: files over [`MAX_FILE_BYTES`] and nesting deeper than
//! [`MAX_DEPTH`] are refused, a syntax error names `file:line:column`, and the
//! `format` version is checked before anything else. Saving is stable (the
//! same project always gives the same bytes) and atomic (a temporary file in
//! the same folder, flushed, then renamed over the old one).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{LoadError, OpenError, SaveError};
use super::project::{FORMAT_VERSION, Project};

/// The largest project file accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The deepest nesting of brackets accepted.
pub const MAX_DEPTH: usize = 64;

/// A loaded project together with the comment block that opened its file,
/// which is written back on save so a file's explanation survives the app.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectFile {
    /// The leading `//` comment lines, verbatim, each ending in a newline.
    pub header: String,
    /// The project.
    pub project: Project,
}

/// What a project file must be, for errors about its outermost shape.
const PROJECT_SHAPE: &str =
    "a project file is one struct in parentheses, `(format: 1, name: \"…\", …)`";

/// Reads just the version, ignoring every other field, so that a file from a
/// newer archbench says so instead of listing unknown fields.
#[derive(Deserialize)]
#[serde(rename = "Project")]
struct VersionProbe {
    format: Option<u32>,
}

/// Loads a project file and validates it: what the command line and the app
/// both do before they use a file.
pub fn load_valid(path: &Path) -> Result<ProjectFile, OpenError> {
    let file = load(path)?;
    let problems = super::validate(&file.project);
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(OpenError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }
}

/// Reads and parses a project file. It is not validated: call
/// [`validate`](super::validate::validate) for the semantic checks, or
/// [`load_valid`] for both.
pub fn load(path: &Path) -> Result<ProjectFile, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    // Read at most one byte past the limit, whatever the file is: a
    // device (/dev/zero), a FIFO or standard input reports a size of 0.
    let mut text = Vec::new();
    fs::File::open(path)
        .and_then(|file| {
            use std::io::Read as _;
            file.take(MAX_FILE_BYTES + 1).read_to_end(&mut text)
        })
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_owned(),
            bytes: text.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let text = String::from_utf8(text).map_err(|e| LoadError::Syntax {
        path: path.to_owned(),
        line: 1,
        column: 1,
        message: format!(
            "the file is not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })?;
    parse(&text, path)
}

/// Parses project text; `origin` names it in errors.
pub fn parse(text: &str, origin: &Path) -> Result<ProjectFile, LoadError> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: origin.to_owned(),
            bytes: text.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    // The parser counts two levels for each bracket.
    let options = options().with_recursion_limit(2 * MAX_DEPTH);
    let syntax = |e: ron::error::SpannedError| LoadError::Syntax {
        path: origin.to_owned(),
        line: e.span.start.line,
        column: e.span.start.col,
        message: match e.code {
            ron::Error::ExceededRecursionLimit => {
                format!("brackets are nested deeper than {MAX_DEPTH} levels")
            }
            // The file is not one struct at all: say what one looks like.
            ron::Error::ExpectedDifferentStructName {
                expected: "Project",
                found,
            } => format!("{PROJECT_SHAPE}, not `{found}…`"),
            ron::Error::ExpectedNamedStructLike("Project") | ron::Error::ExpectedStructLike => {
                PROJECT_SHAPE.to_owned()
            }
            code => code.to_string(),
        },
    };
    let probe: VersionProbe = options.from_str(text).map_err(syntax)?;
    match probe.format {
        None => {
            return Err(LoadError::MissingFormat {
                path: origin.to_owned(),
                current: FORMAT_VERSION,
            });
        }
        Some(found) if found != FORMAT_VERSION => {
            return Err(LoadError::UnknownFormat {
                path: origin.to_owned(),
                found,
                current: FORMAT_VERSION,
            });
        }
        Some(_) => {}
    }
    let project = options.from_str(text).map_err(syntax)?;
    Ok(ProjectFile {
        header: leading_comments(text),
        project,
    })
}

/// Reading and writing share one set of RON extensions. `implicit_some`
/// lets optional fields be written plainly (`parallel_group: "features"`).
fn options() -> ron::Options {
    ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
}

/// The comment lines (and blank lines among them) before the first code.
fn leading_comments(text: &str) -> String {
    let mut header = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("//") {
            header.push_str(trimmed);
            header.push('\n');
        } else if !trimmed.is_empty() {
            break;
        }
    }
    header
}

/// The project as file text: the header, then pretty RON. Stable: equal
/// projects give identical text.
pub fn to_text(file: &ProjectFile) -> Result<String, ron::Error> {
    let config = ron::ser::PrettyConfig::new()
        .indentor("    ")
        .new_line("\n")
        .struct_names(false)
        .separate_tuple_members(false);
    let body = options().to_string_pretty(&file.project, config)?;
    let mut text = String::with_capacity(file.header.len() + body.len() + 2);
    text.push_str(&file.header);
    if !file.header.is_empty() {
        text.push('\n');
    }
    text.push_str(&body);
    text.push('\n');
    Ok(text)
}

/// Writes the project atomically: a crash part-way leaves the old file whole.
pub fn save(file: &ProjectFile, path: &Path) -> Result<(), SaveError> {
    let text = to_text(file).map_err(|e| SaveError::Serialize {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    write_atomically(path, text.as_bytes()).map_err(|source| SaveError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, then
/// renames it over `path`. On failure the temporary file is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = folder.join(temporary_name);
    let result = (|| {
        let mut out = fs::File::create(&temporary)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        drop(out);
        fs::rename(&temporary, path)?;
        // Make the rename itself durable where the platform allows it.
        if let Ok(dir) = fs::File::open(&folder) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}
