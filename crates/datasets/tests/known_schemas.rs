//! Every known layout imports with the right canonical fields.

mod common;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use common::*;
use std::sync::Arc;
use thinkscope_protocol::{SampleFilter, SampleQuery, TraceKind};

async fn first(store: &thinkscope_store::Store, dataset: &str) -> thinkscope_protocol::SampleDetail {
    let q = SampleQuery { dataset_id: Some(dataset.into()), limit: 1, ..SampleQuery::default() };
    let row = store.samples(&q).await.unwrap().rows.remove(0);
    store.sample(&row.id).await.unwrap()
}

#[tokio::test]
async fn math500_fields_and_facets() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let r = import_path(&store, &shared("math500.jsonl")).await.unwrap();
    assert_eq!((r.dataset.rows, r.dataset.schema.as_str(), r.dataset.format.as_str()), (500, "math500", "jsonl"));
    assert_eq!(r.dataset.name, "math500");
    let s = first(&store, &r.dataset.id).await;
    assert!(s.row.external_id.as_deref().unwrap().starts_with("test/"));
    assert_eq!(s.row.domain.as_deref(), Some("math"));
    assert!(s.row.answer.is_some() && s.solution.is_some() && s.row.level.is_some());
    assert_eq!(s.original["unique_id"].as_str(), s.row.external_id.as_deref());
    // Columns stored once (in canonical fields) come back into the source row verbatim.
    let line = std::fs::read_to_string(shared("math500.jsonl")).unwrap().lines().next().unwrap().to_string();
    assert_eq!(s.original, serde_json::from_str::<serde_json::Value>(&line).unwrap());

    let facets = store.facets(&SampleQuery { dataset_id: Some(r.dataset.id.clone()), ..Default::default() }).await.unwrap();
    let subject = |name: &str| facets.subject.iter().find(|f| f.value == name).map(|f| f.count);
    assert_eq!(subject("Algebra"), Some(124));
    assert_eq!(subject("Counting & Probability"), Some(38));
    assert!(facets.subject.windows(2).all(|w| w[0].count >= w[1].count), "most frequent first");
    assert_eq!(facets.domain.iter().map(|f| (f.value.as_str(), f.count)).collect::<Vec<_>>(), [("math", 500)]);
    let levels: Vec<_> = facets.level.iter().map(|f| (f.value.as_str(), f.count)).collect();
    assert!(levels.contains(&("5", 134)) && levels.contains(&("1", 43)), "{levels:?}");

    // A facet filter narrows the others but not its own counts.
    let q = SampleQuery {
        dataset_id: Some(r.dataset.id.clone()),
        filter: SampleFilter { level: Some("5".into()), ..Default::default() },
        ..Default::default()
    };
    let narrowed = store.facets(&q).await.unwrap();
    assert_eq!(narrowed.subject.iter().map(|f| f.count).sum::<u64>(), 134);
    assert_eq!(narrowed.level.len(), 5);
    assert_eq!(store.samples(&q).await.unwrap().total, 134);
}

#[tokio::test]
async fn aime_shapes_keep_answers_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    for (file, first_answer) in [("aime24.jsonl", None), ("aime24_nofigures.jsonl", None), ("aime25.jsonl", Some("70")), ("aime25_nofigures.jsonl", Some("70"))] {
        let r = import_path(&store, &shared(file)).await.unwrap();
        assert_eq!((r.dataset.rows, r.dataset.schema.as_str()), (30, "aime"), "{file}");
        let s = first(&store, &r.dataset.id).await;
        if let Some(a) = first_answer {
            assert_eq!(s.row.answer.as_deref(), Some(a), "{file}");
        }
        assert!(!s.row.question.is_empty());
    }
    // aime24 keeps leading zeros exactly as the file has them.
    let ds = store.find_dataset("aime24").await.unwrap();
    let page = store.samples(&SampleQuery { dataset_id: Some(ds.id), limit: 30, ..Default::default() }).await.unwrap();
    assert!(page.rows.iter().any(|s| s.answer.as_deref().is_some_and(|a| a.starts_with('0'))));
}

#[tokio::test]
async fn code_benchmarks_keep_tests_and_entry_points() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let he = import_path(&store, &shared("humaneval.jsonl")).await.unwrap();
    assert_eq!((he.dataset.rows, he.dataset.schema.as_str()), (164, "humaneval"));
    let s = first(&store, &he.dataset.id).await;
    assert_eq!(s.row.external_id.as_deref(), Some("HumanEval/0"));
    assert_eq!(s.entry_point.as_deref(), Some("has_close_elements"));
    assert!(s.tests.unwrap().contains("def check(candidate)"));

    let mbpp = import_path(&store, &shared("mbpp_sanitized.jsonl")).await.unwrap();
    assert_eq!((mbpp.dataset.rows, mbpp.dataset.schema.as_str()), (427, "mbpp-sanitized"));
    let s = first(&store, &mbpp.dataset.id).await;
    assert!(s.tests.unwrap().lines().any(|l| l.starts_with("assert")));
    assert_eq!(s.row.domain.as_deref(), Some("code"));
}

