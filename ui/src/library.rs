//! The library page: every imported dataset with its size and provenance.

use crate::api;
use crate::app::{AppCtx, Page};
use crate::text;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn LibraryPage() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    // The dataset whose Delete was clicked once: a second click, on the confirmation, deletes.
    let confirming = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(false);
    let delete = move |id: String| {
        deleting.set(true);
        spawn_local(async move {
            match api::delete_dataset(&id).await {
                Ok(_) => ctx.reload_datasets(),
                Err(e) => ctx.notice.set(Some(e.message)),
            }
            confirming.set(None);
            deleting.set(false);
        });
    };
    view! {
        <section class="library">
            <h1>"Datasets"</h1>
            <Show
                when=move || !ctx.datasets.with(Vec::is_empty)
                fallback=|| view! {
                    <div class="empty">
                        <p>"No datasets yet."</p>
                        <p class="muted">
                            "Import a JSONL, JSON, CSV or Parquet file with “Import dataset…”, "
                            "or drop one onto this window."
                        </p>
                    </div>
                }
            >
                <table class="datasets">
                    <thead>
                        <tr>
                            <th>"Name"</th><th>"Schema"</th><th>"Format"</th>
                            <th class="num">"Rows"</th><th class="num">"Size"</th><th>"Imported"</th><th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || ctx.datasets.get() key=|d| d.id.clone() let:d>
                            <tr class="dataset-row" tabindex="0"
                                on:click={
                                    let id = d.id.clone();
                                    move |_| ctx.page.set(Page::Browse(Some(id.clone())))
                                }>
                                <td>
                                    <div class="dataset-name">{d.name.clone()}</div>
                                    <div class="muted small">{d.source_file.clone()}</div>
                                </td>
                                <td>{d.schema.clone()}</td>
                                <td>{d.format.clone()}</td>
                                <td class="num">
                                    {text::count(d.rows)}
                                    <IndexStatus id=d.id.clone() rows=d.rows/>
                                </td>
                                <td class="num">{text::bytes(d.size_bytes)}</td>
                                <td>{text::timestamp(&d.imported_at)}</td>
                                <td class="actions" on:click=|ev| ev.stop_propagation()>
                                    <DeleteButton id=d.id.clone() rows=d.rows confirming deleting delete/>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </Show>
        </section>
    }
}

/// "Delete…", then "Delete N rows?" with the button that does it.
#[component]
fn DeleteButton(
    id: String,
    rows: u64,
    confirming: RwSignal<Option<String>>,
    deleting: RwSignal<bool>,
    delete: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let id = StoredValue::new(id);
    let asked = move || confirming.with(|c| c.as_deref() == Some(id.get_value().as_str()));
    view! {
        <Show when=move || !ctx.read_only()>
            <Show
                when=asked
                fallback=move || view! {
                    <button class="link delete-dataset" on:click=move |_| confirming.set(Some(id.get_value()))>
                        "Delete…"
                    </button>
                }
            >
                <span class="confirm">
                    {move || if deleting.get() {
                        "Deleting…".to_string()
                    } else {
                        format!("Delete {}?", text::counted(rows, "row", "rows"))
                    }}
                    <button class="danger confirm-delete" disabled=move || deleting.get()
                        on:click=move |_| delete(id.get_value())>"Delete"</button>
                    <button class="link" disabled=move || deleting.get()
                        on:click=move |_| confirming.set(None)>"Cancel"</button>
                </span>
            </Show>
        </Show>
    }
}

/// How much of a dataset search sees, while that is not all of it; follows the
/// `index-progress` events without redrawing the row.
#[component]
fn IndexStatus(id: String, rows: u64) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let indexed = move || ctx.datasets.with(|list| list.iter().find(|d| d.id == id).map_or(rows, |d| d.indexed_rows));
    move || {
        let indexed = indexed();
        (indexed < rows).then(|| {
            let percent = indexed * 100 / rows.max(1);
            // A read-only library is not indexed here; say how far its index goes.
            let label = if ctx.read_only() { format!("search index {percent}%") } else { format!("indexing {percent}%") };
            view! { <div class="muted small index-status">{label}</div> }
        })
    }
}
