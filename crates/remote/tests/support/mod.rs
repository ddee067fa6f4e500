//! A scripted OpenAI-compatible server on 127.0.0.1 (hyper, its own runtime) and helpers
//! to connect a backend to it and run jobs.

#![allow(dead_code)] // each test binary uses part of it

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use thinkscope_engine::tokenizer::{Codec, HfTokenizer};
use thinkscope_engine::CancelToken;
use thinkscope_eval::backend::{Backend, BackendEvent, PromptSpec, UnitJob};
use thinkscope_protocol::generation::{
    GenerationReport, PromptCondition, SamplingParams, ThinkingPolicy,
};
use thinkscope_remote::{RemoteBackend, RemoteConfig, RetryPolicy};

/// What the server answers to the next completion.
pub enum Reply {
    Json(Value),
    Status(u16, Value, Vec<(&'static str, String)>),
    Raw(Vec<u8>),
    /// Never answers.
    Hang,
    /// 200 with a chunked body of this many bytes.
    Huge(usize),
    /// 200, a few body bytes, then nothing ever again.
    Stall,
    /// Closes the connection without answering.
    Drop,
    Delayed(Duration, Box<Reply>),
}

/// A completion's text and finish reason, without token ids.
pub fn text(text: &str, finish: &str) -> Reply {
    Reply::Json(json!({"choices": [{"index": 0, "text": text, "finish_reason": finish}]}))
}

/// vLLM style: text, ids (with what the text leaves out) and the matched stop.
pub fn with_ids(text: &str, ids: Vec<u32>, finish: &str, stop_reason: Value) -> Reply {
    Reply::Json(
        json!({"choices": [{"index": 0, "text": text, "token_ids": ids, "finish_reason": finish, "stop_reason": stop_reason}]}),
    )
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    /// Bodies of the completions requested (the connect probe excluded).
    completions: Vec<Value>,
    authorization: Vec<Option<String>>,
    /// Whether the probe gets token ids back (then the backend asks for them).
    ids: bool,
    in_flight: usize,
    max_in_flight: usize,
}

pub struct FakeServer {
    pub base: String,
    state: Arc<Mutex<State>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeServer {
    pub fn start(ids: bool, script: Vec<Reply>) -> FakeServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            ids,
            ..State::default()
        }));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        let shared = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        FakeServer {
            base,
            state,
            runtime: Some(runtime),
        }
    }

    pub fn completions(&self) -> Vec<Value> {
        self.state.lock().unwrap().completions.clone()
    }

    pub fn authorization(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().authorization.clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    pub fn push(&self, reply: Reply) {
        self.state.lock().unwrap().script.push_back(reply);
    }

    /// Stops listening and drops every connection: the server is gone.
    pub fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

type Out = Response<BoxBody<Bytes, std::io::Error>>;

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Out, std::io::Error> {
    let path = req.uri().path().to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json_reply = |v: Value| Ok(respond(200, v.to_string().into_bytes(), &[]));
    match path.as_str() {
        "/v1/models" => json_reply(
            json!({"object": "list", "data": [{"id": "tiny", "object": "model", "owned_by": "vllm", "max_model_len": 4096}]}),
        ),
        "/version" => json_reply(json!({"version": "0.0.0-test"})),
        "/v1/completions" | "/v1/chat/completions" => {
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if body["prompt"] == "Hello" && body["max_tokens"] == 1 {
                let ids = state.lock().unwrap().ids;
                let mut choice = json!({"index": 0, "text": "!", "finish_reason": "length"});
                if ids && body["return_token_ids"] == true {
                    choice["token_ids"] = json!([33]);
                }
                return json_reply(json!({"choices": [choice]}));
            }
            let reply = {
                let mut s = state.lock().unwrap();
                s.completions.push(body);
                s.authorization.push(auth);
                s.in_flight += 1;
                s.max_in_flight = s.max_in_flight.max(s.in_flight);
                s.script.pop_front()
            };
            let out = match reply {
                Some(reply) => answer(reply).await,
                None => Ok(respond(
                    500,
                    b"{\"error\": {\"message\": \"script exhausted\"}}".to_vec(),
                    &[],
                )),
            };
            state.lock().unwrap().in_flight -= 1;
            out
        }
        _ => Ok(respond(404, b"{\"error\": \"not found\"}".to_vec(), &[])),
    }
}

fn answer(
    reply: Reply,
) -> Pin<Box<dyn std::future::Future<Output = Result<Out, std::io::Error>> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Json(v) => Ok(respond(200, v.to_string().into_bytes(), &[])),
            Reply::Status(code, v, headers) => {
                Ok(respond(code, v.to_string().into_bytes(), &headers))
            }
            Reply::Raw(bytes) => Ok(respond(200, bytes, &[])),
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                unreachable!()
            }
            Reply::Huge(n) => Ok(Response::new(
                Endless {
                    left: n,
                    stall: false,
                }
                .boxed(),
            )),
            Reply::Stall => Ok(Response::new(
                Endless {
                    left: 10,
                    stall: true,
                }
                .boxed(),
            )),
            Reply::Drop => Err(std::io::Error::other("dropped")),
            Reply::Delayed(d, reply) => {
                tokio::time::sleep(d).await;
                answer(*reply).await
            }
        }
    })
}

