//! Search, read-only opening, schema refusal and token counts over a real library.

mod common;

use common::*;
use thinkscope_datasets::{import, CancelToken};
use thinkscope_protocol::{ImportRequest, SampleQuery, SampleSort};
use thinkscope_store::{OpenMode, Store, StoreError};
use tokenizers::models::wordlevel::WordLevel;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::Tokenizer;

#[tokio::test]
async fn search_finds_and_highlights_prime() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let ds = import_path(&store, &shared("math500.jsonl")).await.unwrap().dataset;
    let q = SampleQuery { dataset_id: Some(ds.id.clone()), search: Some("prime".into()), limit: 200, ..Default::default() };
    let page = store.samples(&q).await.unwrap();
    assert!(page.total >= 10 && page.total < 500, "{}", page.total);
    assert_eq!(page.rows.len() as u64, page.total);
    for row in &page.rows {
        let snippet = row.snippet.as_ref().expect("every hit has a snippet");
        assert!(!snippet.marks.is_empty());
        for [a, b] in &snippet.marks {
            assert!(snippet.text[*a..*b].eq_ignore_ascii_case("prime"), "{:?}", &snippet.text[*a..*b]);
        }
    }
    // A phrase narrows; hostile FTS syntax is taken literally rather than failing.
    let phrase = SampleQuery { search: Some("\"prime number\"".into()), ..q.clone() };
    let narrowed = store.samples(&phrase).await.unwrap().total;
    assert!(narrowed > 0 && narrowed < page.total);
    for hostile in ["NEAR(", "\"unbalanced", "a AND OR", "*", "prime)"] {
        store.samples(&SampleQuery { search: Some(hostile.into()), ..q.clone() }).await.unwrap();
    }
    let facets = store.facets(&q).await.unwrap();
    assert_eq!(facets.subject.iter().map(|f| f.count).sum::<u64>(), page.total);
}

/// The import commits rows without indexing them; search sees each dataset as far as
/// the index has caught up, and an interrupted build goes on where it stopped.
#[tokio::test]
async fn rows_are_browsable_at_once_and_searchable_once_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let plain = |path: &str| ImportRequest { path: shared(path).display().to_string(), ..ImportRequest::default() };
    let math = import(&store, &plain("math500.jsonl"), |_| {}, &CancelToken::default()).await.unwrap().dataset;
    let aime = import(&store, &plain("aime24.jsonl"), |_| {}, &CancelToken::default()).await.unwrap().dataset;
    assert_eq!((math.rows, math.indexed_rows), (500, 0));
    let pending: Vec<_> = store.unindexed_datasets().await.unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(pending, [math.id.clone(), aime.id.clone()]);

    let query = |id: &str, search: Option<&str>| SampleQuery {
        dataset_id: Some(id.to_string()),
        search: search.map(Into::into),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.samples(&query(&math.id, None)).await.unwrap().total, 500);
    assert_eq!(store.samples(&query(&math.id, Some("prime"))).await.unwrap().total, 0);

    // Stop after the first chunk: MATH-500 is searchable, AIME not yet.
    let stop = std::cell::Cell::new(false);
    let mut seen = Vec::new();
    let finished = store
        .build_search_index(
            |p| {
                seen.push((p.dataset_id.clone(), p.indexed_rows, p.rows));
                stop.set(true);
            },
            || stop.get(),
        )
        .await
        .unwrap();
    assert!(!finished);
    assert_eq!(seen, [(math.id.clone(), 500, 500)]);
    let primes = store.samples(&query(&math.id, Some("prime"))).await.unwrap().total;
    assert!(primes >= 10, "{primes}");
    let aime_question = store.samples(&query(&aime.id, None)).await.unwrap().rows[0].question.clone();
    let word = aime_question.split(|c: char| !c.is_alphabetic()).find(|w| w.len() >= 6).unwrap().to_string();
    assert_eq!(store.samples(&query(&aime.id, Some(&word))).await.unwrap().total, 0);

    // The next build does only what is left, and indexes nothing twice.
    assert!(store.build_search_index(|p| assert_eq!(p.dataset_id, aime.id), || false).await.unwrap());
    assert!(store.samples(&query(&aime.id, Some(&word))).await.unwrap().total >= 1);
    assert_eq!(store.samples(&query(&math.id, Some("prime"))).await.unwrap().total, primes);
    assert!(store.unindexed_datasets().await.unwrap().is_empty());
    assert!(store.datasets().await.unwrap().iter().all(|d| d.indexed_rows == d.rows));
    assert!(store.build_search_index(|_| panic!("nothing to index"), || false).await.unwrap());
}

