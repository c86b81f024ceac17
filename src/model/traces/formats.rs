//! The three formats' JSON, deserialised as typed structures (so an error
//! names its line and column) and turned into [`Span`]s.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Format, Span, SpanKind, TraceError};

/// Reads traces from `text` (of file `path`, for messages).
pub fn read_text(text: &str, path: &Path) -> Result<(Format, Vec<Span>), TraceError> {
    let mut spans = Vec::new();
    let first = text.trim_start().bytes().next();
    let mut de = serde_json::Deserializer::from_str(text);
    let format = read_from(&mut de, first, path, (0, 0), &mut |span| spans.push(span))?;
    reparent_shared(&mut spans);
    Ok((format, spans))
}

/// Reads the traces in the file at `path` as a stream, handing each span to
/// `sink` as it is read: memory holds one element of the file's outer list
/// at a time (a Zipkin span, a Jaeger trace, an OTLP resource's batch).
/// Zipkin's shared server spans are re-parented later, by
/// [`super::Assembler`], once their trace is whole.
pub fn read_stream(path: &Path, sink: &mut dyn FnMut(Span)) -> Result<Format, TraceError> {
    read_watched(path, &Watch::default(), sink)
}

/// [`read_stream`], counting the bytes read into `watch` and stopping with
/// an I/O error once `watch` is cancelled.
pub fn read_watched(
    path: &Path,
    watch: &Watch,
    sink: &mut dyn FnMut(Span),
) -> Result<Format, TraceError> {
    use std::io::BufRead;
    let io = |cause| TraceError::Io {
        path: path.to_owned(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let counted = Counted { file, watch };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, counted);
    // Leading blank space is skipped a buffer at a time, counting the lines
    // and columns it held so that errors still name the file's place.
    let (mut lines, mut columns) = (0, 0);
    let first = loop {
        let buffer = reader.fill_buf().map_err(io)?;
        if buffer.is_empty() {
            break None;
        }
        if let Some(at) = buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            break Some(buffer[at]);
        }
        for &b in buffer {
            if b == b'\n' {
                (lines, columns) = (lines + 1, 0);
            } else {
                columns += 1;
            }
        }
        let all = buffer.len();
        reader.consume(all);
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    read_from(&mut de, first, path, (lines, columns), sink)
}

/// Reads one file's JSON from `de`, whose first non-blank byte is `first`;
/// `skipped` are the lines and columns read before `de` started.
fn read_from<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    first: Option<u8>,
    path: &Path,
    skipped: (usize, usize),
    sink: &mut dyn FnMut(Span),
) -> Result<Format, TraceError> {
    let syntax = |e: &serde_json::Error| {
        if e.is_io() {
            return TraceError::Io {
                path: path.to_owned(),
                cause: std::io::Error::other(e.to_string()),
            };
        }
        // serde_json ends its message with the place, which the error
        // already starts with.
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_owned(),
            None => message,
        };
        let (line, column) = match e.line() {
            1 => (1 + skipped.0, e.column() + skipped.1),
            line => (line + skipped.0, e.column()),
        };
        TraceError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    match first {
        Some(b'[') => {
            let mut each = |span: ZipkinSpan| sink(zipkin(span));
            serde::de::DeserializeSeed::deserialize(Each::new(&mut each), &mut *de)
                .map_err(|e| syntax(&e))?;
            de.end().map_err(|e| syntax(&e))?;
            Ok(Format::Zipkin)
        }
        Some(b'{') => {
            // One document, or JSON Lines of them: documents until the end.
            let mut format = None;
            loop {
                let document = Document {
                    sink: &mut *sink,
                    format: &mut format,
                };
                serde::de::DeserializeSeed::deserialize(document, &mut *de)
                    .map_err(|e| syntax(&e))?;
                match de.end() {
                    Ok(()) => break,
                    Err(e) if e.is_io() => return Err(syntax(&e)),
                    // More follows: the next document.
                    Err(_) => {}
                }
            }
            format.ok_or_else(|| TraceError::Unknown {
                path: path.to_owned(),
                why: "a JSON object with neither \"resourceSpans\" nor \"data\"".into(),
            })
        }
        None => Err(TraceError::Unknown {
            path: path.to_owned(),
            why: "the file is empty".into(),
        }),
        Some(_) => Err(TraceError::Unknown {
            path: path.to_owned(),
            why: "it does not start with { or [".into(),
        }),
    }
}

