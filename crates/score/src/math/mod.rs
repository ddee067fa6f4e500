//! Math answer equivalence: normalise → parse into an expression tree → compare.
//!
//! Normalisation drops typesetting (`$`, `\left`, `\dfrac`, spacing commands), units and
//! `\text{…}` after a value, `%`, `\$`, base subscripts (`204_5` is its digits), and
//! thousands separators (`10,\!080`, `1{,}000`, top-level `58,500`); degrees are dropped
//! too (`120^\circ` is 120) except inside trigonometric functions, where they convert to
//! radians (`\sin 30^\circ` is ½). Words (`\text{Evelyn}`, `no`) and option letters
//! (`(C)`) compare case-insensitively.
//!
//! Verdicts, in order (the method is reported by [`crate::check_math`]):
//! 1. identical after normalisation (`"string"`);
//! 2. structure: sets and comma lists ignore order and repeats, tuples/points/vectors and
//!    matrices keep order, intervals compare brackets and endpoints (also written as
//!    inequalities or `x \in …`), `x = 5` answers `5`, `a = 2, b = 3` answers `(2, 3)`,
//!    equations match when their sides do or their differences are proportional (`y = 2x+3`
//!    vs `2x - y + 3 = 0`), `±` expands into both values;
//! 3. exact big-rational arithmetic (`"exact"`), so `0.5` = `\frac12` = `2^{-1}`;
//! 4. numeric complex evaluation (`"numeric"`): relative tolerance 1e-9 between exact forms
//!    (`\sqrt{8}` vs `2\sqrt2`), 1e-6 when a decimal literal is involved; a decimal with
//!    ≥ 4 significant digits also equals an exact value it correctly rounds or truncates
//!    (`0.3333` for `\frac13`, as Math-Verify accepts; `0.33` and `3.14` for π do not);
//!    expressions with free variables are compared at 6 fixed sample points (1e-7), which
//!    stands in for symbolic simplification;
//! 5. a `%` answer also matches a hundredth of itself (`"percent"`); `(C) 12` matches both
//!    `C` and `12`.
//!
//! Work is bounded: inputs over [`MAX_INPUT`] bytes only compare as strings, parsing depth
//! is capped, exact numbers are capped in size, `±` expansion in count, and numeric
//! evaluation in steps.

mod compare;
mod eval;
mod expr;
mod lexer;
mod normalize;
mod parser;

use crate::extract::extract_gold;

/// Longer answers are compared as normalised strings only.
pub const MAX_INPUT: usize = 2000;

/// Whether two already-extracted math answers are equivalent (either may still carry
/// `$…$` or `\boxed{}`).
pub fn math_equal(pred: &str, gold: &str) -> bool {
    compare(pred, gold).0
}

/// The verdict and the method that decided it.
pub(crate) fn compare(pred: &str, gold: &str) -> (bool, &'static str) {
    // Not worth normalising: no real answer is this long.
    if pred.len().max(gold.len()) > 20 * MAX_INPUT {
        return (pred.trim() == gold.trim(), "too-long");
    }
    let (p, g) = (
        normalize::normalize(&extract_gold(pred)),
        normalize::normalize(&extract_gold(gold)),
    );
    let verdict = compare_normalized(&p, &g, pred.contains('%'), gold.contains('%'));
    if verdict.0 {
        return verdict;
    }
    // `(C) 12` answers both `C` and `12`.
    for (p_alt, g_alt) in option_alternatives(&p)
        .iter()
        .map(|a| (a.as_str(), g.as_str()))
        .chain(
            option_alternatives(&g)
                .iter()
                .map(|a| (p.as_str(), a.as_str())),
        )
    {
        if let (true, method) = compare_normalized(p_alt, g_alt, false, false) {
            return (true, method);
        }
    }
    verdict
}

/// `(C) 12` → [`C`, `12`]; nothing for other answers.
fn option_alternatives(s: &str) -> Vec<String> {
    let label = s
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .filter(|(l, rest)| {
            l.len() == 1 && l.chars().all(|c| c.is_ascii_uppercase()) && !rest.trim().is_empty()
        });
    label.map_or_else(Vec::new, |(l, rest)| {
        vec![l.to_string(), rest.trim().to_string()]
    })
}

fn compare_normalized(p: &str, g: &str, p_percent: bool, g_percent: bool) -> (bool, &'static str) {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let (sp, sg) = (squash(p), squash(g));
    if sp == sg && !sp.is_empty() {
        return (true, "string");
    }
    // Words (`No`, `no`) are text, not products of variables.
    if sp.chars().all(|c| c.is_alphabetic())
        && sp.to_lowercase() == sg.to_lowercase()
        && !sp.is_empty()
    {
        return (true, "text");
    }
    if p.len() > MAX_INPUT || g.len() > MAX_INPUT {
        return (false, "too-long");
    }
    match (parse(p), parse(g)) {
        (Some(a), Some(b)) => {
            if let Some(method) = compare::equal(&a, &b) {
                return (true, method);
            }
            // `10\%` also answers `0.1` (and the reverse); the `%` itself is dropped when
            // normalising, so `10\%` answers `10` too.
            let hundredth = |n: &expr::Node| {
                let hundred = expr::Node::num(num_rational::BigRational::from_integer(100.into()));
                expr::Node::Div(Box::new(n.clone()), Box::new(hundred))
            };
            let retried = (p_percent
                .then(|| compare::equal(&hundredth(&a), &b))
                .flatten())
            .or_else(|| {
                g_percent
                    .then(|| compare::equal(&a, &hundredth(&b)))
                    .flatten()
            });
            match retried {
                Some(_) => (true, "percent"),
                None => (false, "parsed"),
            }
        }
        // Words or unparsable text: compare case-insensitively.
        _ => (
            sp.to_lowercase() == sg.to_lowercase() && !sp.is_empty(),
            "text",
        ),
    }
}

fn parse(s: &str) -> Option<expr::Node> {
    parser::parse(&lexer::lex(s)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_terminates_with_a_verdict() {
        let deep = format!("{}1{}", "\\frac{1}{".repeat(400), "}".repeat(400));
        assert!(!math_equal(&deep, "2"));
        let long = "x+".repeat(5000) + "1";
        assert!(!math_equal(&long, "1"));
        assert!(math_equal(&long, &long));
        let huge = "9".repeat(1_000_000);
        assert!(!math_equal(&huge, "9"));
        assert!(math_equal(&huge, &huge));
        let many_pm = vec!["1 \\pm 2"; 40].join(" + ");
        assert!(!math_equal(&many_pm, "3"));
        assert!(!math_equal("2^{2^{2^{2^{2^{2^{2}}}}}}", "4"));
        assert!(!math_equal("100000000!", "1"));
        assert!(!math_equal("\\binom{10^{9}}{5000}", "1"));
        assert!(!math_equal(&"(".repeat(10_000), "1"));
    }

    #[test]
    fn verdicts_are_deterministic() {
        let pairs = [
            ("x^2+2x+1", "(x+1)^2"),
            ("0.3333", "\\frac13"),
            ("\\{1,2\\}", "2,1"),
        ];
        for (p, g) in pairs {
            let first = compare(p, g);
            assert!(first.0);
            assert!((0..5).all(|_| compare(p, g) == first));
        }
    }
}
