//! Large-language-model serving: a replica that runs iteration-level
//! (continuous) batching over a paged KV cache, as vLLM and its peers do,
//! and the token lengths of the requests it serves (docs/llm.md).

use serde::{Deserialize, Serialize};

use super::Distribution;
use super::time::TimeSpan;

/// Tokens per block of the paged KV cache (vLLM's default).
pub const KV_BLOCK_TOKENS: u64 = 16;

/// How an `LlmServer`'s replicas batch and how long their steps take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmServing {
    /// The most sequences in one step (vLLM's `max_num_seqs`).
    #[serde(default = "max_num_seqs")]
    pub max_num_seqs: u32,
    /// The most tokens one step computes, prompts' and decodes' together
    /// (vLLM's `max_num_batched_tokens`).
    #[serde(default = "max_batched_tokens")]
    pub max_batched_tokens: u32,
    /// The KV cache of one replica.
    pub kv_cache: KvCache,
    /// One step's time.
    pub step: StepTime,
    /// Decode first, then prompts in chunks that fill the token budget;
    /// otherwise a step runs either whole prompts or decodes.
    #[serde(default)]
    pub chunked_prefill: bool,
    /// The share of the KV cache's blocks kept free when admitting a
    /// prompt (vLLM's watermark), from 0 to 0.5.
    #[serde(default = "watermark")]
    pub watermark: f64,
    /// GPUs a replica's model is split over (tensor parallelism).
    #[serde(default = "one")]
    pub tensor_parallel: u32,
    /// How much of the ideal speed-up tensor parallelism gives, from 0.1 to
    /// 1: the step's coefficients, measured on one GPU, are divided by
    /// `tensor_parallel × tp_efficiency` (not at all with one GPU).
    #[serde(default = "tp_efficiency")]
    pub tp_efficiency: f64,
    /// The part of each request's work it does: all of it, or one side of
    /// a prefill/decode split over two pools (docs/llm.md).
    #[serde(default, skip_serializing_if = "LlmPhase::is_both")]
    pub phase: LlmPhase,
}

/// Which part of a request's work an LLM server does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LlmPhase {
    /// The prompt and every output token.
    #[default]
    Both,
    /// The prompt only: it produces the first token, then its call goes
    /// on, with the prompt's KV cache, to the decode server it calls.
    Prefill,
    /// The output after the first token, for requests a prefill server
    /// hands it: their prompt's KV cache arrives with them (the link's
    /// latency is its transfer), so they take blocks but no prefill.
    Decode,
}

impl LlmPhase {
    #[expect(
        clippy::trivially_copy_pass_by_ref,
        reason = "serde's skip_serializing_if passes a reference"
    )]
    fn is_both(&self) -> bool {
        *self == Self::Both
    }

    /// The name in the app.
    pub fn label(self) -> &'static str {
        match self {
            Self::Both => "prefill and decode",
            Self::Prefill => "prefill only",
            Self::Decode => "decode only",
        }
    }
}

/// The KV cache's size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum KvCache {
    /// This many tokens' keys and values, in all of a replica's GPUs.
    Tokens(u64),
    /// Derived from the model and the GPUs' memory.
    Model(ModelMemory),
}

/// What the KV cache's size follows from: per GPU, `gpu_memory ×
/// memory_fraction` is usable, the weights (split over the GPUs) take their
/// share, and each token needs `2 × layers × kv_heads × head_dim ×
/// bytes_per_value` bytes (a key and a value per layer and head).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMemory {
    /// Transformer layers.
    pub layers: u32,
    /// Key-value heads (fewer than the attention heads under grouped-query
    /// attention).
    pub kv_heads: u32,
    /// Dimensions per head.
    pub head_dim: u32,
    /// Bytes per stored value: 2 for FP16 or BF16, 1 for FP8.
    #[serde(default = "two")]
    pub bytes_per_value: u32,
    /// Memory per GPU, in GiB.
    pub gpu_memory_gib: f64,
    /// The model's weights in all, in GiB.
    pub weights_gib: f64,
    /// The share of GPU memory the server may use (vLLM's
    /// `gpu_memory_utilization`).
    #[serde(default = "memory_fraction")]
    pub memory_fraction: f64,
}

