//! What an emulation measured, and a prediction judged against it: the
//! counters every emulated service serves at `/_archbench/stats`, and the
//! report of `archbench validate` (docs/results-format.md).

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use super::{LatencyHistogram, LatencySummary, LinkReport, LoadReport, ScenarioReport};

/// The counters of one service, over all its replicas.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceStats {
    /// The service.
    pub service: String,
    /// Its replicas.
    pub replica_count: u32,
    /// Workers per replica.
    pub workers: u32,
    /// The window the counters cover, in seconds.
    pub window_s: f64,
    /// Requests that arrived.
    pub requests: u64,
    /// Requests answered (except refusals) per second.
    pub throughput_rps: f64,
    /// Requests failed by the service's error rate.
    pub errors: u64,
    /// Requests failed because a call they made failed.
    pub downstream_failures: u64,
    /// Requests refused because a waiting room was full (status 503).
    pub rejected: u64,
    /// Requests refused by the rate limit (status 429).
    pub rate_limited: u64,
    /// Requests a cache answered itself.
    pub cache_hits: u64,
    /// The time-averaged share of all workers held.
    pub utilization: f64,
    /// The time-averaged number of requests waiting, over all replicas.
    pub mean_queue_length: f64,
    /// The number waiting over all replicas, averaged over each whole
    /// second of the window, as each replica's `queue_per_second`.
    pub queue_per_second: Vec<f64>,
    /// From arrival to answer, downstream calls included.
    pub response_ms: LatencySummary,
    /// Each replica's counters.
    pub replicas: Vec<ReplicaStats>,
    /// What the guards of the service's outgoing links did.
    pub links: Vec<LinkReport>,
    /// The histogram behind `response_ms`.
    #[serde(skip)]
    pub response: LatencyHistogram,
}

/// One replica's counters, as `/_archbench/stats` serves them.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaStats {
    /// Which replica, from 0.
    pub replica: u32,
    /// The window the counters cover, in seconds.
    pub window_s: f64,
    /// Requests that arrived.
    pub requests: u64,
    /// Requests answered, except refusals, among those that arrived in the window.
    pub completed: u64,
    /// Requests failed by the service's error rate.
    pub errors: u64,
    /// Requests failed because a call they made failed.
    pub downstream_failures: u64,
    /// Requests refused because the waiting room was full (status 503).
    pub rejected: u64,
    /// Requests refused by the rate limit (status 429).
    pub rate_limited: u64,
    /// Requests a cache answered itself.
    pub cache_hits: u64,
    /// Requests that had to wait for a worker.
    pub waited: u64,
    /// Worker-seconds held.
    pub busy_s: f64,
    /// The time-averaged share of workers held.
    pub utilization: f64,
    /// The time-averaged number of requests waiting for a worker.
    pub mean_queue_length: f64,
    /// The queue length over time: its average over each whole second of
    /// the window (the last hour at most), from `queue_first_second`.
    pub queue_per_second: Vec<f64>,
    /// The window's second the first of `queue_per_second` covers.
    pub queue_first_second: u64,
    /// From arrival to answer, downstream calls included.
    pub response_ms: LatencySummary,
    /// The histogram behind `response_ms`.
    #[serde(skip)]
    pub response: LatencyHistogram,
}

/// One figure, predicted and measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Versus {
    /// The simulator's value.
    pub predicted: f64,
    /// The emulation's value.
    pub measured: f64,
    /// (measured − predicted) / predicted; `null` when nothing was predicted.
    pub error: Option<f64>,
}

impl Versus {
    /// Pairs two values.
    pub fn new(predicted: f64, measured: f64) -> Self {
        let error = (predicted.abs() > f64::EPSILON && measured.is_finite())
            .then(|| (measured - predicted) / predicted);
        Self {
            predicted,
            measured,
            error,
        }
    }
}

/// End-to-end figures of one request class.
#[derive(Clone, Debug, Serialize)]
pub struct ClassVersus {
    /// The class.
    pub class: String,
    /// Requests answered per second.
    pub throughput_rps: Versus,
    /// Mean latency, ms.
    pub mean_ms: Versus,
    /// Median, ms.
    pub p50_ms: Versus,
    /// 90th percentile, ms.
    pub p90_ms: Versus,
    /// 99th percentile, ms.
    pub p99_ms: Versus,
    /// 99.9th percentile, ms.
    pub p999_ms: Versus,
}

/// One service's figures.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceVersus {
    /// The service.
    pub service: String,
    /// The time-averaged share of its workers held.
    pub utilization: Versus,
    /// 99th percentile of its response time (arrival to answer), ms.
    pub p99_ms: Versus,
    /// Requests it answered per second.
    pub throughput_rps: Versus,
}

