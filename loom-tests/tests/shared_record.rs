//! Shared record topics (`record::SharedRecordPublisher`): a subscriber made without the lock
//! while records are sent, and a close (`Bus::remove`) racing a send. The smallest ring that
//! takes two-chunk records (256 bytes: 4 chunks of 64, `max_len` 88).
//!
//! * [`subscribe_racing_sends`]: records of 1, 2 and 1 chunks (4 in all: nothing is ever
//!   overwritten) sent while another thread calls `subscribe()`. `RecordSubscriber::attach`
//!   finds the subscriber's first message number by peeking the chunk just before its start,
//!   so whatever chunk positions the head load and the peek see, the subscriber must start
//!   exactly at a record: no lag report (nothing was lost), then every record from its
//!   `position()` on, whole, once, in order.
//! * [`subscribe_oldest_racing_sends`]: records of 2, 1, 1 and 1 chunks (5: the last
//!   overwrites the first chunk of record 0); the last is sent while another thread calls
//!   `subscribe_oldest()`, which may land on record 0's first chunk or on its continuation. Only
//!   record 0 can be lost, as one `Lagged(1)` at position 0; every record from
//!   `max(position(), 1)` on is delivered.
//! * [`close_racing_a_send`]: a producer sends two records (2 and 1 chunks) through a clone of
//!   a bus's record publisher while the bus removes the topic, which closes it without waiting
//!   for a send in progress (the `closing` flag, the lock and two SeqCst fences: module docs
//!   of `src/record/shared.rs`). After both threads are done the ring must be closed, with
//!   every `Ok` send delivered to the subscriber made before, every refused one
//!   `RecordError::Closed` and not delivered, and once a send is refused every later one.
//!
//! Every byte of a record derives from its number and its index ([`byte`]), and each record
//! has its own length, so a record mixed from two, cut short, or delivered at the wrong
//! position is caught. Each model also checks the account: received + missed == records
//! published from the subscriber's first position on, as the stats say.
//!
//! Teeth (only the teeth test of the file is built under each):
//!
//! * `--cfg seqcast_loom_broken_attach`: `attach` takes the peeked chunk's message number
//!   itself as the subscriber's first (no `+ 1`): a subscriber made after record `m` expects
//!   `m` and reports the lag of a record nobody lost ("attach violation").
//! * `--cfg seqcast_loom_broken_close`: the close protocol without its SeqCst fence (both
//!   sides share it in `settle`): the closer finds the lock held, the holder unlocks and
//!   reads a stale `closing`, and nobody closes the ring ("close violation").
#![cfg(seqcast_loom)]
#![cfg_attr(
    any(seqcast_loom_broken_attach, seqcast_loom_broken_close),
    allow(dead_code, unused_imports)
)]

use loom::thread;
use loom_tests::check;
use loom_tests::records::{record_of, step, Step, RING};
use seqcast::error::{RecordError, TryRecvError};
use seqcast::record::{self, RecordSubscriber, SharedRecordPublisher};
use seqcast::Bus;

/// A shared record topic on the 4-chunk ring (its first subscriber is dropped: each model
/// makes its own).
fn shared_topic() -> SharedRecordPublisher {
    let tx = record::channel(RING).0.into_shared();
    assert_eq!((tx.capacity(), tx.max_len()), (RING, 88));
    tx
}

/// What a subscriber saw: the delivered numbers, and `(position, n)` of each lag report.
#[derive(Debug, Default)]
struct Seen {
    start: u64,
    delivered: Vec<u64>,
    lags: Vec<(u64, u64)>,
}

/// Reads `rx` to `Closed`, after every sender is done (so every record is complete and visible,
/// and `Empty` means the ring was never closed), checking each answer as it comes: a delivery
/// is exactly the record of the position it was taken at and moves it by 1; a lag report moves
/// it by exactly its count. `what` names the violation a wrong answer is.
fn drain(rx: &mut RecordSubscriber, lens: &[usize], what: &str) -> Seen {
    let mut seen = Seen {
        start: rx.position(),
        ..Seen::default()
    };
    let mut buf = Vec::new();
    loop {
        match step(rx, lens, &mut buf, what) {
            Step::Delivered(m) => seen.delivered.push(m),
            Step::Lagged { at, n } => seen.lags.push((at, n)),
            Step::Other(TryRecvError::Closed) => break,
            Step::Other(TryRecvError::Empty) => {
                panic!("{what} violation: Empty after every sender is done: the ring was left open ({seen:?})")
            }
            Step::Other(e) => panic!("{what} violation: a lossy record subscriber got {e:?}"),
        }
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(TryRecvError::Closed));
    seen
}

