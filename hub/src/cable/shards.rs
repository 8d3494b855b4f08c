//! Shard writers: a few tasks, one per core, each owning a share of the connections and writing
//! every broadcast and ping to them in one pass. Per delivery that is one lock and one
//! non-blocking write of bytes framed once; no connection's task wakes for it (they only read).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::coop::unconstrained;
use tokio::task::JoinHandle;

use super::link::{Ending, Link};
use crate::delivery::fanout::{Fanout, Outgoing};

/// The shards, and which one the next connection joins.
#[derive(Clone)]
pub struct Shards {
    shards: Arc<[Arc<Shard>]>,
    next: Arc<AtomicUsize>,
}

/// One shard's connections. Changed by connections joining and leaving; read by its writer once
/// per message, under the same lock, so a connection that joined before a message went out
/// gets it.
#[derive(Default)]
struct Shard(Mutex<Roster>);

#[derive(Default)]
struct Roster {
    links: Vec<Arc<Link>>,
    /// Bumped at every change, so the writer copies the roster only when it changed.
    version: u64,
    /// The writer has said goodbye to everyone: a late joiner must say it itself.
    closed: bool,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Roster> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A connection's place in a shard; it leaves when this is dropped.
pub struct Membership {
    shard: Arc<Shard>,
    link: Arc<Link>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut roster = self.shard.lock();
        if let Some(at) = roster.links.iter().position(|link| Arc::ptr_eq(link, &self.link)) {
            roster.links.swap_remove(at);
            roster.version += 1;
        }
    }
}

impl Shards {
    /// `count` shards, each with a writer reading `fanout`; the writers end after the fan-out's
    /// shutdown, having told every connection.
    pub fn spawn(fanout: &Fanout, count: usize) -> (Shards, Vec<JoinHandle<()>>) {
        let shards: Arc<[Arc<Shard>]> = (0..count.max(1)).map(|_| Arc::default()).collect();
        // Each writer reads the ring from now, not from its first poll: a shutdown sent before
        // then still reaches it. Unconstrained by tokio's cooperative budget, which would turn
        // every write after the 128th of a sweep into "not ready" (queued, its connection's task
        // woken); a writer yields between sweeps and every [`SWEEP`] links instead.
        let writers = shards
            .iter()
            .map(|shard| tokio::spawn(unconstrained(write(shard.clone(), fanout.receiver()))))
            .collect();
        (Shards { shards, next: Arc::default() }, writers)
    }

    /// One shard per core the runtime may use.
    pub fn default_count() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// Adds `link` to a shard, taken in turn; `None` once the hub is stopping.
    pub fn join(&self, link: &Arc<Link>) -> Option<Membership> {
        let shard = &self.shards[self.next.fetch_add(1, Ordering::Relaxed) % self.shards.len()];
        let mut roster = shard.lock();
        if roster.closed {
            return None;
        }
        roster.links.push(link.clone());
        roster.version += 1;
        Some(Membership { shard: shard.clone(), link: link.clone() })
    }
}

/// Connections written between two yields of a writer, so a sweep over thousands leaves the
/// core to the connections' readers and the REST API now and then.
const SWEEP: usize = 1024;

/// Writes to every link, yielding every [`SWEEP`] links.
async fn sweep(links: &[Arc<Link>], write: impl Fn(&Link)) {
    for (n, chunk) in links.chunks(SWEEP).enumerate() {
        if n > 0 {
            tokio::task::yield_now().await;
        }
        chunk.iter().for_each(|link| write(link));
    }
}

/// A shard's writer: every message of the fan-out, to every connection of the shard.
async fn write(shard: Arc<Shard>, mut ring: broadcast::Receiver<Outgoing>) {
    let mut links: Vec<Arc<Link>> = Vec::new();
    let mut seen = None;
    loop {
        let message = ring.recv().await;
        let stopping = matches!(message, Ok(Outgoing::Shutdown) | Err(RecvError::Closed));
        {
            let mut roster = shard.lock();
            roster.closed |= stopping;
            if seen != Some(roster.version) {
                links.clone_from(&roster.links);
                seen = Some(roster.version);
            }
        }
        match message {
            Ok(Outgoing::Event(published)) => sweep(&links, |link| link.deliver(&published)).await,
            Ok(Outgoing::Ping(frame)) => sweep(&links, |link| link.send(&frame)).await,
            Ok(Outgoing::Shutdown) | Err(RecvError::Closed) => {
                links.iter().for_each(|link| link.end(Ending::Restart));
                return;
            }
            Err(RecvError::Lagged(missed)) => {
                // The writer itself fell behind the ring (the box is out of CPU): its connections
                // missed messages, so they are cut off to reconnect and catch up.
                tracing::warn!(
                    missed,
                    connections = links.len(),
                    "a shard writer fell behind; disconnecting its connections"
                );
                links.iter().for_each(|link| link.end(Ending::Lagged));
            }
        }
        // Let the other tasks of this core run between sweeps.
        tokio::task::yield_now().await;
    }
}
