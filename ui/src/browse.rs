//! The sample browser: datasets and facets on the left, the table in the middle, the
//! detail of the open sample on the right. Owns the query and the keyboard shortcuts.

use crate::api;
use crate::app::{AppCtx, Page};
use crate::detail::DetailPane;
use crate::facets::FacetsPanel;
use crate::table::{SampleTable, ROW_HEIGHT};
use crate::text;
use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;
use std::time::Duration;
use thinkscope_protocol::{SampleFilter, SampleQuery, SampleRow, SampleSort};
use wasm_bindgen::JsCast;

/// Rows fetched per `query_samples` call.
pub const PAGE_SIZE: u32 = 100;
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(200);

/// The browser's state, shared by its parts.
#[derive(Clone, Copy)]
pub struct BrowseState {
    pub dataset: RwSignal<Option<String>>,
    /// What is typed; `search` follows it after a pause.
    pub search_input: RwSignal<String>,
    pub search: RwSignal<String>,
    pub filter: RwSignal<SampleFilter>,
    pub sort: RwSignal<SampleSort>,
    /// The query without paging; every change starts the table over.
    pub query: Memo<SampleQuery>,
    pub total: RwSignal<u64>,
    /// Fetched pages of the current query, by page number.
    pub pages: RwSignal<HashMap<u64, Vec<SampleRow>>>,
    /// Whether the first page of the current query has arrived.
    pub loaded: RwSignal<bool>,
    pub selected: RwSignal<Option<u64>>,
    /// The sample shown in the detail pane.
    pub open: RwSignal<Option<String>>,
    pub scroller: NodeRef<html::Div>,
    pub search_box: NodeRef<html::Input>,
    /// Bumped to fetch the same query again (the search index caught up).
    pub reload: RwSignal<u64>,
}

impl BrowseState {
    fn new(dataset: Option<String>) -> Self {
        let dataset = RwSignal::new(dataset);
        let search = RwSignal::new(String::new());
        let filter = RwSignal::new(SampleFilter::default());
        let sort = RwSignal::new(SampleSort::Default);
        let query = Memo::new(move |_| {
            let search = search.get().trim().to_string();
            SampleQuery {
                dataset_id: dataset.get(),
                search: (!search.is_empty()).then_some(search),
                filter: filter.get(),
                sort: sort.get(),
                limit: PAGE_SIZE,
                offset: 0,
            }
        });
        BrowseState {
            dataset,
            search_input: RwSignal::new(String::new()),
            search,
            filter,
            sort,
            query,
            total: RwSignal::new(0),
            pages: RwSignal::new(HashMap::new()),
            loaded: RwSignal::new(false),
            selected: RwSignal::new(None),
            open: RwSignal::new(None),
            scroller: NodeRef::new(),
            search_box: NodeRef::new(),
            reload: RwSignal::new(0),
        }
    }

    pub fn row(&self, index: u64) -> Option<SampleRow> {
        let page = index / PAGE_SIZE as u64;
        let at = (index % PAGE_SIZE as u64) as usize;
        self.pages.with(|pages| pages.get(&page).and_then(|rows| rows.get(at)).cloned())
    }

    pub fn open_index(&self, index: u64) {
        self.selected.set(Some(index));
        if let Some(row) = self.row(index) {
            self.open.set(Some(row.id));
        }
    }

    /// Moves the selection by `delta` rows, scrolling it into view; an open detail follows.
    fn step(&self, delta: i64) {
        let total = self.total.get_untracked();
        if total == 0 {
            return;
        }
        let next = match self.selected.get_untracked() {
            Some(i) => (i as i64 + delta).clamp(0, total as i64 - 1) as u64,
            None => 0,
        };
        self.selected.set(Some(next));
        if let Some(el) = self.scroller.get_untracked() {
            let top = next as f64 * ROW_HEIGHT;
            let view = el.client_height() as f64;
            let scroll = el.scroll_top() as f64;
            if top < scroll {
                el.set_scroll_top(top as i32);
            } else if top + ROW_HEIGHT > scroll + view {
                el.set_scroll_top((top + ROW_HEIGHT - view) as i32);
            }
        }
        if self.open.get_untracked().is_some() {
            self.open_index(next);
        }
    }
}

