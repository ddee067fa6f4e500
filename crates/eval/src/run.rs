//! Starting, executing and resuming a run. The backend decodes on a blocking thread; each
//! finished unit goes through a channel to the run writer, which commits units as they
//! arrive (a few per transaction when they arrive together), so decoding never waits on
//! the disk and a crash loses only units that were not finished.

use crate::backend::{Backend, BackendEvent, PromptSpec, UnitJob};
use crate::prompt::{question, unit_seed};
use crate::sweep::{families, policy_name};
use crate::EvalError;
use std::collections::{HashSet, VecDeque};
use thinkscope_engine::CancelToken;
use thinkscope_protocol::eval::{RunDetail, RunPlan, RunStatus, RunSummary};
use thinkscope_protocol::generation::{StopReason, ThinkingPolicy};
use thinkscope_protocol::{SampleDetail, SampleQuery};
use thinkscope_store::{content_hash, NewGeneration, NewRun, Store, UnitKey};
use tokio::sync::mpsc;

/// Progress of a running run, after each commit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    /// Units that failed (stored with their error).
    pub failed: u64,
    /// Tokens generated (sampled and inserted) by the units committed in this session.
    pub generated_tokens: u64,
    /// Tokens the model processed in this session.
    pub forward_tokens: u64,
}

/// The samples a plan covers, in file order; a plan with explicit ids keeps their order.
pub async fn select_samples(store: &Store, plan: &RunPlan) -> Result<Vec<SampleDetail>, EvalError> {
    let ids: Vec<String> = if plan.selection.sample_ids.is_empty() {
        let mut ids = Vec::new();
        let want = plan.selection.limit.unwrap_or(u64::MAX);
        let mut offset = 0;
        while (ids.len() as u64) < want {
            let page = store
                .samples(&SampleQuery {
                    dataset_id: Some(plan.dataset_id.clone()),
                    search: plan.selection.search.clone(),
                    filter: plan.selection.filter.clone(),
                    limit: 500,
                    offset,
                    ..SampleQuery::default()
                })
                .await?;
            if page.rows.is_empty() {
                break;
            }
            offset += page.rows.len() as u64;
            ids.extend(page.rows.into_iter().map(|r| r.id));
        }
        ids.truncate(want.min(usize::MAX as u64) as usize);
        ids
    } else {
        plan.selection.sample_ids.clone()
    };
    let mut samples = Vec::with_capacity(ids.len());
    for id in ids {
        let sample = store.sample(&id).await?;
        if sample.row.dataset_id != plan.dataset_id {
            return Err(EvalError::Setting(format!("sample {id} is not in the run's dataset")));
        }
        samples.push(sample);
    }
    Ok(samples)
}

/// Identifies "the same run": the plan and the model's fingerprint.
pub fn plan_hash(plan: &RunPlan, model_fingerprint: &str) -> String {
    content_hash(&[serde_json::to_string(plan).expect("plans serialize").as_bytes(), model_fingerprint.as_bytes()])
}

/// Resolves the selection (so a resume sees exactly these samples), checks the plan
/// against the backend, and stores the run. Refuses a plan an unfinished run already has
/// on the same model unless `allow_duplicate`.
pub async fn create_run(
    store: &Store,
    mut plan: RunPlan,
    backend: &mut dyn Backend,
    name: Option<String>,
    allow_duplicate: bool,
) -> Result<RunSummary, EvalError> {
    if store.is_read_only() {
        return Err(EvalError::Setting(format!("{} is open read-only: a run cannot be stored", store.path().display())));
    }
    let dataset = store.find_dataset(&plan.dataset_id).await?;
    plan.dataset_id = dataset.id.clone();
    let samples = select_samples(store, &plan).await?;
    if samples.is_empty() {
        return Err(EvalError::Setting(format!("the selection matches no sample of {}", dataset.name)));
    }
    if plan.points.is_empty() {
        return Err(EvalError::Setting("the sweep has no point".into()));
    }
    if plan.samples == 0 {
        return Err(EvalError::Setting("--samples must be at least 1".into()));
    }
    plan.selection.sample_ids = samples.iter().map(|s| s.row.id.clone()).collect();
    // Every point on the first problem must be runnable before anything is stored.
    let (text, _) = question(&samples[0], plan.task, plan.prompt_template.as_deref(), plan.sampling.seed);
    for (i, point) in plan.points.iter().enumerate() {
        let job = job_for(&plan, &samples[0], &text, i, 0, 0, 0, std::iter::empty());
        backend.check(&job).map_err(|e| EvalError::Setting(format!("{}: {e}", point.label)))?;
    }
    let provenance = backend.provenance();
    let hash = plan_hash(&plan, &provenance.model_fingerprint);
    if !allow_duplicate {
        if let Some(open) = store.runs_with_plan(&hash).await?.into_iter().find(|r| r.status != RunStatus::Done) {
            return Err(EvalError::SamePlan { id: open.id, name: open.name, done: open.done, total: open.total });
        }
    }
    let total = samples.len() as u64 * plan.points.len() as u64 * plan.samples as u64;
    let name = name.unwrap_or_else(|| {
        format!("{} · {} · {}", dataset.name, provenance.model_name, policy_name(&plan.points))
    });
    let policy = policy_name(&plan.points);
    Ok(store
        .create_run(NewRun { name, model: provenance.model_name.clone(), policy, plan, plan_hash: hash, provenance, total_units: total })
        .await?)
}

