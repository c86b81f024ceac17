//! Report writers over any `impl Write`: a readable table, JSON, and CSV.

use std::io::{self, Write};

use super::histogram::LatencyHistogram;
use super::histogram::LatencySummary;
use super::report::{LoadReport, ScenarioReport, SimulationReport};
use super::sweep::SweepReport;

/// How a report is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Tables for people.
    #[default]
    Text,
    /// The schema in docs/results-format.md.
    Json,
    /// One row per scenario and class or service.
    Csv,
}

/// Pretty JSON and a final newline.
fn write_json(value: &impl serde::Serialize, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}

/// Writes `report` in `format`.
pub fn write_report(
    report: &SimulationReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Text => write_text(report, out),
        OutputFormat::Json => write_json(report, out),
        OutputFormat::Csv => write_csv(report, out),
    }
}

fn write_text(report: &SimulationReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} (seed {})", report.project, report.seed)?;
    for scenario in &report.scenarios {
        writeln!(out)?;
        write_scenario_text(scenario, out)?;
    }
    if !report.comparisons.is_empty() {
        writeln!(out)?;
        for c in &report.comparisons {
            let pairing = if c.common_random_numbers {
                "paired, common random numbers"
            } else {
                "paired"
            };
            writeln!(
                out,
                "{:?} − {:?}: mean {:+.3} ms [{:+.3}, {:+.3}], p99 {:+.3} ms [{:+.3}, {:+.3}] (95%, {pairing})",
                c.scenario,
                c.baseline,
                c.mean_ms.estimate,
                c.mean_ms.low,
                c.mean_ms.high,
                c.p99_ms.estimate,
                c.p99_ms.low,
                c.p99_ms.high
            )?;
        }
    }
    Ok(())
}

fn write_scenario_text(s: &ScenarioReport, out: &mut dyn Write) -> io::Result<()> {
    let plural = if s.replications == 1 { "" } else { "s" };
    writeln!(
        out,
        "scenario {:?}: {:.1} s measured over {} replication{plural}",
        s.scenario, s.measured_s, s.replications
    )?;
    if let Some(service) = &s.saturated_service {
        writeln!(
            out,
            "  SATURATED at {service:?}: the offered load exceeds its capacity and queues grow without bound"
        )?;
    } else if s.saturated {
        writeln!(out, "  SATURATED: a queue grew without bound")?;
    }
    write_scenario_notes(s, out)?;
    writeln!(
        out,
        "  {:<20} {:>10} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "class",
        "requests",
        "failed",
        "rps",
        "mean ms",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms"
    )?;
    for class in &s.classes {
        latency_row(
            out,
            &class.name,
            class.requests,
            class.failed,
            class.throughput_rps,
            &class.latency_ms,
        )?;
    }
    if s.classes.len() > 1 {
        latency_row(
            out,
            "(all)",
            s.requests,
            s.failed,
            s.throughput_rps,
            &s.latency_ms,
        )?;
    }
    if s.classes.iter().any(|c| c.llm.is_some()) {
        writeln!(
            out,
            "  {:<20} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
            "LLM tokens",
            "sequences",
            "TTFT p50",
            "TTFT p99",
            "TPOT p50",
            "TPOT p99",
            "ITL p99",
            "in tok/s",
            "out tok/s"
        )?;
        for class in &s.classes {
            let Some(llm) = &class.llm else { continue };
            writeln!(
                out,
                "  {:<20} {:>10} {:>9.1} {:>9.1} {:>9.2} {:>9.2} {:>9.1} {:>11.0} {:>11.0}",
                truncate(&class.name, 20),
                llm.sequences,
                llm.ttft_ms.p50,
                llm.ttft_ms.p99,
                llm.tpot_ms.p50,
                llm.tpot_ms.p99,
                llm.itl_ms.p99,
                llm.tokens_in_per_s,
                llm.tokens_out_per_s
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "  {:<20} {:>7} {:>10} {:>10} {:>12} {:>12} {:>10} {:>12}",
        "service",
        "util",
        "mean queue",
        "rps",
        "mean resp ms",
        "p99 resp ms",
        "rejected",
        "analytic ms"
    )?;
    for service in &s.services {
        writeln!(
            out,
            "  {:<20} {:>6.1}% {:>10.2} {:>10.1} {:>12.3} {:>12.3} {:>10} {:>12}",
            truncate(&service.name, 20),
            service.utilization * 100.0,
            service.mean_queue_length,
            service.throughput_rps,
            service.response_ms.mean,
            service.response_ms.p99,
            service.rejected,
            service
                .analytic_ms
                .map_or_else(|| "-".to_owned(), |a| format!("{a:.3}"))
        )?;
    }
    Ok(())
}

/// Warm-up, bottleneck, intervals, the analytic figure and the objectives.
fn write_scenario_notes(s: &ScenarioReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  warm-up discarded: {:.3} s ({}); {}",
        s.warmup_s,
        s.warmup_method,
        s.limit()
    )?;
    if let Some(c) = &s.confidence {
        writeln!(
            out,
            "  95% intervals over {} replications: mean {:.3} ± {:.3} ms, p99 {:.3} ± {:.3} ms, throughput {:.1} ± {:.1} rps",
            s.replications,
            c.mean_ms.estimate,
            c.mean_ms.half_width(),
            c.p99_ms.estimate,
            c.p99_ms.half_width(),
            c.throughput_rps.estimate,
            c.throughput_rps.half_width()
        )?;
    }
    if let (Some(analytic), Some(method)) = (s.analytic_ms, &s.analytic_method) {
        let flag = if s.analytic_outside_interval {
            "  (outside the simulation's interval)"
        } else {
            ""
        };
        writeln!(out, "  analytic mean: {analytic:.3} ms ({method}){flag}")?;
    } else {
        // The first reasons are enough to see why; JSON has them all.
        let broken = &s.analytic_assumptions_broken;
        let shown = broken
            .iter()
            .take(2)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = match broken.len() {
            0..=2 => String::new(),
            n => format!("; and {} more (see --format json)", n - 2),
        };
        writeln!(
            out,
            "  analytic mean: none, the model breaks its assumptions: {shown}{more}"
        )?;
    }
    for o in &s.objectives {
        let class = o
            .class
            .as_deref()
            .map_or(String::new(), |c| format!(" for {c:?}"));
        let verdict = if o.pass { "pass" } else { "FAIL" };
        writeln!(
            out,
            "  objective {}{class}: {:.3} ms, {verdict}",
            o.objective, o.value_ms
        )?;
    }
    Ok(())
}

fn latency_row(
    out: &mut dyn Write,
    name: &str,
    requests: u64,
    failed: u64,
    rps: f64,
    l: &LatencySummary,
) -> io::Result<()> {
    writeln!(
        out,
        "  {:<20} {:>10} {:>8} {:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
        truncate(name, 20),
        requests,
        failed,
        rps,
        l.mean,
        l.p50,
        l.p90,
        l.p99,
        l.p999,
        l.max
    )
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(width - 1).collect();
        short.push('…');
        short
    }
}

