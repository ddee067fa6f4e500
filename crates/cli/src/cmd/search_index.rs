//! Bringing the full-text index up to date for the commands that search.

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::time::Instant;
use thinkscope_store::Store;

/// How a catch-up ended.
pub enum Caught {
    /// Everything is searchable; `secs` spent indexing (0 when nothing was pending).
    Up { secs: f64 },
    /// `stop` came first; `left` rows wait for the next command that searches.
    Stopped { left: u64 },
}

/// Rows search does not see yet.
pub async fn rows_left(store: &Store) -> anyhow::Result<u64> {
    Ok(store.unindexed_datasets().await?.iter().map(|d| d.rows - d.indexed_rows).sum())
}

/// Indexes what search does not see yet, with a progress bar on stderr unless `quiet`.
pub async fn catch_up(store: &Store, quiet: bool, stop: impl Fn() -> bool) -> anyhow::Result<Caught> {
    let pending = store.unindexed_datasets().await?;
    let left: u64 = pending.iter().map(|d| d.rows - d.indexed_rows).sum();
    let mut indexed: HashMap<String, u64> = pending.into_iter().map(|d| (d.id, d.indexed_rows)).collect();
    if left == 0 {
        return Ok(Caught::Up { secs: 0.0 });
    }
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(left) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows indexed for search ({eta} left)").expect("static template"),
    );
    let started = Instant::now();
    let caught_up = store
        .build_search_index(
            |p| {
                let before = indexed.insert(p.dataset_id.clone(), p.indexed_rows).unwrap_or(0);
                // Saturating: another process may have deleted and re-imported meanwhile.
                bar.inc(p.indexed_rows.saturating_sub(before));
            },
            stop,
        )
        .await?;
    bar.finish_and_clear();
    if caught_up {
        Ok(Caught::Up { secs: started.elapsed().as_secs_f64() })
    } else {
        Ok(Caught::Stopped { left: rows_left(store).await? })
    }
}
