//! The local candle engine as a [`Backend`]: continuous batching, shared prompts and
//! one-pass sweeps through `thinkscope_engine::batch`.

use crate::backend::{Backend, BackendEvent, PromptSpec, UnitJob};
use crate::EvalError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use thinkscope_engine::batch::{self, BatchOptions, Job, Report};
use thinkscope_engine::decode::Sequence;
use thinkscope_engine::template::{self, ChatTemplateSource, TemplateKind, ThinkingMarkers};
use thinkscope_engine::tokenizer::{Codec, HfTokenizer};
use thinkscope_engine::{CancelToken, LoadedModel, Request};
use thinkscope_protocol::eval::Provenance;

pub struct LocalBackend {
    model: LoadedModel,
    options: BatchOptions,
    provenance: Provenance,
    /// Rendered and tokenized prompts: every unit of a problem sends the same one.
    prompts: HashMap<String, Rendered>,
}

impl LocalBackend {
    pub fn new(model: LoadedModel, max_batch: usize, kv_cache_gb: f64) -> Result<LocalBackend, EvalError> {
        let fingerprint = fingerprint(&model.path)?;
        let provenance = Provenance {
            engine: "local".into(),
            model_name: model_name(&model.path),
            model_path: model.path.display().to_string(),
            model_fingerprint: fingerprint,
            architecture: model.arch.clone(),
            tokenizer_fingerprint: tokenizer_fingerprint(&model),
            template_text: model.template_source.chat_template.clone(),
            device: model.model.device_label(),
            dtype: model.model.dtype_label(),
            batch: max_batch,
            kv_cache_gb,
            thinkscope_version: env!("CARGO_PKG_VERSION").into(),
        };
        let kv_budget_bytes = (kv_cache_gb > 0.0).then_some((kv_cache_gb * (1u64 << 30) as f64) as u64);
        Ok(LocalBackend { model, options: BatchOptions { max_batch, kv_budget_bytes }, provenance, prompts: HashMap::new() })
    }

    /// Renders `prompt` with this model's template and tokenizer (for checks before a run).
    pub fn render(&self, prompt: &PromptSpec) -> Result<Rendered, EvalError> {
        render(&self.model.template_source, &self.model.tokenizer, prompt)
    }
}

/// A prompt as this model sees it: text, token ids, and how its thinking ends.
pub type Rendered = (String, Vec<u32>, Option<ThinkingMarkers>);

fn render(source: &ChatTemplateSource, tokenizer: &HfTokenizer, prompt: &PromptSpec) -> Result<Rendered, EvalError> {
    let kind: TemplateKind = prompt.template.parse()?;
    let rendered = template::render(kind, source, prompt.system.as_deref(), &prompt.question, &prompt.condition)?;
    let ids = tokenizer.encode(&rendered.text)?;
    Ok((rendered.text, ids, rendered.thinking))
}

fn request((prompt_text, prompt_ids, markers): Rendered, job: &UnitJob, eos: &[u32]) -> Request {
    Request {
        prompt_text,
        prompt_ids,
        markers,
        policy: job.policy.clone(),
        sampling: job.sampling.clone(),
        eos_token_ids: eos.to_vec(),
    }
}

impl Backend for LocalBackend {
    fn provenance(&self) -> Provenance {
        self.provenance.clone()
    }

    fn check(&mut self, job: &UnitJob) -> Result<(), String> {
        let rendered = self.render(&job.prompt).map_err(|e| e.to_string())?;
        let request = request(rendered, job, &self.model.eos_token_ids);
        let context = self.model.model.context_length();
        Sequence::new(&request, &self.model.tokenizer, context, &job.followers).map(|_| ()).map_err(|e| e.to_string())
    }

