//! Per-run aggregation over sweep points: the accuracy-vs-compute curve.

use thinkscope_protocol::rng::SplitMix64;
use crate::sampling::{k_values, pass_at_k, Majority};
use crate::stats::{bootstrap_mean_ci, mean, median};
use crate::types::{AtK, CurveOptions, Generation, PointMetrics, RunMetrics, S1Scores};
// Fx hashing: the keys are our own data, not adversarial, and SipHash dominated the time.
use rustc_hash::FxHashMap as HashMap;

/// Aggregates one run's generations into per-point metrics and s1 scores.
///
/// Generations are grouped by sweep point and problem; within a problem, samples are
/// ordered by `sample_index` (maj@k takes the first k). Bootstrap intervals draw from
/// one SplitMix64 stream seeded with `options.bootstrap.seed`, points in increasing
/// sweep value, so a run's intervals are reproducible from the recorded seed.
pub fn run_metrics(run: &str, generations: &[Generation], options: &CurveOptions) -> RunMetrics {
    let index = Index::build(generations);
    let mut rng = SplitMix64::new(options.bootstrap.seed);
    let mut majority = Majority::new(index.distinct_answers);
    let points: Vec<PointMetrics> = index
        .points()
        .map(|groups| point_metrics(generations, &index, groups, options, &mut rng, &mut majority))
        .collect();
    let s1 = s1_scores(&points);
    RunMetrics {
        run: run.to_string(),
        bootstrap: options.bootstrap,
        min_thinking_tokens: options.min_thinking_tokens,
        points,
        s1,
    }
}

/// Generation indices sorted by (point, problem, sample index), with group bounds.
struct Index {
    order: Vec<u32>,
    /// Answer id per generation.
    answers: Vec<Option<u32>>,
    distinct_answers: usize,
    /// `[start, end)` into `order` of each (point, problem) group, and its point id.
    groups: Vec<(usize, usize, u32)>,
}

impl Index {
    fn build(generations: &[Generation]) -> Self {
        // Dense ids for strings and points, then one id per (point, problem) group, so
        // grouping is a counting sort over at most `generations.len()` groups.
        let mut answer_ids: HashMap<&str, u32> = HashMap::default();
        let mut problem_ids: HashMap<&str, u32> = HashMap::default();
        let mut point_ids: HashMap<u64, u32> = HashMap::default();
        let mut group_ids: HashMap<(u32, u32), u32> = HashMap::default();
        let mut group_of = Vec::with_capacity(generations.len());
        let mut answers = Vec::with_capacity(generations.len());
        for g in generations {
            let next = problem_ids.len() as u32;
            let problem = *problem_ids.entry(&g.problem).or_insert(next);
            // `+ 0.0` folds -0.0 into 0.0 so both land on one point.
            let next = point_ids.len() as u32;
            let point = *point_ids.entry((g.point + 0.0).to_bits()).or_insert(next);
            let next = group_ids.len() as u32;
            group_of.push(*group_ids.entry((point, problem)).or_insert(next));
            answers.push(g.answer.as_deref().map(|a| {
                let next = answer_ids.len() as u32;
                *answer_ids.entry(a).or_insert(next)
            }));
        }
        let mut problem_names = vec![""; problem_ids.len()];
        for (name, id) in problem_ids {
            problem_names[id as usize] = name;
        }
        let mut point_values = vec![0.0; point_ids.len()];
        for (bits, id) in point_ids {
            point_values[id as usize] = f64::from_bits(bits);
        }
        // Points by value, problems by name: results do not depend on input order.
        let mut sorted: Vec<(u32, u32, u32)> =
            group_ids.into_iter().map(|((pt, pb), g)| (pt, pb, g)).collect();
        sorted.sort_unstable_by(|a, b| {
            point_values[a.0 as usize]
                .total_cmp(&point_values[b.0 as usize])
                .then_with(|| problem_names[a.1 as usize].cmp(problem_names[b.1 as usize]))
        });
        let mut rank = vec![0usize; sorted.len()];
        for (r, &(_, _, g)) in sorted.iter().enumerate() {
            rank[g as usize] = r;
        }
        let mut starts = vec![0usize; sorted.len() + 1];
        for &g in &group_of {
            starts[rank[g as usize] + 1] += 1;
        }
        for r in 1..starts.len() {
            starts[r] += starts[r - 1];
        }
        let mut fill = starts.clone();
        let mut order = vec![0u32; generations.len()];
        for (i, &g) in group_of.iter().enumerate() {
            let r = rank[g as usize];
            order[fill[r]] = i as u32;
            fill[r] += 1;
        }
        let groups: Vec<(usize, usize, u32)> = sorted
            .iter()
            .enumerate()
            .map(|(r, &(point, _, _))| (starts[r], starts[r + 1], point))
            .collect();
        for &(s, e, _) in &groups {
            order[s..e].sort_by_key(|&i| generations[i as usize].sample_index);
        }
        Index { order, answers, distinct_answers: answer_ids.len(), groups }
    }

