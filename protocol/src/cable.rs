//! Action Cable frames (`actioncable-v1-json`) in the exact JSON shapes a stock Rails server and
//! the `@rails/actioncable` client use.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The WebSocket subprotocol both sides negotiate.
pub const SUBPROTOCOL: &str = "actioncable-v1-json";
/// The channel Pressroom subscribes to.
pub const ANALYTICS_CHANNEL: &str = "AnalyticsChannel";
/// Rails pings every 3 seconds.
pub const PING_INTERVAL_SECS: u64 = 3;

/// The identifier string for a channel, spelled as `@rails/actioncable` spells it.
///
/// Rails matches identifiers as exact strings, so this one spelling is used everywhere.
pub fn channel_identifier(channel: &str) -> String {
    serde_json::json!({ "channel": channel }).to_string()
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    Welcome,
    /// `message` is the server's Unix time in seconds.
    Ping {
        message: i64,
    },
    ConfirmSubscription {
        identifier: String,
    },
    RejectSubscription {
        identifier: String,
    },
    Disconnect {
        reason: String,
        reconnect: bool,
    },
    /// A broadcast: the only frame without a `type`.
    Broadcast {
        identifier: String,
        message: Value,
    },
}

/// Why a text frame could not be read as a [`ServerFrame`].
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("frame of unknown type {0:?}")]
    UnknownType(String),
    #[error("{kind} frame lacks its {field:?} field")]
    MissingField { kind: &'static str, field: &'static str },
}

/// The union of every server frame's fields, as they appear on the wire (field order as Rails).
#[derive(Serialize, Deserialize, Default)]
struct WireServerFrame {
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reconnect: Option<bool>,
}

impl ServerFrame {
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let wire: WireServerFrame = serde_json::from_str(text)?;
        let identifier =
            |kind| wire.identifier.clone().ok_or(FrameError::MissingField { kind, field: "identifier" });
        Ok(match wire.kind.as_deref() {
            None => ServerFrame::Broadcast {
                identifier: identifier("broadcast")?,
                message: wire
                    .message
                    .ok_or(FrameError::MissingField { kind: "broadcast", field: "message" })?,
            },
            Some("welcome") => ServerFrame::Welcome,
            Some("ping") => {
                ServerFrame::Ping { message: wire.message.and_then(|m| m.as_i64()).unwrap_or_default() }
            }
            Some("confirm_subscription") => {
                ServerFrame::ConfirmSubscription { identifier: identifier("confirm_subscription")? }
            }
            Some("reject_subscription") => {
                ServerFrame::RejectSubscription { identifier: identifier("reject_subscription")? }
            }
            Some("disconnect") => ServerFrame::Disconnect {
                reason: wire.reason.unwrap_or_default(),
                reconnect: wire.reconnect.unwrap_or(true),
            },
            Some(other) => return Err(FrameError::UnknownType(other.to_owned())),
        })
    }

    pub fn to_json(&self) -> String {
        let wire = match self {
            ServerFrame::Welcome => WireServerFrame { kind: Some("welcome".into()), ..Default::default() },
            ServerFrame::Ping { message } => WireServerFrame {
                kind: Some("ping".into()),
                message: Some((*message).into()),
                ..Default::default()
            },
            ServerFrame::ConfirmSubscription { identifier } => WireServerFrame {
                identifier: Some(identifier.clone()),
                kind: Some("confirm_subscription".into()),
                ..Default::default()
            },
            ServerFrame::RejectSubscription { identifier } => WireServerFrame {
                identifier: Some(identifier.clone()),
                kind: Some("reject_subscription".into()),
                ..Default::default()
            },
            ServerFrame::Disconnect { reason, reconnect } => WireServerFrame {
                kind: Some("disconnect".into()),
                reason: Some(reason.clone()),
                reconnect: Some(*reconnect),
                ..Default::default()
            },
            ServerFrame::Broadcast { identifier, message } => WireServerFrame {
                identifier: Some(identifier.clone()),
                message: Some(message.clone()),
                ..Default::default()
            },
        };
        serde_json::to_string(&wire).expect("a frame of strings, numbers and JSON values serialises")
    }
}

/// A command the client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ClientCommand {
    Subscribe {
        identifier: String,
    },
    Unsubscribe {
        identifier: String,
    },
    /// `data` is itself a JSON document, sent as a string (as `perform` does).
    Message {
        identifier: String,
        data: String,
    },
}

