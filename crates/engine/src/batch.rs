//! Continuous batching: many sequences decode in shared forward passes. When one finishes,
//! the next job takes its slot in the following step. Jobs with the same prompt share its
//! prefill (the cache is shared, not recomputed), and sweep points that share a thinking
//! prefix ride along with one leader until they diverge (see [`crate::decode`]).
//!
//! Admission is bounded by `max_batch` and by a KV-cache budget: each sequence reserves
//! its worst case (prompt + output cap) so a running batch never runs out of memory; a
//! job that does not fit waits until others finish. Forks are always admitted (their
//! leader's reservation already covered the shared part, and holding one back would stall
//! it); the budget therefore bounds admissions, not forks.

use crate::decode::{Next, Sequence};
use crate::error::{EngineError, Result};
use crate::generate::{CancelToken, Event, Request};
use crate::lm::{Feed, ForwardStats, KvCache, LanguageModel};
use crate::tokenizer::Codec;
use std::collections::VecDeque;
use std::time::Instant;
use thinkscope_protocol::generation::{GenerationReport, ThinkingPolicy};

/// One generation for the scheduler.
pub struct Job {
    /// The caller's id; reports and events carry it.
    pub id: usize,
    pub request: Request,
    /// Sweep points sharing this job's prompt, sampling and trajectory until their policy
    /// decides differently: (id, policy of the same kind as the request's).
    pub followers: Vec<(usize, ThinkingPolicy)>,
    /// Rejection sampling: abandon the try once thinking passes this many tokens.
    pub reject_above: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// Sequences decoding at once (forks may exceed it briefly).
    pub max_batch: usize,
    /// Bytes of KV cache the admitted sequences may reserve; `None`: no limit.
    pub kv_budget_bytes: Option<u64>,
}

/// What the scheduler tells its caller (short-lived: passed by value to a callback).
#[allow(clippy::large_enum_variant)]
pub enum Report<'a> {
    /// A token or insertion of a running job.
    Event { id: usize, event: &'a Event },
    /// A job (or a follower, which ends as its leader did) finished or failed.
    Finished { id: usize, outcome: Result<GenerationReport> },
    /// A forward pass ran: sequences in it and tokens fed.
    Step { sequences: usize, tokens: usize },
}

struct Slot {
    id: usize,
    seq: Sequence,
    /// Tokens to feed in the next pass.
    feed: Option<Vec<u32>>,
    /// Whether `feed` is the prompt (its cache and logits are kept for siblings).
    prompt: bool,
    logits: Option<Vec<f32>>,
    reserved: u64,
    admitted: Instant,
    first_logits: Option<Instant>,
}

/// Prompts recently prefilled: cache and last logits, for jobs that share them.
struct PromptCache {
    entries: VecDeque<(Vec<u32>, KvCache, Vec<f32>)>,
    capacity: usize,
}

impl PromptCache {
    fn get(&self, prompt: &[u32]) -> Option<(KvCache, Vec<f32>)> {
        self.entries.iter().find(|(p, _, _)| p == prompt).map(|(_, c, l)| (c.clone(), l.clone()))
    }

    fn put(&mut self, prompt: Vec<u32>, cache: KvCache, logits: Vec<f32>) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back((prompt, cache, logits));
    }
}

