//! Token counts of stored texts under a Hugging Face `tokenizer.json`.

use crate::ImportError;
use sha2::{Digest, Sha256};
use std::path::Path;
use thinkscope_store::{Store, TokenCountRow};

/// What a counting run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenSummary {
    pub tokenizer: String,
    pub texts: u64,
    pub tokens: u64,
}

/// Counts every question, answer, solution and trace of a dataset and stores the counts
/// under `name` (default: the tokenizer's folder name). Special tokens are not added:
/// s1 measures thinking length as the bare token count of the trace.
pub async fn count_tokens(store: &Store, dataset: &str, tokenizer_json: &Path, name: Option<&str>) -> Result<TokenSummary, ImportError> {
    let err = |message: String| ImportError::Tokenizer { path: tokenizer_json.to_owned(), message };
    let bytes = std::fs::read(tokenizer_json).map_err(|e| err(e.to_string()))?;
    let tokenizer = tokenizers::Tokenizer::from_bytes(&bytes).map_err(|e| err(format!("not a valid tokenizer.json: {e}")))?;
    let id = hex::encode(&Sha256::digest(&bytes)[..16]);
    let name = name.map(str::to_string).unwrap_or_else(|| {
        tokenizer_json
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| "tokenizer".into(), |n| n.to_string_lossy().into_owned())
    });
    let dataset = store.find_dataset(dataset).await?;
    let texts = store.texts_for_counting(&dataset.id).await?;
    let rows = tokio::task::spawn_blocking(move || {
        texts
            .into_iter()
            .map(|(sample_id, field, text)| {
                let enc = tokenizer.encode_fast(text.as_str(), false).map_err(|e| e.to_string())?;
                Ok(TokenCountRow { sample_id, field, tokens: enc.len() as u64 })
            })
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .expect("tokenizer task")
    .map_err(err)?;
    store.record_token_counts(&id, &name, &rows).await?;
    Ok(TokenSummary { tokenizer: name, texts: rows.len() as u64, tokens: rows.iter().map(|r| r.tokens).sum() })
}
