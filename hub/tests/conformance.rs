//! One Action Cable conformance suite, run against the hub and against a stock Rails Action Cable
//! server (Debian's ruby-actioncable on puma, `tests/rails/config.ru`), so the hub is checked
//! against the real thing rather than a reading of it. The one deliberate difference: the hub
//! rejects an unknown channel, where Rails stays silent.

use std::time::{Duration, Instant};

use pressroom_hub::auth::Auth;
use pressroom_protocol::cable::{channel_identifier, ANALYTICS_CHANNEL, SUBPROTOCOL};
use pressroom_protocol::{ClientCommand, ServerFrame};
use pressroom_testkit::rails::RailsServer;
use pressroom_testkit::{CableClient, TestHub};
use serde_json::json;

const TOKEN: &str = "conformance-token";

/// A server under test.
trait Target {
    fn name(&self) -> &'static str;
    fn cable_url(&self) -> String;
    /// Causes exactly one broadcast on "analytics".
    async fn broadcast(&self, n: u32);
    fn rejects_unknown_channels(&self) -> bool;
}

struct HubTarget {
    hub: TestHub,
    book_id: i64,
}

impl HubTarget {
    async fn start() -> Self {
        let hub = TestHub::start_with(Auth::new(&[TOKEN.into()], &[]).unwrap()).await;
        let book: serde_json::Value = reqwest::Client::new()
            .post(hub.url("/api/books"))
            .bearer_auth(TOKEN)
            .json(&json!({"title": "Conformance"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        HubTarget { book_id: book["id"].as_i64().unwrap(), hub }
    }
}

impl Target for HubTarget {
    fn name(&self) -> &'static str {
        "hub"
    }
    fn cable_url(&self) -> String {
        self.hub.hub.cable_url()
    }
    async fn broadcast(&self, n: u32) {
        let order = json!({"book_id": self.book_id, "customer": format!("c{n}"), "quantity": 1});
        let response = reqwest::Client::new()
            .post(self.hub.url("/api/job_orders"))
            .bearer_auth(TOKEN)
            .json(&order)
            .send();
        assert_eq!(response.await.unwrap().status(), 201);
    }
    fn rejects_unknown_channels(&self) -> bool {
        true
    }
}

/// A stock Rails Action Cable server on puma.
struct RailsTarget(RailsServer);

impl RailsTarget {
    fn start() -> Option<Self> {
        RailsServer::start(&[("INTEROP_TOKEN", TOKEN)]).map(RailsTarget)
    }
}

impl Target for RailsTarget {
    fn name(&self) -> &'static str {
        "stock Rails"
    }
    fn cable_url(&self) -> String {
        self.0.cable_url()
    }
    async fn broadcast(&self, n: u32) {
        self.0
            .control(
                "broadcast",
                json!({"event": "job_order_created", "data": {"id": n, "customer": format!("c{n}")}}),
            )
            .await;
    }
    fn rejects_unknown_channels(&self) -> bool {
        false
    }
}

fn analytics() -> String {
    channel_identifier(ANALYTICS_CHANNEL)
}

async fn connect(target: &impl Target) -> CableClient {
    let mut client = CableClient::connect_url(&format!("{}?token={TOKEN}", target.cable_url())).await;
    assert_eq!(client.protocol.as_deref(), Some(SUBPROTOCOL), "{}: subprotocol", target.name());
    assert_eq!(client.next_frame().await, ServerFrame::Welcome, "{}: welcome first", target.name());
    client
}

async fn subscribe(client: &mut CableClient, identifier: &str) -> ServerFrame {
    client.send_command(ClientCommand::Subscribe { identifier: identifier.to_owned() }).await;
    client.next_non_ping().await
}

/// The identifier of the next broadcast this client receives.
async fn next_broadcast(client: &mut CableClient) -> (String, serde_json::Value) {
    match client.next_non_ping().await {
        ServerFrame::Broadcast { identifier, message } => (identifier, message),
        other => panic!("expected a broadcast, got {other:?}"),
    }
}

/// Broadcasts `c{n}` and reads until it reaches `until`; returns every (customer, identifier)
/// delivered meanwhile.
async fn round(target: &impl Target, client: &mut CableClient, n: u32, until: &str) -> Vec<(u32, String)> {
    target.broadcast(n).await;
    let mut seen = Vec::new();
    loop {
        let (identifier, message) = next_broadcast(client).await;
        let customer = message["data"]["customer"].as_str().unwrap()[1..].parse().unwrap();
        let done = customer == n && identifier == until;
        seen.push((customer, identifier));
        if done {
            return seen;
        }
    }
}

async fn run_suite(target: &impl Target) {
    let name = target.name();

    // Pings come every 3 s and carry the server's Unix time.
    let mut client = connect(target).await;
    let started = Instant::now();
    match client.next_frame_within(Duration::from_millis(3500)).await {
        Some(ServerFrame::Ping { message }) => {
            assert!((chrono::Utc::now().timestamp() - message).abs() <= 2, "{name}: ping time")
        }
        other => panic!("{name}: expected a ping within 3.5 s, got {other:?} after {:?}", started.elapsed()),
    }

    // Confirm echoes the identifier; a broadcast embeds it and carries the message as sent.
    let id = analytics();
    assert_eq!(
        subscribe(&mut client, &id).await,
        ServerFrame::ConfirmSubscription { identifier: id.clone() }
    );
    target.broadcast(1).await;
    let (identifier, message) = next_broadcast(&mut client).await;
    assert_eq!(identifier, id, "{name}");
    assert_eq!(message["event"], "job_order_created", "{name}");
    assert_eq!(message["data"]["customer"], "c1", "{name}");

    // An identical duplicate subscribe is ignored: no second confirm, delivery once.
    client.send_command(ClientCommand::Subscribe { identifier: id.clone() }).await;
    target.broadcast(2).await;
    let (identifier, message) = next_broadcast(&mut client).await;
    assert_eq!((identifier.as_str(), &message["data"]["customer"]), (id.as_str(), &json!("c2")), "{name}");

    // A differently spelled identifier is a second subscription: delivery once per identifier.
    let spaced = r#"{ "channel": "AnalyticsChannel" }"#.to_owned();
    assert_eq!(
        subscribe(&mut client, &spaced).await,
        ServerFrame::ConfirmSubscription { identifier: spaced.clone() },
        "{name}"
    );
    target.broadcast(3).await;
    let mut got = vec![next_broadcast(&mut client).await.0, next_broadcast(&mut client).await.0];
    got.sort();
    let mut want = vec![id.clone(), spaced.clone()];
    want.sort();
    assert_eq!(got, want, "{name}: one delivery per identifier");

    // Unsubscribe stops delivery silently. Rails runs a connection's commands on a worker pool,
    // so a broadcast may still reach the old subscription for a moment: wait for a round that
    // reaches only the other one, then two more rounds must not reach it at all.
    client.send_command(ClientCommand::Unsubscribe { identifier: id.clone() }).await;
    let mut n = 4;
    loop {
        assert!(n < 14, "{name}: delivery to an unsubscribed identifier never stopped");
        if round(target, &mut client, n, &spaced).await.iter().all(|(_, i)| *i != id) {
            break;
        }
        n += 1;
    }
    let first_checked = n + 1;
    for n in first_checked..first_checked + 2 {
        for (customer, identifier) in round(target, &mut client, n, &spaced).await {
            assert!(
                identifier != id || customer < first_checked,
                "{name}: c{customer} reached the unsubscribed identifier"
            );
        }
    }

    // Malformed input is ignored and the connection stays; an unknown channel is rejected by the
    // hub and met with silence by Rails.
    let mut client = connect(target).await;
    for garbage in
        ["{not json", r#"{"command":"dance"}"#, r#"{"command":"subscribe","identifier":"x"}"#, "[1]"]
    {
        client.send_text(garbage).await;
    }
    let chat = channel_identifier("ChatChannel");
    client.send_command(ClientCommand::Subscribe { identifier: chat.clone() }).await;
    let reply = subscribe(&mut client, &id).await;
    if target.rejects_unknown_channels() {
        assert_eq!(reply, ServerFrame::RejectSubscription { identifier: chat }, "{name}");
        assert_eq!(client.next_non_ping().await, ServerFrame::ConfirmSubscription { identifier: id.clone() });
    } else {
        assert_eq!(reply, ServerFrame::ConfirmSubscription { identifier: id.clone() }, "{name}: silence");
    }

    // No token: the unauthorized disconnect, then the connection closes.
    let mut anonymous = CableClient::connect_url(&target.cable_url()).await;
    let frames = anonymous.frames_until_close().await;
    assert_eq!(
        frames,
        [ServerFrame::Disconnect { reason: "unauthorized".into(), reconnect: false }],
        "{name}: unauthorized"
    );
}

async fn expect_restart(client: &mut CableClient, name: &str) {
    let frames = client.frames_until_close().await;
    let restart = ServerFrame::Disconnect { reason: "server_restart".into(), reconnect: true };
    assert!(frames.contains(&restart), "{name}: {frames:?}");
}

#[tokio::test]
async fn the_hub_passes_the_suite() {
    let target = HubTarget::start().await;
    run_suite(&target).await;
    let mut client = connect(&target).await;
    let stopping = tokio::spawn(target.hub.stop());
    expect_restart(&mut client, "hub").await;
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_stock_rails_server_passes_the_same_suite() {
    let Some(target) = RailsTarget::start() else { return };
    run_suite(&target).await;
    let mut client = connect(&target).await;
    target.0.control("restart", json!({})).await;
    expect_restart(&mut client, "stock Rails").await;
}