impl ClientCommand {
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        Ok(serde_json::from_str(text)?)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a command of strings serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_json(actual: &str, expected: Value) {
        let actual: Value = serde_json::from_str(actual).unwrap();
        assert_eq!(actual, expected);
    }

    #[test]
    fn identifier_is_spelled_as_the_rails_client_spells_it() {
        assert_eq!(channel_identifier(ANALYTICS_CHANNEL), r#"{"channel":"AnalyticsChannel"}"#);
    }

    #[test]
    fn server_frames_round_trip_in_rails_shapes() {
        let id = channel_identifier(ANALYTICS_CHANNEL);
        let cases = [
            (ServerFrame::Welcome, r#"{"type":"welcome"}"#.to_owned()),
            (ServerFrame::Ping { message: 1_700_000_000 }, r#"{"type":"ping","message":1700000000}"#.to_owned()),
            (
                ServerFrame::ConfirmSubscription { identifier: id.clone() },
                r#"{"identifier":"{\"channel\":\"AnalyticsChannel\"}","type":"confirm_subscription"}"#.to_owned(),
            ),
            (
                ServerFrame::RejectSubscription { identifier: id.clone() },
                r#"{"identifier":"{\"channel\":\"AnalyticsChannel\"}","type":"reject_subscription"}"#.to_owned(),
            ),
            (
                ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false },
                r#"{"type":"disconnect","reason":"unauthorized","reconnect":false}"#.to_owned(),
            ),
            (
                ServerFrame::Broadcast { identifier: id.clone(), message: json!({"event": "book_created", "data": {"id": 1}}) },
                r#"{"identifier":"{\"channel\":\"AnalyticsChannel\"}","message":{"event":"book_created","data":{"id":1}}}"#.to_owned(),
            ),
        ];
        for (frame, wire) in cases {
            assert_eq!(frame.to_json(), wire, "encoding {frame:?}");
            assert_eq!(ServerFrame::parse(&wire).unwrap(), frame, "decoding {wire}");
        }
    }

    #[test]
    fn a_broadcast_carries_no_type() {
        let frame = ServerFrame::Broadcast { identifier: "x".into(), message: json!({}) };
        assert!(!frame.to_json().contains("type"));
    }

    #[test]
    fn rails_extra_fields_are_ignored() {
        // Newer Rails versions add fields such as `sid` to the welcome.
        assert_eq!(ServerFrame::parse(r#"{"type":"welcome","sid":"abc"}"#).unwrap(), ServerFrame::Welcome);
    }

    #[test]
    fn malformed_and_unknown_frames_are_errors_not_panics() {
        assert!(matches!(ServerFrame::parse("not json"), Err(FrameError::Json(_))));
        assert!(
            matches!(ServerFrame::parse(r#"{"type":"bogus"}"#), Err(FrameError::UnknownType(t)) if t == "bogus")
        );
        assert!(matches!(
            ServerFrame::parse(r#"{"message":{}}"#),
            Err(FrameError::MissingField { field: "identifier", .. })
        ));
        assert!(matches!(
            ServerFrame::parse(r#"{"type":"confirm_subscription"}"#),
            Err(FrameError::MissingField { field: "identifier", .. })
        ));
    }

    #[test]
    fn client_commands_round_trip_in_rails_shapes() {
        let id = channel_identifier(ANALYTICS_CHANNEL);
        let cases = [
            (
                ClientCommand::Subscribe { identifier: id.clone() },
                json!({"command": "subscribe", "identifier": id}),
            ),
            (
                ClientCommand::Unsubscribe { identifier: id.clone() },
                json!({"command": "unsubscribe", "identifier": id}),
            ),
            (
                ClientCommand::Message { identifier: id.clone(), data: r#"{"action":"x"}"#.into() },
                json!({"command": "message", "identifier": id, "data": "{\"action\":\"x\"}"}),
            ),
        ];
        for (command, wire) in cases {
            same_json(&command.to_json(), wire.clone());
            assert_eq!(ClientCommand::parse(&wire.to_string()).unwrap(), command);
        }
        assert_eq!(
            ClientCommand::Subscribe { identifier: id }.to_json(),
            r#"{"command":"subscribe","identifier":"{\"channel\":\"AnalyticsChannel\"}"}"#
        );
        assert!(ClientCommand::parse(r#"{"command":"dance"}"#).is_err());
    }
}
