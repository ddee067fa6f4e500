//! Builds the search index in the background after an import, at start-up and after
//! File → Open, so rows are browsable at once and become searchable a chunk at a time.

use crate::state::AppState;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};
use thinkscope_protocol::IndexProgress;

/// Event carrying `IndexProgress` after each indexed chunk.
pub const INDEX_PROGRESS: &str = "index-progress";
/// Event carrying the message of a build that failed (the rows stay browsable).
pub const INDEX_ERROR: &str = "index-error";

/// Lets the index of the current library catch up. Builders take turns (the next one
/// finds whatever the last left), and one stops when the app moves to another library.
pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let _turn = state.index_turn().await;
        let store = state.store();
        if store.is_read_only() {
            return;
        }
        // Another library, or this one reopened read-only.
        let moved_on = || {
            let current = state.store();
            current.path() != store.path() || current.is_read_only()
        };
        loop {
            let progress = |p: &IndexProgress| {
                if let Err(e) = app.emit(INDEX_PROGRESS, p) {
                    tracing::warn!("cannot send index progress: {e}");
                }
            };
            match store.build_search_index(progress, moved_on).await {
                Ok(_) => return,
                // An import holds the write lock until it commits, and then asks again.
                Err(e) if e.is_busy() => tokio::time::sleep(Duration::from_secs(1)).await,
                Err(e) => {
                    let message = format!("Building the search index of {} failed: {e}", store.path().display());
                    tracing::error!("{message}");
                    if let Err(e) = app.emit(INDEX_ERROR, &message) {
                        tracing::warn!("cannot send the index error: {e}");
                    }
                    return;
                }
            }
            if moved_on() {
                return;
            }
        }
    });
}
