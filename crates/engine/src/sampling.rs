//! Next-token choice: penalties, temperature, top-k, top-p, min-p and a seeded generator.

use crate::error::{EngineError, Result};
use std::collections::HashMap;
use thinkscope_protocol::generation::SamplingParams;
use thinkscope_protocol::rng::SplitMix64;

#[derive(Clone)]
pub struct Sampler {
    params: SamplingParams,
    rng: SplitMix64,
    /// Tokens seen in prompt and output (repetition penalty).
    seen: HashMap<u32, ()>,
    /// Occurrences in the output (frequency penalty).
    counts: HashMap<u32, u32>,
}

impl Sampler {
    pub fn new(params: &SamplingParams, prompt: &[u32]) -> Result<Sampler> {
        let p = params;
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(EngineError::Invalid(what.to_string()))
            }
        };
        check(p.temperature >= 0.0 && p.temperature.is_finite(), "temperature must be ≥ 0")?;
        check(p.top_p > 0.0 && p.top_p <= 1.0, "top_p must be in (0, 1]")?;
        check((0.0..=1.0).contains(&p.min_p), "min_p must be in [0, 1]")?;
        check(p.repetition_penalty > 0.0, "repetition_penalty must be > 0")?;
        let mut sampler = Sampler {
            params: params.clone(),
            rng: SplitMix64::new(params.seed),
            seen: HashMap::new(),
            counts: HashMap::new(),
        };
        for &id in prompt {
            sampler.seen.insert(id, ());
        }
        Ok(sampler)
    }

    /// Records output tokens (sampled or inserted) for the penalties.
    pub fn observe(&mut self, ids: &[u32]) {
        for &id in ids {
            self.seen.insert(id, ());
            *self.counts.entry(id).or_default() += 1;
        }
    }

    pub fn sample(&mut self, logits: &mut [f32]) -> u32 {
        let p = &self.params;
        if p.repetition_penalty != 1.0 {
            for &id in self.seen.keys() {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = if *l > 0.0 { *l / p.repetition_penalty } else { *l * p.repetition_penalty };
                }
            }
        }
        if p.frequency_penalty != 0.0 {
            for (&id, &n) in &self.counts {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l -= p.frequency_penalty * n as f32;
                }
            }
        }
        if p.temperature == 0.0 {
            return argmax(logits);
        }
        let mut candidates: Vec<(u32, f32)> = logits
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_finite())
            .map(|(i, &l)| (i as u32, l / p.temperature))
            .collect();
        if candidates.is_empty() {
            return argmax(logits);
        }
        let by_logit_desc = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if p.top_k > 0 && p.top_k < candidates.len() {
            candidates.select_nth_unstable_by(p.top_k - 1, by_logit_desc);
            candidates.truncate(p.top_k);
        }
        candidates.sort_unstable_by(by_logit_desc);
        let max = candidates[0].1;
        let mut probs: Vec<f32> = candidates.iter().map(|(_, l)| (l - max).exp()).collect();
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|q| *q /= total);
        // Nucleus: the smallest prefix whose mass reaches top_p.
        let mut keep = probs.len();
        if p.top_p < 1.0 {
            let mut cumulative = 0.0;
            for (i, q) in probs.iter().enumerate() {
                cumulative += q;
                if cumulative >= p.top_p {
                    keep = i + 1;
                    break;
                }
            }
        }
        if p.min_p > 0.0 {
            let floor = p.min_p * probs[0];
            keep = keep.min(probs.iter().take_while(|&&q| q >= floor).count().max(1));
        }
        let kept = &probs[..keep];
        let mass: f32 = kept.iter().sum();
        let mut target = self.rng.next_f32() * mass;
        for (i, q) in kept.iter().enumerate() {
            if target < *q {
                return candidates[i].0;
            }
            target -= q;
        }
        candidates[keep - 1].0
    }
}

/// Highest logit; the lowest id wins ties, as `torch.argmax` does.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(f: impl FnOnce(&mut SamplingParams)) -> SamplingParams {
        let mut p = SamplingParams::default();
        f(&mut p);
        p
    }

    #[test]
    fn greedy_picks_the_first_maximum() {
        let mut s = Sampler::new(&SamplingParams::default(), &[]).unwrap();
        assert_eq!(s.sample(&mut [0.1, 2.0, 2.0, -1.0]), 1);
    }

    #[test]
    fn repetition_penalty_follows_transformers() {
        let mut s = Sampler::new(&params(|p| p.repetition_penalty = 2.0), &[0]).unwrap();
        // 3.0 / 2 = 1.5 < 2.0, so token 1 wins.
        assert_eq!(s.sample(&mut [3.0, 2.0]), 1);
        let mut s = Sampler::new(&params(|p| p.repetition_penalty = 2.0), &[1]).unwrap();
        // -1.0 * 2 = -2.0 < -1.5.
        assert_eq!(s.sample(&mut [-1.5, -1.0]), 0);
    }

    #[test]
    fn frequency_penalty_counts_output_occurrences() {
        let mut s = Sampler::new(&params(|p| p.frequency_penalty = 0.6), &[]).unwrap();
        s.observe(&[0, 0]);
        assert_eq!(s.sample(&mut [1.0, 0.0]), 1);
        let mut s = Sampler::new(&params(|p| p.frequency_penalty = 0.4), &[]).unwrap();
        s.observe(&[0, 0]);
        assert_eq!(s.sample(&mut [1.0, 0.0]), 0);
    }

    #[test]
    fn top_k_one_and_tiny_top_p_and_high_min_p_are_greedy() {
        let logits = [0.5f32, 1.0, 0.9, 0.2];
        for p in [
            params(|p| { p.temperature = 1.0; p.top_k = 1 }),
            params(|p| { p.temperature = 1.0; p.top_p = 0.01 }),
            params(|p| { p.temperature = 1.0; p.min_p = 1.0 }),
        ] {
            let mut s = Sampler::new(&p, &[]).unwrap();
            for _ in 0..20 {
                assert_eq!(s.sample(&mut logits.clone()), 1);
            }
        }
    }

    #[test]
    fn same_seed_same_tokens_and_sampling_spreads() {
        let p = params(|p| { p.temperature = 1.0; p.seed = 7 });
        let draw = |p: &SamplingParams| {
            let mut s = Sampler::new(p, &[]).unwrap();
            (0..200).map(|_| s.sample(&mut [0.0f32; 4])).collect::<Vec<_>>()
        };
        let a = draw(&p);
        assert_eq!(a, draw(&p));
        assert_ne!(a, draw(&params(|p| { p.temperature = 1.0; p.seed = 8 })));
        for id in 0..4 {
            let n = a.iter().filter(|&&t| t == id).count();
            assert!((20..=80).contains(&n), "token {id} drawn {n} times of 200");
        }
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(Sampler::new(&params(|p| p.top_p = 0.0), &[]).is_err());
        assert!(Sampler::new(&params(|p| p.temperature = -1.0), &[]).is_err());
    }
}
