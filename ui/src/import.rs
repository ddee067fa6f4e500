//! The import dialog: choose a file (picker, pasted path or drag and drop), check the
//! preview and the column mapping, then import with progress and cancel.

use crate::api;
use crate::app::{AppCtx, Page};
use crate::text;
use leptos::prelude::*;
use leptos::task::spawn_local;
use thinkscope_protocol::{
    CanonicalField, FieldMapping, Format, ImportPreview, ImportReport, ImportRequest,
};

const FORMATS: [Format; 5] = [Format::Auto, Format::Jsonl, Format::Json, Format::Csv, Format::Parquet];
/// Skipped-row errors listed in full; the rest are counted.
const SHOWN_ROW_ERRORS: usize = 50;

// One value per open dialog: the report's size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Choosing,
    Previewing,
    Importing,
    Done(ImportReport),
}

/// Columns mapped to `field`, in order.
fn columns_for(mapping: &[FieldMapping], field: CanonicalField) -> Vec<String> {
    mapping.iter().filter(|m| m.field == field).map(|m| m.column.clone()).collect()
}

/// Sets the `slot`-th column of `field` (an empty column removes it; a slot past the end adds one).
fn set_column(mapping: &mut Vec<FieldMapping>, field: CanonicalField, slot: usize, column: String) {
    let mut columns = columns_for(mapping, field);
    match (slot < columns.len(), column.is_empty()) {
        (true, true) => {
            columns.remove(slot);
        }
        (true, false) => columns[slot] = column,
        (false, false) => columns.push(column),
        (false, true) => {}
    }
    mapping.retain(|m| m.field != field);
    mapping.extend(columns.into_iter().map(|column| FieldMapping { field, column }));
    // Stable: keeps the order of columns within a field.
    mapping.sort_by_key(|m| m.field);
}

/// Fields that take more than one column (one trace per column).
fn repeatable(field: CanonicalField) -> bool {
    matches!(field, CanonicalField::Thinking | CanonicalField::Attempt)
}

