//! What the hub logs: no token, even at debug with the request URI traced; rejected frames
//! truncated, and at warn only now and then.

use std::io::Write;
use std::sync::{Arc, Mutex};

use pressroom_hub::auth::Auth;
use pressroom_testkit::TestHub;

/// Every log line, captured.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_token_in_the_cable_uri_is_not_logged() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let hub = TestHub::start_with(Auth::new(&["s3cret-token".into()], &[]).unwrap()).await;
    let mut client =
        pressroom_testkit::CableClient::connect_url(&format!("{}?token=s3cret-token", hub.hub.cable_url()))
            .await;
    assert_eq!(client.next_frame().await, pressroom_protocol::ServerFrame::Welcome);
    let garbage = format!("{{{}", "A".repeat(3000));
    for _ in 0..20 {
        client.send_text(&garbage).await;
    }
    client.subscribe(pressroom_protocol::cable::ANALYTICS_CHANNEL).await;
    assert!(matches!(
        client.next_non_ping().await,
        pressroom_protocol::ServerFrame::ConfirmSubscription { .. }
    ));
    let status = reqwest::Client::new()
        .get(hub.url("/api/events?token=s3cret-token"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    hub.stop().await;
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("/cable?token=[redacted]"), "the request was traced:\n{text}");
    assert!(!text.contains("s3cret-token"), "a token was logged:\n{text}");
    let rejected: Vec<&str> = text.lines().filter(|l| l.contains("rejected a cable frame")).collect();
    assert_eq!(rejected.len(), 20, "each rejected frame is logged (at debug after the first)");
    let warnings = rejected.iter().filter(|l| l.contains("WARN")).count();
    // At most one a second: two if the frames straddled a second's boundary.
    assert!((1..=2).contains(&warnings), "{warnings} warnings for 20 frames");
    assert!(!text.contains(&"A".repeat(200)), "a rejected frame is logged truncated");
}