const CSV_HEADER: &str = "scenario,row,name,requests,failed,throughput_rps,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,utilization,mean_queue_length,rejected,saturated";

fn write_csv(report: &SimulationReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for s in &report.scenarios {
        let scenario = csv_field(&s.scenario);
        writeln!(
            out,
            "{scenario},overall,,{},{},{},{},,,,{}",
            s.requests,
            s.failed,
            s.throughput_rps,
            latency_cells(&s.latency_ms),
            s.saturated
        )?;
        for c in &s.classes {
            writeln!(
                out,
                "{scenario},class,{},{},{},{},{},,,,",
                csv_field(&c.name),
                c.requests,
                c.failed,
                c.throughput_rps,
                latency_cells(&c.latency_ms),
            )?;
        }
        for v in &s.services {
            writeln!(
                out,
                "{scenario},service,{},{},,{},{},{},{},{},",
                csv_field(&v.name),
                v.arrivals,
                v.throughput_rps,
                latency_cells(&v.response_ms),
                v.utilization,
                v.mean_queue_length,
                v.rejected
            )?;
        }
    }
    Ok(())
}

/// The six latency cells of a CSV row: mean, p50, p90, p99, p99.9, max.
fn latency_cells(l: &LatencySummary) -> String {
    format!(
        "{},{},{},{},{},{}",
        l.mean, l.p50, l.p90, l.p99, l.p999, l.max
    )
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Writes a sweep in `format`.
pub fn write_sweep(
    report: &SweepReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => write_json(report, out),
        OutputFormat::Csv => {
            writeln!(
                out,
                "scenario,offered_rps,replicas,achieved_rps,mean_ms,p50_ms,p99_ms,p999_ms,max_utilization,bottleneck,saturated,slo_pass"
            )?;
            for s in &report.scenarios {
                for p in &s.points {
                    let l = &p.latency_ms;
                    writeln!(
                        out,
                        "{},{},{},{},{},{},{},{},{},{},{},{}",
                        csv_field(&s.scenario),
                        p.offered_rps,
                        p.replicas.map_or_else(String::new, |r| r.to_string()),
                        p.achieved_rps,
                        l.mean,
                        l.p50,
                        l.p99,
                        l.p999,
                        p.max_utilization,
                        csv_field(&p.bottleneck),
                        p.saturated,
                        p.slo_pass
                    )?;
                }
            }
            Ok(())
        }
        OutputFormat::Text => {
            writeln!(out, "{}: sweep of {}", report.project, report.axis)?;
            for s in &report.scenarios {
                writeln!(out)?;
                writeln!(out, "scenario {:?}", s.scenario)?;
                writeln!(
                    out,
                    "  {:>10} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>6}  {:<20} notes",
                    "offered",
                    "replicas",
                    "achieved",
                    "mean ms",
                    "p50 ms",
                    "p99 ms",
                    "p99.9 ms",
                    "util",
                    "bottleneck",
                )?;
                for p in &s.points {
                    let mut notes = Vec::new();
                    if p.saturated {
                        notes.push("SATURATED");
                    }
                    if !p.slo_pass {
                        notes.push("misses SLO");
                    }
                    let l = &p.latency_ms;
                    // With no successful request measured there is no
                    // latency to show: a dash, not a made-up zero.
                    let measured = p.achieved_rps > 0.0;
                    if !measured {
                        notes.push("no request succeeded");
                    }
                    let ms = |v: f64| {
                        if measured {
                            format!("{v:.3}")
                        } else {
                            "-".to_owned()
                        }
                    };
                    writeln!(
                        out,
                        "  {:>10.1} {:>8} {:>10.1} {:>9} {:>9} {:>9} {:>9} {:>5.1}%  {:<20} {}",
                        p.offered_rps,
                        p.replicas.map_or_else(|| "-".to_owned(), |r| r.to_string()),
                        p.achieved_rps,
                        ms(l.mean),
                        ms(l.p50),
                        ms(l.p99),
                        ms(l.p999),
                        p.max_utilization * 100.0,
                        truncate(&p.bottleneck, 20),
                        notes.join(", ")
                    )?;
                }
                let rps =
                    |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |r| format!("{r:.1} rps"));
                writeln!(
                    out,
                    "  maximum sustainable throughput: {}",
                    rps(s.max_throughput_rps)
                )?;
                writeln!(out, "  knee (most power): {}", rps(s.knee_rps))?;
                if let Some(service) = &s.first_saturated {
                    writeln!(out, "  saturates first: {service:?}")?;
                }
                if s.max_rps_within_slo.is_some() || s.points.iter().any(|p| !p.slo_pass) {
                    writeln!(
                        out,
                        "  highest load within the objectives: {}",
                        rps(s.max_rps_within_slo)
                    )?;
                }
                if s.points.iter().any(|p| p.attainment.is_some()) {
                    writeln!(
                        out,
                        "  LLM goodput ({:.0}% of sequences within the ttft and tpot limits): {}",
                        report.goodput_share * 100.0,
                        rps(s.goodput_rps)
                    )?;
                }
            }
            Ok(())
        }
    }
}

