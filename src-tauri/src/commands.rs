//! Tauri commands: thin wrappers that forward to the core and turn errors into `ApiError`.

use crate::indexer;
use crate::state::AppState;
use std::path::{Path, PathBuf};
use tauri::{AppHandle, Emitter, State};
use tauri_plugin_dialog::DialogExt;
use thinkscope_protocol::{
    ApiError, DatasetCharts, DatasetInfo, Facets, Format, ImportPreview, ImportProgress,
    ImportReport, ImportRequest, LibraryInfo, SampleDetail, SamplePage, SampleQuery,
};
use thinkscope_store::{OpenMode, Store};

/// Event carrying `ImportProgress` while an import runs.
pub const IMPORT_PROGRESS: &str = "import-progress";
/// Event carrying the new `LibraryInfo` after File → Open.
pub const LIBRARY_CHANGED: &str = "library-changed";

type Result<T> = std::result::Result<T, ApiError>;

fn api(e: impl std::fmt::Display) -> ApiError {
    ApiError { message: e.to_string() }
}

#[tauri::command]
pub fn library_info(state: State<'_, AppState>) -> LibraryInfo {
    state.store().info()
}

#[tauri::command]
pub async fn open_library(
    app: AppHandle,
    state: State<'_, AppState>,
    path: String,
    read_only: bool,
) -> Result<LibraryInfo> {
    let info = switch_library(&app, &state, Path::new(&path), read_only).await?;
    Ok(info)
}

/// Opens the library at `path`, makes it current and tells the UI.
pub async fn switch_library(
    app: &AppHandle,
    state: &AppState,
    path: &Path,
    read_only: bool,
) -> Result<LibraryInfo> {
    let mode = if read_only { OpenMode::ReadOnly } else { OpenMode::ReadWrite };
    let path = path.to_path_buf();
    // `Store::open`'s future is not `Send` (sqlx's migrator borrows the connection through
    // a higher-ranked `Acquire`), so it runs to completion on a blocking thread.
    let store = tauri::async_runtime::spawn_blocking(move || {
        tauri::async_runtime::block_on(Store::open(path, mode))
    })
    .await
    .map_err(api)?
    .map_err(api)?;
    let info = store.info();
    state.replace_store(store);
    app.emit(LIBRARY_CHANGED, &info).map_err(api)?;
    indexer::spawn(app.clone());
    Ok(info)
}

/// What a native file dialog is picking.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PickKind {
    Dataset,
    Library,
}

/// Shows a native open-file dialog; `None` when the user cancels.
#[tauri::command]
pub async fn pick_path(app: AppHandle, kind: PickKind) -> Result<Option<String>> {
    Ok(pick_file(&app, kind).await.map(|p| p.display().to_string()))
}

pub async fn pick_file(app: &AppHandle, kind: PickKind) -> Option<PathBuf> {
    let dialog = app.dialog().file();
    let dialog = match kind {
        PickKind::Dataset => dialog
            .set_title("Import dataset")
            .add_filter("Datasets", &["jsonl", "ndjson", "json", "csv", "parquet"]),
        PickKind::Library => dialog
            .set_title("Open library")
            .add_filter("thinkscope library", &["db", "sqlite", "sqlite3"]),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.pick_file(move |path| {
        // The receiver only goes away when the command was dropped; nothing to tell then.
        let _ = tx.send(path.and_then(|p| p.into_path().ok()));
    });
    rx.await.ok().flatten()
}

#[tauri::command]
pub async fn list_datasets(state: State<'_, AppState>) -> Result<Vec<DatasetInfo>> {
    state.store().datasets().await.map_err(api)
}

#[tauri::command]
pub async fn delete_dataset(state: State<'_, AppState>, dataset_id: String) -> Result<DatasetInfo> {
    state.store().delete_dataset(&dataset_id).await.map_err(api)
}

#[tauri::command]
pub async fn preview_import(path: String, format: Format) -> Result<ImportPreview> {
    // Reading and parsing the head of a file blocks; keep it off the async workers.
    tauri::async_runtime::spawn_blocking(move || {
        thinkscope_datasets::preview(Path::new(&path), format)
    })
    .await
    .map_err(api)?
    .map_err(api)
}

/// Runs an import, emitting `import-progress` events; `cancel_import` stops it.
#[tauri::command]
pub async fn import_dataset(
    app: AppHandle,
    state: State<'_, AppState>,
    request: ImportRequest,
) -> Result<ImportReport> {
    let cancel = state
        .begin_import()
        .ok_or_else(|| api("another import is still running"))?;
    let store = state.store();
    let events = app.clone();
    // The importer already reports only a few times a second.
    let progress = move |p: &ImportProgress| {
        if let Err(e) = events.emit(IMPORT_PROGRESS, p) {
            tracing::warn!("cannot send import progress: {e}");
        }
    };
    let result = thinkscope_datasets::import(&store, &request, progress, &cancel).await;
    state.end_import();
    let report = result.map_err(api)?;
    // The rows are stored and browsable; search sees them as the index catches up.
    if !report.already_present {
        indexer::spawn(app);
    }
    Ok(report)
}

/// Returns whether an import was running.
#[tauri::command]
pub fn cancel_import(state: State<'_, AppState>) -> bool {
    state.cancel_import()
}

#[tauri::command]
pub async fn query_samples(state: State<'_, AppState>, query: SampleQuery) -> Result<SamplePage> {
    state.store().samples(&query).await.map_err(api)
}

#[tauri::command]
pub async fn facets(state: State<'_, AppState>, query: SampleQuery) -> Result<Facets> {
    state.store().facets(&query).await.map_err(api)
}

#[tauri::command]
pub async fn sample_detail(state: State<'_, AppState>, id: String) -> Result<SampleDetail> {
    state.store().sample(&id).await.map_err(api)
}

/// The domain bar chart (subjects when a dataset has at most one domain) and the trace-length histogram.
#[tauri::command]
pub async fn dataset_charts(state: State<'_, AppState>, dataset_id: String) -> Result<DatasetCharts> {
    let store = state.store();
    let query = SampleQuery { dataset_id: Some(dataset_id.clone()), ..SampleQuery::default() };
    let facets = store.facets(&query).await.map_err(api)?;
    // A single domain ("math") says little: chart the subjects then, if there are any.
    let (title, counts) = if facets.domain.len() < 2 && !facets.subject.is_empty() {
        ("Samples per subject", &facets.subject)
    } else {
        ("Samples per domain", &facets.domain)
    };
    let domain_svg = thinkscope_plots::domain_bar_chart(counts, title).map_err(api)?;
    let (unit, lengths) = store.thinking_lengths(&dataset_id).await.map_err(api)?;
    let length_svg = thinkscope_plots::length_histogram(&lengths, &unit).map_err(api)?;
    Ok(DatasetCharts { domain_svg, length_svg })
}
