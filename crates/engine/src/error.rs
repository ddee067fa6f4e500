//! Engine errors: each names the file or setting at fault and what is wrong with it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("{path}: unsupported architecture `{arch}` (supported: Qwen2ForCausalLM, Qwen3ForCausalLM, LlamaForCausalLM; GGUF qwen2, qwen3, llama)")]
    UnsupportedArchitecture { path: PathBuf, arch: String },
    #[error("invalid setting: {0}")]
    Invalid(String),
    #[error("device: {0}")]
    Device(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("template: {0}")]
    Template(String),
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    pub(crate) fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        EngineError::BadFile { path: path.into(), message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io { path: path.into(), source }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
