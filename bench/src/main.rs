use std::io::IsTerminal;

use clap::{Parser, ValueEnum};
use pressroom_bench::Bench;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "pressroom-bench",
    version,
    about = "Load-test an Action Cable server (the Pressroom hub or a stock Rails one): N subscribers, \
             M broadcasts, delivery latency, and the server's CPU and memory per subscriber."
)]
struct Cli {
    #[command(flatten)]
    bench: Bench,
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "PRESSROOM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A storm's thousands of refused reconnects are counted in the report, not logged one by one.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,pressroom_client::socket=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
    if let Some(hub) = cli.bench.storm.storm_hub.clone() {
        return match cli.bench.storm(&hub).await {
            Ok(report) => {
                print!("{report}");
                std::process::ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!(%error, "pressroom-bench storm failed");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match pressroom_bench::run(cli.bench).await {
        Ok(report) => {
            print!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "pressroom-bench failed");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
