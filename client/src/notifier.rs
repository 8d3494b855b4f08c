//! Which native notifications to raise, sans IO: new job orders and failed exports, each
//! switchable, coalesced to at most one per kind per 5 s ("12 new job orders", not 12 toasts),
//! and one summary of what arrived while the app was away once it has caught up.

use std::time::{Duration, Instant};

use pressroom_protocol::{Event, EventKind, Payload};

/// At most one notification per kind in this time.
pub const MIN_GAP: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    pub job_orders: bool,
    pub failed_exports: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs { job_orders: true, failed_exports: true }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    JobOrders,
    FailedExports,
    /// What arrived while the app was offline.
    Summary,
}

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub topic: Topic,
    pub title: String,
    pub body: String,
}

/// What the notifier is told.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// An event was applied; `live` is false while catching up after being away.
    Event { event: &'a Event, live: bool },
    /// The connection caught up after being away: one summary of what arrived meanwhile.
    CaughtUp,
    /// The clock reached [`Notifier::deadline`]: what waited for its lane's gap goes out.
    Timeout,
}

#[derive(Debug, Default)]
struct Lane {
    last_sent: Option<Instant>,
    waiting: Vec<Event>,
    while_away: u64,
}

#[derive(Debug, Default)]
pub struct Notifier {
    prefs: Prefs,
    job_orders: Lane,
    failed_exports: Lane,
}

impl Notifier {
    pub fn new(prefs: Prefs) -> Self {
        Notifier { prefs, ..Notifier::default() }
    }

    fn lane(&mut self, kind: &EventKind) -> Option<(Topic, &mut Lane)> {
        match kind {
            EventKind::JobOrderCreated if self.prefs.job_orders => {
                Some((Topic::JobOrders, &mut self.job_orders))
            }
            EventKind::PrintExportFailed if self.prefs.failed_exports => {
                Some((Topic::FailedExports, &mut self.failed_exports))
            }
            _ => None,
        }
    }

    /// The notices to show now.
    pub fn handle(&mut self, input: Input<'_>, now: Instant) -> Vec<Notice> {
        match input {
            Input::Event { event, live } => self.event(event, live, now),
            Input::CaughtUp => self.caught_up(now),
            Input::Timeout => self.timeout(now),
        }
    }

    fn event(&mut self, event: &Event, live: bool, now: Instant) -> Vec<Notice> {
        let Some((topic, lane)) = self.lane(&event.kind) else { return Vec::new() };
        if !live {
            lane.while_away += 1;
            return Vec::new();
        }
        lane.waiting.push(event.clone());
        if lane.last_sent.is_none_or(|last| now >= last + MIN_GAP) {
            return Self::flush(topic, lane, now).into_iter().collect();
        }
        Vec::new()
    }

    fn timeout(&mut self, now: Instant) -> Vec<Notice> {
        let mut out = Vec::new();
        for (topic, lane) in
            [(Topic::JobOrders, &mut self.job_orders), (Topic::FailedExports, &mut self.failed_exports)]
        {
            if lane.last_sent.is_none_or(|last| now >= last + MIN_GAP) {
                out.extend(Self::flush(topic, lane, now));
            }
        }
        out
    }

    /// When something waiting may be sent: call back with [`Input::Timeout`] then.
    pub fn deadline(&self) -> Option<Instant> {
        [&self.job_orders, &self.failed_exports]
            .into_iter()
            .filter(|lane| !lane.waiting.is_empty())
            .filter_map(|lane| lane.last_sent.map(|last| last + MIN_GAP))
            .min()
    }

    fn caught_up(&mut self, now: Instant) -> Vec<Notice> {
        let (orders, failed) = (self.job_orders.while_away, self.failed_exports.while_away);
        self.job_orders.while_away = 0;
        self.failed_exports.while_away = 0;
        let parts: Vec<String> =
            [(orders, "new job order", "new job orders"), (failed, "failed export", "failed exports")]
                .into_iter()
                .filter(|(n, ..)| *n > 0)
                .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
                .collect();
        if parts.is_empty() {
            return Vec::new();
        }
        // The summary counts as this gap's notification for both kinds.
        for lane in [&mut self.job_orders, &mut self.failed_exports] {
            lane.last_sent = Some(now);
        }
        vec![Notice {
            topic: Topic::Summary,
            title: "While Pressroom was away".to_owned(),
            body: parts.join(" · "),
        }]
    }

