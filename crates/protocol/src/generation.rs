//! One generation: what was asked (sampling, thinking policy) and what came out.
//!
//! Written by `thinkscope-engine`, read by the CLI `--json`, the store and the UI.

use serde::{Deserialize, Serialize};

/// Sampling and stopping for one generation. `temperature == 0` is greedy decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    pub temperature: f32,
    /// Nucleus sampling; `1.0` disables it.
    pub top_p: f32,
    /// `0` disables it.
    pub top_k: usize,
    /// Drop tokens whose probability is below `min_p` × the top probability; `0` disables it.
    pub min_p: f32,
    /// Hugging Face style: logits of tokens already seen (prompt and output) are divided
    /// (positive) or multiplied (negative) by this; `1.0` disables it.
    pub repetition_penalty: f32,
    /// OpenAI style: `count × frequency_penalty` is subtracted from each output token's logit.
    pub frequency_penalty: f32,
    /// Same seed, same device → same tokens.
    pub seed: u64,
    /// Hard cap on all tokens after the prompt (sampled and inserted).
    pub max_tokens: usize,
    /// Generation stops once the output text contains one of these.
    pub stop_strings: Vec<String>,
    /// Generation stops after sampling one of these (the token is kept).
    pub stop_token_ids: Vec<u32>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            frequency_penalty: 0.0,
            seed: 0,
            max_tokens: 32_768,
            stop_strings: Vec::new(),
            stop_token_ids: Vec::new(),
        }
    }
}

/// s1 budget forcing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BudgetForcing {
    /// Thinking (model tokens + inserted extensions) never exceeds this.
    pub max_thinking: usize,
    /// An end-of-thinking token before this many thinking tokens is replaced by an extension.
    pub min_thinking: usize,
    /// The first `ignore_end` end-of-thinking tokens are replaced by an extension.
    pub ignore_end: usize,
    /// Extension strings, used in rotation.
    pub extend_with: Vec<String>,
    /// Written after the answer delimiter when the budget is exhausted.
    pub cap_text: String,
    /// Cap on answer tokens; `None`: only `max_tokens` applies.
    pub max_answer: Option<usize>,
}

impl Default for BudgetForcing {
    fn default() -> Self {
        BudgetForcing {
            max_thinking: 32_000,
            min_thinking: 0,
            ignore_end: 0,
            extend_with: vec!["Wait".to_string()],
            cap_text: "Final Answer:".to_string(),
            max_answer: None,
        }
    }
}

/// Z1 shifted thinking window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShiftedWindow {
    pub window: usize,
    pub hint: String,
    pub max_answer: Option<usize>,
}

impl Default for ShiftedWindow {
    fn default() -> Self {
        ShiftedWindow {
            window: 4_096,
            hint: "\n\nI overthought it, the final answer should be:\n\n".to_string(),
            max_answer: None,
        }
    }
}

/// How thinking is controlled inside the decode loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "policy", rename_all = "kebab-case")]
pub enum ThinkingPolicy {
    /// Decode until EOS or `max_tokens`.
    #[default]
    None,
    BudgetForcing(BudgetForcing),
    ShiftedWindow(ShiftedWindow),
}

/// s1's prompt-conditional length control: an instruction appended to the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "condition", content = "value", rename_all = "kebab-case")]
pub enum PromptCondition {
    #[default]
    None,
    /// "Think for up to N tokens."
    Tokens(usize),
    /// "Think for up to N steps." (a step is about 100 tokens; the model counts down).
    Steps(usize),
    /// A generic instruction to think briefly.
    Short,
    /// A generic instruction to think at length.
    Long,
}

/// Why a token was forced into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InsertionKind {
    /// An extension string (e.g. "Wait") replacing an end-of-thinking token.
    Extend,
    /// The budget ran out: answer delimiter + cap text.
    Cap,
    /// The model ended thinking: the answer delimiter in place of its end token.
    End,
    /// The Z1 hint after the thinking window.
    Hint,
}

/// Tokens the engine forced into the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insertion {
    /// Index into `GenerationReport::token_ids` of the first inserted token.
    pub token_index: usize,
    /// Number of inserted tokens (an extension may be cut short by the budget).
    pub token_count: usize,
    /// The inserted tokens, decoded.
    pub text: String,
    pub kind: InsertionKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// An EOS token (kept in the output).
    Eos,
    /// `max_tokens`, `max_answer` or the model's context length.
    Length,
    /// One of `stop_token_ids` (kept in the output).
    StopToken,
    /// One of `stop_strings` appeared in the text.
    StopString,
    Cancelled,
    /// Rejection sampling abandoned the try: its thinking passed the budget.
    OverBudget,
}

/// Everything one generation produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationReport {
    /// The rendered prompt text.
    pub prompt: String,
    pub prompt_token_ids: Vec<u32>,
    /// Every token after the prompt, sampled and inserted, in order.
    pub token_ids: Vec<u32>,
    /// `token_ids` decoded, special tokens included.
    pub text: String,
    /// Model tokens in the thinking phase plus inserted extension tokens.
    pub thinking_tokens: usize,
    /// Model tokens in the answer phase.
    pub answer_tokens: usize,
    /// Index into `token_ids` where the answer phase starts (after its delimiter), if it did.
    pub answer_start: Option<usize>,
    pub insertions: Vec<Insertion>,
    pub stop_reason: StopReason,
    /// e.g. `cpu`, `cuda:0`.
    pub device: String,
    /// e.g. `f32`, `bf16`, `q4_0`.
    pub dtype: String,
    pub timings: Timings,
}

/// Token counts and wall time of the two halves of a generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
// A failed unit is stored with `{}` timings.
#[serde(default)]
pub struct Timings {
    /// Prompt tokens fed in the first forward pass.
    pub prefill_tokens: usize,
    pub prefill_secs: f64,
    /// Tokens fed after the prompt (sampled and inserted).
    pub decode_tokens: usize,
    pub decode_secs: f64,
    /// Forward passes after the prefill.
    pub decode_steps: usize,
}

/// A model found on disk, as `thinkscope models` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// `org/name` for the Hugging Face cache, else the directory or file name.
    pub name: String,
    pub path: String,
    /// `safetensors` or `gguf`.
    pub format: String,
    pub architecture: Option<String>,
    pub parameters: Option<u64>,
    /// Weight dtype holding most parameters, e.g. `bf16`, `q4_k`.
    pub dtype: Option<String>,
    /// Bytes of weight files.
    pub size_bytes: u64,
    /// Why the entry could not be read fully, if it could not.
    pub problem: Option<String>,
}
