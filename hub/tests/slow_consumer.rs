//! A subscriber that stops reading is cut off on its own, while the others keep receiving
//! everything in order.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use pressroom_hub::cable::SEND_TIMEOUT;
use pressroom_hub::domain::{BookRef, Domain, NewJobOrder};
use pressroom_protocol::ServerFrame;
use pressroom_testkit::{CableClient, TestHub};

/// Commits `count` job orders of about `size` bytes each, whose customers start "0-", "1-", ….
async fn commit_large_orders(domain: Domain, count: usize, size: usize) {
    let padding = "x".repeat(size);
    for n in 0..count {
        let customer = format!("{n}-{padding}");
        let order = NewJobOrder { book: BookRef::Title("Big".into()), customer, quantity: 1, due_date: None };
        domain.create_job_order(order).await.unwrap();
    }
}

/// Reads until `count` job orders arrived, checking they come in order, with `pause` after each
/// (a slow reader); fails if the connection ends first or nothing comes for 10 s.
async fn receive_in_order(client: &mut CableClient, count: usize, pause: Duration) {
    let mut expected = 0;
    while expected < count {
        match client.non_ping_within(Duration::from_secs(10)).await {
            Some(ServerFrame::Broadcast { message, .. }) if message["event"] == "job_order_created" => {
                let customer = message["data"]["customer"].as_str().unwrap();
                assert!(customer.starts_with(&format!("{expected}-")), "in order");
                expected += 1;
                tokio::time::sleep(pause).await;
            }
            Some(_) => {}
            None => panic!("nothing for 10 s after {expected} of {count} job orders"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_dropped_and_the_others_keep_receiving() {
    let hub = TestHub::start().await;
    let mut stalled = CableClient::subscribed(&hub.hub).await;
    let mut reader = CableClient::subscribed(&hub.hub).await;

    // 200 events of ~64 KiB: far more than the socket buffers can hold for a reader that stops.
    let writer = tokio::spawn(commit_large_orders(hub.hub.domain.clone(), 200, 64 * 1024));
    // The reader gets every job order, in order, while the stalled one reads nothing.
    receive_in_order(&mut reader, 200, Duration::ZERO).await;
    writer.await.unwrap();

    // The hub gives up on the stalled subscriber after its send timeout (10 s).
    let deadline = Instant::now() + Duration::from_secs(40);
    while hub.hub.slow_disconnects() == 0 {
        assert!(Instant::now() < deadline, "the stalled subscriber was never dropped");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(hub.hub.slow_disconnects(), 1, "only the stalled one");
    // Reading now drains what was buffered, then finds the connection closed by the hub.
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(message)) = stalled.ws.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the stalled connection ends");
    hub.stop().await;
}

/// A hub whose subscribers may have `max_lag` frames waiting.
async fn hub_with_max_lag(max_lag: usize) -> (tempfile::TempDir, pressroom_hub::RunningHub) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let limits = pressroom_hub::limits::Limits { max_lag, ..Default::default() };
    let hub =
        pressroom_hub::Hub { limits, ..pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database) }
            .start()
            .await
            .unwrap();
    (dir, hub)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_further_behind_than_max_lag_is_closed_at_once_and_the_others_get_everything() {
    let (_dir, hub) = hub_with_max_lag(8).await;
    let mut stalled = CableClient::subscribed(&hub).await;
    let mut reader = CableClient::subscribed(&hub).await;
    // Faster than the send timeout: the lag bound, not the clock, cuts the stalled one off.
    let writer = tokio::spawn(commit_large_orders(hub.domain.clone(), 100, 64 * 1024));
    receive_in_order(&mut reader, 100, Duration::ZERO).await;
    writer.await.unwrap();
    // What the socket had taken before still arrives whole, then the close: well before the
    // send timeout (10 s) would have cut it off.
    let frames = tokio::time::timeout(Duration::from_secs(5), stalled.frames_until_close()).await.unwrap();
    let delivered = frames.iter().filter(|frame| matches!(frame, ServerFrame::Broadcast { .. })).count();
    assert!(delivered < 100, "it was cut off, not served everything ({delivered})");
    // The hub counts it as its connection's task ends, just after the close went out.
    let deadline = Instant::now() + Duration::from_secs(5);
    while hub.slow_disconnects() == 0 {
        assert!(Instant::now() < deadline, "the lagging subscriber was not counted");
        tokio::task::yield_now().await;
    }
    assert_eq!(hub.slow_disconnects(), 1, "only the stalled one");
    hub.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_that_keeps_reading_outlasts_the_send_timeout_and_gets_everything() {
    let hub = TestHub::start().await;
    let mut slow = CableClient::subscribed(&hub.hub).await;
    // 60 events of 1 MiB, more than loopback's socket buffers hold, read 4 a second: its queue
    // stays non-empty for over 10 s, the send timeout, yet the socket always takes some of it.
    commit_large_orders(hub.hub.domain.clone(), 60, 1024 * 1024).await;
    let started = Instant::now();
    receive_in_order(&mut slow, 60, Duration::from_millis(250)).await;
    assert!(started.elapsed() > SEND_TIMEOUT, "the test outlasted the timeout it is about");
    assert_eq!(hub.hub.slow_disconnects(), 0);
    hub.stop().await;
}
