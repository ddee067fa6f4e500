//! Typed calls to the shell's commands (see `src-tauri/src/commands.rs`).

use crate::tauri::invoke;
use serde_json::json;
use thinkscope_protocol::*;

pub type Result<T> = std::result::Result<T, ApiError>;

pub async fn library_info() -> Result<LibraryInfo> {
    invoke("library_info", json!({})).await
}

pub async fn open_library(path: &str, read_only: bool) -> Result<LibraryInfo> {
    invoke("open_library", json!({ "path": path, "readOnly": read_only })).await
}

/// Native open dialog; `kind` is `dataset` or `library`. `None` when cancelled.
pub async fn pick_path(kind: &str) -> Result<Option<String>> {
    invoke("pick_path", json!({ "kind": kind })).await
}

pub async fn list_datasets() -> Result<Vec<DatasetInfo>> {
    invoke("list_datasets", json!({})).await
}

pub async fn delete_dataset(dataset_id: &str) -> Result<DatasetInfo> {
    invoke("delete_dataset", json!({ "datasetId": dataset_id })).await
}

pub async fn preview_import(path: &str, format: Format) -> Result<ImportPreview> {
    invoke("preview_import", json!({ "path": path, "format": format })).await
}

pub async fn import_dataset(request: &ImportRequest) -> Result<ImportReport> {
    invoke("import_dataset", json!({ "request": request })).await
}

pub async fn cancel_import() -> Result<bool> {
    invoke("cancel_import", json!({})).await
}

pub async fn query_samples(query: &SampleQuery) -> Result<SamplePage> {
    invoke("query_samples", json!({ "query": query })).await
}

pub async fn facets(query: &SampleQuery) -> Result<Facets> {
    invoke("facets", json!({ "query": query })).await
}

pub async fn sample_detail(id: &str) -> Result<SampleDetail> {
    invoke("sample_detail", json!({ "id": id })).await
}

pub async fn dataset_charts(dataset_id: &str) -> Result<DatasetCharts> {
    invoke("dataset_charts", json!({ "datasetId": dataset_id })).await
}

/// Events the shell emits.
pub mod events {
    pub const IMPORT_PROGRESS: &str = "import-progress";
    pub const INDEX_PROGRESS: &str = "index-progress";
    pub const INDEX_ERROR: &str = "index-error";
    pub const LIBRARY_CHANGED: &str = "library-changed";
    pub const MENU: &str = "menu";
    pub const MENU_ERROR: &str = "menu-error";
    pub const DRAG_DROP: &str = "tauri://drag-drop";
    pub const DRAG_ENTER: &str = "tauri://drag-enter";
    pub const DRAG_LEAVE: &str = "tauri://drag-leave";
}
