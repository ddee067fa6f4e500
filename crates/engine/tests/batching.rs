//! The batch scheduler against the single-sequence engine: same tokens, whatever shares a
//! forward pass; sweep points forked off a shared trajectory equal separate runs; shared
//! prompts are fed once.

mod support;

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device};
use std::collections::HashMap;
use std::path::PathBuf;
use thinkscope_engine::batch::{self, BatchOptions, Job, Report};
use thinkscope_engine::generation::{BudgetForcing, GenerationReport, SamplingParams, ShiftedWindow, ThinkingPolicy};
use thinkscope_engine::template::ThinkingMarkers;
use thinkscope_engine::tokenizer::{Codec, HfTokenizer};
use thinkscope_engine::{
    generate, load, random, CancelToken, Feed, ForwardStats, LanguageModel, LoadOptions, Request,
};

/// Runs `jobs` through the scheduler; reports by id.
fn run_batch(
    model: &mut dyn LanguageModel,
    codec: &dyn Codec,
    jobs: Vec<Job>,
    max_batch: usize,
) -> (HashMap<usize, GenerationReport>, ForwardStats) {
    let mut queue = jobs.into_iter();
    let mut reports = HashMap::new();
    let stats = batch::run(
        model,
        codec,
        BatchOptions { max_batch, kv_budget_bytes: None },
        &CancelToken::default(),
        &mut || queue.next(),
        &mut |r| {
            if let Report::Finished { id, outcome } = r {
                assert!(reports.insert(id, outcome.unwrap()).is_none(), "job {id} reported twice");
            }
        },
    )
    .unwrap();
    (reports, stats)
}

fn single(model: &mut dyn LanguageModel, codec: &dyn Codec, req: &Request) -> (GenerationReport, ForwardStats) {
    let before = model.stats();
    let report = generate(model, codec, req, &CancelToken::default(), &mut |_| {}).unwrap();
    let after = model.stats();
    (report, ForwardStats { calls: after.calls - before.calls, tokens: after.tokens - before.tokens })
}

fn job(id: usize, request: Request) -> Job {
    Job { id, request, followers: Vec::new(), reject_above: None }
}

/// Ragged prompts, outputs of different lengths, more jobs than slots: batched greedy
/// tokens equal single-sequence ones.
fn batched_equals_single(model: &mut dyn LanguageModel, codec: &dyn Codec, what: &str) {
    let prompts = ["Hi", "What is 12 + 30? Think it through.", "A longer prompt, so prefill lengths differ: 1, 2, 3, 4.", "x"];
    let requests: Vec<Request> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| Request {
            prompt_text: p.to_string(),
            prompt_ids: codec.encode(p).unwrap(),
            markers: None,
            policy: ThinkingPolicy::None,
            sampling: SamplingParams { max_tokens: 6 + 5 * i, ..SamplingParams::default() },
            eos_token_ids: Vec::new(),
        })
        .collect();
    let expected: Vec<Vec<u32>> = requests.iter().map(|r| single(model, codec, r).0.token_ids).collect();
    for max_batch in [2, 4] {
        let jobs = requests.iter().cloned().enumerate().map(|(i, r)| job(i, r)).collect();
        let (got, _) = run_batch(model, codec, jobs, max_batch);
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(&got[&i].token_ids, want, "{what}, batch {max_batch}, prompt {i}");
        }
    }
}

fn fixture(arch: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/parity").join(arch)
}

#[test]
fn batched_greedy_tokens_equal_single_sequence_on_the_parity_fixtures() {
    for arch in ["qwen2", "qwen3", "llama"] {
        let mut m = load(&fixture(arch), &LoadOptions::default()).unwrap();
        batched_equals_single(m.model.as_mut(), &m.tokenizer, arch);
    }
}

#[test]
fn batched_greedy_tokens_equal_single_sequence_on_gguf() {
    let dir = tempfile::tempdir().unwrap();
    for (shape, qtype) in [("tiny-qwen2", GgmlDType::Q8_0), ("tiny-llama", GgmlDType::Q4_0), ("tiny-qwen3", GgmlDType::Q8_0)] {
        let cfg = random::preset(shape).unwrap();
        let hf = dir.path().join(shape);
        let tensors = support::files::write_model_dir(&hf, &cfg, 4);
        let gguf = hf.join("model.gguf");
        support::files::write_gguf(&gguf, &cfg, &tensors, qtype);
        let mut m = load(&gguf, &LoadOptions::default()).unwrap();
        batched_equals_single(m.model.as_mut(), &m.tokenizer, shape);
    }
}