/// How far a read has come, and a way to stop it, shared with another
/// thread (the app's progress bar and its Cancel button).
#[derive(Debug, Default)]
pub struct Watch {
    bytes: std::sync::atomic::AtomicU64,
    cancelled: std::sync::atomic::AtomicBool,
}

impl Watch {
    /// Bytes read so far, over every file.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Asks the read to stop.
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A file whose reads are counted into a [`Watch`], and fail once it is
/// cancelled.
struct Counted<'a> {
    file: std::fs::File,
    watch: &'a Watch,
}

impl std::io::Read for Counted<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.watch.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        let n = self.file.read(buffer)?;
        self.watch
            .bytes
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A JSON list read an element at a time, each handed to a closure.
struct Each<'a, T> {
    each: &'a mut dyn FnMut(T),
}

impl<'a, T> Each<'a, T> {
    fn new(each: &'a mut dyn FnMut(T)) -> Self {
        Self { each }
    }
}

impl<'de, T: Deserialize<'de>> serde::de::DeserializeSeed<'de> for Each<'_, T> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Each<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.each)(element);
        }
        Ok(())
    }
}

/// One JSON object at the top of an OTLP or Jaeger file: its
/// `resourceSpans` or its `data` read an element at a time.
struct Document<'a> {
    sink: &'a mut dyn FnMut(Span),
    format: &'a mut Option<Format>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Document<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Document<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an OTLP or Jaeger JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.sink;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "resourceSpans" => {
                    self.format.get_or_insert(Format::Otlp);
                    let mut each = |resource: ResourceSpans| otlp(resource, &mut *sink);
                    map.next_value_seed(Each::new(&mut each))?;
                }
                "data" => {
                    self.format.get_or_insert(Format::Jaeger);
                    let mut each = |trace: JaegerTrace| jaeger(trace, &mut *sink);
                    map.next_value_seed(Each::new(&mut each))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A number written as a JSON number or as a string of digits (OTLP JSON
/// writes 64-bit integers as strings).
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Float(f64),
    Text(String),
}

impl Number {
    fn get(&self) -> u64 {
        match self {
            Self::Int(n) => *n,
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "times are non-negative and within u64"
            )]
            Self::Float(f) => f.max(0.0) as u64,
            Self::Text(t) => t.trim().parse().unwrap_or(0),
        }
    }
}

/// A kind written as OTLP's number or as a name.
#[derive(Deserialize)]
#[serde(untagged)]
enum KindValue {
    Number(u64),
    Name(String),
}

impl KindValue {
    fn get(&self) -> SpanKind {
        match self {
            Self::Number(n) => SpanKind::from_otlp(*n),
            Self::Name(name) => SpanKind::from_name(name),
        }
    }
}

