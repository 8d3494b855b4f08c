use std::io::IsTerminal;

use clap::Parser;
use pressroom_hub::auth::Auth;
use pressroom_hub::config::{Cli, Command, LogFormat, ServeArgs};
use pressroom_hub::{db, demo, limits, Hub, HubError, RunningHub};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
    match run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "pressroom-hub failed");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), HubError> {
    match command {
        Command::Migrate(args) => {
            let database = db::open(&args.database.to_string_lossy()).await?;
            database.pool.close().await;
            database.writes.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve(args) => serve(args).await?.wait().await,
        Command::Demo(args) => {
            let with_tokens = !args.serve.tokens.is_empty();
            let hub = serve(args.serve).await?;
            let seeded = demo::seed_history(&hub.domain, args.rate, chrono::Utc::now()).await?;
            if seeded > 0 {
                tracing::info!(seeded, "gave the empty database a day of job orders");
            }
            println!("Pressroom demo hub, generating {} events/s", args.rate);
            println!("  cable: {}", hub.cable_url());
            println!("  REST:  {}/api/analytics/summary", hub.http_url());
            println!("  app:   PRESSROOM_HUB_URL={} pressroom", hub.cable_url());
            if with_tokens {
                println!("  auth:  send one of the configured tokens (PRESSROOM_TOKEN for the app)");
            }
            tokio::spawn(demo::run(hub.domain.clone(), args.rate, hub.shutdown_token()));
            hub.wait().await
        }
    }
}

/// Starts the hub and stops it gracefully on Ctrl-C or SIGTERM (on Windows: Ctrl-C, Ctrl-Break
/// or its console closing).
async fn serve(mut args: ServeArgs) -> Result<RunningHub, HubError> {
    args.limits.max_connections = limits::raise_open_files(args.limits.max_connections);
    let hub = Hub {
        listen: args.listen,
        database: args.database.database.to_string_lossy().into_owned(),
        auth: Auth::new(&args.tokens, &args.read_tokens)?,
        allowed_origins: args.allowed_origins,
        limits: args.limits,
        redis: args.redis,
        redis_secret: args.redis_secret,
        history: args.history,
    }
    .start()
    .await?;
    let shutdown = hub.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    Ok(hub)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_break, ctrl_close};
        let mut ctrl_break = ctrl_break().expect("Ctrl-Break handler installs");
        let mut close = ctrl_close().expect("console close handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = ctrl_break.recv() => {}
            _ = close.recv() => {}
        }
    }
}
