//! The one interface the decode loop needs from a model.

use crate::error::{EngineError, Result};

/// Forward passes counted by a model, so callers can prove nothing was encoded twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardStats {
    /// Forward passes.
    pub calls: u64,
    /// Tokens fed through those passes.
    pub tokens: u64,
}

impl ForwardStats {
    pub fn record(&mut self, tokens: usize) {
        self.calls += 1;
        self.tokens += tokens as u64;
    }
}

/// A causal language model with its own KV cache (batch of one).
pub trait LanguageModel {
    /// Feeds `tokens` at positions `pos..pos + tokens.len()`, on top of the cached positions
    /// `0..pos`, and returns the f32 logits for the last of them. `pos == 0` starts afresh;
    /// any other `pos` must equal the number of cached positions.
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>>;
    /// Drops the KV cache.
    fn reset(&mut self);
    /// Forward passes since the model was created.
    fn stats(&self) -> ForwardStats;
    /// Positions the model can attend over.
    fn context_length(&self) -> usize;
    /// Where it runs, e.g. `cpu`, `cuda:0`.
    fn device_label(&self) -> String;
    /// Its weights' dtype, e.g. `f32`, `bf16`, `q8_0`.
    fn dtype_label(&self) -> String;
}

/// Checks a `forward` call against a model's cache and shape; `Ok(true)` when `pos == 0`
/// asks for a fresh cache.
pub(crate) fn check_forward(tokens: &[u32], pos: usize, cached: usize, context: usize, vocab: usize) -> Result<bool> {
    if tokens.is_empty() {
        return Err(EngineError::Invalid("forward needs at least one token".into()));
    }
    if pos != 0 && pos != cached {
        return Err(EngineError::Invalid(format!("position {pos} does not follow the {cached} cached positions")));
    }
    if pos + tokens.len() > context {
        return Err(EngineError::Invalid(format!(
            "{} positions exceed the context length {context}",
            pos + tokens.len()
        )));
    }
    if let Some(&bad) = tokens.iter().find(|&&id| id as usize >= vocab) {
        return Err(EngineError::Invalid(format!("token id {bad} is outside the vocabulary ({vocab})")));
    }
    Ok(pos == 0)
}
