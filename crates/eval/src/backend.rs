//! The backend interface: prompt specs in, reports and progress out. It assumes neither
//! free token ids nor an in-process model, so a remote server can implement it too; the
//! local candle engine is the first implementation ([`crate::local`]).

use thinkscope_engine::CancelToken;
use thinkscope_protocol::eval::Provenance;
use thinkscope_protocol::generation::{GenerationReport, PromptCondition, SamplingParams, ThinkingPolicy};

/// What to prompt with: the backend renders and tokenizes it its own way.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSpec {
    /// `auto`, `s1`, `z1`, `r1` or `qwen3`.
    pub template: String,
    pub system: Option<String>,
    pub question: String,
    pub condition: PromptCondition,
}

/// One generation (with its followers) to run.
#[derive(Debug, Clone)]
pub struct UnitJob {
    /// The caller's id; reports carry it.
    pub id: usize,
    pub prompt: PromptSpec,
    pub policy: ThinkingPolicy,
    /// Sweep points that share this job's trajectory until their policy decides
    /// differently, each reported under its own id.
    pub followers: Vec<(usize, ThinkingPolicy)>,
    pub sampling: SamplingParams,
    /// Rejection sampling: abandon the try once thinking passes this.
    pub reject_above: Option<usize>,
}

/// What a backend reports while it runs (passed by value to a callback, never stored).
#[allow(clippy::large_enum_variant)]
pub enum BackendEvent {
    /// A job (or follower) ended: its report, or why it failed.
    Finished { id: usize, outcome: Result<GenerationReport, String> },
    /// Forward work done: tokens the model processed (prompt and output).
    Forward { tokens: u64 },
}

pub trait Backend: Send {
    /// Model, device and dtype, as the run's provenance records them.
    fn provenance(&self) -> Provenance;
    /// Checks that `job` can run (its template renders, its policy fits the template, its
    /// prompt fits the context) without generating anything.
    fn check(&mut self, job: &UnitJob) -> Result<(), String>;
    /// Runs jobs pulled from `next_job` (called whenever there is room, so the caller can
    /// add retries from `on_event`) until it returns `None` and all are done, or `cancel`.
    fn run(
        &mut self,
        next_job: &mut dyn FnMut() -> Option<UnitJob>,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(BackendEvent),
    ) -> Result<(), String>;
}
