//! The single-sequence decode loop: prefill once, then sample or force tokens over the
//! live KV cache. Inserted text is tokenized on its own and fed once; nothing is ever
//! encoded twice.

use crate::decode::{Next, Sequence};
use crate::error::Result;
use crate::lm::LanguageModel;
use crate::template::ThinkingMarkers;
use crate::thinking::Phase;
use crate::tokenizer::Codec;
use std::time::Instant;
pub use thinkscope_protocol::cancel::CancelToken;
use thinkscope_protocol::generation::{GenerationReport, Insertion, SamplingParams, ThinkingPolicy};

/// One generation to run.
#[derive(Debug, Clone)]
pub struct Request {
    pub prompt_text: String,
    pub prompt_ids: Vec<u32>,
    pub markers: Option<ThinkingMarkers>,
    pub policy: ThinkingPolicy,
    pub sampling: SamplingParams,
    pub eos_token_ids: Vec<u32>,
}

/// Streamed while generating.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A sampled token kept in the output, with the text it completed (may be empty).
    Token { id: u32, text: String, phase: Phase },
    /// Tokens the engine forced, with the text they completed.
    Inserted { insertion: Insertion, text: String },
}

/// Runs one generation to the end on its own (batch of one): prefill, then the sequence's
/// decode loop. The batch scheduler drives the same [`Sequence`] steps for many at once.
pub fn generate(
    model: &mut dyn LanguageModel,
    codec: &dyn Codec,
    req: &Request,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&Event),
) -> Result<GenerationReport> {
    let mut seq = Sequence::new(req, codec, model.context_length(), &[])?;
    let started = Instant::now();
    let mut logits = model.forward(seq.cache_mut(), &req.prompt_ids)?;
    let prefill_secs = started.elapsed().as_secs_f64();
    let decode_started = Instant::now();
    let mut forks = Vec::new();
    while let Next::Feed(tokens) = seq.advance(Some(&mut logits), codec, cancel, &mut forks, on_event)? {
        logits = model.forward(seq.cache_mut(), &tokens)?;
        seq.record_fed(tokens.len());
    }
    let timings = seq.timings_mut();
    timings.prefill_secs = prefill_secs;
    timings.decode_secs = decode_started.elapsed().as_secs_f64();
    seq.report(codec, model.device_label(), model.dtype_label())
}
