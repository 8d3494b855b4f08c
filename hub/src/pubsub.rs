//! Scale-out over Redis pub/sub: each hub publishes the events it commits on a channel named
//! after the database's epoch, and feeds what arrives there to its broadcaster, which puts
//! everything in seq order. Redis is a fast path only: an event missed while Redis is away is
//! found in the shared outbox, so an outage delays delivery and loses nothing.

use std::time::Duration;

use futures_util::StreamExt;
use pressroom_protocol::Event;
use redis::AsyncCommands;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::HubError;

/// Waits between reconnection attempts, doubling up to the cap.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_CAP: Duration = Duration::from_secs(2);

/// Starts publishing and subscribing on `url`. Events received go to `incoming`; the returned
/// sender takes this hub's committed events for publishing.
pub fn spawn(
    url: &str,
    epoch: &str,
    incoming: mpsc::UnboundedSender<Event>,
    shutdown: CancellationToken,
) -> Result<mpsc::UnboundedSender<Event>, HubError> {
    let client =
        redis::Client::open(url).map_err(|e| HubError::Config(format!("invalid --redis URL: {e}")))?;
    let channel = format!("pressroom:events:{epoch}");
    let (publish, committed) = mpsc::unbounded_channel();
    tokio::spawn(publisher(client.clone(), channel.clone(), committed, shutdown.clone()));
    tokio::spawn(subscriber(client, channel, incoming, shutdown));
    Ok(publish)
}

async fn publisher(
    client: redis::Client,
    channel: String,
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
        let json = serde_json::to_string(&event).expect("events serialise");
        if connection.is_none() {
            connection = client.get_multiplexed_async_connection().await.ok();
        }
        let sent = match &mut connection {
            Some(redis) => redis.publish::<_, _, ()>(&channel, json).await.is_ok(),
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

async fn subscriber(
    client: redis::Client,
    channel: String,
    incoming: mpsc::UnboundedSender<Event>,
    shutdown: CancellationToken,
) {
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
                        match serde_json::from_slice::<Event>(message.get_payload_bytes()) {
                            Ok(event) => {
                                if incoming.send(event).is_err() {
                                    return; // the broadcaster stopped
                                }
                            }
                            Err(error) => tracing::warn!(%error, "ignoring a malformed message from Redis"),
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
