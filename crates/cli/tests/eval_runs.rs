//! `thinkscope eval …` as a researcher runs it: sweeps stored unit by unit, resumed after
//! SIGKILL at random moments into exactly the run an uninterrupted process makes, bad
//! settings refused before anything is generated.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn shared(file: &str) -> PathBuf {
    let base = std::env::var_os("THINKSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    base.join("datasets").join(file)
}

fn command(db: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_thinkscope"));
    c.arg("--db").arg(db).args(args).env_remove("THINKSCOPE_DB");
    c
}

fn thinkscope(db: &Path, args: &[&str]) -> Output {
    command(db, args).output().expect("run thinkscope")
}

fn ok_json(db: &Path, args: &[&str]) -> Value {
    let out = thinkscope(db, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

struct Library {
    _dir: tempfile::TempDir,
    db: PathBuf,
    model: String,
}

fn library() -> Library {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lib.db");
    let model = dir.path().join("tiny-model");
    let cfg = thinkscope_engine::random::preset("tiny-qwen2").unwrap();
    thinkscope_engine::random::write_model_dir(&model, &cfg, 5).unwrap();
    ok_json(&db, &["import", shared("aime24.jsonl").to_str().unwrap(), "--name", "aime24", "--json"]);
    Library { model: model.display().to_string(), db, _dir: dir }
}

/// A sampled budget-forcing sweep small enough for a debug build.
fn sweep_args<'a>(model: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "eval", "run", "aime24", "--model", model, "--template", "s1", "--policy", "budget-forcing",
        "--budgets", "4,8,16", "--max-answer", "6", "--limit", "6", "--samples", "2", "--temperature", "0.8",
        "--seed", "7", "--batch", "4",
    ];
    args.extend_from_slice(extra);
    args
}

/// Units by (sample, point, sample index), with what must be identical across runs.
fn units(db: &Path, run: &str) -> BTreeMap<(String, u64, u64), Value> {
    let rows = ok_json(db, &["eval", "generations", run, "--json"]);
    let mut out = BTreeMap::new();
    for g in rows.as_array().unwrap() {
        let key = (g["sample_id"].as_str().unwrap().to_string(), g["point_index"].as_u64().unwrap(), g["sample_index"].as_u64().unwrap());
        let same = serde_json::json!([g["token_ids"], g["text"], g["insertions"], g["thinking_tokens"], g["answer_tokens"], g["stop_reason"], g["seed"], g["prompt_token_ids"]]);
        assert!(out.insert(key.clone(), same).is_none(), "unit {key:?} stored twice");
    }
    out
}

#[test]
fn a_sweep_is_stored_whole_and_keeps_every_budget() {
    let lib = library();
    let run = ok_json(&lib.db, &sweep_args(&lib.model, &["--json", "--name", "reference"]));
    assert_eq!(run["status"], "done");
    assert_eq!(run["total"], 6 * 3 * 2);
    assert_eq!(run["done"], 36);
    assert!(run["forward_tokens"].as_u64().unwrap() > 0);
    let list = ok_json(&lib.db, &["eval", "list", "--json"]);
    assert_eq!(list[0]["id"], run["id"]);
    for key in ["name", "dataset", "model", "policy", "status", "done", "total", "forward_tokens", "created"] {
        assert!(!list[0][key].is_null(), "eval list lacks {key}");
    }
    let rows = ok_json(&lib.db, &["eval", "generations", &run["id"].as_str().unwrap()[..8], "--json"]);
    assert_eq!(rows.as_array().unwrap().len(), 36);
    for g in rows.as_array().unwrap() {
        let budget = g["point"].as_f64().unwrap() as u64;
        assert!(g["thinking_tokens"].as_u64().unwrap() <= budget, "{g}");
        for key in ["run_id", "external_id", "prompt_token_ids", "token_ids", "text", "answer_tokens", "insertions", "stop_reason", "tries"] {
            assert!(!g[key].is_null(), "generation lacks {key}");
        }
    }
    let four = ok_json(&lib.db, &["eval", "generations", "reference", "--point", "4", "--json"]);
    assert_eq!(four.as_array().unwrap().len(), 12);
    assert!(four.as_array().unwrap().iter().all(|g| g["insertions"].as_array().unwrap().iter().any(|i| i["kind"] == "cap")));
}

#[test]
fn killed_at_random_moments_and_resumed_it_equals_an_uninterrupted_run() {
    let lib = library();
    let reference = ok_json(&lib.db, &sweep_args(&lib.model, &["--json", "--name", "reference"]));
    let expected = units(&lib.db, reference["id"].as_str().unwrap());
    // Delays from a fixed sequence, so a failure can be replayed.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next_delay = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Duration::from_millis(80 + state % 500)
    };
    let mut kills = 0;
    let mut partial_states = 0;
    let mut attempts = 0;
    let mut first = true;
    while kills < 10 {
        attempts += 1;
        assert!(attempts < 60, "the run kept finishing before it could be killed");
        let args: Vec<&str> = if first {
            sweep_args(&lib.model, &["--json", "--name", "crashy", "--new"])
        } else {
            vec!["eval", "resume", "crashy", "--batch", "4", "--json"]
        };
        let mut child = command(&lib.db, &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + next_delay();
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        // A run only exists once its row is committed; until then, start it again.
        let listed = ok_json(&lib.db, &["eval", "list", "--json"]);
        first = !listed.as_array().unwrap().iter().any(|r| r["name"] == "crashy");
        if !first {
            // Whatever was killed, the stored units are whole and unique (checked in units()).
            let partial = units(&lib.db, "crashy");
            if !partial.is_empty() && partial.len() < expected.len() {
                partial_states += 1;
            }
            for (key, unit) in &partial {
                assert_eq!(Some(unit), expected.get(key), "unit {key:?} differs from the uninterrupted run");
            }
            if partial.len() == expected.len() && kills < 10 {
                // Finished before the kill: start a fresh one for more kills.
                thinkscope(&lib.db, &["eval", "delete", "crashy"]);
                first = true;
            }
        }
    }
    assert!(partial_states >= 3, "only {partial_states} kills left a part of the run stored");
    let done = ok_json(&lib.db, &["eval", "resume", "crashy", "--batch", "3", "--json"]);
    assert_eq!(done["status"], "done");
    assert_eq!(done["done"], 36);
    assert_eq!(units(&lib.db, "crashy"), expected);
}

