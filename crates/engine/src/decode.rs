//! One sequence's decode state as a value: thinking control, sampler, KV cache, output,
//! tokens waiting to be fed, insertions. The single-sequence loop ([`crate::generate`]) and
//! the batch scheduler ([`crate::batch`]) drive it the same way, so a generation makes the
//! same decisions whatever else shares its forward passes.
//!
//! A sequence can carry *followers*: sweep points whose policy differs only in a setting
//! (a smaller budget, fewer ignored ends, a shorter window). They share its tokens until
//! their policy would decide differently; at that step the sequence forks a copy of itself
//! (cache, sampler and all) that continues under the follower's policy. The fork holds
//! exactly the state a separate run of that point would hold, so its tokens are the same.

use crate::error::{EngineError, Result};
use crate::generate::{CancelToken, Event, Request};
use crate::lm::KvCache;
use crate::sampling::Sampler;
use crate::thinking::{Forced, Phase, Step, ThinkingControl, Verdict};
use crate::tokenizer::{Codec, StreamDecoder};
use thinkscope_protocol::generation::{GenerationReport, Insertion, InsertionKind, StopReason, Timings};

/// A sweep point riding along with a sequence until it diverges.
#[derive(Clone)]
pub struct Follower {
    /// The caller's id for the point (it names the fork).
    pub id: usize,
    control: ThinkingControl,
}

/// What a fork resumes with: the step that made it diverge is redone under its own policy.
#[derive(Clone)]
enum Carry {
    /// Logits not yet sampled from (it diverged before sampling).
    Logits(Vec<f32>),
    /// A token already sampled (it diverged on what to make of it).
    Sampled(u32),
}

/// What a sequence needs next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Feed these tokens after the cache, then call [`Sequence::advance`] with the logits.
    Feed(Vec<u32>),
    /// Finished; [`Sequence::report`] has the result.
    Done,
}

#[derive(Clone)]
pub struct Sequence {
    prompt_text: String,
    prompt_ids: Vec<u32>,
    control: ThinkingControl,
    sampler: Sampler,
    cache: KvCache,
    followers: Vec<Follower>,
    carry: Option<Carry>,
    output: Vec<u32>,
    /// Output tokens not yet fed: fed together right before the next sample, so an
    /// insertion followed by another insertion costs a single forward pass.
    pending: Vec<u32>,
    insertions: Vec<Insertion>,
    decoder: StreamDecoder,
    answer_start: Option<usize>,
    max_len: usize,
    stop_strings: Vec<String>,
    longest_stop: usize,
    stop_token_ids: Vec<u32>,
    /// Rejection sampling: abandon the try once thinking passes this.
    reject_above: Option<usize>,
    stop: Option<StopReason>,
    timings: Timings,
}

impl Sequence {
    /// A sequence for `req`; `followers` are sweep points (id, policy) sharing its prompt
    /// and sampling whose policies are of the same kind as `req.policy`.
    pub fn new(
        req: &Request,
        codec: &dyn Codec,
        context_length: usize,
        followers: &[(usize, thinkscope_protocol::generation::ThinkingPolicy)],
    ) -> Result<Sequence> {
        if req.prompt_ids.is_empty() {
            return Err(EngineError::Invalid("the prompt encodes to no tokens".into()));
        }
        if req.prompt_ids.len() >= context_length {
            return Err(EngineError::Invalid(format!(
                "the prompt has {} tokens; the model's context is {context_length}",
                req.prompt_ids.len()
            )));
        }
        let control = ThinkingControl::new(&req.policy, req.markers.as_ref(), &req.eos_token_ids, codec)?;
        let followers = followers
            .iter()
            .map(|(id, policy)| {
                let c = ThinkingControl::new(policy, req.markers.as_ref(), &req.eos_token_ids, codec)?;
                if !c.same_kind(&control) {
                    return Err(EngineError::Invalid("a follower's policy must be of the leader's kind".into()));
                }
                Ok(Follower { id: *id, control: c })
            })
            .collect::<Result<Vec<_>>>()?;
        // Without a thinking phase every model token is an answer token.
        let answer_start = (control.phase() == Phase::Answer).then_some(0);
        Ok(Sequence {
            prompt_text: req.prompt_text.clone(),
            prompt_ids: req.prompt_ids.clone(),
            sampler: Sampler::new(&req.sampling, &req.prompt_ids)?,
            control,
            cache: KvCache::default(),
            followers,
            carry: None,
            output: Vec::new(),
            pending: Vec::new(),
            insertions: Vec::new(),
            decoder: StreamDecoder::default(),
            answer_start,
            max_len: req.sampling.max_tokens.min(context_length - req.prompt_ids.len()),
            longest_stop: req.sampling.stop_strings.iter().map(String::len).max().unwrap_or(0),
            stop_strings: req.sampling.stop_strings.clone(),
            stop_token_ids: req.sampling.stop_token_ids.clone(),
            reject_above: None,
            stop: None,
            timings: Timings { prefill_tokens: req.prompt_ids.len(), ..Timings::default() },
        })
    }

