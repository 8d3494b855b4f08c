//! The desktop core's one error type. The app wraps it in its own, which commands serialise as
//! `{"kind": ..., "message": ...}` (plus `fields` for invalid settings).

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid hub URL {url:?}: {reason}")]
    InvalidHubUrl { url: String, reason: String },
    #[error("some settings are invalid")]
    InvalidSettings(std::collections::BTreeMap<String, String>),
    #[error("cache: {0}")]
    Cache(#[from] sqlx::Error),
    #[error("cache migration: {0}")]
    CacheMigration(#[from] sqlx::migrate::MigrateError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The stable name the UI tells errors apart by.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidHubUrl { .. } => "invalid_hub_url",
            Error::InvalidSettings(_) => "invalid_settings",
            Error::Cache(_) | Error::CacheMigration(_) => "cache",
            Error::Io(_) => "io",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