#[component]
pub fn BrowsePage(dataset: Option<String>) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let state = BrowseState::new(dataset);
    provide_context(state);

    // Rows of the datasets in view that search sees, and all of them: they differ while
    // the index catches up after an import. A search is fetched again as it grows, unless
    // the user has moved into the results (then only once the index has caught up).
    let coverage = Memo::new(move |_| {
        let scope = state.dataset.get();
        ctx.datasets.with(|list| {
            list.iter()
                .filter(|d| scope.as_ref().is_none_or(|id| *id == d.id))
                .fold((0, 0), |(indexed, rows), d| (indexed + d.indexed_rows, rows + d.rows))
        })
    });
    Effect::new(move |before: Option<(u64, u64)>| {
        let now = coverage.get();
        let grew = before.is_some_and(|(indexed, rows)| rows == now.1 && indexed != now.0);
        let searching = state.search.with_untracked(|s| !s.trim().is_empty());
        let untouched = state.selected.get_untracked().is_none()
            && state.scroller.get_untracked().is_none_or(|el| el.scroll_top() == 0);
        if grew && searching && (now.0 == now.1 || untouched) {
            state.reload.update(|n| *n += 1);
        }
        now
    });
    provide_context(coverage);

    let handle = window_event_listener(leptos::ev::keydown, move |ev| on_key(ctx, state, &ev));
    on_cleanup(move || handle.remove());

    view! {
        <div class="browse" class:with-detail=move || state.open.with(Option::is_some)>
            <aside class="sidebar">
                <DatasetList/>
                <FacetsPanel/>
            </aside>
            <section class="results">
                {move || state.dataset.get().map(|id| view! { <Charts dataset_id=id/> })}
                <Toolbar/>
                <SampleTable/>
            </section>
            <Show when=move || state.open.with(Option::is_some)>
                <DetailPane/>
            </Show>
        </div>
    }
}

fn on_key(ctx: AppCtx, state: BrowseState, ev: &KeyboardEvent) {
    if ctx.import.with_untracked(Option::is_some) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return;
    }
    let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let tag = target.as_ref().map(|t| t.tag_name()).unwrap_or_default();
    let in_search = target.as_ref().is_some_and(|t| t.id() == "search");
    let in_field = matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT");
    // Letters belong to whatever field has focus; arrows and Enter also drive the table
    // from the search box.
    let for_table = !in_field || in_search;
    // Enter on a button or a <summary> keeps its own meaning.
    let activates = matches!(tag.as_str(), "BUTTON" | "SUMMARY" | "A");
    match ev.key().as_str() {
        "/" if !in_field => {
            ev.prevent_default();
            if let Some(input) = state.search_box.get_untracked() {
                let _ = input.focus();
                input.select();
            }
        }
        "Escape" => {
            if state.open.with_untracked(Option::is_some) {
                state.open.set(None);
            } else if in_search {
                if let Some(input) = state.search_box.get_untracked() {
                    let _ = input.blur();
                }
            }
        }
        "ArrowDown" if for_table => {
            ev.prevent_default();
            state.step(1);
        }
        "ArrowUp" if for_table => {
            ev.prevent_default();
            state.step(-1);
        }
        "j" if !in_field => state.step(1),
        "k" if !in_field => state.step(-1),
        "Enter" if for_table && !activates => {
            let index = state.selected.get_untracked().unwrap_or(0);
            if state.total.get_untracked() > 0 {
                ev.prevent_default();
                state.open_index(index);
            }
        }
        _ => {}
    }
}

