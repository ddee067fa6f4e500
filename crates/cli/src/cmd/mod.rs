//! One module per subcommand; each parses its own flags and prints for humans or `--json`.

pub mod bench;
pub mod bench_decode;
pub mod bench_import;
pub mod datasets;
pub mod generate;
pub mod import;
pub mod models;
pub mod samples;
pub mod show;
pub mod tokens;

use std::path::PathBuf;
use thinkscope_store::{OpenMode, Store};

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
