//! The Action Cable server side of `/cable`: handshake, welcome, a ping every 3 s,
//! subscriptions matched as exact identifier strings, and delivery of published events.
//!
//! Each connection has a task that reads its commands (through tungstenite) and answers them;
//! broadcasts and pings are written by the shard writers ([`shards`]) straight to the
//! connection's [`link::Link`], so a delivery wakes no connection task.

mod commands;
mod handshake;
mod link;
pub mod shards;
pub mod wire;

use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use pressroom_protocol::ServerFrame;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

pub use commands::{Connection, MAX_IDENTIFIER_BYTES};
use handshake::Upgrade;
use link::{Ending, Link, LinkIo, Progress, Socket};
use shards::Shards;

use crate::auth::{self, Auth};
use crate::delivery::fanout::Fanout;
use crate::limits::Limits;

/// A client that accepts nothing of what waits for it for this long is cut off, so a stalled
/// reader holds nothing up and keeps nothing alive.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the answer to a client's close may wait for the socket to take it.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// The read buffer: commands are tiny, and it grows for a rare large frame (tungstenite's
/// default is 128 KiB per connection, zeroed on every read attempt).
const READ_BUFFER: usize = 1024;
/// Unauthorized upgrades being answered at once.
pub const REFUSAL_BUDGET: usize = 16;

#[derive(Clone)]
pub struct CableState {
    pub fanout: Fanout,
    pub shards: Shards,
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
    /// Cancelled at the drain deadline: every connection still open closes its socket at once.
    pub cut_off: CancellationToken,
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
    upgrade: Upgrade,
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
    let conn = state.connections.fetch_add(1, Ordering::Relaxed) + 1;
    upgrade.accept(tracing::info_span!("cable", conn), move |socket| async move {
        serve(socket, state, authorized).await;
        drop(permit);
    })
}

/// Why a connection ended, for the log.
enum End {
    /// The client went away without a close.
    ClientGone,
    Ended(Ending),
    /// The socket took nothing of what waited for [`SEND_TIMEOUT`].
    TooSlow,
    /// Still open at the hub's drain deadline.
    CutOff,
}

/// How a connection broke, for the log.
#[derive(Debug, thiserror::Error)]
enum Broken {
    #[error("reading: {0}")]
    Read(tokio_tungstenite::tungstenite::Error),
    #[error("writing: {0}")]
    Write(std::io::Error),
}

async fn serve(socket: Socket, state: CableState, authorized: bool) {
    let max_frame = state.limits.max_frame_bytes;
    let link = Arc::new(Link::new(socket, Connection::new(state.fanout.clone()), state.limits.max_lag));
    let membership = if authorized {
        // The welcome first, then the shard (so no ping can come before it), then the reader:
        // every subscription is made on a link its shard already serves.
        link.send_frame(&ServerFrame::Welcome);
        let membership = state.shards.join(&link);
        match membership {
            Some(_) => tracing::debug!("connected"),
            // The hub is stopping: the shards have said goodbye to everyone else already.
            None => link.end(Ending::Restart),
        }
        membership
    } else {
        // As Rails does for a rejected connection: say why, tell the client not to retry, close.
        tracing::info!("unauthorized cable connection");
        link.end(Ending::Refused);
        None
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame));
    let reader = WebSocketStream::from_raw_socket(LinkIo(link.clone()), Role::Server, Some(config)).await;
    let end = run(reader, &link, &state.cut_off).await;
    // The socket closes now, though a shard may hold the link until its roster is read again.
    link.close();
    drop(membership);
    match end {
        Ok(End::Ended(Ending::Restart)) => tracing::debug!("closed for shutdown"),
        Ok(End::Ended(Ending::Refused)) => {}
        Ok(End::Ended(Ending::Answered(_))) => tracing::debug!("client closed"),
        Ok(End::Ended(Ending::Lagged)) => {
            state.slow_disconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("subscriber fell behind; disconnecting it");
        }
        Ok(End::TooSlow) => {
            state.slow_disconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("subscriber stopped reading; disconnecting it");
        }
        Ok(End::ClientGone) => tracing::debug!("client went away"),
        Ok(End::CutOff) => tracing::debug!("cut off at the drain deadline"),
        Err(error) => tracing::debug!(%error, "connection failed"),
    }
}

