//! The one interface the decode loop and the batch scheduler need from a model.
//!
//! A model holds weights only; each sequence owns its [`KvCache`], so a scheduler can step
//! many sequences in one forward pass, share a prompt's cache between units, and fork a
//! sequence (a sweep point branching off a shared thinking prefix) by cloning its cache.

use crate::error::{EngineError, Result};
use candle_core::Tensor;

/// Forward passes counted by a model, so callers can prove nothing was encoded twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardStats {
    /// Forward passes (a batched pass counts once).
    pub calls: u64,
    /// Tokens fed through those passes, over all sequences.
    pub tokens: u64,
}

impl ForwardStats {
    pub fn record(&mut self, tokens: usize) {
        self.calls += 1;
        self.tokens += tokens as u64;
    }
}

/// Keys and values of one sequence's cached positions. Cloning is cheap (tensors are
/// shared until one side appends), which is how prompts are shared and sequences forked.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    /// Per layer, `[1, kv_heads, positions, head_dim]` keys and values.
    pub(crate) layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    /// Cached positions.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records `tokens` more cached positions; a model calls it after feeding them.
    pub fn advance(&mut self, tokens: usize) {
        self.len += tokens;
    }
}

/// One sequence's share of a batched forward pass.
pub struct Feed<'a> {
    pub cache: &'a mut KvCache,
    pub tokens: &'a [u32],
}

/// A causal language model. Its caches live with the sequences that use them.
pub trait LanguageModel {
    /// Feeds each item's tokens at the positions after its cache and appends them to it;
    /// returns the f32 logits of each item's last token, in order.
    fn forward_batch(&mut self, batch: &mut [Feed<'_>]) -> Result<Vec<Vec<f32>>>;
    /// Forward passes since the model was created.
    fn stats(&self) -> ForwardStats;
    /// Positions the model can attend over.
    fn context_length(&self) -> usize;
    /// Bytes one cached position takes (keys and values of every layer), for memory budgets.
    fn kv_bytes_per_position(&self) -> usize;
    /// Where it runs, e.g. `cpu`, `cuda:0`.
    fn device_label(&self) -> String;
    /// Its weights' dtype, e.g. `f32`, `bf16`, `q8_0`.
    fn dtype_label(&self) -> String;

    /// One sequence: feeds `tokens` after `cache` and returns the last token's logits.
    fn forward(&mut self, cache: &mut KvCache, tokens: &[u32]) -> Result<Vec<f32>> {
        let mut batch = [Feed { cache, tokens }];
        Ok(self.forward_batch(&mut batch)?.pop().expect("one row per fed sequence"))
    }
}

/// Checks a batch against the model's context and vocabulary before anything is computed.
pub(crate) fn check_batch(batch: &[Feed<'_>], context: usize, vocab: usize) -> Result<()> {
    if batch.is_empty() {
        return Err(EngineError::Invalid("a forward pass needs at least one sequence".into()));
    }
    for feed in batch {
        if feed.tokens.is_empty() {
            return Err(EngineError::Invalid("forward needs at least one token".into()));
        }
        if feed.cache.len() + feed.tokens.len() > context {
            return Err(EngineError::Invalid(format!(
                "{} positions exceed the context length {context}",
                feed.cache.len() + feed.tokens.len()
            )));
        }
        if let Some(&bad) = feed.tokens.iter().find(|&&id| id as usize >= vocab) {
            return Err(EngineError::Invalid(format!("token id {bad} is outside the vocabulary ({vocab})")));
        }
    }
    Ok(())
}
