//! The connection machine, sans IO: it is told what happened (`Input`) and when (`now`), and
//! answers with what to do (`Action`). It never touches a socket, a timer or the clock: it keeps
//! its own timers and says when the next is due ([`Machine::deadline`]), and the driver comes
//! back with [`Input::Timeout`] then. So every rule — stale detection, backoff, catch-up,
//! fallback — is tested with a simulated clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pressroom_protocol::cable::channel_identifier;
use pressroom_protocol::{
    ClientCommand, ConnectionState, ConnectionView, Event, EventsPage, Misbehaviour, Problem, ServerFrame,
    Snapshot,
};
use rand::Rng;

use super::backoff;
use super::sequencer::{Ready, Sequencer, MAX_HELD};

/// No frame for this long (two missed 3-s pings) means the link is dead.
pub const STALE_AFTER: Duration = Duration::from_secs(6);
/// Socket open plus welcome must take no longer than this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A subscribe not confirmed in this time is sent once more, then given up on.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);
/// Live this long, the backoff starts afresh at the next loss.
pub const STABLE_AFTER: Duration = Duration::from_secs(60);
/// After a `server_restart`, attempts refused for this long retry within the first-retry window
/// (0–1 s) instead of doubling: the hub said it is coming back, and a doubling wait (up to 16 s
/// after the fifth refusal) is what kept the last of 10k clients away for 13–15 s after a restart
/// of about a second (docs/performance.md, the storm). A hub that stays away longer gets the usual
/// doubling from then on. A refused connect is a SYN answered by a reset: cheap for both sides.
pub const RESTART_WINDOW: Duration = Duration::from_secs(15);
/// Fall back to polling after this many failed attempts in a row…
pub const FALLBACK_ATTEMPTS: u32 = 3;
/// …or after being without the socket this long.
pub const FALLBACK_AFTER: Duration = Duration::from_secs(20);
/// A misbehaving server's problem stays on screen at least this long after its last offence,
/// so a flood that is dropped and resynced at once is still seen.
pub const MISBEHAVIOUR_SHOWN: Duration = Duration::from_secs(10);
/// A backfill page that says more follow but moves nothing forward is asked for again after
/// this, doubling up to [`BACKFILL_RETRY_MAX`], instead of at once.
pub const BACKFILL_RETRY_FIRST: Duration = Duration::from_secs(1);
pub const BACKFILL_RETRY_MAX: Duration = Duration::from_secs(30);

/// The user's choices that shape the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub realtime: bool,
    /// Periodic snapshot fetches: when real-time is off, and as the fallback when it fails.
    pub auto_refresh: bool,
    pub refresh_interval: Duration,
}

impl Default for Mode {
    fn default() -> Self {
        Mode { realtime: true, auto_refresh: true, refresh_interval: Duration::from_secs(10) }
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The server has no such endpoint (404, 405, 501): a stock Rails app.
    Unavailable,
    /// 401 or 403.
    Unauthorized,
    /// The body was longer than the client reads.
    TooLarge { limit_bytes: u64 },
    /// Anything else: network, server error, unreadable body.
    Failed(String),
}

/// The machine's timers; of several due at once, the first listed fires first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    Retry,
    Handshake,
    Stale,
    Confirm,
    Poll,
    /// Ask again for a backfill page that came back empty.
    Backfill,
    /// Time to see whether a misbehaviour's problem can go.
    Misbehaved,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Start,
    SocketOpened,
    /// Could not open, or the handshake failed.
    SocketFailed,
    /// Closed by either side or broken.
    SocketClosed,
    Frame(String),
    /// The clock reached [`Machine::deadline`]: every timer due fires.
    Timeout,
    Snapshot {
        request: u64,
        result: Result<Snapshot, FetchError>,
    },
    Events {
        request: u64,
        result: Result<EventsPage, FetchError>,
    },
    ReconnectNow,
    SetMode(Mode),
    /// The hub URL, token or channel changed: a different server, start from nothing.
    EndpointChanged {
        channel: String,
    },
    /// The machine woke from sleep or the network came back.
    Wake,
    /// The socket layer caught the server breaking a limit (an oversized message); the socket
    /// is closed and `SocketClosed` follows.
    Misbehaved(Misbehaviour),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    OpenSocket,
    Send(String),
    CloseSocket,
    FetchSnapshot {
        request: u64,
    },
    FetchEvents {
        request: u64,
        after: u64,
    },
    /// Replace the dashboard's snapshot.
    Replace(Snapshot),
    /// Apply one event to the dashboard, in this order.
    Apply(Event),
    /// A refresh answered with nothing new: the data on screen is current as of now.
    Confirmed,
    State(ConnectionView),
}

