//! Every resource's happy path and error classes, the outbox's ordering under concurrent
//! writers, and backfill agreeing with what was broadcast.

use pressroom_protocol::{Event, Payload, ServerFrame, Snapshot};
use pressroom_testkit::{CableClient, TestHub};
use serde_json::{json, Value};

struct Api<'a>(&'a TestHub);

impl Api<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = reqwest::Client::new().request(method, self.0.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path} answered non-JSON: {text:?}")))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert_eq!(status, 201, "POST {path}: {value}");
        value
    }

    async fn summary(&self) -> Snapshot {
        serde_json::from_value(self.get("/api/analytics/summary").await.1).unwrap()
    }
}

#[tokio::test]
async fn every_resource_is_created_read_and_listed() {
    let hub = TestHub::start().await;
    let api = Api(&hub);
    let book = api
        .created("/api/books", json!({"title": "Dune", "isbn": "978-0-306-40615-7", "author": "F. Herbert"}))
        .await;
    assert_eq!(book["isbn"], "9780306406157");
    let cover = api
        .created("/api/covers", json!({"book_id": book["id"], "format": "hardcover", "finish": "matte"}))
        .await;
    let order = api
        .created("/api/job_orders", json!({"book_id": book["id"], "customer": "Acme", "quantity": 100}))
        .await;
    let export = api.created("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    assert_eq!(export["status"], "started");

    for (path, created) in
        [("books", &book), ("covers", &cover), ("job_orders", &order), ("print_exports", &export)]
    {
        let (status, shown) = api.get(&format!("/api/{path}/{}", created["id"])).await;
        assert_eq!((status, &shown), (200, created), "GET one of {path}");
        let (status, list) = api.get(&format!("/api/{path}")).await;
        assert_eq!(status, 200);
        assert_eq!(list["items"], json!([created]), "list of {path}");
        assert_eq!(list["next_before"], Value::Null);
    }

    let (status, completed) =
        api.post(&format!("/api/print_exports/{}/complete", export["id"]), json!({})).await;
    assert_eq!((status, completed["status"].as_str()), (200, Some("completed")));
    assert!(completed["finished_at"].is_string());
    let second = api.created("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    let (status, failed) = api
        .post(&format!("/api/print_exports/{}/fail", second["id"]), json!({"reason": "bleed too small"}))
        .await;
    assert_eq!((status, failed["reason"].as_str()), (200, Some("bleed too small")));

    let summary = api.summary().await;
    assert_eq!(
        (
            summary.totals.books,
            summary.totals.covers,
            summary.totals.job_orders,
            summary.totals.print_exports
        ),
        (1, 1, 1, 2)
    );
    let status = summary.print_exports_by_status;
    assert_eq!((status.started, status.completed, status.failed), (0, 1, 1));
    assert_eq!(summary.job_order_volume.per_minute.len(), 60);
    assert_eq!(summary.job_order_volume.per_hour.len(), 24);
    // Summed, not read from the last bucket: a minute may turn between the order and the summary.
    for series in [&summary.job_order_volume.per_minute, &summary.job_order_volume.per_hour] {
        assert_eq!(series.iter().map(|bucket| bucket.count).sum::<u64>(), 1);
    }
    let kinds: Vec<&str> = summary.recent_activity.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "print_export_failed",
            "print_export_started",
            "print_export_completed",
            "print_export_started",
            "job_order_created",
            "cover_created",
            "book_created"
        ]
    );
    hub.stop().await;
}

#[tokio::test]
async fn lists_page_newest_first() {
    let hub = TestHub::start().await;
    let api = Api(&hub);
    for n in 1..=5 {
        api.created("/api/books", json!({"title": format!("Book {n}")})).await;
    }
    let (_, first) = api.get("/api/books?limit=2").await;
    let titles = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&first), ["Book 5", "Book 4"]);
    let (_, second) = api.get(&format!("/api/books?limit=2&before={}", first["next_before"])).await;
    assert_eq!(titles(&second), ["Book 3", "Book 2"]);
    let (_, last) = api.get(&format!("/api/books?limit=2&before={}", second["next_before"])).await;
    assert_eq!(titles(&last), ["Book 1"]);
    assert_eq!(last["next_before"], Value::Null);
    let (status, error) = api.get("/api/books?limit=0").await;
    assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid_fields")));
    assert!(error["error"]["fields"]["limit"].is_string());
    hub.stop().await;
}

