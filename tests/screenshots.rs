//! Makes the README's pictures from the real window: light, dark and offline, against a hub
//! generating realistic activity. A tool rather than a test, so it is ignored by default:
//!
//! ```sh
//! xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//!   cargo test --test screenshots -- --ignored
//! ```

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use support::AppWindow;
use tokio_util::sync::CancellationToken;

#[tokio::test]
#[ignore = "makes docs/screenshot-*.png; run by hand"]
async fn make_the_readme_screenshots() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database).start().await.unwrap();
    // A day of job orders as `pressroom-hub demo` seeds it, a burst of mixed activity, then a
    // steady trickle, through the same write path as the API.
    pressroom_hub::demo::seed_history(&hub.domain, 3.0, chrono::Utc::now()).await.unwrap();
    let burst = CancellationToken::new();
    tokio::spawn(pressroom_hub::demo::run(hub.domain.clone(), 15.0, burst.clone()));
    tokio::time::sleep(Duration::from_secs(8)).await; // letting the generator make history
    burst.cancel();
    let trickle = CancellationToken::new();
    tokio::spawn(pressroom_hub::demo::run(hub.domain.clone(), 3.0, trickle.clone()));

    let data_dir = tempfile::tempdir().unwrap();
    let window = AppWindow::launch_in(data_dir.path(), &[("PRESSROOM_HUB_URL", &hub.cable_url())]).await;
    window
        .settings(json!({"theme": "light", "notify_job_orders": false, "notify_failed_exports": false}))
        .await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    tokio::time::sleep(Duration::from_secs(6)).await; // a few live events, and the counters settled
    window.screenshot(&docs.join("screenshot.png")).await;
    window.settings(json!({"theme": "dark"})).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    window.screenshot(&docs.join("screenshot-dark.png")).await;
    window.settings(json!({"theme": "light"})).await;
    // The smallest size the layout is meant for.
    window.client.set_window_size(900, 600).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await; // relayout, and the cache writer settles
    window.screenshot(&docs.join("screenshot-small.png")).await;
    window.close().await;
    trickle.cancel();
    hub.stop().await.unwrap();

    let window =
        AppWindow::launch_in(data_dir.path(), &[("PRESSROOM_HUB_URL", "ws://127.0.0.1:9/cable")]).await;
    window.wait_for("connection", "Offline", |t| t == "Offline").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    window.screenshot(&docs.join("screenshot-offline.png")).await;
    window.close().await;
}