/// `step = base + prefill + per_decode_token × sequences decoding`, on one
/// GPU, where prefill is `per_prefill_token × prompt tokens computed`, or,
/// with a prefill table, the table's cost of those tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTime {
    /// Every step's fixed time.
    pub base: TimeSpan,
    /// Per prompt token computed in the step (0 with a prefill table).
    #[serde(default)]
    pub per_prefill_token: TimeSpan,
    /// Per sequence decoding a token in the step.
    pub per_decode_token: TimeSpan,
    /// For prefill that grows faster than its length (attention is
    /// quadratic): the prefill time of whole prompts of some lengths, as
    /// `(tokens, time)` points in increasing order, interpolated linearly
    /// from `(0, 0)` and extended past the last point along the last
    /// segment. Computing a prompt's tokens `a..b` costs `T(b) − T(a)`, so a
    /// prompt chunked over steps costs what it costs whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefill_table: Vec<(u64, TimeSpan)>,
}

impl StepTime {
    /// The prefill time of a prompt's first `tokens` tokens, in
    /// nanoseconds: `per_prefill_token × tokens`, or the table's `T(tokens)`.
    pub fn prefill_ns(&self, tokens: u64) -> f64 {
        prefill_ns(&self.prefill_table, self.per_prefill_token, tokens)
    }
}

/// See [`StepTime::prefill_ns`]; `table` as in [`StepTime::prefill_table`].
pub fn prefill_ns(table: &[(u64, TimeSpan)], per_token: TimeSpan, tokens: u64) -> f64 {
    let x = tokens as f64;
    if table.is_empty() {
        return per_token.as_nanos() as f64 * x;
    }
    // The segment that holds x, or the last one past the end.
    let mut previous = (0.0, 0.0);
    for (i, &(at, time)) in table.iter().enumerate() {
        let point = (at as f64, time.as_nanos() as f64);
        if x <= point.0 || i == table.len() - 1 {
            let width = point.0 - previous.0;
            if width <= 0.0 {
                return point.1;
            }
            let slope = (point.1 - previous.1) / width;
            return (previous.1 + slope * (x - previous.0)).max(0.0);
        }
        previous = point;
    }
    0.0
}

