//! Building a project from traces (`archbench import`): hand-built traces
//! whose truth is known by construction give back their services, calls,
//! service times, parallel groups, async calls, errors, replicas, workers
//! and workload exactly; the command writes a laid-out project that
//! `archbench check` accepts.

use std::path::Path;
use std::process::Command;

use archbench::model::traces::{self, Anomalies, ImportOptions, Span, SpanKind};
use archbench::model::{CallMode, Distribution, IoModel, ServiceKind, TimeSpan, layout, validate};

const MS: u64 = 1_000_000;

/// Builds spans for one trace.
struct Builder {
    trace: String,
    spans: Vec<Span>,
}

impl Builder {
    fn new(trace: usize) -> Self {
        Self {
            trace: format!("{trace:032x}"),
            spans: Vec::new(),
        }
    }

    #[expect(clippy::too_many_arguments)]
    fn span(
        &mut self,
        parent: Option<usize>,
        service: &str,
        instance: Option<&str>,
        kind: SpanKind,
        start: u64,
        end: u64,
        error: bool,
        wait: Option<u64>,
    ) -> usize {
        let id = self.spans.len();
        self.spans.push(Span {
            trace: self.trace.clone(),
            id: format!("{:016x}", id + 1),
            parent: parent.map(|p| format!("{:016x}", p + 1)),
            service: service.into(),
            instance: instance.map(Into::into),
            operation: if kind == SpanKind::Server && parent.is_none() {
                String::new()
            } else {
                "op".into()
            },
            kind,
            start_ns: start,
            end_ns: end,
            error,
            follows_from: false,
            queue_wait_ns: wait,
        });
        id
    }
}

/// 100 requests, one a second. Each enters `api-gateway` (two instances)
/// as `GET /a` (75) or `GET /b` (25), works 2 ms, then calls `search` and
/// `db` together (a parallel group, 1 ms of network each way in all),
/// and every other request also publishes to `queue` (async, the consumer
/// starting 0.5 ms after the producer). `search` works 3 ms after a wait
/// for a worker on every tenth request, then calls `cache` three times in
/// a row. `db` works 4 ms and fails on every tenth request.
#[expect(
    clippy::many_single_char_names,
    reason = "one letter per span, as in a drawing"
)]
fn traces() -> Vec<Span> {
    let mut all = Vec::new();
    for i in 0..100 {
        let mut t = Builder::new(i + 1);
        let t0 = 1_700_000_000_000_000_000 + i as u64 * 1_000 * MS;
        let db_fails = i % 10 == 3;
        // search: optional 1 ms wait, 3 ms work, three 1 ms cache calls.
        let wait = if i % 10 == 0 { MS } else { 0 };
        let search_len = wait + 3 * MS + 3 * MS;
        let db_len = 4 * MS;
        // The gateway's calls start at 2 ms; each client span is its
        // server's span plus 1 ms.
        let calls_end = 2 * MS + (search_len.max(db_len) + MS);
        let gw = t.span(
            None,
            "api-gateway",
            Some(if i % 2 == 0 { "gw-0" } else { "gw-1" }),
            SpanKind::Server,
            t0,
            t0 + calls_end,
            db_fails,
            Some(0),
        );
        t.spans[gw].operation = if i % 4 == 3 { "GET /b" } else { "GET /a" }.into();
        let c = t.span(
            Some(gw),
            "api-gateway",
            None,
            SpanKind::Client,
            t0 + 2 * MS,
            t0 + 2 * MS + search_len + MS,
            false,
            None,
        );
        let s = t.span(
            Some(c),
            "search",
            None,
            SpanKind::Server,
            t0 + 2 * MS + MS / 2,
            t0 + 2 * MS + MS / 2 + search_len,
            false,
            Some(wait),
        );
        let s0 = t0 + 2 * MS + MS / 2 + wait + 3 * MS;
        for k in 0..3 {
            let from = s0 + k * MS;
            let cc = t.span(
                Some(s),
                "search",
                None,
                SpanKind::Client,
                from,
                from + MS,
                false,
                None,
            );
            t.span(
                Some(cc),
                "cache",
                None,
                SpanKind::Server,
                from + MS / 4,
                from + 3 * MS / 4,
                false,
                Some(0),
            );
        }
        let d = t.span(
            Some(gw),
            "api-gateway",
            None,
            SpanKind::Client,
            t0 + 2 * MS,
            t0 + 2 * MS + db_len + MS,
            db_fails,
            None,
        );
        t.span(
            Some(d),
            "db",
            None,
            SpanKind::Server,
            t0 + 2 * MS + MS / 2,
            t0 + 2 * MS + MS / 2 + db_len,
            db_fails,
            Some(0),
        );
        if i % 2 == 0 {
            let p = t.span(
                Some(gw),
                "api-gateway",
                None,
                SpanKind::Producer,
                t0 + MS,
                t0 + MS + 100_000,
                false,
                None,
            );
            t.span(
                Some(p),
                "queue",
                None,
                SpanKind::Consumer,
                t0 + MS + MS / 2,
                t0 + MS + MS / 2 + 5 * MS,
                false,
                Some(0),
            );
        }
        all.extend(t.spans);
    }
    all
}

