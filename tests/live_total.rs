//! The walking skeleton, end to end: a job order committed by the hub reaches the real window.

mod support;

use pressroom_testkit::TestHub;
use serde_json::json;
use support::AppWindow;

#[tokio::test]
async fn a_new_job_order_grows_the_total_in_the_window() {
    let hub = TestHub::start().await;
    let cable_url = hub.hub.cable_url();
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &cable_url)]).await;
    // No polling and no auto-refresh: only the socket can deliver the new total.
    window.settings(json!({"realtime": true, "auto_refresh": false})).await;

    window.wait_for("connection", "Live", |t| t == "Live").await;
    let before = window.total("job_orders").await;
    hub.post("/api/job_orders", json!({"customer": "Acme", "quantity": 25, "book_title": "Dune"})).await;
    let expected = (before + 1).to_string();
    window.wait_for("total-job_orders", &expected, |t| t.trim() == expected).await;
    window.wait_total("books", 1).await;

    window.close().await;
    hub.stop().await;
}
