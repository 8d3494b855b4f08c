//! Applying events in seq order exactly once: early events wait for their predecessors, replays
//! are dropped (by [`InOrder`], the rule the hub delivers by too), a gap asks for a backfill, and
//! a server that never fills its gaps cannot make it hold more than [`MAX_HELD`] events. The last
//! applied seq is kept here only: the dashboard applies what this releases, and nothing else.

use pressroom_protocol::in_order::InOrder;
use pressroom_protocol::Event;

/// Events held at most while they wait for a baseline or a gap to fill. The hub's backfill pages
/// hold 1,000, so a healthy server stays far below; past it the held events are dropped and the
/// caller resyncs from a snapshot, which covers them.
pub const MAX_HELD: usize = 5_000;

/// What to do with the events offered so far.
#[derive(Debug, Default, PartialEq)]
pub struct Ready {
    /// To apply, in this order.
    pub events: Vec<Event>,
    /// Events are held back behind a gap: fetch the events after this seq.
    pub gap_after: Option<u64>,
    /// An event came from another epoch: the baseline means nothing now; fetch a snapshot.
    pub epoch_changed: bool,
    /// More than [`MAX_HELD`] events were held: all are dropped with the baseline; fetch a
    /// snapshot.
    pub overflowed: bool,
}

#[derive(Debug, Default)]
pub struct Sequencer {
    epoch: Option<String>,
    /// Is there a baseline (a snapshot or the first backfill)? Until then events are held.
    baseline: bool,
    order: InOrder,
    /// Events without a seq (a stock Rails app) that arrived before the baseline.
    held_unordered: Vec<Event>,
}