fn id(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

// --- OTLP -------------------------------------------------------------------

#[derive(Deserialize)]
struct ResourceSpans {
    #[serde(default)]
    resource: Resource,
    #[serde(rename = "scopeSpans", alias = "instrumentationLibrarySpans", default)]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Default, Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: AnyValue,
}

#[derive(Default, Deserialize)]
struct AnyValue {
    #[serde(rename = "stringValue")]
    string: Option<String>,
    #[serde(rename = "intValue")]
    int: Option<Number>,
    #[serde(rename = "boolValue")]
    boolean: Option<bool>,
}

impl AnyValue {
    fn text(&self) -> Option<String> {
        self.string
            .clone()
            .or_else(|| self.int.as_ref().map(|n| n.get().to_string()))
            .or_else(|| self.boolean.map(|b| b.to_string()))
    }
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize)]
struct OtlpSpan {
    #[serde(rename = "traceId")]
    trace_id: String,
    #[serde(rename = "spanId")]
    span_id: String,
    #[serde(rename = "parentSpanId", default)]
    parent_span_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Option<KindValue>,
    #[serde(rename = "startTimeUnixNano")]
    start: Number,
    #[serde(rename = "endTimeUnixNano")]
    end: Number,
    #[serde(default)]
    status: Option<OtlpStatus>,
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct OtlpStatus {
    #[serde(default)]
    code: Option<KindValue>,
}

fn otlp(resource: ResourceSpans, out: &mut dyn FnMut(Span)) {
    {
        let attribute = |key: &str| {
            resource
                .resource
                .attributes
                .iter()
                .find(|a| a.key == key)
                .and_then(|a| a.value.text())
        };
        let service = attribute("service.name").unwrap_or_else(|| "unknown".into());
        let instance = attribute("service.instance.id").or_else(|| attribute("host.name"));
        for scope in resource.scope_spans {
            for span in scope.spans {
                // Status code 2 (or STATUS_CODE_ERROR) is an error.
                let error = span.status.and_then(|s| s.code).is_some_and(|c| match c {
                    KindValue::Number(n) => n == 2,
                    KindValue::Name(name) => name.to_ascii_uppercase().ends_with("ERROR"),
                });
                out(Span {
                    trace: id(&span.trace_id),
                    id: id(&span.span_id),
                    parent: span
                        .parent_span_id
                        .map(|p| id(&p))
                        .filter(|p| !p.is_empty()),
                    service: service.clone(),
                    instance: instance.clone(),
                    operation: span.name,
                    kind: span.kind.map_or(SpanKind::Unspecified, |k| k.get()),
                    start_ns: span.start.get(),
                    end_ns: span.end.get(),
                    error,
                    follows_from: false,
                    queue_wait_ns: span
                        .attributes
                        .iter()
                        .find(|a| a.key == super::QUEUE_WAIT)
                        .and_then(|a| a.value.text())
                        .and_then(|t| t.parse().ok()),
                });
            }
        }
    }
}

// --- Jaeger -----------------------------------------------------------------

#[derive(Deserialize)]
struct JaegerTrace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: HashMap<String, JaegerProcess>,
}

#[derive(Deserialize)]
struct JaegerProcess {
    #[serde(rename = "serviceName")]
    service_name: String,
    #[serde(default)]
    tags: Vec<JaegerTag>,
}

#[derive(Deserialize)]
struct JaegerTag {
    key: String,
    #[serde(default)]
    value: serde_json::Value,
}

impl JaegerTag {
    fn text(&self) -> String {
        match &self.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(rename = "parentSpanID", default)]
    parent_span_id: Option<String>,
    #[serde(rename = "operationName", default)]
    operation: String,
    #[serde(default)]
    references: Vec<JaegerReference>,
    /// Microseconds since the epoch.
    #[serde(rename = "startTime")]
    start: Number,
    /// Microseconds.
    duration: Number,
    #[serde(default)]
    tags: Vec<JaegerTag>,
    #[serde(rename = "processID", default)]
    process_id: String,
}