#[component]
pub fn ImportDialog(initial_path: String) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let start_preview = !initial_path.is_empty();
    let path = RwSignal::new(initial_path);
    let format = RwSignal::new(Format::Auto);
    let name = RwSignal::new(String::new());
    let skip_bad_rows = RwSignal::new(false);
    let preview = RwSignal::new(None::<ImportPreview>);
    let mapping = RwSignal::new(Vec::<FieldMapping>::new());
    let phase = RwSignal::new(Phase::Choosing);
    let error = RwSignal::new(None::<String>);

    let load_preview = move || {
        let file = path.get_untracked().trim().to_string();
        if file.is_empty() {
            error.set(Some("Choose a file or paste its path.".into()));
            return;
        }
        error.set(None);
        preview.set(None);
        phase.set(Phase::Previewing);
        spawn_local(async move {
            match api::preview_import(&file, format.get_untracked()).await {
                Ok(p) => {
                    mapping.set(p.mapping.clone());
                    preview.set(Some(p));
                }
                Err(e) => error.set(Some(e.message)),
            }
            phase.set(Phase::Choosing);
        });
    };
    if start_preview {
        load_preview();
    }

    let browse = move |_| {
        spawn_local(async move {
            match api::pick_path("dataset").await {
                Ok(Some(picked)) => {
                    path.set(picked);
                    load_preview();
                }
                Ok(None) => {}
                Err(e) => error.set(Some(e.message)),
            }
        })
    };

    let start_import = move |_| {
        let Some(shown) = preview.get_untracked() else { return };
        let chosen = mapping.get_untracked();
        let name = name.get_untracked().trim().to_string();
        let request = ImportRequest {
            path: path.get_untracked().trim().to_string(),
            name: (!name.is_empty()).then_some(name),
            format: shown.format,
            // An untouched mapping is left to schema detection, which also names the schema.
            mapping: if chosen == shown.mapping { Vec::new() } else { chosen },
            skip_bad_rows: skip_bad_rows.get_untracked(),
        };
        error.set(None);
        ctx.progress.set(None);
        phase.set(Phase::Importing);
        spawn_local(async move {
            match api::import_dataset(&request).await {
                Ok(report) => {
                    ctx.reload_datasets();
                    phase.set(Phase::Done(report));
                }
                Err(e) => {
                    error.set(Some(e.message));
                    phase.set(Phase::Choosing);
                }
            }
        });
    };

    let cancel = move |_| {
        spawn_local(async move {
            if let Err(e) = api::cancel_import().await {
                error.set(Some(e.message));
            }
        })
    };
    let busy = move || phase.with(|p| matches!(p, Phase::Previewing | Phase::Importing));
    let close = move || {
        if !busy() {
            ctx.import.set(None);
        }
    };

    view! {
        <div class="modal-backdrop" on:keydown=move |ev| if ev.key() == "Escape" { close() }>
            <div class="modal" role="dialog" aria-label="Import dataset">
                <h2>"Import dataset"</h2>
                <div class="form-row">
                    <input id="import-path" type="text" class="grow" spellcheck="false"
                        placeholder="Paste a file path, or choose one…"
                        prop:value=move || path.get()
                        on:input=move |ev| path.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" { load_preview() }
                        disabled=busy/>
                    <button on:click=browse disabled=busy>"Choose…"</button>
                    <select title="Format" disabled=busy
                        on:change=move |ev| {
                            format.set(event_target_value(&ev).parse().unwrap_or_default())
                        }>
                        {FORMATS.map(|f| view! {
                            <option value=f.as_str() selected=move || format.get() == f>{f.as_str()}</option>
                        })}
                    </select>
                    <button id="import-preview" on:click=move |_| load_preview() disabled=busy>"Preview"</button>
                </div>
                {move || error.get().map(|e| view! { <pre class="error-box" role="alert">{e}</pre> })}
                {move || (phase.get() == Phase::Previewing).then(|| view! { <p class="muted">"Reading…"</p> })}
                {move || preview.get().map(|p| view! {
                    <PreviewTable preview=p.clone()/>
                    <MappingEditor columns=p.columns mapping disabled=Signal::derive(busy)/>
                })}
                <Show when=move || preview.with(Option::is_some)>
                    <div class="form-row">
                        <label class="grow">"Name "
                            <input type="text" placeholder="from the file name" prop:value=move || name.get()
                                on:input=move |ev| name.set(event_target_value(&ev)) disabled=busy/>
                        </label>
                        <label class="check">
                            <input id="import-skip-bad" type="checkbox" prop:checked=move || skip_bad_rows.get()
                                on:change=move |ev| skip_bad_rows.set(event_target_checked(&ev)) disabled=busy/>
                            " Skip bad rows (list them instead of failing)"
                        </label>
                    </div>
                </Show>
                <Show when=move || phase.get() == Phase::Importing>
                    <ProgressView/>
                </Show>
                {move || match phase.get() {
                    Phase::Done(report) => Some(view! { <ReportView report/> }),
                    _ => None,
                }}
                <div class="modal-actions">
                    {move || match phase.get() {
                        Phase::Importing => view! {
                            <button id="import-cancel" on:click=cancel>"Cancel import"</button>
                        }.into_any(),
                        Phase::Done(report) => {
                            let id = report.dataset.id.clone();
                            view! {
                                <button on:click=move |_| ctx.import.set(None)>"Close"</button>
                                <button id="import-open-dataset" class="primary" on:click=move |_| {
                                    ctx.import.set(None);
                                    ctx.page.set(Page::Browse(Some(id.clone())));
                                }>"Open dataset"</button>
                            }.into_any()
                        }
                        _ => view! {
                            <button on:click=move |_| close()>"Cancel"</button>
                            <button id="import-start" class="primary" on:click=start_import
                                disabled=move || busy() || preview.with(Option::is_none)>"Import"</button>
                        }.into_any(),
                    }}
                </div>
            </div>
        </div>
    }
}

