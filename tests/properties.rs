//! Properties over random inputs (proptest): any valid project round-trips
//! through `.ron`; the engine keeps its invariants on random valid projects;
//! the parsers of user text and of HTTP responses never panic.
//!
//! Every property runs from a fixed seed, so `cargo test` is deterministic:
//! a failure is reproduced by running it again, and proptest shrinks it to a
//! small case first. Set `PROPERTY_CASES` to run more cases while working.

use std::sync::atomic::{AtomicUsize, Ordering};

use archbench::model::{
    self, ArrivalProcess, Arrivals, Autoscale, Balancer, Batching, Breaker, Cache, CallMode, Crash,
    Distribution, Endpoint, IoModel, Jitter, LatencyFault, Link, Objective, Position, Project,
    QueueCapacity, RateChange, RateLimit, RequestClass, Retry, RetryBudget, RunSettings, Scenario,
    Service, ServiceKind, StopCondition, TimeSpan, Workload, file,
};
use archbench::sim::{Budget, Simulation};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The runner's settings: a fixed seed and no files written.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x00a2_c4be_4c11),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

// --- random valid projects ---------------------------------------------------

/// A time from 1 µs to 10 s, in whole nanoseconds of any size.
fn time() -> impl Strategy<Value = TimeSpan> + Clone {
    prop_oneof![
        (1_u64..10_000).prop_map(|us| TimeSpan::from_nanos(us * 1_000)),
        (1_000_u64..10_000_000_000).prop_map(TimeSpan::from_nanos),
    ]
}

/// A short time (1 µs to 20 ms), for service times the engine runs quickly.
fn short_time() -> impl Strategy<Value = TimeSpan> + Clone {
    (1_000_u64..20_000_000).prop_map(TimeSpan::from_nanos)
}

/// Every distribution syntax, with the given times.
fn distribution(
    times: impl Strategy<Value = TimeSpan> + Clone,
) -> impl Strategy<Value = Distribution> {
    let t = times.clone();
    prop_oneof![
        t.clone().prop_map(Distribution::Constant),
        t.clone()
            .prop_map(|mean| Distribution::Exponential { mean }),
        (t.clone(), t.clone()).prop_map(|(a, b)| Distribution::Uniform {
            min: a.min(b),
            max: a.max(b),
        }),
        // p99 from 1.1 to 14 times the mean (in thousandths), as a lognormal allows.
        (t.clone(), 1_100_u64..14_000).prop_map(|(mean, thousandths)| Distribution::LogNormal {
            mean,
            p99: TimeSpan::from_nanos(mean.as_nanos() * thousandths / 1_000 + 1),
        }),
        (-12.0_f64..-3.0, 0.05_f64..1.5)
            .prop_map(|(mu, sigma)| Distribution::LogNormalMuSigma { mu, sigma }),
        (t.clone(), 0.2_f64..20.0).prop_map(|(mean, shape)| Distribution::Gamma { mean, shape }),
        (t.clone(), 1_u32..12).prop_map(|(mean, k)| Distribution::Erlang { mean, k }),
        prop::collection::vec(t, 1..6).prop_map(Distribution::Empirical),
    ]
}

fn kind() -> impl Strategy<Value = ServiceKind> {
    prop::sample::select(vec![
        ServiceKind::Gateway,
        ServiceKind::Service,
        ServiceKind::ModelServer,
        ServiceKind::FeatureStore,
        ServiceKind::Cache,
        ServiceKind::Database,
        ServiceKind::Queue,
        ServiceKind::External,
    ])
}

fn balancer() -> impl Strategy<Value = Balancer> {
    prop::sample::select(vec![
        Balancer::RoundRobin,
        Balancer::Random,
        Balancer::LeastOutstanding,
        Balancer::PowerOfTwoChoices,
        Balancer::Pull,
    ])
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (
        prop::sample::select(vec!["http", "https"]),
        1024_u16..65535,
        "[a-z]{0,8}",
        prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
        prop::collection::btree_map("x-[a-z]{1,6}", "[ -~]{0,12}", 0..3),
        prop::option::of("[ -~]{0,20}"),
    )
        .prop_map(|(scheme, port, path, method, headers, body)| Endpoint {
            url: format!("{scheme}://127.0.0.1:{port}/{path}"),
            method: method.to_owned(),
            headers,
            body,
        })
}

