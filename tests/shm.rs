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

use seqcast::error::{RecvTimeoutError, ShmError, TryRecvError};
use seqcast::shm::{self, ShmPublisher, ShmSubscriber, HEADER_BYTES};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::shm::{ring_path, ChildProc, Poke, GENEROUS};
use common::Rng;

type Msg = [u64; 8];
const TYPE: &str = "tests/shm.rs Msg = [u64; 8]";
use common::shm::CHILD_ENV;

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
            Err(RecvTimeoutError::Lagged(n)) => {
                assert!(n > 0);
                lagged += n;
                next += n;
            }
            Err(RecvTimeoutError::Closed) => break,
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
        Err(RecvTimeoutError::Timeout)
    );
    // Simulate a crash in the middle of message 10: its slot's stamp says "being written"
    // (2s + 1), as the publisher leaves it between its odd and even stamp stores.
    let info = rx.info();
    let stamp_at = info.slots_offset + 10 * info.slot_size;
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all_at(&21u64.to_ne_bytes(), stamp_at).unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    child.child.kill().unwrap(); // SIGKILL: no destructor runs, the file stays
    child.child.wait().unwrap();
    assert_eq!(
        rx.recv_timeout(GENEROUS),
        Err(RecvTimeoutError::PublisherDied)
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::PublisherDied));
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
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    for s in 0..5 {
        tx.send(msg(s));
    }
    assert_eq!(rx.lag(), 5);
    drop(tx);
    assert!(rx.is_closed());
    for s in 0..5 {
        assert_eq!(check(&rx.try_recv().unwrap()), s);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.recv(), Err(seqcast::error::RecvError::Closed));
    assert_eq!(rx.stats().received, 5);
}

#[test]
fn batch_receive_from_a_read_only_file_counts_every_message() {
    let path = ring_path("batch");
    let mut tx = ShmPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    assert_eq!(rx.try_recv_batch(0, |_| {}), Ok(0));
    assert_eq!(rx.try_recv_batch(4, |_| {}), Err(TryRecvError::Empty));
    for s in 0..5 {
        tx.send(msg(s));
    }
    let mut got = Vec::new();
    assert_eq!(rx.try_recv_batch(16, |m| got.push(check(&m))), Ok(5));
    for s in 5..20 {
        tx.send(msg(s));
    }
    // 15 more into 8 slots: 7 were overwritten.
    assert_eq!(rx.try_recv_batch(16, |_| {}), Err(TryRecvError::Lagged(7)));
    assert_eq!(rx.try_recv_batch(3, |m| got.push(check(&m))), Ok(3));
    drop(tx);
    assert_eq!(rx.try_recv_batch(16, |m| got.push(check(&m))), Ok(5));
    assert_eq!(rx.try_recv_batch(16, |_| {}), Err(TryRecvError::Closed));
    let expected: Vec<u64> = (0..5).chain(12..20).collect();
    assert_eq!(got, expected);
    assert_eq!(rx.stats().received + rx.stats().missed, 20);
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
                    Err(TryRecvError::Lagged(n)) => Got::Lagged(n),
                    Err(TryRecvError::Empty) => Got::Empty,
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
                Err(TryRecvError::Lagged(n)) => Got::Lagged(n),
                Err(TryRecvError::Closed) => Got::Closed,
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

    let mut rng = Rng::new(0x5EED_CA57_0000_0007);
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

        // Any number of publisher places (word 19): an error, or at most `MAX_PUBLISHERS`.
        let mut places = good.clone();
        let value = rng.next() >> rng.below(64);
        places[19 * 8..20 * 8].copy_from_slice(&value.to_ne_bytes());
        if let Ok(i) = shm::validate_header::<Msg>(&places, TYPE, len) {
            assert!(i.publishers <= shm::MAX_PUBLISHERS && u64::from(i.publishers) == value);
        }

        // Words nobody validates (heartbeat, closed, final head, head, claim, the publishers'
        // places, spare; not the heartbeat period, word 10, nor the places, word 19): fine.
        let mut noisy = good.clone();
        let word = 10 + rng.below(HEADER_BYTES as u64 / 8 - 10) as usize;
        if word != 10 && word != 19 {
            noisy[word * 8..word * 8 + 8].copy_from_slice(&rng.next().to_ne_bytes());
            assert!(shm::validate_header::<Msg>(&noisy, TYPE, len).is_ok());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A hostile or broken file: another party writes words of the ring while subscribers read it.

/// Byte offsets of header words the tests poke.
const CAPACITY_AT: u64 = 3 * 8;
const HEAD_AT: u64 = 32 * 8;

/// Runs `f` on its own thread and returns its result; fails the test if `f` panics or has not
/// returned after `secs` seconds (a hang).
fn within<R: Send + 'static>(what: &str, secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(r) => {
            thread.join().unwrap();
            r
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!(),
        },
    }
}

