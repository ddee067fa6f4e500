//! Token-exact checks of the thinking policies with a scripted model.

mod support;

use support::{ScriptedModel, WordCodec};
use thinkscope_engine::generation::{
    BudgetForcing, GenerationReport, InsertionKind, SamplingParams, ShiftedWindow, StopReason,
    ThinkingPolicy,
};
use thinkscope_engine::template::ThinkingMarkers;
use thinkscope_engine::tokenizer::Codec;
use thinkscope_engine::{generate, CancelToken, Event, LanguageModel, Request};

const PROMPT: &str = "Q?<|im_start|>think";

struct Run {
    report: GenerationReport,
    model: ScriptedModel,
    codec: WordCodec,
    events: Vec<Event>,
}

fn request(codec: &WordCodec, policy: ThinkingPolicy, markers: Option<ThinkingMarkers>) -> Request {
    Request {
        prompt_text: PROMPT.into(),
        prompt_ids: codec.encode(PROMPT).unwrap(),
        markers,
        policy,
        sampling: SamplingParams::default(),
        eos_token_ids: vec![codec.id("<eos>")],
    }
}

fn run_with(script: &[&str], req: impl FnOnce(&WordCodec) -> Request) -> Run {
    let codec = WordCodec::default();
    let mut model = ScriptedModel::new(codec.ids(script), codec.vocab_size());
    let req = req(&codec);
    let mut events = Vec::new();
    let report = generate(&mut model, &codec, &req, &CancelToken::default(), &mut |e| events.push(e.clone()))
        .unwrap();
    Run { report, model, codec, events }
}

fn run(script: &[&str], policy: ThinkingPolicy) -> Run {
    run_with(script, |c| request(c, policy, Some(ThinkingMarkers::s1())))
}

fn bf(max_thinking: usize, f: impl FnOnce(&mut BudgetForcing)) -> ThinkingPolicy {
    let mut b = BudgetForcing { max_thinking, ..BudgetForcing::default() };
    f(&mut b);
    ThinkingPolicy::BudgetForcing(b)
}

impl Run {
    fn tokens(&self) -> Vec<u32> {
        self.report.token_ids.clone()
    }

    fn expect_tokens(&self, tokens: &[&str]) {
        assert_eq!(
            self.codec.decode(&self.report.token_ids).unwrap(),
            tokens.concat(),
            "output text"
        );
        assert_eq!(self.tokens(), self.codec.ids(tokens), "output tokens");
    }

    fn insertions(&self) -> Vec<(usize, usize, &str, InsertionKind)> {
        self.report
            .insertions
            .iter()
            .map(|i| (i.token_index, i.token_count, i.text.as_str(), i.kind))
            .collect()
    }

    /// The model was fed the prompt and every output token but the last, once each, in order.
    fn expect_fed_once(&self) {
        let mut all = self.report.prompt_token_ids.clone();
        all.extend(&self.report.token_ids[..self.report.token_ids.len() - 1]);
        assert_eq!(self.model.fed, all, "fed tokens");
        assert_eq!(self.model.stats().tokens as usize, all.len());
    }
}

#[test]
fn budget_forcing_natural_end_inserts_the_answer_delimiter() {
    let r = run(&["a", "b", "<|im_start|>", "c", "<eos>"], bf(100, |_| {}));
    r.expect_tokens(&["a", "b", "<|im_start|>", "answer", "c", "<eos>"]);
    assert_eq!(r.insertions(), vec![(2, 2, "<|im_start|>answer", InsertionKind::End)]);
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (2, 2));
    assert_eq!(r.report.answer_start, Some(4));
    assert_eq!(r.report.stop_reason, StopReason::Eos);
    r.expect_fed_once();
}

#[test]
fn end_token_as_the_very_first_token() {
    let r = run(&["<|im_start|>", "c", "<eos>"], bf(100, |_| {}));
    r.expect_tokens(&["<|im_start|>", "answer", "c", "<eos>"]);
    assert_eq!(r.report.thinking_tokens, 0);
    assert_eq!(r.insertions(), vec![(0, 2, "<|im_start|>answer", InsertionKind::End)]);
    r.expect_fed_once();

    // With ignore_end the first end token becomes "Wait" instead.
    let r = run(&["<|im_start|>", "a", "<|im_start|>", "c", "<eos>"], bf(100, |b| b.ignore_end = 1));
    r.expect_tokens(&["Wa", "it", "a", "<|im_start|>", "answer", "c", "<eos>"]);
    assert_eq!(
        r.insertions(),
        vec![(0, 2, "Wait", InsertionKind::Extend), (3, 2, "<|im_start|>answer", InsertionKind::End)]
    );
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (3, 2));
    r.expect_fed_once();
}

#[test]
fn eos_while_thinking_is_an_end_of_thinking_token() {
    let r = run(&["a", "<eos>", "c", "<eos>"], bf(100, |_| {}));
    r.expect_tokens(&["a", "<|im_start|>", "answer", "c", "<eos>"]);
    assert_eq!(r.report.thinking_tokens, 1);
}

