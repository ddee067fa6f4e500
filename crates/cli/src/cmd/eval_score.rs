//! `thinkscope eval score`, the scoring that follows `eval run` / `eval resume`, and the
//! scores `eval generations --json` shows with each unit.

use super::{print_json, Ctx};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use thinkscope_eval::score::{score_run, ScoreSummary};
use thinkscope_protocol::eval::{GenerationRecord, RunDetail, RunSummary};
use thinkscope_store::{Store, UnitKey};

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// Run id (or unique prefix) or name.
    run: String,
    /// Score again the units this scorer version already scored, replacing those scores.
    #[arg(long)]
    rescore: bool,
    #[arg(long)]
    json: bool,
}

pub async fn score(ctx: &Ctx, args: ScoreArgs) -> anyhow::Result<()> {
    let store = ctx.open().await?;
    if store.is_read_only() {
        bail!("{} is open read-only: scores cannot be stored", store.path().display());
    }
    let detail = store.run(&args.run).await?;
    let summary = score_with_progress(&store, &detail, args.rescore, !args.json).await;
    store.close().await;
    let summary = summary?;
    if args.json {
        return print_json(&serde_json::json!({
            "run": detail.summary.id,
            "scorer": summary.scorer,
            "version": summary.version,
            "scored": summary.scored,
            "correct": summary.correct,
            "already_scored": summary.already,
            "failed_units": summary.failed_units,
            "unscorable": summary.unscorable,
            "sandbox_layers": summary.sandbox_layers,
        }));
    }
    for line in summary_lines(&detail.summary.id, &summary) {
        println!("{line}");
    }
    Ok(())
}

/// Scores a run that just finished (`eval run`, `eval resume`); what it did goes to
/// stderr. Its generations are already stored, so a failure only needs `eval score` later.
pub async fn after_run(store: &Store, run: &RunSummary) -> anyhow::Result<()> {
    let detail = store.run(&run.id).await?;
    let id = &run.id[..12];
    let summary = score_with_progress(store, &detail, false, false)
        .await
        .with_context(|| format!("scoring run {id} failed (its generations are stored; retry with `thinkscope eval score {id}`)"))?;
    for line in summary_lines(&run.id, &summary) {
        eprintln!("{line}");
    }
    Ok(())
}

async fn score_with_progress(store: &Store, detail: &RunDetail, rescore: bool, bar: bool) -> anyhow::Result<ScoreSummary> {
    let bar = if bar { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("scoring {bar:30} {pos}/{len} units").expect("progress template"));
    let for_updates = bar.clone();
    let mut on_progress = move |done: usize, total: usize| {
        for_updates.set_length(total as u64);
        for_updates.set_position(done as u64);
    };
    let summary = score_run(store, detail, rescore, &mut on_progress).await;
    bar.finish_and_clear();
    Ok(summary?)
}

fn summary_lines(run_id: &str, s: &ScoreSummary) -> Vec<String> {
    let share = if s.scored > 0 { format!(" ({:.1}%)", 100.0 * s.correct as f64 / s.scored as f64) } else { String::new() };
    let mut lines = vec![format!(
        "run {} · scored {} units with {} {}: {} correct{share} · {} already scored · {} failed units not scored",
        &run_id[..12.min(run_id.len())],
        s.scored,
        s.scorer,
        s.version,
        s.correct,
        s.already,
        s.failed_units
    )];
    if let Some(layers) = &s.sandbox_layers {
        lines.push(format!("sandbox layers: {}", layers.join(", ")));
    }
    lines.extend(s.unscorable.iter().take(5).map(|why| format!("not scored: {why}")));
    if s.unscorable.len() > 5 {
        lines.push(format!("… and {} more units not scored", s.unscorable.len() - 5));
    }
    lines
}

/// `eval generations --json`: each unit with its newest score (`answer`, `correct`,
/// `scorer`, `scorer_version`; null when unscored). Closes the store.
pub async fn print_generations_json(store: Store, run_id: &str, rows: &[GenerationRecord]) -> anyhow::Result<()> {
    let scores = store.latest_scores(run_id).await;
    store.close().await;
    let scores = scores?;
    let mut out = Vec::with_capacity(rows.len());
    for g in rows {
        let key = UnitKey { sample_id: g.sample_id.clone(), point_index: g.point_index, sample_index: g.sample_index };
        let score = scores.get(&key);
        let mut value = serde_json::to_value(g)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("answer".into(), score.and_then(|s| s.answer.clone()).into());
            obj.insert("correct".into(), score.map(|s| s.correct).into());
            obj.insert("scorer".into(), score.map(|s| s.scorer.clone()).into());
            obj.insert("scorer_version".into(), score.map(|s| s.version.clone()).into());
        }
        out.push(value);
    }
    print_json(&out)
}
