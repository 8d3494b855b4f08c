//! The fan-out: what the broadcaster hands to the cable's shard writers. A broadcast frame is
//! encoded once per distinct subscription identifier, as the WebSocket frame that goes on the
//! wire, and those bytes are written to every connection (server frames are unmasked, so they are
//! the same bytes for everyone); pings travel the same way.
//!
//! The ring behind it holds `capacity` messages for the few shard writers that read it; each
//! connection's own bound is its link's queue (`cable::link`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use pressroom_protocol::{Event, ServerFrame};
use tokio::sync::broadcast;

use crate::cable::wire;

/// Distinct identifier strings the hub holds at once. Each costs one encoded frame per broadcast
/// in the single broadcaster, and whitespace variants of one identifier are distinct strings, so
/// without a cap a read-only client could multiply the work of every broadcast.
pub const MAX_IDENTIFIERS: usize = 64;

/// Messages the ring holds for the shard writers. A writer this far behind (the box out of CPU
/// for minutes) closes its connections so they catch up; apart from each connection's own bound
/// (`--max-lag`), so a small bound does not put whole shards at risk.
pub const RING: usize = 4096;

/// One message for every connection.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Event(Arc<Published>),
    /// The ping frame, identical for everyone.
    Ping(Bytes),
    /// The hub is stopping: say goodbye and close.
    Shutdown,
}

/// A committed event with its broadcast frame for each identifier subscribed when it went out.
#[derive(Debug)]
pub struct Published {
    json: Arc<str>,
    frames: Vec<(Arc<str>, Bytes)>,
}

impl Published {
    /// The wire frame for `identifier`: the shared bytes, borrowed (a delivery touches no
    /// refcount), or, for a subscription made while this event was being published, encoded here.
    pub fn frame_for(&self, identifier: &Arc<str>) -> Cow<'_, Bytes> {
        match self.frames.iter().find(|(id, _)| Arc::ptr_eq(id, identifier) || **id == **identifier) {
            Some((_, frame)) => Cow::Borrowed(frame),
            None => Cow::Owned(wire::text(&broadcast_frame(identifier, &self.json))),
        }
    }
}

/// The sending side, shared by the broadcaster and every connection.
#[derive(Clone)]
pub struct Fanout {
    sender: broadcast::Sender<Outgoing>,
    identifiers: Identifiers,
}

impl Fanout {
    /// A fan-out whose ring holds `capacity` messages for its readers (the shard writers).
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Fanout { sender, identifiers: Identifiers::default() }
    }

    /// A reader of the ring (a shard writer); it receives everything sent from now on.
    pub fn receiver(&self) -> broadcast::Receiver<Outgoing> {
        self.sender.subscribe()
    }

    /// Publishes `event`, encoded once per identifier subscribed right now.
    pub fn publish(&self, event: &Event) {
        self.publish_json(super::history::encode(event).into());
    }

    /// Publishes an event already encoded as `json` (shared with the history).
    pub fn publish_json(&self, json: Arc<str>) {
        let frames = self
            .identifiers
            .current()
            .into_iter()
            .map(|id| {
                let frame = wire::text(&broadcast_frame(&id, &json));
                (id, frame)
            })
            .collect();
        // No receiver is fine: nobody is connected right now.
        let _ = self.sender.send(Outgoing::Event(Arc::new(Published { json, frames })));
    }

    /// Sends one ping frame to every connection.
    pub fn ping(&self, unix_time: i64) {
        let _ =
            self.sender.send(Outgoing::Ping(wire::server_frame(&ServerFrame::Ping { message: unix_time })));
    }

    /// Tells every connection the hub is stopping. Through the ring rather than a cancellation
    /// token: a connection then waits on one thing, and the common path takes no extra lock.
    pub fn shutdown(&self) {
        let _ = self.sender.send(Outgoing::Shutdown);
    }

    /// Registers a subscription's identifier; the returned guard unregisters it when dropped.
    /// `None` when it is a new string and [`MAX_IDENTIFIERS`] are already held.
    pub fn subscribe(&self, identifier: &str) -> Option<Subscription> {
        Some(Subscription {
            identifier: self.identifiers.intern(identifier)?,
            identifiers: self.identifiers.clone(),
        })
    }
}

/// The distinct identifier strings subscribed across all connections, with how many use each.
#[derive(Clone, Default)]
struct Identifiers(Arc<Mutex<HashMap<Arc<str>, usize>>>);

impl Identifiers {
    fn intern(&self, identifier: &str) -> Option<Arc<str>> {
        let mut map = self.0.lock().expect("identifiers lock");
        if let Some(id) = map.get_key_value(identifier).map(|(id, _)| id.clone()) {
            *map.get_mut(&id).expect("present") += 1;
            return Some(id);
        }
        if map.len() >= MAX_IDENTIFIERS {
            return None;
        }
        let id: Arc<str> = identifier.into();
        map.insert(id.clone(), 1);
        Some(id)
    }

