//! Shared-memory rings with several publishers (`seqcast::shm::ShmSharedPublisher`), across
//! real processes: one stream for every subscriber, exact accounting, and publishers that die
//! (or stop) in the middle of a send.
//!
//! Child roles re-execute this test binary (`tests/common/shm.rs`); they do nothing unless
//! `SEQCAST_SHM_CHILD` names the ring. No timing is asserted: where a test checks that
//! something does *not* happen (a stopped publisher's message is not skipped), it waits a
//! while and checks; the timeouts that bound the rest only keep a broken build from hanging.
#![cfg(all(
    feature = "shm",
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use seqcast::error::{RecvTimeoutError, ShmError, TryRecvError};
use seqcast::shm::{self, ShmPublisher, ShmSharedPublisher, ShmSubscriber};
use std::sync::atomic::Ordering;
use std::time::Duration;

mod common;
use common::shm::{ring_path, ChildProc, Poke, CHILD_ENV, GENEROUS};

type Msg = [u64; 8];
const TYPE: &str = "tests/shm_shared.rs Msg = [u64; 8]";
/// Messages each child publisher sends (`SEQCAST_SHM_COUNT` overrides).
const COUNT_ENV: &str = "SEQCAST_SHM_COUNT";
/// Which publisher a child is (its messages carry it).
const ID_ENV: &str = "SEQCAST_SHM_ID";
/// With a value `n > 0`, a child publisher sends in batches of `n` (`send_batch`).
const BATCH_ENV: &str = "SEQCAST_SHM_BATCH";

/// Header words the stuck-claimant child pokes, as `shm::header` lays them out: the ticket
/// counter, the head, and the publishers' places (16 words each: the first ticket of the
/// owner's claim, its pid, the claim's length).
const W_CLAIM: u64 = 48;
const W_HEAD: u64 = 32;
const W_PLACES: u64 = 64;
const PLACE_WORDS: u64 = 16;
/// An owner word while its publisher claims a ticket (`ring::claim::CLAIMING`).
const CLAIMING: u64 = u64::MAX - 1;

/// Message `i` of publisher `id`: eight words, so a mix of two messages is detectable.
fn msg(id: u64, i: u64) -> Msg {
    let tag = (id << 40) | i;
    std::array::from_fn(|w| {
        if w == 0 {
            tag
        } else {
            tag.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(w as u32 * 7)
                ^ w as u64
        }
    })
}

/// `(publisher, index)` of a message, after checking that it is whole.
fn check(m: &Msg) -> (u64, u64) {
    let (id, i) = (m[0] >> 40, m[0] & ((1 << 40) - 1));
    assert_eq!(*m, msg(id, i), "torn or corrupted message");
    (id, i)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Child roles (no-ops unless started by a parent test).

/// Child: join the ring as a publisher, send `COUNT` messages as publisher `ID`, leave.
#[test]
fn child_shared_publisher() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let (id, count) = (env_u64(ID_ENV, 1), env_u64(COUNT_ENV, 1000));
    let batch = env_u64(BATCH_ENV, 0) as usize;
    let mut tx = ShmSharedPublisher::<Msg>::open_at(&path, TYPE).expect("child: join ring");
    println!("READY");
    if batch == 0 {
        for i in 0..count {
            tx.send(msg(id, i));
        }
    } else {
        let all: Vec<Msg> = (0..count).map(|i| msg(id, i)).collect();
        for chunk in all.chunks(batch) {
            let seqs = tx.send_batch(chunk);
            assert_eq!(seqs.end - seqs.start, chunk.len() as u64);
        }
    }
    assert_eq!(tx.sent(), count);
    println!("DONE");
}