#[tokio::test]
async fn gpqa_csv_stores_choices_unshuffled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gpqa_diamond.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["Record ID", "Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3", "Explanation", "Subdomain", "High-level domain"]).unwrap();
    w.write_record(["rec1", "What is $E=mc^2$ for m=1kg?", "9e16 J", "3e8 J", "1 J", "0 J", "Because, \"c\" squared.\nTwo lines.", "Relativistic Mechanics", "Physics"]).unwrap();
    w.write_record(["rec2", "Which base pairs with adenine?", "Thymine", "Guanine", "Cytosine", "Uracil", "", "Molecular Biology", "Biology"]).unwrap();
    w.flush().unwrap();
    let store = store(dir.path()).await;
    let r = import_path(&store, &path).await.unwrap();
    assert_eq!((r.dataset.rows, r.dataset.schema.as_str(), r.dataset.format.as_str()), (2, "gpqa-diamond", "csv"));
    let s = first(&store, &r.dataset.id).await;
    assert_eq!(s.row.choices.as_deref().unwrap(), ["9e16 J", "3e8 J", "1 J", "0 J"]);
    assert_eq!(s.correct_choice, Some(0));
    assert_eq!(s.row.answer.as_deref(), Some("9e16 J"));
    assert_eq!((s.row.domain.as_deref(), s.row.subject.as_deref()), (Some("Physics"), Some("Relativistic Mechanics")));
    assert_eq!(s.solution.as_deref(), Some("Because, \"c\" squared.\nTwo lines."));
}

fn list_column(rows: &[&[&str]]) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in rows {
        for s in *row {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn write_parquet(path: &std::path::Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[tokio::test]
async fn s1k_parquet_joins_trajectories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s1k.parquet");
    write_parquet(&path, vec![
        ("solution", strings(&["42", "7"])),
        ("question", strings(&["What is 6*7?", "A prime between 5 and 10?"])),
        ("cot_type", strings(&["math", "math"])),
        ("source_type", strings(&["AI-MO/NuminaMath-CoT/aops_forum", "qq8933/AIME_1983_2024"])),
        ("metadata", strings(&["{'a': 1}", "{}"])),
        ("cot", Arc::new(StringArray::from(vec![None::<&str>, None]))),
        ("thinking_trajectories", list_column(&[&["Six sevens.", "That is 42."], &["7 is prime."]])),
        ("attempt", strings(&["**42**", "**7**"])),
    ]);
    let store = store(dir.path()).await;
    let r = import_path(&store, &path).await.unwrap();
    assert_eq!((r.dataset.rows, r.dataset.schema.as_str(), r.dataset.format.as_str()), (2, "s1k", "parquet"));
    let s = first(&store, &r.dataset.id).await;
    assert_eq!(s.traces.len(), 2);
    assert_eq!((s.traces[0].kind, s.traces[0].text.as_str()), (TraceKind::Thinking, "Six sevens.\nThat is 42."));
    assert_eq!((s.traces[1].kind, s.traces[1].text.as_str()), (TraceKind::Attempt, "**42**"));
    assert_eq!(s.row.source.as_deref(), Some("AI-MO/NuminaMath-CoT/aops_forum"));
    assert!(s.row.has_trace);
    assert_eq!(s.original["thinking_trajectories"][1], "That is 42.");
}

#[tokio::test]
async fn s1k_11_parquet_keeps_both_models() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s1K-1.1.parquet");
    write_parquet(&path, vec![
        ("solution", strings(&["1"])),
        ("question", strings(&["Compute 0!"])),
        ("cot_type", strings(&["math"])),
        ("source_type", strings(&["src"])),
        ("metadata", strings(&["{}"])),
        ("gemini_thinking_trajectory", strings(&["gemini thinks"])),
        ("gemini_attempt", strings(&["gemini says 1"])),
        ("deepseek_thinking_trajectory", strings(&["deepseek thinks"])),
        ("deepseek_attempt", strings(&["deepseek says 1"])),
        ("gemini_grade", strings(&["Yes"])),
        ("gemini_grade_reason", strings(&["ok"])),
        ("deepseek_grade", strings(&["No"])),
        ("deepseek_grade_reason", strings(&["bad"])),
    ]);
    let store = store(dir.path()).await;
    let r = import_path(&store, &path).await.unwrap();
    assert_eq!(r.dataset.schema, "s1k-1.1");
    let s = first(&store, &r.dataset.id).await;
    let traces: Vec<_> = s.traces.iter().map(|t| (t.kind, t.label.as_str(), t.text.as_str())).collect();
    assert_eq!(traces, [
        (TraceKind::Thinking, "gemini", "gemini thinks"),
        (TraceKind::Attempt, "gemini", "gemini says 1"),
        (TraceKind::Thinking, "deepseek", "deepseek thinks"),
        (TraceKind::Attempt, "deepseek", "deepseek says 1"),
    ]);
    assert_eq!(s.grades.get("gemini_grade").map(String::as_str), Some("Yes"));
    assert_eq!(s.grades.get("deepseek_grade").map(String::as_str), Some("No"));
}

#[tokio::test]
async fn z1_jsonl_and_json_array() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        serde_json::json!({"id": 0, "question": "Reverse a list.", "response": "We can slice: xs[::-1].", "token_num_qwen": 9}),
        serde_json::json!({"id": 1, "question": "Sum of primes below 10?", "response": "2+3+5+7 = 17.", "token_num_qwen": 8}),
    ];
    let jsonl = dir.path().join("z1.jsonl");
    std::fs::write(&jsonl, rows.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let json = dir.path().join("z1.json");
    std::fs::write(&json, serde_json::to_string_pretty(&rows).unwrap()).unwrap();
    let store = store(dir.path()).await;
    let a = import_path(&store, &jsonl).await.unwrap();
    let b = import_path(&store, &json).await.unwrap();
    assert_eq!((a.dataset.schema.as_str(), a.dataset.rows), ("z1-code-reasoning", 2));
    assert_eq!((b.dataset.format.as_str(), b.dataset.rows), ("json", 2));
    let s = first(&store, &b.dataset.id).await;
    assert_eq!(s.traces[0].text, "We can slice: xs[::-1].");
    assert_eq!(s.row.external_id.as_deref(), Some("0"));
}
