//! Publishes ticks into a shared-memory ring; read them from another process with
//! `shm_subscriber`.
//!
//! ```text
//! cargo run --release --example shm_subscriber &      # waits for the ring to appear
//! cargo run --release --example shm_publisher -- [count] [interval_ms] [--crash]
//! ```
//! With `--crash` the publisher aborts instead of closing the topic, and the subscriber
//! reports `PublisherDied` instead of `Closed` (after about a second of silence).

#[cfg(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn main() {
    use seqcast::shm::{Plain, ShmPublisher};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// The payload: plain data, identical in `shm_subscriber.rs`.
    #[derive(Clone, Copy, Debug)]
    #[repr(C)]
    struct Tick {
        seq: u64,
        /// Send time, ns since the Unix epoch (the same clock in every process).
        sent_ns: u64,
        price: f64,
        qty: u32, // followed by 4 bytes of padding: fine for `Plain`
    }
    // SAFETY: `repr(C)`; integers and a float only, so any bytes are a valid `Tick`; no
    // pointers.
    unsafe impl Plain for Tick {}

    let args: Vec<String> = std::env::args().skip(1).collect();
    let crash = args.iter().any(|a| a == "--crash");
    let mut nums = args.iter().filter_map(|a| a.parse::<u64>().ok());
    let count = nums.next().unwrap_or(20);
    let interval = Duration::from_millis(nums.next().unwrap_or(200));

    let mut tx = ShmPublisher::<Tick>::create("seqcast-demo", 1024, "examples::Tick/v1")
        .unwrap_or_else(|e| panic!("cannot create the ring: {e}"));
    let info = tx.info();
    println!(
        "publisher pid {}: created {} ({} slots of {} bytes, {} bytes in all)",
        info.pid,
        tx.path().display(),
        info.capacity,
        info.slot_size,
        info.file_len
    );
    for i in 0..count {
        // Sleep first, so that a subscriber already waiting for the file attaches in time for
        // message 0 (subscribers start at the next message).
        std::thread::sleep(interval);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let tick = Tick {
            seq: i,
            sent_ns: now.as_nanos() as u64,
            price: 100.0 + (i as f64 * 0.37).sin(),
            qty: (i % 7 + 1) as u32 * 100,
        };
        let seq = tx.send(tick);
        println!("sent #{seq}: {:.4} x {}", tick.price, tick.qty);
    }
    if crash {
        println!("aborting without closing the topic (simulated crash)");
        std::process::abort();
    }
    println!("sent {}; closing (dropping the publisher)", tx.sent());
}

#[cfg(not(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn main() {
    eprintln!("this example needs the `shm` feature, on Linux x86_64 or aarch64");
}
