//! Pulling the final answer out of free-form model output.

use regex::Regex;
use std::sync::OnceLock;

/// Extracts the final math answer from the answer part of a generation.
///
/// Priority: the last `\boxed{…}` / `\fbox{…}`; else the text after the last answer phrase
/// (`Final Answer:`, `answer is`, `Answer:`); else the whole text when it is a bare answer
/// (a short formula or a single word); else the last `$…$` / `\(…\)` / `\[…\]` segment;
/// else the last number. Returns `None` when nothing answer-like is found.
pub fn extract_math(answer_text: &str) -> Option<String> {
    if let Some(b) = last_boxed(answer_text) {
        return non_empty(clean(&b));
    }
    if let Some(tail) = after_last_phrase(answer_text) {
        let tail = strip_hope(first_line(&tail));
        let segments = math_segments(tail);
        // `The largest $n$ is 34.`: a number after the last formula is the answer.
        let inner = match segments.last() {
            Some(last) => last_number(&tail[last.end..])
                .or_else(|| listed_segments(tail, &segments))
                .unwrap_or_else(|| segments[0].text.clone()),
            None => leading_answer(tail),
        };
        if let Some(a) = non_empty(clean(&inner)) {
            return Some(a);
        }
    }
    if looks_like_math(answer_text) {
        return non_empty(clean(answer_text));
    }
    let segments = math_segments(answer_text);
    if let Some(list) = listed_segments(answer_text, &segments) {
        return Some(list);
    }
    if let Some(last) = segments.last() {
        return non_empty(clean(&last.text));
    }
    last_number(answer_text)
}

