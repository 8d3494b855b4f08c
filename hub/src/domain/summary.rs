use chrono::{DateTime, NaiveDateTime, Utc};
use pressroom_protocol::snapshot::RECENT_ACTIVITY_LIMIT;
use pressroom_protocol::volume::{Granularity, HOURS, MINUTES};
use pressroom_protocol::{EventsPage, ExportStatusCounts, JobOrderVolume, Snapshot, Totals};

use super::{timestamp, Domain};
use crate::{outbox, HubError};

impl Domain {
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
        let after = seq.saturating_sub(RECENT_ACTIVITY_LIMIT as u64);
        let mut recent_activity =
            outbox::read_after(&mut *tx, &epoch, after, RECENT_ACTIVITY_LIMIT as u32).await?;
        recent_activity.reverse();
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

    /// Committed events after `after`, in seq order.
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
