//! The app as a desktop citizen, in its real window: nothing lost however it is ended — the
//! window closed or a signal sent right after an update —, a truthful state when nothing answers,
//! and the conventions (one instance per data dir, the window's place remembered).

mod support;

use std::path::Path;

use nix::sys::signal::Signal;
use pressroom_testkit::TestHub;
use serde_json::json;
use support::desktop::{self, cached_job_orders};
use support::AppWindow;

/// Launches the app live on `hub` with `data_dir`, then lets `orders` job orders arrive and
/// shows them — and returns at once, before anything had a chance to be saved.
async fn live_with_orders(hub: &TestHub, data_dir: &Path, orders: u64) -> (AppWindow, i32) {
    let window = AppWindow::launch_in(data_dir, &[("PRESSROOM_HUB_URL", &hub.hub.cable_url())]).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    pressroom_testkit::post_job_orders(hub, orders).await;
    window.wait_total("job_orders", orders).await;
    let pid = desktop::app_pid(data_dir).await;
    (window, pid)
}

#[tokio::test]
async fn closing_the_window_right_after_an_update_keeps_it() {
    let _turn = desktop::one_at_a_time().await;
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
async fn a_launch_while_the_last_one_still_saves_waits_for_it_and_shows_its_view() {
    let _turn = desktop::one_at_a_time().await;
    desktop::window_manager();
    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (window, pid) = live_with_orders(&hub, data_dir.path(), 0).await;
    // A slow disk: the saves of what comes next wait on the cache's write lock, still while
    // the app exits.
    let writes = desktop::hold_cache_writes(data_dir.path()).await;
    pressroom_testkit::post_job_orders(&hub, 3).await;
    window.wait_total("job_orders", 3).await;
    let x_window = desktop::x_window(pid).await;
    desktop::close_window(&x_window);
    let disk = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        writes.release().await;
    });
    // Launched again meanwhile, with nothing to connect to: the new instance must not hand over
    // to the leaving one, and must show the view the leaving one saves, not the one before it.
    let nowhere = format!("ws://127.0.0.1:{}/cable", support::free_port());
    let relaunched = AppWindow::launch_in(data_dir.path(), &[("PRESSROOM_HUB_URL", &nowhere)]).await;
    disk.await.unwrap();
    relaunched.wait_for("connection", "Offline", |t| t == "Offline").await;
    relaunched.wait_total("job_orders", 3).await;
    desktop::wait_exit(pid).await;
    assert_eq!(desktop::app_pids(data_dir.path()).len(), 1, "one instance runs");
    relaunched.close().await;
    drop(window);
    hub.stop().await;
}

