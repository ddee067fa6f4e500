//! One module per subcommand; each parses its own flags and prints for humans or `--json`.

pub mod answers;
pub mod bench;
pub mod bench_decode;
pub mod bench_eval;
pub mod bench_import;
pub mod bench_score;
pub mod datasets;
pub mod delete;
pub mod eval;
pub mod eval_report;
pub mod eval_score;
pub mod generate;
pub mod import;
pub mod models;
pub mod samples;
pub mod search_index;
pub mod show;
pub mod tokens;

use std::path::PathBuf;
use thinkscope_datasets::CancelToken;
use thinkscope_engine::device::{parse_dtype, DType, DeviceKind};
use thinkscope_engine::LoadOptions;
use thinkscope_store::{OpenMode, Store};

/// Where and how a model runs, for the commands that load one.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// tokenizer.json to use instead of the model's own (a GGUF file's embedded one, or
    /// tokenizer.json next to the weights).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceKind,
    /// f32, bf16 or f16 (safetensors models).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
}

impl ModelArgs {
    pub fn dtype(&self) -> anyhow::Result<DType> {
        Ok(parse_dtype(&self.dtype)?)
    }

    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        Ok(LoadOptions { device: self.device, dtype: Some(self.dtype()?), tokenizer: self.tokenizer.clone() })
    }
}

/// Flags every library command shares.
pub struct Ctx {
    pub db: Option<PathBuf>,
    pub read_only: bool,
}

impl Ctx {
    pub async fn open(&self) -> anyhow::Result<Store> {
        let path = Store::resolve_path(self.db.clone());
        let mode = if self.read_only { OpenMode::ReadOnly } else { OpenMode::ReadWrite };
        Ok(Store::open(&path, mode).await?)
    }
}

/// Runs `then` when Ctrl-C arrives, for long work that stops between steps.
pub fn on_ctrl_c(then: impl FnOnce() + Send + 'static) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            then();
        }
    });
}

/// A flag that Ctrl-C raises, for library work (imports, index builds).
pub fn cancel_on_ctrl_c() -> CancelToken {
    let cancel = CancelToken::default();
    let flag = cancel.clone();
    on_ctrl_c(move || flag.cancel());
    cancel
}

pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// First line of `text`, cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}
