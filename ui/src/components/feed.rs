use std::rc::Rc;

use pressroom_protocol::{Event, EventKind};
use yew::prelude::*;

use crate::store::Activity;

use crate::hooks::{ago, millis, use_calm, use_now};

#[derive(Properties, PartialEq)]
pub struct FeedProps {
    /// Newest first.
    pub activity: Activity,
}

/// A new row slides in only if the one before came at least this long before: under load rows
/// just appear, rather than animating over one another.
const CALM_MS: f64 = 2000.0;

/// The live activity feed: newest first, relative times that tick in coarse steps, keyed rows so
/// only new ones render.
#[function_component]
pub fn ActivityFeed(props: &FeedProps) -> Html {
    let now = use_now(10_000);
    let calm = use_calm(&props.activity, CALM_MS);
    html! {
        <section class="panel feed" aria-label="Recent activity">
            <h2>{"Recent activity"}</h2>
            if props.activity.is_empty() {
                <p class="empty">{"No activity yet — new job orders, books, covers and exports appear here as they happen."}</p>
            } else {
                <ol data-testid="feed">
                    { for props.activity.iter().map(|event| {
                        // Keyed by seq where the server sends one, so only new rows render.
                        let key = event.seq.map_or_else(|| format!("{:p}", Rc::as_ptr(event)), |seq| seq.to_string());
                        let relative = event.at.map(|at| ago(now, millis(at))).unwrap_or_default();
                        html! { <FeedItem key={key} event={event.clone()} relative={relative} enter={calm} /> }
                    }) }
                </ol>
            }
        </section>
    }
}

#[derive(Properties)]
struct ItemProps {
    event: Rc<Event>,
    /// "just now", "10 s ago", …: a row re-renders only when its own words change.
    relative: String,
    /// Whether the row slides in; read when it first renders.
    enter: bool,
}

impl PartialEq for ItemProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.event, &other.event) && self.relative == other.relative
    }
}

/// One row; unchanged rows are skipped when a frame brings new ones.
#[function_component]
fn FeedItem(props: &ItemProps) -> Html {
    let enter = *use_state(|| props.enter);
    let event = &*props.event;
    let (class, icon) = match event.kind {
        // Glyphs every platform font has; the colour comes from the stylesheet.
        EventKind::BookCreated => ("book", "B"),
        EventKind::CoverCreated => ("cover", "C"),
        EventKind::JobOrderCreated => ("job-order", "J"),
        EventKind::PrintExportStarted => ("export-started", "▶"),
        EventKind::PrintExportCompleted => ("export-completed", "✓"),
        EventKind::PrintExportFailed => ("export-failed", "!"),
        EventKind::Other(_) => ("other", "•"),
    };
    let time = event.at.map(local_time).unwrap_or_default();
    html! {
        <li class={classes!("item", class, enter.then_some("enter"))}>
            <span class="icon" aria-hidden="true">{icon}</span>
            <span class="what">{describe(event)}</span>
            <time title={time}>{props.relative.clone()}</time>
        </li>
    }
}

/// The time of day in the user's locale and time zone.
fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let date = js_sys::Date::new(&(at.timestamp_millis() as f64).into());
    date.to_locale_time_string("default").into()
}

/// One line in words for an event.
fn describe(event: &Event) -> String {
    let id = event.int("id").map(|id| format!(" #{id}")).unwrap_or_default();
    match &event.kind {
        EventKind::BookCreated => {
            format!("New book{id}: {}", event.str("title").unwrap_or("untitled"))
        }
        EventKind::CoverCreated => format!(
            "New cover{id} ({} {})",
            event.str("format").unwrap_or("?"),
            event.str("finish").unwrap_or("")
        ),
        EventKind::JobOrderCreated => format!(
            "Job order{id}: {} × {}",
            event.str("customer").unwrap_or("unknown customer"),
            event.int("quantity").unwrap_or(0)
        ),
        EventKind::PrintExportStarted => format!("Print export{id} started"),
        EventKind::PrintExportCompleted => format!("Print export{id} completed"),
        EventKind::PrintExportFailed => {
            format!("Print export{id} failed: {}", event.str("reason").unwrap_or("no reason given"))
        }
        EventKind::Other(kind) => format!("{kind}{id}"),
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
        assert_eq!(describe(&order), "Job order #7: Acme × 40");
        let failed = Event::new(EventKind::PrintExportFailed, json!({"id": 3}));
        assert_eq!(describe(&failed), "Print export #3 failed: no reason given");
        let other = Event::new(EventKind::Other("invoice_paid".into()), json!({}));
        assert_eq!(describe(&other), "invoice_paid");
    }
}
