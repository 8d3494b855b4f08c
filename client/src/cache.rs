//! The local cache: the last view shown, in SQLite (WAL) in the data dir, written debounced by
//! its own task — never on the per-event path — and read at launch for the offline view. A
//! corrupt or unreadable cache is moved aside and rebuilt, never a crash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::state::{Saved, SharedDashboard};

pub const FILE: &str = "cache.sqlite3";
/// Write once changes have been quiet this long…
pub const QUIET: Duration = Duration::from_millis(250);
/// …but never later than this after the first unsaved change: a crash loses at most ~1 s.
pub const AT_MOST: Duration = Duration::from_secs(1);

pub struct Cache {
    pool: SqlitePool,
}

impl Cache {
    /// Opens (or creates) the cache in `dir`; a broken file is moved aside and a new one made.
    pub async fn open(dir: &Path) -> Result<Cache> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE);
        match Self::open_at(&path).await {
            Ok(cache) => Ok(cache),
            Err(error) => {
                let aside = path.with_extension(format!("corrupt-{}", Utc::now().format("%Y%m%dT%H%M%S")));
                tracing::warn!(%error, aside = %aside.display(), "cache unreadable: moving it aside and starting afresh");
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}{suffix}", aside.display()))?;
                    }
                }
                Self::open_at(&path).await
            }
        }
    }

    async fn open_at(path: &Path) -> Result<Cache> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let check: String = sqlx::query_scalar("PRAGMA quick_check").fetch_one(&pool).await?;
        if check != "ok" {
            pool.close().await;
            return Err(sqlx::Error::Protocol(format!("integrity check failed: {check}")).into());
        }
        sqlx::migrate!("../migrations").run(&pool).await?;
        Ok(Cache { pool })
    }

    /// The saved view, if there is a readable one.
    pub async fn load(&self) -> Option<Saved> {
        let body: Option<String> = match sqlx::query_scalar("SELECT body FROM saved_view WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
        {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%error, "could not read the cache");
                return None;
            }
        };
        match serde_json::from_str(&body?) {
            Ok(saved) => Some(saved),
            Err(error) => {
                tracing::warn!(%error, "cached view unreadable; ignoring it");
                None
            }
        }
    }

    /// Replaces the saved view in one transaction.
    pub async fn save(&self, saved: &Saved) -> Result<()> {
        let body = serde_json::to_string(saved).expect("the view serialises");
        sqlx::query(
            "INSERT INTO saved_view (id, saved_at, epoch, seq, body) VALUES (1, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET saved_at = excluded.saved_at, epoch = excluded.epoch, \
             seq = excluded.seq, body = excluded.body",
        )
        .bind(saved.saved_at.to_rfc3339())
        .bind(&saved.snapshot.epoch)
        .bind(saved.snapshot.seq.map(|s| s as i64))
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Writes the dashboard to the cache after changes settle (quiet for [`QUIET`], or [`AT_MOST`]
/// after the first), and once more on stop. Failures are logged; the app goes on.
pub async fn write_behind(
    cache: Cache,
    dashboard: SharedDashboard,
    mut changes: watch::Receiver<u64>,
    stop: CancellationToken,
) {
    // The change counter as of the last save. Compared by value at the end: when the app exits,
    // the sender is gone and `has_changed` says nothing about changes made during a slow save.
    let mut saved = *changes.borrow();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            changed = changes.changed() => if changed.is_err() { break },
        }
        let deadline = tokio::time::Instant::now() + AT_MOST;
        loop {
            let quiet = tokio::time::sleep(QUIET);
            tokio::select! {
                () = quiet => break,
                () = tokio::time::sleep_until(deadline) => break,
                () = stop.cancelled() => break,
                changed = changes.changed() => if changed.is_err() { break },
            }
        }
        let version = *changes.borrow_and_update();
        match cache.save(&dashboard.saved(Utc::now())).await {
            Ok(()) => saved = version,
            Err(error) => tracing::warn!(%error, "could not write the cache"),
        }
        if stop.is_cancelled() {
            break;
        }
    }
    if *changes.borrow() != saved {
        if let Err(error) = cache.save(&dashboard.saved(Utc::now())).await {
            tracing::warn!(%error, "could not write the last view");
        }
    }
    cache.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::{Event, EventKind, Snapshot, Totals};
    use serde_json::json;

    fn saved() -> Saved {
        let mut event = Event::new(EventKind::JobOrderCreated, json!({"id": 1}));
        event.seq = Some(7);
        Saved {
            snapshot: Snapshot {
                epoch: Some("e".into()),
                seq: Some(7),
                totals: Totals { job_orders: 7, ..Totals::default() },
                recent_activity: [event].into_iter().collect(),
                ..Snapshot::default()
            },
            saved_at: Utc::now(),
            data_at: Some(Utc::now()),
        }
    }

    #[tokio::test]
    async fn a_saved_view_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).await.unwrap();
        assert_eq!(cache.load().await, None);
        let view = saved();
        cache.save(&view).await.unwrap();
        cache.save(&view).await.unwrap();
        cache.close().await;
        let cache = Cache::open(dir.path()).await.unwrap();
        assert_eq!(cache.load().await, Some(view));
    }

    #[tokio::test]
    async fn a_corrupt_file_is_moved_aside_and_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"this is not a database, just bytes ".repeat(200)).unwrap();
        let cache = Cache::open(dir.path()).await.expect("rebuilt");
        assert_eq!(cache.load().await, None);
        cache.save(&saved()).await.unwrap();
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("corrupt"))
            .collect();
        assert_eq!(aside.len(), 1, "the broken file is kept for inspection: {aside:?}");
    }

    #[tokio::test]
    async fn an_unreadable_body_is_ignored_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).await.unwrap();
        sqlx::query("INSERT INTO saved_view (id, saved_at, body) VALUES (1, 'x', '{broken')")
            .execute(&cache.pool)
            .await
            .unwrap();
        assert_eq!(cache.load().await, None);
    }
}
