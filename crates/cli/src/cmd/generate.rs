//! `thinkscope generate`: one generation with thinking control, streamed or as JSON.

use anyhow::{bail, Context};
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use thinkscope_engine::generation::{
    BudgetForcing, GenerationReport, InsertionKind, PromptCondition, SamplingParams, ShiftedWindow, StopReason,
    ThinkingPolicy,
};
use thinkscope_engine::template::TemplateKind;
use thinkscope_engine::{CancelToken, Event, GenerationSpec};

#[derive(Clone, Copy, ValueEnum)]
pub enum Policy {
    None,
    BudgetForcing,
    ShiftedWindow,
}

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face model directory or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// auto (the model's chat_template), s1, z1, r1 or qwen3.
    #[arg(long, default_value = "auto")]
    template: TemplateKind,
    #[arg(long)]
    system: Option<String>,
    #[arg(long, required_unless_present = "prompt_file", conflicts_with = "prompt_file")]
    prompt: Option<String>,
    #[arg(long)]
    prompt_file: Option<PathBuf>,
    /// s1 prompt-conditional control: tokens:N, steps:N, short or long.
    #[arg(long)]
    condition: Option<String>,
    #[arg(long, value_enum, default_value = "none")]
    policy: Policy,
    /// Budget forcing: thinking never exceeds this many tokens.
    #[arg(long)]
    max_thinking: Option<usize>,
    /// Budget forcing: end-of-thinking before this many tokens is replaced by an extension.
    #[arg(long)]
    min_thinking: Option<usize>,
    /// Budget forcing: replace the first N end-of-thinking tokens by an extension.
    #[arg(long)]
    ignore_end: Option<usize>,
    /// Budget forcing: extension strings, used in turn (default "Wait").
    #[arg(long)]
    extend_with: Vec<String>,
    /// Budget forcing: text after the answer delimiter when the budget runs out.
    #[arg(long)]
    cap_text: Option<String>,
    /// Shifted window: tokens decoded before the hint.
    #[arg(long)]
    window: Option<usize>,
    /// Shifted window: the text inserted after the window.
    #[arg(long)]
    hint: Option<String>,
    /// Cap on answer tokens (budget forcing, shifted window).
    #[arg(long)]
    max_answer: Option<usize>,
    /// Cap on all tokens after the prompt.
    #[arg(long, default_value_t = 32_768)]
    max_tokens: usize,
    /// 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    #[arg(long, default_value_t = 0.0)]
    min_p: f32,
    #[arg(long, default_value_t = 1.0)]
    repetition_penalty: f32,
    #[arg(long, default_value_t = 0.0)]
    frequency_penalty: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop once the text contains this (repeatable).
    #[arg(long)]
    stop: Vec<String>,
    #[command(flatten)]
    model_args: super::ModelArgs,
    /// Print one JSON object instead of streaming text.
    #[arg(long)]
    json: bool,
}

impl Args {
    fn policy(&self) -> anyhow::Result<ThinkingPolicy> {
        let budget_flags = self.max_thinking.is_some()
            || self.min_thinking.is_some()
            || self.ignore_end.is_some()
            || !self.extend_with.is_empty()
            || self.cap_text.is_some();
        let window_flags = self.window.is_some() || self.hint.is_some();
        Ok(match self.policy {
            Policy::None => {
                if budget_flags || window_flags || self.max_answer.is_some() {
                    bail!("thinking options need --policy budget-forcing or shifted-window");
                }
                ThinkingPolicy::None
            }
            Policy::BudgetForcing => {
                if window_flags {
                    bail!("--window and --hint belong to --policy shifted-window");
                }
                let defaults = BudgetForcing::default();
                ThinkingPolicy::BudgetForcing(BudgetForcing {
                    max_thinking: self
                        .max_thinking
                        .context("--policy budget-forcing needs --max-thinking")?,
                    min_thinking: self.min_thinking.unwrap_or(0),
                    ignore_end: self.ignore_end.unwrap_or(0),
                    extend_with: if self.extend_with.is_empty() {
                        defaults.extend_with
                    } else {
                        self.extend_with.clone()
                    },
                    cap_text: self.cap_text.clone().unwrap_or(defaults.cap_text),
                    max_answer: self.max_answer,
                })
            }
            Policy::ShiftedWindow => {
                if budget_flags {
                    bail!("budget-forcing options do not apply to --policy shifted-window");
                }
                ThinkingPolicy::ShiftedWindow(ShiftedWindow {
                    window: self.window.context("--policy shifted-window needs --window")?,
                    hint: self.hint.clone().unwrap_or(ShiftedWindow::default().hint),
                    max_answer: self.max_answer,
                })
            }
        })
    }

