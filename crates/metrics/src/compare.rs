//! Paired comparison of two runs on the same problems.

use thinkscope_protocol::rng::SplitMix64;
use crate::stats::{bootstrap_mean_ci, mean};
#[cfg(test)]
use crate::types::Interval;
use crate::types::{Bootstrap, Comparison, Generation, Pairing};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error("run {run} has more than one generation for problem {problem:?}, point {point}, sample {sample_index}")]
    Duplicate { run: char, problem: String, point: f64, sample_index: u32 },
    #[error("the two runs share no generation to pair")]
    NoPairs,
}

/// Compares run B with run A on generations matched by `pairing`.
///
/// Each problem weighs the same, as in the accuracy curve: per-problem means over its
/// pairs, averaged over problems. The difference interval resamples whole problems
/// (with all their pairs) from one SplitMix64 stream seeded with `bootstrap.seed`.
pub fn compare(
    a: &[Generation],
    b: &[Generation],
    pairing: Pairing,
    bootstrap: Bootstrap,
) -> Result<Comparison, CompareError> {
    let key = |g| pair_key(g, pairing);
    let duplicate = |run, g: &Generation| CompareError::Duplicate {
        run,
        problem: g.problem.clone(),
        point: g.point,
        sample_index: g.sample_index,
    };
    // Value: A's correctness and whether a B generation has claimed it yet.
    let mut from_a: HashMap<_, (bool, bool)> = HashMap::with_capacity(a.len());
    for g in a {
        if from_a.insert(key(g), (g.correct, false)).is_some() {
            return Err(duplicate('A', g));
        }
    }
    // Per problem, in name order: (pairs, A right, B right).
    let mut problems: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
    let (mut both, mut only_a, mut only_b, mut neither) = (0, 0, 0, 0);
    for g in b {
        let Some((a_right, taken)) = from_a.get_mut(&key(g)) else { continue };
        if std::mem::replace(taken, true) {
            return Err(duplicate('B', g));
        }
        match (*a_right, g.correct) {
            (true, true) => both += 1,
            (true, false) => only_a += 1,
            (false, true) => only_b += 1,
            (false, false) => neither += 1,
        }
        let tally = problems.entry(g.problem.as_str()).or_default();
        tally.0 += 1;
        tally.1 += u32::from(*a_right);
        tally.2 += u32::from(g.correct);
    }
    let pairs = both + only_a + only_b + neither;
    if pairs == 0 {
        return Err(CompareError::NoPairs);
    }
    let share = |right: u32, n: u32| f64::from(right) / f64::from(n);
    let acc_a: Vec<f64> = problems.values().map(|t| share(t.1, t.0)).collect();
    let acc_b: Vec<f64> = problems.values().map(|t| share(t.2, t.0)).collect();
    let diff: Vec<f64> = acc_a.iter().zip(&acc_b).map(|(a, b)| b - a).collect();
    let mut rng = SplitMix64::new(bootstrap.seed);
    Ok(Comparison {
        pairing,
        pairs,
        problems: problems.len(),
        unmatched_a: a.len() - pairs,
        unmatched_b: b.len() - pairs,
        both_correct: both,
        only_a,
        only_b,
        neither,
        mcnemar_p: mcnemar_exact_p(only_a, only_b),
        accuracy_a: mean(&acc_a),
        accuracy_b: mean(&acc_b),
        difference: mean(&diff),
        difference_ci95: bootstrap_mean_ci(&diff, bootstrap.resamples, &mut rng),
        bootstrap,
    })
}

fn pair_key(g: &Generation, pairing: Pairing) -> (&str, u64, u32) {
    let point = match pairing {
        Pairing::ProblemPointSample => (g.point + 0.0).to_bits(),
        Pairing::ProblemSample => 0,
    };
    (g.problem.as_str(), point, g.sample_index)
}