/// A service named `name` with every optional part drawn.
fn service(name: String) -> impl Strategy<Value = Service> {
    (
        (kind(), 1_u32..4, 1_u32..16, prop::option::of(0_u32..50)),
        (distribution(short_time()), balancer(), any::<bool>()),
        (-500.0_f32..500.0, -500.0_f32..500.0),
        prop::option::of(endpoint()),
        prop::option::of((0.0_f64..=1.0, time())),
        prop_oneof![Just(0.0), 0.0_f64..0.2],
        prop::option::of((1.0_f64..5000.0, 1_u32..200)),
        prop::option::of((1_u32..16, time(), short_time())),
        prop::option::of((
            0.1_f64..0.95,
            1_u32..3,
            3_u32..8,
            (1_000_000_u64..10_000_000_000).prop_map(TimeSpan::from_nanos),
            time(),
        )),
        prop::option::of((time(), time())),
    )
        .prop_map(
            move |(
                (kind, replicas, workers, queue),
                (service_time, balancer, blocking),
                (x, y),
                endpoint,
                cache,
                error_rate,
                rate_limit,
                batching,
                autoscale,
                crash,
            )| {
                let mut s = Service::new(name.clone(), kind, service_time);
                s.replicas = replicas;
                s.workers = workers;
                s.queue = queue.map_or(QueueCapacity::Unbounded, QueueCapacity::Bounded);
                s.balancer = balancer;
                s.io = if blocking {
                    IoModel::Blocking
                } else {
                    IoModel::Async
                };
                s.position = Position { x, y };
                s.endpoint = endpoint;
                s.cache = cache.map(|(hit_ratio, warmup)| Cache { hit_ratio, warmup });
                s.error_rate = error_rate;
                s.rate_limit = rate_limit.map(|(rate, burst)| RateLimit { rate, burst });
                s.batching = batching.map(|(max_batch, max_wait, per_item)| Batching {
                    max_batch,
                    max_wait,
                    per_item,
                });
                s.autoscale = autoscale.map(|(target, min, max, interval, cold_start)| Autoscale {
                    target_utilization: target,
                    min_replicas: min.min(replicas),
                    max_replicas: max.max(replicas),
                    interval,
                    cold_start,
                });
                if let Some((at, restart_after)) = crash {
                    s.crashes.push(Crash {
                        at,
                        replica: 0,
                        restart_after,
                    });
                }
                s
            },
        )
}

/// A link between two named services with every guard drawn.
fn link(from: String, to: String) -> impl Strategy<Value = Link> {
    (
        (
            prop_oneof![Just(1.0), 0.05_f64..=1.0],
            1_u32..4,
            any::<bool>(),
            any::<bool>(),
        ),
        distribution(short_time()),
        prop::option::of(time()),
        prop::option::of((
            1_u32..4,
            time(),
            time(),
            prop::sample::select(vec![Jitter::None, Jitter::Full, Jitter::Equal]),
            prop::option::of((0.01_f64..1.0, 0.0_f64..10.0)),
        )),
        prop::option::of((0.1_f64..=1.0, time(), 1_u32..50, time(), 1_u32..10)),
        prop::option::of(1_u32..64),
        prop::option::of((distribution(short_time()), time(), time())),
    )
        .prop_map(
            move |(
                (probability, count, parallel, asynchronous),
                latency,
                timeout,
                retry,
                breaker,
                bulkhead,
                fault,
            )| {
                let mut l = Link::new(from.clone(), to.clone());
                l.probability = probability;
                l.count = count;
                l.parallel_group = parallel.then(|| "group".to_owned());
                l.mode = if asynchronous {
                    CallMode::Async
                } else {
                    CallMode::Sync
                };
                l.latency = latency;
                l.timeout = timeout;
                l.retry = retry.map(
                    |(max_retries, backoff, max_backoff, jitter, budget)| Retry {
                        max_retries,
                        backoff: backoff.min(max_backoff),
                        max_backoff: backoff.max(max_backoff),
                        jitter,
                        budget: budget.map(|(ratio, min_per_second)| RetryBudget {
                            ratio,
                            min_per_second,
                        }),
                    },
                );
                l.breaker =
                    breaker.map(
                        |(failure_ratio, window, min_calls, open_for, probes)| Breaker {
                            failure_ratio,
                            window,
                            min_calls,
                            open_for,
                            probes,
                        },
                    );
                l.max_concurrent = bulkhead;
                if asynchronous {
                    // Nobody waits for an async call: it has no guards.
                    (l.timeout, l.retry, l.breaker, l.max_concurrent) = (None, None, None, None);
                }
                l.fault = fault.map(|(extra, a, b)| LatencyFault {
                    extra,
                    from: a.min(b),
                    until: a.max(b),
                });
                l
            },
        )
}

