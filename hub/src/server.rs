//! Starting and stopping a hub: database, broadcaster, REST API and cable on one listener.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::middleware;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::auth::{self, Auth};
use crate::broadcaster::{self, CommitSink};
use crate::cable::{self, CableState};
use crate::db;
use crate::domain::Domain;
use crate::fanout::Fanout;
use crate::limits::Limits;
use crate::{api, outbox, pubsub, HubError};

/// What a hub needs to start.
#[derive(Debug, Clone)]
pub struct Hub {
    pub listen: SocketAddr,
    /// A file path or a `sqlite:` URL.
    pub database: String,
    /// With no tokens there is no auth, and only a loopback `listen` is allowed.
    pub auth: Auth,
    pub limits: Limits,
    /// With a Redis URL, hubs sharing a Postgres database serve one stream.
    pub redis: Option<String>,
}

/// A hub accepting connections; stop it with [`RunningHub::stop`].
pub struct RunningHub {
    pub addr: SocketAddr,
    pub epoch: String,
    pub domain: Domain,
    connections: Arc<AtomicU64>,
    slow_disconnects: Arc<AtomicU64>,
    shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl Hub {
    /// A hub on `listen` with `database` and no auth (so `listen` must be loopback).
    pub fn new(listen: SocketAddr, database: impl Into<String>) -> Self {
        Hub {
            listen,
            database: database.into(),
            auth: Auth::default(),
            limits: Limits::default(),
            redis: None,
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
        let database = db::open(&self.database).await?;
        let pool = database.pool.clone();
        let (epoch, seq) = outbox::head(&pool).await?;
        let shutdown = CancellationToken::new();
        let fanout = Fanout::new(self.limits.max_lag);
        let (committed, incoming) = mpsc::unbounded_channel();
        broadcaster::spawn(pool.clone(), epoch.clone(), seq, fanout.clone(), incoming, shutdown.clone());
        let remote = match &self.redis {
            Some(url) => Some(pubsub::spawn(url, &epoch, committed.clone(), shutdown.clone())?),
            None => None,
        };
        let domain = Domain::new(database, CommitSink::new(committed, remote));
        let connections = Arc::<AtomicU64>::default();
        let slow_disconnects = Arc::<AtomicU64>::default();
        let cable = CableState {
            fanout,
            open: Arc::new(Semaphore::new(self.limits.max_connections)),
            limits: self.limits.clone(),
            connections: connections.clone(),
            slow_disconnects: slow_disconnects.clone(),
            auth: self.auth.clone(),
        };
        let app = api::router(domain.clone(), self.limits.max_body_bytes)
            .merge(cable::router(cable))
            .layer(middleware::from_fn_with_state(self.auth, auth::require_token))
            .layer(TraceLayer::new_for_http());
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
        tracing::info!(%addr, %epoch, seq, "hub listening");
        Ok(RunningHub { addr, epoch, domain, connections, slow_disconnects, shutdown, server })
    }
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

    /// A token that stops the hub when cancelled (e.g. from a signal handler).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs until the hub is stopped (or the listener fails).
    pub async fn wait(self) -> Result<(), HubError> {
        let result = self.server.await.expect("the server task does not panic");
        self.domain.pool.close().await;
        Ok(result?)
    }

    /// Tells every cable client the server is restarting, stops accepting, and waits.
    pub async fn stop(self) -> Result<(), HubError> {
        self.shutdown.cancel();
        self.wait().await
    }
}