/// Receives with `recv_timeout` until message `end - 1` has been accounted for; checks order,
/// that every lag report is non-zero, and `delivered + lagged == end - first`. Panics (a
/// wedge) if nothing comes for `quiet`.
fn drain_to(rx: &mut ShmSubscriber<u64>, first: u64, end: u64, quiet: Duration) -> (u64, u64) {
    let (mut next, mut delivered, mut lagged) = (first, 0u64, 0u64);
    while next < end {
        match rx.recv_timeout(quiet) {
            Ok(v) => {
                assert_eq!(v, next, "out of order or duplicate");
                next += 1;
                delivered += 1;
            }
            Err(RecvTimeoutError::Lagged(n)) => {
                assert!(
                    n > 0 && next + n <= end,
                    "implausible Lagged({n}) at {next}"
                );
                next += n;
                lagged += n;
            }
            Err(e) => panic!("at {next} of {end}: {e}"),
        }
    }
    assert_eq!(delivered + lagged, end - first);
    (delivered, lagged)
}

/// A thread flipping a stamp between "message 0 complete" and 0 while the subscriber reads it:
/// some reads see `2s + 2` first and `0` on the re-check. That is a lost message (an exact
/// `Lagged(1)`), never an overflow in the lag arithmetic.
#[test]
fn stamp_zeroed_between_the_two_stamp_loads() {
    type Big = [u64; 32];
    let path = ring_path("stamp0");
    let mut tx = ShmPublisher::<Big>::create_at(&path, 1, "big").unwrap();
    tx.send([7; 32]);
    let info = tx.info();
    let poke = std::sync::Arc::new(Poke::open(&path));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Opened before the hammering starts: `open_at` checks the head against the slots, and
    // rightly refuses a file whose only stamp it happens to read as 0.
    let mut rx = ShmSubscriber::<Big>::open_at(&path, "big").unwrap();
    let hammer = {
        let (poke, stop) = (poke.clone(), stop.clone());
        std::thread::spawn(move || {
            let stamp = poke.stamp(&info, 0);
            while !stop.load(Ordering::Relaxed) {
                stamp.store(2, Ordering::Relaxed);
                stamp.store(0, Ordering::Relaxed);
            }
        })
    };
    let lags = within("hammered receive", 60, move || {
        let (mut lags, mut delivered) = (0u64, 0u64);
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(2) {
            rx.rewind();
            match rx.try_recv() {
                Ok(v) => {
                    assert_eq!(v, [7; 32]);
                    delivered += 1;
                }
                Err(TryRecvError::Lagged(n)) => {
                    assert_eq!(n, 1, "one message published, one lost");
                    lags += 1;
                }
                Err(TryRecvError::Empty) => {}
                Err(e) => panic!("{e}"),
            }
        }
        eprintln!("delivered {delivered}, lost {lags}");
        lags
    });
    stop.store(true, Ordering::Relaxed);
    hammer.join().unwrap();
    drop(tx);
    let _ = lags;
}

/// One stamp set to `u64::MAX` (nothing any publisher writes): the subscriber skips the
/// message it destroyed and goes on receiving what the honest publisher sends next.
#[test]
fn stamp_set_to_max_does_not_wedge_the_subscriber() {
    let path = ring_path("stampmax");
    let mut tx = ShmPublisher::<u64>::create_at(&path, 8, "u64").unwrap();
    let mut rx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
    let info = tx.info();
    let poke = Poke::open(&path);
    tx.send(0);
    poke.stamp(&info, 0).store(u64::MAX, Ordering::Relaxed);
    within("receive past a u64::MAX stamp", 60, move || {
        match rx.try_recv() {
            Err(TryRecvError::Lagged(1)) => {}
            other => panic!("expected Lagged(1) for the destroyed message, got {other:?}"),
        }
        for s in 1..1000 {
            tx.send(s);
        }
        drain_to(&mut rx, 1, 1000, Duration::from_secs(5));
        // Caught up and still in step: the next message arrives.
        tx.send(1000);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(1000));
    });
}

