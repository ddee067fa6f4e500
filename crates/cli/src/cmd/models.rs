//! `thinkscope models`: models in the Hugging Face cache and in folders the user adds.

use std::path::PathBuf;
use thinkscope_engine::discover;
use thinkscope_engine::generation::ModelEntry;

#[derive(clap::Args)]
pub struct Args {
    /// Extra folders to scan (repeatable; also $THINKSCOPE_MODEL_DIRS, colon-separated).
    #[arg(long = "dir", env = "THINKSCOPE_MODEL_DIRS", value_delimiter = ':')]
    dirs: Vec<PathBuf>,
    /// Write the demo model (random weights, small, clearly labelled "demo — not a real
    /// model") into this folder and exit: it lets the whole evaluation path run with
    /// nothing downloaded.
    #[arg(long, value_name = "FOLDER")]
    write_demo: Option<PathBuf>,
    /// Print a JSON array.
    #[arg(long)]
    json: bool,
}

/// The demo model's shape and seed: Qwen2-like, small enough to decode fast on a laptop.
pub const DEMO_SHAPE: &str = "tiny-qwen2";
const DEMO_SEED: u64 = 2025;

pub async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(dir) = &args.write_demo {
        let cfg = thinkscope_engine::random::preset(DEMO_SHAPE)?;
        thinkscope_engine::random::write_model_dir(dir, &cfg, DEMO_SEED)?;
        println!("wrote the demo model (random weights — not a real model) to {}", dir.display());
        return Ok(());
    }
    let entries = tokio::task::spawn_blocking(move || {
        let mut entries: Vec<ModelEntry> =
            discover::hf_cache_dir().map(|hub| discover::scan_hf_cache(&hub)).unwrap_or_default();
        for dir in &args.dirs {
            entries.extend(discover::scan_folder(dir, 3));
        }
        entries
    })
    .await?;
    if args.json {
        return super::print_json(&entries);
    }
    if entries.is_empty() {
        eprintln!("no models found (Hugging Face cache or --dir folders)");
        return Ok(());
    }
    println!("{:<40} {:<18} {:>8} {:<6} {:>9} {:<11} PATH", "NAME", "ARCH", "PARAMS", "DTYPE", "SIZE", "FORMAT");
    for e in &entries {
        println!(
            "{:<40} {:<18} {:>8} {:<6} {:>9} {:<11} {}{}",
            e.name,
            e.architecture.as_deref().unwrap_or("?"),
            e.parameters.map(human_count).unwrap_or_else(|| "?".into()),
            e.dtype.as_deref().unwrap_or("?"),
            human_bytes(e.size_bytes),
            e.format,
            e.path,
            e.problem.as_deref().map(|p| format!("  ({p})")).unwrap_or_default(),
        );
    }
    Ok(())
}

fn human_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1}B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.0}M", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.0}K", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn human_bytes(n: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    match n as f64 {
        b if b >= GIB => format!("{:.1} GiB", b / GIB),
        b if b >= MIB => format!("{:.1} MiB", b / MIB),
        b => format!("{:.0} KiB", b / 1024.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_count(494_032_768), "494M");
        assert_eq!(human_count(7_615_616_512), "7.6B");
        assert_eq!(human_bytes(988_097_824), "942.3 MiB");
    }
}
