//! Loading real model files (safetensors dirs, shards, GGUF), decoding with them, and the
//! errors bad input gets.

mod support;

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device};
use std::path::Path;
use support::files::{gguf_tokenizer_metadata, write_gguf, write_gguf_with, write_model_dir};
use thinkscope_engine::device::DeviceKind;
use thinkscope_engine::generation::{BudgetForcing, InsertionKind, SamplingParams, ThinkingPolicy};
use thinkscope_engine::model::config::ModelConfig;
use thinkscope_engine::template::TemplateKind;
use thinkscope_engine::tokenizer::Codec;
use thinkscope_engine::{load, random, CancelToken, GenerationSpec, KvCache, LanguageModel, LoadOptions};

fn tiny(name: &str) -> ModelConfig {
    random::preset(name).unwrap()
}

fn load_err(path: &Path) -> String {
    match load(path, &LoadOptions::default()) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

const IDS: [u32; 7] = [72, 101, 108, 257, 111, 10, 33];

#[test]
fn safetensors_dir_loads_with_the_same_numbers_as_in_memory_weights() {
    let dir = tempfile::tempdir().unwrap();
    for shape in ["tiny-qwen2", "tiny-qwen3", "tiny-llama"] {
        let cfg = tiny(shape);
        let path = dir.path().join(shape);
        write_model_dir(&path, &cfg, 3);
        let mut loaded = load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.arch, cfg.arch.name());
        // config.json, generation_config.json and tokenizer_config.json eos ids merged.
        assert_eq!(loaded.eos_token_ids, vec![256, 258]);
        let mut memory = random::random_model(&cfg, 3, &Device::Cpu, DType::F32).unwrap();
        let a = loaded.model.forward(&mut KvCache::default(), &IDS).unwrap();
        let b = memory.forward(&mut KvCache::default(), &IDS).unwrap();
        assert_eq!(a, b, "{shape}");
        assert_eq!(loaded.model.device_label(), "cpu");
        assert_eq!(loaded.model.dtype_label(), "f32");
    }
}

#[test]
fn kv_cache_decoding_matches_a_full_prefill() {
    for shape in ["tiny-qwen2", "tiny-qwen3", "tiny-llama"] {
        let cfg = tiny(shape);
        let mut model = random::random_model(&cfg, 1, &Device::Cpu, DType::F32).unwrap();
        let full = model.forward(&mut KvCache::default(), &IDS).unwrap();
        let mut cache = KvCache::default();
        model.forward(&mut cache, &IDS[..3]).unwrap();
        model.forward(&mut cache, &IDS[3..5]).unwrap();
        let stepped = model.forward(&mut cache, &IDS[5..]).unwrap();
        assert!(max_diff(&full, &stepped) < 1e-5, "{shape}: {}", max_diff(&full, &stepped));
        assert_eq!(model.stats().tokens, 14);
        assert_eq!(cache.len(), IDS.len());
        // Past the context length is refused, and the cache is left as it was.
        let too_long = vec![1u32; model.context_length()];
        assert!(model.forward(&mut cache, &too_long).is_err());
        assert_eq!(cache.len(), IDS.len());
    }
}

#[test]
fn sharded_checkpoint_loads_through_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny("tiny-qwen2");
    let tensors = write_model_dir(dir.path(), &cfg, 5);
    let mut reference = load(dir.path(), &LoadOptions::default()).unwrap();
    let expected = reference.model.forward(&mut KvCache::default(), &IDS).unwrap();
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let mut shards = [std::collections::HashMap::new(), std::collections::HashMap::new()];
    let mut map = serde_json::Map::new();
    for (i, (name, t)) in tensors.into_iter().enumerate() {
        let file = format!("model-0000{}-of-00002.safetensors", i % 2 + 1);
        map.insert(name.clone(), file.into());
        shards[i % 2].insert(name, t);
    }
    for (i, shard) in shards.iter().enumerate() {
        let file = dir.path().join(format!("model-0000{}-of-00002.safetensors", i + 1));
        candle_core::safetensors::save(shard, file).unwrap();
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(dir.path().join("model.safetensors.index.json"), index.to_string()).unwrap();
    let mut sharded = load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(sharded.model.forward(&mut KvCache::default(), &IDS).unwrap(), expected);
}

#[test]
fn bf16_on_cpu_stays_close_to_f32() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &tiny("tiny-qwen2"), 2);
    let mut f32_model = load(dir.path(), &LoadOptions::default()).unwrap();
    let options = LoadOptions { dtype: Some(DType::BF16), ..LoadOptions::default() };
    let mut bf16_model = load(dir.path(), &options).unwrap();
    assert_eq!(bf16_model.model.dtype_label(), "bf16");
    let a = f32_model.model.forward(&mut KvCache::default(), &IDS).unwrap();
    let b = bf16_model.model.forward(&mut KvCache::default(), &IDS).unwrap();
    assert!(max_diff(&a, &b) < 0.05, "{}", max_diff(&a, &b));
}

