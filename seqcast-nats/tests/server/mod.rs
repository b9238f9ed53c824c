//! A real `nats-server`, run as a child process on a loopback port, killed on drop.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `nats-server` child process listening on `127.0.0.1:port`. Dropping it kills the
/// process, so no server outlives a test, whatever the test's outcome.
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free loopback port and waits until it accepts connections.
    ///
    /// # Panics
    /// If `nats-server` is not installed, with instructions.
    pub fn start() -> NatsServer {
        let binary = find_binary();
        // A port that was free a moment ago may be taken by the time the server binds it:
        // try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut server = NatsServer {
                binary: binary.clone(),
                port,
                child: None,
            };
            if server.spawn() {
                return server;
            }
        }
        panic!("nats-server did not start on any of 5 free loopback ports");
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to its clients) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.spawn() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not restart on port {} within 20 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Spawns the server on `self.port`; true once it accepts connections, false if it
    /// exited (port taken).
    fn spawn(&mut self) -> bool {
        let child = Command::new(&self.binary)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        self.child = Some(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            let child = self.child.as_mut().expect("spawned above");
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server on port {} did not accept connections within 20 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How to get a server, for messages.
pub const INSTALL_HINT: &str = "install it (`apt-get install -y nats-server` on Debian/Ubuntu, \
     as .ci/run does, or the binary from https://github.com/nats-io/nats-server on PATH), \
     then run `cargo test -p seqcast-nats`";

/// `nats-server` from `PATH`, or from the sbin directories Debian installs it in (which a
/// non-root `PATH` may lack). `None` if it is not installed.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
}

fn find_binary() -> PathBuf {
    binary().unwrap_or_else(|| {
        panic!("nats-server not found on PATH (nor in /usr/sbin): these tests run a real NATS server; {INSTALL_HINT}")
    })
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}
