//! One cable socket as the connection [`Machine`](crate::cable::Machine) sees it: opened or
//! failed, its text frames, closed. The desktop's driver runs it, and so does the load tool's
//! storm, so a server meets the two the same way.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use pressroom_cable_client::tungstenite::error::CapacityError;
use pressroom_cable_client::tungstenite::handshake::client::Request;
use pressroom_cable_client::tungstenite::protocol::WebSocketConfig;
use pressroom_cable_client::tungstenite::{Error as WsError, Message};
use pressroom_protocol::Misbehaviour;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cable::Input;

/// Commands waiting for the socket (two at most per socket: subscribe and unsubscribe).
const OUTGOING_QUEUE: usize = 8;
/// How long a socket closed politely may take to exchange closes with the server.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How the socket is opened.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: WebSocketConfig,
    /// Sends small frames at once (Nagle's algorithm off).
    pub nodelay: bool,
}

/// A socket's task and the way to send it commands.
pub struct Socket {
    id: u64,
    outgoing: mpsc::Sender<String>,
    /// Set once the socket opened: before, there is nobody to say goodbye to.
    opened: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Socket {
    /// Opens the socket in a task of its own, which hands every step to `report`: `SocketFailed`
    /// if it never opened, else `SocketOpened`, each text frame, `SocketClosed`. `report` may
    /// wait (a driver behind reads the server's stream no faster); once it returns `false` the
    /// task ends.
    pub fn open<F>(
        id: u64,
        request: Result<Request, pressroom_cable_client::Error>,
        options: Options,
        report: impl Fn(Input) -> F + Send + 'static,
    ) -> Socket
    where
        F: Future<Output = bool> + Send + 'static,
    {
        let (outgoing, to_send) = mpsc::channel(OUTGOING_QUEUE);
        let opened = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(request, options, to_send, opened.clone(), report));
        Socket { id, outgoing, opened, task }
    }

    /// Which of the sockets opened one after another this is.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues a command; `false` if the socket is not taking them.
    pub fn send(&self, text: String) -> bool {
        self.outgoing.try_send(text).is_ok()
    }

    /// Closes the socket politely: a close frame, then the server's answer awaited for at most
    /// [`CLOSE_GRACE`]. A socket still opening is abandoned at once.
    pub fn close(self) {
        if !self.opened.load(Ordering::Acquire) {
            return self.abort();
        }
        drop(self.outgoing);
        let abort = self.task.abort_handle();
        tokio::spawn(async move {
            if tokio::time::timeout(CLOSE_GRACE, self.task).await.is_err() {
                abort.abort();
            }
        });
    }

    /// Ends the socket now.
    pub fn abort(self) {
        self.task.abort();
    }
}

async fn run<F>(
    request: Result<Request, pressroom_cable_client::Error>,
    options: Options,
    mut to_send: mpsc::Receiver<String>,
    opened: Arc<AtomicBool>,
    report: impl Fn(Input) -> F,
) where
    F: Future<Output = bool>,
{
    let request = match request {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(%error, "invalid socket request");
            report(Input::SocketFailed).await;
            return;
        }
    };
    let mut ws = match pressroom_cable_client::connect(request, options.config, options.nodelay).await {
        Ok((ws, _)) => ws,
        Err(error) => {
            tracing::info!(%error, "could not open the socket");
            report(Input::SocketFailed).await;
            return;
        }
    };
    opened.store(true, Ordering::Release);
    if !report(Input::SocketOpened).await {
        return;
    }
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if !report(Input::Frame(text.as_str().to_owned())).await {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Ok(_)) => {}
                Some(Err(WsError::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
                    tracing::warn!(size, max_size, "the server sent a message over the limit");
                    let limit_bytes = max_size as u64;
                    report(Input::Misbehaved(Misbehaviour::MessageTooLarge { limit_bytes })).await;
                    break;
                }
                Some(Err(error)) => {
                    tracing::info!(%error, "socket error");
                    break;
                }
            },
            text = to_send.recv() => match text {
                Some(text) => {
                    if let Err(error) = ws.send(Message::text(text)).await {
                        tracing::info!(%error, "socket send failed");
                        break;
                    }
                }
                None => {
                    if ws.close(None).await.is_ok() {
                        // What still comes, then the server's close (or the end of the stream).
                        while let Some(Ok(message)) = ws.next().await {
                            if message.is_close() {
                                break;
                            }
                        }
                    }
                    return;
                }
            },
        }
    }
    report(Input::SocketClosed).await;
}
