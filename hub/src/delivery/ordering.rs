//! Delivery order, sans IO: events arrive from local commits, from Redis and from outbox reads,
//! possibly out of order, twice, or not at all; they leave strictly in seq order, each once. An
//! event after a gap is held back ([`InOrder`], the rule the desktop applies by too); a gap open
//! for the wait asks for an outbox read.

use std::time::{Duration, Instant};

use pressroom_protocol::in_order::InOrder;
use pressroom_protocol::Event;

/// How long a gap may stay open before it is filled from the outbox: long enough for a commit's
/// own notice (or Redis) to arrive, short against the delivery target.
pub const GAP_WAIT: Duration = Duration::from_millis(150);
/// The longest wait between outbox reads for a gap they do not close (the tail check still
/// runs every second).
pub const GAP_WAIT_CAP: Duration = Duration::from_secs(5);
/// How far past the last delivered seq an event may be held. Further ahead it is dropped: a
/// genuine one is found in the outbox once its predecessors went out, and no message can make
/// the hub hold an unbounded map.
pub const MAX_AHEAD: u64 = 10_000;

/// What the ordering is told.
#[derive(Debug)]
pub enum Input {
    /// An event, from a commit, Redis or an outbox read.
    Event(Event),
    /// The outbox was read for the open gap, as [`Ordering::deadline`] asked.
    Filled,
}

#[derive(Debug)]
pub struct Ordering {
    /// What was delivered last and what waits behind a gap.
    order: InOrder,
    /// When the outbox is next read for the current gap.
    fill_at: Option<Instant>,
    /// The wait before the next read if that one leaves the gap open; doubles each time.
    wait: Duration,
}

impl Ordering {
    /// Everything up to `delivered` has gone out (or predates this process).
    pub fn new(delivered: u64) -> Self {
        Ordering { order: InOrder::new(delivered), fill_at: None, wait: GAP_WAIT }
    }

    pub fn delivered(&self) -> u64 {
        self.order.last()
    }

    /// Returns what can go out now, in seq order.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Event> {
        match input {
            Input::Event(event) => self.push(event, now),
            Input::Filled => {
                self.filled(now);
                Vec::new()
            }
        }
    }

    fn push(&mut self, event: Event, now: Instant) -> Vec<Event> {
        let Some(seq) = event.seq else { return Vec::new() };
        let delivered = self.order.last();
        if seq > delivered + MAX_AHEAD {
            tracing::warn!(seq, delivered, "dropped an event too far ahead; the outbox has it if it is real");
            return Vec::new();
        }
        if !self.order.offer(seq, event) {
            return Vec::new(); // out already, or held already
        }
        let mut ready = Vec::new();
        self.order.release(&mut ready);
        match (self.order.held() == 0, self.fill_at) {
            (true, _) => {
                self.fill_at = None;
                self.wait = GAP_WAIT;
            }
            (false, Some(_)) if ready.is_empty() => {}
            (false, _) => {
                self.fill_at = Some(now + GAP_WAIT);
                self.wait = GAP_WAIT;
            }
        }
        ready
    }

    /// When the outbox is to be read for the open gap, if there is one; then say
    /// [`Input::Filled`].
    pub fn deadline(&self) -> Option<Instant> {
        self.fill_at
    }

    /// If the gap is still open after a read, the next waits twice as long (up to
    /// [`GAP_WAIT_CAP`]), so a gap nothing closes is not read in a loop.
    fn filled(&mut self, now: Instant) {
        if self.order.held() == 0 {
            return;
        }
        self.wait = (self.wait * 2).min(GAP_WAIT_CAP);
        self.fill_at = Some(now + self.wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use proptest::prelude::*;

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::BookCreated, serde_json::json!({}));
        event.seq = Some(seq);
        event
    }

    fn seqs(events: Vec<Event>) -> Vec<u64> {
        events.into_iter().map(|e| e.seq.unwrap()).collect()
    }

    #[test]
    fn holds_after_a_gap_and_releases_in_order() {
        let t0 = Instant::now();
        let mut ordering = Ordering::new(4);
        assert_eq!(seqs(ordering.handle(Input::Event(event(5)), t0)), [5]);
        assert_eq!(ordering.deadline(), None);
        assert!(ordering.handle(Input::Event(event(7)), t0).is_empty());
        assert!(ordering.handle(Input::Event(event(8)), t0 + GAP_WAIT / 2).is_empty());
        assert_eq!(ordering.deadline(), Some(t0 + GAP_WAIT), "the gap's first sight counts");
        assert!(ordering.handle(Input::Event(event(7)), t0).is_empty(), "a duplicate changes nothing");
        assert_eq!(seqs(ordering.handle(Input::Event(event(6)), t0 + GAP_WAIT)), [6, 7, 8]);
        assert_eq!(ordering.deadline(), None);
        assert!(ordering.handle(Input::Event(event(3)), t0).is_empty(), "old events are ignored");
        assert_eq!(ordering.delivered(), 8);
    }

    #[test]
    fn a_partly_filled_gap_restarts_its_wait() {
        let t0 = Instant::now();
        let mut ordering = Ordering::new(0);
        ordering.handle(Input::Event(event(3)), t0);
        let later = t0 + Duration::from_millis(10);
        assert_eq!(seqs(ordering.handle(Input::Event(event(1)), later)), [1]);
        assert_eq!(ordering.deadline(), Some(later + GAP_WAIT));
    }

    #[test]
    fn a_gap_nothing_closes_is_read_ever_less_often() {
        let t0 = Instant::now();
        let mut ordering = Ordering::new(0);
        ordering.handle(Input::Event(event(2)), t0);
        let mut at = ordering.deadline().unwrap();
        assert_eq!(at, t0 + GAP_WAIT);
        let mut waits = Vec::new();
        for _ in 0..8 {
            ordering.handle(Input::Filled, at);
            let next = ordering.deadline().unwrap();
            waits.push(next - at);
            at = next;
        }
        let ms: Vec<u128> = waits.iter().map(|w| w.as_millis()).collect();
        assert_eq!(ms, [300, 600, 1200, 2400, 4800, 5000, 5000, 5000]);
        assert_eq!(seqs(ordering.handle(Input::Event(event(1)), at)), [1, 2]);
        assert_eq!(ordering.deadline(), None, "closed: the wait resets");
    }

    #[test]
    fn an_event_far_ahead_is_not_held() {
        let t0 = Instant::now();
        let mut ordering = Ordering::new(5);
        assert!(ordering.handle(Input::Event(event(5 + MAX_AHEAD + 1)), t0).is_empty());
        assert_eq!(ordering.deadline(), None, "no gap to fill for it");
        assert!(ordering.handle(Input::Event(event(5 + MAX_AHEAD)), t0).is_empty());
        assert!(ordering.deadline().is_some(), "within the window it is held");
    }

    proptest! {
        /// Any arrival order with duplicates delivers 1..=n exactly once, in order.
        #[test]
        fn any_arrival_order_delivers_each_once_in_order(
            order in Just((1..=40u64).collect::<Vec<_>>()).prop_shuffle(),
            duplicates in proptest::collection::vec(1..=40u64, 0..20),
        ) {
            let mut ordering = Ordering::new(0);
            let mut out = Vec::new();
            for seq in order.into_iter().chain(duplicates) {
                out.extend(seqs(ordering.handle(Input::Event(event(seq)), Instant::now())));
            }
            prop_assert_eq!(out, (1..=40).collect::<Vec<_>>());
            prop_assert_eq!(ordering.deadline(), None);
        }
    }
}
