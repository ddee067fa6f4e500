//! Known dataset layouts and the column → canonical-field mapping.
//!
//! A layout is a mapping (which the user sees and may edit) plus fixed values and, for a
//! few layouts, a step no column mapping can express (GPQA's four answer columns).

use crate::read::kind_of;
use serde_json::{Map, Value};
use thinkscope_protocol::{CanonicalField as F, FieldMapping, RowError, TraceKind};
use thinkscope_store::{NewSample, NewTrace};

/// A recognised layout.
pub struct KnownSchema {
    pub name: &'static str,
    /// Columns whose presence identifies the layout.
    pub signature: &'static [&'static str],
    pub mapping: &'static [(F, &'static str)],
    /// Fills fields that are the same for every row (e.g. `domain = math`).
    pub domain: Option<&'static str>,
    pub source: Option<&'static str>,
    /// Row-level work beyond the mapping.
    pub extra: Option<ExtraStep>,
}

/// A layout's own step over the source row (e.g. GPQA's choices).
pub type ExtraStep = fn(&Map<String, Value>, &mut NewSample) -> Result<(), FieldError>;

/// A problem with one field of one row.
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Most specific first: detection takes the first whose signature columns all exist.
static KNOWN: &[KnownSchema] = &[
    KnownSchema {
        name: "s1k-1.1",
        signature: &["question", "deepseek_thinking_trajectory", "gemini_thinking_trajectory"],
        mapping: &[
            (F::Question, "question"),
            (F::Solution, "solution"),
            (F::Domain, "cot_type"),
            (F::Source, "source_type"),
            (F::Thinking, "gemini_thinking_trajectory"),
            (F::Attempt, "gemini_attempt"),
            (F::Thinking, "deepseek_thinking_trajectory"),
            (F::Attempt, "deepseek_attempt"),
        ],
        domain: None,
        source: None,
        extra: Some(s1k11_grades),
    },
    KnownSchema {
        name: "s1k",
        signature: &["question", "thinking_trajectories", "attempt"],
        mapping: &[
            (F::Question, "question"),
            (F::Solution, "solution"),
            (F::Domain, "cot_type"),
            (F::Source, "source_type"),
            (F::Thinking, "thinking_trajectories"),
            (F::Attempt, "attempt"),
        ],
        domain: None,
        source: None,
        extra: None,
    },
    KnownSchema {
        name: "z1-code-reasoning",
        signature: &["id", "question", "response", "token_num_qwen"],
        mapping: &[(F::ExternalId, "id"), (F::Question, "question"), (F::Thinking, "response")],
        domain: Some("code"),
        source: Some("Z1-Code-Reasoning-107K"),
        extra: None,
    },
    KnownSchema {
        name: "gpqa-diamond",
        signature: &["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"],
        mapping: &[
            (F::ExternalId, "Record ID"),
            (F::Question, "Question"),
            (F::Answer, "Correct Answer"),
            (F::Domain, "High-level domain"),
            (F::Subject, "Subdomain"),
            (F::Solution, "Explanation"),
        ],
        domain: None,
        source: Some("GPQA Diamond"),
        extra: Some(gpqa_choices),
    },
    KnownSchema {
        name: "math500",
        signature: &["problem", "solution", "answer", "subject", "level", "unique_id"],
        mapping: &[
            (F::ExternalId, "unique_id"),
            (F::Question, "problem"),
            (F::Answer, "answer"),
            (F::Solution, "solution"),
            (F::Subject, "subject"),
            (F::Level, "level"),
        ],
        domain: Some("math"),
        source: Some("MATH-500"),
        extra: None,
    },
    KnownSchema {
        name: "aime",
        signature: &["id", "problem", "answer"],
        mapping: &[(F::ExternalId, "id"), (F::Question, "problem"), (F::Answer, "answer"), (F::Solution, "solution")],
        domain: Some("math"),
        source: Some("AIME"),
        extra: None,
    },
    KnownSchema {
        name: "humaneval",
        signature: &["task_id", "prompt", "canonical_solution", "test", "entry_point"],
        mapping: &[
            (F::ExternalId, "task_id"),
            (F::Question, "prompt"),
            (F::Solution, "canonical_solution"),
            (F::Tests, "test"),
            (F::EntryPoint, "entry_point"),
        ],
        domain: Some("code"),
        source: Some("HumanEval"),
        extra: None,
    },
    KnownSchema {
        name: "mbpp-sanitized",
        signature: &["task_id", "prompt", "code", "test_list"],
        mapping: &[(F::ExternalId, "task_id"), (F::Question, "prompt"), (F::Solution, "code")],
        domain: Some("code"),
        source: Some("MBPP"),
        extra: Some(mbpp_tests),
    },
];

