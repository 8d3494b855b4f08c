//! The machine under a simulated clock and a seeded random source: each rule with exact times.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL};
use pressroom_protocol::{
    ConnectionState, ConnectionView, Event, EventKind, EventsPage, Misbehaviour, Problem, ServerFrame,
    Snapshot, Totals,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;

use super::machine::{CONFIRM_TIMEOUT, HANDSHAKE_TIMEOUT, MISBEHAVIOUR_SHOWN, RESTART_WINDOW, STALE_AFTER};
use super::sequencer::MAX_HELD;
use super::{Action, FetchError, Input, Machine, Mode, Timer};

const S: Duration = Duration::from_secs(1);

/// The machine plus a record of what it asked for, with a clock that only moves when told.
pub(super) struct Sim {
    pub machine: Machine<StdRng>,
    pub start: Instant,
    pub now: Instant,
    pub actions: Vec<(Duration, Action)>,
    pub dashboard: Snapshot,
    pub view: Option<ConnectionView>,
    pub socket_open: bool,
    answered: HashSet<u64>,
}

impl Sim {
    pub fn new(mode: Mode, seed: u64) -> Self {
        let start = Instant::now();
        Sim {
            machine: Machine::new(mode, ANALYTICS_CHANNEL, StdRng::seed_from_u64(seed), start),
            start,
            now: start,
            actions: Vec::new(),
            dashboard: Snapshot::default(),
            view: None,
            socket_open: false,
            answered: HashSet::new(),
        }
    }

    pub fn feed(&mut self, input: Input) -> Vec<Action> {
        if let Input::Snapshot { request, .. } | Input::Events { request, .. } = &input {
            self.answered.insert(*request);
        }
        let actions = self.machine.handle(input, self.now);
        assert!(self.machine.deadline().is_none_or(|at| at >= self.now), "timers are armed in the future");
        for action in &actions {
            match action {
                Action::OpenSocket => self.socket_open = true,
                Action::CloseSocket => self.socket_open = false,
                Action::Replace(snapshot) => self.dashboard = snapshot.clone(),
                Action::Apply(event) => {
                    self.dashboard.apply(event);
                }
                Action::State(view) => self.view = Some(view.clone()),
                _ => {}
            }
            self.actions.push((self.now - self.start, action.clone()));
        }
        actions
    }

    pub fn frame(&mut self, frame: ServerFrame) -> Vec<Action> {
        self.feed(Input::Frame(frame.to_json()))
    }

    /// Moves the clock by `by`, firing every timer that falls due on the way, in order.
    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some(at) = self.machine.deadline().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.feed(Input::Timeout);
        }
        self.now = until;
    }

    pub fn state(&self) -> ConnectionState {
        self.view.as_ref().expect("a state was emitted").state.clone()
    }

    /// When (since the start) each action matching `pick` was taken.
    pub fn times_of(&self, pick: impl Fn(&Action) -> bool) -> Vec<Duration> {
        self.actions.iter().filter(|(_, a)| pick(a)).map(|(t, _)| *t).collect()
    }

    pub fn last_request(&self) -> u64 {
        self.actions
            .iter()
            .rev()
            .find_map(|(_, a)| match a {
                Action::FetchSnapshot { request } | Action::FetchEvents { request, .. } => Some(*request),
                _ => None,
            })
            .expect("a fetch was asked for")
    }

    /// Is the machine polling the snapshot (the fallback)?
    pub fn machine_polls(&self) -> bool {
        self.machine.armed(Timer::Poll).is_some()
    }

    /// The newest snapshot fetch not answered yet.
    pub fn unanswered_snapshot(&self) -> Option<u64> {
        self.actions.iter().rev().find_map(|(_, a)| match a {
            Action::FetchSnapshot { request } if !self.answered.contains(request) => Some(*request),
            _ => None,
        })
    }

    /// Open, welcome, confirm: up to the catch-up fetch.
    pub fn connect(&mut self) {
        assert!(self.socket_open, "the machine asked for a socket");
        self.feed(Input::SocketOpened);
        self.frame(ServerFrame::Welcome);
        self.frame(ServerFrame::ConfirmSubscription { identifier: channel_identifier(ANALYTICS_CHANNEL) });
    }

    /// Connects and answers the snapshot fetch with `snapshot`.
    pub fn connect_with(&mut self, snapshot: Snapshot) {
        self.connect();
        let request = self.last_request();
        self.feed(Input::Snapshot { request, result: Ok(snapshot) });
    }
}