/// A scenario of `n` services s0…s(n−1) whose calls go from a lower index
/// to a higher one (so there is no cycle).
fn scenario(name: String, n: usize) -> impl Strategy<Value = Scenario> {
    let services: Vec<_> = (0..n).map(|i| service(format!("s{i}"))).collect();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect();
    let links = prop::sample::subsequence(pairs.clone(), 0..=pairs.len()).prop_flat_map(|chosen| {
        chosen
            .into_iter()
            .map(|(a, b)| link(format!("s{a}"), format!("s{b}")))
            .collect::<Vec<_>>()
    });
    (services, links, "[ -~]{0,30}").prop_map(move |(services, links, description)| Scenario {
        name: name.clone(),
        description,
        services,
        links,
        groups: Vec::new(),
    })
}

/// Rate changes in time order, none overlapping: each step or ramp starts
/// a gap after the previous one ends.
fn profile() -> impl Strategy<Value = Vec<RateChange>> {
    prop::collection::vec((any::<bool>(), time(), time(), 1.0_f64..3000.0), 0..4).prop_map(
        |changes| {
            let mut t = 0;
            changes
                .into_iter()
                .map(|(ramp, gap, length, rate_rps)| {
                    let from = t + gap.as_nanos();
                    if ramp {
                        t = from + length.as_nanos();
                        RateChange::Ramp {
                            from: TimeSpan::from_nanos(from),
                            to: TimeSpan::from_nanos(t),
                            rate_rps,
                        }
                    } else {
                        t = from;
                        RateChange::Step {
                            at: TimeSpan::from_nanos(from),
                            rate_rps,
                        }
                    }
                })
                .collect()
        },
    )
}

fn arrivals() -> impl Strategy<Value = Arrivals> {
    prop_oneof![
        (
            prop::sample::select(vec![
                ArrivalProcess::Poisson,
                ArrivalProcess::Constant,
                ArrivalProcess::Gamma { cv: 0.5 },
                ArrivalProcess::Gamma { cv: 3.25 },
            ]),
            1.0_f64..3000.0,
            profile(),
        )
            .prop_map(|(process, rate_rps, profile)| Arrivals::Open {
                process,
                rate_rps,
                profile,
            }),
        (1_u32..200, distribution(time()))
            .prop_map(|(users, think_time)| Arrivals::Closed { users, think_time }),
    ]
}

fn run_settings() -> impl Strategy<Value = RunSettings> {
    (
        prop_oneof![
            (1_u64..5_000).prop_map(StopCondition::Requests),
            (1_u64..20)
                .prop_map(|s| StopCondition::Duration(TimeSpan::from_nanos(s * 1_000_000_000))),
        ],
        prop::option::of(time()),
        any::<u64>(),
        1_u32..4,
        any::<bool>(),
        prop::option::of(0.01_f64..0.5),
        10_u32..50,
        prop::sample::select(vec![100_u64, 250, 1_000, 5_000]),
    )
        .prop_map(
            |(
                stop,
                warmup,
                seed,
                replications,
                common_random_numbers,
                precision,
                max_replications,
                interval_ms,
            )| RunSettings {
                stop,
                warmup,
                seed,
                replications,
                common_random_numbers,
                precision,
                max_replications,
                interval: TimeSpan::from_nanos(interval_ms * 1_000_000),
            },
        )
}

