//! The tokio side of the connection: opens the socket, feeds frames to the sans-IO session,
//! fetches the snapshot once subscribed, and reconnects with backoff when the link is lost.

use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use pressroom_protocol::cable::SUBPROTOCOL;
use pressroom_protocol::{ConnectionState, Snapshot};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use crate::endpoints::Endpoints;
use crate::error::Result;
use crate::events::Outlet;
use crate::session::{Session, SessionAction};
use crate::state::SharedDashboard;

/// No frame for this long (two missed 3-s pings) means the link is dead.
const STALE_AFTER: Duration = Duration::from_secs(6);
/// A handshake that takes longer than this counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Driver<O> {
    endpoints: Endpoints,
    token: Option<String>,
    dashboard: SharedDashboard,
    outlet: O,
    http: reqwest::Client,
}

/// How one connection ended.
enum Ended {
    /// Lost after having been live: the next retry starts the backoff afresh.
    LostAfterLive,
    Failed,
}

impl<O: Outlet> Driver<O> {
    pub fn new(endpoints: Endpoints, token: Option<String>, dashboard: SharedDashboard, outlet: O) -> Self {
        Driver { endpoints, token, dashboard, outlet, http: reqwest::Client::new() }
    }

    /// Keeps a connection up until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        self.set_connection(ConnectionState::Connecting);
        let mut attempt = 0u32;
        loop {
            let ended = tokio::select! {
                () = stop.cancelled() => return,
                ended = self.connect_once() => ended,
            };
            attempt = match ended {
                Ok(Ended::LostAfterLive) => 1,
                Ok(Ended::Failed) => attempt + 1,
                Err(error) => {
                    tracing::info!(%error, "connection failed");
                    attempt + 1
                }
            };
            let delay = backoff(attempt);
            self.set_connection(ConnectionState::Reconnecting {
                attempt,
                retry_in_ms: delay.as_millis() as u64,
            });
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    fn set_connection(&self, state: ConnectionState) {
        if self.dashboard.set_connection(state.clone()) {
            tracing::info!(state = state.label(), "connection state");
            self.outlet.connection(&state);
        }
    }

    async fn open(&self) -> Result<Socket> {
        let mut request = self.endpoints.cable.as_str().into_client_request()?;
        let headers = request.headers_mut();
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| tokio_tungstenite::tungstenite::Error::HttpFormat(e.into()))?;
            value.set_sensitive(true);
            headers.insert("Authorization", value);
        }
        let connect = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connect).await {
            Ok(result) => Ok(result?.0),
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out").into()),
        }
    }

    async fn connect_once(&self) -> Result<Ended> {
        let mut socket = self.open().await?;
        let mut session = Session::default();
        let mut live = false;
        loop {
            let message = match tokio::time::timeout(STALE_AFTER, socket.next()).await {
                Err(_) => {
                    tracing::info!("no frame for {STALE_AFTER:?}; reconnecting");
                    break;
                }
                Ok(None) => break,
                Ok(Some(message)) => message?,
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(_) => break,
                _ => continue,
            };
            match session.handle_text(&text) {
                None => {}
                Some(SessionAction::Send(command)) => socket.send(Message::text(command.to_json())).await?,
                Some(SessionAction::Subscribed) => {
                    self.refresh_snapshot().await;
                    live = true;
                    self.set_connection(ConnectionState::Live);
                }
                Some(SessionAction::Event(mut event)) => {
                    // A stock Rails app sends no time: the event happened about now.
                    event.at.get_or_insert_with(Utc::now);
                    if let Some(frame) = self.dashboard.apply(event) {
                        self.outlet.frame(&frame);
                    }
                }
                Some(SessionAction::Rejected) => {
                    tracing::warn!("the server rejected the AnalyticsChannel subscription");
                    return Ok(Ended::Failed);
                }
                Some(SessionAction::Disconnect { reason, reconnect }) => {
                    tracing::info!(%reason, reconnect, "server asked to disconnect");
                    break;
                }
            }
        }
        Ok(if live { Ended::LostAfterLive } else { Ended::Failed })
    }

    /// Fetches the summary; a server without one (a stock Rails app) keeps the current view.
    async fn refresh_snapshot(&self) {
        match self.fetch_snapshot().await {
            Ok(snapshot) => {
                let frame = self.dashboard.replace(snapshot);
                self.outlet.frame(&frame);
            }
            Err(error) => {
                tracing::warn!(%error, "no snapshot from the server; showing live deltas only")
            }
        }
    }

    async fn fetch_snapshot(&self) -> Result<Snapshot> {
        let mut request = self.http.get(self.endpoints.api("api/analytics/summary"));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        Ok(request.send().await?.error_for_status()?.json().await?)
    }
}

/// Exponential: 0.5 s, 1 s, 2 s, … capped at 30 s.
fn backoff(attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    (Duration::from_millis(500) * factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let delays: Vec<u64> = (1..=8).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
