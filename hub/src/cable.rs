//! The Action Cable server side of `/cable`: handshake, welcome, a ping every 3 s,
//! subscriptions matched as exact identifier strings, and delivery of published events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::SinkExt;
use pressroom_protocol::cable::{ANALYTICS_CHANNEL, SUBPROTOCOL};
use pressroom_protocol::{ClientCommand, ServerFrame};
use serde::Deserialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, Semaphore};
use tracing::Instrument;

use crate::auth::{self, Auth};
use crate::fanout::{Fanout, Outgoing, Subscription};
use crate::limits::Limits;

/// A client that takes longer than this to accept what was sent is cut off, so a stalled reader
/// holds nothing up and keeps nothing alive.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many queued messages are written per wakeup, then flushed together.
const BATCH: usize = 64;
/// Socket buffers: commands are tiny and frames are written as they come, so a little does; the
/// read buffer grows for a rare large frame (tungstenite's default is 128 KiB per connection,
/// zeroed on every read attempt).
const READ_BUFFER: usize = 1024;
const WRITE_BUFFER: usize = 4 * 1024;
/// Subscriptions one connection may hold.
const MAX_SUBSCRIPTIONS: usize = 16;

#[derive(Clone)]
pub struct CableState {
    pub fanout: Fanout,
    pub limits: Limits,
    /// Permits for open connections, `limits.max_connections` of them.
    pub open: Arc<Semaphore>,
    /// Numbers connections for the log.
    pub connections: Arc<AtomicU64>,
    /// Counts subscribers cut off for falling behind.
    pub slow_disconnects: Arc<AtomicU64>,
    pub auth: Auth,
}

#[derive(Deserialize)]
struct CableQuery {
    token: Option<String>,
}

pub fn router(state: CableState) -> Router {
    Router::new().route("/cable", get(upgrade)).with_state(state)
}

/// The token comes as `Authorization: Bearer` or, for browser clients that cannot set headers,
/// as `?token=`.
async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(query): Query<CableQuery>,
    State(state): State<CableState>,
) -> Response {
    let Ok(permit) = state.open.clone().try_acquire_owned() else {
        tracing::warn!(max = state.limits.max_connections, "refusing a cable connection: at the limit");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let token = auth::bearer(&headers).or(query.token.as_deref());
    let authorized = state.auth.check(token).is_ok();
    let max_frame = state.limits.max_frame_bytes;
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
        .on_upgrade(move |socket| {
            let conn = state.connections.fetch_add(1, Ordering::Relaxed) + 1;
            let span = tracing::info_span!("cable", conn);
            async move {
                if authorized {
                    serve(socket, state).await;
                } else {
                    refuse(socket).await;
                }
                drop(permit);
            }
            .instrument(span)
        })
}

/// As Rails does for a rejected connection: say why, tell the client not to retry, close.
async fn refuse(mut socket: WebSocket) {
    tracing::info!("unauthorized cable connection");
    let frame = ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false };
    let _ = socket.send(Message::Text(frame.to_json().into())).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// Why a connection ended, for the log.
enum End {
    ClientGone,
    Shutdown,
    Lagged(u64),
    /// What was sent waited longer than [`SEND_TIMEOUT`] to be accepted.
    TooSlow,
}

/// Why a send did not go through.
enum SendError {
    Slow,
    Failed(axum::Error),
}

impl From<axum::Error> for SendError {
    fn from(error: axum::Error) -> Self {
        SendError::Failed(error)
    }
}

/// Runs `sending` with the send timeout.
async fn timed(sending: impl std::future::Future<Output = Result<(), axum::Error>>) -> Result<(), SendError> {
    match tokio::time::timeout(SEND_TIMEOUT, sending).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(SendError::Slow),
    }
}

async fn send(socket: &mut WebSocket, text: String) -> Result<(), SendError> {
    timed(socket.send(Message::Text(text.into()))).await
}

async fn serve(mut socket: WebSocket, state: CableState) {
    // Join the fan-out before the welcome so nothing published after it is missed.
    let mut outgoing = state.fanout.receiver();
    let mut connection = Connection::new(state.fanout.clone());
    tracing::debug!("connected");
    let end = match run(&mut socket, &mut outgoing, &mut connection).await {
        Err(SendError::Slow) => Ok(End::TooSlow),
        Err(SendError::Failed(error)) => Err(error),
        Ok(end) => Ok(end),
    };
    match end {
        Ok(End::Shutdown) => {
            let bye = ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true };
            if send(&mut socket, bye.to_json()).await.is_ok() {
                let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(None))).await;
            }
            tracing::debug!("closed for shutdown");
        }
        Ok(End::Lagged(missed)) => {
            state.slow_disconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(missed, "subscriber fell behind; disconnecting it");
            let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(None))).await;
        }
        Ok(End::TooSlow) => {
            state.slow_disconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("subscriber stopped reading; disconnecting it");
        }
        Ok(End::ClientGone) => tracing::debug!("client closed"),
        Err(error) => tracing::debug!(%error, "connection failed"),
    }
}

