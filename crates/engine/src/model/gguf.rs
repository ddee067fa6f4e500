//! Quantized GGUF models (as llama.cpp writes them) through candle-transformers.

use crate::error::{EngineError, Result};
use crate::lm::{check_forward, ForwardStats, LanguageModel};
use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_llama, quantized_qwen2, quantized_qwen3};
use std::collections::HashMap;
use std::path::Path;

enum Weights {
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
    Llama(quantized_llama::ModelWeights),
}

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

pub struct GgufModel {
    weights: Weights,
    header: GgufHeader,
    device: Device,
    cached: usize,
    stats: ForwardStats,
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

impl GgufModel {
    /// The model in `path`, whose header `read_content` already parsed.
    pub fn from_content(path: &Path, content: Content, mut file: std::fs::File, device: &Device) -> Result<GgufModel> {
        let header = header(path, &content)?;
        let wrap = |e: candle_core::Error| EngineError::bad_file(path, format!("cannot load GGUF: {e}"));
        let weights = match header.arch.as_str() {
            "qwen2" => Weights::Qwen2(
                quantized_qwen2::ModelWeights::from_gguf(content, &mut file, device).map_err(wrap)?,
            ),
            "qwen3" => Weights::Qwen3(
                quantized_qwen3::ModelWeights::from_gguf(content, &mut file, device).map_err(wrap)?,
            ),
            "llama" => Weights::Llama(
                quantized_llama::ModelWeights::from_gguf(content, &mut file, device).map_err(wrap)?,
            ),
            other => {
                return Err(EngineError::UnsupportedArchitecture {
                    path: path.to_path_buf(),
                    arch: other.to_string(),
                })
            }
        };
        Ok(GgufModel { weights, header, device: device.clone(), cached: 0, stats: ForwardStats::default() })
    }

    pub fn header(&self) -> &GgufHeader {
        &self.header
    }
}

impl LanguageModel for GgufModel {
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let (context, vocab) = (self.header.context_length, self.header.vocab_size);
        if check_forward(tokens, pos, self.cached, context, vocab)? {
            self.reset();
        }
        self.stats.record(tokens.len());
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = match &mut self.weights {
            Weights::Qwen2(m) => m.forward(&input, pos)?,
            Weights::Qwen3(m) => m.forward(&input, pos)?,
            Weights::Llama(m) => m.forward(&input, pos)?,
        };
        self.cached = pos + tokens.len();
        Ok(logits.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1()?)
    }

    fn reset(&mut self) {
        match &mut self.weights {
            Weights::Qwen2(m) => m.clear_kv_cache(),
            Weights::Qwen3(m) => m.clear_kv_cache(),
            Weights::Llama(m) => m.clear_kv_cache(),
        }
        self.cached = 0;
    }

    fn stats(&self) -> ForwardStats {
        self.stats
    }

    fn context_length(&self) -> usize {
        self.header.context_length
    }

    fn device_label(&self) -> String {
        crate::device::device_label(&self.device)
    }

    fn dtype_label(&self) -> String {
        self.header.dtype.clone()
    }
}
