//! Scoring, metrics, figures and comparisons through the `thinkscope` binary. Runs are
//! written through the store API with generations whose answers are known, so every
//! number checked here is one the test constructed; no model is needed.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use thinkscope_protocol::eval::{Provenance, RunPlan, RunSelection, SweepPoint, TaskKind};
use thinkscope_protocol::generation::{
    BudgetForcing, GenerationReport, Insertion, InsertionKind, SamplingParams, StopReason, ThinkingPolicy, Timings,
};
use thinkscope_protocol::SampleQuery;
use thinkscope_store::{NewGeneration, NewRun, NewScore, OpenMode, Store, UnitKey};

fn shared(file: &str) -> PathBuf {
    let base = std::env::var_os("THINKSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    base.join("datasets").join(file)
}

fn thinkscope(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thinkscope"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("THINKSCOPE_DB")
        .output()
        .expect("run thinkscope")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = thinkscope(db, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn ok_json(db: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).expect("stdout is JSON")
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

const CAP: &str = "\n<|im_start|>answer\nFinal Answer:";

/// A budget-capped generation: thinking, the forced cap, then `answer`.
fn capped(answer: &str, thinking_tokens: usize) -> GenerationReport {
    let text = format!("<|im_start|>think\nLet me work it out: 7, maybe 12.{CAP} {answer}");
    report(text, vec![Insertion { token_index: 40, token_count: 6, text: CAP.into(), kind: InsertionKind::Cap }], thinking_tokens)
}

/// A generation whose thinking ended by itself (the delimiter replaced its end token).
fn ended(answer: &str, thinking_tokens: usize) -> GenerationReport {
    let end = "<|im_start|>answer\n";
    let text = format!("I think it is 3. Wait, no.{end}The answer is {answer}.");
    report(text, vec![Insertion { token_index: 30, token_count: 3, text: end.into(), kind: InsertionKind::End }], thinking_tokens)
}

fn report(text: String, insertions: Vec<Insertion>, thinking_tokens: usize) -> GenerationReport {
    GenerationReport {
        prompt: "question".into(),
        prompt_token_ids: vec![1, 2, 3],
        token_ids: vec![7; thinking_tokens + 10],
        text,
        thinking_tokens,
        answer_tokens: 10,
        answer_start: Some(thinking_tokens),
        insertions,
        stop_reason: StopReason::Eos,
        device: "cpu".into(),
        dtype: "f32".into(),
        timings: Timings::default(),
    }
}

fn budget_point(budget: usize) -> SweepPoint {
    SweepPoint {
        value: budget as f64,
        label: format!("budget {budget}"),
        policy: ThinkingPolicy::BudgetForcing(BudgetForcing { max_thinking: budget, ..BudgetForcing::default() }),
        condition: Default::default(),
        rejection: None,
    }
}

fn plain_point() -> SweepPoint {
    SweepPoint { value: 0.0, label: "none".into(), policy: ThinkingPolicy::None, condition: Default::default(), rejection: None }
}

struct Unit {
    sample: usize,
    point: u32,
    outcome: Result<GenerationReport, String>,
    shuffle: Option<Vec<u32>>,
}

fn unit(sample: usize, point: u32, report: GenerationReport) -> Unit {
    Unit { sample, point, outcome: Ok(report), shuffle: None }
}

/// The first `n` samples of a dataset, in file order: (id, answer, solution).
fn samples(db: &Path, dataset: &str, n: u32) -> Vec<(String, Option<String>, Option<String>)> {
    block_on(async {
        let store = Store::open(db, OpenMode::ReadWrite).await.unwrap();
        let d = store.find_dataset(dataset).await.unwrap();
        let page = store
            .samples(&SampleQuery { dataset_id: Some(d.id), limit: n, ..SampleQuery::default() })
            .await
            .unwrap();
        let mut out = Vec::new();
        for row in page.rows {
            let detail = store.sample(&row.id).await.unwrap();
            out.push((row.id, row.answer, detail.solution));
        }
        store.close().await;
        out
    })
}

/// Stores a finished run of `units` and returns its id.
fn write_run(db: &Path, dataset: &str, name: &str, task: TaskKind, points: Vec<SweepPoint>, ids: &[String], units: Vec<Unit>) -> String {
    block_on(async {
        let store = Store::open(db, OpenMode::ReadWrite).await.unwrap();
        let d = store.find_dataset(dataset).await.unwrap();
        let plan = RunPlan {
            dataset_id: d.id,
            selection: RunSelection { sample_ids: ids.to_vec(), ..RunSelection::default() },
            task,
            template: "s1".into(),
            system: None,
            prompt_template: None,
            points,
            samples: 1,
            sampling: SamplingParams::default(),
        };
        let total = units.len() as u64;
        let run = store
            .create_run(NewRun {
                name: name.into(),
                plan,
                plan_hash: name.into(),
                provenance: Provenance::default(),
                model: "test".into(),
                policy: "budget-forcing".into(),
                total_units: total,
            })
            .await
            .unwrap();
        let generations: Vec<NewGeneration> = units
            .into_iter()
            .map(|u| NewGeneration {
                key: UnitKey { sample_id: ids[u.sample].clone(), point_index: u.point, sample_index: 0 },
                seed: 0,
                outcome: u.outcome,
                tries: 1,
                accepted: true,
                shuffle: u.shuffle,
            })
            .collect();
        store.write_generations(&run.id, &generations, 0).await.unwrap();
        store.close().await;
        run.id
    })
}

fn boxed(answer: &str) -> String {
    format!("\\boxed{{{answer}}}")
}

fn wrong(gold: &str) -> String {
    boxed(&(gold.parse::<i64>().unwrap() + 1).to_string())
}

#[test]
fn math_runs_are_scored_reported_plotted_and_compared() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    ok(&db, &["import", shared("aime24.jsonl").to_str().unwrap(), "--name", "aime24", "--json"]);
    let found = samples(&db, "aime24", 4);
    let ids: Vec<String> = found.iter().map(|s| s.0.clone()).collect();
    let gold: Vec<String> = found.iter().map(|s| s.1.clone().unwrap()).collect();
    let points = || vec![budget_point(512), budget_point(1024)];
    // Run A: budget 512 solves sample 0 of the three stored (sample 3 failed there);
    // budget 1024 solves 0, 1 and 3 (3/4), sample 0 in another form (2·gold / 2).
    let half = |g: &str| format!("\\dfrac{{{}}}{{2}}", 2 * g.parse::<i64>().unwrap());
    let a = vec![
        unit(0, 0, capped(&boxed(&gold[0]), 512)),
        unit(1, 0, capped(&wrong(&gold[1]), 512)),
        unit(2, 0, capped("no idea", 512)),
        Unit { sample: 3, point: 0, outcome: Err("remote timed out".into()), shuffle: None },
        unit(0, 1, capped(&boxed(&half(&gold[0])), 1024)),
        unit(1, 1, ended(&format!("${}$", gold[1]), 700)),
        unit(2, 1, ended(&wrong(&gold[2]), 900)),
        unit(3, 1, capped(&boxed(&gold[3]), 1024)),
    ];
    let run_a = write_run(&db, "aime24", "run A", TaskKind::Math, points(), &ids, a);
    // Run B: 512 solves 0 and 1 (2/4); 1024 solves 0, 2 and 3 (3/4).
    let b = vec![
        unit(0, 0, capped(&boxed(&gold[0]), 500)),
        unit(1, 0, capped(&boxed(&gold[1]), 500)),
        unit(2, 0, capped(&wrong(&gold[2]), 512)),
        unit(3, 0, capped(&wrong(&gold[3]), 512)),
        unit(0, 1, capped(&boxed(&gold[0]), 1000)),
        unit(1, 1, capped(&wrong(&gold[1]), 1024)),
        unit(2, 1, capped(&boxed(&gold[2]), 1024)),
        unit(3, 1, capped(&boxed(&gold[3]), 1024)),
    ];
    let run_b = write_run(&db, "aime24", "run B", TaskKind::Math, points(), &ids, b);

    // Reports refuse unscored runs, naming the command that scores them.
    let refused = thinkscope(&db, &["eval", "report", &run_a]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("eval score"), "{}", String::from_utf8_lossy(&refused.stderr));

    let scored = ok_json(&db, &["eval", "score", &run_a, "--json"]);
    assert_eq!((scored["scored"].as_u64(), scored["correct"].as_u64()), (Some(7), Some(4)), "{scored}");
    assert_eq!(scored["failed_units"], 1);
    assert_eq!((scored["scorer"].as_str(), scored["version"].as_str()), (Some("math-equiv"), Some(thinkscope_score::VERSION)));
    // Idempotent: nothing is scored twice unless asked.
    let again = ok_json(&db, &["eval", "score", &run_a, "--json"]);
    assert_eq!((again["scored"].as_u64(), again["already_scored"].as_u64()), (Some(0), Some(7)));
    let rescored = ok_json(&db, &["eval", "score", &run_a, "--rescore", "--json"]);
    assert_eq!((rescored["scored"].as_u64(), rescored["correct"].as_u64()), (Some(7), Some(4)));
    assert!(ok(&db, &["eval", "score", &run_b]).contains("scored 8 units with math-equiv"));

    let units = ok_json(&db, &["eval", "generations", &run_a, "--json"]);
    let units = units.as_array().unwrap();
    assert_eq!(units.len(), 8);
    let first = units.iter().find(|u| u["sample_id"] == ids[0].as_str() && u["point_index"] == 1).unwrap();
    assert_eq!((first["correct"].as_bool(), first["scorer"].as_str()), (Some(true), Some("math-equiv")));
    assert_eq!(first["answer"].as_str(), Some(half(&gold[0]).as_str()));
    let failed = units.iter().find(|u| !u["error"].is_null()).unwrap();
    assert!(failed["correct"].is_null());

    let report = ok_json(&db, &["eval", "report", &run_a, &run_b, "--json", "--seed", "3", "--resamples", "200"]);
    let accuracy = |run: &Value| -> Vec<f64> { run["points"].as_array().unwrap().iter().map(|p| p["accuracy"].as_f64().unwrap()).collect() };
    // A's failed unit is left out: 512 has 3 scored units, one right.
    assert_eq!(accuracy(&report[0]), vec![1.0 / 3.0, 0.75]);
    assert_eq!(accuracy(&report[1]), vec![0.5, 0.75]);
    let p = &report[0]["points"][1];
    assert_eq!((p["point"].as_f64(), p["n"].as_u64()), (Some(1024.0), Some(4)));
    assert!(p["ci_low"].as_f64().unwrap() <= 0.75 && p["ci_high"].as_f64().unwrap() >= 0.75);
    assert_eq!(p["mean_thinking_tokens"].as_f64(), Some((1024.0 + 700.0 + 900.0 + 1024.0) / 4.0));
    assert_eq!(p["pass_at_k"][0]["k"], 1);
    assert_eq!(p["maj_at_k"][0]["value"].as_f64(), Some(0.75));
    assert_eq!(report[0]["performance"].as_f64(), Some(0.75));
    assert_eq!(report[0]["control"].as_f64(), Some(1.0));
    assert!(report[0]["scaling"].as_f64().unwrap() > 0.0);
    assert_eq!(report[0]["bootstrap"]["seed"], 3);
    assert_eq!((report[0]["failed"].as_u64(), report[0]["unscored"].as_u64()), (Some(1), Some(0)));
    let table = ok(&db, &["eval", "report", &run_a]);
    assert!(table.contains("budget 1024") && table.contains("75.0%") && table.contains("Performance 75.0%"), "{table}");

    let svg = dir.path().join("curve.svg");
    let csv = dir.path().join("curve.csv");
    let control = dir.path().join("control.png");
    ok(&db, &["eval", "plot", &run_a, &run_b, "--out", svg.to_str().unwrap(), "--csv", csv.to_str().unwrap(), "--log-x", "--control", control.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    assert!(std::fs::read(&control).unwrap().starts_with(b"\x89PNG"), "the budget-control figure is a PNG");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("run B,1024,") && l.contains(",0.75,")), "{csv}");
    let bad = thinkscope(&db, &["eval", "plot", &run_a, "--out", dir.path().join("x.pdf").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains(".svg or .png"));

    // A against B over the units both scored (A's failed unit has no partner).
    let c = ok_json(&db, &["eval", "compare", &run_a, &run_b, "--json"]);
    let counts: Vec<u64> = ["both_correct", "only_a", "only_b", "neither"].iter().map(|k| c[k].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![3, 1, 2, 1], "{c}");
    assert_eq!((c["pairs"].as_u64(), c["unmatched_b"].as_u64()), (Some(7), Some(1)));
    assert_eq!(c["mcnemar_p"].as_f64(), Some(1.0));
    let (low, high) = (c["difference_ci95"]["low"].as_f64().unwrap(), c["difference_ci95"]["high"].as_f64().unwrap());
    let difference = c["difference"].as_f64().unwrap();
    assert!(low <= difference && difference <= high);
    let text = ok(&db, &["eval", "compare", &run_a, &run_b]);
    assert!(text.contains("only A 1 · only B 2") && text.contains("McNemar p = 1.0000"), "{text}");
    // Different sweeps need a point of each.
    let single = write_run(&db, "aime24", "run C", TaskKind::Math, vec![budget_point(1024)], &ids, vec![unit(0, 0, capped(&boxed(&gold[0]), 900))]);
    ok(&db, &["eval", "score", &single]);
    let refused = thinkscope(&db, &["eval", "compare", &run_a, &single]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--point-a"));
    let c = ok_json(&db, &["eval", "compare", &run_a, &single, "--point-a", "budget 1024", "--json"]);
    assert_eq!((c["pairs"].as_u64(), c["both_correct"].as_u64()), (Some(1), Some(1)));

    // A newer scorer version adds its row beside the old one, and readers take it.
    block_on(async {
        let store = Store::open(&db, OpenMode::ReadWrite).await.unwrap();
        let newer = NewScore {
            key: UnitKey { sample_id: ids[0].clone(), point_index: 0, sample_index: 0 },
            scorer: "math-equiv".into(),
            version: "99.0.0".into(),
            answer: Some("7".into()),
            correct: false,
            details: serde_json::json!({ "method": "test" }),
        };
        assert_eq!(store.write_scores(&single, std::slice::from_ref(&newer), false).await.unwrap(), 1);
        // Not replaced unless asked.
        assert_eq!(store.write_scores(&single, &[newer], false).await.unwrap(), 0);
        store.close().await;
    });
    let units = ok_json(&db, &["eval", "generations", &single, "--json"]);
    assert_eq!((units[0]["scorer_version"].as_str(), units[0]["correct"].as_bool()), (Some("99.0.0"), Some(false)));
    assert_eq!(ok_json(&db, &["eval", "report", &single, "--json"])[0]["points"][0]["accuracy"].as_f64(), Some(0.0));
    assert_eq!(ok_json(&db, &["eval", "score", &single, "--json"])["already_scored"], 1);

    // Deleting a run takes its scores with it.
    ok(&db, &["eval", "delete", &run_b]);
    let refused = thinkscope(&db, &["eval", "report", &run_b]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no evaluation run"));
}

#[test]
fn choice_letters_are_read_through_the_shown_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    let gpqa = dir.path().join("gpqa.csv");
    std::fs::write(
        &gpqa,
        "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Record ID\n\
         Which is a noble gas?,Neon,Oxygen,Nitrogen,Iron,recA\n\
         Which is a metal?,Iron,Neon,Oxygen,Nitrogen,recB\n",
    )
    .unwrap();
    ok(&db, &["import", gpqa.to_str().unwrap(), "--name", "gpqa", "--json"]);
    let ids: Vec<String> = samples(&db, "gpqa", 2).into_iter().map(|s| s.0).collect();
    // Stored option 0 is correct. Sample 0 shows it as B; sample 1 shows it as D.
    let units = vec![
        Unit { sample: 0, point: 0, outcome: Ok(ended("(B)", 50)), shuffle: Some(vec![2, 0, 3, 1]) },
        Unit { sample: 1, point: 0, outcome: Ok(ended("C", 50)), shuffle: Some(vec![3, 2, 1, 0]) },
    ];
    let run = write_run(&db, "gpqa", "gpqa run", TaskKind::Choice, vec![plain_point()], &ids, units);
    let scored = ok_json(&db, &["eval", "score", &run, "--json"]);
    assert_eq!((scored["scorer"].as_str(), scored["correct"].as_u64()), (Some("choice-letter"), Some(1)));
    let units = ok_json(&db, &["eval", "generations", &run, "--json"]);
    // Answers are stored as the letter of the option in stored order.
    assert_eq!((units[0]["answer"].as_str(), units[0]["correct"].as_bool()), (Some("A"), Some(true)));
    assert_eq!((units[1]["answer"].as_str(), units[1]["correct"].as_bool()), (Some("B"), Some(false)));
}

#[test]
fn humaneval_answers_run_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    ok(&db, &["import", shared("humaneval.jsonl").to_str().unwrap(), "--name", "humaneval", "--json"]);
    let found = samples(&db, "humaneval", 4);
    let ids: Vec<String> = found.iter().map(|s| s.0.clone()).collect();
    let prompts: Vec<String> = block_on(async {
        let store = Store::open(&db, OpenMode::ReadOnly).await.unwrap();
        let mut out = Vec::new();
        for id in &ids {
            out.push(store.sample(id).await.unwrap().row.question);
        }
        store.close().await;
        out
    });
    let solution = |i: usize| found[i].2.clone().unwrap();
    let units = vec![
        // The whole function in a fence, as chat models answer.
        unit(0, 0, ended(&format!("\n```python\n{}{}```\n", prompts[0], solution(0)), 80)),
        unit(1, 0, ended(&format!("\n```python\n{}{}```\n", prompts[1], solution(1)), 80)),
        // Only the body, as the original harness expects.
        unit(2, 0, ended(&format!("\n```python\n{}```\n", solution(2)), 80)),
        unit(3, 0, ended("\n```python\ndef below_zero(operations):\n    return None\n```\n", 80)),
    ];
    let run = write_run(&db, "humaneval", "code run", TaskKind::Code, vec![plain_point()], &ids, units);
    let scored = ok_json(&db, &["eval", "score", &run, "--json"]);
    assert_eq!((scored["scorer"].as_str(), scored["scored"].as_u64()), (Some("code-sandbox"), Some(4)), "{scored}");
    assert!(!scored["sandbox_layers"].as_array().unwrap().is_empty());
    let units = ok_json(&db, &["eval", "generations", &run, "--json"]);
    let correct: Vec<Option<bool>> = units.as_array().unwrap().iter().map(|u| u["correct"].as_bool()).collect();
    assert_eq!(correct, vec![Some(true), Some(true), Some(true), Some(false)], "{units}");
    assert!(units[3]["answer"].as_str().unwrap().contains("return None"));
}

#[test]
fn answers_check_pairs_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    let pairs = dir.path().join("pairs.jsonl");
    std::fs::write(
        &pairs,
        concat!(
            r#"{"pred": "so the answer is \\boxed{\\frac12}", "gold": "0.5"}"#, "\n",
            r#"{"pred": "The answer is 3.", "gold": "4"}"#, "\n",
            "\n",
            r#"{"pred": "The answer is (c).", "gold": "C", "kind": "choice"}"#, "\n",
            r#"{"pred": "Answer: 025", "gold": 25}"#, "\n",
        ),
    )
    .unwrap();
    let out = ok(&db, &["answers", "check", "--file", pairs.to_str().unwrap(), "--json"]);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let equal: Vec<bool> = lines.iter().map(|l| l["equal"].as_bool().unwrap()).collect();
    assert_eq!(equal, vec![true, false, true, true]);
    assert_eq!((lines[0]["pred_answer"].as_str(), lines[0]["gold_answer"].as_str()), (Some("\\frac12"), Some("0.5")));
    assert_eq!((lines[2]["pred_answer"].as_str(), lines[2]["kind"].as_str()), (Some("C"), Some("choice")));
    let human = ok(&db, &["answers", "check", "--file", pairs.to_str().unwrap()]);
    assert!(human.ends_with("3 of 4 equal\n"), "{human}");

    let single = ok(&db, &["answers", "check", "--gold", "\\frac{\\sqrt3}{2}", "--pred", "$\\boxed{\\sqrt{3}/2}$", "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&single).unwrap()["equal"], true);

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"pred\": \"1\", \"gold\": \"1\"}\n{\"pred\": \"1\"}\n").unwrap();
    let out = thinkscope(&db, &["answers", "check", "--file", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no partial output");
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains(&format!("{}:2: gold: missing", bad.display())), "{why}");
    let out = thinkscope(&db, &["answers", "check", "--kind", "choice", "--gold", "E", "--pred", "E"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a letter A–D"));
    std::fs::write(&bad, "not json\n").unwrap();
    let out = thinkscope(&db, &["answers", "check", "--file", bad.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(":1: not JSON"));
}
