//! What the commands share: the open library, the running import and the index builder.

use std::sync::{Mutex, RwLock};
use thinkscope_datasets::CancelToken;
use thinkscope_store::Store;

pub struct AppState {
    /// File → Open swaps the library; commands clone the handle out and never hold the lock
    /// across an await.
    store: RwLock<Store>,
    /// The import in flight, so `cancel_import` can reach it. One at a time.
    import: Mutex<Option<CancelToken>>,
    /// Held by the background index builder at work, so builders take turns.
    indexing: tokio::sync::Mutex<()>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState { store: RwLock::new(store), import: Mutex::new(None), indexing: tokio::sync::Mutex::new(()) }
    }

    pub fn store(&self) -> Store {
        self.store.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace_store(&self, store: Store) {
        *self.store.write().unwrap_or_else(|e| e.into_inner()) = store;
    }

    /// Waits for the index builder before this one to finish.
    pub async fn index_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.indexing.lock().await
    }

    /// Registers a new import; `None` when one is already running.
    pub fn begin_import(&self) -> Option<CancelToken> {
        let mut slot = self.import.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return None;
        }
        let flag = CancelToken::default();
        *slot = Some(flag.clone());
        Some(flag)
    }

    pub fn end_import(&self) {
        *self.import.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether there was an import to cancel.
    pub fn cancel_import(&self) -> bool {
        match &*self.import.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(flag) => {
                flag.cancel();
                true
            }
            None => false,
        }
    }
}