#[test]
fn generation_from_a_directory_with_the_auto_template_and_budget_forcing() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &tiny("tiny-qwen2"), 4);
    let mut model = load(dir.path(), &LoadOptions::default()).unwrap();
    let spec = GenerationSpec {
        template: TemplateKind::Auto,
        question: "2+2?".into(),
        policy: ThinkingPolicy::BudgetForcing(BudgetForcing { max_thinking: 5, ..Default::default() }),
        sampling: SamplingParams { max_tokens: 40, ..Default::default() },
        ..Default::default()
    };
    let report = model.generate(&spec, &CancelToken::default(), &mut |_| {}).unwrap();
    assert_eq!(report.prompt, "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n");
    assert_eq!(model.tokenizer.vocab_size(), 261);
    // The random model never ends thinking, so the budget caps it after 5 tokens.
    assert_eq!(report.thinking_tokens, 5);
    let cap = &report.insertions[0];
    assert_eq!(cap.kind, InsertionKind::Cap);
    assert_eq!(cap.token_index, 5);
    // A newline is only added when the thinking text does not end with one.
    let thinking = model.tokenizer.decode(&report.token_ids[..5]).unwrap();
    let newline = if thinking.ends_with('\n') { "" } else { "\n" };
    assert_eq!(cap.text, format!("{newline}</think>\nFinal Answer:"), "after {thinking:?}");
    // Byte tokens, with </think> as one special token.
    let cap_len = newline.len() + 15;
    assert_eq!(cap.token_count, cap_len);
    assert_eq!((report.token_ids.len(), report.answer_tokens), (40, 35 - cap_len));
    assert_eq!(report.answer_start, Some(5 + cap_len));
    assert_eq!(model.model.stats().tokens as usize, report.prompt_token_ids.len() + 39);
    assert_eq!((report.device.as_str(), report.dtype.as_str()), ("cpu", "f32"));
}

#[test]
fn same_seed_same_tokens() {
    let cfg = tiny("tiny-llama");
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &cfg, 9);
    let mut model = load(dir.path(), &LoadOptions::default()).unwrap();
    let mut run = |seed| {
        let spec = GenerationSpec {
            template: TemplateKind::Qwen3,
            question: "hi".into(),
            sampling: SamplingParams { temperature: 1.5, top_k: 50, seed, max_tokens: 24, ..Default::default() },
            ..Default::default()
        };
        model.generate(&spec, &CancelToken::default(), &mut |_| {}).unwrap().token_ids
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
}

#[test]
fn quantized_gguf_loads_and_decodes_close_to_f32() {
    let dir = tempfile::tempdir().unwrap();
    for (shape, qtype) in [("tiny-qwen2", GgmlDType::Q8_0), ("tiny-llama", GgmlDType::Q4_0)] {
        let cfg = tiny(shape);
        let hf = dir.path().join(shape);
        let tensors = write_model_dir(&hf, &cfg, 6);
        let gguf = hf.join("model.gguf");
        write_gguf(&gguf, &cfg, &tensors, qtype);
        let mut q = load(&gguf, &LoadOptions::default()).unwrap();
        assert_eq!(q.arch, cfg.arch.name());
        assert_eq!(q.model.dtype_label(), format!("{qtype:?}").to_lowercase());
        assert_eq!(q.eos_token_ids, vec![256]);
        let spec = GenerationSpec {
            template: TemplateKind::Qwen3,
            question: "hi".into(),
            sampling: SamplingParams { max_tokens: 8, ..Default::default() },
            ..Default::default()
        };
        let report = q.generate(&spec, &CancelToken::default(), &mut |_| {}).unwrap();
        assert_eq!(report.token_ids.len(), 8);
        if shape == "tiny-qwen2" {
            // Same rope convention as transformers: Q8_0 logits stay near the f32 model's.
            let mut f = load(&hf, &LoadOptions::default()).unwrap();
            let a = f.model.forward(&mut KvCache::default(), &IDS).unwrap();
            let b = q.model.forward(&mut KvCache::default(), &IDS).unwrap();
            assert!(max_diff(&a, &b) < 0.02, "{}", max_diff(&a, &b));
        }
    }
}

/// A GGUF file on its own, as llama.cpp writes it, tokenizes exactly like the
/// tokenizer.json it was converted from (the parity fixtures' Qwen2 and Llama 3 BPEs).
#[test]
fn a_gguf_file_alone_tokenizes_like_its_tokenizer_json() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/parity");
    let texts = [
        "<|im_start|>user\nWhat's 12345 + 678?<|im_end|>\n<|im_start|>assistant\n<think>\nLet me check. Wait...</think>",
        "  Déjà vu: naïve café 你好，世界! \t\n\n  trailing   ",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>",
        // Digits split one by one (Qwen2) or in threes (Llama 3); a decomposed "é" that
        // only Qwen2's NFC normalizer composes.
        "In 2024, 150 people paid 1000 each at the cafe\u{301}.",
    ];
    for (fixture, shape, pre) in [("qwen2", "tiny-qwen2", "qwen2"), ("llama", "tiny-llama", "llama-bpe")] {
        let reference_json = fixtures.join(fixture).join("tokenizer.json");
        let reference = tokenizers::Tokenizer::from_file(&reference_json).unwrap();
        let cfg = tiny(shape);
        let tensors = write_model_dir(&dir.path().join(shape), &cfg, 1);
        let alone = dir.path().join(format!("{fixture}-gguf"));
        std::fs::create_dir_all(&alone).unwrap();
        let gguf = alone.join("model.gguf");
        write_gguf_with(&gguf, &cfg, &tensors, GgmlDType::Q8_0, gguf_tokenizer_metadata(&reference_json, pre));
        let loaded = load(&gguf, &LoadOptions::default()).unwrap();
        for text in texts {
            let want = reference.encode(text, false).unwrap().get_ids().to_vec();
            assert_eq!(loaded.tokenizer.encode(text).unwrap(), want, "{fixture}: {text:?}");
            assert_eq!(loaded.tokenizer.decode(&want).unwrap(), reference.decode(&want, false).unwrap());
        }
    }
}

