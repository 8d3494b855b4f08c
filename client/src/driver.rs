//! The tokio side of the connection: it owns the socket, the timers and the HTTP client, feeds
//! what happens to the sans-IO [`Machine`] and carries out the actions it answers with.

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use pressroom_cable_client::tungstenite::handshake::client::Request;
use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_protocol::{EventsPage, Snapshot};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cable::{Action, FetchError, Input, Machine, Mode};
use crate::endpoints::Endpoints;
use crate::notifier::{Notifier, Prefs};
use crate::presenter::{Input as Present, Observer, Outlet, Presenter};
use crate::socket::{Options, Socket};
use crate::state::{Saved, SharedDashboard};

/// Where the snapshot is served, relative to the REST origin (a setting for Rails apps).
pub const DEFAULT_SNAPSHOT_PATH: &str = "api/analytics/summary";
/// How often the wake detector compares the wall clock with the monotonic one.
const WAKE_CHECK: Duration = Duration::from_secs(2);
/// A wall-clock jump this much larger than the monotonic time means the machine slept.
const WAKE_JUMP: Duration = Duration::from_secs(5);
/// The largest WebSocket message (and frame) read from the server. The hub's frames are a few
/// KiB; tungstenite's default would buffer 64 MiB.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// The largest REST body read (a summary or an events page of 1,000 is well under 1 MiB).
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// Reports from the IO tasks waiting for the driver. A full queue holds the socket task, and so
/// the server's TCP stream, back: up to this many messages of at most `MAX_MESSAGE_BYTES`.
const EVENT_QUEUE: usize = 16;
/// Commands from the app waiting for the driver; past this the driver is stuck and more are
/// dropped rather than queued without end.
const COMMAND_QUEUE: usize = 64;

/// Where to connect and how.
#[derive(Clone)]
pub struct Target {
    pub endpoints: Endpoints,
    pub token: Option<String>,
    pub channel: String,
    pub snapshot_path: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("cable", &self.endpoints.cable.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("channel", &self.channel)
            .field("snapshot_path", &self.snapshot_path)
            .finish()
    }
}

/// How the screen side is set up.
pub struct Presentation {
    pub frame_window: Duration,
    pub notifications: Prefs,
    /// What the cache held at launch, shown until fresh data arrives.
    pub restored: Option<Saved>,
}

/// What the rest of the app can ask of the running connection.
#[derive(Debug, Clone)]
pub enum Command {
    ReconnectNow,
    SetMode(Mode),
    /// A new hub URL, token, channel or snapshot path: reconnect from scratch.
    SetTarget(Box<Target>),
    Pause,
    Resume,
    SetFrameWindow(Duration),
    SetNotifications(Prefs),
    /// Is any window visible (not hidden to the tray, not minimised)? Hidden gets no frames.
    SetVisible(bool),
}

/// Sends commands to a running driver.
#[derive(Clone)]
pub struct DriverHandle(mpsc::Sender<Command>);

/// The receiving end of a [`DriverHandle`], handed to [`Driver::run`].
pub struct Commands(mpsc::Receiver<Command>);

impl DriverHandle {
    /// A handle and the commands it sends, made before the driver so others can hold the handle.
    pub fn channel() -> (DriverHandle, Commands) {
        let (sender, receiver) = mpsc::channel(COMMAND_QUEUE);
        (DriverHandle(sender), Commands(receiver))
    }

    pub fn send(&self, command: Command) {
        match self.0.try_send(command) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(command)) => {
                tracing::warn!(?command, "the connection is not taking commands: dropped one");
            }
            // The driver only stops when the app exits; a command sent after that has nowhere to go.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// What the IO tasks report back, tagged with the socket they belong to.
enum Event {
    Socket(u64, Input),
    Fetched(Input),
}

pub struct Driver<O, B> {
    target: Target,
    mode: Mode,
    http: reqwest::Client,
    presenter: Presenter<O, B>,
    restored: Option<Saved>,
}

impl<O: Outlet, B: Observer> Driver<O, B> {
    pub fn new(
        target: Target,
        mode: Mode,
        presentation: Presentation,
        dashboard: SharedDashboard,
        outlet: O,
        observer: B,
    ) -> Self {
        let notifier = Notifier::new(presentation.notifications);
        let presenter = Presenter::new(dashboard, outlet, observer, presentation.frame_window, notifier);
        Driver { target, mode, http: reqwest::Client::new(), presenter, restored: presentation.restored }
    }