#[component]
fn DatasetList() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let state = expect_context::<BrowseState>();
    let choose = move |id: Option<String>| ctx.page.set(Page::Browse(id));
    view! {
        <nav class="dataset-list">
            <h3>"Datasets"</h3>
            <button class="facet-item" class:active=move || state.dataset.with(Option::is_none)
                on:click=move |_| choose(None)>
                <span>"All datasets"</span>
            </button>
            <For each=move || ctx.datasets.get() key=|d| d.id.clone() let:d>
                <button class="facet-item"
                    class:active={
                        let id = d.id.clone();
                        move || state.dataset.with(|s| s.as_deref() == Some(id.as_str()))
                    }
                    on:click={
                        let id = d.id.clone();
                        move |_| choose(Some(id.clone()))
                    }>
                    <span class="facet-value">{d.name.clone()}</span>
                    <span class="count">{text::count(d.rows)}</span>
                </button>
            </For>
        </nav>
    }
}

#[component]
fn Toolbar() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let state = expect_context::<BrowseState>();
    let coverage = expect_context::<Memo<(u64, u64)>>();
    let indexing_note = move || {
        let (indexed, rows) = coverage.get();
        (indexed < rows && state.query.with(|q| q.search.is_some())).then(|| {
            let (indexed, rows) = (text::count(indexed), text::count(rows));
            if ctx.read_only() {
                format!("This read-only library's search index covers {indexed} of {rows} rows; the rest are not searched")
            } else {
                format!("Indexing for search: matches among the first {indexed} of {rows} rows so far")
            }
        })
    };
    let typed = StoredValue::new(0u64);
    let on_input = move |ev| {
        let value = event_target_value(&ev);
        state.search_input.set(value.clone());
        typed.update_value(|n| *n += 1);
        let this = typed.get_value();
        set_timeout(
            move || {
                if typed.get_value() == this {
                    state.search.set(value);
                }
            },
            SEARCH_DEBOUNCE,
        );
    };
    let on_sort = move |ev| {
        state.sort.set(match event_target_value(&ev).as_str() {
            "length_asc" => SampleSort::LengthAsc,
            "length_desc" => SampleSort::LengthDesc,
            _ => SampleSort::Default,
        })
    };
    let summary = move || {
        let n = state.total.get();
        match (state.loaded.get(), state.query.with(|q| q.search.clone())) {
            (false, _) => "Loading…".to_string(),
            (true, Some(search)) => format!("{} for “{search}”", text::counted(n, "match", "matches")),
            (true, None) => text::counted(n, "sample", "samples"),
        }
    };
    view! {
        <div class="toolbar">
            <input id="search" type="search" node_ref=state.search_box autocomplete="off"
                placeholder="Search questions, solutions and traces   ( / )"
                prop:value=move || state.search_input.get() on:input=on_input/>
            <select class="sort" title="Sort" on:change=on_sort>
                <option value="default">"File order"</option>
                <option value="length_desc">"Longest trace first"</option>
                <option value="length_asc">"Shortest trace first"</option>
            </select>
            <span class="summary muted">{summary}</span>
        </div>
        {move || indexing_note().map(|note| view! { <div id="indexing-note" class="indexing-note muted small">{note}</div> })}
    }
}

/// The dataset's SVG charts, from our own plotters output (values are escaped there).
#[component]
fn Charts(dataset_id: String) -> impl IntoView {
    let charts = RwSignal::new(None);
    let error = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::dataset_charts(&dataset_id).await {
            Ok(c) => charts.set(Some(c)),
            Err(e) => error.set(Some(e.message)),
        }
    });
    view! {
        <details class="charts" open>
            <summary>"Overview"</summary>
            {move || error.get().map(|e| view! { <p class="error-text">{e}</p> })}
            {move || charts.get().map(|c| view! {
                <div class="chart-row">
                    <figure class="chart" inner_html=c.domain_svg></figure>
                    <figure class="chart" inner_html=c.length_svg></figure>
                </div>
            })}
        </details>
    }
}
