//! [`RemoteBackend`]: the [`Backend`] over an OpenAI-compatible server. `run` is called on a
//! blocking thread; it drives `concurrency` units at once on a runtime of its own, and a
//! unit that fails (after retries) is reported failed while the others go on.
//!
//! Followers (sweep points sharing a trajectory) run as units of their own, each reported
//! under its id: the one-pass sharing of the local engine needs the live KV cache. With a
//! prefix-caching server the shared part is cheap anyway.

use crate::config::{Api, RemoteConfig, TokenizerFiles};
use crate::detect::{self, ServerInfo};
use crate::http::{self, Http};
use crate::unit::{self, Ctx, Task};
use crate::RemoteError;
use futures_util::stream::{FuturesUnordered, StreamExt};
use reqwest::Url;
use std::cell::Cell;
use std::collections::VecDeque;
use std::time::Duration;
use thinkscope_engine::template::{self, TemplateKind};
use thinkscope_engine::thinking::ThinkingControl;
use thinkscope_engine::tokenizer::Codec;
use thinkscope_engine::CancelToken;
use thinkscope_eval::backend::{Backend, BackendEvent, PromptSpec, UnitJob};
use thinkscope_protocol::eval::Provenance;
use thinkscope_protocol::generation::ThinkingPolicy;

pub struct RemoteBackend {
    config: RemoteConfig,
    base: Url,
    api_key: Option<String>,
    files: TokenizerFiles,
    info: ServerInfo,
    provenance: Provenance,
}

