//! The original request's acceptance criteria in the real window, each with polling and
//! auto-refresh off unless it tests them, so only the socket can pass a live test. Updates
//! without a refresh, two windows, the offline launch and a settings change are in
//! `live_total.rs` and `desktop_window.rs`.

mod support;

use std::path::Path;

use pressroom_testkit::TestHub;
use serde_json::json;
use support::AppWindow;

/// Real-time on, no polling fallback, no auto-refresh.
async fn socket_only(window: &AppWindow) {
    window.settings(json!({"realtime": true, "auto_refresh": false})).await;
}

async fn order(hub: &TestHub, n: u32) {
    hub.post("/api/job_orders", json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "Dune"}))
        .await;
}

/// Saves a screenshot into docs/ when `PRESSROOM_SCREENSHOTS` names the folder (the README's
/// pictures are made this way).
async fn screenshot(window: &AppWindow, name: &str) {
    if let Some(dir) = std::env::var_os("PRESSROOM_SCREENSHOTS") {
        window.screenshot(&Path::new(&dir).join(name)).await;
    }
}

#[tokio::test]
async fn the_state_goes_reconnecting_when_the_hub_stops_and_live_with_its_totals_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub =
        pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database.clone()).start().await.unwrap();
    let addr = hub.addr;
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &hub.cable_url())]).await;
    socket_only(&window).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    assert!(window.class_of("live-badge").await.split(' ').any(|c| c == "on"), "the Live badge is lit");

    hub.stop().await.unwrap();
    window.wait_for("connection", "Reconnecting", |t| t == "Reconnecting").await;
    assert!(!window.class_of("live-badge").await.split(' ').any(|c| c == "on"), "the Live badge greys");
    let detail = window.wait_for("connection-detail", "attempt details", |t| t.starts_with("attempt")).await;
    assert!(detail.contains("next try in"), "{detail}");

    // The hub returns on the same address and database, with orders the app has not seen.
    let hub = pressroom_hub::Hub::new(addr, database).start().await.unwrap();
    let url = format!("{}/api/job_orders", hub.http_url());
    for n in 0..4 {
        let body = json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "Dune"});
        reqwest::Client::new().post(&url).json(&body).send().await.unwrap();
    }
    window.wait_for("connection", "Live", |t| t == "Live").await;
    window.wait_total("job_orders", 4).await;
    window.wait_total("books", 1).await;
    window.close().await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn pause_freezes_the_view_and_resume_catches_up_exactly() {
    let hub = TestHub::start().await;
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &hub.hub.cable_url())]).await;
    socket_only(&window).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    order(&hub, 0).await;
    window.wait_total("job_orders", 1).await;

    window.click("pause").await;
    window.wait_for("paused", "paused", |t| t.starts_with("Paused")).await;
    for n in 1..=3 {
        order(&hub, n).await;
    }
    window.wait_for("paused", "3 unseen", |t| t == "Paused · 3 new events").await;
    window.wait_total("job_orders", 1).await;
    screenshot(&window, "screenshot-paused.png").await;

    window.click("pause").await; // now labelled Resume
    window.wait_total("job_orders", 4).await;
    assert!(window.text("paused").await.is_none(), "the pause note is gone");
    window.close().await;
    hub.stop().await;
}

#[tokio::test]
async fn real_time_off_refreshes_on_its_interval_and_manual_does_not() {
    let hub = TestHub::start().await;
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &hub.hub.cable_url())]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    window.settings(json!({"realtime": false, "auto_refresh": true, "refresh_interval_s": 1})).await;
    window.wait_for("connection", "Auto-refresh", |t| t == "Auto-refresh").await;
    let detail = window.wait_for("connection-detail", "the interval", |t| t.contains("every 1 s")).await;
    assert!(detail.contains("real-time off"), "{detail}");
    assert_eq!(hub.hub.cable_connections(), 1, "the socket was not reopened");

    order(&hub, 0).await;
    window.wait_total("job_orders", 1).await;

    window.settings(json!({"auto_refresh": false})).await;
    window.wait_for("connection", "Manual", |t| t == "Manual").await;
    order(&hub, 1).await;
    // Reconnect-now in manual mode refreshes once.
    window.click("reconnect").await;
    window.wait_total("job_orders", 2).await;

    window.settings(json!({"realtime": true})).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    order(&hub, 2).await;
    window.wait_total("job_orders", 3).await;
    window.close().await;
    hub.stop().await;
}
