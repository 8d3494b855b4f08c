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
use crate::delivery::fanout::{Fanout, Outgoing, Subscription};
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
/// Unauthorized upgrades being answered at once.
pub const REFUSAL_BUDGET: usize = 16;
/// Subscriptions one connection may hold.
const MAX_SUBSCRIPTIONS: usize = 16;

#[derive(Clone)]
pub struct CableState {
    pub fanout: Fanout,
    pub limits: Limits,
    /// Permits for open connections, `limits.max_connections` of them.
    pub open: Arc<Semaphore>,
    /// Permits for unauthorized upgrades being refused, [`REFUSAL_BUDGET`] of them.
    pub refusals: Arc<Semaphore>,
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
    // The token is checked before a slot is taken: unauthenticated upgrades (answered with
    // Rails' unauthorized frame) draw on a small budget of their own, so a crowd of them can
    // never hold the slots real clients need.
    let slots = if authorized { &state.open } else { &state.refusals };
    let Ok(permit) = slots.clone().try_acquire_owned() else {
        if authorized {
            tracing::warn!(max = state.limits.max_connections, "refusing a cable connection: at the limit");
        } else {
            tracing::debug!("refusing an unauthorized cable connection: the refusal budget is spent");
        }
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
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

/// The longest identifier accepted; Rails' own is 30 bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;
/// How much of a rejected frame goes to the log.
const LOGGED_CHARS: usize = 120;

/// One connection's subscriptions and its answers to commands, sans IO.
pub struct Connection {
    fanout: Fanout,
    /// Identifier strings, exactly as the client spelled them.
    subscriptions: Vec<Subscription>,
}

/// Why a subscribe is refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Not even an identifier: ignored, as Rails ignores it.
    Malformed,
    /// Over [`MAX_IDENTIFIER_BYTES`]: ignored, so nothing that large is stored or echoed.
    TooLong,
    /// A well-formed identifier of another channel, or with keys AnalyticsChannel does not take.
    Unknown,
}

/// Accepts only `{"channel":"AnalyticsChannel"}`, however spelled (key order, whitespace).
fn check_identifier(identifier: &str) -> Result<(), Refusal> {
    if identifier.len() > MAX_IDENTIFIER_BYTES {
        return Err(Refusal::TooLong);
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(identifier) else {
        return Err(Refusal::Malformed);
    };
    match map.get("channel") {
        Some(serde_json::Value::String(channel)) if channel == ANALYTICS_CHANNEL && map.len() == 1 => Ok(()),
        Some(serde_json::Value::String(_)) => Err(Refusal::Unknown),
        _ => Err(Refusal::Malformed),
    }
}

/// Logs a rejected frame: truncated, at warn at most once a second hub-wide and at debug
/// otherwise, so a client sending garbage cannot flood the log.
fn rejected(why: &str, text: &str) {
    static LAST_WARN: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now().timestamp() as u64;
    let head: String = text.chars().take(LOGGED_CHARS).collect();
    let last = LAST_WARN.load(Ordering::Relaxed);
    if now > last && LAST_WARN.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        tracing::warn!(why, bytes = text.len(), head, "rejected a cable frame (more at debug)");
    } else {
        tracing::debug!(why, bytes = text.len(), head, "rejected a cable frame");
    }
}

impl Connection {
    pub fn new(fanout: Fanout) -> Self {
        Connection { fanout, subscriptions: Vec::new() }
    }

