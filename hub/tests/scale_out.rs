//! Postgres and Redis: seq follows commit order under concurrent writers, and two hubs on one
//! database serve one stream — in order, once — even while one hub's Redis link is cut.

use std::net::SocketAddr;
use std::time::Duration;

use pressroom_hub::domain::{BookRef, NewJobOrder};
use pressroom_hub::{Hub, RunningHub};
use pressroom_protocol::ServerFrame;
use pressroom_testkit::proxy::{Fault, Proxy};
use pressroom_testkit::services;
use pressroom_testkit::{CableClient, PROMPTLY};
use serde_json::json;
use sqlx::{Connection, Row};

/// What the hubs of these tests sign their Redis messages with.
const SECRET: &str = "a test secret, 32 characters ok.";

async fn start(database: &str, redis: Option<String>) -> RunningHub {
    let redis_secret = redis.is_some().then(|| SECRET.to_owned());
    Hub { redis, redis_secret, ..Hub::new("127.0.0.1:0".parse().unwrap(), database) }.start().await.unwrap()
}

fn order(customer: String) -> NewJobOrder {
    NewJobOrder { book: BookRef::Title("Scale".into()), customer, quantity: 1, due_date: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_postgres_commit_in_seq_order() {
    let Some(database) = services::postgres_database().await else { return };
    let hub = start(&database, None).await;
    let mut subscriber = CableClient::subscribed(&hub).await;

    // While 8 writers commit, a reader keeps checking that the committed seqs have no hole: with
    // seq handed out out of commit order, it would see seq n committed before n - 1.
    let writing = tokio_util::sync::CancellationToken::new();
    let reader = {
        let (database, writing) = (database.clone(), writing.clone());
        tokio::spawn(async move {
            let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
            let mut checks = 0;
            while !writing.is_cancelled() {
                let row = sqlx::query("SELECT count(*), coalesce(max(seq), 0) FROM events")
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
                let (count, max): (i64, i64) = (row.get(0), row.get(1));
                assert_eq!(count, max, "a seq committed before its predecessor");
                checks += 1;
            }
            checks
        })
    };
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let domain = hub.domain.clone();
            tokio::spawn(async move {
                for n in 0..25 {
                    domain.create_job_order(order(format!("{w}-{n}"))).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    writing.cancel();
    assert!(reader.await.unwrap() > 10, "the reader looked while writers wrote");

    // 1 book + 200 orders; the subscriber got every seq once, in order.
    let page = hub.domain.events(0, 1000).await.unwrap();
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(seqs, (1..=201).collect::<Vec<_>>());
    for want in 1..=201u64 {
        let ServerFrame::Broadcast { message, .. } = subscriber.next_non_ping().await else { panic!() };
        assert_eq!(message["seq"], want);
    }
    hub.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reads_and_writes_postgres() {
    let Some(database) = services::postgres_database().await else { return };
    let hub = start(&database, None).await;
    let http = reqwest::Client::new();
    let answer = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
    };
    let post = |path: &str, body: serde_json::Value| {
        answer(http.post(format!("{}{path}", hub.http_url())).json(&body))
    };
    let get = |path: &str| answer(http.get(format!("{}{path}", hub.http_url())));
    let (status, book) = post("/api/books", json!({"title": "Dune", "isbn": "978-0-441-01359-3"})).await;
    assert_eq!(status, 201, "{book}");
    let (status, again) = post("/api/books", json!({"title": "Dune 2", "isbn": "9780441013593"})).await;
    assert_eq!((status, &again["error"]["fields"]["isbn"]), (422, &json!("is already used by book #1")));
    assert_eq!(
        post("/api/covers", json!({"book_id": 1, "format": "hardcover", "finish": "matte"})).await.0,
        201
    );
    let (status, order) = post(
        "/api/job_orders",
        json!({"book_id": 1, "customer": "Acme", "quantity": 3, "due_date": "2027-01-31"}),
    )
    .await;
    assert_eq!((status, &order["due_date"]), (201, &json!("2027-01-31")));
    let (_, export) = post("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    let fail = format!("/api/print_exports/{}/fail", export["id"]);
    let (status, failed) = post(&fail, json!({"reason": "paper jam"})).await;
    assert_eq!((status, &failed["status"], &failed["reason"]), (200, &json!("failed"), &json!("paper jam")));
    let (status, nul) = post(&fail, json!({"reason": "nul\0here"})).await;
    assert_eq!((status, &nul["error"]["code"]), (422, &json!("invalid_fields")), "not a 500 on Postgres");
    let (status, conflict) = post(&fail, json!({"reason": "again"})).await;
    assert_eq!((status, &conflict["error"]["message"]), (409, &json!("print export 1 is already failed")));

    let (status, summary) = get("/api/analytics/summary").await;
    assert_eq!(status, 200);
    assert_eq!(summary["totals"], json!({"books": 1, "covers": 1, "job_orders": 1, "print_exports": 1}));
    assert_eq!(summary["print_exports_by_status"], json!({"started": 0, "completed": 0, "failed": 1}));
    assert_eq!(summary["seq"], 5);
    let this_minute: u64 = summary["job_order_volume"]["per_minute"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(this_minute, 1, "the volume series groups on Postgres too: {}", summary["job_order_volume"]);
    let (status, page) = get("/api/job_orders?limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["customer"], "Acme");
    hub.stop().await.unwrap();
}

/// Reads job orders from `client` until `customers` arrived; asserts they came in order, once,
/// with strictly consecutive seqs.
async fn expect_in_order(
    client: &mut CableClient,
    last_seq: &mut u64,
    customers: impl Iterator<Item = String>,
) {
    for want in customers {
        loop {
            let frame = tokio::time::timeout(PROMPTLY, client.next_non_ping()).await.expect("delivered");
            let ServerFrame::Broadcast { message, .. } = frame else { panic!("unexpected {frame:?}") };
            let seq = message["seq"].as_u64().unwrap();
            assert_eq!(seq, *last_seq + 1, "in seq order, each once");
            *last_seq = seq;
            if message["event"] == "job_order_created" {
                assert_eq!(message["data"]["customer"], want.as_str());
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_on_postgres_and_redis_serve_one_stream_through_a_redis_outage() {
    let Some(database) = services::postgres_database().await else { return };
    let Some(redis) = services::redis() else { return };
    let redis_addr: SocketAddr = redis.trim_start_matches("redis://").parse().unwrap();
    // Hub B reaches Redis through a proxy the test can cut.
    let link = Proxy::start(redis_addr).await;
    let a = start(&database, Some(redis.clone())).await;
    let b = start(&database, Some(format!("redis://{}", link.addr))).await;
    assert_eq!(a.epoch, b.epoch, "one database, one stream");
    let mut on_b = CableClient::subscribed(&b).await;
    let mut last_seq = 0;

    let write = |range: std::ops::Range<u32>| {
        let domain = a.domain.clone();
        async move {
            for n in range {
                domain.create_job_order(order(n.to_string())).await.unwrap();
            }
        }
    };
    write(0..30).await;
    expect_in_order(&mut on_b, &mut last_seq, (0..30).map(|n| n.to_string())).await;
    assert!(link.relayed() >= 1, "hub B was on Redis");

    // Cut B off Redis and keep writing through A; B fills from the outbox.
    link.set(Fault::Refuse);
    link.cut();
    write(30..60).await;
    expect_in_order(&mut on_b, &mut last_seq, (30..60).map(|n| n.to_string())).await;

    // Restore the link: B resubscribes and carries on.
    let relayed = link.relayed();
    link.set(Fault::Pass);
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while link.relayed() == relayed {
        assert!(tokio::time::Instant::now() < deadline, "hub B never reconnected to Redis");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    write(60..90).await;
    expect_in_order(&mut on_b, &mut last_seq, (60..90).map(|n| n.to_string())).await;

    // Nothing extra arrives: every event went out once.
    let extra = on_b.non_ping_within(Duration::from_millis(1500)).await;
    assert!(extra.is_none(), "a duplicate or stray frame: {extra:?}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// Publishes `message` on the hub's Redis channel, as anyone who can reach Redis could.
async fn publish_raw(redis: &str, epoch: &str, message: String) {
    use redis::AsyncCommands;
    let client = redis::Client::open(redis).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    connection.publish::<_, _, ()>(format!("pressroom:events:{epoch}"), message).await.unwrap();
}

fn forged(seq: u64, epoch: &str, customer: &str) -> pressroom_protocol::Event {
    let mut event = pressroom_protocol::Event::new(
        pressroom_protocol::EventKind::JobOrderCreated,
        json!({"id": 999, "book_id": 1, "customer": customer, "quantity": 1}),
    );
    event.seq = Some(seq);
    event.epoch = Some(epoch.to_owned());
    event
}

async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_redis_message_is_dropped_and_the_genuine_event_still_delivered() {
    let Some(database) = services::postgres_database().await else { return };
    let Some(redis) = services::redis() else { return };
    let hub = start(&database, Some(redis.clone())).await;
    let mut client = CableClient::subscribed(&hub).await;
    let head = hub.domain.events(0, 1).await.unwrap().head_seq;

    // head+1, unsigned (the old shape) and signed with a wrong key.
    let unsigned = serde_json::to_string(&forged(head + 1, &hub.epoch, "forged")).unwrap();
    publish_raw(&redis, &hub.epoch, unsigned).await;
    let wrong = pressroom_hub::signed::Signer::new("not the hubs' secret!", &hub.epoch).unwrap();
    publish_raw(&redis, &hub.epoch, wrong.sign(&forged(head + 1, &hub.epoch, "forged"))).await;
    until("both forgeries were counted", || hub.redis_rejected() == 2).await;

    hub.domain.create_job_order(order("genuine".into())).await.unwrap();
    let mut last_seq = head;
    expect_in_order(&mut client, &mut last_seq, ["genuine".to_owned()].into_iter()).await;

    // A far-ahead seq, even correctly signed, is not held: the outbox is not re-read in a loop.
    let signer = pressroom_hub::signed::Signer::new(SECRET, &hub.epoch).unwrap();
    let reads = hub.outbox_reads();
    publish_raw(&redis, &hub.epoch, signer.sign(&forged(last_seq + 1_000_000, &hub.epoch, "ahead"))).await;
    // Two seconds of tail checks (one a second) at most, where a loop would read thousands of times.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = hub.outbox_reads() - reads;
    assert!(during <= 4, "the outbox was read {during} times in 2 s");
    hub.domain.create_job_order(order("after".into())).await.unwrap();
    expect_in_order(&mut client, &mut last_seq, ["after".to_owned()].into_iter()).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn postgres_settings_that_lose_commits_are_reported() {
    let Some(database) = services::postgres_database().await else { return };
    let opened = pressroom_hub::db::open(&database).await.unwrap();
    // The test server runs with fsync=off (scripts/test-services), as a careless production one might.
    assert_eq!(pressroom_hub::db::postgres_not_durable(&opened.pool).await.unwrap(), ["fsync"]);
    opened.pool.close().await;
    opened.writes.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_tool_spreads_subscribers_over_two_hubs_and_sees_one_stream() {
    let Some(database) = services::postgres_database().await else { return };
    let Some(redis) = services::redis() else { return };
    let a = start(&database, Some(redis.clone())).await;
    let b = start(&database, Some(redis)).await;
    let bench = pressroom_bench::Bench {
        cable: vec![a.cable_url(), b.cable_url()],
        trigger: None,
        token: None,
        subscribers: 20,
        connect_rate: 200.0,
        broadcasts: 10,
        broadcast_rate: 50.0,
        settle: Duration::from_secs(10),
        server_pid: vec![std::process::id()],
        storm: Default::default(),
    };
    let report = pressroom_bench::run(bench).await.unwrap();
    assert_eq!((report.connected, report.connect_failures, report.trigger_failures), (20, 0, 0));
    assert_eq!((report.expected, report.delivered), (200, 200), "writes through one hub reach both");
    assert_eq!((report.duplicated, report.out_of_order), (0, 0));
    assert_eq!((a.cable_connections(), b.cable_connections()), (10, 10), "spread over both in turn");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
