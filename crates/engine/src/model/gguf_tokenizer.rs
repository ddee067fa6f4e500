//! The tokenizer llama.cpp stores in a GGUF file, rebuilt as a Hugging Face tokenizer so
//! a lone `.gguf` file can be prompted. Byte-level BPE (`gpt2`) with the pre-tokenizers
//! of the families we run: Qwen2/Qwen3/R1-Distill-Qwen and Llama 3.

use candle_core::quantized::gguf_file::{Content, Value};
use serde_json::{json, Map};

/// The split regexes of those pre-tokenizers, as in their tokenizer.json files.
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// llama.cpp token types.
const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;
const UNUSED: i32 = 5;

/// What a GGUF file says about its tokenizer.
pub enum Embedded {
    Tokenizer(Box<tokenizers::Tokenizer>),
    /// There is one, but not of a kind rebuilt here (the reason says which).
    Unsupported(String),
    Absent,
}

fn strings<'a>(md: &'a std::collections::HashMap<String, Value>, key: &str) -> Result<Vec<&'a str>, String> {
    match md.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.to_string().map(String::as_str).map_err(|_| format!("`{key}` holds a non-string")))
            .collect(),
        _ => Err(format!("`{key}` is missing or not an array")),
    }
}

pub fn embedded(content: &Content) -> Embedded {
    match rebuild(content) {
        Ok(Some(t)) => Embedded::Tokenizer(Box::new(t)),
        Ok(None) => Embedded::Absent,
        Err(reason) => Embedded::Unsupported(reason),
    }
}

fn rebuild(content: &Content) -> Result<Option<tokenizers::Tokenizer>, String> {
    let md = &content.metadata;
    let Some(model) = md.get("tokenizer.ggml.model") else { return Ok(None) };
    let model = model.to_string().map_err(|_| "`tokenizer.ggml.model` is not a string".to_string())?;
    if model != "gpt2" {
        return Err(format!("its tokenizer is `{model}`; only byte-level BPE (`gpt2`) is rebuilt from GGUF"));
    }
    let pre = md.get("tokenizer.ggml.pre").and_then(|v| v.to_string().ok()).map_or("default", String::as_str);
    // (split regex, NFC normalizer, ignore_merges) as in each family's tokenizer.json.
    let (split, nfc, ignore_merges) = match pre {
        "qwen2" | "deepseek-r1-qwen" => (QWEN2_SPLIT, true, false),
        "llama-bpe" | "llama3" => (LLAMA3_SPLIT, false, true),
        other => return Err(format!("its pre-tokenizer `{other}` is not one thinkscope knows")),
    };
    let tokens = strings(md, "tokenizer.ggml.tokens")?;
    let merges = strings(md, "tokenizer.ggml.merges")?;
    let types: Vec<i32> = match md.get("tokenizer.ggml.token_type") {
        Some(Value::Array(items)) => items.iter().map(|v| v.to_i32().unwrap_or(1)).collect(),
        // Missing types read as normal tokens (the zip below pads with 1).
        _ => Vec::new(),
    };
    let mut vocab = Map::new();
    let mut added = Vec::new();
    for (id, (token, kind)) in tokens.iter().zip(types.iter().chain(std::iter::repeat(&1))).enumerate() {
        match *kind {
            CONTROL | USER_DEFINED => added.push(json!({
                "id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
                "normalized": false, "special": *kind == CONTROL,
            })),
            UNUSED => {}
            _ => {
                vocab.insert(token.to_string(), json!(id));
            }
        }
    }
    let spec = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": if nfc { json!({"type": "NFC"}) } else { json!(null) },
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
        ]},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
            "ignore_merges": ignore_merges, "vocab": vocab, "merges": merges,
        },
    });
    // Straight from the JSON value: no round trip through megabytes of text.
    serde_json::from_value::<tokenizers::Tokenizer>(spec).map(Some).map_err(|e| format!("its tokenizer does not load: {e}"))
}
