use chrono::{DateTime, NaiveDateTime, Utc};
use pressroom_protocol::volume::{Granularity, HOURS, MINUTES};
use pressroom_protocol::{EventsPage, ExportStatusCounts, JobOrderVolume, Snapshot, Totals};

use axum::body::Bytes;
use std::sync::RwLock;
use tokio::sync::{Mutex, Semaphore};

use super::{timestamp, Domain};
use crate::delivery::outbox;
use crate::HubError;

/// Summary requests that may wait at once; more are answered 429 (a load-shedding answer, not a
/// 5xx). Generous: a waiting request costs a task, not a connection.
pub const MAX_WAITING_SUMMARIES: usize = 1024;
/// How long a backfill waits for the broadcaster to record this hub's commits in flight before
/// it reads the database instead (it takes milliseconds unless the hub is swamped).
const BROADCAST_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);
/// The newest events a summary's `recent_activity` carries (the contract's bound).
pub const SUMMARY_ACTIVITY: u64 = 100;

/// The summary shared by every request while the head seq and the minute are the same, and the
/// queue of requests waiting for a new one. A current summary is answered from memory (the head
/// seq is the history's, no database read); one is computed at a time, so summaries use at most
/// one read connection however many clients ask.
pub(crate) struct Summaries {
    /// (seq, minute, JSON) of the latest summary.
    latest: RwLock<Option<(u64, i64, Bytes)>>,
    /// Held while a summary is computed.
    computing: Mutex<()>,
    waiting: Semaphore,
}

impl Summaries {
    pub(crate) fn new() -> Self {
        Summaries {
            latest: RwLock::new(None),
            computing: Mutex::new(()),
            waiting: Semaphore::new(MAX_WAITING_SUMMARIES),
        }
    }

    /// The latest summary if it is as new as `head` and of this `minute`.
    fn current(&self, head: u64, minute: i64) -> Option<Bytes> {
        match self.latest.read().expect("summary lock").as_ref() {
            Some((seq, at, json)) if *seq >= head && *at == minute => Some(json.clone()),
            _ => None,
        }
    }
}

impl Domain {
    /// The summary as JSON, computed once per (head seq, minute) and shared.
    pub async fn shared_summary(&self) -> Result<Bytes, HubError> {
        let minute = || Utc::now().timestamp() / 60;
        if let Some(json) = self.summaries.current(self.history.head(), minute()) {
            return Ok(json);
        }
        let Ok(_waiting) = self.summaries.waiting.try_acquire() else {
            return Err(HubError::Busy);
        };
        let _computing = self.summaries.computing.lock().await;
        // Whoever held the lock before may have computed what this request needs.
        let now = minute();
        if let Some(json) = self.summaries.current(self.history.head(), now) {
            return Ok(json);
        }
        // Detached like a write: a read transaction cancelled half-way would poison its connection.
        let summary = self.detached(|d| async move { d.summary().await }).await?;
        let json = Bytes::from(serde_json::to_vec(&summary).expect("a summary serialises"));
        let at = summary.at.map_or(now, |at| at.timestamp() / 60);
        *self.summaries.latest.write().expect("summary lock") =
            Some((summary.seq.unwrap_or_default(), at, json.clone()));
        Ok(json)
    }

