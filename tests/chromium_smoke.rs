//! The dashboard in headless Chromium (the engine of WebView2 on Windows), with a small stand-in
//! for `window.__TAURI__` that answers with views and replays frames built from the protocol
//! crate's own types, so the stand-in cannot drift from what the backend sends.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use pressroom_protocol::settings::{Settings, SettingsView, Theme};
use pressroom_protocol::{
    ConnectionState, ConnectionView, DashboardView, Event, EventKind, Frame, Snapshot, Totals,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The stand-in: `invoke` answers from fixed views, `listen` keeps handlers for `__emit`.
fn tauri_stub(dashboard: &DashboardView, settings: &SettingsView) -> String {
    format!(
        "window.__handlers = {{}};
        window.__emit = (name, payload) => (window.__handlers[name] || []).forEach(h => h({{ event: name, payload }}));
        window.__TAURI__ = {{
          core: {{ invoke: async (cmd) => ({{ dashboard: {dashboard}, settings: {settings} }})[cmd] ?? null }},
          event: {{ listen: async (name, handler) => {{
            (window.__handlers[name] = window.__handlers[name] || []).push(handler);
            return () => {{ window.__handlers[name] = window.__handlers[name].filter(h => h !== handler); }};
          }} }},
        }};",
        dashboard = serde_json::to_string(dashboard).unwrap(),
        settings = serde_json::to_string(settings).unwrap(),
    )
}

/// Serves `ui/dist`, with the stand-in loaded before the app, on a free loopback port.
async fn serve(dist: PathBuf, stub: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (dist, stub) = (dist.clone(), stub.clone());
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..n]);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (body, kind) = match path.as_str() {
                    "/" | "/index.html" => {
                        let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
                        let index = index.replace("<head>", "<head><script src=\"tauri-stub.js\"></script>");
                        (index.into_bytes(), "text/html")
                    }
                    "/tauri-stub.js" => (stub.into_bytes(), "text/javascript"),
                    other => {
                        let file = dist.join(other.trim_start_matches('/'));
                        let kind = match file.extension().and_then(|e| e.to_str()) {
                            Some("js") => "text/javascript",
                            Some("wasm") => "application/wasm",
                            Some("css") => "text/css",
                            _ => "application/octet-stream",
                        };
                        (std::fs::read(file).unwrap_or_default(), kind)
                    }
                };
                let head = format!("HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    addr
}

struct ChromeDriver(Child);

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn order(id: i64, seq: u64) -> Event {
    let mut event =
        Event::new(EventKind::JobOrderCreated, json!({"id": id, "customer": "Acme", "quantity": 25}));
    event.seq = Some(seq);
    event.at = Some(chrono::Utc::now());
    event
}

#[tokio::test]
async fn the_dashboard_renders_and_updates_in_chromium() {
    if Command::new("chromedriver").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "chromedriver is missing: scripts/setup installs it");
        eprintln!("skipping: chromedriver is not installed (scripts/setup installs it)");
        return;
    }
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/dist");
    assert!(dist.join("pressroom_ui_bg.wasm").exists(), "build the UI first (scripts/build-ui)");
    let snapshot = Snapshot {
        totals: Totals { books: 3, covers: 2, job_orders: 41, print_exports: 5 },
        recent_activity: [order(41, 9)].into_iter().collect(),
        seq: Some(9),
        ..Snapshot::default()
    };
    let dashboard = DashboardView {
        connection: ConnectionView::new(ConnectionState::Live),
        frame: Frame::full(&snapshot),
    };
    let settings = SettingsView {
        settings: Settings {
            hub_url: "ws://127.0.0.1:3000/cable".into(),
            channel: "AnalyticsChannel".into(),
            snapshot_path: "api/analytics/summary".into(),
            realtime: true,
            auto_refresh: false,
            refresh_interval_s: 10,
            frame_window_ms: 100,
            notify_job_orders: true,
            notify_failed_exports: true,
            theme: Theme::Dark,
            close_to_tray: true,
            allow_insecure_token: false,
        },
        token_set: false,
        launch_at_login: false,
        notes: vec![],
    };
    let addr = serve(dist, tauri_stub(&dashboard, &settings)).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _driver = ChromeDriver(
        Command::new("chromedriver").arg(format!("--port={port}")).stdout(Stdio::null()).spawn().unwrap(),
    );
    let profile = tempfile::tempdir().unwrap();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1280,800",
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(error) => {
                assert!(Instant::now() < deadline, "no chromedriver session: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    client.goto(&format!("http://{addr}/")).await.unwrap();

    let text = |id: &'static str| {
        let client = client.clone();
        async move {
            let element = client.find(Locator::Css(&format!("[data-testid='{id}']"))).await.ok()?;
            element.text().await.ok()
        }
    };
    let wait = |id: &'static str, want: String| {
        let text = &text;
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let seen = text(id).await;
                if seen.as_deref() == Some(want.as_str()) {
                    return;
                }
                assert!(Instant::now() < deadline, "{id} never showed {want:?}; last {seen:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait("total-job_orders", "41".into()).await;
    wait("connection", "Live".into()).await;

    let frame = Frame {
        totals: Totals { books: 3, covers: 2, job_orders: 42, print_exports: 5 },
        new_activity: vec![order(42, 10)],
        ..Frame::default()
    };
    client
        .execute(
            "window.__emit('pressroom://frame', arguments[0])",
            vec![serde_json::to_value(&frame).unwrap()],
        )
        .await
        .unwrap();
    wait("total-job_orders", "42".into()).await;

    let reconnecting = ConnectionView::new(ConnectionState::Reconnecting { attempt: 2, retry_in_ms: 4000 });
    client
        .execute(
            "window.__emit('pressroom://connection', arguments[0])",
            vec![serde_json::to_value(&reconnecting).unwrap()],
        )
        .await
        .unwrap();
    wait("connection", "Reconnecting".into()).await;
    let theme = client.execute("return document.documentElement.dataset.theme", vec![]).await.unwrap();
    assert_eq!(theme, "dark", "the theme setting reaches the page");
    client.close().await.unwrap();
}
