//! The desktop settings and their validation. The contract's env vars override the stored
//! values at launch (without being written back); a change made later wins. Where they are kept
//! is the app's business (tauri-plugin-store); the token is kept apart, in the credential store.

use std::collections::BTreeMap;
use std::time::Duration;

use pressroom_protocol::cable::ANALYTICS_CHANNEL;
use pressroom_protocol::settings::{Settings as Values, SettingsPatch, SettingsView, Theme};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cable::Mode;
use crate::coalescer::{DEFAULT_WINDOW, MIN_WINDOW};
use crate::driver::{Target, DEFAULT_SNAPSHOT_PATH};
use crate::endpoints::{split_token, Endpoints};
use crate::error::{Error, Result};
use crate::notifier::Prefs;

pub const DEFAULT_HUB_URL: &str = "ws://127.0.0.1:3000/cable";

/// The settings in force: protocol's one shape of them, and the token apart.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// What the settings file holds (and the webview shows).
    #[serde(flatten)]
    pub values: Values,
    /// Sent as a Bearer token; never logged, never sent to the webview, never written to the
    /// settings file (an old file's is read once, to move it into the credential store).
    #[serde(skip)]
    pub token: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("values", &self.values)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            values: Values {
                hub_url: DEFAULT_HUB_URL.to_owned(),
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
            },
            token: None,
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
        let mut patch = SettingsPatch { token: env.token.clone(), ..SettingsPatch::default() };
        if let Some(url) = &env.hub_url {
            patch = patch.set("hub_url", url.as_str());
        }
        stored.unwrap_or_default().apply(patch)
    }

    /// Settings as a settings file holds them, validated like any change: a field that does not
    /// read or is invalid (hand-edited, or from another version) is reported with why and left at
    /// its default; the rest are kept, and fields this version does not know are ignored. An old
    /// file's token (its `token` field, or a `?token=` in its hub URL) is kept as the token.
    pub fn from_stored(stored: Value) -> (Settings, BTreeMap<String, String>) {
        let mut refused = BTreeMap::new();
        let Value::Object(mut fields) = stored else {
            refused.insert("settings".to_owned(), "are not a JSON object".to_owned());
            return (Settings::default(), refused);
        };
        // Not validated: an old file's token moves to the credential store as it is.
        let file_token = fields.remove("token").and_then(|t| t.as_str().map(str::to_owned));
        let url_token = take_url_token(&mut fields);
        let defaults = Settings::default();
        let known = SettingsPatch::all(&defaults.values).fields;
        fields.retain(|field, _| known.contains_key(field));
        let mut settings = defaults;
        for (field, value) in &fields {
            if let Err(why) = settings.values.set(field, value) {
                refused.insert(field.clone(), why);
            }
        }
        settings.token = file_token.or(url_token).filter(|t| !t.trim().is_empty());
        // What depends on the hub URL is checked on the whole: a stored field it refuses goes back
        // to its default, and the rest is checked again. Every round resets a field, so it ends.
        loop {
            let mut invalid = BTreeMap::new();
            settings.check_hub(&mut invalid);
            let stored: Vec<String> = invalid.keys().filter(|f| fields.contains_key(*f)).cloned().collect();
            if invalid.is_empty() || stored.is_empty() {
                break;
            }
            for field in stored {
                fields.remove(&field);
                let default = known[&field].clone();
                settings.values.set(&field, &default).expect("a default is valid");
                refused.insert(field.clone(), invalid.remove(&field).unwrap_or_default());
            }
        }
        (settings, refused)
    }

    /// These settings with `patch` applied, if every changed value is valid; otherwise an
    /// error naming each invalid field, and nothing changes.
    pub fn apply(&self, patch: SettingsPatch) -> Result<Settings> {
        let mut next = self.clone();
        let mut invalid = BTreeMap::new();
        let mut fields = patch.fields;
        // A `?token=` moves out of the URL (which is shown and logged) into the token.
        let url_token = take_url_token(&mut fields);
        for (field, value) in &fields {
            if let Err(why) = next.values.set(field, value) {
                invalid.insert(field.clone(), why);
            }
        }
        if let Some(token) = patch.token.or(url_token) {
            next.token = Some(token.trim().to_owned()).filter(|t| !t.is_empty());
        }
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
        let values = &self.values;
        let endpoints = match Endpoints::parse(&values.hub_url) {
            Ok(endpoints) => endpoints,
            Err(error) => {
                invalid.insert("hub_url".to_owned(), url_problem(error));
                return;
            }
        };
        if !invalid.contains_key("snapshot_path") && endpoints.on_hub(&values.snapshot_path).is_none() {
            invalid.insert(
                "snapshot_path".to_owned(),
                "must stay on the hub: a path such as api/analytics/summary".to_owned(),
            );
        }
        if self.token.is_some()
            && endpoints.is_cleartext()
            && !endpoints.is_loopback()
            && !values.allow_insecure_token
        {
            let host = endpoints.cable.host_str().unwrap_or_default();
            invalid.insert(
                "hub_url".to_owned(),
                format!("would send the token unencrypted to {host}: use wss://, or allow an insecure token"),
            );
        }
    }

    pub fn view(&self) -> SettingsView {
        SettingsView {
            settings: self.values.clone(),
            token_set: self.token.is_some(),
            // The OS's entry and the desktop's notes are not settings: the command fills them in.
            launch_at_login: false,
            notes: Vec::new(),
        }
    }

    pub fn target(&self) -> Target {
        Target {
            // Settings made by `apply` or `from_stored` always parse; fields are public, though.
            endpoints: Endpoints::parse(&self.values.hub_url).unwrap_or_else(|error| {
                tracing::error!(%error, "the hub URL in force is invalid; connecting to the default");
                Endpoints::parse(DEFAULT_HUB_URL).expect("the default hub URL parses")
            }),
            token: self.token.clone(),
            channel: self.values.channel.clone(),
            snapshot_path: self.values.snapshot_path.clone(),
        }
    }

    pub fn mode(&self) -> Mode {
        Mode {
            realtime: self.values.realtime,
            auto_refresh: self.values.auto_refresh,
            refresh_interval: Duration::from_secs(u64::from(self.values.refresh_interval_s)),
        }
    }

    pub fn frame_window(&self) -> Duration {
        Duration::from_millis(u64::from(self.values.frame_window_ms))
    }

    pub fn notifications(&self) -> Prefs {
        Prefs { job_orders: self.values.notify_job_orders, failed_exports: self.values.notify_failed_exports }
    }
}