/// A figure a tolerance can bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A class's throughput.
    Throughput,
    /// A class's mean latency.
    Mean,
    /// A class's median latency.
    P50,
    /// A class's p90.
    P90,
    /// A class's p99.
    P99,
    /// A class's p99.9.
    P999,
    /// A service's utilisation.
    Utilization,
    /// A service's p99 response time.
    ServiceP99,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Self; 8] = [
        Self::Throughput,
        Self::Mean,
        Self::P50,
        Self::P90,
        Self::P99,
        Self::P999,
        Self::Utilization,
        Self::ServiceP99,
    ];

    /// Its name in a tolerance (`p99=20%`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Mean => "mean",
            Self::P50 => "p50",
            Self::P90 => "p90",
            Self::P99 => "p99",
            Self::P999 => "p999",
            Self::Utilization => "utilization",
            Self::ServiceP99 => "service_p99",
        }
    }

    /// Each figure of the report this metric bounds, with where it is.
    fn figures(self, report: &ValidationReport) -> Vec<(String, Versus)> {
        let class = |pick: fn(&ClassVersus) -> Versus| {
            report
                .classes
                .iter()
                .map(|c| (format!("class {:?}", c.class), pick(c)))
                .collect()
        };
        let service = |pick: fn(&ServiceVersus) -> Versus| {
            report
                .services
                .iter()
                .map(|s| (format!("service {:?}", s.service), pick(s)))
                .collect()
        };
        match self {
            Self::Throughput => class(|c| c.throughput_rps),
            Self::Mean => class(|c| c.mean_ms),
            Self::P50 => class(|c| c.p50_ms),
            Self::P90 => class(|c| c.p90_ms),
            Self::P99 => class(|c| c.p99_ms),
            Self::P999 => class(|c| c.p999_ms),
            Self::Utilization => service(|s| s.utilization),
            Self::ServiceP99 => service(|s| s.p99_ms),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The largest relative error a metric may show.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// What it bounds.
    pub metric: Metric,
    /// The bound, as a fraction (0.2 for 20%).
    pub limit: f64,
}

impl Tolerance {
    /// Parses a list like `p99=20%,p50=10%` (a bare number is a fraction).
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| {
                let (name, value) = part
                    .split_once('=')
                    .ok_or_else(|| format!("{part:?}: write METRIC=LIMIT, like p99=20%"))?;
                let name = name.trim().to_ascii_lowercase().replace('-', "_");
                let metric = Metric::ALL
                    .into_iter()
                    .find(|m| m.name() == name || (name == "p99.9" && *m == Metric::P999))
                    .ok_or_else(|| {
                        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                        format!("{name:?} is not a metric; use one of {}", names.join(", "))
                    })?;
                let value = value.trim();
                let limit = match value.strip_suffix('%') {
                    Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
                    None => value.parse::<f64>(),
                }
                .map_err(|_| format!("{value:?} is not a limit; write it like 20%"))?;
                if !(limit.is_finite() && limit >= 0.0) {
                    return Err(format!(
                        "the limit of {name} must be 0% or more, got {value:?}"
                    ));
                }
                Ok(Self { metric, limit })
            })
            .collect()
    }
}

/// How a tolerance fared.
#[derive(Clone, Debug, Serialize)]
pub struct ToleranceResult {
    /// The metric.
    pub metric: Metric,
    /// The bound, as a fraction.
    pub limit: f64,
    /// The largest absolute relative error among its figures; `null` when
    /// none could be compared.
    pub worst: Option<f64>,
    /// Where the worst one is, like `class "page"`.
    pub worst_at: Option<String>,
    /// Whether every figure is within the bound.
    pub pass: bool,
}

/// A scenario's prediction judged against its emulation (`archbench validate`).
#[derive(Clone, Debug, Serialize)]
pub struct ValidationReport {
    /// The scenario.
    pub scenario: String,
    /// The total rate offered, requests per second (`null` for a closed workload).
    pub offered_rps: Option<f64>,
    /// With `--load`: the fraction of the maximum sustainable throughput asked for.
    pub load_fraction: Option<f64>,
    /// With `--load`: the maximum sustainable throughput a sweep found.
    pub max_throughput_rps: Option<f64>,
    /// Seconds measured, after the warm-up.
    pub duration_s: f64,
    /// Seconds of load discarded first.
    pub warmup_s: f64,
    /// The seed of the simulation and of the emulated services' draws.
    pub seed: u64,
    /// Replications the prediction merges.
    pub replications: u32,
    /// End to end, per request class.
    pub classes: Vec<ClassVersus>,
    /// Per service.
    pub services: Vec<ServiceVersus>,
    /// The `--tolerance` checks.
    pub tolerances: Vec<ToleranceResult>,
    /// Every tolerance holds.
    pub pass: bool,
    /// Requests of the measured run that failed (transport errors and 5xx).
    pub measured_failures: u64,
    /// The load generator could not keep its schedule.
    pub generator_saturated: bool,
    /// CPU time the host took during the measured run, ms.
    pub steal_ms: Option<f64>,
    /// The simulation called the scenario saturated at this load.
    pub predicted_saturated: bool,
}

