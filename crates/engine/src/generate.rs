//! The decode loop: prefill once, then sample or force tokens over the live KV cache.
//! Inserted text is tokenized on its own and fed once; nothing is ever encoded twice.

use crate::error::{EngineError, Result};
use crate::lm::LanguageModel;
use crate::sampling::Sampler;
use crate::template::ThinkingMarkers;
use crate::thinking::{Phase, Step, ThinkingControl, Verdict};
use crate::tokenizer::{Codec, StreamDecoder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use thinkscope_protocol::generation::{
    GenerationReport, Insertion, SamplingParams, StopReason, ThinkingPolicy, Timings,
};

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

/// Shared flag that stops a running generation at its next step.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Streamed while generating.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A sampled token kept in the output, with the text it completed (may be empty).
    Token { id: u32, text: String, phase: Phase },
    /// Tokens the engine forced, with the text they completed.
    Inserted { insertion: Insertion, text: String },
}

pub fn generate(
    model: &mut dyn LanguageModel,
    codec: &dyn Codec,
    req: &Request,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(&Event),
) -> Result<GenerationReport> {
    if req.prompt_ids.is_empty() {
        return Err(EngineError::Invalid("the prompt encodes to no tokens".into()));
    }
    let context = model.context_length();
    if req.prompt_ids.len() >= context {
        return Err(EngineError::Invalid(format!(
            "the prompt has {} tokens; the model's context is {context}",
            req.prompt_ids.len()
        )));
    }
    let mut control =
        ThinkingControl::new(&req.policy, req.markers.as_ref(), &req.eos_token_ids, codec)?;
    let mut sampler = Sampler::new(&req.sampling, &req.prompt_ids)?;
    let max_len = req.sampling.max_tokens.min(context - req.prompt_ids.len());
    let longest_stop = req.sampling.stop_strings.iter().map(String::len).max().unwrap_or(0);

    let started = Instant::now();
    let mut logits = model.forward(&req.prompt_ids, 0)?;
    let prefill_secs = started.elapsed().as_secs_f64();
    let decode_started = Instant::now();
    let mut pos = req.prompt_ids.len();
    let mut timings = Timings { prefill_tokens: pos, prefill_secs, ..Timings::default() };

    let mut output: Vec<u32> = Vec::new();
    // Output tokens not yet fed: fed together right before the next sample, so an insertion
    // followed by another insertion costs a single forward pass.
    let mut pending: Vec<u32> = Vec::new();
    let mut insertions: Vec<Insertion> = Vec::new();
    let mut decoder = StreamDecoder::default();
    // Without a thinking phase every model token is an answer token.
    let mut answer_start = (control.phase() == Phase::Answer).then_some(0);
    let stop_reason = loop {
        if cancel.is_cancelled() {
            break StopReason::Cancelled;
        }
        if output.len() >= max_len {
            break StopReason::Length;
        }
        let (mut tokens, kind, mut stop) = match control.next(decoder.text().ends_with('\n')) {
            Step::Stop(reason) => break reason,
            Step::Insert(forced) => (forced.tokens, Some(forced.kind), None),
            Step::Sample => {
                if !pending.is_empty() {
                    logits = model.forward(&pending, pos)?;
                    pos += pending.len();
                    timings.decode_tokens += pending.len();
                    timings.decode_steps += 1;
                    pending.clear();
                }
                let token = sampler.sample(&mut logits);
                match control.on_sampled(token) {
                    Verdict::Keep if req.sampling.stop_token_ids.contains(&token) => {
                        (vec![token], None, Some(StopReason::StopToken))
                    }
                    Verdict::Keep => (vec![token], None, None),
                    Verdict::KeepAndStop(reason) => (vec![token], None, Some(reason)),
                    Verdict::Replace(forced) => (forced.tokens, Some(forced.kind), None),
                }
            }
        };
        if output.len() + tokens.len() > max_len {
            tokens.truncate(max_len - output.len());
            stop = Some(StopReason::Length);
        }
        let index = output.len();
        output.extend_from_slice(&tokens);
        pending.extend_from_slice(&tokens);
        sampler.observe(&tokens);
        let text = decoder.push(codec, &tokens)?;
        match kind {
            Some(kind) => {
                let insertion = Insertion {
                    token_index: index,
                    token_count: tokens.len(),
                    text: codec.decode(&tokens)?,
                    kind,
                };
                on_event(&Event::Inserted { insertion: insertion.clone(), text: text.clone() });
                insertions.push(insertion);
            }
            None => {
                let phase = control.phase();
                on_event(&Event::Token { id: tokens[0], text: text.clone(), phase });
            }
        }
        if answer_start.is_none() && control.phase() == Phase::Answer {
            answer_start = Some(output.len());
        }
        let window = text.len() + longest_stop;
        if longest_stop > 0 && contains_stop(decoder.text(), window, &req.sampling.stop_strings) {
            stop = Some(StopReason::StopString);
        }
        if let Some(reason) = stop {
            break reason;
        }
    };
    timings.decode_secs = decode_started.elapsed().as_secs_f64();
    Ok(GenerationReport {
        prompt: req.prompt_text.clone(),
        prompt_token_ids: req.prompt_ids.clone(),
        text: codec.decode(&output)?,
        token_ids: output,
        thinking_tokens: control.thinking_tokens(),
        answer_tokens: control.answer_tokens(),
        answer_start,
        insertions,
        stop_reason,
        device: model.device_label(),
        dtype: model.dtype_label(),
        timings,
    })
}

/// Whether a stop string ends within the last `window` bytes of `text`.
fn contains_stop(text: &str, window: usize, stops: &[String]) -> bool {
    let mut start = text.len().saturating_sub(window);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    stops.iter().any(|s| !s.is_empty() && text[start..].contains(s.as_str()))
}