impl RemoteBackend {
    /// Reads the tokenizer files, the API key from `config.api_key_env`, and asks the
    /// server what it is (see [`ServerInfo`]).
    pub async fn connect(config: RemoteConfig) -> Result<RemoteBackend, RemoteError> {
        if config.concurrency == 0 {
            return Err(RemoteError::Setting(
                "the concurrency must be at least 1".into(),
            ));
        }
        let base = Url::parse(&config.base_url).map_err(|e| {
            RemoteError::Setting(format!("bad server URL `{}`: {e}", config.base_url))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(RemoteError::Setting(format!(
                "the server URL must be http or https, not `{}`",
                base.scheme()
            )));
        }
        let files = TokenizerFiles::load(&config.tokenizer)?;
        let api_key = std::env::var(&config.api_key_env)
            .ok()
            .filter(|k| !k.is_empty());
        let http = Http::new(&config, api_key.clone())?;
        let info = detect::detect(&http, &base, config.model.as_deref()).await?;
        let provenance = Provenance {
            engine: "openai".into(),
            model_name: info.model.clone(),
            model_path: http::redact(&base),
            // The served name and the tokenizer identify the model across restarts.
            model_fingerprint: crate::sha256_hex(
                format!("{}\u{0}{}", info.model, files.fingerprint).as_bytes(),
            ),
            architecture: info.kind.clone(),
            tokenizer_fingerprint: files.fingerprint.clone(),
            template_text: files.template_source.chat_template.clone(),
            device: match &info.version {
                Some(v) => format!("{} {v}", info.kind),
                None => info.kind.clone(),
            },
            dtype: unit::counting(info.token_ids).into(),
            batch: config.concurrency,
            kv_cache_gb: 0.0,
            thinkscope_version: env!("CARGO_PKG_VERSION").into(),
        };
        Ok(RemoteBackend {
            config,
            base,
            api_key,
            files,
            info,
            provenance,
        })
    }

    pub fn server(&self) -> &ServerInfo {
        &self.info
    }

    /// The tasks of a job: itself and each follower, sharing the rendered prompt.
    fn tasks(&self, job: UnitJob) -> Result<Vec<Task>, (Vec<usize>, String)> {
        let ids = || {
            std::iter::once(job.id)
                .chain(job.followers.iter().map(|f| f.0))
                .collect::<Vec<_>>()
        };
        let (prompt_text, prompt_ids, markers) =
            self.render(&job.prompt).map_err(|e| (ids(), e))?;
        let max_len = match self.info.context_length {
            Some(context) => job
                .sampling
                .max_tokens
                .min(context.saturating_sub(prompt_ids.len())),
            None => job.sampling.max_tokens,
        };
        let chat = (self.config.api == Api::Chat)
            .then(|| (job.prompt.system.clone(), question(&job.prompt)));
        let task = |id: usize, policy: ThinkingPolicy| Task {
            id,
            prompt_text: prompt_text.clone(),
            prompt_ids: prompt_ids.clone(),
            chat: chat.clone(),
            markers: markers.clone(),
            policy,
            sampling: job.sampling.clone(),
            reject_above: job.reject_above,
            max_len,
        };
        let mut tasks = vec![task(job.id, job.policy.clone())];
        tasks.extend(
            job.followers
                .iter()
                .map(|(id, policy)| task(*id, policy.clone())),
        );
        Ok(tasks)
    }

    fn render(
        &self,
        prompt: &PromptSpec,
    ) -> Result<(String, Vec<u32>, Option<template::ThinkingMarkers>), String> {
        let kind: TemplateKind = prompt
            .template
            .parse()
            .map_err(|e: thinkscope_engine::EngineError| e.to_string())?;
        let rendered = template::render(
            kind,
            &self.files.template_source,
            prompt.system.as_deref(),
            &prompt.question,
            &prompt.condition,
        )
        .map_err(|e| e.to_string())?;
        let ids = self
            .files
            .tokenizer
            .encode(&rendered.text)
            .map_err(|e| e.to_string())?;
        Ok((rendered.text, ids, rendered.thinking))
    }

    fn check_policy(
        &self,
        policy: &ThinkingPolicy,
        markers: Option<&template::ThinkingMarkers>,
    ) -> Result<(), String> {
        if self.config.api == Api::Chat && *policy != ThinkingPolicy::None {
            return Err("chat completions run with policy none only: budget forcing and the shifted window need raw completions".into());
        }
        ThinkingControl::new(
            policy,
            markers,
            &self.files.eos_token_ids,
            &self.files.tokenizer,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    async fn drive(
        &self,
        ctx: &Ctx<'_>,
        next_job: &mut dyn FnMut() -> Option<UnitJob>,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(BackendEvent),
    ) {
        let forward = Cell::new(0u64);
        let mut waiting: VecDeque<Task> = VecDeque::new();
        let mut running = FuturesUnordered::new();
        let mut exhausted = false;
        loop {
            // After a cancel the waiting tasks start too: they end at once, reported cancelled.
            while running.len() < self.config.concurrency || cancel.is_cancelled() {
                let task = match waiting.pop_front() {
                    Some(task) => task,
                    None if exhausted || cancel.is_cancelled() => break,
                    None => match next_job() {
                        Some(job) => {
                            match self.tasks(job) {
                                Ok(tasks) => waiting.extend(tasks),
                                Err((ids, e)) => {
                                    for id in ids {
                                        on_event(BackendEvent::Finished {
                                            id,
                                            outcome: Err(e.clone()),
                                        });
                                    }
                                }
                            }
                            continue;
                        }
                        None => {
                            exhausted = true;
                            break;
                        }
                    },
                };
                let forward = &forward;
                running.push(async move {
                    (task.id, unit::generate(ctx, &task, cancel, forward).await)
                });
            }
            if running.is_empty() {
                break;
            }
            tokio::select! {
                Some((id, outcome)) = running.next() => on_event(BackendEvent::Finished { id, outcome }),
                // Wakes to report progress while long requests are out.
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            let tokens = forward.take();
            if tokens > 0 {
                on_event(BackendEvent::Forward { tokens });
            }
        }
        let tokens = forward.take();
        if tokens > 0 {
            on_event(BackendEvent::Forward { tokens });
        }
    }
}

/// The user turn as the templates write it.
fn question(prompt: &PromptSpec) -> String {
    match template::condition_instruction(&prompt.condition) {
        Some(instruction) => format!("{}\n\n{instruction}", prompt.question),
        None => prompt.question.clone(),
    }
}

impl Backend for RemoteBackend {
    fn provenance(&self) -> Provenance {
        self.provenance.clone()
    }

    fn check(&mut self, job: &UnitJob) -> Result<(), String> {
        let (_, prompt_ids, markers) = self.render(&job.prompt)?;
        if prompt_ids.is_empty() {
            return Err("the prompt encodes to no tokens".into());
        }
        if let Some(context) = self.info.context_length.filter(|&c| prompt_ids.len() >= c) {
            return Err(format!(
                "the prompt has {} tokens; the server's context is {context}",
                prompt_ids.len()
            ));
        }
        self.check_policy(&job.policy, markers.as_ref())?;
        job.followers
            .iter()
            .try_for_each(|(_, policy)| self.check_policy(policy, markers.as_ref()))
    }

    fn run(
        &mut self,
        next_job: &mut dyn FnMut() -> Option<UnitJob>,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(BackendEvent),
    ) -> Result<(), String> {
        // A runtime of its own: `run` blocks, and the HTTP client's connections belong to it.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        runtime.block_on(async {
            let ctx = Ctx {
                http: Http::new(&self.config, self.api_key.clone()).map_err(|e| e.to_string())?,
                base: self.base.clone(),
                api: self.config.api,
                model: self.info.model.clone(),
                codec: &self.files.tokenizer,
                eos: &self.files.eos_token_ids,
                token_ids: self.info.token_ids,
                device: self.provenance.device.clone(),
            };
            self.drive(&ctx, next_job, cancel, on_event).await;
            Ok::<(), String>(())
        })
    }
}
