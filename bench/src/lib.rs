//! `pressroom-bench`: a load tool that speaks Action Cable, so the same run measures the hub
//! or a stock Rails server. N subscribers connect at a set rate, spread over one or more cable
//! URLs (several hubs on one database); M broadcasts are triggered over HTTP, each carrying its
//! send time (`bench:<unix µs>` in a string field); every subscriber records each broadcast's
//! delivery latency, and whether the hub's seq came in order and once. With the servers' pids it
//! also reads their CPU time and memory: from /proc on Linux, through sysinfo on Windows and macOS.

#![forbid(unsafe_code)]

pub mod storm;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_cable_client::tungstenite::Message;
use pressroom_cable_client::Socket;
use pressroom_protocol::cable::ANALYTICS_CHANNEL;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The load tool's one error type.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0:?} is not a ws:// or wss:// cable URL")]
    CableUrl(String),
    #[error("no HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("storm mode: starting or stopping the hub failed: {0}")]
    Hub(std::io::Error),
}

/// A run's settings: the command line of `pressroom-bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct Bench {
    /// The server's cable URL; repeated, the subscribers are spread over them in turn (several
    /// hubs serving one stream).
    #[arg(long, default_value = "ws://127.0.0.1:3000/cable", required = false)]
    pub cable: Vec<String>,
    /// Where to POST a broadcast; default: the hub's `/api/job_orders` at the first cable's origin.
    /// Another URL gets `{"event": "job_order_created", "data": {"customer": "bench:…"}}`, for a
    /// Rails app's endpoint that broadcasts its body on `analytics`.
    #[arg(long)]
    pub trigger: Option<String>,
    /// A token for the cable handshake and the trigger (`Authorization: Bearer`).
    #[arg(long, env = "PRESSROOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    /// New connections per second.
    #[arg(long, default_value_t = 1000.0, value_parser = positive_rate)]
    pub connect_rate: f64,
    #[arg(long, default_value_t = 100)]
    pub broadcasts: usize,
    /// Broadcasts per second.
    #[arg(long, default_value_t = 10.0, value_parser = positive_rate)]
    pub broadcast_rate: f64,
    /// Seconds to wait for missing deliveries after the last broadcast.
    #[arg(long, default_value = "10", value_parser = seconds)]
    pub settle: Duration,
    /// The server's process id, to measure its CPU time and memory (on this machine); repeated,
    /// the processes' sums.
    #[arg(long)]
    pub server_pid: Vec<u32>,
    #[command(flatten)]
    pub storm: StormArgs,
}

/// Storm mode's flags (`--storm-hub` turns it on).
#[derive(Debug, Clone, clap::Args)]
pub struct StormArgs {
    /// Storm mode: the `pressroom-hub` binary. The tool starts `serve` on the --cable address
    /// (port 0: a free one), connects --subscribers with the desktop's own reconnect policy,
    /// writes job orders, stops the hub with SIGTERM, starts it again on the same database and
    /// measures the reconnect storm (see docs/performance.md).
    #[arg(long)]
    pub storm_hub: Option<std::path::PathBuf>,
    /// Storm mode: the hub's database (default: a new SQLite file in the temporary directory).
    #[arg(long, requires = "storm_hub")]
    pub storm_database: Option<String>,
    /// Storm mode: one more argument for `pressroom-hub serve` (repeatable, e.g.
    /// `--storm-hub-arg=--history=0`).
    #[arg(long = "storm-hub-arg", requires = "storm_hub", allow_hyphen_values = true)]
    pub storm_hub_args: Vec<String>,
    /// Storm mode: job orders written per second, before, during and after the restart.
    #[arg(long, default_value_t = 10.0, value_parser = positive_rate)]
    pub storm_write_rate: f64,
    /// Storm mode: seconds of writes before the restart.
    #[arg(long, default_value = "3", value_parser = seconds)]
    pub storm_before: Duration,
    /// Storm mode: seconds between the old hub's exit and the new one's start.
    #[arg(long, default_value = "1", value_parser = seconds)]
    pub storm_down: Duration,
    /// Storm mode: seconds to wait for every subscriber to be back before reporting.
    #[arg(long, default_value = "120", value_parser = seconds)]
    pub storm_timeout: Duration,
    /// Storm mode: HTTP requests in flight at once from the tool.
    #[arg(long, default_value_t = 1000)]
    pub storm_http_concurrency: usize,
}

