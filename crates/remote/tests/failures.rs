//! Failures a long run meets: transient errors are retried (honouring `Retry-After`),
//! anything else fails the unit with a clear message, and nothing panics or grows without
//! bound.

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::*;
use thinkscope_engine::CancelToken;
use thinkscope_eval::backend::Backend;
use thinkscope_protocol::generation::{StopReason, ThinkingPolicy};

fn ok() -> Reply {
    text("fine", "stop")
}

/// Runs one policy-none unit against `script`; its outcome and the requests made.
fn one(
    script: Vec<Reply>,
    tweak: impl FnOnce(&mut thinkscope_remote::RemoteConfig),
) -> (Result<String, String>, usize) {
    let server = FakeServer::start(false, script);
    let dir = tokenizer_dir();
    let mut config = config(&server, &dir);
    tweak(&mut config);
    let mut backend = connect(config).unwrap();
    let out = run(
        &mut backend,
        vec![job(0, "z1", ThinkingPolicy::None, 50)],
        &CancelToken::default(),
    );
    assert_eq!(out.finished.len(), 1);
    let outcome = out.finished.into_iter().next().unwrap().1.map(|r| r.text);
    (outcome, server.completions().len())
}

#[test]
fn a_500_is_retried() {
    let (outcome, requests) = one(
        vec![
            Reply::Status(500, json!({"error": {"message": "busy"}}), vec![]),
            ok(),
        ],
        |_| {},
    );
    assert_eq!(outcome.unwrap(), "fine<|im_end|>");
    assert_eq!(requests, 2);
}

#[test]
fn a_429_waits_as_long_as_retry_after_says() {
    let started = Instant::now();
    let throttled = Reply::Status(
        429,
        json!({"error": {"message": "slow down"}}),
        vec![("retry-after", "1".into())],
    );
    let (outcome, requests) = one(vec![throttled, ok()], |_| {});
    assert!(outcome.is_ok());
    assert_eq!(requests, 2);
    // The configured backoff is 10 ms; the header asked for a second.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn retries_run_out_with_the_servers_message() {
    let busy = || Reply::Status(503, json!({"error": {"message": "overloaded"}}), vec![]);
    let (outcome, requests) = one(vec![busy(), busy(), busy(), ok()], |_| {});
    let err = outcome.unwrap_err();
    assert!(
        err.contains("HTTP 503 Service Unavailable: overloaded")
            && err.contains("gave up after 3 attempts"),
        "{err}"
    );
    assert_eq!(requests, 3);
}

#[test]
fn a_400_fails_at_once() {
    let (outcome, requests) = one(
        vec![
            Reply::Status(
                400,
                json!({"error": {"message": "max_tokens is too large"}}),
                vec![],
            ),
            ok(),
        ],
        |_| {},
    );
    assert!(outcome
        .unwrap_err()
        .contains("HTTP 400 Bad Request: max_tokens is too large"));
    assert_eq!(requests, 1);
}

#[test]
fn garbage_and_wrong_types_are_clear_errors() {
    let (outcome, requests) = one(vec![Reply::Raw(b"<html>502 Bad Gateway".to_vec())], |_| {});
    assert!(outcome.unwrap_err().contains("the response is not JSON"));
    assert_eq!(requests, 1);
    let (outcome, _) = one(
        vec![Reply::Json(
            json!({"choices": [{"text": 5, "finish_reason": "stop"}]}),
        )],
        |_| {},
    );
    assert!(outcome
        .unwrap_err()
        .contains("`choices[0].text` is a number, not a string"));
    let (outcome, _) = one(
        vec![Reply::Json(
            json!({"choices": [{"text": "", "finish_reason": "stop", "token_ids": [1, "x"]}]}),
        )],
        |_| {},
    );
    assert!(outcome.unwrap_err().contains("not a token id"));
    let (outcome, _) = one(
        vec![Reply::Json(
            json!({"choices": [{"text": "a", "finish_reason": "stop", "token_ids": [99999]}]}),
        )],
        |_| {},
    );
    assert!(outcome.unwrap_err().contains("outside the tokenizer's"));
}

#[test]
fn huge_bodies_are_refused_while_reading() {
    let cap = |c: &mut thinkscope_remote::RemoteConfig| c.max_body_bytes = 1 << 20;
    // 100 MB without a length: refused after the first MiB.
    let (outcome, requests) = one(vec![Reply::Huge(100 << 20)], cap);
    assert!(outcome.unwrap_err().contains("larger than 1048576 bytes"));
    assert_eq!(requests, 1);
    // With a length: refused before reading.
    let (outcome, _) = one(vec![Reply::Raw(vec![b' '; 2 << 20])], cap);
    assert!(outcome.unwrap_err().contains("larger than"));
}

