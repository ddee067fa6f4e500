//! Rotary position embeddings: inverse frequencies for the rope types real configs use,
//! computed in f32 as transformers does.

use serde_json::Value;
use std::f32::consts::PI;

#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    None,
    /// Positions divided by `factor`.
    Linear { factor: f32 },
    /// Llama 3.1 (DeepSeek-R1-Distill-Llama).
    Llama3 { factor: f32, low_freq_factor: f32, high_freq_factor: f32, original_max: f32 },
    /// YaRN (long-context Qwen2.5 / Qwen3).
    Yarn {
        factor: f32,
        original_max: f32,
        beta_fast: f32,
        beta_slow: f32,
        attention_factor: Option<f32>,
        mscale: Option<f32>,
        mscale_all_dim: Option<f32>,
    },
}

impl RopeScaling {
    /// Reads `rope_scaling` (or `rope_parameters`); `null` and `default` mean none.
    pub fn from_json(v: &Value, max_position_embeddings: usize) -> Result<RopeScaling, String> {
        if !v.is_object() {
            return Ok(RopeScaling::None);
        }
        let kind = v["rope_type"].as_str().or_else(|| v["type"].as_str()).unwrap_or("default");
        let f = |key: &str| v[key].as_f64().map(|x| x as f32);
        let factor = || f("factor").ok_or_else(|| format!("rope_scaling `{kind}` needs `factor`"));
        let original_max =
            f("original_max_position_embeddings").unwrap_or(max_position_embeddings as f32);
        Ok(match kind {
            "default" => RopeScaling::None,
            "linear" => RopeScaling::Linear { factor: factor()? },
            "llama3" => RopeScaling::Llama3 {
                factor: factor()?,
                low_freq_factor: f("low_freq_factor").unwrap_or(1.0),
                high_freq_factor: f("high_freq_factor").unwrap_or(4.0),
                original_max,
            },
            "yarn" => RopeScaling::Yarn {
                factor: factor()?,
                original_max,
                beta_fast: f("beta_fast").unwrap_or(32.0),
                beta_slow: f("beta_slow").unwrap_or(1.0),
                attention_factor: f("attention_factor"),
                mscale: f("mscale"),
                mscale_all_dim: f("mscale_all_dim"),
            },
            other => {
                return Err(format!(
                    "rope_scaling type `{other}` is not supported (default, linear, llama3, yarn)"
                ))
            }
        })
    }
}

/// Inverse frequencies plus the factor cos/sin are multiplied by.
#[derive(Debug, Clone)]
pub struct Rope {
    inv_freq: Vec<f32>,
    attention_scaling: f32,
}

impl Rope {
    pub fn new(head_dim: usize, theta: f32, scaling: &RopeScaling) -> Rope {
        let dim = head_dim as f32;
        let base: Vec<f32> =
            (0..head_dim / 2).map(|i| 1.0 / theta.powf((2 * i) as f32 / dim)).collect();
        let (inv_freq, attention_scaling) = match *scaling {
            RopeScaling::None => (base, 1.0),
            RopeScaling::Linear { factor } => (base.iter().map(|f| f / factor).collect(), 1.0),
            RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max } => {
                let low_wavelen = original_max / low_freq_factor;
                let high_wavelen = original_max / high_freq_factor;
                let scaled = base
                    .iter()
                    .map(|&f| {
                        let wavelen = 2.0 * PI / f;
                        if wavelen < high_wavelen {
                            f
                        } else if wavelen > low_wavelen {
                            f / factor
                        } else {
                            let smooth = (original_max / wavelen - low_freq_factor)
                                / (high_freq_factor - low_freq_factor);
                            (1.0 - smooth) * f / factor + smooth * f
                        }
                    })
                    .collect();
                (scaled, 1.0)
            }
            RopeScaling::Yarn {
                factor,
                original_max,
                beta_fast,
                beta_slow,
                attention_factor,
                mscale,
                mscale_all_dim,
            } => {
                let get_mscale = |scale: f32, m: f32| {
                    if scale <= 1.0 {
                        1.0
                    } else {
                        0.1 * m * scale.ln() + 1.0
                    }
                };
                let attention = attention_factor.unwrap_or(match (mscale, mscale_all_dim) {
                    (Some(m), Some(all)) if m != 0.0 && all != 0.0 => {
                        get_mscale(factor, m) / get_mscale(factor, all)
                    }
                    _ => get_mscale(factor, 1.0),
                });
                let correction_dim = |rotations: f32| {
                    dim * (original_max / (rotations * 2.0 * PI)).ln() / (2.0 * theta.ln())
                };
                let low = correction_dim(beta_fast).floor().max(0.0);
                let mut high = correction_dim(beta_slow).ceil().min(dim - 1.0);
                if low == high {
                    high += 0.001;
                }
                let scaled = base
                    .iter()
                    .enumerate()
                    .map(|(i, &f)| {
                        let ramp = ((i as f32 - low) / (high - low)).clamp(0.0, 1.0);
                        let extrapolation = 1.0 - ramp;
                        (f / factor) * (1.0 - extrapolation) + f * extrapolation
                    })
                    .collect();
                (scaled, attention)
            }
        };
        Rope { inv_freq, attention_scaling }
    }

    /// cos and sin tables, `[positions, head_dim / 2]` row-major, for `start..start + len`.
    pub fn tables(&self, start: usize, len: usize) -> (Vec<f32>, Vec<f32>) {
        let mut cos = Vec::with_capacity(len * self.inv_freq.len());
        let mut sin = Vec::with_capacity(len * self.inv_freq.len());
        for p in start..start + len {
            for &f in &self.inv_freq {
                let angle = p as f32 * f;
                cos.push(angle.cos() * self.attention_scaling);
                sin.push(angle.sin() * self.attention_scaling);
            }
        }
        (cos, sin)
    }

    pub fn half_dim(&self) -> usize {
        self.inv_freq.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_frequencies_follow_theta() {
        let rope = Rope::new(4, 10_000.0, &RopeScaling::None);
        let (cos, sin) = rope.tables(1, 1);
        assert!((cos[0] - 1f32.cos()).abs() < 1e-7);
        assert!((sin[1] - (0.01f32).sin()).abs() < 1e-7);
    }

    #[test]
    fn llama3_scaling_keeps_high_and_divides_low_frequencies() {
        let scaling = RopeScaling::from_json(
            &json!({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}),
            131072,
        )
        .unwrap();
        let plain = Rope::new(128, 500_000.0, &RopeScaling::None);
        let scaled = Rope::new(128, 500_000.0, &scaling);
        assert_eq!(scaled.inv_freq[0], plain.inv_freq[0]);
        let last = plain.inv_freq.len() - 1;
        assert!((scaled.inv_freq[last] - plain.inv_freq[last] / 8.0).abs() < 1e-12);
    }

    #[test]
    fn unknown_rope_type_is_rejected() {
        let err = RopeScaling::from_json(&json!({"rope_type": "longrope"}), 4096).unwrap_err();
        assert!(err.contains("longrope"), "{err}");
    }
}
