//! Generation by an OpenAI-compatible server (vLLM, SGLang, llama.cpp server) with the
//! local engine's s1/Z1 semantics, so a remote run is stored and treated like a local one.
//!
//! Prompts are rendered here with the model's tokenizer files (budget forcing needs raw
//! templates) and sent to `POST {base}/completions`; thinking control runs on this side
//! with the engine's own [`thinkscope_engine::thinking::ThinkingControl`] (see `unit`).
//! Tokens are counted exactly when the server returns their ids, else with the tokenizer;
//! the provenance (`engine: "openai"`, server kind and version, host and model name, never
//! the API key) says which.
//!
//! - [`config`]: settings and the tokenizer files;
//! - `http`: bounded bodies, timeouts, retries with backoff;
//! - `wire`: request bodies and untrusted-response parsing;
//! - `detect`: server kind, version, context, token ids;
//! - `unit`: one unit's request sequence under a thinking policy;
//! - [`backend`]: [`RemoteBackend`], the eval [`thinkscope_eval::Backend`].

pub mod backend;
pub mod config;
mod detect;
mod http;
mod unit;
mod wire;

pub use backend::RemoteBackend;
pub use config::{Api, RemoteConfig, RetryPolicy};
pub use detect::ServerInfo;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{0}")]
    Setting(String),
    /// A request that failed for good (after retries, where retrying made sense).
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    /// A response that does not make sense.
    #[error("{0}")]
    Response(String),
    #[error(transparent)]
    Engine(#[from] thinkscope_engine::EngineError),
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(bytes)[..16])
}