#[test]
fn hanging_responses_and_endless_bodies_time_out() {
    let short = |c: &mut thinkscope_remote::RemoteConfig| {
        c.timeout = Duration::from_millis(300);
        c.retry.retries = 1;
    };
    let started = Instant::now();
    let (outcome, requests) = one(vec![Reply::Hang, Reply::Hang], short);
    let err = outcome.unwrap_err();
    assert!(
        err.contains("timed out") && err.contains("gave up after 2 attempts"),
        "{err}"
    );
    assert_eq!(requests, 2);
    assert!(started.elapsed() < Duration::from_secs(4));
    let (outcome, _) = one(vec![Reply::Stall, Reply::Stall], short);
    assert!(outcome.unwrap_err().contains("timed out"));
}

#[test]
fn dropped_connections_are_retried() {
    let (outcome, requests) = one(vec![Reply::Drop, ok()], |_| {});
    assert!(outcome.is_ok());
    assert_eq!(requests, 2);
}

#[test]
fn a_server_gone_mid_run_fails_its_units_cleanly() {
    let mut server = FakeServer::start(false, vec![]);
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    server.stop();
    let jobs = vec![
        job(0, "z1", ThinkingPolicy::None, 50),
        job(1, "z1", ThinkingPolicy::None, 50),
    ];
    let out = run(&mut backend, jobs, &CancelToken::default());
    assert_eq!(out.finished.len(), 2);
    for (_, outcome) in out.finished {
        let err = outcome.unwrap_err();
        assert!(
            err.contains("cannot connect") && err.contains("/v1/completions"),
            "{err}"
        );
    }
}

#[test]
fn connection_refused_at_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tokenizer_dir();
    let mut config = thinkscope_remote::RemoteConfig::new(
        format!("http://127.0.0.1:{port}/v1"),
        dir.path().join("tokenizer.json"),
    );
    config.retry = thinkscope_remote::RetryPolicy {
        retries: 1,
        initial: Duration::from_millis(10),
        max: Duration::from_millis(10),
    };
    let err = connect(config).err().unwrap().to_string();
    assert!(
        err.contains("cannot connect") && err.contains("/v1/models"),
        "{err}"
    );
}

#[test]
fn cancel_ends_a_hanging_unit_at_once() {
    let server = FakeServer::start(false, vec![Reply::Hang]);
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let cancel = CancelToken::default();
    let trigger = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        trigger.cancel();
    });
    let started = Instant::now();
    let out = run(
        &mut backend,
        vec![
            job(0, "z1", ThinkingPolicy::None, 50),
            job(1, "z1", ThinkingPolicy::None, 50),
        ],
        &cancel,
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // The running unit reports its (empty) state, cancelled; the next is never pulled.
    assert_eq!(out.finished.len(), 1);
    assert_eq!(
        out.finished[0].1.as_ref().unwrap().stop_reason,
        StopReason::Cancelled
    );
}

#[test]
fn units_run_concurrently_up_to_the_limit() {
    let slow = || Reply::Delayed(Duration::from_millis(300), Box::new(ok()));
    let server = FakeServer::start(false, (0..5).map(|_| slow()).collect());
    let dir = tokenizer_dir();
    let mut config = config(&server, &dir);
    config.concurrency = 2;
    let mut backend = connect(config).unwrap();
    let jobs = (0..5)
        .map(|i| job(i, "z1", ThinkingPolicy::None, 50))
        .collect();
    let out = run(&mut backend, jobs, &CancelToken::default());
    let mut ids: Vec<usize> = out.finished.iter().map(|f| f.0).collect();
    ids.sort();
    assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    assert!(out.finished.iter().all(|f| f.1.is_ok()));
    assert_eq!(server.max_in_flight(), 2);
}

#[test]
fn the_api_key_is_sent_and_never_recorded() {
    let server = FakeServer::start(false, vec![ok()]);
    let dir = tokenizer_dir();
    let mut config = config(&server, &dir);
    config.api_key_env = "THINKSCOPE_REMOTE_TEST_KEY".into();
    std::env::set_var("THINKSCOPE_REMOTE_TEST_KEY", "sk-secret-123");
    let mut backend = connect(config).unwrap();
    let out = run(
        &mut backend,
        vec![job(0, "z1", ThinkingPolicy::None, 50)],
        &CancelToken::default(),
    );
    assert_eq!(
        server.authorization(),
        vec![Some("Bearer sk-secret-123".to_string())]
    );
    let provenance = backend.provenance();
    let recorded = format!("{:?} {:?}", provenance, out.finished[0].1);
    assert!(!recorded.contains("sk-secret"));
    assert_eq!(
        (provenance.engine.as_str(), provenance.model_name.as_str()),
        ("openai", "tiny")
    );
    assert_eq!(provenance.model_path, server.base);
    assert_eq!(
        (provenance.architecture.as_str(), provenance.device.as_str()),
        ("vllm", "vllm 0.0.0-test")
    );
}