impl Default for StormArgs {
    fn default() -> Self {
        StormArgs {
            storm_hub: None,
            storm_database: None,
            storm_hub_args: Vec::new(),
            storm_write_rate: 10.0,
            storm_before: Duration::from_secs(3),
            storm_down: Duration::from_secs(1),
            storm_timeout: Duration::from_secs(120),
            storm_http_concurrency: 1000,
        }
    }
}

impl Bench {
    /// Runs storm mode (`--storm-hub`): starts the hub, restarts it under the storm, stops it.
    pub async fn storm(&self, hub: &std::path::Path) -> Result<storm::StormReport, BenchError> {
        if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
            tracing::warn!(%error, "could not raise the open-files limit");
        }
        let mut cable = self.first_cable()?.to_owned();
        let origin = http_origin(&cable)?;
        let mut listen = origin.split_once("://").map(|(_, host)| host.to_owned()).unwrap_or_default();
        if listen.ends_with(":0") {
            let free = std::net::TcpListener::bind(&listen).map_err(BenchError::Hub)?;
            let addr = free.local_addr().map_err(BenchError::Hub)?.to_string();
            cable = cable.replacen(&listen, &addr, 1);
            listen = addr;
        }
        let temporary = std::env::temp_dir().join(format!("pressroom-storm-{}.sqlite3", std::process::id()));
        let database =
            self.storm.storm_database.clone().unwrap_or_else(|| temporary.to_string_lossy().into_owned());
        let mut args =
            vec!["serve".to_owned(), "--listen".to_owned(), listen, "--database".to_owned(), database];
        args.extend(self.storm.storm_hub_args.iter().cloned());
        let mut control = storm::ProcessHub::new(hub.to_owned(), args);
        storm::start_hub(&mut control, &cable).await?;
        let settings = storm::Storm {
            cable,
            token: self.token.clone(),
            subscribers: self.subscribers,
            connect_rate: self.connect_rate,
            write_rate: self.storm.storm_write_rate,
            before: self.storm.storm_before,
            down: self.storm.storm_down,
            after: Duration::from_secs(2),
            timeout: self.storm.storm_timeout,
            http_concurrency: self.storm.storm_http_concurrency,
        };
        let report = storm::run(settings, &mut control).await;
        use storm::HubControl;
        control.stop().await?;
        if self.storm.storm_database.is_none() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", temporary.display()));
            }
        }
        report
    }

    /// The cable URL the trigger's origin and storm mode go by.
    fn first_cable(&self) -> Result<&str, BenchError> {
        self.cable.first().map(String::as_str).ok_or_else(|| BenchError::CableUrl(String::new()))
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("{text:?} is not a positive number of events per second")),
    }
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse().map(Duration::from_secs).map_err(|_| format!("{text:?} is not a whole number of seconds"))
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub subscribers: usize,
    pub connected: usize,
    pub connect_failures: usize,
    pub connect_p50: Duration,
    pub connect_p99: Duration,
    /// From the first connection attempt to the last confirmed subscription.
    pub connect_all: Duration,
    pub broadcasts: usize,
    pub trigger_failures: usize,
    pub expected: u64,
    pub delivered: u64,
    pub latency_p50: Duration,
    pub latency_p99: Duration,
    pub latency_max: Duration,
    /// Deliveries whose seq a subscriber had already had: the same seq again.
    pub duplicated: u64,
    /// Deliveries whose seq came below one the subscriber had already had.
    pub out_of_order: u64,
    /// Server CPU time during the broadcast phase, per delivery: user and system (kernel) time.
    /// On loopback the system part includes the receiving end's TCP processing.
    pub cpu_per_delivery: Option<CpuTime>,
    /// Server resident memory added per subscriber, once all are subscribed.
    pub memory_per_subscriber: Option<u64>,
    /// The same after the broadcasts (buffers touched).
    pub memory_per_subscriber_after: Option<u64>,
}