    /// Applies a client command; returns the frame to answer with, if any. Malformed input is
    /// logged and ignored: it never ends the connection.
    pub fn handle(&mut self, text: &str) -> Option<ServerFrame> {
        let command = match ClientCommand::parse(text) {
            Ok(command) => command,
            Err(_) => {
                // serde's message may quote the input; the truncated input says as much.
                rejected("malformed command", text);
                return None;
            }
        };
        match command {
            ClientCommand::Subscribe { identifier } => {
                match check_identifier(&identifier) {
                    Ok(()) => {}
                    Err(Refusal::Unknown) => {
                        rejected("unknown channel or extra keys", &identifier);
                        return Some(ServerFrame::RejectSubscription { identifier });
                    }
                    Err(Refusal::TooLong) => {
                        rejected("identifier over 1 KiB", &identifier);
                        return None;
                    }
                    Err(Refusal::Malformed) => {
                        rejected("malformed identifier", &identifier);
                        return None;
                    }
                }
                if self.subscriptions.iter().any(|s| **s.identifier() == *identifier) {
                    tracing::debug!("ignoring duplicate subscribe");
                    return None;
                }
                if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
                    rejected("over the per-connection subscription limit", &identifier);
                    return Some(ServerFrame::RejectSubscription { identifier });
                }
                let Some(subscription) = self.fanout.subscribe(&identifier) else {
                    rejected("over the hub's limit of distinct identifier spellings", &identifier);
                    return Some(ServerFrame::RejectSubscription { identifier });
                };
                self.subscriptions.push(subscription);
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
    use crate::delivery::fanout::MAX_IDENTIFIERS;
    use pressroom_protocol::cable::channel_identifier;

    fn subscribe(identifier: &str) -> String {
        ClientCommand::Subscribe { identifier: identifier.into() }.to_json()
    }

    fn subscribed(connection: &Connection) -> Vec<&str> {
        connection.subscriptions.iter().map(|s| &**s.identifier()).collect()
    }

    fn confirmed(frame: Option<ServerFrame>) -> bool {
        matches!(frame, Some(ServerFrame::ConfirmSubscription { .. }))
    }

    #[test]
    fn identifiers_are_exact_strings() {
        let mut connection = Connection::new(Fanout::new(8));
        let id = channel_identifier(ANALYTICS_CHANNEL);
        let spaced = r#"{ "channel": "AnalyticsChannel" }"#;
        assert!(confirmed(connection.handle(&subscribe(&id))));
        assert_eq!(connection.handle(&subscribe(&id)), None, "an identical subscribe is ignored");
        assert!(confirmed(connection.handle(&subscribe(spaced))));
        assert_eq!(subscribed(&connection), [id.as_str(), spaced]);
        connection.handle(&ClientCommand::Unsubscribe { identifier: id }.to_json());
        assert_eq!(subscribed(&connection), [spaced]);
    }

    #[test]
    fn only_the_analytics_channel_without_extra_keys_is_accepted() {
        let mut connection = Connection::new(Fanout::new(8));
        let other = channel_identifier("ChatChannel");
        assert_eq!(
            connection.handle(&subscribe(&other)),
            Some(ServerFrame::RejectSubscription { identifier: other })
        );
        let extra = r#"{"channel":"AnalyticsChannel","n":1}"#;
        assert_eq!(
            connection.handle(&subscribe(extra)),
            Some(ServerFrame::RejectSubscription { identifier: extra.into() })
        );
        assert_eq!(connection.handle("{nope"), None);
        assert_eq!(connection.handle(&subscribe("not json")), None);
        assert_eq!(connection.handle(&subscribe(r#"{"channel":1}"#)), None);
        assert!(connection.subscriptions.is_empty());
    }

    #[test]
    fn an_identifier_over_1_kib_is_neither_stored_nor_echoed() {
        let mut connection = Connection::new(Fanout::new(8));
        let padded = format!(r#"{{"channel":"AnalyticsChannel"{}}}"#, " ".repeat(MAX_IDENTIFIER_BYTES));
        assert_eq!(connection.handle(&subscribe(&padded)), None);
        let long_other = format!(r#"{{"channel":"{}"}}"#, "x".repeat(16 * 1024));
        assert_eq!(connection.handle(&subscribe(&long_other)), None, "no reject echoing 16 KiB");
        assert!(connection.subscriptions.is_empty());
        let at_limit =
            format!(r#"{{"channel":"AnalyticsChannel"{}}}"#, " ".repeat(MAX_IDENTIFIER_BYTES - 30));
        assert_eq!(at_limit.len(), MAX_IDENTIFIER_BYTES);
        assert!(confirmed(connection.handle(&subscribe(&at_limit))));
    }

    #[test]
    fn spellings_are_capped_per_connection_and_hub_wide() {
        let fanout = Fanout::new(8);
        let spelling = |n: usize| format!(r#"{{"channel":"AnalyticsChannel"{}}}"#, " ".repeat(n));
        let mut first = Connection::new(fanout.clone());
        for n in 0..MAX_SUBSCRIPTIONS {
            assert!(confirmed(first.handle(&subscribe(&spelling(n)))));
        }
        assert!(matches!(
            first.handle(&subscribe(&spelling(MAX_SUBSCRIPTIONS))),
            Some(ServerFrame::RejectSubscription { .. })
        ));
        let mut others: Vec<Connection> = Vec::new();
        for n in MAX_SUBSCRIPTIONS..MAX_IDENTIFIERS {
            let mut connection = Connection::new(fanout.clone());
            assert!(confirmed(connection.handle(&subscribe(&spelling(n)))));
            others.push(connection);
        }
        let mut late = Connection::new(fanout.clone());
        assert!(
            matches!(
                late.handle(&subscribe(&spelling(MAX_IDENTIFIERS))),
                Some(ServerFrame::RejectSubscription { .. })
            ),
            "a new spelling beyond the hub's cap"
        );
        assert!(confirmed(late.handle(&subscribe(&spelling(0)))), "a held spelling is still served");
        drop(first);
        assert!(confirmed(late.handle(&subscribe(&spelling(MAX_IDENTIFIERS)))), "room again");
    }
}
