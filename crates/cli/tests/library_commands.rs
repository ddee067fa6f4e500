//! The `thinkscope` binary as a script would use it: JSON shapes, exit codes, messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(file: &str) -> PathBuf {
    let base = std::env::var_os("THINKSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    base.join("datasets").join(file)
}

fn thinkscope(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thinkscope"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("THINKSCOPE_DB")
        .output()
        .expect("run thinkscope")
}

fn ok_json(db: &Path, args: &[&str]) -> serde_json::Value {
    let out = thinkscope(db, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn import_list_search_show() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    let math = shared("math500.jsonl");
    let report = ok_json(&db, &["import", math.to_str().unwrap(), "--json"]);
    assert_eq!(report["dataset"]["rows"], 500);
    assert_eq!(report["dataset"]["indexed_rows"], 500);
    let gpqa = dir.path().join("gpqa.csv");
    std::fs::write(&gpqa, "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Subdomain,High-level domain,Record ID\nWhich is a noble gas?,Neon,Oxygen,Nitrogen,Iron,Chemistry (general),Chemistry,recA\n").unwrap();
    ok_json(&db, &["import", gpqa.to_str().unwrap(), "--name", "GPQA Diamond", "--json"]);

    let datasets = ok_json(&db, &["datasets", "--json"]);
    let names: Vec<_> = datasets.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["math500", "GPQA Diamond"]);
    for d in datasets.as_array().unwrap() {
        for key in ["id", "name", "format", "rows"] {
            assert!(!d[key].is_null(), "datasets --json lacks {key}");
        }
        // `import` returns once the rows are searchable too.
        assert_eq!(d["indexed_rows"], d["rows"]);
    }

    let hits = ok_json(&db, &["samples", "math500", "--search", "prime", "--where", "level=5", "--limit", "3", "--json"]);
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 3);
    for h in hits {
        for key in ["id", "external_id", "question", "answer", "domain", "choices"] {
            assert!(h.get(key).is_some(), "samples --json lacks {key}");
        }
        assert_eq!(h["level"], "5");
    }

    let mc = ok_json(&db, &["samples", "GPQA Diamond", "--json"]);
    assert_eq!(mc[0]["choices"], serde_json::json!(["Neon", "Oxygen", "Nitrogen", "Iron"]));
    let id = mc[0]["id"].as_str().unwrap();
    let detail = ok_json(&db, &["show", &id[..12], "--json"]);
    assert_eq!(detail["correct_choice"], 0);
    let text = thinkscope(&db, &["show", id]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("* A. Neon") && text.contains("  B. Oxygen"), "{text}");

    // The same file again is a no-op.
    let again = ok_json(&db, &["import", math.to_str().unwrap(), "--json"]);
    assert_eq!(again["already_present"], true);
    assert_eq!(ok_json(&db, &["datasets", "--json"]).as_array().unwrap().len(), 2);

    // A name two datasets share is refused by `delete` (reads take the latest).
    let mut named = ok_json(&db, &["import", math.to_str().unwrap(), "--name", "GPQA Diamond", "--map", "question=problem", "--json"]);
    let twin = named["dataset"]["id"].take();
    let refused = thinkscope(&db, &["delete", "GPQA Diamond"]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && why.contains("matches 2 datasets"), "{why}");
    ok_json(&db, &["delete", twin.as_str().unwrap(), "--json"]);

    // Deleted, it is gone from the list, its samples from `show`, and it can come back.
    let deleted = ok_json(&db, &["delete", "GPQA Diamond", "--json"]);
    assert_eq!((deleted["name"].as_str(), deleted["rows"].as_u64()), (Some("GPQA Diamond"), Some(1)));
    assert_eq!(ok_json(&db, &["datasets", "--json"]).as_array().unwrap().len(), 1);
    let gone = thinkscope(&db, &["show", id]);
    assert!(!gone.status.success());
    let unknown = thinkscope(&db, &["delete", "GPQA Diamond"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("GPQA Diamond") && !unknown.status.success());
    ok_json(&db, &["import", gpqa.to_str().unwrap(), "--name", "GPQA Diamond", "--json"]);
    assert_eq!(ok_json(&db, &["show", id, "--json"])["correct_choice"], 0);
}

#[test]
fn errors_exit_nonzero_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"problem\": \"1+1\", \"answer\": \"2\", \"id\": 1}\n{\"problem\": 5, \"answer\": [1, {}], \"id\": 2}\n").unwrap();
    let out = thinkscope(&db, &["import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:2: field `answer`"), "{err}");
    assert!(out.stdout.is_empty());

    let skipped = thinkscope(&db, &["import", bad.to_str().unwrap(), "--skip-bad-rows"]);
    assert!(skipped.status.success());
    assert!(String::from_utf8_lossy(&skipped.stderr).contains("skipped bad.jsonl:2"));

    let unknown = dir.path().join("odd.jsonl");
    std::fs::write(&unknown, "{\"prompt\": \"Hi\", \"gold\": \"x\"}\n").unwrap();
    let out = thinkscope(&db, &["import", unknown.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--map question=prompt"));
    let mapped = ok_json(&db, &["import", unknown.to_str().unwrap(), "--map", "question=prompt", "--map", "answer=gold", "--json"]);
    assert_eq!(mapped["dataset"]["schema"], "custom");

    for args in [&["samples", "nope"][..], &["show", "0123456789ab"], &["samples", "bad", "--where", "colour=red"]] {
        let out = thinkscope(&db, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "), "{args:?}");
    }

    let ro = thinkscope(&db, &["--read-only", "import", unknown.to_str().unwrap(), "--name", "x"]);
    assert!(String::from_utf8_lossy(&ro.stderr).contains("read-only"));
}

/// A library whose search index an interrupted import left behind: a read-only search
/// says what it cannot see; a writable one finishes the index first.
#[test]
fn search_finishes_an_index_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = thinkscope_store::Store::open(&db, thinkscope_store::OpenMode::ReadWrite).await.unwrap();
        let request = thinkscope_protocol::ImportRequest {
            path: shared("math500.jsonl").display().to_string(),
            ..Default::default()
        };
        let cancel = thinkscope_datasets::CancelToken::default();
        thinkscope_datasets::import(&store, &request, |_| {}, &cancel).await.unwrap();
        store.close().await;
    });
    assert_eq!(ok_json(&db, &["datasets", "--json"])[0]["indexed_rows"], 0);
    let listed = String::from_utf8(thinkscope(&db, &["datasets"]).stdout).unwrap();
    assert!(listed.contains("search covers 0 of 500 rows"), "{listed}");

    let out = thinkscope(&db, &["--read-only", "samples", "math500", "--search", "prime", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!([]));
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("500 rows") && note.contains("not in its search index"), "{note}");

    let hits = ok_json(&db, &["samples", "math500", "--search", "prime", "--limit", "5", "--json"]);
    assert_eq!(hits.as_array().unwrap().len(), 5);
    assert_eq!(ok_json(&db, &["datasets", "--json"])[0]["indexed_rows"], 500);
}
