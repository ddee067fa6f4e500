//! Helpers shared by the import tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use thinkscope_datasets::{import, CancelToken, ImportError};
use thinkscope_protocol::{ImportReport, ImportRequest};
use thinkscope_store::{OpenMode, Store};

/// The real benchmark files (`../shared/datasets` beside the repo, or $THINKSCOPE_SHARED).
pub fn shared(file: &str) -> PathBuf {
    let base = std::env::var_os("THINKSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = base.join("datasets").join(file);
    assert!(path.exists(), "benchmark file {} is missing (set THINKSCOPE_SHARED)", path.display());
    path
}

pub async fn store(dir: &Path) -> Store {
    Store::open(dir.join("lib.db"), OpenMode::ReadWrite).await.unwrap()
}

/// Imports `path` and makes it searchable, as the app and the CLI do.
pub async fn import_path(store: &Store, path: &Path) -> Result<ImportReport, ImportError> {
    import_with(store, ImportRequest { path: path.display().to_string(), ..ImportRequest::default() }).await
}

pub async fn import_with(store: &Store, req: ImportRequest) -> Result<ImportReport, ImportError> {
    let mut report = import(store, &req, |_| {}, &CancelToken::default()).await?;
    assert!(store.build_search_index(|_| {}, || false).await.unwrap());
    report.dataset = store.find_dataset(&report.dataset.id).await.unwrap();
    Ok(report)
}
