//! The results panel's table of LLM token timings: TTFT, TPOT and ITL per
//! scenario and class, with the LLM servers' KV use and preemptions.

use eframe::egui::{self, RichText, Ui};

use crate::stats::SimulationReport;

use super::super::theme;
use super::figures::{human_ms, percent};

/// Token timings of the classes that reach an LLM server, per scenario
/// (definitions in docs/llm.md); nothing when none does.
pub(super) fn llm_table_ui(ui: &mut Ui, report: &SimulationReport) {
    let rows: Vec<_> = report
        .scenarios
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.classes
                .iter()
                .filter_map(move |c| c.llm.as_ref().map(|llm| (i, s, c.name.as_str(), llm)))
        })
        .collect();
    if rows.is_empty() {
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
                let servers = s.services.iter().filter_map(|v| v.llm);
                let kv = servers
                    .clone()
                    .map(|l| l.kv_utilization)
                    .fold(0.0, f64::max);
                ui.label(percent(kv));
                ui.label(servers.map(|l| l.preemptions).sum::<u64>().to_string());
                ui.end_row();
            }
        });
}
