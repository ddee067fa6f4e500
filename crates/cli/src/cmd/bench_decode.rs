//! `thinkscope bench decode`: prefill and decode rates, and what budget forcing costs: a run
//! with forced "Wait" extensions against an unforced run of the same length.

use anyhow::{bail, Context};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use thinkscope_engine::generation::{
    BudgetForcing, GenerationReport, InsertionKind, SamplingParams, ThinkingPolicy,
};
use thinkscope_engine::template::ThinkingMarkers;
use thinkscope_engine::tokenizer::{Codec, HfTokenizer};
use thinkscope_engine::{generate, random, CancelToken, Feed, ForwardStats, LanguageModel, Request};

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face model directory or a .gguf file.
    #[arg(long, required_unless_present = "random", conflicts_with = "random")]
    model: Option<PathBuf>,
    /// Use random weights of this shape instead: qwen2.5-0.5b, tiny-qwen2, tiny-qwen3, tiny-llama.
    #[arg(long)]
    random: Option<String>,
    #[arg(long, default_value_t = 128)]
    prompt_tokens: usize,
    /// Tokens after the prompt in each run.
    #[arg(long, default_value_t = 256)]
    tokens: usize,
    /// Forced extensions in the budget-forcing run.
    #[arg(long, default_value_t = 3)]
    waits: usize,
    /// Runs of each kind (interleaved); medians are reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    #[command(flatten)]
    model_args: super::ModelArgs,
    #[arg(long)]
    json: bool,
}

/// Makes a model end thinking exactly at chosen steps and never otherwise (nor emit EOS),
/// so both runs have the same length whatever the weights.
struct Steered<'a> {
    inner: &'a mut dyn LanguageModel,
    end_token: u32,
    banned: Vec<u32>,
    force_at: Vec<u64>,
    calls: u64,
}

impl LanguageModel for Steered<'_> {
    fn forward_batch(&mut self, batch: &mut [Feed<'_>]) -> thinkscope_engine::Result<Vec<Vec<f32>>> {
        let mut rows = self.inner.forward_batch(batch)?;
        for logits in &mut rows {
            for &id in &self.banned {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = f32::NEG_INFINITY;
                }
            }
            if self.force_at.contains(&self.calls) {
                logits[self.end_token as usize] = f32::MAX;
            }
        }
        self.calls += 1;
        Ok(rows)
    }
    fn kv_bytes_per_position(&self) -> usize {
        self.inner.kv_bytes_per_position()
    }
    fn stats(&self) -> ForwardStats {
        self.inner.stats()
    }
    fn context_length(&self) -> usize {
        self.inner.context_length()
    }
    fn device_label(&self) -> String {
        self.inner.device_label()
    }
    fn dtype_label(&self) -> String {
        self.inner.dtype_label()
    }
}

struct Measured {
    report: GenerationReport,
    forward: ForwardStats,
    wall: f64,
}

const TEXT: &str = "Let us compute the sum of the first hundred positive integers step by step, \
checking each partial result carefully before moving on to the next one. ";

pub async fn run(args: Args) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || bench(args)).await?
}