/// Runs jobs pulled from `next_job` until it returns `None` and every sequence is done.
/// `next_job` is called whenever a slot is free, so a caller can enqueue follow-ups (a
/// rejection-sampling retry) from `on_report`. Returns the model's forward counters for
/// this call.
pub fn run(
    model: &mut dyn LanguageModel,
    codec: &dyn Codec,
    options: BatchOptions,
    cancel: &CancelToken,
    next_job: &mut dyn FnMut() -> Option<Job>,
    on_report: &mut dyn FnMut(Report<'_>),
) -> Result<ForwardStats> {
    if options.max_batch == 0 {
        return Err(EngineError::Invalid("the batch size must be at least 1".into()));
    }
    let before = model.stats();
    let per_position = model.kv_bytes_per_position() as u64;
    let context = model.context_length();
    let (device, dtype) = (model.device_label(), model.dtype_label());
    // Units of one problem arrive together; a few entries cover a batch's worth of them.
    let mut prompts = PromptCache { entries: VecDeque::new(), capacity: options.max_batch.max(4) };
    let mut slots: Vec<Slot> = Vec::new();
    let mut waiting: Option<Job> = None;
    let mut exhausted = false;
    loop {
        // Admit jobs while there is room.
        while !exhausted && !cancel.is_cancelled() && slots.len() < options.max_batch {
            let Some(job) = waiting.take().or_else(&mut *next_job) else {
                exhausted = true;
                break;
            };
            let mut seq = match Sequence::new(&job.request, codec, context, &job.followers) {
                Ok(seq) => seq,
                Err(e) => {
                    on_report(Report::Finished { id: job.id, outcome: Err(e) });
                    continue;
                }
            };
            let reserved = seq.max_positions() as u64 * per_position;
            let in_use: u64 = slots.iter().map(|s| s.reserved).sum();
            if let Some(budget) = options.kv_budget_bytes {
                if !slots.is_empty() && in_use + reserved > budget {
                    waiting = Some(job);
                    break;
                }
            }
            // A sibling is prefilling this prompt: wait one step and share its cache.
            if slots.iter().any(|s| s.prompt && s.seq.prompt_ids() == seq.prompt_ids()) {
                waiting = Some(job);
                break;
            }
            if let Some(limit) = job.reject_above {
                seq.reject_above(limit);
            }
            let admitted = Instant::now();
            let slot = match prompts.get(seq.prompt_ids()) {
                Some((cache, logits)) => Slot {
                    id: job.id,
                    seq: seq.with_prompt_cache(cache),
                    feed: None,
                    prompt: false,
                    logits: Some(logits),
                    reserved,
                    admitted,
                    first_logits: Some(admitted),
                },
                None => Slot {
                    id: job.id,
                    feed: Some(seq.prompt_ids().to_vec()),
                    seq,
                    prompt: true,
                    logits: None,
                    reserved,
                    admitted,
                    first_logits: None,
                },
            };
            slots.push(slot);
        }
        // Advance every sequence that has logits (and new forks) to its next feed or end.
        let mut i = 0;
        while i < slots.len() {
            if slots[i].feed.is_some() {
                i += 1;
                continue;
            }
            let mut forks = Vec::new();
            let slot = &mut slots[i];
            let id = slot.id;
            let step = slot.seq.advance(slot.logits.as_deref_mut(), codec, cancel, &mut forks, &mut |event| {
                on_report(Report::Event { id, event })
            });
            slot.logits = None;
            let (admitted, first_logits) = (slot.admitted, slot.first_logits);
            for (fork_id, seq) in forks {
                let reserved = seq.max_positions() as u64 * per_position;
                slots.push(Slot { id: fork_id, seq, feed: None, prompt: false, logits: None, reserved, admitted, first_logits });
            }
            match step {
                Ok(Next::Feed(tokens)) => {
                    slots[i].feed = Some(tokens);
                    i += 1;
                }
                Ok(Next::Done) => {
                    let mut slot = slots.swap_remove(i);
                    let timings = slot.seq.timings_mut();
                    let first = slot.first_logits.unwrap_or(slot.admitted);
                    timings.prefill_secs = (first - slot.admitted).as_secs_f64();
                    timings.decode_secs = first.elapsed().as_secs_f64();
                    let report = slot.seq.report(codec, device.clone(), dtype.clone());
                    for follower in slot.seq.followers() {
                        let outcome = match &report {
                            Ok(r) => Ok(r.clone()),
                            Err(e) => Err(EngineError::Invalid(e.to_string())),
                        };
                        on_report(Report::Finished { id: follower, outcome });
                    }
                    on_report(Report::Finished { id: slot.id, outcome: report });
                }
                Err(e) => {
                    let slot = slots.swap_remove(i);
                    on_report(Report::Finished { id: slot.id, outcome: Err(e) });
                }
            }
        }
        if slots.is_empty() {
            if exhausted || cancel.is_cancelled() {
                break;
            }
            continue;
        }
        // One forward pass over every sequence's pending tokens.
        let feeds: Vec<Vec<u32>> = slots.iter_mut().map(|s| s.feed.take().expect("every slot has a feed")).collect();
        let mut batch: Vec<Feed<'_>> = slots
            .iter_mut()
            .zip(&feeds)
            .map(|(s, tokens)| Feed { cache: s.seq.cache_mut(), tokens })
            .collect();
        let rows = model.forward_batch(&mut batch)?;
        drop(batch);
        on_report(Report::Step { sequences: slots.len(), tokens: feeds.iter().map(Vec::len).sum() });
        let now = Instant::now();
        for ((slot, tokens), row) in slots.iter_mut().zip(feeds).zip(rows) {
            if slot.prompt {
                prompts.put(tokens, slot.seq.cache().clone(), row.clone());
                slot.prompt = false;
                slot.first_logits = Some(now);
            } else {
                slot.seq.record_fed(tokens.len());
            }
            slot.logits = Some(row);
        }
    }
    let after = model.stats();
    Ok(ForwardStats { calls: after.calls - before.calls, tokens: after.tokens - before.tokens })
}
