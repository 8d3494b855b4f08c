//! Limits that keep one client or a crowd from exhausting the hub, and the open-files limit the
//! process needs for many connections.

/// Configurable bounds (the `serve` flags); the defaults suit a hub serving about ten thousand
/// subscribers.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Open cable connections; more are answered 503. The hub raises its open-files limit to
    /// match as far as the system allows, and serves fewer if it allows fewer.
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

/// Open files kept for everything but cable connections (the database's files and pool, the
/// listener, REST clients, Redis, the runtime's own): this many, or a quarter of a lower limit.
#[cfg(unix)]
const RESERVED_FILES: u64 = 256;

/// The cable connections a process may hold with `open_files` open files at most.
#[cfg(unix)]
fn connections_within(open_files: u64, max_connections: usize) -> usize {
    let reserved = RESERVED_FILES.min(open_files / 4);
    let room = usize::try_from(open_files - reserved).unwrap_or(usize::MAX);
    max_connections.min(room)
}

/// Raises the soft open-files limit as far as the hard limit allows and returns the cable
/// connections that fit under it: beyond them a client gets a clear 503, where running out of
/// files would make the listener's `accept` fail and pause every new connection, REST too.
#[cfg(unix)]
pub fn raise_open_files(max_connections: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-files limit");
            match rlimit::getrlimit(rlimit::Resource::NOFILE) {
                Ok((soft, _)) => soft,
                Err(_) => return max_connections,
            }
        }
    };
    let fitting = connections_within(limit, max_connections);
    if fitting < max_connections {
        tracing::warn!(
            limit,
            max_connections = fitting,
            "the open-files limit is below --max-connections: serving fewer (raise `ulimit -n` or \
             LimitNOFILE for more)"
        );
    } else {
        tracing::info!(limit, "open-files limit");
    }
    fitting
}

/// Windows has no per-process open-files limit for sockets (they are kernel handles; the C
/// runtime's `_setmaxstdio` counts only its own streams): nothing to raise.
#[cfg(windows)]
pub fn raise_open_files(max_connections: usize) -> usize {
    tracing::info!(max_connections, "sockets are handles on Windows: no open-files limit to raise");
    max_connections
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn connections_keep_room_for_the_hubs_other_files() {
        assert_eq!(connections_within(20_000, 20_000), 19_744);
        assert_eq!(connections_within(1_048_576, 20_000), 20_000);
        assert_eq!(connections_within(256, 20_000), 192, "a low limit keeps a quarter");
    }
}
