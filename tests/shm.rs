//! Shared-memory topics (`seqcast::shm`) across real processes.
//!
//! The cross-process tests re-execute this test binary as the other process: the parent runs
//! `<this binary> child_subscriber --exact` (or `child_publisher`) with `SEQCAST_SHM_CHILD`
//! naming the ring file; those two tests do nothing unless that variable is set. The child
//! prints `READY` when it is attached and `RESULT ...` at the end.
//!
//! No timing is asserted: timeouts are generous upper bounds that only keep a broken build
//! from hanging.
#![cfg(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use seqcast::error::{ShmError, ShmRecvTimeoutError, ShmTryRecvError, TryRecvError};
use seqcast::shm::{self, ShmPublisher, ShmSubscriber, HEADER_BYTES};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

type Msg = [u64; 8];
const TYPE: &str = "tests/shm.rs Msg = [u64; 8]";
const CHILD_ENV: &str = "SEQCAST_SHM_CHILD";
const GENEROUS: Duration = Duration::from_secs(120);

/// Eight words derived from the sequence number: a mix of two messages is detectable.
fn msg(seq: u64) -> Msg {
    let mut m = [0u64; 8];
    m[0] = seq;
    for (i, w) in m.iter_mut().enumerate().skip(1) {
        *w = seq
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(i as u32 * 7)
            ^ i as u64;
    }
    m
}

/// The message's sequence number, after checking it is whole.
fn check(m: &Msg) -> u64 {
    assert_eq!(*m, msg(m[0]), "torn or corrupted message");
    m[0]
}

/// A fresh ring path: in `/dev/shm` when there is one.
fn ring_path(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(shm::SHM_DIR);
    let dir = if dir.is_dir() {
        dir.to_owned()
    } else {
        std::env::temp_dir()
    };
    let n = N.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("seqcast-test-{}-{tag}-{n}", std::process::id()))
}

/// A child process running one test of this binary, and its stdout lines.
struct ChildProc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildProc {
    fn spawn(test: &str, path: &Path) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, path)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn child test process");
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProc { child, lines }
    }

    /// The first line containing `marker` (panics after `GENEROUS` or if the child exits).
    fn line_with(&self, marker: &str) -> String {
        loop {
            match self.lines.recv_timeout(GENEROUS) {
                Ok(line) if line.contains(marker) => return line,
                Ok(_) => {}
                Err(e) => panic!("child never printed {marker:?}: {e}"),
            }
        }
    }

    fn wait_success(mut self) {
        for _ in 0..(GENEROUS.as_millis() / 10) {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "child failed: {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("child did not exit");
    }
}

// ---------------------------------------------------------------------------------------------
// Child roles (no-ops unless started by a parent test).

/// Child: attach, rewind to message 0, receive until `Closed`, checking order, wholeness and
/// the exact lag arithmetic; report the counts.
#[test]
fn child_subscriber() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).expect("child: open ring");
    rx.rewind();
    println!("READY");
    let (mut delivered, mut lagged, mut next) = (0u64, 0u64, 0u64);
    loop {
        match rx.recv_timeout(GENEROUS) {
            Ok(m) => {
                assert_eq!(check(&m), next, "out of order or duplicate");
                next += 1;
                delivered += 1;
            }
            Err(ShmRecvTimeoutError::Lagged(n)) => {
                assert!(n > 0);
                lagged += n;
                next += n;
            }
            Err(ShmRecvTimeoutError::Closed) => break,
            Err(e) => panic!("child subscriber: {e}"),
        }
    }
    let stats = rx.stats();
    assert_eq!((stats.received, stats.missed), (delivered, lagged));
    println!(
        "RESULT delivered={delivered} lagged={lagged} lag_events={}",
        stats.lag_events
    );
}

/// Child: create the ring, publish 10 messages, then idle until killed.
#[test]
fn child_publisher() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut tx = ShmPublisher::<Msg>::create_at(&path, 64, TYPE).expect("child: create ring");
    for s in 0..10 {
        tx.send(msg(s));
    }
    println!("READY");
    // Killed by the parent; exit on our own only if it forgot.
    std::thread::sleep(GENEROUS);
    std::process::exit(3);
}

// ---------------------------------------------------------------------------------------------
// Across processes.

