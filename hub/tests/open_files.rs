//! A hub whose open-files limit has no room for `--max-connections` serves the connections that
//! fit and answers 503 beyond them, instead of running out of files (when `accept` fails, every
//! new connection waits, REST too). Linux: the limit is set with util-linux's `prlimit`.
#![cfg(target_os = "linux")]

use std::process::Stdio;

use pressroom_protocol::ServerFrame;
use pressroom_testkit::CableClient;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio_tungstenite::tungstenite;

/// The hub binary under an open-files limit of `limit`, and its stderr's JSON log lines.
fn spawn_limited(
    limit: u32,
    database: &std::path::Path,
) -> (Child, tokio::io::Lines<BufReader<ChildStderr>>) {
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile={limit}:{limit}"))
        .args(["--", env!("CARGO_BIN_EXE_pressroom-hub"), "--log-format", "json", "serve"])
        .args(["--listen", "127.0.0.1:0", "--database"])
        .arg(database)
        // Only what the test reads is logged: a pipe nobody empties would block the hub.
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("prlimit runs the hub");
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, lines)
}

/// The fields of the first log line whose message is `message`.
async fn logged(lines: &mut tokio::io::Lines<BufReader<ChildStderr>>, message: &str) -> Value {
    let wait = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let line: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            if line["fields"]["message"].as_str().is_some_and(|m| m.starts_with(message)) {
                return line["fields"].clone();
            }
        }
        panic!("the hub exited before logging {message:?}");
    };
    tokio::time::timeout(pressroom_testkit::PROMPTLY, wait).await.expect("logged in time")
}

#[tokio::test]
async fn below_its_open_files_the_hub_serves_what_fits_and_answers_503_beyond() {
    let dir = tempfile::tempdir().unwrap();
    let (mut hub, mut log) = spawn_limited(300, &dir.path().join("hub.sqlite3"));
    // 300 files: a quarter kept for the database, the listener and the rest.
    let warned = logged(&mut log, "the open-files limit is below --max-connections").await;
    assert_eq!(warned["max_connections"], 225);
    let listening = logged(&mut log, "hub listening").await;
    let addr = listening["addr"].as_str().unwrap().to_owned();

    let mut clients = Vec::new();
    for _ in 0..225 {
        let mut client = CableClient::connect_url(&format!("ws://{addr}/cable")).await;
        assert_eq!(client.next_frame().await, ServerFrame::Welcome);
        clients.push(client);
    }
    let request = pressroom_cable_client::request(&format!("ws://{addr}/cable"), None).unwrap();
    match pressroom_cable_client::connect(request, Default::default(), true).await {
        Err(pressroom_cable_client::Error::WebSocket(tungstenite::Error::Http(response))) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("one more than fits was not refused: {other:?}"),
    }
    // REST is not held up by the cable's crowd.
    let health = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    drop(clients);
    hub.kill().await.unwrap();
}
