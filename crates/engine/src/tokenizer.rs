//! Text ↔ token ids. The decode loop only needs this trait, so tests can script a tokenizer.

use crate::error::{EngineError, Result};
use std::path::Path;

pub trait Codec {
    /// Tokenizes `text` as one string: special tokens are recognized, nothing (no BOS) is added.
    fn encode(&self, text: &str) -> Result<Vec<u32>>;
    /// Decodes ids, special tokens included.
    fn decode(&self, ids: &[u32]) -> Result<String>;
    /// The id of a token written exactly as `token`, if the vocabulary has one.
    fn token_id(&self, token: &str) -> Option<u32>;
}

/// A Hugging Face `tokenizer.json`.
pub struct HfTokenizer {
    inner: tokenizers::Tokenizer,
}

impl HfTokenizer {
    pub fn from_file(path: &Path) -> Result<HfTokenizer> {
        if !path.is_file() {
            return Err(EngineError::bad_file(path, "missing tokenizer.json"));
        }
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| EngineError::bad_file(path, format!("cannot read tokenizer: {e}")))?;
        Ok(HfTokenizer { inner })
    }

    pub fn new(inner: tokenizers::Tokenizer) -> HfTokenizer {
        HfTokenizer { inner }
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

impl Codec for HfTokenizer {
    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, false).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}

/// Turns a growing list of ids into text deltas. Only a short window is decoded each step
/// (as in transformers' TextStreamer), and text ending in an unfinished multi-byte
/// character is held back until it completes.
#[derive(Default, Clone)]
pub struct StreamDecoder {
    ids: Vec<u32>,
    prefix: usize,
    read: usize,
    text: String,
}

impl StreamDecoder {
    /// Adds ids and returns the newly completed text.
    pub fn push(&mut self, codec: &dyn Codec, ids: &[u32]) -> Result<String> {
        self.ids.extend_from_slice(ids);
        let before = codec.decode(&self.ids[self.prefix..self.read])?;
        let now = codec.decode(&self.ids[self.prefix..])?;
        if now.len() <= before.len() || now.ends_with('\u{FFFD}') || !now.starts_with(&before) {
            return Ok(String::new());
        }
        let delta = now[before.len()..].to_string();
        self.prefix = self.read;
        self.read = self.ids.len();
        self.text.push_str(&delta);
        Ok(delta)
    }

    /// The text released so far.
    pub fn text(&self) -> &str {
        &self.text
    }
}
