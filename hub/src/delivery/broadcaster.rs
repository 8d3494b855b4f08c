//! The only publisher. Committed events reach it from this hub's own commits, from Redis (other
//! hubs' commits) and from outbox reads; it puts them in seq order (holding an event back until
//! its predecessors went out, filling a gap from the outbox) and hands each to the fan-out once.
//! It also sends the ping every connection gets. The database is read only to fill a gap and in
//! a once-a-second tail check that catches a notice lost on the way (a write whose request was
//! dropped after its commit, a Redis outage).

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pressroom_protocol::cable::PING_INTERVAL_SECS;
use pressroom_protocol::Event;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::fanout::Fanout;
use super::history::{self, History};
use super::ordering::{Input, Ordering};
use super::outbox;
use crate::db::Pool;

/// How many outbox rows one read takes.
const BATCH: u32 = 500;
/// How often the outbox tail is checked for events whose notice never came.
const TAIL_CHECK: Duration = Duration::from_secs(1);

/// Where missed events are read from; `reads` counts the reads.
pub struct Source {
    pub pool: Pool,
    pub epoch: String,
    pub reads: Arc<AtomicU64>,
    /// What every published event is recorded in, for catch-up.
    pub history: Arc<History>,
    /// A test hook: cancelled, it makes the broadcaster panic
    /// ([`RunningHub::inject_broadcaster_panic`](crate::RunningHub::inject_broadcaster_panic)).
    pub panic_on: CancellationToken,
}

/// Spawns the broadcaster, publishing everything committed after `last_seq` that arrives on
/// `incoming` or is found in the outbox. It ends only when `shutdown` is cancelled (or every
/// sender of `incoming` is gone); the caller watches the handle for anything else.
pub fn spawn(
    source: Source,
    last_seq: u64,
    fanout: Fanout,
    mut incoming: mpsc::UnboundedReceiver<Event>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _feeder = source.history.feeder();
        let mut ordering = Ordering::new(last_seq);
        let mut failing = false;
        let mut tail = tokio::time::interval(TAIL_CHECK);
        let ping_period = Duration::from_secs(PING_INTERVAL_SECS);
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_period, ping_period);
        loop {
            let fill_at = ordering.deadline();
            let gap = async {
                match fill_at {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return fanout.shutdown(),
                received = incoming.recv() => {
                    let Some(event) = received else { return };
                    publish(&fanout, &source.history, ordering.handle(Input::Event(event), Instant::now()));
                }
                () = gap => {
                    fill(&source, &mut ordering, &fanout, &mut failing).await;
                    ordering.handle(Input::Filled, Instant::now());
                }
                _ = tail.tick() => fill(&source, &mut ordering, &fanout, &mut failing).await,
                _ = ping.tick() => fanout.ping(Utc::now().timestamp()),
                () = source.panic_on.cancelled() => panic!("injected broadcaster panic"),
            }
        }
    })
}

/// Records each event in the history, then hands it to the fan-out: a client that subscribed
/// after an event went out finds it in the history when it catches up.
fn publish(fanout: &Fanout, history: &History, ready: Vec<Event>) {
    for event in &ready {
        let json: Arc<str> = history::encode(event).into();
        if let Some(seq) = event.seq {
            history.push(seq, json.clone());
        }
        fanout.publish_json(json);
    }
}

/// Reads the outbox after the last delivered seq and delivers what it finds.
async fn fill(source: &Source, ordering: &mut Ordering, fanout: &Fanout, failing: &mut bool) {
    loop {
        source.reads.fetch_add(1, AtomicOrdering::Relaxed);
        match outbox::read_after(&source.pool, &source.epoch, ordering.delivered(), BATCH).await {
            Ok(batch) => {
                if std::mem::take(failing) {
                    tracing::info!("reading the outbox again");
                }
                let full = batch.len() == BATCH as usize;
                for event in batch {
                    publish(fanout, &source.history, ordering.handle(Input::Event(event), Instant::now()));
                }
                if !full {
                    return;
                }
            }
            Err(error) => {
                // Said once per outage, not at every retry.
                if !*failing {
                    tracing::error!(%error, after = ordering.delivered(), "reading the outbox failed; retrying");
                    *failing = true;
                }
                // The gap's deadline has passed: pause so a failing database is not hammered.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return;
            }
        }
    }
}
