//! Between the connection and the screen: applies what the machine decides to the shared state,
//! paces frames through the coalescer, overlays pause and cached-data onto the connection view,
//! and tells the cache writer and the notifier what changed.

use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use pressroom_protocol::{ConnectionState, ConnectionView, Event, Frame, Snapshot};

use crate::coalescer::{Coalescer, Input as Pace, Output};
use crate::notifier::{Input as Notify, Notice, Notifier, Prefs};
use crate::state::{Saved, SharedDashboard};

/// What the presenter is told.
#[derive(Debug)]
pub enum Input {
    /// Show what the cache held, labelled as such until fresh data arrives.
    Restore(Box<Saved>),
    /// The machine replaced the snapshot.
    Replace(Box<Snapshot>),
    /// The machine applied one event.
    Apply(Event),
    /// The server answered a refresh with nothing new: the numbers on screen are current.
    Confirmed,
    /// The machine's connection view.
    Connection(ConnectionView),
    Pause,
    Resume,
    /// Is any window visible? None: no frames until one is, then one catch-up frame.
    Visible(bool),
    SetWindow(Duration),
    SetNotifications(Prefs),
    /// The clock reached [`Presenter::deadline`].
    Timeout,
}

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
            emitted: None,
        }
    }

    pub fn handle(&mut self, input: Input, now: Instant) {
        match input {
            Input::Restore(saved) => {
                self.cached_at = Some(saved.data_at());
                self.dashboard.restore(*saved);
                self.pace(Pace::Replaced, now);
                self.emit_connection();
            }
            Input::Replace(snapshot) => {
                self.dashboard.replace(*snapshot);
                self.fresh();
                self.pace(Pace::Replaced, now);
                self.observer.changed();
            }
            Input::Apply(event) => {
                self.dashboard.apply(&event);
                let live = self.machine_view.state == ConnectionState::Live;
                self.notify(Notify::Event { event: &event, live }, now);
                self.fresh();
                self.pace(Pace::Applied(1), now);
                self.observer.changed();
            }
            Input::Confirmed => {
                self.fresh();
                self.emit_connection();
            }
            Input::Connection(view) => {
                let caught_up =
                    view.state == ConnectionState::Live && self.machine_view.state != ConnectionState::Live;
                self.machine_view = view;
                if caught_up {
                    self.fresh();
                    self.notify(Notify::CaughtUp, now);
                }
                self.emit_connection();
            }
            Input::Pause => self.pace(Pace::Pause, now),
            Input::Resume => {
                self.paused = None;
                self.pace(Pace::Resume, now);
                self.emit_connection();
            }
            Input::Visible(visible) => self.pace(if visible { Pace::Shown } else { Pace::Hidden }, now),
            Input::SetWindow(window) => self.pace(Pace::SetWindow(window), now),
            Input::SetNotifications(prefs) => self.notifier = Notifier::new(prefs),
            Input::Timeout => {
                if self.coalescer.deadline().is_some_and(|at| at <= now) {
                    self.pace(Pace::Timeout, now);
                }
                if self.notifier.deadline().is_some_and(|at| at <= now) {
                    self.notify(Notify::Timeout, now);
                }
            }
        }
    }

    /// When the next frame or held notification is due: call back with [`Input::Timeout`] then.
    pub fn deadline(&self) -> Option<Instant> {
        self.coalescer.deadline().into_iter().chain(self.notifier.deadline()).min()
    }

    fn notify(&mut self, input: Notify<'_>, now: Instant) {
        for notice in self.notifier.handle(input, now) {
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
