//! Evaluation runs: their plans, status and generations.
//!
//! Only the run writer (`write_generations`) writes generations. A unit is committed whole
//! with its report, at most once: a finished unit is never replaced; a failed one is,
//! when a resume runs it again.

use crate::packed::{pack_ids, unpack_ids};
use crate::{now_rfc3339, Store, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashSet;
use thinkscope_protocol::eval::{GenerationRecord, Provenance, RunDetail, RunPlan, RunStatus, RunSummary};
use thinkscope_protocol::generation::{GenerationReport, StopReason};

/// A run about to start.
pub struct NewRun {
    pub name: String,
    pub plan: RunPlan,
    /// Identifies "the same run": plan and model fingerprint.
    pub plan_hash: String,
    pub provenance: Provenance,
    pub model: String,
    pub policy: String,
    pub total_units: u64,
}

/// A unit's key within its run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitKey {
    pub sample_id: String,
    pub point_index: u32,
    pub sample_index: u32,
}

/// A finished (or failed) unit for the writer.
pub struct NewGeneration {
    pub key: UnitKey,
    pub seed: u64,
    /// `Ok`: the generation; `Err`: why it failed (stored; resume runs it again).
    pub outcome: Result<GenerationReport, String>,
    pub tries: u32,
    pub accepted: bool,
    pub shuffle: Option<Vec<u32>>,
}

/// Unit keys from `(sample_id, point_index, sample_index)` rows.
pub(crate) fn unit_keys(rows: Vec<(String, i64, i64)>) -> HashSet<UnitKey> {
    rows.into_iter().map(|(sample_id, p, s)| UnitKey { sample_id, point_index: p as u32, sample_index: s as u32 }).collect()
}

const SUMMARY: &str = "SELECT r.id, r.name, r.dataset_id, d.name AS dataset, r.model, r.policy, r.status, \
     r.total_units, r.forward_tokens, r.error, r.created_at, r.updated_at, \
     (SELECT COUNT(*) FROM generations g WHERE g.run_id = r.id AND g.error IS NULL) AS done, \
     (SELECT COUNT(*) FROM generations g WHERE g.run_id = r.id AND g.error IS NOT NULL) AS failed, \
     (SELECT COALESCE(SUM(g.output_tokens), 0) FROM generations g WHERE g.run_id = r.id) AS generated \
     FROM runs r JOIN datasets d ON d.id = r.dataset_id";

fn status_from(s: &str) -> RunStatus {
    match s {
        "running" => RunStatus::Running,
        "paused" => RunStatus::Paused,
        "done" => RunStatus::Done,
        _ => RunStatus::Failed,
    }
}

fn summary_from_row(r: &SqliteRow) -> RunSummary {
    RunSummary {
        id: r.get("id"),
        name: r.get("name"),
        dataset: r.get("dataset"),
        dataset_id: r.get("dataset_id"),
        model: r.get("model"),
        policy: r.get("policy"),
        status: status_from(r.get::<&str, _>("status")),
        done: r.get::<i64, _>("done") as u64,
        total: r.get::<i64, _>("total_units") as u64,
        failed: r.get::<i64, _>("failed") as u64,
        forward_tokens: r.get::<i64, _>("forward_tokens") as u64,
        generated_tokens: r.get::<i64, _>("generated") as u64,
        created: r.get("created_at"),
        updated: r.get("updated_at"),
        error: r.get("error"),
    }
}

fn json_field<T: serde::de::DeserializeOwned>(run: &str, field: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::CorruptRun { run: run.to_string(), field, detail: e.to_string() })
}

