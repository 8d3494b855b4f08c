//! Starting and stopping a hub: database, broadcaster, REST API and cable on one listener. The
//! hub's background tasks (the broadcaster, Redis pub/sub) are watched: one that panics or ends
//! while the hub runs stops the hub, and [`RunningHub::wait`] says which.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::middleware;
use axum::serve::ListenerExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::auth::{self, Auth};
use crate::cable::shards::Shards;
use crate::cable::{self, CableState};
use crate::db;
use crate::delivery::fanout::{Fanout, RING};
use crate::delivery::history::{History, DEFAULT_HISTORY};
use crate::delivery::outbox::{self, CommitSink};
use crate::delivery::{broadcaster, pubsub};
use crate::domain::Domain;
use crate::limits::Limits;
use crate::origins::{self, Origins};
use crate::signed::Signer;
use crate::{api, HubError};

/// What a hub needs to start.
#[derive(Debug, Clone)]
pub struct Hub {
    pub listen: SocketAddr,
    /// A file path or a `sqlite:` URL.
    pub database: String,
    /// With no tokens there is no auth, and only a loopback `listen` is allowed.
    pub auth: Auth,
    /// Web origins allowed beyond the hub's own and the desktop app's (`--allowed-origin`).
    pub allowed_origins: Vec<String>,
    pub limits: Limits,
    /// With a Redis URL, hubs sharing a Postgres database serve one stream.
    pub redis: Option<String>,
    /// What signs hub-to-hub messages on Redis; required with `redis`.
    pub redis_secret: Option<String>,
    /// Recent events kept in memory for catch-up (`--history`); 0 sends every backfill to
    /// the database.
    pub history: usize,
}

/// A hub accepting connections; stop it with [`RunningHub::stop`].
pub struct RunningHub {
    pub addr: SocketAddr,
    pub epoch: String,
    pub domain: Domain,
    connections: Arc<AtomicU64>,
    slow_disconnects: Arc<AtomicU64>,
    redis_rejected: Arc<AtomicU64>,
    outbox_reads: Arc<AtomicU64>,
    shutdown: CancellationToken,
    /// One permit per open cable connection (`limits.max_connections` in all): the drain
    /// waits until every one is back.
    open: Arc<Semaphore>,
    max_connections: usize,
    /// Closes the cable connections still open at the drain deadline.
    cut_off: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    /// Watches the background tasks ([`supervise`]).
    supervisor: JoinHandle<Result<(), HubError>>,
    /// Cancelled, makes the broadcaster panic ([`RunningHub::inject_broadcaster_panic`]).
    broadcaster_panic: CancellationToken,
}

