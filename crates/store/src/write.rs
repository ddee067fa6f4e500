//! Writing: one import as one transaction, and token counts. The full-text index
//! follows an import in `index.rs`.

use crate::{ids, now_rfc3339, original, Store, StoreError};
use sqlx::{AssertSqlSafe, Sqlite, Transaction};
use std::collections::BTreeMap;
use thinkscope_protocol::{DatasetInfo, TraceKind};

/// A dataset about to be imported.
#[derive(Debug, Clone)]
pub struct NewDataset {
    pub name: String,
    pub source_file: String,
    pub format: String,
    pub schema: String,
    pub content_hash: String,
    pub size_bytes: u64,
    /// JSON array of the mapping used, part of the dataset's identity.
    pub mapping_json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTrace {
    pub kind: TraceKind,
    pub label: String,
    pub text: String,
}

/// One canonical sample, as the importer produces it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewSample {
    pub external_id: Option<String>,
    pub question: String,
    pub answer: Option<String>,
    pub solution: Option<String>,
    pub domain: Option<String>,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub level: Option<String>,
    pub choices: Option<Vec<String>>,
    pub correct_choice: Option<u32>,
    pub tests: Option<String>,
    pub entry_point: Option<String>,
    pub grades: BTreeMap<String, String>,
    pub traces: Vec<NewTrace>,
    /// The source row, as read.
    pub original: serde_json::Map<String, serde_json::Value>,
}

/// An open import: samples go in one transaction that lands on `commit`.
/// Dropping it without committing rolls everything back.
pub struct ImportTx {
    tx: Transaction<'static, Sqlite>,
    dataset: DatasetInfo,
    mapping_json: String,
    rows: u64,
    /// Rowid of row 0; row `i` gets `first_rowid + i`, so the dataset is a rowid range.
    first_rowid: i64,
    /// Rows waiting to be written: a batch per round trip costs far less than three
    /// round trips to the database thread per row.
    pending: Vec<PendingRow>,
}

/// Rows written per round trip to the database thread.
const BATCH_ROWS: usize = 64;

/// `n` copies of a one-row statement, sent as one query (arguments bind in order).
fn repeated(sql: &str, n: usize) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(AssertSqlSafe(format!("{sql};").repeat(n)))
}

/// A sample with every derived column computed.
struct PendingRow {
    rowid: i64,
    id: String,
    row_index: i64,
    sample: NewSample,
    choices: Option<String>,
    grades: Option<String>,
    original: String,
    original_refs: Option<String>,
    has_trace: bool,
    length_chars: i64,
}

/// What `begin_import` found.
pub enum ImportStart {
    Fresh(ImportTx),
    /// The same content with the same mapping is already stored: nothing to do.
    AlreadyImported(DatasetInfo),
}

impl Store {
    /// Starts an import, unless the dataset (same content and mapping) is already stored.
    pub async fn begin_import(&self, ds: NewDataset) -> Result<ImportStart, StoreError> {
        self.ensure_writable()?;
        let id = ids::dataset_id(&ds.content_hash, &ds.schema, &ds.mapping_json);
        if let Some(existing) = self.dataset_by_id(&id).await? {
            return Ok(ImportStart::AlreadyImported(existing));
        }
        let tx = self.pool.begin().await?;
        let dataset = DatasetInfo {
            id,
            name: ds.name,
            source_file: ds.source_file,
            format: ds.format,
            schema: ds.schema,
            content_hash: ds.content_hash,
            size_bytes: ds.size_bytes,
            rows: 0,
            indexed_rows: 0,
            imported_at: now_rfc3339(),
        };
        Ok(ImportStart::Fresh(ImportTx {
            tx,
            dataset,
            mapping_json: ds.mapping_json,
            rows: 0,
            first_rowid: 0,
            pending: Vec::with_capacity(BATCH_ROWS),
        }))
    }

