//! Limits that keep one client or a crowd from exhausting the hub, and the open-files limit the
//! process needs for many connections.

/// Configurable bounds; the defaults suit a hub serving about ten thousand subscribers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open cable connections; more are answered 503.
    pub max_connections: usize,
    /// Messages a connection may fall behind the fan-out before it is disconnected.
    pub max_lag: usize,
    /// Largest client WebSocket frame (commands are tiny).
    pub max_frame_bytes: usize,
    /// Largest REST request body.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_lag: 1024,
            max_frame_bytes: 64 * 1024,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Raises the soft open-files limit as far as the hard limit allows, and says what it got.
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
