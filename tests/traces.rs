//! Reading traces: the same two traces written by hand in OTLP JSON Lines,
//! Jaeger JSON and Zipkin v2 JSON read to the same spans and trees, with
//! the missing parent, the skewed child and the duplicate id counted; and
//! broken files named at their line and column.

use std::path::{Path, PathBuf};

use archbench::model::traces::{self, Anomalies, Format, Span, SpanKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(name)
}

/// Nanoseconds since the epoch of a time `ms` after the fixtures' origin.
fn at(ms: f64) -> u64 {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let offset = (ms * 1e6).round() as u64;
    1_700_000_000_000_000_000 + offset
}

/// A span as compared across formats: what it is, where it ran, when, and
/// what its parent is (by service and kind), ids aside (Zipkin's shared
/// server span gets an id of its own).
type Shape = (
    String,
    SpanKind,
    String,
    u64,
    u64,
    bool,
    Option<(String, SpanKind)>,
);

fn shapes(spans: &[Span]) -> Vec<Shape> {
    let mut shapes: Vec<Shape> = spans
        .iter()
        .map(|s| {
            let parent = s.parent.as_ref().and_then(|p| {
                spans
                    .iter()
                    .find(|q| &q.id == p && q.trace == s.trace)
                    .map(|q| (q.service.clone(), q.kind))
            });
            (
                s.service.clone(),
                s.kind,
                s.operation.clone(),
                s.start_ns,
                s.end_ns,
                s.error,
                parent,
            )
        })
        .collect();
    shapes.sort();
    shapes
}

/// What every format must give, written out by hand.
fn expected() -> Vec<Shape> {
    use SpanKind::{Client, Consumer, Producer, Server};
    let s = |service: &str, kind, op: &str, from, to, error, parent: Option<(&str, SpanKind)>| {
        (
            service.to_owned(),
            kind,
            op.to_owned(),
            at(from),
            at(to),
            error,
            parent.map(|(p, k)| (p.to_owned(), k)),
        )
    };
    let skewed = s(
        "db",
        Server,
        "query",
        19.0,
        25.0,
        false,
        Some(("api", Server)),
    );
    let mut all = vec![
        s("gateway", Server, "GET /recommend", 0.0, 10.0, false, None),
        s(
            "gateway",
            Client,
            "gateway -> api",
            1.0,
            9.0,
            false,
            Some(("gateway", Server)),
        ),
        s(
            "api",
            Server,
            "GET /api",
            2.0,
            8.0,
            false,
            Some(("gateway", Client)),
        ),
        s(
            "api",
            Client,
            "api -> db",
            3.0,
            6.0,
            false,
            Some(("api", Server)),
        ),
        s("db", Server, "query", 3.5, 5.5, true, Some(("api", Client))),
        s(
            "api",
            Client,
            "api -> cache",
            3.0,
            4.0,
            false,
            Some(("api", Server)),
        ),
        s(
            "cache",
            Server,
            "get",
            3.2,
            3.8,
            false,
            Some(("api", Client)),
        ),
        s(
            "api",
            Producer,
            "api -> queue",
            6.0,
            6.5,
            false,
            Some(("api", Server)),
        ),
        s(
            "worker",
            Consumer,
            "consume",
            7.0,
            12.0,
            false,
            Some(("api", Producer)),
        ),
        // The second trace: a handling whose parent was sampled away, a
        // child that starts before it (skew), and that child twice.
        s("api", Server, "GET /api", 20.0, 30.0, false, None),
        skewed.clone(),
        skewed,
    ];
    all.sort();
    all
}

