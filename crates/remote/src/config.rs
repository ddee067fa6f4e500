//! What a remote backend needs: where the server is, how to talk to it, and the model's
//! tokenizer files (prompts are rendered and thinking is counted on this side).

use crate::RemoteError;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thinkscope_engine::model::config::token_ids;
use thinkscope_engine::template::ChatTemplateSource;
use thinkscope_engine::tokenizer::{Codec, HfTokenizer};

/// Which OpenAI-compatible endpoint generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Api {
    /// `POST /completions` with the raw templated prompt: every policy.
    #[default]
    Completions,
    /// `POST /chat/completions` with the server's own template: policy `none` only,
    /// since thinking cannot be steered inside a server-side template.
    Chat,
}

#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// The served model name; `None`: the server's only model.
    pub model: Option<String>,
    /// Environment variable holding the API key (read at connect, never stored).
    pub api_key_env: String,
    /// The model's `tokenizer.json`; `tokenizer_config.json`, `generation_config.json` and
    /// `config.json` beside it supply the chat template and EOS tokens when present.
    pub tokenizer: PathBuf,
    pub api: Api,
    /// Units in flight at once.
    pub concurrency: usize,
    /// Whole-request limit (connect, generation, body). Generation is not streamed, so
    /// this must cover the longest request (`max_tokens` at the server's speed).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Responses larger than this are refused while being read.
    pub max_body_bytes: usize,
}

impl RemoteConfig {
    pub fn new(base_url: impl Into<String>, tokenizer: impl Into<PathBuf>) -> RemoteConfig {
        RemoteConfig {
            base_url: base_url.into(),
            model: None,
            api_key_env: "OPENAI_API_KEY".into(),
            tokenizer: tokenizer.into(),
            api: Api::Completions,
            concurrency: 8,
            timeout: Duration::from_secs(1800),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_body_bytes: 16 << 20,
        }
    }
}

/// Exponential backoff with jitter for connection errors, timeouts, 408, 429 and 5xx.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub retries: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

/// The tokenizer and what the files beside it say about templating and EOS.
pub struct TokenizerFiles {
    pub tokenizer: HfTokenizer,
    pub template_source: ChatTemplateSource,
    /// As the local loader gathers them: config.json, generation_config.json, tokenizer_config.json.
    pub eos_token_ids: Vec<u32>,
    /// sha256 of tokenizer.json (hex, 16 bytes).
    pub fingerprint: String,
}

impl TokenizerFiles {
    pub fn load(path: &Path) -> Result<TokenizerFiles, RemoteError> {
        let tokenizer = HfTokenizer::from_file(path)?;
        let bytes = std::fs::read(path)
            .map_err(|e| RemoteError::Setting(format!("{}: {e}", path.display())))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let beside = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        let template_source = match beside("tokenizer_config.json") {
            Some(p) => ChatTemplateSource::from_tokenizer_config(&p)?,
            None => ChatTemplateSource::default(),
        };
        let mut eos = Vec::new();
        for name in ["config.json", "generation_config.json"] {
            if let Some(p) = beside(name) {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| RemoteError::Setting(format!("{}: {e}", p.display())))?;
                let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    RemoteError::Setting(format!("{}: not valid JSON: {e}", p.display()))
                })?;
                eos.extend(token_ids(&v["eos_token_id"]));
            }
        }
        eos.extend(
            template_source
                .eos_token
                .as_deref()
                .and_then(|t| tokenizer.token_id(t)),
        );
        eos.sort_unstable();
        eos.dedup();
        Ok(TokenizerFiles {
            tokenizer,
            template_source,
            eos_token_ids: eos,
            fingerprint: crate::sha256_hex(&bytes),
        })
    }
}