/// Reads commands and writes out what the socket did not take at once, until the link ends,
/// the client leaves, the socket has taken nothing of what waits for [`SEND_TIMEOUT`] (the
/// answer to a client's close: for [`CLOSE_GRACE`]), or the hub cuts it off.
async fn run(
    mut reader: WebSocketStream<LinkIo>,
    link: &Link,
    cut_off: &CancellationToken,
) -> Result<End, Broken> {
    let mut stalled = pin!(tokio::time::sleep(SEND_TIMEOUT));
    let mut waiting = false;
    let mut cut_off = pin!(cut_off.cancelled());
    // Set by the client's close: nothing it sends after counts.
    let mut closing = None;
    loop {
        let patience = if closing.is_some() { CLOSE_GRACE } else { SEND_TIMEOUT };
        // Writing out first: a client that catches up right at the deadline is not cut off, and a
        // lagging one is counted as such even if its close crosses ours.
        tokio::select! {
            biased;
            progress = poll_fn(|cx| link.poll_write_out(cx)) => match progress.map_err(Broken::Write)? {
                Progress::Stalled => {
                    stalled.as_mut().reset(Instant::now() + patience);
                    waiting = true;
                }
                Progress::Drained => waiting = false,
                Progress::Ended(ending) => return Ok(End::Ended(ending)),
            },
            incoming = reader.next(), if closing.is_none() => match read(incoming, link)? {
                Read::Handled => {}
                Read::Gone => return Ok(End::ClientGone),
                Read::Answer(code) => {
                    // The link answers, in the same step that stops the broadcasts, so none
                    // follows the close; it ends once the answer went out.
                    let ending = Ending::Answered(code);
                    link.end(ending);
                    closing = Some(ending);
                    if waiting {
                        stalled.as_mut().reset(Instant::now() + CLOSE_GRACE);
                    }
                }
            },
            // A client that closed and stopped reading is not counted as slow.
            () = &mut stalled, if waiting => return Ok(closing.map_or(End::TooSlow, End::Ended)),
            () = &mut cut_off => return Ok(End::CutOff),
        }
    }
}

/// What a frame read from the client asks of the connection.
enum Read {
    Handled,
    /// The client went away without a close.
    Gone,
    /// A close (the client's, or the hub's for a frame it rejects) with this status code.
    Answer(Option<u16>),
}

/// Applies one read from the client: a command is handled at once.
fn read(incoming: Option<Result<Message, WsError>>, link: &Link) -> Result<Read, Broken> {
    Ok(match incoming {
        Some(Ok(Message::Text(text))) => {
            link.command(&text);
            Read::Handled
        }
        Some(Ok(Message::Close(frame))) => {
            // tungstenite's own answer is never flushed. It gives a code not allowed on the wire
            // as 1002 (protocol error).
            Read::Answer(frame.map(|frame| frame.code).filter(|code| code.is_allowed()).map(u16::from))
        }
        Some(Ok(_)) => Read::Handled, // binary, ping and pong frames carry no commands
        None | Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => Read::Gone,
        Some(Err(WsError::Io(error))) if error.kind() == std::io::ErrorKind::ConnectionReset => Read::Gone,
        Some(Err(error)) => {
            // A frame the hub will not take is answered with a close saying why (RFC 6455 7.4.1),
            // as Rails' websocket-driver answers it; the socket failing is not.
            let Some(code) = rejection_code(&error) else { return Err(Broken::Read(error)) };
            tracing::debug!(%error, code, "rejected a frame; closing");
            Read::Answer(Some(code))
        }
    })
}

/// The close code answering a frame the hub rejects, if the error is the frame's fault.
fn rejection_code(error: &WsError) -> Option<u16> {
    match error {
        WsError::Capacity(_) => Some(1009),
        WsError::Utf8(_) => Some(1007),
        WsError::Protocol(_) => Some(1002),
        _ => None,
    }
}
