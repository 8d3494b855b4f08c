//! Measures how the real window keeps up under a flood: the hub generates 200 events/s, the
//! frame window is at its 50 ms minimum (20 frames/s), and the page records its own frame times
//! with requestAnimationFrame (WebKitGTK has no Long Tasks API). A benchmark, not a test: it is
//! ignored by default and its numbers are recorded in docs/ui.md.
//!
//! ```sh
//! xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//!   cargo test --release --test frame_times -- --ignored --nocapture
//! ```

mod support;

use std::time::Duration;

use serde_json::json;
use support::AppWindow;
use tokio_util::sync::CancellationToken;

const RECORD: &str = "
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => { window.__frames.push(now - last); last = now; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);";

/// Clicks the pause button and calls `done` with the ms until a frame is painted in which
/// `selector` exists (or, with `gone`, no longer exists).
const RESPOND: &str = "
    const respond = (selector, gone, done) => {
        const t0 = performance.now();
        const ready = () => (document.querySelector(selector) === null) === gone;
        const observer = new MutationObserver(() => {
            if (ready()) { observer.disconnect(); requestAnimationFrame(() => done(performance.now() - t0)); }
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true });
        document.querySelector('[data-testid=pause]').click();
    };";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand, record the numbers in docs/ui.md"]
async fn frame_times_under_a_flood() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database).start().await.unwrap();
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &hub.cable_url())]).await;
    window
        .settings(json!({"frame_window_ms": 50, "notify_job_orders": false, "notify_failed_exports": false}))
        .await;
    window.wait_for("connection", "Live", |t| t == "Live").await;

    // PRESSROOM_FLOOD_RATE=0 measures the idle page, for comparison.
    let rate: f64 = std::env::var("PRESSROOM_FLOOD_RATE").ok().and_then(|r| r.parse().ok()).unwrap_or(200.0);
    let flood = CancellationToken::new();
    if rate > 0.0 {
        tokio::spawn(pressroom_hub::demo::run(hub.domain.clone(), rate, flood.clone()));
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // warming up under load
    if std::env::var_os("PRESSROOM_NO_MOTION").is_some() {
        // For comparison: the same page with every CSS animation and transition off.
        let style = "const s = document.createElement('style'); \
            s.textContent = '*, *::before { animation: none !important; transition: none !important; }'; \
            document.head.appendChild(s);";
        window.client.execute(style, vec![]).await.unwrap();
    }
    window.client.execute(RECORD, vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(15)).await; // the measured period
    let frames: Vec<f64> =
        serde_json::from_value(window.client.execute("return window.__frames;", vec![]).await.unwrap())
            .unwrap();
    // Input under the flood: from a click on Pause (or Resume) to the next painted frame that
    // shows the new state, a round trip through the backend.
    let mut responses = Vec::new();
    for _ in 0..5 {
        for (shows, gone) in [("[data-testid=paused]", false), ("[data-testid=paused]", true)] {
            let script = format!("{RESPOND} respond({shows:?}, {gone}, arguments[arguments.length - 1]);");
            let took = window.client.execute_async(&script, vec![]).await.unwrap();
            responses.push(took.as_f64().unwrap());
        }
    }
    flood.cancel();
    responses.sort_by(f64::total_cmp);
    let shown = window.total("job_orders").await;

    let mut sorted = frames.clone();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let long = frames.iter().filter(|f| **f > 50.0).count();
    println!(
        "{rate} events/s: frames {} in 15 s ({:.1}/s); frame time p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         frames over 50 ms: {long}; job orders shown {shown}",
        frames.len(),
        frames.len() as f64 / 15.0,
        pct(0.5),
        pct(0.95),
        pct(0.99),
        sorted.last().unwrap(),
    );
    println!(
        "input to paint (pause/resume, {} clicks): p50 {:.0} ms, max {:.0} ms",
        responses.len(),
        responses[responses.len() / 2],
        responses.last().unwrap()
    );
    window.close().await;
    hub.stop().await.unwrap();
}