pub fn known_schemas() -> &'static [KnownSchema] {
    KNOWN
}

/// The layout whose signature the columns contain.
pub(crate) fn detect(columns: &[String]) -> Option<&'static KnownSchema> {
    KNOWN.iter().find(|s| s.signature.iter().all(|c| columns.iter().any(|have| have == c)))
}

pub(crate) fn schema_mapping(schema: &KnownSchema, columns: &[String]) -> Vec<FieldMapping> {
    schema
        .mapping
        .iter()
        .filter(|(_, col)| columns.iter().any(|c| c == col))
        .map(|(field, col)| FieldMapping { field: *field, column: col.to_string() })
        .collect()
}

/// A guess for an unknown layout, by column name.
pub(crate) fn suggest_mapping(columns: &[String]) -> Vec<FieldMapping> {
    const NAMES: &[(F, &[&str])] = &[
        (F::ExternalId, &["id", "uid", "unique_id", "task_id", "problem_id", "question_id"]),
        (F::Question, &["question", "problem", "prompt", "input", "query", "instruction", "question_content"]),
        (F::Answer, &["answer", "final_answer", "target", "label", "output"]),
        (F::Solution, &["solution", "rationale", "explanation", "reference_solution"]),
        (F::Thinking, &["thinking", "reasoning", "response", "trajectory", "cot", "thinking_trajectory"]),
        (F::Attempt, &["attempt"]),
        (F::Domain, &["domain", "category", "cot_type"]),
        (F::Subject, &["subject", "subdomain", "topic", "type"]),
        (F::Source, &["source", "source_type", "platform", "dataset"]),
        (F::Level, &["level", "difficulty"]),
        (F::Choices, &["choices", "options"]),
        (F::CorrectChoice, &["correct_choice", "answer_index", "correct"]),
        (F::Tests, &["tests", "test", "test_list", "test_cases"]),
        (F::EntryPoint, &["entry_point"]),
    ];
    let mut used: Vec<&String> = Vec::new();
    let mut out = Vec::new();
    for (field, names) in NAMES {
        let found = names
            .iter()
            .find_map(|n| columns.iter().find(|c| c.eq_ignore_ascii_case(n) && !used.contains(c)));
        if let Some(col) = found {
            used.push(col);
            out.push(FieldMapping { field: *field, column: col.clone() });
        }
    }
    out
}

/// Text of a scalar cell; lists of strings are joined with newlines (s1K joins its
/// thinking trajectories that way for training).
fn text(v: &Value, column: &str) -> Result<Option<String>, FieldError> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Result<Vec<_>, _> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.as_str()),
                    other => Err(FieldError {
                        field: column.to_string(),
                        message: format!("expected a list of strings, found {} in it", kind_of(other)),
                    }),
                })
                .collect();
            Some(parts?.join("\n"))
        }
        Value::Object(_) => Some(v.to_string()),
    })
}

fn string_list(v: &Value, column: &str) -> Result<Option<Vec<String>>, FieldError> {
    let bad = |m: String| FieldError { field: column.to_string(), message: m };
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|i| text(i, column).map(Option::unwrap_or_default))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ Value::Array(_)) => string_list(&inner, column),
            _ => Err(bad("expected a list (or a JSON array in a string)".into())),
        },
        other => Err(bad(format!("expected a list, found {}", kind_of(other)))),
    }
}

/// The trace's author from its column name: `gemini_thinking_trajectory` → `gemini`.
fn trace_label(column: &str) -> String {
    ["_thinking", "_attempt"]
        .iter()
        .find_map(|m| column.find(m).map(|i| column[..i].to_string()))
        .unwrap_or_default()
}

fn correct_choice(v: &Value, choices: &[String], column: &str) -> Result<Option<u32>, FieldError> {
    let bad = |m: String| FieldError { field: column.to_string(), message: m };
    let index = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_u64().ok_or_else(|| bad(format!("`{n}` is not a choice index")))? as usize,
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<usize>() {
                i
            } else if t.len() == 1 && t.as_bytes()[0].is_ascii_uppercase() {
                (t.as_bytes()[0] - b'A') as usize
            } else {
                choices.iter().position(|c| c.trim() == t).ok_or_else(|| bad(format!("`{t}` is none of the choices")))?
            }
        }
        other => return Err(bad(format!("expected an index, a letter or the choice text, found {}", kind_of(other)))),
    };
    if index >= choices.len() {
        return Err(bad(format!("choice {index} is out of range ({} choices)", choices.len())));
    }
    Ok(Some(index as u32))
}

