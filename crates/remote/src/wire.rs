//! The OpenAI-compatible text-completion wire format, with the extensions servers offer for
//! exact token accounting. Responses are untrusted: every field is checked, and a missing
//! or mistyped one is an error naming it.

use serde_json::{json, Map, Value};
use thinkscope_protocol::generation::SamplingParams;

/// One completion request.
pub(crate) struct Ask<'a> {
    pub model: &'a str,
    pub prompt: &'a str,
    pub max_tokens: usize,
    pub stop: &'a [String],
    pub sampling: &'a SamplingParams,
    /// Ask for the generated token ids (vLLM `return_token_ids`, llama.cpp `return_tokens`).
    pub token_ids: bool,
}

pub(crate) fn completion_body(ask: &Ask<'_>) -> Value {
    let mut body = json!({
        "model": ask.model,
        "prompt": ask.prompt,
        "max_tokens": ask.max_tokens,
        "stop": ask.stop,
        "n": 1,
        "stream": false,
        // The end of thinking is often a special token: keep it in the text.
        "skip_special_tokens": false,
        "spaces_between_special_tokens": false,
    });
    let map = body.as_object_mut().expect("an object");
    sampling_fields(map, ask.sampling);
    if ask.token_ids {
        map.insert("return_token_ids".into(), json!(true));
        map.insert("return_tokens".into(), json!(true));
    }
    body
}

/// A chat request (policy `none`: the server templates the conversation).
pub(crate) fn chat_body(
    model: &str,
    system: Option<&str>,
    user: &str,
    max_tokens: usize,
    sampling: &SamplingParams,
) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": user}));
    let mut body = json!({
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "stop": sampling.stop_strings,
        "n": 1,
        "stream": false,
        "skip_special_tokens": false,
    });
    sampling_fields(body.as_object_mut().expect("an object"), sampling);
    body
}

/// Sampling settings; the non-OpenAI ones only when they change something, so strict
/// servers see them only when they matter.
fn sampling_fields(map: &mut Map<String, Value>, s: &SamplingParams) {
    map.insert("temperature".into(), json!(s.temperature));
    map.insert("top_p".into(), json!(s.top_p));
    if s.top_k > 0 {
        map.insert("top_k".into(), json!(s.top_k));
    }
    if s.min_p > 0.0 {
        map.insert("min_p".into(), json!(s.min_p));
    }
    if s.repetition_penalty != 1.0 {
        map.insert("repetition_penalty".into(), json!(s.repetition_penalty));
    }
    if s.frequency_penalty != 0.0 {
        map.insert("frequency_penalty".into(), json!(s.frequency_penalty));
    }
    if !s.stop_token_ids.is_empty() {
        map.insert("stop_token_ids".into(), json!(s.stop_token_ids));
    }
    // Greedy decoding needs no seed; sampled runs are reproducible only with one.
    if s.temperature > 0.0 {
        map.insert("seed".into(), json!(s.seed));
    }
}

/// What a completion returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Completion {
    pub text: String,
    /// The generated ids, when the server returned them.
    pub ids: Option<Vec<u32>>,
    pub finish: Finish,
    /// Chat only: the server's separated reasoning (`reasoning_content` / `reasoning`).
    pub reasoning: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finish {
    /// `max_tokens` (or the server's own limit).
    Length,
    /// EOS or a stop condition; what matched, when the server says (vLLM `stop_reason`,
    /// SGLang `matched_stop`, llama.cpp `stopping_word`).
    Stop(Option<Matched>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matched {
    Text(String),
    Token(u32),
}

pub(crate) fn parse_completion(v: &Value) -> Result<Completion, String> {
    let choice = first_choice(v)?;
    let text = match &choice["text"] {
        Value::String(s) => s.clone(),
        other => {
            return Err(format!(
                "`choices[0].text` is {}, not a string",
                kind(other)
            ))
        }
    };
    let ids = match (&choice["token_ids"], &choice["tokens"], &v["tokens"]) {
        (Value::Null, Value::Null, Value::Null) => None,
        (Value::Null, Value::Null, ids) | (Value::Null, ids, _) | (ids, _, _) => {
            Some(token_list(ids)?)
        }
    };
    let finish = finish(choice, v)?;
    Ok(Completion {
        text,
        ids,
        finish,
        reasoning: None,
    })
}

pub(crate) fn parse_chat(v: &Value) -> Result<Completion, String> {
    let choice = first_choice(v)?;
    let message = &choice["message"];
    let text = match &message["content"] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => {
            return Err(format!(
                "`choices[0].message.content` is {}, not a string",
                kind(other)
            ))
        }
    };
    let reasoning = match (&message["reasoning_content"], &message["reasoning"]) {
        (Value::String(s), _) | (Value::Null, Value::String(s)) => Some(s.clone()),
        (Value::Null, Value::Null) => None,
        (other, _) => {
            return Err(format!(
                "the message's reasoning is {}, not a string",
                kind(other)
            ))
        }
    };
    Ok(Completion {
        text,
        ids: None,
        finish: finish(choice, v)?,
        reasoning,
    })
}

fn first_choice(v: &Value) -> Result<&Value, String> {
    match &v["choices"] {
        Value::Array(items) if !items.is_empty() => Ok(&items[0]),
        Value::Array(_) => Err("the response has no choices".into()),
        other => Err(format!("`choices` is {}, not a list", kind(other))),
    }
}

fn finish(choice: &Value, v: &Value) -> Result<Finish, String> {
    match choice["finish_reason"].as_str() {
        Some("length") => Ok(Finish::Length),
        Some("stop" | "eos" | "stop_sequence") => {
            let matched = [
                &choice["stop_reason"],
                &choice["matched_stop"],
                &choice["stopping_word"],
                &v["stopping_word"],
            ]
            .into_iter()
            .find_map(|m| match m {
                Value::String(s) if !s.is_empty() => Some(Matched::Text(s.clone())),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|id| u32::try_from(id).ok())
                    .map(Matched::Token),
                _ => None,
            });
            Ok(Finish::Stop(matched))
        }
        Some(other) => Err(format!(
            "the server ended the completion with finish_reason `{other}`"
        )),
        None => Err(format!(
            "`choices[0].finish_reason` is {}, not a string",
            kind(&choice["finish_reason"])
        )),
    }
}

