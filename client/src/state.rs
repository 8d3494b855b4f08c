//! The dashboard state the backend keeps: one per app, shared by the driver (which writes it),
//! the commands and the cache writer (which read it).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use pressroom_protocol::snapshot::Applied;
use pressroom_protocol::view::FEED_LIMIT;
use pressroom_protocol::{ConnectionState, ConnectionView, DashboardView, Event, Frame, Snapshot};
use serde::{Deserialize, Serialize};

use crate::coalescer::FramePlan;

/// Feed items kept (and cached) for the offline view.
pub const KEPT_ACTIVITY: usize = 500;

/// What the cache stores: the snapshot and the longer feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub snapshot: Snapshot,
    /// Newest first, at most [`KEPT_ACTIVITY`].
    pub activity: Vec<Event>,
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
    activity: VecDeque<Event>,
    data_at: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub struct SharedDashboard(Arc<Mutex<Inner>>);

impl Default for SharedDashboard {
    fn default() -> Self {
        SharedDashboard(Arc::new(Mutex::new(Inner {
            connection: ConnectionView::new(ConnectionState::Connecting),
            snapshot: Snapshot::default(),
            activity: VecDeque::new(),
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
        let mut snapshot = inner.snapshot.clone();
        snapshot.recent_activity = inner.activity.iter().take(FEED_LIMIT).cloned().collect();
        DashboardView { connection: inner.connection.clone(), snapshot }
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

    pub fn job_orders(&self) -> u64 {
        self.lock().snapshot.totals.job_orders
    }

    pub fn data_at(&self) -> Option<DateTime<Utc>> {
        self.lock().data_at
    }

    /// Replaces the snapshot (one fetched from the server).
    pub fn replace(&self, mut snapshot: Snapshot) {
        let mut inner = self.lock();
        // A server's feed longer than what is kept would only cost memory.
        snapshot.recent_activity.truncate(KEPT_ACTIVITY);
        inner.activity = snapshot.recent_activity.iter().cloned().collect();
        inner.snapshot = snapshot;
    }

    /// Applies a live event; false if it was already counted.
    pub fn apply(&self, event: &Event) -> bool {
        let mut inner = self.lock();
        match inner.snapshot.apply(event) {
            Applied::AlreadySeen => false,
            Applied::Yes => {
                inner.activity.push_front(event.clone());
                inner.activity.truncate(KEPT_ACTIVITY);
                true
            }
        }
    }

    /// A frame with the exact totals now and what `plan` says to carry.
    pub fn frame(&self, plan: FramePlan) -> Frame {
        let inner = self.lock();
        let new_activity = if plan.full {
            inner.activity.iter().take(FEED_LIMIT).cloned().collect()
        } else {
            plan.new_activity.into()
        };
        Frame {
            totals: inner.snapshot.totals,
            print_exports_by_status: inner.snapshot.print_exports_by_status,
            new_activity,
            reset_activity: plan.full,
            job_order_volume: plan.chart.then(|| inner.snapshot.job_order_volume.clone()),
        }
    }

    /// What to write to the cache.
    pub fn saved(&self, now: DateTime<Utc>) -> Saved {
        let inner = self.lock();
        Saved {
            snapshot: inner.snapshot.clone(),
            activity: inner.activity.iter().cloned().collect(),
            saved_at: now,
            data_at: inner.data_at,
        }
    }

    /// Shows what the cache held.
    pub fn restore(&self, saved: Saved) {
        let mut inner = self.lock();
        inner.data_at = Some(saved.data_at());
        inner.snapshot = saved.snapshot;
        inner.activity = saved.activity.into_iter().take(KEPT_ACTIVITY).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use serde_json::json;

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::JobOrderCreated, json!({"id": seq}));
        event.seq = Some(seq);
        event
    }

    #[test]
    fn the_feed_keeps_five_hundred_and_frames_carry_two_hundred() {
        let dashboard = SharedDashboard::default();
        for seq in 1..=600 {
            assert!(dashboard.apply(&event(seq)));
        }
        assert!(!dashboard.apply(&event(600)), "a replay is not counted");
        let saved = dashboard.saved(Utc::now());
        assert_eq!(saved.activity.len(), KEPT_ACTIVITY);
        assert_eq!(saved.activity[0].seq, Some(600));
        let frame = dashboard.frame(FramePlan { full: true, chart: true, ..FramePlan::default() });
        assert_eq!(frame.totals.job_orders, 600);
        assert_eq!(frame.new_activity.len(), FEED_LIMIT);
        assert!(frame.reset_activity && frame.job_order_volume.is_some());
        assert_eq!(dashboard.view().snapshot.recent_activity.len(), FEED_LIMIT);
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
