//! `config.json` of a Hugging Face decoder, with the quirks of real checkpoints.

use crate::error::{EngineError, Result};
use crate::model::rope::RopeScaling;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Qwen2,
    Qwen3,
    Llama,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Qwen2 => "qwen2",
            Arch::Qwen3 => "qwen3",
            Arch::Llama => "llama",
        }
    }

    fn from_hf(name: &str) -> Option<Arch> {
        match name {
            "Qwen2ForCausalLM" | "qwen2" => Some(Arch::Qwen2),
            "Qwen3ForCausalLM" | "qwen3" => Some(Arch::Qwen3),
            "LlamaForCausalLM" | "llama" => Some(Arch::Llama),
            _ => None,
        }
    }
}

/// Reads the architecture name of a config without parsing the rest.
pub fn architecture_name(config: &Value) -> Option<String> {
    config["architectures"][0]
        .as_str()
        .or_else(|| config["model_type"].as_str())
        .map(str::to_string)
}

/// The shape and numerics of a decoder-only transformer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f32,
    pub rope_scaling: RopeScaling,
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// Bias on the q/k/v projections.
    pub qkv_bias: bool,
    /// Bias on the output projection.
    pub o_bias: bool,
    pub mlp_bias: bool,
    /// Qwen3's per-head RMS norm on queries and keys.
    pub qk_norm: bool,
    pub eos_token_ids: Vec<u32>,
    pub bos_token_id: Option<u32>,
    /// The checkpoint's own dtype (`torch_dtype` / `dtype`), if stated.
    pub stored_dtype: Option<String>,
}

impl ModelConfig {
    pub fn from_file(path: &Path) -> Result<ModelConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| EngineError::io(path, e))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| EngineError::bad_file(path, format!("not valid JSON: {e}")))?;
        ModelConfig::from_json(&value).map_err(|message| match message {
            ConfigError::Arch(arch) => {
                EngineError::UnsupportedArchitecture { path: path.to_path_buf(), arch }
            }
            ConfigError::Field(message) => EngineError::bad_file(path, message),
        })
    }

    pub fn from_json(c: &Value) -> Result<ModelConfig, ConfigError> {
        let arch_name = architecture_name(c)
            .ok_or_else(|| ConfigError::Field("no `architectures` or `model_type`".into()))?;
        let arch = Arch::from_hf(&arch_name).ok_or(ConfigError::Arch(arch_name))?;
        let hidden_size = req_usize(c, "hidden_size")?;
        let num_heads = req_usize(c, "num_attention_heads")?;
        let num_kv_heads = opt_usize(c, "num_key_value_heads")?.unwrap_or(num_heads);
        if num_heads == 0 || num_kv_heads == 0 || num_heads % num_kv_heads != 0 {
            return Err(ConfigError::Field(format!(
                "num_attention_heads ({num_heads}) must be a positive multiple of num_key_value_heads ({num_kv_heads})"
            )));
        }
        let head_dim = opt_usize(c, "head_dim")?.unwrap_or(hidden_size / num_heads);
        if arch == Arch::Qwen2 && c["use_sliding_window"].as_bool() == Some(true) {
            return Err(ConfigError::Field(
                "use_sliding_window: true is not supported (full attention only)".into(),
            ));
        }
        // transformers 5 moved rope settings into `rope_parameters`.
        let rope = if c["rope_parameters"].is_object() { &c["rope_parameters"] } else { c };
        let rope_theta = rope["rope_theta"].as_f64().or_else(|| c["rope_theta"].as_f64()).unwrap_or(10_000.0);
        let max_position_embeddings = opt_usize(c, "max_position_embeddings")?.unwrap_or(32_768);
        let scaling_value = if c["rope_scaling"].is_object() { &c["rope_scaling"] } else { rope };
        let rope_scaling = RopeScaling::from_json(scaling_value, max_position_embeddings)
            .map_err(ConfigError::Field)?;
        let attention_bias = c["attention_bias"].as_bool().unwrap_or(false);
        let (qkv_bias, o_bias) = match arch {
            // Qwen2 always has q/k/v biases and never an output bias.
            Arch::Qwen2 => (true, false),
            Arch::Qwen3 | Arch::Llama => (attention_bias, attention_bias),
        };
        Ok(ModelConfig {
            arch,
            vocab_size: req_usize(c, "vocab_size")?,
            hidden_size,
            intermediate_size: req_usize(c, "intermediate_size")?,
            num_layers: req_usize(c, "num_hidden_layers")?,
            num_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps: c["rms_norm_eps"].as_f64().unwrap_or(1e-6),
            rope_theta: rope_theta as f32,
            rope_scaling,
            max_position_embeddings,
            tie_word_embeddings: c["tie_word_embeddings"].as_bool().unwrap_or(false),
            qkv_bias,
            o_bias,
            mlp_bias: c["mlp_bias"].as_bool().unwrap_or(false),
            qk_norm: arch == Arch::Qwen3,
            eos_token_ids: token_ids(&c["eos_token_id"]),
            bos_token_id: c["bos_token_id"].as_u64().map(|v| v as u32),
            stored_dtype: c["torch_dtype"].as_str().or_else(|| c["dtype"].as_str()).map(str::to_string),
        })
    }

    /// Parameter count implied by the shapes (used for random models and listings).
    pub fn parameter_count(&self) -> u64 {
        let h = self.hidden_size as u64;
        let q = (self.num_heads * self.head_dim) as u64;
        let kv = (self.num_kv_heads * self.head_dim) as u64;
        let i = self.intermediate_size as u64;
        let mut layer = h * q + 2 * h * kv + q * h + 3 * h * i + 2 * h;
        if self.qkv_bias {
            layer += q + 2 * kv;
        }
        if self.o_bias {
            layer += h;
        }
        if self.mlp_bias {
            layer += 2 * i + h;
        }
        if self.qk_norm {
            layer += 2 * self.head_dim as u64;
        }
        let embed = self.vocab_size as u64 * h;
        let head = if self.tie_word_embeddings { 0 } else { embed };
        embed + head + h + self.num_layers as u64 * layer
    }
}

