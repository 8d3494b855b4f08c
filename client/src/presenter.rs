//! Between the connection and the screen: applies what the machine decides to the shared state,
//! paces frames through the coalescer, overlays pause and cached-data onto the connection view,
//! and tells the cache writer and the notifier what changed.

use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use pressroom_protocol::{ConnectionState, ConnectionView, Event, Frame, Snapshot};

use crate::coalescer::{Coalescer, Input as Pace, Output};
use crate::notifier::{Notice, Notifier};
use crate::state::{Saved, SharedDashboard};

/// Where the screen's output goes: the app emits it to every webview; tests record it.
pub trait Outlet: Send + Sync + 'static {
    fn connection(&self, view: &ConnectionView);
    fn frame(&self, frame: &Frame);
}

/// Where state changes are reported besides the screen.
pub trait Observer: Send + 'static {
    /// The state changed; the cache should be written (debounced by the writer).
    fn changed(&self);
    /// A native notification should be shown.
    fn notify(&self, notice: Notice);
}

pub struct Presenter<O, B> {
    dashboard: SharedDashboard,
    outlet: O,
    observer: B,
    coalescer: Coalescer,
    notifier: Notifier,
    /// The machine's latest view, before the overlays.
    machine_view: ConnectionView,
    /// Showing cached data from this time, until fresh data arrives.
    cached_at: Option<DateTime<Utc>>,
    paused: Option<u64>,
    frame_timer: Option<Instant>,
    emitted: Option<ConnectionView>,
}

impl<O: Outlet, B: Observer> Presenter<O, B> {
    pub fn new(
        dashboard: SharedDashboard,
        outlet: O,
        observer: B,
        window: Duration,
        notifier: Notifier,
    ) -> Self {
        let machine_view = dashboard.connection();
        Presenter {
            dashboard,
            outlet,
            observer,
            coalescer: Coalescer::new(window),
            notifier,
            machine_view,
            cached_at: None,
            paused: None,
            frame_timer: None,
            emitted: None,
        }
    }

    /// Shows what the cache held, labelled as such until fresh data arrives.
    pub fn restore(&mut self, saved: Saved, now: Instant) {
        self.cached_at = Some(saved.data_at());
        self.dashboard.restore(saved);
        self.pace(Pace::Replaced, now);
        self.emit_connection();
    }

    pub fn replace(&mut self, snapshot: Snapshot, now: Instant) {
        self.dashboard.replace(snapshot);
        self.fresh();
        self.pace(Pace::Replaced, now);
        self.observer.changed();
    }

    pub fn apply(&mut self, event: Event, now: Instant) {
        if !self.dashboard.apply(&event) {
            return;
        }
        let live = self.machine_view.state == ConnectionState::Live;
        for notice in self.notifier.event(&event, live, now) {
            self.observer.notify(notice);
        }
        self.fresh();
        self.pace(Pace::Applied(1), now);
        self.observer.changed();
    }

    /// The server answered a refresh with nothing new: the numbers on screen are current.
    pub fn confirmed(&mut self) {
        self.fresh();
        self.emit_connection();
    }

    pub fn connection(&mut self, view: ConnectionView, now: Instant) {
        let caught_up =
            view.state == ConnectionState::Live && self.machine_view.state != ConnectionState::Live;
        self.machine_view = view;
        if caught_up {
            self.fresh();
            for notice in self.notifier.caught_up(now) {
                self.observer.notify(notice);
            }
        }
        self.emit_connection();
    }

    pub fn pause(&mut self, now: Instant) {
        self.pace(Pace::Pause, now);
    }

    pub fn resume(&mut self, now: Instant) {
        self.paused = None;
        self.pace(Pace::Resume, now);
        self.emit_connection();
    }

    /// No window visible: no frames until one is, then one catch-up frame.
    pub fn set_visible(&mut self, visible: bool, now: Instant) {
        self.pace(if visible { Pace::Shown } else { Pace::Hidden }, now);
    }

    pub fn set_window(&mut self, window: Duration, now: Instant) {
        self.pace(Pace::SetWindow(window), now);
    }

    pub fn set_notifications(&mut self, notifier: Notifier) {
        self.notifier = notifier;
    }

    /// When [`Presenter::timer`] is next due.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.frame_timer, self.notifier.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn timer(&mut self, now: Instant) {
        if self.frame_timer.is_some_and(|at| at <= now) {
            self.frame_timer = None;
            self.pace(Pace::Timer, now);
        }
        for notice in self.notifier.timer(now) {
            self.observer.notify(notice);
        }
    }

    /// Fresh data from the server: no longer the cached view, and confirmed as of now.
    fn fresh(&mut self) {
        self.dashboard.confirm(Utc::now());
        if self.cached_at.take().is_some() {
            self.emit_connection();
        }
    }

    fn pace(&mut self, input: Pace, now: Instant) {
        for output in self.coalescer.handle(input, now) {
            match output {
                Output::Frame(plan) => {
                    let frame = self.dashboard.frame(plan);
                    self.outlet.frame(&frame);
                }
                Output::Arm(at) => self.frame_timer = Some(at),
                Output::Unseen(count) => {
                    self.paused = Some(count);
                    self.emit_connection();
                }
            }
        }
    }

    /// The connection view as shown: the machine's, with the overlays.
    fn emit_connection(&mut self) {
        let mut view = self.machine_view.clone();
        view.paused = self.paused;
        if view.state != ConnectionState::Live {
            // Not receiving: say how old the numbers are (whole seconds, so a frame's worth of
            // events does not re-emit the view).
            view.data_at = self.dashboard.data_at().map(|at| at.trunc_subsecs(0));
            if let Some(cached_at) = self.cached_at {
                let retry_in_ms = match view.state {
                    ConnectionState::Connecting => Some(0),
                    ConnectionState::Reconnecting { retry_in_ms, .. } => Some(retry_in_ms),
                    ConnectionState::Offline { retry_in_ms, .. } => retry_in_ms,
                    _ => return self.emit(view),
                };
                view.state = ConnectionState::Offline { cached_at: Some(cached_at), retry_in_ms };
            }
        }
        self.emit(view);
    }

    fn emit(&mut self, view: ConnectionView) {
        if self.emitted.as_ref() != Some(&view) {
            self.emitted = Some(view.clone());
            self.dashboard.set_connection(view.clone());
            self.outlet.connection(&view);
        }
    }
}
