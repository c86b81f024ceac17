//! Inspector rows for an LLM server's settings (docs/llm.md): batching
//! limits, the KV cache, the step-time model and chunked prefill.

use eframe::egui::{self, Ui};

use crate::model::{KvCache, LlmPhase, LlmServing, validate::limits};

use super::super::fields::{count_row, problems_under, row, time_row};
use super::resilience::Rows;

/// The rows of an LLM server's settings; nothing for another kind.
pub fn llm_rows(ui: &mut Ui, rows: &mut Rows<'_>, value: &mut Option<LlmServing>) {
    let (problems, here, buffers, key) = rows.parts();
    let Some(llm) = value else {
        return;
    };
    ui.strong("LLM serving");
    ui.menu_button("preset…", |ui| {
        for preset in &crate::model::presets::SERVER_PRESETS {
            if ui
                .button(preset.name)
                .on_hover_text(format!(
                    "step time and KV cache fitted to a real server, vLLM's defaults \
                     for the rest; from {}",
                    preset.source
                ))
                .clicked()
            {
                *llm = preset.serving();
                ui.close();
            }
        }
    })
    .response
    .on_hover_text("published settings (docs/llm.md#presets)");
    ui.end_row();
    count_row(
        ui,
        ("  max sequences", "running at once"),
        &mut llm.max_num_seqs,
        1..=limits::LLM_SEQS,
    );
    count_row(
        ui,
        ("  token budget", "tokens a step"),
        &mut llm.max_batched_tokens,
        1..=limits::LLM_BATCHED_TOKENS,
    );
    row(ui, "  KV cache", "tokens a replica", |ui| {
        let derived = llm.kv_tokens().unwrap_or(0);
        match &mut llm.kv_cache {
            KvCache::Tokens(tokens) => {
                ui.add(
                    egui::DragValue::new(tokens)
                        .range(16..=limits::KV_TOKENS)
                        .speed(64.0),
                );
            }
            KvCache::Model(_) => {
                ui.horizontal(|ui| {
                    ui.label(format!("{derived} (from the model)"))
                        .on_hover_text(
                            "layers, KV heads, head size and GPU memory; see docs/llm.md",
                        );
                    if ui
                        .small_button("set")
                        .on_hover_text("give the cache in tokens instead")
                        .clicked()
                    {
                        llm.kv_cache = KvCache::Tokens(derived.max(16));
                    }
                });
            }
        }
    });
    time_row(
        ui,
        buffers,
        &key("llm-base"),
        ("  step base", "every step"),
        &mut llm.step.base,
    );
    time_row(
        ui,
        buffers,
        &key("llm-prefill"),
        ("  per prompt token", "prefill"),
        &mut llm.step.per_prefill_token,
    );
    time_row(
        ui,
        buffers,
        &key("llm-decode"),
        ("  per sequence", "decoding"),
        &mut llm.step.per_decode_token,
    );
    row(ui, "  chunked prefill", "", |ui| {
        ui.checkbox(&mut llm.chunked_prefill, "decode first, prompts in chunks");
    });
    row(ui, "  phase", "of each request", |ui| {
        egui::ComboBox::from_id_salt("llm-phase")
            .selected_text(llm.phase.label())
            .show_ui(ui, |ui| {
                for phase in [LlmPhase::Both, LlmPhase::Prefill, LlmPhase::Decode] {
                    ui.selectable_value(&mut llm.phase, phase, phase.label());
                }
            })
            .response
            .on_hover_text(
                "split prefill and decode onto two pools: a prefill-only server calls a \
                 decode-only one, the link's latency carrying the KV cache (docs/llm.md)",
            );
    });
    count_row(
        ui,
        ("  tensor parallel", "GPUs a replica"),
        &mut llm.tensor_parallel,
        1..=limits::TENSOR_PARALLEL,
    );
    problems_under(ui, problems, &here.field("llm"));
}
