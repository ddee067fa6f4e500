//! Numerical parity with transformers on the committed tiny random models
//! (`tests/fixtures/make_parity.py` writes them; CI only reads them).

use serde::Deserialize;
use std::path::PathBuf;
use thinkscope_engine::generation::{SamplingParams, ThinkingPolicy};
use thinkscope_engine::tokenizer::Codec;
use thinkscope_engine::{generate, load, CancelToken, KvCache, LoadOptions, Request};

const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    arch: String,
    dtype: String,
    prompts: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    input_ids: Vec<u32>,
    logits: Vec<Vec<f32>>,
    greedy_ids: Vec<u32>,
}

fn fixture_dir(arch: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/parity").join(arch)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "vocabulary sizes differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn check(arch: &str) {
    let dir = fixture_dir(arch);
    for file in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors", "reference.json"] {
        assert!(
            dir.join(file).is_file(),
            "parity fixture missing: {} — generate it once with `python tests/fixtures/make_parity.py` (torch + transformers) and commit it",
            dir.join(file).display()
        );
    }
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap();
    assert_eq!(reference.arch, arch);
    assert_eq!(reference.dtype, "float32");
    assert!(!reference.prompts.is_empty());
    let mut model = load(&dir, &LoadOptions::default()).unwrap();
    for (n, case) in reference.prompts.iter().enumerate() {
        let ids = &case.input_ids;
        assert_eq!(case.logits.len(), ids.len(), "{arch} prompt {n}: one logits row per position");
        // transformers tokenized with add_special_tokens=False, as the engine does.
        let ours = model.tokenizer.encode(&case.text).unwrap();
        assert_eq!(&ours, ids, "{arch} prompt {n}: tokenization of {:?}", case.text);

        // The whole prompt at once: the last position.
        let last = model.model.forward(&mut KvCache::default(), ids).unwrap();
        let d = max_diff(&last, case.logits.last().unwrap());
        assert!(d <= TOLERANCE, "{arch} prompt {n}: prefill logits differ by {d}");
        // One token at a time over the KV cache: every position.
        let mut cache = KvCache::default();
        for (pos, id) in ids.iter().enumerate() {
            let row = model.model.forward(&mut cache, &[*id]).unwrap();
            let d = max_diff(&row, &case.logits[pos]);
            assert!(d <= TOLERANCE, "{arch} prompt {n} position {pos}: logits differ by {d}");
        }

        let request = Request {
            prompt_text: case.text.clone(),
            prompt_ids: ids.clone(),
            markers: None,
            policy: ThinkingPolicy::None,
            sampling: SamplingParams { max_tokens: case.greedy_ids.len(), ..SamplingParams::default() },
            // transformers decoded without stopping at EOS.
            eos_token_ids: Vec::new(),
        };
        let report =
            generate(model.model.as_mut(), &model.tokenizer, &request, &CancelToken::default(), &mut |_| {})
                .unwrap();
        assert_eq!(report.token_ids, case.greedy_ids, "{arch} prompt {n}: greedy tokens");
    }
}

#[test]
fn qwen2_matches_transformers() {
    check("qwen2");
}

#[test]
fn qwen3_matches_transformers() {
    check("qwen3");
}

#[test]
fn llama_matches_transformers() {
    check("llama");
}