    /// Rejection sampling: stop with [`StopReason::OverBudget`] once thinking passes `limit`.
    pub fn reject_above(&mut self, limit: usize) {
        self.reject_above = Some(limit);
    }

    pub fn prompt_ids(&self) -> &[u32] {
        &self.prompt_ids
    }

    pub fn cache(&self) -> &KvCache {
        &self.cache
    }

    pub fn cache_mut(&mut self) -> &mut KvCache {
        &mut self.cache
    }

    /// Starts from a prompt another sequence already fed: its cache (shared, not copied).
    pub fn with_prompt_cache(mut self, cache: KvCache) -> Sequence {
        debug_assert_eq!(cache.len(), self.prompt_ids.len());
        self.cache = cache;
        self
    }

    /// Followers that never diverged: they end exactly as this sequence does.
    pub fn followers(&self) -> impl Iterator<Item = usize> + '_ {
        self.followers.iter().map(|f| f.id)
    }

    pub fn thinking_tokens(&self) -> usize {
        self.control.thinking_tokens()
    }

    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    /// Positions this sequence will hold at most (prompt + output cap), for memory budgets.
    pub fn max_positions(&self) -> usize {
        self.prompt_ids.len() + self.max_len
    }

    /// Counts tokens fed for this sequence after its prompt (callers feed them).
    pub fn record_fed(&mut self, tokens: usize) {
        self.timings.decode_tokens += tokens;
        self.timings.decode_steps += 1;
    }

    pub fn timings_mut(&mut self) -> &mut Timings {
        &mut self.timings
    }

    /// Continues with `logits` (those of the last fed token, or `None` for a fork's first
    /// step): samples and forces until more logits are needed or the sequence ends. Forks
    /// made on the way are pushed to `forks` as (follower id, sequence).
    pub fn advance(
        &mut self,
        logits: Option<&mut [f32]>,
        codec: &dyn Codec,
        cancel: &CancelToken,
        forks: &mut Vec<(usize, Sequence)>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Next> {
        if self.stop.is_some() {
            return Ok(Next::Done);
        }
        let mut carried_logits;
        let mut fresh: Option<&mut [f32]> = logits;
        match self.carry.take() {
            Some(Carry::Logits(l)) => {
                carried_logits = l;
                fresh = Some(&mut carried_logits);
            }
            Some(Carry::Sampled(token)) if self.on_token(token, codec, forks, on_event)? => return Ok(Next::Done),
            Some(Carry::Sampled(_)) | None => {}
        }
        loop {
            if cancel.is_cancelled() {
                return self.finish(StopReason::Cancelled);
            }
            if self.output.len() >= self.max_len {
                return self.finish(StopReason::Length);
            }
            if self.reject_above.is_some_and(|limit| self.control.thinking_tokens() > limit) {
                return self.finish(StopReason::OverBudget);
            }
            let newline = self.decoder.text().ends_with('\n');
            let before = (!self.followers.is_empty()).then(|| self.control.clone());
            let step = self.control.next(newline);
            if let Some(before) = before {
                self.split_off(forks, |f| {
                    let mut c = before.rebased(&f.control);
                    (c.next(newline) != step).then_some(before.rebased(&f.control))
                }, |_| fresh.as_deref().map(|l| Carry::Logits(l.to_vec())));
            }
            match step {
                Step::Stop(reason) => return self.finish(reason),
                Step::Insert(forced) => {
                    if self.push(forced.tokens, Some(forced.kind), None, codec, on_event)? {
                        return Ok(Next::Done);
                    }
                }
                Step::Sample => {
                    if !self.pending.is_empty() {
                        return Ok(Next::Feed(std::mem::take(&mut self.pending)));
                    }
                    let Some(logits) = fresh.take() else {
                        return Err(EngineError::Invalid("a sequence was advanced without logits".into()));
                    };
                    let token = self.sampler.sample(logits);
                    if self.on_token(token, codec, forks, on_event)? {
                        return Ok(Next::Done);
                    }
                }
            }
        }
    }

    /// Applies the control's verdict on a sampled token; `true` when the sequence ended.
    fn on_token(
        &mut self,
        token: u32,
        codec: &dyn Codec,
        forks: &mut Vec<(usize, Sequence)>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<bool> {
        let before = (!self.followers.is_empty()).then(|| self.control.clone());
        let verdict = self.control.on_sampled(token);
        if let Some(before) = before {
            self.split_off(forks, |f| {
                let mut c = before.rebased(&f.control);
                (c.on_sampled(token) != verdict).then_some(before.rebased(&f.control))
            }, |_| Some(Carry::Sampled(token)));
        }
        let (tokens, kind, stop) = match verdict {
            Verdict::Keep if self.stop_token_ids.contains(&token) => (vec![token], None, Some(StopReason::StopToken)),
            Verdict::Keep => (vec![token], None, None),
            Verdict::KeepAndStop(reason) => (vec![token], None, Some(reason)),
            Verdict::Replace(Forced { tokens, kind }) => (tokens, Some(kind), None),
        };
        self.push(tokens, kind, stop, codec, on_event)
    }

    /// Forks every follower for which `diverges` returns its pre-decision control.
    fn split_off(
        &mut self,
        forks: &mut Vec<(usize, Sequence)>,
        diverges: impl Fn(&Follower) -> Option<ThinkingControl>,
        carry: impl Fn(&Follower) -> Option<Carry>,
    ) {
        let mut kept = Vec::with_capacity(self.followers.len());
        for f in std::mem::take(&mut self.followers) {
            match diverges(&f) {
                Some(control) => {
                    let mut fork = self.clone();
                    fork.control = control;
                    fork.carry = carry(&f);
                    forks.push((f.id, fork));
                }
                None => kept.push(f),
            }
        }
        self.followers = kept;
    }

    /// Appends output tokens (sampled or forced); `true` when the sequence ended.
    fn push(
        &mut self,
        mut tokens: Vec<u32>,
        kind: Option<InsertionKind>,
        mut stop: Option<StopReason>,
        codec: &dyn Codec,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<bool> {
        if self.output.len() + tokens.len() > self.max_len {
            tokens.truncate(self.max_len - self.output.len());
            stop = Some(StopReason::Length);
        }
        let index = self.output.len();
        self.output.extend_from_slice(&tokens);
        self.pending.extend_from_slice(&tokens);
        self.sampler.observe(&tokens);
        let text = self.decoder.push(codec, &tokens)?;
        match kind {
            Some(kind) => {
                let insertion =
                    Insertion { token_index: index, token_count: tokens.len(), text: codec.decode(&tokens)?, kind };
                on_event(&Event::Inserted { insertion: insertion.clone(), text: text.clone() });
                self.insertions.push(insertion);
            }
            None => {
                let phase = self.control.phase();
                on_event(&Event::Token { id: tokens[0], text: text.clone(), phase });
            }
        }
        if self.answer_start.is_none() && self.control.phase() == Phase::Answer {
            self.answer_start = Some(self.output.len());
        }
        let window = text.len() + self.longest_stop;
        if self.longest_stop > 0 && contains_stop(self.decoder.text(), window, &self.stop_strings) {
            stop = Some(StopReason::StopString);
        }
        match stop {
            Some(reason) => Ok(self.finish(reason)? == Next::Done),
            None => Ok(false),
        }
    }

    fn finish(&mut self, reason: StopReason) -> Result<Next> {
        self.stop = Some(reason);
        Ok(Next::Done)
    }

    /// Output tokens never fed to the model: the tail after the last forward pass (a final
    /// sampled token, an insertion the run ended on). Fed = prompt + output − this.
    pub fn unfed(&self) -> usize {
        self.pending.len()
    }

    /// The finished generation (or the state so far, marked cancelled, if unfinished).
    pub fn report(&self, codec: &dyn Codec, device: String, dtype: String) -> Result<GenerationReport> {
        Ok(GenerationReport {
            prompt: self.prompt_text.clone(),
            prompt_token_ids: self.prompt_ids.clone(),
            text: codec.decode(&self.output)?,
            token_ids: self.output.clone(),
            thinking_tokens: self.control.thinking_tokens(),
            answer_tokens: self.control.answer_tokens(),
            answer_start: self.answer_start,
            insertions: self.insertions.clone(),
            stop_reason: self.stop.unwrap_or(StopReason::Cancelled),
            device,
            dtype,
            timings: self.timings.clone(),
        })
    }
}

/// Whether a stop string ends within the last `window` bytes of `text`.
fn contains_stop(text: &str, window: usize, stops: &[String]) -> bool {
    let mut start = text.len().saturating_sub(window);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    stops.iter().any(|s| !s.is_empty() && text[start..].contains(s.as_str()))
}
