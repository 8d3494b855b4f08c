//! Each event in words, one wording for every place that shows it: the feed's line, the
//! notifications, the export panel. Missing fields read as something sensible, never as an error.

use crate::event::Event;
use crate::payload::{JobOrderCreated, Payload, PrintExportFailed};

impl JobOrderCreated {
    /// A job order as it reads: `Acme × 40`.
    pub fn line(&self) -> String {
        format!("{} × {}", self.customer.as_deref().unwrap_or("unknown customer"), self.quantity.unwrap_or(0))
    }
}

impl PrintExportFailed {
    /// Why the export failed.
    pub fn why(&self) -> &str {
        self.reason.as_deref().unwrap_or("no reason given")
    }
}

impl Event {
    /// `#7` when the event names its record (an unknown kind's too, if its `id` is a number).
    pub fn record_id(&self) -> Option<String> {
        self.record(self.payload().as_ref())
    }

    /// [`Event::record_id`] with the payload already read.
    fn record(&self, payload: Option<&Payload>) -> Option<String> {
        let id = match payload {
            Some(payload) => payload.id(),
            None => self.data.get("id").and_then(serde_json::Value::as_i64),
        };
        id.map(|id| format!("#{id}"))
    }

    /// The event in one line, as the activity feed shows it.
    pub fn describe(&self) -> String {
        let payload = self.payload();
        let id = self.record(payload.as_ref()).map(|id| format!(" {id}")).unwrap_or_default();
        let Some(payload) = payload else {
            return format!("{}{id}", self.kind.as_str());
        };
        match payload {
            Payload::BookCreated(book) => {
                format!("New book{id}: {}", book.title.as_deref().unwrap_or("untitled"))
            }
            Payload::CoverCreated(cover) => format!(
                "New cover{id} ({} {})",
                cover.format.as_deref().unwrap_or("?"),
                cover.finish.as_deref().unwrap_or("")
            ),
            Payload::JobOrderCreated(order) => format!("Job order{id}: {}", order.line()),
            Payload::PrintExportStarted(_) => format!("Print export{id} started"),
            Payload::PrintExportCompleted(_) => format!("Print export{id} completed"),
            Payload::PrintExportFailed(failed) => format!("Print export{id} failed: {}", failed.why()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use serde_json::json;

    #[test]
    fn events_read_as_sentences_even_with_missing_fields() {
        let order =
            Event::new(EventKind::JobOrderCreated, json!({"id": 7, "customer": "Acme", "quantity": 40}));
        assert_eq!(order.describe(), "Job order #7: Acme × 40");
        let failed = Event::new(EventKind::PrintExportFailed, json!({"id": 3}));
        assert_eq!(failed.describe(), "Print export #3 failed: no reason given");
        let other = Event::new(EventKind::Other("invoice_paid".into()), json!({"id": 4}));
        assert_eq!(other.describe(), "invoice_paid #4");
        let bare = Event::new(EventKind::JobOrderCreated, json!({}));
        assert_eq!(bare.record_id(), None);
        assert_eq!(bare.describe(), "Job order: unknown customer × 0");
    }
}