    fn release(&self, identifier: &Arc<str>) {
        let mut map = self.0.lock().expect("identifiers lock");
        if let Some(count) = map.get_mut(identifier) {
            *count -= 1;
            if *count == 0 {
                map.remove(identifier);
            }
        }
    }

    fn current(&self) -> Vec<Arc<str>> {
        self.0.lock().expect("identifiers lock").keys().cloned().collect()
    }
}

/// A connection's subscription to one identifier; unregistered on drop.
pub struct Subscription {
    identifier: Arc<str>,
    identifiers: Identifiers,
}

impl Subscription {
    pub fn identifier(&self) -> &Arc<str> {
        &self.identifier
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.identifiers.release(&self.identifier);
    }
}

/// `{"identifier": "<identifier>", "message": <event>}` from the event's JSON encoded once.
fn broadcast_frame(identifier: &str, message_json: &str) -> String {
    let identifier = serde_json::to_string(identifier).expect("strings serialise");
    format!(r#"{{"identifier":{identifier},"message":{message_json}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use serde_json::json;

    /// The text of a wire frame.
    fn payload(frame: &Bytes) -> &str {
        use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
        let mut cursor = std::io::Cursor::new(&frame[..]);
        let (header, length) = FrameHeader::parse(&mut cursor).unwrap().expect("a whole header");
        assert!(header.is_final && header.mask.is_none(), "a final, unmasked frame");
        let start = cursor.position() as usize;
        assert_eq!(frame.len() - start, length as usize);
        std::str::from_utf8(&frame[start..]).unwrap()
    }

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::BookCreated, json!({"id": seq}));
        event.seq = Some(seq);
        event
    }

    #[test]
    fn the_frame_embeds_the_identifier_as_a_json_string() {
        let frame = broadcast_frame(r#"{"channel":"AnalyticsChannel"}"#, r#"{"event":"x"}"#);
        assert_eq!(
            ServerFrame::parse(&frame).unwrap(),
            ServerFrame::Broadcast {
                identifier: r#"{"channel":"AnalyticsChannel"}"#.into(),
                message: json!({"event": "x"})
            }
        );
    }

    #[test]
    fn one_encoding_per_identifier_shared_by_every_subscriber() {
        let fanout = Fanout::new(8);
        let a = fanout.subscribe(r#"{"channel":"AnalyticsChannel"}"#).unwrap();
        let b = fanout.subscribe(r#"{"channel":"AnalyticsChannel"}"#).unwrap();
        let spaced = fanout.subscribe(r#"{ "channel": "AnalyticsChannel" }"#).unwrap();
        assert!(Arc::ptr_eq(a.identifier(), b.identifier()), "the same string is interned once");
        let mut receiver = fanout.receiver();
        fanout.publish(&event(1));
        let Ok(Outgoing::Event(published)) = receiver.try_recv() else { panic!("an event") };
        assert_eq!(published.frames.len(), 2);
        let (fa, fb) = (published.frame_for(a.identifier()), published.frame_for(b.identifier()));
        assert_eq!(fa.as_ptr(), fb.as_ptr(), "the same bytes, not a copy");
        let ServerFrame::Broadcast { identifier, message } =
            ServerFrame::parse(payload(&published.frame_for(spaced.identifier()))).unwrap()
        else {
            panic!("a broadcast")
        };
        assert_eq!(identifier, r#"{ "channel": "AnalyticsChannel" }"#);
        assert_eq!(message["data"]["id"], 1);
    }

    #[test]
    fn identifiers_are_released_with_their_last_subscription() {
        let fanout = Fanout::new(8);
        let a = fanout.subscribe("x").unwrap();
        let b = fanout.subscribe("x").unwrap();
        drop(a);
        assert_eq!(fanout.identifiers.current().len(), 1);
        drop(b);
        assert!(fanout.identifiers.current().is_empty());
        // A subscription made after a publish still gets a correct frame.
        let mut receiver = fanout.receiver();
        fanout.publish(&event(2));
        let late = fanout.subscribe("late").unwrap();
        let Ok(Outgoing::Event(published)) = receiver.try_recv() else { panic!("an event") };
        assert!(payload(&published.frame_for(late.identifier())).starts_with(r#"{"identifier":"late""#));
    }

    #[test]
    fn distinct_identifiers_are_capped_hub_wide() {
        let fanout = Fanout::new(8);
        let held: Vec<_> = (0..MAX_IDENTIFIERS).map(|n| fanout.subscribe(&format!("{n}")).unwrap()).collect();
        assert!(fanout.subscribe("one more").is_none());
        assert!(fanout.subscribe("0").is_some(), "a held string is shared, not counted again");
        drop(held);
        assert!(fanout.subscribe("one more").is_some(), "released strings make room");
    }
}
