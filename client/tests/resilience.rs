//! The desktop connection against the real hub through a fault-injecting proxy: every fault is
//! detected within a generous bound, and no event is lost or counted twice.

use std::time::{Duration, Instant};

use pressroom_client::cable::Mode;
use pressroom_protocol::{ConnectionState, Snapshot};
use pressroom_testkit::client::Client;
use pressroom_testkit::proxy::{Fault, Proxy};
use pressroom_testkit::TestHub;
use serde_json::json;

/// Generous: detection is 6 s by design; real time on a busy machine is not a benchmark.
const DETECT: Duration = Duration::from_secs(20);
const RECOVER: Duration = Duration::from_secs(30);

async fn hub_summary(hub: &TestHub) -> Snapshot {
    reqwest::get(format!("{}/api/analytics/summary", hub.hub.http_url())).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_through_cuts_stalls_refusals_and_half_open_links() {
    let hub = TestHub::start().await;
    let proxy = Proxy::start(hub.hub.addr).await;
    // No polling fallback: only the socket and its catch-up can get the numbers right.
    let mode = Mode { auto_refresh: false, ..Mode::default() };
    let mut client = Client::start(&format!("ws://{}/cable", proxy.addr), None, mode);
    client.wait_live(RECOVER).await;

    // Job orders keep arriving throughout, written straight to the hub.
    let url = format!("{}/api/job_orders", hub.hub.http_url());
    let writer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for n in 0..150 {
            let body =
                json!({"customer": format!("c{n}"), "quantity": 1, "book_title": format!("T{}", n % 4)});
            assert_eq!(http.post(&url).json(&body).send().await.unwrap().status(), 201);
            tokio::time::sleep(Duration::from_millis(40)).await; // pacing the load, not synchronising
        }
    });

    for fault in [Fault::CutMidFrame, Fault::Stall, Fault::HalfOpen, Fault::Refuse] {
        let injected = Instant::now();
        if fault == Fault::Refuse {
            // Existing links are cut first; then every new attempt is refused for a while.
            proxy.set(Fault::CutMidFrame);
            client.wait_state("off Live", DETECT, |v| v.state != ConnectionState::Live).await;
            proxy.set(Fault::Refuse);
            client
                .wait_state(
                    "retrying after refusals",
                    RECOVER,
                    |v| matches!(v.state, ConnectionState::Reconnecting { attempt, .. } if attempt >= 2),
                )
                .await;
        } else {
            proxy.set(fault);
            client.wait_state("off Live", DETECT, |v| v.state != ConnectionState::Live).await;
        }
        eprintln!("{fault:?} detected after {:?}", injected.elapsed());
        proxy.set(Fault::Pass);
        client.wait_live(RECOVER).await;
    }
    writer.await.unwrap();

    let truth = hub_summary(&hub).await;
    assert_eq!(truth.totals.job_orders, 150);
    client
        .wait_dashboard("the hub's totals", RECOVER, |shown| {
            shown.totals == truth.totals && shown.seq == truth.seq
        })
        .await;
    assert!(proxy.relayed() >= 5, "the faults forced reconnects: {} connections", proxy.relayed());
    hub.stop().await;
}

#[tokio::test]
async fn a_restarted_hub_is_rejoined_and_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub =
        pressroom_hub::Hub::new("127.0.0.1:0".parse().unwrap(), database.clone()).start().await.unwrap();
    let addr = hub.addr;
    let mut client = Client::start(&hub.cable_url(), None, Mode { auto_refresh: false, ..Mode::default() });
    client.wait_live(RECOVER).await;
    hub.stop().await.unwrap();
    client.wait_state("off Live", DETECT, |v| v.state != ConnectionState::Live).await;

    // Back on the same address and database, with writes the client has not seen.
    let hub = pressroom_hub::Hub::new(addr, database).start().await.unwrap();
    let url = format!("{}/api/job_orders", hub.http_url());
    for n in 0..3 {
        let body = json!({"customer": format!("c{n}"), "quantity": 1, "book_title": "T"});
        reqwest::Client::new().post(&url).json(&body).send().await.unwrap();
    }
    client.wait_live(RECOVER).await;
    client
        .wait_dashboard("three job orders", RECOVER, |s| s.totals.job_orders == 3 && s.totals.books == 1)
        .await;
    hub.stop().await.unwrap();
}

/// Writes `n` job orders (one book, created by the first) straight to the hub.
async fn write_job_orders(hub: &pressroom_hub::RunningHub, n: usize) {
    let url = format!("{}/api/job_orders", hub.http_url());
    for i in 0..n {
        let body = json!({"customer": format!("c{i}"), "quantity": 1, "book_title": "T"});
        assert_eq!(reqwest::Client::new().post(&url).json(&body).send().await.unwrap().status(), 201);
    }
}

async fn summary_of(hub: &pressroom_hub::RunningHub) -> Snapshot {
    reqwest::get(format!("{}/api/analytics/summary", hub.http_url())).await.unwrap().json().await.unwrap()
}

/// The SQLite database and its WAL files, by suffix.
const DATABASE_FILES: [&str; 3] = ["", "-wal", "-shm"];

/// A hub whose database is restored from a backup between two runs: same epoch (it lives in the
/// database), lower seq. The client must follow the restored hub, not drop its new events as
/// replays of the ones it saw before the restore.
async fn a_restored_backup_is_followed(mode: Mode) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let start = |addr| pressroom_hub::Hub::new(addr, database.clone()).start();
    let hub = start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = hub.addr;
    write_job_orders(&hub, 3).await;
    let backed_up = summary_of(&hub).await;
    hub.stop().await.unwrap();
    let backup = tempfile::tempdir().unwrap();
    for suffix in DATABASE_FILES {
        let file = format!("{database}{suffix}");
        if std::path::Path::new(&file).exists() {
            std::fs::copy(&file, backup.path().join(format!("db{suffix}"))).unwrap();
        }
    }

    // The second run: the client sees more than the backup holds.
    let hub = start(addr).await.unwrap();
    let mut client = Client::start(&hub.cable_url(), None, mode);
    write_job_orders(&hub, 4).await;
    let before_restore = summary_of(&hub).await;
    client.wait_dashboard("the second run's totals", RECOVER, |s| s.seq == before_restore.seq).await;
    hub.stop().await.unwrap();

    for suffix in DATABASE_FILES {
        let _ = std::fs::remove_file(format!("{database}{suffix}"));
        let saved = backup.path().join(format!("db{suffix}"));
        if saved.exists() {
            std::fs::copy(saved, format!("{database}{suffix}")).unwrap();
        }
    }
    let hub = start(addr).await.unwrap();
    let restored = summary_of(&hub).await;
    assert_eq!(restored.epoch, before_restore.epoch, "the epoch lives in the database: a restore keeps it");
    assert_eq!(restored.seq, backed_up.seq, "and takes the seq back");
    write_job_orders(&hub, 2).await;
    let truth = summary_of(&hub).await;
    assert!(truth.seq < before_restore.seq, "the new writes reuse seqs the client has seen");
    client
        .wait_dashboard("the restored hub's totals", RECOVER, |shown| {
            shown.totals == truth.totals && shown.seq == truth.seq
        })
        .await;
    hub.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restored_from_a_backup_is_followed_over_the_socket() {
    a_restored_backup_is_followed(Mode { auto_refresh: false, ..Mode::default() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_restored_from_a_backup_is_followed_by_refreshes() {
    let mode = Mode { realtime: false, auto_refresh: true, refresh_interval: Duration::from_secs(1) };
    a_restored_backup_is_followed(mode).await;
}