#[test]
fn a_gguf_file_without_a_usable_tokenizer_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny("tiny-qwen2");
    let tensors = write_model_dir(&dir.path().join("hf"), &cfg, 1);
    let gguf = dir.path().join("model.gguf");
    write_gguf(&gguf, &cfg, &tensors, GgmlDType::Q8_0);
    let err = load_err(&gguf);
    assert!(err.contains("model.gguf") && err.contains("carries no tokenizer") && err.contains("--tokenizer"), "{err}");
    use candle_core::quantized::gguf_file::Value as V;
    let spm = vec![("tokenizer.ggml.model".to_string(), V::String("llama".into()))];
    write_gguf_with(&gguf, &cfg, &tensors, GgmlDType::Q8_0, spm);
    let err = load_err(&gguf);
    assert!(err.contains("`llama`") && err.contains("--tokenizer"), "{err}");
}

#[test]
fn missing_tokenizer_json_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &tiny("tiny-qwen2"), 0);
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load_err(dir.path());
    assert!(err.contains("tokenizer.json") && err.contains("missing"), "{err}");
}

#[test]
fn unknown_architecture_is_named_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &tiny("tiny-qwen2"), 0);
    let mut config = random::config_json(&tiny("tiny-qwen2"));
    config["architectures"] = serde_json::json!(["MambaForCausalLM"]);
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let err = load_err(dir.path());
    assert!(err.contains("config.json") && err.contains("unsupported architecture `MambaForCausalLM`"), "{err}");
}

#[test]
fn truncated_safetensors_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &tiny("tiny-qwen2"), 0);
    let weights = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_err(dir.path());
    assert!(err.contains("model.safetensors") && err.contains("truncated"), "{err}");
    std::fs::write(&weights, &bytes[..5]).unwrap();
    assert!(load_err(dir.path()).contains("truncated"));
}

#[test]
fn missing_weights_and_missing_tensors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny("tiny-llama");
    let mut tensors = write_model_dir(dir.path(), &cfg, 0);
    tensors.remove("model.layers.1.mlp.up_proj.weight");
    candle_core::safetensors::save(&tensors, dir.path().join("model.safetensors")).unwrap();
    let err = load_err(dir.path());
    assert!(err.contains("missing tensor `model.layers.1.mlp.up_proj.weight`"), "{err}");
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    assert!(load_err(dir.path()).contains("no *.safetensors"));
}

#[test]
fn gguf_of_an_unsupported_kind_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny("tiny-qwen2");
    let tensors = write_model_dir(dir.path(), &cfg, 0);
    let gguf = dir.path().join("model.gguf");
    write_gguf(&gguf, &cfg, &tensors, GgmlDType::Q8_0);
    let bytes = std::fs::read(&gguf).unwrap();

    // An architecture the engine does not run.
    let arch_at = find(&bytes, b"qwen2").unwrap();
    let mut other = bytes.clone();
    other[arch_at..arch_at + 5].copy_from_slice(b"mamba");
    std::fs::write(&gguf, &other).unwrap();
    let err = load_err(&gguf);
    assert!(err.contains("unsupported architecture `mamba`"), "{err}");

    // A tensor type id GGML does not define (as new llama.cpp quantizations appear).
    let name = b"token_embd.weight";
    let at = find(&bytes, name).unwrap() + name.len();
    let n_dims = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let dtype_at = at + 4 + 8 * n_dims;
    let mut odd = bytes.clone();
    odd[dtype_at..dtype_at + 4].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(&gguf, &odd).unwrap();
    let err = load_err(&gguf);
    assert!(err.contains("model.gguf") && err.contains("GGUF"), "{err}");

    std::fs::write(&gguf, b"not a gguf").unwrap();
    assert!(load_err(&gguf).contains("not a readable GGUF file"));
}

#[test]
fn unavailable_devices_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &tiny("tiny-qwen2"), 0);
    if cfg!(not(feature = "cuda")) {
        let options = LoadOptions { device: DeviceKind::Cuda, ..LoadOptions::default() };
        let err = load(dir.path(), &options).err().unwrap().to_string();
        assert!(err.contains("cuda"), "{err}");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
