//! Tokens of a normalised answer.

/// Plain-text words that name functions or constants (`sqrt(2)`, `sin x`, `pi`).
const WORDS: &[&str] = &[
    "sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "ln", "log", "exp", "pi", "infty", "inf", "infinity", "frac", "cup",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Digits with an optional fractional part and exponent, as written.
    Num(String),
    /// A single-letter variable (or `e`, `i`).
    Letter(char),
    /// A backslash command or a recognised word, without the backslash (`frac`, `{`, `pi`).
    Cmd(String),
    /// A run of three or more letters that is not a known word: a text answer.
    Word(String),
    Sym(char),
}

/// Splits a normalised answer into tokens; `None` on characters it does not understand.
pub fn lex(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // Scientific notation `1.5e-3` / `2E5`, only when digits follow.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '-' || chars[j] == '+') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c == '\\' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i == start {
                // `\{`, `\}`, `\\`, `\|`: one symbol.
                let sym = *chars.get(start)?;
                i += 1;
                out.push(Tok::Cmd(sym.to_string()));
            } else {
                out.push(Tok::Cmd(chars[start..i].iter().collect()));
            }
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_lowercase();
            if WORDS.contains(&lower.as_str()) {
                out.push(Tok::Cmd(lower));
            } else if word.len() >= 3 {
                out.push(Tok::Word(word));
            } else {
                out.extend(word.chars().map(Tok::Letter));
            }
        } else if "+-*/^_()[]{},=<>!|&'".contains(c) {
            out.push(Tok::Sym(c));
            i += 1;
        } else if c == ';' {
            // `(1; 2)`: a separator, as some locales write it.
            out.push(Tok::Sym(','));
            i += 1;
        } else if c == ':' {
            // A ratio `3:4` is the fraction 3/4.
            out.push(Tok::Sym('/'));
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_commands_and_words() {
        let t = lex("2.5e-3x + \\frac{1}{2} - sqrt(3) \\{ east").unwrap();
        assert_eq!(t[0], Tok::Num("2.5e-3".into()));
        assert_eq!(t[1], Tok::Letter('x'));
        assert_eq!(t[3], Tok::Cmd("frac".into()));
        assert!(t.contains(&Tok::Cmd("sqrt".into())));
        assert!(t.contains(&Tok::Cmd("{".into())));
        assert_eq!(t.last(), Some(&Tok::Word("east".into())));
        assert_eq!(
            lex("2e"),
            Some(vec![Tok::Num("2".into()), Tok::Letter('e')])
        );
        assert_eq!(lex("x # y"), None);
    }
}
