//! A scripted model and a small vocabulary, so policies can be checked token by token.
#![allow(dead_code)] // each test binary uses a different part of this module

use thinkscope_engine::error::{EngineError, Result};
use thinkscope_engine::tokenizer::Codec;
use thinkscope_engine::{Feed, ForwardStats, LanguageModel};

/// Multi-character tokens, then every printable ASCII character as its own token.
pub const WORDS: [&str; 12] = [
    "<eos>", "<|im_start|>", "<|im_end|>", "answer", "Final", " Answer", "Wa", "it", "Hmm", "</think>",
    "think", "\n",
];

/// Longest-match tokenizer over [`WORDS`] plus single characters.
pub struct WordCodec {
    vocab: Vec<String>,
}

impl Default for WordCodec {
    fn default() -> Self {
        let mut vocab: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
        vocab.extend((b' '..=b'~').map(|b| (b as char).to_string()));
        WordCodec { vocab }
    }
}

impl WordCodec {
    pub fn id(&self, token: &str) -> u32 {
        self.token_id(token).unwrap_or_else(|| panic!("no token {token:?}"))
    }

    /// Ids of a list of tokens written out one by one.
    pub fn ids(&self, tokens: &[&str]) -> Vec<u32> {
        tokens.iter().map(|t| self.id(t)).collect()
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }
}

impl Codec for WordCodec {
    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (id, len) = self
                .vocab
                .iter()
                .enumerate()
                .filter(|(_, w)| rest.starts_with(w.as_str()))
                .map(|(i, w)| (i as u32, w.len()))
                .max_by_key(|&(_, len)| len)
                .ok_or_else(|| EngineError::Tokenizer(format!("cannot encode {rest:?}")))?;
            ids.push(id);
            rest = &rest[len..];
        }
        Ok(ids)
    }

    fn decode(&self, ids: &[u32]) -> Result<String> {
        Ok(ids.iter().map(|&i| self.vocab[i as usize].as_str()).collect())
    }

    fn token_id(&self, token: &str) -> Option<u32> {
        self.vocab.iter().position(|w| w == token).map(|i| i as u32)
    }
}

/// Its n-th forward pass favours `script[n]`; it records every token it is fed.
pub struct ScriptedModel {
    script: Vec<u32>,
    vocab: usize,
    pub fed: Vec<u32>,
    stats: ForwardStats,
}

impl ScriptedModel {
    pub fn new(script: Vec<u32>, vocab: usize) -> ScriptedModel {
        ScriptedModel { script, vocab, fed: Vec::new(), stats: ForwardStats::default() }
    }
}

impl LanguageModel for ScriptedModel {
    fn forward_batch(&mut self, batch: &mut [Feed<'_>]) -> Result<Vec<Vec<f32>>> {
        let [Feed { cache, tokens }] = batch else {
            return Err(EngineError::Invalid("the scripted model runs one sequence".into()));
        };
        if cache.is_empty() {
            self.fed.clear();
        }
        if cache.len() != self.fed.len() {
            return Err(EngineError::Invalid(format!("fed at {}, cache holds {}", cache.len(), self.fed.len())));
        }
        let step = self.stats.calls as usize;
        let next = *self
            .script
            .get(step)
            .ok_or_else(|| EngineError::Invalid(format!("script exhausted at forward pass {step}")))?;
        self.fed.extend_from_slice(tokens);
        self.stats.record(tokens.len());
        cache.advance(tokens.len());
        let mut logits = vec![0.0; self.vocab];
        logits[next as usize] = 10.0;
        Ok(vec![logits])
    }

    fn kv_bytes_per_position(&self) -> usize {
        0
    }

    fn stats(&self) -> ForwardStats {
        self.stats
    }

    fn context_length(&self) -> usize {
        4096
    }

    fn device_label(&self) -> String {
        "scripted".into()
    }

    fn dtype_label(&self) -> String {
        "none".into()
    }
}

pub mod files {
    use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
    use candle_core::Tensor;
    use std::collections::HashMap;
    use std::path::Path;
    use thinkscope_engine::model::config::ModelConfig;
    use thinkscope_engine::random;

    /// A complete Hugging Face directory with random weights and the byte tokenizer.
    pub fn write_model_dir(dir: &Path, cfg: &ModelConfig, seed: u64) -> HashMap<String, Tensor> {
        random::write_model_dir(dir, cfg, seed).unwrap()
    }

    /// The same weights as a llama.cpp-style GGUF, matrices quantized to `qtype`.
    pub fn write_gguf(path: &Path, cfg: &ModelConfig, tensors: &HashMap<String, Tensor>, qtype: GgmlDType) {
        write_gguf_with(path, cfg, tensors, qtype, Vec::new());
    }

