//! The desktop settings and their validation. The contract's env vars override the stored
//! values at launch (without being written back); a change made later wins. Where they are kept
//! is the app's business (tauri-plugin-store); the token is kept apart, in the credential store.

use std::collections::BTreeMap;
use std::time::Duration;

use pressroom_protocol::cable::ANALYTICS_CHANNEL;
use pressroom_protocol::settings::{SettingsPatch, SettingsView, Theme, Typed};
use serde::{Deserialize, Serialize};

use crate::cable::Mode;
use crate::coalescer::{DEFAULT_WINDOW, MIN_WINDOW};
use crate::driver::{Target, DEFAULT_SNAPSHOT_PATH};
use crate::endpoints::{split_token, Endpoints};
use crate::error::{Error, Result};
use crate::notifier::Prefs;

pub const DEFAULT_HUB_URL: &str = "ws://127.0.0.1:3000/cable";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub hub_url: String,
    /// Sent as a Bearer token; never logged, never sent to the webview, never written to the
    /// settings file (an old file's is read once, to move it into the credential store).
    #[serde(skip_serializing)]
    pub token: Option<String>,
    pub channel: String,
    pub snapshot_path: String,
    pub realtime: bool,
    pub auto_refresh: bool,
    pub refresh_interval_s: u32,
    pub frame_window_ms: u32,
    pub notify_job_orders: bool,
    pub notify_failed_exports: bool,
    pub theme: Theme,
    pub close_to_tray: bool,
    /// Lets the token travel unencrypted (`ws://`) to a hub that is not this machine.
    pub allow_insecure_token: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("hub_url", &self.hub_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("channel", &self.channel)
            .field("realtime", &self.realtime)
            .field("auto_refresh", &self.auto_refresh)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hub_url: DEFAULT_HUB_URL.to_owned(),
            token: None,
            channel: ANALYTICS_CHANNEL.to_owned(),
            snapshot_path: DEFAULT_SNAPSHOT_PATH.to_owned(),
            realtime: true,
            auto_refresh: true,
            refresh_interval_s: 10,
            frame_window_ms: DEFAULT_WINDOW.as_millis() as u32,
            notify_job_orders: true,
            notify_failed_exports: true,
            theme: Theme::System,
            close_to_tray: true,
            allow_insecure_token: false,
        }
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
    /// Stored settings (or defaults) with the launch overrides applied. An invalid override is
    /// refused like any invalid change.
    pub fn at_launch(stored: Option<Settings>, env: &EnvOverrides) -> Result<Settings> {
        let stored = stored.unwrap_or_default();
        stored.apply(SettingsPatch {
            hub_url: env.hub_url.clone(),
            token: env.token.clone(),
            ..SettingsPatch::default()
        })
    }

    /// Settings as a settings file holds them, validated like any change: a field that does not
    /// read or is invalid (hand-edited, or from another version) is reported with why and left at
    /// its default; the rest are kept. An old file's token (its `token` field, or a `?token=` in
    /// its hub URL) is kept aside for [`Settings::take_stored_token`].
    pub fn from_stored(stored: serde_json::Value) -> (Settings, BTreeMap<String, String>) {
        let mut refused = BTreeMap::new();
        let serde_json::Value::Object(fields) = stored else {
            refused.insert("settings".to_owned(), "are not a JSON object".to_owned());
            return (Settings::default(), refused);
        };
        let mut token = None;
        let mut readable = serde_json::Map::new();
        for (field, value) in fields {
            match field.as_str() {
                // Not validated here: an old file's token moves to the credential store as it is.
                "token" => token = value.as_str().map(str::to_owned),
                // The OS entry is its truth, never the file.
                "launch_at_login" => {}
                _ => {
                    let one = serde_json::Map::from_iter([(field.clone(), value.clone())]);
                    match serde_json::from_value::<SettingsPatch>(one.into()) {
                        Ok(_) => {
                            readable.insert(field, value);
                        }
                        Err(error) => {
                            refused.insert(field, format!("does not read ({error})"));
                        }
                    }
                }
            }
        }
        if let Some(serde_json::Value::String(url)) = readable.get_mut("hub_url") {
            let (clean, url_token) = split_token(url);
            *url = clean;
            token = token.or(url_token);
        }
        // Each round leaves out what the last refused; a field refused for another's sake (the
        // snapshot path against the hub URL) then passes. Every round drops a field, so it ends.
        let settings = loop {
            // Each field read on its own above, so together they read too.
            let patch = serde_json::from_value(readable.clone().into()).unwrap_or_default();
            match Settings::default().apply(patch) {
                Ok(settings) => break settings,
                Err(Error::InvalidSettings(invalid)) if invalid.keys().any(|f| readable.contains_key(f)) => {
                    readable.retain(|field, _| !invalid.contains_key(field));
                    refused.extend(invalid);
                }
                Err(_) => break Settings::default(),
            }
        };
        (Settings { token: token.filter(|t| !t.trim().is_empty()), ..settings }, refused)
    }

    /// These settings with `patch` applied, if every changed value is valid; otherwise an
    /// error naming each invalid field, and nothing changes.
    pub fn apply(&self, patch: SettingsPatch) -> Result<Settings> {
        let mut next = self.clone();
        let mut invalid = BTreeMap::new();
        let mut url_token = None;
        if let Some(url) = patch.hub_url {
            // A `?token=` moves out of the URL (which is shown and logged) into the token.
            let (url, token) = split_token(&url);
            match Endpoints::parse(&url) {
                Ok(_) => {
                    next.hub_url = url.trim().to_owned();
                    url_token = token;
                }
                Err(error) => {
                    invalid.insert("hub_url".to_owned(), url_problem(error));
                }
            }
        }
        if let Some(token) = patch.token.or(url_token) {
            next.token = Some(token.trim().to_owned()).filter(|t| !t.is_empty());
        }
        if let Some(channel) = patch.channel {
            if channel.trim().is_empty() {
                invalid.insert("channel".to_owned(), "must not be blank".to_owned());
            } else {
                next.channel = channel.trim().to_owned();
            }
        }
        if let Some(path) = patch.snapshot_path {
            let path = path.trim().trim_start_matches('/').to_owned();
            if path.is_empty() || path.contains("://") {
                invalid.insert(
                    "snapshot_path".to_owned(),
                    "must be a path such as api/analytics/summary".to_owned(),
                );
            } else {
                next.snapshot_path = path;
            }
        }
        if let Some(seconds) = patch.refresh_interval_s {
            match in_range(&seconds, 1, 3600) {
                Some(seconds) => next.refresh_interval_s = seconds,
                None => {
                    invalid.insert(
                        "refresh_interval_s".to_owned(),
                        "must be a whole number of seconds between 1 and 3600".to_owned(),
                    );
                }
            }
        }
        if let Some(ms) = patch.frame_window_ms {
            let min = MIN_WINDOW.as_millis() as u32;
            match in_range(&ms, min, 5000) {
                Some(ms) => next.frame_window_ms = ms,
                None => {
                    invalid.insert(
                        "frame_window_ms".to_owned(),
                        format!("must be a whole number of ms between {min} and 5000"),
                    );
                }
            }
        }
        next.realtime = patch.realtime.unwrap_or(next.realtime);
        next.auto_refresh = patch.auto_refresh.unwrap_or(next.auto_refresh);
        next.notify_job_orders = patch.notify_job_orders.unwrap_or(next.notify_job_orders);
        next.notify_failed_exports = patch.notify_failed_exports.unwrap_or(next.notify_failed_exports);
        next.theme = patch.theme.unwrap_or(next.theme);
        next.close_to_tray = patch.close_to_tray.unwrap_or(next.close_to_tray);
        next.allow_insecure_token = patch.allow_insecure_token.unwrap_or(next.allow_insecure_token);
        next.check_hub(&mut invalid);
        if invalid.is_empty() {
            Ok(next)
        } else {
            Err(Error::InvalidSettings(invalid))
        }
    }

    /// What depends on the hub URL: the snapshot path stays on the hub, and the token is not sent
    /// in clear text to another machine unless allowed.
    fn check_hub(&self, invalid: &mut BTreeMap<String, String>) {
        if invalid.contains_key("hub_url") {
            return;
        }
        let endpoints = match Endpoints::parse(&self.hub_url) {
            Ok(endpoints) => endpoints,
            Err(error) => {
                invalid.insert("hub_url".to_owned(), url_problem(error));
                return;
            }
        };
        if !invalid.contains_key("snapshot_path") && endpoints.on_hub(&self.snapshot_path).is_none() {
            invalid.insert(
                "snapshot_path".to_owned(),
                "must stay on the hub: a path such as api/analytics/summary".to_owned(),
            );
        }
        if self.token.is_some()
            && endpoints.is_cleartext()
            && !endpoints.is_loopback()
            && !self.allow_insecure_token
        {
            let host = endpoints.cable.host_str().unwrap_or_default();
            invalid.insert(
                "hub_url".to_owned(),
                format!("would send the token unencrypted to {host}: use wss://, or allow an insecure token"),
            );
        }
    }

    /// Takes a token out of settings read from an older file: its `token` field or a `?token=`
    /// in its hub URL, which is then cleaned.
    pub fn take_stored_token(&mut self) -> Option<String> {
        let (url, url_token) = split_token(&self.hub_url);
        self.hub_url = url;
        self.token.take().or(url_token)
    }

    pub fn view(&self) -> SettingsView {
        SettingsView {
            hub_url: self.hub_url.clone(),
            token_set: self.token.is_some(),
            channel: self.channel.clone(),
            snapshot_path: self.snapshot_path.clone(),
            realtime: self.realtime,
            auto_refresh: self.auto_refresh,
            refresh_interval_s: self.refresh_interval_s,
            frame_window_ms: self.frame_window_ms,
            notify_job_orders: self.notify_job_orders,
            notify_failed_exports: self.notify_failed_exports,
            theme: self.theme,
            close_to_tray: self.close_to_tray,
            allow_insecure_token: self.allow_insecure_token,
            // The OS's entry and the desktop's notes are not settings: the command fills them in.
            launch_at_login: false,
            notes: Vec::new(),
        }
    }

    pub fn target(&self) -> Target {
        Target {
            // Settings made by `apply` or `from_stored` always parse; fields are public, though.
            endpoints: Endpoints::parse(&self.hub_url).unwrap_or_else(|error| {
                tracing::error!(%error, "the hub URL in force is invalid; connecting to the default");
                Endpoints::parse(DEFAULT_HUB_URL).expect("the default hub URL parses")
            }),
            token: self.token.clone(),
            channel: self.channel.clone(),
            snapshot_path: self.snapshot_path.clone(),
        }
    }

    pub fn mode(&self) -> Mode {
        Mode {
            realtime: self.realtime,
            auto_refresh: self.auto_refresh,
            refresh_interval: Duration::from_secs(u64::from(self.refresh_interval_s)),
        }
    }

    pub fn frame_window(&self) -> Duration {
        Duration::from_millis(u64::from(self.frame_window_ms))
    }

    pub fn notifications(&self) -> Prefs {
        Prefs { job_orders: self.notify_job_orders, failed_exports: self.notify_failed_exports }
    }
}