/// Stamps no publisher could have written yet (past the head): not a lag report (and never
/// `Lagged(0)`): the subscriber waits, and the publisher's own write of that message repairs
/// the slot.
#[test]
fn garbage_stamps_past_the_head_wait_for_the_publisher() {
    let path = ring_path("garbage");
    let mut tx = ShmPublisher::<u64>::create_at(&path, 8, "u64").unwrap();
    let mut rx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
    let info = tx.info();
    let poke = Poke::open(&path);
    for s in 0..3 {
        tx.send(s);
    }
    within("receive past garbage stamps", 60, move || {
        // Not a stamp of slot 3's messages; a stamp of slot 3 far past the head; u64::MAX.
        for garbage in [12_345, 2 * (3 + 8 * 1000) + 2, u64::MAX - 1, u64::MAX] {
            for s in 0..3 {
                assert_eq!(rx.try_recv(), Ok(s));
            }
            poke.stamp(&info, 3).store(garbage, Ordering::Relaxed);
            for _ in 0..100 {
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "stamp {garbage}");
            }
            rx.rewind();
        }
        for _ in 0..3 {
            rx.try_recv().unwrap();
        }
        tx.send(3);
        assert_eq!(rx.try_recv(), Ok(3));
    });
}

/// A stamp reset to 0 (or any earlier lap) after its message was published: the publisher
/// will not write that slot again for a whole lap, so the subscriber, seeing the head past it,
/// reports the message lost (`Lagged(1)`) instead of waiting a lap.
#[test]
fn stamp_reset_below_the_head_is_skipped_not_waited_for() {
    let path = ring_path("reset");
    let mut tx = ShmPublisher::<u64>::create_at(&path, 1024, "u64").unwrap();
    let mut rx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
    let info = tx.info();
    let poke = Poke::open(&path);
    for s in 0..10 {
        tx.send(s);
    }
    poke.stamp(&info, 3).store(0, Ordering::Relaxed);
    poke.stamp(&info, 6).store(2 * 2, Ordering::Relaxed); // message 1's stamp: a lap too old
    within("receive past reset stamps", 60, move || {
        let quiet = Duration::from_secs(5);
        for s in 0..3 {
            assert_eq!(rx.recv_timeout(quiet), Ok(s));
        }
        assert_eq!(rx.recv_timeout(quiet), Err(RecvTimeoutError::Lagged(1)));
        assert_eq!(rx.recv_timeout(quiet), Ok(4));
        assert_eq!(rx.recv_timeout(quiet), Ok(5));
        assert_eq!(rx.recv_timeout(quiet), Err(RecvTimeoutError::Lagged(1)));
        for s in 7..10 {
            assert_eq!(rx.recv_timeout(quiet), Ok(s));
        }
        assert_eq!(rx.stats().missed, 2);
        drop(tx);
    });
}

/// The head word set to `u64::MAX` when a subscriber opens: a clear error, not a cursor parked
/// at an absurd position; once the publisher sends again (rewriting the head), opening works.
#[test]
fn head_set_to_max_at_open() {
    let path = ring_path("headmax");
    let mut tx = ShmPublisher::<u64>::create_at(&path, 8, "u64").unwrap();
    for s in 0..5 {
        tx.send(s);
    }
    let poke = Poke::open(&path);
    poke.word(HEAD_AT).store(u64::MAX, Ordering::Relaxed);
    within("open with a garbage head", 60, move || {
        match ShmSubscriber::<u64>::open_at(&path, "u64") {
            Err(e) => assert!(matches!(e, ShmError::Corrupt(_)), "{e}"),
            Ok(mut rx) => {
                tx.send(5);
                assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(5));
                panic!("opened at position {}", rx.position());
            }
        }
        tx.send(5);
        let mut rx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
        assert_eq!(rx.position(), 6);
        tx.send(6);
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(6));
    });
}

