//! The Tauri side of the backend: where frames and states go (every window and the tray), where
//! notifications and cache writes go, and the tray itself. Thin: the logic is elsewhere.

use std::sync::mpsc;

use pressroom_protocol::{ConnectionState, ConnectionView, Frame};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tokio::sync::watch;

use crate::driver::{Command, DriverHandle};
use crate::events::Outlet;
use crate::notifier::Notice;
use crate::presenter::Observer;
use crate::state::SharedDashboard;

/// Emits to every window, and keeps the tray's state line current.
pub struct AppOutlet<R: Runtime> {
    pub app: AppHandle<R>,
    pub tray: Option<TrayMenu<R>>,
}

impl<R: Runtime> Outlet for AppOutlet<R> {
    fn connection(&self, view: &ConnectionView) {
        self.app.connection(view);
        if let Some(tray) = &self.tray {
            tray.show(view);
        }
    }

    fn frame(&self, frame: &Frame) {
        self.app.frame(frame);
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

/// Shows notices as native notifications; clicking one brings the main window forward.
pub fn spawn_notification_thread<R: Runtime>(app: AppHandle<R>) -> mpsc::Sender<Notice> {
    crate::native::spawn(move || focus_main(&app))
}

pub fn focus_main<R: Runtime>(app: &AppHandle<R>) {
    let window = app.get_webview_window("main").or_else(|| app.webview_windows().into_values().next());
    match window {
        Some(window) => {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
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

/// The tray menu's items that change.
pub struct TrayMenu<R: Runtime> {
    state: MenuItem<R>,
    pause: MenuItem<R>,
}

impl<R: Runtime> TrayMenu<R> {
    fn show(&self, view: &ConnectionView) {
        let _ = self.pause.set_text(if view.paused.is_some() { "Resume" } else { "Pause" });
        let mut text = format!("Pressroom: {}", view.state.label());
        if let Some(unseen) = view.paused {
            text.push_str(&format!(" (paused, {unseen} new)"));
        }
        if let ConnectionState::Reconnecting { attempt, .. } = view.state {
            text.push_str(&format!(" (attempt {attempt})"));
        }
        let _ = self.state.set_text(text);
    }
}

/// Builds the tray icon: the state, then Show, Pause / Resume, New window, Quit.
pub fn build_tray<R: Runtime>(app: &AppHandle<R>, driver: DriverHandle) -> tauri::Result<TrayMenu<R>> {
    let state = MenuItem::with_id(app, "state", "Pressroom: Connecting", false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause", true, None::<&str>)?;
    let window = MenuItem::with_id(app, "new-window", "New window", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&state, &separator, &show, &pause, &window, &quit])?;
    let mut builder = TrayIconBuilder::with_id("pressroom").tooltip("Pressroom").menu(&menu).on_menu_event(
        move |app, event| match event.id().as_ref() {
            "show" => focus_main(app),
            "pause" => {
                let paused = app.state::<SharedDashboard>().connection().paused.is_some();
                driver.send(if paused { Command::Resume } else { Command::Pause });
            }
            "new-window" => {
                if let Err(error) = open_window(app) {
                    tracing::warn!(%error, "could not open a window");
                }
            }
            "quit" => app.exit(0),
            _ => {}
        },
    );
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(TrayMenu { state, pause })
}
