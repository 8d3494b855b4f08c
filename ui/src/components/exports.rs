use std::rc::Rc;

use chrono::{DateTime, Utc};
use pressroom_protocol::{Event, ExportStatus, ExportStatusCounts, Payload};
use yew::prelude::*;

use crate::store::Activity;

use crate::hooks::{ago, millis, use_now};

#[derive(Properties, PartialEq)]
pub struct ExportsProps {
    pub counts: ExportStatusCounts,
    /// The feed, newest first: the exports shown are the ones it mentions.
    pub activity: Activity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportItem {
    pub id: i64,
    pub job_order_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: ExportStatus,
    /// Why it failed, when it did.
    pub reason: Option<String>,
}

/// The exports the feed mentions, by latest status: (in progress, completed, failed), newest first.
pub fn exports(activity: &[Rc<Event>]) -> (Vec<ExportItem>, Vec<ExportItem>, Vec<ExportItem>) {
    let mut items: Vec<ExportItem> = Vec::new();
    for event in activity.iter().rev() {
        let (Some(status), Some(payload)) = (event.kind.export_status(), event.payload()) else { continue };
        let Some(id) = payload.id() else { continue };
        let index = match items.iter().position(|item| item.id == id) {
            Some(index) => index,
            None => {
                items.push(ExportItem {
                    id,
                    job_order_id: payload.job_order_id(),
                    started_at: None,
                    finished_at: None,
                    status,
                    reason: None,
                });
                items.len() - 1
            }
        };
        let item = &mut items[index];
        item.status = status;
        match status {
            ExportStatus::Started => item.started_at = event.at,
            ExportStatus::Completed => item.finished_at = event.at,
            ExportStatus::Failed => {
                if let Payload::PrintExportFailed(failed) = &payload {
                    item.reason = Some(failed.why().to_owned());
                }
                item.finished_at = event.at;
            }
        }
    }
    items.reverse();
    let with = |status| items.iter().filter(|i| i.status == status).cloned().collect();
    (with(ExportStatus::Started), with(ExportStatus::Completed), with(ExportStatus::Failed))
}

/// Exports shown per column; the stylesheet reserves room for this many, so a column that fills
/// up moves nothing around it.
const EXPORT_ROWS: usize = 6;

/// What an empty column says: `none` when the count is zero too; otherwise its exports exist but
/// are older than the recent activity the lists are built from, and "none" would contradict the
/// count beside it.
fn empty_note(count: u64, none: &'static str) -> &'static str {
    if count == 0 {
        none
    } else {
        "None in recent activity"
    }
}

/// Print exports: running (with how long for, in minutes; no spinner, which would repaint at
/// 60 Hz), recently completed, failed with the reason.
/// How long an export has run, at a step of a minute.
fn running_for(ms: f64) -> String {
    match (ms.max(0.0) / 60_000.0) as u64 {
        0 => "< 1 min".to_owned(),
        minutes => format!("{minutes} min"),
    }
}

#[function_component]
pub fn Exports(props: &ExportsProps) -> Html {
    let (running, completed, failed) = exports(&props.activity);
    // Exports take minutes: the time running reads right in whole minutes, and "… ago" in 10-s
    // steps, so nothing here repaints more than every 10 s while nothing arrives.
    let now = use_now(10_000);
    let c = props.counts;
    let elapsed =
        |item: &ExportItem| item.started_at.map(|at| running_for(now - millis(at))).unwrap_or_default();
    let when = |item: &ExportItem| item.finished_at.map(|at| ago(now, millis(at))).unwrap_or_default();
    let order = |item: &ExportItem| item.job_order_id.map(|j| format!("job order #{j}")).unwrap_or_default();
    html! {
        <section class="panel exports" aria-label="Print exports">
            <div class="panel-head">
                <h2>{"Print exports"}</h2>
                <div class="chips">
                    <span class="chip running" data-testid="exports-started">{format!("{} running", c.started)}</span>
                    <span class="chip completed" data-testid="exports-completed">{format!("{} completed", c.completed)}</span>
                    <span class="chip failed" data-testid="exports-failed">{format!("{} failed", c.failed)}</span>
                </div>
            </div>
            <div class="export-columns">
                { column("In progress", Some("exports-running"), &running,
                    |item| row(item, ("running", "run", "▶"), html! { <small>{order(item)}</small> }, elapsed(item)),
                    empty_note(c.started, "Nothing printing right now")) }
                { column("Recently completed", None, &completed,
                    |item| row(item, ("completed", "tick", "✓"), html! { <small>{order(item)}</small> }, when(item)),
                    empty_note(c.completed, "None yet")) }
                { column("Failed", Some("exports-failed-list"), &failed,
                    |item| row(item, ("failed", "cross", "!"),
                        html! { <small class="reason">{item.reason.clone().unwrap_or_default()}</small> }, when(item)),
                    empty_note(c.failed, "No failures")) }
            </div>
        </section>
    }
}

/// One column of the panel: its newest [`EXPORT_ROWS`] exports, or what its emptiness means.
fn column(
    title: &'static str,
    test_id: Option<&'static str>,
    items: &[ExportItem],
    row: impl Fn(&ExportItem) -> Html,
    empty: &'static str,
) -> Html {
    html! {
        <div>
            <h3>{title}</h3>
            <ul data-testid={test_id}>
                { for items.iter().take(EXPORT_ROWS).map(row) }
                if items.is_empty() { <li class="empty">{empty}</li> }
            </ul>
        </div>
    }
}

/// One export: `(status class, mark class, mark)`, its name over `detail`, and a time.
fn row(
    item: &ExportItem,
    (status, mark_class, mark): (&'static str, &'static str, &'static str),
    detail: Html,
    time: String,
) -> Html {
    html! {
        <li key={item.id} class={classes!("export", status)}>
            <span class={mark_class} aria-hidden="true">{mark}</span>
            <span class="what"><span class="name">{format!("Export #{}", item.id)}</span>{detail}</span>
            <time>{time}</time>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use serde_json::json;

    fn event(kind: EventKind, data: serde_json::Value) -> Rc<Event> {
        Rc::new(Event::new(kind, data))
    }

    #[test]
    fn running_time_reads_in_whole_minutes() {
        assert_eq!(running_for(-500.0), "< 1 min", "a clock a little behind");
        assert_eq!(running_for(59_999.0), "< 1 min");
        assert_eq!(running_for(60_000.0), "1 min");
        assert_eq!(running_for(61.0 * 60_000.0), "61 min");
    }

    #[test]
    fn a_status_change_moves_the_export() {
        // Newest first, as the feed holds them.
        let feed = vec![
            event(EventKind::PrintExportFailed, json!({"id": 2, "job_order_id": 8, "reason": "bleed"})),
            event(EventKind::PrintExportCompleted, json!({"id": 1, "job_order_id": 7})),
            event(EventKind::PrintExportStarted, json!({"id": 3, "job_order_id": 9})),
            event(EventKind::PrintExportStarted, json!({"id": 2, "job_order_id": 8})),
            event(EventKind::PrintExportStarted, json!({"id": 1, "job_order_id": 7})),
            event(EventKind::JobOrderCreated, json!({"id": 1})),
        ];
        let (running, completed, failed) = exports(&feed);
        assert_eq!(running.iter().map(|i| i.id).collect::<Vec<_>>(), [3]);
        assert_eq!(completed.iter().map(|i| i.id).collect::<Vec<_>>(), [1]);
        assert_eq!(
            failed.iter().map(|i| (i.id, i.reason.clone())).collect::<Vec<_>>(),
            [(2, Some("bleed".into()))]
        );
    }

    #[test]
    fn an_empty_column_never_contradicts_its_count() {
        assert_eq!(empty_note(0, "No failures"), "No failures");
        assert_eq!(empty_note(12, "No failures"), "None in recent activity");
    }
}