    /// Runs the connection until `stop` is cancelled, taking `commands` as they come.
    pub async fn run(mut self, Commands(mut commands): Commands, stop: CancellationToken) {
        let (events_tx, mut events) = mpsc::channel::<Event>(EVENT_QUEUE);
        let mut machine =
            Machine::new(self.mode, &self.target.channel, StdRng::from_os_rng(), Instant::now());
        if let Some(saved) = self.restored.take() {
            let saved_at = saved.saved_at;
            self.presenter.handle(Present::Restore(Box::new(saved)), Instant::now());
            tracing::info!(%saved_at, "showing cached data");
        }
        let mut socket: Option<Socket> = None;
        let mut next_socket = 0u64;
        let mut wake_check = tokio::time::interval(WAKE_CHECK);
        let mut clocks = (Instant::now(), SystemTime::now());

        let mut pending = vec![Input::Start];
        loop {
            for input in pending.drain(..) {
                for action in machine.handle(input, Instant::now()) {
                    match action {
                        Action::OpenSocket => {
                            if let Some(old) = socket.take() {
                                old.abort();
                            }
                            next_socket += 1;
                            socket = Some(self.open_socket(next_socket, events_tx.clone()));
                        }
                        Action::Send(text) => {
                            if let Some(socket) = &socket {
                                if !socket.send(text) {
                                    tracing::warn!("the socket is not taking commands: dropped one");
                                }
                            }
                        }
                        Action::CloseSocket => {
                            if let Some(old) = socket.take() {
                                old.close();
                            }
                        }
                        Action::FetchSnapshot { request } => {
                            let url = self.target.endpoints.api(&self.target.snapshot_path);
                            let fetch = self.fetch::<Snapshot>(url);
                            let events_tx = events_tx.clone();
                            tokio::spawn(async move {
                                let result = fetch.await;
                                let _ =
                                    events_tx.send(Event::Fetched(Input::Snapshot { request, result })).await;
                            });
                        }
                        Action::FetchEvents { request, after } => {
                            let mut url = self.target.endpoints.api("api/events");
                            url.query_pairs_mut()
                                .append_pair("after", &after.to_string())
                                .append_pair("limit", "1000");
                            let fetch = self.fetch::<EventsPage>(url);
                            let events_tx = events_tx.clone();
                            tokio::spawn(async move {
                                let result = fetch.await;
                                let _ =
                                    events_tx.send(Event::Fetched(Input::Events { request, result })).await;
                            });
                        }
                        Action::Replace(snapshot) => {
                            self.presenter.handle(Present::Replace(Box::new(snapshot)), Instant::now())
                        }
                        Action::Apply(mut event) => {
                            // A stock Rails app sends no time: the event happened about now.
                            event.at.get_or_insert_with(Utc::now);
                            self.presenter.handle(Present::Apply(event), Instant::now());
                        }
                        Action::Confirmed => self.presenter.handle(Present::Confirmed, Instant::now()),
                        Action::State(view) => {
                            tracing::info!(state = view.state.label(), problem = ?view.problem, "connection");
                            self.presenter.handle(Present::Connection(view), Instant::now());
                        }
                    }
                }
            }

            let machine_due = machine.deadline();
            let next_timer = machine_due.into_iter().chain(self.presenter.deadline()).min();
            tokio::select! {
                () = stop.cancelled() => {
                    if let Some(socket) = socket.take() {
                        socket.abort();
                    }
                    return;
                }
                Some(event) = events.recv() => match event {
                    Event::Socket(id, input) if socket.as_ref().is_some_and(|s| s.id() == id) => pending.push(input),
                    Event::Socket(..) => {} // from a socket already closed
                    Event::Fetched(input) => pending.push(input),
                },
                Some(command) = commands.recv() => {
                    let now = Instant::now();
                    match command {
                        Command::ReconnectNow => pending.push(Input::ReconnectNow),
                        Command::SetMode(mode) => pending.push(Input::SetMode(mode)),
                        Command::SetTarget(target) => {
                            let channel = target.channel.clone();
                            self.target = *target;
                            pending.push(Input::EndpointChanged { channel });
                        }
                        Command::Pause => self.presenter.handle(Present::Pause, now),
                        Command::Resume => self.presenter.handle(Present::Resume, now),
                        Command::SetFrameWindow(window) => self.presenter.handle(Present::SetWindow(window), now),
                        Command::SetNotifications(prefs) => self.presenter.handle(Present::SetNotifications(prefs), now),
                        Command::SetVisible(visible) => self.presenter.handle(Present::Visible(visible), now),
                    }
                }
                () = sleep_until(next_timer) => {
                    let now = Instant::now();
                    self.presenter.handle(Present::Timeout, now);
                    if machine_due.is_some_and(|at| at <= now) {
                        pending.push(Input::Timeout);
                    }
                }
                _ = wake_check.tick() => {
                    let (mono, wall) = (Instant::now(), SystemTime::now());
                    let mono_elapsed = mono.duration_since(clocks.0);
                    let wall_elapsed = wall.duration_since(clocks.1).unwrap_or_default();
                    if wall_elapsed > mono_elapsed + WAKE_JUMP {
                        pending.push(Input::Wake);
                    }
                    clocks = (mono, wall);
                }
            }
        }
    }

    fn open_socket(&self, id: u64, events: mpsc::Sender<Event>) -> Socket {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        // Waits while the driver is behind: the server's stream is then read no faster.
        let report = move |input| {
            let events = events.clone();
            async move { events.send(Event::Socket(id, input)).await.is_ok() }
        };
        Socket::open(id, self.socket_request(), Options { config, nodelay: false }, report)
    }

    fn socket_request(&self) -> Result<Request, pressroom_cable_client::Error> {
        pressroom_cable_client::request(self.target.endpoints.cable.as_str(), self.target.token.as_deref())
    }

    /// A GET whose outcome is sorted into what the machine needs to know.
    fn fetch<T: DeserializeOwned>(
        &self,
        url: url::Url,
    ) -> impl std::future::Future<Output = Result<T, FetchError>> + Send + 'static {
        let mut request = self.http.get(url).timeout(Duration::from_secs(15));
        if let Some(token) = &self.target.token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.map_err(|e| FetchError::Failed(e.to_string()))?;
            match response.status() {
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => {
                    return Err(FetchError::Unavailable)
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(FetchError::Unauthorized),
                status if !status.is_success() => return Err(FetchError::Failed(format!("HTTP {status}"))),
                _ => {}
            }
            let body = read_capped(response, MAX_BODY_BYTES).await?;
            serde_json::from_slice(&body).map_err(|e| FetchError::Failed(e.to_string()))
        }
    }
}

/// The body, read chunk by chunk and given up on as soon as it passes `limit` bytes.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, FetchError> {
    let too_large = || {
        tracing::warn!(limit, "the server sent a body over the limit");
        FetchError::TooLarge { limit_bytes: limit as u64 }
    };
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Failed(e.to_string()))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
