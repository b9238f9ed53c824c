//! A TCP forwarder on loopback, between the clients that connect to it and one server, that
//! a test can break on purpose so that a fault hits only the clients behind it:
//!
//! * [`cut`](Proxy::cut): drop every connection (both ends see them close) and refuse new
//!   ones until [`pass`](Proxy::pass): the server forgets those clients, the others stay;
//! * [`stall`](Proxy::stall): stop reading from the server, so what the server sends to
//!   those clients piles up in its buffers, as for a client that stopped reading;
//! * [`hold`](Proxy::hold): stop passing on what the clients send, so the server does not
//!   see it yet, as for a server slow to read a connection.
//!
//! The proxy's socket towards the server has a small receive buffer, so that a stall fills
//! the path quickly and the server's own limits (`max_pending`) are what overflows.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Pass,
    Stall,
    Hold,
    Cut,
}

/// A running proxy; dropping it drops every connection through it.
pub struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (mode, _) = watch::channel(Mode::Pass);
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn(accept(
            listener,
            upstream,
            mode.clone(),
            connections.clone(),
        ));
        Proxy {
            addr,
            mode,
            connections,
            accept,
        }
    }

    /// `nats://127.0.0.1:<proxy port>`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Drops every connection and refuses new ones until [`pass`](Self::pass).
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
        self.drop_connections();
    }

    /// Stops reading from the server (the clients still send) until [`pass`](Self::pass).
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stall);
    }

    /// Stops passing what the clients send on to the server (they may still send; it waits
    /// in the proxy) until [`pass`](Self::pass).
    pub fn hold(&self) {
        self.mode.send_replace(Mode::Hold);
    }

    /// Forwards again (and accepts new connections).
    pub fn pass(&self) {
        self.mode.send_replace(Mode::Pass);
    }

    fn drop_connections(&self) {
        let mut connections = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for connection in connections.drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_connections();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: SocketAddr,
    mode: watch::Sender<Mode>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
) {
    while let Ok((client, _)) = listener.accept().await {
        if *mode.borrow() == Mode::Cut {
            // Closed at once: the client sees a failed connection attempt.
            continue;
        }
        let task = tokio::spawn(serve(client, upstream, mode.subscribe()));
        connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task.abort_handle());
    }
}

/// Copies both ways until either side closes, then drops both sockets.
async fn serve(client: TcpStream, upstream: SocketAddr, mode: watch::Receiver<Mode>) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(16 * 1024)
        .expect("small receive buffer");
    let Ok(server) = socket.connect(upstream).await else {
        return;
    };
    let (client_rx, client_tx) = client.into_split();
    let (server_rx, server_tx) = server.into_split();
    tokio::select! {
        _ = copy(client_rx, server_tx, mode.clone(), Mode::Hold) => {}
        _ = copy(server_rx, client_tx, mode, Mode::Stall) => {}
    }
}

/// Copies `from` to `to` until either fails or `from` ends; before each write, waits while
/// `mode` says `paused`.
async fn copy(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut mode: watch::Receiver<Mode>,
    paused: Mode,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if mode.wait_for(|m| *m != paused).await.is_err() {
            return;
        }
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                // Held after the read: what was read waits here, unseen by the other side.
                if mode.wait_for(|m| *m != paused).await.is_err() {
                    return;
                }
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