fn stop_reason_name(reason: StopReason) -> String {
    serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl Store {
    pub async fn create_run(&self, run: NewRun) -> Result<RunSummary, StoreError> {
        self.ensure_writable()?;
        let created = now_rfc3339();
        // Two runs of one plan (two people, or run twice) stay two runs: the id also
        // hashes when and where this one started.
        let nonce = format!("{:?}/{}", std::time::SystemTime::now(), std::process::id());
        let id = crate::ids::run_id(&run.plan_hash, &nonce);
        let plan = serde_json::to_string(&run.plan).expect("plans serialize");
        let provenance = serde_json::to_string(&run.provenance).expect("provenance serializes");
        sqlx::query(
            "INSERT INTO runs (id, name, dataset_id, plan, plan_hash, provenance, model, policy, status, \
             total_units, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
        )
        .bind(&id)
        .bind(&run.name)
        .bind(&run.plan.dataset_id)
        .bind(plan)
        .bind(&run.plan_hash)
        .bind(provenance)
        .bind(&run.model)
        .bind(&run.policy)
        .bind(run.total_units as i64)
        .bind(&created)
        .bind(&created)
        .execute(&self.pool)
        .await?;
        self.checkpoint().await;
        Ok(self.run(&id).await?.summary)
    }

    pub async fn runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("{SUMMARY} ORDER BY r.created_at, r.id")))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(summary_from_row).collect())
    }

    /// Unfinished runs of the same plan on the same model.
    pub async fn runs_with_plan(&self, plan_hash: &str) -> Result<Vec<RunSummary>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("{SUMMARY} WHERE r.plan_hash = ? ORDER BY r.created_at")))
            .bind(plan_hash)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(summary_from_row).collect())
    }

    /// A run by id, unique id prefix, or name (when one run has it).
    pub async fn run(&self, id_or_prefix: &str) -> Result<RunDetail, StoreError> {
        let pattern = format!("{}%", id_or_prefix.replace(['%', '_'], ""));
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{SUMMARY} WHERE r.id = ?1 OR (r.id LIKE ?2 AND length(?1) >= 4) OR r.name = ?1 ORDER BY r.id = ?1 DESC"
        )))
        .bind(id_or_prefix)
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await?;
        let row = match rows.as_slice() {
            [] => return Err(StoreError::UnknownRun(id_or_prefix.to_string())),
            [one, ..] if one.get::<&str, _>("id") == id_or_prefix => one,
            [one] => one,
            many => {
                return Err(StoreError::AmbiguousRun {
                    prefix: id_or_prefix.to_string(),
                    candidates: many.iter().map(|r| format!("{} ({})", r.get::<&str, _>("id"), r.get::<&str, _>("name"))).collect(),
                })
            }
        };
        let summary = summary_from_row(row);
        let (plan, provenance): (String, String) =
            sqlx::query_as("SELECT plan, provenance FROM runs WHERE id = ?").bind(&summary.id).fetch_one(&self.pool).await?;
        Ok(RunDetail {
            plan: json_field(&summary.id, "plan", &plan)?,
            provenance: json_field(&summary.id, "provenance", &provenance)?,
            summary,
        })
    }

    /// Units already stored without error: what a resume skips.
    pub async fn finished_units(&self, run_id: &str) -> Result<HashSet<UnitKey>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT sample_id, point_index, sample_index FROM generations WHERE run_id = ? AND error IS NULL",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(unit_keys(rows))
    }

    /// Commits finished units (one transaction) and adds to the run's forward-token count.
    /// A unit already stored without error is left as it is.
    pub async fn write_generations(
        &self,
        run_id: &str,
        units: &[NewGeneration],
        forward_tokens: u64,
    ) -> Result<(), StoreError> {
        self.ensure_writable()?;
        let now = now_rfc3339();
        let mut tx = self.pool.begin().await?;
        for unit in units {
            let (prompt_id, report) = match &unit.outcome {
                Ok(report) => {
                    let ids = pack_ids(&report.prompt_token_ids);
                    let prompt_id = crate::ids::prompt_id(&report.prompt, &ids);
                    sqlx::query("INSERT OR IGNORE INTO prompts (id, text, token_ids) VALUES (?, ?, ?)")
                        .bind(&prompt_id)
                        .bind(&report.prompt)
                        .bind(ids)
                        .execute(&mut *tx)
                        .await?;
                    (Some(prompt_id), Some(report))
                }
                Err(_) => (None, None),
            };
            sqlx::query(
                "INSERT INTO generations (run_id, sample_id, point_index, sample_index, seed, prompt_id, token_ids, \
                 text, output_tokens, thinking_tokens, answer_tokens, answer_start, insertions, stop_reason, tries, \
                 accepted, shuffle, error, timings, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (run_id, sample_id, point_index, sample_index) DO UPDATE SET \
                 seed = excluded.seed, prompt_id = excluded.prompt_id, token_ids = excluded.token_ids, \
                 text = excluded.text, output_tokens = excluded.output_tokens, \
                 thinking_tokens = excluded.thinking_tokens, answer_tokens = excluded.answer_tokens, \
                 answer_start = excluded.answer_start, insertions = excluded.insertions, \
                 stop_reason = excluded.stop_reason, tries = excluded.tries, accepted = excluded.accepted, \
                 shuffle = excluded.shuffle, error = excluded.error, timings = excluded.timings, \
                 created_at = excluded.created_at \
                 WHERE generations.error IS NOT NULL",
            )
            .bind(run_id)
            .bind(&unit.key.sample_id)
            .bind(unit.key.point_index as i64)
            .bind(unit.key.sample_index as i64)
            // SQLite integers are signed: the seed's bits are kept, not its sign.
            .bind(unit.seed as i64)
            .bind(prompt_id)
            .bind(report.map(|r| pack_ids(&r.token_ids)))
            .bind(report.map(|r| r.text.clone()))
            .bind(report.map_or(0, |r| r.token_ids.len() as i64))
            .bind(report.map_or(0, |r| r.thinking_tokens as i64))
            .bind(report.map_or(0, |r| r.answer_tokens as i64))
            .bind(report.and_then(|r| r.answer_start).map(|v| v as i64))
            .bind(report.map_or_else(|| "[]".to_string(), |r| serde_json::to_string(&r.insertions).expect("insertions")))
            .bind(report.map(|r| stop_reason_name(r.stop_reason)))
            .bind(unit.tries as i64)
            .bind(unit.accepted)
            .bind(unit.shuffle.as_ref().map(|s| serde_json::to_string(s).expect("shuffle")))
            .bind(unit.outcome.as_ref().err())
            .bind(report.map_or_else(|| "{}".to_string(), |r| serde_json::to_string(&r.timings).expect("timings")))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE runs SET forward_tokens = forward_tokens + ?, updated_at = ? WHERE id = ?")
            .bind(forward_tokens as i64)
            .bind(&now)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.checkpoint().await;
        Ok(())
    }

    pub async fn set_run_status(&self, run_id: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        self.ensure_writable()?;
        sqlx::query("UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?")
            .bind(status.name())
            .bind(error)
            .bind(now_rfc3339())
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        self.checkpoint().await;
        Ok(())
    }

    /// Replaces the provenance (a resume records the batch and device it ran with).
    pub async fn set_run_provenance(&self, run_id: &str, provenance: &Provenance) -> Result<(), StoreError> {
        self.ensure_writable()?;
        sqlx::query("UPDATE runs SET provenance = ?, updated_at = ? WHERE id = ?")
            .bind(serde_json::to_string(provenance).expect("provenance serializes"))
            .bind(now_rfc3339())
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stored units of a run, in sample (file) order, then point, then sample index.
    pub async fn generations(
        &self,
        run: &RunDetail,
        sample: Option<&str>,
        point_index: Option<u32>,
    ) -> Result<Vec<GenerationRecord>, StoreError> {
        let run_id = &run.summary.id;
        let rows = sqlx::query(
            "SELECT g.*, s.external_id, p.text AS prompt_text, p.token_ids AS prompt_ids \
             FROM generations g JOIN samples s ON s.id = g.sample_id LEFT JOIN prompts p ON p.id = g.prompt_id \
             WHERE g.run_id = ?1 AND (?2 IS NULL OR g.sample_id LIKE ?2 || '%') AND (?3 IS NULL OR g.point_index = ?3) \
             ORDER BY s.row_index, g.point_index, g.sample_index",
        )
        .bind(run_id)
        .bind(sample)
        .bind(point_index.map(|p| p as i64))
        .fetch_all(&self.pool)
        .await?;
        let corrupt = |field: &'static str, detail: String| StoreError::CorruptRun { run: run_id.clone(), field, detail };
        rows.iter()
            .map(|r| {
                let point_index = r.get::<i64, _>("point_index") as u32;
                let point = run.plan.points.get(point_index as usize).ok_or_else(|| {
                    corrupt("point_index", format!("{point_index} is not a point of its plan"))
                })?;
                let blob = |name: &str| -> Result<Vec<u32>, StoreError> {
                    match r.get::<Option<Vec<u8>>, _>(name) {
                        Some(b) => unpack_ids(&b, run_id),
                        None => Ok(Vec::new()),
                    }
                };
                let stop_reason = r
                    .get::<Option<String>, _>("stop_reason")
                    .map(|s| serde_json::from_value(serde_json::Value::String(s.clone())))
                    .transpose()
                    .map_err(|e| corrupt("stop_reason", e.to_string()))?;
                Ok(GenerationRecord {
                    run_id: run_id.clone(),
                    sample_id: r.get("sample_id"),
                    external_id: r.get("external_id"),
                    point: point.value,
                    point_label: point.label.clone(),
                    point_index,
                    sample_index: r.get::<i64, _>("sample_index") as u32,
                    seed: r.get::<i64, _>("seed") as u64,
                    prompt: r.get::<Option<String>, _>("prompt_text").unwrap_or_default(),
                    prompt_token_ids: blob("prompt_ids")?,
                    token_ids: blob("token_ids")?,
                    text: r.get::<Option<String>, _>("text").unwrap_or_default(),
                    thinking_tokens: r.get::<i64, _>("thinking_tokens") as usize,
                    answer_tokens: r.get::<i64, _>("answer_tokens") as usize,
                    answer_start: r.get::<Option<i64>, _>("answer_start").map(|v| v as usize),
                    insertions: json_field(run_id, "insertions", r.get("insertions"))?,
                    stop_reason,
                    tries: r.get::<i64, _>("tries") as u32,
                    accepted: r.get("accepted"),
                    shuffle: r
                        .get::<Option<String>, _>("shuffle")
                        .map(|s| json_field(run_id, "shuffle", &s))
                        .transpose()?,
                    error: r.get("error"),
                    timings: json_field(run_id, "timings", r.get("timings"))?,
                    created: r.get("created_at"),
                })
            })
            .collect()
    }

    /// Bytes the run's generations take in the file (token blobs, texts, insertions) and
    /// the tokens they hold: the storage cost per generated token.
    pub async fn run_storage(&self, run_id: &str) -> Result<(u64, u64), StoreError> {
        let (bytes, tokens): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(length(token_ids) + length(CAST(text AS BLOB)) + length(insertions) + length(timings) + 64), 0), \
             COALESCE(SUM(output_tokens), 0) FROM generations WHERE run_id = ?",
        )
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((bytes as u64, tokens as u64))
    }

    pub async fn delete_run(&self, run_id: &str) -> Result<(), StoreError> {
        self.ensure_writable()?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM runs WHERE id = ?").bind(run_id).execute(&mut *tx).await?;
        // Prompts no other unit uses.
        sqlx::query("DELETE FROM prompts WHERE id NOT IN (SELECT prompt_id FROM generations WHERE prompt_id IS NOT NULL)")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.checkpoint().await;
        Ok(())
    }
}