/// Each setting's own rule, in one place: whatever typed or stored it, a value is checked here.
trait SetField {
    /// Sets `field` from `value`; why not, if it cannot be.
    fn set(&mut self, field: &str, value: &Value) -> std::result::Result<(), String>;
}

impl SetField for Values {
    fn set(&mut self, field: &str, value: &Value) -> std::result::Result<(), String> {
        match field {
            "hub_url" => {
                let url = text(value)?.trim();
                Endpoints::parse(url).map_err(url_problem)?;
                self.hub_url = url.to_owned();
            }
            "channel" => {
                let channel = text(value)?.trim();
                if channel.is_empty() {
                    return Err("must not be blank".to_owned());
                }
                self.channel = channel.to_owned();
            }
            "snapshot_path" => {
                let path = text(value)?.trim().trim_start_matches('/');
                if path.is_empty() || path.contains("://") {
                    return Err("must be a path such as api/analytics/summary".to_owned());
                }
                self.snapshot_path = path.to_owned();
            }
            "refresh_interval_s" => {
                self.refresh_interval_s = whole_number(value, 1, 3600)
                    .ok_or("must be a whole number of seconds between 1 and 3600")?;
            }
            "frame_window_ms" => {
                let min = MIN_WINDOW.as_millis() as u32;
                self.frame_window_ms = whole_number(value, min, 5000)
                    .ok_or_else(|| format!("must be a whole number of ms between {min} and 5000"))?;
            }
            "theme" => {
                self.theme = serde_json::from_value(value.clone())
                    .map_err(|_| "must be light, dark or system".to_owned())?;
            }
            "realtime" => self.realtime = flag(value)?,
            "auto_refresh" => self.auto_refresh = flag(value)?,
            "notify_job_orders" => self.notify_job_orders = flag(value)?,
            "notify_failed_exports" => self.notify_failed_exports = flag(value)?,
            "close_to_tray" => self.close_to_tray = flag(value)?,
            "allow_insecure_token" => self.allow_insecure_token = flag(value)?,
            _ => return Err("is not a setting".to_owned()),
        }
        Ok(())
    }
}

