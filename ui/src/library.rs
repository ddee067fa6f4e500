//! The library page: every imported dataset with its size and provenance.

use crate::app::{AppCtx, Page};
use crate::text;
use leptos::prelude::*;

#[component]
pub fn LibraryPage() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
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
                            <th class="num">"Rows"</th><th class="num">"Size"</th><th>"Imported"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || ctx.datasets.get() key=|d| (d.id.clone(), d.indexed_rows) let:d>
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
                                    {(d.indexed_rows < d.rows).then(|| view! {
                                        <div class="muted small">
                                            {format!("indexing {}%", d.indexed_rows * 100 / d.rows.max(1))}
                                        </div>
                                    })}
                                </td>
                                <td class="num">{text::bytes(d.size_bytes)}</td>
                                <td>{text::timestamp(&d.imported_at)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </Show>
        </section>
    }
}