/// Where the connection is: the one record of it. The state on screen is read from it
/// (`Machine::state`), so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Real-time off: refreshing on a timer, or by hand.
    Off,
    /// Waiting for the retry timer.
    Waiting(Down),
    /// A socket on its way to Live; `down` while it recovers from a loss (none on a fresh start).
    Linking { step: Step, down: Option<Down> },
    /// Receiving; `resyncing` while a fresh snapshot replaces a baseline that means nothing any
    /// more (a new epoch, an overflow), events held until it lands.
    Live { resyncing: bool },
    /// Gave up: the user has to act.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Socket opening, or open and waiting for the welcome.
    Opening,
    Subscribing,
    /// Subscribed; fetching what was missed before going live.
    CatchingUp,
}

impl Phase {
    /// A socket is open or opening: the phases that frames, a close, a failure and a stale link
    /// concern.
    fn has_socket(self) -> bool {
        matches!(self, Phase::Linking { .. } | Phase::Live { .. })
    }

    /// On its way to Live, at `step`.
    fn at(self, step: Step) -> bool {
        matches!(self, Phase::Linking { step: at, .. } if at == step)
    }

    /// Catching up: after subscribing, or resyncing while live.
    fn catching_up(self) -> bool {
        self.at(Step::CatchingUp) || self == Phase::Live { resyncing: true }
    }

    /// The recovery under way, if the socket was lost.
    fn down(self) -> Option<Down> {
        match self {
            Phase::Waiting(down) | Phase::Linking { down: Some(down), .. } => Some(down),
            _ => None,
        }
    }

    fn down_mut(&mut self) -> Option<&mut Down> {
        match self {
            Phase::Waiting(down) | Phase::Linking { down: Some(down), .. } => Some(down),
            _ => None,
        }
    }
}

/// The socket is down: how its recovery goes, as the screen says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Down {
    /// The REST fallback, polling the snapshot while the socket keeps failing; none until asked.
    fallback: Option<Fallback>,
    /// The wait until the next attempt, as of when this was last told.
    retry_in_ms: u64,
}

/// How the REST fallback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// Asked; no refresh has come back yet.
    Asked,
    /// The last refresh answered: the data is current, only real-time is missing.
    Answers,
    /// The last refresh failed too: the hub cannot be reached.
    Fails,
}

pub struct Machine<R> {
    mode: Mode,
    rng: R,
    phase: Phase,
    /// Failed attempts since the connection was last stable.
    attempt: u32,
    down_since: Option<Instant>,
    live_since: Option<Instant>,
    last_frame: Instant,
    subscribe_retried: bool,
    timers: BTreeMap<Timer, Instant>,
    /// When the server last said `server_restart`, until the connection is Live again.
    restarting_since: Option<Instant>,
    sequencer: Sequencer,
    /// Does the server have `/api/events` and a snapshot? `None` until asked.
    has_events: Option<bool>,
    has_snapshot: Option<bool>,
    next_request: u64,
    /// The first request made for the current server: answers to earlier ones were asked of
    /// another hub URL, token or channel, and say nothing about this one.
    first_request: u64,
    /// The fetch whose answer moves the catch-up (or a gap fill) along.
    pending_fetch: Option<u64>,
    /// The `after` of the last backfill asked for: a head below it means the seq went back.
    backfill_after: u64,
    /// Backfill pages in a row that moved nothing forward though they said more follow.
    empty_pages: u32,
    /// A backfill is due when [`Timer::Backfill`] fires; no other backfill goes out before.
    backfill_due: bool,
    /// When the server last misbehaved.
    misbehaved_at: Option<Instant>,
    problem: Option<Problem>,
    emitted: Option<ConnectionView>,
    identifier: String,
}

