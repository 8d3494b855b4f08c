//! What the real window costs: the CPU of the app and every WebKit process (from `/proc`) over
//! 15 s — the first 15 s once the window is live, then idle with a few exports running and at 2, 20 and 200
//! events/s from a hub in this process;
//! plus how many frames changed the page, how many CSS animations were running, and whether the
//! totals were exact once the events stopped; and the same at 20 events/s with the window hidden
//! in the tray. A benchmark, not a test: ignored by default, run by
//! `scripts/bench-ui`, its numbers recorded in docs/ui.md.

mod support;

use std::time::Duration;

use pressroom_testkit::TestHub;
use serde_json::json;
use support::AppWindow;
use tokio_util::sync::CancellationToken;

const MEASURED: Duration = Duration::from_secs(15);
/// Clock ticks per second in `/proc/PID/stat` (`getconf CLK_TCK`; 100 on Linux).
const TICKS: f64 = 100.0;

/// Counts frames in which the DOM changed (one per animation frame, however many mutations) and
/// samples the running CSS animations once a second; it requests a frame only when the page
/// changed anyway, so it adds no frames of its own.
const COUNT: &str = "
    window.__cost = { updates: 0, animations: 0, samples: 0 };
    let pending = false;
    new MutationObserver(() => {
        if (pending) return;
        pending = true;
        requestAnimationFrame(() => { pending = false; window.__cost.updates++; });
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    setInterval(() => {
        window.__cost.animations += document.getAnimations().filter(a => a.playState === 'running').length;
        window.__cost.samples++;
    }, 1000);";

/// A process below tauri-driver, as `/proc` shows it.
struct Process {
    pid: u32,
    ppid: u32,
    name: String,
    /// utime + stime, in clock ticks.
    ticks: u64,
}

fn processes() -> Vec<Process> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let name = head.split_once('(').map_or("", |(_, n)| n).to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields[n - 3].parse::<u64>().unwrap_or(0);
        all.push(Process { pid, ppid: field(4) as u32, name, ticks: field(14) + field(15) });
    }
    all
}

/// The app and its WebKit processes: every descendant of tauri-driver but WebKitWebDriver.
fn app_processes(driver: u32) -> Vec<Process> {
    let all = processes();
    let mut ours = vec![driver];
    let mut found = Vec::new();
    while let Some(parent) = ours.pop() {
        for process in all.iter().filter(|p| p.ppid == parent) {
            ours.push(process.pid);
            if process.name != "WebKitWebDriver" {
                found.push(Process { name: process.name.clone(), ..*process });
            }
        }
    }
    found
}

/// Ticks per process name, summed.
fn ticks_by_name(driver: u32) -> Vec<(String, u64)> {
    let mut by_name: Vec<(String, u64)> = Vec::new();
    for process in app_processes(driver) {
        match by_name.iter_mut().find(|(name, _)| *name == process.name) {
            Some((_, ticks)) => *ticks += process.ticks,
            None => by_name.push((process.name, process.ticks)),
        }
    }
    by_name
}