/// How long a stopping hub waits for its connections: each is told `server_restart` and
/// closed, in-flight requests are answered; whatever is still open after this is cut off, so a
/// client that stops reading cannot hold the exit up.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A background task the hub cannot run without, by name.
type Task = (&'static str, JoinHandle<()>);

impl Hub {
    /// A hub on `listen` with `database` and no auth (so `listen` must be loopback).
    pub fn new(listen: SocketAddr, database: impl Into<String>) -> Self {
        Hub {
            listen,
            database: database.into(),
            auth: Auth::default(),
            allowed_origins: Vec::new(),
            limits: Limits::default(),
            redis: None,
            redis_secret: None,
            history: DEFAULT_HISTORY,
        }
    }

    pub async fn start(self) -> Result<RunningHub, HubError> {
        if !self.auth.enabled() {
            if !self.listen.ip().is_loopback() {
                return Err(HubError::Config(format!(
                    "refusing to listen on {} without tokens: pass --token (or PRESSROOM_TOKENS), \
                     or listen on a loopback address",
                    self.listen
                )));
            }
            tracing::warn!("no tokens configured: auth is off, serving loopback only");
        }
        let origins = Origins::new(&self.allowed_origins, !self.auth.enabled())?;
        if self.redis.is_some() && self.redis_secret.is_none() {
            return Err(HubError::Config(
                "--redis needs --redis-secret (PRESSROOM_REDIS_SECRET), the same on every hub, \
                 so no one else who can publish on Redis can inject events"
                    .into(),
            ));
        }
        let database = db::open(&self.database).await?;
        let pool = database.pool.clone();
        let (epoch, seq) = outbox::head(&pool).await?;
        // The newest events, so the gap a restart opened is served from memory too.
        let capacity = self.history.min(u32::MAX as usize);
        let loaded =
            outbox::read_after(&pool, &epoch, seq.saturating_sub(capacity as u64), capacity as u32).await?;
        let history = Arc::new(History::new(&epoch, capacity, seq, &loaded));
        drop(loaded);
        let shutdown = CancellationToken::new();
        // Until the hub is up, a failed step stops whatever this start already spawned.
        let stop_on_error = shutdown.clone().drop_guard();
        let fanout = Fanout::new(RING.max(self.limits.max_lag));
        let (committed, incoming) = mpsc::unbounded_channel();
        let outbox_reads = Arc::<AtomicU64>::default();
        let broadcaster_panic = CancellationToken::new();
        let source = broadcaster::Source {
            pool: pool.clone(),
            epoch: epoch.clone(),
            reads: outbox_reads.clone(),
            history: history.clone(),
            panic_on: broadcaster_panic.clone(),
        };
        let mut tasks: Vec<Task> = vec![(
            "broadcaster",
            broadcaster::spawn(source, seq, fanout.clone(), incoming, shutdown.clone()),
        )];
        let (shards, writers) = Shards::spawn(&fanout, Shards::default_count());
        tasks.extend(writers.into_iter().map(|writer| ("shard writer", writer)));
        let redis_rejected = Arc::<AtomicU64>::default();
        let remote = match (&self.redis, &self.redis_secret) {
            (Some(url), Some(secret)) => {
                let signer = Signer::new(secret, &epoch)?;
                let pubsub =
                    pubsub::spawn(url, signer, committed.clone(), redis_rejected.clone(), shutdown.clone())?;
                tasks.extend(pubsub.tasks);
                Some(pubsub.publish)
            }
            _ => None,
        };
        let domain = Domain::new(database, CommitSink::new(committed, remote), history);
        let connections = Arc::<AtomicU64>::default();
        let slow_disconnects = Arc::<AtomicU64>::default();
        let supervisor = tokio::spawn(supervise(tasks, fanout.clone(), shutdown.clone()));
        let open = Arc::new(Semaphore::new(self.limits.max_connections));
        let max_connections = self.limits.max_connections;
        let cut_off = CancellationToken::new();
        let cable = CableState {
            fanout,
            shards,
            open: open.clone(),
            refusals: Arc::new(Semaphore::new(cable::REFUSAL_BUDGET)),
            limits: self.limits.clone(),
            connections: connections.clone(),
            slow_disconnects: slow_disconnects.clone(),
            auth: self.auth.clone(),
            cut_off: cut_off.clone(),
        };
        let app = api::router(domain.clone(), self.limits.max_body_bytes)
            .merge(cable::router(cable))
            .layer(middleware::from_fn_with_state(self.auth, auth::require_token))
            .layer(middleware::from_fn_with_state(origins, origins::require_allowed))
            .layer(TraceLayer::new_for_http().make_span_with(request_span));
        let listener = TcpListener::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        // Frames are small and already batched per flush: send each at once, never waiting on
        // Nagle for the previous one's ACK.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let stopping = shutdown.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(stopping.cancelled_owned()).await
        });
        tracing::info!(%addr, %epoch, seq, history = capacity, "hub listening");
        let _ = stop_on_error.disarm();
        Ok(RunningHub {
            addr,
            epoch,
            domain,
            connections,
            slow_disconnects,
            redis_rejected,
            outbox_reads,
            shutdown,
            open,
            max_connections,
            cut_off,
            server,
            supervisor,
            broadcaster_panic,
        })
    }
}

/// Waits on the tasks the hub cannot run without. The first to end while the hub runs — a
/// panic (even while stopping), or a return nobody asked for — stops the hub: every connection is told, as at a
/// restart, the listener stops, and the error names the task. A Redis outage is not such an end:
/// the pub/sub tasks reconnect on their own.
async fn supervise(tasks: Vec<Task>, fanout: Fanout, shutdown: CancellationToken) -> Result<(), HubError> {
    let mut running: FuturesUnordered<_> =
        tasks.into_iter().map(|(task, handle)| async move { (task, handle.await) }).collect();
    let mut failure = None;
    while let Some((task, ended)) = running.next().await {
        // Once stopping, the tasks end as asked; a panic is still a failure, even then.
        let stopping = shutdown.is_cancelled() && !ended.as_ref().is_err_and(|e| e.is_panic());
        if stopping || failure.is_some() {
            continue;
        }
        let reason = match ended {
            Ok(()) => "ended unexpectedly".to_owned(),
            Err(error) if error.is_panic() => format!("panicked: {}", panic_message(error.into_panic())),
            Err(error) => error.to_string(),
        };
        tracing::error!(task, %reason, "a hub task failed; stopping the hub");
        fanout.shutdown();
        shutdown.cancel();
        failure = Some(HubError::TaskFailed { task, reason });
    }
    failure.map_or(Ok(()), Err)
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload.downcast_ref::<&str>().map_or("(not a string)", |m| m).to_owned(),
    }
}