pub(super) fn event(seq: u64, epoch: &str) -> Event {
    let mut event = Event::new(EventKind::JobOrderCreated, json!({"id": seq}));
    event.seq = Some(seq);
    event.epoch = Some(epoch.to_owned());
    event
}

pub(super) fn broadcast(event: &Event) -> ServerFrame {
    ServerFrame::Broadcast {
        identifier: channel_identifier(ANALYTICS_CHANNEL),
        message: serde_json::to_value(event).unwrap(),
    }
}

fn snapshot(epoch: &str, seq: u64, job_orders: u64) -> Snapshot {
    Snapshot {
        epoch: Some(epoch.into()),
        seq: Some(seq),
        totals: Totals { job_orders, ..Totals::default() },
        ..Snapshot::default()
    }
}

fn live(seed: u64) -> Sim {
    let mut sim = Sim::new(Mode::default(), seed);
    sim.feed(Input::Start);
    sim.connect_with(snapshot("e1", 10, 10));
    assert_eq!(sim.state(), ConnectionState::Live);
    sim
}

fn is_open(action: &Action) -> bool {
    matches!(action, Action::OpenSocket)
}

#[test]
fn it_connects_subscribes_fetches_the_snapshot_and_goes_live() {
    let mut sim = Sim::new(Mode::default(), 1);
    sim.feed(Input::Start);
    assert_eq!(sim.state(), ConnectionState::Connecting);
    sim.feed(Input::SocketOpened);
    let subscribe = sim.frame(ServerFrame::Welcome);
    assert!(subscribe.contains(&Action::Send(
        r#"{"command":"subscribe","identifier":"{\"channel\":\"AnalyticsChannel\"}"}"#.to_owned()
    )));
    let confirmed =
        sim.frame(ServerFrame::ConfirmSubscription { identifier: channel_identifier(ANALYTICS_CHANNEL) });
    assert!(confirmed.iter().any(|a| matches!(a, Action::FetchSnapshot { .. })));
    assert_eq!(sim.state(), ConnectionState::Connecting, "not Live before it has caught up");
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 10, 10)) });
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.dashboard.totals.job_orders, 10);
}

#[test]
fn silence_for_six_seconds_is_stale_exactly_and_any_frame_refreshes_liveness() {
    let mut sim = live(2);
    let t0 = sim.now - sim.start;
    sim.advance(Duration::from_millis(5999));
    assert_eq!(sim.state(), ConnectionState::Live);
    sim.frame(ServerFrame::Ping { message: 0 }); // at t0 + 5.999 s
    sim.advance(Duration::from_millis(5998));
    assert_eq!(sim.state(), ConnectionState::Live, "the ping refreshed liveness");
    sim.advance(Duration::from_millis(10));
    assert!(matches!(sim.state(), ConnectionState::Reconnecting { attempt: 1, .. }));
    let closed = sim.times_of(|a| matches!(a, Action::CloseSocket));
    assert_eq!(
        closed,
        [t0 + Duration::from_millis(5999) + STALE_AFTER],
        "detected exactly 6 s after the last frame"
    );
}

#[test]
fn pings_every_three_seconds_never_look_stale() {
    let mut sim = live(3);
    for _ in 0..100 {
        sim.advance(3 * S);
        sim.frame(ServerFrame::Ping { message: 0 });
    }
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.times_of(is_open).len(), 1);
}

#[test]
fn a_handshake_longer_than_ten_seconds_fails() {
    let mut sim = Sim::new(Mode::default(), 4);
    sim.feed(Input::Start);
    // TCP connects but the WebSocket handshake never completes.
    sim.advance(HANDSHAKE_TIMEOUT - Duration::from_millis(1));
    assert_eq!(sim.state(), ConnectionState::Connecting);
    sim.advance(Duration::from_millis(1));
    assert!(matches!(sim.state(), ConnectionState::Reconnecting { attempt: 1, .. }));
    assert_eq!(sim.times_of(|a| matches!(a, Action::CloseSocket)), [HANDSHAKE_TIMEOUT]);
}

