//! Reads the ticks `shm_publisher` writes into a shared-memory ring, from another process.
//!
//! ```text
//! cargo run --release --example shm_subscriber -- [--slow]
//! ```
//! Waits up to a minute for the ring to appear, then prints every message and its one-way
//! latency, lag reports, and how the stream ended: `Closed` (clean publisher exit) or
//! `PublisherDied` (it crashed or was killed). `--slow` sleeps between messages.

#[cfg(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn main() {
    use seqcast::error::{RecvError, ShmError};
    use seqcast::shm::{Plain, ShmSubscriber};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    /// The payload: plain data, identical in `shm_publisher.rs`.
    #[derive(Clone, Copy, Debug)]
    #[repr(C)]
    struct Tick {
        seq: u64,
        sent_ns: u64,
        price: f64,
        qty: u32,
    }
    // SAFETY: `repr(C)`; integers and a float only, so any bytes are a valid `Tick`; no
    // pointers.
    unsafe impl Plain for Tick {}

    let slow = std::env::args().any(|a| a == "--slow");
    let started = Instant::now();
    let mut rx = loop {
        match ShmSubscriber::<Tick>::open("seqcast-demo", "examples::Tick/v1") {
            Ok(rx) => break rx,
            Err(ShmError::Io { error, .. })
                if error.kind() == std::io::ErrorKind::NotFound
                    && started.elapsed() < Duration::from_secs(60) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("cannot open the ring: {e}"),
        }
    };
    println!(
        "subscriber pid {}: attached to publisher pid {} at message {}",
        std::process::id(),
        rx.info().pid,
        rx.position()
    );
    loop {
        match rx.recv() {
            Ok(t) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                let latency = (now.as_nanos() as u64).saturating_sub(t.sent_ns);
                println!(
                    "got #{}: {:.4} x {} ({:.1} µs after it was sent)",
                    t.seq,
                    t.price,
                    t.qty,
                    latency as f64 / 1e3
                );
                if slow {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            Err(RecvError::Lagged(n)) => println!("lagged: {n} messages overwritten unread"),
            Err(RecvError::Closed) => {
                println!("closed: the publisher exited cleanly and everything was read");
                break;
            }
            Err(RecvError::PublisherDied) => {
                println!("publisher died without closing the topic");
                break;
            }
            Err(e) => {
                println!("{e}");
                break;
            }
        }
    }
    let s = rx.stats();
    println!(
        "received {}, missed {} in {} lag events",
        s.received, s.missed, s.lag_events
    );
}

#[cfg(not(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn main() {
    eprintln!("this example needs the `shm` feature, on Linux x86_64 or aarch64");
}