    fn run(
        &mut self,
        next_job: &mut dyn FnMut() -> Option<UnitJob>,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(BackendEvent),
    ) -> Result<(), String> {
        // Jobs whose prompt cannot be rendered fail alone; the batch goes on.
        let mut failed: Vec<(usize, String)> = Vec::new();
        let LoadedModel { model, tokenizer, template_source, eos_token_ids, .. } = &mut self.model;
        let prompts = &mut self.prompts;
        let mut pull = || -> Option<Job> {
            loop {
                let job = next_job()?;
                let key = format!("{}\u{0}{:?}\u{0}{:?}\u{0}{}", job.prompt.template, job.prompt.system, job.prompt.condition, job.prompt.question);
                let rendered = match prompts.get(&key) {
                    Some(r) => Ok(r.clone()),
                    None => render(template_source, tokenizer, &job.prompt).inspect(|r| {
                        prompts.insert(key, r.clone());
                    }),
                };
                match rendered {
                    Ok(rendered) => {
                        let request = request(rendered, &job, eos_token_ids);
                        return Some(Job {
                            id: job.id,
                            request,
                            followers: job.followers,
                            reject_above: job.reject_above,
                        })
                    }
                    Err(e) => {
                        let e = e.to_string();
                        failed.push((job.id, e.clone()));
                        for (id, _) in &job.followers {
                            failed.push((*id, e.clone()));
                        }
                    }
                }
            }
        };
        let mut on_report = |report: Report<'_>| match report {
            Report::Finished { id, outcome } => {
                on_event(BackendEvent::Finished { id, outcome: outcome.map_err(|e| e.to_string()) })
            }
            Report::Step { tokens, .. } => on_event(BackendEvent::Forward { tokens: tokens as u64 }),
            Report::Event { .. } => {}
        };
        let result = batch::run(model.as_mut(), tokenizer, self.options, cancel, &mut pull, &mut on_report);
        for (id, e) in failed {
            on_event(BackendEvent::Finished { id, outcome: Err(e) });
        }
        result.map(|_| ()).map_err(|e| e.to_string())
    }
}

fn model_name(path: &Path) -> String {
    // Hugging Face cache layout: …/models--org--name/snapshots/<hash>.
    let text = path.display().to_string();
    if let Some(i) = text.find("models--") {
        let rest = &text[i + "models--".len()..];
        let name = rest.split('/').next().unwrap_or(rest);
        return name.replacen("--", "/", 1);
    }
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(text)
}

fn tokenizer_fingerprint(model: &LoadedModel) -> String {
    let mut h = Sha256::new();
    for id in 0..64u32 {
        h.update(model.tokenizer.decode(&[id]).unwrap_or_default().as_bytes());
    }
    h.update(model.tokenizer.vocab_size().to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Identifies weights without reading them whole: every weight file's header bytes and
/// size (safetensors headers name each tensor's dtype, shape and offsets; a GGUF's first
/// MiB holds its metadata and tensor table), plus config.json and tokenizer.json.
pub fn fingerprint(path: &Path) -> Result<String, EvalError> {
    const HEAD: u64 = 1 << 20;
    let mut files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| EvalError::Io(path.display().to_string(), e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".safetensors") || name == "config.json" || name == "tokenizer.json"
            })
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    files.dedup();
    let mut h = Sha256::new();
    for file in files {
        let io = |e| EvalError::Io(file.display().to_string(), e);
        let size = std::fs::metadata(&file).map_err(io)?.len();
        let mut head = Vec::new();
        let f = std::fs::File::open(&file).map_err(io)?;
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let limit = if name.ends_with(".safetensors") {
            // 8 bytes of header length, then the JSON header itself.
            let mut len = [0u8; 8];
            std::fs::File::open(&file).map_err(io)?.read_exact(&mut len).map_err(io)?;
            8 + u64::from_le_bytes(len).min(HEAD * 64)
        } else if name.ends_with(".json") {
            size
        } else {
            HEAD
        };
        f.take(limit).read_to_end(&mut head).map_err(io)?;
        h.update(name.as_bytes());
        h.update(size.to_le_bytes());
        h.update(&head);
    }
    Ok(hex::encode(&h.finalize()[..16]))
}
