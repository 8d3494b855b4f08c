//! A hub in-process on a free loopback port with a temporary database, stopped by the test.

use pressroom_hub::auth::Auth;
use pressroom_hub::{Hub, RunningHub};
use serde_json::json;

pub struct TestHub {
    pub hub: RunningHub,
    _dir: tempfile::TempDir,
}

impl TestHub {
    pub async fn start() -> Self {
        Self::start_with(Auth::default()).await
    }

    pub async fn start_with(auth: Auth) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
        let hub = Hub { auth, ..Hub::new("127.0.0.1:0".parse().unwrap(), database) }.start().await.unwrap();
        TestHub { hub, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.http_url())
    }

    /// POSTs JSON without a token and returns the answer, which must be a success.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = reqwest::Client::new().post(self.url(path)).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "POST {path}: {}", response.status());
        response.json().await.unwrap()
    }

    pub async fn stop(self) {
        self.hub.stop().await.unwrap();
    }
}

/// Posts `count` job orders (customers c0, c1, …) to `hub`.
pub async fn post_job_orders(hub: &TestHub, count: u64) {
    for n in 0..count {
        hub.post(
            "/api/job_orders",
            json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "Dune"}),
        )
        .await;
    }
}
