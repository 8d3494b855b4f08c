//! Ending the app on the signals a session sends (logout, shutdown, Ctrl-C in a terminal) the
//! same way Quit does, so the exit path saves the last view instead of dying on the spot.

use tauri::{AppHandle, Runtime};

/// Waits for SIGTERM, SIGINT or SIGHUP (on Windows: Ctrl-C, or the console closing), then exits.
/// A Windows session's end (log-off, shutdown) reaches the app's windows instead, as
/// `WM_ENDSESSION`, which Tauri turns into the same `RunEvent::Exit` as Quit; the console's
/// log-off and shutdown events are not sent to a process with windows.
pub async fn exit_on_signal<R: Runtime>(app: AppHandle<R>) {
    match wait().await {
        Ok(signal) => {
            tracing::info!(signal, "asked to stop: saving and exiting");
            app.exit(0);
        }
        Err(error) => tracing::warn!(%error, "cannot listen for stop signals"),
    }
}

#[cfg(unix)]
async fn wait() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = hup.recv() => "SIGHUP",
    })
}

#[cfg(windows)]
async fn wait() -> std::io::Result<&'static str> {
    use tokio::signal::windows::{ctrl_c, ctrl_close};
    let mut c = ctrl_c()?;
    let mut close = ctrl_close()?;
    Ok(tokio::select! {
        _ = c.recv() => "Ctrl-C",
        _ = close.recv() => "console closed",
    })
}
