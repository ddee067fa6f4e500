//! The detail pane: one sample with its question, choices, answer, solution, traces and
//! tests, Markdown and LaTeX rendered.

use crate::api;
use crate::browse::BrowseState;
use crate::{katex, markdown, text};
use leptos::prelude::*;
use leptos::task::spawn_local;
use thinkscope_protocol::{SampleDetail, TokenCount, Trace, TraceKind};
use wasm_bindgen::JsCast;

#[component]
pub fn DetailPane() -> impl IntoView {
    let state = expect_context::<BrowseState>();
    let detail = RwSignal::new(None::<Result<SampleDetail, String>>);
    Effect::new(move |_| {
        let Some(id) = state.open.get() else { return };
        detail.set(None);
        spawn_local(async move {
            let result = api::sample_detail(&id).await.map_err(|e| e.message);
            // Ignore a reply for a sample that is no longer the open one.
            if state.open.with_untracked(|open| open.as_deref() == Some(id.as_str())) {
                detail.set(Some(result));
            }
        });
    });
    view! {
        <aside class="detail" aria-label="Sample detail">
            <button class="close" title="Close (Esc)" on:click=move |_| state.open.set(None)>"×"</button>
            {move || match detail.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error-text">{message}</p> }.into_any(),
                Some(Ok(d)) => sample_view(d).into_any(),
            }}
        </aside>
    }
}

/// Markdown + LaTeX as HTML: the renderer escapes everything from the dataset and KaTeX
/// writes the formulas, so the result is safe to insert.
fn rich(text: &str) -> impl IntoView {
    view! { <div class="md" inner_html=markdown::render(text, katex::render)></div> }
}

fn tokens_label(counts: &[TokenCount]) -> String {
    counts
        .iter()
        .map(|c| format!("{} tokens ({})", text::count(c.tokens), c.tokenizer))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sample_view(d: SampleDetail) -> impl IntoView {
    let row = d.row;
    let badges: Vec<String> = [&row.domain, &row.subject, &row.level, &row.source]
        .into_iter()
        .flatten()
        .filter(|v| !v.is_empty())
        .cloned()
        .collect();
    let heading = match &row.external_id {
        Some(id) => format!("{} · {id}", d.dataset_name),
        None => format!("{} · row {}", d.dataset_name, row.row_index + 1),
    };
    let question_tokens = d.token_counts.get("question").map(|c| tokens_label(c));
    let choices = row.choices.clone().map(|choices| {
        let correct = d.correct_choice.map(|c| c as usize);
        view! {
            <section>
                <h3>"Choices"</h3>
                <ol class="choices">
                    {choices.into_iter().enumerate().map(|(i, choice)| {
                        let is_correct = correct == Some(i);
                        view! {
                            <li class:correct=is_correct>
                                <span class="choice-label">{text::choice_label(i)}</span>
                                {rich(&choice)}
                                {is_correct.then(|| view! { <span class="correct-mark">"✓ correct"</span> })}
                            </li>
                        }
                    }).collect::<Vec<_>>()}
                </ol>
            </section>
        }
    });
    let answer = row.answer.clone().map(|a| view! {
        <section><h3>"Answer"</h3><div class="answer">{rich(&a)}</div></section>
    });
    let solution = d.solution.map(|s| view! {
        <section><h3>"Solution"</h3>{rich(&s)}</section>
    });
    let traces = (!d.traces.is_empty()).then(|| view! {
        <section>
            <h3>"Traces"</h3>
            {d.traces.into_iter().map(|t| view! { <TraceView trace=t/> }).collect::<Vec<_>>()}
        </section>
    });
    let tests = d.tests.map(|tests| view! {
        <section>
            <h3>"Tests"</h3>
            {d.entry_point.map(|e| view! { <p class="muted">"Entry point: " <code>{e}</code></p> })}
            <pre class="code">{tests}</pre>
        </section>
    });
    let grades = (!d.grades.is_empty()).then(|| view! {
        <section>
            <h3>"Grades"</h3>
            <dl class="grades">
                {d.grades.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect::<Vec<_>>()}
            </dl>
        </section>
    });
    let original = serde_json::to_string_pretty(&d.original).unwrap_or_default();
    view! {
        <article class="sample">
            <header>
                <h2>{heading}</h2>
                <div class="badges">
                    {badges.into_iter().map(|b| view! { <span class="badge">{b}</span> }).collect::<Vec<_>>()}
                </div>
            </header>
            <section>
                <h3>"Question" {question_tokens.map(|t| view! { <span class="muted small">" · " {t}</span> })}</h3>
                {rich(&row.question)}
            </section>
            {choices}
            {answer}
            {solution}
            {traces}
            {tests}
            {grades}
            <details class="original">
                <summary>"Source row"</summary>
                <pre class="code">{original}</pre>
            </details>
        </article>
    }
}

/// A collapsible trace; its text is rendered the first time it is opened, since traces run
/// to tens of thousands of tokens.
#[component]
fn TraceView(trace: Trace) -> impl IntoView {
    let opened = RwSignal::new(false);
    let kind = match trace.kind {
        TraceKind::Thinking => "Thinking",
        TraceKind::Attempt => "Attempt",
    };
    let label = if trace.label.is_empty() { String::new() } else { format!(" — {}", trace.label) };
    let tokens = tokens_label(&trace.tokens);
    let body = trace.text;
    let on_toggle = move |ev: leptos::ev::Event| {
        let open = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .is_some_and(|d| d.open());
        if open {
            opened.set(true);
        }
    };
    view! {
        <details class="trace" on:toggle=on_toggle>
            <summary>
                <span class="trace-kind">{kind}{label}</span>
                <span class="muted small">{format!("{} chars", text::count(body.chars().count() as u64))}
                    {(!tokens.is_empty()).then(|| format!(" · {tokens}"))}</span>
            </summary>
            {move || opened.get().then(|| rich(&body))}
        </details>
    }
}
