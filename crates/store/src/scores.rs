//! Scores of evaluation generations: one row per (unit, scorer, scorer version).
//!
//! Scoring is idempotent: a unit already scored by a scorer version is skipped unless the
//! caller asks to replace it, and a new version adds rows beside the old ones. Readers
//! take, per unit, the newest version ([`Store::latest_scores`]).

use crate::runs::UnitKey;
use crate::{now_rfc3339, Store, StoreError};
use serde::Serialize;
use sqlx::Row;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// A verdict on one unit, for [`Store::write_scores`].
#[derive(Debug, Clone)]
pub struct NewScore {
    pub key: UnitKey,
    pub scorer: String,
    pub version: String,
    /// The extracted answer; `None` when nothing was extracted.
    pub answer: Option<String>,
    pub correct: bool,
    /// How the verdict was reached (method, sandbox status, stderr tail, …).
    pub details: serde_json::Value,
}

/// A stored score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreRecord {
    pub sample_id: String,
    pub point_index: u32,
    pub sample_index: u32,
    pub scorer: String,
    pub version: String,
    pub answer: Option<String>,
    pub correct: bool,
    pub details: serde_json::Value,
    pub created: String,
}

impl ScoreRecord {
    pub fn key(&self) -> UnitKey {
        UnitKey { sample_id: self.sample_id.clone(), point_index: self.point_index, sample_index: self.sample_index }
    }
}

/// Orders versions like `1.2.10` > `1.2.9`: dot/dash-separated parts compare as numbers
/// when both are numbers, else as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| v.split(['.', '-']).map(str::to_string).collect::<Vec<_>>();
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

/// A unit's token counts, without its text: what metrics need besides its score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLengths {
    pub key: UnitKey,
    pub thinking_tokens: u32,
    pub answer_tokens: u32,
    /// Stored as failed (no output).
    pub failed: bool,
}

impl Store {
    /// Token counts of every stored unit of `run_id`.
    pub async fn unit_lengths(&self, run_id: &str) -> Result<Vec<UnitLengths>, StoreError> {
        let rows: Vec<(String, i64, i64, i64, i64, bool)> = sqlx::query_as(
            "SELECT sample_id, point_index, sample_index, thinking_tokens, answer_tokens, error IS NOT NULL \
             FROM generations WHERE run_id = ?",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(sample_id, p, s, thinking, answer, failed)| UnitLengths {
                key: UnitKey { sample_id, point_index: p as u32, sample_index: s as u32 },
                thinking_tokens: thinking.clamp(0, u32::MAX as i64) as u32,
                answer_tokens: answer.clamp(0, u32::MAX as i64) as u32,
                failed,
            })
            .collect())
    }

    /// Units of `run_id` that `scorer` at `version` has already scored.
    pub async fn scored_units(&self, run_id: &str, scorer: &str, version: &str) -> Result<HashSet<UnitKey>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT sample_id, point_index, sample_index FROM scores WHERE run_id = ? AND scorer = ? AND version = ?",
        )
        .bind(run_id)
        .bind(scorer)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        Ok(crate::runs::unit_keys(rows))
    }

    /// Stores scores in one transaction and returns how many rows were written. A row
    /// for the same unit, scorer and version is kept unless `replace`.
    pub async fn write_scores(&self, run_id: &str, scores: &[NewScore], replace: bool) -> Result<u64, StoreError> {
        self.ensure_writable()?;
        let on_conflict = if replace {
            "DO UPDATE SET answer = excluded.answer, correct = excluded.correct, details = excluded.details, \
             created_at = excluded.created_at"
        } else {
            "DO NOTHING"
        };
        let sql = format!(
            "INSERT INTO scores (run_id, sample_id, point_index, sample_index, scorer, version, answer, correct, \
             details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (run_id, sample_id, point_index, sample_index, scorer, version) {on_conflict}"
        );
        let now = now_rfc3339();
        let mut written = 0;
        let mut tx = self.pool.begin().await?;
        for s in scores {
            written += sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(run_id)
                .bind(&s.key.sample_id)
                .bind(s.key.point_index as i64)
                .bind(s.key.sample_index as i64)
                .bind(&s.scorer)
                .bind(&s.version)
                .bind(&s.answer)
                .bind(s.correct)
                .bind(s.details.to_string())
                .bind(&now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        self.checkpoint().await;
        Ok(written)
    }

    /// Per unit of `run_id`, its score by the newest scorer version (the latest written
    /// when two scorers scored it).
    pub async fn latest_scores(&self, run_id: &str) -> Result<HashMap<UnitKey, ScoreRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT sample_id, point_index, sample_index, scorer, version, answer, correct, details, created_at \
             FROM scores WHERE run_id = ?",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        let mut latest: HashMap<UnitKey, ScoreRecord> = HashMap::new();
        for r in rows {
            let details: String = r.get("details");
            let record = ScoreRecord {
                sample_id: r.get("sample_id"),
                point_index: r.get::<i64, _>("point_index") as u32,
                sample_index: r.get::<i64, _>("sample_index") as u32,
                scorer: r.get("scorer"),
                version: r.get("version"),
                answer: r.get("answer"),
                correct: r.get("correct"),
                details: serde_json::from_str(&details).map_err(|e| StoreError::CorruptRun {
                    run: run_id.to_string(),
                    field: "scores.details",
                    detail: e.to_string(),
                })?,
                created: r.get("created_at"),
            };
            let newer = |old: &ScoreRecord| {
                compare_versions(&record.version, &old.version).then_with(|| record.created.cmp(&old.created))
                    == Ordering::Greater
            };
            match latest.get(&record.key()) {
                Some(old) if !newer(old) => {}
                _ => {
                    latest.insert(record.key(), record);
                }
            }
        }
        Ok(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.10.0", "1.9.3"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0", "1.0.1"), Ordering::Less);
        assert_eq!(compare_versions("2.0.0-beta", "2.0.0-alpha"), Ordering::Greater);
    }
}
