//! What the user should know about this desktop — no notification service, no tray — shown in the
//! settings view. Each note is added once; adding one tells the webview.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Notes(Arc<Mutex<BTreeSet<String>>>);

impl Notes {
    /// Adds `note`; true if it is new.
    pub fn add(&self, note: &str) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(note.to_owned())
    }

    pub fn list(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}

pub const NO_NOTIFICATION_SERVICE: &str =
    "No notification service is running on this desktop: new job orders and failed exports are not announced.";
pub const NO_TRAY: &str = "No system tray on this desktop: closing the window quits Pressroom.";
pub const NO_CREDENTIAL_STORE: &str = "No credential store answers on this desktop: the hub token is kept in an owner-only file in the data dir.";

/// Which fields of the settings file were refused, and why; each is back at its default.
pub fn refused_in_file(refused: &std::collections::BTreeMap<String, String>) -> String {
    let why = refused.iter().map(|(field, message)| format!("{field} {message}")).collect::<Vec<_>>();
    format!("Some saved settings were invalid and are back at their defaults ({}).", why.join("; "))
}

/// Why the launch settings (the environment's, on the stored ones) were not all used.
pub fn refused_at_launch(error: &pressroom_client::Error) -> String {
    let why = match error {
        pressroom_client::Error::InvalidSettings(fields) => {
            fields.iter().map(|(field, message)| format!("{field} {message}")).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    };
    format!("The launch settings were refused ({why}): the stored settings (or the defaults) are in use.")
}
