//! Answer extraction and equivalence checking: pure functions, no I/O.
//!
//! * [`extract_math`], [`extract_choice`], [`extract_code`] pull the final answer out of the
//!   answer part of a generation (the caller strips the reasoning part first).
//! * [`math_equal`] decides whether two extracted math answers are equivalent: normalise the
//!   LaTeX, parse it into an expression tree, then compare exactly (big rationals), then
//!   numerically (fixed points for free variables). See [`math`] for the tolerances.
//! * [`check_math`] and [`check_choice`] combine both and report how the verdict was reached.
//!
//! Everything is deterministic: no mutable global state (only caches of compiled regexes),
//! no randomness beyond fixed sample points, and bounded work per pair so hostile input
//! cannot hang a scoring run.

mod extract;
pub mod math;

pub use extract::{extract_choice, extract_code, extract_math};
pub use math::math_equal;

/// Scorer version: stored scores record the scorer name and this version, so bump it
/// whenever any verdict can change.
pub const VERSION: &str = "1.0.0";

/// Which kind of answer a benchmark expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// A mathematical expression, number, set, interval, … (MATH, AIME, Olympiad).
    Math,
    /// A multiple-choice letter (GPQA).
    Choice,
    /// A program, run by the sandbox rather than compared here (HumanEval, MBPP).
    Code,
}

/// The verdict on one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Whether the response's answer equals the gold answer.
    pub equal: bool,
    /// The answer extracted from the response, if any.
    pub pred_answer: Option<String>,
    /// The gold answer after extraction (a gold may itself be wrapped in `\boxed{}`).
    pub gold_answer: String,
    /// How the verdict was reached. Equal: `"string"`, `"text"`, `"exact"`, `"numeric"`,
    /// `"set"`, `"tuple"`, `"interval"`, `"matrix"`, `"relation"`, `"percent"`, `"letter"`.
    /// Unequal: `"parsed"` (both parsed, no match), `"text"` (unparsable, strings differ),
    /// `"too-long"`, `"no-answer"` (nothing extracted), `"letter"`.
    pub method: &'static str,
}

/// Extracts the answer from the answer part of a response and compares it with `gold`.
pub fn check_math(response_answer_text: &str, gold: &str) -> Check {
    let gold_answer = extract::extract_gold(gold);
    match extract_math(response_answer_text) {
        None => Check {
            equal: false,
            pred_answer: None,
            gold_answer,
            method: "no-answer",
        },
        Some(pred) => {
            let (equal, method) = math::compare(&pred, &gold_answer);
            // Several boxed answers (`\boxed{2}` and `\boxed{3}`) may together answer a
            // list of solutions.
            let boxed = extract::all_boxed(response_answer_text);
            if !equal && boxed.len() > 1 {
                let joined = boxed.join(", ");
                if let (true, method) = math::compare(&joined, &gold_answer) {
                    return Check {
                        equal: true,
                        pred_answer: Some(joined),
                        gold_answer,
                        method,
                    };
                }
            }
            Check {
                equal,
                pred_answer: Some(pred),
                gold_answer,
                method,
            }
        }
    }
}

/// Extracts the chosen letter from a multiple-choice response and compares it with
/// `gold_letter` (case-insensitive).
pub fn check_choice(response_answer_text: &str, gold_letter: char, n_options: usize) -> Check {
    let gold = gold_letter.to_ascii_uppercase();
    let pred = extract_choice(response_answer_text, n_options);
    Check {
        equal: pred == Some(gold),
        pred_answer: pred.map(String::from),
        gold_answer: gold.to_string(),
        method: if pred.is_some() {
            "letter"
        } else {
            "no-answer"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_math_reports_extraction_and_method() {
        let c = check_math("So the total is $\\boxed{\\dfrac{1}{2}}$.", "\\frac12");
        assert!(c.equal);
        assert_eq!(c.pred_answer.as_deref(), Some("\\dfrac{1}{2}"));
        assert_eq!(c.method, "exact");
        let c = check_math("I could not solve it.", "7");
        assert!(!c.equal);
        assert_eq!(c.method, "no-answer");
        assert!(check_math("The answer is 025.", "\\boxed{25}").equal);
        let c = check_math("So $x = \\boxed{2}$ or $x = \\boxed{-3}$.", "-3, 2");
        assert_eq!((c.equal, c.pred_answer.as_deref()), (true, Some("2, -3")));
        assert!(!check_math("\\boxed{2} or \\boxed{-3}", "2").equal);
    }

    #[test]
    fn check_choice_compares_letters() {
        let c = check_choice("The answer is (c).", 'C', 4);
        assert!(c.equal);
        assert_eq!(c.pred_answer.as_deref(), Some("C"));
        assert!(!check_choice("Answer: B", 'C', 4).equal);
        assert_eq!(check_choice("no idea", 'C', 4).method, "no-answer");
    }
}
