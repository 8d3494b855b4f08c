//! The fan-out at a thousand subscribers, and a smoke run of the load tool against the hub and
//! against a stock Rails server.

use std::time::Duration;

use pressroom_bench::{self as bench, Bench};
use pressroom_hub::domain::{BookRef, NewJobOrder};
use pressroom_protocol::ServerFrame;
use pressroom_testkit::rails::RailsServer;
use pressroom_testkit::{CableClient, TestHub, PROMPTLY};

const SUBSCRIBERS: usize = 1000;
const BROADCASTS: u64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_each_receive_a_hundred_broadcasts_in_order() {
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let hub = TestHub::start().await;
    let mut readers = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let mut client = CableClient::subscribed(&hub.hub).await;
        readers.push(tokio::spawn(async move {
            // Every job order once, in seq order, with nothing in between skipped.
            let mut seqs = Vec::new();
            let mut customers = Vec::new();
            while customers.len() < BROADCASTS as usize {
                let ServerFrame::Broadcast { message, .. } = client.next_non_ping().await else { continue };
                seqs.push(message["seq"].as_u64().unwrap());
                if message["event"] == "job_order_created" {
                    customers.push(message["data"]["customer"].as_str().unwrap().to_owned());
                }
            }
            (seqs, customers)
        }));
    }
    for n in 0..BROADCASTS {
        let order = NewJobOrder {
            book: BookRef::Title("Fan-out".into()),
            customer: n.to_string(),
            quantity: 1,
            due_date: None,
        };
        hub.hub.domain.create_job_order(order).await.unwrap();
    }
    // One book_created, then the orders: seqs 1..=101.
    let want_seqs: Vec<u64> = (1..=BROADCASTS + 1).collect();
    let want_customers: Vec<String> = (0..BROADCASTS).map(|n| n.to_string()).collect();
    for reader in readers {
        let (seqs, customers) = tokio::time::timeout(PROMPTLY, reader).await.expect("delivered").unwrap();
        assert_eq!(seqs, want_seqs);
        assert_eq!(customers, want_customers);
    }
    assert_eq!(hub.hub.slow_disconnects(), 0);
    hub.stop().await;
}

fn smoke(cable: String, trigger: Option<String>) -> Bench {
    Bench {
        cable: vec![cable],
        trigger,
        token: None,
        subscribers: 20,
        connect_rate: 200.0,
        broadcasts: 5,
        broadcast_rate: 50.0,
        settle: Duration::from_secs(10),
        server_pid: vec![std::process::id()],
        storm: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_tool_measures_the_hub() {
    let hub = TestHub::start().await;
    let report = bench::run(smoke(hub.hub.cable_url(), None)).await.unwrap();
    assert_eq!((report.connected, report.connect_failures, report.trigger_failures), (20, 0, 0));
    assert_eq!((report.expected, report.delivered), (100, 100));
    assert_eq!((report.duplicated, report.out_of_order), (0, 0));
    assert!(report.latency_p50 <= report.latency_p99 && report.latency_p99 <= report.latency_max);
    assert!(report.latency_max > Duration::ZERO);
    assert!(report.memory_per_subscriber.is_some() && report.cpu_per_delivery.is_some());
    let printed = report.to_string();
    assert!(printed.contains("delivered 100 of 100"), "{printed}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_tool_measures_a_stock_rails_server() {
    let Some(rails) = RailsServer::start(&[]) else { return };
    let trigger = Some(format!("http://127.0.0.1:{}/control/broadcast", rails.port));
    let report = bench::run(smoke(rails.cable_url(), trigger)).await.unwrap();
    assert_eq!((report.connected, report.trigger_failures), (20, 0));
    assert_eq!((report.expected, report.delivered), (100, 100));
}