/// Writes a load test report in `format`.
pub fn write_load(
    report: &LoadReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => write_json(report, out),
        OutputFormat::Csv => {
            writeln!(out, "second,requests,throughput_rps,p50_ms,p99_ms,errors")?;
            for i in &report.intervals {
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    i.second, i.requests, i.throughput_rps, i.p50_ms, i.p99_ms, i.errors
                )?;
            }
            Ok(())
        }
        OutputFormat::Text => write_load_text(report, out),
    }
}

fn write_load_text(r: &LoadReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} against {} for {:.1} s",
        r.mode,
        r.targets.join(", "),
        r.duration_s
    )?;
    if r.generator_saturated {
        writeln!(
            out,
            "  GENERATOR SATURATED: archbench itself fell behind (scheduling delay p99 {:.1} ms); the figures understate what the target can do",
            r.generator_lag_ms.p99
        )?;
    }
    if let Some(steal) = r.steal_ms.filter(|ms| *ms > 0.0) {
        let seconds = r
            .intervals
            .iter()
            .filter(|i| i.steal_ms.is_some_and(|ms| ms > 0.0))
            .count();
        writeln!(
            out,
            "  the host took {steal:.0} ms of CPU from this machine during the run (steal time, in {seconds} of its seconds); latency measured then includes the wait for a CPU"
        )?;
    }
    if r.sent_late > 0 {
        writeln!(
            out,
            "  behind schedule: {} requests went out more than 10 ms late because every connection was busy; their latency counts from the scheduled time",
            r.sent_late
        )?;
    }
    writeln!(
        out,
        "  requests {}  scheduled {}  dropped {}  throughput {:.1} rps  sent {} B  received {} B",
        r.requests, r.scheduled, r.dropped, r.throughput_rps, r.bytes_sent, r.bytes_received
    )?;
    writeln!(
        out,
        "  {:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "mean", "p50", "p90", "p99", "p99.9", "max"
    )?;
    let mut rows = vec![
        ("from schedule", &r.latency_ms),
        ("from send (uncorrected)", &r.uncorrected_latency_ms),
    ];
    if let Some(llm) = &r.llm {
        rows.extend([
            ("TTFT (from schedule)", &llm.tokens.ttft_ms),
            ("TPOT", &llm.tokens.tpot_ms),
            ("inter-token", &llm.tokens.itl_ms),
        ]);
    }
    for (i, (label, l)) in rows.into_iter().enumerate() {
        if let (2, Some(llm)) = (i, &r.llm) {
            let t = &llm.tokens;
            writeln!(
                out,
                "  LLM: {} streamed answers  tokens in {:.1}/s  out {:.1}/s",
                t.sequences, t.tokens_in_per_s, t.tokens_out_per_s
            )?;
        }
        writeln!(
            out,
            "  {:<22} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            label, l.mean, l.p50, l.p90, l.p99, l.p999, l.max
        )?;
    }
    writeln!(out, "  status  {}", counts(&r.status))?;
    writeln!(out, "  errors  {}", counts(&r.errors))?;
    for t in &r.thresholds {
        writeln!(
            out,
            "  threshold {}: {:.4}, {}",
            t.threshold,
            t.value,
            if t.pass { "pass" } else { "FAIL" }
        )?;
    }
    Ok(())
}