/// Pairs a simulation with a measured run: end to end per class (from
/// the load generator, by target when there are several), and per service
/// (from the emulated services' counters).
pub fn compare(
    predicted: &ScenarioReport,
    measured: &LoadReport,
    services: &[ServiceStats],
) -> (Vec<ClassVersus>, Vec<ServiceVersus>) {
    let classes = predicted
        .classes
        .iter()
        .enumerate()
        .map(|(i, class)| {
            let (requests, latency) = match measured.by_target.get(i) {
                Some(target) => (target.requests, target.latency_ms),
                None => (measured.requests, measured.latency_ms),
            };
            let p = &class.latency_ms;
            ClassVersus {
                class: class.name.clone(),
                throughput_rps: Versus::new(
                    class.throughput_rps,
                    requests as f64 / measured.duration_s.max(f64::EPSILON),
                ),
                mean_ms: Versus::new(p.mean, latency.mean),
                p50_ms: Versus::new(p.p50, latency.p50),
                p90_ms: Versus::new(p.p90, latency.p90),
                p99_ms: Versus::new(p.p99, latency.p99),
                p999_ms: Versus::new(p.p999, latency.p999),
            }
        })
        .collect();
    let services = predicted
        .services
        .iter()
        .filter_map(|p| {
            let m = services.iter().find(|s| s.service == p.name)?;
            Some(ServiceVersus {
                service: p.name.clone(),
                utilization: Versus::new(p.utilization, m.utilization),
                p99_ms: Versus::new(p.response_ms.p99, m.response_ms.p99),
                throughput_rps: Versus::new(p.throughput_rps, m.throughput_rps),
            })
        })
        .collect();
    (classes, services)
}

impl ValidationReport {
    /// Checks each tolerance against the figures, and sets `pass`.
    pub fn check(&mut self, tolerances: &[Tolerance]) {
        self.tolerances = tolerances
            .iter()
            .map(|t| {
                let worst = t
                    .metric
                    .figures(self)
                    .into_iter()
                    .filter_map(|(at, v)| v.error.map(|e| (at, e.abs())))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                ToleranceResult {
                    metric: t.metric,
                    limit: t.limit,
                    pass: worst.as_ref().is_none_or(|(_, e)| *e <= t.limit),
                    worst: worst.as_ref().map(|(_, e)| *e),
                    worst_at: worst.map(|(at, _)| at),
                }
            })
            .collect();
        self.pass = self.tolerances.iter().all(|t| t.pass);
    }
}

fn percent(error: Option<f64>) -> String {
    error.map_or_else(|| "-".to_owned(), |e| format!("{:+.1}%", e * 100.0))
}

