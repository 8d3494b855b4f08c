//! Benchmark, not a test (ignored): the real app's peak resident memory (VmHWM) against the
//! hostile server of tests/support/hostile.rs — a 15 MiB message (tungstenite's default 16 MiB
//! frame cap already refuses the single 48 MiB frame), 20k out-of-order frames and a
//! 300k-item summary, each three times, then good behaviour. Run under a display:
//!
//! `xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test hostile_rss -- --ignored --nocapture`
//!
//! Results are recorded in docs/security.md.

mod support;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pressroom_testkit::hostile::{Behaviour, Hostile};

/// How long each misbehaviour may take to be delivered before the run moves on.
const PHASE: Duration = Duration::from_secs(60);
/// Time given to the app to read and handle what was delivered before the next round.
const SETTLE: Duration = Duration::from_secs(8);

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the app is running");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Waits (polling the server's counter) until `counter` passes `from`, or `PHASE` has passed.
async fn delivered(counter: &AtomicU64, from: u64) -> bool {
    let deadline = Instant::now() + PHASE;
    while counter.load(Ordering::SeqCst) <= from {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run it by hand under xvfb-run"]
async fn peak_rss_against_a_hostile_server() {
    let server = Hostile::start(Behaviour::Behave, 10).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut app = Command::new(env!("CARGO_BIN_EXE_pressroom"))
        .env("PRESSROOM_HUB_URL", server.cable_url())
        .env("PRESSROOM_DATA_DIR", data_dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = app.id();
    assert!(delivered(&server.counts().confirmed, 0).await, "the app subscribed");
    let baseline = vm_hwm_kib(pid);

    let counts = server.counts();
    let phases: [(Behaviour, &AtomicU64); 3] = [
        (Behaviour::OversizedFrame(15 << 20), &counts.oversized_sent),
        (Behaviour::EarlyFlood(20_000), &counts.floods_sent),
        (Behaviour::HugeSummary(300_000), &counts.huge_summaries),
    ];
    for (behaviour, counter) in phases {
        for _ in 0..3 {
            let before = counter.load(Ordering::SeqCst);
            server.set(behaviour, 10);
            server.kick();
            let sent = delivered(counter, before).await;
            tokio::time::sleep(SETTLE).await; // pacing a benchmark, not synchronising a test
            eprintln!("{behaviour:?}: delivered {sent}, VmHWM {} MiB", vm_hwm_kib(pid) / 1024);
        }
    }
    server.set(Behaviour::Behave, 12);
    server.kick();
    let confirmed = counts.confirmed.load(Ordering::SeqCst);
    let recovered = delivered(&counts.confirmed, confirmed).await;
    // Let the last answers be read and applied before the high-water mark is taken.
    tokio::time::sleep(SETTLE).await;
    let peak = vm_hwm_kib(pid);
    eprintln!(
        "app VmHWM: {} MiB at subscription, {} MiB peak; resubscribed after good behaviour: {recovered}",
        baseline / 1024,
        peak / 1024
    );
    let _ = app.kill();
    let _ = app.wait();
}
