//! One unit against the server, with the local engine's thinking control.
//!
//! The server is the sampler: each request returns a chunk of tokens, and every token goes
//! through the same [`ThinkingControl`] and stopping rules as a locally sampled one, in
//! order. Requests are sized (`max_tokens`, `stop`) so that the server stops where the
//! control would step in (the budget, the window, the end of thinking); when it stops
//! elsewhere anyway (it ignored a stop string, or the tokenizer counts differ from its
//! own), the control steps in at the right token and the rest of the chunk is dropped. A
//! continuation is the prompt plus everything kept so far, server text and insertions.

use crate::config::Api;
use crate::http::Http;
use crate::wire::{self, Ask, Completion, Finish, Matched};
use reqwest::Url;
use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use thinkscope_engine::template::ThinkingMarkers;
use thinkscope_engine::thinking::{Phase, Step, ThinkingControl, Verdict};
use thinkscope_engine::tokenizer::{Codec, HfTokenizer, StreamDecoder};
use thinkscope_engine::CancelToken;
use thinkscope_protocol::generation::{
    GenerationReport, Insertion, InsertionKind, SamplingParams, StopReason, ThinkingPolicy, Timings,
};

/// What every unit of a run shares.
pub(crate) struct Ctx<'a> {
    pub http: Http,
    pub base: Url,
    pub api: Api,
    pub model: String,
    pub codec: &'a HfTokenizer,
    pub eos: &'a [u32],
    pub token_ids: bool,
    /// Provenance's device label, repeated in each report.
    pub device: String,
}

/// One generation to run (a job, or one of its followers).
#[derive(Clone)]
pub(crate) struct Task {
    pub id: usize,
    pub prompt_text: String,
    pub prompt_ids: Vec<u32>,
    /// Chat only: the conversation the server templates itself.
    pub chat: Option<(Option<String>, String)>,
    pub markers: Option<ThinkingMarkers>,
    pub policy: ThinkingPolicy,
    pub sampling: SamplingParams,
    pub reject_above: Option<usize>,
    /// Output cap: `max_tokens`, within the server's context when known.
    pub max_len: usize,
}

/// How the server ended a chunk, beyond its tokens.
enum Ending {
    /// EOS, the end-of-thinking string, or a stop it did not name; with the stop token
    /// when the server's ids hold one its text leaves out.
    Eos(Option<u32>),
    /// A user stop string the text leaves out: its tokens.
    StopString(Vec<u32>),
    StopToken(u32),
    /// Chat cannot continue a reply cut at `max_tokens`.
    Length,
}

enum Fed {
    Kept,
    /// The control forced tokens instead: the rest of the chunk is void.
    Replaced,
    Ended,
}

struct Gen<'a> {
    ctx: &'a Ctx<'a>,
    task: &'a Task,
    control: ThinkingControl,
    /// The end-of-thinking token, when it is a single token (as the local engine needs).
    end_id: Option<u32>,
    output: Vec<u32>,
    decoder: StreamDecoder,
    insertions: Vec<Insertion>,
    answer_start: Option<usize>,
    longest_stop: usize,
    stop: Option<StopReason>,
    /// Every chunk came with the server's ids.
    exact: bool,
    requests: usize,
    request_secs: f64,
}

/// Runs `task` to its end; `forward` accumulates tokens the server processed. A cancel
/// ends it with the state so far, marked cancelled, as the local engine does.
pub(crate) async fn generate(
    ctx: &Ctx<'_>,
    task: &Task,
    cancel: &CancelToken,
    forward: &Cell<u64>,
) -> Result<GenerationReport, String> {
    let control = ThinkingControl::new(&task.policy, task.markers.as_ref(), ctx.eos, ctx.codec)
        .map_err(|e| e.to_string())?;
    let end_id = task.markers.as_ref().and_then(|m| {
        ctx.codec
            .token_id(&m.end_token)
            .or(match ctx.codec.encode(&m.end_token).ok()?.as_slice() {
                [id] => Some(*id),
                _ => None,
            })
    });
    let gen = Gen {
        answer_start: (control.phase() == Phase::Answer).then_some(0),
        control,
        end_id,
        ctx,
        task,
        output: Vec::new(),
        decoder: StreamDecoder::default(),
        insertions: Vec::new(),
        longest_stop: task
            .sampling
            .stop_strings
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0),
        stop: None,
        exact: true,
        requests: 0,
        request_secs: 0.0,
    };
    gen.run(cancel, forward).await
}