/// The account of a subscriber drained to `Closed` after `published` records: delivered and
/// lag reports tile `start..published` (so none twice, none missing), and the stats agree.
fn check_account(rx: &RecordSubscriber, seen: &Seen, published: u64, what: &str) {
    let mut events: Vec<(u64, u64)> = seen.delivered.iter().map(|&m| (m, 1)).collect();
    events.extend(seen.lags.iter().copied());
    events.sort_unstable();
    let mut at = seen.start;
    for (m, n) in events {
        assert_eq!(
            m, at,
            "{what} violation: gap or overlap at record {at}: {seen:?}"
        );
        at += n;
    }
    assert_eq!(
        at, published,
        "{what} violation: received + missed != records published from the start on: {seen:?}"
    );
    assert_eq!(rx.position(), published);
    let missed: u64 = seen.lags.iter().map(|&(_, n)| n).sum();
    let stats = rx.stats();
    assert_eq!(
        (stats.received, stats.missed, stats.lag_events),
        (seen.delivered.len() as u64, missed, seen.lags.len() as u64),
        "{what} violation: stats disagree with what was seen: {seen:?}"
    );
}

/// Record lengths of [`subscribe_racing_sends`]: chunks 0 | 1, 2 | 3.
const FIT: [usize; 3] = [24, 60, 8];

/// Sends the records of `lens` from `before` on through a clone of `tx` on another thread
/// (those before `before` are sent first, with no race: one thread has nothing to explore),
/// while this one calls `subscribe`; then (every sender done, every handle dropped: the ring
/// closes) drains.
fn race_a_subscribe(
    lens: &'static [usize],
    before: u64,
    subscribe: fn(&SharedRecordPublisher) -> RecordSubscriber,
) -> (RecordSubscriber, Seen) {
    let tx = shared_topic();
    for m in 0..before {
        assert_eq!(tx.send(&record_of(lens, m)), Ok(m));
    }
    let sender = tx.clone();
    let publisher = thread::spawn(move || {
        for m in before..lens.len() as u64 {
            assert_eq!(sender.send(&record_of(lens, m)), Ok(m));
        }
    });
    let mut rx = subscribe(&tx);
    publisher.join().unwrap();
    assert_eq!(tx.published(), lens.len() as u64);
    drop(tx);
    let seen = drain(&mut rx, lens, "attach");
    check_account(&rx, &seen, lens.len() as u64, "attach");
    (rx, seen)
}

/// `subscribe()` racing three sends that fill the ring exactly: the subscriber starts at a
/// record boundary, with the number of the record that starts there; nothing is overwritten,
/// so any lag report is an attach that got its first number wrong.
fn subscribe_racing_sends() {
    let (_, seen) = race_a_subscribe(&FIT, 0, SharedRecordPublisher::subscribe);
    assert!(
        seen.lags.is_empty(),
        "attach violation: a lag report though nothing was overwritten: {seen:?}"
    );
}

/// Record lengths of [`subscribe_oldest_racing_sends`]: chunks 0, 1 | 2 | 3 | 4 (slot 0).
const WRAP: [usize; 4] = [60, 24, 40, 8];

/// `subscribe_oldest()` racing the last of four sends, which overwrites record 0's first
/// chunk (records 0..=2, sent first, fill the ring): the subscriber starts at record 0's first
/// chunk (and may be lapped there), or at its continuation (and skips it unreported). Record 0
/// is the only one that can be lost, and only as `Lagged(1)` at position 0; records 1..=3 are
/// never overwritten and are delivered from the subscriber's start on.
fn subscribe_oldest_racing_sends() {
    let (_, seen) = race_a_subscribe(&WRAP, 3, SharedRecordPublisher::subscribe_oldest);
    assert!(
        seen.lags.iter().all(|&lag| lag == (0, 1)),
        "attach violation: inexact lag report (only (0, 1) can happen): {seen:?}"
    );
    for m in seen.start.max(1)..WRAP.len() as u64 {
        assert!(
            seen.delivered.contains(&m),
            "attach violation: record {m} was never overwritten but not delivered: {seen:?}"
        );
    }
}

