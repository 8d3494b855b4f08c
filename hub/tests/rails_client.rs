//! The stock `@rails/actioncable` JavaScript client (npm, run by Node with `ws`) subscribes to the
//! hub and receives a broadcast, exactly as a Rails front end would.

use std::path::Path;
use std::process::Stdio;

use pressroom_testkit::{TestHub, PROMPTLY};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(PROMPTLY, lines.next_line())
        .await
        .expect("the client reports in time")
        .unwrap()
        .expect("the client is still running");
    serde_json::from_str(&line).unwrap()
}

#[tokio::test]
async fn the_stock_rails_client_receives_broadcasts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        dir.join("node_modules/@rails/actioncable").is_dir(),
        "run `npm ci --prefix hub/tests/js` first (scripts/setup does)"
    );
    let hub = TestHub::start().await;
    let mut client = Command::new("node")
        .arg(dir.join("rails-client.mjs"))
        .arg(hub.hub.cable_url())
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
    assert_eq!(next_line(&mut lines).await, json!({"connected": true}));

    let order = json!({"customer": "Acme", "quantity": 12, "book_title": "Dune"});
    let response = reqwest::Client::new().post(hub.url("/api/job_orders")).json(&order).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let book = next_line(&mut lines).await;
    assert_eq!(book["received"]["event"], "book_created");
    let job = next_line(&mut lines).await;
    assert_eq!(job["received"]["event"], "job_order_created");
    assert_eq!(job["received"]["data"]["customer"], "Acme");
    assert_eq!(job["received"]["seq"], 2);

    client.kill().await.unwrap();
    hub.stop().await;
}