#[tokio::test]
async fn a_stop_signal_right_after_an_update_saves_and_exits() {
    let _turn = desktop::one_at_a_time().await;
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
    let _turn = desktop::one_at_a_time().await;
    let nowhere = format!("ws://127.0.0.1:{}/cable", support::free_port());
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

#[tokio::test]
async fn a_second_launch_with_the_same_data_dir_hands_over_and_exits() {
    let _turn = desktop::one_at_a_time().await;
    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (window, first) = live_with_orders(&hub, data_dir.path(), 1).await;
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_pressroom"))
        .env("PRESSROOM_DATA_DIR", data_dir.path())
        .env("PRESSROOM_HUB_URL", hub.hub.cable_url())
        .status()
        .expect("the app binary runs");
    assert!(second.success(), "the second launch exits 0: {second:?}");
    assert_eq!(desktop::app_pids(data_dir.path()), [first], "no second app process remains");
    assert_eq!(hub.hub.cable_connections(), 1, "one connection for the data dir");
    let logs: String = std::fs::read_dir(data_dir.path().join("logs"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(logs.contains("a second launch handed over"), "{logs}");
    // Another data dir is another profile: it runs beside the first.
    let other = tempfile::tempdir().unwrap();
    let other_hub = TestHub::start().await;
    let (other_window, _) = live_with_orders(&other_hub, other.path(), 2).await;
    other_window.close().await;
    other_hub.stop().await;
    window.close().await;
    hub.stop().await;
}

#[tokio::test]
async fn the_window_comes_back_where_it_was_left() {
    let _turn = desktop::one_at_a_time().await;
    desktop::window_manager();
    let hub = TestHub::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let (window, pid) = live_with_orders(&hub, data_dir.path(), 0).await;
    let x_window = desktop::x_window(pid).await;
    desktop::move_resize(&x_window, (140, 90), (1000, 680));
    desktop::close_window(&x_window);
    desktop::wait_exit(pid).await;
    drop(window);

    let (window, pid) = live_with_orders(&hub, data_dir.path(), 0).await;
    let x_window = desktop::x_window(pid).await;
    let (position, size) = desktop::geometry(&x_window);
    assert_eq!(size, (1000, 680), "the size came back");
    // The frame's decorations may shift the client area by a few pixels.
    assert!(position.0.abs_diff(140) <= 40 && position.1.abs_diff(90) <= 40, "{position:?}");
    window.close().await;
    hub.stop().await;
}

#[tokio::test]
async fn closing_hides_to_the_tray_where_one_is_shown_and_events_still_count() {
    let _turn = desktop::one_at_a_time().await;
    let hub = TestHub::start().await;
    let app = desktop::closed_to_tray(&hub).await;
    let dir = app.data_dir.path();
    assert_eq!(desktop::app_pids(dir), [app.pid], "closed to the tray, still running");
    hub.post("/api/job_orders", json!({"customer": "While hidden", "quantity": 1, "book_title": "Dune"}))
        .await;
    let deadline = std::time::Instant::now() + support::PROMPTLY;
    while cached_job_orders(dir).await != Some(1) {
        assert!(std::time::Instant::now() < deadline, "events are applied and cached while hidden");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Launching again shows the window, and its catch-up frame brings the exact state.
    desktop::launch_again(dir, &app.bus);
    desktop::wait_mapped(&app.x_window, true).await;
    app.window.wait_total("job_orders", 1).await;
    desktop::signal(app.pid, Signal::SIGTERM);
    desktop::wait_exit(app.pid).await;
    assert_eq!(cached_job_orders(dir).await, Some(1));
    drop(app);
    hub.stop().await;
}

#[tokio::test]
async fn launch_at_login_is_the_autostart_entry_and_a_missing_notification_service_is_noted() {
    let _turn = desktop::one_at_a_time().await;
    let hub = TestHub::start().await;
    // The autostart entry goes below the home dir: a home of the test's own.
    let home = tempfile::tempdir().unwrap();
    let config_home = home.path().join(".config").to_string_lossy().into_owned();
    let bus = desktop::PrivateBus::start();
    let window = AppWindow::launch(&[
        ("PRESSROOM_HUB_URL", &hub.hub.cable_url()),
        ("HOME", &home.path().to_string_lossy()),
        ("XDG_CONFIG_HOME", &config_home),
        // No notification service on this bus.
        ("DBUS_SESSION_BUS_ADDRESS", &bus.address),
    ])
    .await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    let entry = home.path().join(".config/autostart/Pressroom.desktop");
    assert_eq!(window.invoke("settings", json!({})).await.unwrap()["launch_at_login"], false);
    let view = window.settings(json!({"launch_at_login": true})).await;
    assert_eq!(view["launch_at_login"], true);
    let desktop_entry = std::fs::read_to_string(&entry).expect("an autostart entry");
    assert!(desktop_entry.contains(env!("CARGO_BIN_EXE_pressroom")), "{desktop_entry}");
    let view = window.settings(json!({"launch_at_login": false})).await;
    assert_eq!(view["launch_at_login"], false);
    assert!(!entry.exists(), "the entry is gone");

    hub.post("/api/job_orders", json!({"customer": "Noted", "quantity": 1, "book_title": "Dune"})).await;
    let deadline = std::time::Instant::now() + support::PROMPTLY;
    loop {
        let notes = window.invoke("settings", json!({})).await.unwrap()["notes"].clone();
        if notes
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n.as_str().unwrap().contains("No notification service")))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no note about notifications: {notes}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    window.close().await;
    hub.stop().await;
}