fn bench(args: Args) -> anyhow::Result<()> {
    let options = args.model_args.load_options()?;
    let (mut model, codec, name): (Box<dyn LanguageModel + Send>, HfTokenizer, String) =
        match (&args.model, &args.random) {
            (Some(path), _) => {
                let loaded = thinkscope_engine::load(path, &options)?;
                (loaded.model, loaded.tokenizer, path.display().to_string())
            }
            (None, Some(shape)) => {
                let cfg = random::preset(shape)?;
                let device = options.device.open()?;
                let model = random::random_model(&cfg, 0, &device, args.model_args.dtype()?)?;
                let codec = HfTokenizer::new(random::byte_tokenizer()?);
                (Box::new(model), codec, format!("random {shape} ({} parameters)", cfg.parameter_count()))
            }
            (None, None) => bail!("give --model PATH or --random SHAPE"),
        };
    let markers = if codec.token_id("<|im_start|>").is_some() {
        ThinkingMarkers::s1()
    } else if codec.token_id("</think>").is_some() {
        ThinkingMarkers::think_tags()
    } else {
        bail!("the tokenizer has neither <|im_start|> nor </think> to end thinking with");
    };
    let end_token = codec.token_id(&markers.end_token).context("end token")?;
    let mut prompt_ids = Vec::new();
    while prompt_ids.len() < args.prompt_tokens {
        prompt_ids.extend(codec.encode(TEXT)?);
    }
    prompt_ids.truncate(args.prompt_tokens);
    let length = args.tokens;
    let eos: Vec<u32> = codec.token_id("<|endoftext|>").into_iter().collect();
    let mut banned = eos.clone();
    banned.extend(codec.token_id("<|im_end|>"));
    banned.push(end_token);
    let request = |policy, markers| Request {
        prompt_text: TEXT.into(),
        prompt_ids: prompt_ids.clone(),
        markers,
        policy,
        sampling: SamplingParams { max_tokens: length, ..SamplingParams::default() },
        eos_token_ids: eos.clone(),
    };
    let plain = request(ThinkingPolicy::None, None);
    let forced = request(
        ThinkingPolicy::BudgetForcing(BudgetForcing {
            max_thinking: length * 2,
            ignore_end: args.waits,
            ..BudgetForcing::default()
        }),
        Some(markers),
    );
    // The model tries to end thinking at evenly spaced steps; each attempt becomes "Wait".
    let force_at: Vec<u64> = (1..=args.waits).map(|k| (k * length / (args.waits + 1)) as u64).collect();
    let mut measure = |req: &Request, force_at: &[u64]| -> anyhow::Result<Measured> {
        let before = model.stats();
        let mut steered = Steered {
            inner: model.as_mut(),
            end_token,
            banned: banned.clone(),
            force_at: force_at.to_vec(),
            calls: 0,
        };
        let started = Instant::now();
        let report = generate(&mut steered, &codec, req, &CancelToken::default(), &mut |_| {})?;
        let wall = started.elapsed().as_secs_f64();
        let after = model.stats();
        let forward = ForwardStats { calls: after.calls - before.calls, tokens: after.tokens - before.tokens };
        Ok(Measured { report, forward, wall })
    };
    measure(&plain, &[])?; // warm-up: allocator and caches
    let mut plain_runs = Vec::new();
    let mut forced_runs = Vec::new();
    for _ in 0..args.repeats.max(1) {
        plain_runs.push(measure(&plain, &[])?);
        forced_runs.push(measure(&forced, &force_at)?);
    }
    let median = |runs: &[Measured], f: &dyn Fn(&Measured) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let p = &plain_runs[0];
    let f = &forced_runs[0];
    let prefill_rate = median(&plain_runs, &|m| m.report.timings.prefill_tokens as f64 / m.report.timings.prefill_secs);
    let decode_rate = median(&plain_runs, &|m| m.report.timings.decode_tokens as f64 / m.report.timings.decode_secs);
    let plain_wall = median(&plain_runs, &|m| m.wall);
    let forced_wall = median(&forced_runs, &|m| m.wall);
    let inserted: usize = f.report.insertions.iter().map(|i| i.token_count).sum();
    let extensions = f.report.insertions.iter().filter(|i| i.kind == InsertionKind::Extend).count();
    let generated = f.report.token_ids.len() - inserted;
    let prompt = prompt_ids.len();
    // Every output token is fed once, except the tail after the last forward pass (the
    // last sampled token, and an insertion the run may end on), which nothing follows.
    let unfed = f.report.token_ids.len() - f.report.timings.decode_tokens;
    let ends_on_insertion = f.report.insertions.last().filter(|i| i.token_index + i.token_count == f.report.token_ids.len());
    let tail_bound = 1 + ends_on_insertion.map_or(0, |i| i.token_count);
    let expected = (prompt + generated + inserted - unfed) as u64;
    // The s1 reference re-encodes prompt + output so far at every forced extension.
    let reprefill: u64 = expected
        + f.report.insertions.iter().map(|i| (prompt + i.token_index) as u64).sum::<u64>();
    let exact = f.forward.tokens == expected && (1..=tail_bound).contains(&unfed);
    if args.json {
        let summary = json!({
            "model": name, "device": p.report.device, "dtype": p.report.dtype,
            "prompt_tokens": prompt, "tokens": length,
            "prefill_tokens_per_s": prefill_rate, "decode_tokens_per_s": decode_rate,
            "unforced": { "forward_tokens": p.forward.tokens, "forward_passes": p.forward.calls, "wall_s": plain_wall },
            "forced": { "extensions": extensions, "generated": generated, "inserted": inserted,
                        "forward_tokens": f.forward.tokens, "forward_passes": f.forward.calls, "wall_s": forced_wall },
            "expected_forward_tokens": expected, "unfed_tail": unfed,
            "reprefill_forward_tokens": reprefill,
            "wall_ratio": forced_wall / plain_wall, "exact": exact,
        });
        super::print_json(&summary)?;
    } else {
        print_summary(&name, p, f, &[prompt, length, extensions, generated, inserted, unfed], expected, reprefill, exact, (prefill_rate, decode_rate, plain_wall, forced_wall), plain_runs.len());
    }
    if !exact {
        bail!("forced run fed {} tokens, expected {expected} with an unfed tail of 1..={tail_bound} (it was {unfed})", f.forward.tokens);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn print_summary(
    name: &str,
    p: &Measured,
    f: &Measured,
    counts: &[usize; 6],
    expected: u64,
    reprefill: u64,
    exact: bool,
    (prefill_rate, decode_rate, plain_wall, forced_wall): (f64, f64, f64, f64),
    runs: usize,
) {
    let [prompt, length, extensions, generated, inserted, unfed] = *counts;
    println!("model   {name} on {} {}", p.report.device, p.report.dtype);
    println!("prefill {prompt} tokens: {prefill_rate:.1} tok/s");
    println!("decode  {length} tokens: {decode_rate:.1} tok/s (single sequence, median of {})", runs);
    println!("budget forcing, {extensions} forced \"Wait\" vs an unforced run of the same length ({length} tokens):");
    println!(
        "  unforced: {} forward tokens in {} passes, {plain_wall:.3} s",
        p.forward.tokens, p.forward.calls
    );
    println!(
        "  forced:   {} forward tokens in {} passes, {forced_wall:.3} s",
        f.forward.tokens, f.forward.calls
    );
    println!(
        "  forced forward tokens = prompt {prompt} + generated {generated} + inserted {inserted} - {unfed} (the tail after the last pass, never fed) = {expected}: {}",
        if exact { "exact, no re-prefill" } else { "MISMATCH" }
    );
    println!("  re-encoding the prefix at each extension (s1 reference code) would feed {reprefill} tokens");
    println!("  wall ratio forced/unforced: {:.3}", forced_wall / plain_wall);
}
