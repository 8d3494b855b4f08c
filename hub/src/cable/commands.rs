//! One connection's commands, sans IO: subscriptions matched as exact identifier strings, and
//! the answer to each command.

use std::sync::atomic::{AtomicU64, Ordering};

use pressroom_protocol::cable::ANALYTICS_CHANNEL;
use pressroom_protocol::{ClientCommand, ServerFrame};

use crate::delivery::fanout::{Fanout, Subscription};

/// Subscriptions one connection may hold.
const MAX_SUBSCRIPTIONS: usize = 16;

/// The longest identifier accepted; Rails' own is 30 bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;
/// How much of a rejected frame goes to the log.
const LOGGED_CHARS: usize = 120;

/// One connection's subscriptions and its answers to commands, sans IO.
pub struct Connection {
    fanout: Fanout,
    /// Identifier strings, exactly as the client spelled them.
    subscriptions: Vec<Subscription>,
}

/// Why a subscribe is refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Not even an identifier: ignored, as Rails ignores it.
    Malformed,
    /// Over [`MAX_IDENTIFIER_BYTES`]: ignored, so nothing that large is stored or echoed.
    TooLong,
    /// A well-formed identifier of another channel, or with keys AnalyticsChannel does not take.
    Unknown,
}

/// Accepts only `{"channel":"AnalyticsChannel"}`, however spelled (key order, whitespace).
fn check_identifier(identifier: &str) -> Result<(), Refusal> {
    if identifier.len() > MAX_IDENTIFIER_BYTES {
        return Err(Refusal::TooLong);
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(identifier) else {
        return Err(Refusal::Malformed);
    };
    match map.get("channel") {
        Some(serde_json::Value::String(channel)) if channel == ANALYTICS_CHANNEL && map.len() == 1 => Ok(()),
        Some(serde_json::Value::String(_)) => Err(Refusal::Unknown),
        _ => Err(Refusal::Malformed),
    }
}

/// Logs a rejected frame: truncated, at warn at most once a second hub-wide and at debug
/// otherwise, so a client sending garbage cannot flood the log.
fn rejected(why: &str, text: &str) {
    static LAST_WARN: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now().timestamp() as u64;
    let head: String = text.chars().take(LOGGED_CHARS).collect();
    let last = LAST_WARN.load(Ordering::Relaxed);
    if now > last && LAST_WARN.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        tracing::warn!(why, bytes = text.len(), head, "rejected a cable frame (more at debug)");
    } else {
        tracing::debug!(why, bytes = text.len(), head, "rejected a cable frame");
    }
}

impl Connection {
    pub fn new(fanout: Fanout) -> Self {
        Connection { fanout, subscriptions: Vec::new() }
    }

    /// Drops every subscription (the connection ended), releasing its identifiers at once.
    pub fn leave(&mut self) {
        self.subscriptions.clear();
    }

    /// The identifiers subscribed, in the order they were confirmed.
    pub fn identifiers(&self) -> impl Iterator<Item = &std::sync::Arc<str>> {
        self.subscriptions.iter().map(Subscription::identifier)
    }