/// The per-subscriber invariant across the process boundary: a child subscriber, a parent
/// publishing into a small ring (so the child is lapped), delivered + lagged == published.
#[test]
fn child_subscriber_accounts_for_every_message() {
    const N: u64 = 200_000;
    let path = ring_path("xproc");
    let mut tx = ShmPublisher::<Msg>::create_at(&path, 64, TYPE).unwrap();
    let child = ChildProc::spawn("child_subscriber", &path);
    child.line_with("READY");
    for s in 0..N {
        assert_eq!(tx.send(msg(s)), s);
        if s % 4096 == 0 {
            std::thread::yield_now();
        }
    }
    drop(tx); // close: the child drains, then sees Closed
    assert!(!path.exists(), "a clean drop removes the file");
    let result = child.line_with("RESULT ");
    child.wait_success();
    let field = |name: &str| -> u64 {
        let at = result.find(&format!("{name}=")).unwrap() + name.len() + 1;
        let digits: String = result[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap()
    };
    let (delivered, lagged) = (field("delivered"), field("lagged"));
    eprintln!("child: {result}");
    assert_eq!(delivered + lagged, N, "{result}");
    // The last lap is intact after the close, so at least a ring's worth is delivered.
    assert!(delivered >= 64, "{result}");
}

/// A publisher killed with SIGKILL, with a half-written slot left behind: the subscriber
/// drains what was completed, then reports `PublisherDied` (not `Closed`, and no hang).
#[test]
fn killed_publisher_is_reported_dead() {
    let path = ring_path("killed");
    let mut child = ChildProc::spawn("child_publisher", &path);
    child.line_with("READY");
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    assert_eq!(rx.info().pid, child.child.id());
    rx.rewind();
    rx.set_dead_after(Duration::from_secs(1));
    for s in 0..10 {
        assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), s);
    }
    // Idle but alive (its heartbeat thread runs): a timeout, not a death.
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(2500)),
        Err(ShmRecvTimeoutError::Timeout)
    );
    // Simulate a crash in the middle of message 10: its slot's stamp says "being written"
    // (2s + 1), as the publisher leaves it between its odd and even stamp stores.
    let info = rx.info();
    let stamp_at = info.slots_offset + 10 * info.slot_size;
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all_at(&21u64.to_ne_bytes(), stamp_at).unwrap();
    assert_eq!(rx.try_recv(), Err(ShmTryRecvError::Empty));

    child.child.kill().unwrap(); // SIGKILL: no destructor runs, the file stays
    child.child.wait().unwrap();
    assert_eq!(
        rx.recv_timeout(GENEROUS),
        Err(ShmRecvTimeoutError::PublisherDied)
    );
    assert_eq!(rx.try_recv(), Err(ShmTryRecvError::PublisherDied));
    assert!(!rx.is_closed());
    // The dead publisher's file can be replaced by a new publisher.
    let mut tx = ShmPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    tx.send(msg(0));
    drop(tx);
}

// ---------------------------------------------------------------------------------------------
// Same process (the mapping works between threads too).

#[test]
fn clean_close_drains_then_closed_on_a_read_only_file() {
    let path = ring_path("close");
    let mut tx = ShmPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    assert_eq!(tx.capacity(), 8);
    // Subscribers need only read access.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    assert_eq!(rx.try_recv(), Err(ShmTryRecvError::Empty));
    for s in 0..5 {
        tx.send(msg(s));
    }
    assert_eq!(rx.lag(), 5);
    drop(tx);
    assert!(rx.is_closed());
    for s in 0..5 {
        assert_eq!(check(&rx.try_recv().unwrap()), s);
    }
    assert_eq!(rx.try_recv(), Err(ShmTryRecvError::Closed));
    assert_eq!(rx.recv(), Err(seqcast::error::ShmRecvError::Closed));
    assert_eq!(rx.stats().received, 5);
}

/// What `try_recv` returned, in a form both ring kinds map to.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Msg(u64),
    Lagged(u64),
    Empty,
    Closed,
}