impl Gen<'_> {
    /// The local decode loop's decisions, in its order, with server chunks as the sampler.
    async fn run(
        mut self,
        cancel: &CancelToken,
        forward: &Cell<u64>,
    ) -> Result<GenerationReport, String> {
        let mut chunk: VecDeque<u32> = VecDeque::new();
        let mut ending: Option<Ending> = None;
        // Output tokens the server has seen (as prompt or as its own output).
        let mut seen: Option<usize> = None;
        loop {
            if cancel.is_cancelled() {
                self.stop = Some(StopReason::Cancelled);
                break;
            }
            if self.output.len() >= self.task.max_len {
                self.stop = Some(StopReason::Length);
                break;
            }
            if self
                .task
                .reject_above
                .is_some_and(|limit| self.control.thinking_tokens() > limit)
            {
                self.stop = Some(StopReason::OverBudget);
                break;
            }
            match self.control.next(self.decoder.text().ends_with('\n')) {
                Step::Stop(reason) => {
                    self.stop = Some(reason);
                    break;
                }
                Step::Insert(forced) => {
                    (chunk, ending) = (VecDeque::new(), None);
                    if self.push(forced.tokens, Some(forced.kind), None)? {
                        break;
                    }
                    continue;
                }
                Step::Sample => {}
            }
            if let Some(token) = chunk.pop_front() {
                match self.feed(token)? {
                    Fed::Kept => {}
                    Fed::Replaced => (chunk, ending) = (VecDeque::new(), None),
                    Fed::Ended => break,
                }
                continue;
            }
            if let Some(e) = ending.take() {
                if self.on_ending(e)? {
                    break;
                }
                continue;
            }
            let started = Instant::now();
            let reply = tokio::select! {
                c = self.request() => Some(c),
                _ = cancelled(cancel) => None,
            };
            let Some(completion) = reply else {
                self.stop = Some(StopReason::Cancelled);
                break;
            };
            let completion = completion?;
            self.requests += 1;
            self.request_secs += started.elapsed().as_secs_f64();
            let (ids, end) = self.chunk(completion)?;
            let new_prompt = match seen {
                None => self.task.prompt_ids.len() + self.output.len(),
                Some(seen) => self.output.len().saturating_sub(seen),
            };
            forward.set(forward.get() + (new_prompt + ids.len()) as u64);
            seen = Some(self.output.len() + ids.len());
            if ids.is_empty() && end.is_none() {
                return Err("the server stopped for length without generating a token (is the context full?)".into());
            }
            (chunk, ending) = (ids.into(), end);
        }
        self.report()
    }

    /// Tokens the next request may generate: up to where the control would step in.
    fn room(&self) -> usize {
        let thinking = self.control.thinking_tokens();
        let mut room = self.task.max_len - self.output.len();
        if self.control.phase() == Phase::Thinking {
            match &self.task.policy {
                ThinkingPolicy::BudgetForcing(bf) => {
                    room = room.min(bf.max_thinking.saturating_sub(thinking))
                }
                ThinkingPolicy::ShiftedWindow(sw) => {
                    room = room.min(sw.window.saturating_sub(thinking))
                }
                ThinkingPolicy::None => {}
            }
            if let Some(limit) = self.task.reject_above {
                // One past the limit is where the local engine abandons the try.
                room = room.min((limit + 1).saturating_sub(thinking));
            }
        } else {
            let max_answer = match &self.task.policy {
                ThinkingPolicy::BudgetForcing(bf) => bf.max_answer,
                ThinkingPolicy::ShiftedWindow(sw) => sw.max_answer,
                ThinkingPolicy::None => None,
            };
            if let Some(max) = max_answer {
                room = room.min(max.saturating_sub(self.control.answer_tokens()));
            }
        }
        room.max(1)
    }

    fn budget_thinking(&self) -> bool {
        matches!(self.task.policy, ThinkingPolicy::BudgetForcing(_))
            && self.control.phase() == Phase::Thinking
    }

    async fn request(&self) -> Result<Completion, String> {
        let ctx = self.ctx;
        let max_tokens = self.room();
        if let (Api::Chat, Some((system, user))) = (ctx.api, &self.task.chat) {
            let body = wire::chat_body(
                &ctx.model,
                system.as_deref(),
                user,
                max_tokens,
                &self.task.sampling,
            );
            let reply = ctx
                .http
                .post(crate::detect::join(&ctx.base, "chat/completions"), &body)
                .await
                .map_err(|e| e.to_string())?;
            return wire::parse_chat(&reply);
        }
        let prompt = format!(
            "{}{}",
            self.task.prompt_text,
            ctx.codec.decode(&self.output).map_err(|e| e.to_string())?
        );
        let mut stop = self.task.sampling.stop_strings.clone();
        if let (true, Some(_), Some(markers)) =
            (self.budget_thinking(), self.end_id, &self.task.markers)
        {
            stop.push(markers.end_token.clone());
        }
        let ask = Ask {
            model: &ctx.model,
            prompt: &prompt,
            max_tokens,
            stop: &stop,
            sampling: &self.task.sampling,
            token_ids: ctx.token_ids,
        };
        let reply = ctx
            .http
            .post(
                crate::detect::join(&ctx.base, "completions"),
                &wire::completion_body(&ask),
            )
            .await
            .map_err(|e| e.to_string())?;
        wire::parse_completion(&reply)
    }

    /// A completion as tokens to feed and how it ended.
    fn chunk(&mut self, c: Completion) -> Result<(Vec<u32>, Option<Ending>), String> {
        let codec = self.ctx.codec;
        let decode = |ids: &[u32]| codec.decode(ids).map_err(|e| e.to_string());
        let encode = |text: &str| codec.encode(text).map_err(|e| e.to_string());
        let had_ids = c.ids.is_some();
        let (ids, trailing) = match c.ids {
            Some(mut ids) => {
                let vocab = codec.vocab_size();
                if let Some(bad) = ids.iter().find(|&&id| id as usize >= vocab) {
                    return Err(format!("the server returned token id {bad}, outside the tokenizer's {vocab}: is --tokenizer the served model's?"));
                }
                // A stop token or EOS the server matched: in its ids, not in its text.
                let n = ids.len();
                let stripped = matches!(c.finish, Finish::Stop(_))
                    && n > 0
                    && decode(&ids)? != c.text
                    && decode(&ids[..n - 1])? == c.text;
                let trailing = if stripped { ids.pop() } else { None };
                (ids, trailing)
            }
            None => {
                self.exact = false;
                let text = match &c.reasoning {
                    // A chat server split the reasoning off: put the end of thinking back.
                    Some(r) => {
                        let end = self
                            .task
                            .markers
                            .as_ref()
                            .map_or("</think>", |m| m.end_token.as_str());
                        format!("{r}{end}{}", c.text)
                    }
                    None => c.text.clone(),
                };
                (encode(&text)?, None)
            }
        };
        let stops = &self.task.sampling;
        let ending = match c.finish {
            Finish::Length if self.ctx.api == Api::Chat => Some(Ending::Length),
            Finish::Length => None,
            Finish::Stop(Some(Matched::Text(s))) if stops.stop_strings.contains(&s) => {
                Some(Ending::StopString(match trailing {
                    Some(t) => vec![t],
                    // The text (and maybe the ids) leave the stop string out; the local engine keeps it.
                    None if !had_ids || !decode(&ids)?.contains(&s) => encode(&s)?,
                    None => Vec::new(),
                }))
            }
            Finish::Stop(Some(Matched::Token(t))) if stops.stop_token_ids.contains(&t) => {
                Some(Ending::StopToken(trailing.unwrap_or(t)))
            }
            Finish::Stop(Some(Matched::Token(t))) => Some(Ending::Eos(trailing.or(Some(t)))),
            Finish::Stop(_) => Some(Ending::Eos(trailing)),
        };
        Ok((ids, ending))
    }

    /// What the server's stop means here, as the token the local engine would have sampled.
    fn on_ending(&mut self, ending: Ending) -> Result<bool, String> {
        let (tokens, otherwise) = match ending {
            Ending::Length => (Vec::new(), StopReason::Length),
            Ending::StopString(tokens) => (tokens, StopReason::StopString),
            Ending::StopToken(t) => (vec![t], StopReason::StopToken),
            Ending::Eos(trailing) => {
                let first_eos = self.ctx.eos.first().copied();
                // While thinking under budget forcing, EOS and the end token are one event.
                let token = if self.budget_thinking() {
                    self.end_id.or(trailing).or(first_eos)
                } else {
                    trailing.or(first_eos)
                };
                (token.into_iter().collect(), StopReason::Eos)
            }
        };
        for t in tokens {
            match self.feed(t)? {
                Fed::Kept => {}
                Fed::Replaced => return Ok(false),
                Fed::Ended => return Ok(true),
            }
        }
        self.stop = Some(otherwise);
        Ok(true)
    }

    /// A server token through the control, as `Sequence::on_token` does.
    fn feed(&mut self, token: u32) -> Result<Fed, String> {
        let verdict = self.control.on_sampled(token);
        let (tokens, kind, stop) = match verdict {
            Verdict::Keep if self.task.sampling.stop_token_ids.contains(&token) => {
                (vec![token], None, Some(StopReason::StopToken))
            }
            Verdict::Keep => (vec![token], None, None),
            Verdict::KeepAndStop(reason) => (vec![token], None, Some(reason)),
            Verdict::Replace(forced) => (forced.tokens, Some(forced.kind), None),
        };
        let replaced = kind.is_some();
        Ok(match self.push(tokens, kind, stop)? {
            true => Fed::Ended,
            false if replaced => Fed::Replaced,
            false => Fed::Kept,
        })
    }

    /// Appends output tokens, as `Sequence::push` does; `true` when the unit ended.
    fn push(
        &mut self,
        mut tokens: Vec<u32>,
        kind: Option<InsertionKind>,
        mut stop: Option<StopReason>,
    ) -> Result<bool, String> {
        let codec = self.ctx.codec;
        if self.output.len() + tokens.len() > self.task.max_len {
            tokens.truncate(self.task.max_len - self.output.len());
            stop = Some(StopReason::Length);
        }
        let index = self.output.len();
        self.output.extend_from_slice(&tokens);
        let text = self
            .decoder
            .push(codec, &tokens)
            .map_err(|e| e.to_string())?;
        if let Some(kind) = kind {
            let text = codec.decode(&tokens).map_err(|e| e.to_string())?;
            self.insertions.push(Insertion {
                token_index: index,
                token_count: tokens.len(),
                text,
                kind,
            });
        }
        if self.answer_start.is_none() && self.control.phase() == Phase::Answer {
            self.answer_start = Some(self.output.len());
        }
        let window = text.len() + self.longest_stop;
        if self.longest_stop > 0
            && contains_stop(
                self.decoder.text(),
                window,
                &self.task.sampling.stop_strings,
            )
        {
            stop = Some(StopReason::StopString);
        }
        self.stop = stop.or(self.stop);
        Ok(stop.is_some())
    }

    fn report(self) -> Result<GenerationReport, String> {
        let codec = self.ctx.codec;
        let decode_tokens = self.output.len();
        Ok(GenerationReport {
            prompt: self.task.prompt_text.clone(),
            prompt_token_ids: self.task.prompt_ids.clone(),
            text: codec.decode(&self.output).map_err(|e| e.to_string())?,
            token_ids: self.output,
            thinking_tokens: self.control.thinking_tokens(),
            answer_tokens: self.control.answer_tokens(),
            answer_start: self.answer_start,
            insertions: self.insertions,
            stop_reason: self.stop.unwrap_or(StopReason::Cancelled),
            device: self.ctx.device.clone(),
            dtype: counting(self.exact).into(),
            timings: Timings {
                prefill_tokens: self.task.prompt_ids.len(),
                prefill_secs: 0.0,
                decode_tokens,
                decode_secs: self.request_secs,
                decode_steps: self.requests,
            },
        })
    }
}

/// How tokens were counted, as the report's and provenance's `dtype` say.
pub(crate) fn counting(server_ids: bool) -> &'static str {
    if server_ids {
        "server token ids"
    } else {
        "tokenizer counts"
    }
}

/// Resolves once `cancel` is set (the token is a flag, so it is polled).
pub(crate) async fn cancelled(cancel: &CancelToken) {
    while !cancel.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a stop string ends within the last `window` bytes of `text`.
fn contains_stop(text: &str, window: usize, stops: &[String]) -> bool {
    let mut start = text.len().saturating_sub(window);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    stops
        .iter()
        .any(|s| !s.is_empty() && text[start..].contains(s.as_str()))
}