    /// The groups of each point in turn.
    fn points(&self) -> impl Iterator<Item = &[(usize, usize, u32)]> {
        self.groups.chunk_by(|a, b| a.2 == b.2)
    }
}

fn point_metrics(
    generations: &[Generation],
    index: &Index,
    groups: &[(usize, usize, u32)],
    options: &CurveOptions,
    rng: &mut SplitMix64,
    majority: &mut Majority,
) -> PointMetrics {
    let min_samples = groups.iter().map(|&(s, e, _)| (e - s) as u32).min().unwrap_or(0);
    let ks = k_values(min_samples);
    let mut pass = vec![0.0; ks.len()];
    let mut maj = vec![0.0; ks.len()];
    let mut per_problem = Vec::with_capacity(groups.len());
    let mut votes = Vec::with_capacity(ks.len());
    let n = groups.iter().map(|&(s, e, _)| e - s).sum::<usize>();
    let mut thinking = Vec::with_capacity(n);
    let mut answer = Vec::with_capacity(n);
    let mut controlled = 0usize;
    for &(s, e, _) in groups {
        let members = &index.order[s..e];
        let gens = members.iter().map(|&i| &generations[i as usize]);
        let correct = gens.clone().filter(|g| g.correct).count() as u32;
        let size = (e - s) as u32;
        per_problem.push(f64::from(correct) / f64::from(size));
        for (acc, &k) in pass.iter_mut().zip(&ks) {
            *acc += pass_at_k(size, correct, k);
        }
        let samples =
            members.iter().map(|&i| (index.answers[i as usize], generations[i as usize].correct));
        majority.correct_at(samples, &ks, &mut votes);
        for (acc, &won) in maj.iter_mut().zip(&votes) {
            *acc += f64::from(u8::from(won));
        }
        for g in gens {
            thinking.push(g.thinking_tokens);
            answer.push(g.answer_tokens);
            controlled += usize::from(in_control(g, options.min_thinking_tokens));
        }
    }
    let problems = groups.len() as f64;
    let at_k = |sums: Vec<f64>| {
        ks.iter().zip(sums).map(|(&k, s)| AtK { k, value: s / problems }).collect()
    };
    let first = &generations[index.order[groups[0].0] as usize];
    PointMetrics {
        point: first.point,
        point_label: first.point_label.clone(),
        n,
        problems: groups.len(),
        accuracy: mean(&per_problem),
        ci95: bootstrap_mean_ci(&per_problem, options.bootstrap.resamples, rng),
        mean_thinking_tokens: mean_u32(&thinking),
        median_thinking_tokens: median(&mut thinking),
        mean_answer_tokens: mean_u32(&answer),
        median_answer_tokens: median(&mut answer),
        min_samples_per_problem: min_samples,
        pass_at_k: at_k(pass),
        maj_at_k: at_k(maj),
        control: controlled as f64 / n as f64,
    }
}

fn mean_u32(values: &[u32]) -> f64 {
    values.iter().map(|&v| u64::from(v)).sum::<u64>() as f64 / values.len() as f64
}

/// s1's control window `[a_min, a_max]`; without a budget there is no upper bound.
fn in_control(g: &Generation, min_thinking_tokens: u32) -> bool {
    g.thinking_tokens >= min_thinking_tokens && g.budget.is_none_or(|max| g.thinking_tokens <= max)
}

fn s1_scores(points: &[PointMetrics]) -> S1Scores {
    let total: usize = points.iter().map(|p| p.n).sum();
    let controlled: f64 = points.iter().map(|p| p.control * p.n as f64).sum();
    let curve: Vec<(f64, f64)> =
        points.iter().map(|p| (p.mean_thinking_tokens, p.accuracy)).collect();
    S1Scores {
        control: (total > 0).then(|| controlled / total as f64),
        scaling: s1_scaling(&curve),
        performance: points.iter().map(|p| p.accuracy).max_by(f64::total_cmp),
    }
}