    /// Records token counts under a tokenizer and refreshes `samples.thinking_tokens`
    /// from the `trace:0` counts, in one transaction.
    pub async fn record_token_counts(
        &self,
        tokenizer_id: &str,
        tokenizer_name: &str,
        rows: &[TokenCountRow],
    ) -> Result<(), StoreError> {
        self.ensure_writable()?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tokenizers (id, name, counted_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, counted_at = excluded.counted_at",
        )
        .bind(tokenizer_id)
        .bind(tokenizer_name)
        .bind(now_rfc3339())
        .execute(&mut *tx)
        .await?;
        for row in rows {
            sqlx::query(
                "INSERT OR REPLACE INTO token_counts (sample_id, tokenizer_id, field, tokens) VALUES (?, ?, ?, ?)",
            )
            .bind(&row.sample_id)
            .bind(tokenizer_id)
            .bind(&row.field)
            .bind(row.tokens as i64)
            .execute(&mut *tx)
            .await?;
            if row.field == "trace:0" {
                sqlx::query("UPDATE samples SET thinking_tokens = ? WHERE id = ?")
                    .bind(row.tokens as i64)
                    .bind(&row.sample_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.checkpoint().await;
        Ok(())
    }
}

/// One counted field of one sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCountRow {
    pub sample_id: String,
    /// `question`, `answer`, `solution` or `trace:N`.
    pub field: String,
    pub tokens: u64,
}

impl ImportTx {
    pub fn dataset_id(&self) -> &str {
        &self.dataset.id
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds the next sample (row indices are assigned in insertion order). Rows are
    /// written in batches; `commit` writes the rest.
    pub async fn insert(&mut self, sample: NewSample) -> Result<(), StoreError> {
        if self.rows == 0 {
            self.insert_dataset_row().await?;
        }
        let row_index = self.rows;
        let first_thinking = sample.traces.iter().find(|t| t.kind == TraceKind::Thinking);
        let length_chars = first_thinking.map_or(&sample.question, |t| &t.text).chars().count() as i64;
        let has_trace = first_thinking.is_some();
        let choices = sample.choices.as_ref().map(|c| serde_json::to_string(c).expect("strings serialise"));
        let grades =
            (!sample.grades.is_empty()).then(|| serde_json::to_string(&sample.grades).expect("strings serialise"));
        let (original, original_refs) = original::elide(&sample);
        self.pending.push(PendingRow {
            rowid: self.first_rowid + row_index as i64,
            id: ids::sample_id(&self.dataset.id, row_index),
            row_index: row_index as i64,
            sample,
            choices,
            grades,
            original,
            original_refs,
            has_trace,
            length_chars,
        });
        self.rows += 1;
        if self.pending.len() >= BATCH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the pending rows: samples and their traces.
    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        let dataset_id = self.dataset.id.as_str();
        let mut samples = repeated(
            "INSERT INTO samples (rowid, id, dataset_id, row_index, external_id, question, answer, solution, \
             domain, subject, source, level, choices, correct_choice, tests, entry_point, grades, \
             original, original_refs, has_trace, length_chars) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows.len(),
        );
        for r in &rows {
            let s = &r.sample;
            samples = samples
                .bind(r.rowid)
                .bind(r.id.as_str())
                .bind(dataset_id)
                .bind(r.row_index)
                .bind(s.external_id.as_deref())
                .bind(s.question.as_str())
                .bind(s.answer.as_deref())
                .bind(s.solution.as_deref())
                .bind(s.domain.as_deref())
                .bind(s.subject.as_deref())
                .bind(s.source.as_deref())
                .bind(s.level.as_deref())
                .bind(r.choices.as_deref())
                .bind(s.correct_choice.map(i64::from))
                .bind(s.tests.as_deref())
                .bind(s.entry_point.as_deref())
                .bind(r.grades.as_deref())
                .bind(r.original.as_str())
                .bind(r.original_refs.as_deref())
                .bind(r.has_trace)
                .bind(r.length_chars);
        }
        samples.execute(&mut *self.tx).await?;

        let trace_count = rows.iter().map(|r| r.sample.traces.len()).sum();
        if trace_count > 0 {
            let mut traces =
                repeated("INSERT INTO traces (sample_id, position, kind, label, text) VALUES (?, ?, ?, ?, ?)", trace_count);
            for r in &rows {
                for (position, t) in r.sample.traces.iter().enumerate() {
                    let kind = match t.kind {
                        TraceKind::Thinking => "thinking",
                        TraceKind::Attempt => "attempt",
                    };
                    traces = traces.bind(r.id.as_str()).bind(position as i64).bind(kind).bind(t.label.as_str()).bind(t.text.as_str());
                }
            }
            traces.execute(&mut *self.tx).await?;
        }

        Ok(())
    }

    async fn insert_dataset_row(&mut self) -> Result<(), StoreError> {
        let d = &self.dataset;
        sqlx::query(
            "INSERT INTO datasets (id, name, source_file, format, schema, content_hash, size_bytes, rows, mapping, imported_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(&d.id)
        .bind(&d.name)
        .bind(&d.source_file)
        .bind(&d.format)
        .bind(&d.schema)
        .bind(&d.content_hash)
        .bind(d.size_bytes as i64)
        .bind(&self.mapping_json)
        .bind(&d.imported_at)
        .execute(&mut *self.tx)
        .await?;
        // Read after the first write: this transaction now holds the write lock, so no
        // other import can take the same rowids.
        let last: i64 = sqlx::query_scalar("SELECT IFNULL(MAX(rowid), 0) FROM samples").fetch_one(&mut *self.tx).await?;
        self.first_rowid = last + 1;
        Ok(())
    }

    /// Lands the import. An import of zero rows stores nothing and returns the dataset
    /// with `rows == 0`.
    pub async fn commit(mut self) -> Result<DatasetInfo, StoreError> {
        self.flush().await?;
        if self.rows > 0 {
            sqlx::query("UPDATE datasets SET rows = ?, first_rowid = ?, last_rowid = ? WHERE id = ?")
                .bind(self.rows as i64)
                .bind(self.first_rowid)
                .bind(self.first_rowid + self.rows as i64 - 1)
                .bind(&self.dataset.id)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        self.dataset.rows = self.rows;
        Ok(self.dataset)
    }

    /// Drops everything this import wrote.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}
