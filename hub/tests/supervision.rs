//! No silent failure: a background task the hub cannot run without that panics stops the hub,
//! and `wait` says which; a Redis that cannot be reached does not.

use std::time::{Duration, Instant};

use pressroom_hub::{Hub, HubError, RunningHub};
use pressroom_protocol::ServerFrame;
use pressroom_testkit::{CableClient, PROMPTLY};

async fn start(dir: &tempfile::TempDir, redis: Option<&str>) -> RunningHub {
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    Hub {
        redis: redis.map(str::to_owned),
        redis_secret: redis.map(|_| "a secret of sixteen or more".to_owned()),
        ..Hub::new("127.0.0.1:0".parse().unwrap(), database)
    }
    .start()
    .await
    .unwrap()
}

async fn healthy(hub: &RunningHub) -> bool {
    reqwest::get(format!("{}/healthz", hub.http_url())).await.is_ok_and(|r| r.status().is_success())
}

#[tokio::test]
async fn a_broadcaster_panic_stops_the_hub_and_wait_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(&dir, None).await;
    let addr = hub.addr;
    let mut subscriber = CableClient::subscribed(&hub).await;
    assert!(healthy(&hub).await);

    hub.inject_broadcaster_panic();
    let asked = Instant::now();
    let error = tokio::time::timeout(PROMPTLY, hub.wait()).await.expect("wait returns promptly").unwrap_err();
    let HubError::TaskFailed { task, reason } = &error else { panic!("a task failure, got {error}") };
    assert_eq!(*task, "broadcaster");
    assert!(reason.contains("panicked") && reason.contains("injected"), "{reason}");
    assert!(error.to_string().contains("broadcaster"), "the message names the task: {error}");
    assert!(asked.elapsed() < PROMPTLY);

    // The subscriber was told, as at a restart, and the port no longer answers.
    let frames = subscriber.frames_until_close().await;
    let goodbye = ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true };
    assert!(frames.contains(&goodbye), "{frames:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn stop_after_a_broadcaster_panic_returns_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(&dir, None).await;
    hub.inject_broadcaster_panic();
    // The hub stops by itself; whoever calls stop later still learns why.
    let deadline = Instant::now() + PROMPTLY;
    while tokio::net::TcpStream::connect(hub.addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the hub kept listening after its broadcaster panicked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let error = tokio::time::timeout(PROMPTLY, hub.stop()).await.expect("promptly").unwrap_err();
    assert!(matches!(error, HubError::TaskFailed { task: "broadcaster", .. }), "{error}");
}

#[tokio::test]
async fn a_stopped_hub_reports_no_failure() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(&dir, None).await;
    let _subscriber = CableClient::subscribed(&hub).await;
    tokio::time::timeout(PROMPTLY, hub.stop()).await.expect("promptly").unwrap();
}

#[tokio::test]
async fn an_unreachable_redis_is_ridden_out_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: the pub/sub tasks keep retrying.
    let hub = start(&dir, Some("redis://127.0.0.1:1/")).await;
    let mut subscriber = CableClient::subscribed(&hub).await;
    let created = reqwest::Client::new()
        .post(format!("{}/api/books", hub.http_url()))
        .json(&serde_json::json!({"title": "T", "isbn": "9780306406157", "author": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // Delivered locally all the same, and the hub still serves after a few reconnection attempts.
    let ServerFrame::Broadcast { message, .. } = subscriber.next_non_ping().await else {
        panic!("a broadcast")
    };
    assert_eq!(message["event"], "book_created");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(healthy(&hub).await);
    tokio::time::timeout(PROMPTLY, hub.stop()).await.expect("promptly").unwrap();
}
