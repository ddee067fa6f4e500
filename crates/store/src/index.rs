//! The full-text index, built after an import commits and emptied of a deleted dataset.
//! The rows are browsable at once; search sees each dataset's rows up to `indexed_rows`,
//! which catches up a chunk per transaction, so an interrupted build keeps what it did
//! and the next one goes on.

use crate::query::{dataset_from_row, DATASET_COLUMNS};
use crate::{Store, StoreError};
use sqlx::{AssertSqlSafe, Row};
use std::time::{Duration, Instant};
use thinkscope_protocol::{DatasetInfo, IndexProgress};

/// How long one chunk should hold the write lock. Rows per chunk follow it, since rows
/// range from a 200-byte question to several 30 KB traces; every commit flushes FTS5's
/// terms to a new segment, so much shorter chunks mean more segment merges.
const CHUNK_TARGET: Duration = Duration::from_millis(1500);
const FIRST_CHUNK_ROWS: i64 = 1024;
const CHUNK_ROWS: std::ops::RangeInclusive<i64> = 64..=16_384;

/// Datasets search does not wholly see, in the order they are indexed (and listed).
const UNINDEXED: &str = "WHERE indexed_rows < rows ORDER BY imported_at, id";

/// A sample's rowid and the texts the index holds for it, over `samples s`. The index is
/// contentless: removing a row means handing FTS5 these same texts again. Traces join in
/// position order with newlines, as the snippets read them.
const INDEXED_TEXTS: &str = "s.rowid, s.question, IFNULL(s.solution, ''),
    IFNULL((SELECT group_concat(text, char(10)) FROM
                (SELECT text FROM traces t WHERE t.sample_id = s.id ORDER BY t.position)), '')
    FROM samples s";

impl Store {
    /// Datasets whose rows are not all searchable yet, oldest import first.
    pub async fn unindexed_datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {DATASET_COLUMNS} FROM datasets {UNINDEXED}")))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(dataset_from_row).collect())
    }

    /// Indexes every committed row that search does not see yet, reporting after each
    /// chunk. Checks `stop` between chunks; returns whether it caught up.
    pub async fn build_search_index(
        &self,
        mut on_progress: impl FnMut(&IndexProgress),
        stop: impl Fn() -> bool,
    ) -> Result<bool, StoreError> {
        self.ensure_writable()?;
        let mut chunk_rows = FIRST_CHUNK_ROWS;
        loop {
            if stop() {
                return Ok(false);
            }
            let started = Instant::now();
            // IMMEDIATE: the watermark is read under the write lock, so two builders
            // (the app and a CLI on the same file) never index a row twice.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let next: Option<(String, i64, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT id, rows, indexed_rows, first_rowid FROM datasets {UNINDEXED} LIMIT 1"
            )))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, rows, indexed, first_rowid)) = next else {
                tx.commit().await?;
                return Ok(true);
            };
            let done = (indexed + chunk_rows).min(rows);
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO samples_fts (rowid, question, solution, traces) SELECT {INDEXED_TEXTS} WHERE s.rowid BETWEEN ? AND ?"
            )))
            .bind(first_rowid + indexed)
            .bind(first_rowid + done - 1)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE datasets SET indexed_rows = ? WHERE id = ?").bind(done).bind(&id).execute(&mut *tx).await?;
            tx.commit().await?;
            let took = started.elapsed().as_secs_f64().max(1e-3);
            let scaled = ((done - indexed) as f64 * CHUNK_TARGET.as_secs_f64() / took) as i64;
            chunk_rows = scaled.clamp(*CHUNK_ROWS.start(), *CHUNK_ROWS.end());
            self.checkpoint().await;
            on_progress(&IndexProgress { dataset_id: id, indexed_rows: done as u64, rows: rows as u64 });
        }
    }

    /// Removes a dataset: its samples, traces, token counts and index entries, in one
    /// transaction. Returns what was removed.
    pub async fn delete_dataset(&self, id: &str) -> Result<DatasetInfo, StoreError> {
        self.ensure_writable()?;
        // IMMEDIATE: no index chunk of this dataset lands between reading how far the
        // index got and removing those entries.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {DATASET_COLUMNS}, first_rowid FROM datasets WHERE id = ?")))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::UnknownDataset(id.to_string()))?;
        let dataset = dataset_from_row(&row);
        if let Some(first_rowid) = row.get::<Option<i64>, _>("first_rowid") {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO samples_fts (samples_fts, rowid, question, solution, traces) \
                 SELECT 'delete', {INDEXED_TEXTS} WHERE s.rowid BETWEEN ? AND ?"
            )))
            .bind(first_rowid)
            .bind(first_rowid + dataset.indexed_rows as i64 - 1)
            .execute(&mut *tx)
            .await?;
        }
        // Samples, traces and token counts go by ON DELETE CASCADE.
        sqlx::query("DELETE FROM datasets WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.checkpoint().await;
        Ok(dataset)
    }
}
