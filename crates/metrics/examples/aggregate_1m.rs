//! Times curve aggregation over 1,000,000 synthetic generations (10 budgets × 1000
//! problems × 100 samples, 1000 bootstrap resamples per point).
//!
//! `cargo run --release -p thinkscope-metrics --example aggregate_1m`

use std::time::Instant;
use thinkscope_metrics::{run_metrics, synthetic_sweep, CurveOptions};

fn main() {
    // 256, 384, 512, 768, …, 6144.
    let budgets: Vec<u32> = (0..10).map(|i| (256 << (i / 2)) * (2 + i % 2) / 2).collect();
    let generations = synthetic_sweep(&budgets, 1000, 100, 42);
    for _ in 0..3 {
        let start = Instant::now();
        let metrics = run_metrics("bench", &generations, &CurveOptions::default());
        let elapsed = start.elapsed();
        println!(
            "{} generations, {} points: {:.1} ms (scaling {:.2})",
            generations.len(),
            metrics.points.len(),
            elapsed.as_secs_f64() * 1e3,
            metrics.s1.scaling.unwrap_or(f64::NAN),
        );
    }
}
