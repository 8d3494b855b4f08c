//! Pressroom's desktop backend: holds the live connection to the hub, keeps the dashboard
//! state, and emits it to the Yew webview.

pub mod cable;
mod commands;
pub mod driver;
mod endpoints;
mod error;
pub mod events;
mod settings;
pub mod state;

pub use endpoints::Endpoints;
pub use error::{Error, Result};

use settings::{EnvOverrides, Settings};
use state::SharedDashboard;
use tauri::Manager;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

pub fn run() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let stop = CancellationToken::new();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .setup({
            let stop = stop.clone();
            move |app| {
                let handle = app.handle().clone();
                let (settings, endpoints) = launch_settings(&handle);
                tracing::info!(hub = %settings.hub_url, "starting");
                let dashboard = SharedDashboard::default();
                app.manage(dashboard.clone());
                let target = driver::Target {
                    endpoints,
                    token: settings.token,
                    snapshot_path: driver::DEFAULT_SNAPSHOT_PATH.to_owned(),
                };
                let (driver, task) =
                    driver::Driver::new(target, cable::Mode::default(), dashboard, handle).into_task(stop);
                tauri::async_runtime::spawn(task);
                app.manage(driver);
                Ok(())
            }
        })
        .invoke_handler(tauri::generate_handler![commands::dashboard, commands::reconnect_now])
        .build(tauri::generate_context!())
        .expect("the Tauri app builds from its configuration");
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event {
            stop.cancel();
        }
    });
}

/// Stored settings with the launch env applied. Invalid values are reported and replaced by
/// the defaults, so the app always starts.
fn launch_settings(app: &tauri::AppHandle) -> (Settings, Endpoints) {
    let stored = settings::load(app).unwrap_or_else(|error| {
        tracing::error!(%error, "could not read the settings store; using defaults");
        None
    });
    Settings::resolve(stored, &EnvOverrides::from_env()).unwrap_or_else(|error| {
        tracing::error!(%error, "invalid hub settings; using the default hub");
        Settings::resolve(None, &EnvOverrides::default()).expect("the default settings are valid")
    })
}
