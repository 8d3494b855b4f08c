//! Storm mode: N subscribers that behave exactly as the desktop does — each one is the desktop's
//! own sans-IO connection machine (`pressroom_client::cable::Machine`: full-jitter backoff, the
//! first retry within 0–1 s, `server_restart` honoured, re-subscribe, catch-up through
//! `/api/events`) driven by a small IO loop here — while job orders are written at a steady
//! rate; the hub is stopped with SIGTERM and started again on the same database. It measures
//! how long after the new hub answers every subscriber is back at the head, the connect rate,
//! the new process's memory and CPU, failed requests, and per subscriber which committed events
//! never arrived or arrived twice.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_client::cable::{Action, FetchError, Input, Machine, Mode};
use pressroom_client::socket::{Options, Socket};
use pressroom_protocol::cable::ANALYTICS_CHANNEL;
use pressroom_protocol::{ConnectionState, EventsPage, Snapshot};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{percentile, BenchError, Process};

/// What restarts the hub: a process the tool started (the CLI), or a hub in-process (tests).
pub trait HubControl {
    /// Stops the running hub as an operator does (SIGTERM) and returns once it has exited.
    fn stop(&mut self) -> impl Future<Output = Result<(), BenchError>>;
    /// Starts it again on the same database and address; it may not answer yet on return.
    fn start(&mut self) -> impl Future<Output = Result<(), BenchError>>;
    /// The running hub's process, to follow its memory and CPU.
    fn pid(&self) -> Option<u32>;
}

/// A storm's settings.
#[derive(Debug, Clone)]
pub struct Storm {
    pub cable: String,
    pub token: Option<String>,
    pub subscribers: usize,
    /// New connections per second while the subscribers first connect.
    pub connect_rate: f64,
    /// Job orders written per second, before, during and after the restart.
    pub write_rate: f64,
    /// Writes before the restart.
    pub before: Duration,
    /// From the old hub's exit to the new one's start.
    pub down: Duration,
    /// Writes after every subscriber caught up.
    pub after: Duration,
    /// How long to wait for the subscribers to come back before reporting who did not.
    pub timeout: Duration,
    /// HTTP requests in flight at once from this tool (each needs a socket; 10k subscribers
    /// already hold 10k).
    pub http_concurrency: usize,
}

/// What a storm measured.
#[derive(Debug, Clone, Default)]
pub struct StormReport {
    pub subscribers: usize,
    /// Live before the restart, and how long connecting them all took.
    pub live_before: usize,
    pub connect_all: Duration,
    /// SIGTERM to the old process's exit (its drain).
    pub stop_took: Duration,
    /// The old process's exit to the new one answering `/healthz`.
    pub down_for: Duration,
    /// Subscribers Live again (caught up to the head) after the restart.
    pub caught_up: usize,
    /// From the new hub answering to the last (p50, p99, all) subscriber caught up.
    pub catch_up_p50: Duration,
    pub catch_up_p99: Duration,
    pub catch_up_all: Option<Duration>,
    /// Socket opens after the stop: attempted, failed (refused while down, or a failed
    /// handshake), and the most completed in any one second.
    pub connect_attempts: u64,
    pub connect_failed: u64,
    pub peak_connect_rate: u64,
    /// Catch-up and snapshot requests after the stop, and those that failed: no answer (the hub
    /// down), an error status, of which 5xx.
    pub fetches: u64,
    pub fetch_unanswered: u64,
    pub fetch_error_status: u64,
    pub fetch_5xx: u64,
    /// Job orders committed (201), attempts refused while the hub was down (then retried),
    /// answers with another status, of which 5xx.
    pub writes: u64,
    pub write_retries: u64,
    pub write_error_status: u64,
    pub write_5xx: u64,
    pub write_abandoned: u64,
    /// The head seq at the end and the events each subscriber should have had.
    pub head_seq: u64,
    pub expected_per_subscriber_max: u64,
    /// Committed after a subscriber's first snapshot and never applied by it; applied twice.
    pub missing: u64,
    pub subscribers_missing: usize,
    pub duplicated: u64,
    pub subscribers_duplicated: usize,
    /// The new hub process's peak resident memory and CPU (% of one core over a second), and
    /// its CPU time from answering to the last subscriber caught up.
    pub hub_peak_rss: Option<u64>,
    pub hub_peak_cpu: Option<f64>,
    pub hub_cpu_catching_up: Option<Duration>,
    /// The old process's RSS just before the stop.
    pub hub_rss_before: Option<u64>,
}