#[test]
fn retries_back_off_with_full_jitter_up_to_thirty_seconds() {
    let mut sim = Sim::new(Mode { auto_refresh: false, ..Mode::default() }, 5);
    sim.feed(Input::Start);
    let mut failed_at = sim.now;
    for attempt in 1..=10u32 {
        sim.feed(Input::SocketFailed);
        let ConnectionState::Reconnecting { attempt: shown, retry_in_ms } = sim.state() else {
            panic!("reconnecting after a failure")
        };
        assert_eq!(shown, attempt);
        let ceiling = (1000u64 << (attempt - 1)).min(30_000);
        assert!(retry_in_ms <= ceiling, "attempt {attempt}: {retry_in_ms} ms > {ceiling} ms");
        let retry_at = sim.machine.armed(Timer::Retry).unwrap();
        assert_eq!(retry_at - failed_at, Duration::from_millis(retry_in_ms));
        sim.advance(retry_at - sim.now);
        assert_eq!(sim.times_of(is_open).last(), Some(&(retry_at - sim.start)), "retried exactly when due");
        failed_at = sim.now;
    }
}

#[test]
fn the_backoff_starts_afresh_after_a_stable_minute() {
    let mut sim = Sim::new(Mode { auto_refresh: false, ..Mode::default() }, 6);
    sim.feed(Input::Start);
    for _ in 0..4 {
        sim.feed(Input::SocketFailed);
        let due = sim.machine.armed(Timer::Retry).unwrap();
        sim.advance(due - sim.now);
    }
    sim.connect_with(snapshot("e1", 1, 1));
    for _ in 0..20 {
        sim.advance(3 * S);
        sim.frame(ServerFrame::Ping { message: 0 });
    }
    sim.feed(Input::SocketClosed);
    assert!(
        matches!(sim.state(), ConnectionState::Reconnecting { attempt: 1, retry_in_ms } if retry_in_ms <= 1000)
    );
}

#[test]
fn reconnect_now_skips_the_wait() {
    let mut sim = live(7);
    sim.feed(Input::SocketClosed);
    let at = sim.now - sim.start;
    sim.feed(Input::ReconnectNow);
    assert_eq!(sim.times_of(is_open).last(), Some(&at));
    assert!(sim.machine.armed(Timer::Retry).is_none());
}

#[test]
fn the_state_follows_the_connection_and_never_keeps_a_stale_word() {
    let mut sim = live(30);
    sim.frame(ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false });
    assert_eq!(sim.state(), ConnectionState::Offline { cached_at: None, retry_in_ms: None });
    // The user reconnects after a stop: connecting, not the stop's Offline without its reason.
    sim.feed(Input::ReconnectNow);
    assert_eq!(sim.state(), ConnectionState::Connecting);
    assert_eq!(sim.view.clone().unwrap().problem, None);
    sim.connect();
    let request = sim.last_request();
    let page = EventsPage { epoch: "e1".into(), head_seq: 10, has_more: false, events: vec![] };
    sim.feed(Input::Events { request, result: Ok(page) });
    assert_eq!(sim.state(), ConnectionState::Live);
    // Woken from sleep while Live: the socket is reopened, and the screen does not say Live
    // until it has caught up again.
    sim.feed(Input::Wake);
    assert_eq!(sim.state(), ConnectionState::Connecting);
    // A retry's socket opening keeps the recovery's words and numbers: attempt and wait as told.
    sim.feed(Input::SocketFailed);
    let waiting = sim.state();
    assert!(matches!(waiting, ConnectionState::Reconnecting { attempt: 1, .. }), "{waiting:?}");
    let due = sim.machine.armed(Timer::Retry).unwrap();
    sim.advance(due - sim.now);
    assert!(sim.socket_open);
    assert_eq!(sim.state(), waiting);
}

#[test]
fn an_unauthorized_disconnect_stops_retrying_and_says_why() {
    let mut sim = live(8);
    sim.frame(ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false });
    let view = sim.view.clone().unwrap();
    assert_eq!(view.problem, Some(Problem::TokenRejected));
    assert!(matches!(view.state, ConnectionState::Offline { .. }));
    sim.advance(600 * S);
    assert_eq!(sim.times_of(is_open).len(), 1, "no retry");
    assert_eq!(sim.machine.deadline(), None, "nothing left armed");
}

#[test]
fn a_server_restart_reconnects_within_a_second() {
    let mut sim = live(9);
    let at = sim.now;
    sim.frame(ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true });
    assert!(sim.machine.armed(Timer::Retry).unwrap() - at <= S);
    sim.advance(S);
    assert_eq!(sim.times_of(is_open).len(), 2);
}

