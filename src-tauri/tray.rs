//! The tray: the connection state and how many job orders arrived since a window last had focus,
//! then Show, Pause / Resume, New window, Quit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pressroom_client::driver::{Command, DriverHandle};
use pressroom_client::state::SharedDashboard;
use pressroom_protocol::{ConnectionState, ConnectionView};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

use crate::app::{focus_main, open_window};

/// The tray follows the dashboard at most this often (it is read while hidden too).
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

pub struct TrayStatus<R: Runtime>(Arc<Inner<R>>);

impl<R: Runtime> Clone for TrayStatus<R> {
    fn clone(&self) -> Self {
        TrayStatus(self.0.clone())
    }
}

struct Inner<R: Runtime> {
    state: MenuItem<R>,
    pause: MenuItem<R>,
    shown: Mutex<Shown>,
}

#[derive(Default)]
struct Shown {
    view: Option<ConnectionView>,
    job_orders: u64,
    /// The job-order total when a window last had focus (or when first known).
    seen: Option<u64>,
    /// What the menu shows now: (state line, pause label).
    rendered: (String, &'static str),
}

impl Shown {
    fn render(&self) -> (String, &'static str) {
        let Some(view) = &self.view else { return ("Pressroom: Connecting".to_owned(), "Pause") };
        let mut text = format!("Pressroom: {}", view.state.label());
        if let ConnectionState::Reconnecting { attempt, .. } = view.state {
            text.push_str(&format!(" (attempt {attempt})"));
        }
        if let Some(unseen) = view.paused {
            text.push_str(&format!(" (paused, {unseen} new)"));
        }
        let new = self.job_orders.saturating_sub(self.seen.unwrap_or(self.job_orders));
        if new > 0 {
            text.push_str(&format!(" · {new} new job order{}", if new == 1 { "" } else { "s" }));
        }
        (text, if view.paused.is_some() { "Resume" } else { "Pause" })
    }
}

impl<R: Runtime> TrayStatus<R> {
    pub fn connection(&self, view: &ConnectionView) {
        self.update(|shown| shown.view = Some(view.clone()));
    }

    pub fn job_orders(&self, total: u64) {
        self.update(|shown| {
            shown.job_orders = total;
            shown.seen.get_or_insert(total);
        });
    }

    /// A window has focus: what arrived so far has been seen.
    pub fn seen(&self) {
        self.update(|shown| shown.seen = Some(shown.job_orders));
    }

    /// Changes the menu's text outside the lock: setting it waits for the main thread, which may
    /// itself be waiting for this lock (a focus event).
    fn update(&self, change: impl FnOnce(&mut Shown)) {
        let changed = {
            let mut shown = self.0.shown.lock().unwrap_or_else(|p| p.into_inner());
            change(&mut shown);
            let next = shown.render();
            (next != shown.rendered).then(|| {
                shown.rendered = next.clone();
                next
            })
        };
        if let Some((text, pause)) = changed {
            let _ = self.0.state.set_text(text);
            let _ = self.0.pause.set_text(pause);
        }
    }
}

/// Keeps the tray's job-order count current, whether or not a window shows it.
pub async fn follow_job_orders<R: Runtime>(
    tray: TrayStatus<R>,
    dashboard: SharedDashboard,
    mut changed: watch::Receiver<u64>,
) {
    while changed.changed().await.is_ok() {
        tray.job_orders(dashboard.job_orders());
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// Builds the tray icon and its menu.
pub fn build<R: Runtime>(app: &AppHandle<R>, driver: DriverHandle) -> tauri::Result<TrayStatus<R>> {
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
    Ok(TrayStatus(Arc::new(Inner { state, pause, shown: Mutex::new(Shown::default()) })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_line_counts_job_orders_since_focus() {
        let mut shown = Shown { view: Some(ConnectionView::new(ConnectionState::Live)), ..Shown::default() };
        shown.job_orders = 10;
        shown.seen = Some(10);
        assert_eq!(shown.render().0, "Pressroom: Live");
        shown.job_orders = 13;
        assert_eq!(shown.render().0, "Pressroom: Live · 3 new job orders");
        shown.view.as_mut().unwrap().paused = Some(2);
        assert_eq!(
            shown.render(),
            ("Pressroom: Live (paused, 2 new) · 3 new job orders".to_owned(), "Resume")
        );
        shown.seen = Some(13);
        shown.job_orders = 1; // another epoch: never a negative count
        assert_eq!(shown.render().0, "Pressroom: Live (paused, 2 new)");
    }
}