/// A prefill table as the app shows it: `tokens:time` points separated by
/// commas, like `512:30ms, 2048:150ms`; empty for none.
pub fn prefill_table_text(table: &[(u64, TimeSpan)]) -> String {
    table
        .iter()
        .map(|(tokens, time)| format!("{tokens}:{time}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads [`prefill_table_text`]'s form back; empty text is no table. Only
/// the syntax is checked here: validation says whether the points rise.
pub fn parse_prefill_table(text: &str) -> Result<Vec<(u64, TimeSpan)>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .enumerate()
        .map(|(i, point)| {
            let point = point.trim();
            let (tokens, time) = point.split_once(':').ok_or_else(|| {
                format!(
                    "point {}: `{point}` is not tokens:time, like 512:30ms",
                    i + 1
                )
            })?;
            let tokens = tokens.trim().parse::<u64>().map_err(|_| {
                format!(
                    "point {}: `{}` is not a whole number of tokens",
                    i + 1,
                    tokens.trim()
                )
            })?;
            let time = time
                .trim()
                .parse::<TimeSpan>()
                .map_err(|e| format!("point {}: {e}", i + 1))?;
            Ok((tokens, time))
        })
        .collect()
}

/// The token lengths of a request class's requests, for the LLM servers
/// they reach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLengths {
    /// Tokens in the prompt (drawn, rounded, at least 1).
    pub prompt: TokenCount,
    /// Tokens generated (drawn, rounded, at least 1).
    pub output: TokenCount,
}

/// A distribution of token counts, written as a distribution of time
/// without its units: `"512"`, `"exp:200"`, `"uniform:100..500"`,
/// `"lognormal:1000,p99=4000"`, `"gamma:500,shape=2"`, `"erlang:300,k=3"`,
/// `"empirical:10,200,3000"`. Kept as a [`Distribution`] of microseconds, a
/// token a microsecond, so the simulator's samplers draw it; a draw is
/// rounded to whole tokens, at least one.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenCount(pub Distribution);

impl TokenCount {
    /// The distribution's mean in tokens.
    pub fn mean(&self) -> f64 {
        self.0.mean_secs() * 1e6
    }

    /// A draw of the underlying distribution (nanoseconds) as tokens.
    pub fn tokens_of(draw_ns: u64) -> u32 {
        u32::try_from(((draw_ns + 500) / 1000).max(1)).unwrap_or(u32::MAX)
    }
}

impl std::str::FromStr for TokenCount {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let bad = |why: &str| format!("{text:?}: {why}");
        let tokens = |value: &str| -> Result<String, String> {
            let value = value.trim();
            match value.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Ok(format!("{value}us")),
                _ => Err(bad(&format!(
                    "{value:?} is not a count of tokens (write them without units, like exp:200)"
                ))),
            }
        };
        let rewritten = match text.split_once(':') {
            None => tokens(text)?,
            Some((kind, rest)) => {
                let mut parts = Vec::new();
                for part in rest.split(',') {
                    let part = part.trim();
                    parts.push(if let Some((key, value)) = part.split_once('=') {
                        match key.trim() {
                            "p99" => format!("p99={}", tokens(value)?),
                            "shape" | "k" => part.to_owned(),
                            _ => {
                                return Err(bad(
                                    "give token counts as a mean and a p99 (lognormal:MEAN,p99=P99),                                      not in log seconds",
                                ));
                            }
                        }
                    } else if let Some((low, high)) = part.split_once("..") {
                        format!("{}..{}", tokens(low)?, tokens(high)?)
                    } else {
                        tokens(part)?
                    });
                }
                format!("{kind}:{}", parts.join(","))
            }
        };
        rewritten
            .parse()
            .map(Self)
            .map_err(|e: super::DistributionError| bad(&e.to_string()))
    }
}

impl std::fmt::Display for TokenCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Microseconds back to tokens, with at most three decimals.
        let n = |t: &TimeSpan| {
            let ns = t.as_nanos();
            if ns.is_multiple_of(1000) {
                (ns / 1000).to_string()
            } else {
                format!("{}.{:03}", ns / 1000, ns % 1000)
                    .trim_end_matches('0')
                    .to_owned()
            }
        };
        match &self.0 {
            Distribution::Constant(v) => write!(f, "{}", n(v)),
            Distribution::Exponential { mean } => write!(f, "exp:{}", n(mean)),
            Distribution::Uniform { min, max } => write!(f, "uniform:{}..{}", n(min), n(max)),
            Distribution::LogNormal { mean, p99 } => {
                write!(f, "lognormal:{},p99={}", n(mean), n(p99))
            }
            Distribution::LogNormalMuSigma { mu, sigma } => {
                write!(f, "lognormal:mu={mu},sigma={sigma}")
            }
            Distribution::Gamma { mean, shape } => write!(f, "gamma:{},shape={shape}", n(mean)),
            Distribution::Erlang { mean, k } => write!(f, "erlang:{},k={k}", n(mean)),
            Distribution::Empirical(values) => {
                let values: Vec<String> = values.iter().map(n).collect();
                write!(f, "empirical:{}", values.join(","))
            }
        }
    }
}

serde_as_text!(TokenCount);

fn max_num_seqs() -> u32 {
    256
}