impl Sequencer {
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }

    /// The last applied seq; `None` until a baseline is set.
    pub fn last(&self) -> Option<u64> {
        self.baseline.then(|| self.order.last())
    }

    pub fn has_baseline(&self) -> bool {
        self.baseline
    }

    /// Starts from a snapshot at (epoch, seq) and releases what was held past it.
    pub fn set_baseline(&mut self, epoch: Option<String>, seq: Option<u64>) -> Ready {
        if epoch != self.epoch {
            self.order.retain(|e| e.epoch == epoch);
        }
        self.epoch = epoch;
        self.baseline = true;
        self.order.rebase(seq.unwrap_or(0));
        let mut ready = Ready { events: std::mem::take(&mut self.held_unordered), ..Ready::default() };
        self.release(&mut ready);
        ready
    }

    /// Forgets the baseline (after an epoch change) but keeps nothing held from before it.
    pub fn reset(&mut self) {
        *self = Sequencer::default();
    }

    /// Offers one event, live or from a backfill.
    pub fn offer(&mut self, event: Event) -> Ready {
        let mut ready = Ready::default();
        let Some(seq) = event.seq else {
            // No seq: nothing to order by. Apply on arrival once a baseline exists.
            if self.baseline {
                ready.events.push(event);
            } else {
                self.held_unordered.push(event);
                self.check_overflow(&mut ready);
            }
            return ready;
        };
        if self.baseline && self.epoch.is_some() && event.epoch != self.epoch {
            // Our seq means nothing in the new epoch: start over, keeping this event for after
            // the snapshot the caller now fetches.
            self.reset();
            self.order.offer(seq, event);
            ready.epoch_changed = true;
            return ready;
        }
        self.order.offer(seq, event);
        self.release(&mut ready);
        self.check_overflow(&mut ready);
        ready
    }

    fn check_overflow(&mut self, ready: &mut Ready) {
        if self.order.held() + self.held_unordered.len() > MAX_HELD {
            tracing::warn!(held = MAX_HELD, "too many events out of order: dropping them for a snapshot");
            self.reset();
            ready.gap_after = None;
            ready.overflowed = true;
        }
    }

    /// Moves every held event that is next in line into `ready`, and notes a remaining gap.
    fn release(&mut self, ready: &mut Ready) {
        if !self.baseline {
            return;
        }
        self.order.release(&mut ready.events);
        if self.order.held() > 0 {
            ready.gap_after = Some(self.order.last());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::EventKind;
    use serde_json::json;

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::JobOrderCreated, json!({"id": seq}));
        event.seq = Some(seq);
        event.epoch = Some("e1".into());
        event
    }

    fn seqs(ready: &Ready) -> Vec<u64> {
        ready.events.iter().map(|e| e.seq.unwrap()).collect()
    }

    #[test]
    fn events_before_a_baseline_wait_and_those_it_covers_are_dropped() {
        let mut sequencer = Sequencer::default();
        assert_eq!(seqs(&sequencer.offer(event(5))), Vec::<u64>::new());
        assert_eq!(seqs(&sequencer.offer(event(6))), Vec::<u64>::new());
        let ready = sequencer.set_baseline(Some("e1".into()), Some(5));
        assert_eq!(seqs(&ready), [6]);
        assert_eq!(ready.gap_after, None);
    }

    #[test]
    fn early_events_wait_for_the_gap_to_fill_and_duplicates_vanish() {
        let mut sequencer = Sequencer::default();
        sequencer.set_baseline(Some("e1".into()), Some(1));
        assert_eq!(seqs(&sequencer.offer(event(2))), [2]);
        let ready = sequencer.offer(event(4));
        assert_eq!((seqs(&ready), ready.gap_after), (vec![], Some(2)));
        assert_eq!(seqs(&sequencer.offer(event(2))), Vec::<u64>::new(), "a replay is dropped");
        assert_eq!(seqs(&sequencer.offer(event(3))), [3, 4]);
        assert_eq!(sequencer.last(), Some(4));
    }

    #[test]
    fn another_epoch_is_reported() {
        let mut sequencer = Sequencer::default();
        sequencer.set_baseline(Some("e1".into()), Some(3));
        let mut other = event(1);
        other.epoch = Some("e2".into());
        assert!(sequencer.offer(other.clone()).epoch_changed);
        assert!(!sequencer.has_baseline());
        let ready = sequencer.set_baseline(Some("e2".into()), Some(0));
        assert_eq!(ready.events, [other], "the event from the new epoch applies after its snapshot");
    }

    #[test]
    fn past_the_cap_the_held_events_go_and_a_snapshot_is_asked_for() {
        let mut sequencer = Sequencer::default();
        sequencer.set_baseline(Some("e1".into()), Some(1));
        // Seq 2 never comes: everything after it waits.
        for seq in 3..3 + MAX_HELD as u64 {
            let ready = sequencer.offer(event(seq));
            assert!(!ready.overflowed && ready.events.is_empty());
        }
        let ready = sequencer.offer(event(3 + MAX_HELD as u64));
        assert!(ready.overflowed, "one more than the cap");
        assert_eq!(ready.gap_after, None, "no backfill: the snapshot covers the gap");
        assert!(!sequencer.has_baseline());
        // After the snapshot, only what arrives from then on is held or applied.
        let ready = sequencer.set_baseline(Some("e1".into()), Some(10_000));
        assert!(ready.events.is_empty());
        assert_eq!(seqs(&sequencer.offer(event(10_001))), [10_001]);
    }

    #[test]
    fn events_without_seq_before_a_baseline_are_capped_too() {
        let mut sequencer = Sequencer::default();
        let plain = |id: usize| Event::new(EventKind::BookCreated, json!({"id": id}));
        for id in 0..MAX_HELD {
            assert!(!sequencer.offer(plain(id)).overflowed);
        }
        assert!(sequencer.offer(plain(MAX_HELD)).overflowed);
        assert!(sequencer.set_baseline(None, None).events.is_empty(), "nothing is kept past the cap");
    }

    #[test]
    fn events_without_seq_apply_in_arrival_order_once_a_baseline_exists() {
        let mut sequencer = Sequencer::default();
        let plain = |id: i64| Event::new(EventKind::BookCreated, json!({"id": id}));
        assert!(sequencer.offer(plain(1)).events.is_empty());
        let ready = sequencer.set_baseline(None, None);
        assert_eq!(ready.events, [plain(1)]);
        assert_eq!(sequencer.offer(plain(2)).events, [plain(2)]);
    }
}
