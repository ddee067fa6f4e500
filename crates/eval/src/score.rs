//! Scoring a run's generations and reading scores back as metrics input.
//!
//! - [`answer_part`]: where a generation's answer starts;
//! - [`score_run`]: extraction and checking per task (math equivalence, the chosen letter
//!   mapped back through the shown option order, code in the sandbox), stored per unit,
//!   scorer and scorer version; units already scored by this version are skipped;
//! - [`scored_generations`]: stored units with their newest scores as
//!   [`thinkscope_metrics::Generation`]s, with the curve options the plan implies.

use crate::prompt::letter;
use crate::EvalError;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use thinkscope_metrics::{Bootstrap, CurveOptions, Generation};
use thinkscope_protocol::eval::{GenerationRecord, RunDetail, SweepPoint, TaskKind};
use thinkscope_protocol::generation::{InsertionKind, ThinkingPolicy};
use thinkscope_protocol::SampleDetail;
use thinkscope_sandbox::{humaneval_program, mbpp_program, Limits, Outcome, Sandbox};
use thinkscope_store::{NewScore, Store, UnitKey};

/// The scorer a task is scored by; stored with every score.
pub fn scorer_name(task: TaskKind) -> &'static str {
    match task {
        TaskKind::Math => "math-equiv",
        TaskKind::Choice => "choice-letter",
        TaskKind::Code => "code-sandbox",
    }
}

/// The scorer version: the score crate's, whose extraction every scorer uses.
pub const SCORER_VERSION: &str = thinkscope_score::VERSION;

/// Units written per transaction (and, for code, run in the sandbox per batch).
const CHUNK: usize = 256;
/// Bytes of a failing program's stderr kept with its score.
const STDERR_KEPT: usize = 1000;

/// The answer part of a generation: from the last inserted `end`/`cap`/`hint` text on,
/// that text included (a cap text such as `Final Answer:` is itself the phrase extraction
/// looks for, and a cap may open a `\boxed{`); else after the model's own `</think>` or
/// `<|im_start|>answer`; else the whole text.
pub fn answer_part(g: &GenerationRecord) -> &str {
    let text = g.text.as_str();
    let forced = g
        .insertions
        .iter()
        .rev()
        .find(|i| matches!(i.kind, InsertionKind::End | InsertionKind::Cap | InsertionKind::Hint));
    // Inserted tokens decoded alone may differ from the whole text in edge whitespace.
    if let Some(at) = forced.map(|i| i.text.trim()).filter(|t| !t.is_empty()).and_then(|t| text.rfind(t)) {
        return &text[at..];
    }
    ["</think>", "<|im_start|>answer"]
        .iter()
        .filter_map(|m| text.rfind(m).map(|at| at + m.len()))
        .max()
        .map_or(text, |at| &text[at..])
}

/// A verdict before it is keyed to its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub answer: Option<String>,
    pub correct: bool,
    pub details: serde_json::Value,
}

/// Math: the extracted answer against the sample's `answer`.
pub fn score_math(answer_text: &str, gold: &str) -> Verdict {
    let c = thinkscope_score::check_math(answer_text, gold);
    Verdict { answer: c.pred_answer, correct: c.equal, details: json!({ "method": c.method, "gold": c.gold_answer }) }
}

/// Multiple choice: `shuffle[i]` is the stored option shown as letter `i` (`None`: shown
/// in stored order). The stored answer is the letter of the chosen option in stored
/// order, so runs with different shuffles compare; the letter as written is in details.
pub fn score_choice(answer_text: &str, correct_choice: u32, options: usize, shuffle: Option<&[u32]>) -> Result<Verdict, String> {
    let identity: Vec<u32> = (0..options as u32).collect();
    let order = shuffle.unwrap_or(&identity);
    if order.len() != options {
        return Err(format!("its option order has {} entries for {options} options", order.len()));
    }
    let shown = order
        .iter()
        .position(|&stored| stored == correct_choice)
        .ok_or_else(|| format!("correct_choice {correct_choice} is not among its {options} options"))?;
    let c = thinkscope_score::check_choice(answer_text, letter(shown), options);
    let chosen = c.pred_answer.as_deref().and_then(|l| l.chars().next()).and_then(|l| (l as usize).checked_sub('A' as usize));
    let stored = chosen.and_then(|i| order.get(i).copied());
    Ok(Verdict {
        answer: stored.map(|s| letter(s as usize).to_string()),
        correct: stored == Some(correct_choice),
        details: json!({ "method": c.method, "shown": c.pred_answer, "gold_shown": c.gold_answer }),
    })
}

