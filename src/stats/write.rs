//! Report writers over any `impl Write`: a readable table, JSON, and CSV.

use std::io::{self, Write};

use super::histogram::LatencySummary;
use super::report::{ScenarioReport, SimulationReport};

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

/// Writes `report` in `format`.
pub fn write_report(
    report: &SimulationReport,
    format: OutputFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Text => write_text(report, out),
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
            writeln!(out)
        }
        OutputFormat::Csv => write_csv(report, out),
    }
}

fn write_text(report: &SimulationReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} (seed {})", report.project, report.seed)?;
    for scenario in &report.scenarios {
        writeln!(out)?;
        write_scenario_text(scenario, out)?;
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
    writeln!(out)?;
    writeln!(
        out,
        "  {:<20} {:>7} {:>10} {:>10} {:>12} {:>12} {:>10}",
        "service", "util", "mean queue", "rps", "mean resp ms", "p99 resp ms", "rejected"
    )?;
    for service in &s.services {
        writeln!(
            out,
            "  {:<20} {:>6.1}% {:>10.2} {:>10.1} {:>12.3} {:>12.3} {:>10}",
            truncate(&service.name, 20),
            service.utilization * 100.0,
            service.mean_queue_length,
            service.throughput_rps,
            service.response_ms.mean,
            service.response_ms.p99,
            service.rejected
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
        let l = &s.latency_ms;
        writeln!(
            out,
            "{scenario},overall,,{},{},{},{},{},{},{},{},{},,,,{}",
            s.requests,
            s.failed,
            s.throughput_rps,
            l.mean,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max,
            s.saturated
        )?;
        for c in &s.classes {
            let l = &c.latency_ms;
            writeln!(
                out,
                "{scenario},class,{},{},{},{},{},{},{},{},{},{},,,,",
                csv_field(&c.name),
                c.requests,
                c.failed,
                c.throughput_rps,
                l.mean,
                l.p50,
                l.p90,
                l.p99,
                l.p999,
                l.max
            )?;
        }
        for v in &s.services {
            let l = &v.response_ms;
            writeln!(
                out,
                "{scenario},service,{},{},,{},{},{},{},{},{},{},{},{},{},",
                csv_field(&v.name),
                v.arrivals,
                v.throughput_rps,
                l.mean,
                l.p50,
                l.p90,
                l.p99,
                l.p999,
                l.max,
                v.utilization,
                v.mean_queue_length,
                v.rejected
            )?;
        }
    }
    Ok(())
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
