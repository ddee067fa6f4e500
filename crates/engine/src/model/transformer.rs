//! One decoder for Qwen2, Qwen3 and Llama, written against candle ops so the numerics follow
//! transformers exactly (rope scaling, tied embeddings, biases, Qwen3's q/k norms). The same
//! code runs dense safetensors weights and quantized GGUF weights.
//!
//! A forward pass takes a ragged batch: every sequence's new tokens are stacked into one
//! `[1, total, hidden]` activation, so each weight matrix is read once per step for the
//! whole batch (what makes batching pay on a memory-bound CPU); attention alone runs per
//! sequence, over that sequence's own cache.

use crate::error::{EngineError, Result};
use crate::lm::{check_batch, Feed, ForwardStats, LanguageModel};
use crate::model::config::ModelConfig;
use crate::model::rope::Rope;
use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use std::path::Path;

/// A projection: dense (safetensors) or quantized (GGUF), with an optional bias.
pub(crate) enum Proj {
    Dense(Linear),
    Quant { weight: QMatMul, bias: Option<Tensor> },
}

impl Proj {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Proj::Dense(l) => l.forward(x),
            Proj::Quant { weight, bias } => {
                let y = weight.forward(x)?;
                match bias {
                    Some(b) => y.broadcast_add(b),
                    None => Ok(y),
                }
            }
        }
    }
}

pub(crate) struct Attention {
    pub(crate) q: Proj,
    pub(crate) k: Proj,
    pub(crate) v: Proj,
    pub(crate) o: Proj,
    pub(crate) q_norm: Option<Tensor>,
    pub(crate) k_norm: Option<Tensor>,
}

pub(crate) struct Mlp {
    pub(crate) gate: Proj,
    pub(crate) up: Proj,
    pub(crate) down: Proj,
}

pub(crate) struct Layer {
    pub(crate) input_norm: Tensor,
    pub(crate) attn: Attention,
    pub(crate) post_norm: Tensor,
    pub(crate) mlp: Mlp,
}

/// The weights and shape of a model; caches belong to the sequences.
pub(crate) struct Weights {
    pub(crate) embed: Tensor,
    pub(crate) layers: Vec<Layer>,
    pub(crate) norm: Tensor,
    pub(crate) lm_head: Proj,
}

pub struct Transformer {
    cfg: ModelConfig,
    weights: Weights,
    rope: Rope,
    /// llama.cpp stores Llama's q/k rows permuted for the interleaved rope layout.
    interleaved_rope: bool,
    device: Device,
    /// Activation and cache dtype.
    dtype: DType,
    dtype_label: String,
    stats: ForwardStats,
}

/// Loads tensors by Hugging Face name, attaching the model path to every error.
struct Loader<'a> {
    vb: VarBuilder<'a>,
    origin: &'a Path,
}

impl Loader<'_> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        if !self.vb.contains_tensor(name) {
            return Err(EngineError::bad_file(self.origin, format!("missing tensor `{name}`")));
        }
        self.vb
            .get(shape, name)
            .map_err(|e| EngineError::bad_file(self.origin, format!("tensor `{name}`: {e}")))
    }

    fn linear(&self, prefix: &str, inp: usize, out: usize, bias: bool) -> Result<Proj> {
        let weight = self.tensor(&format!("{prefix}.weight"), &[out, inp])?;
        let bias = if bias { Some(self.tensor(&format!("{prefix}.bias"), &[out])?) } else { None };
        Ok(Proj::Dense(Linear::new(weight, bias)))
    }
}

