//! Bad input gets an error naming the file, line and field, and never loses what is stored.

mod common;

use common::*;
use std::io::Write;
use thinkscope_datasets::{CancelToken, ImportError};
use thinkscope_protocol::{CanonicalField, FieldMapping, ImportRequest, SampleQuery};

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const GOOD: &str = r#"{"problem": "1+1?", "answer": "2", "id": 1}"#;

#[tokio::test]
async fn malformed_row_names_file_and_line_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let before = import_path(&store, &shared("aime25.jsonl")).await.unwrap();
    let body = format!("{GOOD}\n{GOOD}\n{{\"problem\": \"broken\", \n{GOOD}\n");
    let path = write(dir.path(), "broken.jsonl", body.as_bytes());
    let err = import_path(&store, &path).await.unwrap_err();
    let ImportError::BadRow(row) = &err else { panic!("{err}") };
    assert_eq!((row.file.as_str(), row.line), ("broken.jsonl", 3));
    assert!(err.to_string().starts_with("broken.jsonl:3: invalid JSON"), "{err}");
    // Nothing of the failed import, and everything from before.
    let datasets = store.datasets().await.unwrap();
    assert_eq!(datasets, vec![before.dataset]);
    assert_eq!(store.samples(&SampleQuery::default()).await.unwrap().total, 30);
}

#[tokio::test]
async fn skip_bad_rows_stores_the_rest_and_reports_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let body = format!("{GOOD}\nnot json\n{{\"problem\": \"\", \"answer\": \"1\", \"id\": 3}}\n{GOOD}\n[1,2]\n");
    let path = write(dir.path(), "mixed.jsonl", body.as_bytes());
    let req = ImportRequest { path: path.display().to_string(), skip_bad_rows: true, ..Default::default() };
    let r = import_with(&store, req).await.unwrap();
    assert_eq!(r.dataset.rows, 2);
    let skipped: Vec<_> = r.skipped.iter().map(|e| (e.line, e.field.as_deref())).collect();
    assert_eq!(skipped, [(2, None), (3, Some("problem")), (5, None)]);
    assert!(r.skipped[1].message.contains("empty question"));
    assert!(r.skipped[2].message.contains("expected a JSON object, found an array"));
}

#[tokio::test]
async fn wrong_encodings_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    // Latin-1 "é" on line 2.
    let mut latin1 = format!("{GOOD}\n").into_bytes();
    latin1.extend_from_slice(b"{\"problem\": \"caf\xe9\", \"answer\": \"1\", \"id\": 2}\n");
    let err = import_path(&store, &write(dir.path(), "latin1.jsonl", &latin1)).await.unwrap_err();
    assert!(err.to_string().contains("latin1.jsonl:2") && err.to_string().contains("not valid UTF-8"), "{err}");
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(GOOD.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let err = import_path(&store, &write(dir.path(), "utf16.jsonl", &utf16)).await.unwrap_err();
    assert!(err.to_string().contains("utf16.jsonl") && err.to_string().contains("UTF-16"), "{err}");
    // A CSV cell in Latin-1 names its column.
    let csv = b"question,answer\nok,1\ncaf\xe9,2\n";
    let err = import_with(&store, ImportRequest {
        path: write(dir.path(), "l1.csv", csv).display().to_string(),
        mapping: vec![FieldMapping { field: CanonicalField::Question, column: "question".into() }],
        ..Default::default()
    })
    .await
    .unwrap_err();
    let ImportError::BadRow(row) = &err else { panic!("{err}") };
    assert_eq!((row.line, row.field.as_deref()), (3, Some("question")));
    assert!(store.datasets().await.unwrap().is_empty());
}

#[tokio::test]
async fn missing_columns_and_unknown_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let path = write(dir.path(), "custom.jsonl", b"{\"prompt_text\": \"Hi?\", \"gold\": \"yes\"}\n");
    let err = import_path(&store, &path).await.unwrap_err();
    assert!(matches!(err, ImportError::UnknownSchema { .. }), "{err}");
    assert!(err.to_string().contains("prompt_text, gold"), "{err}");

    let mapped = |column: &str| ImportRequest {
        path: path.display().to_string(),
        mapping: vec![
            FieldMapping { field: CanonicalField::Question, column: column.into() },
            FieldMapping { field: CanonicalField::Answer, column: "gold".into() },
        ],
        ..Default::default()
    };
    let err = import_with(&store, mapped("question")).await.unwrap_err();
    assert!(err.to_string().contains("required column `question` (for field `question`) is missing"), "{err}");
    let ok = import_with(&store, mapped("prompt_text")).await.unwrap();
    assert_eq!((ok.dataset.rows, ok.dataset.schema.as_str()), (1, "custom"));
}

#[tokio::test]
async fn truncated_parquet_and_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let batch = arrow_array::RecordBatch::try_from_iter([(
        "question",
        std::sync::Arc::new(arrow_array::StringArray::from(vec!["a"; 100])) as arrow_array::ArrayRef,
    )])
    .unwrap();
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let path = write(dir.path(), "cut.parquet", &buf[..buf.len() / 2]);
    let err = import_path(&store, &path).await.unwrap_err();
    assert!(err.to_string().contains("cut.parquet") && err.to_string().contains("truncated"), "{err}");

    let err = import_path(&store, &write(dir.path(), "empty.jsonl", b"")).await.unwrap_err();
    assert!(matches!(err, ImportError::Empty { .. }) && err.to_string().contains("empty.jsonl"), "{err}");
    let err = import_path(&store, &write(dir.path(), "blank.jsonl", b"\n\n  \n")).await.unwrap_err();
    assert!(matches!(err, ImportError::Empty { .. }), "{err}");
}

#[tokio::test]
async fn ten_megabyte_field_imports_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let big = "x".repeat(10 * 1024 * 1024);
    let path = dir.path().join("big.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{}", serde_json::json!({"id": 1, "question": "q", "response": big, "token_num_qwen": 1})).unwrap();
    drop(f);
    let r = import_path(&store, &path).await.unwrap();
    let page = store.samples(&SampleQuery { dataset_id: Some(r.dataset.id), ..Default::default() }).await.unwrap();
    let s = store.sample(&page.rows[0].id).await.unwrap();
    assert_eq!(s.traces[0].text.len(), big.len());
}

#[tokio::test]
async fn reimport_is_idempotent_and_cancel_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let first = import_path(&store, &shared("math500.jsonl")).await.unwrap();
    let again = import_path(&store, &shared("math500.jsonl")).await.unwrap();
    assert!(!first.already_present && again.already_present);
    assert_eq!(again.dataset, first.dataset);
    assert_eq!(store.samples(&SampleQuery::default()).await.unwrap().total, 500);

    let cancel = CancelToken::default();
    cancel.cancel();
    let req = ImportRequest { path: shared("humaneval.jsonl").display().to_string(), ..Default::default() };
    let err = thinkscope_datasets::import(&store, &req, |_| {}, &cancel).await.unwrap_err();
    assert!(matches!(err, ImportError::Cancelled { .. }), "{err}");
    assert_eq!(store.datasets().await.unwrap().len(), 1);
}