/// Record lengths of [`close_racing_a_send`]: chunks 0, 1 | 2.
const CLOSE: [usize; 2] = [60, 8];

/// A bus record topic; a producer sends [`CLOSE`]'s two records through a clone of its
/// publisher while this thread removes the topic. This thread keeps a publisher and the bus
/// alive throughout, so only the close protocol can close the ring (not a last drop).
fn close_racing_a_send() {
    let bus = Bus::builder().capacity(2).record_capacity(RING).build();
    let tx = bus.records("r").unwrap();
    let mut rx = tx.subscribe();
    assert_eq!(rx.position(), 0);
    let sender = tx.clone();
    let producer = thread::spawn(move || {
        (0..CLOSE.len() as u64)
            .map(|m| sender.send(&record_of(&CLOSE, m)))
            .collect::<Vec<_>>()
    });
    assert!(bus.remove("r").unwrap());
    let sent = producer.join().unwrap();

    // Accepted sends are a prefix, numbered in order; every later one was refused as Closed.
    let ok = sent.iter().take_while(|r| r.is_ok()).count() as u64;
    for (m, r) in sent.iter().enumerate() {
        let want = if (m as u64) < ok {
            Ok(m as u64)
        } else {
            Err(RecordError::Closed)
        };
        assert_eq!(
            *r, want,
            "close violation: send {m} answered {r:?} after {ok} accepted ({sent:?})"
        );
    }
    assert!(
        tx.is_closed(),
        "close violation: not closed after remove ({sent:?})"
    );
    assert_eq!(tx.published(), ok, "close violation: published ({sent:?})");

    // The ring is closed: the subscriber made before reads exactly the accepted records (4
    // chunks hold them all: no lag), then `Closed`, never `Empty`.
    let seen = drain(&mut rx, &CLOSE, "close");
    check_account(&rx, &seen, ok, "close");
    assert!(
        seen.lags.is_empty(),
        "close violation: a lag report though nothing was overwritten: {seen:?} ({sent:?})"
    );

    // Later sends are refused; a subscriber made now has nothing to read and loses nothing.
    assert_eq!(tx.send(&[1]), Err(RecordError::Closed));
    let mut late = tx.subscribe();
    assert_eq!(late.position(), ok);
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(late.stats().missed, 0);
}

#[test]
#[cfg(not(any(seqcast_loom_broken_attach, seqcast_loom_broken_close)))]
fn shared_record_subscribe_racing_sends() {
    check(
        "shared_record_subscribe_racing_sends",
        subscribe_racing_sends,
    );
}

#[test]
#[cfg(not(any(seqcast_loom_broken_attach, seqcast_loom_broken_close)))]
fn shared_record_subscribe_oldest_racing_sends() {
    check(
        "shared_record_subscribe_oldest_racing_sends",
        subscribe_oldest_racing_sends,
    );
}

#[test]
#[cfg(not(any(seqcast_loom_broken_attach, seqcast_loom_broken_close)))]
fn shared_record_close_racing_a_send() {
    check("shared_record_close_racing_a_send", close_racing_a_send);
}

/// Teeth: the subscribe model against an `attach` that takes the peeked number without the
/// `+ 1`. Passes only if loom finds an interleaving in which the subscriber starts after a
/// record and miscounts it.
#[test]
#[cfg(seqcast_loom_broken_attach)]
#[should_panic(expected = "attach violation")]
fn teeth_attach_without_plus_one_is_caught() {
    check("teeth (must fail)", subscribe_racing_sends);
}

/// Teeth: the close model against a close protocol without its SeqCst fence. Passes only if
/// loom finds the store-buffer interleaving in which nobody closes the ring.
#[test]
#[cfg(seqcast_loom_broken_close)]
#[should_panic(expected = "close violation")]
fn teeth_close_without_fences_is_caught() {
    check("teeth (must fail)", close_racing_a_send);
}