/// The lag rule is the in-process ring's: the same script of sends and receives gives the
/// same results on `seqcast::channel` and on a shared-memory ring.
#[test]
fn lag_rule_matches_the_in_process_ring() {
    // (messages to send, receives to try), in turn.
    let script: &[(u64, u64)] = &[
        (6, 3),
        (1, 2),
        (4, 9),
        (20, 1),
        (3, 2),
        (9, 4),
        (0, 1),
        (17, 30),
    ];
    for cap in [1usize, 2, 4, 8] {
        let (mut tx, mut rx) = seqcast::channel::<u64>(cap);
        let path = ring_path("lagrule");
        let mut stx = ShmPublisher::<u64>::create_at(&path, cap, "u64").unwrap();
        let mut srx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
        let mut seq = 0u64;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for &(sends, recvs) in script {
            for _ in 0..sends {
                tx.send(seq);
                stx.send(seq);
                seq += 1;
            }
            for _ in 0..recvs {
                a.push(match rx.try_recv() {
                    Ok(v) => Got::Msg(v),
                    Err(TryRecvError::Lagged(n)) => Got::Lagged(n),
                    Err(TryRecvError::Empty) => Got::Empty,
                    Err(e) => panic!("{e}"),
                });
                b.push(match srx.try_recv() {
                    Ok(v) => Got::Msg(v),
                    Err(ShmTryRecvError::Lagged(n)) => Got::Lagged(n),
                    Err(ShmTryRecvError::Empty) => Got::Empty,
                    Err(e) => panic!("{e}"),
                });
            }
        }
        drop(tx);
        drop(stx);
        loop {
            let x = match rx.try_recv() {
                Ok(v) => Got::Msg(v),
                Err(TryRecvError::Lagged(n)) => Got::Lagged(n),
                Err(TryRecvError::Closed) => Got::Closed,
                Err(e) => panic!("{e}"),
            };
            let y = match srx.try_recv() {
                Ok(v) => Got::Msg(v),
                Err(ShmTryRecvError::Lagged(n)) => Got::Lagged(n),
                Err(ShmTryRecvError::Closed) => Got::Closed,
                Err(e) => panic!("{e}"),
            };
            let done = x == Got::Closed;
            a.push(x);
            b.push(y);
            if done {
                break;
            }
        }
        assert_eq!(a, b, "capacity {cap}");
        assert_eq!(rx.stats().received, srx.stats().received);
        assert_eq!(rx.stats().missed, srx.stats().missed);
        let s = srx.stats();
        assert_eq!(s.received + s.missed, seq);
    }
}

// ---------------------------------------------------------------------------------------------
// Opening the wrong thing.