    fn spec(&self) -> anyhow::Result<GenerationSpec> {
        let question = match (&self.prompt, &self.prompt_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .with_context(|| format!("reading {}", f.display()))?,
            (None, None) => bail!("give --prompt or --prompt-file"),
        };
        Ok(GenerationSpec {
            template: self.template,
            system: self.system.clone(),
            question,
            condition: parse_condition(self.condition.as_deref())?,
            policy: self.policy()?,
            sampling: SamplingParams {
                temperature: self.temperature,
                top_p: self.top_p,
                top_k: self.top_k,
                min_p: self.min_p,
                repetition_penalty: self.repetition_penalty,
                frequency_penalty: self.frequency_penalty,
                seed: self.seed,
                max_tokens: self.max_tokens,
                stop_strings: self.stop.clone(),
                stop_token_ids: Vec::new(),
            },
        })
    }
}

fn parse_condition(s: Option<&str>) -> anyhow::Result<PromptCondition> {
    let number = |n: &str| n.parse::<usize>().with_context(|| format!("bad count in --condition `{n}`"));
    Ok(match s {
        None => PromptCondition::None,
        Some("short") => PromptCondition::Short,
        Some("long") => PromptCondition::Long,
        Some(other) => match other.split_once(':') {
            Some(("tokens", n)) => PromptCondition::Tokens(number(n)?),
            Some(("steps", n)) => PromptCondition::Steps(number(n)?),
            _ => bail!("--condition is tokens:N, steps:N, short or long, not `{other}`"),
        },
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let spec = args.spec()?;
    let options = args.model_args.load_options()?;
    let (model_path, json) = (args.model.clone(), args.json);
    // Ctrl-C stops at the next step; the partial generation is still reported.
    let cancel = CancelToken::default();
    let token = cancel.clone();
    super::on_ctrl_c(move || token.cancel());
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<GenerationReport> {
        let mut model = thinkscope_engine::load(&model_path, &options)?;
        let color = std::io::stdout().is_terminal();
        let mut out = std::io::stdout().lock();
        let mut stream = |event: &Event| {
            if json {
                return;
            }
            // Output errors (a closed pipe) must not abort the generation.
            let _ = match event {
                Event::Token { text, .. } => write!(out, "{text}"),
                Event::Inserted { insertion, text } => {
                    let label = match insertion.kind {
                        InsertionKind::Extend => "extend",
                        InsertionKind::Cap => "cap",
                        InsertionKind::End => "end",
                        InsertionKind::Hint => "hint",
                    };
                    if color {
                        write!(out, "\x1b[33m⟦{label}⟧{text}\x1b[0m")
                    } else {
                        write!(out, "⟦{label}⟧{text}")
                    }
                }
            };
            let _ = out.flush();
        };
        Ok(model.generate(&spec, &cancel, &mut stream)?)
    })
    .await??;
    if json {
        super::print_json(&report)?;
    } else {
        println!();
        let t = &report.timings;
        let rate = |n: usize, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
        eprintln!(
            "stop: {:?} · thinking {} · answer {} · inserted {} · prefill {} tok {:.2}s ({:.1} tok/s) · decode {} tok {:.2}s ({:.1} tok/s) · {} {}",
            report.stop_reason,
            report.thinking_tokens,
            report.answer_tokens,
            report.insertions.iter().map(|i| i.token_count).sum::<usize>(),
            t.prefill_tokens,
            t.prefill_secs,
            rate(t.prefill_tokens, t.prefill_secs),
            t.decode_tokens,
            t.decode_secs,
            rate(t.decode_tokens, t.decode_secs),
            report.device,
            report.dtype,
        );
    }
    if report.stop_reason == StopReason::Cancelled {
        // Like any program stopped by Ctrl-C, so scripts can tell; the report is out.
        std::process::exit(130);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(extra: &[&str]) -> Args {
        let mut argv = vec!["t", "--model", "m", "--prompt", "q"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).args
    }

    #[test]
    fn budget_forcing_flags_build_the_policy() {
        let args = parse(&[
            "--policy", "budget-forcing", "--max-thinking", "100", "--ignore-end", "2",
            "--extend-with", "Wait", "--extend-with", "Hmm",
        ]);
        match args.policy().unwrap() {
            ThinkingPolicy::BudgetForcing(b) => {
                assert_eq!((b.max_thinking, b.ignore_end), (100, 2));
                assert_eq!(b.extend_with, vec!["Wait", "Hmm"]);
                assert_eq!(b.cap_text, "Final Answer:");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mismatched_flags_are_errors() {
        assert!(parse(&["--max-thinking", "5"]).policy().is_err());
        assert!(parse(&["--policy", "budget-forcing"]).policy().is_err());
        assert!(parse(&["--policy", "shifted-window", "--window", "3", "--ignore-end", "1"]).policy().is_err());
    }

    #[test]
    fn conditions_parse() {
        assert_eq!(parse_condition(Some("tokens:512")).unwrap(), PromptCondition::Tokens(512));
        assert_eq!(parse_condition(Some("long")).unwrap(), PromptCondition::Long);
        assert!(parse_condition(Some("steps:x")).is_err());
    }
}