/// Writes the report as tables (`json`: false) or as JSON.
pub fn write_validation(
    report: &ValidationReport,
    json: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
        return writeln!(out);
    }
    let load = match (
        report.offered_rps,
        report.load_fraction,
        report.max_throughput_rps,
    ) {
        (Some(rate), Some(fraction), Some(max)) => format!(
            "{rate:.1} req/s offered ({:.0}% of the {max:.1} req/s maximum)",
            fraction * 100.0
        ),
        (Some(rate), _, _) => format!("{rate:.1} req/s offered"),
        (None, _, _) => "the project's closed workload".to_owned(),
    };
    writeln!(
        out,
        "scenario {:?}: predicted (simulated, {} replications) against measured (emulated on 127.0.0.1)",
        report.scenario, report.replications
    )?;
    writeln!(
        out,
        "  {load}; {:.0} s measured after {:.0} s of warm-up; seed {}",
        report.duration_s, report.warmup_s, report.seed
    )?;
    if report.predicted_saturated {
        writeln!(
            out,
            "  the simulation calls this load saturated: latencies grow with the run's length"
        )?;
    }
    if report.generator_saturated {
        writeln!(
            out,
            "  the load generator fell behind its schedule: the measured figures understate the latency"
        )?;
    }
    if let Some(steal) = report.steal_ms.filter(|s| *s >= 100.0) {
        writeln!(
            out,
            "  the host took {steal:.0} ms of CPU from this machine during the run (steal time)"
        )?;
    }
    if report.measured_failures > 0 {
        writeln!(
            out,
            "  {} measured requests failed",
            report.measured_failures
        )?;
    }
    for class in &report.classes {
        writeln!(out)?;
        writeln!(
            out,
            "class {:?} end to end     predicted    measured     error",
            class.class
        )?;
        for (name, v) in [
            ("throughput (req/s)", class.throughput_rps),
            ("mean (ms)", class.mean_ms),
            ("p50 (ms)", class.p50_ms),
            ("p90 (ms)", class.p90_ms),
            ("p99 (ms)", class.p99_ms),
            ("p99.9 (ms)", class.p999_ms),
        ] {
            writeln!(
                out,
                "  {name:<22} {:>10.3}  {:>10.3}  {:>8}",
                v.predicted,
                v.measured,
                percent(v.error)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<24} {:>29}   {:>29}",
        "service", "utilisation pred / meas / err", "p99 ms pred / meas / err"
    )?;
    for s in &report.services {
        writeln!(
            out,
            "  {:<22} {:>8.1}% {:>8.1}% {:>8}   {:>8.3} {:>9.3} {:>8}",
            s.service,
            s.utilization.predicted * 100.0,
            s.utilization.measured * 100.0,
            percent(s.utilization.error),
            s.p99_ms.predicted,
            s.p99_ms.measured,
            percent(s.p99_ms.error),
        )?;
    }
    if !report.tolerances.is_empty() {
        writeln!(out)?;
        for t in &report.tolerances {
            writeln!(
                out,
                "tolerance {} {:.1}%: worst {}{} {}",
                t.metric,
                t.limit * 100.0,
                t.worst
                    .map_or_else(|| "-".to_owned(), |w| format!("{:.1}%", w * 100.0)),
                t.worst_at
                    .as_ref()
                    .map_or_else(String::new, |at| format!(" ({at})")),
                if t.pass { "pass" } else { "FAIL" }
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_parse_with_percent_or_fraction_and_name_bad_parts() {
        let list = Tolerance::parse_list("p99=20%, p50=0.1,service-p99=30%").unwrap();
        assert_eq!(
            list,
            vec![
                Tolerance {
                    metric: Metric::P99,
                    limit: 0.2
                },
                Tolerance {
                    metric: Metric::P50,
                    limit: 0.1
                },
                Tolerance {
                    metric: Metric::ServiceP99,
                    limit: 0.3
                },
            ]
        );
        assert!(Tolerance::parse_list("p98=5%").unwrap_err().contains("p98"));
        assert!(
            Tolerance::parse_list("p99")
                .unwrap_err()
                .contains("METRIC=LIMIT")
        );
        assert!(
            Tolerance::parse_list("p99=-1%")
                .unwrap_err()
                .contains("0% or more")
        );
    }

    /// The relative error by hand, and the worst error decides.
    #[test]
    fn the_worst_relative_error_decides_a_tolerance() {
        let v = Versus::new(10.0, 12.0);
        assert!((v.error.unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(Versus::new(0.0, 1.0).error, None);
        let class = |name: &str, p99: Versus| ClassVersus {
            class: name.into(),
            throughput_rps: Versus::new(100.0, 99.0),
            mean_ms: Versus::new(1.0, 1.0),
            p50_ms: Versus::new(1.0, 1.05),
            p90_ms: Versus::new(1.0, 1.0),
            p99_ms: p99,
            p999_ms: Versus::new(1.0, 1.0),
        };
        let mut report = ValidationReport {
            scenario: "s".into(),
            offered_rps: Some(100.0),
            load_fraction: None,
            max_throughput_rps: None,
            duration_s: 60.0,
            warmup_s: 5.0,
            seed: 1,
            replications: 1,
            classes: vec![
                class("a", Versus::new(10.0, 11.0)),
                class("b", Versus::new(10.0, 7.5)),
            ],
            services: Vec::new(),
            tolerances: Vec::new(),
            pass: false,
            measured_failures: 0,
            generator_saturated: false,
            steal_ms: None,
            predicted_saturated: false,
        };
        report.check(&Tolerance::parse_list("p99=20%,p50=10%").unwrap());
        assert!(!report.pass);
        let p99 = &report.tolerances[0];
        assert!((p99.worst.unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(p99.worst_at.as_deref(), Some("class \"b\""));
        assert!(!p99.pass);
        assert!(report.tolerances[1].pass);
        report.check(&Tolerance::parse_list("p99=25%").unwrap());
        assert!(report.pass);
    }
}
