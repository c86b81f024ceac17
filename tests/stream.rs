//! Reading traces as a stream: a file longer than the quiet window is
//! assembled as it is read (traces closed behind it, whole) and gives the
//! project that reading it whole gives; a trace closed early is counted,
//! not lost; a broken line far into a file is named at its place.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use archbench::model::traces::{self, Anomalies, Assembler, ImportOptions, Span, SpanKind};
use archbench::model::{Distribution, TimeSpan};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("archbench-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// One OTLP JSON line holding one span of `service`.
fn line(
    trace: u64,
    span: u64,
    parent: Option<u64>,
    service: &str,
    kind: u8,
    ms: (f64, f64),
) -> String {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ns = |ms: f64| 1_700_000_000_000_000_000 + (ms * 1e6).round() as u64;
    let parent = parent.map_or_else(String::new, |p| format!(r#""parentSpanId":"{p:016x}","#));
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}},{{"key":"service.instance.id","value":{{"stringValue":"{service}-0"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"{trace:032x}","spanId":"{span:016x}",{parent}"name":"{service}","kind":{kind},"startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}]}}]}}]}}"#,
        ns(ms.0),
        ns(ms.1)
    )
}

/// `n` requests a quarter second apart: the gateway's handling (10 ms), its
/// call to the api (from 1 to 9 ms) and the api's handling (2 to 8 ms),
/// each written when it ends, as exporters do.
fn write_requests(n: u64) -> PathBuf {
    let path = temp(&format!("requests-{n}.jsonl"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for k in 0..n {
        let t = k as f64 * 250.0;
        let (root, call, handling) = (3 * k + 1, 3 * k + 2, 3 * k + 3);
        for text in [
            line(k + 1, handling, Some(call), "api", 2, (t + 2.0, t + 8.0)),
            line(k + 1, call, Some(root), "gateway", 3, (t + 1.0, t + 9.0)),
            line(k + 1, root, None, "gateway", 2, (t, t + 10.0)),
        ] {
            writeln!(file, "{text}").unwrap();
        }
    }
    file.flush().unwrap();
    path
}

#[test]
fn a_long_stream_is_assembled_as_it_is_read_and_gives_what_reading_it_whole_gives() {
    let n = 400;
    let path = write_requests(n);
    // 100 s of requests against a quiet window of 30 s: the traces of the
    // last 30 s (120 of them, and the one being read) are open at most.
    let mut assembler = Assembler::default();
    let closed = std::cell::Cell::new(0usize);
    let (mut seen, mut most_open) = (HashSet::new(), 0usize);
    let mut whole = |trace: traces::Trace| {
        assert_eq!(trace.spans.len(), 3);
        assert_eq!(trace.roots.len(), 1);
        closed.set(closed.get() + 1);
    };
    traces::read_stream(&path, &mut |span: Span| {
        seen.insert(span.trace.clone());
        assembler.push(span, &mut whole);
        most_open = most_open.max(seen.len() - closed.get());
    })
    .unwrap();
    let closed_while_reading = closed.get();
    assert!(
        closed_while_reading >= 270 && most_open <= 122,
        "closed {closed_while_reading} of {n} while reading, {most_open} open at most"
    );
    let mut rest = 0;
    let seen_all = assembler.finish(&mut |_| rest += 1);
    assert_eq!(closed_while_reading + rest, 400);
    assert_eq!(seen_all.anomalies, Anomalies::default());
    assert_eq!(seen_all.closed_early, 0);

    // The stream's import is the whole file's, and what was written.
    let (streamed, _) =
        traces::import_files(std::slice::from_ref(&path), &ImportOptions::default()).unwrap();
    let (_, spans) = traces::read(&path).unwrap();
    let (trees, anomalies) = traces::assemble(spans);
    let read_whole = traces::infer(
        &trees,
        anomalies,
        &["requests".into()],
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(streamed.project.scenarios, read_whole.project.scenarios);
    assert_eq!((streamed.traces, streamed.spans), (400, 1200));
    let scenario = &streamed.project.scenarios[0];
    let time = |name: &str| {
        &scenario
            .services
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .service_time
    };
    // By hand: the gateway's own work is 10 ms less its 8 ms call; the
    // api's is its 6 ms; the call's network share is 8 − 6 ms.
    let ms = |ms: f64| Distribution::Constant(TimeSpan::from_secs_f64(ms / 1e3));
    assert_eq!(*time("gateway"), ms(2.0));
    assert_eq!(*time("api"), ms(6.0));
    assert_eq!(scenario.links.len(), 1);
    assert_eq!(scenario.links[0].latency, ms(2.0));
    // 399 gaps of 250 ms.
    assert!(
        (streamed.window_s - 99.75).abs() < 1e-9,
        "{}",
        streamed.window_s
    );
}

#[test]
fn a_trace_closed_early_is_counted_and_its_late_spans_start_again() {
    let span = |trace: &str, id: &str, parent: Option<&str>, ms: u64| Span {
        trace: trace.into(),
        id: id.into(),
        parent: parent.map(Into::into),
        service: "svc".into(),
        instance: None,
        operation: "op".into(),
        kind: SpanKind::Server,
        start_ns: ms * 1_000_000,
        end_ns: ms * 1_000_000 + 500_000,
        error: false,
        follows_from: false,
        queue_wait_ns: None,
    };
    // Room for four spans: the fifth closes the trace quiet the longest.
    let mut assembler = Assembler::new(u64::MAX, 4);
    let mut closed: Vec<usize> = Vec::new();
    let mut done = |trace: traces::Trace| closed.push(trace.spans.len());
    for s in [
        span("a", "1", None, 0),
        span("a", "2", Some("1"), 1),
        span("b", "1", None, 2),
        span("b", "2", Some("1"), 3),
        span("c", "1", None, 4),
        // Trace a's last span, after a was closed: a trace of its own,
        // whose parent is missing.
        span("a", "3", Some("2"), 5),
    ] {
        assembler.push(s, &mut done);
    }
    let seen_all = assembler.finish(&mut done);
    // a closed early by c's span; then, at the end, b, c, and a again.
    assert_eq!(closed, [2, 2, 1, 1]);
    assert_eq!(seen_all.closed_early, 1);
    assert_eq!(seen_all.traces, 4);
    assert_eq!(seen_all.anomalies.missing_parent, 1);
}

#[test]
fn a_broken_line_far_into_a_stream_is_named_at_its_place() {
    let path = temp("broken.jsonl");
    let good = line(1, 1, None, "web", 2, (0.0, 1.0));
    // Over a megabyte of blank lines first (more than one read buffer),
    // then two good lines and a broken one.
    let blank = "\n".repeat(1_100_000);
    let text = format!("{blank}{good}\n{good}\n  {{\"resourceSpans\": [}}\n");
    std::fs::write(&path, text).unwrap();
    let error = traces::read_stream(&path, &mut |_| {})
        .unwrap_err()
        .to_string();
    let expected = format!("{}:1100003:22: expected value", path.display());
    assert!(error.starts_with(&expected), "{error}");
    // And spaces before the first line's value count as columns.
    std::fs::write(&path, format!("{}{{\"data\": 3}}", " ".repeat(1_100_000))).unwrap();
    let error = traces::read_stream(&path, &mut |_| {})
        .unwrap_err()
        .to_string();
    let expected = format!("{}:1:1100011: invalid type", path.display());
    assert!(error.starts_with(&expected), "{error}");
}

#[test]
fn an_import_counts_its_bytes_and_stops_when_cancelled() {
    let path = write_requests(40);
    let size = std::fs::metadata(&path).unwrap().len();
    let watch = traces::Watch::default();
    let (import, _) = traces::import_watched(
        std::slice::from_ref(&path),
        &ImportOptions::default(),
        &watch,
    )
    .unwrap();
    assert_eq!(import.requests, 40);
    assert_eq!(watch.bytes(), size, "every byte read, once");
    // Cancelled (before it starts, as the app's Cancel may be): no project.
    let watch = traces::Watch::default();
    watch.cancel();
    let error = traces::import_watched(
        std::slice::from_ref(&path),
        &ImportOptions::default(),
        &watch,
    )
    .unwrap_err();
    assert!(matches!(error, traces::ImportError::Cancelled), "{error}");
}