/// A thread rewriting the capacity word while subscribers open the ring: each open succeeds
/// with one consistent capacity or fails cleanly; no assertion trips.
#[test]
fn capacity_word_changing_during_open() {
    let path = ring_path("capflip");
    let tx = ShmPublisher::<u64>::create_at(&path, 64, "u64").unwrap();
    let poke = std::sync::Arc::new(Poke::open(&path));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = {
        let (poke, stop) = (poke.clone(), stop.clone());
        std::thread::spawn(move || {
            let cap = poke.word(CAPACITY_AT);
            while !stop.load(Ordering::Relaxed) {
                cap.store(8, Ordering::Relaxed);
                cap.store(64, Ordering::Relaxed);
            }
            cap.store(64, Ordering::Relaxed);
        })
    };
    let opened = {
        let path = path.clone();
        within("opens during capacity flips", 120, move || {
            let (mut ok, mut small, mut err) = (0, 0, 0);
            for _ in 0..5_000 {
                match ShmSubscriber::<u64>::open_at(&path, "u64") {
                    Ok(rx) => {
                        assert!([8, 64].contains(&rx.capacity()));
                        ok += 1;
                        small += usize::from(rx.capacity() == 8);
                    }
                    Err(ShmError::Corrupt(_)) => err += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            eprintln!("opened {ok} ({small} with capacity 8), refused {err}");
            ok
        })
    };
    stop.store(true, Ordering::Relaxed);
    hammer.join().unwrap();
    let _ = opened;
    drop(tx);
}

/// A head and a stamp faked consistently (two words): huge lag reports are possible, but the
/// counters saturate instead of overflowing, however often the subscriber rewinds.
#[test]
fn huge_lag_reports_saturate_the_counters() {
    let path = ring_path("saturate");
    let mut tx = ShmPublisher::<u64>::create_at(&path, 8, "u64").unwrap();
    let mut rx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
    let info = tx.info();
    tx.send(0);
    let poke = Poke::open(&path);
    let head = 1u64 << 62;
    poke.word(HEAD_AT).store(head, Ordering::Relaxed);
    poke.stamp(&info, 7).store(u64::MAX, Ordering::Relaxed);
    poke.stamp(&info, 0)
        .store(2 * (head - 8) + 2, Ordering::Relaxed);
    within("rewinds with huge lag reports", 60, move || {
        for _ in 0..8 {
            rx.rewind();
            match rx.try_recv() {
                Err(TryRecvError::Lagged(n)) => assert!(n > 0 && n <= head, "{n}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(rx.stats().missed, u64::MAX);
        drop(tx);
    });
}

/// A FIFO where the ring should be: opening it must not block in `open(2)` waiting for a
/// writer (or a reader), and it is refused as not a regular file.
#[test]
fn fifo_at_the_ring_name_is_refused() {
    let path = ring_path("fifo");
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let p = path.clone();
    let e = within("open_at on a FIFO", 10, move || {
        ShmSubscriber::<u64>::open_at(&p, "u64").map(|_| ())
    });
    let e = e.unwrap_err();
    assert!(
        matches!(&e, ShmError::NotRegularFile { kind: "FIFO", path: p } if *p == path),
        "{e}"
    );
    let p = path.clone();
    let e = within("create_at over a FIFO", 10, move || {
        ShmPublisher::<u64>::create_at(&p, 8, "u64").map(|_| ())
    });
    let e = e.unwrap_err();
    assert!(matches!(e, ShmError::NotRegularFile { .. }), "{e}");
    std::fs::remove_file(&path).unwrap();
}

/// A ring file owned by another user (who could have created the name first and feed
/// well-formed fake data) is refused. Needs root to hand the file to another uid; skipped
/// otherwise.
#[test]
fn ring_owned_by_another_user_is_refused() {
    let path = ring_path("owner");
    let tx = ShmPublisher::<u64>::create_at(&path, 8, "u64").unwrap();
    if let Err(e) = std::os::unix::fs::chown(&path, Some(4242), None) {
        eprintln!("skipped: cannot chown the ring ({e})");
        return;
    }
    let e = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap_err();
    assert!(matches!(e, ShmError::Owner { owner: 4242, .. }), "{e}");
    // Unless the caller says whom it trusts.
    let rx = ShmSubscriber::<u64>::open_at_owned_by(&path, "u64", 4242).unwrap();
    drop(rx);
    // A publisher does not replace another user's file either.
    let e = ShmPublisher::<u64>::create_at(&path, 8, "u64").unwrap_err();
    assert!(matches!(e, ShmError::Owner { owner: 4242, .. }), "{e}");
    drop(tx);
}

/// A capacity whose file the file system cannot hold is refused when the ring is created, not
/// by a `SIGBUS` on the first write past the free space.
#[test]
fn capacity_beyond_the_free_space_is_refused() {
    let path = ring_path("huge");
    let e = ShmPublisher::<u64>::create_at(&path, 1 << 40, "u64").map(|_| ());
    let e = e.unwrap_err();
    assert!(
        matches!(&e, ShmError::NoSpace { need, path: p, .. } if *need > 1 << 46 && *p == path),
        "{e}"
    );
    assert!(!path.exists());
}

/// Errors name the path the caller gave (not the temporary file the publisher builds), and a
/// type mismatch names both types, with sizes and alignments.
#[test]
fn errors_name_the_path_and_the_types() {
    let path = Path::new("/nonexistent-seqcast-dir/ring");
    let e = ShmPublisher::<u64>::create_at(path, 8, "u64").unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("/nonexistent-seqcast-dir/ring\""), "{shown}");
    assert!(!shown.contains(".tmp"), "{shown}");

    let path = ring_path("types");
    let tx = ShmPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    let e = ShmSubscriber::<Msg>::open_at(&path, "another type").unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains(TYPE) && shown.contains("another type"),
        "{shown}"
    );
    let e = ShmSubscriber::<[u32; 4]>::open_at(&path, "quad").unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains(TYPE) && shown.contains("quad"), "{shown}");
    assert!(shown.contains("64") && shown.contains("16"), "{shown}");
    drop(tx);
}

// ---------------------------------------------------------------------------------------------
// Record topics in shared memory

use seqcast::shm::{ShmRecordPublisher, ShmRecordSubscriber};

const REC_TYPE: &str = "tests/shm.rs records";

/// Record `seq` of `len` bytes: every byte derived from both, so a mix is detectable.
fn record(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as u8).wrapping_mul(31).wrapping_add(i as u8))
        .collect()
}

