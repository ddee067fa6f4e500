//! Wire types shared by every front end (wasm UI, Tauri shell, CLI `--json`) and the core.
//!
//! Only plain data lives here: no I/O, no dependencies beyond serde, so the crate builds
//! for `wasm32-unknown-unknown` as well as the host.

pub mod cancel;
pub mod eval;
pub mod generation;
pub mod library;
pub mod rng;

pub use library::*;

/// An error as a front end shows it: one readable message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}
