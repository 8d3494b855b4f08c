//! Pressroom's desktop backend: holds the live connection to the hub, keeps the dashboard state
//! and its local cache, and emits paced frames to every Yew webview window.

mod app;
mod commands;
mod credentials;
mod error;
mod lifecycle;
mod logs;
#[cfg(target_os = "macos")]
mod macos;
pub mod native;
mod notes;
mod private_file;
pub mod profile;
mod signals;
mod store;
mod tray;

pub use error::{Error, Result};

use std::time::Duration;

use commands::SettingsState;
use pressroom_client::settings::{EnvOverrides, Settings};
use pressroom_client::state::SharedDashboard;
use pressroom_client::{cache, driver};
use tauri::Manager;
use tauri_plugin_window_state::StateFlags;
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
                let data_dir = store::data_dir(&handle);
                app.manage(logs::init(data_dir.as_deref().ok()));
                register_plugins(&handle, data_dir.as_deref().ok())?;
                let notes = notes::Notes::default();
                app.manage(notes.clone());
                // The primary instance from here on: wait for an exiting one's last save.
                if let Ok(dir) = &data_dir {
                    if let Some(lock) = profile::lock_data_dir(dir, HAND_OVER_WAIT) {
                        app.manage(lock);
                    }
                }
                let identifier = &handle.config().identifier;
                let (credentials, token) = match data_dir.as_deref() {
                    Ok(dir) => {
                        credentials::Credentials::open(&profile::instance_id(identifier, dir), Some(dir))
                    }
                    Err(_) => credentials::Credentials::open(identifier, None),
                };
                if !credentials.in_store() {
                    notes.add(notes::NO_CREDENTIAL_STORE);
                }
                let settings = launch_settings(&handle, &credentials, token, &notes);
                app.manage(credentials);
                tracing::info!(hub = %settings.values.hub_url, "starting");
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

                let tray = tray::build(&handle, driver.clone())
                    .map_err(|error| tracing::warn!(%error, "no tray icon on this desktop"))
                    .ok();
                if tray.is_none() || !lifecycle::tray_is_shown() {
                    notes.add(notes::NO_TRAY);
                }
                if let Some(tray) = &tray {
                    app.manage(tray.clone());
                    let follow =
                        tray::follow_job_orders(tray.clone(), dashboard.clone(), changes.subscribe());
                    tauri::async_runtime::spawn(follow);
                }
                let outlet = app::AppOutlet { app: handle.clone(), tray };
                let observer = app::AppObserver {
                    changes,
                    notices: app::spawn_notification_thread(handle.clone(), notes),
                };
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
                app.manage(lifecycle::Visibility::default());
                #[cfg(target_os = "macos")]
                macos::install_menu(&handle)?;
                lifecycle::create_main(&handle)?;
                Ok(())
            }
        })
        .on_window_event(lifecycle::on_window_event)
        .invoke_handler(tauri::generate_handler![
            commands::dashboard,
            commands::reconnect_now,
            commands::pause,
            commands::resume,
            commands::settings,
            commands::update_settings,
            commands::new_window,
            commands::open_logs,
        ])
        .build(tauri::generate_context!())
        .expect("the Tauri app builds from its configuration");
    app.run(move |app, event| {
        #[cfg(target_os = "macos")]
        macos::on_run_event(app, &event);
        if let tauri::RunEvent::Exit = event {
            stop.cancel();
            // A launch from now on becomes the instance (and waits on the data dir's lock for
            // the save below) instead of handing over to an app that is going away.
            tauri_plugin_single_instance::destroy(app);
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

/// The plugins that need the data dir, before any window exists: one instance per data dir (a
/// second launch shows the first's window and exits), the window's size and place kept in the data
/// dir, launch at login, opening the logs folder. None grants the webview anything.
fn register_plugins<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    data_dir: Option<&std::path::Path>,
) -> tauri::Result<()> {
    if let Some(dir) = data_dir {
        let _ = std::fs::create_dir_all(dir);
    }
    // Launched while the previous instance is still exiting, the hand-over reaches an app that
    // no longer answers: wait for it to be gone (it exits within ~2 s), then be the instance.
    let deadline = std::time::Instant::now() + HAND_OVER_WAIT;
    loop {
        match app.plugin(single_instance(app, data_dir)) {
            Ok(()) => break,
            Err(error) if std::time::Instant::now() < deadline => {
                tracing::debug!(%error, "the running instance did not take the hand-over; retrying");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => {
                tracing::warn!(%error, "no single-instance lock: launching beside the other instance");
                break;
            }
        }
    }
    let mut window_state = tauri_plugin_window_state::Builder::new()
        .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
        .with_filter(|label| label == lifecycle::MAIN);
    if let Some(dir) = data_dir {
        // An absolute name: the plugin joins it to its config dir, which then does not count.
        window_state = window_state.with_filename(dir.join("window-state.json").to_string_lossy());
    }
    app.plugin(window_state.build())?;
    app.plugin(tauri_plugin_autostart::Builder::new().build())?;
    app.plugin(tauri_plugin_opener::init())?;
    Ok(())
}

/// How long a launch waits for an exiting instance to be gone before it runs beside it.
const HAND_OVER_WAIT: Duration = Duration::from_secs(5);

/// One instance per data dir: a second launch shows the first's window and exits.
fn single_instance<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    data_dir: Option<&std::path::Path>,
) -> tauri::plugin::TauriPlugin<R> {
    let mut single = tauri_plugin_single_instance::Builder::new().callback(|app, _argv, _cwd| {
        tracing::info!("a second launch handed over: showing the window");
        app::focus_main(app);
    });
    if let Some(dir) = data_dir {
        // Per data dir on Linux (the D-Bus name); Windows and macOS key on the identifier alone.
        single = single.dbus_id(profile::instance_id(&app.config().identifier, dir));
    }
    single.build()
}

/// Stored settings with the stored token and the launch env applied. A token an older settings
/// file holds moves into the credential store first. Invalid values are reported and replaced by
/// the defaults, so the app always starts.
fn launch_settings(
    app: &tauri::AppHandle,
    credentials: &credentials::Credentials,
    token: Result<Option<String>>,
    notes: &notes::Notes,
) -> Settings {
    let mut stored = match store::load(app) {
        Ok(Some((stored, refused))) => {
            if !refused.is_empty() {
                tracing::error!(?refused, "invalid stored settings reset to their defaults");
                notes.add(&notes::refused_in_file(&refused));
            }
            Some(stored)
        }
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, "could not read the settings store; using defaults");
            None
        }
    };
    let mut token = token.unwrap_or_else(|error| {
        tracing::error!(%error, "could not read the kept token");
        None
    });
    if let Some(stored) = &mut stored {
        if let Some(old) = stored.token.take() {
            match credentials.set_token(Some(&old)).and_then(|()| store::save(app, stored)) {
                Ok(()) => tracing::info!("moved the token out of the settings file"),
                Err(error) => tracing::error!(%error, "could not move the token out of the settings file"),
            }
            token = Some(old);
        }
    }
    let env = EnvOverrides::from_env();
    let stored = Settings { token, ..stored.unwrap_or_default() };
    let first = match Settings::at_launch(Some(stored.clone()), &env) {
        Ok(settings) => return settings,
        Err(error) => error,
    };
    tracing::error!(error = %first, "invalid launch settings");
    notes.add(&notes::refused_at_launch(&first));
    // Next best: what is stored without the environment, then the environment on the defaults.
    let defaults = Settings { token: stored.token.clone(), ..Settings::default() };
    Settings::at_launch(Some(stored), &EnvOverrides::default())
        .or_else(|_| Settings::at_launch(Some(defaults), &env))
        .unwrap_or_default()
}
