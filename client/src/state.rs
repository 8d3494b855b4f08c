//! The dashboard state the backend keeps: one per app, shared by the driver (which writes it),
//! the commands and the cache writer (which read it).

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use pressroom_protocol::{ConnectionState, ConnectionView, DashboardView, Event, Frame, Snapshot};
use serde::{Deserialize, Serialize};

use crate::coalescer::FramePlan;

/// What the cache stores: the snapshot, whose feed is the one the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub snapshot: Snapshot,
    pub saved_at: DateTime<Utc>,
    /// When this data was last confirmed by the server (older caches: unknown).
    #[serde(default)]
    pub data_at: Option<DateTime<Utc>>,
}

impl Saved {
    /// How old the saved numbers are: when they were confirmed, else when they were saved.
    pub fn data_at(&self) -> DateTime<Utc> {
        self.data_at.unwrap_or(self.saved_at)
    }
}

struct Inner {
    connection: ConnectionView,
    snapshot: Snapshot,
    /// Events that joined the feed since the last frame was built.
    unsent: usize,
    data_at: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub struct SharedDashboard(Arc<Mutex<Inner>>);

impl Default for SharedDashboard {
    fn default() -> Self {
        SharedDashboard(Arc::new(Mutex::new(Inner {
            connection: ConnectionView::new(ConnectionState::Connecting),
            snapshot: Snapshot::default(),
            unsent: 0,
            data_at: None,
        })))
    }
}

impl SharedDashboard {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent even if a holder panicked: every update is an assignment or
        // a call to the pure `apply`.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What a window shows when it (re)loads.
    pub fn view(&self) -> DashboardView {
        let inner = self.lock();
        DashboardView { connection: inner.connection.clone(), frame: Frame::full(&inner.snapshot) }
    }

    pub fn connection(&self) -> ConnectionView {
        self.lock().connection.clone()
    }

    pub fn set_connection(&self, connection: ConnectionView) {
        self.lock().connection = connection;
    }

    /// The data on screen is current as of `at` (the server answered).
    pub fn confirm(&self, at: DateTime<Utc>) {
        self.lock().data_at = Some(at);
    }

    /// The state as it stands, feed included.
    pub fn snapshot(&self) -> Snapshot {
        self.lock().snapshot.clone()
    }

    pub fn job_orders(&self) -> u64 {
        self.lock().snapshot.totals.job_orders
    }

    pub fn data_at(&self) -> Option<DateTime<Utc>> {
        self.lock().data_at
    }

    /// Replaces the snapshot (one fetched from the server).
    pub fn replace(&self, snapshot: Snapshot) {
        self.lock().snapshot = snapshot;
    }

    /// Applies a live event, which the connection releases once, in seq order.
    pub fn apply(&self, event: &Event) {
        let mut inner = self.lock();
        inner.snapshot.apply(event);
        inner.unsent += 1;
    }

    /// A frame with the exact totals now, the feed items new since the last frame (or the whole
    /// feed), and what else `plan` says to carry.
    pub fn frame(&self, plan: FramePlan) -> Frame {
        let mut inner = self.lock();
        let new = std::mem::take(&mut inner.unsent);
        let snapshot = &inner.snapshot;
        let feed = &snapshot.recent_activity;
        Frame {
            totals: snapshot.totals,
            print_exports_by_status: snapshot.print_exports_by_status,
            new_activity: feed.iter().take(if plan.full { feed.len() } else { new }).cloned().collect(),
            reset_activity: plan.full,
            job_order_volume: plan.chart.then(|| snapshot.job_order_volume.clone()),
        }
    }

    /// What to write to the cache.
    pub fn saved(&self, now: DateTime<Utc>) -> Saved {
        let inner = self.lock();
        Saved { snapshot: inner.snapshot.clone(), saved_at: now, data_at: inner.data_at }
    }

    /// Shows what the cache held.
    pub fn restore(&self, saved: Saved) {
        let mut inner = self.lock();
        inner.data_at = Some(saved.data_at());
        inner.snapshot = saved.snapshot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::{EventKind, FEED_LIMIT};
    use serde_json::json;

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::JobOrderCreated, json!({"id": seq}));
        event.seq = Some(seq);
        event
    }

    fn seqs(events: &[Event]) -> Vec<u64> {
        events.iter().map(|e| e.seq.unwrap()).collect()
    }

    #[test]
    fn the_feed_is_kept_once_and_frames_carry_what_is_new() {
        let dashboard = SharedDashboard::default();
        for seq in 1..=600 {
            dashboard.apply(&event(seq));
        }
        let saved = dashboard.saved(Utc::now());
        assert_eq!(saved.snapshot.recent_activity.len(), FEED_LIMIT);
        assert_eq!(saved.snapshot.recent_activity[0].seq, Some(600));
        let frame = dashboard.frame(FramePlan { full: true, chart: true });
        assert_eq!(frame.totals.job_orders, 600);
        assert_eq!(frame.new_activity.len(), FEED_LIMIT);
        assert!(frame.reset_activity && frame.job_order_volume.is_some());
        assert_eq!(dashboard.view().frame, frame, "a window that loads gets the same full frame");

        for seq in 601..=603 {
            dashboard.apply(&event(seq));
        }
        let frame = dashboard.frame(FramePlan::default());
        assert_eq!(seqs(&frame.new_activity), [603, 602, 601]);
        assert!(!frame.reset_activity && frame.job_order_volume.is_none());
        assert!(dashboard.frame(FramePlan::default()).new_activity.is_empty(), "each item goes out once");
        for seq in 604..=1000 {
            dashboard.apply(&event(seq));
        }
        let flood = dashboard.frame(FramePlan::default());
        assert_eq!(flood.new_activity.len(), FEED_LIMIT, "never more than the feed holds");
        assert_eq!(flood.new_activity[0].seq, Some(1000));
    }

    #[test]
    fn a_cache_written_with_the_separate_feed_still_reads() {
        let snapshot = json!({"totals": {"books": 0, "covers": 0, "job_orders": 2, "print_exports": 0},
                              "recent_activity": [event(2), event(1)]});
        let activity: Vec<Event> = (1..=500).rev().map(event).collect();
        let saved: Saved = serde_json::from_value(json!({
            "snapshot": snapshot, "activity": activity, "saved_at": "2026-12-01T10:00:00Z"
        }))
        .unwrap();
        let dashboard = SharedDashboard::default();
        dashboard.restore(saved);
        assert_eq!(dashboard.job_orders(), 2);
        assert_eq!(seqs(&dashboard.view().frame.new_activity), [2, 1]);
    }

    #[test]
    fn a_restored_cache_shows_again() {
        let dashboard = SharedDashboard::default();
        dashboard.apply(&event(1));
        let saved = dashboard.saved(Utc::now());
        let other = SharedDashboard::default();
        other.restore(saved.clone());
        assert_eq!(other.data_at(), Some(saved.saved_at), "an unconfirmed cache is as old as its save");
        let confirmed_at = Utc::now();
        dashboard.confirm(confirmed_at);
        let saved = dashboard.saved(Utc::now());
        other.restore(saved.clone());
        assert_eq!(other.saved(saved.saved_at), saved);
        assert_eq!(other.data_at(), Some(confirmed_at));
    }
}