/// Ends thinking (logit of `end` forced up) when a sequence reaches chosen cache lengths,
/// and never emits EOS: a position-based script, so it steers every sequence the same way
/// whatever it is batched with.
struct Steered {
    inner: Box<dyn LanguageModel + Send>,
    end: u32,
    eos: u32,
    at: Vec<usize>,
}

impl LanguageModel for Steered {
    fn forward_batch(&mut self, batch: &mut [Feed<'_>]) -> thinkscope_engine::Result<Vec<Vec<f32>>> {
        let mut rows = self.inner.forward_batch(batch)?;
        for (row, feed) in rows.iter_mut().zip(batch.iter()) {
            row[self.eos as usize] = f32::NEG_INFINITY;
            row[self.end as usize] = if self.at.contains(&feed.cache.len()) { 1e9 } else { f32::NEG_INFINITY };
        }
        Ok(rows)
    }
    fn stats(&self) -> ForwardStats {
        self.inner.stats()
    }
    fn context_length(&self) -> usize {
        self.inner.context_length()
    }
    fn kv_bytes_per_position(&self) -> usize {
        self.inner.kv_bytes_per_position()
    }
    fn device_label(&self) -> String {
        self.inner.device_label()
    }
    fn dtype_label(&self) -> String {
        self.inner.dtype_label()
    }
}

fn tiny_steered(at: Vec<usize>) -> (Steered, HfTokenizer) {
    let cfg = random::preset("tiny-qwen2").unwrap();
    let model = random::random_model(&cfg, 11, &Device::Cpu, DType::F32).unwrap();
    let codec = HfTokenizer::new(random::byte_tokenizer().unwrap());
    let end = codec.token_id("<|im_start|>").unwrap();
    let eos = codec.token_id("<|endoftext|>").unwrap();
    (Steered { inner: Box::new(model), end, eos, at }, codec)
}

fn bf(max_thinking: usize, ignore_end: usize) -> ThinkingPolicy {
    ThinkingPolicy::BudgetForcing(BudgetForcing { max_thinking, ignore_end, max_answer: Some(6), ..BudgetForcing::default() })
}

fn request(codec: &dyn Codec, prompt: &str, policy: ThinkingPolicy, temperature: f32, seed: u64) -> Request {
    Request {
        prompt_text: prompt.into(),
        prompt_ids: codec.encode(prompt).unwrap(),
        markers: Some(ThinkingMarkers::s1()),
        policy,
        sampling: SamplingParams { temperature, seed, max_tokens: 1500, ..SamplingParams::default() },
        eos_token_ids: vec![codec.token_id("<|endoftext|>").unwrap()],
    }
}

/// One pass of a sweep (leader + followers) against each point run alone.
fn sweep_equals_separate_runs(policies: &[ThinkingPolicy], at: Vec<usize>, temperature: f32) {
    let (mut model, codec) = tiny_steered(at);
    let prompts = ["<|im_start|>user\nAdd 2 and 2.<|im_end|>\n<|im_start|>assistant\n<|im_start|>think", "<|im_start|>think"];
    let mut jobs = Vec::new();
    let mut separate = HashMap::new();
    let mut largest_alone = 0;
    for (pi, prompt) in prompts.iter().enumerate() {
        let base = pi * 100;
        let (leader, rest) = policies.split_last().unwrap();
        let seed = 1000 + pi as u64;
        let followers = rest.iter().enumerate().map(|(i, p)| (base + i, p.clone())).collect();
        jobs.push(Job {
            id: base + rest.len(),
            request: request(&codec, prompt, leader.clone(), temperature, seed),
            followers,
            reject_above: None,
        });
        for (i, p) in policies.iter().enumerate() {
            let (report, stats) = single(&mut model, &codec, &request(&codec, prompt, p.clone(), temperature, seed));
            if i == policies.len() - 1 {
                largest_alone += stats.tokens;
            }
            separate.insert(base + i, report);
        }
    }
    let (got, stats) = run_batch(&mut model, &codec, jobs, 4);
    assert_eq!(got.len(), separate.len());
    let mut distinct = std::collections::HashSet::new();
    for (id, want) in &separate {
        let have = &got[id];
        assert_eq!(have.token_ids, want.token_ids, "point {id}");
        assert_eq!(have.insertions, want.insertions, "point {id}");
        assert_eq!((have.thinking_tokens, have.answer_tokens, have.stop_reason), (want.thinking_tokens, want.answer_tokens, want.stop_reason));
        distinct.insert(have.token_ids.clone());
    }
    assert!(distinct.len() > prompts.len(), "the points should differ, or the test shows nothing");
    assert!(
        stats.tokens as f64 <= 1.25 * largest_alone as f64,
        "one pass fed {} tokens; the largest point alone {largest_alone}",
        stats.tokens
    );
}

#[test]
fn a_one_pass_cap_sweep_equals_separate_runs_greedy_and_sampled() {
    // Budgets long against the forced cap and answer (as real ones are: the bound compares
    // the answers the forks add with the shared thinking). The model ends thinking at
    // position 400 on its own: points above it share everything with the leader.
    let points: Vec<ThinkingPolicy> = [64, 128, 256, 512].iter().map(|&b| bf(b, 0)).collect();
    for temperature in [0.0, 0.9] {
        sweep_equals_separate_runs(&points, vec![400], temperature);
    }
}

#[test]
fn a_one_pass_ignore_end_sweep_equals_separate_runs_greedy_and_sampled() {
    let points: Vec<ThinkingPolicy> = [0, 1, 2, 4].iter().map(|&n| bf(1000, n)).collect();
    for temperature in [0.0, 0.9] {
        sweep_equals_separate_runs(&points, vec![100, 200, 300, 400, 500, 600], temperature);
    }
}

#[test]
fn a_one_pass_window_sweep_equals_separate_runs() {
    let window = |w| ThinkingPolicy::ShiftedWindow(ShiftedWindow { window: w, max_answer: Some(5), ..ShiftedWindow::default() });
    let points: Vec<ThinkingPolicy> = [100, 300, 600].into_iter().map(window).collect();
    sweep_equals_separate_runs(&points, vec![], 0.7);
}

#[test]
fn units_sharing_a_prompt_feed_it_once() {
    let (mut model, codec) = tiny_steered(vec![]);
    let prompt = "<|im_start|>user\nA prompt shared by four samples of one problem.<|im_end|>\n<|im_start|>think";
    let prompt_len = codec.encode(prompt).unwrap().len() as u64;
    let jobs: Vec<Job> =
        (0..4).map(|i| job(i, request(&codec, prompt, bf(10, 0), 0.8, i as u64))).collect();
    let (got, stats) = run_batch(&mut model, &codec, jobs, 4);
    let output_fed: u64 = got.values().map(|r| r.timings.decode_tokens as u64).sum();
    assert_eq!(stats.tokens, prompt_len + output_fed, "the prompt is fed once, then only outputs");
    // Different seeds still give different samples off the shared cache.
    let distinct: std::collections::HashSet<_> = got.values().map(|r| r.token_ids.clone()).collect();
    assert!(distinct.len() > 1);
}

#[test]
fn a_kv_budget_holds_jobs_back_without_changing_results() {
    let (mut model, codec) = tiny_steered(vec![]);
    let reqs: Vec<Request> = (0..3).map(|i| request(&codec, &format!("<|im_start|>think {i}"), bf(12, 0), 0.0, 0)).collect();
    let per_seq = (reqs[0].prompt_ids.len() + 1500) as u64 * model.kv_bytes_per_position() as u64;
    let mut queue = reqs.iter().cloned().enumerate().map(|(i, r)| job(i, r));
    let mut most = 0;
    let mut running = 0usize;
    let mut finished = HashMap::new();
    batch::run(
        &mut model,
        &codec,
        BatchOptions { max_batch: 8, kv_budget_bytes: Some(per_seq + per_seq / 2) },
        &CancelToken::default(),
        &mut || queue.next(),
        &mut |r| match r {
            Report::Step { sequences, .. } => {
                running = sequences;
                most = most.max(running);
            }
            Report::Finished { id, outcome } => {
                finished.insert(id, outcome.unwrap().token_ids);
            }
            Report::Event { .. } => {}
        },
    )
    .unwrap();
    assert_eq!(most, 1, "the budget fits one sequence at a time");
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(finished[&i], single(&mut model, &codec, r).0.token_ids);
    }
}