/// Child: join, send one message, then claim a ticket exactly as `send` does and die in the
/// middle of writing it (odd stamp, half the payload), as a publisher killed mid-send leaves
/// it. With `SEQCAST_SHM_STOP` set it stops itself (`SIGSTOP`) there instead, then finishes
/// the message when continued, sends one more and leaves.
#[test]
fn child_stuck_claimant() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let id = env_u64(ID_ENV, 1);
    let mut tx = ShmSharedPublisher::<Msg>::open_at(&path, TYPE).expect("child: join ring");
    tx.send(msg(id, 0));
    let poke = Poke::open(std::path::Path::new(&path));
    let info = tx.info();
    // A run of `SEQCAST_SHM_RUN` tickets (a batch), of which only the first is half written.
    let run = env_u64("SEQCAST_SHM_RUN", 1);
    let place_at = (W_PLACES + tx.place() as u64 * PLACE_WORDS) * 8;
    let place = poke.word(place_at);
    place.store(CLAIMING, Ordering::SeqCst);
    let t = poke.word(W_CLAIM * 8).fetch_add(run, Ordering::SeqCst);
    poke.word(place_at + 16).store(run, Ordering::SeqCst);
    place.store(t, Ordering::SeqCst);
    let slot = info.slots_offset + (t % info.capacity) * info.slot_size;
    let stamp = poke.word(slot);
    let words = msg(id, 1);
    stamp.store(2 * t + 1, Ordering::SeqCst);
    for (w, v) in words.iter().enumerate().take(4) {
        poke.word(slot + 8 + w as u64 * 8)
            .store(*v, Ordering::SeqCst);
    }
    println!("STUCK {t}");
    if std::env::var_os("SEQCAST_SHM_STOP").is_none() {
        std::thread::sleep(GENEROUS);
        std::process::exit(3);
    }
    // SAFETY: `raise` sends a signal to this process; no memory is passed.
    unsafe { libc::raise(libc::SIGSTOP) };
    for (w, v) in words.iter().enumerate().skip(4) {
        poke.word(slot + 8 + w as u64 * 8)
            .store(*v, Ordering::SeqCst);
    }
    stamp.store(2 * t + 2, Ordering::SeqCst);
    // Move the head over our message if it waits for us (as `send` would); the next send
    // moves it over whatever completed behind us.
    let _ = poke
        .word(W_HEAD * 8)
        .compare_exchange(t, t + 1, Ordering::SeqCst, Ordering::SeqCst);
    tx.send(msg(id, 2));
    println!("DONE");
}

// ---------------------------------------------------------------------------------------------
// Parent tests.

/// Receives until `Closed` (or `PublisherDied`, if `died`), checking wholeness and that each
/// publisher's messages arrive in order without duplicates. Returns what each publisher
/// delivered (by id), the lag total, and how the stream ended.
fn drain(rx: &mut ShmSubscriber<Msg>, ids: usize) -> (Vec<Vec<u64>>, u64, RecvTimeoutError) {
    let mut got = vec![Vec::new(); ids];
    let mut lagged = 0;
    loop {
        match rx.recv_timeout(GENEROUS) {
            Ok(m) => {
                let (id, i) = check(&m);
                let seen = &mut got[id as usize];
                assert!(
                    seen.last().is_none_or(|&l| l < i),
                    "publisher {id} out of order"
                );
                seen.push(i);
            }
            Err(RecvTimeoutError::Lagged(n)) => {
                assert!(n > 0);
                lagged += n;
            }
            Err(end) => {
                let stats = rx.stats();
                let delivered: usize = got.iter().map(Vec::len).sum();
                assert_eq!((stats.received, stats.missed), (delivered as u64, lagged));
                return (got, lagged, end);
            }
        }
    }
}

/// Starts publishers `1..=n` as child processes, each sending `count` messages, publisher
/// `id` in batches of `batch(id)` (0: one `send` each).
fn spawn_publishers(
    path: &std::path::Path,
    n: u64,
    count: u64,
    batch: impl Fn(u64) -> u64,
) -> Vec<ChildProc> {
    (1..=n)
        .map(|id| {
            let env = [
                (ID_ENV, id.to_string()),
                (COUNT_ENV, count.to_string()),
                (BATCH_ENV, batch(id).to_string()),
            ];
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ChildProc::spawn_with("child_shared_publisher", path, &env)
        })
        .collect()
}

/// Two publishers in one process (two places) and a subscriber: one stream, in ticket order.
/// The topic closes only when the last of them leaves.
#[test]
fn two_publishers_one_stream_last_out_closes() {
    let path = ring_path("two");
    let mut a = ShmSharedPublisher::<Msg>::create_at(&path, 16, TYPE).unwrap();
    let mut b = ShmSharedPublisher::<Msg>::open_at(&path, TYPE).unwrap();
    assert_eq!((a.place(), b.place()), (0, 1));
    assert_eq!(a.info().publishers, shm::MAX_PUBLISHERS);
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    for i in 0..5 {
        assert_eq!(a.send(msg(0, i)), 2 * i);
        assert_eq!(b.send(msg(1, i)), 2 * i + 1);
    }
    for i in 0..5 {
        assert_eq!(check(&rx.try_recv().unwrap()), (0, i));
        assert_eq!(check(&rx.try_recv().unwrap()), (1, i));
    }
    assert_eq!(a.send_batch(&[msg(0, 5), msg(0, 6)]), 10..12);
    assert_eq!(b.send_batch(&[]), 12..12);
    assert_eq!(check(&rx.try_recv().unwrap()), (0, 5));
    assert_eq!(check(&rx.try_recv().unwrap()), (0, 6));
    drop(a);
    assert!(!rx.is_closed(), "closed while a publisher is left");
    b.send(msg(1, 5));
    assert_eq!(check(&rx.try_recv().unwrap()), (1, 5));
    drop(b);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(!path.exists(), "the last publisher removes the file");
}

