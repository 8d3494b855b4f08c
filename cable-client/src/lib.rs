//! A small Action Cable client: the upgrade request a stock client sends, the connection, and the
//! subscription handshake (`welcome`, `subscribe`, `confirm_subscription`). What a caller does with
//! the socket afterwards is its own business: this crate owns no task and keeps no state.

#![forbid(unsafe_code)]

use futures_util::{SinkExt, StreamExt};
use pressroom_protocol::cable::{channel_identifier, SUBPROTOCOL};
use pressroom_protocol::{ClientCommand, ServerFrame};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

pub use tokio_tungstenite::tungstenite;

/// An open cable connection (`ws://` or `wss://`).
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL or a header value cannot make an upgrade request.
    #[error("invalid cable request: {0}")]
    Request(String),
    #[error("websocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// The server answered the subscription with `reject_subscription`.
    #[error("the subscription was rejected")]
    Rejected,
    /// The server sent a `disconnect` frame (e.g. `unauthorized`).
    #[error("disconnected by the server: {reason}")]
    Disconnected { reason: String },
    /// The connection ended before the subscription was confirmed.
    #[error("the connection closed before the subscription was confirmed")]
    Closed,
}

/// The upgrade request a stock Action Cable client sends: `url`, `Sec-WebSocket-Protocol:
/// actioncable-v1-json` and, with a token, `Authorization: Bearer …` (marked sensitive, so it is
/// never printed). Callers may add headers (e.g. `Origin`) through `headers_mut()`.
pub fn request(url: &str, token: Option<&str>) -> Result<Request, Error> {
    let mut request = url.into_client_request().map_err(|e| Error::Request(format!("{url:?}: {e}")))?;
    let headers = request.headers_mut();
    headers.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(SUBPROTOCOL));
    if let Some(token) = token {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Error::Request("the token is not a valid header value".into()))?;
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
    }
    Ok(request)
}

/// Opens the socket; `nodelay` disables Nagle's algorithm on the TCP connection.
pub async fn connect(
    request: Request,
    config: WebSocketConfig,
    nodelay: bool,
) -> Result<(Socket, Response), Error> {
    Ok(tokio_tungstenite::connect_async_with_config(request, Some(config), nodelay).await?)
}

/// As the stock client does: waits for `welcome` (a command sent earlier can be lost by a Rails
/// server still running its connect callback), subscribes to `channel` and waits for the
/// confirmation, skipping pings and anything else. `reject_subscription` gives
/// [`Error::Rejected`], a `disconnect` frame [`Error::Disconnected`], the end of the stream
/// [`Error::Closed`].
pub async fn subscribe(socket: &mut Socket, channel: &str) -> Result<(), Error> {
    let identifier = channel_identifier(channel);
    let mut subscribed = false;
    loop {
        let text = match socket.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) | None => {
                return Err(Error::Closed)
            }
            Some(Err(error)) => return Err(error.into()),
        };
        match ServerFrame::parse(&text) {
            Ok(ServerFrame::Welcome) if !subscribed => {
                let command = ClientCommand::Subscribe { identifier: identifier.clone() }.to_json();
                socket.send(Message::Text(command.into())).await?;
                subscribed = true;
            }
            Ok(ServerFrame::ConfirmSubscription { identifier: confirmed }) if confirmed == identifier => {
                return Ok(())
            }
            Ok(ServerFrame::RejectSubscription { identifier: rejected }) if rejected == identifier => {
                return Err(Error::Rejected)
            }
            Ok(ServerFrame::Disconnect { reason, .. }) => return Err(Error::Disconnected { reason }),
            // Pings, broadcasts, frames for other subscriptions, and frames this client does not
            // know: skipped, as the stock client does.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_the_subprotocol_and_a_sensitive_bearer() {
        let request = request("ws://127.0.0.1:3000/cable", Some("s3cret")).unwrap();
        assert_eq!(request.uri(), "ws://127.0.0.1:3000/cable");
        let headers = request.headers();
        assert_eq!(headers[SEC_WEBSOCKET_PROTOCOL], SUBPROTOCOL);
        assert_eq!(headers[AUTHORIZATION], "Bearer s3cret");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert!(!format!("{:?}", headers[AUTHORIZATION]).contains("s3cret"), "never printed");
    }

    #[test]
    fn without_a_token_there_is_no_authorization() {
        let request = request("wss://hub.example/cable?token=t", None).unwrap();
        assert!(request.headers().get(AUTHORIZATION).is_none());
        assert_eq!(request.headers()[SEC_WEBSOCKET_PROTOCOL], SUBPROTOCOL);
    }

    #[test]
    fn bad_urls_and_tokens_are_request_errors() {
        assert!(matches!(request("not a url", None), Err(Error::Request(_))));
        assert!(matches!(request("ws://127.0.0.1/cable", Some("a\nb")), Err(Error::Request(_))));
    }
}
