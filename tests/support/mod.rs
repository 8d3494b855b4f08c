//! The real app window, driven through tauri-driver + WebKitWebDriver, and the desktop around it
//! (`desktop`): what only the app's end-to-end tests need. The servers they start are in
//! `pressroom-testkit`.

#![allow(dead_code)] // each test binary uses its own share of these helpers

pub mod desktop;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use serde_json::json;

/// Generous bound for what a person would expect to see promptly; real time is not a benchmark.
pub const PROMPTLY: Duration = Duration::from_secs(30);

/// How long one app window may live in a test. A webview that stops answering would otherwise
/// hang its WebDriver call, the test and the whole run.
const WINDOW_LIFETIME: Duration = Duration::from_secs(240);

/// A loopback port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The Pressroom app in a real window, with its own data dir and environment.
pub struct AppWindow {
    pub client: Client,
    driver: Child,
    _watchdog: mpsc::Sender<()>,
    _data_dir: Option<tempfile::TempDir>,
}

impl AppWindow {
    /// Launches the app binary through tauri-driver with `env` (plus a fresh `PRESSROOM_DATA_DIR`).
    pub async fn launch(env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut window = Self::launch_in(data_dir.path(), env).await;
        window._data_dir = Some(data_dir);
        window
    }

    /// Launches with `data_dir` as `PRESSROOM_DATA_DIR`, which the caller keeps (to relaunch).
    pub async fn launch_in(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let built = Path::new(env!("CARGO_BIN_EXE_pressroom")).canonicalize().unwrap();
        Self::launch_binary(&built, data_dir, env).await
    }

    /// Launches `application` (an absolute path: cargo's build, or an installed package's
    /// binary) with `data_dir` as `PRESSROOM_DATA_DIR`.
    pub async fn launch_binary(application: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        assert!(application.is_absolute(), "tauri-driver needs an absolute path: {}", application.display());
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the window tests need an X display: run them under xvfb-run (scripts/test does)"
        );
        let (port, native_port) = (free_port(), free_port());
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("PRESSROOM_DATA_DIR", data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // Its own process group, which WebKitWebDriver, the app and its webview inherit: one
            // signal ends them all, whatever state the test left them in.
            .process_group(0);
        for (name, value) in env {
            command.env(name, value);
        }
        let driver = command.spawn().expect("tauri-driver is installed (scripts/setup installs it)");
        let watchdog = watchdog(driver.id());
        // tauri-driver listens before the WebKitWebDriver it started does, and a session asked
        // for in between fails (CI saw "IncompleteMessage"): wait for both.
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], port)));
        wait_for_port(SocketAddr::from(([127, 0, 0, 1], native_port)));
        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": application },
        });
        let client = ClientBuilder::rustls()
            .unwrap()
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with the app");
        AppWindow { client, driver, _watchdog: watchdog, _data_dir: None }
    }

    /// The pid of tauri-driver: the app and its webview processes are its descendants.
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    /// The text of the element with `data-testid`, if it is on the page.
    pub async fn text(&self, test_id: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(&format!("[data-testid='{test_id}']"))).await.ok()?;
        element.text().await.ok()
    }

    /// Waits until the element's text satisfies `done`, polling until `PROMPTLY` has passed.
    pub async fn wait_for(&self, test_id: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PROMPTLY;
        loop {
            let text = self.text(test_id).await;
            if let Some(text) = text.as_deref().filter(|t| done(t)) {
                return text.to_owned();
            }
            assert!(Instant::now() < deadline, "{test_id} never became {what}; last seen {text:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a total card shows exactly `value` (counts animate towards their value).
    pub async fn wait_total(&self, key: &str, value: u64) {
        let expected = value.to_string();
        self.wait_for(&format!("total-{key}"), &expected, |t| t.trim().replace(',', "") == expected).await;
    }

    /// The number shown in a total card (while it counts up, a step on the way).
    pub async fn total(&self, key: &str) -> u64 {
        let text = self
            .wait_for(&format!("total-{key}"), "a number", |t| {
                t.trim().replace(',', "").parse::<u64>().is_ok()
            })
            .await;
        text.trim().replace(',', "").parse().unwrap()
    }

    /// Invokes a backend command from the page, as the dashboard does; `Err` carries the
    /// backend's serialised error.
    pub async fn invoke(
        &self,
        command: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let script = "const done = arguments[arguments.length - 1];
            window.__TAURI__.core.invoke(arguments[0], arguments[1]).then(v => done({ ok: v ?? null }), e => done({ err: e }));";
        let answer =
            self.client.execute_async(script, vec![json!(command), args]).await.expect("the script runs");
        match answer.get("err") {
            Some(error) => Err(error.clone()),
            None => Ok(answer["ok"].clone()),
        }
    }

    /// Changes settings through the backend's command.
    pub async fn settings(&self, patch: serde_json::Value) -> serde_json::Value {
        self.invoke("update_settings", json!({ "patch": patch })).await.expect("the settings are valid")
    }

    /// The class attribute of the element with `data-testid`.
    pub async fn class_of(&self, test_id: &str) -> String {
        let element =
            self.client.find(Locator::Css(&format!("[data-testid='{test_id}']"))).await.expect(test_id);
        element.attr("class").await.unwrap().unwrap_or_default()
    }

    /// Clicks the element with `data-testid`.
    pub async fn click(&self, test_id: &str) {
        let element =
            self.client.find(Locator::Css(&format!("[data-testid='{test_id}']"))).await.expect(test_id);
        element.click().await.expect("clickable");
    }

    /// Saves a screenshot of the window as a PNG.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        // SIGTERM first: tauri-driver then ends its WebDriver session. Whatever outlives it (an
        // app hidden in the tray, a webview that stopped answering) goes with the group.
        let _ = kill(Pid::from_raw(self.driver.id() as i32), Signal::SIGTERM);
        let _ = self.driver.wait();
        let _ = killpg(Pid::from_raw(self.driver.id() as i32), Signal::SIGKILL);
    }
}

impl Drop for AppWindow {
    fn drop(&mut self) {
        if self.driver.try_wait().ok().flatten().is_none() {
            self.stop_driver();
        }
    }
}

/// Ends the process group led by `driver` if the window outlives `WINDOW_LIFETIME`; dropping
/// the returned sender disarms it.
fn watchdog(driver: u32) -> mpsc::Sender<()> {
    let (disarm, armed) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if armed.recv_timeout(WINDOW_LIFETIME) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprintln!("the app window outlived {WINDOW_LIFETIME:?}: ending it so the test fails");
            let _ = killpg(Pid::from_raw(driver as i32), Signal::SIGKILL);
        }
    });
    disarm
}

fn wait_for_port(addr: SocketAddr) {
    let deadline = Instant::now() + PROMPTLY;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "the WebDriver did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