    /// The tokenizer metadata llama.cpp's converter writes for a byte-level BPE
    /// tokenizer.json: tokens by id, their types (1 normal, 3 control, 4 user-defined),
    /// merges as "a b", and the pre-tokenizer's name.
    pub fn gguf_tokenizer_metadata(tokenizer_json: &Path, pre: &str) -> Vec<(String, gguf_file::Value)> {
        use gguf_file::Value as V;
        let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(tokenizer_json).unwrap()).unwrap();
        let mut by_id: std::collections::BTreeMap<u64, (String, i32)> = std::collections::BTreeMap::new();
        for (token, id) in j["model"]["vocab"].as_object().unwrap() {
            by_id.insert(id.as_u64().unwrap(), (token.clone(), 1));
        }
        for t in j["added_tokens"].as_array().unwrap() {
            let kind = if t["special"].as_bool().unwrap() { 3 } else { 4 };
            by_id.insert(t["id"].as_u64().unwrap(), (t["content"].as_str().unwrap().to_string(), kind));
        }
        assert_eq!(by_id.keys().copied().collect::<Vec<_>>(), (0..by_id.len() as u64).collect::<Vec<_>>());
        let merges = j["model"]["merges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| match m {
                serde_json::Value::String(s) => V::String(s.clone()),
                pair => V::String(format!("{} {}", pair[0].as_str().unwrap(), pair[1].as_str().unwrap())),
            })
            .collect();
        vec![
            ("tokenizer.ggml.model".into(), V::String("gpt2".into())),
            ("tokenizer.ggml.pre".into(), V::String(pre.into())),
            ("tokenizer.ggml.tokens".into(), V::Array(by_id.values().map(|(t, _)| V::String(t.clone())).collect())),
            ("tokenizer.ggml.token_type".into(), V::Array(by_id.values().map(|(_, k)| V::I32(*k)).collect())),
            ("tokenizer.ggml.merges".into(), V::Array(merges)),
        ]
    }

    pub fn write_gguf_with(
        path: &Path,
        cfg: &ModelConfig,
        tensors: &HashMap<String, Tensor>,
        qtype: GgmlDType,
        extra: Vec<(String, gguf_file::Value)>,
    ) {
        let arch = cfg.arch.name();
        let mut qtensors: Vec<(String, QTensor)> = Vec::new();
        for (name, t) in tensors {
            let gguf_name = name
                .replace("model.embed_tokens", "token_embd")
                .replace("model.norm", "output_norm")
                .replace("lm_head", "output")
                .replace("model.layers.", "blk.")
                .replace("self_attn.q_proj", "attn_q")
                .replace("self_attn.k_proj", "attn_k")
                .replace("self_attn.v_proj", "attn_v")
                .replace("self_attn.o_proj", "attn_output")
                .replace("self_attn.q_norm", "attn_q_norm")
                .replace("self_attn.k_norm", "attn_k_norm")
                .replace("mlp.gate_proj", "ffn_gate")
                .replace("mlp.up_proj", "ffn_up")
                .replace("mlp.down_proj", "ffn_down")
                .replace("post_attention_layernorm", "ffn_norm")
                .replace("input_layernorm", "attn_norm");
            let dtype = if t.rank() == 2 { qtype } else { GgmlDType::F32 };
            qtensors.push((gguf_name, QTensor::quantize(t, dtype).unwrap()));
        }
        use gguf_file::Value as V;
        let md = vec![
            ("general.architecture".to_string(), V::String(arch.into())),
            (format!("{arch}.attention.head_count"), V::U32(cfg.num_heads as u32)),
            (format!("{arch}.attention.head_count_kv"), V::U32(cfg.num_kv_heads as u32)),
            (format!("{arch}.attention.key_length"), V::U32(cfg.head_dim as u32)),
            (format!("{arch}.embedding_length"), V::U32(cfg.hidden_size as u32)),
            (format!("{arch}.block_count"), V::U32(cfg.num_layers as u32)),
            (format!("{arch}.context_length"), V::U32(cfg.max_position_embeddings as u32)),
            (format!("{arch}.rope.dimension_count"), V::U32(cfg.head_dim as u32)),
            (format!("{arch}.rope.freq_base"), V::F32(cfg.rope_theta)),
            (format!("{arch}.attention.layer_norm_rms_epsilon"), V::F32(cfg.rms_norm_eps as f32)),
            ("tokenizer.ggml.eos_token_id".to_string(), V::U32(cfg.eos_token_ids[0])),
        ]
        .into_iter()
        .chain(extra)
        .collect::<Vec<_>>();
        let md_refs: Vec<(&str, &V)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let t_refs: Vec<(&str, &QTensor)> = qtensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut file = std::fs::File::create(path).unwrap();
        gguf_file::write(&mut file, &md_refs, &t_refs).unwrap();
    }
}