/// Runs the benchmark.
pub async fn run(bench: Bench) -> Result<Report, BenchError> {
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(%error, "could not raise the open-files limit");
    }
    let origin = http_origin(bench.first_cable()?)?;
    for cable in &bench.cable {
        http_origin(cable)?;
    }
    let process = Processes(bench.server_pid.iter().copied().map(Process).collect());
    let rss_before = process.rss();

    // Connect at the set rate; each subscriber reports when its subscription is confirmed.
    let stop = CancellationToken::new();
    let counts = Arc::new(Counts::default());
    let (connected_tx, mut connected_rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::with_capacity(bench.subscribers);
    let started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / bench.connect_rate));
    for cable in bench.cable.iter().cycle().take(bench.subscribers) {
        pace.tick().await;
        let subscriber = Subscriber {
            cable: cable.clone(),
            token: bench.token.clone(),
            counts: counts.clone(),
            expect: bench.broadcasts,
        };
        tasks.push(tokio::spawn(subscriber.run(connected_tx.clone(), stop.clone())));
    }
    drop(connected_tx);
    let mut connect_times = Vec::with_capacity(bench.subscribers);
    let mut connect_failures = 0;
    // Subscribers keep their sender while they run, so count the answers.
    for _ in 0..bench.subscribers {
        let Some(result) = connected_rx.recv().await else { break };
        match result {
            Ok(took) => connect_times.push(took),
            Err(error) => {
                connect_failures += 1;
                if connect_failures <= 3 {
                    tracing::warn!(%error, "a subscriber failed to connect");
                }
            }
        }
    }
    let connect_all = started.elapsed();
    let connected = connect_times.len();
    let rss_subscribed = process.rss();
    let cpu_before = process.cpu();

    // Broadcast at the set rate; each trigger is its own request so a slow one does not hold
    // back the pace.
    let client = reqwest::Client::builder().timeout(TRIGGER_TIMEOUT).build()?;
    let trigger_failures = Arc::new(AtomicU64::new(0));
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / bench.broadcast_rate));
    let mut triggers = Vec::with_capacity(bench.broadcasts);
    for _ in 0..bench.broadcasts {
        pace.tick().await;
        let request = trigger_request(&client, bench.trigger.as_deref(), &origin, bench.token.as_deref());
        let failures = trigger_failures.clone();
        triggers.push(tokio::spawn(async move {
            let ok = request.send().await.is_ok_and(|r| r.status().is_success());
            if !ok {
                failures.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for trigger in triggers {
        let _ = trigger.await;
    }
    let expected = (connected * bench.broadcasts) as u64;
    let deadline = Instant::now() + bench.settle;
    // A load tool may poll: the count is an atomic shared by every subscriber.
    while counts.delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu_after = process.cpu();
    let rss_after = process.rss();
    stop.cancel();
    let mut latencies = Vec::with_capacity(expected as usize);
    for task in tasks {
        if let Ok(mut received) = task.await {
            latencies.append(&mut received);
        }
    }
    latencies.sort_unstable();
    connect_times.sort_unstable();
    let delivered = counts.delivered.load(Ordering::Relaxed);
    let per_subscriber = |after: Option<u64>| match (rss_before, after) {
        (Some(before), Some(after)) if connected > 0 => Some(after.saturating_sub(before) / connected as u64),
        _ => None,
    };
    Ok(Report {
        subscribers: bench.subscribers,
        connected,
        connect_failures,
        connect_p50: percentile(&connect_times, 50.0),
        connect_p99: percentile(&connect_times, 99.0),
        connect_all,
        broadcasts: bench.broadcasts,
        trigger_failures: trigger_failures.load(Ordering::Relaxed) as usize,
        expected,
        delivered,
        latency_p50: Duration::from_micros(percentile(&latencies, 50.0)),
        latency_p99: Duration::from_micros(percentile(&latencies, 99.0)),
        latency_max: Duration::from_micros(latencies.last().copied().unwrap_or_default()),
        duplicated: counts.duplicated.load(Ordering::Relaxed),
        out_of_order: counts.out_of_order.load(Ordering::Relaxed),
        cpu_per_delivery: match (cpu_before, cpu_after) {
            (Some(before), Some(after)) if delivered > 0 => Some(after.since(before, delivered as u32)),
            _ => None,
        },
        memory_per_subscriber: per_subscriber(rss_subscribed),
        memory_per_subscriber_after: per_subscriber(rss_after),
    })
}

fn trigger_request(
    client: &reqwest::Client,
    trigger: Option<&str>,
    origin: &str,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let stamp = format!("bench:{}", unix_micros());
    let request = match trigger {
        None => client
            .post(format!("{origin}/api/job_orders"))
            .json(&json!({"book_title": "Bench", "customer": stamp, "quantity": 1})),
        Some(url) => {
            client.post(url).json(&json!({"event": "job_order_created", "data": {"customer": stamp}}))
        }
    };
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// `ws://host:port/cable` → `http://host:port`.
fn http_origin(cable: &str) -> Result<String, BenchError> {
    let invalid = || BenchError::CableUrl(cable.to_owned());
    let (scheme, rest) = cable.split_once("://").ok_or_else(invalid)?;
    let scheme = match scheme {
        "ws" => "http",
        "wss" => "https",
        _ => return Err(invalid()),
    };
    let host = rest.split('/').next().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
    Ok(format!("{scheme}://{host}"))
}

fn unix_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_micros() as u64
}

/// The value below which `p` percent of the sorted `values` fall.
fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How long a subscriber may take from connecting to a confirmed subscription, and a broadcast
/// request to be answered, before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const TRIGGER_TIMEOUT: Duration = Duration::from_secs(15);

/// What every subscriber counts, shared: a load tool may poll.
#[derive(Default)]
struct Counts {
    delivered: AtomicU64,
    duplicated: AtomicU64,
    out_of_order: AtomicU64,
}

/// One benchmark subscriber.
struct Subscriber {
    cable: String,
    token: Option<String>,
    counts: Arc<Counts>,
    expect: usize,
}

impl Subscriber {
    /// Connects, subscribes, reports how long that took, then records the latency (µs) of each
    /// benchmark broadcast until stopped.
    async fn run(
        self,
        connected: mpsc::UnboundedSender<Result<Duration, String>>,
        stop: CancellationToken,
    ) -> Vec<u64> {
        let started = Instant::now();
        let connecting = tokio::time::timeout(CONNECT_TIMEOUT, self.connect());
        let mut socket = match connecting.await {
            Ok(Ok(socket)) => socket,
            Ok(Err(error)) => {
                let _ = connected.send(Err(error.to_string()));
                return Vec::new();
            }
            Err(_) => {
                let _ = connected.send(Err("no confirmed subscription in time".into()));
                return Vec::new();
            }
        };
        let _ = connected.send(Ok(started.elapsed()));
        let mut latencies = Vec::with_capacity(self.expect);
        let mut last_seq = 0;
        loop {
            let message = tokio::select! {
                () = stop.cancelled() => break,
                message = socket.next() => message,
            };
            match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(sent) = stamp(&text) {
                        latencies.push(unix_micros().saturating_sub(sent));
                        self.counts.delivered.fetch_add(1, Ordering::Relaxed);
                        // A stock Rails server sends no seq: nothing to check.
                        if let Some(seq) = seq(&text) {
                            match seq.cmp(&last_seq) {
                                std::cmp::Ordering::Greater => last_seq = seq,
                                std::cmp::Ordering::Equal => {
                                    self.counts.duplicated.fetch_add(1, Ordering::Relaxed);
                                }
                                std::cmp::Ordering::Less => {
                                    self.counts.out_of_order.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => break,
            }
        }
        let _ = socket.close(None).await;
        latencies
    }

    async fn connect(&self) -> Result<Socket, pressroom_cable_client::Error> {
        let request = pressroom_cable_client::request(&self.cable, self.token.as_deref())?;
        // Small buffers, so ten thousand clients fit beside the server.
        let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
        let (mut socket, _) = pressroom_cable_client::connect(request, config, true).await?;
        pressroom_cable_client::subscribe(&mut socket, ANALYTICS_CHANNEL).await?;
        Ok(socket)
    }
}

/// The send time in a benchmark broadcast's `bench:<unix µs>` marker.
fn stamp(frame: &str) -> Option<u64> {
    number_after(frame, "bench:")
}

/// The hub's seq of a broadcast (the event's only `"seq"` key; a customer string cannot hold
/// one unescaped).
fn seq(frame: &str) -> Option<u64> {
    number_after(frame, "\"seq\":")
}

fn number_after(frame: &str, marker: &str) -> Option<u64> {
    let at = frame.find(marker)? + marker.len();
    let digits = frame[at..].bytes().take_while(u8::is_ascii_digit).count();
    frame[at..at + digits].parse().ok()
}

/// CPU time: user and system (kernel) time apart where the platform tells them apart (Linux's
/// /proc), else only their sum (Windows and macOS, through sysinfo).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CpuTime {
    Split { user: Duration, system: Duration },
    Total(Duration),
}

impl CpuTime {
    pub fn total(&self) -> Duration {
        match *self {
            CpuTime::Split { user, system } => user + system,
            CpuTime::Total(total) => total,
        }
    }

    fn plus(self, other: CpuTime) -> CpuTime {
        match (self, other) {
            (CpuTime::Split { user, system }, CpuTime::Split { user: user2, system: system2 }) => {
                CpuTime::Split { user: user + user2, system: system + system2 }
            }
            _ => CpuTime::Total(self.total() + other.total()),
        }
    }

    /// The time used from `before` to `self`, divided by `n`.
    fn since(self, before: CpuTime, n: u32) -> CpuTime {
        match (self, before) {
            (CpuTime::Split { user, system }, CpuTime::Split { user: user0, system: system0 }) => {
                CpuTime::Split {
                    user: user.saturating_sub(user0) / n,
                    system: system.saturating_sub(system0) / n,
                }
            }
            _ => CpuTime::Total(self.total().saturating_sub(before.total()) / n),
        }
    }
}

/// A process on this machine.
pub(crate) struct Process(pub(crate) u32);

#[cfg(target_os = "linux")]
impl Process {
    /// Resident memory in bytes.
    pub(crate) fn rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// User and system CPU time of all its threads.
    pub(crate) fn cpu(&self) -> Option<CpuTime> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0)).ok()?;
        // Fields after the parenthesised name; utime and stime are the 14th and 15th overall.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
        if per_second <= 0 {
            return None;
        }
        let time = |field: usize| -> Option<Duration> {
            let ticks: u64 = fields.get(field)?.parse().ok()?;
            Some(Duration::from_secs_f64(ticks as f64 / per_second as f64))
        };
        Some(CpuTime::Split { user: time(11)?, system: time(12)? })
    }
}

/// Elsewhere through sysinfo: the working set (Windows) or resident size (macOS), and the sum of
/// user and system time, to the millisecond.
#[cfg(not(target_os = "linux"))]
impl Process {
    pub(crate) fn rss(&self) -> Option<u64> {
        self.read(sysinfo::ProcessRefreshKind::nothing().with_memory(), sysinfo::Process::memory)
    }

    pub(crate) fn cpu(&self) -> Option<CpuTime> {
        self.read(sysinfo::ProcessRefreshKind::nothing().with_cpu(), |process| {
            CpuTime::Total(Duration::from_millis(process.accumulated_cpu_time()))
        })
    }

    fn read<T>(
        &self,
        kind: sysinfo::ProcessRefreshKind,
        read: impl FnOnce(&sysinfo::Process) -> T,
    ) -> Option<T> {
        let pid = sysinfo::Pid::from_u32(self.0);
        let mut system = sysinfo::System::new().ok()?;
        system.refresh_processes_specifics(sysinfo::ProcessesToUpdate::Some(&[pid]), false, kind);
        system.process(pid).map(read)
    }
}

/// The servers measured together: their sums, if every one could be read.
struct Processes(Vec<Process>);

impl Processes {
    fn rss(&self) -> Option<u64> {
        self.sum(Process::rss, |a, b| a + b)
    }

    fn cpu(&self) -> Option<CpuTime> {
        self.sum(Process::cpu, CpuTime::plus)
    }

    fn sum<T>(&self, read: impl Fn(&Process) -> Option<T>, add: impl Fn(T, T) -> T) -> Option<T> {
        let mut values = self.0.iter().map(read);
        let first = values.next()??;
        values.try_fold(first, |sum, value| Some(add(sum, value?)))
    }
}

/// What the report says in place of a measurement it could not make.
const NOT_MEASURED: &str = "(pass --server-pid to measure)";

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        writeln!(
            f,
            "subscribers   {} connected of {} ({} failed) in {:.1} s; connect p50 {}, p99 {}",
            self.connected,
            self.subscribers,
            self.connect_failures,
            self.connect_all.as_secs_f64(),
            ms(self.connect_p50),
            ms(self.connect_p99)
        )?;
        writeln!(
            f,
            "broadcasts    {} ({} trigger failures); delivered {} of {} ({:.3} %)",
            self.broadcasts,
            self.trigger_failures,
            self.delivered,
            self.expected,
            if self.expected == 0 { 100.0 } else { self.delivered as f64 * 100.0 / self.expected as f64 }
        )?;
        writeln!(
            f,
            "latency       p50 {}, p99 {}, max {}",
            ms(self.latency_p50),
            ms(self.latency_p99),
            ms(self.latency_max)
        )?;
        writeln!(f, "order         {} duplicated, {} out of order", self.duplicated, self.out_of_order)?;
        match self.cpu_per_delivery {
            Some(CpuTime::Split { user, system }) => writeln!(
                f,
                "server cpu    {:.2} µs per delivery (user {:.2}, system {:.2})",
                (user + system).as_secs_f64() * 1e6,
                user.as_secs_f64() * 1e6,
                system.as_secs_f64() * 1e6
            )?,
            Some(CpuTime::Total(total)) => writeln!(
                f,
                "server cpu    {:.2} µs per delivery (user and system together)",
                total.as_secs_f64() * 1e6
            )?,
            None => writeln!(f, "server cpu    {NOT_MEASURED}")?,
        }
        match (self.memory_per_subscriber, self.memory_per_subscriber_after) {
            (Some(idle), Some(after)) => writeln!(
                f,
                "server memory {:.1} KiB per subscriber subscribed, {:.1} KiB after the broadcasts",
                idle as f64 / 1024.0,
                after as f64 / 1024.0
            ),
            _ => writeln!(f, "server memory {NOT_MEASURED}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_send_time_in_a_frame() {
        let frame = r#"{"identifier":"x","message":{"event":"job_order_created","data":{"customer":"bench:1700000000123456"}}}"#;
        assert_eq!(stamp(frame), Some(1_700_000_000_123_456));
        assert_eq!(stamp(r#"{"type":"ping","message":1}"#), None);
        let frame = r#"{"identifier":"x","message":{"event":"job_order_created","data":{"customer":"bench:1"},"seq":42,"epoch":"e"}}"#;
        assert_eq!(seq(frame), Some(42));
        assert_eq!(
            seq(r#"{"identifier":"x","message":{"event":"e","data":{}}}"#),
            None,
            "a stock Rails server"
        );
    }

    #[test]
    fn percentiles_by_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&values, 100.0), 100);
        assert_eq!(percentile(&[7u64], 99.0), 7);
        assert_eq!(percentile::<u64>(&[], 50.0), 0);
    }

    #[test]
    fn the_http_origin_comes_from_the_cable_url() {
        assert_eq!(http_origin("ws://127.0.0.1:3000/cable").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(http_origin("wss://example.com/cable").unwrap(), "https://example.com");
        assert!(http_origin("http://example.com/cable").is_err());
    }

    #[test]
    fn the_flags_are_those_of_pressroom_hub_bench() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            bench: Bench,
        }
        use clap::{CommandFactory, Parser};
        Cli::command().debug_assert();
        let Cli { bench } = Cli::parse_from([
            "pressroom-bench",
            "--cable",
            "ws://h:1/cable",
            "--trigger",
            "http://h:2/control/broadcast",
            "--token",
            "t",
            "--subscribers",
            "5",
            "--connect-rate",
            "2.5",
            "--broadcasts",
            "3",
            "--broadcast-rate",
            "4",
            "--settle",
            "7",
            "--server-pid",
            "9",
        ]);
        assert_eq!(bench.cable, ["ws://h:1/cable"]);
        assert_eq!(bench.trigger.as_deref(), Some("http://h:2/control/broadcast"));
        assert_eq!(bench.token.as_deref(), Some("t"));
        assert_eq!((bench.subscribers, bench.connect_rate, bench.broadcasts), (5, 2.5, 3));
        assert_eq!(
            (bench.broadcast_rate, bench.settle, bench.server_pid),
            (4.0, Duration::from_secs(7), vec![9])
        );
        let Cli { bench } = Cli::parse_from([
            "pressroom-bench",
            "--cable",
            "ws://h:1/cable",
            "--cable",
            "ws://h:2/cable",
            "--server-pid",
            "1",
            "--server-pid",
            "2",
        ]);
        assert_eq!(bench.cable, ["ws://h:1/cable", "ws://h:2/cable"]);
        assert_eq!(bench.server_pid, [1, 2]);
        let Cli { bench } = Cli::parse_from(["pressroom-bench"]);
        assert_eq!(
            (bench.cable.as_slice(), bench.subscribers, bench.broadcasts),
            (["ws://127.0.0.1:3000/cable".to_owned()].as_slice(), 1000, 100)
        );
        assert_eq!(
            (bench.connect_rate, bench.broadcast_rate, bench.settle),
            (1000.0, 10.0, Duration::from_secs(10))
        );
        assert!(Cli::try_parse_from(["pressroom-bench", "--connect-rate", "0"]).is_err());
        assert_eq!(format!("{:?}", bench.storm), format!("{:?}", StormArgs::default()), "the defaults agree");
        assert!(
            Cli::try_parse_from(["pressroom-bench", "--storm-database", "x"]).is_err(),
            "needs --storm-hub"
        );
        let Cli { bench } =
            Cli::parse_from(["pressroom-bench", "--storm-hub", "h", "--storm-hub-arg=--history=0"]);
        assert_eq!(bench.storm.storm_hub_args, ["--history=0"]);
    }

    #[test]
    fn reads_this_process() {
        let me = Process(std::process::id());
        assert!(me.rss().unwrap() > 0);
        assert!(me.cpu().is_some());
        let twice = Processes(vec![Process(std::process::id()), Process(std::process::id())]);
        assert!(twice.rss().unwrap() > me.rss().unwrap(), "summed");
        assert!(Processes(vec![me, Process(u32::MAX)]).cpu().is_none(), "one unreadable: no sum");
    }
}
