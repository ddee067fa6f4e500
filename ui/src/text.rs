//! Small pure helpers for displaying values: highlight splitting and number formatting.

use thinkscope_protocol::Highlighted;

/// Splits a highlighted text into `(piece, is_match)` runs. Marks that are out of range,
/// overlapping or not on character boundaries are ignored rather than trusted.
pub fn highlight_parts(h: &Highlighted) -> Vec<(String, bool)> {
    let text = h.text.as_str();
    let mut parts = Vec::new();
    let mut at = 0;
    for &[start, end] in &h.marks {
        let valid = at <= start
            && start < end
            && end <= text.len()
            && text.is_char_boundary(start)
            && text.is_char_boundary(end);
        if !valid {
            continue;
        }
        if at < start {
            parts.push((text[at..start].to_string(), false));
        }
        parts.push((text[start..end].to_string(), true));
        at = end;
    }
    if at < text.len() {
        parts.push((text[at..].to_string(), false));
    }
    parts
}

/// `1536` → `1.5 KB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `107000` → `107,000`.
/// `n` with thousands separators and the noun in the right number: "1 sample", "2,048 samples".
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds as `42 s` or `3 min 05 s`.
pub fn duration(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

/// RFC 3339 `2025-03-01T12:34:56Z` → `2025-03-01 12:34 UTC`.
pub fn timestamp(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) if rfc3339.as_bytes().get(10) == Some(&b'T') => {
            format!("{date} {time} UTC")
        }
        _ => rfc3339.to_string(),
    }
}

/// Letter label of a multiple-choice option: 0 → `A`.
pub fn choice_label(index: usize) -> String {
    match u8::try_from(index) {
        Ok(i) if i < 26 => char::from(b'A' + i).to_string(),
        _ => (index + 1).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(text: &str, marks: &[[usize; 2]]) -> Highlighted {
        Highlighted { text: text.into(), marks: marks.to_vec() }
    }

    #[test]
    fn splits_around_marks() {
        let parts = highlight_parts(&h("the prime number", &[[4, 9]]));
        assert_eq!(
            parts,
            vec![("the ".into(), false), ("prime".into(), true), (" number".into(), false)]
        );
    }

    #[test]
    fn ignores_bad_marks() {
        // Overlap, out of range and a cut through "é" are all skipped.
        let parts = highlight_parts(&h("é prime", &[[3, 8], [4, 6], [1, 2], [20, 30]]));
        assert_eq!(parts, vec![("é ".into(), false), ("prime".into(), true)]);
        assert_eq!(highlight_parts(&h("", &[])), vec![]);
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MB");
        assert_eq!(count(107_000), "107,000");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(counted(1, "sample", "samples"), "1 sample");
        assert_eq!(counted(0, "match", "matches"), "0 matches");
        assert_eq!(counted(2048, "sample", "samples"), "2,048 samples");
        assert_eq!(duration(4.4), "4 s");
        assert_eq!(duration(125.0), "2 min 05 s");
        assert_eq!(timestamp("2025-03-01T12:34:56Z"), "2025-03-01 12:34 UTC");
        assert_eq!(timestamp("yesterday"), "yesterday");
        assert_eq!(choice_label(2), "C");
    }
}
