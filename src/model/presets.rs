//! Published settings to start an LLM server and its requests from, each
//! with its source (docs/llm.md#presets): step-time coefficients fitted to
//! a real server, and token lengths of a production trace.

use super::llm::{KvCache, LlmServing, StepTime, TokenCount, TokenLengths};
use super::{Distribution, TimeSpan};

/// A named server preset and where its numbers come from.
#[derive(Clone, Copy, Debug)]
pub struct ServerPreset {
    /// The name shown in the app.
    pub name: &'static str,
    /// Where the figures come from.
    pub source: &'static str,
    /// Step-time coefficients in nanoseconds: base, per prompt token, per
    /// decoding sequence.
    step_ns: (u64, u64, u64),
    /// KV-cache blocks of 16 tokens.
    kv_blocks: u64,
}

/// The BLIS fits, `coefficients.yaml` of inference-sim/inference-sim
/// (commit 01cddc32), whose `beta_coeffs` (microseconds) are exactly this
/// step model: base + per prefill token + per decode token, fitted to
/// vLLM v0.8.4 serving meta-llama/llama-3.1-8b-instruct on one GPU.
const BLIS: &str = "BLIS (github.com/inference-sim/inference-sim, coefficients.yaml), \
                    fitted to vLLM v0.8.4 serving Llama-3.1-8B-Instruct, TP 1";

/// Server presets.
pub const SERVER_PRESETS: [ServerPreset; 2] = [
    ServerPreset {
        name: "Llama-3.1-8B on H100 (vLLM 0.8.4)",
        source: BLIS,
        step_ns: (5_752_705, 17_251, 5_999),
        kv_blocks: 29_205,
    },
    ServerPreset {
        name: "Llama-3.1-8B on A100-80GB (vLLM 0.8.4)",
        source: BLIS,
        step_ns: (16_441_532, 47_837, 18_206),
        kv_blocks: 29_205,
    },
];

impl ServerPreset {
    /// The settings: the fitted step and cache, with vLLM's defaults for
    /// the rest (256 sequences, a budget of 8,192 tokens, chunked prefill
    /// as vLLM's V1 engine does by default, a 1% watermark).
    pub fn serving(&self) -> LlmServing {
        let (base, prefill, decode) = self.step_ns;
        LlmServing {
            kv_cache: KvCache::Tokens(self.kv_blocks * super::KV_BLOCK_TOKENS),
            step: StepTime {
                base: TimeSpan::from_nanos(base),
                per_prefill_token: TimeSpan::from_nanos(prefill),
                per_decode_token: TimeSpan::from_nanos(decode),
                prefill_table: Vec::new(),
            },
            chunked_prefill: true,
            ..LlmServing::example()
        }
    }
}

/// A named preset of a class's token lengths.
#[derive(Clone, Copy, Debug)]
pub struct LengthPreset {
    /// The name shown in the app.
    pub name: &'static str,
    /// Where the figures come from.
    pub source: &'static str,
    prompt: &'static [u32; 100],
    output: &'static [u32; 100],
}

const AZURE: &str = "Azure LLM inference trace 2023 (github.com/Azure/AzurePublicDataset, \
                     CC-BY; Patel et al., Splitwise, ISCA 2024)";

/// Token-length presets.
pub const LENGTH_PRESETS: [LengthPreset; 2] = [
    LengthPreset {
        name: "Azure 2023 conversation",
        source: AZURE,
        prompt: &AZURE_2023_CONVERSATION_PROMPT,
        output: &AZURE_2023_CONVERSATION_OUTPUT,
    },
    LengthPreset {
        name: "Azure 2023 code",
        source: AZURE,
        prompt: &AZURE_2023_CODE_PROMPT,
        output: &AZURE_2023_CODE_OUTPUT,
    },
];

impl LengthPreset {
    /// The lengths: each an empirical distribution of a hundred equally
    /// likely values, the means of the hundredths of the sorted trace.
    pub fn lengths(&self) -> TokenLengths {
        let count = |values: &[u32; 100]| {
            TokenCount(Distribution::Empirical(
                values
                    .iter()
                    .map(|&tokens| TimeSpan::from_nanos(u64::from(tokens) * 1000))
                    .collect(),
            ))
        };
        TokenLengths {
            prompt: count(self.prompt),
            output: count(self.output),
        }
    }
}

// The traces' columns ContextTokens and GeneratedTokens (data/
// AzureLLMInferenceTrace_conv.csv, 19,366 requests, and _code.csv, 8,819;
// commit b469a113 of Azure/AzurePublicDataset), sorted and cut into a
// hundred equal parts, each the rounded mean of its part.

