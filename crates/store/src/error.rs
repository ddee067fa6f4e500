use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open library {path}: {source}")]
    Open { path: PathBuf, #[source] source: sqlx::Error },
    #[error("{path} is not a thinkscope library (not a SQLite database, or damaged): {detail}")]
    NotALibrary { path: PathBuf, detail: String },
    #[error(
        "{path} was written by a newer thinkscope (schema version {found}; this build knows up to {known}). \
         It was not modified; upgrade thinkscope to open it."
    )]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
    #[error(
        "{path} uses schema version {found} and needs migrating to {known}, \
         which a read-only open cannot do. Open it writable (or a copy of it)."
    )]
    NeedsMigration { path: PathBuf, found: i64, known: i64 },
    #[error("migrating {path} failed: {source}")]
    Migrate { path: PathBuf, #[source] source: sqlx::migrate::MigrateError },
    #[error("{path} is open read-only")]
    ReadOnly { path: PathBuf },
    #[error("no dataset named or with id `{0}`")]
    UnknownDataset(String),
    #[error("no sample with id `{0}`")]
    UnknownSample(String),
    #[error("sample id prefix `{0}` matches more than one sample; give more characters")]
    AmbiguousSample(String),
    #[error("no evaluation run with id or name `{0}`")]
    UnknownRun(String),
    #[error("run id prefix `{prefix}` matches {} runs: {}; give more characters", candidates.len(), candidates.join(", "))]
    AmbiguousRun { prefix: String, candidates: Vec<String> },
    #[error("run {run} has a damaged `{field}`: {detail}")]
    CorruptRun { run: String, field: &'static str, detail: String },
    #[error("search query `{query}` is not valid: {detail}")]
    BadSearch { query: String, detail: String },
    #[error("sample {sample} has a damaged `{field}` column: {detail}")]
    Corrupt { sample: String, field: &'static str, detail: String },
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
}

impl StoreError {
    /// Another connection held the write lock past the busy timeout (e.g. a long
    /// import): worth retrying later, not a fault.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(db))
            // Primary codes SQLITE_BUSY (5) and SQLITE_LOCKED (6), under sqlx's extended codes.
            if db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6)))
    }
}
