//! Commands the webview invokes: thin wrappers over the driver, the state and the settings.

use std::sync::Mutex;

use pressroom_client::driver::{Command, DriverHandle};
use pressroom_client::settings::Settings;
use pressroom_client::state::SharedDashboard;
use pressroom_protocol::settings::{SettingsPatch, SettingsView, SETTINGS_EVENT};
use pressroom_protocol::DashboardView;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::notes::Notes;
use crate::store;

/// The settings in force, shared by the commands.
pub struct SettingsState(pub Mutex<Settings>);

/// The whole current view: what a window shows when it (re)loads.
#[tauri::command]
pub fn dashboard(state: State<'_, SharedDashboard>) -> DashboardView {
    state.view()
}

/// Try the connection again now, skipping any wait.
#[tauri::command]
pub fn reconnect_now(driver: State<'_, DriverHandle>) {
    driver.send(Command::ReconnectNow);
}

/// Freeze the view; events keep being applied and counted.
#[tauri::command]
pub fn pause(driver: State<'_, DriverHandle>) {
    driver.send(Command::Pause);
}

/// Unfreeze the view with one catch-up frame.
#[tauri::command]
pub fn resume(driver: State<'_, DriverHandle>) {
    driver.send(Command::Resume);
}

#[tauri::command]
pub fn settings(app: AppHandle) -> SettingsView {
    settings_view(&app)
}

/// The settings in force, with what is not a stored setting: the OS's autostart entry and the
/// desktop's notes.
pub fn settings_view<R: Runtime>(app: &AppHandle<R>) -> SettingsView {
    let mut view = match app.try_state::<SettingsState>() {
        Some(state) => state.0.lock().unwrap_or_else(|p| p.into_inner()).view(),
        None => Settings::default().view(),
    };
    view.launch_at_login = app.autolaunch().is_enabled().unwrap_or_else(|error| {
        tracing::debug!(%error, "cannot read the autostart entry");
        false
    });
    view.notes = app.try_state::<Notes>().map(|notes| notes.list()).unwrap_or_default();
    view
}

/// Tells every window the settings view changed.
pub fn emit_settings<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.emit(SETTINGS_EVENT, settings_view(app));
}

/// Applies a change if every value in it is valid (else nothing changes and the error names each
/// invalid field), stores it, and reconfigures the running connection. The token is stored only
/// when the change sets or clears it: one given by `PRESSROOM_TOKEN` is never persisted.
#[tauri::command]
pub fn update_settings(
    patch: SettingsPatch,
    app: AppHandle,
    state: State<'_, SettingsState>,
    credentials: State<'_, Credentials>,
    driver: State<'_, DriverHandle>,
) -> Result<SettingsView> {
    let launch_at_login = patch.launch_at_login;
    {
        let mut current = state.0.lock().unwrap_or_else(|p| p.into_inner());
        let next = current.apply(patch)?;
        if next.token != current.token {
            credentials.set_token(next.token.as_deref())?;
        }
        store::save(&app, &next)?;
        for command in changes(&current, &next) {
            driver.send(command);
        }
        *current = next;
    }
    if let Some(on) = launch_at_login {
        let autolaunch = app.autolaunch();
        if on { autolaunch.enable() } else { autolaunch.disable() }?;
    }
    let view = settings_view(&app);
    let _ = app.emit(SETTINGS_EVENT, &view);
    Ok(view)
}

/// Opens the folder with the app's logs in the file manager.
#[tauri::command]
pub fn open_logs(app: AppHandle) -> Result<()> {
    let dir = store::data_dir(&app)?.join(crate::logs::LOG_DIR);
    std::fs::create_dir_all(&dir)?;
    app.opener().open_path(dir.to_string_lossy(), None::<&str>)?;
    Ok(())
}

/// Opens another dashboard window.
#[tauri::command]
pub fn new_window(app: AppHandle) -> Result<String> {
    Ok(crate::app::open_window(&app)?)
}

/// What the running connection must be told when settings go from `old` to `new`.
fn changes(old: &Settings, new: &Settings) -> Vec<Command> {
    let mut commands = Vec::new();
    let target = |s: &Settings| {
        (s.values.hub_url.clone(), s.token.clone(), s.values.channel.clone(), s.values.snapshot_path.clone())
    };
    if target(old) != target(new) {
        commands.push(Command::SetTarget(Box::new(new.target())));
    }
    if old.mode() != new.mode() {
        commands.push(Command::SetMode(new.mode()));
    }
    if old.values.frame_window_ms != new.values.frame_window_ms {
        commands.push(Command::SetFrameWindow(new.frame_window()));
    }
    if old.notifications() != new.notifications() {
        commands.push(Command::SetNotifications(new.notifications()));
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_changed_reaches_the_connection() {
        let old = Settings::default();
        assert!(changes(&old, &old).is_empty());
        let mut new = Settings { token: Some("t".into()), ..old.clone() };
        new.values.realtime = false;
        let sent: Vec<String> = changes(&old, &new).iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent[0].starts_with("SetTarget") && sent[1].starts_with("SetMode"));
        let mut theme_only = old.clone();
        theme_only.values.theme = pressroom_protocol::settings::Theme::Dark;
        assert!(changes(&old, &theme_only).is_empty(), "the theme is the webview's business");
    }
}