    /// Applies a client command; returns the frame to answer with, if any. Malformed input is
    /// logged and ignored: it never ends the connection.
    pub fn handle(&mut self, text: &str) -> Option<ServerFrame> {
        let command = match ClientCommand::parse(text) {
            Ok(command) => command,
            Err(_) => {
                // serde's message may quote the input; the truncated input says as much.
                rejected("malformed command", text);
                return None;
            }
        };
        match command {
            ClientCommand::Subscribe { identifier } => {
                match check_identifier(&identifier) {
                    Ok(()) => {}
                    Err(Refusal::Unknown) => {
                        rejected("unknown channel or extra keys", &identifier);
                        return Some(ServerFrame::RejectSubscription { identifier });
                    }
                    Err(Refusal::TooLong) => {
                        rejected("identifier over 1 KiB", &identifier);
                        return None;
                    }
                    Err(Refusal::Malformed) => {
                        rejected("malformed identifier", &identifier);
                        return None;
                    }
                }
                if self.subscriptions.iter().any(|s| **s.identifier() == *identifier) {
                    tracing::debug!("ignoring duplicate subscribe");
                    return None;
                }
                if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
                    rejected("over the per-connection subscription limit", &identifier);
                    return Some(ServerFrame::RejectSubscription { identifier });
                }
                let Some(subscription) = self.fanout.subscribe(&identifier) else {
                    rejected("over the hub's limit of distinct identifier spellings", &identifier);
                    return Some(ServerFrame::RejectSubscription { identifier });
                };
                self.subscriptions.push(subscription);
                Some(ServerFrame::ConfirmSubscription { identifier })
            }
            ClientCommand::Unsubscribe { identifier } => {
                self.subscriptions.retain(|s| **s.identifier() != *identifier);
                None
            }
            ClientCommand::Message { .. } => {
                tracing::debug!("ignoring message: AnalyticsChannel has no actions");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::fanout::MAX_IDENTIFIERS;
    use pressroom_protocol::cable::channel_identifier;

    fn subscribe(identifier: &str) -> String {
        ClientCommand::Subscribe { identifier: identifier.into() }.to_json()
    }

    fn subscribed(connection: &Connection) -> Vec<&str> {
        connection.identifiers().map(|id| &**id).collect()
    }

    fn confirmed(frame: Option<ServerFrame>) -> bool {
        matches!(frame, Some(ServerFrame::ConfirmSubscription { .. }))
    }

    #[test]
    fn identifiers_are_exact_strings() {
        let mut connection = Connection::new(Fanout::new(8));
        let id = channel_identifier(ANALYTICS_CHANNEL);
        let spaced = r#"{ "channel": "AnalyticsChannel" }"#;
        assert!(confirmed(connection.handle(&subscribe(&id))));
        assert_eq!(connection.handle(&subscribe(&id)), None, "an identical subscribe is ignored");
        assert!(confirmed(connection.handle(&subscribe(spaced))));
        assert_eq!(subscribed(&connection), [id.as_str(), spaced]);
        connection.handle(&ClientCommand::Unsubscribe { identifier: id }.to_json());
        assert_eq!(subscribed(&connection), [spaced]);
    }

    #[test]
    fn only_the_analytics_channel_without_extra_keys_is_accepted() {
        let mut connection = Connection::new(Fanout::new(8));
        let other = channel_identifier("ChatChannel");
        assert_eq!(
            connection.handle(&subscribe(&other)),
            Some(ServerFrame::RejectSubscription { identifier: other })
        );
        let extra = r#"{"channel":"AnalyticsChannel","n":1}"#;
        assert_eq!(
            connection.handle(&subscribe(extra)),
            Some(ServerFrame::RejectSubscription { identifier: extra.into() })
        );
        assert_eq!(connection.handle("{nope"), None);
        assert_eq!(connection.handle(&subscribe("not json")), None);
        assert_eq!(connection.handle(&subscribe(r#"{"channel":1}"#)), None);
        assert!(connection.subscriptions.is_empty());
    }

    #[test]
    fn an_identifier_over_1_kib_is_neither_stored_nor_echoed() {
        let mut connection = Connection::new(Fanout::new(8));
        let padded = format!(r#"{{"channel":"AnalyticsChannel"{}}}"#, " ".repeat(MAX_IDENTIFIER_BYTES));
        assert_eq!(connection.handle(&subscribe(&padded)), None);
        let long_other = format!(r#"{{"channel":"{}"}}"#, "x".repeat(16 * 1024));
        assert_eq!(connection.handle(&subscribe(&long_other)), None, "no reject echoing 16 KiB");
        assert!(connection.subscriptions.is_empty());
        let at_limit =
            format!(r#"{{"channel":"AnalyticsChannel"{}}}"#, " ".repeat(MAX_IDENTIFIER_BYTES - 30));
        assert_eq!(at_limit.len(), MAX_IDENTIFIER_BYTES);
        assert!(confirmed(connection.handle(&subscribe(&at_limit))));
    }

    #[test]
    fn spellings_are_capped_per_connection_and_hub_wide() {
        let fanout = Fanout::new(8);
        let spelling = |n: usize| format!(r#"{{"channel":"AnalyticsChannel"{}}}"#, " ".repeat(n));
        let mut first = Connection::new(fanout.clone());
        for n in 0..MAX_SUBSCRIPTIONS {
            assert!(confirmed(first.handle(&subscribe(&spelling(n)))));
        }
        assert!(matches!(
            first.handle(&subscribe(&spelling(MAX_SUBSCRIPTIONS))),
            Some(ServerFrame::RejectSubscription { .. })
        ));
        let mut others: Vec<Connection> = Vec::new();
        for n in MAX_SUBSCRIPTIONS..MAX_IDENTIFIERS {
            let mut connection = Connection::new(fanout.clone());
            assert!(confirmed(connection.handle(&subscribe(&spelling(n)))));
            others.push(connection);
        }
        let mut late = Connection::new(fanout.clone());
        assert!(
            matches!(
                late.handle(&subscribe(&spelling(MAX_IDENTIFIERS))),
                Some(ServerFrame::RejectSubscription { .. })
            ),
            "a new spelling beyond the hub's cap"
        );
        assert!(confirmed(late.handle(&subscribe(&spelling(0)))), "a held spelling is still served");
        drop(first);
        assert!(confirmed(late.handle(&subscribe(&spelling(MAX_IDENTIFIERS)))), "room again");
    }
}
