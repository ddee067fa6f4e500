//! String-level clean-up before parsing: wrappers, spacing, units, separators.

use regex::Regex;
use std::sync::OnceLock;

/// Words dropped when they trail an answer (`5 cm`, `12 square units`).
#[rustfmt::skip]
const UNIT_WORDS: &[&str] = &[
    "cm", "mm", "km", "meters", "meter", "metres", "inches", "inch", "feet", "foot", "ft",
    "miles", "mile", "mph", "units", "unit", "square", "sq", "cubic", "degrees", "degree",
    "cents", "cent", "dollars", "dollar", "hours", "hour", "minutes", "minute", "seconds",
    "second", "days", "day", "weeks", "years", "people", "ways", "points", "students", "liters",
    "grams", "kg", "pounds", "ounces", "yards", "radians", "rad", "sq.", "m^2", "cm^2", "cm^3",
    "percent", "percentage", "pct",
];

/// Plain substitutions, applied in order (so `\cdots` goes before `\cdot`).
#[rustfmt::skip]
const REPLACEMENTS: &[(&str, &str)] = &[
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cfrac", "\\frac"), ("\\displaystyle", ""),
    ("\\left.", ""), ("\\right.", ""), ("\\bigl", ""), ("\\bigr", ""), ("\\Bigl", ""),
    ("\\Bigr", ""), ("\\big", ""), ("\\Big", ""), ("\\lbrace", "\\{"), ("\\rbrace", "\\}"),
    ("\\lvert", "|"), ("\\rvert", "|"), ("\\vert", "|"), ("\\mid", "|"),
    ("\\$", ""), ("\\%", ""), ("%", ""), ("$", ""),
    ("\\cdots", ""), ("\\ldots", ""), ("\\dots", ""),
    ("\\cdot", "*"), ("\\times", "*"), ("\\div", "/"),
    // Degrees become one marker: ignored, except inside trigonometric functions.
    ("^{\\circ}", " \\degree "), ("^\\circ", " \\degree "), ("\\circ", " \\degree "),
    ("°", " \\degree "),
    ("−", "-"), ("×", "*"), ("·", "*"), ("÷", "/"), ("√", "\\sqrt"), ("π", "\\pi"),
    ("≤", "\\le "), ("≥", "\\ge "), ("≠", "\\ne "), ("≈", "\\approx "), ("∞", "\\infty "),
    ("∪", "\\cup "), ("±", "\\pm "), ("\\leqslant", "\\le "), ("\\geqslant", "\\ge "),
    ("\\langle", "("), ("\\rangle", ")"), ("\\angle", ""),
    ("\\emptyset", "\\{\\}"), ("\\varnothing", "\\{\\}"), ("\\mathbb{R}", "(-\\infty,\\infty)"),
    ("^{\\prime}", "'"),
];

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).unwrap())
}

/// Normalises an extracted answer into the form the lexer expects.
pub fn normalize(input: &str) -> String {
    let mut s = input.trim().to_string();
    for (from, to) in REPLACEMENTS {
        s = s.replace(from, to);
    }
    static LEFT_RIGHT: OnceLock<Regex> = OnceLock::new();
    s = re(&LEFT_RIGHT, r"\\(?:left|right)([^A-Za-z]|$)")
        .replace_all(&s, "$1")
        .into_owned();
    s = merge_thousands(&s);
    // Matrix row breaks become `\cr` so that the spacing rules below cannot eat them.
    s = s.replace("\\\\", " \\cr ");
    for sp in ["\\!", "\\,", "\\;", "\\:", "\\ ", "\\qquad", "\\quad", "~"] {
        s = s.replace(sp, " ");
    }
    s = unwrap_text(&s);
    s = repeating_decimals(&s);
    // `204_5`, `1011_{2}`: the digits are the answer; the base is in the question.
    static BASE: OnceLock<Regex> = OnceLock::new();
    s = re(&BASE, r"(^|[^A-Za-z_\\\d])(\d+)_\{?\d+\}?")
        .replace_all(&s, "$1$2")
        .into_owned();
    static AND: OnceLock<Regex> = OnceLock::new();
    s = re(&AND, r"\s*\b(?:and|or)\b\s*")
        .replace_all(&s, ", ")
        .into_owned();
    // `19, 46, and 82` leaves an empty element.
    static EMPTY_ITEM: OnceLock<Regex> = OnceLock::new();
    s = re(&EMPTY_ITEM, r",(?:\s*,)+")
        .replace_all(&s, ",")
        .into_owned();
    s = strip_trailing_units(s.trim());
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.trim_end_matches(['.', ';']).trim();
    single_choice_letter(s)
        .or_else(|| number_word(s))
        .unwrap_or_else(|| s.to_string())
}