fn max_batched_tokens() -> u32 {
    8192
}

fn watermark() -> f64 {
    0.01
}

fn one() -> u32 {
    1
}

fn two() -> u32 {
    2
}

fn tp_efficiency() -> f64 {
    0.9
}

fn memory_fraction() -> f64 {
    0.9
}

impl ModelMemory {
    /// Llama 3.1 8B's shape (32 layers, 8 KV heads of 128 dimensions, BF16,
    /// 15 GiB of weights) on one 80 GiB GPU, 90% of it used.
    pub fn llama_8b() -> Self {
        Self {
            layers: 32,
            kv_heads: 8,
            head_dim: 128,
            bytes_per_value: 2,
            gpu_memory_gib: 80.0,
            weights_gib: 15.0,
            memory_fraction: memory_fraction(),
        }
    }
}

impl LlmServing {
    /// An 8-billion-parameter model of Llama 3.1's shape (32 layers, 8 KV
    /// heads of 128 dimensions, BF16) on one 80 GiB GPU, with step
    /// coefficients worked out from first principles, not measured: a
    /// decode step reads every weight once (16 GB at 3.35 TB/s: 5 ms), each
    /// sequence adds its KV reads (40 µs), and a prompt token costs its
    /// 16 GFLOP at about 530 TFLOP/s (30 µs). Where a new LLM server starts.
    pub fn example() -> Self {
        Self {
            max_num_seqs: max_num_seqs(),
            max_batched_tokens: max_batched_tokens(),
            kv_cache: KvCache::Model(ModelMemory::llama_8b()),
            step: StepTime {
                base: TimeSpan::from_nanos(5_000_000),
                per_prefill_token: TimeSpan::from_nanos(30_000),
                per_decode_token: TimeSpan::from_nanos(40_000),
                prefill_table: Vec::new(),
            },
            chunked_prefill: false,
            watermark: watermark(),
            tensor_parallel: 1,
            tp_efficiency: tp_efficiency(),
            phase: LlmPhase::Both,
        }
    }

