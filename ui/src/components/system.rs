use std::rc::Rc;

use pressroom_protocol::Event;
use yew::prelude::*;

use crate::store::Activity;

use crate::hooks::{ago, millis, use_now};

#[derive(Properties, PartialEq)]
pub struct SystemProps {
    /// Newest first.
    pub activity: Activity,
    pub exports_running: u64,
}

/// Points in the sparkline.
const BUCKETS: usize = 30;
/// The longest span the sparkline shows.
const WINDOW_MS: f64 = 30.0 * 60_000.0;
/// Below this span there is too little to draw.
const MIN_SPAN_MS: f64 = 10_000.0;

/// The event rate from the feed. The feed keeps only the latest events, so the time before its
/// oldest one is unknown, not quiet: the sparkline spans what the feed covers (up to 30 min), and
/// the count per minute is exact when the feed covers a whole minute, else estimated from its span.
#[derive(Debug, PartialEq)]
pub struct EventRate {
    /// Events per bucket of `span_ms / BUCKETS`, oldest first; empty below [`MIN_SPAN_MS`].
    pub buckets: Vec<u64>,
    pub span_ms: f64,
    /// Events in the last 60 s, or the estimate.
    pub per_minute: u64,
    pub estimated: bool,
}

/// `activity` newest first; `complete` when it holds every event there has been.
pub fn event_rate(activity: &[Rc<Event>], now_ms: f64, complete: bool) -> EventRate {
    let ages: Vec<f64> =
        activity.iter().filter_map(|e| e.at).map(|at| (now_ms - millis(at)).max(0.0)).collect();
    let known_ms = match (complete, ages.iter().copied().reduce(f64::max)) {
        (false, Some(oldest)) => oldest,
        _ => f64::INFINITY,
    };
    let span_ms = known_ms.min(WINDOW_MS);
    let mut buckets = Vec::new();
    if span_ms >= MIN_SPAN_MS {
        buckets = vec![0; BUCKETS];
        let width = span_ms / BUCKETS as f64;
        for age in ages.iter().filter(|age| **age < span_ms) {
            buckets[BUCKETS - 1 - (age / width) as usize] += 1;
        }
    }
    let (per_minute, estimated) = if known_ms >= 60_000.0 {
        (ages.iter().filter(|age| **age < 60_000.0).count() as u64, false)
    } else {
        ((ages.len() as f64 * 60_000.0 / known_ms.max(1_000.0)).round() as u64, true)
    };
    EventRate { buckets, span_ms, per_minute, estimated }
}

/// "30 min", "4 min", "45 s".
fn span_words(ms: f64) -> String {
    let seconds = (ms / 1000.0).round() as u64;
    if seconds >= 120 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// What the system is doing: events per minute, exports running, time since the last event.
#[function_component]
pub fn SystemActivity(props: &SystemProps) -> Html {
    // Counts and "… ago" in 10-s steps, in step with the feed's relative times.
    let now = use_now(10_000);
    // The feed holds the whole history only if it reaches back to the epoch's first event.
    let complete = props.activity.last().is_none_or(|oldest| oldest.seq == Some(1));
    let rate = event_rate(&props.activity, now, complete);
    let max = rate.buckets.iter().copied().max().unwrap_or(0).max(1) as f64;
    let points: Vec<String> = rate
        .buckets
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!("{:.1},{:.1}", i as f64 * 120.0 / (BUCKETS - 1) as f64, 34.0 - 30.0 * *c as f64 / max)
        })
        .collect();
    let per_minute =
        if rate.estimated { format!("~{}", rate.per_minute) } else { rate.per_minute.to_string() };
    let spark_title = format!("events over the last {}", span_words(rate.span_ms));
    let last = props.activity.first().and_then(|e| e.at).map(|at| ago(now, millis(at)));
    html! {
        <section class="panel system" aria-label="System activity">
            <h2>{"System activity"}</h2>
            <div class="stats">
                <div class="stat">
                    <span class="label">{"Events / min"}</span>
                    <span class="value" data-testid="events-per-minute">{per_minute}</span>
                    <svg viewBox="0 0 120 36" class="sparkline" aria-hidden="true">
                        <title>{spark_title}</title>
                        <polyline points={points.join(" ")} />
                    </svg>
                </div>
                <div class="stat">
                    <span class="label">{"Exports running"}</span>
                    <span class="value" data-testid="exports-running">{props.exports_running}</span>
                </div>
                <div class="stat">
                    <span class="label">{"Last event"}</span>
                    <span class="value small" data-testid="last-event">{last.unwrap_or_else(|| "—".to_owned())}</span>
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use serde_json::json;

    fn event(now: f64, seconds_ago: i64) -> Rc<Event> {
        let mut e = Event::new(EventKind::BookCreated, json!({}));
        e.at = chrono::DateTime::from_timestamp_millis(now as i64 - seconds_ago * 1000);
        Rc::new(e)
    }

    #[test]
    fn a_complete_feed_spans_the_whole_window() {
        let now = 1_800_000_000_000.0;
        let feed: Vec<_> = [5, 30, 90, 3600].into_iter().map(|s| event(now, s)).collect();
        let rate = event_rate(&feed, now, true);
        assert_eq!(rate.span_ms, WINDOW_MS);
        // Buckets of 60 s: the last holds the two newest, the one before the 90-s-old event.
        assert_eq!(rate.buckets[BUCKETS - 1], 2);
        assert_eq!(rate.buckets[BUCKETS - 2], 1);
        assert_eq!(rate.buckets.iter().sum::<u64>(), 3, "an hour ago is outside the window");
        assert_eq!((rate.per_minute, rate.estimated), (2, false));
    }

    #[test]
    fn a_truncated_feed_spans_only_what_it_covers() {
        let now = 1_800_000_000_000.0;
        // 150 s covered: exact per minute, buckets of 5 s over those 150 s.
        let feed: Vec<_> = [10, 20, 70, 130, 150].into_iter().map(|s| event(now, s)).collect();
        let rate = event_rate(&feed, now, false);
        assert_eq!(rate.span_ms, 150_000.0);
        assert_eq!(rate.buckets.iter().sum::<u64>(), 4, "the oldest marks the edge");
        assert_eq!((rate.per_minute, rate.estimated), (2, false));
        // 30 s covered: estimated from the span.
        let feed: Vec<_> = [0, 10, 20, 30].into_iter().map(|s| event(now, s)).collect();
        let rate = event_rate(&feed, now, false);
        assert_eq!((rate.per_minute, rate.estimated), (8, true));
        // 5 s: too little to draw.
        let feed: Vec<_> = [0, 5].into_iter().map(|s| event(now, s)).collect();
        assert!(event_rate(&feed, now, false).buckets.is_empty());
    }
}
