//! Hand-labelled equivalence cases in `tests/cases/*.jsonl`.
//!
//! Run with `--nocapture` to see the agreement figures.

use serde_json::Value;
use thinkscope_score::{check_choice, check_math, math_equal};

/// Files of `{"pred", "gold", "equal", "note"}` rows.
const MATH_FILES: [&str; 6] = [
    "numbers.jsonl",
    "latex.jsonl",
    "structures.jsonl",
    "text_units.jsonl",
    "mixed.jsonl",
    "second_batch.jsonl",
];

fn cases(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/cases/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `verdict` on every case of `file`; prints agreement and returns the case count and
/// the disagreements.
fn agreement(file: &str, verdict: impl Fn(&str, &str) -> bool) -> (usize, Vec<String>) {
    let rows = cases(file);
    let mut wrong = Vec::new();
    for row in &rows {
        let (pred, gold) = (row["pred"].as_str().unwrap(), row["gold"].as_str().unwrap());
        let want = row["equal"].as_bool().unwrap();
        if verdict(pred, gold) != want {
            wrong.push(format!(
                "{file}: {pred:?} vs {gold:?} should be {want} ({})",
                row["note"]
            ));
        }
    }
    println!("{file}: {}/{} agree", rows.len() - wrong.len(), rows.len());
    (rows.len(), wrong)
}

#[test]
fn equivalence_corpus_agrees_with_labels() {
    let mut results: Vec<(usize, Vec<String>)> = MATH_FILES
        .iter()
        .map(|f| agreement(f, math_equal))
        .collect();
    results.push(agreement("responses.jsonl", |r, g| check_math(r, g).equal));
    let total: usize = results.iter().map(|(n, _)| n).sum();
    let wrong: Vec<String> = results.into_iter().flat_map(|(_, w)| w).collect();
    println!("all: {}/{total} agree", total - wrong.len());
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn equivalence_is_symmetric_on_corpus() {
    for file in MATH_FILES {
        for row in cases(file) {
            let (pred, gold) = (row["pred"].as_str().unwrap(), row["gold"].as_str().unwrap());
            if !row["note"].as_str().unwrap().contains("asymmetric") {
                assert_eq!(
                    math_equal(pred, gold),
                    math_equal(gold, pred),
                    "{pred:?} vs {gold:?}"
                );
            }
        }
    }
}

#[test]
fn choice_corpus_extracts_the_letter() {
    let rows = cases("choice.jsonl");
    for row in &rows {
        let response = row["response"].as_str().unwrap();
        let gold = row["gold"].as_str().unwrap().chars().next().unwrap();
        let n = row["n_options"].as_u64().unwrap() as usize;
        assert!(
            check_choice(response, gold, n).equal,
            "{response:?} should give {gold}"
        );
        let other = if gold == 'A' { 'B' } else { 'A' };
        assert!(
            !check_choice(response, other, n).equal,
            "{response:?} should not give {other}"
        );
    }
    println!(
        "choice.jsonl: {}/{} letters extracted",
        rows.len(),
        rows.len()
    );
}