#[test]
fn refusals_after_a_server_restart_retry_within_a_second_for_the_restart_window() {
    let mut sim = live(11);
    let restart = sim.now;
    sim.frame(ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true });
    let mut refused = 0;
    while sim.now - restart < RESTART_WINDOW - S {
        let wait = sim.machine.armed(Timer::Retry).unwrap() - sim.now;
        assert!(wait <= S, "refusal {refused}: next try in {wait:?}");
        sim.advance(wait);
        sim.feed(Input::SocketFailed);
        refused += 1;
    }
    assert!(refused > 10, "kept trying through the window: {refused}");
    // A hub that stays away: the usual doubling resumes.
    let mut waits = Vec::new();
    for _ in 0..6 {
        let wait = sim.machine.armed(Timer::Retry).unwrap() - sim.now;
        waits.push(wait);
        sim.advance(wait);
        sim.feed(Input::SocketFailed);
    }
    assert!(waits.iter().any(|w| *w > 2 * S), "{waits:?}");
}

#[test]
fn a_rejected_subscription_stops_and_says_so() {
    let mut sim = Sim::new(Mode::default(), 10);
    sim.feed(Input::Start);
    sim.feed(Input::SocketOpened);
    sim.frame(ServerFrame::Welcome);
    sim.frame(ServerFrame::RejectSubscription { identifier: channel_identifier(ANALYTICS_CHANNEL) });
    assert_eq!(sim.view.clone().unwrap().problem, Some(Problem::SubscriptionRejected));
    sim.advance(120 * S);
    assert_eq!(sim.times_of(is_open).len(), 1);
}

#[test]
fn an_unanswered_subscribe_is_retried_once_then_given_up() {
    let mut sim = Sim::new(Mode::default(), 11);
    sim.feed(Input::Start);
    sim.feed(Input::SocketOpened);
    sim.frame(ServerFrame::Welcome);
    // A stock Rails server answers an unknown channel with silence; pings keep the link alive.
    for _ in 0..3 {
        sim.advance(3 * S);
        sim.frame(ServerFrame::Ping { message: 0 });
    }
    let subscribes = sim.times_of(|a| matches!(a, Action::Send(text) if text.contains("subscribe")));
    assert_eq!(subscribes, [Duration::ZERO, CONFIRM_TIMEOUT]);
    sim.advance(2 * S);
    assert_eq!(sim.view.clone().unwrap().problem, Some(Problem::SubscriptionRejected));
    assert_eq!(sim.times_of(|a| matches!(a, Action::CloseSocket)), [2 * CONFIRM_TIMEOUT]);
}

#[test]
fn waking_from_sleep_reconnects_at_once() {
    let mut sim = live(12);
    let at = sim.now - sim.start;
    sim.feed(Input::Wake);
    assert_eq!(sim.times_of(|a| matches!(a, Action::CloseSocket)), [at]);
    assert_eq!(sim.times_of(is_open).last(), Some(&at));
}

#[test]
fn after_a_reconnect_missed_events_are_fetched_and_live_ones_wait_their_turn() {
    let mut sim = live(13);
    sim.feed(Input::SocketClosed);
    sim.feed(Input::ReconnectNow);
    sim.connect();
    let Some((_, Action::FetchEvents { request, after })) = sim.actions.last().cloned() else {
        panic!("a backfill is asked for, got {:?}", sim.actions.last())
    };
    assert_eq!(after, 10);
    // A live event arrives while the backfill is under way: it waits.
    sim.frame(broadcast(&event(14, "e1")));
    assert_eq!(sim.dashboard.totals.job_orders, 10);
    assert_ne!(sim.state(), ConnectionState::Live);
    let page = EventsPage {
        epoch: "e1".into(),
        head_seq: 13,
        has_more: false,
        events: vec![event(11, "e1"), event(12, "e1"), event(13, "e1")],
    };
    sim.feed(Input::Events { request, result: Ok(page) });
    assert_eq!(sim.dashboard.totals.job_orders, 14);
    assert_eq!(sim.dashboard.seq, Some(14));
    assert_eq!(sim.state(), ConnectionState::Live);
    sim.frame(broadcast(&event(14, "e1")));
    assert_eq!(sim.dashboard.totals.job_orders, 14, "a duplicate is not counted twice");
}

