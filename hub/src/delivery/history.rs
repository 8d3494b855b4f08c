//! The latest events of this epoch in memory (`--history`), so catching up after a reconnect —
//! ten thousand clients at once after a restart — costs no database read. The broadcaster feeds
//! it in seq order, each event's JSON encoded once and shared with the fan-out; a start loads
//! the newest events from the outbox, so a restarted hub serves the gap its restart opened from
//! memory too. Older gaps, and anything the ring cannot answer exactly, go to the database.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use pressroom_protocol::Event;
use tokio::sync::Notify;

/// Events kept when `--history` is not given: at 10 events/s a quarter of an hour, about
/// 3 MiB of JSON.
pub const DEFAULT_HISTORY: usize = 10_000;

/// The ring and the highest seq known to be committed.
#[derive(Debug)]
pub struct History {
    epoch: String,
    ring: RwLock<Ring>,
    /// The highest seq this hub committed (it may not have been broadcast yet).
    committed: AtomicU64,
    /// Requests waiting for commits in flight ([`History::settled_page_json`]), woken at every
    /// push while there are any.
    waiting: AtomicUsize,
    pushed: Notify,
    /// The broadcaster stopped: nothing committed will reach the ring any more.
    closed: AtomicBool,
}

/// What the ring can do for a request.
enum Lookup {
    Page(Page),
    /// Not before the broadcaster recorded commits still in flight.
    Wait,
    Database,
}

/// Held by the broadcaster: when it ends (a shutdown, a panic), the history is closed, so no
/// request waits for it.
pub struct Feeder(Arc<History>);

impl Drop for Feeder {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.pushed.notify_waiters();
    }
}

#[derive(Debug)]
struct Ring {
    capacity: usize,
    /// The seq just before the first event held: the ring holds `base + 1 ..= base + len`.
    base: u64,
    events: VecDeque<Arc<str>>,
}

impl Ring {
    fn last(&self) -> u64 {
        self.base + self.events.len() as u64
    }
}

/// A page of `/api/events` answered from memory.
#[derive(Debug, Clone, PartialEq)]
struct Page {
    head_seq: u64,
    has_more: bool,
    events: Vec<Arc<str>>,
}

impl History {
    /// A ring of `capacity` events for `epoch` whose last committed seq is `head`, holding
    /// `loaded` (the newest events, in seq order, ending at `head`) — anything else is dropped
    /// and the ring starts empty at `head`.
    pub fn new(epoch: &str, capacity: usize, head: u64, loaded: &[Event]) -> Self {
        let contiguous = loaded.last().and_then(|e| e.seq) == Some(head)
            && loaded.windows(2).all(|w| w[0].seq.map(|s| s + 1) == w[1].seq);
        let keep = if contiguous { loaded.len().min(capacity) } else { 0 };
        let events: VecDeque<Arc<str>> =
            loaded[loaded.len() - keep..].iter().map(|event| encode(event).into()).collect();
        History {
            epoch: epoch.to_owned(),
            ring: RwLock::new(Ring { capacity, base: head - events.len() as u64, events }),
            committed: AtomicU64::new(head),
            waiting: AtomicUsize::new(0),
            pushed: Notify::new(),
            closed: AtomicBool::new(false),
        }
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// How many events the ring holds at most.
    pub fn capacity(&self) -> usize {
        self.read().capacity
    }

    /// A commit of this hub reached `seq`.
    pub fn committed(&self, seq: u64) {
        self.committed.fetch_max(seq, Ordering::Relaxed);
    }

    /// The newest seq this hub knows of: committed here or broadcast.
    pub fn head(&self) -> u64 {
        self.committed.load(Ordering::Relaxed).max(self.read().last())
    }

    /// The broadcaster publishes `seq` (in order, each once), encoded as `json`.
    pub fn push(&self, seq: u64, json: Arc<str>) {
        let mut ring = self.ring.write().expect("history lock");
        if ring.capacity == 0 {
            ring.base = ring.base.max(seq);
            drop(ring);
            return self.committed(seq);
        }
        match seq.cmp(&(ring.last() + 1)) {
            std::cmp::Ordering::Less => return, // already held
            std::cmp::Ordering::Greater => {
                // Not contiguous (never expected): start afresh rather than serve a hole.
                ring.events.clear();
                ring.base = seq - 1;
            }
            std::cmp::Ordering::Equal => {}
        }
        if ring.events.len() == ring.capacity {
            ring.events.pop_front();
            ring.base += 1;
        }
        ring.events.push_back(json);
        drop(ring);
        self.committed(seq);
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.pushed.notify_waiters();
        }
    }

    /// The broadcaster's hold on the history; see [`Feeder`].
    pub fn feeder(self: &Arc<Self>) -> Feeder {
        Feeder(self.clone())
    }