#[derive(Deserialize)]
struct JaegerReference {
    #[serde(rename = "refType", default)]
    ref_type: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

fn jaeger(trace: JaegerTrace, out: &mut dyn FnMut(Span)) {
    {
        for span in trace.spans {
            let process = trace.processes.get(&span.process_id);
            let tag = |key: &str| span.tags.iter().find(|t| t.key == key).map(JaegerTag::text);
            let reference = span.references.first();
            let parent = reference
                .map(|r| id(&r.span_id))
                .or_else(|| span.parent_span_id.as_deref().map(id))
                .filter(|p| !p.is_empty() && p.chars().any(|c| c != '0'));
            let start_ns = span.start.get().saturating_mul(1000);
            out(Span {
                trace: id(&span.trace_id),
                id: id(&span.span_id),
                parent,
                service: process.map_or_else(|| "unknown".into(), |p| p.service_name.clone()),
                instance: process.and_then(|p| {
                    p.tags
                        .iter()
                        .find(|t| matches!(t.key.as_str(), "hostname" | "ip" | "client-uuid"))
                        .map(JaegerTag::text)
                }),
                operation: span.operation.clone(),
                kind: tag("span.kind").map_or(SpanKind::Unspecified, |k| SpanKind::from_name(&k)),
                start_ns,
                end_ns: start_ns.saturating_add(span.duration.get().saturating_mul(1000)),
                error: tag("error").is_some_and(|v| v == "true")
                    || tag("otel.status_code").is_some_and(|v| v.eq_ignore_ascii_case("error")),
                follows_from: reference
                    .is_some_and(|r| r.ref_type.eq_ignore_ascii_case("FOLLOWS_FROM")),
                queue_wait_ns: tag(super::QUEUE_WAIT).and_then(|t| t.parse().ok()),
            });
        }
    }
}

// --- Zipkin v2 --------------------------------------------------------------

#[derive(Deserialize)]
struct ZipkinSpan {
    #[serde(rename = "traceId")]
    trace_id: String,
    id: String,
    #[serde(rename = "parentId", default)]
    parent_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    /// Microseconds since the epoch.
    #[serde(default)]
    timestamp: Option<Number>,
    /// Microseconds.
    #[serde(default)]
    duration: Option<Number>,
    #[serde(rename = "localEndpoint", default)]
    local: Option<ZipkinEndpoint>,
    #[serde(default)]
    tags: HashMap<String, String>,
    #[serde(default)]
    shared: bool,
}

#[derive(Deserialize)]
struct ZipkinEndpoint {
    #[serde(rename = "serviceName", default)]
    service_name: Option<String>,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    port: Option<u16>,
}

/// One Zipkin span. Zipkin's B3 model lets a server span share its
/// client's id (`shared`): the server span gets an id of its own, with the
/// client as its parent (and [`reparent_shared`] moves the server's own
/// children under it).
fn zipkin(span: ZipkinSpan) -> Span {
    let kind = span
        .kind
        .as_deref()
        .map_or(SpanKind::Unspecified, SpanKind::from_name);
    let own = id(&span.id);
    let (span_id, parent) = if span.shared && kind == SpanKind::Server {
        (format!("{own}{SHARED}"), Some(own))
    } else {
        (
            own,
            span.parent_id.as_deref().map(id).filter(|p| !p.is_empty()),
        )
    };
    let start_ns = span.timestamp.map_or(0, |t| t.get().saturating_mul(1000));
    let local = span.local.as_ref();
    Span {
        trace: id(&span.trace_id),
        id: span_id,
        parent,
        service: local
            .and_then(|l| l.service_name.clone())
            .unwrap_or_else(|| "unknown".into()),
        instance: local.and_then(|l| {
            l.ipv4
                .as_ref()
                .map(|ip| l.port.map_or_else(|| ip.clone(), |p| format!("{ip}:{p}")))
        }),
        operation: span.name.unwrap_or_default(),
        kind,
        start_ns,
        end_ns: start_ns.saturating_add(span.duration.map_or(0, |d| d.get().saturating_mul(1000))),
        error: span.tags.contains_key("error"),
        follows_from: false,
        queue_wait_ns: span
            .tags
            .get(super::QUEUE_WAIT)
            .and_then(|t| t.trim().parse().ok()),
    }
}

/// What a Zipkin shared server span's id is suffixed with.
const SHARED: &str = "~server";

/// The server's own work under a Zipkin shared span names the shared id as
/// its parent: those children (of the server's service, and not themselves
/// handlings, which a trace merged from another format's file may hold
/// under the same client) are re-parented to the server span. Whole traces
/// (or whole files) only; running it twice changes nothing.
pub(super) fn reparent_shared(spans: &mut [Span]) {
    let shared: HashMap<(String, String), String> = spans
        .iter()
        .filter(|s| s.id.ends_with(SHARED))
        .filter_map(|s| {
            let own = s.parent.clone()?;
            Some(((s.trace.clone(), own), s.service.clone()))
        })
        .collect();
    if shared.is_empty() {
        return;
    }
    for span in spans {
        if let Some(parent) = &span.parent
            && !span.id.ends_with(SHARED)
            && !matches!(span.kind, SpanKind::Server | SpanKind::Consumer)
            && shared
                .get(&(span.trace.clone(), parent.clone()))
                .is_some_and(|service| *service == span.service)
        {
            span.parent = Some(format!("{parent}{SHARED}"));
        }
    }
}