/// One unit's place in the plan.
struct Unit {
    sample: usize,
    point: usize,
    sample_index: u32,
}

enum ToWriter {
    Unit(Box<NewGeneration>),
    Forward(u64),
}

/// Runs every unit of `run` not yet stored without error, on `backend`, committing each
/// as it finishes. `on_progress` is called after each commit. On `cancel` the run is left
/// `paused`; its finished units stay.
pub async fn execute(
    store: &Store,
    run: &RunDetail,
    mut backend: Box<dyn Backend>,
    cancel: &CancelToken,
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<RunSummary, EvalError> {
    let run_id = run.summary.id.clone();
    let plan = &run.plan;
    let samples = select_samples(store, plan).await?;
    let finished = store.finished_units(&run_id).await?;
    let mut provenance = run.provenance.clone();
    provenance.batch = provenance.batch.max(backend.provenance().batch);
    store.set_run_provenance(&run_id, &provenance).await?;
    store.set_run_status(&run_id, RunStatus::Running, None).await?;

    let mut units: Vec<Unit> = Vec::new();
    let mut jobs: VecDeque<UnitJob> = VecDeque::new();
    let families = families(&plan.points);
    for (si, sample) in samples.iter().enumerate() {
        let (text, _) = question(sample, plan.task, plan.prompt_template.as_deref(), plan.sampling.seed);
        for family in &families {
            for k in 0..plan.samples {
                let missing: Vec<usize> = family
                    .iter()
                    .copied()
                    .filter(|&p| !finished.contains(&UnitKey { sample_id: sample.row.id.clone(), point_index: p as u32, sample_index: k }))
                    .collect();
                let Some((&leader, rest)) = missing.split_first() else { continue };
                let mut ids = Vec::with_capacity(missing.len());
                for &p in &missing {
                    ids.push(units.len());
                    units.push(Unit { sample: si, point: p, sample_index: k });
                }
                jobs.push_back(job_for(plan, sample, &text, leader, ids[0], k, 0, rest.iter().zip(&ids[1..])));
            }
        }
    }
    let total = run.summary.total;
    let already = run.summary.done;
    let queued = units.len() as u64;
    let (tx, mut rx) = mpsc::unbounded_channel::<ToWriter>();

    // The backend decodes on its own thread; retries of rejection sampling are queued
    // back from its events.
    let plan_for_thread = plan.clone();
    let samples_for_thread: Vec<SampleDetail> = samples.clone();
    let cancel_for_thread = cancel.clone();
    let units_for_thread: Vec<(usize, usize, u32)> = units.iter().map(|u| (u.sample, u.point, u.sample_index)).collect();
    let decoder = tokio::task::spawn_blocking(move || {
        let plan = plan_for_thread;
        let mut tries = vec![0u32; units_for_thread.len()];
        let queue = std::cell::RefCell::new(jobs);
        let mut next = || queue.borrow_mut().pop_front();
        let mut on_event = |event: BackendEvent| match event {
            BackendEvent::Forward { tokens } => {
                let _ = tx.send(ToWriter::Forward(tokens));
            }
            BackendEvent::Finished { id, outcome } => {
                let (si, p, k) = units_for_thread[id];
                let sample = &samples_for_thread[si];
                let point = &plan.points[p];
                let key = UnitKey { sample_id: sample.row.id.clone(), point_index: p as u32, sample_index: k };
                let try_index = tries[id];
                let seed = unit_seed(plan.sampling.seed, &sample.row.id, k, &family_key(point), try_index);
                let (text, shuffle) = question(sample, plan.task, plan.prompt_template.as_deref(), plan.sampling.seed);
                let mut accepted = true;
                if let Ok(report) = &outcome {
                    if report.stop_reason == StopReason::Cancelled {
                        return;
                    }
                    if let Some(rejection) = point.rejection {
                        accepted = report.thinking_tokens <= rejection.max_thinking
                            && report.stop_reason != StopReason::OverBudget;
                        if !accepted && try_index + 1 < rejection.tries {
                            tries[id] += 1;
                            let retry = job_for(&plan, sample, &text, p, id, k, tries[id], std::iter::empty());
                            queue.borrow_mut().push_front(retry);
                            return;
                        }
                    }
                }
                let unit = NewGeneration { key, seed, outcome, tries: try_index + 1, accepted, shuffle };
                let _ = tx.send(ToWriter::Unit(Box::new(unit)));
            }
        };
        backend.run(&mut next, &cancel_for_thread, &mut on_event)
    });

    let mut progress = Progress { done: already, total, ..Progress::default() };
    let mut write_error = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 64 {
                break;
            }
        }
        let mut forward = 0;
        let mut generations = Vec::new();
        for msg in batch {
            match msg {
                ToWriter::Forward(t) => forward += t,
                ToWriter::Unit(u) => generations.push(*u),
            }
        }
        if write_error.is_some() {
            continue; // drain: the decoder stops at the cancel below
        }
        match store.write_generations(&run_id, &generations, forward).await {
            Ok(()) => {
                progress.forward_tokens += forward;
                for g in &generations {
                    match &g.outcome {
                        Ok(r) => {
                            progress.done += 1;
                            progress.generated_tokens += r.token_ids.len() as u64;
                        }
                        Err(_) => progress.failed += 1,
                    }
                }
                on_progress(progress);
            }
            Err(e) => {
                cancel.cancel();
                write_error = Some(e);
            }
        }
    }
    let decoded = decoder.await.map_err(|e| EvalError::Backend(format!("the decoding thread failed: {e}")))?;
    if let Some(e) = write_error {
        store.set_run_status(&run_id, RunStatus::Failed, Some(&e.to_string())).await.ok();
        return Err(e.into());
    }
    let summary = store.run(&run_id).await?.summary;
    let (status, error) = match decoded {
        Err(e) => (RunStatus::Failed, Some(e)),
        Ok(()) if cancel.is_cancelled() => (RunStatus::Paused, None),
        Ok(()) if summary.failed > 0 => {
            (RunStatus::Failed, Some(format!("{} units failed; `eval resume` runs them again", summary.failed)))
        }
        Ok(()) if summary.done < summary.total => (
            RunStatus::Failed,
            Some(format!("{} of {queued} queued units were not stored", summary.total - summary.done)),
        ),
        Ok(()) => (RunStatus::Done, None),
    };
    store.set_run_status(&run_id, status, error.as_deref()).await?;
    Ok(store.run(&run_id).await?.summary)
}

