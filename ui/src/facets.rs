//! The facets sidebar: counts per domain, subject, source, level and trace presence for the
//! current query; clicking a value filters on it.

use crate::api;
use crate::app::AppCtx;
use crate::browse::BrowseState;
use crate::text;
use leptos::prelude::*;
use leptos::task::spawn_local;
use thinkscope_protocol::{FacetCount, Facets, SampleFilter};

/// Values shown per facet before "show all".
const SHORT_LIST: usize = 8;

type Field = fn(&mut SampleFilter) -> &mut Option<String>;

#[component]
pub fn FacetsPanel() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let state = expect_context::<BrowseState>();
    let facets = RwSignal::new(Facets::default());
    let latest = StoredValue::new(0u64);
    Effect::new(move |_| {
        let query = state.query.get();
        state.reload.track();
        latest.update_value(|n| *n += 1);
        let this = latest.get_value();
        spawn_local(async move {
            let result = api::facets(&query).await;
            if latest.get_value() != this {
                return;
            }
            match result {
                Ok(f) => facets.set(f),
                Err(e) => ctx.notice.set(Some(e.message)),
            }
        });
    });

    let any_filter = move || state.filter.with(|f| *f != SampleFilter::default());
    view! {
        <div class="facets">
            <div class="facets-head">
                <h3>"Filters"</h3>
                <Show when=any_filter>
                    <button class="link" on:click=move |_| state.filter.set(SampleFilter::default())>
                        "Clear"
                    </button>
                </Show>
            </div>
            <FacetList title="Domain" counts=Signal::derive(move || facets.get().domain)
                field=|f| &mut f.domain/>
            <FacetList title="Subject" counts=Signal::derive(move || facets.get().subject)
                field=|f| &mut f.subject/>
            <FacetList title="Source" counts=Signal::derive(move || facets.get().source)
                field=|f| &mut f.source/>
            <FacetList title="Level" counts=Signal::derive(move || facets.get().level)
                field=|f| &mut f.level/>
            <TraceFacet counts=Signal::derive(move || facets.get().has_trace)/>
            <TokenRange range=Signal::derive(move || facets.get().thinking_tokens_range)/>
        </div>
    }
}

#[component]
fn FacetList(title: &'static str, counts: Signal<Vec<FacetCount>>, field: Field) -> impl IntoView {
    let state = expect_context::<BrowseState>();
    let show_all = RwSignal::new(false);
    let chosen = move || state.filter.with(|f| field(&mut f.clone()).clone());
    let toggle = move |value: String| {
        state.filter.update(|f| {
            let slot = field(f);
            *slot = if slot.as_deref() == Some(value.as_str()) { None } else { Some(value) };
        })
    };
    let shown = move || {
        let all = counts.get();
        if show_all.get() { all } else { all.into_iter().take(SHORT_LIST).collect() }
    };
    view! {
        <Show when=move || !counts.with(Vec::is_empty) || chosen().is_some()>
            <section class="facet">
                <h4>{title}</h4>
                <For each=shown key=|c| (c.value.clone(), c.count) let:c>
                    <button class="facet-item"
                        class:active={
                            let value = c.value.clone();
                            move || chosen().as_deref() == Some(value.as_str())
                        }
                        on:click={
                            let value = c.value.clone();
                            move |_| toggle(value.clone())
                        }>
                        <span class="facet-value">
                            {if c.value.is_empty() { "(none)".to_string() } else { c.value.clone() }}
                        </span>
                        <span class="count">{text::count(c.count)}</span>
                    </button>
                </For>
                <Show when=move || !show_all.get() && counts.with(|c| c.len() > SHORT_LIST)>
                    <button class="link small" on:click=move |_| show_all.set(true)>
                        {move || format!("Show all {}", counts.with(Vec::len))}
                    </button>
                </Show>
            </section>
        </Show>
    }
}

#[component]
fn TraceFacet(counts: Signal<Vec<FacetCount>>) -> impl IntoView {
    let state = expect_context::<BrowseState>();
    let count_of = move |value: &str| {
        counts.with(|c| c.iter().find(|c| c.value == value).map_or(0, |c| c.count))
    };
    let option = move |label: &'static str, value: bool| {
        let key = if value { "true" } else { "false" };
        view! {
            // An option that would show nothing is greyed out, unless it is the active one.
            <button class="facet-item"
                disabled=move || count_of(key) == 0 && state.filter.with(|f| f.has_trace != Some(value))
                class:active=move || state.filter.with(|f| f.has_trace == Some(value))
                on:click=move |_| state.filter.update(|f| {
                    f.has_trace = if f.has_trace == Some(value) { None } else { Some(value) };
                })>
                <span class="facet-value">{label}</span>
                <span class="count">{move || text::count(count_of(key))}</span>
            </button>
        }
    };
    view! {
        <Show when=move || !counts.with(Vec::is_empty)>
            <section class="facet">
                <h4>"Thinking trace"</h4>
                {option("with trace", true)}
                {option("without trace", false)}
            </section>
        </Show>
    }
}

#[component]
fn TokenRange(range: Signal<Option<[u64; 2]>>) -> impl IntoView {
    let state = expect_context::<BrowseState>();
    let parse = |ev| event_target_value(&ev).trim().parse::<u64>().ok();
    view! {
        <Show when=move || range.get().is_some()
            || state.filter.with(|f| f.min_thinking_tokens.is_some() || f.max_thinking_tokens.is_some())>
            <section class="facet">
                <h4>"Thinking tokens"</h4>
                <div class="range">
                    <input type="number" min="0" aria-label="Minimum thinking tokens"
                        placeholder=move || range.get().map(|r| r[0].to_string()).unwrap_or_default()
                        prop:value=move || state.filter.with(|f| f.min_thinking_tokens.map(|v| v.to_string()).unwrap_or_default())
                        on:change=move |ev| state.filter.update(|f| f.min_thinking_tokens = parse(ev))/>
                    <span>"–"</span>
                    <input type="number" min="0" aria-label="Maximum thinking tokens"
                        placeholder=move || range.get().map(|r| r[1].to_string()).unwrap_or_default()
                        prop:value=move || state.filter.with(|f| f.max_thinking_tokens.map(|v| v.to_string()).unwrap_or_default())
                        on:change=move |ev| state.filter.update(|f| f.max_thinking_tokens = parse(ev))/>
                </div>
            </section>
        </Show>
    }
}
