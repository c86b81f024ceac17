//! Inspector rows for an LLM server's settings (docs/llm.md): batching
//! limits, the KV cache, the step-time model and chunked prefill.

use eframe::egui::{self, Ui};

use crate::model::{
    KvCache, LlmPhase, LlmServing, ModelMemory, parse_prefill_table, prefill_table_text,
    validate::limits,
};

use super::super::fields::{
    count_row, drag_f64, error_row, percent_row, problems_under, row, time_row,
};
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
    kv_cache_rows(ui, llm);
    percent_row(
        ui,
        ("  watermark", "% kept free"),
        &mut llm.watermark,
        0.0..=50.0,
    );
    time_row(
        ui,
        buffers,
        &key("llm-base"),
        ("  step base", "every step"),
        &mut llm.step.base,
    );
    if llm.step.prefill_table.is_empty() {
        time_row(
            ui,
            buffers,
            &key("llm-prefill"),
            ("  per prompt token", "prefill"),
            &mut llm.step.per_prefill_token,
        );
    }
    let table_key = key("llm-prefill-table");
    row(ui, "  prefill table", "tokens:time, …", |ui| {
        let current = prefill_table_text(&llm.step.prefill_table);
        if let Some(table) = buffers.text(
            ui,
            &table_key,
            "prefill table",
            &current,
            parse_prefill_table,
        ) {
            // The table replaces the per-token cost.
            if !table.is_empty() {
                llm.step.per_prefill_token = crate::model::TimeSpan::ZERO;
            }
            llm.step.prefill_table = table;
        }
    });
    error_row(ui, buffers, &table_key);
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
    if llm.tensor_parallel > 1 {
        percent_row(
            ui,
            ("  TP efficiency", "% of ideal"),
            &mut llm.tp_efficiency,
            10.0..=100.0,
        );
    }
    problems_under(ui, problems, &here.field("llm"));
}

/// The KV cache: in tokens, or derived from the model's shape and the GPUs'
/// memory, with a button to switch between the two.
fn kv_cache_rows(ui: &mut Ui, llm: &mut LlmServing) {
    let derived = llm.kv_tokens().unwrap_or(0);
    let mut switch = None;
    row(ui, "  KV cache", "tokens a replica", |ui| {
        match &mut llm.kv_cache {
            KvCache::Tokens(tokens) => {
                ui.horizontal(|ui| {
                    ui.add(
                        egui::DragValue::new(tokens)
                            .range(16..=limits::KV_TOKENS)
                            .speed(64.0),
                    );
                    if ui
                        .small_button("from model")
                        .on_hover_text("derive it from the model's shape and the GPUs' memory")
                        .clicked()
                    {
                        switch = Some(KvCache::Model(ModelMemory::llama_8b()));
                    }
                });
            }
            KvCache::Model(_) => {
                ui.horizontal(|ui| {
                    ui.label(format!("{derived} derived"))
                        .on_hover_text("from the rows below; see docs/llm.md");
                    if ui
                        .small_button("set")
                        .on_hover_text("give the cache in tokens instead")
                        .clicked()
                    {
                        switch = Some(KvCache::Tokens(derived.max(16)));
                    }
                });
            }
        }
    });
    if let Some(cache) = switch {
        llm.kv_cache = cache;
    }
    let KvCache::Model(model) = &mut llm.kv_cache else {
        return;
    };
    count_row(ui, ("    layers", ""), &mut model.layers, 1..=10_000);
    count_row(
        ui,
        ("    KV heads", "a layer"),
        &mut model.kv_heads,
        1..=10_000,
    );
    count_row(
        ui,
        ("    head size", "dimensions"),
        &mut model.head_dim,
        1..=100_000,
    );
    count_row(
        ui,
        ("    bytes a value", "2: BF16, 1: FP8"),
        &mut model.bytes_per_value,
        1..=8,
    );
    row(ui, "    GPU memory", "GiB", |ui| {
        if let Some(v) = drag_f64(ui, model.gpu_memory_gib, 1.0..=100_000.0) {
            model.gpu_memory_gib = v;
        }
    });
    row(ui, "    weights", "GiB", |ui| {
        if let Some(v) = drag_f64(ui, model.weights_gib, 0.0..=1_000_000.0) {
            model.weights_gib = v;
        }
    });
    percent_row(
        ui,
        ("    memory used", "% a GPU"),
        &mut model.memory_fraction,
        1.0..=100.0,
    );
}