/// Deleting a dataset takes its rows and its index entries: the next import reuses the
/// rowids, and none of the deleted rows' words may match it.
#[tokio::test]
async fn a_deleted_dataset_leaves_nothing_searchable_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let aime = import_path(&store, &shared("aime25.jsonl")).await.unwrap().dataset;
    let math = import_path(&store, &shared("math500.jsonl")).await.unwrap().dataset;
    let search = |id: &str, word: &str| SampleQuery {
        dataset_id: Some(id.to_string()),
        search: Some(word.into()),
        limit: 1,
        ..Default::default()
    };
    assert!(store.samples(&search(&math.id, "prime")).await.unwrap().total > 0);
    let aime_hits = store.samples(&search(&aime.id, "triangle")).await.unwrap().total;
    assert!(aime_hits > 0);

    let deleted = store.delete_dataset(&math.id).await.unwrap();
    assert_eq!((deleted.name.as_str(), deleted.rows), ("math500", 500));
    assert_eq!(store.datasets().await.unwrap(), vec![aime.clone()]);
    assert_eq!(store.samples(&SampleQuery::default()).await.unwrap().total, 30);
    assert!(matches!(store.delete_dataset(&math.id).await, Err(StoreError::UnknownDataset(_))));

    // HumanEval takes MATH-500's rowids. A search must count exactly its rows whose
    // indexed texts hold the word, never a row through a stale MATH-500 entry.
    let humaneval = import_path(&store, &shared("humaneval.jsonl")).await.unwrap().dataset;
    let rows = store
        .samples(&SampleQuery { dataset_id: Some(humaneval.id.clone()), limit: 1000, ..Default::default() })
        .await
        .unwrap()
        .rows;
    let mut texts = Vec::new();
    for r in &rows {
        let d = store.sample(&r.id).await.unwrap();
        let traces = d.traces.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join("\n");
        texts.push(format!("{} {} {traces}", r.question, d.solution.unwrap_or_default()).to_lowercase());
    }
    for word in ["prime", "integer", "polynomial", "triangle", "digits"] {
        let expected = texts.iter().filter(|t| t.split(|c: char| !c.is_alphanumeric()).any(|w| w == word)).count();
        let found = store.samples(&search(&humaneval.id, word)).await.unwrap().total;
        assert_eq!(found, expected as u64, "{word}");
    }
    assert_eq!(store.samples(&search(&aime.id, "triangle")).await.unwrap().total, aime_hits);
}

#[tokio::test]
async fn read_only_open_reads_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lib.db");
    {
        let store = Store::open(&path, OpenMode::ReadWrite).await.unwrap();
        import_path(&store, &shared("aime25.jsonl")).await.unwrap();
        store.close().await;
    }
    let ro = Store::open(&path, OpenMode::ReadOnly).await.unwrap();
    assert!(ro.info().read_only);
    assert_eq!(ro.datasets().await.unwrap().len(), 1);
    let err = import_path(&ro, &shared("aime24.jsonl")).await.unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    let missing = Store::open(dir.path().join("nope.db"), OpenMode::ReadOnly).await.unwrap_err();
    assert!(missing.to_string().contains("nope.db"), "{missing}");
}

#[tokio::test]
async fn newer_schema_is_refused_untouched_and_junk_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let store = Store::open(&path, OpenMode::ReadWrite).await.unwrap();
        import_path(&store, &shared("aime25.jsonl")).await.unwrap();
        store.close().await;
    }
    // Pretend a newer thinkscope applied migration 9999.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', 1, x'00', 0)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    for mode in [OpenMode::ReadWrite, OpenMode::ReadOnly] {
        let err = Store::open(&path, mode).await.unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found: 9999, .. }), "{err}");
        assert!(err.to_string().contains("newer thinkscope"), "{err}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "a refused file must not change");

    let junk = dir.path().join("notes.db");
    std::fs::write(&junk, "these are my notes, not a database ".repeat(200)).unwrap();
    let err = Store::open(&junk, OpenMode::ReadWrite).await.unwrap_err();
    assert!(matches!(err, StoreError::NotALibrary { .. }) && err.to_string().contains("notes.db"), "{err}");
}

fn tiny_tokenizer(dir: &std::path::Path) -> std::path::PathBuf {
    let words = ["[UNK]", "we", "can", "slice", "sum", "of", "primes", "is", "17", "."];
    let vocab = words.iter().enumerate().map(|(i, w)| (w.to_string(), i as u32)).collect();
    let model = WordLevel::builder().vocab(vocab).unk_token("[UNK]".into()).build().unwrap();
    let mut tok = Tokenizer::new(model);
    tok.with_pre_tokenizer(Some(Whitespace {}));
    let path = dir.join("tiny").join("tokenizer.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    tok.save(&path, false).unwrap();
    path
}

#[tokio::test]
async fn token_counts_drive_lengths_sort_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let rows = [
        serde_json::json!({"id": 0, "question": "q0", "response": "we can slice .", "token_num_qwen": 4}),
        serde_json::json!({"id": 1, "question": "q1", "response": "sum of primes is 17 .", "token_num_qwen": 6}),
        serde_json::json!({"id": 2, "question": "q2", "response": "we", "token_num_qwen": 1}),
    ];
    let path = dir.path().join("z1.jsonl");
    std::fs::write(&path, rows.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let ds = import_path(&store, &path).await.unwrap().dataset;
    let summary = thinkscope_datasets::count_tokens(&store, &ds.name, &tiny_tokenizer(dir.path()), None).await.unwrap();
    assert_eq!(summary.tokenizer, "tiny");
    assert_eq!(summary.texts, 6);
    let q = SampleQuery { dataset_id: Some(ds.id.clone()), sort: SampleSort::LengthDesc, ..Default::default() };
    let page = store.samples(&q).await.unwrap();
    let lengths: Vec<_> = page.rows.iter().map(|r| r.thinking_tokens).collect();
    assert_eq!(lengths, [Some(6), Some(4), Some(1)]);
    assert_eq!(store.facets(&q).await.unwrap().thinking_tokens_range, Some([1, 6]));
    let (unit, values) = store.thinking_lengths(&ds.id).await.unwrap();
    assert_eq!(unit, "thinking tokens (tiny)");
    assert_eq!(values.iter().sum::<u64>(), 11);
    let detail = store.sample(&page.rows[0].id).await.unwrap();
    assert_eq!(detail.traces[0].tokens[0].tokens, 6);
    assert_eq!(detail.token_counts["question"][0].tokens, 1);

    let bad = dir.path().join("bad-tokenizer.json");
    std::fs::write(&bad, "{\"not\": \"a tokenizer\"}").unwrap();
    let err = thinkscope_datasets::count_tokens(&store, &ds.name, &bad, None).await.unwrap_err();
    assert!(err.to_string().contains("bad-tokenizer.json"), "{err}");
}
