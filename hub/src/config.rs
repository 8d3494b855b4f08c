//! The command line: every flag also reads from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::limits::Limits;

#[derive(Debug, Parser)]
#[command(
    name = "pressroom-hub",
    version,
    about = "Pressroom's hub: a REST API for books, covers, job orders and print exports, and an \
             Action Cable server that broadcasts every committed change on AnalyticsChannel."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, global = true, env = "PRESSROOM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API and the cable (applies migrations first).
    Serve(ServeArgs),
    /// Serve, and generate realistic activity through the same write path as the API.
    Demo(DemoArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database: a file path (SQLite, created if missing), a `sqlite:` URL or a `postgres://` URL.
    /// Default: hub.sqlite3 in the user's data directory.
    #[arg(long, env = "PRESSROOM_DATABASE_URL", default_value_os_t = default_database(), hide_env_values = true)]
    pub database: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (REST and /cable share it).
    #[arg(long, env = "PRESSROOM_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A read-write token (repeatable). Clients send it as `Authorization: Bearer TOKEN`
    /// (the cable also takes `?token=`). With no token at all, auth is off and only a loopback
    /// --listen is allowed.
    #[arg(long = "token", env = "PRESSROOM_TOKENS", value_delimiter = ',', hide_env_values = true)]
    pub tokens: Vec<String>,
    /// A read-only token (repeatable): may read and subscribe, never write (403).
    #[arg(long = "read-token", env = "PRESSROOM_READ_TOKENS", value_delimiter = ',', hide_env_values = true)]
    pub read_tokens: Vec<String>,
    /// A web origin (`scheme://host[:port]`) whose pages may use the hub (repeatable). A request
    /// carrying another `Origin` is refused with 403; one without (native clients) is served, and
    /// the hub's own origin and the desktop app's webview always are.
    #[arg(long = "allowed-origin", env = "PRESSROOM_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Redis for several hubs on one Postgres database: each publishes its commits there and
    /// fans out what the others commit.
    #[arg(long, env = "PRESSROOM_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,
    /// The secret (at least 16 characters, the same on every hub) that signs hub-to-hub
    /// messages on Redis; required with --redis.
    #[arg(long, env = "PRESSROOM_REDIS_SECRET", hide_env_values = true)]
    pub redis_secret: Option<String>,
    /// Recent events kept in memory, so clients catching up after a reconnect (all of them at
    /// once after a restart) are answered without a database read; older gaps are read from the
    /// database. 0 reads every catch-up from the database.
    #[arg(long, env = "PRESSROOM_HISTORY", default_value_t = crate::delivery::history::DEFAULT_HISTORY)]
    pub history: usize,
    #[command(flatten)]
    pub limits: Limits,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Events generated per second.
    #[arg(long, default_value_t = 2.0, value_parser = positive_rate)]
    pub rate: f64,
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("{text:?} is not a positive number of events per second")),
    }
}

/// In the user's data dir; on Windows the local one (`%LOCALAPPDATA%`): a database has no place
/// in a roaming profile.
fn default_database() -> PathBuf {
    #[cfg(windows)]
    let dir = dirs::data_local_dir();
    #[cfg(not(windows))]
    let dir = dirs::data_dir();
    dir.unwrap_or_else(|| PathBuf::from(".")).join("pressroom-hub").join("hub.sqlite3")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn demo_takes_serve_flags_and_a_positive_rate() {
        let cli = Cli::parse_from([
            "pressroom-hub",
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "x.db",
            "--rate",
            "5",
        ]);
        let Command::Demo(demo) = cli.command else { panic!("parsed as demo") };
        assert_eq!(demo.rate, 5.0);
        assert_eq!(demo.serve.database.database, PathBuf::from("x.db"));
        assert!(Cli::try_parse_from(["pressroom-hub", "demo", "--rate", "0"]).is_err());
    }

    #[test]
    fn help_hides_the_values_of_secret_variables() {
        let command = Cli::command();
        let serve = command.find_subcommand("serve").expect("serve");
        let mut secret = 0;
        for arg in serve.get_arguments() {
            let Some(env) = arg.get_env().and_then(|e| e.to_str()) else { continue };
            if ["DATABASE_URL", "REDIS", "TOKENS"].iter().any(|s| env.contains(s)) {
                assert!(arg.is_hide_env_values_set(), "{env} shows its value in --help");
                secret += 1;
            }
        }
        assert_eq!(secret, 5, "database, Redis URL and secret, both token lists");
    }

    #[test]
    fn a_trailing_comma_gives_a_blank_token_that_start_up_refuses() {
        let cli = Cli::parse_from(["pressroom-hub", "serve", "--token", "a,"]);
        let Command::Serve(serve) = cli.command else { panic!("parsed as serve") };
        let error = crate::auth::Auth::new(&serve.tokens, &serve.read_tokens).unwrap_err();
        assert!(error.to_string().contains("PRESSROOM_TOKENS"), "{error}");
    }
}
