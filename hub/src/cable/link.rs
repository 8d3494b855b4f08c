//! One connection's socket, shared by its own task (which reads commands and answers them) and
//! the shard writer that delivers broadcasts and pings to it.
//!
//! Every frame goes through [`Outbound::push`] under one lock, so frames never interleave and a
//! confirmation always precedes the broadcasts for its subscription. A push writes straight to
//! the socket when nothing is queued (the common case: one non-blocking write, no task woken);
//! what the socket does not take waits in the link's queue, which the connection's task drains
//! when the socket is writable again ([`Link::poll_write_out`]). A queue longer than the lag
//! bound means the client fell behind: it is cut off alone.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use pressroom_protocol::ServerFrame;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::commands::Connection;
use super::wire;
use crate::delivery::fanout::Published;

/// The upgraded connection.
pub type Socket = TokioIo<Upgraded>;

/// Why the link stops taking frames; the connection ends once what was queued went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The hub is stopping: `server_restart` and a close.
    Restart,
    /// Refused at the door: `unauthorized` and a close.
    Refused,
    /// Fallen behind (more than the lag bound queued, or its shard's writer missed messages):
    /// what waits is dropped for a close.
    Lagged,
    /// The client closed, with this status code: what waits is dropped for the answering close,
    /// which echoes the code.
    Answered(Option<u16>),
}

impl Ending {
    /// What the client is told before the close, as Rails tells it.
    fn farewell(self) -> Option<ServerFrame> {
        let (reason, reconnect) = match self {
            Ending::Restart => ("server_restart", true),
            Ending::Refused => ("unauthorized", false),
            Ending::Lagged | Ending::Answered(_) => return None,
        };
        Some(ServerFrame::Disconnect { reason: reason.into(), reconnect })
    }

    /// The client wants nothing more: what waits need not go out first.
    fn drops_queue(self) -> bool {
        matches!(self, Ending::Lagged | Ending::Answered(_))
    }

    /// The status code of the closing frame.
    fn close_code(self) -> Option<u16> {
        match self {
            Ending::Answered(code) => code,
            _ => None,
        }
    }
}

/// What [`Link::poll_write_out`] reports to the connection's task.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The socket stopped taking frames, or took some while stalled: the send timeout (re)starts.
    Stalled,
    /// Everything queued went out again: the send timeout stops.
    Drained,
    /// Everything queued went out and the link is ending.
    Ended(Ending),
}

pub struct Link {
    state: Mutex<State>,
}

struct State {
    commands: Connection,
    out: Outbound,
}

/// The write side, apart from the commands so a delivery reads the subscriptions as it writes.
struct Outbound {
    /// `None` once the connection's task ended: the socket is closed at once, even while a shard
    /// still holds the link until its next roster refresh.
    socket: Option<Socket>,
    /// Frames the socket has not taken yet; `written` bytes of the front one went out.
    queue: VecDeque<Bytes>,
    written: usize,
    /// Frames that may wait before the client counts as fallen behind.
    max_queue: usize,
    ending: Option<Ending>,
    failure: Option<io::Error>,
    /// The connection's task, woken when the queue or the ending needs it.
    waker: Option<Waker>,
    /// `Stalled` was reported and `Drained` not yet.
    stalled: bool,
}

