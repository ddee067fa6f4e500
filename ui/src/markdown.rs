//! Markdown with LaTeX, rendered to HTML that is safe to insert.
//!
//! Math spans are cut out before Markdown parsing (so `_` and `*` inside formulas survive),
//! replaced by private-use placeholders, and put back as KaTeX output afterwards. Raw HTML
//! from the dataset is turned into text, links into plain text and images into their alt
//! text: nothing from a sample can inject markup or reach the network.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A piece of source text: prose (Markdown) or a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Math { tex: &'a str, display: bool },
}

/// Environments KaTeX renders that datasets often write without `$$`.
const BARE_ENVIRONMENTS: [&str; 8] =
    ["equation", "equation*", "align", "align*", "gather", "gather*", "aligned", "cases"];

/// Splits `src` at `$$…$$`, `\[…\]`, `$…$`, `\(…\)` and bare `\begin{align}…` spans,
/// leaving code spans and fenced code alone.
pub fn split_math(src: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let bytes = src.as_bytes();
    while i < bytes.len() {
        let rest = &src[i..];
        let found: Option<(usize, usize, usize, bool)> = if rest.starts_with("\\$") {
            i += 2;
            continue;
        } else if rest.starts_with('`') {
            i += code_span_len(rest);
            continue;
        } else if let Some(body) = rest.strip_prefix("$$") {
            body.find("$$").map(|end| (2, end, 2, true))
        } else if let Some(body) = rest.strip_prefix("\\[") {
            body.find("\\]").map(|end| (2, end, 2, true))
        } else if let Some(body) = rest.strip_prefix("\\(") {
            body.find("\\)").map(|end| (2, end, 2, false))
        } else if let Some(body) = rest.strip_prefix('$') {
            inline_dollar_end(body).map(|end| (1, end, 1, false))
        } else if rest.starts_with("\\begin{") {
            bare_environment_len(rest).map(|len| (0, len, 0, true))
        } else {
            None
        };
        match found {
            Some((open, len, close, display)) => {
                if text_start < i {
                    out.push(Segment::Text(&src[text_start..i]));
                }
                out.push(Segment::Math { tex: &src[i + open..i + open + len], display });
                i += open + len + close;
                text_start = i;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    if text_start < src.len() {
        out.push(Segment::Text(&src[text_start..]));
    }
    out
}

/// Length of a code span or fence starting at `s` (a run of backticks), through its closing
/// run; just the run itself when it is never closed.
fn code_span_len(s: &str) -> usize {
    let run = s.bytes().take_while(|&b| b == b'`').count();
    let fence = &s[..run];
    let mut from = run;
    while let Some(pos) = s[from..].find(fence) {
        let at = from + pos;
        let after = s[at..].bytes().take_while(|&b| b == b'`').count();
        if after == run {
            return at + run;
        }
        from = at + after;
    }
    run
}

/// End (in `body`) of an inline `$…$`: the opening `$` must be followed by a non-space, the
/// closing one preceded by a non-space and not followed by a digit (so "$5 and $10" is prose),
/// and a blank line ends the search.
fn inline_dollar_end(body: &str) -> Option<usize> {
    let first = body.chars().next()?;
    if first.is_whitespace() || first == '$' {
        return None;
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => return None,
            b'$' => {
                let before_space = body[..i].chars().next_back().is_some_and(char::is_whitespace);
                let digit_after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if i > 0 && !before_space && !digit_after {
                    return Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Length of `\begin{env}…\end{env}` at the start of `s`, for the environments KaTeX knows.
fn bare_environment_len(s: &str) -> Option<usize> {
    let name_start = "\\begin{".len();
    let name_len = s[name_start..].find('}')?;
    let name = &s[name_start..name_start + name_len];
    if !BARE_ENVIRONMENTS.contains(&name) {
        return None;
    }
    let end_tag = format!("\\end{{{name}}}");
    s.find(&end_tag).map(|pos| pos + end_tag.len())
}

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// Renders Markdown with math to HTML; `math(tex, display)` renders one formula.
pub fn render(src: &str, math: impl Fn(&str, bool) -> String) -> String {
    let segments = split_math(src);
    let mut formulas = Vec::new();
    let mut markdown = String::with_capacity(src.len());
    for segment in &segments {
        match segment {
            // Strip placeholder characters a dataset might contain, so they cannot collide.
            Segment::Text(text) => markdown.extend(text.chars().filter(|c| *c != OPEN && *c != CLOSE)),
            Segment::Math { tex, display } => {
                markdown.push(OPEN);
                markdown.push_str(&formulas.len().to_string());
                markdown.push(CLOSE);
                formulas.push((*tex, *display));
            }
        }
    }
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(&markdown, options).filter_map(sanitize);
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events);
    substitute(&html, |n| formulas.get(n).map(|(tex, display)| math(tex, *display)))
}

/// Keeps structure and text; drops what could inject markup or load remote content.
fn sanitize(event: Event<'_>) -> Option<Event<'_>> {
    Some(match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Link { .. } | Tag::Image { .. }) => return None,
        Event::End(TagEnd::Link | TagEnd::Image) => return None,
        // Problem statements use single newlines as line breaks.
        Event::SoftBreak => Event::HardBreak,
        other => other,
    })
}

/// Replaces each `OPEN n CLOSE` placeholder by `formula(n)`.
fn substitute(html: &str, formula: impl Fn(usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len_utf8()..];
        let replaced = after.find(CLOSE).and_then(|end| {
            let html = formula(after[..end].parse().ok()?)?;
            Some((html, end + CLOSE.len_utf8()))
        });
        match replaced {
            Some((html, used)) => {
                out.push_str(&html);
                rest = &after[used..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_math(tex: &str, display: bool) -> String {
        format!("<M{}>{tex}</M>", if display { "D" } else { "" })
    }

    #[test]
    fn splits_all_delimiters() {
        let segs = split_math(r"a $x_1$ b $$\sum_i i$$ c \(y\) d \[z\] e");
        assert_eq!(
            segs,
            vec![
                Segment::Text("a "),
                Segment::Math { tex: "x_1", display: false },
                Segment::Text(" b "),
                Segment::Math { tex: r"\sum_i i", display: true },
                Segment::Text(" c "),
                Segment::Math { tex: "y", display: false },
                Segment::Text(" d "),
                Segment::Math { tex: "z", display: true },
                Segment::Text(" e"),
            ]
        );
    }

    #[test]
    fn prices_and_escaped_dollars_stay_prose() {
        assert_eq!(split_math("costs $5 and $10 today"), vec![Segment::Text("costs $5 and $10 today")]);
        assert_eq!(split_math(r"\$3 or \$4"), vec![Segment::Text(r"\$3 or \$4")]);
        assert_eq!(split_math("$ x $"), vec![Segment::Text("$ x $")]);
    }

    #[test]
    fn code_is_not_math() {
        let src = "run `echo $HOME $PATH` and\n```\nlet s = \"$a$\";\n```\n";
        assert_eq!(split_math(src), vec![Segment::Text(src)]);
    }

    #[test]
    fn bare_align_environment_is_display_math() {
        let src = "so \\begin{align*} a &= b \\\\ c &= d \\end{align*} done";
        let segs = split_math(src);
        assert_eq!(
            segs[1],
            Segment::Math { tex: "\\begin{align*} a &= b \\\\ c &= d \\end{align*}", display: true }
        );
    }

    #[test]
    fn emphasis_inside_math_is_kept_for_katex() {
        let html = render("Let $a_1 * b_2 * c$ be *prime*.", fake_math);
        assert_eq!(html, "<p>Let <M>a_1 * b_2 * c</M> be <em>prime</em>.</p>\n");
    }

    #[test]
    fn raw_html_links_and_images_are_neutralised() {
        let html = render(
            "<script>alert(1)</script>\n\nsee [here](javascript:alert(1)) ![x](/etc/a.png) <b>b</b>",
            fake_math,
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<a "), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("here"));
    }

    #[test]
    fn placeholders_in_the_source_cannot_forge_formulas() {
        let html = render("\u{E000}0\u{E001} and $x$", fake_math);
        assert_eq!(html.matches("<M>").count(), 1, "{html}");
    }

    #[test]
    fn display_math_and_markdown_structure() {
        let html = render("# Title\n\n$$\\frac{1}{2}$$\n\n- one\n- two", fake_math);
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<MD>\\frac{1}{2}</M>"));
        assert!(html.contains("<li>one</li>"));
    }

    #[test]
    fn unclosed_delimiters_are_text() {
        assert_eq!(split_math("a $$ b"), vec![Segment::Text("a $$ b")]);
        assert_eq!(split_math("\\( open"), vec![Segment::Text("\\( open")]);
        assert_eq!(split_math("``` never closed $x$"), vec![
            Segment::Text("``` never closed "),
            Segment::Math { tex: "x", display: false },
        ]);
    }
}
