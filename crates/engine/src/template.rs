//! Prompt templates: the model's own Jinja chat template, or the exact s1 / Z1 / R1 / Qwen3
//! strings, plus the thinking markers each implies.

use crate::error::{EngineError, Result};
use minijinja::{context, Environment, Error as JinjaError, ErrorKind};
use serde_json::Value;
use std::path::Path;
use thinkscope_protocol::generation::PromptCondition;

pub const S1_SYSTEM: &str = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemplateKind {
    #[default]
    Auto,
    S1,
    Z1,
    R1,
    Qwen3,
}

impl std::str::FromStr for TemplateKind {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(TemplateKind::Auto),
            "s1" => Ok(TemplateKind::S1),
            "z1" => Ok(TemplateKind::Z1),
            "r1" => Ok(TemplateKind::R1),
            "qwen3" => Ok(TemplateKind::Qwen3),
            other => Err(EngineError::Invalid(format!(
                "unknown template `{other}` (auto, s1, z1, r1, qwen3)"
            ))),
        }
    }
}

/// How thinking ends under a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinkingMarkers {
    /// The token a model emits to end thinking (besides EOS).
    pub end_token: String,
    /// What is inserted to close thinking and open the answer.
    pub delimiter: String,
}

impl ThinkingMarkers {
    pub fn s1() -> ThinkingMarkers {
        ThinkingMarkers { end_token: "<|im_start|>".into(), delimiter: "<|im_start|>answer".into() }
    }

    pub fn think_tags() -> ThinkingMarkers {
        ThinkingMarkers { end_token: "</think>".into(), delimiter: "</think>".into() }
    }
}

/// A rendered prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    /// `None`: the template has no thinking phase (e.g. `z1`).
    pub thinking: Option<ThinkingMarkers>,
}

/// What a model ships for templating (tokenizer_config.json or GGUF metadata).
#[derive(Debug, Clone, Default)]
pub struct ChatTemplateSource {
    pub chat_template: Option<String>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

impl ChatTemplateSource {
    pub fn from_tokenizer_config(path: &Path) -> Result<ChatTemplateSource> {
        let text = std::fs::read_to_string(path).map_err(|e| EngineError::io(path, e))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| EngineError::bad_file(path, format!("not valid JSON: {e}")))?;
        let chat_template = match &v["chat_template"] {
            Value::String(s) => Some(s.clone()),
            // A list of named templates: take the default one.
            Value::Array(items) => items
                .iter()
                .find(|t| t["name"] == "default")
                .or_else(|| items.first())
                .and_then(|t| t["template"].as_str())
                .map(str::to_string),
            _ => None,
        };
        Ok(ChatTemplateSource {
            chat_template,
            bos_token: token_text(&v["bos_token"]),
            eos_token: token_text(&v["eos_token"]),
        })
    }
}

/// Special tokens appear as a string or as `{"content": ...}`.
fn token_text(v: &Value) -> Option<String> {
    v.as_str().or_else(|| v["content"].as_str()).map(str::to_string)
}

/// s1's prompt-conditional length instructions, appended to the question.
pub fn condition_instruction(condition: &PromptCondition) -> Option<String> {
    match condition {
        PromptCondition::None => None,
        PromptCondition::Tokens(n) => Some(format!("Think for up to {n} tokens.")),
        PromptCondition::Steps(n) => Some(format!("Think for up to {n} steps.")),
        PromptCondition::Short => Some(
            "Answer after a short amount of thinking. Do not spend excessive time double-checking your work."
                .into(),
        ),
        PromptCondition::Long => Some(
            "Answer after a long amount of thinking. If you feel like you are finished early, spend the extra time trying to double-check your work until you are absolutely sure that you have the correct answer."
                .into(),
        ),
    }
}

