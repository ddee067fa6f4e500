//! Each thinking policy against a scripted server: the exact requests (prompt, max_tokens,
//! stop) and the report, which must be what the local engine makes of the same tokens.

mod support;

use serde_json::json;
use support::*;
use thinkscope_engine::CancelToken;
use thinkscope_protocol::generation::{
    BudgetForcing, Insertion, InsertionKind, ShiftedWindow, StopReason, ThinkingPolicy,
};

const MARK: &str = "<|im_start|>";

fn budget(max_thinking: usize, ignore_end: usize, max_answer: Option<usize>) -> ThinkingPolicy {
    ThinkingPolicy::BudgetForcing(BudgetForcing {
        max_thinking,
        ignore_end,
        max_answer,
        ..BudgetForcing::default()
    })
}

fn insertion(token_index: usize, text: &str, kind: InsertionKind) -> Insertion {
    Insertion {
        token_index,
        token_count: ids(text).len(),
        text: text.into(),
        kind,
    }
}

#[test]
fn end_of_thinking_before_the_budget_with_ignore_end_left_is_extended() {
    let server = FakeServer::start(
        false,
        vec![
            Reply::Json(
                json!({"choices": [{"text": "abc", "finish_reason": "stop", "stop_reason": MARK}]}),
            ),
            text("de", "stop"),
            text("\n42", "stop"),
        ],
    );
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let out = run(
        &mut backend,
        vec![job(0, "s1", budget(20, 1, None), 100)],
        &CancelToken::default(),
    );
    let p = s1_prompt();
    assert_eq!(
        asked(&server),
        vec![
            (p.clone(), 20, vec![MARK.to_string()]),
            (format!("{p}abcWait"), 13, vec![MARK.to_string()]),
            (format!("{p}abcWaitde<|im_start|>answer"), 84, vec![]),
        ]
    );
    let report = out.finished[0].1.as_ref().unwrap();
    // The EOS the server matched is kept, as the local engine keeps a sampled one.
    assert_eq!(report.text, "abcWaitde<|im_start|>answer\n42<|im_end|>");
    assert_eq!(report.token_ids, ids(&report.text));
    assert_eq!(
        (
            report.thinking_tokens,
            report.answer_tokens,
            report.answer_start
        ),
        (9, 4, Some(16))
    );
    assert_eq!(
        report.insertions,
        vec![
            insertion(3, "Wait", InsertionKind::Extend),
            insertion(9, "<|im_start|>answer", InsertionKind::End)
        ]
    );
    assert_eq!(report.stop_reason, StopReason::Eos);
    assert_eq!(
        (report.device.as_str(), report.dtype.as_str()),
        ("vllm 0.0.0-test", "tokenizer counts")
    );
    assert_eq!(report.prompt, p);
    assert_eq!(report.timings.decode_steps, 3);
    // Prompt once, then each insertion and each server token.
    assert_eq!(
        out.forward as usize,
        ids(&p).len() + report.token_ids.len() - 1
    );
}

#[test]
fn budget_reached_mid_extension_caps_and_the_answer_stops_for_length() {
    // The server returns ids, with the end-of-thinking token its text leaves out.
    let mut first = ids("abcd");
    first.push(257);
    let server = FakeServer::start(
        true,
        vec![
            with_ids("abcd", first, "stop", json!(MARK)),
            with_ids(" 7 is", ids(" 7 is"), "length", json!(null)),
        ],
    );
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    assert!(backend.server().token_ids);
    let out = run(
        &mut backend,
        vec![job(0, "s1", budget(6, 1, Some(5)), 100)],
        &CancelToken::default(),
    );
    let p = s1_prompt();
    let cap = "\n<|im_start|>answer\nFinal Answer:";
    assert_eq!(
        asked(&server),
        vec![
            (p.clone(), 6, vec![MARK.to_string()]),
            (format!("{p}abcdWa{cap}"), 5, vec![])
        ]
    );
    assert_eq!(server.completions()[0]["return_token_ids"], json!(true));
    let report = out.finished[0].1.as_ref().unwrap();
    assert_eq!(report.text, format!("abcdWa{cap} 7 is"));
    assert_eq!(report.token_ids, ids(&report.text));
    // "Wait" is cut to the two tokens left of the budget.
    assert_eq!(
        report.insertions,
        vec![
            insertion(4, "Wa", InsertionKind::Extend),
            insertion(6, cap, InsertionKind::Cap)
        ]
    );
    assert_eq!((report.thinking_tokens, report.answer_tokens), (6, 5));
    assert_eq!(report.answer_start, Some(6 + ids(cap).len()));
    assert_eq!(report.stop_reason, StopReason::Length);
    assert_eq!(report.dtype, "server token ids");
}