fn objective(classes: usize) -> impl Strategy<Value = Objective> {
    (
        prop::option::of(0..classes),
        prop::sample::select(vec!["mean", "p50", "p90", "p95", "p99", "p999", "max"]),
        time(),
    )
        .prop_map(|(class, statistic, limit)| Objective {
            class: class.map(|c| format!("class{c}")),
            latency: format!("{statistic} <= {limit}").parse().unwrap(),
        })
}

/// A valid project: 1 to 3 scenarios of 1 to 5 services, 1 to 3 classes.
fn project() -> impl Strategy<Value = Project> {
    (1_usize..=5, 1_usize..=3, 1_usize..=3)
        .prop_flat_map(|(n, scenarios, classes)| {
            (
                "[A-Za-z][ -~]{0,20}",
                "[ -~]{0,40}",
                arrivals(),
                prop::collection::vec((0.1_f64..10.0, 0..n), classes),
                run_settings(),
                prop::collection::vec(objective(classes), 0..3),
                (0..scenarios)
                    .map(|i| scenario(format!("scenario {i}"), n))
                    .collect::<Vec<_>>(),
            )
        })
        .prop_map(
            |(name, description, arrivals, classes, run, objectives, scenarios)| Project {
                format: model::FORMAT_VERSION,
                name,
                description,
                workload: Workload {
                    arrivals,
                    classes: classes
                        .into_iter()
                        .enumerate()
                        .map(|(i, (weight, entry))| RequestClass {
                            name: format!("class{i}"),
                            weight,
                            entry: format!("s{entry}"),
                            tokens: None,
                        })
                        .collect(),
                },
                // Half the projects ask a goodput share of their own.
                goodput_share: if run.seed % 2 == 0 {
                    model::GOODPUT_SHARE
                } else {
                    0.75
                },
                run,
                objectives,
                scenarios,
            },
        )
}

// --- round trips -------------------------------------------------------------

#[test]
fn any_valid_project_round_trips_through_ron_byte_for_byte() {
    let mut runner = proptest::test_runner::TestRunner::new(config(300));
    runner
        .run(&project(), |project| {
            let problems = model::validate(&project);
            if !problems.is_empty() {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                panic!("the generator made an invalid project: {problems:#?}");
            }
            let saved = file::ProjectFile {
                header: "// A random project.\n".to_owned(),
                project,
            };
            let text = file::to_text(&saved).unwrap();
            let origin = std::path::Path::new("random.ron");
            let read = file::parse(&text, origin)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(&read, &saved);
            prop_assert_eq!(file::to_text(&read).unwrap(), text);
            Ok(())
        })
        .unwrap();
}

// --- the engine's invariants ---------------------------------------------------

/// A random valid project cut to a short run: at most 3,000 requests after
/// at most a second of warm-up, one or two replications, no precision rule.
fn short_project() -> impl Strategy<Value = Project> {
    (project(), 100_u64..3_000, 0_u64..1_000).prop_map(|(mut project, requests, warmup_ms)| {
        project.run.stop = StopCondition::Requests(requests);
        project.run.warmup = Some(TimeSpan::from_nanos(warmup_ms * 1_000_000));
        project.run.replications = project.run.replications.min(2);
        project.run.precision = None;
        project
    })
}

