//! The desktop backend's one error type; commands return it serialised as
//! `{"kind": ..., "message": ...}`.

use serde::ser::SerializeStruct;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] pressroom_client::Error),
    #[error("settings store: {0}")]
    Store(#[from] tauri_plugin_store::Error),
    #[error("{0}")]
    Tauri(#[from] tauri::Error),
    #[error("launch at login: {0}")]
    Autostart(#[from] tauri_plugin_autostart::Error),
    #[error("could not open: {0}")]
    Opener(#[from] tauri_plugin_opener::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("credential store: {0}")]
    Credentials(#[from] keyring::Error),
}

impl Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Core(error) => error.kind(),
            Error::Store(_) => "store",
            Error::Tauri(_) => "tauri",
            Error::Autostart(_) => "autostart",
            Error::Opener(_) => "opener",
            Error::Io(_) => "io",
            Error::Credentials(_) => "credentials",
        }
    }
}

impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut error = serializer.serialize_struct("Error", 3)?;
        error.serialize_field("kind", self.kind())?;
        error.serialize_field("message", &self.to_string())?;
        if let Error::Core(pressroom_client::Error::InvalidSettings(fields)) = self {
            error.serialize_field("fields", fields)?;
        }
        error.end()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