    fn flush(topic: Topic, lane: &mut Lane, now: Instant) -> Option<Notice> {
        let latest = lane.waiting.last()?.clone();
        let count = lane.waiting.len();
        lane.waiting.clear();
        lane.last_sent = Some(now);
        let id = latest.record_id().unwrap_or_default();
        Some(match (topic, latest.payload()) {
            (Topic::JobOrders, Some(Payload::JobOrderCreated(order))) => {
                let order = order.line();
                if count == 1 {
                    Notice {
                        topic,
                        title: "New job order".to_owned(),
                        body: format!("{id} {order}").trim().to_owned(),
                    }
                } else {
                    Notice {
                        topic,
                        title: format!("{count} new job orders"),
                        body: format!("Latest: {order}"),
                    }
                }
            }
            (_, Some(Payload::PrintExportFailed(failed))) => {
                let reason = failed.why();
                if count == 1 {
                    Notice { topic, title: "Print export failed".to_owned(), body: format!("{id}: {reason}") }
                } else {
                    Notice {
                        topic,
                        title: format!("{count} print exports failed"),
                        body: format!("Latest: {reason}"),
                    }
                }
            }
            _ => return None, // a lane holds only its own kind
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(id: i64) -> Event {
        Event::new(EventKind::JobOrderCreated, json!({"id": id, "customer": "Acme", "quantity": 40}))
    }

    fn failed(id: i64) -> Event {
        Event::new(EventKind::PrintExportFailed, json!({"id": id, "reason": "bleed too small"}))
    }

    #[test]
    fn the_first_goes_out_at_once_and_the_rest_of_five_seconds_in_one() {
        let start = Instant::now();
        let mut notifier = Notifier::new(Prefs::default());
        let first = notifier.handle(Input::Event { event: &order(1), live: true }, start);
        assert_eq!(
            first,
            [Notice { topic: Topic::JobOrders, title: "New job order".into(), body: "#1 Acme × 40".into() }]
        );
        for n in 2..=13 {
            assert!(notifier
                .handle(
                    Input::Event { event: &order(n), live: true },
                    start + Duration::from_millis(100 * n as u64)
                )
                .is_empty());
        }
        assert_eq!(notifier.deadline(), Some(start + MIN_GAP));
        assert!(notifier.handle(Input::Timeout, start + MIN_GAP - Duration::from_millis(1)).is_empty());
        let batch = notifier.handle(Input::Timeout, start + MIN_GAP);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].title, "12 new job orders");
        assert_eq!(notifier.deadline(), None);
    }

    #[test]
    fn kinds_have_their_own_lanes_and_switches() {
        let now = Instant::now();
        let mut notifier = Notifier::new(Prefs { job_orders: false, failed_exports: true });
        assert!(
            notifier.handle(Input::Event { event: &order(1), live: true }, now).is_empty(),
            "switched off"
        );
        let notice = notifier.handle(Input::Event { event: &failed(3), live: true }, now);
        assert_eq!(notice[0].title, "Print export failed");
        assert_eq!(notice[0].body, "#3: bleed too small");
        let other = Event::new(EventKind::BookCreated, json!({}));
        assert!(
            notifier.handle(Input::Event { event: &other, live: true }, now).is_empty(),
            "only orders and failures notify"
        );
    }

    #[test]
    fn what_arrived_while_away_is_one_summary_after_catching_up() {
        let now = Instant::now();
        let mut notifier = Notifier::new(Prefs::default());
        for n in 0..7 {
            assert!(notifier.handle(Input::Event { event: &order(n), live: false }, now).is_empty());
        }
        notifier.handle(Input::Event { event: &failed(1), live: false }, now);
        let summary = notifier.handle(Input::CaughtUp, now);
        assert_eq!(
            summary,
            [Notice {
                topic: Topic::Summary,
                title: "While Pressroom was away".into(),
                body: "7 new job orders · 1 failed export".into()
            }]
        );
        assert!(notifier.handle(Input::CaughtUp, now).is_empty(), "once");
        assert!(
            notifier
                .handle(Input::Event { event: &order(9), live: true }, now + Duration::from_secs(1))
                .is_empty(),
            "the summary used the gap"
        );
    }
}
