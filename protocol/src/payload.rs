//! Each known kind's `data`, typed: what the hub writes, and what every reader takes from any
//! app's event. Reading stays tolerant, as `event.rs` promises: a field that is missing or of
//! another type reads as `None`, extra fields are ignored, and an event whose data reads as
//! nothing still counts in its total (that depends on its kind alone).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::event::{Event, EventKind};

/// `book_created`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookCreated {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub isbn: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub author: Option<String>,
}

/// `cover_created`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverCreated {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub book_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub format: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub finish: Option<String>,
}

/// `job_order_created`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobOrderCreated {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub book_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub customer: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub quantity: Option<i64>,
    /// `YYYY-MM-DD`, when the order has one.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

/// `print_export_started` and `print_export_completed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrintExport {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub job_order_id: Option<i64>,
}

/// `print_export_failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrintExportFailed {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub job_order_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub reason: Option<String>,
}

/// A known kind's data, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    BookCreated(BookCreated),
    CoverCreated(CoverCreated),
    JobOrderCreated(JobOrderCreated),
    PrintExportStarted(PrintExport),
    PrintExportCompleted(PrintExport),
    PrintExportFailed(PrintExportFailed),
}

impl Payload {
    pub fn kind(&self) -> EventKind {
        match self {
            Payload::BookCreated(_) => EventKind::BookCreated,
            Payload::CoverCreated(_) => EventKind::CoverCreated,
            Payload::JobOrderCreated(_) => EventKind::JobOrderCreated,
            Payload::PrintExportStarted(_) => EventKind::PrintExportStarted,
            Payload::PrintExportCompleted(_) => EventKind::PrintExportCompleted,
            Payload::PrintExportFailed(_) => EventKind::PrintExportFailed,
        }
    }

    /// The id of the record the event is about.
    pub fn id(&self) -> Option<i64> {
        match self {
            Payload::BookCreated(p) => p.id,
            Payload::CoverCreated(p) => p.id,
            Payload::JobOrderCreated(p) => p.id,
            Payload::PrintExportStarted(p) | Payload::PrintExportCompleted(p) => p.id,
            Payload::PrintExportFailed(p) => p.id,
        }
    }

    /// The export's job order, for the export kinds.
    pub fn job_order_id(&self) -> Option<i64> {
        match self {
            Payload::PrintExportStarted(p) | Payload::PrintExportCompleted(p) => p.job_order_id,
            Payload::PrintExportFailed(p) => p.job_order_id,
            _ => None,
        }
    }

    fn data(&self) -> Value {
        let data = match self {
            Payload::BookCreated(p) => serde_json::to_value(p),
            Payload::CoverCreated(p) => serde_json::to_value(p),
            Payload::JobOrderCreated(p) => serde_json::to_value(p),
            Payload::PrintExportStarted(p) | Payload::PrintExportCompleted(p) => serde_json::to_value(p),
            Payload::PrintExportFailed(p) => serde_json::to_value(p),
        };
        data.expect("payloads serialise")
    }
}

impl From<Payload> for Event {
    /// The event for `payload`, as a stock Rails app would send it (no seq, epoch or time).
    fn from(payload: Payload) -> Event {
        Event::new(payload.kind(), payload.data())
    }
}

impl Event {
    /// The data, typed by the event's kind; `None` for a kind this version does not know.
    pub fn payload(&self) -> Option<Payload> {
        Some(match self.kind {
            EventKind::BookCreated => Payload::BookCreated(self.read()),
            EventKind::CoverCreated => Payload::CoverCreated(self.read()),
            EventKind::JobOrderCreated => Payload::JobOrderCreated(self.read()),
            EventKind::PrintExportStarted => Payload::PrintExportStarted(self.read()),
            EventKind::PrintExportCompleted => Payload::PrintExportCompleted(self.read()),
            EventKind::PrintExportFailed => Payload::PrintExportFailed(self.read()),
            EventKind::Other(_) => return None,
        })
    }

    /// The data as `T`; every field reads on its own, so this cannot fail.
    fn read<T: DeserializeOwned + Default>(&self) -> T {
        T::deserialize(&Value::Object(self.data.clone())).unwrap_or_default()
    }
}

/// A field that does not read as `T` reads as absent.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Option<T>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(deserializer)?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hubs_data_is_what_the_payload_writes() {
        let order = JobOrderCreated {
            id: Some(7),
            book_id: Some(2),
            customer: Some("Acme".into()),
            quantity: Some(40),
            due_date: None,
        };
        let event = Event::from(Payload::JobOrderCreated(order.clone()));
        assert_eq!(event.kind, EventKind::JobOrderCreated);
        assert_eq!(
            serde_json::Value::Object(event.data.clone()),
            json!({"id": 7, "book_id": 2, "customer": "Acme", "quantity": 40})
        );
        assert_eq!(event.payload(), Some(Payload::JobOrderCreated(order)));
        let book = Event::from(Payload::BookCreated(BookCreated {
            id: Some(1),
            title: Some("T".into()),
            ..Default::default()
        }));
        assert_eq!(
            serde_json::Value::Object(book.data),
            json!({"id": 1, "title": "T", "isbn": null, "author": null}),
            "a book's optional fields go out as null, as before"
        );
    }

    #[test]
    fn any_apps_data_reads_field_by_field() {
        let event = Event::new(
            EventKind::JobOrderCreated,
            json!({"id": "seven", "customer": "Acme", "quantity": 40, "rush": true}),
        );
        let Some(Payload::JobOrderCreated(order)) = event.payload() else { panic!("a job order") };
        assert_eq!(order.id, None, "a field of another type reads as absent");
        assert_eq!((order.customer.as_deref(), order.quantity), (Some("Acme"), Some(40)));
        let bare = Event::new(EventKind::PrintExportFailed, json!({}));
        assert_eq!(bare.payload(), Some(Payload::PrintExportFailed(PrintExportFailed::default())));
        assert_eq!(Event::new(EventKind::Other("invoice_paid".into()), json!({})).payload(), None);
    }
}