#[tokio::test]
async fn each_error_class_has_its_status_and_writes_nothing() {
    let hub = TestHub::start().await;
    let api = Api(&hub);
    let book = api.created("/api/books", json!({"title": "Dune", "isbn": "0-306-40615-2"})).await;
    let order =
        api.created("/api/job_orders", json!({"book_id": book["id"], "customer": "A", "quantity": 1})).await;
    let export = api.created("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    api.post(&format!("/api/print_exports/{}/fail", export["id"]), json!({"reason": "paper jam"})).await;
    let seq_before = api.summary().await.seq;

    let complete = format!("/api/print_exports/{}/complete", export["id"]);
    let fail = format!("/api/print_exports/{}/fail", export["id"]);
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("/api/books", json!({"title": "Other", "isbn": "0306406152"}), 422, "isbn"),
        ("/api/books", json!({"title": "Other", "isbn": "0306406153"}), 422, "isbn"),
        ("/api/books", json!({"isbn": null}), 422, "title"),
        ("/api/covers", json!({"book_id": 999, "format": "a", "finish": "b"}), 422, "book_id"),
        ("/api/covers", json!({"book_id": book["id"], "format": "", "finish": 3}), 422, "finish"),
        ("/api/print_exports", json!({"job_order_id": 999}), 422, "job_order_id"),
        ("/api/print_exports/999/complete", json!({}), 404, ""),
        (&complete, json!({}), 409, ""),
        (&fail, json!({"reason": "again"}), 409, ""),
        (&fail, json!({}), 422, "reason"),
    ];
    for (path, body, expected, field) in cases {
        let (status, error) = api.post(path, body.clone()).await;
        assert_eq!(status, expected, "POST {path} {body}: {error}");
        assert!(error["error"]["code"].is_string() && error["error"]["message"].is_string(), "{error}");
        if !field.is_empty() {
            assert!(error["error"]["fields"][field].is_string(), "{field} named in {error}");
        }
    }
    for path in [
        "/api/books/999",
        "/api/covers/999",
        "/api/job_orders/999",
        "/api/print_exports/999",
        "/api/books/abc",
    ] {
        let (status, error) = api.get(path).await;
        assert_eq!((status, error["error"]["code"].as_str()), (404, Some("not_found")), "{path}");
    }
    assert_eq!(api.summary().await.seq, seq_before, "no rejected request committed an event");
    hub.stop().await;
}

#[tokio::test]
async fn seq_is_contiguous_under_eight_concurrent_writers() {
    let hub = TestHub::start().await;
    let writers = (0..8).map(|w| {
        let url = hub.url("/api/job_orders");
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0..25 {
                let body = json!({"customer": format!("w{w}"), "quantity": n + 1, "book_title": format!("Title {}", n % 3)});
                let status = client.post(&url).json(&body).send().await.unwrap().status();
                assert_eq!(status, 201);
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let api = Api(&hub);
    let (_, page) = api.get("/api/events?after=0&limit=1000").await;
    let seqs: Vec<u64> =
        page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (1..=203).collect(); // 200 orders and 3 books created on first use
    assert_eq!(seqs, expected);
    assert_eq!(page["head_seq"], 203);
    assert_eq!(page["has_more"], false);
    hub.stop().await;
}

#[tokio::test]
async fn backfill_and_summary_agree_with_the_broadcast() {
    let hub = TestHub::start().await;
    let mut client = CableClient::subscribed(&hub.hub).await;
    let api = Api(&hub);
    let book = api.created("/api/books", json!({"title": "Dune"})).await;
    api.created("/api/covers", json!({"book_id": book["id"], "format": "paperback", "finish": "gloss"}))
        .await;
    let order = api
        .created(
            "/api/job_orders",
            json!({"book_id": book["id"], "customer": "A", "quantity": 3, "due_date": "2027-01-31"}),
        )
        .await;
    let export = api.created("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    api.post(&format!("/api/print_exports/{}/complete", export["id"]), json!({})).await;

    let mut broadcast = Vec::new();
    while broadcast.len() < 5 {
        if let ServerFrame::Broadcast { message, .. } = client.next_non_ping().await {
            broadcast.push(serde_json::from_value::<Event>(message).unwrap());
        }
    }
    let (_, page) = api.get("/api/events?after=0").await;
    let backfill: Vec<Event> = serde_json::from_value(page["events"].clone()).unwrap();
    assert_eq!(backfill, broadcast, "backfill serves exactly what was broadcast");
    let Some(Payload::JobOrderCreated(order)) = broadcast[2].payload() else { panic!("a job order") };
    assert_eq!(order.due_date.as_deref(), Some("2027-01-31"));

    let (_, paged) = api.get("/api/events?after=2&limit=2").await;
    assert_eq!(paged["has_more"], true);
    let seqs: Vec<u64> =
        paged["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4]);
    let (status, _) = api.get("/api/events?limit=1001").await;
    assert_eq!(status, 422);
    let (status, _) = api.get("/api/events?after=-1").await;
    assert_eq!(status, 422);

    let mut replayed = Snapshot::default();
    for event in &broadcast {
        replayed.apply(event);
    }
    let summary = api.summary().await;
    assert_eq!(replayed.totals, summary.totals);
    assert_eq!(replayed.print_exports_by_status, summary.print_exports_by_status);
    assert_eq!(summary.seq, broadcast.last().unwrap().seq);
    hub.stop().await;
}

#[tokio::test]
async fn the_demo_gives_an_empty_database_a_day_of_history_once() {
    let hub = TestHub::start().await;
    let now = chrono::Utc::now();
    let placed = pressroom_hub::demo::seed_history(&hub.hub.domain, 0.5, now).await.unwrap();
    let summary = hub.hub.domain.summary().await.unwrap();
    assert_eq!(summary.totals.job_orders, placed);
    // Every minute of the last hour has orders (12 a minute at 0.5 events/s, ± 40 %), all in
    // the past, and the 24-hour series holds them all.
    let last_hour = &summary.job_order_volume.per_minute;
    assert!(last_hour.iter().rev().skip(1).take(58).all(|b| b.count > 0), "{last_hour:?}");
    let per_hour: u64 = summary.job_order_volume.per_hour.iter().map(|b| b.count).sum();
    assert_eq!(per_hour, placed);
    assert!(summary.recent_activity.iter().all(|e| e.at.unwrap() < now));
    // Seq order is time order.
    let page = hub.hub.domain.events(0, 1000).await.unwrap();
    assert!(page.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(pressroom_hub::demo::seed_history(&hub.hub.domain, 0.5, now).await.unwrap(), 0, "only once");
    hub.stop().await;
}
