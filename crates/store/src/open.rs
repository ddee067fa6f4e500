//! Opening a library file: pragmas, migrations, and the refusals that protect the file.

use crate::{Store, StoreError};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create if missing, migrate to the current schema.
    ReadWrite,
    /// Never write: a colleague's file, or one on read-only media.
    ReadOnly,
}

pub(crate) fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("thinkscope").join("thinkscope.db")
}

fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Highest migration applied to the file; 0 for a fresh file.
async fn applied_version(conn: &mut SqliteConnection, path: &Path) -> Result<i64, StoreError> {
    let not_a_library = |e: sqlx::Error| StoreError::NotALibrary { path: path.to_owned(), detail: e.to_string() };
    let has_table: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(not_a_library)?;
    if has_table.is_none() {
        let other: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master")
            .fetch_one(&mut *conn)
            .await
            .map_err(not_a_library)?;
        if other > 0 {
            return Err(StoreError::NotALibrary {
                path: path.to_owned(),
                detail: "it is a SQLite database, but holds no thinkscope schema".into(),
            });
        }
        return Ok(0);
    }
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(not_a_library)?;
    Ok(v.unwrap_or(0))
}

impl Store {
    pub async fn open(path: impl AsRef<Path>, mode: OpenMode) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let read_only = mode == OpenMode::ReadOnly;
        if read_only && !path.exists() {
            return Err(StoreError::Open {
                path,
                source: sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")),
            });
        }
        if !read_only {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Open { path: path.clone(), source: e.into() })?;
            }
        }
        let check_options = SqliteConnectOptions::new()
            .filename(&path)
            .read_only(read_only)
            .create_if_missing(!read_only)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Import batches and index chunks take seconds by design; sqlx's slow-statement
            // warning would print each one's SQL into the user's terminal.
            .disable_statement_logging();
        // Reads map the file instead of copying every page through read() calls.
        let mut options = check_options.clone().pragma("mmap_size", "4294967296");
        if !read_only {
            // A 64 MB page cache (default 2 MB) keeps a large index build's FTS segment
            // merges in memory instead of re-reading them from the WAL.
            // No checkpoint inside a commit: an import's commit would copy its whole WAL
            // (1.3 GB for Z1-107K) into the file before returning. `Store::checkpoint`
            // does it after the other writes, and the index build that follows an import.
            options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("cache_size", "-65536")
                .pragma("wal_autocheckpoint", "0");
        }
        let open_error = |e: sqlx::Error| match &e {
            sqlx::Error::Database(db) if db.message().contains("not a database") => {
                StoreError::NotALibrary { path: path.clone(), detail: db.message().to_string() }
            }
            _ => StoreError::Open { path: path.clone(), source: e },
        };

        // Check the schema on a connection that sets no pragma that writes, so a refused
        // file is left byte-for-byte as it was.
        let mut conn = SqliteConnection::connect_with(&check_options).await.map_err(open_error)?;
        let found = applied_version(&mut conn, &path).await?;
        let known = known_version();
        if found > known {
            return Err(StoreError::NewerSchema { path, found, known });
        }
        if found < known {
            if read_only {
                return Err(StoreError::NeedsMigration { path, found, known });
            }
            MIGRATOR
                .run(&mut conn)
                .await
                .map_err(|e| StoreError::Migrate { path: path.clone(), source: e })?;
        }
        conn.close().await.ok();

        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(Store { pool, path, read_only, schema_version: known })
    }
}
