//! The thinkscope library file: one SQLite database holding datasets, samples, traces,
//! token counts and a full-text index. Headless: the app and the CLI share this API.
//!
//! Invariants kept here:
//! - migrations run at open on a writable file; a file written by a newer schema, or a
//!   read-only file that needs migrating, is refused and never modified;
//! - an import is one transaction: it lands whole or not at all;
//! - search sees a dataset's first `indexed_rows` rows; the index is built after the
//!   import commits (`build_search_index`), a chunk per transaction;
//! - ids are content-derived, so re-importing the same content is a no-op;
//! - generations are written only by `write_generations`, each unit whole and at most
//!   once (a failed unit may be replaced by its retry, a finished one never).

mod error;
mod ids;
mod index;
mod open;
mod original;
mod packed;
mod query;
mod runs;
mod scores;
mod search;
mod write;

pub use error::StoreError;
pub use ids::{content_hash, dataset_id, sample_id};
pub use open::OpenMode;
pub use runs::{NewGeneration, NewRun, UnitKey};
pub use scores::{compare_versions, NewScore, ScoreRecord, UnitLengths};
pub use write::{ImportStart, ImportTx, NewDataset, NewSample, NewTrace, TokenCountRow};

use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use thinkscope_protocol::LibraryInfo;

/// A handle on one library file. Cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    read_only: bool,
    schema_version: i64,
}

impl Store {
    /// The library file to use: `explicit`, else `$THINKSCOPE_DB`, else the OS data dir
    /// (`$XDG_DATA_HOME/thinkscope/thinkscope.db` on Linux).
    pub fn resolve_path(explicit: Option<PathBuf>) -> PathBuf {
        explicit
            .or_else(|| std::env::var_os("THINKSCOPE_DB").filter(|v| !v.is_empty()).map(PathBuf::from))
            .unwrap_or_else(open::default_path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn info(&self) -> LibraryInfo {
        LibraryInfo {
            path: self.path.display().to_string(),
            read_only: self.read_only,
            schema_version: self.schema_version,
        }
    }

    /// Waits for in-flight work and closes every connection (checkpointing the WAL).
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Copies committed pages from the WAL into the file, without waiting for readers
    /// (what SQLite's automatic checkpoint would do; it is off, see `open`). Runs after a
    /// commit, so a failure only leaves pages in the WAL for the next one: logged.
    async fn checkpoint(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await {
            tracing::warn!("checkpointing {}: {e}", self.path.display());
        }
    }

    fn ensure_writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            Err(StoreError::ReadOnly { path: self.path.clone() })
        } else {
            Ok(())
        }
    }
}

/// Current time as RFC 3339 UTC, the format every timestamp in the file uses.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formatting of the current time")
}
