//! A real `nats-server`, run as a child process on a loopback port, killed on drop.

// Several test binaries include this module, each using a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `nats-server` child process listening on `127.0.0.1:port`. Dropping it kills the
/// process, so no server outlives a test, whatever the test's outcome.
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    /// The HTTP monitoring port (`-m`), if asked for.
    monitor: Option<u16>,
    /// A configuration file (`-c`) this server owns and deletes on drop, if any.
    config: Option<PathBuf>,
    /// The running process's log file (`-l`), deleted when the process is reaped.
    log: PathBuf,
    /// Processes spawned so far, to name each one's log file.
    spawns: u32,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free loopback port and waits until it accepts connections.
    ///
    /// # Panics
    /// If `nats-server` is not installed, with instructions.
    pub fn start() -> NatsServer {
        NatsServer::start_with("")
    }

    /// Starts a server with these lines of configuration (nats-server's config file syntax,
    /// e.g. `max_pending: 131072`) and an HTTP monitoring port ([`varz`](Self::varz)).
    pub fn start_with(config: &str) -> NatsServer {
        let binary = find_binary();
        // A port that was free a moment ago may be taken by the time the server binds it:
        // try a few.
        for attempt in 0..5 {
            let port = free_port();
            let config = (!config.is_empty()).then(|| {
                let path = std::env::temp_dir().join(format!(
                    "seqcast-nats-test-{}-{port}-{attempt}.conf",
                    std::process::id()
                ));
                std::fs::write(&path, config).expect("write nats-server config");
                path
            });
            let mut server = NatsServer {
                binary: binary.clone(),
                port,
                monitor: config.is_some().then(free_port),
                config,
                log: PathBuf::new(),
                spawns: 0,
                child: None,
            };
            if server.spawn() {
                return server;
            }
        }
        panic!("nats-server did not start on any of 5 free loopback ports");
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// A numeric field of the server's `/varz` monitoring page (e.g. `slow_consumers`), or
    /// `None` if the server is down, has no monitoring port, or has no such field. The
    /// counters restart from 0 with the server.
    pub fn varz(&self, field: &str) -> Option<u64> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.monitor?));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream
            .write_all(b"GET /varz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .ok()?;
        let mut page = String::new();
        stream.read_to_string(&mut page).ok()?;
        let key = format!("\"{field}\":");
        let rest = page[page.find(&key)? + key.len()..].trim_start();
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().ok()
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
            let _ = std::fs::remove_file(&self.log);
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

    /// Spawns the server on `self.port`; true once it is ready, false if it exited (a port
    /// taken).
    ///
    /// Ready is what the process's own log says, not that the port accepts connections:
    /// a port that `free_port` found free may be taken by another test's listener (a proxy,
    /// another server's monitoring port) before this server binds it, and a connection
    /// test would then take that listener for this server.
    fn spawn(&mut self) -> bool {
        self.spawns += 1;
        self.log = std::env::temp_dir().join(format!(
            "seqcast-nats-test-{}-{}-{}.log",
            std::process::id(),
            self.port,
            self.spawns
        ));
        let _ = std::fs::remove_file(&self.log);
        let mut command = Command::new(&self.binary);
        command.args(["-a", "127.0.0.1", "-p", &self.port.to_string()]);
        command.arg("-l").arg(&self.log);
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        if let Some(monitor) = self.monitor {
            command.args(["-m", &monitor.to_string()]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready =
                std::fs::read_to_string(&self.log).is_ok_and(|log| log.contains("Server is ready"));
            let child = self.child.as_mut().expect("spawned above");
            // Checked after the log: a server that logged ready and is still running holds
            // its ports (it exits if it cannot bind one).
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                let _ = std::fs::remove_file(&self.log);
                return false;
            }
            if ready {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server on port {} was not ready within 20 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(config) = &self.config {
            let _ = std::fs::remove_file(config);
        }
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