/// The trace layer's span, with a `?token=` in the URI redacted: the cable takes its token there.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %redacted(request.uri()),
        version = ?request.version(),
    )
}

/// `uri` with the value of every `token` query parameter replaced.
fn redacted(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else { return uri.to_string() };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("token") => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), query.join("&"))
}

impl RunningHub {
    /// The cable URL clients connect to.
    pub fn cable_url(&self) -> String {
        format!("ws://{}/cable", self.addr)
    }

    /// The REST origin.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many cable connections the hub has accepted since it started.
    pub fn cable_connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// How many subscribers were cut off for falling behind.
    pub fn slow_disconnects(&self) -> u64 {
        self.slow_disconnects.load(Ordering::Relaxed)
    }

    /// How many Redis messages were dropped for failing authentication.
    pub fn redis_rejected(&self) -> u64 {
        self.redis_rejected.load(Ordering::Relaxed)
    }

    /// How many times the broadcaster read the outbox (gap fills and tail checks).
    pub fn outbox_reads(&self) -> u64 {
        self.outbox_reads.load(Ordering::Relaxed)
    }

    /// A token that stops the hub when cancelled (e.g. from a signal handler).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Cable connections open right now.
    pub fn open_connections(&self) -> usize {
        self.max_connections - self.open.available_permits()
    }

    /// Runs until the hub is stopped, the listener fails or a background task fails
    /// ([`HubError::TaskFailed`]). Once stopping, it drains: the listener is closed at once (a
    /// new hub can bind the address), every subscriber is told `server_restart` and closed,
    /// in-flight requests are answered, and it returns within [`DRAIN_TIMEOUT`] of the stop.
    pub async fn wait(self) -> Result<(), HubError> {
        let mut server = self.server;
        let served = tokio::select! {
            served = &mut server => Some(served.expect("the server task does not panic")),
            () = self.shutdown.cancelled() => None,
        };
        // However the server ended, the background tasks end with it.
        self.shutdown.cancel();
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        let served = match served {
            Some(served) => served,
            None => match tokio::time::timeout_at(deadline, &mut server).await {
                Ok(served) => served.expect("the server task does not panic"),
                Err(_) => {
                    tracing::warn!("requests still running at the drain deadline; cutting them off");
                    server.abort();
                    Ok(())
                }
            },
        };
        // Upgraded connections outlive the HTTP server: wait for each to say goodbye.
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        match tokio::time::timeout_at(deadline, self.open.acquire_many(all)).await {
            Ok(_) => tracing::info!("every cable connection closed"),
            Err(_) => {
                tracing::warn!(
                    open = self.max_connections - self.open.available_permits(),
                    "cable connections still open at the drain deadline; cutting them off"
                );
                self.cut_off.cancel();
            }
        }
        let supervised = self.supervisor.await.expect("the supervisor does not panic");
        self.domain.close().await;
        supervised?;
        Ok(served?)
    }

    /// A test hook: makes the broadcaster panic, as a bug in it would. The hub then stops by
    /// itself and [`RunningHub::wait`] returns [`HubError::TaskFailed`].
    #[doc(hidden)]
    pub fn inject_broadcaster_panic(&self) {
        self.broadcaster_panic.cancel();
    }

    /// Tells every cable client the server is restarting, stops accepting, and waits.
    pub async fn stop(self) -> Result<(), HubError> {
        self.shutdown.cancel();
        self.wait().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_uris_are_redacted() {
        let uri = |text: &str| redacted(&text.parse().unwrap());
        assert_eq!(uri("/cable?token=s3cret"), "/cable?token=[redacted]");
        assert_eq!(uri("/cable?a=1&TOKEN=s3cret&b=2"), "/cable?a=1&TOKEN=[redacted]&b=2");
        assert_eq!(uri("/api/events?after=3"), "/api/events?after=3");
        assert_eq!(uri("/healthz"), "/healthz");
    }
}
