//! A library written by the first schema opens under the current one with nothing lost.

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use thinkscope_protocol::{SampleQuery, SampleSort};
use thinkscope_store::{OpenMode, Store};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");

/// A file at schema 1 holding one dataset of three samples, two with a trace.
async fn schema_one_library(path: &Path, migrations: &Path) {
    std::fs::create_dir_all(migrations).unwrap();
    std::fs::copy(Path::new(MIGRATIONS).join("0001_library.sql"), migrations.join("0001_library.sql")).unwrap();
    let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    Migrator::new(migrations).await.unwrap().run(&mut conn).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO datasets VALUES ('d1', 'old', 'old.jsonl', 'jsonl', 'custom', 'h', 10, 3, '[]', '2026-01-01T00:00:00Z');
         INSERT INTO samples (id, dataset_id, row_index, question, answer, original, has_trace, length_chars) VALUES
           ('5a0000000000', 'd1', 0, 'What is a prime?', '2', '{\"q\": \"What is a prime?\", \"r\": \"Primes have two divisors.\"}', 1, 25),
           ('5a0000000001', 'd1', 1, 'Add 1 and 1', '2', '{\"q\": \"Add 1 and 1\"}', 0, 11),
           ('5a0000000002', 'd1', 2, 'Square of 3', '9', '{\"q\": \"Square of 3\", \"r\": \"Think: prime? no, 9\"}', 1, 19);
         INSERT INTO traces VALUES ('5a0000000000', 0, 'thinking', 'r', 'Primes have two divisors.'),
                                   ('5a0000000002', 0, 'thinking', 'r', 'Think: prime? no, 9');
         INSERT INTO samples_fts (rowid, question, solution, traces)
           SELECT rowid, question, '', IFNULL((SELECT text FROM traces WHERE sample_id = id), '') FROM samples;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_schema_one_library_keeps_its_samples_traces_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    schema_one_library(&db, &dir.path().join("migrations")).await;

    let store = Store::open(&db, OpenMode::ReadWrite).await.unwrap();
    let q = |search: Option<&str>| SampleQuery {
        dataset_id: Some("d1".into()),
        search: search.map(Into::into),
        limit: 10,
        ..SampleQuery::default()
    };
    // Rows indexed before this schema count as indexed.
    assert_eq!(store.datasets().await.unwrap()[0].indexed_rows, 3);
    let all = store.samples(&q(None)).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.rows.iter().map(|r| r.question.as_str()).collect::<Vec<_>>(), ["What is a prime?", "Add 1 and 1", "Square of 3"]);

    // The rebuilt full-text index finds words in questions and traces, and prefixes.
    let prime = store.samples(&q(Some("prime"))).await.unwrap();
    assert_eq!((prime.total, prime.rows[1].id.as_str()), (2, "5a0000000002"));
    assert_eq!(store.samples(&q(Some("div*"))).await.unwrap().total, 1);

    let detail = store.sample("5a0000000002").await.unwrap();
    assert_eq!(detail.traces[0].text, "Think: prime? no, 9");
    assert_eq!(detail.original["r"], "Think: prime? no, 9");
    let longest = store.samples(&SampleQuery { sort: SampleSort::LengthDesc, ..q(None) }).await.unwrap();
    assert_eq!(longest.rows[0].id, "5a0000000000");
}