fn text(value: &Value) -> std::result::Result<&str, String> {
    value.as_str().ok_or_else(|| "must be text".to_owned())
}

fn flag(value: &Value) -> std::result::Result<bool, String> {
    value.as_bool().ok_or_else(|| "must be true or false".to_owned())
}

/// The whole number a JSON number or the text of a form field holds, if it is in `min..=max`.
fn whole_number(value: &Value, min: u32, max: u32) -> Option<u32> {
    let n = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    u32::try_from(n).ok().filter(|n| (min..=max).contains(n))
}

/// Takes a `?token=` out of a given hub URL, which is cleaned of it.
fn take_url_token(fields: &mut Map<String, Value>) -> Option<String> {
    let Some(Value::String(url)) = fields.get_mut("hub_url") else { return None };
    let (clean, token) = split_token(url);
    *url = clean;
    token
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
        let (values, defaults) = (&settings.values, Settings::default().values);
        assert_eq!(values.hub_url, "wss://hub.example/cable");
        assert_eq!(settings.token.as_deref(), Some("from-url"));
        assert_eq!(values.channel, "OrdersChannel");
        assert!(!values.notify_job_orders);
        assert_eq!(values.refresh_interval_s, defaults.refresh_interval_s);
        assert_eq!(values.frame_window_ms, defaults.frame_window_ms);
        assert_eq!(values.theme, defaults.theme);
        assert_eq!(values.snapshot_path, defaults.snapshot_path);
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
        assert_eq!(settings.values.hub_url, DEFAULT_HUB_URL);
        assert_eq!(settings.values.snapshot_path, "api/s");
        assert_eq!(settings.token.as_deref(), Some("t"));
        assert_eq!(refused.keys().collect::<Vec<_>>(), ["hub_url"]);
        let (settings, refused) = Settings::from_stored(serde_json::json!([1, 2]));
        assert_eq!(settings, Settings::default());
        assert!(refused.contains_key("settings"));
    }

    #[test]
    fn env_overrides_win_at_launch() {
        let mut stored = Settings { token: Some("old".into()), ..Settings::default() };
        stored.values.hub_url = "ws://stored:1/cable".into();
        let env = EnvOverrides { hub_url: Some("wss://env.example/cable".into()), token: None };
        let settings = Settings::at_launch(Some(stored), &env).unwrap();
        assert_eq!(settings.values.hub_url, "wss://env.example/cable");
        assert_eq!(settings.token.as_deref(), Some("old"));
        assert_eq!(settings.target().endpoints.rest.as_str(), "https://env.example/");
    }

    #[test]
    fn defaults_apply_when_nothing_is_stored_and_partial_stores_read() {
        assert_eq!(Settings::at_launch(None, &EnvOverrides::default()).unwrap(), Settings::default());
        let (partial, refused) = Settings::from_stored(serde_json::json!({"realtime": false}));
        assert!(refused.is_empty() && !partial.values.realtime);
        assert_eq!(partial.values.hub_url, DEFAULT_HUB_URL);
    }

    #[test]
    fn invalid_values_are_refused_with_a_message_each_and_change_nothing() {
        let settings = Settings::default();
        let patch = SettingsPatch::default()
            .set("hub_url", "http://not-a-cable")
            .set("refresh_interval_s", 0)
            .set("frame_window_ms", "abc")
            .set("channel", "  ")
            .set("snapshot_path", "https://elsewhere/x")
            .set("realtime", false);
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
            .apply(
                SettingsPatch { token: Some(String::new()), ..SettingsPatch::default() }
                    .set("refresh_interval_s", " 30 ")
                    .set("snapshot_path", "/stats.json")
                    .set("theme", "dark"),
            )
            .unwrap();
        assert_eq!(next.token, None);
        assert_eq!(next.mode().refresh_interval, Duration::from_secs(30));
        assert_eq!(next.values.snapshot_path, "stats.json");
        assert_eq!(next.view().settings.theme, Theme::Dark);
        assert!(!next.view().token_set);
    }

    #[test]
    fn a_snapshot_path_that_leaves_the_hub_is_refused() {
        let mut settings = Settings::default();
        settings.values.hub_url = "wss://hub.example/cable".into();
        for elsewhere in ["\\\\evil.example/x", "http:evil.example/x", "http:/evil.example/x"] {
            let patch = SettingsPatch::default().set("snapshot_path", elsewhere);
            let Err(Error::InvalidSettings(fields)) = settings.apply(patch) else {
                panic!("{elsewhere} refused")
            };
            assert!(fields["snapshot_path"].contains("stay on the hub"), "{elsewhere}: {fields:?}");
        }
        let on_hub = SettingsPatch::default().set("snapshot_path", "stats/summary.json");
        assert_eq!(settings.apply(on_hub).unwrap().values.snapshot_path, "stats/summary.json");
    }

    #[test]
    fn a_token_in_the_hub_url_moves_out_of_it() {
        let next = Settings::default()
            .apply(SettingsPatch::default().set("hub_url", "wss://hub.example/cable?token=s3cret"))
            .unwrap();
        assert_eq!(next.values.hub_url, "wss://hub.example/cable");
        assert_eq!(next.token.as_deref(), Some("s3cret"));
        assert!(!format!("{:?}", next.view()).contains("s3cret"));
    }

    #[test]
    fn the_token_is_never_written_and_an_old_files_is_taken_out() {
        let settings = Settings { token: Some("s3cret".into()), ..Settings::default() };
        let written = serde_json::to_string(&settings).unwrap();
        assert!(!written.contains("s3cret") && !written.contains("\"token\""), "{written}");
        let (old, refused) = Settings::from_stored(serde_json::json!({
            "hub_url": "ws://127.0.0.1:9/cable?token=from-url", "token": "from-field"
        }));
        assert!(refused.is_empty(), "{refused:?}");
        assert_eq!(
            (old.values.hub_url.as_str(), old.token.as_deref()),
            ("ws://127.0.0.1:9/cable", Some("from-field"))
        );
        assert!(!serde_json::to_string(&old).unwrap().contains("from-"));
    }

    #[test]
    fn a_token_in_clear_text_to_another_machine_needs_consent() {
        let remote = SettingsPatch { token: Some("s3cret".into()), ..SettingsPatch::default() }
            .set("hub_url", "ws://hub.example/cable");
        let Err(Error::InvalidSettings(fields)) = Settings::default().apply(remote.clone()) else {
            panic!("refused")
        };
        assert!(fields["hub_url"].contains("unencrypted to hub.example"), "{fields:?}");
        let allowed = remote.clone().set("allow_insecure_token", true);
        assert!(Settings::default().apply(allowed).is_ok());
        let encrypted = remote.clone().set("hub_url", "wss://hub.example/cable");
        assert!(Settings::default().apply(encrypted).is_ok());
        let loopback = remote.set("hub_url", "ws://127.0.0.1:3000/cable");
        assert!(Settings::default().apply(loopback).is_ok());
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let settings = Settings { token: Some("s3cret".into()), ..Settings::default() };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret") && shown.contains("redacted"), "{shown}");
    }
}