/// `name: count` pairs joined by commas, or `none`.
fn counts(map: &std::collections::BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `histogram` as `HdrHistogram`'s standard percentile distribution
/// (values in milliseconds), which the `HdrHistogram` plotter reads.
pub fn write_hgrm(histogram: &LatencyHistogram, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    writeln!(out)?;
    for (value_ns, quantile, count) in histogram.percentile_distribution(5) {
        let value_ms = value_ns as f64 / 1e6;
        if quantile < 1.0 {
            writeln!(
                out,
                "{value_ms:>12.3} {quantile:>2.12} {count:>10} {:>14.2}",
                1.0 / (1.0 - quantile)
            )?;
        } else {
            writeln!(out, "{value_ms:>12.3} {quantile:>2.12} {count:>10}")?;
        }
    }
    let (buckets, sub_buckets) = histogram.layout();
    writeln!(
        out,
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
        histogram.mean_ns() / 1e6,
        histogram.stdev_ns() / 1e6
    )?;
    writeln!(
        out,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        histogram.max_ns() as f64 / 1e6,
        histogram.count()
    )?;
    writeln!(
        out,
        "#[Buckets = {buckets:>12}, SubBuckets     = {sub_buckets:>12}]"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{SweepPoint, SweepScenario};

    fn point(offered_rps: f64, achieved_rps: f64) -> SweepPoint {
        SweepPoint {
            offered_rps,
            replicas: None,
            achieved_rps,
            latency_ms: LatencySummary {
                mean: 2.5,
                p50: 2.0,
                p90: 4.0,
                p99: 9.0,
                p999: 12.0,
                max: 15.0,
            },
            max_utilization: 0.5,
            bottleneck: "api".into(),
            saturated: achieved_rps == 0.0,
            slo_pass: true,
            attainment: None,
        }
    }

    #[test]
    fn a_sweep_point_with_no_success_shows_no_latency() {
        let report = SweepReport {
            project: "p".into(),
            axis: "rate".into(),
            shard: None,
            goodput_share: 0.9,
            scenarios: vec![SweepScenario {
                scenario: "s".into(),
                points: vec![point(100.0, 99.5), point(5000.0, 0.0)],
                max_throughput_rps: None,
                knee_rps: None,
                first_saturated: None,
                max_rps_within_slo: None,
                goodput_rps: None,
            }],
        };
        let mut bytes = Vec::new();
        write_sweep(&report, OutputFormat::Text, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let row = |offered: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(offered))
                .unwrap_or_else(|| panic!("no row {offered} in\n{text}"))
                .to_owned()
        };
        let fine = row("100.0");
        assert!(fine.contains("2.500") && fine.contains("9.000"), "{fine}");
        let empty = row("5000.0");
        assert!(
            !empty.contains("2.500") && !empty.contains("0.000"),
            "{empty}"
        );
        assert!(empty.contains("no request succeeded"), "{empty}");
    }
}
