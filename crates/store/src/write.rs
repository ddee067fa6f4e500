//! Writing: one import as one transaction, and token counts.

use crate::{ids, now_rfc3339, Store, StoreError};
use sqlx::{Sqlite, Transaction};
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
    /// The source row serialised as JSON.
    pub original_json: String,
}

/// An open import: samples go in one transaction that lands on `commit`.
/// Dropping it without committing rolls everything back.
pub struct ImportTx {
    tx: Transaction<'static, Sqlite>,
    dataset: DatasetInfo,
    mapping_json: String,
    rows: u64,
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
            imported_at: now_rfc3339(),
        };
        Ok(ImportStart::Fresh(ImportTx { tx, dataset, mapping_json: ds.mapping_json, rows: 0 }))
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

    /// Adds the next sample (row indices are assigned in insertion order).
    pub async fn insert(&mut self, s: &NewSample) -> Result<(), StoreError> {
        if self.rows == 0 {
            self.insert_dataset_row().await?;
        }
        let row_index = self.rows;
        let id = ids::sample_id(&self.dataset.id, row_index);
        let first_thinking = s.traces.iter().find(|t| t.kind == TraceKind::Thinking);
        let length_chars = first_thinking.map_or(&s.question, |t| &t.text).chars().count() as i64;
        let choices = s.choices.as_ref().map(|c| serde_json::to_string(c).expect("strings serialise"));
        let grades = (!s.grades.is_empty()).then(|| serde_json::to_string(&s.grades).expect("strings serialise"));
        let rowid: i64 = sqlx::query_scalar(
            "INSERT INTO samples (id, dataset_id, row_index, external_id, question, answer, solution,
                 domain, subject, source, level, choices, correct_choice, tests, entry_point, grades,
                 original, has_trace, length_chars)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rowid",
        )
        .bind(&id)
        .bind(&self.dataset.id)
        .bind(row_index as i64)
        .bind(&s.external_id)
        .bind(&s.question)
        .bind(&s.answer)
        .bind(&s.solution)
        .bind(&s.domain)
        .bind(&s.subject)
        .bind(&s.source)
        .bind(&s.level)
        .bind(choices)
        .bind(s.correct_choice.map(i64::from))
        .bind(&s.tests)
        .bind(&s.entry_point)
        .bind(grades)
        .bind(&s.original_json)
        .bind(first_thinking.is_some())
        .bind(length_chars)
        .fetch_one(&mut *self.tx)
        .await?;
        for (position, t) in s.traces.iter().enumerate() {
            sqlx::query("INSERT INTO traces (sample_id, position, kind, label, text) VALUES (?, ?, ?, ?, ?)")
                .bind(&id)
                .bind(position as i64)
                .bind(match t.kind {
                    TraceKind::Thinking => "thinking",
                    TraceKind::Attempt => "attempt",
                })
                .bind(&t.label)
                .bind(&t.text)
                .execute(&mut *self.tx)
                .await?;
        }
        let trace_text = s.traces.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join("\n");
        sqlx::query("INSERT INTO samples_fts (rowid, question, solution, traces) VALUES (?, ?, ?, ?)")
            .bind(rowid)
            .bind(&s.question)
            .bind(s.solution.as_deref().unwrap_or(""))
            .bind(trace_text)
            .execute(&mut *self.tx)
            .await?;
        self.rows += 1;
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
        Ok(())
    }

    /// Lands the import. An import of zero rows stores nothing and returns the dataset
    /// with `rows == 0`.
    pub async fn commit(mut self) -> Result<DatasetInfo, StoreError> {
        if self.rows > 0 {
            sqlx::query("UPDATE datasets SET rows = ? WHERE id = ?")
                .bind(self.rows as i64)
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