/// Exact two-sided McNemar p-value: `min(1, 2·P(X ≤ min(b, c)))` for
/// `X ~ Binomial(b + c, ½)`, summed in log space so large counts do not underflow.
pub fn mcnemar_exact_p(b: usize, c: usize) -> f64 {
    let n = b + c;
    let m = b.min(c);
    if n == 0 {
        return 1.0;
    }
    // ln C(n, i) for i = 0..=m, by the ratio C(n, i+1) / C(n, i) = (n − i) / (i + 1).
    let mut log_terms = Vec::with_capacity(m + 1);
    let mut log_c = 0.0;
    for i in 0..=m {
        log_terms.push(log_c);
        log_c += ((n - i) as f64 / (i + 1) as f64).ln();
    }
    // The largest term is the last one, since m ≤ n/2.
    let top = log_terms[m];
    let tail: f64 = log_terms.iter().map(|t| (t - top).exp()).sum();
    let log_p = std::f64::consts::LN_2 + top + tail.ln() - n as f64 * std::f64::consts::LN_2;
    log_p.exp().min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(problem: &str, point: f64, sample: u32, correct: bool) -> Generation {
        Generation {
            problem: problem.into(),
            point,
            point_label: String::new(),
            sample_index: sample,
            thinking_tokens: 0,
            answer_tokens: 0,
            correct,
            answer: None,
            budget: None,
        }
    }

    #[test]
    fn mcnemar_matches_hand_computed_binomials() {
        // n = 6, P(X ≤ 1) = (1 + 6) / 64.
        assert!((mcnemar_exact_p(1, 5) - 14.0 / 64.0).abs() < 1e-12);
        assert!((mcnemar_exact_p(5, 1) - 14.0 / 64.0).abs() < 1e-12);
        assert!((mcnemar_exact_p(0, 10) - 2.0 / 1024.0).abs() < 1e-15);
        assert_eq!(mcnemar_exact_p(3, 3), 1.0);
        assert_eq!(mcnemar_exact_p(0, 0), 1.0);
        // Large counts: z = 2 under the normal approximation, p ≈ 0.046.
        let p = mcnemar_exact_p(4900, 5100);
        assert!((0.04..0.05).contains(&p), "{p}");
    }

    #[test]
    fn counts_and_accuracies_by_hand() {
        let a = [
            g("x", 1.0, 0, true),
            g("x", 1.0, 1, true),
            g("y", 1.0, 0, false),
            g("z", 1.0, 0, true),
        ];
        let b = [
            g("y", 1.0, 0, true),
            g("x", 1.0, 1, false),
            g("x", 1.0, 0, true),
            g("w", 1.0, 0, true),
        ];
        let c = compare(&a, &b, Pairing::ProblemPointSample, Bootstrap::default()).unwrap();
        assert_eq!((c.pairs, c.problems, c.unmatched_a, c.unmatched_b), (3, 2, 1, 1));
        assert_eq!((c.both_correct, c.only_a, c.only_b, c.neither), (1, 1, 1, 0));
        assert_eq!(c.mcnemar_p, 1.0);
        // x: A 2/2, B 1/2; y: A 0/1, B 1/1.
        assert_eq!((c.accuracy_a, c.accuracy_b), (0.5, 0.75));
        assert_eq!(c.difference, 0.25);
        // Per-problem differences are −0.5 and +1: resampled means span [−0.5, 1].
        assert_eq!((c.difference_ci95.low, c.difference_ci95.high), (-0.5, 1.0));
    }

    #[test]
    fn a_uniform_gain_has_a_point_interval_and_small_p() {
        let a: Vec<_> = (0..12).map(|i| g(&format!("p{i}"), 1.0, 0, false)).collect();
        let b: Vec<_> = (0..12).map(|i| g(&format!("p{i}"), 1.0, 0, true)).collect();
        let c = compare(&a, &b, Pairing::ProblemPointSample, Bootstrap { seed: 3, resamples: 100 })
            .unwrap();
        assert_eq!(c.difference_ci95, Interval { low: 1.0, high: 1.0 });
        assert!((c.mcnemar_p - 2.0 / 4096.0).abs() < 1e-15);
    }

    #[test]
    fn problem_sample_pairing_ignores_the_point() {
        let a = [g("x", 4096.0, 0, false)];
        let b = [g("x", 3.0, 0, true)];
        assert_eq!(
            compare(&a, &b, Pairing::ProblemPointSample, Bootstrap::default()),
            Err(CompareError::NoPairs)
        );
        let c = compare(&a, &b, Pairing::ProblemSample, Bootstrap::default()).unwrap();
        assert_eq!((c.pairs, c.only_b), (1, 1));
    }

    #[test]
    fn duplicates_are_rejected() {
        let a = [g("x", 1.0, 0, true), g("x", 1.0, 0, false)];
        let err =
            compare(&a, &a[..1], Pairing::ProblemPointSample, Bootstrap::default()).unwrap_err();
        assert!(matches!(err, CompareError::Duplicate { run: 'A', .. }));
        let err =
            compare(&a[..1], &a, Pairing::ProblemPointSample, Bootstrap::default()).unwrap_err();
        assert!(matches!(err, CompareError::Duplicate { run: 'B', .. }));
    }
}
