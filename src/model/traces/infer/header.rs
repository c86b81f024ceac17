//! The comment block an imported project opens with.

use super::super::fit;
use super::Import;

impl Import {
    /// The comment block the project file opens with: where it came from,
    /// what was measured and what was assumed.
    pub fn header(&self, sources: &[String]) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let mut line = |text: String| {
            for part in text.lines() {
                let _ = writeln!(out, "// {part}");
            }
        };
        line(format!(
            "Imported by archbench import from {}.",
            if sources.is_empty() {
                "traces".to_owned()
            } else {
                sources.join(", ")
            }
        ));
        line(format!(
            "{} spans in {} traces; {} requests over {:.1} s, {} req/s at the entry.",
            self.spans,
            self.traces,
            self.requests,
            self.window_s,
            fit::round3(if self.window_s > 0.0 {
                (self.requests - 1) as f64 / self.window_s
            } else {
                0.0
            })
        ));
        let a = &self.anomalies;
        line(format!(
            "Anomalies: {} spans without their parent, {} outside their parent (clock skew), \
             {} duplicate ids, {} ending before they start; {} calls to services without spans.",
            a.missing_parent, a.skewed, a.duplicate, a.negative, self.untraced_calls
        ));
        line("Service times (own work: a handling less its wait for a worker and its".into());
        line("synchronous calls), fitted as docs/traces.md says:".into());
        for s in &self.services {
            let workers = if s.workers.1 { "measured" } else { "assumed" };
            line(format!(
                "  {}: {}; {} handlings, {} replica(s), {} workers ({workers}), io {:?}{}",
                s.name,
                s.fit.describe(),
                s.handlings,
                s.instances.unwrap_or(1),
                s.workers.0,
                s.io.0,
                if s.io.1 { " (measured)" } else { "" }
            ));
        }
        line("Assumed: balancers RoundRobin, queues unbounded, kinds guessed from names,".into());
        line("one scenario, Poisson arrivals at the traced rate.".into());
        for warning in &self.warnings {
            line(format!("Warning: {warning}"));
        }
        out
    }
}
