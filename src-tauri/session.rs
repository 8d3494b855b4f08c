//! The cable session, sans IO: what to do with each frame the server sends. It never touches a
//! socket; the driver feeds it frames and carries out what it returns.

use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL};
use pressroom_protocol::{ClientCommand, Event, ServerFrame};

#[derive(Debug, Clone, PartialEq)]
pub enum SessionAction {
    /// Send this command.
    Send(ClientCommand),
    /// The subscription is confirmed: the stream is live from here on.
    Subscribed,
    /// An analytics event arrived.
    Event(Event),
    /// The server refused the subscription.
    Rejected,
    /// The server asked to disconnect; `reconnect` says whether trying again makes sense.
    Disconnect { reason: String, reconnect: bool },
}

#[derive(Debug)]
pub struct Session {
    identifier: String,
    subscribed: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session { identifier: channel_identifier(ANALYTICS_CHANNEL), subscribed: false }
    }
}

impl Session {
    /// Reads one text frame. Malformed or unknown frames are logged and skipped.
    pub fn handle_text(&mut self, text: &str) -> Option<SessionAction> {
        match ServerFrame::parse(text) {
            Ok(frame) => self.handle(frame),
            Err(error) => {
                tracing::warn!(%error, "skipping unreadable frame");
                None
            }
        }
    }

    pub fn handle(&mut self, frame: ServerFrame) -> Option<SessionAction> {
        match frame {
            ServerFrame::Welcome => {
                Some(SessionAction::Send(ClientCommand::Subscribe { identifier: self.identifier.clone() }))
            }
            ServerFrame::Ping { .. } => None,
            ServerFrame::ConfirmSubscription { identifier } if identifier == self.identifier => {
                self.subscribed = true;
                Some(SessionAction::Subscribed)
            }
            ServerFrame::RejectSubscription { identifier } if identifier == self.identifier => {
                Some(SessionAction::Rejected)
            }
            ServerFrame::Disconnect { reason, reconnect } => {
                Some(SessionAction::Disconnect { reason, reconnect })
            }
            ServerFrame::Broadcast { identifier, message }
                if identifier == self.identifier && self.subscribed =>
            {
                match serde_json::from_value::<Event>(message) {
                    Ok(event) => Some(SessionAction::Event(event)),
                    Err(error) => {
                        tracing::warn!(%error, "skipping a broadcast that is not an analytics event");
                        None
                    }
                }
            }
            other => {
                tracing::debug!(?other, "ignoring a frame for another subscription");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use serde_json::json;

    fn id() -> String {
        channel_identifier(ANALYTICS_CHANNEL)
    }

    #[test]
    fn welcome_subscribes_and_confirmation_goes_live() {
        let mut session = Session::default();
        assert_eq!(
            session.handle_text(r#"{"type":"welcome"}"#),
            Some(SessionAction::Send(ClientCommand::Subscribe { identifier: id() }))
        );
        assert_eq!(
            session.handle(ServerFrame::ConfirmSubscription { identifier: id() }),
            Some(SessionAction::Subscribed)
        );
    }

    #[test]
    fn broadcasts_become_events_once_subscribed() {
        let mut session = Session::default();
        let broadcast = ServerFrame::Broadcast {
            identifier: id(),
            message: json!({"event": "book_created", "data": {"id": 1}}),
        };
        assert_eq!(session.handle(broadcast.clone()), None, "not before the confirmation");
        session.handle(ServerFrame::ConfirmSubscription { identifier: id() });
        let Some(SessionAction::Event(event)) = session.handle(broadcast) else { panic!("an event") };
        assert_eq!(event.kind, EventKind::BookCreated);
    }

    #[test]
    fn garbage_and_foreign_frames_are_skipped() {
        let mut session = Session::default();
        session.handle(ServerFrame::ConfirmSubscription { identifier: id() });
        assert_eq!(session.handle_text("{nope"), None);
        assert_eq!(session.handle_text(r#"{"type":"ping","message":1}"#), None);
        let foreign =
            ServerFrame::Broadcast { identifier: channel_identifier("Chat"), message: json!({"event": "x"}) };
        assert_eq!(session.handle(foreign), None);
        let not_an_event = ServerFrame::Broadcast { identifier: id(), message: json!("hello") };
        assert_eq!(session.handle(not_an_event), None);
    }

    #[test]
    fn rejection_and_disconnect_are_reported() {
        let mut session = Session::default();
        assert_eq!(
            session.handle(ServerFrame::RejectSubscription { identifier: id() }),
            Some(SessionAction::Rejected)
        );
        assert_eq!(
            session.handle_text(r#"{"type":"disconnect","reason":"unauthorized","reconnect":false}"#),
            Some(SessionAction::Disconnect { reason: "unauthorized".into(), reconnect: false })
        );
    }
}
