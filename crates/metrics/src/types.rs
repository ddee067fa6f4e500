//! Plain, serialisable records in and out of the metrics.
//!
//! Accuracies and shares are fractions in `[0, 1]`; only s1's Scaling has its own unit
//! (see [`S1Scores::scaling`]).

use serde::{Deserialize, Serialize};

/// One scored generation: a sample of a problem at one sweep point of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// Sample (problem) id.
    pub problem: String,
    /// Sweep value: budget, ignore-end count, window size, ...
    pub point: f64,
    pub point_label: String,
    pub sample_index: u32,
    pub thinking_tokens: u32,
    pub answer_tokens: u32,
    pub correct: bool,
    /// Extracted, normalised answer: equal strings are equivalent answers.
    #[serde(default)]
    pub answer: Option<String>,
    /// Thinking budget `a_max`, when one was set.
    #[serde(default)]
    pub budget: Option<u32>,
}

/// How bootstrap intervals are drawn; recorded next to every interval it produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub seed: u64,
    pub resamples: u32,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap { seed: 0, resamples: 1000 }
    }
}

/// Options for [`crate::run_metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CurveOptions {
    pub bootstrap: Bootstrap,
    /// s1's `a_min`: thinking shorter than this counts as out of control.
    pub min_thinking_tokens: u32,
}

/// A closed interval, e.g. a 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// A metric evaluated at `k` samples per problem.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AtK {
    pub k: u32,
    pub value: f64,
}

/// Everything measured at one sweep point of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointMetrics {
    pub point: f64,
    pub point_label: String,
    /// Generations at this point.
    pub n: usize,
    pub problems: usize,
    /// Mean over problems of each problem's mean correctness over its samples.
    pub accuracy: f64,
    /// 95% percentile bootstrap interval of `accuracy`, resampling whole problems.
    pub ci95: Interval,
    pub mean_thinking_tokens: f64,
    pub median_thinking_tokens: f64,
    pub mean_answer_tokens: f64,
    pub median_answer_tokens: f64,
    /// Fewest samples any problem has here; bounds the `k` of pass@k and maj@k.
    pub min_samples_per_problem: u32,
    pub pass_at_k: Vec<AtK>,
    pub maj_at_k: Vec<AtK>,
    /// Share of generations whose thinking lies in `[a_min, a_max]` (s1 Control).
    pub control: f64,
}

/// s1 §3.2 scores of a run over its sweep points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct S1Scores {
    /// Share of all generations within `[a_min, a_max]`; generations without a budget
    /// have no `a_max` and count as controlled when they reach `a_min`.
    pub control: Option<f64>,
    /// Mean slope over all pairs of points of accuracy against mean thinking tokens,
    /// in accuracy percentage points per 1000 thinking tokens. `None` with fewer than
    /// two distinct token means.
    pub scaling: Option<f64>,
    /// Best accuracy over the points.
    pub performance: Option<f64>,
}

/// All metrics of one run, points in increasing sweep value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    pub run: String,
    pub bootstrap: Bootstrap,
    pub min_thinking_tokens: u32,
    pub points: Vec<PointMetrics>,
    pub s1: S1Scores,
}

/// Which generations of two runs are paired in [`crate::compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pairing {
    /// Same problem, sweep point and sample index: two runs of the same sweep.
    ProblemPointSample,
    /// Same problem and sample index, any point: the caller passes one point (or one
    /// configuration) of each run, e.g. budget forcing at 4096 against a Z1 window.
    ProblemSample,
}

/// Paired comparison of run B against run A on their matched generations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub pairing: Pairing,
    pub pairs: usize,
    pub problems: usize,
    /// Generations of A (of B) with no partner; they are left out of everything below.
    pub unmatched_a: usize,
    pub unmatched_b: usize,
    pub both_correct: usize,
    pub only_a: usize,
    pub only_b: usize,
    pub neither: usize,
    /// Exact two-sided McNemar test: binomial(only_a + only_b, ½) on the discordant pairs.
    pub mcnemar_p: f64,
    /// Accuracies over the matched pairs, weighted per problem as in [`PointMetrics`].
    pub accuracy_a: f64,
    pub accuracy_b: f64,
    /// `accuracy_b − accuracy_a`.
    pub difference: f64,
    /// 95% paired percentile bootstrap interval of `difference`, resampling problems.
    pub difference_ci95: Interval,
    pub bootstrap: Bootstrap,
}
