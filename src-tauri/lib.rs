//! Pressroom's desktop backend: holds the live connection to the hub, keeps the dashboard state
//! and its local cache, and emits paced frames to every Yew webview window.

mod app;
pub mod cable;
pub mod cache;
pub mod coalescer;
mod commands;
pub mod driver;
mod endpoints;
mod error;
pub mod events;
mod logs;
pub mod native;
pub mod notifier;
pub mod presenter;
pub mod settings;
mod signals;
pub mod state;

pub use endpoints::Endpoints;
pub use error::{Error, Result};

use std::time::Duration;

use commands::SettingsState;
use settings::{EnvOverrides, Settings};
use state::SharedDashboard;
use tauri::Manager;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub fn run() {
    let stop = CancellationToken::new();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .setup({
            let stop = stop.clone();
            move |app| {
                let handle = app.handle().clone();
                let data_dir = settings::data_dir(&handle);
                app.manage(logs::init(data_dir.as_deref().ok()));
                let settings = launch_settings(&handle);
                tracing::info!(hub = %settings.hub_url, "starting");
                let dashboard = SharedDashboard::default();
                let (driver, commands) = driver::DriverHandle::channel();

                let cache = match data_dir {
                    Ok(dir) => tauri::async_runtime::block_on(cache::Cache::open(&dir)).map_err(|error| {
                        tracing::error!(%error, "no local cache this session");
                    }),
                    Err(error) => {
                        tracing::error!(%error, "no data dir: no local cache this session");
                        Err(())
                    }
                };
                let restored = match &cache {
                    Ok(cache) => tauri::async_runtime::block_on(cache.load()),
                    Err(()) => None,
                };
                let (changes, changed) = watch::channel(0);
                if let Ok(cache) = cache {
                    let writer = cache::write_behind(cache, dashboard.clone(), changed, stop.clone());
                    app.manage(CacheWriter(std::sync::Mutex::new(Some(tauri::async_runtime::spawn(writer)))));
                }

                let tray = app::build_tray(&handle, driver.clone())
                    .map_err(|error| tracing::warn!(%error, "no tray icon on this desktop"))
                    .ok();
                let outlet = app::AppOutlet { app: handle.clone(), tray };
                let observer =
                    app::AppObserver { changes, notices: app::spawn_notification_thread(handle.clone()) };
                let presentation = driver::Presentation {
                    frame_window: settings.frame_window(),
                    notifications: settings.notifications(),
                    restored,
                };
                let connection = driver::Driver::new(
                    settings.target(),
                    settings.mode(),
                    presentation,
                    dashboard.clone(),
                    outlet,
                    observer,
                );
                tauri::async_runtime::spawn(connection.run(commands, stop));
                tauri::async_runtime::spawn(signals::exit_on_signal(handle.clone()));
                app.manage(dashboard);
                app.manage(driver);
                app.manage(SettingsState(std::sync::Mutex::new(settings)));
                Ok(())
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::dashboard,
            commands::reconnect_now,
            commands::pause,
            commands::resume,
            commands::settings,
            commands::update_settings,
            commands::new_window,
        ])
        .build(tauri::generate_context!())
        .expect("the Tauri app builds from its configuration");
    app.run(move |app, event| {
        if let tauri::RunEvent::Exit = event {
            stop.cancel();
            // Let the cache writer save the last view.
            if let Some(writer) = app.try_state::<CacheWriter>().and_then(|w| w.0.lock().ok()?.take()) {
                // The timeout is made inside the runtime: tokio's timer needs its reactor, and a
                // panic here (in GTK's callback) would abort before anything is saved.
                let saved = tauri::async_runtime::block_on(async {
                    tokio::time::timeout(SAVE_AT_EXIT, writer).await
                });
                if saved.is_err() {
                    tracing::warn!("the cache writer did not finish in time: the last view may be lost");
                }
            }
        }
    });
}

/// How long exit waits for the last view to be saved; the whole exit stays within 2 s.
const SAVE_AT_EXIT: Duration = Duration::from_millis(1500);

/// The cache writer's task, awaited at exit so the last view is saved.
struct CacheWriter(std::sync::Mutex<Option<tauri::async_runtime::JoinHandle<()>>>);

/// Stored settings with the launch env applied. Invalid values are reported and replaced by
/// the defaults, so the app always starts.
fn launch_settings(app: &tauri::AppHandle) -> Settings {
    let stored = settings::load(app).unwrap_or_else(|error| {
        tracing::error!(%error, "could not read the settings store; using defaults");
        None
    });
    Settings::at_launch(stored.clone(), &EnvOverrides::from_env()).unwrap_or_else(|error| {
        tracing::error!(%error, "invalid launch settings; ignoring the environment's");
        stored.unwrap_or_default()
    })
}
