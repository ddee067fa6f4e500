//! Quantized GGUF models (as llama.cpp writes them), run by the same [`Transformer`] as
//! safetensors checkpoints so batching, prefix sharing and forking work for both.

use crate::error::{EngineError, Result};
use crate::model::config::{Arch, ModelConfig};
use crate::model::rope::RopeScaling;
use crate::model::transformer::{Attention, Layer, Mlp, Proj, Transformer, Weights};
use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// What the GGUF header says, read without loading tensors.
#[derive(Debug, Clone)]
pub struct GgufHeader {
    pub arch: String,
    pub context_length: usize,
    pub vocab_size: usize,
    pub parameters: u64,
    /// The quantization holding most parameters, e.g. `q8_0`.
    pub dtype: String,
    pub eos_token_id: Option<u32>,
    pub chat_template: Option<String>,
}

pub fn read_content(path: &Path) -> Result<(Content, std::fs::File)> {
    let mut file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
    let content = Content::read(&mut file)
        .map_err(|e| EngineError::bad_file(path, format!("not a readable GGUF file: {e}")))?;
    Ok((content, file))
}

pub fn header(path: &Path, content: &Content) -> Result<GgufHeader> {
    let md = &content.metadata;
    let arch = md
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .ok_or_else(|| EngineError::bad_file(path, "GGUF has no general.architecture"))?;
    let number = |key: &str| md.get(key).and_then(|v| v.to_u32().ok());
    let vocab_size = content
        .tensor_infos
        .get("token_embd.weight")
        .map(|t| t.shape.dims()[0])
        .ok_or_else(|| EngineError::bad_file(path, "GGUF has no token_embd.weight"))?;
    let mut by_dtype: HashMap<String, u64> = HashMap::new();
    for info in content.tensor_infos.values() {
        *by_dtype.entry(format!("{:?}", info.ggml_dtype).to_lowercase()).or_default() +=
            info.shape.elem_count() as u64;
    }
    let parameters = by_dtype.values().sum();
    let dtype = by_dtype.into_iter().max_by_key(|(_, n)| *n).map(|(d, _)| d).unwrap_or_default();
    Ok(GgufHeader {
        context_length: number(&format!("{arch}.context_length")).unwrap_or(4096) as usize,
        vocab_size,
        parameters,
        dtype,
        eos_token_id: number("tokenizer.ggml.eos_token_id"),
        chat_template: md.get("tokenizer.chat_template").and_then(|v| v.to_string().ok()).cloned(),
        arch,
    })
}