#[test]
fn a_gap_in_the_live_stream_is_filled_from_the_backfill() {
    let mut sim = live(14);
    sim.frame(broadcast(&event(11, "e1")));
    sim.frame(broadcast(&event(13, "e1")));
    assert_eq!(sim.dashboard.totals.job_orders, 11);
    let Some((_, Action::FetchEvents { request, after: 11 })) = sim.actions.last().cloned() else {
        panic!("the gap after 11 is fetched")
    };
    let page = EventsPage {
        epoch: "e1".into(),
        head_seq: 13,
        has_more: false,
        events: vec![event(12, "e1"), event(13, "e1")],
    };
    sim.feed(Input::Events { request, result: Ok(page) });
    assert_eq!(sim.dashboard.totals.job_orders, 13);
    assert_eq!(sim.state(), ConnectionState::Live);
}

#[test]
fn a_new_epoch_refetches_the_snapshot() {
    let mut sim = live(15);
    sim.frame(broadcast(&event(1, "e2")));
    let request = sim.last_request();
    assert!(matches!(sim.actions.last(), Some((_, Action::FetchSnapshot { .. }))));
    assert_eq!(sim.state(), ConnectionState::Live, "the socket stays up while the snapshot is fetched");
    sim.frame(broadcast(&event(2, "e2")));
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e2", 1, 1)) });
    assert_eq!(sim.dashboard.totals.job_orders, 2, "the snapshot plus the event held after it");
    assert_eq!(sim.dashboard.epoch.as_deref(), Some("e2"));
    assert_eq!(sim.state(), ConnectionState::Live);
}

#[test]
fn a_server_without_backfill_resumes_from_a_snapshot() {
    let mut sim = live(16);
    sim.feed(Input::SocketClosed);
    sim.feed(Input::ReconnectNow);
    sim.connect();
    let request = sim.last_request();
    sim.feed(Input::Events { request, result: Err(FetchError::Unavailable) });
    let request = sim.last_request();
    assert!(matches!(sim.actions.last(), Some((_, Action::FetchSnapshot { .. }))));
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 20, 20)) });
    assert_eq!(sim.dashboard.totals.job_orders, 20);
    assert_eq!(sim.state(), ConnectionState::Live);
}

#[test]
fn a_stock_rails_server_counts_since_connecting_and_says_history_is_unavailable() {
    let mut sim = Sim::new(Mode::default(), 17);
    sim.feed(Input::Start);
    sim.connect();
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Err(FetchError::Unavailable) });
    let view = sim.view.clone().unwrap();
    assert_eq!(view.state, ConnectionState::Live);
    assert!(view.history_unavailable);
    let plain = Event::new(EventKind::JobOrderCreated, json!({"id": 1}));
    sim.frame(broadcast(&plain));
    sim.frame(broadcast(&plain));
    assert_eq!(sim.dashboard.totals.job_orders, 2, "events without seq apply as they come");
    // A reconnect asks for no history it knows is not there.
    sim.feed(Input::SocketClosed);
    sim.feed(Input::ReconnectNow);
    sim.connect();
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.dashboard.totals.job_orders, 2);
}

#[test]
fn after_three_failed_attempts_it_polls_and_goes_back_to_live_when_the_socket_returns() {
    let mut sim = Sim::new(Mode::default(), 18);
    sim.feed(Input::Start);
    for attempt in 1..=3 {
        sim.feed(Input::SocketFailed);
        assert!(
            matches!(sim.state(), ConnectionState::Reconnecting { attempt: a, .. } if a == attempt),
            "attempt {attempt}: {:?}",
            sim.state()
        );
        let due = sim.machine.armed(Timer::Retry).unwrap();
        sim.advance(due - sim.now);
    }
    // The third failure asks REST; only its answer makes this Polling.
    let polled_from = sim.times_of(|a| matches!(a, Action::FetchSnapshot { .. }))[0];
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 3, 3)) });
    assert_eq!(sim.state(), ConnectionState::Polling { interval_s: 10 });
    sim.feed(Input::SocketFailed);
    sim.advance(25 * S);
    let polls = sim.times_of(|a| matches!(a, Action::FetchSnapshot { .. }));
    assert!(polls.len() >= 3, "polling every 10 s: {polls:?}");
    assert_eq!(polls[1] - polled_from, 10 * S);
    // The socket comes back: Live once caught up, and polling stops.
    sim.feed(Input::ReconnectNow);
    sim.connect_with(snapshot("e1", 5, 5));
    assert_eq!(sim.state(), ConnectionState::Live);
    assert!(sim.machine.armed(Timer::Poll).is_none());
}