#[test]
fn max_thinking_reached_in_the_middle_of_an_extension() {
    let r = run(&["a", "b", "<|im_start|>", "c", "<eos>"], bf(3, |b| b.ignore_end = 5));
    // "Wait" is cut to its first token; the cap follows with a newline first.
    r.expect_tokens(&[
        "a", "b", "Wa", "\n", "<|im_start|>", "answer", "\n", "Final", " Answer", ":", "c", "<eos>",
    ]);
    assert_eq!(
        r.insertions(),
        vec![
            (2, 1, "Wa", InsertionKind::Extend),
            (3, 7, "\n<|im_start|>answer\nFinal Answer:", InsertionKind::Cap)
        ]
    );
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (3, 2));
    assert_eq!(r.report.answer_start, Some(10));
    // The truncated extension and the cap went through one forward pass together.
    assert_eq!(r.model.stats().calls, 5);
    r.expect_fed_once();
}

#[test]
fn ignore_end_larger_than_the_budget_allows() {
    let script = ["a", "<|im_start|>", "<|im_start|>", "<|im_start|>", "c", "<eos>"];
    let r = run(&script, bf(6, |b| b.ignore_end = 10));
    r.expect_tokens(&[
        "a", "Wa", "it", "Wa", "it", "Wa", "\n", "<|im_start|>", "answer", "\n", "Final", " Answer", ":",
        "c", "<eos>",
    ]);
    let kinds: Vec<_> = r.report.insertions.iter().map(|i| (i.kind, i.token_count)).collect();
    assert_eq!(
        kinds,
        vec![
            (InsertionKind::Extend, 2),
            (InsertionKind::Extend, 2),
            (InsertionKind::Extend, 1),
            (InsertionKind::Cap, 7)
        ]
    );
    assert_eq!(r.report.thinking_tokens, 6);
    r.expect_fed_once();
}

#[test]
fn extension_strings_rotate() {
    let script = ["<|im_start|>", "<|im_start|>", "<|im_start|>", "<|im_start|>", "c", "<eos>"];
    let policy = bf(100, |b| {
        b.ignore_end = 3;
        b.extend_with = vec!["Wait".into(), "Hmm".into()];
    });
    let r = run(&script, policy);
    r.expect_tokens(&["Wa", "it", "Hmm", "Wa", "it", "<|im_start|>", "answer", "c", "<eos>"]);
    let texts: Vec<_> = r.report.insertions.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, vec!["Wait", "Hmm", "Wait", "<|im_start|>answer"]);
    assert_eq!(r.report.thinking_tokens, 5);
    r.expect_fed_once();
}

#[test]
fn min_thinking_suppresses_early_ends() {
    let script = ["a", "<eos>", "b", "<|im_start|>", "c", "<eos>", "x", "<eos>"];
    let r = run(&script, bf(100, |b| b.min_thinking = 5));
    // "a" (1), EOS → "Wait" (3), "b" (4), end → "Wait" (6): only then may thinking end.
    r.expect_tokens(&["a", "Wa", "it", "b", "Wa", "it", "c", "<|im_start|>", "answer", "x", "<eos>"]);
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (7, 2));
    assert_eq!(r.report.stop_reason, StopReason::Eos);
    r.expect_fed_once();
}

#[test]
fn min_thinking_above_max_thinking_is_rejected() {
    let codec = WordCodec::default();
    let mut model = ScriptedModel::new(vec![], codec.vocab_size());
    let req = request(&codec, bf(10, |b| b.min_thinking = 20), Some(ThinkingMarkers::s1()));
    let err = generate(&mut model, &codec, &req, &CancelToken::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "invalid setting: min_thinking (20) is larger than max_thinking (10)");
    assert_eq!(model.stats().calls, 0, "nothing ran");
}

#[test]
fn budget_forcing_without_thinking_markers_is_rejected() {
    let codec = WordCodec::default();
    let mut model = ScriptedModel::new(vec![], codec.vocab_size());
    let req = request(&codec, bf(10, |_| {}), None);
    let err = generate(&mut model, &codec, &req, &CancelToken::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("thinking phase"), "{err}");
}

#[test]
fn cap_skips_the_newline_when_text_already_ends_with_one() {
    let r = run(&["a", "\n", "c", "<eos>"], bf(2, |_| {}));
    r.expect_tokens(&["a", "\n", "<|im_start|>", "answer", "\n", "Final", " Answer", ":", "c", "<eos>"]);
    assert_eq!(r.insertions()[0], (2, 6, "<|im_start|>answer\nFinal Answer:", InsertionKind::Cap));
    r.expect_fed_once();
}

#[test]
fn zero_budget_caps_before_any_token_and_max_answer_stops() {
    let r = run(&["c", "c", "c"], bf(0, |b| b.max_answer = Some(2)));
    r.expect_tokens(&["\n", "<|im_start|>", "answer", "\n", "Final", " Answer", ":", "c", "c"]);
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (0, 2));
    assert_eq!(r.report.stop_reason, StopReason::Length);
    // The last sampled token is never fed back.
    r.expect_fed_once();
}

