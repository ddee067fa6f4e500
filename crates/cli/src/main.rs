//! `thinkscope`: the command-line shell over the core crates.

mod cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "thinkscope", version, about = "Test-time-scaling workbench for reasoning models")]
struct Cli {
    /// The SQLite library file (default: $THINKSCOPE_DB, else the OS data dir).
    #[arg(long, global = true, env = "THINKSCOPE_DB")]
    db: Option<PathBuf>,
    /// Open the library read-only (a colleague's file): nothing is written to it.
    #[arg(long, global = true)]
    read_only: bool,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the generate flags does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Import a dataset file (JSONL, JSON, CSV, Parquet) into the library.
    Import(cmd::import::Args),
    /// List the datasets in the library.
    Datasets(cmd::datasets::Args),
    /// Remove a dataset with its samples, traces, token counts and search entries.
    Delete(cmd::delete::Args),
    /// List or search the samples of a dataset.
    Samples(cmd::samples::Args),
    /// Show one sample in full.
    Show(cmd::show::Args),
    /// Count tokens of questions, traces and answers with a tokenizer.json.
    Tokens(cmd::tokens::Args),
    /// Benchmarks that print ratios and rates (not timed tests).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
    // Engine commands (generate, models) are added here.
    /// Generate with a local model under a thinking policy (budget forcing, shifted window).
    Generate(cmd::generate::Args),
    /// List local models (Hugging Face cache and --dir folders).
    Models(cmd::models::Args),
    /// Evaluation runs: budget sweeps over a dataset, saved as they finish, resumable.
    #[command(subcommand)]
    Eval(cmd::eval::EvalCmd),
    /// Answer extraction and equivalence, as scoring applies them.
    #[command(subcommand)]
    Answers(cmd::answers::AnswersCmd),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("THINKSCOPE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        let ctx = cmd::Ctx { db: cli.db, read_only: cli.read_only };
        match cli.command {
            Command::Import(args) => cmd::import::run(&ctx, args).await,
            Command::Delete(args) => cmd::delete::run(&ctx, args).await,
            Command::Datasets(args) => cmd::datasets::run(&ctx, args).await,
            Command::Samples(args) => cmd::samples::run(&ctx, args).await,
            Command::Show(args) => cmd::show::run(&ctx, args).await,
            Command::Tokens(args) => cmd::tokens::run(&ctx, args).await,
            Command::Bench(bench) => cmd::bench::run(bench).await,
            Command::Generate(args) => cmd::generate::run(args).await,
            Command::Models(args) => cmd::models::run(args).await,
            Command::Eval(eval) => cmd::eval::run(&ctx, eval).await,
            Command::Answers(answers) => cmd::answers::run(answers),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
