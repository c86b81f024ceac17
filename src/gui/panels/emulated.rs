//! The Live window's third target: the scenario on the canvas, emulated as
//! real services on 127.0.0.1 and driven with the project's workload, and
//! the small table of its prediction against that measurement (feature
//! `loadgen`).

use std::time::Duration;

use eframe::egui::{self, RichText, Ui};

use crate::loadgen::LoadPlan;
use crate::loadgen::emulate::{self, EmulateConfig, Emulation};
use crate::model::{Project, Validated};
use crate::stats::{LoadReport, ScenarioReport, ServiceStats, Versus, compare};

use super::super::plots::format_ms;
use super::super::theme;

/// A finished measurement, and what it measured.
pub struct Measurement {
    /// The load test's report.
    pub report: LoadReport,
    /// Set when the target was the scenario emulated here.
    pub emulated: Option<EmulatedRun>,
}

/// What an emulation served during a measurement.
#[derive(Clone, Debug)]
pub struct EmulatedRun {
    /// The scenario emulated.
    pub scenario: String,
    /// Its services' counters over the run.
    pub services: Vec<ServiceStats>,
}

/// Starts scenario `scenario` as real services and plans the project's
/// workload against it for `duration`; the message says what stops it.
pub fn start(
    project: &Project,
    scenario: usize,
    duration: Duration,
    connections: u32,
) -> Result<(Emulation, LoadPlan), String> {
    let Ok(valid) = Validated::new(project) else {
        return Err("the project has problems (see the inspector): fix them to emulate it".into());
    };
    let refused = emulate::unsupported(project, scenario);
    if !refused.is_empty() {
        let lines: Vec<String> = refused.iter().map(ToString::to_string).collect();
        return Err(lines.join("\n"));
    }
    let emulation = Emulation::start(
        valid,
        scenario,
        &EmulateConfig {
            seed: project.run.seed,
            base_port: None,
            threads: None,
            traces: None,
            only: None,
        },
    )
    .map_err(|e| e.to_string())?;
    let plan = emulation
        .load_plan(project, duration, Duration::ZERO, connections)
        .map_err(|e| e.to_string())?;
    Ok((emulation, plan))
}

/// The prediction against the emulated measurement: end to end per class,
/// utilisation and p99 per service, each with its error.
pub fn comparison_ui(
    ui: &mut Ui,
    predicted: &ScenarioReport,
    measured: &LoadReport,
    run: &EmulatedRun,
) {
    let (classes, services) = compare(predicted, measured, &run.services);
    ui.strong(format!(
        "Simulated against measured (emulated): scenario \"{}\"",
        run.scenario
    ));
    let error = |v: &Versus| {
        v.error
            .map_or_else(|| "–".to_owned(), |e| format!("{:+.1}%", e * 100.0))
    };
    egui::Grid::new("emulated-errors")
        .striped(true)
        .show(ui, |ui| {
            for heading in ["", "simulated", "measured", "error"] {
                ui.strong(heading);
            }
            ui.end_row();
            for class in &classes {
                let rows = [
                    ("req/s", &class.throughput_rps, false),
                    ("p50", &class.p50_ms, true),
                    ("p90", &class.p90_ms, true),
                    ("p99", &class.p99_ms, true),
                    ("p99.9", &class.p999_ms, true),
                ];
                for (name, v, ms) in rows {
                    ui.label(format!("{} {name}", class.class));
                    let value = |x: f64| {
                        if ms {
                            format!("{} ms", format_ms(x))
                        } else {
                            format!("{x:.0}")
                        }
                    };
                    ui.label(value(v.predicted));
                    ui.label(value(v.measured));
                    ui.label(error(v));
                    ui.end_row();
                }
            }
            for s in &services {
                ui.label(format!("{} busy", s.service));
                ui.label(format!("{:.1}%", s.utilization.predicted * 100.0));
                ui.label(format!("{:.1}%", s.utilization.measured * 100.0));
                ui.label(error(&s.utilization));
                ui.end_row();
            }
        });
    ui.label(
        RichText::new(
            "Errors are (measured − simulated) / simulated. The emulation adds the real cost of \
             HTTP over loopback at each hop, which the model does not have.",
        )
        .small()
        .color(theme::MUTED),
    );
}
