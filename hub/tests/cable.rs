//! The cable speaks Action Cable as a stock Rails server does, checked with a raw client.

use std::time::{Duration, Instant};

use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL, SUBPROTOCOL};
use pressroom_protocol::{Event, EventKind, Payload, ServerFrame};
use pressroom_testkit::{CableClient, TestHub};
use serde_json::json;

async fn post_job_order(hub: &TestHub, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new().post(hub.url("/api/job_orders")).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn negotiates_the_subprotocol_and_welcomes() {
    let hub = TestHub::start().await;
    let mut client = CableClient::connect(&hub.hub).await;
    assert_eq!(client.protocol.as_deref(), Some(SUBPROTOCOL));
    assert_eq!(client.next_frame().await, ServerFrame::Welcome);
    hub.stop().await;
}

#[tokio::test]
async fn pings_every_three_seconds() {
    let hub = TestHub::start().await;
    let mut client = CableClient::connect(&hub.hub).await;
    assert_eq!(client.next_frame().await, ServerFrame::Welcome);
    // As in Rails, one heartbeat serves every connection: the first ping comes within 3 s of the
    // welcome, then one every 3 s.
    let mut pinged = Vec::new();
    for _ in 0..2 {
        let frame = client.next_frame_within(Duration::from_millis(3500)).await;
        let Some(ServerFrame::Ping { message }) = frame else { panic!("expected a ping, got {frame:?}") };
        let now = chrono::Utc::now().timestamp();
        assert!((now - message).abs() <= 1, "ping carries the server's Unix time");
        pinged.push(Instant::now());
    }
    assert!(pinged[1] - pinged[0] >= Duration::from_millis(2500), "pings are paced, not sent at once");
    hub.stop().await;
}

#[tokio::test]
async fn confirms_analytics_and_rejects_other_channels() {
    let hub = TestHub::start().await;
    let mut client = CableClient::subscribed(&hub.hub).await;
    client.subscribe("ChatChannel").await;
    assert_eq!(
        client.next_non_ping().await,
        ServerFrame::RejectSubscription { identifier: channel_identifier("ChatChannel") }
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_committed_job_order_reaches_every_subscriber_in_rails_shape() {
    let hub = TestHub::start().await;
    let mut first = CableClient::subscribed(&hub.hub).await;
    let mut second = CableClient::subscribed(&hub.hub).await;
    let book = json!({"customer": "Acme", "quantity": 50, "book_title": "Dune"});
    assert_eq!(post_job_order(&hub, book).await.status(), 201);

    for client in [&mut first, &mut second] {
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let ServerFrame::Broadcast { identifier, message } = client.next_non_ping().await else {
                panic!("expected a broadcast")
            };
            assert_eq!(identifier, channel_identifier(ANALYTICS_CHANNEL));
            let event: Event = serde_json::from_value(message).unwrap();
            assert_eq!(event.epoch.as_deref(), Some(hub.hub.epoch.as_str()));
            assert!(event.at.is_some());
            kinds.push((event.kind.clone(), event.seq));
            if event.kind == EventKind::JobOrderCreated {
                let Some(Payload::JobOrderCreated(order)) = event.payload() else { panic!("{event:?}") };
                assert_eq!((order.customer.as_deref(), order.quantity), (Some("Acme"), Some(50)));
            }
        }
        assert_eq!(kinds, [(EventKind::BookCreated, Some(1)), (EventKind::JobOrderCreated, Some(2))]);
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_rejected_post_broadcasts_nothing() {
    let hub = TestHub::start().await;
    let mut client = CableClient::subscribed(&hub.hub).await;
    let bad = post_job_order(&hub, json!({"customer": "Acme", "quantity": 0, "book_title": "Dune"})).await;
    assert_eq!(bad.status(), 422);
    let malformed = reqwest::Client::new()
        .post(hub.url("/api/job_orders"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    // The next broadcast this client sees is the one valid order, with seq 1: nothing came before.
    let good = post_job_order(&hub, json!({"customer": "Acme", "quantity": 1, "book_title": "Dune"})).await;
    assert_eq!(good.status(), 201);
    let ServerFrame::Broadcast { message, .. } = client.next_non_ping().await else {
        panic!("expected a broadcast")
    };
    assert_eq!(message["seq"], 1);
    assert_eq!(message["event"], "book_created");
    hub.stop().await;
}

#[tokio::test]
async fn malformed_frames_keep_the_connection() {
    let hub = TestHub::start().await;
    let mut client = CableClient::connect(&hub.hub).await;
    assert_eq!(client.next_frame().await, ServerFrame::Welcome);
    for garbage in
        ["{not json", r#"{"command":"dance"}"#, r#"{"command":"subscribe","identifier":"nope"}"#, "[]"]
    {
        client.send_text(garbage).await;
    }
    client.subscribe(ANALYTICS_CHANNEL).await;
    assert_eq!(
        client.next_non_ping().await,
        ServerFrame::ConfirmSubscription { identifier: channel_identifier(ANALYTICS_CHANNEL) }
    );
    hub.stop().await;
}

#[tokio::test]
async fn shutdown_tells_clients_to_reconnect() {
    let hub = TestHub::start().await;
    let mut client = CableClient::subscribed(&hub.hub).await;
    let stopping = tokio::spawn(hub.stop());
    assert_eq!(
        client.non_ping_within(pressroom_testkit::PROMPTLY).await,
        Some(ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true })
    );
    stopping.await.unwrap();
}

#[tokio::test]
async fn connections_over_the_limit_get_503_and_oversized_frames_close_only_their_connection() {
    use futures_util::SinkExt;
    use pressroom_hub::limits::Limits;
    use tokio_tungstenite::tungstenite::{Error, Message};

    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let limits = Limits { max_connections: 2, max_frame_bytes: 1024, ..Limits::default() };
    let hub =
        pressroom_hub::Hub { limits, ..pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database) }
            .start()
            .await
            .unwrap();
    let mut first = CableClient::subscribed(&hub).await;
    let mut second = CableClient::subscribed(&hub).await;
    match tokio_tungstenite::connect_async(hub.cable_url()).await {
        Err(Error::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("a third connection was not refused: {other:?}"),
    }

    // A frame over 1 KiB closes that connection, saying why (1009: too big); the other keeps its
    // subscription.
    second.ws.send(Message::text("x".repeat(2048))).await.unwrap();
    assert_eq!(close_code(&mut second).await, Some(1009));
    let order = pressroom_hub::domain::NewJobOrder {
        book: pressroom_hub::domain::BookRef::Title("Limits".into()),
        customer: "A".into(),
        quantity: 1,
        due_date: None,
    };
    hub.domain.create_job_order(order).await.unwrap();
    assert!(matches!(first.next_non_ping().await, ServerFrame::Broadcast { .. }));

    // Its permit is back: a new connection is accepted.
    drop(second);
    let deadline = Instant::now() + pressroom_testkit::PROMPTLY;
    loop {
        match tokio_tungstenite::connect_async(hub.cable_url()).await {
            Ok(_) => break,
            // The server's side of the closed connection ends on its own schedule.
            Err(Error::Http(response)) if response.status() == 503 && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(error) => panic!("no connection after one closed: {error}"),
        }
    }
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_confirmation_comes_before_any_broadcast_of_its_subscription_while_events_stream() {
    let hub = TestHub::start().await;
    let domain = hub.hub.domain.clone();
    let writing = tokio_util::sync::CancellationToken::new();
    let writer = tokio::spawn({
        let writing = writing.clone();
        async move {
            let mut n = 0;
            while !writing.is_cancelled() {
                let order = pressroom_hub::domain::NewJobOrder {
                    book: pressroom_hub::domain::BookRef::Title("Stream".into()),
                    customer: format!("c{n}"),
                    quantity: 1,
                    due_date: None,
                };
                domain.create_job_order(order).await.unwrap();
                n += 1;
            }
        }
    });
    for _ in 0..20 {
        let mut client = CableClient::connect(&hub.hub).await;
        assert_eq!(client.next_frame().await, ServerFrame::Welcome);
        client.subscribe(ANALYTICS_CHANNEL).await;
        let identifier = channel_identifier(ANALYTICS_CHANNEL);
        assert_eq!(client.next_non_ping().await, ServerFrame::ConfirmSubscription { identifier });
        assert!(matches!(client.next_non_ping().await, ServerFrame::Broadcast { .. }), "then the stream");
    }
    writing.cancel();
    writer.await.unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn websocket_pings_are_answered_and_a_client_close_is_returned() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let hub = TestHub::start().await;
    let mut client = CableClient::subscribed(&hub.hub).await;
    client.ws.send(Message::Ping(b"are you there".to_vec().into())).await.unwrap();
    let pong = tokio::time::timeout(pressroom_testkit::PROMPTLY, async {
        loop {
            match client.ws.next().await {
                Some(Ok(Message::Pong(payload))) => return payload,
                Some(Ok(_)) => {}
                other => panic!("no pong: {other:?}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(&pong[..], b"are you there");
    client.ws.close(None).await.unwrap();
    let answered = tokio::time::timeout(pressroom_testkit::PROMPTLY, async {
        while let Some(Ok(message)) = client.ws.next().await {
            if message.is_close() {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(answered, "the hub answers a close with its own");
    hub.stop().await;
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_is_answered_with_a_close_saying_so() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::Message;

    let hub = TestHub::start().await;
    let mut client = CableClient::subscribed(&hub.hub).await;
    let invalid = Frame::message(vec![0xff, 0xfe, b'{'], OpCode::Data(Data::Text), true);
    client.ws.send(Message::Frame(invalid)).await.unwrap();
    assert_eq!(close_code(&mut client).await, Some(1007), "invalid frame payload data");
    hub.stop().await;
}

/// The code of the server's close, read past whatever comes first; panics if the stream ends
/// without one or nothing closes it within [`pressroom_testkit::PROMPTLY`].
async fn close_code(client: &mut CableClient) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let closing = async {
        loop {
            match client.ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
                Some(Ok(_)) => {}
                other => panic!("the stream ended without a close: {other:?}"),
            }
        }
    };
    tokio::time::timeout(pressroom_testkit::PROMPTLY, closing).await.expect("closed in time")
}
