//! What is serving: the kind of server, its version, the model and its context, and whether
//! completions come with token ids (a one-token probe), for the run's provenance.

use crate::http::Http;
use crate::wire::{self, Ask};
use crate::RemoteError;
use reqwest::Url;
use serde_json::Value;
use thinkscope_protocol::generation::SamplingParams;

#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// `vllm`, `sglang`, `llama.cpp` or `openai-compatible`.
    pub kind: String,
    pub version: Option<String>,
    /// The served model name requests use.
    pub model: String,
    /// Prompt + output limit, when the server says (vLLM `max_model_len`, llama.cpp `n_ctx`).
    pub context_length: Option<usize>,
    /// Completions come with the generated token ids, so counts are the server's own.
    pub token_ids: bool,
}

pub(crate) async fn detect(
    http: &Http,
    base: &Url,
    wanted: Option<&str>,
) -> Result<ServerInfo, RemoteError> {
    let models = http.get(join(base, "models")).await?;
    let listed: Vec<&Value> = models["data"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let ids: Vec<&str> = listed.iter().filter_map(|m| m["id"].as_str()).collect();
    let model = match (wanted, ids.as_slice()) {
        (Some(w), _) if ids.contains(&w) || ids.is_empty() => w.to_string(),
        (Some(w), _) => {
            return Err(RemoteError::Setting(format!(
                "the server does not serve `{w}`; it serves {}",
                ids.join(", ")
            )))
        }
        (None, [only]) => only.to_string(),
        (None, []) => {
            return Err(RemoteError::Setting(
                "the server lists no models; name one with --api-model".into(),
            ))
        }
        (None, _) => {
            return Err(RemoteError::Setting(format!(
                "the server serves several models ({}); pick one with --api-model",
                ids.join(", ")
            )))
        }
    };
    let entry = listed
        .iter()
        .find(|m| m["id"].as_str() == Some(model.as_str()));
    let owned_by = entry.and_then(|m| m["owned_by"].as_str()).unwrap_or("");
    let mut info = ServerInfo {
        kind: match owned_by {
            "vllm" => "vllm",
            "sglang" => "sglang",
            "llamacpp" | "llama.cpp" => "llama.cpp",
            _ => "openai-compatible",
        }
        .into(),
        version: None,
        context_length: entry
            .and_then(|m| m["max_model_len"].as_u64())
            .map(|n| n as usize),
        model,
        token_ids: false,
    };
    // Servers put these next to `/v1`, not under it.
    let root = root(base);
    if let Ok(v) = http.get_once(join(&root, "version")).await {
        if let Some(version) = v["version"].as_str() {
            info.version = Some(version.to_string());
            if info.kind == "openai-compatible" {
                info.kind = "vllm".into();
            }
        }
    }
    if info.kind == "llama.cpp" || info.kind == "openai-compatible" {
        if let Ok(v) = http.get_once(join(&root, "props")).await {
            if let Some(build) = v["build_info"].as_str() {
                info.kind = "llama.cpp".into();
                info.version = Some(build.to_string());
            }
            let n_ctx = v["default_generation_settings"]["n_ctx"]
                .as_u64()
                .or(v["n_ctx"].as_u64());
            info.context_length = info.context_length.or(n_ctx.map(|n| n as usize));
        }
    }
    info.token_ids = probe(http, base, &info.model).await?;
    Ok(info)
}

/// One greedy token, asking for ids: whether they come back. A server that refuses the
/// extra fields (400) is asked again without them.
async fn probe(http: &Http, base: &Url, model: &str) -> Result<bool, RemoteError> {
    let sampling = SamplingParams::default();
    let ask = Ask {
        model,
        prompt: "Hello",
        max_tokens: 1,
        stop: &[],
        sampling: &sampling,
        token_ids: true,
    };
    let url = join(base, "completions");
    let reply = match http.post(url.clone(), &wire::completion_body(&ask)).await {
        Ok(v) => v,
        Err(RemoteError::Http { message, .. }) if message.starts_with("HTTP 400") => {
            http.post(
                url,
                &wire::completion_body(&Ask {
                    token_ids: false,
                    ..ask
                }),
            )
            .await?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let completion = wire::parse_completion(&reply)
        .map_err(|e| RemoteError::Response(format!("the probe completion: {e}")))?;
    Ok(completion.ids.is_some())
}

/// `base` + `/` + `path` (a base without a trailing slash would lose its last segment).
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    url.join(path).expect("a relative path joins")
}

/// The server root: the base without a trailing `/v1`.
fn root(base: &Url) -> Url {
    let mut url = base.clone();
    let path = url.path().trim_end_matches('/');
    let trimmed = path.strip_suffix("/v1").unwrap_or(path).to_string();
    url.set_path(&trimmed);
    url
}