impl Transformer {
    /// Builds the model from tensors named as in Hugging Face checkpoints.
    pub fn load(cfg: ModelConfig, vb: VarBuilder<'_>, origin: &Path) -> Result<Transformer> {
        let device = vb.device().clone();
        let dtype = vb.dtype();
        let ld = Loader { vb, origin };
        let (h, hd) = (cfg.hidden_size, cfg.head_dim);
        let (q_dim, kv_dim) = (cfg.num_heads * hd, cfg.num_kv_heads * hd);
        let embed = ld.tensor("model.embed_tokens.weight", &[cfg.vocab_size, h])?;
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let p = format!("model.layers.{i}");
            let norm = |name: &str, size| ld.tensor(&format!("{p}.{name}.weight"), &[size]);
            let attn = Attention {
                q: ld.linear(&format!("{p}.self_attn.q_proj"), h, q_dim, cfg.qkv_bias)?,
                k: ld.linear(&format!("{p}.self_attn.k_proj"), h, kv_dim, cfg.qkv_bias)?,
                v: ld.linear(&format!("{p}.self_attn.v_proj"), h, kv_dim, cfg.qkv_bias)?,
                o: ld.linear(&format!("{p}.self_attn.o_proj"), q_dim, h, cfg.o_bias)?,
                q_norm: cfg.qk_norm.then(|| norm("self_attn.q_norm", hd)).transpose()?,
                k_norm: cfg.qk_norm.then(|| norm("self_attn.k_norm", hd)).transpose()?,
            };
            let i_size = cfg.intermediate_size;
            let mlp = Mlp {
                gate: ld.linear(&format!("{p}.mlp.gate_proj"), h, i_size, cfg.mlp_bias)?,
                up: ld.linear(&format!("{p}.mlp.up_proj"), h, i_size, cfg.mlp_bias)?,
                down: ld.linear(&format!("{p}.mlp.down_proj"), i_size, h, cfg.mlp_bias)?,
            };
            layers.push(Layer {
                input_norm: norm("input_layernorm", h)?,
                attn,
                post_norm: norm("post_attention_layernorm", h)?,
                mlp,
            });
        }
        let norm = ld.tensor("model.norm.weight", &[h])?;
        // Tied checkpoints may still carry a copy of lm_head; transformers uses the embedding.
        let lm_head = if cfg.tie_word_embeddings {
            embed.clone()
        } else {
            ld.tensor("lm_head.weight", &[cfg.vocab_size, h])?
        };
        let weights = Weights { embed, layers, norm, lm_head: Proj::Dense(Linear::new(lm_head, None)) };
        let label = crate::device::dtype_label(dtype).to_string();
        Ok(Transformer::assemble(cfg, weights, false, device, dtype, label))
    }

    pub(crate) fn assemble(
        cfg: ModelConfig,
        weights: Weights,
        interleaved_rope: bool,
        device: Device,
        dtype: DType,
        dtype_label: String,
    ) -> Transformer {
        let rope = Rope::new(cfg.head_dim, cfg.rope_theta, &cfg.rope_scaling);
        Transformer {
            cfg,
            weights,
            rope,
            interleaved_rope,
            device,
            dtype,
            dtype_label,
            stats: ForwardStats::default(),
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    fn forward_logits(&self, batch: &mut [Feed<'_>]) -> candle_core::Result<Tensor> {
        let all: Vec<u32> = batch.iter().flat_map(|f| f.tokens.iter().copied()).collect();
        let ids = Tensor::new(all.as_slice(), &self.device)?;
        let mut x = self.weights.embed.index_select(&ids, 0)?.to_dtype(self.dtype)?.unsqueeze(0)?;
        let half = self.rope.half_dim();
        // Per sequence: where its tokens sit in the stacked batch, its rope rows and mask.
        let mut spans = Vec::with_capacity(batch.len());
        let mut offset = 0;
        for feed in batch.iter_mut() {
            let (t, pos) = (feed.tokens.len(), feed.cache.len());
            let (cos, sin) = self.rope.tables(pos, t);
            let cos = Tensor::from_vec(cos, (t, half), &self.device)?.to_dtype(self.dtype)?;
            let sin = Tensor::from_vec(sin, (t, half), &self.device)?.to_dtype(self.dtype)?;
            let mask = if t > 1 { Some(causal_mask(t, pos, &self.device)?) } else { None };
            spans.push(Span { offset, len: t, cos, sin, mask });
            offset += t;
            if feed.cache.layers.len() != self.weights.layers.len() {
                feed.cache.layers = vec![None; self.weights.layers.len()];
            }
        }
        let eps = self.cfg.rms_norm_eps as f32;
        for (li, layer) in self.weights.layers.iter().enumerate() {
            let residual = x.clone();
            let normed = candle_nn::ops::rms_norm(&x, &layer.input_norm, eps)?;
            let attn = layer.attn.forward(&normed, &spans, batch, li, &self.cfg, self.interleaved_rope)?;
            let x1 = (attn + residual)?;
            let normed = candle_nn::ops::rms_norm(&x1, &layer.post_norm, eps)?;
            x = (layer.mlp.forward(&normed)? + x1)?;
        }
        // Only each sequence's last position needs logits.
        let last: Vec<u32> = spans.iter().map(|s| (s.offset + s.len - 1) as u32).collect();
        let last = Tensor::new(last.as_slice(), &self.device)?;
        let rows = x.squeeze(0)?.index_select(&last, 0)?;
        let rows = candle_nn::ops::rms_norm(&rows, &self.weights.norm, eps)?;
        self.weights.lm_head.forward(&rows)?.to_dtype(DType::F32)
    }
}

/// One sequence's slice of a batched forward pass.
struct Span {
    offset: usize,
    len: usize,
    cos: Tensor,
    sin: Tensor,
    mask: Option<Tensor>,
}

impl Attention {
    fn forward(
        &self,
        x: &Tensor,
        spans: &[Span],
        batch: &mut [Feed<'_>],
        layer: usize,
        cfg: &ModelConfig,
        interleaved: bool,
    ) -> candle_core::Result<Tensor> {
        let (nh, nkv, hd) = (cfg.num_heads, cfg.num_kv_heads, cfg.head_dim);
        let eps = cfg.rms_norm_eps as f32;
        let q_all = self.q.forward(x)?;
        let k_all = self.k.forward(x)?;
        let v_all = self.v.forward(x)?;
        let mut outputs = Vec::with_capacity(spans.len());
        for (span, feed) in spans.iter().zip(batch.iter_mut()) {
            let t = span.len;
            let mut q = q_all.narrow(1, span.offset, t)?.reshape((1, t, nh, hd))?;
            let mut k = k_all.narrow(1, span.offset, t)?.reshape((1, t, nkv, hd))?;
            let v = v_all.narrow(1, span.offset, t)?.reshape((1, t, nkv, hd))?;
            if let (Some(qn), Some(kn)) = (&self.q_norm, &self.k_norm) {
                q = candle_nn::ops::rms_norm(&q.contiguous()?, qn, eps)?;
                k = candle_nn::ops::rms_norm(&k.contiguous()?, kn, eps)?;
            }
            let rope = if interleaved { candle_nn::rotary_emb::rope_i } else { candle_nn::rotary_emb::rope };
            let q = rope(&q.transpose(1, 2)?.contiguous()?, &span.cos, &span.sin)?;
            let k = rope(&k.transpose(1, 2)?.contiguous()?, &span.cos, &span.sin)?;
            let v = v.transpose(1, 2)?.contiguous()?;
            let slot = &mut feed.cache.layers[layer];
            let (k, v) = match slot.as_ref() {
                Some((ck, cv)) => (Tensor::cat(&[ck, &k], 2)?, Tensor::cat(&[cv, &v], 2)?),
                None => (k, v),
            };
            *slot = Some((k.clone(), v.clone()));
            let k = candle_transformers::utils::repeat_kv(k, nh / nkv)?;
            let v = candle_transformers::utils::repeat_kv(v, nh / nkv)?;
            let scores = (q.matmul(&k.t()?)? * (1.0 / (hd as f64).sqrt()))?.to_dtype(DType::F32)?;
            let scores = match &span.mask {
                Some(m) => scores.broadcast_add(m)?,
                None => scores,
            };
            let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
            outputs.push(probs.matmul(&v)?.transpose(1, 2)?.reshape((1, t, nh * hd))?);
        }
        let y = if outputs.len() == 1 { outputs.pop().expect("one output") } else { Tensor::cat(&outputs, 1)? };
        self.o.forward(&y)
    }
}

impl Mlp {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let gate = candle_nn::ops::silu(&self.gate.forward(x)?)?;
        self.down.forward(&(gate * self.up.forward(x)?)?)
    }
}

/// `[t, pos + t]`: query `i` (at position `pos + i`) sees keys `0..=pos + i`.
fn causal_mask(t: usize, pos: usize, device: &Device) -> candle_core::Result<Tensor> {
    let total = pos + t;
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..total).map(move |j| if j > pos + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (t, total), device)
}

impl LanguageModel for Transformer {
    fn forward_batch(&mut self, batch: &mut [Feed<'_>]) -> Result<Vec<Vec<f32>>> {
        check_batch(batch, self.cfg.max_position_embeddings, self.cfg.vocab_size)?;
        self.stats.record(batch.iter().map(|f| f.tokens.len()).sum());
        let logits = self.forward_logits(batch)?;
        for feed in batch.iter_mut() {
            feed.cache.advance(feed.tokens.len());
        }
        Ok(logits.to_vec2::<f32>()?)
    }

    fn stats(&self) -> ForwardStats {
        self.stats
    }

    fn context_length(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    fn kv_bytes_per_position(&self) -> usize {
        let c = &self.cfg;
        c.num_layers * 2 * c.num_kv_heads * c.head_dim * self.dtype.size_in_bytes()
    }

    fn device_label(&self) -> String {
        crate::device::device_label(&self.device)
    }

    fn dtype_label(&self) -> String {
        self.dtype_label.clone()
    }
}
