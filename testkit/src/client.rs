//! The desktop app's connection driver without a window: its state and dashboard observed
//! through a recording outlet, so tests await changes instead of sleeping.

use std::time::Duration;

use pressroom_client::cable::Mode;
use pressroom_client::coalescer::DEFAULT_WINDOW;
use pressroom_client::driver::{Driver, DriverHandle, Presentation, Target, DEFAULT_SNAPSHOT_PATH};
use pressroom_client::notifier::{Notice, Prefs};
use pressroom_client::state::SharedDashboard;
use pressroom_client::{Endpoints, Observer, Outlet};
use pressroom_protocol::cable::ANALYTICS_CHANNEL;
use pressroom_protocol::{ConnectionState, ConnectionView, Frame, Problem, Snapshot};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

struct Recorder {
    states: watch::Sender<ConnectionView>,
    frames: watch::Sender<u64>,
    /// The latest problem shown, kept after the view moves on.
    problems: watch::Sender<Option<Problem>>,
}

impl Outlet for Recorder {
    fn connection(&self, view: &ConnectionView) {
        if view.problem.is_some() {
            self.problems.send_replace(view.problem.clone());
        }
        self.states.send_replace(view.clone());
    }

    fn frame(&self, _: &Frame) {
        self.frames.send_modify(|n| *n += 1);
    }
}

/// Hands notices to whatever the test wants done with them.
pub struct Notices(pub Box<dyn Fn(Notice) + Send>);

impl Observer for Notices {
    fn changed(&self) {}

    fn notify(&self, notice: Notice) {
        (self.0)(notice);
    }
}

pub struct Client {
    pub dashboard: SharedDashboard,
    pub handle: DriverHandle,
    states: watch::Receiver<ConnectionView>,
    frames: watch::Receiver<u64>,
    problems: watch::Receiver<Option<Problem>>,
    stop: CancellationToken,
}

impl Client {
    pub fn start(cable_url: &str, token: Option<&str>, mode: Mode) -> Client {
        Self::start_with(cable_url, token, mode, Notices(Box::new(|_| {})))
    }

    /// A client whose notices go to `notices`.
    pub fn start_with(cable_url: &str, token: Option<&str>, mode: Mode, notices: Notices) -> Client {
        let target = Target {
            endpoints: Endpoints::parse(cable_url).unwrap(),
            token: token.map(str::to_owned),
            channel: ANALYTICS_CHANNEL.to_owned(),
            snapshot_path: DEFAULT_SNAPSHOT_PATH.to_owned(),
        };
        let (states_tx, states) = watch::channel(ConnectionView::new(ConnectionState::Connecting));
        let (frames_tx, frames) = watch::channel(0);
        let (problems_tx, problems) = watch::channel(None);
        let dashboard = SharedDashboard::default();
        let recorder = Recorder { states: states_tx, frames: frames_tx, problems: problems_tx };
        let stop = CancellationToken::new();
        let (handle, commands) = DriverHandle::channel();
        let presentation =
            Presentation { frame_window: DEFAULT_WINDOW, notifications: Prefs::default(), restored: None };
        let driver = Driver::new(target, mode, presentation, dashboard.clone(), recorder, notices);
        tokio::spawn(driver.run(commands, stop.clone()));
        Client { dashboard, handle, states, frames, problems, stop }
    }

    pub fn view(&self) -> ConnectionView {
        self.states.borrow().clone()
    }

    /// Waits until the connection view satisfies `done`; panics after `within`.
    pub async fn wait_state(&mut self, what: &str, within: Duration, done: impl Fn(&ConnectionView) -> bool) {
        let reached = tokio::time::timeout(within, self.states.wait_for(|view| done(view))).await.is_ok();
        assert!(reached, "never {what} within {within:?}; last {:?}", self.view());
    }

    /// Waits until a problem satisfying `done` has been shown (it may be gone again by then);
    /// panics after `within`.
    pub async fn wait_problem(&mut self, what: &str, within: Duration, done: impl Fn(&Problem) -> bool) {
        let shown = tokio::time::timeout(within, self.problems.wait_for(|p| p.as_ref().is_some_and(&done)))
            .await
            .is_ok();
        assert!(shown, "never showed {what} within {within:?}; last problem {:?}", *self.problems.borrow());
    }

    pub async fn wait_live(&mut self, within: Duration) {
        self.wait_state("Live", within, |v| v.state == ConnectionState::Live).await;
    }

    /// Waits until the dashboard's state satisfies `done`; panics after `within`.
    pub async fn wait_dashboard(&mut self, what: &str, within: Duration, done: impl Fn(&Snapshot) -> bool) {
        let dashboard = self.dashboard.clone();
        let shown =
            tokio::time::timeout(within, self.frames.wait_for(|_| done(&dashboard.snapshot()))).await.is_ok();
        assert!(shown, "the dashboard never showed {what}; it shows {:?}", dashboard.snapshot().totals);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
