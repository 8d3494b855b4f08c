//! A stock Rails Action Cable server (Debian's ruby-actioncable on puma) running
//! `testkit/rails/config.ru` on a free loopback port, stopped on drop.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RailsServer {
    puma: Child,
    pub port: u16,
}

impl RailsServer {
    /// Starts puma with `env` (e.g. `INTEROP_TOKEN`). `None` when puma is not installed outside CI;
    /// under `CI` a missing puma fails the test.
    pub fn start(env: &[(&str, &str)]) -> Option<Self> {
        if Command::new("puma").arg("--version").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "puma is missing: scripts/setup installs it");
            eprintln!("skipping the stock Rails run: puma is not installed (scripts/setup installs it)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("rails");
        let mut command = Command::new("puma");
        command
            .args(["-b", &format!("tcp://127.0.0.1:{port}"), "-t", "4:8", "config.ru"])
            .current_dir(app)
            .stdout(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let server = RailsServer { puma: command.spawn().expect("puma starts"), port };
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "puma did not start listening");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    pub fn cable_url(&self) -> String {
        format!("ws://127.0.0.1:{}/cable", self.port)
    }

    /// `POST /control/{action}`: `broadcast` (the body goes out on "analytics") or `restart`.
    pub async fn control(&self, action: &str, body: serde_json::Value) {
        let url = format!("http://127.0.0.1:{}/control/{action}", self.port);
        let response = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 204);
    }
}

impl Drop for RailsServer {
    fn drop(&mut self) {
        let _ = self.puma.kill();
        let _ = self.puma.wait();
    }
}