/// Counters shared by every subscriber.
#[derive(Default)]
struct Counters {
    connect_attempts: AtomicU64,
    connect_failed: AtomicU64,
    fetches: AtomicU64,
    fetch_unanswered: AtomicU64,
    fetch_error_status: AtomicU64,
    fetch_5xx: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> [u64; 6] {
        [
            &self.connect_attempts,
            &self.connect_failed,
            &self.fetches,
            &self.fetch_unanswered,
            &self.fetch_error_status,
            &self.fetch_5xx,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }
}

/// Completed socket opens per 100 ms since the start.
struct Opens {
    start: Instant,
    slots: Vec<AtomicU32>,
}

impl Opens {
    fn new(start: Instant) -> Self {
        Opens { start, slots: (0..36_000).map(|_| AtomicU32::new(0)).collect() }
    }

    fn record(&self, at: Instant) {
        let slot = (at.duration_since(self.start).as_millis() / 100) as usize;
        if let Some(slot) = self.slots.get(slot) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The most opens in any ten consecutive slots from `from` on.
    fn peak_per_second(&self, from: Instant) -> u64 {
        let first = (from.saturating_duration_since(self.start).as_millis() / 100) as usize;
        let counts: Vec<u64> = self.slots[first.min(self.slots.len())..]
            .iter()
            .map(|s| u64::from(s.load(Ordering::Relaxed)))
            .collect();
        counts.windows(10.min(counts.len()).max(1)).map(|w| w.iter().sum()).max().unwrap_or(0)
    }
}

struct Shared {
    cable: String,
    origin: String,
    token: Option<String>,
    http: reqwest::Client,
    http_slots: Semaphore,
    counters: Counters,
    opens: Opens,
    /// Each subscriber's last applied seq.
    progress: Vec<AtomicU64>,
    /// (subscriber, when) each time one goes Live.
    lives: mpsc::UnboundedSender<(usize, Instant)>,
}

/// What one subscriber saw.
#[derive(Debug, Default)]
struct Seen {
    /// The seq of its first snapshot: every event after it is owed to it.
    baseline: Option<u64>,
    /// Snapshots taken after the first (a resync: none expected in a restart).
    resyncs: u64,
    applied: Vec<u64>,
}

/// Runs a storm against the hub `control` restarts. The hub must be answering already.
pub async fn run(storm: Storm, control: &mut impl HubControl) -> Result<StormReport, BenchError> {
    let origin = crate::http_origin(&storm.cable)?;
    let started = Instant::now();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .pool_max_idle_per_host(storm.http_concurrency)
        .build()?;
    let (lives_tx, mut lives) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        cable: storm.cable.clone(),
        origin: origin.clone(),
        token: storm.token.clone(),
        http: http.clone(),
        http_slots: Semaphore::new(storm.http_concurrency),
        counters: Counters::default(),
        opens: Opens::new(started),
        progress: (0..storm.subscribers).map(|_| AtomicU64::new(0)).collect(),
        lives: lives_tx,
    });
    let pid = Arc::new(AtomicU32::new(control.pid().unwrap_or(0)));
    let stop_sampling = CancellationToken::new();
    let sampler = tokio::spawn(sample(pid.clone(), stop_sampling.clone()));

