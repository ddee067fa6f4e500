//! Random-weight models of a given shape, and a byte-level tokenizer for them: used by the
//! decode benchmark and by tests, so neither needs downloaded weights.

use crate::error::{EngineError, Result};
use crate::model::config::{Arch, ModelConfig};
use crate::model::rope::RopeScaling;
use crate::model::transformer::Transformer;
use thinkscope_protocol::rng::SplitMix64;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::collections::HashMap;
use std::path::Path;

/// Special tokens of the byte tokenizer, after the 256 byte tokens.
pub const SPECIAL_TOKENS: [&str; 5] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"];

/// Shapes of real models (`qwen2.5-0.5b`) and tiny test models (`tiny-qwen2`, `tiny-qwen3`,
/// `tiny-llama`).
pub fn preset(name: &str) -> Result<ModelConfig> {
    let tiny = |arch| ModelConfig {
        arch,
        vocab_size: 320,
        hidden_size: 64,
        intermediate_size: 128,
        num_layers: 2,
        num_heads: 4,
        num_kv_heads: 2,
        head_dim: 16,
        rms_norm_eps: 1e-6,
        rope_theta: 10_000.0,
        rope_scaling: RopeScaling::None,
        max_position_embeddings: 2048,
        tie_word_embeddings: arch != Arch::Llama,
        qkv_bias: arch == Arch::Qwen2,
        o_bias: false,
        mlp_bias: false,
        qk_norm: arch == Arch::Qwen3,
        eos_token_ids: vec![256],
        bos_token_id: None,
        stored_dtype: Some("float32".into()),
    };
    Ok(match name {
        "qwen2.5-0.5b" => ModelConfig {
            vocab_size: 151_936,
            hidden_size: 896,
            intermediate_size: 4864,
            num_layers: 24,
            num_heads: 14,
            num_kv_heads: 2,
            head_dim: 64,
            rope_theta: 1_000_000.0,
            max_position_embeddings: 32_768,
            tie_word_embeddings: true,
            eos_token_ids: vec![151_643],
            ..tiny(Arch::Qwen2)
        },
        "tiny-qwen2" => tiny(Arch::Qwen2),
        "tiny-qwen3" => tiny(Arch::Qwen3),
        "tiny-llama" => tiny(Arch::Llama),
        other => {
            return Err(EngineError::Invalid(format!(
                "unknown random model `{other}` (qwen2.5-0.5b, tiny-qwen2, tiny-qwen3, tiny-llama)"
            )))
        }
    })
}

/// Deterministic random weights under Hugging Face names (f32, CPU).
pub fn random_tensors(cfg: &ModelConfig, seed: u64) -> Result<HashMap<String, Tensor>> {
    let mut rng = SplitMix64::new(seed);
    let mut tensors = HashMap::new();
    let mut add = |name: String, shape: Vec<usize>, center: f32, spread: f32| -> Result<()> {
        let n = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| center + spread * (2.0 * rng.next_f32() - 1.0)).collect();
        tensors.insert(name, Tensor::from_vec(data, shape, &Device::Cpu)?);
        Ok(())
    };
    let (h, hd, i) = (cfg.hidden_size, cfg.head_dim, cfg.intermediate_size);
    let (q, kv) = (cfg.num_heads * hd, cfg.num_kv_heads * hd);
    let w = 0.05;
    add("model.embed_tokens.weight".into(), vec![cfg.vocab_size, h], 0.0, w)?;
    for l in 0..cfg.num_layers {
        let p = format!("model.layers.{l}");
        for (name, out, inp, bias) in [
            ("self_attn.q_proj", q, h, cfg.qkv_bias),
            ("self_attn.k_proj", kv, h, cfg.qkv_bias),
            ("self_attn.v_proj", kv, h, cfg.qkv_bias),
            ("self_attn.o_proj", h, q, cfg.o_bias),
            ("mlp.gate_proj", i, h, cfg.mlp_bias),
            ("mlp.up_proj", i, h, cfg.mlp_bias),
            ("mlp.down_proj", h, i, cfg.mlp_bias),
        ] {
            add(format!("{p}.{name}.weight"), vec![out, inp], 0.0, w)?;
            if bias {
                add(format!("{p}.{name}.bias"), vec![out], 0.0, w)?;
            }
        }
        add(format!("{p}.input_layernorm.weight"), vec![h], 1.0, 0.1)?;
        add(format!("{p}.post_attention_layernorm.weight"), vec![h], 1.0, 0.1)?;
        if cfg.qk_norm {
            add(format!("{p}.self_attn.q_norm.weight"), vec![hd], 1.0, 0.1)?;
            add(format!("{p}.self_attn.k_norm.weight"), vec![hd], 1.0, 0.1)?;
        }
    }
    add("model.norm.weight".into(), vec![h], 1.0, 0.1)?;
    if !cfg.tie_word_embeddings {
        add("lm_head.weight".into(), vec![cfg.vocab_size, h], 0.0, w)?;
    }
    Ok(tensors)
}

