//! Gold answers from the real benchmark files: every gold must equal itself and its
//! usual rewrites, and differ from a perturbed copy.
//!
//! The files come from `$THINKSCOPE_SHARED/datasets/` (default: the `shared/` dir beside
//! the repository). Run with `--nocapture` to see the counts.

use serde_json::Value;
use thinkscope_score::{check_math, extract_math, math_equal};

fn rows(file: &str) -> Vec<Value> {
    let shared = std::env::var_os("THINKSCOPE_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared").into());
    let path = shared.join("datasets").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} (set THINKSCOPE_SHARED): {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn math500_golds() -> Vec<String> {
    rows("math500.jsonl")
        .iter()
        .map(|r| r["answer"].as_str().unwrap().to_string())
        .collect()
}

/// Typesetting-only rewrites a model might produce for the same answer.
fn rewrite(gold: &str) -> String {
    let compact = gold
        .replace("\\dfrac", "\\frac")
        .replace("\\left", "")
        .replace("\\right", "")
        .replace(' ', "");
    // A space after each comma, except inside numbers such as `10,\!080` or `58,500`.
    let chars: Vec<char> = compact.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        if c == ','
            && chars
                .get(i + 1)
                .is_some_and(|n| !n.is_ascii_digit() && *n != '\\')
        {
            out.push(' ');
        }
    }
    out
}

/// Bumps the first digit that is not in a subscript (a base subscript is ignored by design).
fn perturb(gold: &str) -> Option<String> {
    let chars: Vec<char> = gold.chars().collect();
    let i = (0..chars.len()).find(|&i| {
        chars[i].is_ascii_digit()
            && !(i > 0 && chars[i - 1] == '_')
            && !(i > 1 && chars[i - 2..i] == ['_', '{'])
    })?;
    let mut out = chars.clone();
    out[i] = char::from(b'0' + (chars[i] as u8 - b'0' + 1) % 10);
    Some(out.into_iter().collect())
}

#[test]
fn math500_golds_equal_themselves_and_their_wrappings() {
    let golds = math500_golds();
    let mut failures = Vec::new();
    for g in &golds {
        let variants = [
            ("self", g.clone()),
            ("boxed", format!("\\boxed{{{g}}}")),
            ("dollars", format!("${g}$")),
            ("rewrite", rewrite(g)),
        ];
        for (kind, v) in variants {
            if !math_equal(&v, g) {
                failures.push(format!("{kind}: {v:?} vs {g:?}"));
            }
        }
        for response in [
            format!("Thus the answer is $\\boxed{{{g}}}$."),
            format!("The answer is ${g}$."),
        ] {
            if !check_math(&response, g).equal {
                failures.push(format!("response: {response:?} vs {g:?}"));
            }
        }
    }
    println!(
        "math500: {} golds, {} variant failures",
        golds.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn math500_golds_differ_from_perturbed_copies() {
    let golds = math500_golds();
    let perturbed: Vec<(String, String)> = golds
        .iter()
        .filter_map(|g| Some((perturb(g)?, g.clone())))
        .collect();
    let wrong: Vec<String> = perturbed
        .iter()
        .filter(|(p, g)| math_equal(p, g))
        .map(|(p, g)| format!("{p:?} vs {g:?}"))
        .collect();
    println!(
        "math500: {} perturbed golds, {} wrongly equal",
        perturbed.len(),
        wrong.len()
    );
    assert!(perturbed.len() > 450);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn aime_answers_ignore_leading_zeros() {
    let mut n = 0;
    for file in [
        "aime24.jsonl",
        "aime24_nofigures.jsonl",
        "aime25.jsonl",
        "aime25_nofigures.jsonl",
    ] {
        for row in rows(file) {
            let gold = match &row["answer"] {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let value: u32 = gold.parse().unwrap();
            assert!(value < 1000, "{file}: {gold}");
            assert!(
                math_equal(&value.to_string(), &gold),
                "{file}: {value} vs {gold}"
            );
            assert!(
                math_equal(&format!("{value:03}"), &gold),
                "{file}: padded {gold}"
            );
            assert!(check_math(&format!("so the answer is $\\boxed{{{value}}}$"), &gold).equal);
            assert!(
                !math_equal(&(value + 1).to_string(), &gold),
                "{file}: {} vs {gold}",
                value + 1
            );
            n += 1;
        }
    }
    assert_eq!(n, 120);
}

#[test]
fn math500_reference_solutions_box_the_gold() {
    // The reference solutions end with a boxed answer: extracting it must give the gold.
    let rows = rows("math500.jsonl");
    let agree = rows
        .iter()
        .filter(|r| {
            let pred = extract_math(r["solution"].as_str().unwrap()).unwrap_or_default();
            math_equal(&pred, r["answer"].as_str().unwrap())
        })
        .count();
    println!(
        "math500 solutions: {agree}/{} boxed answers equal the gold",
        rows.len()
    );
    assert!(agree * 100 >= rows.len() * 98, "{agree}/{}", rows.len());
}
