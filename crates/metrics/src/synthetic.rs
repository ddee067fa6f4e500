//! Deterministic synthetic runs: workload for benchmarks and realistic test data.

use thinkscope_protocol::rng::SplitMix64;
use crate::types::Generation;

/// A budget-forcing sweep: `samples` generations of each of `problems` problems at each
/// budget. A problem of difficulty `d` (drawn uniformly in tokens, 0..16k) is solved
/// with probability `min(1, budget / d)`, thinking stops at the budget or at the
/// problem's natural length, and wrong answers spread over three wrong values.
pub fn synthetic_sweep(
    budgets: &[u32],
    problems: usize,
    samples: u32,
    seed: u64,
) -> Vec<Generation> {
    let mut rng = SplitMix64::new(seed);
    let difficulty: Vec<f64> = (0..problems).map(|_| 1.0 + rng.below(16_000) as f64).collect();
    let mut out = Vec::with_capacity(budgets.len() * problems * samples as usize);
    for &budget in budgets {
        for (p, &d) in difficulty.iter().enumerate() {
            for s in 0..samples {
                let solve = (f64::from(budget) / d).min(1.0);
                let correct = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= solve;
                let natural = (d * 0.5) as u32 + rng.below(2000) as u32;
                let answer =
                    if correct { "right".to_string() } else { format!("wrong{}", rng.below(3)) };
                out.push(Generation {
                    problem: format!("p{p}"),
                    point: f64::from(budget),
                    point_label: format!("budget {budget}"),
                    sample_index: s,
                    thinking_tokens: natural.min(budget),
                    answer_tokens: 50 + rng.below(200) as u32,
                    correct,
                    answer: Some(answer),
                    budget: Some(budget),
                });
            }
        }
    }
    out
}
