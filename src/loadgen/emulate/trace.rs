//! Traces of an emulation, written as OpenTelemetry (OTLP) JSON Lines: one
//! `TracesData` object a line, as the OpenTelemetry Collector's file
//! exporter writes them.
//!
//! Every request a replica handles is a span of kind SERVER (CONSUMER when
//! it came by an asynchronous call), and every attempt of a call is a span
//! of kind CLIENT (PRODUCER for an asynchronous call) whose child is the
//! callee's span. The context travels in a W3C `traceparent` header; a
//! request without one (from the load generator) starts a trace. Times are
//! the real instants the emulator saw, as Unix nanoseconds.
//!
//! Spans go over a channel to a writer thread, which groups what has
//! arrived by service and replica and writes a line per group, so the
//! request path never waits on the disk. Closing the tracer (when the
//! emulation stops) writes what is left and flushes the file.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

/// The header carrying the trace context (W3C Trace Context).
pub const TRACEPARENT: &str = "traceparent";

/// The header marking a request sent by an asynchronous call.
pub const ASYNC_HEADER: &str = "x-archbench-async";

/// The attribute of a SERVER or CONSUMER span that says how long, in
/// nanoseconds, the request waited for a worker before its work began: the
/// part of the span that is queueing, not service (see docs/traces.md).
pub const QUEUE_WAIT: &str = crate::model::traces::QUEUE_WAIT;

/// The most spans grouped into one line.
const BATCH: usize = 4096;

/// The most spans waiting for the writer: beyond, new spans are dropped
/// and counted (the request path never waits on the disk, and memory stays
/// bounded).
const QUEUE: usize = 1 << 16;

/// What a span stands for (OTLP's `SpanKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Handling a request that a caller waits for.
    Server = 2,
    /// One attempt of a call the caller waits for.
    Client = 3,
    /// One asynchronous call: the caller does not wait.
    Producer = 4,
    /// Handling a request sent by an asynchronous call.
    Consumer = 5,
}

/// Where a request sits in its trace: the trace, and the span its own
/// spans are children of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parent {
    pub trace: u128,
    pub span: u64,
}

impl Parent {
    /// The `traceparent` header's value: version 00, sampled.
    pub fn header(self) -> String {
        format!("00-{:032x}-{:016x}-01", self.trace, self.span)
    }

    /// Reads a `traceparent` value; `None` when it is not version 00 with
    /// non-zero ids.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace, span, _flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || trace.len() != 32 || span.len() != 16 || parts.next().is_some() {
            return None;
        }
        let trace = u128::from_str_radix(trace, 16).ok()?;
        let span = u64::from_str_radix(span, 16).ok()?;
        (trace != 0 && span != 0).then_some(Self { trace, span })
    }
}

/// One finished span.
#[derive(Clone, Debug)]
pub struct Span {
    pub trace: u128,
    pub id: u64,
    pub parent: Option<u64>,
    pub kind: Kind,
    /// The service (a station index) and replica it ran at.
    pub station: usize,
    pub replica: usize,
    /// `GET /` for a handling, `caller -> callee` for a call.
    pub name: String,
    pub start: Instant,
    pub end: Instant,
    pub error: bool,
    /// For a handling: how long the request waited for a worker, written
    /// as the attribute [`QUEUE_WAIT`].
    pub queue_wait: Option<std::time::Duration>,
}

/// Hands out ids and sends finished spans to the writer.
pub struct Tracer {
    sender: Mutex<Option<mpsc::SyncSender<Span>>>,
    dropped: AtomicU64,
    writer: Mutex<Option<JoinHandle<std::io::Result<u64>>>>,
    seed: u64,
    next: AtomicU64,
}