/// Joining is refused, with an error that says why, for a single-publisher ring, a full ring,
/// and a live ring someone tries to create again.
#[test]
fn joining_errors_say_why() {
    let single = ring_path("single");
    let _one = ShmPublisher::<Msg>::create_at(&single, 8, TYPE).unwrap();
    let e = ShmSharedPublisher::<Msg>::open_at(&single, TYPE).unwrap_err();
    assert!(matches!(e, ShmError::SinglePublisher { .. }), "{e}");

    let path = ring_path("full");
    let mut all = vec![ShmSharedPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap()];
    for _ in 1..shm::MAX_PUBLISHERS {
        all.push(ShmSharedPublisher::<Msg>::open_at(&path, TYPE).unwrap());
    }
    let e = ShmSharedPublisher::<Msg>::open_at(&path, TYPE).unwrap_err();
    assert!(
        matches!(e, ShmError::TooManyPublishers { max: 8, .. }),
        "{e}"
    );
    let e = ShmSharedPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap_err();
    assert!(matches!(e, ShmError::InUse { .. }), "{e}");
    let e = ShmPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap_err();
    assert!(matches!(e, ShmError::InUse { .. }), "{e}");
    let e = ShmSharedPublisher::<u64>::open_at(&path, "u64").unwrap_err();
    assert!(matches!(e, ShmError::TypeMismatch { .. }), "{e}");
    // A place given back is taken again.
    all.remove(3);
    assert_eq!(
        ShmSharedPublisher::<Msg>::open_at(&path, TYPE)
            .unwrap()
            .place(),
        3
    );
}

/// Three publisher processes into one ring that holds everything (one sending one message at a
/// time, two in batches of 7 and 100): every subscriber receives every message of every
/// publisher, whole and in each publisher's order.
#[test]
fn three_publisher_processes_lossless() {
    const N: u64 = 10_000;
    let path = ring_path("three");
    let host = ShmSharedPublisher::<Msg>::create_at(&path, 4 * N as usize, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    let children = spawn_publishers(&path, 3, N, |id| [0, 0, 7, 100][id as usize]);
    for c in children {
        c.line_with("DONE");
        c.wait_success();
    }
    drop(host);
    let (got, lagged, end) = drain(&mut rx, 4);
    assert_eq!(end, RecvTimeoutError::Closed);
    assert_eq!(lagged, 0);
    assert!(got[0].is_empty());
    for seen in &got[1..] {
        assert_eq!(*seen, (0..N).collect::<Vec<_>>());
    }
}

/// Three publisher processes into a small ring, with a subscriber reading from message 0
/// while they run: lapped, and still `delivered + lagged == published` exactly.
#[test]
fn three_publisher_processes_lossy_accounting() {
    const N: u64 = 20_000;
    let path = ring_path("lossy");
    let host = ShmSharedPublisher::<Msg>::create_at(&path, 64, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    // Batches of 1 (`send`), 5 and 150 (more than the ring holds: a batch laps itself).
    let children = spawn_publishers(&path, 3, N, |id| [0, 0, 5, 150][id as usize]);
    let reader = std::thread::spawn(move || drain(&mut rx, 4));
    for c in children {
        c.line_with("DONE");
        c.wait_success();
    }
    drop(host);
    let (got, lagged, end) = reader.join().unwrap();
    assert_eq!(end, RecvTimeoutError::Closed);
    let delivered: u64 = got.iter().map(|g| g.len() as u64).sum();
    assert_eq!(delivered + lagged, 3 * N);
    // The last lap is intact after the close.
    assert!(delivered >= 64);
}

/// A publisher killed in the middle of a send: while it lives its message is waited for;
/// once it is dead a live publisher abandons the message, subscribers report it lost
/// (`Lagged(1)`) and receive what the others sent after it. Nothing wedges, not even the
/// publisher whose next lap reaches the dead message's slot.
#[test]
fn killed_claimant_is_skipped_and_reported() {
    let path = ring_path("killed");
    let mut host = ShmSharedPublisher::<Msg>::create_at(&path, 4, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    let mut child = ChildProc::spawn_with("child_stuck_claimant", &path, &[(ID_ENV, "1")]);
    let line = child.line_with("STUCK");
    let stuck: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(stuck, 1);
    assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (1, 0));
    // Two more messages behind the stuck one (tickets 2 and 3): not delivered past it yet.
    host.send(msg(0, 0));
    host.send(msg(0, 1));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(300)),
        Err(RecvTimeoutError::Timeout),
        "the message of a live publisher was skipped"
    );
    child.child.kill().unwrap();
    child.child.wait().unwrap();
    // Ticket 5 reuses the dead message's slot (capacity 4): the send must not wedge.
    host.send(msg(0, 2));
    host.send(msg(0, 3));
    assert_eq!(rx.recv_timeout(GENEROUS), Err(RecvTimeoutError::Lagged(1)));
    for i in 0..4 {
        assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (0, i));
    }
    drop(host);
    assert_eq!(rx.recv_timeout(GENEROUS), Err(RecvTimeoutError::Closed));
    let stats = rx.stats();
    assert_eq!((stats.received, stats.missed), (5, 1));
}

