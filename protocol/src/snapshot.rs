//! The dashboard's state and the pure rule that applies an event to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::feed::Feed;
use crate::volume::JobOrderVolume;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    pub books: u64,
    pub covers: u64,
    pub job_orders: u64,
    pub print_exports: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportStatusCounts {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
}

/// Where a print export is, as its latest event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    Started,
    Completed,
    Failed,
}

impl EventKind {
    /// The export status an event of this kind reports, if it is a print export's.
    pub fn export_status(&self) -> Option<ExportStatus> {
        match self {
            EventKind::PrintExportStarted => Some(ExportStatus::Started),
            EventKind::PrintExportCompleted => Some(ExportStatus::Completed),
            EventKind::PrintExportFailed => Some(ExportStatus::Failed),
            _ => None,
        }
    }
}

impl ExportStatusCounts {
    /// One export reaching `status`: a start counts one more in progress; completing or failing
    /// moves one out of it. Saturating: a server's counts may claim anything.
    pub fn record(&mut self, status: ExportStatus) {
        match status {
            ExportStatus::Started => self.started = self.started.saturating_add(1),
            ExportStatus::Completed => {
                self.started = self.started.saturating_sub(1);
                self.completed = self.completed.saturating_add(1);
            }
            ExportStatus::Failed => {
                self.started = self.started.saturating_sub(1);
                self.failed = self.failed.saturating_add(1);
            }
        }
    }
}

/// What `GET /api/analytics/summary` returns; every field but `totals` is optional on the wire
/// so a minimal server (or a Rails app's own summary) still reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    pub totals: Totals,
    #[serde(default)]
    pub print_exports_by_status: ExportStatusCounts,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Event>))]
    pub recent_activity: Feed<Event>,
    #[serde(default)]
    pub job_order_volume: JobOrderVolume,
}

impl Snapshot {
    /// Applies one event: each `*_created` adds one to its total; `print_export_started` adds one
    /// to `print_exports` and to `started`; `completed` / `failed` move one out of `started`.
    /// Unknown kinds join the feed and change no total. Each event is applied once, in seq order,
    /// by whoever feeds it ([`crate::in_order::InOrder`] drops replays); its seq and epoch become
    /// the snapshot's.
    ///
    /// Counts saturate: a server's snapshot may claim any number, and must not make the next
    /// event panic (debug) or wrap to zero (release).
    pub fn apply(&mut self, event: &Event) {
        let totals = &mut self.totals;
        if let Some(status) = event.kind.export_status() {
            self.print_exports_by_status.record(status);
        }
        match event.kind {
            EventKind::BookCreated => totals.books = totals.books.saturating_add(1),
            EventKind::CoverCreated => totals.covers = totals.covers.saturating_add(1),
            EventKind::JobOrderCreated => {
                totals.job_orders = totals.job_orders.saturating_add(1);
                if let Some(at) = event.at {
                    self.job_order_volume.record(at);
                }
            }
            EventKind::PrintExportStarted => totals.print_exports = totals.print_exports.saturating_add(1),
            EventKind::PrintExportCompleted | EventKind::PrintExportFailed | EventKind::Other(_) => {}
        }
        if event.seq.is_some() {
            self.seq = event.seq;
            self.epoch.clone_from(&event.epoch);
        }
        if event.at.is_some() {
            self.at = event.at;
        }
        self.recent_activity.push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::FEED_LIMIT;
    use serde_json::json;

    fn event(kind: &str, seq: Option<u64>) -> Event {
        let mut event = Event::new(EventKind::from(kind), json!({"id": 1}));
        event.seq = seq;
        event.epoch = seq.map(|_| "e1".to_owned());
        event
    }

    #[test]
    fn counts_claimed_at_the_maximum_saturate() {
        let mut snapshot = Snapshot::default();
        snapshot.totals.job_orders = u64::MAX;
        snapshot.print_exports_by_status.failed = u64::MAX;
        snapshot.apply(&event("job_order_created", None));
        snapshot.apply(&event("print_export_failed", None));
        assert_eq!(snapshot.totals.job_orders, u64::MAX);
        assert_eq!(snapshot.print_exports_by_status.failed, u64::MAX);
    }

    #[test]
    fn each_kind_moves_the_right_counts() {
        let cases: [(&str, Totals, ExportStatusCounts); 7] = [
            ("book_created", Totals { books: 1, ..Default::default() }, Default::default()),
            ("cover_created", Totals { covers: 1, ..Default::default() }, Default::default()),
            ("job_order_created", Totals { job_orders: 1, ..Default::default() }, Default::default()),
            (
                "print_export_started",
                Totals { print_exports: 1, ..Default::default() },
                ExportStatusCounts { started: 1, ..Default::default() },
            ),
            (
                "print_export_completed",
                Totals::default(),
                ExportStatusCounts { completed: 1, ..Default::default() },
            ),
            (
                "print_export_failed",
                Totals::default(),
                ExportStatusCounts { failed: 1, ..Default::default() },
            ),
            ("invoice_paid", Totals::default(), Default::default()),
        ];
        for (kind, totals, status) in cases {
            let mut snapshot = Snapshot::default();
            snapshot.apply(&event(kind, None));
            assert_eq!(snapshot.totals, totals, "{kind}");
            assert_eq!(snapshot.print_exports_by_status, status, "{kind}");
            assert_eq!(snapshot.recent_activity.len(), 1, "{kind} joins the feed");
        }
    }

    #[test]
    fn an_export_moves_from_started_to_completed() {
        let mut snapshot = Snapshot::default();
        snapshot.apply(&event("print_export_started", None));
        snapshot.apply(&event("print_export_started", None));
        snapshot.apply(&event("print_export_completed", None));
        assert_eq!(snapshot.totals.print_exports, 2);
        assert_eq!(
            snapshot.print_exports_by_status,
            ExportStatusCounts { started: 1, completed: 1, failed: 0 }
        );
    }

    #[test]
    fn an_event_s_seq_and_epoch_become_the_snapshot_s() {
        let mut snapshot = Snapshot { seq: Some(10), epoch: Some("old".into()), ..Default::default() };
        snapshot.apply(&event("book_created", Some(1)));
        assert_eq!(snapshot.totals.books, 1);
        assert_eq!((snapshot.seq, snapshot.epoch.as_deref()), (Some(1), Some("e1")));
        snapshot.apply(&event("book_created", None));
        assert_eq!((snapshot.seq, snapshot.totals.books), (Some(1), 2), "an event without seq keeps it");
    }

    #[test]
    fn the_feed_is_newest_first_and_bounded() {
        let mut snapshot = Snapshot::default();
        for seq in 1..=(FEED_LIMIT as u64 + 5) {
            snapshot.apply(&event("job_order_created", Some(seq)));
        }
        assert_eq!(snapshot.recent_activity.len(), FEED_LIMIT);
        assert_eq!(snapshot.recent_activity[0].seq, Some(FEED_LIMIT as u64 + 5));
    }

    #[test]
    fn a_minimal_summary_reads() {
        let snapshot: Snapshot = serde_json::from_value(
            json!({"totals": {"books": 1, "covers": 2, "job_orders": 3, "print_exports": 4}}),
        )
        .unwrap();
        assert_eq!(snapshot.totals, Totals { books: 1, covers: 2, job_orders: 3, print_exports: 4 });
        assert_eq!(snapshot.seq, None);
    }
}