#[component]
fn PreviewTable(preview: ImportPreview) -> impl IntoView {
    let summary = format!(
        "{} · {} columns · schema: {}",
        preview.format.as_str(),
        preview.columns.len(),
        preview.detected_schema.as_deref().unwrap_or("not recognised (map the columns below)"),
    );
    view! {
        <p class="muted small">{summary}</p>
        <div class="preview-scroll">
            <table class="preview">
                <thead><tr>{preview.columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect::<Vec<_>>()}</tr></thead>
                <tbody>
                    {preview.rows.into_iter().map(|row| view! {
                        <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect::<Vec<_>>()}</tr>
                    }).collect::<Vec<_>>()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn MappingEditor(
    columns: Vec<String>,
    mapping: RwSignal<Vec<FieldMapping>>,
    disabled: Signal<bool>,
) -> impl IntoView {
    let columns = StoredValue::new(columns);
    let select = move |field: CanonicalField, slot: usize, current: String| {
        view! {
            <select disabled=disabled attr:data-field=field.as_str()
                on:change=move |ev| {
                    let column = event_target_value(&ev);
                    mapping.update(|m| set_column(m, field, slot, column));
                }>
                <option value="" selected=current.is_empty()>"—"</option>
                {columns.get_value().into_iter().map(|c| {
                    let selected = c == current;
                    let label = c.clone();
                    view! { <option value=c selected=selected>{label}</option> }
                }).collect::<Vec<_>>()}
            </select>
        }
    };
    view! {
        <div class="mapping">
            {move || {
                let current = mapping.get();
                CanonicalField::ALL.into_iter().map(|field| {
                    let mut chosen = columns_for(&current, field);
                    if chosen.is_empty() || repeatable(field) {
                        chosen.push(String::new());
                    }
                    view! {
                        <label class="mapping-field">{field.as_str()}</label>
                        <div class="mapping-columns">
                            {chosen.into_iter().enumerate()
                                .map(|(slot, column)| select(field, slot, column))
                                .collect::<Vec<_>>()}
                        </div>
                    }
                }).collect::<Vec<_>>()
            }}
        </div>
    }
}

#[component]
fn ProgressView() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let progress = move || ctx.progress.get().unwrap_or_default();
    view! {
        <div class="progress">
            <progress max=move || progress().bytes_total.max(1) as f64
                value=move || progress().bytes_read as f64></progress>
            <span class="muted small">{move || {
                let p = progress();
                let eta = p.eta_secs.map(|s| format!(" · about {} left", text::duration(s))).unwrap_or_default();
                format!("{} rows · {} of {}{eta}", text::count(p.rows), text::bytes(p.bytes_read), text::bytes(p.bytes_total))
            }}</span>
        </div>
    }
}

#[component]
fn ReportView(report: ImportReport) -> impl IntoView {
    let d = &report.dataset;
    let headline = if report.already_present {
        format!("“{}” was already in the library ({}): nothing was written.", d.name, text::counted(d.rows, "row", "rows"))
    } else {
        format!("Imported {} into “{}”.", text::counted(d.rows, "row", "rows"), d.name)
    };
    let skipped = report.skipped.len();
    view! {
        <div id="import-done" class="report">
            <p>{headline}</p>
            {(skipped > 0).then(|| view! {
                <p class="error-text">{format!("{skipped} bad rows skipped:")}</p>
                <ul class="row-errors">
                    {report.skipped.iter().take(SHOWN_ROW_ERRORS).map(|e| view! { <li>{e.to_string()}</li> }).collect::<Vec<_>>()}
                    {(skipped > SHOWN_ROW_ERRORS).then(|| view! { <li>{format!("… and {} more", skipped - SHOWN_ROW_ERRORS)}</li> })}
                </ul>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CanonicalField::*;

    fn m(field: CanonicalField, column: &str) -> FieldMapping {
        FieldMapping { field, column: column.into() }
    }

    #[test]
    fn set_column_replaces_adds_and_removes() {
        let mut mapping = vec![m(Question, "problem"), m(Thinking, "trace_a")];
        set_column(&mut mapping, Answer, 0, "answer".into());
        set_column(&mut mapping, Thinking, 1, "trace_b".into());
        assert_eq!(
            mapping,
            vec![m(Question, "problem"), m(Answer, "answer"), m(Thinking, "trace_a"), m(Thinking, "trace_b")]
        );
        set_column(&mut mapping, Question, 0, "prompt".into());
        set_column(&mut mapping, Thinking, 0, String::new());
        assert_eq!(mapping, vec![m(Question, "prompt"), m(Answer, "answer"), m(Thinking, "trace_b")]);
        // Clearing an empty extra slot changes nothing.
        set_column(&mut mapping, Attempt, 0, String::new());
        assert_eq!(mapping.len(), 3);
        assert!(repeatable(Thinking) && !repeatable(Question));
    }
}
