//! The source row as stored: columns whose text already lives in a canonical field are
//! kept as null plus a reference, so a 6 KB response is written once, not twice.

use crate::write::NewSample;
use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Canonical texts of a sample with the names `original_refs` uses for them.
fn canonical_texts(s: &NewSample) -> impl Iterator<Item = (String, &str)> {
    let fixed = [("question", Some(&s.question)), ("answer", s.answer.as_ref()), ("solution", s.solution.as_ref())];
    fixed
        .into_iter()
        .filter_map(|(name, text)| Some((name.to_string(), text?.as_str())))
        .chain(s.traces.iter().enumerate().map(|(i, t)| (format!("trace:{i}"), t.text.as_str())))
}

/// The row serialised with each column whose string equals a canonical text (by the
/// importer's mapping) replaced by null, and the column → field map (None when empty).
pub(crate) fn elide(s: &NewSample) -> (String, Option<String>) {
    let texts: Vec<(String, &str)> = canonical_texts(s).filter(|(_, t)| !t.is_empty()).collect();
    let mut refs = BTreeMap::new();
    for (column, value) in &s.original {
        if let Value::String(text) = value {
            if let Some((field, _)) = texts.iter().find(|(_, t)| *t == text.as_str()) {
                refs.insert(column.as_str(), field.clone());
            }
        }
    }
    let row = ElidedRow { row: &s.original, elided: &refs };
    let json = serde_json::to_string(&row).expect("JSON values serialise");
    let refs = (!refs.is_empty()).then(|| serde_json::to_string(&refs).expect("strings serialise"));
    (json, refs)
}

struct ElidedRow<'a> {
    row: &'a Map<String, Value>,
    elided: &'a BTreeMap<&'a str, String>,
}

impl Serialize for ElidedRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.row.iter().map(|(k, v)| (k, if self.elided.contains_key(k.as_str()) { &Value::Null } else { v })),
        )
    }
}

/// Puts the referenced texts back. `field_text` looks a field name up in the sample.
pub(crate) fn restore(
    original: &mut Value,
    refs: &BTreeMap<String, String>,
    field_text: impl Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let Value::Object(row) = original else { return Err("the source row is not a JSON object".into()) };
    for (column, field) in refs {
        let text = field_text(field).ok_or_else(|| format!("column `{column}` refers to `{field}`, which is missing"))?;
        row.insert(column.clone(), Value::String(text));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::NewTrace;
    use thinkscope_protocol::TraceKind;

    #[test]
    fn verbatim_columns_are_elided_and_restored_in_place() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"id": 7, "question": "Q?", "response": "long thoughts", "note": "Q?x", "answer": ""}"#,
        )
        .unwrap();
        let s = NewSample {
            question: "Q?".into(),
            answer: Some(String::new()),
            traces: vec![NewTrace { kind: TraceKind::Thinking, label: "response".into(), text: "long thoughts".into() }],
            original: row.clone(),
            ..NewSample::default()
        };
        let (json, refs) = elide(&s);
        assert_eq!(json, r#"{"id":7,"question":null,"response":null,"note":"Q?x","answer":""}"#);
        let refs: BTreeMap<String, String> = serde_json::from_str(&refs.unwrap()).unwrap();
        let mut back: Value = serde_json::from_str(&json).unwrap();
        restore(&mut back, &refs, |f| match f {
            "question" => Some(s.question.clone()),
            "trace:0" => Some(s.traces[0].text.clone()),
            _ => None,
        })
        .unwrap();
        assert_eq!(back, Value::Object(row));
        // Key order survives the round trip.
        assert_eq!(back.as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "question", "response", "note", "answer"]);
    }

    #[test]
    fn a_dangling_reference_is_an_error() {
        let mut v = serde_json::json!({"q": null});
        let refs = BTreeMap::from([("q".to_string(), "trace:3".to_string())]);
        assert!(restore(&mut v, &refs, |_| None).unwrap_err().contains("trace:3"));
    }
}
