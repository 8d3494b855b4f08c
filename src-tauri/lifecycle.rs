//! The windows' life: the main window is made after the plugins that watch it, closing it hides it
//! to the tray where a tray can really be shown, and the driver is told whether any window is
//! visible — hidden and minimised windows get no frames.

use std::sync::atomic::{AtomicBool, Ordering};

use pressroom_client::driver::{Command, DriverHandle};
use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder, Window, WindowEvent};

use crate::commands::SettingsState;
use crate::tray::TrayStatus;

pub const MAIN: &str = "main";

/// Whether the driver was last told that a window is visible.
pub struct Visibility(AtomicBool);

impl Default for Visibility {
    fn default() -> Self {
        Visibility(AtomicBool::new(true))
    }
}

/// Creates the main window from its configuration (`"create": false` there, so that the
/// window-state plugin, registered first, restores its size and place).
pub fn create_main<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let config = app.config().app.windows.iter().find(|w| w.label == MAIN).cloned();
    let config = config.expect("tauri.conf.json configures the main window");
    WebviewWindowBuilder::from_config(app, &config)?.build()?;
    Ok(())
}

pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let app = window.app_handle();
    match event {
        WindowEvent::CloseRequested { api, .. } if window.label() == MAIN && closes_to_tray(app) => {
            tracing::info!("main window closed: hiding it to the tray");
            api.prevent_close();
            if let Err(error) = window.hide() {
                tracing::warn!(%error, "could not hide the window");
            }
        }
        WindowEvent::Focused(true) => {
            if let Some(tray) = app.try_state::<TrayStatus<R>>() {
                tray.seen();
            }
        }
        _ => {}
    }
    update_visibility(app);
}

/// Tells the driver when the answer to "is any window visible?" changes.
pub fn update_visibility<R: Runtime>(app: &AppHandle<R>) {
    let visible = app
        .webview_windows()
        .values()
        .any(|w| w.is_visible().unwrap_or(true) && !w.is_minimized().unwrap_or(false));
    let (Some(last), Some(driver)) = (app.try_state::<Visibility>(), app.try_state::<DriverHandle>()) else {
        return;
    };
    if last.0.swap(visible, Ordering::Relaxed) != visible {
        tracing::debug!(visible, "window visibility");
        driver.send(Command::SetVisible(visible));
    }
}

/// Closing hides to the tray only if the user wants it and a tray is really shown.
fn closes_to_tray<R: Runtime>(app: &AppHandle<R>) -> bool {
    let wanted =
        app.try_state::<SettingsState>().is_some_and(|s| s.0.lock().is_ok_and(|s| s.values.close_to_tray));
    wanted && app.try_state::<TrayStatus<R>>().is_some() && tray_is_shown()
}

/// On Linux a tray icon shows only where a StatusNotifier watcher owns its name on the session
/// bus (KDE, GNOME with the AppIndicator extension, most panels); elsewhere the tray is built in.
#[cfg(target_os = "linux")]
pub fn tray_is_shown() -> bool {
    let owned = || -> zbus::Result<bool> {
        let bus = zbus::blocking::Connection::session()?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
        Ok(dbus.name_has_owner("org.kde.StatusNotifierWatcher".try_into()?)?)
    };
    owned().unwrap_or_else(|error| {
        tracing::debug!(%error, "cannot ask the session bus for a tray");
        false
    })
}

#[cfg(not(target_os = "linux"))]
pub fn tray_is_shown() -> bool {
    true
}
