//! Several publisher processes on one shared-memory ring, one of them killed mid-run.
//!
//! ```text
//! cargo run --release --example shm_many_publishers
//! ```
//! The parent creates the ring (`ShmSharedPublisher::create`), subscribes, and starts three
//! copies of itself that join it (`ShmSharedPublisher::open`) and send 100 000 events each.
//! It kills the third one part-way. The subscriber sees one stream: it counts what each
//! publisher delivered and what it was told it missed (`Lagged`), and at the close it checks
//! that the two add up to every ticket claimed.

#[cfg(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn main() {
    use seqcast::error::RecvTimeoutError;
    use seqcast::shm::{Plain, ShmSharedPublisher, ShmSubscriber};
    use std::time::Duration;

    /// The payload: which publisher sent it, and its number there.
    #[derive(Clone, Copy, Debug)]
    #[repr(C)]
    struct Event {
        publisher: u64,
        n: u64,
    }
    // SAFETY: `repr(C)`, two integers: any bytes are a valid `Event`; no pointers.
    unsafe impl Plain for Event {}

    const NAME: &str = "seqcast-demo-many";
    const TYPE: &str = "examples::Event/v1";
    const EACH: u64 = 100_000;

    let args: Vec<String> = std::env::args().collect();
    if let Some(id) = args
        .iter()
        .position(|a| a == "--child")
        .map(|i| &args[i + 1])
    {
        let id: u64 = id.parse().unwrap();
        let mut tx = ShmSharedPublisher::<Event>::open(NAME, TYPE)
            .unwrap_or_else(|e| panic!("publisher {id}: cannot join: {e}"));
        for n in 0..EACH {
            tx.send(Event { publisher: id, n });
            if n % 100 == 0 {
                // Slow enough that the subscriber mostly keeps up and the kill lands mid-run.
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        return;
    }

    let host = ShmSharedPublisher::<Event>::create(NAME, 1 << 16, TYPE)
        .unwrap_or_else(|e| panic!("cannot create the ring: {e}"));
    let mut rx = ShmSubscriber::<Event>::open(NAME, TYPE).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (1..=3u64)
        .map(|id| {
            std::process::Command::new(&exe)
                .args(["--child", &id.to_string()])
                .spawn()
                .unwrap()
        })
        .collect();

    let (mut got, mut lost) = ([0u64; 4], 0u64);
    let mut killed = false;
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(e) => {
                got[e.publisher as usize] += 1;
                if !killed && got[3] >= EACH / 3 {
                    // SIGKILL, wherever publisher 3 is in its send: no destructor runs.
                    children[2].kill().unwrap();
                    killed = true;
                    println!("killed publisher 3 after {} of its events", got[3]);
                }
                let all_done = children.iter_mut().all(|c| c.try_wait().unwrap().is_some());
                if all_done && rx.lag() == 0 {
                    break;
                }
            }
            Err(RecvTimeoutError::Lagged(n)) => lost += n,
            Err(e) => panic!("subscriber: {e}"),
        }
    }
    let published = host.published();
    drop(host); // the last publisher out: closes the ring and removes the file
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(e) => got[e.publisher as usize] += 1,
            Err(RecvTimeoutError::Lagged(n)) => lost += n,
            Err(RecvTimeoutError::Closed) => break,
            Err(e) => panic!("subscriber: {e}"),
        }
    }
    for (id, n) in got.iter().enumerate().skip(1) {
        println!("publisher {id}: {n} events delivered");
    }
    println!("lost (reported as Lagged): {lost}; tickets claimed: {published}");
    assert_eq!(got.iter().sum::<u64>() + lost, published);
    println!("delivered + lost == published");
}

#[cfg(not(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn main() {
    eprintln!("shared-memory topics need Linux on x86_64 or aarch64 and the `shm` feature");
}