const AZURE_2023_CONVERSATION_PROMPT: [u32; 100] = [
    17, 61, 124, 174, 181, 183, 195, 200, 203, 206, 210, 216, 233, 280, 354, 373, 376, 379, 382,
    386, 388, 391, 393, 394, 396, 397, 398, 400, 401, 402, 404, 406, 407, 409, 412, 417, 421, 429,
    442, 554, 791, 885, 923, 960, 979, 989, 998, 1006, 1012, 1017, 1023, 1028, 1033, 1038, 1043,
    1048, 1053, 1058, 1063, 1068, 1073, 1078, 1083, 1089, 1094, 1100, 1106, 1112, 1119, 1126, 1134,
    1143, 1153, 1165, 1180, 1201, 1231, 1279, 1313, 1314, 1317, 1345, 1437, 1600, 1785, 1963, 2133,
    2306, 2488, 2631, 2955, 3768, 4075, 4078, 4081, 4084, 4088, 4093, 4113, 5027,
];

const AZURE_2023_CONVERSATION_OUTPUT: [u32; 100] = [
    13, 18, 28, 35, 40, 43, 46, 48, 50, 53, 55, 58, 60, 63, 66, 68, 70, 72, 74, 76, 78, 80, 82, 83,
    84, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 97, 98, 99, 101, 102, 104, 106, 108, 110, 112, 114,
    117, 120, 124, 127, 131, 135, 139, 143, 148, 153, 159, 162, 166, 173, 179, 185, 196, 208, 217,
    223, 305, 373, 376, 381, 385, 388, 391, 393, 394, 396, 396, 396, 397, 399, 401, 403, 406, 409,
    411, 412, 414, 416, 419, 422, 426, 429, 430, 438, 446, 460, 489, 524, 572, 710,
];

const AZURE_2023_CODE_PROMPT: [u32; 100] = [
    12, 26, 43, 56, 68, 80, 92, 102, 121, 139, 154, 172, 185, 199, 221, 243, 266, 301, 338, 366,
    398, 444, 485, 521, 559, 591, 626, 678, 721, 758, 789, 833, 863, 895, 921, 953, 984, 1013,
    1037, 1060, 1089, 1119, 1152, 1188, 1231, 1278, 1323, 1365, 1394, 1448, 1482, 1528, 1580, 1622,
    1667, 1704, 1747, 1796, 1848, 1890, 1929, 1998, 2051, 2101, 2145, 2189, 2255, 2306, 2359, 2415,
    2454, 2513, 2581, 2644, 2707, 2776, 2849, 2940, 3017, 3132, 3239, 3362, 3529, 3645, 3810, 4025,
    4216, 4425, 4665, 4926, 5454, 5811, 6098, 6389, 6914, 7407, 7434, 7435, 7436, 7436,
];

const AZURE_2023_CODE_OUTPUT: [u32; 100] = [
    6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10,
    10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 14, 14, 14,
    14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 22, 22, 23, 24, 25, 26, 27,
    28, 30, 31, 33, 35, 38, 40, 43, 46, 50, 53, 57, 62, 68, 76, 85, 97, 116, 145, 204, 471,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_presets_keep_the_traces_means_and_medians() {
        // Computed from the trace files: means 1154.7 and 211.1 tokens
        // (conversation), 2047.8 and 27.9 (code); medians 1020, 129, 1469
        // and 13, as Splitwise reports.
        for (preset, prompt, output, medians) in [
            (&LENGTH_PRESETS[0], 1154.7, 211.1, (1020, 129)),
            (&LENGTH_PRESETS[1], 2047.8, 27.9, (1469, 13)),
        ] {
            let lengths = preset.lengths();
            assert!(
                (lengths.prompt.mean() - prompt).abs() < 0.1,
                "{}",
                preset.name
            );
            assert!(
                (lengths.output.mean() - output).abs() < 0.1,
                "{}",
                preset.name
            );
            let median = |v: &[u32; 100]| f64::midpoint(f64::from(v[49]), f64::from(v[50]));
            assert!(
                (median(preset.prompt) - f64::from(medians.0)).abs() / f64::from(medians.0) < 0.01
            );
            assert!(
                (median(preset.output) - f64::from(medians.1)).abs() / f64::from(medians.1) < 0.05
            );
            assert!(preset.prompt.is_sorted() && preset.output.is_sorted());
        }
    }

    #[test]
    fn the_server_presets_are_the_published_coefficients() {
        let h100 = SERVER_PRESETS[0].serving();
        assert_eq!(h100.step.base.as_nanos(), 5_752_705);
        assert_eq!(h100.kv_blocks(), Some(29_205));
        // The fit's cache agrees with the one derived from the model's
        // shape on an 80 GiB GPU at 0.9 (29,184 blocks) to 0.1%.
        let derived = LlmServing::example().kv_blocks().unwrap();
        assert!((29_205_f64 / derived as f64 - 1.0).abs() < 0.001);
        // A100 steps are slower than H100's on every coefficient.
        let a100 = SERVER_PRESETS[1].serving();
        assert!(a100.step.base > h100.step.base);
        assert!(a100.step.per_prefill_token > h100.step.per_prefill_token);
        assert!(a100.step.per_decode_token > h100.step.per_decode_token);
    }
}
