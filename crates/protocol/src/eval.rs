//! Evaluation runs: the stored plan that reproduces every generation of a run, its
//! provenance, and the rows `eval list` / `eval generations` show.

use crate::generation::{Insertion, PromptCondition, SamplingParams, StopReason, ThinkingPolicy, Timings};
use crate::SampleFilter;
use serde::{Deserialize, Serialize};

/// What a dataset asks for: decides the prompt and how answers are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    Math,
    Choice,
    Code,
}

impl TaskKind {
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Math => "math",
            TaskKind::Choice => "choice",
            TaskKind::Code => "code",
        }
    }
}

/// Which samples of the dataset a run covers, as `samples` selects them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSelection {
    pub search: Option<String>,
    pub filter: SampleFilter,
    /// The first N matching samples, in file order.
    pub limit: Option<u64>,
    /// Explicit sample ids (or unique prefixes); when set, filters are not applied.
    pub sample_ids: Vec<String>,
}

/// s1's rejection-sampling baseline at one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// A try is accepted when its thinking fits this many tokens.
    pub max_thinking: usize,
    /// Tries before giving up (the last try is stored, marked not accepted).
    pub tries: u32,
}

/// One value of a run's sweep: everything that differs between its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The sweep value: a budget, an ignore-end count, a window, a condition's number.
    pub value: f64,
    /// e.g. `budget 512`, `wait ×2`, `window 4096`, `tokens:1024`.
    pub label: String,
    pub policy: ThinkingPolicy,
    #[serde(default)]
    pub condition: PromptCondition,
    #[serde(default)]
    pub rejection: Option<Rejection>,
}

/// The whole plan of a run: with the model, it reproduces every generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPlan {
    pub dataset_id: String,
    pub selection: RunSelection,
    pub task: TaskKind,
    /// `auto`, `s1`, `z1`, `r1` or `qwen3`.
    pub template: String,
    pub system: Option<String>,
    /// Overrides the task's prompt: `{question}` and `{choices}` are filled in.
    pub prompt_template: Option<String>,
    pub points: Vec<SweepPoint>,
    /// Samples per problem and point (maj@k, pass@k).
    pub samples: u32,
    /// Sampling of every unit; its `seed` is the run seed units derive theirs from.
    pub sampling: SamplingParams,
}

/// Where a run's generations came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Provenance {
    /// `local` (candle) or a remote engine kind.
    pub engine: String,
    pub model_name: String,
    pub model_path: String,
    /// Hash of the weight files' headers and sizes and of the tokenizer: identifies the
    /// weights without reading them whole.
    pub model_fingerprint: String,
    pub architecture: String,
    pub tokenizer_fingerprint: String,
    /// The model's chat template text when the run used `auto`.
    pub template_text: Option<String>,
    pub device: String,
    pub dtype: String,
    /// Largest batch the run decoded with: low-order bits of logits may differ by batch.
    pub batch: usize,
    pub kv_cache_gb: f64,
    pub thinkscope_version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Paused,
    Done,
    Failed,
}

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
        }
    }
}

/// A run as `eval list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub name: String,
    pub dataset: String,
    pub dataset_id: String,
    pub model: String,
    /// The policy of the sweep, e.g. `budget-forcing`.
    pub policy: String,
    pub status: RunStatus,
    /// Units stored.
    pub done: u64,
    pub total: u64,
    /// Units stored as failed (retried by resume).
    pub failed: u64,
    pub forward_tokens: u64,
    /// Tokens generated (sampled and inserted) over the stored units.
    pub generated_tokens: u64,
    pub created: String,
    pub updated: String,
    pub error: Option<String>,
}

/// A run with everything stored about how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub summary: RunSummary,
    pub plan: RunPlan,
    pub provenance: Provenance,
}

/// One stored unit: (run, sample, sweep point, sample index) and what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    pub run_id: String,
    pub sample_id: String,
    pub external_id: Option<String>,
    /// The sweep value (budget, ignore-end count, window, condition number).
    pub point: f64,
    pub point_label: String,
    pub point_index: u32,
    pub sample_index: u32,
    pub seed: u64,
    pub prompt: String,
    pub prompt_token_ids: Vec<u32>,
    pub token_ids: Vec<u32>,
    pub text: String,
    pub thinking_tokens: usize,
    pub answer_tokens: usize,
    pub answer_start: Option<usize>,
    pub insertions: Vec<Insertion>,
    pub stop_reason: Option<StopReason>,
    /// Rejection sampling: tries made and whether the stored one fits the budget.
    pub tries: u32,
    pub accepted: bool,
    /// Multiple choice: `shuffle[i]` is the stored (unshuffled) index shown as letter `i`.
    pub shuffle: Option<Vec<u32>>,
    /// A unit that failed (e.g. a remote error) holds the error and no output.
    pub error: Option<String>,
    pub timings: Timings,
    pub created: String,
}