/// s1 §3.2 Scaling of a curve of (mean thinking tokens, accuracy in [0, 1]) points:
/// `1/C(|A|,2) · Σ_{a<b} (f(b) − f(a)) / (b − a)`, the mean slope over all pairs.
///
/// Unit: accuracy percentage points per 1000 thinking tokens. The paper prints no unit;
/// with f in percent and tokens in thousands, s1's own AIME24 budget-forcing curve
/// (≈ 7% at 512 tokens rising to 56.7% near 8k) gives slopes of order 10, matching
/// Table 3's "Scaling 15", whereas per-token or per-100-token units would be 1000× or
/// 10× off. Pairs with equal token means (one element of the set A) are skipped.
pub fn s1_scaling(curve: &[(f64, f64)]) -> Option<f64> {
    let mut sum = 0.0;
    let mut pairs = 0usize;
    for (i, &(xa, fa)) in curve.iter().enumerate() {
        for &(xb, fb) in &curve[i + 1..] {
            if xa != xb {
                sum += (fb - fa) * 100.0 / ((xb - xa) / 1000.0);
                pairs += 1;
            }
        }
    }
    (pairs > 0).then(|| sum / pairs as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::synthetic_sweep;
    use crate::types::Bootstrap;

    fn generation(
        problem: &str,
        point: f64,
        sample: u32,
        thinking: u32,
        answer: Option<&str>,
        correct: bool,
    ) -> Generation {
        Generation {
            problem: problem.into(),
            point,
            point_label: format!("{point}"),
            sample_index: sample,
            thinking_tokens: thinking,
            answer_tokens: 10 * (sample + 1),
            correct,
            answer: answer.map(str::to_string),
            budget: Some(point as u32),
        }
    }

    /// Problem a: 4 samples, 1 right, given out of sample order; problem b: 2 right.
    fn one_point() -> Vec<Generation> {
        vec![
            generation("a", 1024.0, 3, 5000, None, false),
            generation("a", 1024.0, 1, 200, Some("7"), false),
            generation("b", 1024.0, 0, 400, Some("1"), true),
            generation("a", 1024.0, 0, 100, Some("5"), true),
            generation("a", 1024.0, 2, 300, Some("7"), false),
            generation("b", 1024.0, 1, 600, Some("1"), true),
        ]
    }

    #[test]
    fn a_point_by_hand() {
        let m = run_metrics("r", &one_point(), &CurveOptions::default());
        let p = &m.points[0];
        assert_eq!((p.n, p.problems, p.min_samples_per_problem), (6, 2, 2));
        // Problems weigh the same: (1/4 + 2/2) / 2, not 3/6.
        assert_eq!(p.accuracy, 0.625);
        // Resample means can only be 0.25, 0.625 or 1, each extreme with chance 1/4.
        assert_eq!((p.ci95.low, p.ci95.high), (0.25, 1.0));
        assert_eq!(p.mean_thinking_tokens, 1100.0);
        assert_eq!(p.median_thinking_tokens, 350.0);
        assert_eq!(p.mean_answer_tokens, 130.0 / 6.0);
        assert_eq!(p.median_answer_tokens, 20.0);
        // pass@2 of a = 1 − C(3,2)/C(4,2) = 1/2.
        assert_eq!(p.pass_at_k, vec![AtK { k: 1, value: 0.625 }, AtK { k: 2, value: 0.75 }]);
        // In sample order a votes 5 then 7: a tie that the earlier "5" (right) wins.
        assert_eq!(p.maj_at_k, vec![AtK { k: 1, value: 1.0 }, AtK { k: 2, value: 1.0 }]);
        // Only a's 5000-token sample overshoots the 1024 budget.
        assert_eq!(p.control, 5.0 / 6.0);
        assert_eq!(m.s1.control, Some(5.0 / 6.0));
        assert_eq!(m.s1.scaling, None);
        assert_eq!(m.s1.performance, Some(0.625));
    }

    #[test]
    fn s1_scaling_is_the_mean_pairwise_slope_in_points_per_1k_tokens() {
        // Slopes 20, 10 and 5 points per 1k tokens.
        let curve = [(1000.0, 0.2), (2000.0, 0.4), (4000.0, 0.5)];
        assert!((s1_scaling(&curve).unwrap() - 35.0 / 3.0).abs() < 1e-9);
        // Order does not matter, and a falling curve scales negatively.
        assert!((s1_scaling(&[(4000.0, 0.5), (1000.0, 0.2)]).unwrap() - 10.0).abs() < 1e-9);
        assert!((s1_scaling(&[(1000.0, 0.5), (3000.0, 0.3)]).unwrap() + 10.0).abs() < 1e-9);
        // Equal token means are one element of A: that pair is skipped.
        assert!(
            (s1_scaling(&[(1000.0, 0.2), (1000.0, 0.3), (2000.0, 0.4)]).unwrap() - 15.0).abs()
                < 1e-9
        );
        assert_eq!(s1_scaling(&[(1000.0, 0.2)]), None);
    }

    #[test]
    fn run_scores_follow_the_points() {
        let gens = vec![
            generation("a", 2000.0, 0, 2000, Some("1"), true),
            generation("b", 2000.0, 0, 2000, Some("2"), true),
            generation("a", 1000.0, 0, 1000, Some("1"), true),
            generation("b", 1000.0, 0, 1500, Some("3"), false),
        ];
        let m = run_metrics("r", &gens, &CurveOptions::default());
        let xs: Vec<f64> = m.points.iter().map(|p| p.point).collect();
        assert_eq!(xs, vec![1000.0, 2000.0]);
        // (100% − 50%) over (2000 − 1250) tokens = 50 points per 0.75k tokens.
        assert!((m.s1.scaling.unwrap() - 50.0 / 0.75).abs() < 1e-9);
        assert_eq!(m.s1.performance, Some(1.0));
        // b overshoots 1000 at the first point: 3 of 4 in control.
        assert_eq!(m.s1.control, Some(0.75));
    }

    #[test]
    fn control_uses_a_min_and_treats_no_budget_as_unbounded() {
        let mut gens = one_point();
        for g in &mut gens {
            g.budget = None;
        }
        let unbounded = run_metrics("r", &gens, &CurveOptions::default());
        assert_eq!(unbounded.s1.control, Some(1.0));
        let options = CurveOptions { min_thinking_tokens: 250, ..CurveOptions::default() };
        // 100 and 200 fall short of a_min.
        assert_eq!(run_metrics("r", &gens, &options).s1.control, Some(4.0 / 6.0));
    }

    #[test]
    fn k_stops_at_the_fewest_samples_and_pass_at_k_uses_all() {
        let gens = synthetic_sweep(&[4096], 30, 6, 3);
        let p = &run_metrics("r", &gens, &CurveOptions::default()).points[0];
        let ks: Vec<u32> = p.pass_at_k.iter().map(|a| a.k).collect();
        assert_eq!(ks, vec![1, 2, 4, 6]);
        assert!((p.pass_at_k[0].value - p.accuracy).abs() < 1e-12);
        assert!(p.pass_at_k.windows(2).all(|w| w[0].value <= w[1].value));
        assert!(p.maj_at_k.iter().all(|a| (0.0..=1.0).contains(&a.value)));
    }

    #[test]
    fn results_are_deterministic_and_independent_of_input_order() {
        let options = CurveOptions {
            bootstrap: Bootstrap { seed: 9, resamples: 300 },
            min_thinking_tokens: 0,
        };
        let gens = synthetic_sweep(&[1024, 4096, 16384], 40, 4, 1);
        let m = run_metrics("r", &gens, &options);
        let mut reversed = gens.clone();
        reversed.reverse();
        assert_eq!(run_metrics("r", &reversed, &options), m);
        let other_seed =
            CurveOptions { bootstrap: Bootstrap { seed: 10, resamples: 300 }, ..options };
        let n = run_metrics("r", &gens, &other_seed);
        assert_eq!(n.points[1].accuracy, m.points[1].accuracy);
        assert_ne!(n.points[1].ci95, m.points[1].ci95);
        assert_eq!(m.bootstrap, options.bootstrap);
    }

    #[test]
    fn synthetic_sweep_scales_and_each_interval_holds_its_estimate() {
        let m = run_metrics(
            "bf",
            &synthetic_sweep(&[512, 2048, 8192], 200, 2, 5),
            &CurveOptions::default(),
        );
        assert!(m.points.windows(2).all(|w| w[0].accuracy < w[1].accuracy));
        assert!(m.points.iter().all(|p| p.ci95.low < p.accuracy && p.accuracy < p.ci95.high));
        assert!(m.s1.scaling.unwrap() > 0.0);
        assert_eq!(m.s1.control, Some(1.0));
    }

    #[test]
    fn metrics_round_trip_through_json() {
        let m = run_metrics("r", &one_point(), &CurveOptions::default());
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"resamples\":1000"));
        assert_eq!(serde_json::from_str::<RunMetrics>(&json).unwrap(), m);
        let g: Generation = serde_json::from_str(
            r#"{"problem":"p","point":1.0,"point_label":"x","sample_index":0,"thinking_tokens":1,"answer_tokens":2,"correct":true}"#,
        )
        .unwrap();
        assert_eq!((g.answer, g.budget), (None, None));
    }

    #[test]
    fn no_generations_no_points() {
        let m = run_metrics("empty", &[], &CurveOptions::default());
        assert!(m.points.is_empty());
        assert_eq!(m.s1, S1Scores { control: None, scaling: None, performance: None });
    }
}
