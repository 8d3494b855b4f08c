//! Scale-out over Redis pub/sub: each hub publishes the events it commits on a channel named
//! after the database's epoch, and feeds what arrives there to its broadcaster, which puts
//! everything in seq order. Redis is a fast path only: an event missed while Redis is away is
//! found in the shared outbox, so an outage delays delivery and loses nothing. Every message is
//! signed ([`Signer`]); one that fails is dropped and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use pressroom_protocol::Event;
use redis::AsyncCommands;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::signed::Signer;
use crate::HubError;

/// Waits between reconnection attempts, doubling up to the cap.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_CAP: Duration = Duration::from_secs(2);

/// The running pub/sub: where this hub's commits go, and its two tasks by name.
pub struct PubSub {
    /// Takes this hub's committed events for publishing.
    pub publish: mpsc::UnboundedSender<Event>,
    /// The publisher and the subscriber. Each rides out a Redis outage (reconnecting) and ends
    /// only at shutdown, so the caller treats any other end as a failure.
    pub tasks: [(&'static str, JoinHandle<()>); 2],
}

/// Starts publishing and subscribing on `url`. Events received go to `incoming`.
/// `rejected` counts messages dropped for failing their signature.
pub fn spawn(
    url: &str,
    signer: Signer,
    incoming: mpsc::UnboundedSender<Event>,
    rejected: Arc<AtomicU64>,
    shutdown: CancellationToken,
) -> Result<PubSub, HubError> {
    let client =
        redis::Client::open(url).map_err(|e| HubError::Config(format!("invalid --redis URL: {e}")))?;
    let channel = format!("pressroom:events:{}", signer.epoch());
    let (publish, committed) = mpsc::unbounded_channel();
    let publisher =
        tokio::spawn(publisher(client.clone(), channel.clone(), signer.clone(), committed, shutdown.clone()));
    let subscriber =
        tokio::spawn(subscriber(client, channel, Inbound { signer, incoming, rejected }, shutdown));
    Ok(PubSub { publish, tasks: [("Redis publisher", publisher), ("Redis subscriber", subscriber)] })
}

/// Where the subscriber's messages go once opened.
struct Inbound {
    signer: Signer,
    incoming: mpsc::UnboundedSender<Event>,
    rejected: Arc<AtomicU64>,
}

impl Inbound {
    /// Opens a message and passes its event on; false once the broadcaster is gone.
    fn take(&self, payload: &[u8]) -> bool {
        match self.signer.open(payload) {
            Ok(event) => self.incoming.send(event).is_ok(),
            Err(why) => {
                let n = self.rejected.fetch_add(1, Ordering::Relaxed) + 1;
                // The 1st, 2nd, 4th, 8th… at warn: a flood of forgeries cannot flood the log.
                if n.is_power_of_two() {
                    tracing::warn!(?why, rejected = n, "dropped a Redis message that failed authentication");
                } else {
                    tracing::debug!(?why, rejected = n, "dropped a Redis message that failed authentication");
                }
                true
            }
        }
    }
}

async fn publisher(
    client: redis::Client,
    channel: String,
    signer: Signer,
    mut committed: mpsc::UnboundedReceiver<Event>,
    shutdown: CancellationToken,
) {
    let mut connection = None;
    let mut healthy = true;
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = committed.recv() => match event {
                Some(event) => event,
                None => return,
            },
        };
        let message = signer.sign(&event);
        if connection.is_none() {
            connection = client.get_multiplexed_async_connection().await.ok();
        }
        let sent = match &mut connection {
            Some(redis) => redis.publish::<_, _, ()>(&channel, message).await.is_ok(),
            None => false,
        };
        // Other hubs find an unpublished event in the outbox; say so once per outage.
        if !sent {
            connection = None;
            if healthy {
                tracing::warn!(
                    seq = event.seq,
                    "publishing to Redis failed; other hubs will read the outbox"
                );
            }
        } else if !healthy {
            tracing::info!("publishing to Redis again");
        }
        healthy = sent;
    }
}

async fn subscriber(client: redis::Client, channel: String, inbound: Inbound, shutdown: CancellationToken) {
    let mut retry = RETRY_FIRST;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    tracing::info!(%channel, "subscribed to Redis");
                    retry = RETRY_FIRST;
                    let mut messages = pubsub.on_message();
                    loop {
                        let message = tokio::select! {
                            () = shutdown.cancelled() => return,
                            message = messages.next() => message,
                        };
                        let Some(message) = message else { break };
                        if !inbound.take(message.get_payload_bytes()) {
                            return; // the broadcaster stopped
                        }
                    }
                    tracing::warn!("lost the Redis subscription; reconnecting (the outbox fills the gap)");
                }
                Err(error) => tracing::warn!(%error, "subscribing on Redis failed"),
            },
            Err(error) => tracing::debug!(%error, "connecting to Redis failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(RETRY_CAP);
    }
}
