//! The only publisher: reads committed events from the outbox in seq order and hands each one,
//! encoded once, to the fan-out.

use std::sync::Arc;
use std::time::Duration;

use pressroom_protocol::Event;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

use crate::db::Pool;
use crate::outbox;

/// How many outbox rows one read takes.
const BATCH: u32 = 500;
/// How many published events a connection may lag behind before it is dropped.
pub const FANOUT_CAPACITY: usize = 1024;

/// A committed event with its JSON encoded once for every subscriber.
#[derive(Debug)]
pub struct Published {
    pub event: Event,
    pub json: String,
}

/// Wakes the broadcaster after a commit.
#[derive(Clone, Default)]
pub struct CommitSignal(Arc<Notify>);

impl CommitSignal {
    pub fn committed(&self) {
        // A stored permit means a commit that lands while the broadcaster reads is never missed.
        self.0.notify_one();
    }
}

/// Spawns the broadcaster, publishing everything committed after `last_seq`.
pub fn spawn(
    pool: Pool,
    epoch: String,
    mut last_seq: u64,
    signal: CommitSignal,
    shutdown: CancellationToken,
) -> broadcast::Sender<Arc<Published>> {
    let (sender, _) = broadcast::channel(FANOUT_CAPACITY);
    let fanout = sender.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = signal.0.notified() => {}
                () = shutdown.cancelled() => return,
            }
            loop {
                let batch = match outbox::read_after(&pool, &epoch, last_seq, BATCH).await {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::error!(%error, last_seq, "reading the outbox failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                let Some(last) = batch.last() else { break };
                last_seq = last.seq.expect("outbox events carry a seq");
                for event in batch {
                    let json = serde_json::to_string(&event).expect("events serialise");
                    // No receiver is fine: nobody is subscribed right now.
                    let _ = fanout.send(Arc::new(Published { event, json }));
                }
            }
        }
    });
    sender
}
