//! The dashboard's one store: a reducer fed by the backend's frames, connection views and
//! settings.

use std::rc::Rc;

use pressroom_protocol::settings::SettingsView;
use pressroom_protocol::{
    ConnectionView, DashboardView, Event, ExportStatusCounts, Feed, Frame, JobOrderVolume, Totals,
};
use yew::Reducible;

/// The feed as the backend's frames bring it, shared by the panels that show it: cloning is a
/// pointer copy, and two are equal only when they are the same list, so a frame that brings no
/// new item re-renders no panel.
#[derive(Debug, Clone, Default)]
pub struct Activity(Rc<Feed<Rc<Event>>>);

impl PartialEq for Activity {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for Activity {
    /// Each item is shared too, so a row whose event is unchanged is not rendered again.
    type Target = [Rc<Event>];

    fn deref(&self) -> &[Rc<Event>] {
        &self.0[..]
    }
}

impl FromIterator<Event> for Activity {
    fn from_iter<I: IntoIterator<Item = Event>>(events: I) -> Self {
        Activity(Rc::new(events.into_iter().map(Rc::new).collect()))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dashboard {
    /// `None` until the backend has answered.
    pub connection: Option<ConnectionView>,
    /// When the connection view arrived (ms since the epoch), for countdowns.
    pub connection_at: f64,
    pub totals: Totals,
    pub exports: ExportStatusCounts,
    /// Newest first.
    pub activity: Activity,
    pub volume: JobOrderVolume,
    pub settings: Option<SettingsView>,
    /// The last failure talking to the backend, shown until the next good answer.
    pub bridge_error: Option<String>,
}

pub enum Action {
    Loaded(DashboardView),
    Frame(Frame),
    /// A connection view, received at this time (ms since the epoch).
    Connection(ConnectionView, f64),
    Settings(SettingsView),
    BridgeFailed(String),
}

impl Reducible for Dashboard {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Loaded(view) => {
                next.connection = Some(view.connection);
                next.apply_frame(view.frame);
                next.bridge_error = None;
            }
            Action::Frame(frame) => next.apply_frame(frame),
            Action::Connection(view, at) => {
                next.connection = Some(view);
                next.connection_at = at;
            }
            Action::Settings(settings) => next.settings = Some(settings),
            Action::BridgeFailed(message) => next.bridge_error = Some(message),
        }
        Rc::new(next)
    }
}

impl Dashboard {
    fn apply_frame(&mut self, frame: Frame) {
        self.totals = frame.totals;
        self.exports = frame.print_exports_by_status;
        if let Some(volume) = frame.job_order_volume {
            self.volume = volume;
        }
        let new = frame.new_activity.into_iter().map(Rc::new);
        if frame.reset_activity {
            self.activity = Activity(Rc::new(new.collect()));
        } else if new.len() > 0 {
            let mut feed = (*self.activity.0).clone();
            feed.prepend(new);
            self.activity = Activity(Rc::new(feed));
        }
    }

    pub fn paused(&self) -> Option<u64> {
        self.connection.as_ref().and_then(|c| c.paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::volume::Bucket;
    use pressroom_protocol::{ConnectionState, EventKind, Snapshot, FEED_LIMIT};
    use serde_json::json;

    fn event(id: i64) -> Event {
        Event::new(EventKind::JobOrderCreated, json!({"id": id}))
    }

    fn reduce(state: Dashboard, action: Action) -> Dashboard {
        (*Rc::new(state).reduce(action)).clone()
    }

    #[test]
    fn loading_shows_the_backend_view() {
        let snapshot = Snapshot {
            totals: Totals { books: 1, covers: 2, job_orders: 3, print_exports: 4 },
            recent_activity: [event(2), event(1)].into_iter().collect(),
            ..Default::default()
        };
        let state = reduce(
            Dashboard { bridge_error: Some("x".into()), ..Default::default() },
            Action::Loaded(DashboardView {
                connection: ConnectionView::new(ConnectionState::Live),
                frame: Frame::full(&snapshot),
            }),
        );
        assert_eq!(state.connection, Some(ConnectionView::new(ConnectionState::Live)));
        assert_eq!(state.totals.job_orders, 3);
        assert_eq!(state.activity.iter().map(|e| (**e).clone()).collect::<Vec<_>>(), [event(2), event(1)]);
        assert_eq!(state.bridge_error, None);
    }

    #[test]
    fn frames_set_exact_totals_and_prepend_new_items() {
        let state = Dashboard { activity: [event(1)].into_iter().collect(), ..Default::default() };
        let kept = state.activity[0].clone();
        let frame = Frame {
            totals: Totals { job_orders: 3, ..Default::default() },
            new_activity: vec![event(3), event(2)],
            ..Default::default()
        };
        let state = reduce(state, Action::Frame(frame));
        assert_eq!(state.totals.job_orders, 3);
        assert_eq!(
            state.activity.iter().map(|e| (**e).clone()).collect::<Vec<_>>(),
            [event(3), event(2), event(1)]
        );
        assert!(Rc::ptr_eq(&state.activity[2], &kept), "kept items stay shared");
    }

    #[test]
    fn a_reset_frame_replaces_the_feed_and_the_feed_is_bounded() {
        let many: Vec<Event> = (0..(FEED_LIMIT as i64 + 10)).map(event).collect();
        let state = reduce(
            Dashboard { activity: [event(-1)].into_iter().collect(), ..Default::default() },
            Action::Frame(Frame { new_activity: many, reset_activity: true, ..Default::default() }),
        );
        assert_eq!(state.activity.len(), FEED_LIMIT);
        assert_eq!(*state.activity[0], event(0));
    }

    #[test]
    fn the_chart_keeps_its_series_until_a_frame_brings_new_ones() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let volume = JobOrderVolume { per_minute: vec![Bucket { t, count: 4 }], per_hour: vec![] };
        let state = reduce(
            Dashboard::default(),
            Action::Frame(Frame { job_order_volume: Some(volume.clone()), ..Default::default() }),
        );
        let before = state.activity.clone();
        let state = reduce(state, Action::Frame(Frame::default()));
        assert_eq!(state.volume, volume);
        assert_eq!(state.activity, before, "no new item, the same feed: its panels do not re-render");
    }

    #[test]
    fn connection_views_settings_and_failures_are_kept() {
        let mut paused = ConnectionView::new(ConnectionState::Live);
        paused.paused = Some(4);
        let state = reduce(Dashboard::default(), Action::Connection(paused.clone(), 1000.0));
        let state = reduce(state, Action::BridgeFailed("backend unavailable".into()));
        assert_eq!(state.connection, Some(paused));
        assert_eq!(state.connection_at, 1000.0);
        assert_eq!(state.paused(), Some(4));
        assert_eq!(state.bridge_error.as_deref(), Some("backend unavailable"));
    }
}