fn constant(ms: f64) -> Distribution {
    Distribution::Constant(TimeSpan::from_millis_f64(ms))
}

#[test]
#[expect(clippy::float_cmp, reason = "the figures are exact by construction")]
fn hand_built_traces_give_back_their_architecture() {
    let (assembled, anomalies) = traces::assemble(traces());
    assert_eq!(anomalies, Anomalies::default());
    let import = traces::infer(
        &assembled,
        anomalies,
        &["hand.jsonl".into()],
        &ImportOptions::default(),
    )
    .unwrap();
    let project = &import.project;
    assert!(validate(project).is_empty(), "{:?}", validate(project));
    // The same traces give the same project, whatever the hash maps' order.
    let again = traces::infer(&assembled, anomalies, &[], &ImportOptions::default()).unwrap();
    assert_eq!(again.project.scenarios, project.scenarios);
    let scenario = &project.scenarios[0];
    let service = |name: &str| {
        scenario
            .services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    };
    let mut names: Vec<&str> = scenario.services.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["api-gateway", "cache", "db", "queue", "search"]);
    // Own work: the gateway's 2 ms (its producer does not hold it, its
    // parallel calls count once); search's 3 ms without its wait.
    assert_eq!(service("api-gateway").service_time, constant(2.0));
    assert_eq!(service("search").service_time, constant(3.0));
    assert_eq!(service("db").service_time, constant(4.0));
    assert_eq!(service("cache").service_time, constant(0.5));
    assert_eq!(service("queue").service_time, constant(5.0));
    assert_eq!(service("api-gateway").kind, ServiceKind::Gateway);
    assert_eq!(service("cache").kind, ServiceKind::Cache);
    assert_eq!(service("db").kind, ServiceKind::Database);
    assert_eq!(service("queue").kind, ServiceKind::Queue);
    // Replicas from instance ids; one, with a warning, without them.
    assert_eq!(service("api-gateway").replicas, 2);
    assert_eq!(service("search").replicas, 1);
    assert!(
        import
            .warnings
            .iter()
            .any(|w| w.contains("no instance ids"))
    );
    // Errors: db's own; the gateway's are db's, passed up.
    assert_eq!(service("db").error_rate, 0.1);
    assert_eq!(service("api-gateway").error_rate, 0.0);

    let link = |from: &str, to: &str| {
        scenario
            .links
            .iter()
            .find(|l| l.from == from && l.to == to)
            .unwrap_or_else(|| panic!("no link {from} -> {to}"))
    };
    assert_eq!(scenario.links.len(), 4);
    let (search, db) = (link("api-gateway", "search"), link("api-gateway", "db"));
    assert!(search.parallel_group.is_some());
    assert_eq!(search.parallel_group, db.parallel_group);
    assert_eq!(search.latency, constant(1.0));
    let queue = link("api-gateway", "queue");
    assert_eq!(queue.mode, CallMode::Async);
    assert_eq!(queue.probability, 0.5);
    assert_eq!(queue.latency, constant(1.0));
    assert_eq!(queue.parallel_group, None);
    let cache = link("search", "cache");
    assert_eq!((cache.probability, cache.count), (1.0, 3));
    assert_eq!(cache.parallel_group, None, "three calls in a row");
    assert_eq!(cache.latency, constant(0.5));

    // The workload: a class per entry operation, weighted by its share,
    // at 99 gaps over 99 s.
    let classes: Vec<(&str, f64, &str)> = project
        .workload
        .classes
        .iter()
        .map(|c| (c.name.as_str(), c.weight, c.entry.as_str()))
        .collect();
    assert_eq!(
        classes,
        [
            ("api-gateway GET /a", 0.75, "api-gateway"),
            ("api-gateway GET /b", 0.25, "api-gateway")
        ]
    );
    let archbench::model::Arrivals::Open { rate_rps, .. } = project.workload.arrivals else {
        panic!("open arrivals");
    };
    assert_eq!(rate_rps, 1.0);

    // Laid out: no two services share a place, and each sync call points
    // rightwards.
    assert!(!layout::needs_layout(scenario));
    let x = |name: &str| service(name).position.x;
    assert!(x("api-gateway") < x("search") && x("search") < x("cache"));
}