#[test]
fn an_unfinished_run_of_the_same_plan_is_offered_for_resume() {
    let lib = library();
    let mut child = command(&lib.db, &sweep_args(&lib.model, &["--name", "first"])).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Wait for the run row, then kill it mid-run.
    let started = Instant::now();
    loop {
        let listed = ok_json(&lib.db, &["eval", "list", "--json"]);
        if !listed.as_array().unwrap().is_empty() || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let list = ok_json(&lib.db, &["eval", "list", "--json"]);
    if list[0]["status"] == "done" {
        return; // it finished first; nothing to offer
    }
    let out = thinkscope(&lib.db, &sweep_args(&lib.model, &["--name", "second"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("eval resume") && err.contains("--new"), "{err}");
}

#[test]
fn bad_settings_are_refused_before_any_generation() {
    let lib = library();
    let broken = lib._dir.path().join("broken-model");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("config.json"), "{ not json").unwrap();
    let m = lib.model.as_str();
    let base = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = ["eval", "run", "aime24", "--model", m, "--template", "s1", "--limit", "2"].iter().map(|s| s.to_string()).collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["eval".into(), "run".into(), "no-such-dataset".into(), "--model".into(), m.into()], "no-such-dataset"),
        (base(&["--search", "zzqqxxnotaword"]), "matches no sample"),
        (vec!["eval".into(), "run".into(), "aime24".into(), "--model".into(), "/nonexistent/model".into()], "/nonexistent/model"),
        (vec!["eval".into(), "run".into(), "aime24".into(), "--model".into(), broken.display().to_string()], "broken-model"),
        (base(&["--policy", "budget-forcing", "--budgets", "64,32"]), "strictly increasing"),
        (base(&["--policy", "budget-forcing", "--budgets", "0,32"]), "not a positive"),
        (base(&["--policy", "budget-forcing", "--budgets", "32", "--windows", "8"]), "--windows does not apply"),
        (base(&["--policy", "shifted-window", "--windows", "8", "--ignore-end", "1"]), "--ignore-end does not apply"),
        (
            ["eval", "run", "aime24", "--model", m, "--template", "z1", "--policy", "budget-forcing", "--budgets", "32"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            "thinking phase",
        ),
        (base(&["--budgets", "32", "--rejection-sampling", "4"]), "--temperature"),
    ];
    for (args, expected) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = thinkscope(&lib.db, &refs);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(expected), "{args:?}: expected `{expected}` in: {err}");
    }
    let out = thinkscope(&lib.db, &["--read-only", "eval", "run", "aime24", "--model", m, "--limit", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    assert_eq!(ok_json(&lib.db, &["eval", "list", "--json"]), serde_json::json!([]), "nothing was stored");
}

#[test]
fn multiple_choice_options_are_shuffled_reproducibly_and_stored() {
    let lib = library();
    let csv = lib._dir.path().join("gpqa.csv");
    std::fs::write(
        &csv,
        "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,Subdomain,High-level domain,Record ID\n\
         Which is a noble gas?,Neon,Oxygen,Nitrogen,Iron,Chemistry (general),Chemistry,recA\n\
         Which planet is largest?,Jupiter,Mars,Venus,Mercury,Astronomy,Physics,recB\n\
         Which is a prime?,Seven,Nine,Fifteen,Twenty-one,Number theory,Math,recC\n",
    )
    .unwrap();
    ok_json(&lib.db, &["import", csv.to_str().unwrap(), "--name", "gpqa", "--json"]);
    let run = |name: &str, seed: &str| {
        let args = ["eval", "run", "gpqa", "--model", &lib.model, "--template", "s1", "--max-tokens", "3", "--seed", seed, "--name", name, "--new", "--json"];
        ok_json(&lib.db, &args);
        ok_json(&lib.db, &["eval", "generations", name, "--json"])
    };
    let a = run("a", "1");
    let b = run("b", "1");
    let c = run("c", "2");
    let shuffles = |rows: &Value| rows.as_array().unwrap().iter().map(|g| g["shuffle"].clone()).collect::<Vec<_>>();
    assert_eq!(shuffles(&a), shuffles(&b), "same seed, same option order");
    assert_ne!(shuffles(&a), shuffles(&c), "another seed shuffles differently");
    let choices = [["Neon", "Oxygen", "Nitrogen", "Iron"], ["Jupiter", "Mars", "Venus", "Mercury"], ["Seven", "Nine", "Fifteen", "Twenty-one"]];
    for (g, options) in a.as_array().unwrap().iter().zip(choices) {
        let order: Vec<usize> = g["shuffle"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 3]);
        let prompt = g["prompt"].as_str().unwrap();
        for (letter, stored) in ["A", "B", "C", "D"].iter().zip(&order) {
            assert!(prompt.contains(&format!("{letter}) {}", options[*stored])), "{prompt}");
        }
    }
}
