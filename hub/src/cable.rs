//! The Action Cable server side of `/cable`: handshake, welcome, a ping every 3 s,
//! subscriptions matched as exact identifier strings, and delivery of published events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use pressroom_protocol::cable::{ANALYTICS_CHANNEL, PING_INTERVAL_SECS, SUBPROTOCOL};
use pressroom_protocol::{ClientCommand, ServerFrame};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auth::{self, Auth};
use crate::broadcaster::Published;

/// Client frames larger than this are refused; commands are tiny.
const MAX_CLIENT_FRAME: usize = 64 * 1024;
/// A client that takes longer than this to accept a frame is cut off, so a stalled reader holds
/// nothing up and keeps nothing alive.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct CableState {
    pub fanout: broadcast::Sender<Arc<Published>>,
    pub shutdown: CancellationToken,
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
    let token = auth::bearer(&headers).or(query.token.as_deref());
    let authorized = state.auth.check(token).is_ok();
    ws.protocols([SUBPROTOCOL])
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| {
            let conn = state.connections.fetch_add(1, Ordering::Relaxed) + 1;
            let span = tracing::info_span!("cable", conn);
            async move {
                if authorized {
                    serve(socket, state).await;
                } else {
                    refuse(socket).await;
                }
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
    /// A frame waited longer than [`SEND_TIMEOUT`] to be accepted.
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

async fn send(socket: &mut WebSocket, text: String) -> Result<(), SendError> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(SendError::Slow),
    }
}

async fn serve(mut socket: WebSocket, state: CableState) {
    // Subscribe to the fan-out before the welcome so nothing published after it is missed.
    let mut published = state.fanout.subscribe();
    let mut connection = Connection::default();
    tracing::debug!("connected");
    let end = match run(&mut socket, &mut published, &mut connection, &state.shutdown).await {
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
    published: &mut broadcast::Receiver<Arc<Published>>,
    connection: &mut Connection,
    shutdown: &CancellationToken,
) -> Result<End, SendError> {
    send(socket, ServerFrame::Welcome.to_json()).await?;
    let period = Duration::from_secs(PING_INTERVAL_SECS);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(End::Shutdown),
            _ = ping.tick() => {
                let frame = ServerFrame::Ping { message: Utc::now().timestamp() };
                send(socket, frame.to_json()).await?;
            }
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
            event = published.recv() => match event {
                Ok(event) => {
                    for identifier in &connection.subscriptions {
                        send(socket, broadcast_frame(identifier, &event.json)).await?;
                    }
                }
                Err(RecvError::Lagged(missed)) => return Ok(End::Lagged(missed)),
                Err(RecvError::Closed) => return Ok(End::Shutdown),
            },
        }
    }
}

/// `{"identifier": "<identifier>", "message": <event>}` from the event's JSON encoded once.
fn broadcast_frame(identifier: &str, message_json: &str) -> String {
    let identifier = serde_json::to_string(identifier).expect("strings serialise");
    format!(r#"{{"identifier":{identifier},"message":{message_json}}}"#)
}

/// One connection's subscriptions and its answers to commands.
#[derive(Default)]
struct Connection {
    /// Identifier strings, exactly as the client spelled them.
    subscriptions: Vec<String>,
}

#[derive(Deserialize)]
struct Identifier {
    channel: String,
}

impl Connection {
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
                if self.subscriptions.contains(&identifier) {
                    tracing::debug!("ignoring duplicate subscribe");
                    return None;
                }
                self.subscriptions.push(identifier.clone());
                Some(ServerFrame::ConfirmSubscription { identifier })
            }
            ClientCommand::Unsubscribe { identifier } => {
                self.subscriptions.retain(|s| *s != identifier);
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

    #[test]
    fn the_frame_embeds_the_identifier_as_a_json_string() {
        let frame = broadcast_frame(r#"{"channel":"AnalyticsChannel"}"#, r#"{"event":"x"}"#);
        assert_eq!(
            ServerFrame::parse(&frame).unwrap(),
            ServerFrame::Broadcast {
                identifier: r#"{"channel":"AnalyticsChannel"}"#.into(),
                message: serde_json::json!({"event": "x"})
            }
        );
    }

    #[test]
    fn identifiers_are_exact_strings() {
        let mut connection = Connection::default();
        let id = channel_identifier(ANALYTICS_CHANNEL);
        let spaced = r#"{ "channel": "AnalyticsChannel" }"#;
        assert!(matches!(connection.handle(&subscribe(&id)), Some(ServerFrame::ConfirmSubscription { .. })));
        assert_eq!(connection.handle(&subscribe(&id)), None, "an identical subscribe is ignored");
        assert!(matches!(
            connection.handle(&subscribe(spaced)),
            Some(ServerFrame::ConfirmSubscription { .. })
        ));
        assert_eq!(connection.subscriptions.len(), 2);
        connection.handle(&ClientCommand::Unsubscribe { identifier: id }.to_json());
        assert_eq!(connection.subscriptions, vec![spaced.to_owned()]);
    }

    #[test]
    fn unknown_channels_are_rejected_and_garbage_ignored() {
        let mut connection = Connection::default();
        let other = channel_identifier("ChatChannel");
        assert_eq!(
            connection.handle(&subscribe(&other)),
            Some(ServerFrame::RejectSubscription { identifier: other })
        );
        assert_eq!(connection.handle("{nope"), None);
        assert_eq!(connection.handle(&subscribe("not json")), None);
        assert!(connection.subscriptions.is_empty());
    }
}