#[test]
fn when_rest_fails_too_it_is_offline_with_the_next_retry_never_polling() {
    for failure in [FetchError::Failed("connection refused".into()), FetchError::Unavailable] {
        let mut sim = Sim::new(Mode::default(), 24);
        sim.feed(Input::Start);
        for _ in 1..=3 {
            sim.feed(Input::SocketFailed);
            let due = sim.machine.armed(Timer::Retry).unwrap();
            if sim.machine_polls() {
                break;
            }
            sim.advance(due - sim.now);
        }
        let request = sim.last_request();
        sim.feed(Input::Snapshot { request, result: Err(failure.clone()) });
        let due = sim.machine.armed(Timer::Retry).unwrap();
        let expected = (due - sim.now).as_millis() as u64;
        assert_eq!(
            sim.state(),
            ConnectionState::Offline { cached_at: None, retry_in_ms: Some(expected) },
            "{failure:?}"
        );
        assert_eq!(sim.view.clone().unwrap().problem, None, "not stopped: it keeps trying");
        // Still nothing: every later state says Offline, never Polling.
        for _ in 0..6 {
            sim.advance(10 * S);
            sim.feed(Input::SocketFailed);
            if let Some(request) = sim.unanswered_snapshot() {
                sim.feed(Input::Snapshot { request, result: Err(failure.clone()) });
            }
            assert!(
                matches!(sim.state(), ConnectionState::Offline { retry_in_ms: Some(_), .. }),
                "{:?}",
                sim.state()
            );
        }
        // REST comes back: Polling, with the data confirmed.
        let request = sim.unanswered_snapshot().unwrap_or_else(|| {
            sim.advance(10 * S);
            sim.last_request()
        });
        let actions = sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 3, 3)) });
        assert_eq!(sim.state(), ConnectionState::Polling { interval_s: 10 });
        assert!(actions.iter().any(|a| matches!(a, Action::Replace(_))));
        // A later poll with nothing new confirms the data on screen.
        sim.advance(10 * S);
        let request = sim.last_request();
        let actions = sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 3, 3)) });
        assert!(actions.contains(&Action::Confirmed), "{actions:?}");
    }
}

#[test]
fn twenty_seconds_without_the_socket_also_falls_back() {
    let mut sim = Sim::new(Mode::default(), 19);
    sim.feed(Input::Start);
    sim.advance(HANDSHAKE_TIMEOUT); // attempt 1 fails at 10 s
    let due = sim.machine.armed(Timer::Retry).unwrap();
    sim.advance(due - sim.now);
    sim.advance(HANDSHAKE_TIMEOUT); // attempt 2 fails at 20 s or later
    assert!(sim.machine_polls(), "REST is asked after 20 s down");
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 1, 1)) });
    assert!(matches!(sim.state(), ConnectionState::Polling { .. }), "{:?}", sim.state());
}

#[test]
fn real_time_off_closes_the_socket_and_refreshes_or_stays_manual() {
    let mut sim = live(20);
    let off = Mode { realtime: false, ..Mode::default() };
    sim.feed(Input::SetMode(off));
    assert!(!sim.socket_open);
    assert_eq!(sim.state(), ConnectionState::AutoRefresh { interval_s: 10 });
    sim.advance(30 * S);
    assert_eq!(sim.times_of(|a| matches!(a, Action::FetchSnapshot { .. })).len(), 1 + 1 + 3);
    sim.feed(Input::SetMode(Mode { auto_refresh: false, ..off }));
    assert_eq!(sim.state(), ConnectionState::Manual);
    sim.advance(60 * S);
    assert_eq!(sim.times_of(|a| matches!(a, Action::FetchSnapshot { .. })).len(), 5, "manual: no refresh");
    sim.feed(Input::SetMode(Mode::default()));
    assert!(sim.socket_open);
    assert_eq!(sim.state(), ConnectionState::Connecting);
}

#[test]
fn an_open_socket_without_a_welcome_is_stale_after_six_seconds() {
    let mut sim = Sim::new(Mode::default(), 23);
    sim.feed(Input::Start);
    sim.advance(2 * S);
    sim.feed(Input::SocketOpened);
    sim.advance(STALE_AFTER);
    assert_eq!(sim.times_of(|a| matches!(a, Action::CloseSocket)), [2 * S + STALE_AFTER]);
}

#[test]
fn a_rejected_token_on_the_snapshot_stops_too() {
    let mut sim = Sim::new(Mode::default(), 21);
    sim.feed(Input::Start);
    sim.connect();
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Err(FetchError::Unauthorized) });
    assert_eq!(sim.view.clone().unwrap().problem, Some(Problem::TokenRejected));
    assert!(!sim.socket_open);
}

