//! The tray: the connection state and how many job orders arrived since a window last had focus,
//! then Show, Pause / Resume, New window, Quit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pressroom_client::driver::{Command, DriverHandle};
use pressroom_client::state::SharedDashboard;
use pressroom_protocol::{ConnectionState, ConnectionView};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

use crate::app::{focus_main, open_window};

/// The tray follows the dashboard at most this often (it is read while hidden too).
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The tray's picture (made by `scripts/make-icons`). A panel's colours cannot be asked cheaply
/// or reliably (a StatusNotifier host draws its own panel, and a dark top bar over a light theme
/// is common), so on Linux and Windows one picture reads on both: the blue tile, outlined light.
#[cfg(not(target_os = "macos"))]
const TRAY_ICON: Image<'static> = tauri::include_image!("icons/tray.png");
/// macOS draws a template (the mark alone, in black) in the menu bar's own colour, light or dark.
#[cfg(target_os = "macos")]
const TRAY_ICON: Image<'static> = tauri::include_image!("icons/tray-template.png");

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
    let builder = TrayIconBuilder::with_id("pressroom").tooltip("Pressroom").menu(&menu).on_menu_event(
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
    builder.icon(TRAY_ICON).icon_as_template(cfg!(target_os = "macos")).build(app)?;
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

    /// WCAG's relative luminance of an sRGB colour.
    fn luminance(rgb: [f64; 3]) -> f64 {
        let linear = |c: f64| {
            let c = c / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    }

    fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// The picture's pixel at (x, y) drawn over `panel`, and how covered it is (0 to 1).
    fn over(image: &Image<'_>, panel: [f64; 3], x: usize, y: usize) -> ([f64; 3], f64) {
        let at = (y * image.width() as usize + x) * 4;
        let pixel = &image.rgba()[at..at + 4];
        let alpha = f64::from(pixel[3]) / 255.0;
        let mix = |i: usize| f64::from(pixel[i]) * alpha + panel[i] * (1.0 - alpha);
        ([mix(0), mix(1), mix(2)], alpha)
    }

    /// On light and dark panels alike, the tray picture's edge shows where its shape begins:
    /// walking in from each side along the rows and columns through its middle, a pixel that
    /// contrasts at least 3:1 with the panel (WCAG's bar for a graphical object) comes within
    /// 5 px of the first covered one — the blue tile on a light panel, its outline on a dark one.
    #[cfg(not(target_os = "macos"))]
    #[test]
    fn the_tray_picture_stands_out_on_light_and_dark_panels() {
        let image = TRAY_ICON;
        let (width, height) = (image.width() as usize, image.height() as usize);
        assert_eq!((width, height), (64, 64));
        // Adwaita light, white, Breeze Dark, the Windows 11 dark taskbar, GNOME's top bar.
        let panels = [[246.0, 245.0, 244.0], [255.0; 3], [49.0, 54.0, 59.0], [32.0; 3], [0.0; 3]];
        for panel in panels {
            let middle = height / 5..height * 4 / 5;
            let mut walks: Vec<Vec<(usize, usize)>> = Vec::new();
            for i in middle {
                walks.push((0..width).map(|x| (x, i)).collect());
                walks.push((0..width).rev().map(|x| (x, i)).collect());
                walks.push((0..height).map(|y| (i, y)).collect());
                walks.push((0..height).rev().map(|y| (i, y)).collect());
            }
            for walk in walks {
                let seen: Vec<_> = walk.iter().map(|&(x, y)| over(&image, panel, x, y)).collect();
                let covered =
                    seen.iter().position(|(_, alpha)| *alpha >= 0.5).expect("the picture crosses the middle");
                let stands_out = seen.iter().position(|(rgb, _)| contrast(*rgb, panel) >= 3.0);
                assert!(
                    stands_out.is_some_and(|at| at >= covered.saturating_sub(1) && at <= covered + 5),
                    "on the panel {panel:?}, walking from {:?}: covered from {covered}, stands out from {stands_out:?}",
                    walk[0]
                );
            }
        }
    }

    /// macOS tints a template by its alpha alone: every pixel is black, and the mark is there.
    #[test]
    fn the_macos_tray_picture_is_a_template() {
        let image = tauri::include_image!("icons/tray-template.png");
        let pixels: Vec<&[u8]> = image.rgba().chunks(4).collect();
        assert!(pixels.iter().all(|p| p[..3] == [0, 0, 0] || p[3] == 0), "a template is black");
        let covered = pixels.iter().filter(|p| p[3] >= 128).count();
        assert!(covered * 10 > pixels.len(), "the mark covers a tenth of it at least: {covered} pixels");
    }
}
