//! A subscriber that stops reading is cut off on its own, while the others keep receiving
//! everything in order; one that closes, or is still behind as the hub stops, ends promptly.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use pressroom_hub::cable::SEND_TIMEOUT;
use pressroom_hub::domain::{BookRef, Domain, NewJobOrder};
use pressroom_hub::server::DRAIN_TIMEOUT;
use pressroom_protocol::ServerFrame;
use pressroom_testkit::{CableClient, TestHub};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

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

/// `text` is the broadcast of a job order.
fn is_job_order(text: &str) -> bool {
    matches!(ServerFrame::parse(text), Ok(ServerFrame::Broadcast { message, .. }) if message["event"] == "job_order_created")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_closing_with_frames_queued_gets_its_close_answered_at_once() {
    let hub = TestHub::start().await;
    let mut closing = CableClient::subscribed(&hub.hub).await;
    let mut reader = CableClient::subscribed(&hub.hub).await;
    // 5 events of 12 MiB (few commits, so its send timeout cannot run out first), far more than
    // loopback's buffers hold for the one not reading: most wait in its link's queue once the
    // reader has them all.
    let writer = tokio::spawn(commit_large_orders(hub.hub.domain.clone(), 5, 12 * 1024 * 1024));
    receive_in_order(&mut reader, 5, Duration::ZERO).await;
    writer.await.unwrap();

    let going_away = CloseFrame { code: CloseCode::Away, reason: "".into() };
    closing.ws.send(Message::Close(Some(going_away))).await.unwrap();
    // What the socket had taken arrives, then the hub's close, echoing the code: the queue is
    // dropped for it, not written out first, and the stream does not just end.
    let (delivered, answer) = tokio::time::timeout(pressroom_testkit::PROMPTLY, async {
        let mut delivered = 0;
        loop {
            match closing.ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    delivered += usize::from(is_job_order(&text));
                }
                Some(Ok(Message::Close(frame))) => return (delivered, frame),
                Some(Ok(_)) => {}
                other => panic!("no close from the hub after {delivered} broadcasts: {other:?}"),
            }
        }
    })
    .await
    .expect("the close is answered in time");
    assert_eq!(answer.map(|frame| frame.code), Some(CloseCode::Away));
    assert!(delivered < 5, "the queued frames were dropped ({delivered} delivered)");
    assert_eq!(hub.hub.slow_disconnects(), 0);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_still_behind_at_the_drain_deadline_is_cut_off_as_the_hub_stops() {
    let hub = TestHub::start().await;
    let mut slow = CableClient::subscribed(&hub.hub).await;
    // Few commits, so its send timeout cannot run out before it reads.
    commit_large_orders(hub.hub.domain.clone(), 16, 4 * 1024 * 1024).await;
    let Some(ServerFrame::Broadcast { .. }) = slow.non_ping_within(pressroom_testkit::PROMPTLY).await else {
        panic!("the first broadcast (the book's) did not arrive");
    };
    assert_eq!(hub.hub.slow_disconnects(), 0, "still connected as the hub stops");
    // Read one a second, what waits for it would take 16 s, its farewell behind it all: more
    // than the drain's 5 s, after which it is cut off without one.
    let stopping = tokio::spawn(hub.stop());
    let (mut delivered, mut farewell) = (0, false);
    loop {
        let message = tokio::time::timeout(DRAIN_TIMEOUT + pressroom_testkit::PROMPTLY, slow.ws.next())
            .await
            .expect("the connection ends in time");
        match message {
            Some(Ok(Message::Text(text))) if is_job_order(&text) => {
                delivered += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Some(Ok(Message::Text(text))) => {
                farewell |= matches!(ServerFrame::parse(&text), Ok(ServerFrame::Disconnect { .. }));
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break,
        }
    }
    assert!(!farewell && delivered < 16, "cut off, not served to the end ({delivered} delivered)");
    stopping.await.unwrap();
}
