//! The native menu: File → Open Library…, Import Dataset…, Quit.

use crate::commands::{pick_file, switch_library, PickKind};
use crate::state::AppState;
use tauri::menu::{Menu, MenuBuilder, MenuEvent, MenuItemBuilder, SubmenuBuilder};
use tauri::{AppHandle, Emitter, Manager, Runtime};

const OPEN_LIBRARY: &str = "open-library";
const OPEN_LIBRARY_READ_ONLY: &str = "open-library-read-only";
const IMPORT: &str = "import";
/// Event telling the UI a menu item it handles was chosen; the payload is the item id.
const MENU_EVENT: &str = "menu";
/// Event carrying an error message from a menu action, for the UI to show.
const MENU_ERROR: &str = "menu-error";

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let file = SubmenuBuilder::new(app, "File")
        .item(&MenuItemBuilder::with_id(OPEN_LIBRARY, "Open Library…").accelerator("CmdOrCtrl+O").build(app)?)
        .item(&MenuItemBuilder::with_id(OPEN_LIBRARY_READ_ONLY, "Open Library Read-Only…").build(app)?)
        .item(&MenuItemBuilder::with_id(IMPORT, "Import Dataset…").accelerator("CmdOrCtrl+I").build(app)?)
        .separator()
        .quit()
        .build()?;
    MenuBuilder::new(app).item(&file).build()
}

pub fn handle(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    match id {
        OPEN_LIBRARY | OPEN_LIBRARY_READ_ONLY => {
            let app = app.clone();
            let read_only = id == OPEN_LIBRARY_READ_ONLY;
            tauri::async_runtime::spawn(async move {
                let Some(path) = pick_file(&app, PickKind::Library).await else { return };
                let state = app.state::<AppState>();
                if let Err(e) = switch_library(&app, &state, &path, read_only).await {
                    let message = format!("{}: {}", path.display(), e.message);
                    if let Err(e) = app.emit(MENU_ERROR, &message) {
                        tracing::error!("{message} (and the UI could not be told: {e})");
                    }
                }
            });
        }
        IMPORT => {
            if let Err(e) = app.emit(MENU_EVENT, IMPORT) {
                tracing::warn!("cannot forward menu event: {e}");
            }
        }
        _ => {}
    }
}
