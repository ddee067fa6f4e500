//! One decoder for Qwen2, Qwen3 and Llama, written against candle ops so the numerics follow
//! transformers exactly (rope scaling, tied embeddings, biases, Qwen3's q/k norms).

use crate::error::{EngineError, Result};
use crate::lm::{check_forward, ForwardStats, LanguageModel};
use crate::model::config::ModelConfig;
use crate::model::rope::Rope;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use std::path::Path;

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Option<Tensor>,
    k_norm: Option<Tensor>,
    /// Keys and values of every cached position, `[1, kv_heads, positions, head_dim]`.
    cache: Option<(Tensor, Tensor)>,
}

struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

struct Layer {
    input_norm: Tensor,
    attn: Attention,
    post_norm: Tensor,
    mlp: Mlp,
}

pub struct Transformer {
    cfg: ModelConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    lm_head: Tensor,
    rope: Rope,
    device: Device,
    dtype: DType,
    cached: usize,
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

    fn linear(&self, prefix: &str, inp: usize, out: usize, bias: bool) -> Result<Linear> {
        let weight = self.tensor(&format!("{prefix}.weight"), &[out, inp])?;
        let bias = if bias { Some(self.tensor(&format!("{prefix}.bias"), &[out])?) } else { None };
        Ok(Linear::new(weight, bias))
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
                cache: None,
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
        let rope = Rope::new(hd, cfg.rope_theta, &cfg.rope_scaling);
        Ok(Transformer {
            cfg,
            embed,
            layers,
            norm,
            lm_head,
            rope,
            device,
            dtype,
            cached: 0,
            stats: ForwardStats::default(),
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    fn forward_logits(&mut self, tokens: &[u32], pos: usize) -> candle_core::Result<Tensor> {
        let t = tokens.len();
        let ids = Tensor::new(tokens, &self.device)?;
        let mut x = self.embed.index_select(&ids, 0)?.unsqueeze(0)?;
        let (cos, sin) = self.rope.tables(pos, t);
        let half = self.rope.half_dim();
        let cos = Tensor::from_vec(cos, (t, half), &self.device)?.to_dtype(self.dtype)?;
        let sin = Tensor::from_vec(sin, (t, half), &self.device)?.to_dtype(self.dtype)?;
        let mask = if t > 1 { Some(causal_mask(t, pos, &self.device)?) } else { None };
        let eps = self.cfg.rms_norm_eps as f32;
        for layer in &mut self.layers {
            let residual = x.clone();
            let normed = candle_nn::ops::rms_norm(&x, &layer.input_norm, eps)?;
            let attn = layer.attn.forward(&normed, &cos, &sin, mask.as_ref(), &self.cfg)?;
            let x1 = (attn + residual)?;
            let normed = candle_nn::ops::rms_norm(&x1, &layer.post_norm, eps)?;
            x = (layer.mlp.forward(&normed)? + x1)?;
        }
        // Only the last position's logits are needed.
        let last = x.narrow(1, t - 1, 1)?;
        let last = candle_nn::ops::rms_norm(&last, &self.norm, eps)?;
        last.squeeze(0)?.matmul(&self.lm_head.t()?)?.squeeze(0)?.to_dtype(DType::F32)
    }
}

impl Attention {
    fn forward(
        &mut self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        cfg: &ModelConfig,
    ) -> candle_core::Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (cfg.num_heads, cfg.num_kv_heads, cfg.head_dim);
        let eps = cfg.rms_norm_eps as f32;
        let mut q = self.q.forward(x)?.reshape((b, t, nh, hd))?;
        let mut k = self.k.forward(x)?.reshape((b, t, nkv, hd))?;
        let v = self.v.forward(x)?.reshape((b, t, nkv, hd))?;
        if let (Some(qn), Some(kn)) = (&self.q_norm, &self.k_norm) {
            q = candle_nn::ops::rms_norm(&q.contiguous()?, qn, eps)?;
            k = candle_nn::ops::rms_norm(&k.contiguous()?, kn, eps)?;
        }
        let q = candle_nn::rotary_emb::rope(&q.transpose(1, 2)?.contiguous()?, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k.transpose(1, 2)?.contiguous()?, cos, sin)?;
        let v = v.transpose(1, 2)?.contiguous()?;
        let (k, v) = match &self.cache {
            Some((ck, cv)) => (Tensor::cat(&[ck, &k], 2)?, Tensor::cat(&[cv, &v], 2)?),
            None => (k, v),
        };
        self.cache = Some((k.clone(), v.clone()));
        let k = candle_transformers::utils::repeat_kv(k, nh / nkv)?;
        let v = candle_transformers::utils::repeat_kv(v, nh / nkv)?;
        let scores = (q.matmul(&k.t()?)? * (1.0 / (hd as f64).sqrt()))?.to_dtype(DType::F32)?;
        let scores = match mask {
            Some(m) => scores.broadcast_add(m)?,
            None => scores,
        };
        let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
        let y = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, nh * hd))?;
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
    fn forward(&mut self, tokens: &[u32], pos: usize) -> Result<Vec<f32>> {
        let (context, vocab) = (self.cfg.max_position_embeddings, self.cfg.vocab_size);
        if check_forward(tokens, pos, self.cached, context, vocab)? {
            self.reset();
        }
        self.stats.record(tokens.len());
        let logits = self.forward_logits(tokens, pos)?;
        self.cached = pos + tokens.len();
        Ok(logits.to_vec1::<f32>()?)
    }

    fn reset(&mut self) {
        for layer in &mut self.layers {
            layer.attn.cache = None;
        }
        self.cached = 0;
    }

    fn stats(&self) -> ForwardStats {
        self.stats
    }

    fn context_length(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    fn device_label(&self) -> String {
        crate::device::device_label(&self.device)
    }

    fn dtype_label(&self) -> String {
        crate::device::dtype_label(self.dtype).to_string()
    }
}
