//! Turning what a user types into a safe FTS5 query, and marking matches in text.

use thinkscope_protocol::Highlighted;

/// One thing to look for: a word or a quoted phrase, optionally a prefix (`prim*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub text: String,
    pub prefix: bool,
}

/// Splits user input into terms. Quotes group a phrase; FTS5 operators and punctuation
/// are taken literally, so no input can make the query itself fail to parse.
pub(crate) fn parse_terms(input: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let (raw, after) = if let Some(body) = rest.strip_prefix('"') {
            match body.find('"') {
                Some(end) => (&body[..end], &body[end + 1..]),
                None => (body, ""),
            }
        } else {
            match rest.find(char::is_whitespace) {
                Some(end) => (&rest[..end], &rest[end..]),
                None => (rest, ""),
            }
        };
        rest = after.trim_start();
        let prefix = raw.ends_with('*') && raw.len() > 1;
        // Keep only what the unicode61 tokenizer indexes; the rest would never match.
        let text: String = raw
            .trim_end_matches('*')
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() {
            terms.push(Term { text, prefix });
        }
    }
    terms
}

/// FTS5 MATCH expression: every term must occur (implicit AND).
pub(crate) fn fts_query(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"{}", t.text.replace('"', "\"\""), if t.prefix { "*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Byte range of `term` at `at` in `text`, if it matches there case-insensitively and
/// on word boundaries (the end boundary only for non-prefix terms).
fn match_at(text: &str, at: usize, term: &Term) -> Option<usize> {
    let mut hay = text[at..].char_indices();
    let mut end = at;
    for want in term.text.chars() {
        let (i, got) = hay.next()?;
        let same = got == want || got.to_lowercase().eq(want.to_lowercase());
        // Phrases match across any run of separators, like the tokenizer does.
        let both_separators = want == ' ' && !got.is_alphanumeric();
        if !(same || both_separators) {
            return None;
        }
        end = at + i + got.len_utf8();
    }
    if !term.prefix && text[end..].chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    Some(end)
}

/// Matches of any term, in order and non-overlapping, found lazily: a snippet needs the
/// first one and those in its window, not a scan of a whole 6 KB trace.
fn matches<'a>(text: &'a str, terms: &'a [Term]) -> impl Iterator<Item = [usize; 2]> + 'a {
    let mut chars = text.char_indices().peekable();
    let mut prev_alnum = false;
    std::iter::from_fn(move || {
        while let Some((i, c)) = chars.next() {
            let word_start = !prev_alnum && c.is_alphanumeric();
            prev_alnum = c.is_alphanumeric();
            if !word_start {
                continue;
            }
            if let Some(end) = terms.iter().filter_map(|t| match_at(text, i, t)).max() {
                while let Some((_, c)) = chars.next_if(|(j, _)| *j < end) {
                    prev_alnum = c.is_alphanumeric();
                }
                return Some([i, end]);
            }
        }
        None
    })
}

/// All matches of any term, sorted and non-overlapping.
#[cfg(test)]
fn find_matches(text: &str, terms: &[Term]) -> Vec<[usize; 2]> {
    matches(text, terms).collect()
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Context kept before the first match: a few words, so the match stays in sight when a
/// narrow column clips the snippet.
const LEAD_BYTES: usize = 32;

/// A window of about `width` bytes from just before the first match, with its marks, or
/// `None` when no term occurs in `text`.
pub(crate) fn snippet(text: &str, terms: &[Term], width: usize) -> Option<Highlighted> {
    let mut found = matches(text, terms);
    let first = found.next()?;
    let start = floor_char_boundary(text, first[0].saturating_sub(LEAD_BYTES));
    // Begin at a word, not inside one.
    let inside_word = start > 0 && !text[..start].ends_with(char::is_whitespace);
    let start = match text[start..first[0]].char_indices().find(|(_, c)| c.is_whitespace()) {
        Some((i, c)) if inside_word => start + i + c.len_utf8(),
        _ => start,
    };
    let end = floor_char_boundary(text, (start + width).min(text.len()));
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < text.len() { "…" } else { "" };
    let shift = lead.len() as isize - start as isize;
    let marks = std::iter::once(first)
        .chain(found.take_while(|m| m[1] <= end))
        .map(|m| [(m[0] as isize + shift) as usize, (m[1] as isize + shift) as usize])
        .collect();
    Some(Highlighted { text: format!("{lead}{}{tail}", &text[start..end]), marks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_and_punctuation_are_literal() {
        let terms = parse_terms(r#"prime AND "x^2 + 1" NEAR( 2-adic prim* ""#);
        let texts: Vec<_> = terms.iter().map(|t| (t.text.as_str(), t.prefix)).collect();
        assert_eq!(
            texts,
            [("prime", false), ("AND", false), ("x 2 1", false), ("NEAR", false), ("2 adic", false), ("prim", true)]
        );
        assert_eq!(fts_query(&terms[..1]), "\"prime\"");
        assert_eq!(fts_query(&terms[5..]), "\"prim\"*");
    }

    #[test]
    fn marks_whole_words_case_insensitively() {
        let terms = parse_terms("prime");
        let text = "Primes are not Prime; a prime-number.";
        let marks = find_matches(text, &terms);
        let found: Vec<_> = marks.iter().map(|m| &text[m[0]..m[1]]).collect();
        assert_eq!(found, ["Prime", "prime"]);
        let prefix = parse_terms("prim*");
        assert_eq!(find_matches(text, &prefix).len(), 3);
    }

    #[test]
    fn snippet_marks_point_into_snippet_text() {
        let text = format!("{}the Prime number é {}", "α".repeat(200), "β".repeat(200));
        let h = snippet(&text, &parse_terms("prime"), 120).unwrap();
        assert!(h.text.starts_with('…') && h.text.ends_with('…'));
        assert_eq!(h.marks.len(), 1);
        assert_eq!(&h.text[h.marks[0][0]..h.marks[0][1]], "Prime");
        assert!(snippet("nothing here", &parse_terms("prime"), 100).is_none());
        // A few whole words of context, so the match is near the start.
        let long = format!("{}seven words before the prime factorization", "filler ".repeat(50));
        let h = snippet(&long, &parse_terms("prime"), 120).unwrap();
        assert!(h.text.starts_with("…filler seven words before the prime"), "{}", h.text);
        assert!(h.marks[0][0] <= LEAD_BYTES + '…'.len_utf8());
        // Whitespace of more than one byte (no-break, ideographic) before the match.
        for space in ['\u{a0}', '\u{3000}'] {
            let text = format!("{}{space}prime", "x".repeat(40));
            let h = snippet(&text, &parse_terms("prime"), 120).unwrap();
            assert_eq!(h.text, "…prime");
        }
    }
}
