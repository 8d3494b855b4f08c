//! A reconnect storm in miniature: three hundred of the desktop's own connection machines
//! through a hub restart, counted event by event (the load tool's storm mode, in-process).

use pressroom_hub::{Hub, RunningHub};

async fn start(database: &str, addr: &str) -> RunningHub {
    Hub::new(addr.parse().unwrap(), database.to_owned()).start().await.unwrap()
}

/// The hub in this process, restarted on the same address and database.
struct InProcess {
    database: String,
    addr: std::net::SocketAddr,
    hub: Option<RunningHub>,
}

impl pressroom_bench::storm::HubControl for InProcess {
    async fn stop(&mut self) -> Result<(), pressroom_bench::BenchError> {
        if let Some(hub) = self.hub.take() {
            hub.stop().await.unwrap();
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<(), pressroom_bench::BenchError> {
        self.hub = Some(start(&self.database, &self.addr.to_string()).await);
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        None
    }
}

/// Three hundred desktop connection machines (the client core's own policy) through a restart
/// while job orders keep coming and their writers retry while the hub is down: every committed
/// event reaches every subscriber exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_exactly_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub = start(&database, "127.0.0.1:0").await;
    let mut control = InProcess { database, addr: hub.addr, hub: Some(hub) };
    let storm = pressroom_bench::storm::Storm {
        cable: format!("ws://{}/cable", control.addr),
        token: None,
        subscribers: 300,
        connect_rate: 1000.0,
        write_rate: 10.0,
        before: std::time::Duration::from_secs(1),
        down: std::time::Duration::from_millis(500),
        after: std::time::Duration::from_secs(1),
        timeout: std::time::Duration::from_secs(60),
        http_concurrency: 100,
    };
    let report = pressroom_bench::storm::run(storm, &mut control).await.unwrap();
    eprintln!("{report}");
    assert_eq!(report.live_before, 300);
    assert_eq!(report.caught_up, 300, "every subscriber came back");
    assert!(report.writes >= 20 && report.write_retries > 0, "writes went on, and were retried while down");
    assert!(report.head_seq > report.writes, "every write committed (after the book)");
    assert_eq!((report.missing, report.duplicated), (0, 0));
    assert_eq!((report.fetch_5xx, report.write_5xx), (0, 0));
    pressroom_bench::storm::HubControl::stop(&mut control).await.unwrap();
}