/// The test program for a code answer: HumanEval (prompt + completion + `check`) when the
/// sample has an entry point, else MBPP (test imports, the code, the asserts).
pub fn code_program(sample: &SampleDetail, answer_text: &str) -> Result<(String, String), String> {
    let tests = sample.tests.as_deref().ok_or("it has no `tests` to run")?;
    let code = thinkscope_score::extract_code(answer_text);
    let program = match &sample.entry_point {
        Some(entry) => humaneval_program(&sample.row.question, &code, tests, entry),
        None => {
            let (asserts, imports): (Vec<&str>, Vec<&str>) =
                tests.lines().filter(|l| !l.trim().is_empty()).partition(|l| l.trim_start().starts_with("assert"));
            mbpp_program(&code, &imports, &asserts)
        }
    };
    Ok((code, program))
}

fn code_verdict(code: String, outcome: &Outcome) -> Verdict {
    let tail = &outcome.stderr_tail;
    let mut cut = tail.len().saturating_sub(STDERR_KEPT);
    while !tail.is_char_boundary(cut) {
        cut += 1;
    }
    Verdict {
        answer: Some(code),
        correct: outcome.passed(),
        details: json!({
            "method": "sandbox",
            "status": format!("{:?}", outcome.status).to_lowercase(),
            "exit_code": outcome.exit_code,
            "signal": outcome.signal,
            "wall_ms": outcome.wall.as_millis() as u64,
            "stderr_tail": &tail[cut..],
            "detail": outcome.detail,
        }),
    }
}

/// What [`score_run`] did.
#[derive(Debug, Clone, Default)]
pub struct ScoreSummary {
    pub scorer: &'static str,
    pub version: &'static str,
    /// Units scored (and stored) now, and how many of them are correct.
    pub scored: usize,
    pub correct: usize,
    /// Units this scorer version had already scored (left as they were).
    pub already: usize,
    /// Units stored as failed: nothing to score.
    pub failed_units: usize,
    /// Units that cannot be scored, with why (e.g. a sample without a gold answer).
    pub unscorable: Vec<String>,
    /// Sandbox layers in force, when code was run.
    pub sandbox_layers: Option<Vec<String>>,
}