/// Builds the shared [`Transformer`] from a GGUF file whose header `read_content` parsed.
/// Matrices stay quantized (`QMatMul`); embeddings and norms are dequantized to f32.
pub fn load_model(path: &Path, content: Content, mut file: std::fs::File, device: &Device) -> Result<(Transformer, GgufHeader)> {
    let header = header(path, &content)?;
    let arch = match header.arch.as_str() {
        "qwen2" => Arch::Qwen2,
        "qwen3" => Arch::Qwen3,
        "llama" => Arch::Llama,
        other => {
            return Err(EngineError::UnsupportedArchitecture { path: path.to_path_buf(), arch: other.to_string() })
        }
    };
    let md = &content.metadata;
    let a = &header.arch;
    let number = |key: &str| -> Result<usize> {
        md.get(&format!("{a}.{key}"))
            .and_then(|v| v.to_u32().ok())
            .map(|v| v as usize)
            .ok_or_else(|| EngineError::bad_file(path, format!("GGUF has no {a}.{key}")))
    };
    let float = |key: &str, default: f32| md.get(&format!("{a}.{key}")).and_then(|v| v.to_f32().ok()).unwrap_or(default);
    let hidden_size = number("embedding_length")?;
    let num_heads = number("attention.head_count")?;
    let num_kv_heads = number("attention.head_count_kv").unwrap_or(num_heads);
    if num_heads == 0 || num_kv_heads == 0 || num_heads % num_kv_heads != 0 {
        return Err(EngineError::bad_file(path, format!("{num_heads} heads is not a multiple of {num_kv_heads} key/value heads")));
    }
    let head_dim = number("attention.key_length").unwrap_or(hidden_size / num_heads);
    let has = |name: &str| content.tensor_infos.contains_key(name);
    let wrap = |name: &str, e: candle_core::Error| EngineError::bad_file(path, format!("tensor `{name}`: {e}"));
    let mut read = |name: &str| -> Result<candle_core::quantized::QTensor> {
        if !has(name) {
            return Err(EngineError::bad_file(path, format!("missing tensor `{name}`")));
        }
        content.tensor(&mut file, name, device).map_err(|e| wrap(name, e))
    };
    let cfg = ModelConfig {
        arch,
        vocab_size: header.vocab_size,
        hidden_size,
        intermediate_size: number("feed_forward_length").unwrap_or(0),
        num_layers: number("block_count")?,
        num_heads,
        num_kv_heads,
        head_dim,
        rms_norm_eps: float("attention.layer_norm_rms_epsilon", 1e-6) as f64,
        rope_theta: float("rope.freq_base", 10_000.0),
        rope_scaling: RopeScaling::None,
        max_position_embeddings: header.context_length,
        tie_word_embeddings: !has("output.weight"),
        qkv_bias: has("blk.0.attn_q.bias"),
        o_bias: has("blk.0.attn_output.bias"),
        mlp_bias: false,
        qk_norm: has("blk.0.attn_q_norm.weight"),
        eos_token_ids: header.eos_token_id.into_iter().collect(),
        bos_token_id: None,
        stored_dtype: Some(header.dtype.clone()),
    };
    let dense = |q: candle_core::quantized::QTensor, name: &str| q.dequantize(device).map_err(|e| wrap(name, e));
    let mut proj = |name: &str, bias: bool| -> Result<Proj> {
        let weight = QMatMul::from_qtensor(read(&format!("{name}.weight"))?).map_err(|e| wrap(name, e))?;
        let bias = if bias {
            let b = format!("{name}.bias");
            Some(dense(read(&b)?, &b)?)
        } else {
            None
        };
        Ok(Proj::Quant { weight, bias })
    };
    let mut layers = Vec::with_capacity(cfg.num_layers);
    for i in 0..cfg.num_layers {
        let p = format!("blk.{i}");
        let attn = Attention {
            q: proj(&format!("{p}.attn_q"), cfg.qkv_bias)?,
            k: proj(&format!("{p}.attn_k"), cfg.qkv_bias)?,
            v: proj(&format!("{p}.attn_v"), cfg.qkv_bias)?,
            o: proj(&format!("{p}.attn_output"), cfg.o_bias)?,
            q_norm: None,
            k_norm: None,
        };
        let mlp = Mlp { gate: proj(&format!("{p}.ffn_gate"), false)?, up: proj(&format!("{p}.ffn_up"), false)?, down: proj(&format!("{p}.ffn_down"), false)? };
        layers.push((p, attn, mlp));
    }
    let mut norm = |name: String| -> Result<Tensor> { dense(read(&name)?, &name) };
    let mut built = Vec::with_capacity(layers.len());
    for (p, mut attn, mlp) in layers {
        if cfg.qk_norm {
            attn.q_norm = Some(norm(format!("{p}.attn_q_norm.weight"))?);
            attn.k_norm = Some(norm(format!("{p}.attn_k_norm.weight"))?);
        }
        built.push(Layer { input_norm: norm(format!("{p}.attn_norm.weight"))?, attn, post_norm: norm(format!("{p}.ffn_norm.weight"))?, mlp });
    }
    let output_norm = norm("output_norm.weight".to_string())?;
    let embed_q = read("token_embd.weight")?;
    let lm_head = if cfg.tie_word_embeddings {
        Proj::Quant { weight: QMatMul::from_qtensor(read("token_embd.weight")?).map_err(|e| wrap("token_embd.weight", e))?, bias: None }
    } else {
        Proj::Quant { weight: QMatMul::from_qtensor(read("output.weight")?).map_err(|e| wrap("output.weight", e))?, bias: None }
    };
    let weights = Weights {
        embed: dense(embed_q, "token_embd.weight")?,
        layers: built,
        norm: output_norm,
        lm_head,
    };
    // llama.cpp's converter permutes Llama's q/k rows for the interleaved rope; Qwen keeps
    // the half-split (NeoX) layout transformers uses.
    let interleaved = arch == Arch::Llama;
    let model = Transformer::assemble(cfg, weights, interleaved, device.clone(), DType::F32, header.dtype.clone());
    Ok((model, header))
}