pub fn random_model(cfg: &ModelConfig, seed: u64, device: &Device, dtype: DType) -> Result<Transformer> {
    let tensors = random_tensors(cfg, seed)?;
    let vb = VarBuilder::from_tensors(tensors, dtype, device);
    Transformer::load(cfg.clone(), vb, Path::new("<random>"))
}

/// The model's own template in the files [`write_model_dir`] writes: Qwen-style turns that
/// open a `<think>` block, so `auto` renders with a thinking phase.
pub const CHAT_TEMPLATE: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}";

/// `config.json` for `cfg`, as transformers writes it.
pub fn config_json(cfg: &ModelConfig) -> serde_json::Value {
    let arch = match cfg.arch {
        Arch::Qwen2 => "Qwen2ForCausalLM",
        Arch::Qwen3 => "Qwen3ForCausalLM",
        Arch::Llama => "LlamaForCausalLM",
    };
    serde_json::json!({
        "architectures": [arch], "model_type": cfg.arch.name(),
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size, "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads, "num_key_value_heads": cfg.num_kv_heads,
        "head_dim": cfg.head_dim, "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta,
        "max_position_embeddings": cfg.max_position_embeddings,
        "tie_word_embeddings": cfg.tie_word_embeddings, "sliding_window": null,
        "use_sliding_window": false, "attention_bias": cfg.qkv_bias && cfg.arch != Arch::Qwen2,
        "rope_scaling": null, "eos_token_id": cfg.eos_token_ids, "torch_dtype": "float32"
    })
}

/// Writes a complete Hugging Face directory with random weights and the byte tokenizer:
/// the demo model a fresh machine can run (it is labelled as one in `DEMO.txt`), and the
/// model tests load. Returns the tensors written.
pub fn write_model_dir(dir: &Path, cfg: &ModelConfig, seed: u64) -> Result<HashMap<String, Tensor>> {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| EngineError::io(&path, e))
    };
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    write("config.json", config_json(cfg).to_string())?;
    write("generation_config.json", serde_json::json!({"eos_token_id": [cfg.eos_token_ids[0], 258]}).to_string())?;
    write(
        "tokenizer_config.json",
        serde_json::json!({"chat_template": CHAT_TEMPLATE, "eos_token": "<|endoftext|>", "bos_token": null}).to_string(),
    )?;
    write(
        "DEMO.txt",
        "demo — not a real model: random weights written by thinkscope so the whole evaluation path can be tried without downloading anything.\n".into(),
    )?;
    byte_tokenizer()?
        .save(dir.join("tokenizer.json"), false)
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let tensors = random_tensors(cfg, seed)?;
    let weights = dir.join("model.safetensors");
    candle_core::safetensors::save(&tensors, &weights).map_err(|e| EngineError::bad_file(&weights, e.to_string()))?;
    Ok(tensors)
}

/// A byte-level BPE tokenizer without merges: every byte is a token (ids 0..256), then
/// [`SPECIAL_TOKENS`]. Lossless on any text.
pub fn byte_tokenizer() -> Result<tokenizers::Tokenizer> {
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
    // Order the 256 symbols by the byte each stands for, so id == byte.
    alphabet.sort_by_key(|&c| byte_of(c));
    let vocab: tokenizers::models::bpe::Vocab =
        alphabet.iter().enumerate().map(|(id, c)| (c.to_string(), id as u32)).collect();
    let bpe = tokenizers::models::bpe::BPE::builder()
        .vocab_and_merges(vocab, vec![])
        .build()
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let mut tok = tokenizers::Tokenizer::new(bpe);
    tok.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)));
    tok.with_decoder(Some(ByteLevel::default()));
    let specials: Vec<tokenizers::AddedToken> =
        SPECIAL_TOKENS.iter().map(|s| tokenizers::AddedToken::from(*s, true)).collect();
    tok.add_special_tokens(specials).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    Ok(tok)
}

/// Inverse of GPT-2's byte → printable char table.
fn byte_of(c: char) -> u32 {
    let c = c as u32;
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
    if printable(c) {
        return c;
    }
    // Non-printable bytes were mapped to 256, 257, … in byte order.
    let mut n = 256;
    for b in 0..256 {
        if !printable(b) {
            if n == c {
                return b;
            }
            n += 1;
        }
    }
    c
}
