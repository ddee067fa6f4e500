//! The root component: shared state, shell events and page switching.

use crate::api::{self, events};
use crate::browse::BrowsePage;
use crate::import::ImportDialog;
use crate::library::LibraryPage;
use crate::tauri::listen;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use thinkscope_protocol::{DatasetInfo, ImportProgress, IndexProgress, LibraryInfo};

#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    Library,
    /// The sample browser over one dataset, or all of them.
    Browse(Option<String>),
}

/// State every page shares, provided as context.
#[derive(Clone, Copy)]
pub struct AppCtx {
    pub library: RwSignal<Option<LibraryInfo>>,
    pub datasets: RwSignal<Vec<DatasetInfo>>,
    pub page: RwSignal<Page>,
    /// `Some(path)` while the import dialog is open (empty when no file is chosen yet).
    pub import: RwSignal<Option<String>>,
    pub progress: RwSignal<Option<ImportProgress>>,
    /// An error for the banner.
    pub notice: RwSignal<Option<String>>,
    pub dragging: RwSignal<bool>,
}

impl AppCtx {
    pub fn reload_datasets(self) {
        spawn_local(async move {
            match api::list_datasets().await {
                Ok(list) => self.datasets.set(list),
                Err(e) => self.notice.set(Some(e.message)),
            }
        });
    }

    pub fn read_only(self) -> bool {
        self.library.with(|l| l.as_ref().is_some_and(|l| l.read_only))
    }

    /// File → Open: a native picker, then the shell swaps the library and emits
    /// `library-changed`, which brings every page up to date.
    pub fn open_library(self) {
        spawn_local(async move {
            let picked = match api::pick_path("library").await {
                Ok(Some(path)) => path,
                Ok(None) => return,
                Err(e) => return self.notice.set(Some(e.message)),
            };
            if let Err(e) = api::open_library(&picked, false).await {
                self.notice.set(Some(format!("{picked}: {}", e.message)));
            }
        });
    }
}

/// Payload of Tauri's `tauri://drag-drop` event.
#[derive(Deserialize)]
struct DragDrop {
    paths: Vec<String>,
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = AppCtx {
        library: RwSignal::new(None),
        datasets: RwSignal::new(Vec::new()),
        page: RwSignal::new(Page::Library),
        import: RwSignal::new(None),
        progress: RwSignal::new(None),
        notice: RwSignal::new(None),
        dragging: RwSignal::new(false),
    };
    provide_context(ctx);

    spawn_local(async move {
        match api::library_info().await {
            Ok(info) => ctx.library.set(Some(info)),
            Err(e) => ctx.notice.set(Some(e.message)),
        }
    });
    // Listen first: an index build started with the app may finish before the list loads.
    spawn_local(async move {
        subscribe(ctx).await;
        ctx.reload_datasets();
    });

    view! {
        <div class="app">
            <Header/>
            {move || ctx.notice.get().map(|message| view! {
                <div class="notice" role="alert">
                    <span class="notice-text">{message}</span>
                    <button class="link" on:click=move |_| ctx.notice.set(None)>"Dismiss"</button>
                </div>
            })}
            <main class="page">
                {move || match ctx.page.get() {
                    Page::Library => view! { <LibraryPage/> }.into_any(),
                    Page::Browse(dataset) => view! { <BrowsePage dataset/> }.into_any(),
                }}
            </main>
            {move || ctx.import.get().map(|path| view! { <ImportDialog initial_path=path/> })}
            <Show when=move || ctx.dragging.get()>
                <div class="drop-overlay">"Drop a dataset file to import it"</div>
            </Show>
        </div>
    }
}

/// Listens to the shell's events for the life of the page.
async fn subscribe(ctx: AppCtx) {
    let results = [
        listen(events::LIBRARY_CHANGED, move |info: LibraryInfo| {
            ctx.library.set(Some(info));
            ctx.page.set(Page::Library);
            ctx.reload_datasets();
        })
        .await,
        listen(events::IMPORT_PROGRESS, move |p: ImportProgress| ctx.progress.set(Some(p))).await,
        listen(events::INDEX_PROGRESS, move |p: IndexProgress| {
            let known = ctx.datasets.try_update(|list| match list.iter_mut().find(|d| d.id == p.dataset_id) {
                Some(d) => {
                    d.indexed_rows = p.indexed_rows;
                    true
                }
                None => false,
            });
            // A dataset the list does not have yet, or the end of a build while the list
            // may have been in flight: read the stored state.
            if known != Some(true) || p.indexed_rows == p.rows {
                ctx.reload_datasets();
            }
        })
        .await,
        listen(events::MENU, move |id: String| {
            if id == "import" && !ctx.read_only() {
                ctx.import.set(Some(String::new()));
            }
        })
        .await,
        listen(events::MENU_ERROR, move |message: String| ctx.notice.set(Some(message))).await,
        listen(events::INDEX_ERROR, move |message: String| ctx.notice.set(Some(message))).await,
        listen(events::DRAG_ENTER, move |_: serde_json::Value| ctx.dragging.set(true)).await,
        listen(events::DRAG_LEAVE, move |_: serde_json::Value| ctx.dragging.set(false)).await,
        listen(events::DRAG_DROP, move |drop: DragDrop| {
            ctx.dragging.set(false);
            if let Some(path) = drop.paths.into_iter().next() {
                if ctx.read_only() {
                    ctx.notice.set(Some("This library is open read-only: cannot import.".into()));
                } else {
                    ctx.import.set(Some(path));
                }
            }
        })
        .await,
    ];
    for result in results {
        if let Err(e) = result {
            ctx.notice.set(Some(format!("cannot listen to the app: {}", e.message)));
        }
    }
}

#[component]
fn Header() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let on_library = move || ctx.page.with(|p| *p == Page::Library);
    view! {
        <header class="topbar">
            <span class="brand">"thinkscope"</span>
            <nav>
                <button class="tab" class:active=on_library
                    on:click=move |_| ctx.page.set(Page::Library)>"Library"</button>
                <button class="tab" class:active=move || !on_library()
                    on:click=move |_| ctx.page.set(Page::Browse(None))>"Samples"</button>
            </nav>
            <span class="spacer"></span>
            // Right-to-left so a long path is clipped at its start; the inner span keeps
            // the path itself left-to-right.
            <span class="library-path" title=move || ctx.library.get().map(|l| l.path).unwrap_or_default()>
                <span dir="ltr">{move || ctx.library.get().map(|l| l.path).unwrap_or_default()}</span>
            </span>
            <Show when=move || ctx.read_only()>
                <span class="badge">"read-only"</span>
            </Show>
            <button on:click=move |_| ctx.open_library()>"Open library…"</button>
            <button id="import-open" class="primary" disabled=move || ctx.read_only()
                on:click=move |_| ctx.import.set(Some(String::new()))>"Import dataset…"</button>
        </header>
    }
}