/// A whole answer spelled out (`three`, `Twelve`) as digits.
fn number_word(s: &str) -> Option<String> {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let lower = s.to_lowercase();
    WORDS
        .iter()
        .position(|w| *w == lower)
        .map(|n| n.to_string())
}

/// `\text{…}`-style wrappers: `and`/`or` become commas, a wrapper after other content is a
/// unit and is dropped (with any `^2` on it), and a leading wrapper is unwrapped.
fn unwrap_text(s: &str) -> String {
    static TEXT: OnceLock<Regex> = OnceLock::new();
    let text = re(
        &TEXT,
        concat!(
            r"\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf|mathit|operatorname|emph)",
            r"\s*\{([^{}]*)\}(\^\{?\d\}?)?",
        ),
    );
    let mut out = String::new();
    let mut last = 0;
    for caps in text.captures_iter(s) {
        let m = caps.get(0).unwrap();
        out.push_str(&s[last..m.start()]);
        let content = caps[1].trim();
        // After other content, words like `cm`, `m/s`, `km^2` are units.
        let content_is_unit = !out.trim().is_empty()
            && content.chars().any(char::is_alphabetic)
            && content
                .chars()
                .all(|c| c.is_alphanumeric() || " ./^-²³".contains(c));
        let first_word = content.split_whitespace().next().unwrap_or("");
        if content == "and" || content == "or" {
            out.push_str(", ");
        } else if !out.trim().is_empty()
            && ["for", "where", "when", "if", "with", "since"].contains(&first_word)
        {
            // `f(x) = x \text{ for all } x`: a condition, not part of the answer.
            return out;
        } else if content_is_unit || content.is_empty() {
            out.push(' ');
        } else {
            out.push_str(content);
            if let Some(p) = caps.get(2) {
                out.push_str(p.as_str());
            }
        }
        last = m.end();
    }
    out.push_str(&s[last..]);
    out
}

/// `0.\overline{3}` → `(0+\frac{3}{9})`; any other `\overline{AB}` (a segment) → `AB`.
fn repeating_decimals(s: &str) -> String {
    static REPEAT: OnceLock<Regex> = OnceLock::new();
    // At most 9 + 9 digits, so the numerator fits in a u64.
    let repeat = re(&REPEAT, r"(\d*)\.(\d{0,9})\\overline\{(\d{1,9})\}");
    let s = repeat.replace_all(s, |c: &regex::Captures| {
        let (whole, fixed, cycle) = (&c[1], &c[2], &c[3]);
        let num = format!("{fixed}{cycle}").parse::<u64>().unwrap_or(0)
            - fixed.parse::<u64>().unwrap_or(0);
        let den = format!("{}{}", "9".repeat(cycle.len()), "0".repeat(fixed.len()));
        format!(
            "({}+\\frac{{{num}}}{{{den}}})",
            if whole.is_empty() { "0" } else { whole }
        )
    });
    static OVERLINE: OnceLock<Regex> = OnceLock::new();
    re(&OVERLINE, r"\\overline\{([^{}]*)\}")
        .replace_all(&s, "$1")
        .into_owned()
}

