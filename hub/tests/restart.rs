//! A graceful restart: on stop the hub closes its listener, tells every subscriber
//! `server_restart`, drains and returns within its bound even with a client that never finishes
//! a request; a hub started again on the same database keeps the epoch and the seq.

use std::time::Instant;

use pressroom_hub::server::DRAIN_TIMEOUT;
use pressroom_hub::{Hub, RunningHub};
use pressroom_protocol::{EventsPage, ServerFrame};
use pressroom_testkit::{CableClient, PROMPTLY};
use serde_json::json;
use tokio::io::AsyncWriteExt;

async fn start(database: &str, addr: &str) -> RunningHub {
    Hub::new(addr.parse().unwrap(), database.to_owned()).start().await.unwrap()
}

async fn write_job_order(hub: &RunningHub, n: usize) -> serde_json::Value {
    let body = json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "T"});
    let response = reqwest::Client::new()
        .post(format!("{}/api/job_orders", hub.http_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn events(hub: &RunningHub, after: u64) -> EventsPage {
    let url = format!("{}/api/events?after={after}", hub.http_url());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_tells_every_subscriber_drains_and_returns_within_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = start(&database, "127.0.0.1:0").await;
    let addr = hub.addr;
    let mut subscribers = Vec::new();
    for _ in 0..50 {
        subscribers.push(CableClient::subscribed(&hub).await);
    }
    // A client that sends half a request and nothing more: it must not hold the exit up.
    let mut stuck = tokio::net::TcpStream::connect(addr).await.unwrap();
    stuck.write_all(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    assert_eq!(hub.open_connections(), 50);

    let asked = Instant::now();
    let stopping = tokio::spawn(hub.stop());
    let goodbye = ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true };
    for subscriber in &mut subscribers {
        let frames = subscriber.frames_until_close().await;
        assert_eq!(frames.iter().rfind(|f| !matches!(f, ServerFrame::Ping { .. })), Some(&goodbye));
    }
    tokio::time::timeout(DRAIN_TIMEOUT + PROMPTLY, stopping)
        .await
        .expect("stop returns in its bound")
        .unwrap()
        .unwrap();
    eprintln!("stopped after {:?}", asked.elapsed());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed");
    drop(stuck);
}

#[tokio::test]
async fn the_listener_closes_at_once_so_a_new_hub_binds_while_the_old_one_drains() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let old = start(&database, "127.0.0.1:0").await;
    let addr = old.addr;
    let mut subscriber = CableClient::subscribed(&old).await;
    let token = old.shutdown_token();
    let draining = tokio::spawn(old.wait());
    token.cancel();
    // Poll the port, not a timer: the old listener goes as the stop is seen.
    let deadline = Instant::now() + PROMPTLY;
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener never closed");
        tokio::task::yield_now().await;
    }
    let new = start(&database, &addr.to_string()).await;
    assert!(subscriber
        .frames_until_close()
        .await
        .contains(&ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true }));
    draining.await.unwrap().unwrap();
    new.stop().await.unwrap();
}

#[tokio::test]
async fn a_restarted_hub_keeps_its_epoch_and_seq() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = start(&database, "127.0.0.1:0").await;
    let addr = hub.addr.to_string();
    for n in 0..3 {
        write_job_order(&hub, n).await;
    }
    let before = events(&hub, 0).await;
    assert_eq!((before.head_seq, before.events.len()), (4, 4), "a book and three job orders");
    assert_eq!(hub.epoch, before.epoch);
    let epoch = hub.epoch.clone();
    hub.stop().await.unwrap();

    let hub = start(&database, &addr).await;
    assert_eq!(hub.epoch, epoch, "the epoch lives in the database");
    let mut subscriber = CableClient::subscribed(&hub).await;
    write_job_order(&hub, 3).await;
    let ServerFrame::Broadcast { message, .. } = subscriber.non_ping_within(PROMPTLY).await.unwrap() else {
        panic!("a broadcast")
    };
    assert_eq!((message["seq"].as_u64(), message["epoch"].as_str()), (Some(5), Some(epoch.as_str())));
    let after = events(&hub, 0).await;
    assert_eq!(after.epoch, epoch);
    assert_eq!(after.events.iter().map(|e| e.seq.unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(after.events[..4], before.events[..], "the old events are served as they were");
    hub.stop().await.unwrap();
}

/// A client that gives up on a write while the database is busy: the write still finishes on
/// its own (it used to be cancelled with the request — and, cancelled mid-transaction, it could
/// leave the one write connection inside it, so that every later write failed: the 10k storm),
/// and the next write is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_mid_write_breaks_no_later_write() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = start(&database, "127.0.0.1:0").await;
    write_job_order(&hub, 0).await;

    // Another writer holds the database: the hub's write waits inside its transaction.
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{database}")).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    let body = json!({"customer": "gone", "quantity": 1, "book_title": "T"});
    let hung_up = reqwest::Client::new()
        .post(format!("{}/api/job_orders", hub.http_url()))
        .json(&body)
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(hung_up.is_err_and(|e| e.is_timeout()), "the client gave up first");
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();

    write_job_order(&hub, 2).await;
    let page = events(&hub, 0).await;
    let orders = page.events.iter().filter(|e| e.kind == pressroom_protocol::EventKind::JobOrderCreated);
    assert_eq!(orders.count(), 3, "the abandoned write finished too: {:?}", page.events);
    hub.stop().await.unwrap();
}