#[test]
fn an_answer_asked_of_the_server_before_a_settings_change_is_ignored() {
    // Asked without a token, answered after the user gave one: it says nothing of the new target.
    let mut sim = Sim::new(Mode::default(), 24);
    sim.feed(Input::Start);
    sim.connect();
    let before = sim.last_request();
    sim.feed(Input::EndpointChanged { channel: ANALYTICS_CHANNEL.to_owned() });
    sim.feed(Input::Snapshot { request: before, result: Err(FetchError::Unauthorized) });
    sim.feed(Input::Events { request: before, result: Err(FetchError::Unauthorized) });
    assert_eq!(problem(&sim), None);
    assert!(sim.socket_open, "the new target's socket stays");
    sim.connect_with(snapshot("e1", 3, 3));
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.dashboard.totals.job_orders, 3);
}

#[test]
fn malformed_frames_are_skipped_without_dropping_the_link() {
    let mut sim = live(22);
    for garbage in ["{nope", r#"{"type":"bogus"}"#, r#"{"identifier":"x","message":{}}"#] {
        sim.feed(Input::Frame(garbage.to_owned()));
    }
    let not_an_event =
        ServerFrame::Broadcast { identifier: channel_identifier(ANALYTICS_CHANNEL), message: json!(5) };
    sim.frame(not_an_event);
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.dashboard.totals.job_orders, 10);
}

fn problem(sim: &Sim) -> Option<Problem> {
    sim.view.as_ref().and_then(|v| v.problem.clone())
}

fn misbehaving(what: Misbehaviour) -> Option<Problem> {
    Some(Problem::ServerMisbehaving { what })
}

/// Moves the clock by `by` with a ping every second, so the link never looks stale.
fn alive_for(sim: &mut Sim, by: Duration) {
    let until = sim.now + by;
    while sim.now < until {
        sim.frame(ServerFrame::Ping { message: 0 });
        sim.advance(S.min(until - sim.now));
    }
}

#[test]
fn a_flood_of_early_events_is_dropped_for_a_snapshot_and_said_for_ten_seconds() {
    let mut sim = live(30);
    // Seq 11 never comes; everything after it would wait for ever.
    for seq in 12..12 + MAX_HELD as u64 {
        sim.frame(broadcast(&event(seq, "e1")));
    }
    assert_eq!(problem(&sim), None);
    let actions = sim.frame(broadcast(&event(12 + MAX_HELD as u64, "e1")));
    let limit = MAX_HELD as u64;
    assert_eq!(problem(&sim), misbehaving(Misbehaviour::TooManyEarlyEvents { limit }));
    assert!(actions.iter().any(|a| matches!(a, Action::FetchSnapshot { .. })), "resync from a snapshot");
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 20, 20)) });
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.dashboard.totals.job_orders, 20, "nothing of the flood was applied");
    alive_for(&mut sim, MISBEHAVIOUR_SHOWN - Duration::from_millis(1));
    assert_eq!(sim.state(), ConnectionState::Live);
    assert!(problem(&sim).is_some(), "still said just before ten seconds");
    alive_for(&mut sim, Duration::from_millis(1));
    assert_eq!(problem(&sim), None, "gone once the server has behaved for ten seconds");
}

#[test]
fn backfill_pages_that_claim_more_but_bring_nothing_are_asked_for_ever_less_often() {
    let mut sim = live(31);
    sim.feed(Input::SocketClosed);
    sim.feed(Input::ReconnectNow);
    let start = sim.now - sim.start;
    sim.connect();
    let empty = EventsPage { epoch: "e1".into(), head_seq: 20, has_more: true, events: vec![] };
    let fetches = |sim: &Sim| sim.times_of(|a| matches!(a, Action::FetchEvents { .. }));
    for round in 0..7 {
        let request = sim.last_request();
        sim.feed(Input::Events { request, result: Ok(empty.clone()) });
        assert_eq!(problem(&sim), misbehaving(Misbehaviour::EmptyBackfillPage));
        assert_ne!(sim.state(), ConnectionState::Live, "not caught up");
        let asked = fetches(&sim).len();
        if round == 0 {
            // A live event behind a gap does not jump the wait.
            sim.frame(broadcast(&event(25, "e1")));
            assert_eq!(fetches(&sim).len(), asked);
        }
        while fetches(&sim).len() == asked {
            alive_for(&mut sim, S);
        }
    }
    let asked: Vec<u64> = fetches(&sim).into_iter().map(|t| (t - start).as_secs()).collect();
    // Each answered at once; then asked again 1, 2, 4, 8, 16, 30, 30 s later.
    assert_eq!(asked, [0, 1, 3, 7, 15, 31, 61, 91]);
    let request = sim.last_request();
    let page = EventsPage {
        epoch: "e1".into(),
        head_seq: 25,
        has_more: false,
        events: (11..=24).map(|seq| event(seq, "e1")).collect(),
    };
    sim.feed(Input::Events { request, result: Ok(page) });
    assert_eq!(sim.state(), ConnectionState::Live);
    assert_eq!(sim.dashboard.totals.job_orders, 25);
}

