//! What every test suite of the workspace starts and stops: a hub in-process, a stock Rails
//! Action Cable server, a fault-injecting proxy, a hostile server, the test Postgres and Redis,
//! a raw cable client and the desktop core without a window. Each server binds 127.0.0.1 on a
//! free port and stops when the test drops it.

pub mod cable;
pub mod client;
pub mod hostile;
pub mod proxy;
pub mod rails;
pub mod services;
mod test_hub;

use std::time::Duration;

pub use cable::CableClient;
pub use test_hub::{post_job_orders, TestHub};

/// Generous bound for anything that should happen promptly.
pub const PROMPTLY: Duration = Duration::from_secs(10);