impl Link {
    pub fn new(socket: Socket, commands: Connection, max_queue: usize) -> Self {
        let out = Outbound {
            socket: Some(socket),
            queue: VecDeque::new(),
            written: 0,
            max_queue,
            ending: None,
            failure: None,
            waker: None,
            stalled: false,
        };
        Link { state: Mutex::new(State { commands, out }) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every step under the lock leaves the queue whole, so a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends a frame everyone gets the same bytes of (a ping).
    pub fn send(&self, frame: &Bytes) {
        self.lock().out.push(frame);
    }

    /// Sends `frame` (the welcome).
    pub fn send_frame(&self, frame: &ServerFrame) {
        self.lock().out.push(&wire::server_frame(frame));
    }

    /// Sends `published` once per identifier this connection subscribed to.
    pub fn deliver(&self, published: &Published) {
        let mut state = self.lock();
        let State { commands, out } = &mut *state;
        for identifier in commands.identifiers() {
            out.push(&published.frame_for(identifier));
        }
    }

    /// Applies a client command and queues its answer in the same step, so no broadcast of a new
    /// subscription can overtake its confirmation.
    pub fn command(&self, text: &str) {
        let mut state = self.lock();
        if state.out.ending.is_some() {
            return;
        }
        if let Some(answer) = state.commands.handle(text) {
            state.out.push(&wire::server_frame(&answer));
        }
    }

    /// Queues the ending's farewell and a close, and takes nothing after them.
    pub fn end(&self, ending: Ending) {
        self.lock().out.finish(ending);
    }

    /// Writes what is queued; see [`Progress`]. Called by the connection's task only.
    pub fn poll_write_out(&self, cx: &mut Context<'_>) -> Poll<io::Result<Progress>> {
        self.lock().out.poll_write_out(cx)
    }

    /// Closes the socket now and releases the subscriptions; later frames are dropped.
    pub fn close(&self) {
        let mut state = self.lock();
        state.commands.leave();
        state.out.socket = None;
        state.out.queue.clear();
    }
}

impl Outbound {
    /// Sends `frame`, unless the link is ending; a client with more than the lag bound queued
    /// has fallen behind and is closed instead.
    fn push(&mut self, frame: &Bytes) {
        if self.ending.is_some() {
            return;
        }
        if self.queue.len() >= self.max_queue {
            self.finish(Ending::Lagged);
            return;
        }
        self.write_or_queue(frame);
    }

    /// Queues the ending's farewell and a close; nothing is taken after them.
    fn finish(&mut self, ending: Ending) {
        if self.ending.is_some() {
            return;
        }
        if ending.drops_queue() {
            // What waits is dropped, but a frame already begun.
            self.queue.truncate(usize::from(self.written > 0));
        }
        if let Some(farewell) = ending.farewell() {
            self.write_or_queue(&wire::server_frame(&farewell));
        }
        self.write_or_queue(&wire::close(ending.close_code()));
        self.ending = Some(ending);
        self.wake();
    }

    /// Writes `frame` straight to the socket when nothing is queued, else queues it; wakes the
    /// connection's task when it has something to do.
    fn write_or_queue(&mut self, frame: &Bytes) {
        let Some(socket) = self.socket.as_mut() else { return };
        if self.failure.is_some() {
            return;
        }
        if !self.queue.is_empty() {
            self.queue.push_back(frame.clone());
            return;
        }
        // A no-op waker does: whatever the socket does not take is queued, and the connection's
        // task, woken here, waits for the socket with its own.
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(socket).poll_write(&mut cx, frame) {
            Poll::Ready(Ok(n)) if n == frame.len() => return,
            Poll::Ready(Ok(0)) => self.failure = Some(io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => {
                self.queue.push_back(frame.clone());
                self.written = n;
            }
            Poll::Pending => self.queue.push_back(frame.clone()),
            Poll::Ready(Err(error)) => self.failure = Some(error),
        }
        self.wake();
    }

    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Progress>> {
        if let Some(error) = self.failure.take() {
            return Poll::Ready(Err(error));
        }
        let Some(socket) = self.socket.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        let mut advanced = false;
        while let Some(front) = self.queue.front() {
            match Pin::new(&mut *socket).poll_write(cx, &front[self.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    advanced = true;
                    self.written += n;
                    if self.written == front.len() {
                        self.queue.pop_front();
                        self.written = 0;
                    }
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {
                    self.keep_waker(cx);
                    // A client still reading, however slowly, gets the whole timeout again;
                    // one that falls further behind meets the lag bound instead.
                    let stalled_before = std::mem::replace(&mut self.stalled, true);
                    if !stalled_before || advanced {
                        return Poll::Ready(Ok(Progress::Stalled));
                    }
                    return Poll::Pending;
                }
            }
        }
        if std::mem::take(&mut self.stalled) {
            return Poll::Ready(Ok(Progress::Drained));
        }
        if let Some(ending) = self.ending {
            return Poll::Ready(Ok(Progress::Ended(ending)));
        }
        self.keep_waker(cx);
        Poll::Pending
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    fn keep_waker(&mut self, cx: &Context<'_>) {
        match &self.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => self.waker = Some(cx.waker().clone()),
        }
    }
}

/// The link as the IO of tungstenite's reader: reads come from the socket, and what tungstenite
/// writes itself (a pong, the answer to a close) joins the link's frames. tungstenite writes
/// whole frames and every write is taken whole, so its frames never split around another's.
pub struct LinkIo(pub Arc<Link>);

impl AsyncRead for LinkIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut state = self.0.lock();
        match state.out.socket.as_mut() {
            Some(socket) => Pin::new(socket).poll_read(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for LinkIo {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.lock().out.push(&Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    /// The link writes on its own; a TCP socket has nothing to flush.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// The connection's task closes the socket itself ([`Link::close`]).
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
