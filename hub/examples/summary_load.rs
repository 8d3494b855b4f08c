//! Summary floods against writers: an in-process hub on SQLite, a writer posting job orders at a
//! steady rate, and N concurrent clients fetching the summary in a loop; prints the writer's
//! latency percentiles and what the readers got. With 0 readers and rate 0 it measures the
//! cost of a write alone (back to back).
//!
//! `cargo run --release -p pressroom-hub --example summary_load -- [READERS] [WRITES_PER_S] [SECONDS]`

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pressroom_hub::Hub;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<f64>().expect("a number"));
    let readers = args.next().unwrap_or(256.0) as usize;
    let rate = args.next().unwrap_or(20.0);
    let seconds = args.next().unwrap_or(10.0);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("hub.sqlite3").to_string_lossy().into_owned();
    let hub =
        Hub::new("127.0.0.1:0".parse().expect("an address"), database).start().await.expect("the hub starts");
    let base = hub.http_url();
    let http = reqwest::Client::new();
    let done = Arc::new(AtomicBool::new(false));
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, u64>::new()));
    let mut reading = Vec::new();
    for _ in 0..readers {
        let (http, url, done, statuses) =
            (http.clone(), format!("{base}/api/analytics/summary"), done.clone(), statuses.clone());
        reading.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let status = match http.get(&url).send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                *statuses.lock().expect("statuses lock").entry(status).or_default() += 1;
            }
        }));
    }
    let url = format!("{base}/api/job_orders");
    let mut latencies = Vec::new();
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        if rate > 0.0 {
            let due = started + Duration::from_secs_f64(n as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let body = serde_json::json!({"customer": format!("load {n}"), "quantity": 1, "book_title": "Load"});
        let sent = Instant::now();
        let response = http.post(&url).json(&body).send().await.expect("the write is answered");
        assert_eq!(response.status(), 201, "a write failed");
        latencies.push(sent.elapsed());
        n += 1;
    }
    done.store(true, Ordering::Relaxed);
    for reader in reading {
        reader.await.expect("a reader ran");
    }
    latencies.sort();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    println!(
        "{readers} readers, {} writes in {seconds} s: writer p50 {:?}, p99 {:?}, max {:?}, mean {mean:?}",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1],
    );
    println!("summary answers by status: {:?}", statuses.lock().expect("statuses lock"));
    hub.stop().await.expect("the hub stops");
}