#[test]
fn an_end_token_left_in_the_text_is_caught_and_the_rest_dropped() {
    // This server ignores the stop string and keeps special tokens in its text.
    let server = FakeServer::start(
        false,
        vec![
            text("ab<|im_start|>answer\nX", "stop"),
            Reply::Json(
                json!({"choices": [{"text": "c", "finish_reason": "stop", "stop_reason": MARK}]}),
            ),
            text("ok", "stop"),
        ],
    );
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let out = run(
        &mut backend,
        vec![job(0, "s1", budget(50, 1, None), 100)],
        &CancelToken::default(),
    );
    let p = s1_prompt();
    assert_eq!(
        asked(&server),
        vec![
            (p.clone(), 50, vec![MARK.to_string()]),
            (format!("{p}abWait"), 44, vec![MARK.to_string()]),
            (format!("{p}abWaitc<|im_start|>answer"), 100 - 14, vec![]),
        ]
    );
    let report = out.finished[0].1.as_ref().unwrap();
    assert_eq!(report.text, "abWaitc<|im_start|>answerok<|im_end|>");
    assert_eq!(
        (
            report.thinking_tokens,
            report.answer_tokens,
            report.answer_start
        ),
        (7, 3, Some(14))
    );
}

#[test]
fn shifted_window_eos_inside_the_window_and_window_used_up() {
    let server = FakeServer::start(
        false,
        vec![
            text("xy", "stop"),
            text("0123456789", "length"),
            text("abc", "length"),
        ],
    );
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let window = ThinkingPolicy::ShiftedWindow(ShiftedWindow {
        window: 10,
        hint: "\nHINT\n".into(),
        max_answer: Some(3),
    });
    let out = run(
        &mut backend,
        vec![job(0, "z1", window.clone(), 100), job(1, "z1", window, 100)],
        &CancelToken::default(),
    );
    let z = z1_prompt();
    assert_eq!(
        asked(&server),
        vec![
            (z.clone(), 10, vec![]),
            (z.clone(), 10, vec![]),
            (format!("{z}0123456789\nHINT\n"), 3, vec![]),
        ]
    );
    let eos = out.finished[0].1.as_ref().unwrap();
    // The local engine counts an EOS inside the window as thinking and stops.
    assert_eq!(
        (
            eos.text.as_str(),
            eos.thinking_tokens,
            eos.answer_start,
            eos.stop_reason
        ),
        ("xy<|im_end|>", 3, None, StopReason::Eos)
    );
    let hinted = out.finished[1].1.as_ref().unwrap();
    assert_eq!(hinted.text, "0123456789\nHINT\nabc");
    assert_eq!(
        hinted.insertions,
        vec![insertion(10, "\nHINT\n", InsertionKind::Hint)]
    );
    assert_eq!(
        (
            hinted.thinking_tokens,
            hinted.answer_tokens,
            hinted.answer_start
        ),
        (10, 3, Some(16))
    );
    assert_eq!(hinted.stop_reason, StopReason::Length);
}

#[test]
fn policy_none_is_one_request_split_at_the_end_token() {
    let server = FakeServer::start(false, vec![text("think<|im_start|>answer\nA", "stop")]);
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let out = run(
        &mut backend,
        vec![job(0, "s1", ThinkingPolicy::None, 100)],
        &CancelToken::default(),
    );
    assert_eq!(asked(&server), vec![(s1_prompt(), 100, vec![])]);
    let report = out.finished[0].1.as_ref().unwrap();
    assert_eq!(report.text, "think<|im_start|>answer\nA<|im_end|>");
    assert_eq!(
        (
            report.thinking_tokens,
            report.answer_tokens,
            report.answer_start
        ),
        (5, 9, Some(6))
    );
    assert!(report.insertions.is_empty());
}

#[test]
fn followers_run_as_their_own_units() {
    let server = FakeServer::start(
        false,
        vec![
            text("abcd", "length"),
            text(" 1", "stop"),
            text("ab", "length"),
            text(" 2", "stop"),
        ],
    );
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let mut leader = job(0, "s1", budget(4, 0, None), 100);
    leader.followers = vec![(7, budget(2, 0, None))];
    let out = run(&mut backend, vec![leader], &CancelToken::default());
    let max_tokens: Vec<u64> = asked(&server).iter().map(|a| a.1).collect();
    assert_eq!((max_tokens[0], max_tokens[2]), (4, 2));
    let texts: Vec<(usize, String)> = out
        .finished
        .iter()
        .map(|(id, r)| (*id, r.as_ref().unwrap().text.clone()))
        .collect();
    assert_eq!(
        texts,
        vec![
            (
                0,
                "abcd\n<|im_start|>answer\nFinal Answer: 1<|im_end|>".to_string()
            ),
            (
                7,
                "ab\n<|im_start|>answer\nFinal Answer: 2<|im_end|>".to_string()
            ),
        ]
    );
}