fn rec_len(seq: u64) -> usize {
    (seq as usize * 37) % 377
}

#[test]
fn shm_records_round_trip_lap_and_close_exactly() {
    let path = ring_path("records");
    let mut tx = ShmRecordPublisher::create_at(&path, 1024, REC_TYPE).unwrap(); // 16 chunks
    assert_eq!((tx.capacity(), tx.max_len()), (1024, 40 + 7 * 48));
    for seq in 0..5 {
        tx.send(&record(seq, rec_len(seq))).unwrap();
    }
    // Opened mid-stream: starts at the next record.
    let mut rx = ShmRecordSubscriber::open_at(&path, REC_TYPE).unwrap();
    assert_eq!(rx.position(), 5);
    let mut buf = Vec::new();
    for seq in 5..40 {
        tx.send(&record(seq, rec_len(seq))).unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Ok(rec_len(seq)));
        assert_eq!(buf, record(seq, rec_len(seq)));
    }
    assert_eq!(
        tx.send(&[0; 400]),
        Err(seqcast::error::RecordError::TooLarge { len: 400, max: 376 })
    );
    // Lapped: every record is delivered whole or counted lost.
    for seq in 40..200 {
        tx.send(&record(seq, rec_len(seq))).unwrap();
    }
    drop(tx); // closes: drain, then `Closed`
    let (mut received, mut missed) = (35, 0);
    loop {
        match rx.try_recv_into(&mut buf) {
            Ok(len) => {
                let seq = rx.position() - 1;
                assert_eq!(buf, record(seq, len), "record {seq}");
                received += 1;
            }
            Err(TryRecvError::Lagged(n)) => missed += n,
            Err(TryRecvError::Closed) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(missed > 0);
    assert_eq!(received + missed, 200 - 5);
    assert_eq!(rx.stats().received + rx.stats().missed, 195);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn shm_records_and_typed_rings_do_not_open_as_each_other() {
    let path = ring_path("records-kind");
    let _tx = ShmRecordPublisher::create_at(&path, 1024, REC_TYPE).unwrap();
    assert!(ShmSubscriber::<[u64; 7]>::open_at(&path, REC_TYPE).is_err());
    assert!(ShmRecordSubscriber::open_at(&path, "another type").is_err());
    let path = ring_path("typed-kind");
    let _tx = ShmPublisher::<[u64; 7]>::create_at(&path, 16, REC_TYPE).unwrap();
    assert!(ShmRecordSubscriber::open_at(&path, REC_TYPE).is_err());
}

/// Where chunk words sit in a record ring's slot: the stamp, then the chunk's seven words.
const FRAME_WORD: u64 = 6;
const LEN_WORD: u64 = 5;

#[test]
fn shm_records_with_corrupt_framing_are_lost_and_reported() {
    let path = ring_path("records-corrupt");
    let mut tx = ShmRecordPublisher::create_at(&path, 1024, REC_TYPE).unwrap();
    let mut rx = ShmRecordSubscriber::open_at(&path, REC_TYPE).unwrap();
    // Records 0..7 of 100, 10, 100, 10, 100, 10, 10 bytes: chunks 0-2, 3, 4-6, 7, 8-10, 11, 12.
    let lens = [100, 10, 100, 10, 100, 10, 10];
    for (seq, &len) in lens.iter().enumerate() {
        tx.send(&record(seq as u64, len)).unwrap();
    }
    let info = tx.info();
    let poke = Poke::open(&path);
    let word =
        |chunk: u64, w: u64| poke.word(info.slots_offset + chunk * info.slot_size + 8 + 8 * w);
    // Record 0: a length over the limit. Record 2: a chunk of another record in its middle.
    // Record 3: a first chunk turned into a continuation.
    word(0, LEN_WORD).store(u64::MAX, Ordering::Relaxed);
    word(5, FRAME_WORD).store(2 * 9, Ordering::Relaxed);
    word(7, FRAME_WORD).store(2 * 3, Ordering::Relaxed);
    let got: Vec<_> = std::iter::from_fn(|| match rx.try_recv() {
        Err(TryRecvError::Empty) => None,
        other => Some(other.map(|r| r.len())),
    })
    .collect();
    assert_eq!(
        got,
        [
            Err(TryRecvError::Lagged(1)),
            Ok(10),
            Err(TryRecvError::Lagged(2)),
            Ok(100),
            Ok(10),
            Ok(10)
        ]
    );
    assert_eq!(rx.stats().received + rx.stats().missed, 7);
}

#[test]
fn shm_records_from_a_file_of_garbage_never_panic_or_hang() {
    let mut rng = Rng::new(0x5EED_4EC0);
    for round in 0..40 {
        let path = ring_path("records-garbage");
        let mut tx = ShmRecordPublisher::create_at(&path, 1024, REC_TYPE).unwrap();
        let mut rx = ShmRecordSubscriber::open_at(&path, REC_TYPE).unwrap();
        for seq in 0..(rng.below(30)) {
            tx.send(&record(seq, rec_len(seq))).unwrap();
        }
        let info = tx.info();
        let poke = Poke::open(&path);
        // Scribble over the chunk words (the stamps stay: they have rules of their own).
        for _ in 0..rng.below(40) + 1 {
            let chunk = rng.below(16);
            let w = rng.below(7);
            let v = match rng.below(4) {
                0 => u64::MAX,
                1 => rng.below(64),
                2 => rng.below(64) << 1 | rng.below(2),
                _ => rng.next(),
            };
            poke.word(info.slots_offset + chunk * info.slot_size + 8 + 8 * w)
                .store(v, Ordering::Relaxed);
        }
        let got = within("garbage records", 60, move || {
            let mut buf = Vec::new();
            let mut calls = 0;
            loop {
                calls += 1;
                assert!(calls < 10_000, "round {round}: never reaches Empty");
                match rx.try_recv_into(&mut buf) {
                    Ok(len) => assert!(len <= 376 && buf.capacity() < 4096),
                    Err(TryRecvError::Lagged(_)) => {}
                    Err(TryRecvError::Empty) => return rx.stats(),
                    Err(e) => panic!("round {round}: {e:?}"),
                }
            }
        });
        drop(tx);
        assert!(got.received <= 30, "round {round}: {got:?}");
    }
}
