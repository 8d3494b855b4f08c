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

/// Minutes in the sparkline.
const MINUTES: usize = 30;

/// Events per minute over the last half hour (from the feed), with the count for the latest
/// minute of that window.
pub fn per_minute(activity: &[Rc<Event>], now_ms: f64) -> Vec<u64> {
    let mut counts = vec![0; MINUTES];
    for event in activity {
        let Some(at) = event.at else { continue };
        let minutes_ago = ((now_ms - millis(at)) / 60_000.0).floor();
        if (0.0..MINUTES as f64).contains(&minutes_ago) {
            counts[MINUTES - 1 - minutes_ago as usize] += 1;
        }
    }
    counts
}

/// What the system is doing: events per minute, exports running, time since the last event.
#[function_component]
pub fn SystemActivity(props: &SystemProps) -> Html {
    let now = use_now(1000);
    let counts = per_minute(&props.activity, now);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let points: Vec<String> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!("{:.1},{:.1}", i as f64 * 120.0 / (MINUTES - 1) as f64, 34.0 - 30.0 * *c as f64 / max)
        })
        .collect();
    let last = props.activity.first().and_then(|e| e.at).map(|at| ago(now, millis(at)));
    html! {
        <section class="panel system" aria-label="System activity">
            <h2>{"System activity"}</h2>
            <div class="stats">
                <div class="stat">
                    <span class="label">{"Events / min"}</span>
                    <span class="value" data-testid="events-per-minute">{counts.last().copied().unwrap_or(0)}</span>
                    <svg viewBox="0 0 120 36" class="sparkline" aria-hidden="true">
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

    #[test]
    fn events_fall_in_their_minute() {
        let now = 1_800_000_000_000.0;
        let at = |seconds_ago: i64| {
            let mut e = Event::new(EventKind::BookCreated, json!({}));
            e.at = chrono::DateTime::from_timestamp_millis(now as i64 - seconds_ago * 1000);
            Rc::new(e)
        };
        let counts = per_minute(&[at(5), at(30), at(90), at(3600)], now);
        assert_eq!(counts[MINUTES - 1], 2);
        assert_eq!(counts[MINUTES - 2], 1);
        assert_eq!(counts.iter().sum::<u64>(), 3, "an hour ago is outside the window");
    }
}