/// One instance of a service with two workers and no calls: every 10 ms
/// four requests arrive together, working 4, 6, 4 and 4 ms; the third
/// waits 4 ms (until the first ends), the fourth 6 ms.
#[test]
#[expect(clippy::float_cmp, reason = "the figures are exact by construction")]
fn workers_are_counted_from_the_requests_that_waited() {
    let mut spans = Vec::new();
    for i in 0..50_u64 {
        let t0 = 1_700_000_000_000_000_000 + i * 10 * MS;
        for (k, (wait, work)) in [(0, 4), (0, 6), (4, 4), (6, 4)].into_iter().enumerate() {
            let mut b = Builder::new(usize::try_from(i * 4).unwrap() + k + 1);
            b.span(
                None,
                "worker-pool",
                Some("w-0"),
                SpanKind::Server,
                t0,
                t0 + (wait + work) * MS,
                false,
                Some(wait * MS),
            );
            spans.extend(b.spans);
        }
    }
    let (assembled, anomalies) = traces::assemble(spans);
    let import = traces::infer(&assembled, anomalies, &[], &ImportOptions::default()).unwrap();
    let service = &import.project.scenarios[0].services[0];
    assert_eq!(service.workers, 2);
    assert_eq!(service.io, IoModel::Blocking);
    assert_eq!(import.services[0].workers, (2, true));
    // The mean of 4, 6, 4 and 4 ms of work, waits excluded.
    assert_eq!(service.service_time.mean_secs(), 0.0045);
}

#[test]
fn traces_without_a_request_are_refused() {
    // A lone client span: nothing handled a request.
    let mut b = Builder::new(1);
    b.span(None, "x", None, SpanKind::Client, 0, MS, false, None);
    let (assembled, anomalies) = traces::assemble(b.spans);
    let error = traces::infer(&assembled, anomalies, &[], &ImportOptions::default()).unwrap_err();
    assert!(error.to_string().contains("no request"), "{error}");
}

