//! Content-derived ids: the same content gets the same id on every machine.

use sha2::{Digest, Sha256};

fn short_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(&h.finalize()[..16])
}

/// A dataset is its bytes read with one mapping: the same file mapped differently is
/// a different dataset.
pub fn dataset_id(content_hash: &str, schema: &str, mapping_json: &str) -> String {
    short_hash(&[content_hash.as_bytes(), schema.as_bytes(), mapping_json.as_bytes()])
}

pub fn sample_id(dataset_id: &str, row_index: u64) -> String {
    short_hash(&[dataset_id.as_bytes(), &row_index.to_le_bytes()])
}

/// A run: its plan's hash plus when and where it started (two runs of one plan stay two).
pub fn run_id(plan_hash: &str, nonce: &str) -> String {
    short_hash(&[b"run", plan_hash.as_bytes(), nonce.as_bytes()])
}

/// A prompt, by its text and packed token ids.
pub fn prompt_id(text: &str, packed_ids: &[u8]) -> String {
    short_hash(&[b"prompt", text.as_bytes(), packed_ids])
}

/// Any content as a hex digest (plans, fingerprints).
pub fn content_hash(parts: &[&[u8]]) -> String {
    short_hash(parts)
}
