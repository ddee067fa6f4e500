use std::path::PathBuf;
use thinkscope_protocol::RowError;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    #[error("{path} is empty: there are no rows to import")]
    Empty { path: PathBuf },
    #[error("{path}: {message}")]
    Encoding { path: PathBuf, message: String },
    #[error("{path}: cannot tell the format from the name; pass --format jsonl|json|csv|parquet")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
    /// A row that could not be read or mapped, when bad rows are not skipped.
    #[error("{0} (nothing of this import was stored; --skip-bad-rows stores the other rows)")]
    BadRow(RowError),
    #[error("{path}: required column `{column}` (for field `{field}`) is missing; columns are: {columns}")]
    MissingColumn { path: PathBuf, field: String, column: String, columns: String },
    #[error(
        "{path}: unknown layout (columns: {columns}). Map the columns to fields, e.g. {suggestion}"
    )]
    UnknownSchema { path: PathBuf, columns: String, suggestion: String },
    #[error("{path}: every row was bad; nothing was stored. First: {first}")]
    NoGoodRows { path: PathBuf, first: RowError },
    #[error("import of {path} cancelled; nothing was stored")]
    Cancelled { path: PathBuf },
    #[error("tokenizer {path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] thinkscope_store::StoreError),
}