#[test]
fn header_mismatches_are_errors() {
    let path = ring_path("mismatch");
    let tx = ShmPublisher::<Msg>::create_at(&path, 64, TYPE).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(len, tx.info().file_len);

    let mismatch = |e: ShmError| match e {
        ShmError::TypeMismatch { found, expected } => (found, expected),
        e => panic!("{e}"),
    };
    let (found, expected) =
        mismatch(ShmSubscriber::<Msg>::open_at(&path, "another type").unwrap_err());
    assert_eq!(
        (found.name.as_str(), found.size, found.align),
        (TYPE, 64, 8)
    );
    assert_eq!(expected.name, "another type");
    let (found, expected) = mismatch(ShmSubscriber::<[u32; 4]>::open_at(&path, TYPE).unwrap_err());
    assert_eq!((found.size, expected.size, expected.align), (64, 16, 4));
    let (found, expected) = mismatch(ShmSubscriber::<[u8; 64]>::open_at(&path, TYPE).unwrap_err());
    assert_eq!((found.align, expected.align), (8, 1));
    // A second publisher on a live ring.
    let e = ShmPublisher::<Msg>::create_at(&path, 64, TYPE).unwrap_err();
    assert!(
        matches!(e, ShmError::InUse { pid, .. } if pid == std::process::id()),
        "{e}"
    );

    let ring = std::fs::read(&path).unwrap();
    let other = ring_path("mismatch-copy");
    let open_bytes = |bytes: &[u8]| {
        std::fs::write(&other, bytes).unwrap();
        ShmSubscriber::<Msg>::open_at(&other, TYPE).unwrap_err()
    };
    // Truncated: inside the header, and inside the slots.
    let e = open_bytes(&ring[..100]);
    assert!(matches!(e, ShmError::TooSmall { len: 100, .. }), "{e}");
    let e = open_bytes(&ring[..ring.len() / 2]);
    assert!(
        matches!(e, ShmError::TooSmall { need, .. } if need == len),
        "{e}"
    );
    // Foreign.
    let e = open_bytes(&[0x5A; 8192]);
    assert!(matches!(e, ShmError::BadMagic { .. }), "{e}");
    let e = open_bytes(&[]);
    assert!(matches!(e, ShmError::TooSmall { len: 0, .. }), "{e}");
    // Corrupted words.
    let patched = |word: usize, value: u64| {
        let mut bytes = ring.clone();
        bytes[word * 8..word * 8 + 8].copy_from_slice(&value.to_ne_bytes());
        open_bytes(&bytes)
    };
    let e = patched(1, 99);
    assert!(matches!(e, ShmError::Version { found: 99, .. }), "{e}");
    let e = patched(3, 48);
    assert!(matches!(e, ShmError::Corrupt(_)), "{e}");
    let e = patched(3, 1 << 40);
    assert!(matches!(e, ShmError::TooSmall { .. }), "{e}");
    let e = patched(3, 1 << 63);
    assert!(matches!(e, ShmError::Corrupt(_)), "{e}");
    let e = patched(4, 64);
    assert!(
        matches!(
            e,
            ShmError::Layout {
                field: "slot_size",
                ..
            }
        ),
        "{e}"
    );
    let e = patched(9, 0);
    assert!(matches!(e, ShmError::Corrupt(_)), "{e}");
    let e = patched(10, u64::MAX);
    assert!(matches!(e, ShmError::Corrupt(_)), "{e}");
    // Missing, and badly named.
    std::fs::remove_file(&other).unwrap();
    let e = ShmSubscriber::<Msg>::open_at(&other, TYPE).unwrap_err();
    assert!(
        matches!(&e, ShmError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
    for bad in ["", "/", "a/b", "..", "x\0y"] {
        let e = ShmSubscriber::<Msg>::open(bad, TYPE).unwrap_err();
        assert!(matches!(e, ShmError::InvalidName(_)), "{e}");
    }
    let e = ShmPublisher::<Msg>::create_at(&other, 0, TYPE).unwrap_err();
    assert!(matches!(e, ShmError::Capacity(_)), "{e}");
    drop(tx);
    // Once the publisher is gone, the name is free again.
    drop(ShmPublisher::<Msg>::create_at(&path, 64, TYPE).unwrap());
}

/// xorshift64*: a seeded PRNG, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Property test of the header check: random, truncated and corrupted headers are errors,
/// never panics; corrupting words nobody validates (heartbeat, head...) changes nothing.
#[test]
fn header_validation_rejects_random_truncated_and_corrupted_headers() {
    let path = ring_path("fuzz");
    let tx = ShmPublisher::<Msg>::create_at(&path, 64, TYPE).unwrap();
    let file = std::fs::read(&path).unwrap();
    drop(tx);
    let good = file[..HEADER_BYTES].to_vec();
    let len = file.len() as u64;
    let info = shm::validate_header::<Msg>(&good, TYPE, len).unwrap();
    assert_eq!((info.capacity, info.file_len), (64, len));

    let mut rng = Rng(0x5EED_CA57_0000_0007);
    for _ in 0..20_000 {
        // Random bytes, random lengths, several payload types.
        let n = rng.below(1024) as usize;
        let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let flen = rng.next() >> rng.below(64);
        assert!(shm::validate_header::<Msg>(&bytes, TYPE, flen).is_err());
        assert!(shm::validate_header::<u8>(&bytes, "u8", flen).is_err());
        assert!(shm::validate_header::<[u32; 3]>(&bytes, "", flen).is_err());

        // Truncations of a good header, or a file too short for its slots.
        let cut = rng.below(HEADER_BYTES as u64) as usize;
        let e = shm::validate_header::<Msg>(&good[..cut], TYPE, len).unwrap_err();
        assert!(matches!(e, ShmError::TooSmall { .. }), "{e}");
        let short = rng.below(len);
        let e = shm::validate_header::<Msg>(&good, TYPE, short).unwrap_err();
        assert!(matches!(e, ShmError::TooSmall { .. }), "{e}");

        // Flip 1 to 8 bits in the checked words (magic ..= fingerprint, but capacity): error.
        let mut bad = good.clone();
        for _ in 0..=rng.below(8) {
            let word = [0, 1, 2, 4, 5, 6, 7, 8][rng.below(8) as usize];
            let bit = rng.below(64) as usize;
            bad[word * 8 + bit / 8] ^= 1 << (bit % 8);
        }
        if bad != good {
            assert!(shm::validate_header::<Msg>(&bad, TYPE, len).is_err());
        }

        // Any capacity or pid: an error, or a ring that fits the file.
        let mut odd = good.clone();
        let word = [3usize, 9][rng.below(2) as usize];
        let value = rng.next() >> rng.below(64);
        odd[word * 8..word * 8 + 8].copy_from_slice(&value.to_ne_bytes());
        if let Ok(i) = shm::validate_header::<Msg>(&odd, TYPE, len) {
            assert!(i.capacity.is_power_of_two() && i.file_len <= len && i.pid > 0);
        }

        // Words nobody validates (heartbeat, closed, final head, head, spare; not the heartbeat
        // period, word 10): still fine.
        let mut noisy = good.clone();
        let word = 10 + rng.below(38) as usize;
        if word != 10 {
            noisy[word * 8..word * 8 + 8].copy_from_slice(&rng.next().to_ne_bytes());
            assert!(shm::validate_header::<Msg>(&noisy, TYPE, len).is_ok());
        }
    }
}