/// A publisher killed in the middle of a batch: exactly its unwritten run is reported lost,
/// and everything sent after it arrives.
#[test]
fn killed_batch_claimant_loses_exactly_its_run() {
    let path = ring_path("killedrun");
    let mut host = ShmSharedPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    let mut child = ChildProc::spawn_with(
        "child_stuck_claimant",
        &path,
        &[(ID_ENV, "1"), ("SEQCAST_SHM_RUN", "3")],
    );
    child.line_with("STUCK");
    assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (1, 0));
    child.child.kill().unwrap();
    child.child.wait().unwrap();
    assert_eq!(host.send_batch(&[msg(0, 0), msg(0, 1)]), 4..6);
    let (mut lost, mut got) = (0, Vec::new());
    while got.len() < 2 {
        match rx.recv_timeout(GENEROUS) {
            Ok(m) => got.push(check(&m)),
            Err(RecvTimeoutError::Lagged(n)) => lost += n,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((lost, got), (3, vec![(0, 0), (0, 1)]));
    drop(host);
    assert_eq!(rx.recv_timeout(GENEROUS), Err(RecvTimeoutError::Closed));
}

/// A publisher stopped (`SIGSTOP`) in the middle of a send is slow, not dead: its message is
/// waited for, never skipped, and arrives whole when it continues.
#[test]
fn stopped_claimant_is_waited_for_not_skipped() {
    let path = ring_path("stopped");
    let mut host = ShmSharedPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    let child = ChildProc::spawn_with(
        "child_stuck_claimant",
        &path,
        &[(ID_ENV, "1"), ("SEQCAST_SHM_STOP", "1")],
    );
    child.line_with("STUCK");
    let pid = child.child.id() as libc::pid_t;
    host.send(msg(0, 0));
    assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (1, 0));
    // Well past the heartbeat's unblock look (every 50 ms) and the subscriber's liveness
    // window (at least 200 ms): still waiting.
    rx.set_dead_after(Duration::from_millis(200));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(600)),
        Err(RecvTimeoutError::Timeout),
        "a stopped publisher's message was skipped"
    );
    // SAFETY: `kill` sends a signal to our child; no memory is passed.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (1, 1));
    assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (0, 0));
    assert_eq!(check(&rx.recv_timeout(GENEROUS).unwrap()), (1, 2));
    child.wait_success();
    drop(host);
    assert_eq!(rx.recv_timeout(GENEROUS), Err(RecvTimeoutError::Closed));
    assert_eq!(rx.stats().missed, 0);
}

/// Every publisher dies, one of them in the middle of a send, with complete messages of the
/// others after it: the subscriber reports the stuck message lost, delivers the complete
/// ones, and then reports `PublisherDied`. Nothing is lost unreported.
#[test]
fn all_publishers_dead_with_a_stuck_claim() {
    let path = ring_path("alldead");
    let mut host = ShmSharedPublisher::<Msg>::create_at(&path, 8, TYPE).unwrap();
    let mut rx = ShmSubscriber::<Msg>::open_at(&path, TYPE).unwrap();
    rx.set_dead_after(Duration::from_millis(200));
    let mut child = ChildProc::spawn_with("child_stuck_claimant", &path, &[(ID_ENV, "1")]);
    child.line_with("STUCK");
    host.send(msg(0, 0));
    host.send(msg(0, 1));
    // The host leaves (it is not the last: the child holds its place), then the child dies.
    drop(host);
    child.child.kill().unwrap();
    child.child.wait().unwrap();
    let (got, lagged, end) = drain(&mut rx, 2);
    assert_eq!(end, RecvTimeoutError::PublisherDied);
    assert_eq!(
        (got[1].as_slice(), got[0].as_slice(), lagged),
        (&[0][..], &[0, 1][..], 1)
    );
    // Nobody closed the ring, so nobody removed its file.
    std::fs::remove_file(&path).unwrap();
}
