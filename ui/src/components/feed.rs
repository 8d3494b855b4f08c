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
            <span class="what">{event.describe()}</span>
            <time title={time}>{props.relative.clone()}</time>
        </li>
    }
}

/// The time of day in the user's locale and time zone.
fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let date = js_sys::Date::new(&(at.timestamp_millis() as f64).into());
    date.to_locale_time_string("default").into()
}