    /// The KV cache of one replica in tokens; `None` when the model's
    /// weights leave no room.
    pub fn kv_tokens(&self) -> Option<u64> {
        match &self.kv_cache {
            KvCache::Tokens(tokens) => Some(*tokens),
            KvCache::Model(m) => {
                let gib = 1024.0_f64.powi(3);
                let free = f64::from(self.tensor_parallel) * m.gpu_memory_gib * m.memory_fraction
                    - m.weights_gib;
                let per_token = 2.0
                    * f64::from(m.layers)
                    * f64::from(m.kv_heads)
                    * f64::from(m.head_dim)
                    * f64::from(m.bytes_per_value);
                let tokens = (free * gib / per_token).floor();
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked positive and finite, and far below 2^64"
                )]
                (tokens.is_finite() && tokens >= 1.0).then(|| tokens.min(1e15) as u64)
            }
        }
    }

    /// The KV cache of one replica in blocks of [`KV_BLOCK_TOKENS`].
    pub fn kv_blocks(&self) -> Option<u64> {
        self.kv_tokens()
            .map(|t| t / KV_BLOCK_TOKENS)
            .filter(|&b| b > 0)
    }

    /// What the step's coefficients are divided by: `tensor_parallel ×
    /// tp_efficiency`, or 1 on one GPU.
    pub fn speedup(&self) -> f64 {
        if self.tensor_parallel <= 1 {
            1.0
        } else {
            f64::from(self.tensor_parallel) * self.tp_efficiency
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_of_a_model_is_its_free_memory_over_a_tokens_keys_and_values() {
        // Llama 3.1 8B: 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 128 KiB a
        // token; 80 GiB × 0.9 − 15 GiB = 57 GiB = 57 × 8,192 tokens.
        let llm = LlmServing::example();
        assert_eq!(llm.kv_tokens(), Some(466_944));
        assert_eq!(llm.kv_blocks(), Some(29_184));
        // Two GPUs: twice the memory, the same weights; the step shrinks by
        // 2 × 0.9.
        let two = LlmServing {
            tensor_parallel: 2,
            ..LlmServing::example()
        };
        assert_eq!(two.kv_tokens(), Some((2 * 72 - 15) * 8_192));
        assert!((two.speedup() - 1.8).abs() < 1e-12);
        // Weights that do not fit leave no cache.
        let KvCache::Model(mut m) = LlmServing::example().kv_cache else {
            unreachable!()
        };
        m.weights_gib = 100.0;
        let full = LlmServing {
            kv_cache: KvCache::Model(m),
            ..LlmServing::example()
        };
        assert_eq!(full.kv_tokens(), None);
    }

    #[test]
    fn a_prefill_table_is_interpolated_from_zero_and_extended_past_its_end() {
        let ms = |n: u64| TimeSpan::from_nanos(n * 1_000_000);
        let step = StepTime {
            base: ms(1),
            per_prefill_token: TimeSpan::default(),
            per_decode_token: ms(1),
            prefill_table: vec![(100, ms(10)), (200, ms(30))],
        };
        // From (0, 0) to (100, 10 ms): 0.1 ms a token.
        assert!((step.prefill_ns(50) - 5e6).abs() < 1e-6);
        assert!((step.prefill_ns(100) - 10e6).abs() < 1e-6);
        // (100, 10) to (200, 30): 0.2 ms a token, and on past 200.
        assert!((step.prefill_ns(150) - 20e6).abs() < 1e-6);
        assert!((step.prefill_ns(300) - 50e6).abs() < 1e-6);
        // Without a table, linear.
        let linear = StepTime {
            per_prefill_token: TimeSpan::from_nanos(30_000),
            prefill_table: Vec::new(),
            ..step
        };
        assert!((linear.prefill_ns(1000) - 30e6).abs() < 1e-6);
    }

    #[test]
    fn token_counts_round_trip_through_text() {
        for text in [
            "512",
            "exp:200",
            "uniform:100..500",
            "lognormal:1000,p99=4000",
            "gamma:500,shape=2",
            "erlang:300,k=3",
            "empirical:10,200,3000",
            "exp:212.5",
        ] {
            let count: TokenCount = text.parse().unwrap();
            assert_eq!(count.to_string(), text);
        }
        let count: TokenCount = "exp:200".parse().unwrap();
        assert!((count.mean() - 200.0).abs() < 1e-9);
        for bad in ["exp:200ms", "lognormal:mu=1,sigma=2", "-3", "uniform:a..b"] {
            assert!(bad.parse::<TokenCount>().is_err(), "{bad}");
        }
        // A draw of 1.4 tokens is one; of 2.5, three; never none.
        assert_eq!(TokenCount::tokens_of(1_400), 1);
        assert_eq!(TokenCount::tokens_of(2_500), 3);
        assert_eq!(TokenCount::tokens_of(0), 1);
    }

    #[test]
    fn a_prefill_table_reads_back_what_it_writes_and_names_a_bad_point() {
        let table = vec![
            (512, TimeSpan::from_nanos(30_000_000)),
            (2048, TimeSpan::from_nanos(150_500_000)),
        ];
        let text = prefill_table_text(&table);
        assert_eq!(text, "512:30ms, 2048:150.5ms");
        assert_eq!(parse_prefill_table(&text), Ok(table));
        assert_eq!(parse_prefill_table("  "), Ok(Vec::new()));
        let error = parse_prefill_table("512:30ms, 2048").unwrap_err();
        assert!(error.starts_with("point 2:"), "{error}");
        let error = parse_prefill_table("5.5:30ms").unwrap_err();
        assert!(error.contains("whole number"), "{error}");
        let error = parse_prefill_table("512:thirty").unwrap_err();
        assert!(error.starts_with("point 1:"), "{error}");
    }
}