/// `SplitMix64`'s output function: distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Tracer {
    /// A tracer writing to `path` (created or truncated); `services` names
    /// the stations, `epoch` is when the emulation started.
    pub fn create(
        path: &Path,
        services: Vec<String>,
        epoch: Instant,
        seed: u64,
    ) -> std::io::Result<Self> {
        let file = File::create(path)?;
        #[expect(clippy::disallowed_methods, reason = "spans carry wall-clock times")]
        let wall = SystemTime::now();
        let epoch_unix_ns = wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name("archbench-traces".into())
            .spawn(move || {
                write(
                    &receiver,
                    BufWriter::new(file),
                    &services,
                    epoch,
                    epoch_unix_ns,
                )
            })?;
        Ok(Self {
            sender: Mutex::new(Some(sender)),
            dropped: AtomicU64::new(0),
            writer: Mutex::new(Some(writer)),
            seed,
            next: AtomicU64::new(1),
        })
    }

    /// A new span id, never zero.
    pub fn span_id(&self) -> u64 {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        mix(self.seed ^ mix(n)).max(1)
    }

    /// A new trace id, never zero.
    pub fn trace_id(&self) -> u128 {
        (u128::from(self.span_id()) << 64) | u128::from(self.span_id())
    }

    /// Sends a finished span to the writer; counts it as dropped when the
    /// writer is [`QUEUE`] spans behind (or the tracer closed).
    pub fn record(&self, span: Span) {
        let sent = self
            .sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|sender| sender.try_send(span).is_ok());
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Spans dropped so far because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops taking spans, writes the rest and flushes the file; returns
    /// how many spans were written. Later calls return `Ok(0)`.
    pub fn close(&self) -> std::io::Result<u64> {
        drop(
            self.sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match writer.map(JoinHandle::join) {
            Some(Ok(written)) => written,
            Some(Err(_)) => Err(std::io::Error::other("the trace writer panicked")),
            None => Ok(0),
        }
    }
}

/// The writer thread: a line per service and replica of each batch.
fn write(
    receiver: &mpsc::Receiver<Span>,
    mut out: BufWriter<File>,
    services: &[String],
    epoch: Instant,
    epoch_unix_ns: u64,
) -> std::io::Result<u64> {
    let unix = |at: Instant| {
        let since = u64::try_from(at.saturating_duration_since(epoch).as_nanos()).unwrap_or(0);
        epoch_unix_ns.saturating_add(since).to_string()
    };
    let mut written = 0;
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(span) => batch.push(span),
                Err(_) => break,
            }
        }
        batch.sort_by_key(|s| (s.station, s.replica));
        for group in batch.chunk_by(|a, b| (a.station, a.replica) == (b.station, b.replica)) {
            let service = services.get(group[0].station).map_or("", String::as_str);
            let spans: Vec<serde_json::Value> = group
                .iter()
                .map(|s| {
                    let mut span = json!({
                        "traceId": format!("{:032x}", s.trace),
                        "spanId": format!("{:016x}", s.id),
                        "name": s.name,
                        "kind": s.kind as u8,
                        "startTimeUnixNano": unix(s.start),
                        "endTimeUnixNano": unix(s.end),
                        "status": if s.error { json!({"code": 2}) } else { json!({}) },
                    });
                    if let Some(parent) = s.parent {
                        span["parentSpanId"] = json!(format!("{parent:016x}"));
                    }
                    if let Some(wait) = s.queue_wait {
                        let ns = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
                        span["attributes"] = json!([
                            {"key": QUEUE_WAIT, "value": {"intValue": ns.to_string()}}
                        ]);
                    }
                    span
                })
                .collect();
            let line = json!({"resourceSpans": [{
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": service}},
                    {"key": "service.instance.id",
                     "value": {"stringValue": format!("{service}-{}", group[0].replica)}},
                ]},
                "scopeSpans": [{"scope": {"name": "archbench-emulator"}, "spans": spans}],
            }]});
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
            written += group.len() as u64;
        }
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::Parent;

    #[test]
    fn traceparent_round_trips_and_bad_values_are_refused() {
        let parent = Parent {
            trace: 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
            span: 0x00f0_67aa_0ba9_02b7,
        };
        // The example of the W3C Trace Context recommendation.
        assert_eq!(
            parent.header(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(Parent::parse(&parent.header()), Some(parent));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(Parent::parse(bad), None, "{bad}");
        }
    }
}