#[test]
fn the_engine_keeps_its_invariants_on_random_projects() {
    let _cpu = crate::support::cpu_heavy();
    let mut runner = proptest::test_runner::TestRunner::new(config(64));
    // How often each check had something to check, so that none is vacuous.
    let (reports, littles_law) = (AtomicUsize::new(0), AtomicUsize::new(0));
    runner
        .run(&(short_project(), 1_u64..5_000), |(project, slice)| {
            for (index, scenario) in project.scenarios.iter().enumerate() {
                // A run either reports or says why not; it never panics.
                let Ok(report) = archbench::sim::simulate_scenario(&project, index) else {
                    continue;
                };
                let name = &scenario.name;
                reports.fetch_add(1, Ordering::Relaxed);
                // Every request that arrived in the measured time succeeded,
                // failed, or is still in the system (counted from the live
                // requests, not by subtraction).
                prop_assert_eq!(
                    report.arrived,
                    report.requests + report.failed + report.unfinished,
                    "{}",
                    name
                );
                for class in &report.classes {
                    prop_assert_eq!(
                        class.arrived,
                        class.requests + class.failed + class.unfinished
                    );
                }
                for s in &report.services {
                    prop_assert!(
                        (0.0..=1.0 + 1e-9).contains(&s.utilization),
                        "{name} / {}: utilisation {}",
                        s.name,
                        s.utilization
                    );
                    prop_assert!(
                        s.mean_queue_length >= 0.0
                            && s.mean_in_service >= s.mean_queue_length - 1e-9
                    );
                    let r = &s.response_ms;
                    prop_assert!(
                        0.0 <= r.p50 && r.p50 <= r.p90 && r.p90 <= r.p99 && r.p99 <= r.p999
                    );
                    prop_assert!(
                        r.mean <= r.max + 1e-9 && r.p999 <= r.max * 1.001 + 1e-9,
                        "{:?}",
                        r
                    );
                }
                // Little's law, L = λW, at each service whose run is long
                // beside its response time and far from its edges: the time
                // average of requests present against completions per second
                // times the mean response, measured independently.
                let measured_s = report.measured_s;
                if !report.saturated {
                    for s in &report.services {
                        let completions = s.throughput_rps * measured_s;
                        let w = s.response_ms.mean / 1e3;
                        if completions < 2_000.0 || s.response_ms.max / 1e3 > 0.01 * measured_s {
                            continue;
                        }
                        littles_law.fetch_add(1, Ordering::Relaxed);
                        let (l, lambda_w) = (s.mean_in_service, s.throughput_rps * w);
                        prop_assert!(
                            (l - lambda_w).abs() <= 0.05 * l.max(lambda_w) + 0.01,
                            "{name} / {}: L = {l}, λW = {lambda_w}",
                            s.name
                        );
                    }
                }
                // Stepping in slices of `slice` events gives the same run.
                let mut stepped = Simulation::new(&project, index).unwrap();
                while !stepped.step(Budget::Events(slice)) {}
                let stepped = stepped.report();
                prop_assert_eq!(stepped.requests, report.requests);
                prop_assert_eq!(stepped.failed, report.failed);
                prop_assert_eq!(&stepped.latency, &report.latency);
                prop_assert_eq!(stepped.unfinished, report.unfinished);
            }
            Ok(())
        })
        .unwrap();
    let (reports, littles_law) = (reports.into_inner(), littles_law.into_inner());
    eprintln!("{reports} reports, Little's law checked at {littles_law} services");
    assert!(reports >= 64, "{reports}");
    assert!(littles_law >= 20, "{littles_law}");
}

// --- parsers never panic -------------------------------------------------------

