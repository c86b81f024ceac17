//! LLM token timings in the app: the results panel's table of TTFT, TPOT
//! and ITL per scenario and class (with the LLM servers' KV use and
//! preemptions, and a live measurement's row), and the Live panel's
//! settings for streamed completions.

use eframe::egui::{self, RichText, Ui};

use crate::model::Project;
use crate::stats::{LlmClassReport, LoadReport, SimulationReport};

use super::super::theme;
use super::figures::{human_ms, percent};

/// Token timings of the classes that reach an LLM server, per scenario
/// (definitions in docs/llm.md); nothing when none does.
/// A measurement's streamed token timings join as a last row, labelled.
pub(super) fn llm_table_ui(
    ui: &mut Ui,
    report: Option<&SimulationReport>,
    measured: Option<(&str, &LoadReport)>,
) {
    let rows: Vec<_> = report
        .iter()
        .flat_map(|r| r.scenarios.iter().enumerate())
        .flat_map(|(i, s)| {
            s.classes
                .iter()
                .filter_map(move |c| c.llm.as_ref().map(|llm| (i, s, c.name.as_str(), llm)))
        })
        .collect();
    let measured = measured.and_then(|(label, m)| m.llm.as_ref().map(|l| (label, &l.tokens)));
    if rows.is_empty() && measured.is_none() {
        return;
    }
    egui::Grid::new("llm-timings")
        .striped(true)
        .spacing([14.0, 3.0])
        .show(ui, |ui| {
            for (heading, note) in [
                ("LLM: scenario", "the scenario and the request class"),
                (
                    "TTFT p50",
                    "time to first token: arrival to the first token",
                ),
                (
                    "TTFT p99",
                    "time to first token: arrival to the first token",
                ),
                ("TPOT p50", "time per output token, per sequence"),
                ("TPOT p99", "time per output token, per sequence"),
                ("ITL p99", "every gap between two tokens"),
                (
                    "tokens/s out",
                    "output tokens of finished sequences per second",
                ),
                (
                    "KV used",
                    "time-averaged share of the KV cache in use (busiest LLM server)",
                ),
                ("preempted", "sequences preempted, over every LLM server"),
            ] {
                ui.strong(heading).on_hover_text(note);
            }
            ui.end_row();
            for (i, s, class, llm) in rows {
                ui.label(
                    RichText::new(format!("■ {} / {class}", s.scenario))
                        .color(theme::scenario_color(i)),
                );
                timings_ui(ui, llm);
                let servers = s.services.iter().filter_map(|v| v.llm);
                let kv = servers
                    .clone()
                    .map(|l| l.kv_utilization)
                    .fold(0.0, f64::max);
                ui.label(percent(kv));
                ui.label(servers.map(|l| l.preemptions).sum::<u64>().to_string());
                ui.end_row();
            }
            if let Some((label, llm)) = measured {
                ui.label(RichText::new(format!("■ {label}")).color(theme::MEASURED))
                    .on_hover_text("streamed answers, TTFT from each request's due time");
                timings_ui(ui, llm);
                ui.label("—");
                ui.label("—");
                ui.end_row();
            }
        });
}

/// The five timings and the output tokens per second of one row.
fn timings_ui(ui: &mut Ui, llm: &LlmClassReport) {
    for value in [
        llm.ttft_ms.p50,
        llm.ttft_ms.p99,
        llm.tpot_ms.p50,
        llm.tpot_ms.p99,
        llm.itl_ms.p99,
    ] {
        ui.label(human_ms(value));
    }
    ui.label(format!("{:.0}", llm.tokens_out_per_s));
}

/// Streamed LLM completions: a checkbox, then the prompt and output
/// lengths (from the project's first class with lengths, at first).
pub(super) fn live_llm_row(ui: &mut Ui, llm: &mut Option<(String, String)>, project: &Project) {
    ui.label("LLM");
    ui.vertical(|ui| {
        let mut on = llm.is_some();
        ui.checkbox(&mut on, "stream completions, time each token")
            .on_hover_text(
                "POST to an OpenAI-compatible /v1/completions or /v1/chat/completions with \
                 \"stream\": true; TTFT, TPOT and inter-token latency join the results \
                 (docs/llm.md#measured-live)",
            );
        if on != llm.is_some() {
            *llm = on.then(|| {
                project
                    .workload
                    .classes
                    .iter()
                    .find_map(|c| c.tokens.as_ref())
                    .map_or(("512".into(), "128".into()), |t| {
                        (t.prompt.to_string(), t.output.to_string())
                    })
            });
        }
        if let Some((prompt, output)) = llm {
            for (label, text) in [("prompt tokens", prompt), ("output tokens", output)] {
                ui.horizontal(|ui| {
                    ui.label(label);
                    let field = ui.text_edit_singleline(text);
                    ui.ctx()
                        .accesskit_node_builder(field.id, |n| n.set_label(format!("live {label}")));
                });
            }
        }
    });
    ui.end_row();
}