#[test]
fn custom_cap_text() {
    let r = run(&["a", "c", "<eos>"], bf(1, |b| b.cap_text = "Hmm".into()));
    r.expect_tokens(&["a", "\n", "<|im_start|>", "answer", "\n", "Hmm", "c", "<eos>"]);
}

fn window(window: usize) -> ThinkingPolicy {
    ThinkingPolicy::ShiftedWindow(ShiftedWindow { window, hint: "\nFinal Answer:".into(), max_answer: None })
}

#[test]
fn shifted_window_inserts_the_hint_after_the_window() {
    let r = run_with(&["a", "b", "c", "x", "<eos>"], |c| request(c, window(3), None));
    r.expect_tokens(&["a", "b", "c", "\n", "Final", " Answer", ":", "x", "<eos>"]);
    assert_eq!(r.insertions(), vec![(3, 4, "\nFinal Answer:", InsertionKind::Hint)]);
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (3, 2));
    assert_eq!(r.report.answer_start, Some(7));
    r.expect_fed_once();
}

#[test]
fn eos_inside_the_z1_window_is_the_whole_output() {
    let r = run_with(&["a", "<eos>"], |c| request(c, window(5), None));
    r.expect_tokens(&["a", "<eos>"]);
    assert!(r.report.insertions.is_empty());
    assert_eq!(r.report.stop_reason, StopReason::Eos);
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens), (2, 0));
    assert_eq!(r.report.answer_start, None);
    r.expect_fed_once();
}

#[test]
fn shifted_window_default_hint_is_z1s() {
    let r = run_with(&["a", "x", "<eos>"], |c| {
        request(c, ThinkingPolicy::ShiftedWindow(ShiftedWindow { window: 1, ..Default::default() }), None)
    });
    assert_eq!(r.report.insertions[0].text, "\n\nI overthought it, the final answer should be:\n\n");
    assert!(r.report.text.ends_with("should be:\n\nx<eos>"));
}

#[test]
fn no_policy_decodes_to_max_tokens_and_splits_phases_at_the_end_token() {
    let r = run_with(&["a", "b", "c", "d", "e"], |c| {
        let mut req = request(c, ThinkingPolicy::None, None);
        req.sampling.max_tokens = 4;
        req
    });
    r.expect_tokens(&["a", "b", "c", "d"]);
    assert_eq!(r.report.stop_reason, StopReason::Length);
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens, r.report.answer_start), (0, 4, Some(0)));

    let r = run(&["a", "b", "<|im_start|>", "c", "<eos>"], ThinkingPolicy::None);
    r.expect_tokens(&["a", "b", "<|im_start|>", "c", "<eos>"]);
    assert!(r.report.insertions.is_empty());
    assert_eq!((r.report.thinking_tokens, r.report.answer_tokens, r.report.answer_start), (2, 2, Some(3)));
}

#[test]
fn stop_strings_and_stop_tokens_end_generation() {
    let r = run_with(&["a", "H", "m", "m", "x"], |c| {
        let mut req = request(c, ThinkingPolicy::None, None);
        req.sampling.stop_strings = vec!["Hmm".into()];
        req
    });
    r.expect_tokens(&["a", "H", "m", "m"]);
    assert_eq!(r.report.stop_reason, StopReason::StopString);

    let r = run_with(&["a", "b", "c"], |c| {
        let mut req = request(c, ThinkingPolicy::None, None);
        req.sampling.stop_token_ids = vec![c.id("b")];
        req
    });
    r.expect_tokens(&["a", "b"]);
    assert_eq!(r.report.stop_reason, StopReason::StopToken);
}

#[test]
fn cancellation_stops_at_the_next_step() {
    let codec = WordCodec::default();
    let mut model = ScriptedModel::new(codec.ids(&["a", "b", "c", "d"]), codec.vocab_size());
    let req = request(&codec, ThinkingPolicy::None, None);
    let cancel = CancelToken::default();
    let mut seen = 0;
    let report = generate(&mut model, &codec, &req, &cancel, &mut |_| {
        seen += 1;
        if seen == 2 {
            cancel.cancel();
        }
    })
    .unwrap();
    assert_eq!(report.token_ids, codec.ids(&["a", "b"]));
    assert_eq!(report.stop_reason, StopReason::Cancelled);
}

#[test]
fn events_stream_the_same_text_and_insertions() {
    let r = run(&["a", "<|im_start|>", "b", "<|im_start|>", "c", "<eos>"], bf(100, |b| b.ignore_end = 1));
    let mut text = String::new();
    let mut inserted = Vec::new();
    for e in &r.events {
        match e {
            Event::Token { text: t, .. } => text.push_str(t),
            Event::Inserted { insertion, text: t } => {
                text.push_str(t);
                inserted.push(insertion.clone());
            }
        }
    }
    assert_eq!(text, r.report.text);
    assert_eq!(inserted, r.report.insertions);
    assert_eq!(r.report.text, "aWaitb<|im_start|>answerc<eos>");
}
