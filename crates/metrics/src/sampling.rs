//! Repeated-sampling metrics: pass@k and maj@k (self-consistency).

/// The `k` values reported for `max` samples per problem: 1, 2, 4, … up to `max`, and
/// `max` itself when it is not a power of two.
pub fn k_values(max: u32) -> Vec<u32> {
    let mut ks: Vec<u32> = (0..32).map(|p| 1u32 << p).take_while(|&k| k <= max).collect();
    if max > 0 && !max.is_power_of_two() {
        ks.push(max);
    }
    ks
}

/// Unbiased pass@k from `n` samples of which `c` are correct (Chen et al. 2021):
/// `1 − C(n−c, k) / C(n, k)`, as the product `1 − Π_{i=n−c+1}^{n} (1 − k/i)` so no
/// binomial coefficient is formed.
pub fn pass_at_k(n: u32, c: u32, k: u32) -> f64 {
    assert!(c <= n && k <= n && k > 0, "pass@k needs 0 < k ≤ n and c ≤ n");
    if n - c < k {
        return 1.0;
    }
    let miss: f64 = (n - c + 1..=n).map(|i| 1.0 - f64::from(k) / f64::from(i)).product();
    1.0 - miss
}

/// Majority voting over one problem's samples, in sample order. Answers are ids of
/// distinct normalised answer strings (`None`: nothing extracted, which never wins).
/// Reuses its buffers across problems, so a run is tallied without allocating.
pub(crate) struct Majority {
    /// Tally position of each answer id, `u32::MAX` when not seen in this problem.
    slot: Vec<u32>,
    /// (answer id, votes, correctness), in order of first occurrence.
    tallies: Vec<(u32, u32, bool)>,
}

impl Majority {
    pub(crate) fn new(distinct_answers: usize) -> Self {
        Majority { slot: vec![u32::MAX; distinct_answers], tallies: Vec::new() }
    }

    /// For each `k` in `ks` (increasing), whether the majority answer among the first
    /// `k` samples is correct. Ties go to the answer that appeared first; a sample's
    /// correctness stands for its answer (equal answers are graded alike).
    pub(crate) fn correct_at(
        &mut self,
        samples: impl Iterator<Item = (Option<u32>, bool)>,
        ks: &[u32],
        out: &mut Vec<bool>,
    ) {
        out.clear();
        let mut leader: Option<usize> = None;
        let mut next_k = ks.iter().peekable();
        for (seen, (answer, correct)) in (1u32..).zip(samples) {
            if let Some(id) = answer {
                let at = match self.slot[id as usize] {
                    u32::MAX => {
                        self.slot[id as usize] = self.tallies.len() as u32;
                        self.tallies.push((id, 0, correct));
                        self.tallies.len() - 1
                    }
                    at => at as usize,
                };
                self.tallies[at].1 += 1;
                // Only `at` gained a vote, so it either overtakes the leader or not;
                // an equal count wins only with an earlier first occurrence.
                leader = match leader {
                    Some(l) if self.tallies[l].1 > self.tallies[at].1 => Some(l),
                    Some(l) if self.tallies[l].1 == self.tallies[at].1 && l < at => Some(l),
                    _ => Some(at),
                };
            }
            while next_k.next_if(|&&k| k == seen).is_some() {
                out.push(leader.is_some_and(|l| self.tallies[l].2));
            }
        }
        for (id, _, _) in self.tallies.drain(..) {
            self.slot[id as usize] = u32::MAX;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_values_are_powers_of_two_and_the_max() {
        assert_eq!(k_values(0), Vec::<u32>::new());
        assert_eq!(k_values(1), vec![1]);
        assert_eq!(k_values(8), vec![1, 2, 4, 8]);
        assert_eq!(k_values(10), vec![1, 2, 4, 8, 10]);
    }

    /// Binomial-coefficient form, fine for small numbers.
    fn pass_at_k_naive(n: u64, c: u64, k: u64) -> f64 {
        let choose = |n: u64, k: u64| -> f64 {
            if k > n {
                return 0.0;
            }
            (0..k).map(|i| (n - i) as f64 / (i + 1) as f64).product()
        };
        1.0 - choose(n - c, k) / choose(n, k)
    }

    #[test]
    fn pass_at_k_matches_closed_forms() {
        // k = 1 is the plain success rate.
        assert!((pass_at_k(10, 3, 1) - 0.3).abs() < 1e-12);
        // n = 4, c = 1, k = 2: 1 − C(3,2)/C(4,2) = 1 − 3/6.
        assert!((pass_at_k(4, 1, 2) - 0.5).abs() < 1e-12);
        assert_eq!(pass_at_k(5, 0, 3), 0.0);
        assert_eq!(pass_at_k(5, 3, 3), 1.0);
        for (n, c, k) in [(20, 7, 5), (16, 1, 16), (30, 2, 10), (9, 4, 2)] {
            let want = pass_at_k_naive(n, c, k);
            let got = pass_at_k(n as u32, c as u32, k as u32);
            assert!((got - want).abs() < 1e-12, "n={n} c={c} k={k}: {got} vs {want}");
        }
    }

    #[test]
    fn pass_at_k_is_stable_for_large_n() {
        // C(1000, 500) overflows f64; the product form does not.
        let v = pass_at_k(1000, 1, 500);
        assert!((v - 0.5).abs() < 1e-12, "{v}");
    }

    fn votes(samples: &[(Option<u32>, bool)], ks: &[u32]) -> Vec<bool> {
        let mut m = Majority::new(10);
        let mut out = Vec::new();
        m.correct_at(samples.iter().copied(), ks, &mut out);
        out
    }

    #[test]
    fn majority_counts_votes_and_breaks_ties_by_first_occurrence() {
        let (right, wrong) = ((Some(1), true), (Some(2), false));
        // k=1: wrong leads; k=2: tie, wrong came first; k=3: right has 2 of 3.
        assert_eq!(
            votes(&[wrong, right, right, wrong], &[1, 2, 3, 4]),
            vec![false, false, true, false]
        );
        assert_eq!(votes(&[right, wrong], &[2]), vec![true]);
    }

    #[test]
    fn missing_answers_never_win() {
        let none = (None, false);
        let right = (Some(3), true);
        assert_eq!(votes(&[none, none, right], &[1, 2, 3]), vec![false, false, true]);
    }

    #[test]
    fn tallies_reset_between_problems() {
        let mut m = Majority::new(4);
        let mut out = Vec::new();
        m.correct_at([(Some(0), false), (Some(0), false)].into_iter(), &[2], &mut out);
        m.correct_at(
            [(Some(1), true), (Some(0), false), (Some(1), true)].into_iter(),
            &[1, 3],
            &mut out,
        );
        assert_eq!(out, vec![true, true]);
    }
}
