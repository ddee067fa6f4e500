//! `thinkscope bench eval`: what batching buys (aggregate generated tokens/s at several
//! batch sizes against batch 1), what a one-pass cap sweep costs against separate runs of
//! its points, and how many bytes a stored generated token takes.

use anyhow::bail;
use serde_json::json;
use std::time::Instant;
use thinkscope_engine::batch::{self, BatchOptions, Job, Report};
use thinkscope_engine::generation::{BudgetForcing, SamplingParams, ThinkingPolicy};
use thinkscope_engine::template::ThinkingMarkers;
use thinkscope_engine::tokenizer::{Codec, HfTokenizer};
use thinkscope_engine::{random, CancelToken, LanguageModel, Request};
use thinkscope_store::{NewGeneration, NewRun, OpenMode, Store, UnitKey};

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face model directory or a .gguf file.
    #[arg(long, required_unless_present = "random", conflicts_with = "random")]
    model: Option<std::path::PathBuf>,
    /// Use random weights of this shape instead: qwen2.5-0.5b, tiny-qwen2, tiny-qwen3, tiny-llama.
    #[arg(long)]
    random: Option<String>,
    /// Batch sizes to measure (batch 1 is always measured first).
    #[arg(long, value_delimiter = ',', default_value = "4,8,16")]
    batches: Vec<usize>,
    #[arg(long, default_value_t = 64)]
    prompt_tokens: usize,
    /// Tokens each sequence generates.
    #[arg(long, default_value_t = 32)]
    tokens: usize,
    #[command(flatten)]
    model_args: super::ModelArgs,
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (model, codec, name) = tokio::task::spawn_blocking({
        let (m, r, opts, dtype) = (args.model.clone(), args.random.clone(), args.model_args.load_options(), args.model_args.dtype());
        move || -> anyhow::Result<(Box<dyn LanguageModel + Send>, HfTokenizer, String)> {
            let opts = opts?;
            Ok(match (m, r) {
                (Some(path), _) => {
                    let loaded = thinkscope_engine::load(&path, &opts)?;
                    (loaded.model, loaded.tokenizer, path.display().to_string())
                }
                (None, Some(shape)) => {
                    let cfg = random::preset(&shape)?;
                    let model = random::random_model(&cfg, 0, &opts.device.open()?, dtype?)?;
                    (Box::new(model), HfTokenizer::new(random::byte_tokenizer()?), format!("random {shape} ({} parameters)", cfg.parameter_count()))
                }
                (None, None) => bail!("give --model PATH or --random SHAPE"),
            })
        }
    })
    .await??;
    let mut model = model;
    let text = "Let us compute the sum of the first hundred positive integers step by step. ";
    let mut base = Vec::new();
    while base.len() < args.prompt_tokens {
        base.extend(codec.encode(text)?);
    }
    base.truncate(args.prompt_tokens.max(2));
    // Distinct prompts (no sharing), greedy, EOS ignored: every sequence runs `tokens` long.
    let request = |i: usize, policy: ThinkingPolicy, max_tokens: usize| {
        let mut ids = base.clone();
        ids[0] = (i % 200) as u32 + 32;
        Request {
            prompt_text: String::new(),
            prompt_ids: ids,
            markers: Some(ThinkingMarkers::s1()),
            policy,
            sampling: SamplingParams { max_tokens, ..SamplingParams::default() },
            eos_token_ids: Vec::new(),
        }
    };
    let mut rates = Vec::new();
    let mut sizes = vec![1];
    sizes.extend(args.batches.iter().copied().filter(|&b| b > 1));
    for &size in &sizes {
        let jobs: Vec<Job> = (0..size)
            .map(|i| Job { id: i, request: request(i, ThinkingPolicy::None, args.tokens), followers: vec![], reject_above: None })
            .collect();
        let (generated, secs) = timed(model.as_mut(), &codec, jobs, size)?;
        rates.push((size, generated as f64 / secs));
    }
    // A 4-point cap sweep in one pass against each point alone (nothing ends thinking early
    // here, so every point runs to its budget: the least sharing a sweep can have).
    let budgets = [args.tokens / 8, args.tokens / 4, args.tokens / 2, args.tokens].map(|b| b.max(1));
    let bf = |b: usize| ThinkingPolicy::BudgetForcing(BudgetForcing { max_thinking: b, max_answer: Some(4), ..BudgetForcing::default() });
    let separate: u64 = budgets
        .iter()
        .map(|&b| {
            let job = Job { id: 0, request: request(0, bf(b), args.tokens * 2), followers: vec![], reject_above: None };
            forward_tokens(model.as_mut(), &codec, vec![job])
        })
        .sum::<anyhow::Result<u64>>()?;
    let largest = forward_tokens(
        model.as_mut(),
        &codec,
        vec![Job { id: 0, request: request(0, bf(budgets[3]), args.tokens * 2), followers: vec![], reject_above: None }],
    )?;
    let followers = budgets[..3].iter().enumerate().map(|(i, &b)| (i + 1, bf(b))).collect();
    let one_pass = forward_tokens(
        model.as_mut(),
        &codec,
        vec![Job { id: 0, request: request(0, bf(budgets[3]), args.tokens * 2), followers, reject_above: None }],
    )?;
    let bytes_per_token = stored_bytes_per_token().await?;
    let base_rate = rates[0].1;
    if args.json {
        return super::print_json(&json!({
            "model": name, "device": model.device_label(), "dtype": model.dtype_label(),
            "prompt_tokens": args.prompt_tokens, "tokens": args.tokens,
            "batches": rates.iter().map(|(b, r)| json!({"batch": b, "generated_tokens_per_s": r, "ratio_to_batch_1": r / base_rate})).collect::<Vec<_>>(),
            "sweep": {"budgets": budgets, "one_pass_forward_tokens": one_pass, "largest_point_alone": largest, "separate_runs_sum": separate,
                      "ratio_to_largest": one_pass as f64 / largest as f64},
            "stored_bytes_per_generated_token": bytes_per_token,
        }));
    }
    println!("model {name} on {} {}; prompt {} tokens, {} generated per sequence", model.device_label(), model.dtype_label(), args.prompt_tokens, args.tokens);
    println!("continuous batching (aggregate generated tokens/s):");
    for (b, r) in &rates {
        println!("  batch {b:>3}: {r:>8.1} tok/s   {:.2}× batch 1", r / base_rate);
    }
    println!("4-point cap sweep {budgets:?}:");
    println!("  one pass:            {one_pass} forward tokens ({:.2}× the largest point alone, {largest})", one_pass as f64 / largest as f64);
    println!("  separate runs (sum): {separate} forward tokens ({:.2}× one pass)", separate as f64 / one_pass as f64);
    println!("stored: {bytes_per_token:.2} bytes per generated token (token ids packed, text, insertions, timings)");
    Ok(())
}

