//! `thinkscope bench …`: benchmarks that print rates and ratios measured in-process.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Write a Z1-shaped file, import it, then time FTS search and page loads.
    Import(super::bench_import::Args),
    // `Decode(super::bench_decode::Args)` is added by the engine.
    /// Prefill/decode rates and the cost of forced "Wait" extensions.
    Decode(super::bench_decode::Args),
    /// Continuous batching against batch 1, a one-pass sweep against separate runs, bytes stored per token.
    Eval(super::bench_eval::Args),
    /// Answer checks per second, sandboxed against bare python3 runs, metrics and figures over 1M generations.
    Score(super::bench_score::Args),
}

pub async fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Import(args) => super::bench_import::run(args).await,
        BenchCmd::Decode(args) => super::bench_decode::run(args).await,
        BenchCmd::Eval(args) => super::bench_eval::run(args).await,
        BenchCmd::Score(args) => super::bench_score::run(args).await,
    }
}