pub fn render(
    kind: TemplateKind,
    source: &ChatTemplateSource,
    system: Option<&str>,
    question: &str,
    condition: &PromptCondition,
) -> Result<Prompt> {
    let question = match condition_instruction(condition) {
        Some(instruction) => format!("{question}\n\n{instruction}"),
        None => question.to_string(),
    };
    let q = question.as_str();
    Ok(match kind {
        TemplateKind::S1 => Prompt {
            text: format!(
                "<|im_start|>system\n{}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n<|im_start|>think",
                system.unwrap_or(S1_SYSTEM)
            ),
            thinking: Some(ThinkingMarkers::s1()),
        },
        TemplateKind::Z1 => Prompt {
            text: format!(
                "<|im_start|>system\n{}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n",
                system.unwrap_or("Please reason step by step.")
            ),
            thinking: None,
        },
        TemplateKind::R1 => Prompt {
            text: format!(
                "{}{}<｜User｜>{q}<｜Assistant｜><think>\n",
                source.bos_token.as_deref().unwrap_or(""),
                system.unwrap_or("")
            ),
            thinking: Some(ThinkingMarkers::think_tags()),
        },
        TemplateKind::Qwen3 => {
            let system = system
                .map(|s| format!("<|im_start|>system\n{s}<|im_end|>\n"))
                .unwrap_or_default();
            Prompt {
                text: format!("{system}<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n<think>\n"),
                thinking: Some(ThinkingMarkers::think_tags()),
            }
        }
        TemplateKind::Auto => {
            let template = source.chat_template.as_deref().ok_or_else(|| {
                EngineError::Template(
                    "the model has no chat_template (tokenizer_config.json); pick --template s1, z1, r1 or qwen3".into(),
                )
            })?;
            let text = render_jinja(template, source, system, q)?;
            Prompt { thinking: auto_markers(template, &text), text }
        }
    })
}

/// Thinking markers implied by a model's own template and its rendered prompt.
fn auto_markers(template: &str, rendered: &str) -> Option<ThinkingMarkers> {
    if rendered.ends_with("<|im_start|>think") {
        Some(ThinkingMarkers::s1())
    } else if template.contains("</think>") || rendered.trim_end().ends_with("<think>") {
        Some(ThinkingMarkers::think_tags())
    } else {
        None
    }
}

/// Renders a Hugging Face chat template as transformers does (jinja2 with trim_blocks and
/// lstrip_blocks, Python string methods, `raise_exception`, `strftime_now`, `tojson`).
pub fn render_jinja(
    template: &str,
    source: &ChatTemplateSource,
    system: Option<&str>,
    question: &str,
) -> Result<String> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    minijinja_contrib::add_to_environment(&mut env);
    env.add_function("raise_exception", |message: String| -> Result<String, JinjaError> {
        Err(JinjaError::new(ErrorKind::InvalidOperation, message))
    });
    env.add_function("strftime_now", |format: String| strftime_now(&format));
    env.add_filter("tojson", tojson);
    env.add_template("chat", template)
        .map_err(|e| EngineError::Template(format!("cannot parse chat_template: {e:#}")))?;
    let mut messages = Vec::new();
    if let Some(system) = system {
        messages.push(context! { role => "system", content => system });
    }
    messages.push(context! { role => "user", content => question });
    let tmpl = env.get_template("chat").map_err(|e| EngineError::Template(e.to_string()))?;
    tmpl.render(context! {
        messages => messages,
        add_generation_prompt => true,
        bos_token => source.bos_token.clone().unwrap_or_default(),
        eos_token => source.eos_token.clone().unwrap_or_default(),
    })
    .map_err(|e| EngineError::Template(format!("cannot render chat_template: {e:#}")))
}

/// transformers' `tojson`: `json.dumps` with Python's separators, key order kept and no
/// HTML escaping.
fn tojson(value: minijinja::Value, kwargs: minijinja::value::Kwargs) -> Result<String, JinjaError> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let mut out = String::new();
    write_json(&value, indent, 0, &mut out)?;
    Ok(out)
}

fn write_json(
    v: &minijinja::Value,
    indent: Option<usize>,
    depth: usize,
    out: &mut String,
) -> Result<(), JinjaError> {
    use minijinja::value::ValueKind;
    let newline = |out: &mut String, depth: usize| {
        if let Some(width) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(width * depth));
        }
    };
    let separator = if indent.is_some() { "," } else { ", " };
    let kind = v.kind();
    if matches!(kind, ValueKind::Seq | ValueKind::Map) {
        let (open, close) = if kind == ValueKind::Seq { ('[', ']') } else { ('{', '}') };
        out.push(open);
        let items: Vec<minijinja::Value> = v.try_iter()?.collect();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            newline(out, depth + 1);
            if kind == ValueKind::Map {
                out.push_str(&Value::String(item.to_string()).to_string());
                out.push_str(": ");
                write_json(&v.get_item(item)?, indent, depth + 1, out)?;
            } else {
                write_json(item, indent, depth + 1, out)?;
            }
        }
        if !items.is_empty() {
            newline(out, depth);
        }
        out.push(close);
    } else {
        let json = serde_json::to_value(v)
            .map_err(|e| JinjaError::new(ErrorKind::InvalidOperation, e.to_string()))?;
        out.push_str(&json.to_string());
    }
    Ok(())
}

/// Python's `strftime` for the directives chat templates use, in local time.
fn strftime_now(format: &str) -> String {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    strftime(now, format)
}