/// The family a point's seed is drawn in: points that can share a trajectory share it.
fn family_key(point: &thinkscope_protocol::eval::SweepPoint) -> String {
    let kind = match (&point.policy, point.rejection.is_some()) {
        (_, true) => "rejection",
        (ThinkingPolicy::None, _) => "none",
        (ThinkingPolicy::BudgetForcing(_), _) => "budget-forcing",
        (ThinkingPolicy::ShiftedWindow(_), _) => "shifted-window",
    };
    format!("{kind}/{}", serde_json::to_string(&point.condition).expect("conditions serialize"))
}

#[allow(clippy::too_many_arguments)]
fn job_for<'a>(
    plan: &RunPlan,
    sample: &SampleDetail,
    question_text: &str,
    point: usize,
    id: usize,
    sample_index: u32,
    try_index: u32,
    followers: impl Iterator<Item = (&'a usize, &'a usize)>,
) -> UnitJob {
    let p = &plan.points[point];
    let mut sampling = plan.sampling.clone();
    sampling.seed = unit_seed(plan.sampling.seed, &sample.row.id, sample_index, &family_key(p), try_index);
    UnitJob {
        id,
        prompt: PromptSpec {
            template: plan.template.clone(),
            system: plan.system.clone(),
            question: question_text.to_string(),
            condition: p.condition.clone(),
        },
        policy: p.policy.clone(),
        followers: followers.map(|(&fp, &fid)| (fid, plan.points[fp].policy.clone())).collect(),
        sampling,
        reject_above: p.rejection.map(|r| r.max_thinking),
    }
}

/// Units of `run` still to do (missing or failed).
pub async fn missing_units(store: &Store, run: &RunDetail) -> Result<u64, EvalError> {
    let finished: HashSet<UnitKey> = store.finished_units(&run.summary.id).await?;
    Ok(run.summary.total.saturating_sub(finished.len() as u64))
}