    /// The page after `after` if the ring holds everything up to `settled` (this hub's commits
    /// when the request came), decided under one lock.
    fn lookup(&self, after: u64, limit: usize, settled: u64) -> Lookup {
        let ring = self.read();
        let last = ring.last();
        if ring.capacity == 0 || after < ring.base {
            return Lookup::Database;
        }
        if last < settled {
            return if self.closed.load(Ordering::Acquire) { Lookup::Database } else { Lookup::Wait };
        }
        if after > last {
            return Lookup::Database;
        }
        let start = (after - ring.base) as usize;
        let end = (start + limit).min(ring.events.len());
        Lookup::Page(Page {
            head_seq: last,
            has_more: end < ring.events.len(),
            events: ring.events.range(start..end).cloned().collect(),
        })
    }

    /// `page` as the `/api/events` body, `{"epoch","head_seq","has_more","events"}`.
    fn json(&self, page: Page) -> Bytes {
        let size: usize = page.events.iter().map(|e| e.len() + 1).sum();
        let mut body = String::with_capacity(size + self.epoch.len() + 64);
        body.push_str(r#"{"epoch":"#);
        body.push_str(&serde_json::to_string(&self.epoch).expect("strings serialise"));
        body.push_str(&format!(r#","head_seq":{},"has_more":{},"events":["#, page.head_seq, page.has_more));
        for (n, event) in page.events.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str(event);
        }
        body.push_str("]}");
        Bytes::from(body)
    }

    /// Events after `after`, at most `limit`, as the `/api/events` body, if memory can answer
    /// exactly (`None`: ask the database). A request the ring could answer but for this hub's
    /// commits not yet broadcast waits up to `patience` for the broadcaster rather than reading the
    /// database: after a restart, thousands of backfills at once meet commits in flight. It waits
    /// for the commits made before it came (what read-your-writes needs), not for later ones, so a
    /// steady stream of writes cannot keep it waiting.
    pub async fn settled_page_json(&self, after: u64, limit: usize, patience: Duration) -> Option<Bytes> {
        let settled = self.committed.load(Ordering::Acquire);
        let patience = tokio::time::sleep(patience);
        let mut patience = std::pin::pin!(patience);
        let _waiting = Waiting::count(&self.waiting);
        loop {
            // Created before looking: a push in between wakes it.
            let pushed = self.pushed.notified();
            match self.lookup(after, limit, settled) {
                Lookup::Page(page) => return Some(self.json(page)),
                Lookup::Database => return None,
                Lookup::Wait => {}
            }
            tokio::select! {
                () = pushed => {}
                () = &mut patience => return None,
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        self.ring.read().expect("history lock")
    }
}

/// One request counted in [`History::waiting`] while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::AcqRel);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An event's JSON, as broadcast and as served.
pub fn encode(event: &Event) -> String {
    serde_json::to_string(event).expect("events serialise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::{EventKind, EventsPage};
    use serde_json::json;

    fn event(seq: u64) -> Event {
        let mut event = Event::new(EventKind::BookCreated, json!({"id": seq}));
        event.seq = Some(seq);
        event.epoch = Some("e".into());
        event
    }

    /// The page memory answers right now, as a request that would not wait.
    fn answered(history: &History, after: u64, limit: usize) -> Option<Page> {
        match history.lookup(after, limit, history.committed.load(Ordering::Acquire)) {
            Lookup::Page(page) => Some(page),
            Lookup::Wait | Lookup::Database => None,
        }
    }

    fn page_json(history: &History, after: u64, limit: usize) -> Option<Bytes> {
        answered(history, after, limit).map(|page| history.json(page))
    }

    fn seqs(page: &Page) -> Vec<u64> {
        page.events.iter().map(|e| serde_json::from_str::<Event>(e).unwrap().seq.unwrap()).collect()
    }

    fn push(history: &History, seq: u64) {
        history.push(seq, encode(&event(seq)).into());
    }

    #[test]
    fn serves_what_it_holds_and_sends_older_gaps_to_the_database() {
        let loaded: Vec<Event> = (1..=5).map(event).collect();
        let history = History::new("e", 3, 5, &loaded);
        assert_eq!(answered(&history, 1, 100), None, "seq 2 was not kept");
        let page = answered(&history, 2, 100).unwrap();
        assert_eq!((seqs(&page), page.head_seq, page.has_more), (vec![3, 4, 5], 5, false));
        let page = answered(&history, 2, 2).unwrap();
        assert_eq!((seqs(&page), page.has_more), (vec![3, 4], true));
        assert_eq!(answered(&history, 5, 100).unwrap().events.len(), 0, "caught up");
        assert_eq!(answered(&history, 6, 100), None, "ahead of this hub: the database decides");
        push(&history, 6);
        assert_eq!(seqs(&answered(&history, 3, 100).unwrap()), [4, 5, 6], "the oldest made room");
        assert_eq!(answered(&history, 2, 100), None);
    }

    #[test]
    fn a_commit_not_yet_broadcast_sends_the_request_to_the_database() {
        let history = History::new("e", 10, 0, &[]);
        assert_eq!(answered(&history, 0, 10).unwrap().events.len(), 0);
        history.committed(1);
        assert_eq!(answered(&history, 0, 10), None);
        assert_eq!(history.head(), 1);
        push(&history, 1);
        assert_eq!(seqs(&answered(&history, 0, 10).unwrap()), [1]);
    }

    /// A backfill from seq 0, patient for a minute, on a task of its own; it looks at the ring
    /// once the test yields.
    fn waiter(history: &Arc<History>) -> tokio::task::JoinHandle<Option<Bytes>> {
        let history = history.clone();
        tokio::spawn(async move { history.settled_page_json(0, 10, Duration::from_secs(60)).await })
    }

    #[tokio::test]
    async fn a_request_waits_for_a_commit_in_flight_rather_than_read_the_database() {
        let history = Arc::new(History::new("e", 10, 0, &[]));
        history.committed(1);
        let waiting = waiter(&history);
        // The waiter looks first: seq 1 is committed but not broadcast, so it waits.
        tokio::task::yield_now().await;
        push(&history, 1);
        let page: EventsPage = serde_json::from_slice(&waiting.await.unwrap().unwrap()).unwrap();
        assert_eq!((page.head_seq, page.events.len()), (1, 1));

        history.committed(2);
        let gave_up = history.settled_page_json(0, 10, Duration::from_millis(20)).await;
        assert_eq!(gave_up, None, "the broadcaster is late: the database answers");
        push(&history, 2);
        assert!(history.settled_page_json(0, 10, Duration::ZERO).await.is_some());
    }

    #[tokio::test]
    async fn a_waiting_request_is_answered_once_its_own_commits_are_in_even_as_more_arrive() {
        let history = Arc::new(History::new("e", 10, 0, &[]));
        history.committed(1);
        let waiting = waiter(&history);
        tokio::task::yield_now().await;
        // Another write commits before the first is broadcast: the ring never catches up with
        // `committed` while writes stream, but the request only needs what was committed before it.
        history.committed(2);
        push(&history, 1);
        let page: EventsPage = serde_json::from_slice(&waiting.await.unwrap().unwrap()).unwrap();
        assert_eq!((page.head_seq, page.events.len()), (1, 1));
    }

    #[tokio::test]
    async fn a_stopped_broadcaster_sends_waiting_requests_to_the_database() {
        let history = Arc::new(History::new("e", 10, 0, &[]));
        let feeder = history.feeder();
        history.committed(1);
        let waiting = waiter(&history);
        tokio::task::yield_now().await;
        let asked = std::time::Instant::now();
        drop(feeder);
        assert_eq!(waiting.await.unwrap(), None);
        assert!(asked.elapsed() < Duration::from_secs(30), "answered at once, not after its patience");
        assert_eq!(history.settled_page_json(0, 10, Duration::from_secs(60)).await, None, "and later ones");
    }

    #[tokio::test]
    async fn gaps_the_ring_never_holds_do_not_wait() {
        let loaded: Vec<Event> = (1..=5).map(event).collect();
        let history = History::new("e", 3, 5, &loaded);
        history.committed(6);
        let asked = std::time::Instant::now();
        assert_eq!(
            history.settled_page_json(1, 10, Duration::from_secs(60)).await,
            None,
            "older than the ring"
        );
        let no_ring = History::new("e", 0, 5, &[]);
        no_ring.committed(6);
        assert_eq!(no_ring.settled_page_json(5, 10, Duration::from_secs(60)).await, None, "no ring");
        assert!(asked.elapsed() < Duration::from_secs(30), "answered at once, not after its patience");
    }

    #[test]
    fn loaded_events_that_do_not_end_at_the_head_are_not_trusted() {
        let loaded: Vec<Event> = [1, 2, 4].into_iter().map(event).collect();
        let history = History::new("e", 10, 4, &loaded);
        assert_eq!(answered(&history, 0, 10), None);
        assert_eq!(answered(&history, 4, 10).unwrap().events.len(), 0);
        let history = History::new("e", 10, 7, &(1..=5).map(event).collect::<Vec<_>>());
        assert_eq!(answered(&history, 5, 10), None);
    }

    #[test]
    fn no_history_means_every_backfill_reads_the_database() {
        let history = History::new("e", 0, 2, &[event(1), event(2)]);
        assert_eq!(answered(&history, 0, 10), None);
        push(&history, 3);
        assert_eq!(answered(&history, 0, 10), None);
        assert_eq!(history.head(), 3);
    }

    #[test]
    fn the_body_is_an_events_page() {
        let history = History::new("e\"1", 10, 2, &[event(1), event(2)]);
        let page: EventsPage = serde_json::from_slice(&page_json(&history, 0, 10).unwrap()).unwrap();
        assert_eq!(page.epoch, "e\"1");
        assert_eq!((page.head_seq, page.has_more), (2, false));
        assert_eq!(page.events, [event(1), event(2)]);
        let empty: EventsPage = serde_json::from_slice(&page_json(&history, 2, 10).unwrap()).unwrap();
        assert!(empty.events.is_empty());
    }
}
