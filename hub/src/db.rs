//! Opening the database — SQLite (the zero-config default) or Postgres, through sqlx's `Any`
//! driver with runtime-checked queries — and applying that backend's migrations.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::HubError;

pub type Pool = AnyPool;

/// Which engine a database runs on; the SQL is shared, transaction starts differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// How a write transaction starts: with the one lock every writer takes, held to the end,
    /// so writes are serialised alike on both engines (a find-or-create never doubles). SQLite:
    /// IMMEDIATE takes the database's write lock up front (a read-then-write transaction would
    /// fail with SQLITE_BUSY instead of waiting). Postgres: the outbox head's row lock, taken by
    /// [`Backend::write_lock`].
    pub fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// What a write runs right after [`Backend::begin_write`] to take that lock, if anything.
    pub fn write_lock(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("SELECT 1 FROM outbox_head WHERE id = 1 FOR UPDATE"),
        }
    }

    /// How a multi-statement read starts, so all of it sees one snapshot.
    pub fn begin_read(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        }
    }
}

/// An open database.
#[derive(Debug, Clone)]
pub struct Database {
    /// Reads: the API's, the summary's and the broadcaster's.
    pub pool: Pool,
    /// Writes only, so no flood of reads can keep a writer waiting for a connection. SQLite has
    /// one writer at a time anyway; Postgres writers queue on the outbox head's row lock.
    pub writes: Pool,
    pub backend: Backend,
}

/// Connections per pool: (reads, writes).
const SQLITE_POOLS: (u32, u32) = (8, 1);
const POSTGRES_POOLS: (u32, u32) = (16, 4);

/// Every SQLite connection's settings. `synchronous = FULL`: a commit (and so a 201 and its
/// broadcast) survives power loss; under NORMAL a WAL commit can be lost, and seq would then
/// rewind within the same epoch, so clients would drop the new events as duplicates.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                              PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// Opens `location` — a bare file path or a `sqlite:` URL (the file is created if missing), or a
/// `postgres://` URL — and applies pending migrations (idempotent).
pub async fn open(location: &str) -> Result<Database, HubError> {
    sqlx::any::install_default_drivers();
    let invalid = |why: String| HubError::DatabaseUrl(location.to_owned(), why);
    let database = if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        let options = AnyConnectOptions::from_str(location).map_err(|e| invalid(e.to_string()))?;
        let pool =
            AnyPoolOptions::new().max_connections(POSTGRES_POOLS.0).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let writes = AnyPoolOptions::new().max_connections(POSTGRES_POOLS.1).connect_with(options).await?;
        for setting in postgres_not_durable(&pool).await? {
            tracing::warn!(
                setting,
                "Postgres runs with {setting} = off: an acknowledged write can be lost in a crash"
            );
        }
        Database { pool, writes, backend: Backend::Postgres }
    } else {
        let sqlite = if location.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(location).map_err(|e| invalid(e.to_string()))?
        } else if location.contains("://") {
            return Err(invalid("expected a file path, a sqlite: URL or a postgres:// URL".to_owned()));
        } else {
            SqliteConnectOptions::new().filename(location)
        };
        if let Some(dir) = sqlite.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let url = sqlite.create_if_missing(true).to_url_lossy();
        let options = AnyConnectOptions::from_url(&url).map_err(|e| invalid(e.to_string()))?;
        let pool = sqlite_pool(SQLITE_POOLS.0, options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writes = sqlite_pool(SQLITE_POOLS.1, options).await?;
        Database { pool, writes, backend: Backend::Sqlite }
    };
    Ok(database)
}

async fn sqlite_pool(connections: u32, options: AnyConnectOptions) -> Result<Pool, HubError> {
    Ok(AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(|conn, _| Box::pin(async move { conn.execute(SQLITE_PRAGMAS).await.map(drop) }))
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?)
}

/// The server settings (`fsync`, `synchronous_commit`) that are off, so commits can be lost.
pub async fn postgres_not_durable(pool: &Pool) -> Result<Vec<&'static str>, HubError> {
    let mut off = Vec::new();
    for setting in ["fsync", "synchronous_commit"] {
        let value: String = sqlx::query_scalar(&format!("SHOW {setting}")).fetch_one(pool).await?;
        if value == "off" {
            off.push(setting);
        }
    }
    Ok(off)
}

/// Times are stored as fixed-width RFC 3339 UTC text, so text order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_commits_are_durable_on_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let database = open(&dir.path().join("hub.sqlite3").to_string_lossy()).await.unwrap();
        for pool in [&database.pool, &database.writes] {
            // 2 is FULL (NORMAL is 1).
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.unwrap();
            assert_eq!(level, 2);
        }
        assert_eq!(database.writes.options().get_max_connections(), 1, "one writer, its own pool");
    }
}
