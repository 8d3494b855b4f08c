//! macOS: the app menu — Settings… (⌘,) and Quit (⌘Q) by the same exit path as the tray's Quit,
//! the Edit menu without which the webview's text fields get no ⌘C, ⌘V, ⌘X, ⌘A or ⌘Z, and the
//! Window menu — and the Dock's reopen (a click on the icon while no window shows) showing the
//! main window.

use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, RunEvent, Runtime};

use crate::app::{focus_main, open_window};

const SETTINGS: &str = "app-settings";
const QUIT: &str = "app-quit";
const NEW_WINDOW: &str = "app-new-window";

/// Replaces Tauri's default macOS menu with Pressroom's.
pub fn install_menu<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    app.set_menu(menu(app)?)?;
    app.on_menu_event(on_menu_event);
    Ok(())
}

fn menu<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let separator = || PredefinedMenuItem::separator(app);
    let pressroom = Submenu::with_items(
        app,
        "Pressroom",
        true,
        &[
            &PredefinedMenuItem::about(app, None, None)?,
            &separator()?,
            &MenuItem::with_id(app, SETTINGS, "Settings…", true, Some("CmdOrCtrl+,"))?,
            &separator()?,
            &PredefinedMenuItem::services(app, None)?,
            &separator()?,
            &PredefinedMenuItem::hide(app, None)?,
            &PredefinedMenuItem::hide_others(app, None)?,
            &PredefinedMenuItem::show_all(app, None)?,
            &separator()?,
            &MenuItem::with_id(app, QUIT, "Quit Pressroom", true, Some("CmdOrCtrl+Q"))?,
        ],
    )?;
    let edit = Submenu::with_items(
        app,
        "Edit",
        true,
        &[
            &PredefinedMenuItem::undo(app, None)?,
            &PredefinedMenuItem::redo(app, None)?,
            &separator()?,
            &PredefinedMenuItem::cut(app, None)?,
            &PredefinedMenuItem::copy(app, None)?,
            &PredefinedMenuItem::paste(app, None)?,
            &PredefinedMenuItem::select_all(app, None)?,
        ],
    )?;
    let window = Submenu::with_items(
        app,
        "Window",
        true,
        &[
            &MenuItem::with_id(app, NEW_WINDOW, "New Window", true, Some("CmdOrCtrl+N"))?,
            &separator()?,
            &PredefinedMenuItem::minimize(app, None)?,
            &PredefinedMenuItem::maximize(app, None)?,
            &PredefinedMenuItem::fullscreen(app, None)?,
            &separator()?,
            &PredefinedMenuItem::close_window(app, None)?,
        ],
    )?;
    Menu::with_items(app, &[&pressroom, &edit, &window])
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    match event.id().as_ref() {
        SETTINGS => open_settings(app),
        QUIT => app.exit(0),
        NEW_WINDOW => {
            if let Err(error) = open_window(app) {
                tracing::warn!(%error, "could not open a window");
            }
        }
        _ => {}
    }
}

/// Opens the settings in the focused window (else the main one) as the dashboard's own ⌘,
/// does: the menu's accelerator takes that key before the webview sees it, so the menu hands
/// the webview the same keystroke.
fn open_settings<R: Runtime>(app: &AppHandle<R>) {
    let focused = app.webview_windows().into_values().find(|w| w.is_focused().unwrap_or(false));
    let window = match focused {
        Some(window) => window,
        None => {
            focus_main(app);
            let Some(main) = app.get_webview_window(crate::lifecycle::MAIN) else { return };
            main
        }
    };
    let keystroke = "document.dispatchEvent(new KeyboardEvent('keydown', {key: ',', metaKey: true}))";
    if let Err(error) = window.eval(keystroke) {
        tracing::warn!(%error, "could not open the settings");
    }
}

/// A click on the Dock icon while no window is visible (closed to the tray, or all closed)
/// shows the main window again.
pub fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: &RunEvent) {
    if let RunEvent::Reopen { has_visible_windows: false, .. } = event {
        focus_main(app);
    }
}
