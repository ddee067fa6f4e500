//! Real data: every HumanEval canonical solution and MBPP reference solution passes in the
//! sandbox, and wrong solutions fail.
//!
//! The files come from `$THINKSCOPE_SHARED/datasets/` (default: the `shared/` dir beside
//! the repository). The sandbox's overhead against a bare `python3` is measured by
//! `thinkscope bench score`, not here.
#![cfg(target_os = "linux")]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::sandbox;
use serde_json::Value;
use thinkscope_sandbox::{humaneval_program, mbpp_program, Limits, Outcome, Status};

fn datasets_dir() -> PathBuf {
    let shared = std::env::var_os("THINKSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    shared.join("datasets")
}

fn read_jsonl(name: &str) -> Vec<Value> {
    let path = datasets_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} (set THINKSCOPE_SHARED): {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name]
        .as_str()
        .unwrap_or_else(|| panic!("field {name} missing in {row}"))
}

fn strings(row: &Value, name: &str) -> Vec<String> {
    row[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(60),
        cpu_secs: 30,
        ..Limits::default()
    }
}

fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn humaneval_with(completion: impl Fn(&Value) -> String) -> Vec<String> {
    read_jsonl("humaneval.jsonl")
        .iter()
        .map(|t| {
            let c = completion(t);
            humaneval_program(
                field(t, "prompt"),
                &c,
                field(t, "test"),
                field(t, "entry_point"),
            )
        })
        .collect()
}

/// Runs all programs, reports throughput, and returns the outcomes.
fn timed_run(what: &str, programs: &[String]) -> Vec<Outcome> {
    let started = Instant::now();
    let outcomes = sandbox().run_many(programs, &limits(), parallelism());
    let took = started.elapsed();
    eprintln!(
        "{what}: {} runs in {took:.2?} on {} threads = {:.1} runs/s",
        programs.len(),
        parallelism(),
        programs.len() as f64 / took.as_secs_f64()
    );
    outcomes
}

fn assert_all_pass(what: &str, outcomes: &[Outcome]) {
    let failed: Vec<String> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.status != Status::Pass)
        .map(|(i, o)| format!("#{i}: {:?} {:?}\n{}", o.status, o.detail, o.stderr_tail))
        .collect();
    assert!(
        failed.is_empty(),
        "{what}: {} did not pass:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn every_humaneval_canonical_solution_passes() {
    let programs = humaneval_with(|t| field(t, "canonical_solution").to_owned());
    assert_eq!(programs.len(), 164);
    let outcomes = timed_run("humaneval canonical", &programs);
    assert_all_pass("humaneval", &outcomes);
}

#[test]
fn humaneval_full_function_completions_pass_and_wrong_ones_fail() {
    // A model that repeats the signature: the prompt's own `def` line and docstring
    // followed by the canonical body, as a whole function.
    let full = humaneval_with(|t| {
        let prompt = field(t, "prompt");
        let def = format!("def {}(", field(t, "entry_point"));
        let at = prompt.rfind(&def).unwrap();
        format!("{}{}", &prompt[at..], field(t, "canonical_solution"))
    });
    let wrong = humaneval_with(|_| "    return None\n".to_owned());
    let sample = |programs: &[String]| programs.iter().step_by(8).cloned().collect::<Vec<_>>();
    let full_outcomes = timed_run("humaneval full-function", &sample(&full));
    assert_all_pass("humaneval full-function", &full_outcomes);
    let wrong_outcomes = timed_run("humaneval wrong", &sample(&wrong));
    for outcome in &wrong_outcomes {
        assert_eq!(outcome.status, Status::Fail, "{outcome:#?}");
    }
}

#[test]
fn every_mbpp_reference_solution_passes_and_a_wrong_one_fails() {
    let rows = read_jsonl("mbpp_sanitized.jsonl");
    assert_eq!(rows.len(), 427);
    let programs: Vec<String> = rows
        .iter()
        .map(|r| {
            mbpp_program(
                field(r, "code"),
                &strings(r, "test_imports"),
                &strings(r, "test_list"),
            )
        })
        .collect();
    let outcomes = timed_run("mbpp reference", &programs);
    assert_all_pass("mbpp", &outcomes);

    let first = &rows[0];
    let wrong = mbpp_program(
        "def nothing():\n    pass",
        &strings(first, "test_imports"),
        &strings(first, "test_list"),
    );
    assert_eq!(sandbox().run(&wrong, &limits()).status, Status::Fail);
}
