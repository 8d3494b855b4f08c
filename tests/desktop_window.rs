//! The desktop app in its real window: the offline launch shows the cache, two windows share one
//! connection, and changing the hub URL in the settings reconnects.

mod support;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use pressroom_testkit::TestHub;
use serde_json::json;
use support::desktop::cached_job_orders;
use support::{AppWindow, PROMPTLY};

/// Replaces the text of the input with `data-testid`.
async fn fill(window: &AppWindow, test_id: &str, text: &str) {
    let input = window.client.find(Locator::Css(&format!("[data-testid='{test_id}']"))).await.expect(test_id);
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

#[tokio::test]
async fn a_launch_without_the_hub_shows_the_cached_view() {
    let hub = TestHub::start().await;
    let cable_url = hub.hub.cable_url();
    let data_dir = tempfile::tempdir().unwrap();
    let window = AppWindow::launch_in(data_dir.path(), &[("PRESSROOM_HUB_URL", &cable_url)]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    pressroom_testkit::post_job_orders(&hub, 3).await;
    window.wait_total("job_orders", 3).await;
    // The cache is written once changes settle (about a second): wait for it, then quit.
    let deadline = Instant::now() + PROMPTLY;
    while cached_job_orders(data_dir.path()).await != Some(3) {
        assert!(Instant::now() < deadline, "the cache was never written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    window.close().await;
    hub.stop().await;

    // The hub is gone now: the relaunched app shows what it last knew, labelled as cached.
    let window = AppWindow::launch_in(data_dir.path(), &[("PRESSROOM_HUB_URL", &cable_url)]).await;
    window.wait_for("connection", "Offline", |t| t == "Offline").await;
    window
        .wait_for("offline-banner", "the offline banner", |t| {
            t.starts_with("Offline — showing the data cached at")
        })
        .await;
    window.wait_total("job_orders", 3).await;
    window.wait_total("books", 1).await;
    window
        .wait_for("connection-detail", "the retry", |t| t.starts_with("can't reach the hub · retrying in"))
        .await;
    let age =
        window.wait_for("data-age", "the cached data's age", |t| t.starts_with("cached data from")).await;
    assert!(age.ends_with("just now") || age.ends_with("min ago"), "{age}");
    window.close().await;

    // Both sessions logged to the data dir, where a user can find them.
    let logs: String = std::fs::read_dir(data_dir.path().join("logs"))
        .expect("a logs directory in the data dir")
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(logs.matches("starting").count(), 2, "{logs}");
    assert!(logs.contains("showing cached data"), "{logs}");
}

#[tokio::test]
async fn two_windows_share_one_connection() {
    let hub = TestHub::start().await;
    let cable_url = hub.hub.cable_url();
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &cable_url)]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    let first = window.client.window().await.unwrap();
    let label = window.invoke("new_window", json!({})).await.unwrap().as_str().unwrap().to_owned();
    assert!(label.starts_with("dashboard-"), "{label}");
    // The new window appears among the session's windows.
    let deadline = Instant::now() + PROMPTLY;
    let second = loop {
        let handles = window.client.windows().await.unwrap();
        if let Some(other) = handles.into_iter().find(|h| *h != first) {
            break other;
        }
        assert!(Instant::now() < deadline, "the second window never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    window.client.switch_to_window(second.clone()).await.unwrap();
    window.wait_for("connection", "Live", |t| t == "Live").await;

    hub.post("/api/job_orders", json!({"customer": "Both", "quantity": 2, "book_title": "Dune"})).await;
    window.wait_total("job_orders", 1).await;
    window.client.switch_to_window(first).await.unwrap();
    window.wait_total("job_orders", 1).await;
    assert_eq!(hub.hub.cable_connections(), 1, "one connection serves both windows");
    window.close().await;
    hub.stop().await;
}

#[tokio::test]
async fn changing_the_hub_url_in_settings_reconnects() {
    let first = TestHub::start().await;
    let second = TestHub::start().await;
    for n in 0..2 {
        second
            .post("/api/job_orders", json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "B"}))
            .await;
    }
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &first.hub.cable_url())]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    window.wait_total("job_orders", 0).await;

    // Through the settings panel, as a person would. A refused change is explained next to
    // each field and changes nothing.
    window.click("open-settings").await;
    fill(&window, "hub-url", "http://wrong").await;
    fill(&window, "refresh-interval", "abc").await;
    window.click("save-settings").await;
    window.wait_for("error-hub_url", "an error", |t| t.contains("ws://")).await;
    // What was typed reaches the backend, whose message says what a number here must be.
    window
        .wait_for("error-refresh_interval_s", "an error", |t| {
            t.contains("whole number") && t.contains("between 1 and 3600")
        })
        .await;
    let stored = window.invoke("settings", json!({})).await.unwrap();
    assert_eq!(stored["hub_url"], first.hub.cable_url(), "the old value is kept");

    fill(&window, "hub-url", &second.hub.cable_url()).await;
    fill(&window, "refresh-interval", "10").await;
    window.click("save-settings").await;
    window.wait_total("job_orders", 2).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    window.close().await;
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_hand_broken_settings_file_keeps_what_reads_and_says_what_was_reset() {
    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    // Edited by hand: the hub URL is right, two values are not.
    let file = json!({"settings": {
        "hub_url": hub.hub.cable_url(),
        "refresh_interval_s": "abc",
        "frame_window_ms": 0,
        "notify_job_orders": false,
    }});
    std::fs::write(data_dir.path().join("settings.json"), file.to_string()).unwrap();
    // No PRESSROOM_HUB_URL: only the file says where the hub is.
    let window = AppWindow::launch_in(data_dir.path(), &[]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    pressroom_testkit::post_job_orders(&hub, 2).await;
    window.wait_total("job_orders", 2).await;
    let settings = window.invoke("settings", json!({})).await.unwrap();
    assert_eq!(settings["refresh_interval_s"], 10, "{settings}");
    assert_eq!(settings["notify_job_orders"], false, "{settings}");
    let notes = settings["notes"].to_string();
    assert!(notes.contains("refresh_interval_s") && notes.contains("frame_window_ms"), "{notes}");
    window.close().await;
    hub.stop().await;
}
