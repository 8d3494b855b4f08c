//! A TCP proxy for tests that breaks connections on command: cut mid-frame, stall without
//! closing, refuse, or go half-open.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Hold every byte in both directions, closing nothing: a stalled link.
    Stall,
    /// Accept new connections and close them at once.
    Refuse,
    /// Forward half of the next chunk the server sends, then drop both sides: a cut mid-frame.
    CutMidFrame,
    /// Drop the server side and go silent towards the client, keeping its socket open: half-open.
    HalfOpen,
}

pub struct Proxy {
    pub addr: SocketAddr,
    fault: watch::Sender<Fault>,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (fault, _) = watch::channel(Fault::Pass);
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let fault = fault.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    if *fault.borrow() == Fault::Refuse {
                        drop(client);
                        continue;
                    }
                    let task = tokio::spawn(relay(client, upstream, fault.subscribe()));
                    connections.lock().unwrap().push(task);
                }
            })
        };
        Proxy { addr, fault, accept, connections }
    }

    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Closes every connection relayed so far (new ones follow the current fault).
    pub fn cut(&self) {
        for task in self.connections.lock().unwrap().iter() {
            task.abort();
        }
    }

    /// How many connections the proxy has accepted and relayed so far.
    pub fn relayed(&self) -> usize {
        self.connections.lock().unwrap().len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, mut fault: watch::Receiver<Fault>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
    loop {
        let current = *fault.borrow_and_update();
        match current {
            Fault::Pass | Fault::Refuse => {}
            Fault::Stall => {
                // Hold everything until the fault changes.
                if fault.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Fault::HalfOpen => {
                drop((server_read, server_write));
                // The client's socket stays open and silent for as long as the test lasts.
                let _hold = (client_read, client_write);
                std::future::pending::<()>().await;
                return;
            }
            Fault::CutMidFrame => {}
        }
        tokio::select! {
            _ = fault.changed() => continue,
            read = client_read.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if server_write.write_all(&up[..n]).await.is_err() { return },
            },
            read = server_read.read(&mut down) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) if current == Fault::CutMidFrame => {
                    let _ = client_write.write_all(&down[..n.div_ceil(2)]).await;
                    return; // dropping both halves closes both sockets
                }
                Ok(n) => if client_write.write_all(&down[..n]).await.is_err() { return },
            },
        }
    }
}
