//! The app as a desktop citizen, in its real window: nothing lost however it is ended — the
//! window closed or a signal sent right after an update —, a truthful state when nothing answers,
//! and the conventions (one instance per data dir, the window's place remembered).

mod support;

use std::path::Path;

use nix::sys::signal::Signal;
use serde_json::json;
use support::desktop::{self, cached_job_orders};
use support::{AppWindow, TestHub};

/// Launches the app live on `hub` with `data_dir`, then lets `orders` job orders arrive and
/// shows them — and returns at once, before anything had a chance to be saved.
async fn live_with_orders(hub: &TestHub, data_dir: &Path, orders: u64) -> (AppWindow, i32) {
    let window = AppWindow::launch_in(data_dir, &[("PRESSROOM_HUB_URL", &hub.hub.cable_url())]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    for n in 0..orders {
        hub.post(
            "/api/job_orders",
            json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "Dune"}),
        )
        .await;
    }
    window.wait_total("job_orders", orders).await;
    let pid = desktop::app_pid(data_dir).await;
    (window, pid)
}

#[tokio::test]
async fn closing_the_window_right_after_an_update_keeps_it() {
    desktop::window_manager();
    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (window, pid) = live_with_orders(&hub, data_dir.path(), 3).await;
    let x_window = desktop::x_window(pid).await;
    desktop::close_window(&x_window);
    let took = desktop::wait_exit(pid).await;
    println!("closed: the app exited {took:?} after the close");
    assert_eq!(cached_job_orders(data_dir.path()).await, Some(3), "the last view was saved");
    drop(window);
    hub.stop().await;
}

#[tokio::test]
async fn a_stop_signal_right_after_an_update_saves_and_exits() {
    for (orders, signal) in [(2, Signal::SIGTERM), (3, Signal::SIGINT), (4, Signal::SIGHUP)] {
        let hub = TestHub::start().await;
        let data_dir = tempfile::tempdir().unwrap();
        let (window, pid) = live_with_orders(&hub, data_dir.path(), orders).await;
        desktop::signal(pid, signal);
        let took = desktop::wait_exit(pid).await;
        println!("{signal}: the app exited {took:?} after the signal");
        assert_eq!(
            cached_job_orders(data_dir.path()).await,
            Some(orders),
            "{signal}: the last view was saved"
        );
        drop(window);
        hub.stop().await;
    }
}

#[tokio::test]
async fn with_nothing_listening_it_says_offline_never_polling() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = format!("ws://127.0.0.1:{port}/cable");
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &nowhere)]).await;
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + support::PROMPTLY;
    loop {
        let state = window.text("connection").await.unwrap_or_default();
        if seen.last() != Some(&state) {
            seen.push(state.clone());
        }
        if state == "Offline" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never Offline: {seen:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!seen.iter().any(|s| s == "Polling"), "nothing answers, so nothing is polled: {seen:?}");
    window
        .wait_for("connection-detail", "the retry", |t| t.starts_with("can't reach the hub · retrying in"))
        .await;
    window.wait_for("offline-banner", "the offline banner", |t| t.contains("nothing is cached yet")).await;
    assert!(window.text("polling-banner").await.is_none());
    window.close().await;
}