    // Connect everyone and wait until all are Live.
    let stop = CancellationToken::new();
    let mut tasks = Vec::with_capacity(storm.subscribers);
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / storm.connect_rate));
    for id in 0..storm.subscribers {
        pace.tick().await;
        tasks.push(tokio::spawn(subscriber(id, shared.clone(), stop.clone())));
    }
    let mut live_at: Vec<Option<Instant>> = vec![None; storm.subscribers];
    let mut live_before = 0;
    let deadline = tokio::time::Instant::now() + storm.timeout;
    while live_before < storm.subscribers {
        match tokio::time::timeout_at(deadline, lives.recv()).await {
            Ok(Some((id, at))) => {
                if live_at[id].replace(at).is_none() {
                    live_before += 1;
                }
            }
            _ => break,
        }
    }
    let connect_all = started.elapsed();
    tracing::info!(live_before, ?connect_all, "subscribers live; writing");

    let writer = Writer::spawn(http.clone(), &origin, storm.token.clone(), storm.write_rate);
    tokio::time::sleep(storm.before).await; // the load's own schedule, not a synchronisation

    // The restart.
    let rss_before = control.pid().and_then(|p| Process(p).rss());
    let stopping = Instant::now();
    let counters_at_stop = shared.counters.snapshot();
    control.stop().await?;
    let exited = Instant::now();
    tokio::time::sleep(storm.down).await; // the operator's pause between stop and start
    control.start().await?;
    pid.store(control.pid().unwrap_or(0), Ordering::Relaxed);
    let new_pid = control.pid();
    wait_healthy(&http, &origin).await;
    let up = Instant::now();
    let cpu_up = new_pid.and_then(|p| Process(p).cpu());
    tracing::info!(down_for = ?up - exited, "the hub answers again");

    // Everyone back: a Live after the stop.
    let mut back: Vec<Option<Instant>> = vec![None; storm.subscribers];
    let mut caught_up = 0;
    let deadline = tokio::time::Instant::now() + storm.timeout;
    while caught_up < storm.subscribers {
        match tokio::time::timeout_at(deadline, lives.recv()).await {
            Ok(Some((id, at))) if at > stopping => {
                if back[id].replace(at).is_none() {
                    caught_up += 1;
                }
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let all_back = Instant::now();
    let cpu_back = new_pid.and_then(|p| Process(p).cpu());
    tracing::info!(caught_up, after = ?all_back - up, "subscribers caught up");
    tokio::time::sleep(storm.after).await; // more writes on the settled hub
    let writes = writer.finish().await;

    // The final head, then every subscriber at it (or the settle ends).
    let head_seq = head(&http, &origin).await.unwrap_or(0);
    let settle = tokio::time::Instant::now() + Duration::from_secs(15);
    while shared.progress.iter().any(|p| p.load(Ordering::Relaxed) < head_seq)
        && tokio::time::Instant::now() < settle
    {
        tokio::time::sleep(Duration::from_millis(50)).await; // a load tool may poll its counters
    }
    stop.cancel();
    stop_sampling.cancel();
    let samples = sampler.await.unwrap_or_default();
    let counters_end = shared.counters.snapshot();
    let [connect_attempts, connect_failed, fetches, fetch_unanswered, fetch_error_status, fetch_5xx] =
        std::array::from_fn(|i| counters_end[i] - counters_at_stop[i]);

    let mut report = StormReport {
        subscribers: storm.subscribers,
        live_before,
        connect_all,
        stop_took: exited - stopping,
        down_for: up - exited,
        caught_up,
        connect_attempts,
        connect_failed,
        peak_connect_rate: shared.opens.peak_per_second(stopping),
        fetches,
        fetch_unanswered,
        fetch_error_status,
        fetch_5xx,
        writes: writes.committed,
        write_retries: writes.retries,
        write_error_status: writes.error_status,
        write_5xx: writes.server_errors,
        write_abandoned: writes.abandoned,
        head_seq,
        hub_rss_before: rss_before,
        ..StormReport::default()
    };
    let mut times: Vec<Duration> = back.iter().flatten().map(|at| at.saturating_duration_since(up)).collect();
    times.sort_unstable();
    report.catch_up_p50 = percentile(&times, 50.0);
    report.catch_up_p99 = percentile(&times, 99.0);
    report.catch_up_all = (caught_up == storm.subscribers).then(|| all_back.saturating_duration_since(up));
    if let (Some(a), Some(b)) = (cpu_up, cpu_back) {
        report.hub_cpu_catching_up = Some(b.total().saturating_sub(a.total()));
    }
    let new_samples: Vec<&Sample> = samples.iter().filter(|s| Some(s.pid) == new_pid).collect();
    report.hub_peak_rss = new_samples.iter().map(|s| s.rss).max();
    report.hub_peak_cpu = new_samples
        .windows(10)
        .filter_map(|w| {
            let (first, last) = (w.first()?, w.last()?);
            let wall = last.at.duration_since(first.at).as_secs_f64();
            (wall > 0.0).then(|| (last.cpu - first.cpu).as_secs_f64() * 100.0 / wall)
        })
        .reduce(f64::max);

    for task in tasks {
        let Ok(seen) = task.await else { continue };
        let Some(baseline) = seen.baseline else { continue };
        let mut counts: HashMap<u64, u32> = HashMap::with_capacity(seen.applied.len());
        for seq in &seen.applied {
            *counts.entry(*seq).or_default() += 1;
        }
        let owed = head_seq.saturating_sub(baseline);
        report.expected_per_subscriber_max = report.expected_per_subscriber_max.max(owed);
        let missing = (baseline + 1..=head_seq).filter(|seq| !counts.contains_key(seq)).count() as u64;
        let duplicated: u64 = counts
            .iter()
            .map(|(seq, n)| if *seq <= baseline { u64::from(*n) } else { u64::from(*n - 1) })
            .sum::<u64>()
            + seen.resyncs;
        report.missing += missing;
        report.subscribers_missing += usize::from(missing > 0);
        report.duplicated += duplicated;
        report.subscribers_duplicated += usize::from(duplicated > 0);
    }
    Ok(report)
}

/// Polls `/healthz` until it answers 200.
async fn wait_healthy(http: &reqwest::Client, origin: &str) {
    loop {
        let answered = http
            .get(format!("{origin}/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if answered {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await; // polling a port that is not open yet
    }
}

/// The hub's head seq.
async fn head(http: &reqwest::Client, origin: &str) -> Option<u64> {
    let page: EventsPage =
        http.get(format!("{origin}/api/events?after=0&limit=1")).send().await.ok()?.json().await.ok()?;
    Some(page.head_seq)
}

/// What the writer did.
#[derive(Debug, Default)]
struct Writes {
    committed: u64,
    retries: u64,
    error_status: u64,
    server_errors: u64,
    /// Given up on after [`WRITE_TRIES`] (a hub that stays broken must not hang the run).
    abandoned: u64,
}

/// Attempts per write, 100 ms apart, before it is given up on.
const WRITE_TRIES: u32 = 300;

/// Job orders at a steady rate; each is retried until the hub commits it, as a client that
/// must not lose a write does.
struct Writer {
    stop: CancellationToken,
    task: JoinHandle<Writes>,
}

impl Writer {
    fn spawn(http: reqwest::Client, origin: &str, token: Option<String>, rate: f64) -> Writer {
        let url = format!("{origin}/api/job_orders");
        let stop = CancellationToken::new();
        let stopping = stop.clone();
        let task = tokio::spawn(async move {
            let totals = Arc::new(Mutex::new(Writes::default()));
            let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            let mut writes = Vec::new();
            let mut n = 0u64;
            while !stopping.is_cancelled() {
                tokio::select! {
                    () = stopping.cancelled() => break,
                    _ = pace.tick() => {}
                }
                n += 1;
                let (http, url, token, totals) = (http.clone(), url.clone(), token.clone(), totals.clone());
                writes.push(tokio::spawn(async move {
                    let body = json!({"customer": format!("storm{n}"), "quantity": 1, "book_title": "Storm"});
                    let mut tries = 0;
                    loop {
                        let mut request = http.post(&url).json(&body);
                        if let Some(token) = &token {
                            request = request.bearer_auth(token);
                        }
                        let status = request.send().await.map(|r| r.status());
                        let done = {
                            let mut totals = totals.lock().expect("writes lock");
                            match status {
                                Ok(status) if status.is_success() => {
                                    totals.committed += 1;
                                    true
                                }
                                Ok(status) => {
                                    totals.error_status += 1;
                                    totals.server_errors += u64::from(status.is_server_error());
                                    !status.is_server_error()
                                }
                                Err(_) => {
                                    totals.retries += 1;
                                    false
                                }
                            }
                        };
                        if done {
                            return;
                        }
                        tries += 1;
                        if tries == WRITE_TRIES {
                            totals.lock().expect("writes lock").abandoned += 1;
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await; // retry pacing
                    }
                }));
            }
            for write in writes {
                let _ = write.await;
            }
            let writes = std::mem::take(&mut *totals.lock().expect("writes lock"));
            writes
        });
        Writer { stop, task }
    }

    async fn finish(self) -> Writes {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// One reading of the hub process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    pid: u32,
    rss: u64,
    cpu: Duration,
}

/// Reads the hub process every 100 ms until stopped.
async fn sample(pid: Arc<AtomicU32>, stop: CancellationToken) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = stop.cancelled() => return samples,
            _ = tick.tick() => {}
        }
        let pid = pid.load(Ordering::Relaxed);
        if pid == 0 {
            continue;
        }
        let process = Process(pid);
        if let (Some(rss), Some(cpu)) = (process.rss(), process.cpu()) {
            samples.push(Sample { at: Instant::now(), pid, rss, cpu: cpu.total() });
        }
    }
}

/// What the subscriber's IO tasks report back, tagged with the socket they belong to.
enum Report {
    Socket(u64, Input),
    Fetched(Input),
}

/// One subscriber: the desktop's machine, its socket and its fetches.
async fn subscriber(id: usize, shared: Arc<Shared>, stop: CancellationToken) -> Seen {
    let mode = Mode { realtime: true, auto_refresh: false, refresh_interval: Duration::from_secs(10) };
    let mut machine = Machine::new(mode, ANALYTICS_CHANNEL, StdRng::from_os_rng(), Instant::now());
    let (reports_tx, mut reports) = mpsc::channel::<Report>(16);
    let mut socket: Option<Socket> = None;
    let mut sockets = 0u64;
    let mut seen = Seen::default();
    let mut pending = vec![Input::Start];
    loop {
        for input in pending.drain(..) {
            for action in machine.handle(input, Instant::now()) {
                match action {
                    Action::OpenSocket => {
                        if let Some(old) = socket.take() {
                            old.abort();
                        }
                        sockets += 1;
                        socket = Some(open_socket(sockets, shared.clone(), reports_tx.clone()));
                    }
                    Action::Send(text) => {
                        if let Some(socket) = &socket {
                            socket.send(text);
                        }
                    }
                    Action::CloseSocket => {
                        if let Some(old) = socket.take() {
                            old.close();
                        }
                    }
                    Action::FetchSnapshot { request } => {
                        let (shared, reports) = (shared.clone(), reports_tx.clone());
                        tokio::spawn(async move {
                            let url = format!("{}/api/analytics/summary", shared.origin);
                            let result = fetch::<Snapshot>(&shared, url).await;
                            let _ = reports.send(Report::Fetched(Input::Snapshot { request, result })).await;
                        });
                    }
                    Action::FetchEvents { request, after } => {
                        let (shared, reports) = (shared.clone(), reports_tx.clone());
                        tokio::spawn(async move {
                            let url = format!("{}/api/events?after={after}&limit=1000", shared.origin);
                            let result = fetch::<EventsPage>(&shared, url).await;
                            let _ = reports.send(Report::Fetched(Input::Events { request, result })).await;
                        });
                    }
                    Action::Replace(snapshot) => {
                        if seen.baseline.is_none() {
                            seen.baseline = snapshot.seq;
                            shared.progress[id].store(snapshot.seq.unwrap_or(0), Ordering::Relaxed);
                        } else {
                            seen.resyncs += 1;
                        }
                    }
                    Action::Apply(event) => {
                        if let Some(seq) = event.seq {
                            seen.applied.push(seq);
                            shared.progress[id].fetch_max(seq, Ordering::Relaxed);
                        }
                    }
                    Action::Confirmed => {}
                    Action::State(view) => {
                        if view.state == ConnectionState::Live {
                            let _ = shared.lives.send((id, Instant::now()));
                        }
                    }
                }
            }
        }
        let next = machine.deadline();
        tokio::select! {
            () = stop.cancelled() => {
                if let Some(socket) = socket.take() {
                    socket.abort();
                }
                return seen;
            }
            Some(report) = reports.recv() => match report {
                Report::Socket(n, input) if socket.as_ref().is_some_and(|socket| socket.id() == n) => pending.push(input),
                Report::Socket(..) => {}
                Report::Fetched(input) => pending.push(input),
            },
            () = sleep_until(next) => pending.push(Input::Timeout),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Opens socket `n` as the desktop does, counting the attempt, a failure and an open.
fn open_socket(n: u64, shared: Arc<Shared>, reports: mpsc::Sender<Report>) -> Socket {
    shared.counters.connect_attempts.fetch_add(1, Ordering::Relaxed);
    let request = pressroom_cable_client::request(&shared.cable, shared.token.as_deref());
    // Small buffers, so ten thousand clients fit beside the hub.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let report = move |input: Input| {
        match input {
            Input::SocketFailed => _ = shared.counters.connect_failed.fetch_add(1, Ordering::Relaxed),
            Input::SocketOpened => shared.opens.record(Instant::now()),
            _ => {}
        }
        let reports = reports.clone();
        async move { reports.send(Report::Socket(n, input)).await.is_ok() }
    };
    Socket::open(n, request, Options { config, nodelay: true }, report)
}

/// A GET sorted into what the machine needs to know, as the desktop's driver sorts it.
async fn fetch<T: DeserializeOwned>(shared: &Shared, url: String) -> Result<T, FetchError> {
    let _slot = shared.http_slots.acquire().await.expect("never closed");
    shared.counters.fetches.fetch_add(1, Ordering::Relaxed);
    let mut request = shared.http.get(url);
    if let Some(token) = &shared.token {
        request = request.bearer_auth(token);
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            shared.counters.fetch_unanswered.fetch_add(1, Ordering::Relaxed);
            return Err(FetchError::Failed(error.to_string()));
        }
    };
    let status = response.status();
    if !status.is_success() {
        shared.counters.fetch_error_status.fetch_add(1, Ordering::Relaxed);
        if status.is_server_error() {
            shared.counters.fetch_5xx.fetch_add(1, Ordering::Relaxed);
        }
        return Err(match status.as_u16() {
            404 | 405 | 501 => FetchError::Unavailable,
            401 | 403 => FetchError::Unauthorized,
            _ => FetchError::Failed(format!("HTTP {status}")),
        });
    }
    let body = response.bytes().await.map_err(|e| {
        shared.counters.fetch_unanswered.fetch_add(1, Ordering::Relaxed);
        FetchError::Failed(e.to_string())
    })?;
    serde_json::from_slice(&body).map_err(|e| FetchError::Failed(e.to_string()))
}

/// A `pressroom-hub serve` process this tool starts, stops with SIGTERM and starts again.
pub struct ProcessHub {
    pub command: std::path::PathBuf,
    pub args: Vec<String>,
    child: Option<tokio::process::Child>,
}

impl ProcessHub {
    pub fn new(command: std::path::PathBuf, args: Vec<String>) -> Self {
        ProcessHub { command, args, child: None }
    }
}

/// How long a stopped hub may take to exit before it is killed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

impl HubControl for ProcessHub {
    async fn stop(&mut self) -> Result<(), BenchError> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        if let Some(pid) = child.id() {
            terminate(pid)?;
        }
        match tokio::time::timeout(EXIT_TIMEOUT, child.wait()).await {
            Ok(status) => {
                let status = status.map_err(BenchError::Hub)?;
                tracing::info!(%status, "the hub exited");
            }
            Err(_) => {
                tracing::warn!("the hub did not exit after SIGTERM; killing it");
                child.kill().await.map_err(BenchError::Hub)?;
            }
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<(), BenchError> {
        let child = tokio::process::Command::new(&self.command)
            .args(&self.args)
            .env("RUST_LOG", std::env::var("PRESSROOM_STORM_HUB_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::Hub)?;
        self.child = Some(child);
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }
}

#[cfg(target_os = "linux")]
fn terminate(pid: u32) -> Result<(), BenchError> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    kill(Pid::from_raw(pid as i32), Signal::SIGTERM).map_err(|e| BenchError::Hub(e.into()))
}

#[cfg(not(target_os = "linux"))]
fn terminate(_: u32) -> Result<(), BenchError> {
    Err(BenchError::Hub(std::io::Error::other("storm mode stops the hub with SIGTERM: Linux only")))
}

/// Starts the hub `control` runs for the first time and waits until it answers.
pub async fn start_hub(control: &mut impl HubControl, cable: &str) -> Result<(), BenchError> {
    let origin = crate::http_origin(cable)?;
    control.start().await?;
    let http = reqwest::Client::new();
    tokio::time::timeout(Duration::from_secs(60), wait_healthy(&http, &origin))
        .await
        .map_err(|_| BenchError::Hub(std::io::Error::other("the hub did not answer within 60 s")))
}

impl std::fmt::Display for StormReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
        let mib = |b: Option<u64>| b.map_or("n/a".to_owned(), |b| format!("{:.1} MiB", b as f64 / 1048576.0));
        writeln!(
            f,
            "storm         {} subscribers, {} live before the restart (connected in {})",
            self.subscribers,
            self.live_before,
            s(self.connect_all)
        )?;
        writeln!(
            f,
            "restart       drain {}, down {} (exit → answering)",
            s(self.stop_took),
            s(self.down_for)
        )?;
        writeln!(
            f,
            "caught up     {} of {}; after the hub answered: p50 {}, p99 {}, all {}",
            self.caught_up,
            self.subscribers,
            s(self.catch_up_p50),
            s(self.catch_up_p99),
            self.catch_up_all.map_or("not all".to_owned(), s)
        )?;
        writeln!(
            f,
            "connects      {} attempts, {} failed, peak {} completed/s",
            self.connect_attempts, self.connect_failed, self.peak_connect_rate
        )?;
        writeln!(
            f,
            "fetches       {} requests: {} unanswered (hub down), {} error statuses ({} 5xx)",
            self.fetches, self.fetch_unanswered, self.fetch_error_status, self.fetch_5xx
        )?;
        writeln!(
            f,
            "writes        {} committed, {} retried while down, {} error statuses ({} 5xx), {} given up",
            self.writes, self.write_retries, self.write_error_status, self.write_5xx, self.write_abandoned
        )?;
        writeln!(
            f,
            "events        head seq {}; missing {} ({} subscribers), duplicated {} ({} subscribers)",
            self.head_seq,
            self.missing,
            self.subscribers_missing,
            self.duplicated,
            self.subscribers_duplicated
        )?;
        writeln!(
            f,
            "hub           new process peak RSS {} (old before stop {}), peak CPU {}, CPU catching up {}",
            mib(self.hub_peak_rss),
            mib(self.hub_rss_before),
            self.hub_peak_cpu.map_or("n/a".to_owned(), |c| format!("{c:.0} %")),
            self.hub_cpu_catching_up.map_or("n/a".to_owned(), |c| format!("{:.2} s", c.as_secs_f64()))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_connect_rate_is_the_busiest_second() {
        let start = Instant::now();
        let opens = Opens::new(start);
        for n in 0..30u64 {
            opens.record(start + Duration::from_millis(n * 50)); // 20 a second for 1.5 s
        }
        opens.record(start + Duration::from_secs(5));
        assert_eq!(opens.peak_per_second(start), 20);
        assert_eq!(opens.peak_per_second(start + Duration::from_secs(4)), 1);
    }
}