fn archbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_import_command_writes_a_project_that_check_accepts() {
    let dir = std::env::temp_dir().join(format!("archbench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("imported.ron");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
    let output = archbench(&[
        "import",
        fixtures.join("fixture.otlp.jsonl").to_str().unwrap(),
        fixtures.join("fixture.zipkin.json").to_str().unwrap(),
        "--name",
        "From fixtures",
        "--output",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with(
            "// Imported by archbench import from fixture.otlp.jsonl, fixture.zipkin.json."
        ),
        "{text}"
    );
    assert!(text.contains("name: \"From fixtures\""));
    let check = archbench(&["check", out.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Calibrating it from the same traces changes nothing, and says so.
    let calibrate = archbench(&[
        "calibrate",
        out.to_str().unwrap(),
        "--traces",
        fixtures.join("fixture.otlp.jsonl").to_str().unwrap(),
        fixtures.join("fixture.zipkin.json").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&calibrate.stdout);
    assert!(calibrate.status.success(), "{stdout}");
    assert!(
        stdout.starts_with("scenario \"imported\": 0 fields changed"),
        "{stdout}"
    );
    // A broken file: its place, and nothing written.
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"resourceSpans\": [\n  {\"scopeSpans\": 3}]}").unwrap();
    let fresh = dir.join("never.ron");
    let output = archbench(&[
        "import",
        broken.to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.json:2:"), "{stderr}");
    assert!(!fresh.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn calibrating_updates_what_the_traces_show_and_lists_the_rest() {
    let (assembled, anomalies) = traces::assemble(traces());
    let import = traces::infer(&assembled, anomalies, &[], &ImportOptions::default()).unwrap();
    // The same project calibrates to no change at all.
    let mut same = import.project.clone();
    let calibration = traces::calibrate(&mut same, 0, &import);
    assert_eq!(calibration, traces::Calibration::default());
    assert_eq!(same, import.project);

    // A model that guessed: search at 10 ms, cache called half the time;
    // it has a ghost service the traces never saw, and lacks the queue.
    let mut model = import.project.clone();
    let scenario = &mut model.scenarios[0];
    let search = scenario.service_index("search").unwrap();
    scenario.services[search].service_time = constant(10.0);
    let cache = scenario.links.iter().position(|l| l.to == "cache").unwrap();
    scenario.links[cache].probability = 0.5;
    scenario.services.retain(|s| s.name != "queue");
    scenario.links.retain(|l| l.to != "queue");
    let mut ghost = scenario.services[search].clone();
    ghost.name = "ghost".into();
    scenario.services.push(ghost);
    scenario
        .links
        .push(archbench::model::Link::new("api-gateway", "ghost"));
    let structure = model.scenarios[0].services.len();
    let calibration = traces::calibrate(&mut model, 0, &import);
    let changes: Vec<(&str, &str, &str, &str, u64)> = calibration
        .changes
        .iter()
        .map(|c| {
            (
                c.place.as_str(),
                c.field,
                c.old.as_str(),
                c.new.as_str(),
                c.samples,
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("service \"search\"", "service_time", "10ms", "3ms", 100),
            (
                "link \"search\" -> \"cache\"",
                "probability",
                "0.5",
                "1",
                100
            ),
        ]
    );
    let (change, m) = calibration.largest_mean_change("service_time").unwrap();
    assert_eq!(change.field, "service_time");
    assert!((m - 0.7).abs() < 1e-9, "{m}");
    assert_eq!(calibration.services_not_traced, ["ghost"]);
    assert_eq!(calibration.services_not_modelled, ["queue"]);
    assert_eq!(calibration.links_not_traced, ["api-gateway -> ghost"]);
    assert_eq!(calibration.links_not_modelled, ["api-gateway -> queue"]);
    // The structure stays: the ghost is kept, the queue not added.
    let scenario = &model.scenarios[0];
    assert_eq!(scenario.services.len(), structure);
    assert_eq!(scenario.services[search].service_time, constant(3.0));
    assert!(validate(&model).is_empty());
}

/// The hand-written fixtures (the same two traces in OTLP, Jaeger and
/// Zipkin): nested calls, two parallel calls, an async producer and
/// consumer, a handling whose parent was sampled away, a skewed child given
/// twice and an error span. Each format imports to the same project, with
/// these figures worked out by hand from the spans.
#[test]
#[expect(clippy::float_cmp, reason = "the figures are exact by construction")]
fn each_fixture_format_imports_to_the_hand_computed_project() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
    let mut projects = Vec::new();
    for name in [
        "fixture.otlp.jsonl",
        "fixture.jaeger.json",
        "fixture.zipkin.json",
    ] {
        let (import, _) =
            traces::import_files(&[fixtures.join(name)], &ImportOptions::default()).unwrap();
        assert_eq!(
            import.anomalies,
            Anomalies {
                missing_parent: 1,
                skewed: 1,
                duplicate: 1,
                negative: 0
            },
            "{name}"
        );
        // Trace 2's top was sampled away: it is no request. One request,
        // so no window to measure a rate over: 1 req/s, with a warning.
        assert_eq!(import.requests, 1, "{name}");
        assert!(import.warnings.iter().any(|w| w.contains("one instant")));
        let project = import.project;
        let scenario = &project.scenarios[0];
        let service = |n: &str| &scenario.services[scenario.service_index(n).unwrap()];
        let link = |from: &str, to: &str| {
            scenario
                .links
                .iter()
                .find(|l| l.from == from && l.to == to)
                .unwrap_or_else(|| panic!("{name}: no link {from} -> {to}"))
        };
        let ms = |v: f64| Distribution::Constant(TimeSpan::from_millis_f64(v));
        // gateway [0, 10] calls api over [1, 9]: 2 ms of its own.
        assert_eq!(service("gateway").service_time, ms(2.0), "{name}");
        // cache [3.2, 3.8]; the worker consumes over [7, 12].
        assert_eq!(service("cache").service_time, ms(0.6), "{name}");
        assert_eq!(service("worker").service_time, ms(5.0), "{name}");
        // api: [2, 8] less db's and cache's overlapping calls [3, 6] = 3 ms
        // (the send to the queue does not hold it), and [20, 30] less the
        // skewed db handling under it, clipped to [20, 25] = 5 ms.
        assert_eq!(service("api").service_time.mean_secs(), 0.004, "{name}");
        // db: 2 ms (failed, with no call under it) and 6 ms once (the
        // duplicate dropped).
        assert_eq!(service("db").service_time.mean_secs(), 0.004, "{name}");
        assert_eq!(service("db").error_rate, 0.5, "{name}");
        assert_eq!(service("api").error_rate, 0.0, "{name}");
        // Calls: api made db's in both handlings, cache's and the queue's in one.
        let api_gw = link("gateway", "api");
        assert_eq!((api_gw.probability, api_gw.latency.clone()), (1.0, ms(2.0)));
        let (db, cache) = (link("api", "db"), link("api", "cache"));
        assert_eq!(
            (db.probability, db.latency.clone()),
            (1.0, ms(1.0)),
            "{name}"
        );
        assert_eq!((cache.probability, cache.latency.clone()), (0.5, ms(0.4)));
        assert!(db.parallel_group.is_some() && db.parallel_group == cache.parallel_group);
        let worker = link("api", "worker");
        assert_eq!(worker.mode, CallMode::Async, "{name}");
        assert_eq!((worker.probability, worker.latency.clone()), (0.5, ms(2.0)));
        assert_eq!(scenario.links.len(), 4, "{name}");
        let classes: Vec<(&str, f64)> = project
            .workload
            .classes
            .iter()
            .map(|c| (c.name.as_str(), c.weight))
            .collect();
        assert_eq!(classes, [("gateway GET /recommend", 1.0)], "{name}");
        assert!(validate(&project).is_empty(), "{name}");
        projects.push(project);
    }
    // The same spans, the same project, but for what each format says of
    // instances (replicas).
    let strip = |p: &archbench::model::Project| {
        let mut s = p.scenarios[0].clone();
        for service in &mut s.services {
            service.replicas = 1;
        }
        s
    };
    assert_eq!(strip(&projects[0]), strip(&projects[1]));
    assert_eq!(strip(&projects[0]), strip(&projects[2]));
    // OTLP names instances: api ran on api-1 and api-0.
    let otlp = &projects[0].scenarios[0];
    assert_eq!(
        otlp.services[otlp.service_index("api").unwrap()].replicas,
        2
    );
}
