//! Cross-site WebSocket hijacking and DNS rebinding, against a running hub.

use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_cable_client::{connect, request, tungstenite, Error};
use pressroom_hub::auth::Auth;
use pressroom_testkit::TestHub;

/// The handshake's HTTP status (101 when upgraded).
async fn handshake(hub: &TestHub, origin: Option<&str>, host: Option<&str>) -> u16 {
    let mut request = request(&hub.hub.cable_url(), None).unwrap();
    let headers = request.headers_mut();
    if let Some(origin) = origin {
        headers.insert("Origin", origin.parse().unwrap());
    }
    if let Some(host) = host {
        headers.insert("Host", host.parse().unwrap());
    }
    match connect(request, WebSocketConfig::default(), false).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(Error::WebSocket(tungstenite::Error::Http(response))) => response.status().as_u16(),
        Err(error) => panic!("handshake failed: {error}"),
    }
}

async fn rest(hub: &TestHub, origin: Option<&str>, host: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(hub.url("/api/analytics/summary"));
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    if let Some(host) = host {
        request = request.header("Host", host);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_zero_config_hub_refuses_foreign_pages_and_rebound_names() {
    let hub = TestHub::start().await;
    let own = hub.hub.http_url();
    assert_eq!(handshake(&hub, None, None).await, 101, "a native client");
    assert_eq!(handshake(&hub, Some(&own), None).await, 101, "the hub's own origin");
    assert_eq!(handshake(&hub, Some("tauri://localhost"), None).await, 101, "the desktop webview");
    assert_eq!(handshake(&hub, Some("http://tauri.localhost"), None).await, 101);
    assert_eq!(handshake(&hub, Some("https://evil.example"), None).await, 403);
    let port = hub.hub.addr.port();
    assert_eq!(handshake(&hub, None, Some(&format!("evil.example:{port}"))).await, 403);
    assert_eq!(handshake(&hub, None, Some(&format!("localhost:{port}"))).await, 101);

    let (status, body) = rest(&hub, Some("https://evil.example"), None).await;
    assert_eq!(status, 403);
    assert!(body.contains("forbidden_origin") && !body.contains("totals"), "{body}");
    let (status, body) = rest(&hub, None, Some(&format!("evil.example:{port}"))).await;
    assert_eq!(status, 403);
    assert!(body.contains("forbidden_host"), "{body}");
    assert_eq!(rest(&hub, None, Some(&format!("[::1]:{port}"))).await.0, 200);
    assert_eq!(rest(&hub, None, None).await.0, 200);
    hub.stop().await;
}

#[tokio::test]
async fn with_tokens_any_host_is_served_and_origins_still_checked() {
    let hub = TestHub::start_with(Auth::new(&["t".into()], &[]).unwrap()).await;
    let ok = reqwest::Client::new()
        .get(hub.url("/api/analytics/summary"))
        .bearer_auth("t")
        .header("Host", "hub.example");
    assert_eq!(ok.send().await.unwrap().status(), 200);
    let foreign = reqwest::Client::new()
        .get(hub.url("/api/analytics/summary"))
        .bearer_auth("t")
        .header("Origin", "https://evil.example");
    assert_eq!(foreign.send().await.unwrap().status(), 403);
    assert_eq!(handshake(&hub, Some("https://evil.example"), None).await, 403);
    hub.stop().await;
}

#[tokio::test]
async fn allowed_origins_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = pressroom_hub::Hub {
        allowed_origins: vec!["https://dash.example".into()],
        ..pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database)
    }
    .start()
    .await
    .unwrap();
    let status = |origin: &'static str| {
        let url = format!("{}/api/analytics/summary", hub.http_url());
        async move { reqwest::Client::new().get(url).header("Origin", origin).send().await.unwrap().status() }
    };
    assert_eq!(status("https://dash.example").await, 200);
    assert_eq!(status("https://other.example").await, 403);
    hub.stop().await.unwrap();
}
