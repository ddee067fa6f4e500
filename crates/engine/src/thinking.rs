//! Thinking control as a pure state machine over token ids: budget forcing (s1), the shifted
//! thinking window (Z1), or none. The decode loop asks it what to do before each step and
//! what to make of each sampled token; it never touches the model.

use crate::error::{EngineError, Result};
use crate::template::ThinkingMarkers;
use crate::tokenizer::Codec;
use thinkscope_protocol::generation::{InsertionKind, StopReason, ThinkingPolicy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Thinking,
    Answer,
}

/// Tokens to force into the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forced {
    pub tokens: Vec<u32>,
    pub kind: InsertionKind,
}

/// What to do before sampling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Sample,
    Insert(Forced),
    Stop(StopReason),
}

/// What becomes of a sampled token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Keep it, then stop.
    KeepAndStop(StopReason),
    /// Drop it and force these tokens instead.
    Replace(Forced),
}

#[derive(Debug, Clone)]
enum Mode {
    None {
        /// End-of-thinking token, when the template has one: counted as the phase switch.
        end_token: Option<u32>,
    },
    Budget {
        max_thinking: usize,
        min_thinking: usize,
        ignore_end: usize,
        extensions: Vec<Vec<u32>>,
        /// Ends thinking besides EOS (e.g. `<|im_start|>` for s1).
        end_token: Option<u32>,
        delimiter: Vec<u32>,
        /// Cap insertion without and with the leading newline.
        cap: Vec<u32>,
        cap_after_newline: Vec<u32>,
        max_answer: Option<usize>,
        extensions_made: usize,
    },
    Window {
        window: usize,
        hint: Vec<u32>,
        max_answer: Option<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct ThinkingControl {
    mode: Mode,
    eos: Vec<u32>,
    phase: Phase,
    thinking: usize,
    answer: usize,
}

impl ThinkingControl {
    pub fn new(
        policy: &ThinkingPolicy,
        markers: Option<&ThinkingMarkers>,
        eos: &[u32],
        codec: &dyn Codec,
    ) -> Result<ThinkingControl> {
        let encode = |text: &str, what: &str| -> Result<Vec<u32>> {
            let ids = codec.encode(text)?;
            if ids.is_empty() {
                return Err(EngineError::Invalid(format!("{what} {text:?} encodes to no tokens")));
            }
            Ok(ids)
        };
        let single_token = |text: &str| -> Result<Option<u32>> {
            Ok(codec.token_id(text).or(match codec.encode(text)?.as_slice() {
                [id] => Some(*id),
                _ => None,
            }))
        };
        let (mode, phase) = match policy {
            ThinkingPolicy::None => {
                let end_token = match markers {
                    Some(m) => single_token(&m.end_token)?,
                    None => None,
                };
                let phase = if end_token.is_some() { Phase::Thinking } else { Phase::Answer };
                (Mode::None { end_token }, phase)
            }
            ThinkingPolicy::BudgetForcing(bf) => {
                let markers = markers.ok_or_else(|| {
                    EngineError::Invalid(
                        "budget forcing needs a template with a thinking phase (s1, r1, qwen3, or an auto template with <think>)".into(),
                    )
                })?;
                if bf.min_thinking > bf.max_thinking {
                    return Err(EngineError::Invalid(format!(
                        "min_thinking ({}) is larger than max_thinking ({})",
                        bf.min_thinking, bf.max_thinking
                    )));
                }
                if bf.extend_with.is_empty() && (bf.ignore_end > 0 || bf.min_thinking > 0) {
                    return Err(EngineError::Invalid(
                        "ignore_end and min_thinking need at least one extend_with string".into(),
                    ));
                }
                let extensions = bf
                    .extend_with
                    .iter()
                    .map(|s| encode(s, "extension"))
                    .collect::<Result<Vec<_>>>()?;
                let tail = format!("{}\n{}", markers.delimiter, bf.cap_text);
                let mode = Mode::Budget {
                    max_thinking: bf.max_thinking,
                    min_thinking: bf.min_thinking,
                    ignore_end: bf.ignore_end,
                    extensions,
                    end_token: single_token(&markers.end_token)?,
                    delimiter: encode(&markers.delimiter, "end delimiter")?,
                    cap: encode(&format!("\n{tail}"), "cap")?,
                    cap_after_newline: encode(&tail, "cap")?,
                    max_answer: bf.max_answer,
                    extensions_made: 0,
                };
                (mode, Phase::Thinking)
            }
            ThinkingPolicy::ShiftedWindow(sw) => {
                let mode = Mode::Window {
                    window: sw.window,
                    hint: encode(&sw.hint, "hint")?,
                    max_answer: sw.max_answer,
                };
                (mode, Phase::Thinking)
            }
        };
        Ok(ThinkingControl { mode, eos: eos.to_vec(), phase, thinking: 0, answer: 0 })
    }

    /// This control's progress under `other`'s policy settings (both built from policies
    /// of the same kind): what a sweep point that shared this trajectory would hold now.
    pub fn rebased(&self, other: &ThinkingControl) -> ThinkingControl {
        let mut mode = other.mode.clone();
        if let (Mode::Budget { extensions_made, .. }, Mode::Budget { extensions_made: made, .. }) =
            (&mut mode, &self.mode)
        {
            *extensions_made = *made;
        }
        ThinkingControl { mode, ..self.clone() }
    }

    /// Whether `other` runs the same kind of policy, so [`Self::rebased`] applies.
    pub fn same_kind(&self, other: &ThinkingControl) -> bool {
        std::mem::discriminant(&self.mode) == std::mem::discriminant(&other.mode)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn thinking_tokens(&self) -> usize {
        self.thinking
    }

    pub fn answer_tokens(&self) -> usize {
        self.answer
    }

    /// Decides the next step; `text_ends_with_newline` is about the output decoded so far.
    pub fn next(&mut self, text_ends_with_newline: bool) -> Step {
        let max_answer = match &self.mode {
            Mode::None { .. } => None,
            Mode::Budget { max_answer, .. } | Mode::Window { max_answer, .. } => *max_answer,
        };
        match (&self.mode, self.phase) {
            (Mode::Budget { max_thinking, cap, cap_after_newline, .. }, Phase::Thinking)
                if self.thinking >= *max_thinking =>
            {
                let tokens = if text_ends_with_newline { cap_after_newline } else { cap };
                let forced = Forced { tokens: tokens.clone(), kind: InsertionKind::Cap };
                self.phase = Phase::Answer;
                Step::Insert(forced)
            }
            (Mode::Window { window, hint, .. }, Phase::Thinking) if self.thinking >= *window => {
                let forced = Forced { tokens: hint.clone(), kind: InsertionKind::Hint };
                self.phase = Phase::Answer;
                Step::Insert(forced)
            }
            (_, Phase::Answer) if max_answer.is_some_and(|m| self.answer >= m) => {
                Step::Stop(StopReason::Length)
            }
            _ => Step::Sample,
        }
    }

    pub fn on_sampled(&mut self, token: u32) -> Verdict {
        let is_eos = self.eos.contains(&token);
        if self.phase == Phase::Answer {
            self.answer += 1;
            return if is_eos { Verdict::KeepAndStop(StopReason::Eos) } else { Verdict::Keep };
        }
        match &mut self.mode {
            Mode::None { end_token } => {
                if Some(token) == *end_token {
                    self.phase = Phase::Answer;
                    return Verdict::Keep;
                }
                self.thinking += 1;
            }
            Mode::Window { .. } => self.thinking += 1,
            Mode::Budget {
                max_thinking,
                min_thinking,
                ignore_end,
                extensions,
                end_token,
                delimiter,
                extensions_made,
                ..
            } => {
                if !is_eos && Some(token) != *end_token {
                    self.thinking += 1;
                    return Verdict::Keep;
                }
                if *extensions_made < *ignore_end || self.thinking < *min_thinking {
                    let next = &extensions[*extensions_made % extensions.len()];
                    let room = max_thinking.saturating_sub(self.thinking);
                    let tokens = next[..next.len().min(room)].to_vec();
                    *extensions_made += 1;
                    self.thinking += tokens.len();
                    return Verdict::Replace(Forced { tokens, kind: InsertionKind::Extend });
                }
                self.phase = Phase::Answer;
                let tokens = delimiter.clone();
                return Verdict::Replace(Forced { tokens, kind: InsertionKind::End });
            }
        }
        if is_eos {
            Verdict::KeepAndStop(StopReason::Eos)
        } else {
            Verdict::Keep
        }
    }
}
