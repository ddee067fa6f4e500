//! Loading a model: a Hugging Face directory (safetensors) or a GGUF file.

pub mod config;
pub mod files;
pub mod gguf;
mod gguf_tokenizer;
pub mod rope;
pub mod transformer;

use crate::device::DeviceKind;
use crate::error::{EngineError, Result};
use crate::generate::{self, CancelToken, Event};
use crate::lm::LanguageModel;
use crate::template::{self, ChatTemplateSource, Prompt, TemplateKind};
use crate::tokenizer::{Codec, HfTokenizer};
use candle_core::DType;
use candle_nn::VarBuilder;
use std::path::{Path, PathBuf};
use thinkscope_protocol::generation::{
    GenerationReport, PromptCondition, SamplingParams, ThinkingPolicy,
};

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub device: DeviceKind,
    /// Compute dtype of safetensors models (default f32); GGUF keeps its quantization.
    pub dtype: Option<DType>,
    /// tokenizer.json to use instead of the one next to the weights.
    pub tokenizer: Option<PathBuf>,
}

/// A loaded model with everything needed to prompt it.
pub struct LoadedModel {
    pub model: Box<dyn LanguageModel + Send>,
    pub tokenizer: HfTokenizer,
    pub path: PathBuf,
    pub arch: String,
    pub eos_token_ids: Vec<u32>,
    pub template_source: ChatTemplateSource,
}

/// What to generate: the prompt and how to decode it.
#[derive(Debug, Clone, Default)]
pub struct GenerationSpec {
    pub template: TemplateKind,
    pub system: Option<String>,
    pub question: String,
    pub condition: PromptCondition,
    pub policy: ThinkingPolicy,
    pub sampling: SamplingParams,
}

pub fn load(path: &Path, options: &LoadOptions) -> Result<LoadedModel> {
    let device = options.device.open()?;
    if !path.exists() {
        return Err(EngineError::bad_file(path, "no such file or directory"));
    }
    if path.is_file() {
        if path.extension().is_some_and(|x| x == "gguf") {
            return load_gguf(path, &device, options);
        }
        return Err(EngineError::bad_file(
            path,
            "expected a model directory (config.json, tokenizer.json, *.safetensors) or a .gguf file",
        ));
    }
    let files = files::HfFiles::find(path)?;
    let cfg = config::ModelConfig::from_file(&files.config)?;
    let tokenizer = HfTokenizer::from_file(options.tokenizer.as_deref().unwrap_or(&files.tokenizer))?;
    let template_source = match &files.tokenizer_config {
        Some(p) => ChatTemplateSource::from_tokenizer_config(p)?,
        None => ChatTemplateSource::default(),
    };
    let mut eos = cfg.eos_token_ids.clone();
    if let Some(p) = &files.generation_config {
        let text = std::fs::read_to_string(p).map_err(|e| EngineError::io(p, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| EngineError::bad_file(p, format!("not valid JSON: {e}")))?;
        eos.extend(config::token_ids(&v["eos_token_id"]));
    }
    if let Some(id) = template_source.eos_token.as_deref().and_then(|t| tokenizer.token_id(t)) {
        eos.push(id);
    }
    eos.sort_unstable();
    eos.dedup();
    let dtype = options.dtype.unwrap_or(DType::F32);
    // SAFETY: the weight files are memory-mapped read-only; the headers were checked above.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&files.weights, dtype, &device) }
        .map_err(|e| EngineError::bad_file(path, format!("cannot map weights: {e}")))?;
    let arch = cfg.arch.name().to_string();
    let model = transformer::Transformer::load(cfg, vb, path)?;
    Ok(LoadedModel {
        model: Box::new(model),
        tokenizer,
        path: path.to_path_buf(),
        arch,
        eos_token_ids: eos,
        template_source,
    })
}

/// A GGUF file's own tokenizer, else a tokenizer.json next to it.
fn embedded_or_neighbour(path: &Path, dir: &Path, embedded: gguf_tokenizer::Embedded) -> Result<HfTokenizer> {
    let why_not = match embedded {
        gguf_tokenizer::Embedded::Tokenizer(t) => return Ok(HfTokenizer::new(*t)),
        gguf_tokenizer::Embedded::Unsupported(reason) => reason,
        gguf_tokenizer::Embedded::Absent => "it carries no tokenizer".to_string(),
    };
    let neighbour = dir.join("tokenizer.json");
    if neighbour.is_file() {
        return HfTokenizer::from_file(&neighbour);
    }
    Err(EngineError::bad_file(
        path,
        format!("cannot tokenize for this GGUF file: {why_not}, and there is no tokenizer.json next to it (pass the original model's with --tokenizer)"),
    ))
}

fn load_gguf(path: &Path, device: &candle_core::Device, options: &LoadOptions) -> Result<LoadedModel> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // One read of the header serves the tokenizer and the weights; weight errors come
    // first. `--tokenizer` wins over the file's own.
    let (content, file) = gguf::read_content(path)?;
    let tokenizer_source = options.tokenizer.clone().ok_or_else(|| gguf_tokenizer::embedded(&content));
    let (model, header) = gguf::load_model(path, content, file, device)?;
    let tokenizer = match tokenizer_source {
        Ok(explicit) => HfTokenizer::from_file(&explicit)?,
        Err(embedded) => embedded_or_neighbour(path, dir, embedded)?,
    };
    let tokenizer_config = dir.join("tokenizer_config.json");
    let mut template_source = if tokenizer_config.is_file() {
        ChatTemplateSource::from_tokenizer_config(&tokenizer_config)?
    } else {
        ChatTemplateSource::default()
    };
    if template_source.chat_template.is_none() {
        template_source.chat_template = header.chat_template.clone();
    }
    let mut eos: Vec<u32> = header.eos_token_id.into_iter().collect();
    if let Some(id) = template_source.eos_token.as_deref().and_then(|t| tokenizer.token_id(t)) {
        eos.push(id);
    }
    eos.sort_unstable();
    eos.dedup();
    Ok(LoadedModel {
        model: Box::new(model),
        tokenizer,
        path: path.to_path_buf(),
        arch: header.arch,
        eos_token_ids: eos,
        template_source,
    })
}

impl LoadedModel {
    pub fn render_prompt(&self, spec: &GenerationSpec) -> Result<Prompt> {
        template::render(
            spec.template,
            &self.template_source,
            spec.system.as_deref(),
            &spec.question,
            &spec.condition,
        )
    }

    /// Renders the prompt, then decodes under the spec's policy, streaming events.
    pub fn generate(
        &mut self,
        spec: &GenerationSpec,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<GenerationReport> {
        let prompt = self.render_prompt(spec)?;
        let request = generate::Request {
            prompt_ids: self.tokenizer.encode(&prompt.text)?,
            prompt_text: prompt.text,
            markers: prompt.thinking,
            policy: spec.policy.clone(),
            sampling: spec.sampling.clone(),
            eos_token_ids: self.eos_token_ids.clone(),
        };
        generate::generate(self.model.as_mut(), &self.tokenizer, &request, cancel, on_event)
    }
}
