//! The thinkscope desktop app: a Tauri v2 shell over the core crates.
//!
//! The shell holds no logic of its own: commands forward to `thinkscope_store` and
//! `thinkscope_datasets`, and the Leptos UI (built to `ui/dist`) renders the results.

// Release builds on Windows would otherwise open a console next to the window.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod indexer;
mod menu;
mod state;

use state::AppState;
use std::path::PathBuf;
use thinkscope_store::{OpenMode, Store};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into()),
        )
        .init();

    let path = Store::resolve_path(db_arg(std::env::args().skip(1)));
    let store = match tauri::async_runtime::block_on(Store::open(&path, OpenMode::ReadWrite)) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("thinkscope: cannot open library {}: {e}", path.display());
            std::process::exit(1);
        }
    };

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState::new(store))
        // Finishes an index an earlier session left behind (the app closed mid-build).
        .setup(|app| {
            indexer::spawn(app.handle().clone());
            Ok(())
        })
        .menu(menu::build)
        .on_menu_event(menu::handle)
        .invoke_handler(tauri::generate_handler![
            commands::library_info,
            commands::open_library,
            commands::pick_path,
            commands::list_datasets,
            commands::delete_dataset,
            commands::preview_import,
            commands::import_dataset,
            commands::cancel_import,
            commands::query_samples,
            commands::facets,
            commands::sample_detail,
            commands::dataset_charts,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("thinkscope: {e}");
        std::process::exit(1);
    }
}

/// `--db PATH` / `--db=PATH`; otherwise the store falls back to `$THINKSCOPE_DB` or the default.
fn db_arg(args: impl Iterator<Item = String>) -> Option<PathBuf> {
    let mut args = args;
    while let Some(arg) = args.next() {
        if arg == "--db" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--db=") {
            return Some(PathBuf::from(path));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::db_arg;
    use std::path::PathBuf;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter().map(|s| s.to_string()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn db_flag_in_both_spellings() {
        assert_eq!(db_arg(args(&["--db", "/x/a.db"])), Some(PathBuf::from("/x/a.db")));
        assert_eq!(db_arg(args(&["-v", "--db=/y.db"])), Some(PathBuf::from("/y.db")));
        assert_eq!(db_arg(args(&["--other"])), None);
        assert_eq!(db_arg(args(&["--db"])), None);
    }
}