fn token_list(v: &Value) -> Result<Vec<u32>, String> {
    let Value::Array(items) = v else {
        return Err(format!("the token ids are {}, not a list", kind(v)));
    };
    items
        .iter()
        .map(|i| {
            i.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("token id {i} is not a token id"))
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "missing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vllm_sglang_and_llama_cpp_shapes() {
        let vllm = json!({"choices": [{"text": "ab", "token_ids": [97, 98, 257], "finish_reason": "stop", "stop_reason": "<|im_start|>"}]});
        let c = parse_completion(&vllm).unwrap();
        assert_eq!(c.ids, Some(vec![97, 98, 257]));
        assert_eq!(
            c.finish,
            Finish::Stop(Some(Matched::Text("<|im_start|>".into())))
        );
        let sglang =
            json!({"choices": [{"text": "ab", "finish_reason": "stop", "matched_stop": 258}]});
        assert_eq!(
            parse_completion(&sglang).unwrap().finish,
            Finish::Stop(Some(Matched::Token(258)))
        );
        let llama =
            json!({"choices": [{"text": "ab", "finish_reason": "length"}], "tokens": [97, 98]});
        let c = parse_completion(&llama).unwrap();
        assert_eq!((c.ids, c.finish), (Some(vec![97, 98]), Finish::Length));
        let plain =
            json!({"choices": [{"text": "ab", "finish_reason": "stop", "stop_reason": null}]});
        assert_eq!(parse_completion(&plain).unwrap().finish, Finish::Stop(None));
    }

    #[test]
    fn wrong_shapes_are_named() {
        let bad = |v: Value| parse_completion(&v).unwrap_err();
        assert_eq!(
            bad(json!({"choices": [{"text": 5, "finish_reason": "stop"}]})),
            "`choices[0].text` is a number, not a string"
        );
        assert_eq!(bad(json!({"choices": []})), "the response has no choices");
        assert_eq!(
            bad(json!({"object": "error"})),
            "`choices` is missing, not a list"
        );
        assert!(bad(
            json!({"choices": [{"text": "", "finish_reason": "stop", "token_ids": [-1]}]})
        )
        .contains("not a token id"));
        assert!(
            bad(json!({"choices": [{"text": "", "finish_reason": "abort"}]})).contains("`abort`")
        );
        assert!(bad(json!({"choices": [{"text": ""}]})).contains("finish_reason"));
    }

    #[test]
    fn sampling_extensions_only_when_set() {
        let greedy = SamplingParams::default();
        let ask = Ask {
            model: "m",
            prompt: "p",
            max_tokens: 7,
            stop: &[],
            sampling: &greedy,
            token_ids: false,
        };
        let body = completion_body(&ask);
        for absent in [
            "seed",
            "top_k",
            "min_p",
            "repetition_penalty",
            "return_token_ids",
        ] {
            assert!(body.get(absent).is_none(), "{absent}");
        }
        assert_eq!(body["skip_special_tokens"], json!(false));
        let sampled = SamplingParams {
            temperature: 0.6,
            top_k: 20,
            seed: 9,
            ..SamplingParams::default()
        };
        let body = completion_body(&Ask {
            sampling: &sampled,
            token_ids: true,
            ..ask
        });
        assert_eq!(
            (body["seed"].as_u64(), body["top_k"].as_u64()),
            (Some(9), Some(20))
        );
        assert_eq!(body["return_token_ids"], json!(true));
    }
}
