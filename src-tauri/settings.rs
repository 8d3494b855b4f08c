//! Settings kept with tauri-plugin-store in the data dir; the contract's env vars override the
//! stored values at launch (without being written back).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::endpoints::Endpoints;
use crate::error::Result;

pub const DEFAULT_HUB_URL: &str = "ws://127.0.0.1:3000/cable";
const STORE_FILE: &str = "settings.json";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The cable URL (`ws://` or `wss://`).
    pub hub_url: String,
    /// Sent as a Bearer token; never logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("hub_url", &self.hub_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings { hub_url: DEFAULT_HUB_URL.to_owned(), token: None }
    }
}

/// The launch environment's overrides (`PRESSROOM_HUB_URL`, `PRESSROOM_TOKEN`).
#[derive(Default, Clone)]
pub struct EnvOverrides {
    pub hub_url: Option<String>,
    pub token: Option<String>,
}

impl EnvOverrides {
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.trim().is_empty());
        EnvOverrides { hub_url: var("PRESSROOM_HUB_URL"), token: var("PRESSROOM_TOKEN") }
    }
}

impl Settings {
    /// Stored settings (or defaults) with the launch overrides applied, validated.
    pub fn resolve(stored: Option<Settings>, env: &EnvOverrides) -> Result<(Settings, Endpoints)> {
        let mut settings = stored.unwrap_or_default();
        if let Some(url) = &env.hub_url {
            settings.hub_url.clone_from(url);
        }
        if let Some(token) = &env.token {
            settings.token = Some(token.clone());
        }
        let endpoints = Endpoints::parse(&settings.hub_url)?;
        Ok((settings, endpoints))
    }
}

/// Where the store, cache and logs live: `PRESSROOM_DATA_DIR`, else the platform's app data dir.
pub fn data_dir<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf> {
    match std::env::var_os("PRESSROOM_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => Ok(app.path().app_data_dir()?),
    }
}

/// Reads the stored settings; a missing or unreadable entry falls back to the defaults.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<Option<Settings>> {
    let store = app.store(data_dir(app)?.join(STORE_FILE))?;
    Ok(store.get("settings").and_then(|value| match serde_json::from_value(value) {
        Ok(settings) => Some(settings),
        Err(error) => {
            tracing::warn!(%error, "stored settings unreadable; using defaults");
            None
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_win_at_launch() {
        let stored = Settings { hub_url: "ws://stored:1/cable".into(), token: Some("old".into()) };
        let env = EnvOverrides { hub_url: Some("wss://env.example/cable".into()), token: None };
        let (settings, endpoints) = Settings::resolve(Some(stored), &env).unwrap();
        assert_eq!(settings.hub_url, "wss://env.example/cable");
        assert_eq!(settings.token.as_deref(), Some("old"));
        assert_eq!(endpoints.rest.as_str(), "https://env.example/");
    }

    #[test]
    fn defaults_apply_when_nothing_is_stored() {
        let (settings, _) = Settings::resolve(None, &EnvOverrides::default()).unwrap();
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn an_invalid_override_is_an_error() {
        let env = EnvOverrides { hub_url: Some("http://nope".into()), token: None };
        assert!(Settings::resolve(None, &env).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let settings = Settings { hub_url: DEFAULT_HUB_URL.into(), token: Some("s3cret".into()) };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret") && shown.contains("redacted"), "{shown}");
    }
}
