//! Reading distributed traces into one span model, and rebuilding each
//! trace's tree: the input of building a model from traces (issue #14).
//!
//! Three formats, told apart by their content, not their file name:
//! - OTLP JSON: one `{"resourceSpans": [...]}` document (the OTLP/HTTP JSON
//!   encoding), or JSON Lines of them, one `TracesData` a line (the
//!   OpenTelemetry Collector's file exporter, and `archbench emulate
//!   --traces`);
//! - Jaeger JSON: the query API's `{"data": [{"traceID", "spans",
//!   "processes"}]}`;
//! - Zipkin v2 JSON: an array of spans.
//!
//! Ids are kept as the text the file gives (lowercased), so hex and other
//! encodings both work as keys. A JSON error names the file, line and
//! column. What the trees lack (a parent that is not in the file, a child
//! outside its parent's interval, an id given twice) is counted in
//! [`Anomalies`], never fatal.

mod assemble;
mod calibrate;
pub mod fit;
mod formats;
mod infer;

use std::path::{Path, PathBuf};

pub use assemble::{Assembled, Assembler, MAX_OPEN_SPANS, QUIET_WINDOW_NS, assemble};
pub use calibrate::{Calibration, Change, calibrate, clipped};
pub use formats::{Watch, read_stream, read_text, read_watched};
pub use infer::{
    DEFAULT_WORKERS, Import, ImportOptions, InferError, Inference, LinkReport, ServiceReport, infer,
};

/// The attribute (or tag) giving a handling's wait for a worker, in
/// nanoseconds.
pub const QUEUE_WAIT: &str = "archbench.queue_wait_ns";

/// What a span stands for (OpenTelemetry's span kinds; Jaeger's and
/// Zipkin's `span.kind` map onto them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpanKind {
    /// Not said.
    Unspecified,
    /// Work inside a service.
    Internal,
    /// Handling a request a caller waits for.
    Server,
    /// A call the caller waits for.
    Client,
    /// A message sent without waiting.
    Producer,
    /// Handling a message.
    Consumer,
}

impl SpanKind {
    /// OTLP's number for the kind (`SPAN_KIND_SERVER` is 2).
    pub fn from_otlp(n: u64) -> Self {
        match n {
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => Self::Unspecified,
        }
    }

    /// A kind by name, as the formats write it: `SERVER`, `server`,
    /// `SPAN_KIND_SERVER`.
    pub fn from_name(name: &str) -> Self {
        let name = name.trim().to_ascii_lowercase();
        match name.strip_prefix("span_kind_").unwrap_or(&name) {
            "internal" => Self::Internal,
            "server" => Self::Server,
            "client" => Self::Client,
            "producer" => Self::Producer,
            "consumer" => Self::Consumer,
            _ => Self::Unspecified,
        }
    }
}

/// One span, whatever format it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The trace's id.
    pub trace: String,
    /// The span's id, unique in its trace.
    pub id: String,
    /// The parent span's id; `None` for a root.
    pub parent: Option<String>,
    /// The service that recorded it.
    pub service: String,
    /// The instance (replica) that recorded it, when the format says.
    pub instance: Option<String>,
    /// The operation's name.
    pub operation: String,
    /// What it stands for.
    pub kind: SpanKind,
    /// Its start, nanoseconds since the Unix epoch.
    pub start_ns: u64,
    /// Its end, nanoseconds since the Unix epoch.
    pub end_ns: u64,
    /// It failed (an error status or an `error` tag).
    pub error: bool,
    /// Linked to its parent by "follows from" rather than "child of": the
    /// parent did not wait for it.
    pub follows_from: bool,
    /// For a handling: how long the request waited for a worker before its
    /// work began, when the span says (the attribute or tag
    /// `archbench.queue_wait_ns`, which `archbench emulate` writes).
    pub queue_wait_ns: Option<u64>,
}

impl Span {
    /// Its duration in nanoseconds.
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// The formats read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OTLP JSON, one document or JSON Lines.
    Otlp,
    /// Jaeger's query API JSON.
    Jaeger,
    /// Zipkin v2 JSON.
    Zipkin,
}

/// Why a traces file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        cause: std::io::Error,
    },
    /// The text is not JSON of a known format, at this place.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line and column.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The content is none of the formats read.
    #[error("{path}: not OTLP JSON, Jaeger JSON or Zipkin v2 JSON ({why})")]
    Unknown {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        why: String,
    },
}

/// Reads one traces file whole, telling its format from its content
/// ([`read_stream`] reads it a span at a time).
pub fn read(path: &Path) -> Result<(Format, Vec<Span>), TraceError> {
    let mut spans = Vec::new();
    let format = read_stream(path, &mut |span| spans.push(span))?;
    formats::reparent_shared(&mut spans);
    Ok((format, spans))
}

/// What the traces lacked, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// Spans whose parent is not in the traces (sampled away, or lost): each
    /// is taken as the root of a subtree of its own.
    pub missing_parent: u64,
    /// Spans that start before their parent or end after it (clock skew
    /// between machines).
    pub skewed: u64,
    /// Spans whose id was already taken in their trace: all but the first
    /// are dropped.
    pub duplicate: u64,
    /// Spans that end before they start: dropped.
    pub negative: u64,
}

/// One trace: its spans, and each span's children in start order.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The spans, in the order read.
    pub spans: Vec<Span>,
    /// Each span's children (indices into `spans`), by start.
    pub children: Vec<Vec<usize>>,
    /// Spans without a parent in the trace: the root, and the tops of
    /// subtrees whose parent is missing.
    pub roots: Vec<usize>,
}

/// Why traces files could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read.
    #[error(transparent)]
    Read(#[from] TraceError),
    /// Nothing usable was in them.
    #[error(transparent)]
    Infer(#[from] InferError),
    /// The import was cancelled (by [`Watch::cancel`]).
    #[error("the import was cancelled")]
    Cancelled,
}

/// Reads every file (any mix of formats) as a stream, rebuilds the trees
/// and builds a project, as `archbench import` and the app's File → Import
/// traces do. Memory holds the traces of the last [`QUIET_WINDOW_NS`] (at
/// most [`MAX_OPEN_SPANS`] spans) and numbers per handling, not the files.
/// Returns the import and the files' names (for its header).
pub fn import_files(
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<(Import, Vec<String>), ImportError> {
    import_watched(paths, options, &Watch::default())
}

/// [`import_files`], with its progress counted into `watch`, which can also
/// cancel it.
pub fn import_watched(
    paths: &[PathBuf],
    options: &ImportOptions,
    watch: &Watch,
) -> Result<(Import, Vec<String>), ImportError> {
    let mut inference = Inference::new();
    let mut assembler = Assembler::default();
    let mut sources = Vec::new();
    let mut walk = |trace: Trace| inference.add(&trace);
    for path in paths {
        assembler.next_file();
        let read = read_watched(path, watch, &mut |span| assembler.push(span, &mut walk));
        if watch.is_cancelled() {
            return Err(ImportError::Cancelled);
        }
        read?;
        sources.push(path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ));
    }
    let seen = assembler.finish(&mut walk);
    let mut import = inference.finish(seen.anomalies, &sources, options)?;
    if seen.closed_early > 0 {
        import.warnings.push(format!(
            "{} traces were still open when {MAX_OPEN_SPANS} spans were held, and were \
             closed early: spans of theirs read later started traces of their own",
            seen.closed_early
        ));
    }
    Ok((import, sources))
}