#[test]
fn three_formats_read_to_the_same_spans_and_trees() {
    for (name, format) in [
        ("fixture.otlp.jsonl", Format::Otlp),
        ("fixture.jaeger.json", Format::Jaeger),
        ("fixture.zipkin.json", Format::Zipkin),
    ] {
        let (read_as, spans) = traces::read(&fixture(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_as, format, "{name}");
        assert_eq!(shapes(&spans), expected(), "{name}");
        // Instances where the format says them.
        assert!(spans.iter().all(|s| s.instance.is_some()), "{name}");
        // The Jaeger fixture links the consumer by FOLLOWS_FROM.
        let consumer = spans.iter().find(|s| s.kind == SpanKind::Consumer).unwrap();
        assert_eq!(consumer.follows_from, format == Format::Jaeger, "{name}");

        let (trees, anomalies) = traces::assemble(spans);
        assert_eq!(
            anomalies,
            Anomalies {
                missing_parent: 1,
                skewed: 1,
                duplicate: 1,
                negative: 0
            },
            "{name}: the consumer outliving its producer is not skew"
        );
        assert_eq!(trees.len(), 2, "{name}");
        let first = &trees[0];
        assert_eq!(first.spans.len(), 9);
        assert_eq!(first.roots.len(), 1);
        let root = first.roots[0];
        assert_eq!(first.spans[root].service, "gateway");
        // The api handling's children: db and cache calls (overlapping, in
        // start order, then the end), then the message.
        let api = first
            .spans
            .iter()
            .position(|s| s.service == "api" && s.kind == SpanKind::Server)
            .unwrap();
        let names: Vec<&str> = first.children[api]
            .iter()
            .map(|&c| first.spans[c].operation.as_str())
            .collect();
        assert_eq!(
            names,
            ["api -> cache", "api -> db", "api -> queue"],
            "{name}"
        );
        assert_eq!(trees[1].spans.len(), 2, "{name}: the duplicate dropped");
    }
}

#[test]
fn broken_or_unknown_files_are_named_at_their_place() {
    let check = |text: &str, fragments: &[&str]| {
        let error = traces::read_text(text, Path::new("t.json"))
            .unwrap_err()
            .to_string();
        for fragment in fragments {
            assert!(
                error.contains(fragment),
                "{error:?} should mention {fragment:?}"
            );
        }
    };
    check("", &["t.json", "empty"]);
    check("hello", &["t.json", "does not start with"]);
    check(r#"{"spans": []}"#, &["t.json", "neither"]);
    // A line of JSON Lines cut short: its line, and where on it.
    let otlp = std::fs::read_to_string(fixture("fixture.otlp.jsonl")).unwrap();
    let first_line = otlp.lines().next().unwrap();
    let cut = format!("{first_line}\n{{\"resourceSpans\": [}}\n");
    check(&cut, &["t.json:2:20: expected value"]);
    check(
        "[{\"traceId\": \"1\", \"id\": 2}]",
        &["t.json:1:", "invalid type"],
    );
    check(
        "{\"data\": [{\"spans\": [{\"traceID\": \"1\"}]}]}",
        &["t.json:1:", "missing field"],
    );
}

#[test]
fn the_emulators_own_traces_are_read() {
    // One line as `archbench emulate --traces` writes it.
    let line = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}},{"key":"service.instance.id","value":{"stringValue":"web-0"}}]},"scopeSpans":[{"scope":{"name":"archbench-emulator"},"spans":[{"traceId":"0000000000000001000000000000000a","spanId":"000000000000000b","name":"GET /","kind":2,"startTimeUnixNano":"100","endTimeUnixNano":"250","status":{"code":2},"attributes":[{"key":"archbench.queue_wait_ns","value":{"intValue":"40"}}]}]}]}]}"#;
    let (format, spans) = traces::read_text(line, Path::new("e.jsonl")).unwrap();
    assert_eq!(format, Format::Otlp);
    assert_eq!(
        spans,
        [Span {
            trace: "0000000000000001000000000000000a".into(),
            id: "000000000000000b".into(),
            parent: None,
            service: "web".into(),
            instance: Some("web-0".into()),
            operation: "GET /".into(),
            kind: SpanKind::Server,
            start_ns: 100,
            end_ns: 250,
            error: true,
            follows_from: false,
            queue_wait_ns: Some(40),
        }]
    );
}
