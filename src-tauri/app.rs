//! The Tauri side of the backend: where frames and states go (every window and the tray), where
//! notifications and cache writes go, and the windows. Thin: the logic is elsewhere.

use std::sync::mpsc;

use pressroom_client::notifier::Notice;
use pressroom_client::{Observer, Outlet};
use pressroom_protocol::view::{CONNECTION_EVENT, FRAME_EVENT};
use pressroom_protocol::{ConnectionView, Frame};
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tokio::sync::watch;

use crate::notes::{Notes, NO_NOTIFICATION_SERVICE};
use crate::tray::TrayStatus;

/// Emits to every window, and keeps the tray's state line current.
pub struct AppOutlet<R: Runtime> {
    pub app: AppHandle<R>,
    pub tray: Option<TrayStatus<R>>,
}

impl<R: Runtime> Outlet for AppOutlet<R> {
    fn connection(&self, view: &ConnectionView) {
        if let Err(error) = self.app.emit(CONNECTION_EVENT, view) {
            tracing::warn!(%error, "could not emit the connection state");
        }
        if let Some(tray) = &self.tray {
            tray.connection(view);
        }
    }

    fn frame(&self, frame: &Frame) {
        if let Err(error) = self.app.emit(FRAME_EVENT, frame) {
            tracing::warn!(%error, "could not emit a frame");
        }
    }
}

/// Tells the cache writer that something changed, and hands notices to the notification thread.
pub struct AppObserver {
    pub changes: watch::Sender<u64>,
    pub notices: mpsc::Sender<Notice>,
}

impl Observer for AppObserver {
    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn notify(&self, notice: Notice) {
        let _ = self.notices.send(notice);
    }
}

/// Shows notices as native notifications; clicking one brings the main window forward. Without a
/// notification service the settings view says so (once).
pub fn spawn_notification_thread<R: Runtime>(app: AppHandle<R>, notes: Notes) -> mpsc::Sender<Notice> {
    let clicked = app.clone();
    let identifier = app.config().identifier.clone();
    crate::native::spawn(
        &identifier,
        move || focus_main(&clicked),
        move || {
            if notes.add(NO_NOTIFICATION_SERVICE) {
                crate::commands::emit_settings(&app);
            }
        },
    )
}

pub fn focus_main<R: Runtime>(app: &AppHandle<R>) {
    let window =
        app.get_webview_window(crate::lifecycle::MAIN).or_else(|| app.webview_windows().into_values().next());
    match window {
        Some(window) => {
            // Shown before unminimised: deiconifying a withdrawn (hidden) window first can leave
            // it unmapped under some window managers.
            let _ = window.show();
            let _ = window.unminimize();
            let _ = window.set_focus();
            crate::lifecycle::update_visibility(app);
        }
        None => {
            let _ = open_window(app);
        }
    }
}

/// Opens another dashboard window; every window gets the same frames from the one connection.
pub fn open_window<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<String> {
    let label = (1..)
        .map(|n| format!("dashboard-{n}"))
        .find(|l| app.get_webview_window(l).is_none())
        .expect("a free label");
    WebviewWindowBuilder::new(app, &label, WebviewUrl::default())
        .title("Pressroom")
        .inner_size(1280.0, 800.0)
        .min_inner_size(900.0, 600.0)
        .build()?;
    Ok(label)
}