/// Separators inside numbers: `1{,}000`, `10,\!080`, `1\,000`, and a plain `58,500` at top
/// level (outside brackets, where commas separate elements instead).
fn merge_thousands(s: &str) -> String {
    static EXPLICIT: OnceLock<Regex> = OnceLock::new();
    let explicit = re(&EXPLICIT, r"(\d)\s*(?:\{\s*,\s*\}|,\\!|\\,|\\!)\s*(\d{3})");
    let mut s = s.to_string();
    // Twice, since each match consumes the leading digit of the next group.
    for _ in 0..2 {
        s = explicit.replace_all(&s, "$1$2").into_owned();
    }
    if s.contains(['(', '[', '{']) {
        return s;
    }
    static PLAIN: OnceLock<Regex> = OnceLock::new();
    let plain = re(&PLAIN, r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$");
    if plain.is_match(s.trim()) {
        s = s.replace(',', "");
    }
    s
}

fn strip_trailing_units(s: &str) -> String {
    let mut t = s.to_string();
    loop {
        let trimmed = t.trim_end();
        let cut = trimmed.rfind(|c: char| c.is_whitespace() || c.is_ascii_digit() || c == '}');
        let Some(i) = cut else { return t };
        let word = trimmed[i..]
            .trim_start_matches(|c: char| c.is_whitespace() || c.is_ascii_digit() || c == '}');
        let head = &trimmed[..trimmed.len() - word.len()];
        if word.is_empty()
            || head.trim().is_empty()
            || !UNIT_WORDS.contains(&word.to_lowercase().as_str())
        {
            return t;
        }
        t = head.to_string();
    }
}

/// `(C)` or `C)` as a whole answer is the option letter.
fn single_choice_letter(s: &str) -> Option<String> {
    let inner = s.strip_prefix('(').unwrap_or(s).strip_suffix(')')?;
    let mut it = inner.trim().chars();
    match (it.next(), it.next()) {
        (Some(c), None) if c.is_ascii_uppercase() => Some(c.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn wrappers_units_and_separators() {
        assert_eq!(
            normalize("\\left( \\dfrac{1}{2}, 3 \\right]"),
            "( \\frac{1}{2}, 3 ]"
        );
        assert_eq!(normalize("15\\mbox{ cm}^2"), "15");
        assert_eq!(normalize("5.4 \\text{ cents}"), "5.4");
        assert_eq!(normalize("\\$32,\\!348"), "32348");
        assert_eq!(normalize("11,\\! 111,\\! 111,\\! 100"), "11111111100");
        assert_eq!(normalize("1{,}000"), "1000");
        assert_eq!(normalize("58,500"), "58500");
        assert_eq!(normalize("3, 5, 7"), "3, 5, 7");
        assert_eq!(normalize("120^\\circ"), "120 \\degree");
        assert_eq!(normalize("2516_8"), "2516");
        assert_eq!(normalize("4210_{5}"), "4210");
        assert_eq!(normalize("\\text{(C)}"), "C");
        assert_eq!(normalize("\\text{Evelyn}"), "Evelyn");
        assert_eq!(normalize("12 square units"), "12");
        assert_eq!(normalize("x = 1 \\text{ or } x = 2"), "x = 1 , x = 2");
        assert_eq!(normalize("19, 46, and 82"), "19, 46, 82");
        assert_eq!(normalize("19, 46, \\text{ and } 82"), "19, 46, 82");
        assert_eq!(normalize("0.1\\overline{6}"), "(0+\\frac{15}{90})");
        assert_eq!(normalize("\\overline{AB}"), "AB");
        assert_eq!(normalize("(11,7)or(7,11)"), "(11,7), (7,11)");
        assert_eq!(normalize("f(x) = x \\text{ for all } x"), "f(x) = x");
        assert_eq!(normalize("\\text{Seven}"), "7");
    }
}
