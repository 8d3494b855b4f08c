//! Seq order, each event once: the one rule by which the hub delivers and the desktop applies.
//! Events arrive live, from a backfill or from an outbox read, early, late or twice; they leave
//! strictly in seq order, and one at or before the last released seq is a duplicate.

use std::collections::BTreeMap;

use crate::Event;

#[derive(Debug, Default)]
pub struct InOrder {
    /// The seq released last.
    last: u64,
    /// Events after a gap, by seq.
    held: BTreeMap<u64, Event>,
}

impl InOrder {
    /// Everything up to `last` has been released (or is covered by a snapshot).
    pub fn new(last: u64) -> Self {
        InOrder { last, held: BTreeMap::new() }
    }

    pub fn last(&self) -> u64 {
        self.last
    }

    /// How many events wait behind a gap.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes the event at `seq`, to be released in its turn; false (and nothing kept) if it is a
    /// duplicate: released already, or held already.
    pub fn offer(&mut self, seq: u64, event: Event) -> bool {
        if seq <= self.last || self.held.contains_key(&seq) {
            return false;
        }
        self.held.insert(seq, event);
        true
    }

    /// Moves every held event that is next in line to `out`, in seq order.
    pub fn release(&mut self, out: &mut Vec<Event>) {
        while let Some(event) = self.held.remove(&(self.last + 1)) {
            self.last += 1;
            out.push(event);
        }
    }

    /// Starts again from `last` (a snapshot's seq): what it covers is dropped, what is held past
    /// it stays to be released.
    pub fn rebase(&mut self, last: u64) {
        self.last = last;
        self.held.retain(|seq, _| *seq > last);
    }

    /// Keeps only the held events `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&Event) -> bool) {
        self.held.retain(|_, event| keep(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::BookCreated, serde_json::json!({}));
        event.seq = Some(seq);
        event
    }

    fn offer(order: &mut InOrder, seq: u64) -> Vec<u64> {
        order.offer(seq, event(seq));
        let mut out = Vec::new();
        order.release(&mut out);
        out.into_iter().map(|e| e.seq.unwrap()).collect()
    }

    #[test]
    fn early_events_wait_and_duplicates_are_refused() {
        let mut order = InOrder::new(4);
        assert_eq!(offer(&mut order, 5), [5]);
        assert_eq!(offer(&mut order, 7), Vec::<u64>::new());
        assert!(!order.offer(7, event(7)), "held already");
        assert!(!order.offer(5, event(5)), "released already");
        assert_eq!(offer(&mut order, 6), [6, 7]);
        assert_eq!((order.last(), order.held()), (7, 0));
    }

    #[test]
    fn a_rebase_drops_what_it_covers_and_releases_the_rest_in_turn() {
        let mut order = InOrder::default();
        for seq in [3, 5, 6] {
            order.offer(seq, event(seq));
        }
        order.rebase(4);
        assert_eq!(order.held(), 2);
        let mut out = Vec::new();
        order.release(&mut out);
        assert_eq!(out, [event(5), event(6)]);
    }
}
