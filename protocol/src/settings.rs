//! The app's settings as the webview sees and edits them.

use serde::{Deserialize, Serialize};

/// Tauri event carrying the current [`SettingsView`] after a change.
pub const SETTINGS_EVENT: &str = "pressroom://settings";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
    /// Follow the operating system.
    #[default]
    System,
}

/// Every setting, in the one shape the backend keeps, the settings file stores and the webview
/// shows. The token is kept apart (in the credential store) and never leaves the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The cable URL, `ws://` or `wss://`.
    pub hub_url: String,
    pub channel: String,
    /// Where the snapshot is served, relative to the REST origin.
    pub snapshot_path: String,
    pub realtime: bool,
    pub auto_refresh: bool,
    pub refresh_interval_s: u32,
    pub frame_window_ms: u32,
    pub notify_job_orders: bool,
    pub notify_failed_exports: bool,
    pub theme: Theme,
    /// Closing the main window hides it to the tray (where a tray can really be shown).
    pub close_to_tray: bool,
    /// The token may travel unencrypted (`ws://`) to a hub that is not this machine.
    pub allow_insecure_token: bool,
}

/// The settings as the webview gets them: the settings themselves and what is not a setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: Settings,
    pub token_set: bool,
    /// Start with the session; the OS's autostart entry is the truth, this shows it.
    pub launch_at_login: bool,
    /// What the user should know about this desktop (no notification service, no tray, …).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A change to some settings, as the user typed it: each field of [`Settings`] by name with the
/// value given (a number may come as the text of a form field, so the one place that validates
/// says what is wrong with "abc" as with 0); absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsPatch {
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// A new token; empty removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Turn the OS's autostart entry on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_at_login: Option<bool>,
}

impl SettingsPatch {
    /// Every field set to what `settings` holds; the token and the autostart entry untouched.
    pub fn all(settings: &Settings) -> Self {
        match serde_json::to_value(settings) {
            Ok(serde_json::Value::Object(fields)) => SettingsPatch { fields, ..Self::default() },
            _ => unreachable!("settings serialise to an object"),
        }
    }

    /// A change of one field.
    pub fn set(mut self, field: &str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(field.to_owned(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_carries_the_typed_fields_the_token_and_the_autostart_apart() {
        let patch: SettingsPatch = serde_json::from_str(
            r#"{"refresh_interval_s": " 30 ", "frame_window_ms": 250, "token": "t", "launch_at_login": true}"#,
        )
        .unwrap();
        assert_eq!(patch.fields.len(), 2);
        assert_eq!(patch.fields["refresh_interval_s"], " 30 ");
        assert_eq!((patch.token.as_deref(), patch.launch_at_login), (Some("t"), Some(true)));
        let built = SettingsPatch::default().set("realtime", false);
        assert_eq!(serde_json::to_value(&built).unwrap(), serde_json::json!({"realtime": false}));
    }

    #[test]
    fn a_patch_of_all_fields_names_each_setting_once() {
        let settings = Settings {
            hub_url: "ws://h/cable".into(),
            channel: "AnalyticsChannel".into(),
            snapshot_path: "/api/s".into(),
            realtime: true,
            auto_refresh: false,
            refresh_interval_s: 10,
            frame_window_ms: 250,
            notify_job_orders: true,
            notify_failed_exports: false,
            theme: Theme::Dark,
            close_to_tray: true,
            allow_insecure_token: false,
        };
        let patch = SettingsPatch::all(&settings);
        assert_eq!(patch.fields.len(), 12);
        assert_eq!(patch.fields["theme"], "dark");
        assert_eq!((patch.token, patch.launch_at_login), (None, None));
        let back: Settings = serde_json::from_value(serde_json::Value::Object(patch.fields)).unwrap();
        assert_eq!(back, settings);
    }
}
