//! Opening the database and applying migrations.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::HubError;

pub type Pool = SqlitePool;

/// Opens `location` — a bare file path or a `sqlite:` URL; the file is created if missing —
/// and applies pending migrations (idempotent).
pub async fn open(location: &str) -> Result<Pool, HubError> {
    let options = if location.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(location)
            .map_err(|e| HubError::DatabaseUrl(location.to_owned(), e.to_string()))?
    } else if location.contains("://") {
        return Err(HubError::DatabaseUrl(
            location.to_owned(),
            "expected a file path or a sqlite: URL".to_owned(),
        ));
    } else {
        SqliteConnectOptions::new().filename(location)
    };
    if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Times are stored as fixed-width RFC 3339 UTC text, so text order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}