    /// The summary, read in one transaction so every field is consistent with its seq.
    pub async fn summary(&self) -> Result<Snapshot, HubError> {
        let now = Utc::now();
        let mut tx = self.begin_read().await?;
        let (epoch, seq) = outbox::head(&mut *tx).await?;
        let counts: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM books), (SELECT count(*) FROM covers), \
                    (SELECT count(*) FROM job_orders), (SELECT count(*) FROM print_exports), \
                    (SELECT count(*) FROM print_exports WHERE status = 'started'), \
                    (SELECT count(*) FROM print_exports WHERE status = 'completed'), \
                    (SELECT count(*) FROM print_exports WHERE status = 'failed')",
        )
        .fetch_one(&mut *tx)
        .await?;
        let after = seq.saturating_sub(SUMMARY_ACTIVITY);
        let recent_activity = outbox::read_after(&mut *tx, &epoch, after, SUMMARY_ACTIVITY as u32)
            .await?
            .into_iter()
            .rev()
            .collect();
        let mut job_order_volume = JobOrderVolume::empty_at(now);
        for (granularity, prefix, window) in [
            (Granularity::Minute, 16, chrono::TimeDelta::minutes(MINUTES as i64)),
            (Granularity::Hour, 13, chrono::TimeDelta::hours(HOURS as i64)),
        ] {
            // created_at is fixed-width RFC 3339, so its first 16 (13) characters name the minute (hour).
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT substr(created_at, 1, CAST($1 AS INTEGER)) AS bucket, count(*) FROM job_orders \
                 WHERE created_at >= $2 GROUP BY bucket",
            )
            .bind(prefix as i64)
            .bind(timestamp(now - window))
            .fetch_all(&mut *tx)
            .await?;
            for (bucket, count) in rows {
                if let Some(at) = bucket_start(&bucket) {
                    job_order_volume.add(granularity, at, count as u64);
                }
            }
        }
        tx.commit().await?;
        let n = |count: i64| count as u64;
        Ok(Snapshot {
            epoch: Some(epoch),
            seq: Some(seq),
            at: Some(now),
            totals: Totals {
                books: n(counts.0),
                covers: n(counts.1),
                job_orders: n(counts.2),
                print_exports: n(counts.3),
            },
            print_exports_by_status: ExportStatusCounts {
                started: n(counts.4),
                completed: n(counts.5),
                failed: n(counts.6),
            },
            recent_activity,
            job_order_volume,
        })
    }

    /// `GET /api/events` as JSON: from the history when it can answer, else the database.
    pub async fn events_json(&self, after: u64, limit: u32) -> Result<Bytes, HubError> {
        if let Some(json) = self.history.settled_page_json(after, limit as usize, BROADCAST_PATIENCE).await {
            return Ok(json);
        }
        tracing::debug!(after, "reading an events page from the database");
        let page = self.detached(move |d| async move { d.events(after, limit).await }).await?;
        Ok(Bytes::from(serde_json::to_vec(&page).expect("a page serialises")))
    }

    /// Committed events after `after`, in seq order, read from the database.
    pub async fn events(&self, after: u64, limit: u32) -> Result<EventsPage, HubError> {
        let mut tx = self.begin_read().await?;
        let (epoch, head_seq) = outbox::head(&mut *tx).await?;
        let mut events = outbox::read_after(&mut *tx, &epoch, after, limit + 1).await?;
        tx.commit().await?;
        let has_more = events.len() > limit as usize;
        events.truncate(limit as usize);
        Ok(EventsPage { epoch, head_seq, has_more, events })
    }
}

/// "2026-11-27T10:32" or "2026-11-27T10" as the UTC start of that minute or hour.
fn bucket_start(prefix: &str) -> Option<DateTime<Utc>> {
    let full = match prefix.len() {
        16 => format!("{prefix}:00"),
        13 => format!("{prefix}:00:00"),
        _ => return None,
    };
    NaiveDateTime::parse_from_str(&full, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::outbox::CommitSink;
    use crate::domain::{BookRef, NewJobOrder};

    async fn domain(dir: &tempfile::TempDir) -> Domain {
        let database = crate::db::open(&dir.path().join("hub.sqlite3").to_string_lossy()).await.unwrap();
        let (local, _) = tokio::sync::mpsc::unbounded_channel();
        let history = std::sync::Arc::new(crate::delivery::history::History::new("e", 100, 0, &[]));
        Domain::new(database, CommitSink::new(local, None), history)
    }

    fn order() -> NewJobOrder {
        NewJobOrder { book: BookRef::Title("T".into()), customer: "C".into(), quantity: 1, due_date: None }
    }

    #[tokio::test]
    async fn one_summary_is_shared_until_the_seq_moves() {
        let dir = tempfile::tempdir().unwrap();
        let domain = domain(&dir).await;
        let first = domain.shared_summary().await.unwrap();
        let again = domain.shared_summary().await.unwrap();
        // The same bytes, not a recomputation (unless the minute turned in between).
        let minute_turned = serde_json::from_slice::<Snapshot>(&first).unwrap().at.unwrap().timestamp() / 60
            != Utc::now().timestamp() / 60;
        assert!(minute_turned || first.as_ptr() == again.as_ptr());
        domain.create_job_order(order()).await.unwrap();
        let after = domain.shared_summary().await.unwrap();
        assert_eq!(serde_json::from_slice::<Snapshot>(&after).unwrap().totals.job_orders, 1);
    }

    #[tokio::test]
    async fn beyond_the_waiting_bound_a_request_is_told_to_retry() {
        let dir = tempfile::tempdir().unwrap();
        let domain = domain(&dir).await;
        let computing = domain.summaries.computing.lock().await;
        let waiters: Vec<_> = (0..MAX_WAITING_SUMMARIES)
            .map(|_| {
                let domain = domain.clone();
                tokio::spawn(async move { domain.shared_summary().await })
            })
            .collect();
        while domain.summaries.waiting.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(domain.shared_summary().await, Err(HubError::Busy)));
        drop(computing);
        for waiter in waiters {
            assert!(waiter.await.unwrap().is_ok(), "every queued request is answered");
        }
        assert!(domain.shared_summary().await.is_ok(), "the queue drained");
    }
}
