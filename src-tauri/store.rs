//! The settings file, kept with tauri-plugin-store in the data dir. The store's own save is a
//! plain write: the file is saved by [`save`] instead, whole and owner-only, and the store is
//! closed after each use so the plugin does not write it again at exit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pressroom_client::settings::Settings;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreBuilder;

use crate::error::Result;

const STORE_FILE: &str = "settings.json";
const STORE_KEY: &str = "settings";

/// Where the store, cache and logs live: `PRESSROOM_DATA_DIR`, else the platform's app data dir
/// (`~/.local/share/app.pressroom.desktop`, `~/Library/Application Support/app.pressroom.desktop`;
/// on Windows the local one, `%LOCALAPPDATA%\app.pressroom.desktop`: a cache and logs have no
/// place in a roaming profile).
pub fn data_dir<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf> {
    match std::env::var_os("PRESSROOM_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        #[cfg(windows)]
        None => Ok(app.path().app_local_data_dir()?),
        #[cfg(not(windows))]
        None => Ok(app.path().app_data_dir()?),
    }
}

/// Reads the stored settings, validated: `None` when there are none, else what reads and is
/// valid, with each refused field (reset to its default) and why.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<Option<(Settings, BTreeMap<String, String>)>> {
    let store = StoreBuilder::new(app, data_dir(app)?.join(STORE_FILE)).disable_auto_save().build()?;
    let value = store.get(STORE_KEY);
    store.close_resource();
    Ok(value.map(Settings::from_stored))
}

/// Stores `settings` (never its token) with whatever else the file holds.
pub fn save<R: Runtime>(app: &AppHandle<R>, settings: &Settings) -> Result<()> {
    let path = data_dir(app)?.join(STORE_FILE);
    let store = StoreBuilder::new(app, &path).disable_auto_save().build()?;
    store.set(STORE_KEY, serde_json::to_value(settings).expect("settings serialise"));
    let entries: serde_json::Map<String, serde_json::Value> = store.entries().into_iter().collect();
    store.close_resource();
    let bytes = serde_json::to_vec_pretty(&entries).expect("JSON values serialise");
    crate::private_file::write(&path, &bytes)?;
    Ok(())
}