/// The whole number `typed` holds, if it is within `min..=max`.
fn in_range(typed: &Typed, min: u32, max: u32) -> Option<u32> {
    let n = u32::try_from(typed.whole_number()?).ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// Why a hub URL is refused, without the URL itself (it may hold a token).
fn url_problem(error: Error) -> String {
    match error {
        Error::InvalidHubUrl { reason, .. } => reason,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_broken_settings_file_keeps_what_reads_and_resets_the_rest() {
        let stored = serde_json::json!({
            "hub_url": "wss://hub.example/cable?token=from-url",
            "channel": "OrdersChannel",
            "refresh_interval_s": "abc",
            "frame_window_ms": 0,
            "theme": "purple",
            "snapshot_path": "https://elsewhere.example/summary",
            "notify_job_orders": false,
            "some_future_field": 1
        });
        let (settings, refused) = Settings::from_stored(stored);
        assert_eq!(settings.hub_url, "wss://hub.example/cable");
        assert_eq!(settings.token.as_deref(), Some("from-url"));
        assert_eq!(settings.channel, "OrdersChannel");
        assert!(!settings.notify_job_orders);
        let defaults = Settings::default();
        assert_eq!(settings.refresh_interval_s, defaults.refresh_interval_s);
        assert_eq!(settings.frame_window_ms, defaults.frame_window_ms);
        assert_eq!(settings.theme, defaults.theme);
        assert_eq!(settings.snapshot_path, defaults.snapshot_path);
        let names: Vec<_> = refused.keys().map(String::as_str).collect();
        assert_eq!(names, ["frame_window_ms", "refresh_interval_s", "snapshot_path", "theme"]);
        assert!(refused["refresh_interval_s"].contains("whole number"), "{refused:?}");
        assert!(refused["frame_window_ms"].contains("between"), "{refused:?}");
        // What was kept is a valid whole: it connects without a panic.
        assert_eq!(settings.target().endpoints.rest.as_str(), "https://hub.example/");
    }

    #[test]
    fn a_bad_hub_url_in_the_file_falls_back_with_what_depends_on_it() {
        let stored = serde_json::json!({"hub_url": "not a url", "snapshot_path": "api/s", "token": "t"});
        let (settings, refused) = Settings::from_stored(stored);
        assert_eq!(settings.hub_url, DEFAULT_HUB_URL);
        assert_eq!(settings.snapshot_path, "api/s");
        assert_eq!(settings.token.as_deref(), Some("t"));
        assert_eq!(refused.keys().collect::<Vec<_>>(), ["hub_url"]);
        let (settings, refused) = Settings::from_stored(serde_json::json!([1, 2]));
        assert_eq!(settings, Settings::default());
        assert!(refused.contains_key("settings"));
    }

    #[test]
    fn env_overrides_win_at_launch() {
        let stored = Settings {
            hub_url: "ws://stored:1/cable".into(),
            token: Some("old".into()),
            ..Settings::default()
        };
        let env = EnvOverrides { hub_url: Some("wss://env.example/cable".into()), token: None };
        let settings = Settings::at_launch(Some(stored), &env).unwrap();
        assert_eq!(settings.hub_url, "wss://env.example/cable");
        assert_eq!(settings.token.as_deref(), Some("old"));
        assert_eq!(settings.target().endpoints.rest.as_str(), "https://env.example/");
    }

    #[test]
    fn defaults_apply_when_nothing_is_stored_and_partial_stores_read() {
        assert_eq!(Settings::at_launch(None, &EnvOverrides::default()).unwrap(), Settings::default());
        let partial: Settings = serde_json::from_value(serde_json::json!({"realtime": false})).unwrap();
        assert!(!partial.realtime);
        assert_eq!(partial.hub_url, DEFAULT_HUB_URL);
    }

    #[test]
    fn invalid_values_are_refused_with_a_message_each_and_change_nothing() {
        let settings = Settings::default();
        let patch = SettingsPatch {
            hub_url: Some("http://not-a-cable".into()),
            refresh_interval_s: Some(0.into()),
            frame_window_ms: Some(Typed::Text("abc".into())),
            channel: Some("  ".into()),
            snapshot_path: Some("https://elsewhere/x".into()),
            realtime: Some(false),
            ..SettingsPatch::default()
        };
        let Err(Error::InvalidSettings(fields)) = settings.apply(patch) else { panic!("refused") };
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(names, ["channel", "frame_window_ms", "hub_url", "refresh_interval_s", "snapshot_path"]);
        assert!(fields["refresh_interval_s"].contains("between 1 and 3600"));
        assert!(fields["frame_window_ms"].contains("whole number"), "{fields:?}");
        assert_eq!(settings, Settings::default(), "the old values stay");
    }

    #[test]
    fn valid_changes_apply_and_an_empty_token_removes_it() {
        let settings = Settings { token: Some("t".into()), ..Settings::default() };
        let next = settings
            .apply(SettingsPatch {
                token: Some(String::new()),
                refresh_interval_s: Some(30.into()),
                snapshot_path: Some("/stats.json".into()),
                theme: Some(Theme::Dark),
                ..SettingsPatch::default()
            })
            .unwrap();
        assert_eq!(next.token, None);
        assert_eq!(next.mode().refresh_interval, Duration::from_secs(30));
        assert_eq!(next.snapshot_path, "stats.json");
        assert_eq!(next.view().theme, Theme::Dark);
        assert!(!next.view().token_set);
    }

    #[test]
    fn a_snapshot_path_that_leaves_the_hub_is_refused() {
        let settings = Settings { hub_url: "wss://hub.example/cable".into(), ..Settings::default() };
        for elsewhere in ["\\\\evil.example/x", "http:evil.example/x", "http:/evil.example/x"] {
            let patch = SettingsPatch { snapshot_path: Some(elsewhere.into()), ..SettingsPatch::default() };
            let Err(Error::InvalidSettings(fields)) = settings.apply(patch) else {
                panic!("{elsewhere} refused")
            };
            assert!(fields["snapshot_path"].contains("stay on the hub"), "{elsewhere}: {fields:?}");
        }
        let on_hub =
            SettingsPatch { snapshot_path: Some("stats/summary.json".into()), ..SettingsPatch::default() };
        assert_eq!(settings.apply(on_hub).unwrap().snapshot_path, "stats/summary.json");
    }

    #[test]
    fn a_token_in_the_hub_url_moves_out_of_it() {
        let next = Settings::default()
            .apply(SettingsPatch {
                hub_url: Some("wss://hub.example/cable?token=s3cret".into()),
                ..SettingsPatch::default()
            })
            .unwrap();
        assert_eq!(next.hub_url, "wss://hub.example/cable");
        assert_eq!(next.token.as_deref(), Some("s3cret"));
        assert!(!format!("{:?}", next.view()).contains("s3cret"));
    }

    #[test]
    fn the_token_is_never_written_and_an_old_files_is_taken_out() {
        let settings = Settings { token: Some("s3cret".into()), ..Settings::default() };
        let written = serde_json::to_string(&settings).unwrap();
        assert!(!written.contains("s3cret") && !written.contains("\"token\""), "{written}");
        let mut old: Settings = serde_json::from_value(serde_json::json!({
            "hub_url": "ws://127.0.0.1:9/cable?token=from-url", "token": "from-field"
        }))
        .unwrap();
        assert_eq!(old.take_stored_token().as_deref(), Some("from-field"));
        assert_eq!((old.hub_url.as_str(), old.token.as_deref()), ("ws://127.0.0.1:9/cable", None));
    }

    #[test]
    fn a_token_in_clear_text_to_another_machine_needs_consent() {
        let remote = SettingsPatch {
            hub_url: Some("ws://hub.example/cable".into()),
            token: Some("s3cret".into()),
            ..SettingsPatch::default()
        };
        let Err(Error::InvalidSettings(fields)) = Settings::default().apply(remote.clone()) else {
            panic!("refused")
        };
        assert!(fields["hub_url"].contains("unencrypted to hub.example"), "{fields:?}");
        let allowed = SettingsPatch { allow_insecure_token: Some(true), ..remote.clone() };
        assert!(Settings::default().apply(allowed).is_ok());
        let encrypted = SettingsPatch { hub_url: Some("wss://hub.example/cable".into()), ..remote.clone() };
        assert!(Settings::default().apply(encrypted).is_ok());
        let loopback = SettingsPatch { hub_url: Some("ws://127.0.0.1:3000/cable".into()), ..remote };
        assert!(Settings::default().apply(loopback).is_ok());
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let settings = Settings { token: Some("s3cret".into()), ..Settings::default() };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret") && shown.contains("redacted"), "{shown}");
    }
}