/// Generated tokens and wall seconds of running `jobs` at `max_batch`.
fn timed(model: &mut dyn LanguageModel, codec: &dyn Codec, jobs: Vec<Job>, max_batch: usize) -> anyhow::Result<(u64, f64)> {
    let mut queue = jobs.into_iter();
    let mut generated = 0u64;
    let started = Instant::now();
    batch::run(model, codec, BatchOptions { max_batch, kv_budget_bytes: None }, &CancelToken::default(), &mut || queue.next(), &mut |r| {
        if let Report::Finished { outcome: Ok(report), .. } = r {
            generated += report.token_ids.len() as u64;
        }
    })?;
    Ok((generated, started.elapsed().as_secs_f64()))
}

fn forward_tokens(model: &mut dyn LanguageModel, codec: &dyn Codec, jobs: Vec<Job>) -> anyhow::Result<u64> {
    let mut queue = jobs.into_iter();
    let stats = batch::run(model, codec, BatchOptions { max_batch: 8, kv_budget_bytes: None }, &CancelToken::default(), &mut || queue.next(), &mut |_| {})?;
    Ok(stats.tokens)
}

/// Stores 200 generations of 4,000 tokens in a fresh library and divides the bytes they
/// take by the tokens. Ids are drawn log-uniformly over Qwen's 151,936-token vocabulary
/// (word frequencies are roughly Zipfian), with ~4 characters of text per token as in
/// English reasoning traces; the text is stored as it is, the ids packed.
async fn stored_bytes_per_token() -> anyhow::Result<f64> {
    use thinkscope_protocol::generation::{GenerationReport, StopReason, Timings};
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("bench.db"), OpenMode::ReadWrite).await?;
    let data = dir.path().join("one.jsonl");
    std::fs::write(&data, "{\"problem\": \"What is 1+1?\", \"answer\": \"2\", \"id\": 1}\n")?;
    let request = thinkscope_protocol::ImportRequest { path: data.display().to_string(), ..Default::default() };
    let ds = thinkscope_datasets::import(&store, &request, |_| {}, &thinkscope_datasets::CancelToken::default()).await?.dataset;
    let sample = store.samples(&thinkscope_protocol::SampleQuery { dataset_id: Some(ds.id.clone()), ..Default::default() }).await?.rows[0].id.clone();
    let plan = thinkscope_protocol::eval::RunPlan {
        dataset_id: ds.id.clone(),
        selection: Default::default(),
        task: thinkscope_protocol::eval::TaskKind::Math,
        template: "s1".into(),
        system: None,
        prompt_template: None,
        points: vec![],
        samples: 200,
        sampling: SamplingParams::default(),
    };
    let run = store
        .create_run(NewRun { name: "bench".into(), plan, plan_hash: "bench".into(), provenance: Default::default(), model: "bench".into(), policy: "none".into(), total_units: 200 })
        .await?;
    let words = ["Wait", ", ", "let", " me", " check", " the", " sum", " again", ":", " 17", " +", " 25", " =", " 42", ".", "\n", " So", " the", " answer", " is"];
    let mut rng = thinkscope_protocol::rng::SplitMix64::new(1);
    let mut units = Vec::new();
    for k in 0..200u32 {
        let token_ids: Vec<u32> =
            (0..4000).map(|_| (151_936f64.powf(rng.next_f32() as f64) as u32).min(151_935)).collect();
        let text: String = (0..4000).map(|_| words[rng.below(words.len())]).collect();
        units.push(NewGeneration {
            key: UnitKey { sample_id: sample.clone(), point_index: 0, sample_index: k },
            seed: k as u64,
            outcome: Ok(GenerationReport {
                prompt: "p".into(),
                prompt_token_ids: vec![1, 2, 3],
                token_ids,
                text,
                thinking_tokens: 3990,
                answer_tokens: 10,
                answer_start: Some(3990),
                insertions: vec![],
                stop_reason: StopReason::Eos,
                device: "cpu".into(),
                dtype: "f32".into(),
                timings: Timings::default(),
            }),
            tries: 1,
            accepted: true,
            shuffle: None,
        });
    }
    store.write_generations(&run.id, &units, 0).await?;
    let (bytes, tokens) = store.run_storage(&run.id).await?;
    store.close().await;
    Ok(bytes as f64 / tokens as f64)
}
