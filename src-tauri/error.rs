//! The desktop backend's one error type; commands return it serialised as
//! `{"kind": ..., "message": ...}`.

use serde::ser::SerializeStruct;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid hub URL {url:?}: {reason}")]
    InvalidHubUrl { url: String, reason: String },
    #[error("settings store: {0}")]
    Store(#[from] tauri_plugin_store::Error),
    #[error("could not reach the hub: {0}")]
    Http(#[from] reqwest::Error),
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("{0}")]
    Tauri(#[from] tauri::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::InvalidHubUrl { .. } => "invalid_hub_url",
            Error::Store(_) => "store",
            Error::Http(_) => "http",
            Error::WebSocket(_) => "websocket",
            Error::Tauri(_) => "tauri",
            Error::Io(_) => "io",
        }
    }
}

impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut error = serializer.serialize_struct("Error", 2)?;
        error.serialize_field("kind", self.kind())?;
        error.serialize_field("message", &self.to_string())?;
        error.end()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