#[test]
fn checks_refuse_what_cannot_run() {
    use thinkscope_eval::backend::Backend;
    let server = FakeServer::start(false, vec![]);
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    // z1 has no thinking phase to force.
    let err = backend
        .check(&job(0, "z1", budget(10, 0, None), 100))
        .unwrap_err();
    assert!(
        err.contains("budget forcing needs a template with a thinking phase"),
        "{err}"
    );
    assert!(backend
        .check(&job(0, "nope", ThinkingPolicy::None, 100))
        .unwrap_err()
        .contains("unknown template"));
    backend
        .check(&job(0, "s1", budget(10, 1, None), 100))
        .unwrap();
    let mut chat = config(&server, &dir);
    chat.api = thinkscope_remote::Api::Chat;
    let mut backend = connect(chat).unwrap();
    assert!(backend
        .check(&job(0, "s1", budget(10, 0, None), 100))
        .unwrap_err()
        .contains("policy none only"));
    backend
        .check(&job(0, "s1", ThinkingPolicy::None, 100))
        .unwrap();
}

#[test]
fn rejection_sampling_abandons_one_token_past_the_limit() {
    let server = FakeServer::start(false, vec![text("abcdef", "length")]);
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let mut try_once = job(0, "s1", budget(100, 0, None), 200);
    try_once.reject_above = Some(5);
    let out = run(&mut backend, vec![try_once], &CancelToken::default());
    assert_eq!(
        asked(&server),
        vec![(s1_prompt(), 6, vec![MARK.to_string()])]
    );
    let report = out.finished[0].1.as_ref().unwrap();
    assert_eq!(
        (report.thinking_tokens, report.stop_reason),
        (6, StopReason::OverBudget)
    );
}

#[test]
fn chat_puts_the_servers_reasoning_back_before_the_end_of_thinking() {
    let server = FakeServer::start(
        false,
        vec![
            Reply::Json(
                json!({"choices": [{"message": {"role": "assistant", "content": "42", "reasoning_content": "hmm"}, "finish_reason": "stop"}]}),
            ),
            Reply::Json(
                json!({"choices": [{"message": {"content": "cut"}, "finish_reason": "length"}]}),
            ),
        ],
    );
    let dir = tokenizer_dir();
    let mut chat = config(&server, &dir);
    chat.api = thinkscope_remote::Api::Chat;
    let mut backend = connect(chat).unwrap();
    let out = run(
        &mut backend,
        vec![
            job(0, "qwen3", ThinkingPolicy::None, 100),
            job(1, "qwen3", ThinkingPolicy::None, 3),
        ],
        &CancelToken::default(),
    );
    let bodies = server.completions();
    assert_eq!(
        bodies[0]["messages"],
        json!([{"role": "user", "content": "Q?"}])
    );
    assert_eq!(
        (bodies[0]["max_tokens"].as_u64(), bodies.len()),
        (Some(100), 2)
    );
    let report = out.finished[0].1.as_ref().unwrap();
    assert_eq!(report.text, "hmm</think>42<|im_end|>");
    assert_eq!(
        (
            report.thinking_tokens,
            report.answer_tokens,
            report.answer_start
        ),
        (3, 3, Some(4))
    );
    // A reply cut at max_tokens cannot be continued in chat: it ends there.
    let cut = out.finished[1].1.as_ref().unwrap();
    assert_eq!(
        (cut.text.as_str(), cut.stop_reason),
        ("cut", StopReason::Length)
    );
}

#[test]
fn a_user_stop_string_is_kept_as_the_local_engine_keeps_it() {
    let server = FakeServer::start(
        false,
        vec![Reply::Json(
            json!({"choices": [{"text": "abc", "finish_reason": "stop", "stop_reason": "STOP"}]}),
        )],
    );
    let dir = tokenizer_dir();
    let mut backend = connect(config(&server, &dir)).unwrap();
    let mut stopping = job(0, "z1", ThinkingPolicy::None, 100);
    stopping.sampling.stop_strings = vec!["STOP".into()];
    let out = run(&mut backend, vec![stopping], &CancelToken::default());
    assert_eq!(
        asked(&server),
        vec![(z1_prompt(), 100, vec!["STOP".to_string()])]
    );
    let report = out.finished[0].1.as_ref().unwrap();
    assert_eq!(
        (report.text.as_str(), report.stop_reason),
        ("abcSTOP", StopReason::StopString)
    );
}
