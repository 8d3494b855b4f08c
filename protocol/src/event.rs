//! Analytics events: the `message` of an `AnalyticsChannel` broadcast.
//!
//! A stock Rails app sends `{"event", "data"}`; Pressroom's hub adds `seq`, `epoch` and `at`.
//! `data` stays a JSON object so an app's extra or missing fields never make an event unreadable:
//! what an event does to the totals depends on its kind alone. Its fields are read through the
//! kind's typed payload (`payload.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The six kinds of the original request; any other kind is kept as [`EventKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    BookCreated,
    CoverCreated,
    JobOrderCreated,
    PrintExportStarted,
    PrintExportCompleted,
    PrintExportFailed,
    Other(String),
}

impl EventKind {
    pub const KNOWN: [EventKind; 6] = [
        EventKind::BookCreated,
        EventKind::CoverCreated,
        EventKind::JobOrderCreated,
        EventKind::PrintExportStarted,
        EventKind::PrintExportCompleted,
        EventKind::PrintExportFailed,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            EventKind::BookCreated => "book_created",
            EventKind::CoverCreated => "cover_created",
            EventKind::JobOrderCreated => "job_order_created",
            EventKind::PrintExportStarted => "print_export_started",
            EventKind::PrintExportCompleted => "print_export_completed",
            EventKind::PrintExportFailed => "print_export_failed",
            EventKind::Other(name) => name,
        }
    }
}

impl From<&str> for EventKind {
    fn from(name: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .unwrap_or_else(|| EventKind::Other(name.to_owned()))
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(EventKind::from(name.as_ref()))
    }
}

/// One analytics event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// One of the six known kinds, or any other (kept, changing no total).
    #[serde(rename = "event")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "job_order_created"))]
    pub kind: EventKind,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl Event {
    /// An event as a stock Rails app sends it: kind and data only.
    pub fn new(kind: EventKind, data: Value) -> Self {
        let data = match data {
            Value::Object(map) => map,
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        Event { kind, data, seq: None, epoch: None, at: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_known_kind_round_trips_by_name() {
        for kind in EventKind::KNOWN {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<EventKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn a_stock_rails_message_reads_without_seq_epoch_or_time() {
        let event: Event = serde_json::from_value(json!({
            "event": "job_order_created",
            "data": {"id": 7, "book_id": 2, "customer": "Acme", "quantity": 40}
        }))
        .unwrap();
        assert_eq!(event.kind, EventKind::JobOrderCreated);
        let Some(crate::Payload::JobOrderCreated(order)) = event.payload() else { panic!("a job order") };
        assert_eq!((order.customer.as_deref(), order.quantity), (Some("Acme"), Some(40)));
        assert_eq!((event.seq, event.epoch.as_deref(), event.at), (None, None, None));
    }

    #[test]
    fn hub_fields_round_trip() {
        let wire = json!({
            "event": "print_export_failed",
            "data": {"id": 3, "job_order_id": 9, "reason": "bleed too small"},
            "seq": 42,
            "epoch": "e1",
            "at": "2026-11-27T10:32:00Z"
        });
        let event: Event = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(event.seq, Some(42));
        assert_eq!(event.at.unwrap().to_rfc3339(), "2026-11-27T10:32:00+00:00");
        assert_eq!(serde_json::to_value(&event).unwrap(), wire);
    }

    #[test]
    fn unknown_kinds_are_kept_not_rejected() {
        let event: Event = serde_json::from_value(json!({"event": "invoice_paid", "data": {}})).unwrap();
        assert_eq!(event.kind, EventKind::Other("invoice_paid".into()));
        assert_eq!(serde_json::to_value(&event).unwrap()["event"], "invoice_paid");
    }

    #[test]
    fn non_object_data_is_kept_under_value() {
        let event = Event::new(EventKind::Other("ping".into()), json!(5));
        assert_eq!(event.data["value"], 5);
    }
}
