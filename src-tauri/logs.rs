//! Logs: to stderr, and to daily files in the data dir's `logs/` (the last 7 kept), so a user
//! can send what happened without a terminal.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Where the log files go, below the data dir.
pub const LOG_DIR: &str = "logs";

/// Keeps the file writer flushing; logs written after it is dropped reach stderr only.
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

/// Starts logging (`RUST_LOG` filters, `info` by default). Without a usable `data_dir` the logs
/// go to stderr only, and that is said.
pub fn init(data_dir: Option<&Path>) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = data_dir.map(|dir| {
        RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("pressroom")
            .filename_suffix("log")
            .max_log_files(7)
            .build(dir.join(LOG_DIR))
    });
    let (writer, guard, problem) = match file {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(writer), Some(guard), None)
        }
        Some(Err(error)) => (None, None, Some(error.to_string())),
        None => (None, None, Some("no data dir".to_owned())),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(writer.map(|writer| fmt::layer().with_ansi(false).with_writer(writer)))
        .init();
    if let Some(problem) = problem {
        tracing::warn!(%problem, "logging to stderr only");
    }
    LogGuard(guard)
}
