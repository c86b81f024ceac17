//! The three formats' JSON, deserialised as typed structures (so an error
//! names its line and column) and turned into [`Span`]s.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Format, Span, SpanKind, TraceError};

/// Reads traces from `text` (of file `path`, for messages).
pub fn read_text(text: &str, path: &Path) -> Result<(Format, Vec<Span>), TraceError> {
    let syntax = |e: &serde_json::Error| {
        // serde_json ends its message with the place, which the error
        // already starts with.
        let message = e.to_string();
        let message = match message.rfind(" at line ") {
            Some(at) => message[..at].to_owned(),
            None => message,
        };
        TraceError::Syntax {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message,
        }
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let spans: Vec<ZipkinSpan> = serde_json::from_str(text).map_err(|e| syntax(&e))?;
        return Ok((Format::Zipkin, zipkin(spans)));
    }
    if !trimmed.starts_with('{') {
        return Err(TraceError::Unknown {
            path: path.to_owned(),
            why: if trimmed.is_empty() {
                "the file is empty".into()
            } else {
                "it does not start with { or [".into()
            },
        });
    }
    let probe = serde_json::Deserializer::from_str(text)
        .into_iter::<Probe>()
        .next()
        .transpose()
        .map_err(|e| syntax(&e))?
        .unwrap_or_default();
    if probe.resource_spans.is_some() {
        let mut spans = Vec::new();
        // One document, or JSON Lines of them: a stream of values either way.
        for data in serde_json::Deserializer::from_str(text).into_iter::<OtlpData>() {
            otlp(data.map_err(|e| syntax(&e))?, &mut spans);
        }
        return Ok((Format::Otlp, spans));
    }
    if probe.data.is_some() {
        let doc: JaegerDoc = serde_json::from_str(text).map_err(|e| syntax(&e))?;
        return Ok((Format::Jaeger, jaeger(doc)));
    }
    Err(TraceError::Unknown {
        path: path.to_owned(),
        why: "a JSON object with neither \"resourceSpans\" nor \"data\"".into(),
    })
}

#[derive(Default, Deserialize)]
struct Probe {
    #[serde(rename = "resourceSpans")]
    resource_spans: Option<IgnoredAny>,
    data: Option<IgnoredAny>,
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
struct OtlpData {
    #[serde(rename = "resourceSpans", default)]
    resource_spans: Vec<ResourceSpans>,
}

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

fn otlp(data: OtlpData, out: &mut Vec<Span>) {
    for resource in data.resource_spans {
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
                out.push(Span {
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
struct JaegerDoc {
    #[serde(default)]
    data: Vec<JaegerTrace>,
}

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

fn jaeger(doc: JaegerDoc) -> Vec<Span> {
    let mut out = Vec::new();
    for trace in doc.data {
        for span in trace.spans {
            let process = trace.processes.get(&span.process_id);
            let tag = |key: &str| span.tags.iter().find(|t| t.key == key).map(JaegerTag::text);
            let reference = span.references.first();
            let parent = reference
                .map(|r| id(&r.span_id))
                .or_else(|| span.parent_span_id.as_deref().map(id))
                .filter(|p| !p.is_empty() && p.chars().any(|c| c != '0'));
            let start_ns = span.start.get().saturating_mul(1000);
            out.push(Span {
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
    out
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

/// Zipkin's B3 model lets a server span share its client's id (`shared`):
/// the server span gets an id of its own, with the client as its parent.
fn zipkin(spans: Vec<ZipkinSpan>) -> Vec<Span> {
    let mut out: Vec<Span> = spans
        .into_iter()
        .map(|span| {
            let kind = span
                .kind
                .as_deref()
                .map_or(SpanKind::Unspecified, SpanKind::from_name);
            let own = id(&span.id);
            let (span_id, parent) = if span.shared && kind == SpanKind::Server {
                (format!("{own}~server"), Some(own))
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
                end_ns: start_ns
                    .saturating_add(span.duration.map_or(0, |d| d.get().saturating_mul(1000))),
                error: span.tags.contains_key("error"),
                follows_from: false,
                queue_wait_ns: span
                    .tags
                    .get(super::QUEUE_WAIT)
                    .and_then(|t| t.trim().parse().ok()),
            }
        })
        .collect();
    // The server's own work names the shared id as its parent: re-parent
    // those children (of the server's service) to the server span.
    let shared: HashMap<(String, String), String> = out
        .iter()
        .filter(|s| s.id.ends_with("~server"))
        .filter_map(|s| {
            let own = s.parent.clone()?;
            Some(((s.trace.clone(), own), s.service.clone()))
        })
        .collect();
    for span in &mut out {
        if let Some(parent) = &span.parent
            && !span.id.ends_with("~server")
            && shared
                .get(&(span.trace.clone(), parent.clone()))
                .is_some_and(|service| *service == span.service)
        {
            span.parent = Some(format!("{parent}~server"));
        }
    }
    out
}