/// The gold answer as stored: the content of its `\boxed{}` if it has one (several boxes
/// form a list: `\boxed{1}\boxed{2}` → `1, 2`), else the whole string, trimmed.
pub(crate) fn extract_gold(gold: &str) -> String {
    let boxed = all_boxed(gold);
    if boxed.is_empty() {
        return gold.trim().to_string();
    }
    boxed
        .iter()
        .map(|b| clean(b))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Extracts the chosen option letter (upper case) from a multiple-choice response with
/// `n_options` options (`A`…; at most 26).
///
/// Recognises `\boxed{C}`, answer phrases in English, Spanish, French, German, Portuguese,
/// Italian, Chinese, Japanese, Korean and Russian (`answer is C`, `la respuesta es C`, `答案是 C`, …),
/// `C is correct`, `so C`, `I'd go with C`, `option C`, `**C**`, a parenthesised `(C)`, a line starting
/// `C)` / `C.` / `C:`, or a bare letter, in that order of trust.
pub fn extract_choice(answer_text: &str, n_options: usize) -> Option<char> {
    let n = n_options.clamp(1, 26) as u8;
    let valid = |c: char| c.is_ascii_alphabetic() && (c.to_ascii_uppercase() as u8) < b'A' + n;
    let letter = |s: &str| -> Option<char> {
        let c = s.chars().next()?;
        valid(c).then(|| c.to_ascii_uppercase())
    };
    if let Some(c) = last_boxed(answer_text).and_then(|b| single_letter(&clean(&b))) {
        return valid(c).then(|| c.to_ascii_uppercase());
    }
    // Compiled once; the patterns are constants, so this cache cannot change any verdict.
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    for re in PATTERNS.get_or_init(choice_patterns) {
        if let Some(c) = re
            .captures_iter(answer_text)
            .filter_map(|m| letter(&m[1]))
            .last()
        {
            return Some(c);
        }
    }
    single_letter(&clean(answer_text))
        .filter(|&c| valid(c))
        .map(|c| c.to_ascii_uppercase())
}

/// Extracts the program from a code answer: the last fenced block (```` ```python ```` or
/// plain ```` ``` ````; an unterminated final fence runs to the end), else the whole text.
pub fn extract_code(answer_text: &str) -> String {
    let fences: Vec<usize> = answer_text.match_indices("```").map(|(i, _)| i).collect();
    if fences.is_empty() {
        return answer_text.trim().to_string();
    }
    // Fences pair up in order; an odd count leaves the last one open to the end.
    let (open, close) = if fences.len().is_multiple_of(2) {
        (fences[fences.len() - 2], fences[fences.len() - 1])
    } else {
        (fences[fences.len() - 1], answer_text.len())
    };
    let block = &answer_text[open + 3..close];
    // The rest of the opening line is the language tag.
    let body = block.find('\n').map_or("", |nl| &block[nl + 1..]);
    body.trim_end().trim_start_matches('\n').to_string()
}

/// Choice patterns in priority order; each captures the letter in group 1.
fn choice_patterns() -> Vec<Regex> {
    // An upper-case letter, optionally wrapped in markdown/LaTeX/parentheses, not followed
    // by a letter.
    let letter =
        r"[\s*:：$]*(?:\\text\{|\\textbf\{|\\mathrm\{)?[(\[]?([A-Z])[)\]]?\}?(?:[^A-Za-z]|$)";
    // Lower-case letters only count when marked, so the article "a" is not an answer.
    let marked = r"[\s*:：$]*(?:\\text\{|\\textbf\{|\(|\[)([A-Za-z])(?:\)|\]|\})";
    let phrase = |p: &str| [format!("{p}{marked}"), format!("{p}{letter}")];
    let strong = [
        r"(?i:final answer|correct answer|the answer|answer is|answer)\s*(?:is|:|would be)?",
        concat!(
            r"(?i:la respuesta (?:correcta )?es|respuesta:",
            r"|la réponse (?:correcte )?est|réponse\s*:",
            r"|die (?:richtige )?antwort ist|antwort:",
            r"|a resposta (?:correta )?é|resposta:",
            r"|la risposta (?:corretta )?è|risposta:",
            r"|ответ:|правильный ответ)",
        ),
        r"(?:答案是|答案为|答案：|答案:|正确答案是|选|答えは|正解は|정답은|정답:)",
    ];
    let mut sources: Vec<String> = strong.iter().flat_map(|p| phrase(p)).collect();
    sources.push(r"\b\(?([A-Z])\)? is (?:the )?correct".into());
    sources.push(r"(?i:\bso|\bthus|\btherefore|\bhence)[,:\s]+\(?([A-Z])\)?(?:[^A-Za-z]|$)".into());
    sources.push(
        r"(?i:go with|choose|pick|select|opt for)\s+(?:option\s+)?\(?([A-Z])\)?(?:[^A-Za-z]|$)"
            .into(),
    );
    // Weaker: "option B" also appears while the options are being discussed.
    sources.extend(phrase(r"(?i:correct option|option|choice)\s*(?:is|:)?"));
    sources.push(r"\*\*\(?([A-Z])\)?\*\*".into());
    sources.push(r"\(([A-Z])\)".into());
    sources.push(r"(?m)^\s*([A-Z])[).:]".into());
    sources.iter().map(|p| Regex::new(p).unwrap()).collect()
}

/// `C`, `(C)`, `C.` or `\text{C}` → `C`.
fn single_letter(s: &str) -> Option<char> {
    let t = s.trim();
    let t = ["\\text{", "\\textbf{", "\\mathrm{"]
        .iter()
        .find_map(|p| t.strip_prefix(p).and_then(|r| r.strip_suffix('}')))
        .unwrap_or(t);
    let t = t
        .trim()
        .trim_end_matches(['.', ')', ']'])
        .trim_start_matches(['(', '[']);
    let mut it = t.chars();
    match (it.next(), it.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Some(c),
        _ => None,
    }
}

/// Content of the last `\boxed{…}` / `\fbox{…}` (brace-matched), or `\boxed 5`.
fn last_boxed(s: &str) -> Option<String> {
    all_boxed(s).pop()
}

/// Contents of every `\boxed{…}` / `\fbox{…}` / `\boxed 5`, in order.
pub(crate) fn all_boxed(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((i, len)) = ["\\boxed", "\\fbox"]
        .iter()
        .filter_map(|k| rest.find(k).map(|i| (i, k.len())))
        .min()
    {
        rest = &rest[i + len..];
        if let Some(body) = rest.strip_prefix('{') {
            if let Some(end) = matching_brace(body) {
                out.push(body[..end].to_string());
                rest = &body[end..];
            }
        } else if let Some(body) = rest.strip_prefix(' ') {
            let end = body
                .find(|c: char| c.is_whitespace() || c == '$')
                .unwrap_or(body.len());
            out.push(body[..end].to_string());
            rest = &body[end..];
        }
    }
    out
}

/// Byte index of the `}` closing an already-opened brace, skipping escaped braces.
fn matching_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Text after the last answer phrase (case-insensitive).
fn after_last_phrase(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    // Lower-casing can change byte lengths for non-ASCII text; only slice when it did not.
    if lower.len() != s.len() {
        return None;
    }
    ["final answer:", "final answer is", "answer is", "answer:"]
        .iter()
        .filter_map(|p| lower.rfind(p).map(|i| i + p.len()))
        .max()
        .map(|i| s[i..].to_string())
}

/// A run of three or more plain letters (punctuation aside): prose rather than math.
fn is_prose(word: &str) -> bool {
    let w = word.trim_matches(|c: char| ".,;:!?()*".contains(c));
    w.len() >= 3
        && w.chars().all(|c| c.is_ascii_alphabetic())
        && !["sqrt", "pi", "sin", "cos", "tan", "log"].contains(&w)
}

/// The answer at the start of a phrase's tail: `5 because …` → `5`; a tail that starts
/// with a word (`Monday.`) is kept whole.
fn leading_answer(tail: &str) -> String {
    let words: Vec<&str> = tail.split_whitespace().collect();
    if words.first().is_some_and(|w| is_prose(w)) {
        return tail.to_string();
    }
    words
        .iter()
        .take_while(|w| !is_prose(w))
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A bare answer: one line of at most 200 bytes, without `$`/`\(`/`\[` delimiters (those
/// mark the formulas inside prose), that is a single word or has no prose words (runs of
/// three or more plain letters).
fn looks_like_math(s: &str) -> bool {
    let t = s.trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    let delimited = t.contains('$') || t.contains("\\(") || t.contains("\\[");
    !t.is_empty()
        && t.len() <= 200
        && !t.contains('\n')
        && !delimited
        && (words.len() == 1 || !words.iter().any(|w| is_prose(w)))
}

fn first_line(s: &str) -> &str {
    s.trim_start().lines().next().unwrap_or("")
}

fn strip_hope(s: &str) -> &str {
    match s.find("I hope it is correct") {
        Some(i) => &s[..i],
        None => s,
    }
}

/// A `$…$`, `$$…$$`, `\(…\)` or `\[…\]` formula inside prose.
struct Segment {
    start: usize,
    end: usize,
    text: String,
}

/// Every formula segment, in order (`\$` is a dollar sign, not a delimiter).
fn math_segments(s: &str) -> Vec<Segment> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?s)\$\$((?:[^$\\]|\\.)+?)\$\$|\$((?:[^$\\]|\\.)+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]",
        )
        .unwrap()
    });
    re.captures_iter(s)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let text = (1..=4).find_map(|g| c.get(g))?.as_str().to_string();
            Some(Segment {
                start: whole.start(),
                end: whole.end(),
                text,
            })
        })
        .collect()
}

