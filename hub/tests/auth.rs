//! The auth matrix: REST and cable, with read-write, read-only, unknown and missing tokens.

use futures_util::StreamExt;
use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_cable_client::tungstenite::Message;
use pressroom_cable_client::{connect, request, Socket};
use pressroom_hub::auth::Auth;
use pressroom_hub::Hub;
use pressroom_protocol::ServerFrame;
use pressroom_testkit::{TestHub, PROMPTLY};
use serde_json::json;

/// Upgrades as a stock Action Cable client does (the subprotocol, and the token as a bearer).
async fn open(url: &str, bearer: Option<&str>) -> Socket {
    connect(request(url, bearer).unwrap(), WebSocketConfig::default(), false).await.unwrap().0
}

async fn hub_with_tokens() -> TestHub {
    TestHub::start_with(Auth::new(&["writer-token".into()], &["reader-token".into()]).unwrap()).await
}

async fn status(hub: &TestHub, method: reqwest::Method, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().request(method.clone(), hub.url(path));
    if method == reqwest::Method::POST {
        request = request.json(&json!({"customer": "A", "quantity": 1, "book_title": "T"}));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn rest_requires_a_token_and_read_only_cannot_write() {
    let hub = hub_with_tokens().await;
    use reqwest::Method;
    let cases = [
        (Method::GET, "/api/analytics/summary", None, 401),
        (Method::GET, "/api/analytics/summary", Some("wrong"), 401),
        (Method::GET, "/api/analytics/summary", Some("reader-token"), 200),
        (Method::GET, "/api/analytics/summary", Some("writer-token"), 200),
        (Method::POST, "/api/job_orders", None, 401),
        (Method::POST, "/api/job_orders", Some("reader-token"), 403),
        (Method::POST, "/api/job_orders", Some("writer-token"), 201),
        (Method::GET, "/healthz", None, 200),
    ];
    for (method, path, token, expected) in cases {
        let (status, body) = status(&hub, method.clone(), path, token).await;
        assert_eq!(status, expected, "{method} {path} with {token:?}: {body}");
        if expected >= 400 {
            assert!(!body.contains("totals") && !body.contains("customer"), "no data in an error: {body}");
            assert!(body.contains("\"code\""), "the contract's error shape: {body}");
        }
    }
    hub.stop().await;
}

async fn cable_frames(hub: &TestHub, url: String, bearer: Option<&str>) -> Vec<Message> {
    let mut ws = open(&url, bearer).await;
    let _ = hub;
    let mut frames = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout(PROMPTLY, ws.next()).await {
        let done =
            matches!(message, Message::Close(_)) || message.to_text().is_ok_and(|t| t.contains("welcome"));
        frames.push(message);
        if done {
            break;
        }
    }
    frames
}

#[tokio::test]
async fn the_cable_refuses_unknown_tokens_as_rails_does() {
    let hub = hub_with_tokens().await;
    let url = hub.hub.cable_url();
    let unauthorized = ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false };
    for (url, bearer) in
        [(url.clone(), None), (format!("{url}?token=wrong"), None), (url.clone(), Some("wrong"))]
    {
        let frames = cable_frames(&hub, url.clone(), bearer).await;
        let first = ServerFrame::parse(frames[0].to_text().unwrap()).unwrap();
        assert_eq!(first, unauthorized, "{url} {bearer:?}");
        assert!(matches!(frames.last(), Some(Message::Close(_))), "then closed: {frames:?}");
    }
    for (url, bearer) in [(format!("{url}?token=reader-token"), None), (url.clone(), Some("writer-token"))] {
        let frames = cable_frames(&hub, url.clone(), bearer).await;
        assert_eq!(ServerFrame::parse(frames[0].to_text().unwrap()).unwrap(), ServerFrame::Welcome, "{url}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn without_tokens_a_non_loopback_listen_is_refused_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let error = Hub::new("0.0.0.0:0".parse().unwrap(), database).start().await.err().expect("refused");
    assert!(error.to_string().contains("--token"), "the error says how to fix it: {error}");
}

#[tokio::test]
async fn the_token_is_checked_before_a_connection_slot_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = Hub {
        auth: Auth::new(&["writer-token".into()], &[]).unwrap(),
        limits: pressroom_hub::limits::Limits { max_connections: 1, ..Default::default() },
        ..Hub::new("127.0.0.1:0".parse().unwrap(), database)
    }
    .start()
    .await
    .unwrap();
    let url = hub.cable_url();
    let _holder = open(&format!("{url}?token=writer-token"), None).await;
    // The one slot is taken; an unauthorized client is still told why, not 503.
    let (mut ws, _) = connect(request(&url, None).unwrap(), WebSocketConfig::default(), false)
        .await
        .expect("upgraded, not 503");
    let first = tokio::time::timeout(PROMPTLY, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(
        ServerFrame::parse(first.to_text().unwrap()).unwrap(),
        ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false }
    );
    hub.stop().await.unwrap();
}