/// Why a config was rejected, before a path is attached.
#[derive(Debug)]
pub enum ConfigError {
    Arch(String),
    Field(String),
}

/// `eos_token_id` may be one id or a list.
pub fn token_ids(v: &Value) -> Vec<u32> {
    match v {
        Value::Number(n) => n.as_u64().map(|id| vec![id as u32]).unwrap_or_default(),
        Value::Array(items) => items.iter().filter_map(|i| i.as_u64()).map(|id| id as u32).collect(),
        _ => Vec::new(),
    }
}

fn opt_usize(c: &Value, key: &str) -> Result<Option<usize>, ConfigError> {
    match &c[key] {
        Value::Null => Ok(None),
        v => v
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| ConfigError::Field(format!("`{key}` must be a non-negative integer, got {v}"))),
    }
}

fn req_usize(c: &Value, key: &str) -> Result<usize, ConfigError> {
    opt_usize(c, key)?.ok_or_else(|| ConfigError::Field(format!("missing `{key}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn qwen25() -> Value {
        json!({
            "architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
            "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
            "vocab_size": 151936, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
            "sliding_window": null, "use_sliding_window": false, "tie_word_embeddings": true,
            "max_position_embeddings": 32768, "eos_token_id": 151643, "torch_dtype": "bfloat16"
        })
    }

    #[test]
    fn qwen25_config_with_null_sliding_window_parses() {
        let c = ModelConfig::from_json(&qwen25()).unwrap();
        assert_eq!(c.arch, Arch::Qwen2);
        assert_eq!(c.head_dim, 64);
        assert!(c.qkv_bias && !c.o_bias && c.tie_word_embeddings);
        assert_eq!(c.eos_token_ids, vec![151643]);
        // Qwen2.5-0.5B has 494M parameters.
        assert_eq!(c.parameter_count() / 1_000_000, 494);
    }

    #[test]
    fn unknown_architecture_is_named() {
        let mut v = qwen25();
        v["architectures"] = json!(["MambaForCausalLM"]);
        match ModelConfig::from_json(&v) {
            Err(ConfigError::Arch(a)) => assert_eq!(a, "MambaForCausalLM"),
            other => panic!("expected an architecture error, got {other:?}"),
        }
    }

    #[test]
    fn missing_field_is_named() {
        let mut v = qwen25();
        v.as_object_mut().unwrap().remove("vocab_size");
        match ModelConfig::from_json(&v) {
            Err(ConfigError::Field(m)) => assert!(m.contains("vocab_size"), "{m}"),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn eos_list_and_rope_parameters_are_read() {
        let mut v = qwen25();
        v["eos_token_id"] = json!([1, 2]);
        v.as_object_mut().unwrap().remove("rope_theta");
        v["rope_parameters"] = json!({"rope_type": "default", "rope_theta": 5000.0});
        let c = ModelConfig::from_json(&v).unwrap();
        assert_eq!(c.eos_token_ids, vec![1, 2]);
        assert_eq!(c.rope_theta, 5000.0);
    }
}