/// `$21, 16$ or $11$`: formulas joined only by `,` / `and` / `or` form one list answer.
fn listed_segments(s: &str, segments: &[Segment]) -> Option<String> {
    let (first, last) = (segments.first()?, segments.last()?);
    let separator = |gap: &str| {
        let g = gap.trim().trim_end_matches(['.', ',']).trim();
        ["", "and", "or", ", and", ", or"].contains(&g)
    };
    let joined = segments.len() >= 2
        && s[..first.start].trim().is_empty()
        && s[last.end..].trim().trim_end_matches('.').is_empty()
        && segments
            .windows(2)
            .all(|w| separator(&s[w[0].end..w[1].start]));
    joined.then(|| {
        segments
            .iter()
            .map(|g| clean(&g.text))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn last_number(s: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+").unwrap());
    re.find_iter(s)
        .last()
        .map(|m| m.as_str().trim_end_matches(',').to_string())
}

/// Strips markdown and sentence decoration around an answer.
fn clean(s: &str) -> String {
    let mut t = s.trim().replace("**", "");
    loop {
        let before = t.len();
        t = t.trim().trim_end_matches(['.', ',', ';']).to_string();
        for (open, close) in [("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
            if let Some(inner) = t.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
                t = inner.to_string();
            }
        }
        t = t.trim_matches('$').to_string();
        if t.len() == before {
            return t;
        }
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_is_brace_matched_and_last_wins() {
        assert_eq!(
            extract_math("first \\boxed{1} then $\\boxed{\\frac{a}{b^{2}}}$.").unwrap(),
            "\\frac{a}{b^{2}}"
        );
        assert_eq!(extract_math("so \\boxed 5 is it").unwrap(), "5");
        assert_eq!(extract_math("\\fbox{x+1}").unwrap(), "x+1");
        assert_eq!(extract_math("\\boxed{\\{1,2\\}}").unwrap(), "\\{1,2\\}");
    }

    #[test]
    fn phrases_then_segments_then_numbers() {
        assert_eq!(
            extract_math("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.")
                .unwrap(),
            "\\frac{3}{4}"
        );
        assert_eq!(extract_math("Thus, the answer is **12**.").unwrap(), "12");
        assert_eq!(
            extract_math("The answer is 7 because it is prime.").unwrap(),
            "7"
        );
        assert_eq!(extract_math("So the answer is Monday.").unwrap(), "Monday");
        assert_eq!(extract_math("  -\\sqrt{3} ").unwrap(), "-\\sqrt{3}");
        assert_eq!(extract_math("Answer: 3.5.").unwrap(), "3.5");
        assert_eq!(
            extract_math("Final Answer: The largest $n$ is 34.").unwrap(),
            "34"
        );
        assert_eq!(
            extract_math("We get $x=2$ and then $y = 7$ finally.").unwrap(),
            "y = 7"
        );
        assert_eq!(
            extract_math("We get \\[ 2\\sqrt{3} \\] done").unwrap(),
            "2\\sqrt{3}"
        );
        assert_eq!(
            extract_math("there are 3 cats and 1,024 dogs").unwrap(),
            "1,024"
        );
        assert_eq!(extract_math("nothing here"), None);
    }

    #[test]
    fn choice_letters_in_many_forms() {
        let cases = [
            ("The answer is (C).", 'C'),
            ("answer is B because", 'B'),
            ("After checking:\nD) 42 is right", 'D'),
            ("I pick **A**", 'A'),
            ("$\\boxed{C}$", 'C'),
            ("$\\boxed{\\text{(B)}}$", 'B'),
            ("Answer: C", 'C'),
            ("Por lo tanto, la respuesta es C.", 'C'),
            ("所以答案是 B。", 'B'),
            ("Also ist die Antwort ist D.", 'D'),
            ("Donc la réponse est A.", 'A'),
            ("The correct answer is \\text{B}", 'B'),
            ("C", 'C'),
            ("The answer is C. Option D is wrong because of parity.", 'C'),
            ("Option A fails, so B is correct.", 'B'),
            ("따라서 정답은 D", 'D'),
            (
                "A) 1.2 eV\nB) 2.4 eV\nC) 3.6 eV\nD) 4.8 eV\nThe energy is 2.4 eV, so B.",
                'B',
            ),
        ];
        for (text, want) in cases {
            assert_eq!(extract_choice(text, 4), Some(want), "{text}");
        }
        assert_eq!(extract_choice("The answer is a tricky one", 4), None);
        assert_eq!(extract_choice("The answer is (E)", 4), None);
        assert_eq!(extract_choice("The answer is (E)", 5), Some('E'));
    }

    #[test]
    fn code_takes_last_fenced_block() {
        let t = "first\n```python\nx = 1\n```\nthen\n```\ndef f():\n    return 2\n```\n";
        assert_eq!(extract_code(t), "def f():\n    return 2");
        assert_eq!(extract_code("```py\nprint(1)\n"), "print(1)");
        assert_eq!(extract_code("  def g(): pass \n"), "def g(): pass");
    }
}