fn respond(code: u16, body: Vec<u8>, headers: &[(&'static str, String)]) -> Out {
    let mut r = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = StatusCode::from_u16(code).unwrap();
    for (k, v) in headers {
        r.headers_mut().insert(*k, v.parse().unwrap());
    }
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}

/// A body of `left` bytes in 1 MiB chunks, without a length; `stall`: then pending forever.
struct Endless {
    left: usize,
    stall: bool,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            return if self.stall {
                Poll::Pending
            } else {
                Poll::Ready(None)
            };
        }
        let n = self.left.min(1 << 20);
        self.left -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; n])))))
    }
}

/// The byte tokenizer (id = byte; 256 `<|endoftext|>`, 257 `<|im_start|>`, 258 `<|im_end|>`,
/// 259 `<think>`, 260 `</think>`) in a folder whose tokenizer_config.json names
/// `<|im_end|>` as EOS.
pub fn tokenizer_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    thinkscope_engine::random::byte_tokenizer()
        .unwrap()
        .save(dir.path().join("tokenizer.json"), false)
        .unwrap();
    std::fs::write(
        dir.path().join("tokenizer_config.json"),
        json!({"eos_token": "<|im_end|>"}).to_string(),
    )
    .unwrap();
    dir
}

pub fn ids(text: &str) -> Vec<u32> {
    HfTokenizer::new(thinkscope_engine::random::byte_tokenizer().unwrap())
        .encode(text)
        .unwrap()
}

/// Short timeouts and fast retries, one unit at a time (so the script's order is the
/// requests' order).
pub fn config(server: &FakeServer, dir: &tempfile::TempDir) -> RemoteConfig {
    let mut c = RemoteConfig::new(&server.base, dir.path().join("tokenizer.json"));
    c.concurrency = 1;
    c.timeout = Duration::from_secs(5);
    c.retry = RetryPolicy {
        retries: 2,
        initial: Duration::from_millis(10),
        max: Duration::from_millis(50),
    };
    c.api_key_env = "THINKSCOPE_TEST_NO_KEY".into();
    c
}

pub fn connect(config: RemoteConfig) -> Result<RemoteBackend, thinkscope_remote::RemoteError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(RemoteBackend::connect(config))
}

pub fn job(id: usize, template: &str, policy: ThinkingPolicy, max_tokens: usize) -> UnitJob {
    UnitJob {
        id,
        prompt: PromptSpec {
            template: template.into(),
            system: None,
            question: "Q?".into(),
            condition: PromptCondition::None,
        },
        policy,
        followers: Vec::new(),
        sampling: SamplingParams {
            max_tokens,
            ..SamplingParams::default()
        },
        reject_above: None,
    }
}

pub struct Outcome {
    pub finished: Vec<(usize, Result<GenerationReport, String>)>,
    pub forward: u64,
}

pub fn run(backend: &mut RemoteBackend, jobs: Vec<UnitJob>, cancel: &CancelToken) -> Outcome {
    let mut queue: VecDeque<UnitJob> = jobs.into();
    let mut finished = Vec::new();
    let mut forward = 0;
    backend
        .run(&mut || queue.pop_front(), cancel, &mut |e| match e {
            BackendEvent::Finished { id, outcome } => finished.push((id, outcome)),
            BackendEvent::Forward { tokens } => forward += tokens,
        })
        .unwrap();
    Outcome { finished, forward }
}

/// The prompt the s1 template renders for "Q?".
pub fn s1_prompt() -> String {
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<|im_start|>think".into()
}

pub fn z1_prompt() -> String {
    "<|im_start|>system\nPlease reason step by step.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n".into()
}

/// (prompt, max_tokens, stop) of each completion request.
pub fn asked(server: &FakeServer) -> Vec<(String, u64, Vec<String>)> {
    server
        .completions()
        .iter()
        .map(|b| {
            let stop = b["stop"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            (
                b["prompt"].as_str().unwrap().to_string(),
                b["max_tokens"].as_u64().unwrap(),
                stop,
            )
        })
        .collect()
}
