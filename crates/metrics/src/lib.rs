//! Evaluation metrics: pure functions of scored generations.
//!
//! - [`run_metrics`]: per sweep point accuracy with a problem-level bootstrap CI, token
//!   statistics, pass@k and maj@k; per run s1's Control, Scaling and Performance.
//! - [`compare`]: paired comparison of two runs (McNemar, paired bootstrap).
//!
//! Everything is deterministic: randomness comes from one seeded SplitMix64 stream,
//! and the seed and resample count are recorded in the output.

mod compare;
mod curve;
mod sampling;
mod stats;
mod synthetic;
mod types;

pub use compare::{compare, mcnemar_exact_p, CompareError};
pub use curve::{run_metrics, s1_scaling};
pub use sampling::{k_values, pass_at_k};
pub use synthetic::synthetic_sweep;
pub use types::{
    AtK, Bootstrap, Comparison, CurveOptions, Generation, Interval, Pairing, PointMetrics,
    RunMetrics, S1Scores,
};