async fn wait_exact(window: &AppWindow, hub: &TestHub) {
    let totals = hub.hub.domain.summary().await.unwrap().totals;
    window.wait_total("books", totals.books).await;
    window.wait_total("covers", totals.covers).await;
    window.wait_total("job_orders", totals.job_orders).await;
    window.wait_total("print_exports", totals.print_exports).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by scripts/bench-ui, record the numbers in docs/ui.md"]
async fn cpu_of_the_window_by_load() {
    let hub = TestHub::start().await;
    // A few exports running from the start, so the idle page shows them in progress.
    let order =
        hub.post("/api/job_orders", json!({"customer": "Acme", "quantity": 5, "book_title": "Dune"})).await;
    for _ in 0..3 {
        hub.post("/api/print_exports", json!({"job_order_id": order["id"]})).await;
    }
    let window = AppWindow::launch(&[("PRESSROOM_HUB_URL", &hub.hub.cable_url())]).await;
    window.settings(json!({"notify_job_orders": false, "notify_failed_exports": false})).await;
    window.wait_for("connection", "Live", |t| t == "Live").await;
    wait_exact(&window, &hub).await;
    window.client.execute(COUNT, vec![]).await.unwrap();
    if let Ok(css) = std::env::var("PRESSROOM_BENCH_STYLE") {
        // For finding what a frame costs: the same page with some styles overridden.
        let style = "const s = document.createElement('style'); s.textContent = arguments[0]; document.head.appendChild(s);";
        window.client.execute(style, vec![json!(css)]).await.unwrap();
    }
    let driver = window.driver_pid();

    let rates: Vec<f64> = std::env::var("PRESSROOM_BENCH_RATES")
        .unwrap_or_else(|_| "0,2,20,200".to_owned())
        .split(',')
        .map(|r| r.trim().parse().expect("PRESSROOM_BENCH_RATES: numbers, comma-separated"))
        .collect();
    println!("| load | app + webview, % of a core | of which | DOM-changing frames/s | running CSS animations | totals at the end |");
    println!("|---|---|---|---|---|---|");
    // The first seconds after launch cost what launching costs (under Xvfb, Mesa's llvmpipe
    // compiling the compositor's shaders: seconds of CPU), not what the open window does: a row
    // of their own, so the idle row below is the window left open.
    let (total, parts) = measure(driver).await;
    println!(
        "| just launched, nothing arriving | {:.1} | {} | — | — | — |",
        percent(total),
        parts.join(", ")
    );
    for rate in rates {
        let flood = CancellationToken::new();
        let generator = (rate > 0.0)
            .then(|| tokio::spawn(pressroom_hub::demo::run(hub.hub.domain.clone(), rate, flood.clone())));
        tokio::time::sleep(Duration::from_secs(3)).await; // settling into the load
        window
            .client
            .execute("Object.assign(window.__cost, { updates: 0, animations: 0, samples: 0 });", vec![])
            .await
            .unwrap();
        let (total, parts) = measure(driver).await;
        let counted = window.client.execute("return window.__cost;", vec![]).await.unwrap();
        flood.cancel();
        if let Some(generator) = generator {
            generator.await.unwrap(); // its last write done, so the hub's totals are final
        }
        wait_exact(&window, &hub).await;

        let load = if rate > 0.0 { format!("{rate} events/s") } else { "idle".to_owned() };
        let updates = counted["updates"].as_f64().unwrap() / MEASURED.as_secs_f64();
        let animations =
            counted["animations"].as_f64().unwrap() / counted["samples"].as_f64().unwrap().max(1.0);
        println!(
            "| {load} | {:.1} | {} | {updates:.1} | {animations:.1} | exact |",
            percent(total),
            parts.join(", ")
        );
    }
    window.close().await;
    hub.stop().await;
}

/// The ticks the app and its WebKit processes spend over the measured period, in all and per
/// process name (see [`spent`]).
async fn measure(driver: u32) -> (u64, Vec<String>) {
    let before = ticks_by_name(driver);
    tokio::time::sleep(MEASURED).await;
    spent(&before, &ticks_by_name(driver))
}

/// Percent of one core that `ticks` clock ticks are over the measured period.
fn percent(ticks: u64) -> f64 {
    ticks as f64 / TICKS / MEASURED.as_secs_f64() * 100.0
}

/// The ticks spent between two readings in all, and per process name as "name 12.3" (percent).
fn spent(before: &[(String, u64)], after: &[(String, u64)]) -> (u64, Vec<String>) {
    let spent: Vec<(&String, u64)> = after
        .iter()
        .map(|(name, ticks)| (name, ticks - before.iter().find(|(n, _)| n == name).map_or(0, |(_, t)| *t)))
        .collect();
    let parts = spent.iter().map(|(name, t)| format!("{name} {:.1}", percent(*t))).collect();
    (spent.iter().map(|(_, t)| t).sum(), parts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by scripts/bench-ui, record the numbers in docs/ui.md"]
async fn cpu_while_hidden_in_the_tray() {
    let _turn = support::desktop::one_at_a_time().await;
    let hub = TestHub::start().await;
    let app = support::desktop::closed_to_tray(&hub).await;
    let rate = 20.0;
    let flood = CancellationToken::new();
    let generator = tokio::spawn(pressroom_hub::demo::run(hub.hub.domain.clone(), rate, flood.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await; // settling into the load
    let (total, parts) = measure(app.window.driver_pid()).await;
    flood.cancel();
    generator.await.unwrap();

    // Shown again by a second launch: one catch-up frame brings the exact state.
    support::desktop::launch_again(app.data_dir.path(), &app.bus);
    support::desktop::wait_mapped(&app.x_window, true).await;
    wait_exact(&app.window, &hub).await;
    println!("| load | app + webview, % of a core | of which | totals once shown |");
    println!("|---|---|---|---|");
    println!(
        "| {rate} events/s, hidden in the tray | {:.1} | {} | exact |",
        percent(total),
        parts.join(", ")
    );
    app.window.close().await;
    hub.stop().await;
}
