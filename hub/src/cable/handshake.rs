//! The WebSocket upgrade of `/cable` (RFC 6455, HTTP/1.1), checked as axum's own extractor
//! checks it, but handing over the raw upgraded connection: the hub frames and writes broadcasts
//! itself ([`super::link`]).

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use pressroom_protocol::cable::SUBPROTOCOL;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tracing::Instrument;

use super::link::Socket;

/// A valid upgrade request to `/cable`.
#[derive(Debug)]
pub struct Upgrade {
    on_upgrade: OnUpgrade,
    accept: HeaderValue,
    /// The client offered Action Cable's subprotocol.
    subprotocol: bool,
}

/// Why a request is not a WebSocket upgrade; answered as axum answers it.
#[derive(Debug)]
pub struct NotAnUpgrade(StatusCode, &'static str);

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotAnUpgrade;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, NotAnUpgrade> {
        let bad = |why| NotAnUpgrade(StatusCode::BAD_REQUEST, why);
        if parts.method != Method::GET {
            return Err(NotAnUpgrade(StatusCode::METHOD_NOT_ALLOWED, "Request method must be `GET`"));
        }
        if !lists(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(bad("Connection header did not include 'upgrade'"));
        }
        if !is(&parts.headers, header::UPGRADE, "websocket") {
            return Err(bad("`Upgrade` header did not include 'websocket'"));
        }
        if !is(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(bad("`Sec-WebSocket-Version` header did not include '13'"));
        }
        let key =
            parts.headers.get(header::SEC_WEBSOCKET_KEY).ok_or(bad("`Sec-WebSocket-Key` header missing"))?;
        let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .expect("base64 is a valid header value");
        let subprotocol = parts
            .headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .flat_map(|value| value.as_bytes().split(|&b| b == b','))
            .any(|offered| offered.trim_ascii() == SUBPROTOCOL.as_bytes());
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(NotAnUpgrade(
            StatusCode::UPGRADE_REQUIRED,
            "WebSocket request couldn't be upgraded since no upgrade state was present",
        ))?;
        Ok(Upgrade { on_upgrade, accept, subprotocol })
    }
}

impl Upgrade {
    /// Answers 101 and runs `serve` on the connection once hyper hands it over, in `span`.
    pub fn accept<F>(self, span: tracing::Span, serve: impl FnOnce(Socket) -> F + Send + 'static) -> Response
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(
            async move {
                match on_upgrade.await {
                    Ok(upgraded) => serve(TokioIo::new(upgraded)).await,
                    Err(error) => tracing::debug!(%error, "the upgrade did not complete"),
                }
            }
            .instrument(span),
        );
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept);
        if self.subprotocol {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(SUBPROTOCOL));
        }
        response
    }
}

/// `name` is `value`, in any case.
fn is(headers: &HeaderMap, name: HeaderName, value: &str) -> bool {
    headers.get(name).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
}

/// `name`'s comma-separated list holds `token`, in any case.
fn lists(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn check(request: Request<()>) -> Result<Upgrade, NotAnUpgrade> {
        let (mut parts, ()) = request.into_parts();
        parts.extensions.insert(hyper::upgrade::on(Request::new(())));
        Upgrade::from_request_parts(&mut parts, &()).await
    }

    fn upgrade() -> axum::http::request::Builder {
        Request::get("/cable")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "WebSocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    #[tokio::test]
    async fn the_rfc_example_key_is_accepted_and_the_subprotocol_picked_from_a_list() {
        let request =
            upgrade().header("sec-websocket-protocol", "other, actioncable-v1-json").body(()).unwrap();
        let upgrade = check(request).await.unwrap();
        assert_eq!(upgrade.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert!(upgrade.subprotocol);
        let response = upgrade.accept(tracing::Span::none(), |_| async {});
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(response.headers()[header::SEC_WEBSOCKET_PROTOCOL], SUBPROTOCOL);
    }

    #[tokio::test]
    async fn no_subprotocol_is_answered_when_none_offered_is_ours() {
        let request = upgrade().header("sec-websocket-protocol", "actioncable-unsupported").body(()).unwrap();
        let response = check(request).await.unwrap().accept(tracing::Span::none(), |_| async {});
        assert!(!response.headers().contains_key(header::SEC_WEBSOCKET_PROTOCOL));
    }

    #[tokio::test]
    async fn a_request_that_is_not_an_upgrade_is_refused_with_why() {
        let plain = Request::get("/cable").body(()).unwrap();
        assert_eq!(check(plain).await.unwrap_err().0, StatusCode::BAD_REQUEST);
        let post = Request::post("/cable").body(()).unwrap();
        assert_eq!(check(post).await.unwrap_err().0, StatusCode::METHOD_NOT_ALLOWED);
        let mut old = upgrade().body(()).unwrap();
        old.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("8"));
        assert_eq!(check(old).await.unwrap_err().1, "`Sec-WebSocket-Version` header did not include '13'");
        let mut keyless = upgrade().body(()).unwrap();
        keyless.headers_mut().remove(header::SEC_WEBSOCKET_KEY);
        assert_eq!(check(keyless).await.unwrap_err().1, "`Sec-WebSocket-Key` header missing");
    }
}
