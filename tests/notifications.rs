//! Native notifications, asserted by a test-owned `org.freedesktop.Notifications` service on a
//! private session bus: new job orders and failed exports notify, coalesced to one per kind per 5 s,
//! and a service that renders body markup gets customer names as text, not markup.

mod support;

use std::time::Duration;

use pressroom_client::cable::Mode;
use pressroom_testkit::client::{Client, Notices};
use pressroom_testkit::TestHub;
use serde_json::json;
use support::desktop::PrivateBus;
use tokio::sync::mpsc;

/// What the service was asked to show: (summary, body).
type Shown = (String, String);

struct NotificationService {
    shown: mpsc::UnboundedSender<Shown>,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationService {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let _ = self.shown.send((summary, body));
        self.next_id += 1;
        self.next_id
    }

    fn get_capabilities(&self) -> Vec<String> {
        // As KDE and dunst: bodies are rendered as markup.
        vec!["body".into(), "body-markup".into(), "actions".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("pressroom-test".into(), "pressroom".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

async fn next(shown: &mut mpsc::UnboundedReceiver<Shown>) -> Shown {
    tokio::time::timeout(Duration::from_secs(30), shown.recv())
        .await
        .expect("a notification in time")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_failures_notify_coalesced() {
    // A bus of the test's own, so no notification daemon the desktop (or an earlier test) started
    // holds the name. This binary holds this one test, so setting the process's address is safe.
    let bus = PrivateBus::start();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let (tx, mut shown) = mpsc::unbounded_channel();
    let _service = zbus::connection::Builder::session()
        .and_then(|b| b.name("org.freedesktop.Notifications"))
        .and_then(|b| {
            b.serve_at("/org/freedesktop/Notifications", NotificationService { shown: tx, next_id: 0 })
        })
        .expect("a session bus")
        .build()
        .await
        .expect("the test owns the notification service");

    let hub = TestHub::start().await;
    let notices = pressroom_lib::native::spawn("app.pressroom.desktop", || {}, || {});
    let notices = Notices(Box::new(move |notice| notices.send(notice).unwrap()));
    let mut client = Client::start_with(&hub.hub.cable_url(), None, Mode::default(), notices);
    client.wait_live(Duration::from_secs(30)).await;

    let customer = r#"<b>Acme</b> <a href="https://phish.example/">Invoice overdue</a> & Co"#;
    let order = hub
        .post("/api/job_orders", json!({"customer": customer, "quantity": 40, "book_title": "Dune"}))
        .await;
    let as_text = "&lt;b&gt;Acme&lt;/b&gt; &lt;a href=&quot;https://phish.example/&quot;&gt;Invoice overdue&lt;/a&gt; &amp; Co";
    assert_eq!(next(&mut shown).await, ("New job order".into(), format!("#{} {as_text} × 40", order["id"])));
    for n in 0..4 {
        hub.post(
            "/api/job_orders",
            json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "Dune"}),
        )
        .await;
    }
    let export = hub.post("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    hub.post(&format!("/api/print_exports/{}/fail", export["id"]), json!({"reason": "bleed too small"}))
        .await;

    // The failure has its own lane: it shows at once; the four orders wait for their 5 s.
    assert_eq!(
        next(&mut shown).await,
        ("Print export failed".into(), format!("#{}: bleed too small", export["id"]))
    );
    assert_eq!(next(&mut shown).await, ("4 new job orders".into(), "Latest: c3 × 1".into()));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), shown.recv()).await.is_err(),
        "nothing more: one notification per kind per gap"
    );
    hub.stop().await;
}