/// Builds a canonical sample from one source row, which it keeps as the original.
pub(crate) fn to_sample(
    row: Map<String, Value>,
    mapping: &[FieldMapping],
    schema: Option<&KnownSchema>,
) -> Result<NewSample, FieldError> {
    let mut s = NewSample::default();
    let mut correct = None;
    for m in mapping {
        let v = row.get(&m.column).unwrap_or(&Value::Null);
        let col = m.column.as_str();
        match m.field {
            F::Choices => s.choices = string_list(v, col)?,
            F::CorrectChoice => correct = Some((v, col)),
            F::Thinking | F::Attempt => {
                if let Some(t) = text(v, col)?.filter(|t| !t.is_empty()) {
                    let kind = if m.field == F::Thinking { TraceKind::Thinking } else { TraceKind::Attempt };
                    s.traces.push(NewTrace { kind, label: trace_label(col), text: t });
                }
            }
            field => {
                let t = text(v, col)?;
                let slot = match field {
                    F::ExternalId => &mut s.external_id,
                    F::Answer => &mut s.answer,
                    F::Solution => &mut s.solution,
                    F::Domain => &mut s.domain,
                    F::Subject => &mut s.subject,
                    F::Source => &mut s.source,
                    F::Level => &mut s.level,
                    F::Tests => &mut s.tests,
                    F::EntryPoint => &mut s.entry_point,
                    F::Question => {
                        s.question = t.unwrap_or_default();
                        continue;
                    }
                    F::Choices | F::CorrectChoice | F::Thinking | F::Attempt => unreachable!("handled above"),
                };
                *slot = t;
            }
        }
    }
    if let Some((v, col)) = correct {
        s.correct_choice = correct_choice(v, s.choices.as_deref().unwrap_or(&[]), col)?;
    }
    if let Some(schema) = schema {
        s.domain = s.domain.or(schema.domain.map(str::to_string));
        s.source = s.source.or(schema.source.map(str::to_string));
        if let Some(extra) = schema.extra {
            extra(&row, &mut s)?;
        }
    }
    s.original = row;
    if s.question.trim().is_empty() {
        let column = mapping.iter().find(|m| m.field == F::Question).map_or("question", |m| m.column.as_str());
        return Err(FieldError { field: column.to_string(), message: "missing or empty question".into() });
    }
    Ok(s)
}

pub(crate) fn row_error(file: &str, line: u64, e: FieldError) -> RowError {
    RowError { file: file.to_string(), line, field: Some(e.field), message: e.message }
}

/// GPQA stores the right answer and three wrong ones in separate columns; choices are
/// kept unshuffled with the correct one first (evaluations shuffle with their own seed).
fn gpqa_choices(row: &Map<String, Value>, s: &mut NewSample) -> Result<(), FieldError> {
    let mut choices = Vec::with_capacity(4);
    for col in ["Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"] {
        match row.get(col).map(|v| text(v, col)).transpose()?.flatten() {
            Some(t) if !t.trim().is_empty() => choices.push(t.trim().to_string()),
            _ => return Err(FieldError { field: col.to_string(), message: "missing or empty answer".into() }),
        }
    }
    s.choices = Some(choices);
    s.correct_choice = Some(0);
    Ok(())
}

fn s1k11_grades(row: &Map<String, Value>, s: &mut NewSample) -> Result<(), FieldError> {
    for col in ["gemini_grade", "deepseek_grade"] {
        if let Some(g) = row.get(col).map(|v| text(v, col)).transpose()?.flatten() {
            s.grades.insert(col.to_string(), g);
        }
    }
    Ok(())
}

/// MBPP keeps asserts in a list and imports in another: tests = imports + asserts.
fn mbpp_tests(row: &Map<String, Value>, s: &mut NewSample) -> Result<(), FieldError> {
    let imports = row.get("test_imports").map(|v| string_list(v, "test_imports")).transpose()?.flatten();
    let asserts = string_list(row.get("test_list").unwrap_or(&Value::Null), "test_list")?;
    let lines: Vec<String> = imports.into_iter().flatten().chain(asserts.into_iter().flatten()).collect();
    s.tests = (!lines.is_empty()).then(|| lines.join("\n"));
    Ok(())
}
