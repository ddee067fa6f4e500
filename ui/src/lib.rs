//! The Leptos CSR front end, built to wasm and served by the Tauri shell from `ui/dist`.
//!
//! Pages: the library (datasets, import), and the browser (facets, virtualised sample
//! table, detail with Markdown and KaTeX). All data comes from the shell's commands.

mod api;
mod app;
mod browse;
mod detail;
mod facets;
mod import;
mod katex;
mod library;
mod markdown;
mod table;
mod tauri;
mod text;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
