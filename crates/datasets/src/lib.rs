//! Reading reasoning datasets into the library.
//!
//! Data flow: file → [`read`] (format: rows as JSON objects, streamed) → [`schema`]
//! (known layout or user mapping → canonical [`NewSample`]) → [`import`] (one store
//! transaction, progress, cancellation). Nothing reads a whole file into memory.
//!
//! [`NewSample`]: thinkscope_store::NewSample

mod error;
mod import;
mod read;
mod schema;
mod tokens;

pub use error::ImportError;
pub use import::{import, preview, CancelToken};
pub use schema::known_schemas;
pub use tokens::{count_tokens, TokenSummary};
