//! The REST skeleton: creating job orders, the JSON errors, and the summary.

use pressroom_testkit::TestHub;
use serde_json::{json, Value};

async fn post(hub: &TestHub, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new().post(hub.url("/api/job_orders")).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn summary(hub: &TestHub) -> Value {
    reqwest::get(hub.url("/api/analytics/summary")).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn creating_by_title_finds_or_creates_the_book() {
    let hub = TestHub::start().await;
    let (status, first) = post(
        &hub,
        json!({"customer": "Acme", "quantity": 10, "book_title": "Dune", "due_date": "2026-12-24"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(first["customer"], "Acme");
    assert_eq!(first["due_date"], "2026-12-24");
    let (_, second) = post(&hub, json!({"customer": "Beta", "quantity": 5, "book_title": "Dune"})).await;
    assert_eq!(second["book_id"], first["book_id"]);
    let (status, third) =
        post(&hub, json!({"customer": "Gamma", "quantity": 1, "book_id": first["book_id"]})).await;
    assert_eq!(status, 201);
    assert_eq!(third["book_id"], first["book_id"]);

    let summary = summary(&hub).await;
    assert_eq!(summary["totals"], json!({"books": 1, "covers": 0, "job_orders": 3, "print_exports": 0}));
    assert_eq!(summary["seq"], 4, "one book_created and three job_order_created");
    assert_eq!(summary["epoch"], hub.hub.epoch);
    let kinds: Vec<&str> =
        summary["recent_activity"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["job_order_created", "job_order_created", "job_order_created", "book_created"]);
    hub.stop().await;
}

#[tokio::test]
async fn invalid_fields_are_named_and_nothing_is_written() {
    let hub = TestHub::start().await;
    let (status, body) = post(&hub, json!({"customer": " ", "quantity": -1, "due_date": "tomorrow"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_fields");
    let fields = body["error"]["fields"].as_object().unwrap();
    for field in ["customer", "quantity", "due_date", "book_id"] {
        assert!(fields.contains_key(field), "{field} is named in {body}");
    }
    let (status, body) = post(&hub, json!({"customer": "A", "quantity": 1, "book_id": 999})).await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["book_id"].is_string());
    let (status, _) = post(&hub, json!({"customer": "A", "quantity": "many", "book_title": "X"})).await;
    assert_eq!(status, 422);
    let long = "x".repeat(501);
    let (status, body) = post(&hub, json!({"customer": long, "quantity": 1, "book_title": "X"})).await;
    assert_eq!(
        (status, &body["error"]["fields"]["customer"]),
        (422, &json!("must be at most 500 characters"))
    );
    let (status, body) = post(&hub, json!({"customer": "a\0b", "quantity": 1, "book_title": "X"})).await;
    assert_eq!(
        (status, &body["error"]["fields"]["customer"]),
        (422, &json!("must not contain NUL characters"))
    );
    let (status, _) =
        post(&hub, json!({"customer": "x".repeat(500), "quantity": 1, "book_title": "X"})).await;
    assert_eq!(status, 201, "500 characters are fine");
    let (status, body) =
        post(&hub, json!({"customer": "x".repeat(70_000), "quantity": 1, "book_title": "X"})).await;
    assert_eq!((status, &body["error"]["code"]), (413, &json!("too_large")), "refused unread: {body}");
    assert_eq!(summary(&hub).await["seq"], 2, "only the valid order (and its book) committed");
    assert_eq!(summary(&hub).await["totals"]["books"], 1, "no book was created by a rejected order");
    hub.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_error_shape() {
    let hub = TestHub::start().await;
    for body in ["{oops", "[1,2]", ""] {
        let response = reqwest::Client::new()
            .post(hub.url("/api/job_orders"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "body {body:?}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "malformed_json");
        assert!(error["error"]["message"].as_str().unwrap().len() > 5);
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_restarted_hub_keeps_its_epoch_and_seq() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let start = || pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database.clone()).start();
    let first = start().await.unwrap();
    let epoch = first.epoch.clone();
    let body = json!({"customer": "A", "quantity": 1, "book_title": "X"});
    reqwest::Client::new()
        .post(format!("{}/api/job_orders", first.http_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    first.stop().await.unwrap();
    let second = start().await.unwrap();
    assert_eq!(second.epoch, epoch);
    let summary: Value = reqwest::get(format!("{}/api/analytics/summary", second.http_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["seq"], 2);
    second.stop().await.unwrap();

    let other = TestHub::start().await;
    assert_ne!(other.hub.epoch, epoch, "a new database gets a new epoch");
    other.stop().await;
}
