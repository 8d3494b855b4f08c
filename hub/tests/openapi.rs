//! `/api/openapi.json` describes the API truthfully: every documented route is exercised, and
//! every real response validates against the schema the document gives for its status.

use std::collections::BTreeSet;

use pressroom_hub::auth::Auth;
use pressroom_testkit::TestHub;
use reqwest::Method;
use serde_json::{json, Value};

struct Checker {
    hub: TestHub,
    spec: Value,
    seen: BTreeSet<(String, String)>,
}

impl Checker {
    /// Calls `path` (with `template` naming its documented route) and validates the response.
    async fn call(&mut self, method: Method, template: &str, path: &str, body: Option<Value>) -> Value {
        let mut request =
            reqwest::Client::new().request(method.clone(), self.hub.url(path)).bearer_auth("writer");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16().to_string();
        let value: Value = response.json().await.unwrap();
        let verb = method.as_str().to_lowercase();
        let operation = &self.spec["paths"][template][&verb];
        assert!(operation.is_object(), "{verb} {template} is documented");
        let schema = &operation["responses"][&status]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{verb} {template} documents status {status} (body {value})");
        let mut root = schema.clone();
        root["components"] = self.spec["components"].clone();
        let validator = jsonschema::draft202012::new(&root).expect("the documented schema compiles");
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(errors.is_empty(), "{verb} {path} → {status}: {value} does not match its schema: {errors:?}");
        self.seen.insert((verb, template.to_owned()));
        value
    }
}

#[tokio::test]
async fn every_route_answers_as_documented() {
    let hub = TestHub::start_with(Auth::new(&["writer".into()], &[]).unwrap()).await;
    // The document itself is open, even with tokens configured.
    let spec: Value = reqwest::get(hub.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    // The validation below is live: a wrong shape is caught.
    let mut wrong = json!({"$ref": "#/components/schemas/Book"});
    wrong["components"] = spec["components"].clone();
    let book_schema = jsonschema::draft202012::new(&wrong).unwrap();
    assert!(!book_schema.is_valid(&json!({"id": "seven", "title": "T", "created_at": "now"})));
    let mut c = Checker { hub, spec, seen: BTreeSet::new() };
    use Method as M;

    let book = c
        .call(M::POST, "/api/books", "/api/books", Some(json!({"title": "Dune", "isbn": "0306406152"})))
        .await;
    c.call(M::POST, "/api/books", "/api/books", Some(json!({"title": ""}))).await;
    c.call(M::GET, "/api/books", "/api/books?limit=1", None).await;
    c.call(M::GET, "/api/books/{id}", &format!("/api/books/{}", book["id"]), None).await;
    c.call(M::GET, "/api/books/{id}", "/api/books/404", None).await;

    let cover_body = json!({"book_id": book["id"], "format": "paperback", "finish": "matte"});
    let cover = c.call(M::POST, "/api/covers", "/api/covers", Some(cover_body)).await;
    c.call(M::GET, "/api/covers", "/api/covers", None).await;
    c.call(M::GET, "/api/covers/{id}", &format!("/api/covers/{}", cover["id"]), None).await;

    let order_body =
        json!({"book_id": book["id"], "customer": "Acme", "quantity": 5, "due_date": "2027-03-01"});
    let order = c.call(M::POST, "/api/job_orders", "/api/job_orders", Some(order_body)).await;
    c.call(M::POST, "/api/job_orders", "/api/job_orders", Some(json!({"customer": "Acme"}))).await;
    c.call(M::GET, "/api/job_orders", "/api/job_orders", None).await;
    c.call(M::GET, "/api/job_orders/{id}", &format!("/api/job_orders/{}", order["id"]), None).await;

    let start = json!({"job_order_id": order["id"]});
    let first = c.call(M::POST, "/api/print_exports", "/api/print_exports", Some(start.clone())).await;
    let second = c.call(M::POST, "/api/print_exports", "/api/print_exports", Some(start)).await;
    let complete = format!("/api/print_exports/{}/complete", first["id"]);
    c.call(M::POST, "/api/print_exports/{id}/complete", &complete, None).await;
    c.call(M::POST, "/api/print_exports/{id}/complete", &complete, None).await; // 409
    let fail = format!("/api/print_exports/{}/fail", second["id"]);
    c.call(M::POST, "/api/print_exports/{id}/fail", &fail, Some(json!({"reason": "bleed"}))).await;
    c.call(
        M::POST,
        "/api/print_exports/{id}/fail",
        "/api/print_exports/404/fail",
        Some(json!({"reason": "x"})),
    )
    .await;
    c.call(M::GET, "/api/print_exports", "/api/print_exports", None).await;
    c.call(M::GET, "/api/print_exports/{id}", &format!("/api/print_exports/{}", first["id"]), None).await;

    let summary = c.call(M::GET, "/api/analytics/summary", "/api/analytics/summary", None).await;
    assert_eq!(summary["totals"]["print_exports"], 2);
    c.call(M::GET, "/api/events", "/api/events?after=1&limit=3", None).await;
    c.call(M::GET, "/api/events", "/api/events?limit=5000", None).await;

    let documented: BTreeSet<(String, String)> = c.spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |verb| (verb.clone(), path.clone()))
        })
        .collect();
    assert_eq!(c.seen, documented, "every documented route was exercised");
    c.hub.stop().await;
}
