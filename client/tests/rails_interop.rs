//! The desktop connection against a stock Rails Action Cable server (no seq, no summary, no
//! backfill): it connects, applies broadcasts, says history is unavailable, comes back after the
//! server restarts, and stops with the right words on rejection.

use std::time::Duration;

use pressroom_client::cable::Mode;
use pressroom_protocol::{ConnectionState, Payload, Problem};
use pressroom_testkit::client::Client;
use pressroom_testkit::rails::RailsServer;
use serde_json::json;

const PROMPTLY: Duration = Duration::from_secs(30);
const TOKEN: &str = "rails-interop";

fn mode() -> Mode {
    Mode { auto_refresh: false, ..Mode::default() }
}

#[tokio::test]
async fn broadcasts_apply_and_a_restart_is_survived() {
    let Some(rails) = RailsServer::start(&[("INTEROP_TOKEN", TOKEN)]) else { return };
    let mut client = Client::start(&rails.cable_url(), Some(TOKEN), mode());
    client
        .wait_state("Live without history", PROMPTLY, |v| {
            v.state == ConnectionState::Live && v.history_unavailable
        })
        .await;

    let order = json!({"event": "job_order_created", "data": {"id": 1, "customer": "Acme", "quantity": 3}});
    rails.control("broadcast", order.clone()).await;
    client.wait_dashboard("one job order", PROMPTLY, |s| s.totals.job_orders == 1).await;
    let seen = client.dashboard.view().frame.new_activity[0].clone();
    let Some(Payload::JobOrderCreated(seen_order)) = seen.payload() else { panic!("a job order: {seen:?}") };
    assert_eq!(seen_order.customer.as_deref(), Some("Acme"));
    assert!(seen.at.is_some(), "an event without a time is stamped on arrival");

    rails.control("restart", json!({})).await;
    client.wait_state("off Live", PROMPTLY, |v| v.state != ConnectionState::Live).await;
    client.wait_live(PROMPTLY).await;
    rails.control("broadcast", order).await;
    client.wait_dashboard("two job orders", PROMPTLY, |s| s.totals.job_orders == 2).await;
}

#[tokio::test]
async fn a_wrong_token_stops_with_token_rejected() {
    let Some(rails) = RailsServer::start(&[("INTEROP_TOKEN", TOKEN)]) else { return };
    let mut client = Client::start(&rails.cable_url(), Some("wrong"), mode());
    client.wait_state("token rejected", PROMPTLY, |v| v.problem == Some(Problem::TokenRejected)).await;
    assert!(matches!(client.view().state, ConnectionState::Offline { .. }));
}

#[tokio::test]
async fn a_rejected_subscription_stops_and_says_so() {
    let Some(rails) = RailsServer::start(&[("INTEROP_REJECT", "1")]) else { return };
    let mut client = Client::start(&rails.cable_url(), None, mode());
    client
        .wait_state("subscription rejected", PROMPTLY, |v| v.problem == Some(Problem::SubscriptionRejected))
        .await;
}