/// Scores every stored unit of `run` that this scorer version has not scored yet (all of
/// them with `rescore`, replacing this version's rows). `on_progress(done, total)` is
/// called after each stored chunk.
pub async fn score_run(
    store: &Store,
    run: &RunDetail,
    rescore: bool,
    on_progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ScoreSummary, EvalError> {
    let run_id = &run.summary.id;
    let scorer = scorer_name(run.plan.task);
    let mut summary = ScoreSummary { scorer, version: SCORER_VERSION, ..ScoreSummary::default() };
    let done = if rescore { Default::default() } else { store.scored_units(run_id, scorer, SCORER_VERSION).await? };
    let mut todo = Vec::new();
    for g in store.generations(run, None, None).await? {
        let key = UnitKey { sample_id: g.sample_id.clone(), point_index: g.point_index, sample_index: g.sample_index };
        if g.error.is_some() {
            summary.failed_units += 1;
        } else if done.contains(&key) {
            summary.already += 1;
        } else {
            todo.push((key, g));
        }
    }
    let mut samples: HashMap<String, SampleDetail> = HashMap::new();
    for (key, _) in &todo {
        if !samples.contains_key(&key.sample_id) {
            samples.insert(key.sample_id.clone(), store.sample(&key.sample_id).await?);
        }
    }
    let sandbox = if run.plan.task == TaskKind::Code && !todo.is_empty() {
        let probed = tokio::task::spawn_blocking(Sandbox::probe)
            .await
            .map_err(|e| EvalError::Setting(format!("the sandbox probe failed: {e}")))?
            .map_err(|e| EvalError::Setting(format!("run {}: code is scored in the sandbox, which is unavailable: {e}", &run_id[..12])))?;
        summary.sandbox_layers = Some(probed.layer_names());
        Some(std::sync::Arc::new(probed))
    } else {
        None
    };
    let samples = std::sync::Arc::new(samples);
    let total = todo.len();
    let mut handled = 0;
    let mut units = todo.into_iter();
    loop {
        let chunk: Vec<(UnitKey, GenerationRecord)> = units.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        handled += chunk.len();
        let (task, shared, sandbox) = (run.plan.task, samples.clone(), sandbox.clone());
        // Math checks are CPU-bound and code runs block: off the async threads.
        let verdicts = tokio::task::spawn_blocking(move || {
            let verdicts = score_chunk(task, &chunk, &shared, sandbox.as_deref());
            chunk.into_iter().map(|(k, _)| k).zip(verdicts).collect::<Vec<_>>()
        })
        .await
        .map_err(|e| EvalError::Setting(format!("scoring failed: {e}")))?;
        let mut rows = Vec::with_capacity(verdicts.len());
        for (key, verdict) in verdicts {
            match verdict {
                Ok(v) => {
                    summary.correct += usize::from(v.correct);
                    rows.push(NewScore {
                        key,
                        scorer: scorer.to_string(),
                        version: SCORER_VERSION.to_string(),
                        answer: v.answer,
                        correct: v.correct,
                        details: v.details,
                    });
                }
                Err(why) => {
                    let sample = samples.get(&key.sample_id);
                    let name = sample.and_then(|s| s.row.external_id.clone()).unwrap_or_else(|| key.sample_id.clone());
                    summary.unscorable.push(format!("sample {name} (point {}, #{}): {why}", key.point_index, key.sample_index));
                }
            }
        }
        summary.scored += rows.len();
        store.write_scores(run_id, &rows, rescore).await?;
        on_progress(handled, total);
    }
    Ok(summary)
}

fn score_chunk(
    task: TaskKind,
    chunk: &[(UnitKey, GenerationRecord)],
    samples: &HashMap<String, SampleDetail>,
    sandbox: Option<&Sandbox>,
) -> Vec<Result<Verdict, String>> {
    let sample = |g: &GenerationRecord| &samples[&g.sample_id];
    match (task, sandbox) {
        (TaskKind::Code, Some(sandbox)) => {
            let built: Vec<Result<(String, String), String>> =
                chunk.iter().map(|(_, g)| code_program(sample(g), answer_part(g))).collect();
            let programs: Vec<&str> = built.iter().filter_map(|b| b.as_ref().ok()).map(|(_, p)| p.as_str()).collect();
            let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
            let mut outcomes = sandbox.run_many(&programs, &Limits::default(), parallelism).into_iter();
            built
                .into_iter()
                .map(|b| {
                    let (code, _) = b?;
                    let outcome = outcomes.next().ok_or("the sandbox returned too few outcomes")?;
                    Ok(code_verdict(code, &outcome))
                })
                .collect()
        }
        (TaskKind::Code, None) => vec![Err("no sandbox".to_string()); chunk.len()],
        (TaskKind::Math, _) => chunk
            .iter()
            .map(|(_, g)| {
                let gold = sample(g).row.answer.as_deref().ok_or("it has no `answer` to compare with")?;
                Ok(score_math(answer_part(g), gold))
            })
            .collect(),
        (TaskKind::Choice, _) => chunk
            .iter()
            .map(|(_, g)| {
                let s = sample(g);
                let options = s.row.choices.as_ref().map_or(0, Vec::len);
                let correct = s.correct_choice.ok_or("it has no `correct_choice`")?;
                if options == 0 {
                    return Err("it has no `choices`".to_string());
                }
                score_choice(answer_part(g), correct, options, g.shuffle.as_deref())
            })
            .collect(),
    }
}

/// A run's stored units joined with their newest scores, as metrics input.
#[derive(Debug, Clone)]
pub struct ScoredRun {
    pub generations: Vec<Generation>,
    /// Units stored without error but not scored yet (left out of `generations`).
    pub unscored: usize,
    /// Units stored as failed (left out).
    pub failed: usize,
    /// `scorer version` of the scores used.
    pub scorers: BTreeSet<String>,
    pub options: CurveOptions,
}

/// The thinking budget `a_max` of a point: budget forcing's cap, or Z1's window.
pub fn point_budget(point: &SweepPoint) -> Option<u32> {
    match &point.policy {
        ThinkingPolicy::BudgetForcing(b) => Some(b.max_thinking.min(u32::MAX as usize) as u32),
        ThinkingPolicy::ShiftedWindow(w) => Some(w.window.min(u32::MAX as usize) as u32),
        ThinkingPolicy::None => None,
    }
}

/// Loads `run`'s units and newest scores. Majority voting counts equal answers as one:
/// every correct answer of a problem votes as one (equivalent forms such as `\frac12`
/// and `0.5` agree), a wrong one by its extracted text.
pub async fn scored_generations(store: &Store, run: &RunDetail, bootstrap: Bootstrap) -> Result<ScoredRun, EvalError> {
    let run_id = &run.summary.id;
    let scores = store.latest_scores(run_id).await?;
    let mut out = ScoredRun {
        generations: Vec::new(),
        unscored: 0,
        failed: 0,
        scorers: BTreeSet::new(),
        options: CurveOptions { bootstrap, min_thinking_tokens: min_thinking(run) },
    };
    for unit in store.unit_lengths(run_id).await? {
        if unit.failed {
            out.failed += 1;
            continue;
        }
        let Some(score) = scores.get(&unit.key) else {
            out.unscored += 1;
            continue;
        };
        let point = run.plan.points.get(unit.key.point_index as usize).ok_or_else(|| {
            EvalError::Setting(format!("run {}: a unit has point index {}, not a point of its plan", run_id, unit.key.point_index))
        })?;
        out.scorers.insert(format!("{} {}", score.scorer, score.version));
        out.generations.push(Generation {
            problem: unit.key.sample_id,
            point: point.value,
            point_label: point.label.clone(),
            sample_index: unit.key.sample_index,
            thinking_tokens: unit.thinking_tokens,
            answer_tokens: unit.answer_tokens,
            correct: score.correct,
            answer: if score.correct { Some("\u{1}correct".to_string()) } else { score.answer.clone() },
            budget: point_budget(point),
        });
    }
    Ok(out)
}

/// s1's `a_min`: the run's budget-forcing minimum thinking (one flag sets every point).
fn min_thinking(run: &RunDetail) -> u32 {
    run.plan
        .points
        .iter()
        .find_map(|p| match &p.policy {
            ThinkingPolicy::BudgetForcing(b) => Some(b.min_thinking.min(u32::MAX as usize) as u32),
            _ => None,
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use thinkscope_protocol::generation::{Insertion, Timings};

    fn record(text: &str, insertions: Vec<Insertion>) -> GenerationRecord {
        GenerationRecord {
            run_id: "r".into(),
            sample_id: "s".into(),
            external_id: None,
            point: 0.0,
            point_label: String::new(),
            point_index: 0,
            sample_index: 0,
            seed: 0,
            prompt: String::new(),
            prompt_token_ids: vec![],
            token_ids: vec![],
            text: text.into(),
            thinking_tokens: 0,
            answer_tokens: 0,
            answer_start: None,
            insertions,
            stop_reason: None,
            tries: 1,
            accepted: true,
            shuffle: None,
            error: None,
            timings: Timings::default(),
            created: String::new(),
        }
    }

    fn inserted(text: &str, kind: InsertionKind) -> Insertion {
        Insertion { token_index: 0, token_count: 1, text: text.into(), kind }
    }

    #[test]
    fn answer_part_starts_at_the_last_forced_answer() {
        let cap = "\n<|im_start|>answer\nFinal Answer:";
        let g = record(
            &format!("think 7 Wait more 9{cap} \\boxed{{12}}"),
            vec![inserted("Wait", InsertionKind::Extend), inserted(cap, InsertionKind::Cap)],
        );
        assert_eq!(answer_part(&g), "<|im_start|>answer\nFinal Answer: \\boxed{12}");
        assert_eq!(score_math(answer_part(&g), "12").answer.as_deref(), Some("12"));
        // The model ended thinking itself.
        let g = record("x = 3 maybe</think>The answer is 4.", vec![]);
        assert_eq!(answer_part(&g), "The answer is 4.");
        let g = record("hmm 3<|im_start|>answer\nAnswer: 5", vec![inserted("Wait", InsertionKind::Extend)]);
        assert_eq!(answer_part(&g), "\nAnswer: 5");
        // Z1 without tags: the whole text.
        assert_eq!(answer_part(&record("just 6", vec![])), "just 6");
    }

    #[test]
    fn choice_letters_map_back_through_the_shuffle() {
        // Shown A = stored 2, B = stored 0 (correct), C = stored 3, D = stored 1.
        let order = [2, 0, 3, 1];
        let v = score_choice("The answer is (B).", 0, 4, Some(&order)).unwrap();
        assert!(v.correct);
        assert_eq!(v.answer.as_deref(), Some("A"));
        assert_eq!(v.details["shown"], "B");
        let v = score_choice("Answer: D", 0, 4, Some(&order)).unwrap();
        assert!(!v.correct);
        assert_eq!(v.answer.as_deref(), Some("B"));
        assert!(score_choice("C", 1, 4, None).unwrap().answer.as_deref() == Some("C"));
        assert!(score_choice("A", 0, 4, Some(&[0, 1])).is_err());
        assert!(!score_choice("no idea", 0, 4, None).unwrap().correct);
    }

    #[test]
    fn mbpp_programs_put_imports_before_the_code() {
        let sample: SampleDetail = serde_json::from_value(json!({
            "row": {"id": "s", "dataset_id": "d", "row_index": 0, "external_id": null, "question": "Write f.",
                    "answer": null, "domain": "code", "subject": null, "source": null, "level": null,
                    "choices": null, "has_trace": false, "thinking_tokens": null, "snippet": null},
            "dataset_name": "mbpp", "solution": null, "traces": [], "correct_choice": null,
            "tests": "import math\nassert f(4) == 2", "entry_point": null, "grades": {},
            "token_counts": {}, "original": {}
        }))
        .unwrap();
        let (code, program) = code_program(&sample, "```python\ndef f(x):\n    return math.sqrt(x)\n```").unwrap();
        assert_eq!(code, "def f(x):\n    return math.sqrt(x)");
        assert_eq!(program, "import math\ndef f(x):\n    return math.sqrt(x)\nassert f(4) == 2\n");
    }
}