impl<R: Rng> Machine<R> {
    /// A machine for `channel` (`AnalyticsChannel` unless a Rails app names it otherwise).
    pub fn new(mode: Mode, channel: &str, rng: R, now: Instant) -> Self {
        Machine {
            mode,
            rng,
            phase: Phase::Off,
            attempt: 0,
            down_since: None,
            live_since: None,
            last_frame: now,
            subscribe_retried: false,
            timers: BTreeMap::new(),
            restarting_since: None,
            sequencer: Sequencer::default(),
            has_events: None,
            has_snapshot: None,
            next_request: 0,
            first_request: 0,
            pending_fetch: None,
            backfill_after: 0,
            empty_pages: 0,
            backfill_due: false,
            misbehaved_at: None,
            problem: None,
            emitted: None,
            identifier: channel_identifier(channel),
        }
    }

    /// When the next timer is due: call back with [`Input::Timeout`] then.
    pub fn deadline(&self) -> Option<Instant> {
        self.timers.values().min().copied()
    }

    /// When `timer` is due, if it is armed.
    pub fn armed(&self, timer: Timer) -> Option<Instant> {
        self.timers.get(&timer).copied()
    }

    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Start => self.start(now, &mut out),
            Input::SocketOpened => {
                if self.phase.at(Step::Opening) {
                    // Liveness counts from here: the welcome is the first frame due.
                    self.last_frame = now;
                    self.arm(Timer::Stale, now + STALE_AFTER);
                }
            }
            Input::SocketFailed | Input::SocketClosed => {
                if self.phase.has_socket() {
                    self.lost(now, &mut out);
                }
            }
            Input::Frame(text) => self.frame(&text, now, &mut out),
            Input::Timeout => {
                while let Some(timer) = self.due(now) {
                    self.timer(timer, now, &mut out);
                }
            }
            Input::Snapshot { request, .. } | Input::Events { request, .. }
                if request < self.first_request => {}
            Input::Snapshot { request, result } => self.snapshot(request, result, now, &mut out),
            Input::Events { request, result } => self.events(request, result, now, &mut out),
            Input::ReconnectNow => match self.phase {
                Phase::Waiting(_) | Phase::Stopped => {
                    self.problem = None;
                    self.timers.remove(&Timer::Retry);
                    self.open(self.phase.down(), now, &mut out);
                }
                Phase::Off => {
                    self.fetch_snapshot(&mut out);
                }
                _ => {}
            },
            Input::SetMode(mode) => {
                let was = self.mode;
                self.mode = mode;
                if mode.realtime != was.realtime || self.phase == Phase::Off {
                    self.start(now, &mut out);
                } else if !mode.auto_refresh {
                    self.stop_polling(now);
                }
            }
            Input::EndpointChanged { channel } => {
                self.identifier = channel_identifier(&channel);
                self.first_request = self.next_request + 1;
                self.sequencer.reset();
                self.has_events = None;
                self.has_snapshot = None;
                out.push(Action::Replace(Snapshot::default()));
                self.start(now, &mut out);
            }
            Input::Wake => {
                if self.phase != Phase::Off && self.phase != Phase::Stopped {
                    tracing::info!("woke up: reconnecting at once");
                    self.timers.remove(&Timer::Retry);
                    self.open(self.phase.down(), now, &mut out);
                }
            }
            Input::Misbehaved(what) => self.misbehaved(what, now),
        }
        self.emit_state(&mut out);
        out
    }

    /// (Re)starts as the mode says: connect, or refresh on a timer, or nothing.
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.problem = None;
        self.attempt = 0;
        // The fallback clock runs from the first attempt.
        self.down_since = Some(now);
        self.timers.remove(&Timer::Poll);
        if self.mode.realtime {
            self.timers.remove(&Timer::Retry);
            self.open(None, now, out);
            return;
        }
        self.close(out);
        self.phase = Phase::Off;
        if self.mode.auto_refresh {
            self.fetch_snapshot(out);
            self.arm(Timer::Poll, now + self.mode.refresh_interval);
        }
    }

    /// Opens a socket; the recovery `down` (if any) stays on screen until it is Live.
    fn open(&mut self, down: Option<Down>, now: Instant, out: &mut Vec<Action>) {
        if self.phase.has_socket() {
            out.push(Action::CloseSocket);
        }
        self.phase = Phase::Linking { step: Step::Opening, down };
        self.subscribe_retried = false;
        self.pending_fetch = None;
        self.backfill_due = false;
        self.last_frame = now;
        self.timers.remove(&Timer::Confirm);
        self.timers.remove(&Timer::Backfill);
        out.push(Action::OpenSocket);
        self.arm(Timer::Handshake, now + HANDSHAKE_TIMEOUT);
        self.timers.remove(&Timer::Stale);
    }

    /// Closes the socket and every timer that belongs to it.
    fn close(&mut self, out: &mut Vec<Action>) {
        if self.phase.has_socket() {
            out.push(Action::CloseSocket);
        }
        for timer in [Timer::Handshake, Timer::Stale, Timer::Confirm, Timer::Retry, Timer::Backfill] {
            self.timers.remove(&timer);
        }
        self.pending_fetch = None;
        self.backfill_due = false;
    }

    /// The link is gone: schedule the next attempt, and fall back to polling if it stays gone.
    fn lost(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(since) = self.live_since.take() {
            if now.duration_since(since) >= STABLE_AFTER {
                self.attempt = 0;
            }
        }
        self.close(out);
        self.down_since.get_or_insert(now);
        self.attempt += 1;
        self.schedule_retry(now, out);
    }

    fn schedule_retry(&mut self, now: Instant, out: &mut Vec<Action>) {
        let restarting =
            self.restarting_since.is_some_and(|since| now.duration_since(since) < RESTART_WINDOW);
        let step = if restarting { 1 } else { self.attempt };
        let delay = backoff::delay(step, &mut self.rng);
        self.arm(Timer::Retry, now + delay);
        let mut fallback = self.phase.down().and_then(|down| down.fallback);
        let down_for = self.down_since.map_or(Duration::ZERO, |since| now.duration_since(since));
        if self.mode.auto_refresh
            && fallback.is_none()
            && (self.attempt >= FALLBACK_ATTEMPTS || down_for >= FALLBACK_AFTER)
        {
            tracing::info!(attempt = self.attempt, "real-time unavailable: trying the snapshot over REST");
            fallback = Some(Fallback::Asked);
            self.fetch_snapshot(out);
            self.arm(Timer::Poll, now + self.mode.refresh_interval);
        }
        self.phase = Phase::Waiting(Down { fallback, retry_in_ms: delay.as_millis() as u64 });
    }

    /// The wait until the retry, from `now`: none is due while an attempt is under way.
    fn retry_in_ms(&self, now: Instant) -> u64 {
        self.armed(Timer::Retry).map_or(0, |at| at.saturating_duration_since(now).as_millis() as u64)
    }

    /// Auto-refresh was turned off: the fallback stops with it.
    fn stop_polling(&mut self, now: Instant) {
        self.timers.remove(&Timer::Poll);
        let retry_in_ms = self.retry_in_ms(now);
        if let Some(down) = self.phase.down_mut() {
            if down.fallback.take().is_some() {
                down.retry_in_ms = retry_in_ms;
            }
        }
    }

    /// A background refresh (polling) answered or failed; the state follows.
    fn refreshed(&mut self, answered: bool, now: Instant) {
        let retry_in_ms = self.retry_in_ms(now);
        let Some(down) = self.phase.down_mut() else { return };
        let Some(fallback) = &mut down.fallback else { return };
        let now_known = if answered { Fallback::Answers } else { Fallback::Fails };
        if *fallback != now_known {
            *fallback = now_known;
            down.retry_in_ms = retry_in_ms;
        }
    }

    /// Stops retrying until the user acts.
    fn give_up(&mut self, problem: Problem, out: &mut Vec<Action>) {
        tracing::warn!(?problem, "connection stopped");
        self.close(out);
        self.timers.remove(&Timer::Poll);
        self.phase = Phase::Stopped;
        self.problem = Some(problem);
    }

    fn frame(&mut self, text: &str, now: Instant, out: &mut Vec<Action>) {
        if !self.phase.has_socket() {
            return;
        }
        self.last_frame = now;
        let frame = match ServerFrame::parse(text) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::warn!(%error, "skipping an unreadable frame");
                return;
            }
        };
        match frame {
            ServerFrame::Welcome => {
                if self.phase.at(Step::Opening) {
                    self.timers.remove(&Timer::Handshake);
                    self.subscribe(now, out);
                }
            }
            ServerFrame::Ping { .. } => {}
            ServerFrame::ConfirmSubscription { identifier } if identifier == self.identifier => {
                if self.phase.at(Step::Subscribing) {
                    self.timers.remove(&Timer::Confirm);
                    self.catch_up(now, out);
                }
            }
            ServerFrame::RejectSubscription { identifier } if identifier == self.identifier => {
                self.give_up(Problem::SubscriptionRejected, out);
            }
            ServerFrame::Disconnect { reason, reconnect: false } => {
                let problem = if reason == "unauthorized" {
                    Problem::TokenRejected
                } else {
                    Problem::ServerRefused { reason }
                };
                self.give_up(problem, out);
            }
            ServerFrame::Disconnect { reason, reconnect: true } => {
                tracing::info!(%reason, "server asked to reconnect");
                // Promptly, but jittered within the first second so a restarted hub's clients
                // spread out: count this as the first attempt.
                self.live_since = None;
                self.close(out);
                self.attempt = 1;
                self.restarting_since = Some(now);
                self.down_since.get_or_insert(now);
                self.schedule_retry(now, out);
            }
            ServerFrame::Broadcast { identifier, message } if identifier == self.identifier => {
                match serde_json::from_value::<Event>(message) {
                    Ok(event) => {
                        let ready = self.sequencer.offer(event);
                        self.release(ready, now, out);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "skipping a broadcast that is not an analytics event")
                    }
                }
            }
            other => tracing::debug!(?other, "ignoring a frame for another subscription"),
        }
    }

    fn subscribe(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.step(Step::Subscribing);
        out.push(Action::Send(ClientCommand::Subscribe { identifier: self.identifier.clone() }.to_json()));
        self.arm(Timer::Confirm, now + CONFIRM_TIMEOUT);
    }

    /// Subscribed: fetch what was missed (events after our seq, else a snapshot) before Live.
    fn catch_up(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.step(Step::CatchingUp);
        let resumable = self.sequencer.has_baseline() && self.sequencer.epoch().is_some();
        if resumable && self.has_events != Some(false) {
            let after = self.sequencer.last().unwrap_or(0);
            self.fetch_events(after, out);
        } else if self.has_snapshot != Some(false) {
            let request = self.fetch_snapshot(out);
            self.pending_fetch = Some(request);
        } else {
            self.without_history(now, out);
        }
    }

    /// No snapshot and no backfill: count from here on.
    fn without_history(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.sequencer.has_baseline() {
            let ready = self.sequencer.set_baseline(None, None);
            self.release(ready, now, out);
        }
        self.go_live(now);
    }

    fn go_live(&mut self, now: Instant) {
        if !self.phase.catching_up() {
            return;
        }
        self.phase = Phase::Live { resyncing: false };
        self.live_since = Some(now);
        self.restarting_since = None;
        self.down_since = None;
        self.timers.remove(&Timer::Poll);
        self.behaved(now);
    }

    /// The server broke a limit: say so, and keep saying it for [`MISBEHAVIOUR_SHOWN`].
    fn misbehaved(&mut self, what: Misbehaviour, now: Instant) {
        tracing::warn!(?what, "the server misbehaves");
        if self.phase == Phase::Stopped {
            return; // the reason for stopping stays on screen
        }
        self.problem = Some(Problem::ServerMisbehaving { what });
        self.misbehaved_at = Some(now);
        self.arm(Timer::Misbehaved, now + MISBEHAVIOUR_SHOWN);
    }

    /// Receiving again: a misbehaviour's problem goes once it has been shown long enough.
    fn behaved(&mut self, now: Instant) {
        let shown_enough = self.misbehaved_at.is_none_or(|at| now >= at + MISBEHAVIOUR_SHOWN);
        if shown_enough && matches!(self.problem, Some(Problem::ServerMisbehaving { .. })) {
            self.problem = None;
            self.misbehaved_at = None;
        }
    }

    /// The baseline means nothing any more: fetch a snapshot before going on.
    fn resync(&mut self, out: &mut Vec<Action>) {
        if let Phase::Live { resyncing } = &mut self.phase {
            *resyncing = true;
        }
        self.backfill_due = false;
        self.timers.remove(&Timer::Backfill);
        let request = self.fetch_snapshot(out);
        self.pending_fetch = Some(request);
    }

    fn fetch_snapshot(&mut self, out: &mut Vec<Action>) -> u64 {
        self.next_request += 1;
        out.push(Action::FetchSnapshot { request: self.next_request });
        self.next_request
    }

    fn fetch_events(&mut self, after: u64, out: &mut Vec<Action>) {
        self.next_request += 1;
        self.pending_fetch = Some(self.next_request);
        self.backfill_after = after;
        out.push(Action::FetchEvents { request: self.next_request, after });
    }

    /// Applies what the sequencer released, and asks for whatever it still lacks.
    fn release(&mut self, ready: Ready, now: Instant, out: &mut Vec<Action>) {
        out.extend(ready.events.into_iter().map(Action::Apply));
        if ready.overflowed {
            self.misbehaved(Misbehaviour::TooManyEarlyEvents { limit: MAX_HELD as u64 }, now);
            return self.resync(out);
        }
        if ready.epoch_changed {
            tracing::info!("the server's epoch changed: fetching a fresh snapshot");
            return self.resync(out);
        }
        if self.backfill_due {
            return; // the catch-up waits for the backfill's retry
        }
        if let Some(after) = ready.gap_after {
            if self.pending_fetch.is_none() {
                if self.has_events == Some(false) {
                    tracing::warn!(after, "events are missing and the server cannot backfill them");
                } else {
                    self.fetch_events(after, out);
                }
            }
        } else if self.pending_fetch.is_none() {
            self.go_live(now);
        }
    }

    fn snapshot(
        &mut self,
        request: u64,
        result: Result<Snapshot, FetchError>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let catching_up = self.pending_fetch == Some(request);
        if catching_up {
            self.pending_fetch = None;
        }
        if let Err(FetchError::TooLarge { limit_bytes }) = &result {
            self.misbehaved(Misbehaviour::BodyTooLarge { limit_bytes: *limit_bytes }, now);
        }
        match result {
            Ok(snapshot) => {
                self.has_snapshot = Some(true);
                self.refreshed(true, now);
                if self.phase == Phase::Off {
                    self.behaved(now);
                }
                let newer = match (snapshot.seq, self.sequencer.last()) {
                    (Some(seq), Some(last)) => {
                        let other_epoch = snapshot.epoch.as_deref() != self.sequencer.epoch();
                        // Below what was applied in the same epoch: the server's database went
                        // back (a restored backup). While Live the socket is ahead of any poll.
                        let rewound = seq < last && self.phase != Phase::Live { resyncing: false };
                        if rewound && !other_epoch {
                            tracing::info!(seq, last, "the server's seq went back: taking its snapshot");
                        }
                        other_epoch || seq > last || rewound
                    }
                    _ => true,
                };
                if !catching_up && !newer {
                    out.push(Action::Confirmed); // a poll that brings nothing new
                    return;
                }
                let (epoch, seq) = (snapshot.epoch.clone(), snapshot.seq);
                out.push(Action::Replace(snapshot));
                // Whatever was held past the snapshot's seq applies on top of it.
                let ready = self.sequencer.set_baseline(epoch, seq);
                self.release(ready, now, out);
            }
            Err(FetchError::Unauthorized) => self.give_up(Problem::TokenRejected, out),
            Err(FetchError::Unavailable) if catching_up => {
                self.has_snapshot = Some(false);
                self.without_history(now, out);
            }
            Err(error) if catching_up => {
                tracing::info!(?error, "snapshot fetch failed; reconnecting");
                self.lost(now, out);
            }
            Err(error) => {
                tracing::info!(?error, "snapshot refresh failed");
                self.refreshed(false, now);
            }
        }
    }

    fn events(
        &mut self,
        request: u64,
        result: Result<EventsPage, FetchError>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.pending_fetch != Some(request) {
            return;
        }
        self.pending_fetch = None;
        if let Err(FetchError::TooLarge { limit_bytes }) = &result {
            self.misbehaved(Misbehaviour::BodyTooLarge { limit_bytes: *limit_bytes }, now);
        }
        match result {
            Ok(page) => {
                self.has_events = Some(true);
                if Some(page.epoch.as_str()) != self.sequencer.epoch() {
                    self.sequencer.reset();
                    let ready = Ready { epoch_changed: true, ..Ready::default() };
                    self.release(ready, now, out);
                    return;
                }
                if page.head_seq < self.backfill_after {
                    // The server's head is below what we had applied when we asked: its database
                    // went back (a restored backup) in the same epoch. Events after its head
                    // would look like replays; start over from its snapshot instead.
                    tracing::info!(
                        head = page.head_seq,
                        last = self.backfill_after,
                        "the server's seq went back"
                    );
                    self.sequencer.reset();
                    return self.resync(out);
                }
                let was_last = self.sequencer.last();
                let mut events = Vec::new();
                for event in page.events {
                    let ready = self.sequencer.offer(event);
                    if ready.epoch_changed || ready.overflowed {
                        self.release(ready, now, out);
                        return;
                    }
                    events.extend(ready.events);
                }
                out.extend(events.into_iter().map(Action::Apply));
                let last = self.sequencer.last().unwrap_or(0);
                let progressed = self.sequencer.last() != was_last;
                if page.has_more && !progressed {
                    // Asking again at once would spin: wait, longer each time it repeats.
                    self.empty_pages += 1;
                    self.misbehaved(Misbehaviour::EmptyBackfillPage, now);
                    self.backfill_due = true;
                    self.arm(Timer::Backfill, now + backfill_delay(self.empty_pages));
                } else if page.has_more || (last < page.head_seq && progressed) {
                    self.empty_pages = 0;
                    self.fetch_events(last, out);
                } else {
                    self.empty_pages = 0;
                    // Whatever is still held beyond a gap the server could not fill waits for the
                    // next live event to ask again; the stream itself is caught up.
                    self.go_live(now);
                }
            }
            Err(FetchError::Unavailable) => {
                self.has_events = Some(false);
                let request = self.fetch_snapshot(out);
                self.pending_fetch = Some(request);
            }
            Err(FetchError::Unauthorized) => self.give_up(Problem::TokenRejected, out),
            Err(error) => {
                tracing::info!(?error, "backfill failed; reconnecting");
                self.lost(now, out);
            }
        }
    }

    /// Arms `timer` for `at`, replacing its earlier time.
    fn arm(&mut self, timer: Timer, at: Instant) {
        self.timers.insert(timer, at);
    }

    /// Takes the first timer due by `now` (the earliest; of a tie, the first listed).
    fn due(&mut self, now: Instant) -> Option<Timer> {
        let (&timer, _) = self.timers.iter().filter(|(_, at)| **at <= now).min_by_key(|(_, at)| **at)?;
        self.timers.remove(&timer);
        Some(timer)
    }

    fn timer(&mut self, timer: Timer, now: Instant, out: &mut Vec<Action>) {
        match timer {
            Timer::Retry if matches!(self.phase, Phase::Waiting(_)) => self.open(self.phase.down(), now, out),
            Timer::Handshake if self.phase.at(Step::Opening) => {
                tracing::info!("handshake timed out");
                self.lost(now, out);
            }
            Timer::Stale if self.phase.has_socket() => {
                let quiet = now.duration_since(self.last_frame);
                if quiet >= STALE_AFTER {
                    tracing::info!(?quiet, "no frame from the server: the link is stale");
                    self.lost(now, out);
                } else {
                    self.arm(Timer::Stale, self.last_frame + STALE_AFTER);
                }
            }
            Timer::Confirm if self.phase.at(Step::Subscribing) => {
                if self.subscribe_retried {
                    self.give_up(Problem::SubscriptionRejected, out);
                } else {
                    tracing::info!("no confirmation: subscribing once more");
                    self.subscribe_retried = true;
                    self.subscribe(now, out);
                }
            }
            Timer::Poll
                if self.phase.down().is_some_and(|down| down.fallback.is_some())
                    || (self.phase == Phase::Off && self.mode.auto_refresh) =>
            {
                self.fetch_snapshot(out);
                self.arm(Timer::Poll, now + self.mode.refresh_interval);
            }
            Timer::Backfill
                if self.backfill_due
                    && (self.phase.at(Step::CatchingUp) || matches!(self.phase, Phase::Live { .. })) =>
            {
                self.backfill_due = false;
                let after = self.sequencer.last().unwrap_or(0);
                self.fetch_events(after, out);
            }
            Timer::Misbehaved if matches!(self.phase, Phase::Live { resyncing: false } | Phase::Off) => {
                self.behaved(now)
            }
            _ => {} // a timer that outlived its phase
        }
    }

    fn interval_s(&self) -> u32 {
        self.mode.refresh_interval.as_secs().max(1) as u32
    }

    /// A socket's next step; the recovery under way (if any) goes with it.
    fn step(&mut self, step: Step) {
        if let Phase::Linking { step: at, .. } = &mut self.phase {
            *at = step;
        }
    }

    /// The state on screen, read from the phase, as truthful as what is known: while the socket
    /// is down `Polling` only while REST answers, `Offline` once it has failed too,
    /// `Reconnecting` until REST has been asked.
    fn state(&self) -> ConnectionState {
        match self.phase {
            Phase::Off if self.mode.auto_refresh => {
                ConnectionState::AutoRefresh { interval_s: self.interval_s() }
            }
            Phase::Off => ConnectionState::Manual,
            Phase::Linking { down: None, .. } => ConnectionState::Connecting,
            Phase::Waiting(down) | Phase::Linking { down: Some(down), .. } => match down.fallback {
                Some(Fallback::Answers) => ConnectionState::Polling { interval_s: self.interval_s() },
                Some(Fallback::Fails) => {
                    ConnectionState::Offline { cached_at: None, retry_in_ms: Some(down.retry_in_ms) }
                }
                Some(Fallback::Asked) | None => {
                    ConnectionState::Reconnecting { attempt: self.attempt, retry_in_ms: down.retry_in_ms }
                }
            },
            Phase::Live { .. } => ConnectionState::Live,
            Phase::Stopped => ConnectionState::Offline { cached_at: None, retry_in_ms: None },
        }
    }

    fn emit_state(&mut self, out: &mut Vec<Action>) {
        let view = ConnectionView {
            state: self.state(),
            problem: self.problem.clone(),
            history_unavailable: self.has_snapshot == Some(false),
            paused: None,
            data_at: None,
        };
        if self.emitted.as_ref() != Some(&view) {
            self.emitted = Some(view.clone());
            out.push(Action::State(view));
        }
    }
}

/// The wait before asking again after `empty` backfill pages in a row brought nothing.
fn backfill_delay(empty: u32) -> Duration {
    BACKFILL_RETRY_FIRST.saturating_mul(1 << empty.saturating_sub(1).min(16)).min(BACKFILL_RETRY_MAX)
}
