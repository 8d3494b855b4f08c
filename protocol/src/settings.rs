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

/// Every setting; the token itself never leaves the backend, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    /// The cable URL, `ws://` or `wss://`.
    pub hub_url: String,
    pub token_set: bool,
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
    /// Start with the session; the OS's autostart entry is the truth, this shows it.
    pub launch_at_login: bool,
    /// The token may travel unencrypted (`ws://`) to a hub that is not this machine.
    #[serde(default)]
    pub allow_insecure_token: bool,
    /// What the user should know about this desktop (no notification service, no tray, …).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A number as it was typed or stored: a JSON number or the text of a form field, so the one
/// place that validates settings can say what is wrong with "abc" as with 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Typed {
    Number(i64),
    Text(String),
}

impl Typed {
    /// The whole number it holds, if it holds one.
    pub fn whole_number(&self) -> Option<i64> {
        match self {
            Typed::Number(n) => Some(*n),
            Typed::Text(text) => text.trim().parse().ok(),
        }
    }
}

impl From<i64> for Typed {
    fn from(n: i64) -> Self {
        Typed::Number(n)
    }
}

/// A change to some settings; absent fields stay as they are. An empty `token` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsPatch {
    pub hub_url: Option<String>,
    pub token: Option<String>,
    pub channel: Option<String>,
    pub snapshot_path: Option<String>,
    pub realtime: Option<bool>,
    pub auto_refresh: Option<bool>,
    pub refresh_interval_s: Option<Typed>,
    pub frame_window_ms: Option<Typed>,
    pub notify_job_orders: Option<bool>,
    pub notify_failed_exports: Option<bool>,
    pub theme: Option<Theme>,
    pub close_to_tray: Option<bool>,
    pub launch_at_login: Option<bool>,
    pub allow_insecure_token: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_number_reads_from_a_number_or_the_text_of_a_field() {
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"refresh_interval_s": " 30 ", "frame_window_ms": 250}"#).unwrap();
        assert_eq!(patch.refresh_interval_s.as_ref().and_then(Typed::whole_number), Some(30));
        assert_eq!(patch.frame_window_ms, Some(Typed::Number(250)));
        let typed: SettingsPatch = serde_json::from_str(r#"{"refresh_interval_s": "abc"}"#).unwrap();
        assert_eq!(typed.refresh_interval_s, Some(Typed::Text("abc".into())));
        assert_eq!(Typed::Text("1.5".into()).whole_number(), None);
    }
}
