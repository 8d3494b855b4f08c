//! Limits that keep one client or a crowd from exhausting the hub, and the open-files limit the
//! process needs for many connections.

/// Configurable bounds (the `serve` flags); the defaults suit a hub serving about ten thousand
/// subscribers.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Open cable connections; more are answered 503. The hub raises its open-files limit to
    /// match as far as the system allows.
    #[arg(long, env = "PRESSROOM_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Frames a subscriber may have waiting (one per broadcast and subscription, and the pings)
    /// before it is disconnected: its queue's bound.
    #[arg(long, env = "PRESSROOM_MAX_LAG", default_value_t = Limits::default().max_lag)]
    pub max_lag: usize,
    /// Largest WebSocket frame a client may send, in bytes (commands are tiny).
    #[arg(long, env = "PRESSROOM_MAX_FRAME_BYTES", default_value_t = Limits::default().max_frame_bytes)]
    pub max_frame_bytes: usize,
    /// Largest REST request body, in bytes.
    #[arg(long, env = "PRESSROOM_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_lag: 1024,
            max_frame_bytes: 4 * 1024,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Raises the soft open-files limit as far as the hard limit allows, and says what it got.
#[cfg(unix)]
pub fn raise_open_files(max_connections: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < max_connections as u64 + 64 => tracing::warn!(
            limit,
            max_connections,
            "the open-files limit is below --max-connections; connections beyond it will fail"
        ),
        Ok(limit) => tracing::info!(limit, "open-files limit"),
        Err(error) => tracing::warn!(%error, "could not raise the open-files limit"),
    }
}

/// Windows has no per-process open-files limit for sockets (they are kernel handles; the C
/// runtime's `_setmaxstdio` counts only its own streams): nothing to raise.
#[cfg(windows)]
pub fn raise_open_files(max_connections: usize) {
    tracing::info!(max_connections, "sockets are handles on Windows: no open-files limit to raise");
}
