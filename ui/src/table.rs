//! The sample table, virtualised: only the rows in view exist in the DOM, and pages of
//! `PAGE_SIZE` rows are fetched as they scroll in, so 100K+ rows stay smooth.

use crate::api;
use crate::app::AppCtx;
use crate::browse::{BrowseState, PAGE_SIZE};
use crate::text;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashSet;
use thinkscope_protocol::{SampleQuery, SampleRow};

/// Fixed row height in pixels (matches `.sample-row` in the stylesheet).
pub const ROW_HEIGHT: f64 = 56.0;
/// Extra rows rendered above and below the viewport.
const OVERSCAN: u64 = 8;

/// Which row indices to render for a scroll position.
fn visible_range(scroll_top: f64, viewport: f64, total: u64) -> std::ops::Range<u64> {
    let first = ((scroll_top / ROW_HEIGHT).floor().max(0.0) as u64).saturating_sub(OVERSCAN);
    let count = (viewport / ROW_HEIGHT).ceil() as u64 + 2 * OVERSCAN;
    first.min(total)..(first + count).min(total)
}

#[component]
pub fn SampleTable() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let state = expect_context::<BrowseState>();
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(800.0);
    // Pages asked for under the current query, and which query that is: a reply to an
    // older query is dropped.
    let requested = StoredValue::new(HashSet::<u64>::new());
    let current = StoredValue::new(None::<(SampleQuery, u64)>);

    let fetch = move |page: u64, query: SampleQuery| {
        if !requested.try_update_value(|r| r.insert(page)).unwrap_or(false) {
            return;
        }
        let generation = state.reload.get_untracked();
        spawn_local(async move {
            let mut paged = query.clone();
            paged.offset = page * PAGE_SIZE as u64;
            let result = api::query_samples(&paged).await;
            if current.with_value(|c| c.as_ref().is_none_or(|(q, g)| *q != query || *g != generation)) {
                return;
            }
            match result {
                Ok(reply) => {
                    state.total.set(reply.total);
                    state.pages.update(|pages| {
                        pages.insert(page, reply.rows);
                    });
                    state.loaded.set(true);
                }
                Err(e) => {
                    requested.update_value(|r| {
                        r.remove(&page);
                    });
                    state.loaded.set(true);
                    ctx.notice.set(Some(e.message));
                }
            }
        });
    };

    Effect::new(move |_| {
        let query = state.query.get();
        let fetched = (query.clone(), state.reload.get());
        if current.with_value(|c| c.as_ref() != Some(&fetched)) {
            // A new query, or the same one again: start over at the top.
            current.set_value(Some(fetched));
            requested.set_value(HashSet::new());
            state.pages.set(Default::default());
            state.loaded.set(false);
            state.selected.set(None);
            if let Some(el) = state.scroller.get_untracked() {
                el.set_scroll_top(0);
            }
            scroll_top.set(0.0);
            fetch(0, query);
            return;
        }
        let range = visible_range(scroll_top.get(), viewport.get(), state.total.get());
        if range.is_empty() {
            return;
        }
        for page in range.start / PAGE_SIZE as u64..=(range.end - 1) / PAGE_SIZE as u64 {
            fetch(page, query.clone());
        }
    });

    let on_scroll = move |_| {
        if let Some(el) = state.scroller.get_untracked() {
            scroll_top.set(el.scroll_top() as f64);
            viewport.set(el.client_height() as f64);
        }
    };
    Effect::new(move |_| {
        if let Some(el) = state.scroller.get() {
            viewport.set(el.client_height() as f64);
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(el) = state.scroller.get_untracked() {
            viewport.set(el.client_height() as f64);
        }
    });
    on_cleanup(move || resize.remove());

    let rows = move || {
        visible_range(scroll_top.get(), viewport.get(), state.total.get()).collect::<Vec<_>>()
    };
    view! {
        <div class="table-scroll" node_ref=state.scroller on:scroll=on_scroll>
            <Show when=move || state.loaded.get() && state.total.get() == 0>
                <p class="empty muted">"No samples match."</p>
            </Show>
            <div class="table-spacer"
                style:height=move || format!("{}px", state.total.get() as f64 * ROW_HEIGHT)>
                <For each=rows key=|i| *i let:index>
                    <RowView index/>
                </For>
            </div>
        </div>
    }
}

#[component]
fn RowView(index: u64) -> impl IntoView {
    let state = expect_context::<BrowseState>();
    let row = Memo::new(move |_| state.row(index));
    view! {
        <div class="sample-row"
            class:selected=move || state.selected.get() == Some(index)
            class:open=move || {
                row.with(|r| r.as_ref().map(|r| r.id.clone())) == state.open.get()
            }
            style:top=format!("{}px", index as f64 * ROW_HEIGHT)
            on:click=move |_| state.open_index(index)>
            {move || match row.get() {
                Some(row) => row_content(&row).into_any(),
                None => view! { <div class="row-loading muted">"…"</div> }.into_any(),
            }}
        </div>
    }
}

fn row_content(row: &SampleRow) -> impl IntoView {
    let title = match &row.snippet {
        Some(snippet) => text::highlight_parts(snippet)
            .into_iter()
            .map(|(part, hit)| {
                if hit {
                    view! { <mark>{part}</mark> }.into_any()
                } else {
                    part.into_any()
                }
            })
            .collect::<Vec<_>>(),
        None => vec![one_line(&row.question).into_any()],
    };
    let mut meta: Vec<String> = vec![format!("#{}", row.row_index + 1)];
    meta.extend(
        [&row.domain, &row.subject, &row.level, &row.source]
            .into_iter()
            .flatten()
            .filter(|v| !v.is_empty())
            .cloned(),
    );
    if let Some(tokens) = row.thinking_tokens {
        meta.push(format!("{} thinking tokens", text::count(tokens)));
    } else if row.has_trace {
        meta.push("has trace".into());
    }
    let answer = row.answer.as_deref().map(one_line);
    view! {
        <div class="row-title">{title}</div>
        <div class="row-meta">
            <span>{meta.join(" · ")}</span>
            {answer.map(|a| view! { <span class="row-answer">"answer: " {a}</span> })}
        </div>
    }
}

/// The first part of a text on one line (the row clips it with an ellipsis).
fn one_line(text: &str) -> String {
    text.chars().take(400).map(|c| if c.is_whitespace() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_only_the_rows_in_view() {
        assert_eq!(visible_range(0.0, 560.0, 107_000), 0..26);
        let r = visible_range(56.0 * 50_000.0, 560.0, 107_000);
        assert_eq!(r, 49_992..50_018);
        assert_eq!(visible_range(56.0 * 106_990.0, 560.0, 107_000).end, 107_000);
        assert!(visible_range(0.0, 560.0, 0).is_empty());
    }
}