/// Text near the parsers' grammar (numbers, units, names, operators) and
/// arbitrary text, so both the deep paths and the odd inputs are reached.
fn user_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "exp",
        "const",
        "uniform",
        "lognormal",
        "gamma",
        "erlang",
        "empirical",
        "mu",
        "sigma",
        "p99",
        "p50",
        "p999",
        "mean",
        "max",
        "shape",
        "k",
        "ms",
        "us",
        "µs",
        "ns",
        "s",
        "m",
        "h",
        ":",
        ",",
        "=",
        "<=",
        "<",
        ">",
        " ",
        ".",
        "-",
        "+",
        "e",
        "E",
        "1",
        "0",
        "9",
        "1e308",
        "18446744073709551615",
        "666666666666666666666666666333",
        "0000000000000000000000000000001",
        "NaN",
        "inf",
        "%",
    ]);
    prop_oneof![
        prop::collection::vec(token, 0..12).prop_map(|t| t.concat()),
        "\\PC{0,40}",
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

#[test]
fn the_parsers_of_user_text_never_panic() {
    let mut runner = proptest::test_runner::TestRunner::new(config(3_000));
    runner
        .run(&user_text(), |text| {
            // Each either parses or says why; what parses prints back to
            // text that parses to the same value.
            if let Ok(d) = text.parse::<Distribution>() {
                prop_assert_eq!(d.to_string().parse::<Distribution>().ok(), Some(d.clone()));
            }
            if let Ok(t) = text.parse::<TimeSpan>() {
                prop_assert_eq!(t.to_string().parse::<TimeSpan>().ok(), Some(t));
            }
            if let Ok(target) = text.parse::<model::LatencyTarget>() {
                prop_assert_eq!(
                    target.to_string().parse::<model::LatencyTarget>().ok(),
                    Some(target)
                );
            }
            #[cfg(feature = "loadgen")]
            let _ = text.parse::<archbench::loadgen::Threshold>();
            let _ = archbench::stats::Tolerance::parse_list(&text);
            Ok(())
        })
        .unwrap();
}

/// An HTTP/1.1 response, well formed or damaged: a status line, headers
/// (lengths, chunking, connection), and a body, perhaps chunked, perhaps
/// cut short, perhaps with bytes flipped.
#[cfg(feature = "loadgen")]
fn http_response() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        (0_u64..100_000).prop_map(|n| format!("Content-Length: {n}")),
        "[0-9a-zA-Z -]{0,24}".prop_map(|v| format!("Content-Length: {v}")),
        Just("Transfer-Encoding: chunked".to_owned()),
        Just("transfer-encoding: gzip, chunked".to_owned()),
        Just("Connection: close".to_owned()),
        Just("Connection: keep-alive".to_owned()),
        "[!-~]{1,12}: [ -~]{0,30}",
        "[ -~]{0,40}",
    ];
    let chunk = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|data| {
            let mut out = format!("{:x}\r\n", data.len()).into_bytes();
            out.extend(&data);
            out.extend(b"\r\n");
            out
        }),
        "[0-9a-fA-FxX; =-]{0,20}\r\n".prop_map(String::into_bytes),
    ];
    (
        prop_oneof![
            (100_u16..600).prop_map(|s| format!("HTTP/1.1 {s} OK")),
            (0_u16..1000).prop_map(|s| format!("HTTP/1.0 {s}")),
            "[ -~]{0,30}",
        ],
        prop::collection::vec(header, 0..6),
        prop::collection::vec(chunk, 0..5),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        prop::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(|(status, headers, chunks, last_chunk, raw, flip, cut)| {
            let mut out = status.into_bytes();
            out.extend(b"\r\n");
            for h in headers {
                out.extend(h.as_bytes());
                out.extend(b"\r\n");
            }
            out.extend(b"\r\n");
            for c in chunks {
                out.extend(c);
            }
            if last_chunk {
                out.extend(b"0\r\n\r\n");
            }
            out.extend(raw);
            if let Some((at, byte)) = flip {
                let i = at.index(out.len());
                out[i] = byte;
            }
            if let Some(at) = cut {
                out.truncate(at.index(out.len() + 1));
            }
            out
        })
}

#[cfg(feature = "loadgen")]
#[test]
fn the_http_response_reader_never_panics_and_counts_what_it_is_told() {
    use archbench::loadgen::{Failure, read_response};
    let mut runner = proptest::test_runner::TestRunner::new(config(3_000));
    runner
        .run(&(http_response(), 1_usize..300), |(bytes, chunk)| {
            // However the bytes arrive, the reader gives the same answer.
            let whole = read_response(&bytes, bytes.len().max(1));
            let pieces = read_response(&bytes, chunk);
            prop_assert_eq!(
                format!("{whole:?}"),
                format!("{pieces:?}"),
                "delivered whole or {} bytes at a time",
                chunk
            );
            if let Ok(answer) = whole {
                prop_assert!((0..1000).contains(&answer.status));
                prop_assert!(answer.bytes <= bytes.len() as u64);
            }
            Ok(())
        })
        .unwrap();
    // A well-formed response, by hand: length, chunked, and to the end.
    let ok = |text: &[u8]| read_response(text, 7).map(|a| (a.status, a.bytes));
    assert_eq!(
        ok(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
        Ok((200, 5))
    );
    assert_eq!(
        ok(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"),
        Ok((201, 5))
    );
    assert_eq!(ok(b"HTTP/1.0 404 Not Found\r\n\r\nmissing"), Ok((404, 7)));
    assert_eq!(ok(b"HTTP/1.1 204 No Content\r\n\r\n"), Ok((204, 0)));
    assert_eq!(
        ok(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
        Err(Failure::Reset)
    );
    assert_eq!(ok(b"SMTP ready\r\n\r\n"), Err(Failure::Protocol));
    assert_eq!(
        ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        Err(Failure::Other)
    );
}
