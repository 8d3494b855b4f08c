//! Each event in words, one wording for every place that shows it: the feed's line, the
//! notifications, the export panel. Missing fields read as something sensible, never as an error.

use crate::event::{Event, EventKind};

impl Event {
    /// `#7` when the event names its record.
    pub fn record_id(&self) -> Option<String> {
        self.int("id").map(|id| format!("#{id}"))
    }

    /// A job order as it reads: `Acme × 40`.
    pub fn order_line(&self) -> String {
        format!(
            "{} × {}",
            self.str("customer").unwrap_or("unknown customer"),
            self.int("quantity").unwrap_or(0)
        )
    }

    /// Why a print export failed.
    pub fn failure_reason(&self) -> &str {
        self.str("reason").unwrap_or("no reason given")
    }

    /// The event in one line, as the activity feed shows it.
    pub fn describe(&self) -> String {
        let id = self.record_id().map(|id| format!(" {id}")).unwrap_or_default();
        match &self.kind {
            EventKind::BookCreated => format!("New book{id}: {}", self.str("title").unwrap_or("untitled")),
            EventKind::CoverCreated => format!(
                "New cover{id} ({} {})",
                self.str("format").unwrap_or("?"),
                self.str("finish").unwrap_or("")
            ),
            EventKind::JobOrderCreated => format!("Job order{id}: {}", self.order_line()),
            EventKind::PrintExportStarted => format!("Print export{id} started"),
            EventKind::PrintExportCompleted => format!("Print export{id} completed"),
            EventKind::PrintExportFailed => format!("Print export{id} failed: {}", self.failure_reason()),
            EventKind::Other(kind) => format!("{kind}{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_read_as_sentences_even_with_missing_fields() {
        let order =
            Event::new(EventKind::JobOrderCreated, json!({"id": 7, "customer": "Acme", "quantity": 40}));
        assert_eq!(order.describe(), "Job order #7: Acme × 40");
        let failed = Event::new(EventKind::PrintExportFailed, json!({"id": 3}));
        assert_eq!(failed.describe(), "Print export #3 failed: no reason given");
        let other = Event::new(EventKind::Other("invoice_paid".into()), json!({}));
        assert_eq!(other.describe(), "invoice_paid");
        let bare = Event::new(EventKind::JobOrderCreated, json!({}));
        assert_eq!((bare.record_id(), bare.order_line()), (None, "unknown customer × 0".to_owned()));
    }
}