fn strftime(t: time::OffsetDateTime, format: &str) -> String {
    let month = t.month();
    let month_name = format!("{month}");
    let weekday = format!("{}", t.weekday());
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&t.year().to_string()),
            Some('y') => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
            Some('m') => out.push_str(&format!("{:02}", u8::from(month))),
            Some('d') => out.push_str(&format!("{:02}", t.day())),
            Some('e') => out.push_str(&format!("{:>2}", t.day())),
            Some('B') => out.push_str(&month_name),
            Some('b') => out.push_str(&month_name[..3]),
            Some('A') => out.push_str(&weekday),
            Some('a') => out.push_str(&weekday[..3]),
            Some('H') => out.push_str(&format!("{:02}", t.hour())),
            Some('M') => out.push_str(&format!("{:02}", t.minute())),
            Some('S') => out.push_str(&format!("{:02}", t.second())),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The chat template Qwen2.5 models ship (abridged to its non-tool branches).
    const QWEN25: &str = r#"{%- if messages[0]['role'] == 'system' %}
    {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
{%- else %}
    {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;

    #[test]
    fn s1_template_is_exact() {
        let p = render(TemplateKind::S1, &Default::default(), None, "1+1?", &PromptCondition::None)
            .unwrap();
        assert_eq!(
            p.text,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\n1+1?<|im_end|>\n<|im_start|>assistant\n<|im_start|>think"
        );
        assert_eq!(p.thinking, Some(ThinkingMarkers::s1()));
    }

    #[test]
    fn z1_template_is_exact_and_has_no_thinking_markers() {
        let p = render(TemplateKind::Z1, &Default::default(), None, "Q", &PromptCondition::None)
            .unwrap();
        assert_eq!(
            p.text,
            "<|im_start|>system\nPlease reason step by step.<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(p.thinking, None);
    }

    #[test]
    fn r1_template_starts_with_bos_and_opens_think() {
        let source = ChatTemplateSource {
            bos_token: Some("<｜begin▁of▁sentence｜>".into()),
            ..Default::default()
        };
        let p = render(TemplateKind::R1, &source, None, "Q", &PromptCondition::Tokens(512)).unwrap();
        assert_eq!(
            p.text,
            "<｜begin▁of▁sentence｜><｜User｜>Q\n\nThink for up to 512 tokens.<｜Assistant｜><think>\n"
        );
    }

    #[test]
    fn qwen25_chat_template_renders_like_transformers() {
        let source = ChatTemplateSource { chat_template: Some(QWEN25.into()), ..Default::default() };
        let p = render(TemplateKind::Auto, &source, None, "Hi", &PromptCondition::None).unwrap();
        assert_eq!(
            p.text,
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(p.thinking, None);
        let p = render(TemplateKind::Auto, &source, Some("Be brief."), "Hi", &PromptCondition::None)
            .unwrap();
        assert!(p.text.starts_with("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"));
    }

    #[test]
    fn python_methods_and_hf_globals_work() {
        let template = "{{ bos_token }}{% for m in messages %}{{ m.content.strip().split(' ')[-1] | upper }}{% endfor %}{{ {'a': 1} | tojson }}{% if strftime_now('%Y') | length != 4 %}{{ raise_exception('bad year') }}{% endif %}";
        let source = ChatTemplateSource { bos_token: Some("<s>".into()), ..Default::default() };
        let text = render_jinja(template, &source, None, "  hello world  ").unwrap();
        assert_eq!(text, "<s>WORLD{\"a\": 1}");
    }

    #[test]
    fn tojson_matches_python_json_dumps() {
        let text = render_jinja(
            "{{ {'name': 'f', 'args': [1, 'x<y']} | tojson }}|{{ [1] | tojson(indent=2) }}",
            &Default::default(),
            None,
            "q",
        )
        .unwrap();
        assert_eq!(text, "{\"name\": \"f\", \"args\": [1, \"x<y\"]}|[\n  1\n]");
    }

    #[test]
    fn raise_exception_becomes_a_template_error() {
        let err = render_jinja("{{ raise_exception('no system role') }}", &Default::default(), None, "q")
            .unwrap_err();
        assert!(err.to_string().contains("no system role"), "{err}");
    }

    #[test]
    fn strftime_formats_like_python() {
        let t = time::macros::datetime!(2024-07-26 09:05:03 UTC);
        assert_eq!(strftime(t, "%d %b %Y"), "26 Jul 2024");
        assert_eq!(strftime(t, "%A %H:%M:%S %%"), "Friday 09:05:03 %");
    }
}