async fn run(
    socket: &mut WebSocket,
    outgoing: &mut broadcast::Receiver<Outgoing>,
    connection: &mut Connection,
) -> Result<End, SendError> {
    send(socket, ServerFrame::Welcome.to_json()).await?;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                None | Some(Ok(Message::Close(_))) => return Ok(End::ClientGone),
                Some(Err(error)) => return Err(error.into()),
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = connection.handle(&text) {
                        send(socket, reply.to_json()).await?;
                    }
                }
                Some(Ok(_)) => {} // binary, ping and pong frames carry no commands
            },
            message = outgoing.recv() => match message {
                Ok(message) => {
                    // Take what else is already queued, write it all, flush once.
                    let mut batch = vec![message];
                    while batch.len() < BATCH {
                        match outgoing.try_recv() {
                            Ok(message) => batch.push(message),
                            Err(TryRecvError::Lagged(missed)) => return Ok(End::Lagged(missed)),
                            Err(TryRecvError::Closed) => return Ok(End::Shutdown),
                            Err(TryRecvError::Empty) => break,
                        }
                    }
                    let stopping = batch.iter().any(|m| matches!(m, Outgoing::Shutdown));
                    timed(deliver(socket, connection, batch)).await?;
                    if stopping {
                        return Ok(End::Shutdown);
                    }
                }
                Err(RecvError::Lagged(missed)) => return Ok(End::Lagged(missed)),
                Err(RecvError::Closed) => return Ok(End::Shutdown),
            },
        }
    }
}

/// Writes the shared frames of `batch` that concern this connection, then flushes.
async fn deliver(
    socket: &mut WebSocket,
    connection: &Connection,
    batch: Vec<Outgoing>,
) -> Result<(), axum::Error> {
    for message in batch {
        match message {
            Outgoing::Ping(frame) => socket.feed(Message::Text(frame)).await?,
            Outgoing::Shutdown => break,
            Outgoing::Event(published) => {
                for subscription in &connection.subscriptions {
                    socket.feed(Message::Text(published.frame_for(subscription.identifier()))).await?;
                }
            }
        }
    }
    socket.flush().await
}

/// One connection's subscriptions and its answers to commands.
struct Connection {
    fanout: Fanout,
    /// Identifier strings, exactly as the client spelled them.
    subscriptions: Vec<Subscription>,
}

#[derive(Deserialize)]
struct Identifier {
    channel: String,
}

impl Connection {
    fn new(fanout: Fanout) -> Self {
        Connection { fanout, subscriptions: Vec::new() }
    }

    /// Applies a client command; returns the frame to answer with, if any. Malformed input is
    /// logged and ignored: it never ends the connection.
    fn handle(&mut self, text: &str) -> Option<ServerFrame> {
        let command = match ClientCommand::parse(text) {
            Ok(command) => command,
            Err(error) => {
                tracing::warn!(%error, "ignoring malformed command");
                return None;
            }
        };
        match command {
            ClientCommand::Subscribe { identifier } => {
                let channel = match serde_json::from_str::<Identifier>(&identifier) {
                    Ok(id) => id.channel,
                    Err(error) => {
                        tracing::warn!(%error, "ignoring subscribe with a malformed identifier");
                        return None;
                    }
                };
                if channel != ANALYTICS_CHANNEL {
                    tracing::info!(%channel, "rejecting subscription to an unknown channel");
                    return Some(ServerFrame::RejectSubscription { identifier });
                }
                if self.subscriptions.iter().any(|s| **s.identifier() == *identifier) {
                    tracing::debug!("ignoring duplicate subscribe");
                    return None;
                }
                if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
                    tracing::warn!("rejecting a subscription over the per-connection limit");
                    return Some(ServerFrame::RejectSubscription { identifier });
                }
                self.subscriptions.push(self.fanout.subscribe(&identifier));
                Some(ServerFrame::ConfirmSubscription { identifier })
            }
            ClientCommand::Unsubscribe { identifier } => {
                self.subscriptions.retain(|s| **s.identifier() != *identifier);
                None
            }
            ClientCommand::Message { .. } => {
                tracing::debug!("ignoring message: AnalyticsChannel has no actions");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pressroom_protocol::cable::channel_identifier;

    fn subscribe(identifier: &str) -> String {
        ClientCommand::Subscribe { identifier: identifier.into() }.to_json()
    }

    fn subscribed(connection: &Connection) -> Vec<&str> {
        connection.subscriptions.iter().map(|s| &**s.identifier()).collect()
    }

    #[test]
    fn identifiers_are_exact_strings() {
        let mut connection = Connection::new(Fanout::new(8));
        let id = channel_identifier(ANALYTICS_CHANNEL);
        let spaced = r#"{ "channel": "AnalyticsChannel" }"#;
        assert!(matches!(connection.handle(&subscribe(&id)), Some(ServerFrame::ConfirmSubscription { .. })));
        assert_eq!(connection.handle(&subscribe(&id)), None, "an identical subscribe is ignored");
        assert!(matches!(
            connection.handle(&subscribe(spaced)),
            Some(ServerFrame::ConfirmSubscription { .. })
        ));
        assert_eq!(subscribed(&connection), [id.as_str(), spaced]);
        connection.handle(&ClientCommand::Unsubscribe { identifier: id }.to_json());
        assert_eq!(subscribed(&connection), [spaced]);
    }

    #[test]
    fn unknown_channels_and_too_many_subscriptions_are_rejected_and_garbage_ignored() {
        let mut connection = Connection::new(Fanout::new(8));
        let other = channel_identifier("ChatChannel");
        assert_eq!(
            connection.handle(&subscribe(&other)),
            Some(ServerFrame::RejectSubscription { identifier: other })
        );
        assert_eq!(connection.handle("{nope"), None);
        assert_eq!(connection.handle(&subscribe("not json")), None);
        assert!(connection.subscriptions.is_empty());
        for n in 0..MAX_SUBSCRIPTIONS {
            let id = format!(r#"{{"channel":"AnalyticsChannel","n":{n}}}"#);
            assert!(matches!(
                connection.handle(&subscribe(&id)),
                Some(ServerFrame::ConfirmSubscription { .. })
            ));
        }
        let one_more = r#"{"channel":"AnalyticsChannel","n":"more"}"#;
        assert!(matches!(
            connection.handle(&subscribe(one_more)),
            Some(ServerFrame::RejectSubscription { .. })
        ));
    }
}
