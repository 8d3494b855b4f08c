//! The connection states the dashboard shows, in the contract's words, and what goes with them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    Live,
    /// Waiting to try again: this is retry number `attempt`, due `retry_in_ms` after the state
    /// was emitted.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
    },
    /// Real-time unavailable: refreshing the snapshot every `interval_s` while the socket is
    /// retried in the background.
    Polling {
        interval_s: u32,
    },
    /// Real-time off by choice: refreshing every `interval_s`.
    AutoRefresh {
        interval_s: u32,
    },
    /// Real-time and auto-refresh off.
    Manual,
    /// Not receiving anything: neither the socket nor REST answers, or retrying stopped (then
    /// `problem` says why). Showing cached data from `cached_at` (if any); the next attempt is due
    /// `retry_in_ms` after the state was emitted (none when stopped).
    Offline {
        cached_at: Option<DateTime<Utc>>,
        #[serde(default)]
        retry_in_ms: Option<u64>,
    },
}

impl ConnectionState {
    /// The words shown on screen.
    pub fn label(&self) -> &'static str {
        match self {
            ConnectionState::Connecting => "Connecting",
            ConnectionState::Live => "Live",
            ConnectionState::Reconnecting { .. } => "Reconnecting",
            ConnectionState::Polling { .. } => "Polling",
            ConnectionState::AutoRefresh { .. } => "Auto-refresh",
            ConnectionState::Manual => "Manual",
            ConnectionState::Offline { .. } => "Offline",
        }
    }
}

/// What the user should know about the connection: why it stopped trying on its own (the user
/// has to act), or what the server did wrong (shown while the client copes, gone once it behaves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The server refused the token (`disconnect` with `unauthorized`, or HTTP 401/403).
    TokenRejected,
    /// The server refused the AnalyticsChannel subscription, or never confirmed it.
    SubscriptionRejected,
    /// The server closed with `reconnect: false` for another reason.
    ServerRefused { reason: String },
    /// The server broke a limit the client holds it to; the client keeps retrying.
    ServerMisbehaving { what: Misbehaviour },
}

/// A way a broken or hostile server was caught overstepping the client's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Misbehaviour {
    /// A WebSocket message over the client's cap.
    MessageTooLarge { limit_bytes: u64 },
    /// A REST answer (snapshot or backfill) over the client's cap.
    BodyTooLarge { limit_bytes: u64 },
    /// More events arrived ahead of a gap than the client holds.
    TooManyEarlyEvents { limit: u64 },
    /// A backfill page said more events follow but brought none the client could use.
    EmptyBackfillPage,
}

impl Problem {
    pub fn message(&self) -> String {
        match self {
            Problem::TokenRejected => "Token rejected — check settings".to_owned(),
            Problem::SubscriptionRejected => {
                "The server refused the AnalyticsChannel subscription — check the channel setting".to_owned()
            }
            Problem::ServerRefused { reason } => format!("The server closed the connection ({reason})"),
            Problem::ServerMisbehaving { what } => match what {
                Misbehaviour::MessageTooLarge { limit_bytes } => {
                    format!("The server sent a message larger than {} — reconnecting", size(*limit_bytes))
                }
                Misbehaviour::BodyTooLarge { limit_bytes } => {
                    format!("The server sent a response larger than {} — retrying", size(*limit_bytes))
                }
                Misbehaviour::TooManyEarlyEvents { limit } => format!(
                    "The server sent more than {limit} events out of order — reloaded the totals from a snapshot"
                ),
                Misbehaviour::EmptyBackfillPage => {
                    "The server says more events are missing but sends none — asking again less often".to_owned()
                }
            },
        }
    }
}

/// A byte count in plain words: whole MiB or KiB, else bytes.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Everything the header shows about the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    #[serde(flatten)]
    pub state: ConnectionState,
    /// Set when retrying stopped and the user has to act, or while the server misbehaves.
    #[serde(default)]
    pub problem: Option<Problem>,
    /// The server offers no snapshot or backfill (a stock Rails app): totals count since connecting.
    #[serde(default)]
    pub history_unavailable: bool,
    /// The view is frozen by the user; this many events arrived since.
    #[serde(default)]
    pub paused: Option<u64>,
    /// When the numbers on screen were last confirmed, by the client's clock (whole seconds).
    /// Set whenever the state is not `Live`, so the header can say how old they are.
    #[serde(default)]
    pub data_at: Option<DateTime<Utc>>,
}

impl ConnectionView {
    pub fn new(state: ConnectionState) -> Self {
        ConnectionView { state, problem: None, history_unavailable: false, paused: None, data_at: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialise_with_their_details() {
        let state = ConnectionState::Reconnecting { attempt: 2, retry_in_ms: 1500 };
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            r#"{"state":"reconnecting","attempt":2,"retry_in_ms":1500}"#
        );
        assert_eq!(serde_json::to_string(&ConnectionState::Live).unwrap(), r#"{"state":"live"}"#);
        assert_eq!(state.label(), "Reconnecting");
        assert_eq!(ConnectionState::AutoRefresh { interval_s: 10 }.label(), "Auto-refresh");
    }

    #[test]
    fn a_view_flattens_its_state_and_round_trips() {
        let view = ConnectionView {
            state: ConnectionState::Offline { cached_at: None, retry_in_ms: None },
            problem: Some(Problem::TokenRejected),
            history_unavailable: true,
            paused: Some(3),
            data_at: Some("2026-12-02T10:32:00Z".parse().unwrap()),
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["state"], "offline");
        assert_eq!(json["problem"]["problem"], "token_rejected");
        assert_eq!(serde_json::from_value::<ConnectionView>(json).unwrap(), view);
    }

    #[test]
    fn misbehaviour_is_said_in_plain_words_and_round_trips() {
        let problem =
            Problem::ServerMisbehaving { what: Misbehaviour::MessageTooLarge { limit_bytes: 1 << 20 } };
        assert_eq!(problem.message(), "The server sent a message larger than 1 MiB — reconnecting");
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["what"]["kind"], "message_too_large");
        assert_eq!(serde_json::from_value::<Problem>(json).unwrap(), problem);
        let body = Problem::ServerMisbehaving { what: Misbehaviour::BodyTooLarge { limit_bytes: 1500 } };
        assert!(body.message().contains("1500 bytes"), "{}", body.message());
    }

    #[test]
    fn an_older_offline_state_without_retry_still_reads() {
        let view: ConnectionView = serde_json::from_str(r#"{"state":"offline","cached_at":null}"#).unwrap();
        assert_eq!(view.state, ConnectionState::Offline { cached_at: None, retry_in_ms: None });
        assert_eq!(view.data_at, None);
    }
}
