//! HTTP as a long evaluation needs it: bounded response bodies, whole-request timeouts, and
//! retries with exponential backoff and jitter (honouring `Retry-After`) for the failures
//! that pass: connection errors, timeouts, 408, 429 and 5xx. Anything else fails at once.

use crate::config::{RemoteConfig, RetryPolicy};
use crate::RemoteError;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, Method, Response, StatusCode, Url};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thinkscope_protocol::rng::SplitMix64;

/// The longest `Retry-After` obeyed: a server asking for more is treated as down.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

pub(crate) struct Http {
    client: Client,
    api_key: Option<String>,
    retry: RetryPolicy,
    max_body: usize,
}

/// How one attempt failed.
enum Failure {
    Transient {
        message: String,
        after: Option<Duration>,
    },
    Fatal(String),
}

impl Http {
    /// A client for the current runtime (connection pools belong to the runtime that made them).
    pub fn new(config: &RemoteConfig, api_key: Option<String>) -> Result<Http, RemoteError> {
        let client = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| RemoteError::Setting(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            api_key,
            retry: config.retry,
            max_body: config.max_body_bytes,
        })
    }

    /// One attempt, no retries: for optional probes (`/version`, `/props`).
    pub async fn get_once(&self, url: Url) -> Result<Value, String> {
        self.attempt(Method::GET, &url, None)
            .await
            .map_err(|f| match f {
                Failure::Transient { message, .. } | Failure::Fatal(message) => message,
            })
    }

    pub async fn get(&self, url: Url) -> Result<Value, RemoteError> {
        self.with_retries(Method::GET, url, None).await
    }

    pub async fn post(&self, url: Url, body: &Value) -> Result<Value, RemoteError> {
        self.with_retries(Method::POST, url, Some(body)).await
    }

    async fn with_retries(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, RemoteError> {
        let mut attempt = 0;
        loop {
            match self.attempt(method.clone(), &url, body).await {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(message)) => {
                    return Err(RemoteError::Http {
                        url: redact(&url),
                        message,
                    })
                }
                Err(Failure::Transient { message, after }) => {
                    if attempt >= self.retry.retries {
                        let message = format!("{message} (gave up after {} attempts)", attempt + 1);
                        return Err(RemoteError::Http {
                            url: redact(&url),
                            message,
                        });
                    }
                    tokio::time::sleep(after.unwrap_or_else(|| self.backoff(attempt))).await;
                    attempt += 1;
                }
            }
        }
    }

    /// `initial · 2^attempt`, capped, times a random factor in [0.5, 1): spreads the
    /// retries of many units that failed together.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .retry
            .initial
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.retry.max);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let jitter = 0.5 + 0.5 * SplitMix64::new(nanos ^ u64::from(attempt)).next_f32();
        base.mul_f32(jitter)
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let mut request = self.client.request(method, url.clone());
        if let Some(key) = &self.api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let after = retry_after(response.headers());
        let bytes = read_capped(response, self.max_body).await?;
        if !status.is_success() {
            let message = format!("HTTP {status}: {}", server_message(&bytes));
            let transient = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT
                || status.is_server_error();
            return Err(if transient {
                Failure::Transient { message, after }
            } else {
                Failure::Fatal(message)
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::Fatal(format!(
                "the response is not JSON ({e}): {}",
                preview(&bytes)
            ))
        })
    }
}

/// Reads a body chunk by chunk, refusing it as soon as it passes `cap` bytes.
async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, Failure> {
    let too_big = || Failure::Fatal(format!("the response body is larger than {cap} bytes"));
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > cap {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(e: reqwest::Error) -> Failure {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "connection failed"
    };
    // The source chain says why (refused, reset, DNS); reqwest's own text does not.
    let mut message = format!("{what}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    Failure::Transient {
        message,
        after: None,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is left to the backoff).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
}

/// The error text of an OpenAI-style error body, else the start of the body.
fn server_message(bytes: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        for m in [
            &v["error"]["message"],
            &v["error"],
            &v["message"],
            &v["detail"],
        ] {
            if let Some(s) = m.as_str() {
                return truncate(s);
            }
        }
    }
    preview(bytes)
}

fn preview(bytes: &[u8]) -> String {
    truncate(&String::from_utf8_lossy(&bytes[..bytes.len().min(400)]))
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A URL fit for messages and provenance: no credentials, query or fragment.
pub(crate) fn redact(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}