#[test]
fn an_oversized_body_or_message_is_said_and_retried() {
    let mut sim = Sim::new(Mode { auto_refresh: false, ..Mode::default() }, 32);
    sim.feed(Input::Start);
    sim.connect();
    let request = sim.last_request();
    let limit_bytes = 4 << 20;
    sim.feed(Input::Snapshot { request, result: Err(FetchError::TooLarge { limit_bytes }) });
    assert_eq!(problem(&sim), misbehaving(Misbehaviour::BodyTooLarge { limit_bytes }));
    assert!(matches!(sim.state(), ConnectionState::Reconnecting { attempt: 1, .. }), "{:?}", sim.state());
    assert_eq!(sim.dashboard.totals.job_orders, 0);

    sim.advance(Duration::from_secs(2));
    sim.connect();
    sim.feed(Input::Misbehaved(Misbehaviour::MessageTooLarge { limit_bytes: 1 << 20 }));
    sim.feed(Input::SocketClosed);
    assert_eq!(problem(&sim), misbehaving(Misbehaviour::MessageTooLarge { limit_bytes: 1 << 20 }));
    assert!(matches!(sim.state(), ConnectionState::Reconnecting { attempt: 2, .. }));

    sim.advance(Duration::from_secs(4));
    sim.connect_with(snapshot("e1", 3, 3));
    assert_eq!(sim.state(), ConnectionState::Live);
    alive_for(&mut sim, MISBEHAVIOUR_SHOWN);
    assert_eq!(problem(&sim), None, "recovered");
}

#[test]
fn a_backfill_whose_head_went_back_resyncs_from_the_snapshot() {
    let mut sim = live(33);
    sim.frame(broadcast(&event(11, "e1")));
    sim.frame(broadcast(&event(12, "e1")));
    sim.feed(Input::SocketClosed);
    sim.feed(Input::ReconnectNow);
    sim.connect();
    // The hub came back from a backup taken at seq 10: same epoch, lower head.
    let request = sim.last_request();
    let page = EventsPage { epoch: "e1".into(), head_seq: 10, has_more: false, events: vec![] };
    let actions = sim.feed(Input::Events { request, result: Ok(page) });
    assert!(actions.iter().any(|a| matches!(a, Action::FetchSnapshot { .. })), "resync from a snapshot");
    assert_ne!(sim.state(), ConnectionState::Live);
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 10, 10)) });
    assert_eq!(sim.state(), ConnectionState::Live);
    // New writes on the restored hub reuse seqs 11 and 12: they count.
    sim.frame(broadcast(&event(11, "e1")));
    sim.frame(broadcast(&event(12, "e1")));
    sim.frame(broadcast(&event(13, "e1")));
    assert_eq!(sim.dashboard.totals.job_orders, 13);
    assert_eq!(sim.dashboard.seq, Some(13));
}

#[test]
fn a_refreshed_snapshot_whose_seq_went_back_is_taken() {
    let mode = Mode { realtime: false, auto_refresh: true, refresh_interval: Duration::from_secs(10) };
    let mut sim = Sim::new(mode, 34);
    sim.feed(Input::Start);
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 12, 12)) });
    sim.advance(Duration::from_secs(10));
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 10, 10)) });
    assert_eq!(sim.dashboard.totals.job_orders, 10, "the restored hub's numbers");
    sim.advance(Duration::from_secs(10));
    let request = sim.last_request();
    sim.feed(Input::Snapshot { request, result: Ok(snapshot("e1", 11, 11)) });
    assert_eq!(sim.dashboard.totals.job_orders, 11, "and what is written after");
}
