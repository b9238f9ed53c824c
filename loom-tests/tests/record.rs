//! Record topics (`seqcast::record`): records of one and two chunks on the smallest ring that
//! takes two-chunk records (256 bytes: 4 chunks of 64, `max_len` 88), with a subscriber
//! racing the publisher.
//!
//! A chunk is 7 payload words, each a Relaxed load that loom may answer with any value the
//! memory model allows, so every copy that overlaps a write multiplies the executions by up
//! to 2^7. Each model therefore races the subscriber against a single send, and sets the
//! ring up before the threads start (one thread: nothing to explore there), so that this one
//! send lands where the record reader's protocol is at stake:
//!
//! * [`lap_at_a_record_start`]: the send overwrites the first chunk of the record the
//!   subscriber is about to read. Lapped there, the subscriber lands on that record's
//!   continuation chunk, which it must skip rather than take for a start, and reports
//!   exactly one lost record.
//! * [`lap_in_the_middle_of_a_record`]: the subscriber, lapped before the threads start,
//!   holds the first chunk of a record that wraps around the ring's end; the send overwrites
//!   its continuation. Lapped in the middle of the record, it must drop the part it copied
//!   and report the record lost; otherwise it reads the continuation across the ring's end.
//! * [`record_half_written_across_the_ring_end`]: the send is a two-chunk record that wraps,
//!   read by a subscriber that is caught up: it finds the record half written (its first
//!   chunk there, the rest not yet) and must resume it on a later call, never lose it.
//!
//! The first two stop racing once the record at stake is delivered or reported lost, and read
//! the rest after the send (reading a record as it is sent is the third model's). At
//! `LOOM_MAX_PREEMPTIONS=2` they explore 15 433, 15 433 and 34 247 executions, about 6 s in
//! all in release (at 3: 85 231, 85 231 and 238 830, under 30 s).
//!
//! Every byte of a record derives from its number and its index ([`byte`]), and each record
//! has its own length, so a record mixed from two, cut short, or delivered at the wrong
//! position is caught. Proves, for every interleaving explored: each delivered record is
//! whole and exactly the record of its number (`position() - 1`, moved by exactly 1); records
//! come in increasing order; a lag report moves the position by exactly its count, and names
//! exactly the record that can be lost (the others sit in the last 4 chunks and are never
//! overwritten, so they are always delivered); after the close and the drain, received +
//! missed == published, as the stats say too.
//!
//! Under `--cfg seqcast_loom_broken_record` (the record reader no longer checks that a first
//! chunk's message number is the one it expects, so after a lap it delivers the next intact
//! record as if nothing had been lost) only the teeth test is built, on the first model,
//! where a lap happens only when the send races the read; it must fail with a "record
//! violation".
#![cfg(seqcast_loom)]
#![cfg_attr(seqcast_loom_broken_record, allow(dead_code))]

use loom::thread;
use loom_tests::check;
use loom_tests::records::{record_of, step, Step, RING};
use seqcast::error::TryRecvError;
use seqcast::record::{self, RecordPublisher, RecordSubscriber};

/// A record topic on the 4-chunk ring, and a buffer to receive into.
fn topic() -> (RecordPublisher, RecordSubscriber, Vec<u8>) {
    let (tx, rx) = record::channel(RING);
    assert_eq!((tx.capacity(), tx.max_len()), (RING, 88));
    (tx, rx, Vec::new())
}

fn send(tx: &mut RecordPublisher, lens: &[usize], m: u64) {
    assert_eq!(tx.send(&record_of(lens, m)), Ok(m));
}

/// What the subscriber saw: the delivered numbers, and `(position, n)` of each lag report.
#[derive(Debug, Default)]
struct Seen {
    delivered: Vec<u64>,
    lags: Vec<(u64, u64)>,
}

/// Polls `rx` until `Closed`, or until its position reaches `until` (yielding to loom on
/// `Empty`), checking each answer as it comes (module docs). Returns whether it saw `Closed`.
fn read(rx: &mut RecordSubscriber, lens: &[usize], seen: &mut Seen, until: u64) -> bool {
    let mut buf = Vec::new();
    while rx.position() < until {
        match step(rx, lens, &mut buf, "record") {
            Step::Delivered(m) => {
                assert!(seen.delivered.last().is_none_or(|&l| l < m));
                seen.delivered.push(m);
            }
            Step::Lagged { at, n } => seen.lags.push((at, n)),
            Step::Other(TryRecvError::Empty) => thread::yield_now(),
            Step::Other(TryRecvError::Closed) => return true,
            Step::Other(e) => panic!("record violation: a lossy record subscriber got {e:?}"),
        }
    }
    false
}

/// [`read`] to the end: `Closed`, which stays.
fn drain(rx: &mut RecordSubscriber, lens: &[usize], seen: &mut Seen) {
    assert!(read(rx, lens, seen, u64::MAX));
    assert_eq!(rx.try_recv_into(&mut Vec::new()), Err(TryRecvError::Closed));
}

/// After the close: `seen` (of a subscriber that started at record 0) accounts for all
/// `lens.len()` records, its stats agree, its lag reports are among `lags` (each
/// `(position, n)`), and every record from `kept` on was delivered.
fn check_account(
    rx: &RecordSubscriber,
    lens: &[usize],
    seen: &Seen,
    lags: &[(u64, u64)],
    kept: u64,
) {
    let published = lens.len() as u64;
    let missed: u64 = seen.lags.iter().map(|&(_, n)| n).sum();
    assert_eq!(
        seen.delivered.len() as u64 + missed,
        published,
        "record violation: received + missed != published: {seen:?}"
    );
    let stats = rx.stats();
    assert_eq!(
        (stats.received, stats.missed, stats.lag_events),
        (seen.delivered.len() as u64, missed, seen.lags.len() as u64),
        "record violation: stats disagree with what was seen: {seen:?}"
    );
    assert_eq!(rx.position(), published);
    assert!(
        seen.lags.iter().all(|lag| lags.contains(lag)),
        "record violation: inexact lag report (only {lags:?} can happen): {seen:?}"
    );
    for m in kept..published {
        assert!(
            seen.delivered.contains(&m),
            "record violation: record {m} was never overwritten but not delivered: {seen:?}"
        );
    }
}

/// Record lengths of [`lap_at_a_record_start`]: chunks 0, 1 | 2 | 3 | 4 (slot 0).
const START: [usize; 4] = [60, 24, 40, 8];

/// Records 0..=2 fill the ring; record 3, sent while the subscriber (at record 0) reads,
/// overwrites record 0's first chunk. Either the subscriber copies record 0 first, or it is
/// lapped at its start: the oldest chunk intact is then chunk 1 (record 0's continuation,
/// skipped), and record 1 comes after `Lagged(1)`. Without the race, nothing is lapped. The
/// race ends once record 0 is delivered or reported lost; the rest is read after the send
/// (the reading of a record being sent is the third model's).
fn lap_at_a_record_start() {
    let (mut tx, mut rx, _) = topic();
    for m in 0..3 {
        send(&mut tx, &START, m);
    }
    let publisher = thread::spawn(move || send(&mut tx, &START, 3));
    let mut seen = Seen::default();
    read(&mut rx, &START, &mut seen, 1);
    publisher.join().unwrap();
    drain(&mut rx, &START, &mut seen);
    check_account(&rx, &START, &seen, &[(0, 1)], 1);
}

/// Record lengths of [`lap_in_the_middle_of_a_record`]: chunks 0 | 1, 2 | 3, 4 (slots 3, 0)
/// | 5 | 6 | 7 | 8 (slot 0).
const MIDDLE: [usize; 7] = [8, 60, 70, 24, 40, 1, 33];

/// Records 0..=4 lap the subscriber (slot 0 holds chunk 4): its oldest chunk intact is chunk
/// 3, record 2's first, which it now holds after `Lagged(2)`. Record 5 then overwrites that
/// chunk (a copy is held), and record 6, sent while the subscriber reads, overwrites record
/// 2's continuation, chunk 4 in slot 0, across the ring's end. Either the subscriber reads the
/// continuation first, or it is lapped in the middle of record 2, drops it, and reports
/// `Lagged(1)`: the oldest chunk intact is then chunk 5, record 3's. The race ends once
/// record 2 is delivered or reported lost.
fn lap_in_the_middle_of_a_record() {
    let (mut tx, mut rx, mut buf) = topic();
    for m in 0..5 {
        send(&mut tx, &MIDDLE, m);
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(TryRecvError::Lagged(2)));
    send(&mut tx, &MIDDLE, 5);
    let publisher = thread::spawn(move || send(&mut tx, &MIDDLE, 6));
    let mut seen = Seen {
        lags: vec![(0, 2)],
        ..Seen::default()
    };
    read(&mut rx, &MIDDLE, &mut seen, 3);
    publisher.join().unwrap();
    drain(&mut rx, &MIDDLE, &mut seen);
    assert!(seen.lags[1..].iter().all(|&lag| lag == (2, 1)), "{seen:?}");
    check_account(&rx, &MIDDLE, &seen, &[(0, 2), (2, 1)], 3);
}

/// Record lengths of [`record_half_written_across_the_ring_end`]: chunks 0 | 1 | 2 | 3, 4
/// (slots 3, 0).
const HALF: [usize; 4] = [8, 16, 40, 88];

/// Records 0..=2, read before the threads start; record 3, the longest, sent while the
/// subscriber reads, wraps around the ring's end. Whatever the interleaving the subscriber
/// gets it whole and loses nothing (slot 0's old chunk was read long before).
fn record_half_written_across_the_ring_end() {
    let (mut tx, mut rx, mut buf) = topic();
    for m in 0..3 {
        send(&mut tx, &HALF, m);
        assert_eq!(rx.try_recv_into(&mut buf), Ok(HALF[m as usize]));
    }
    let publisher = thread::spawn(move || send(&mut tx, &HALF, 3));
    let mut seen = Seen {
        delivered: vec![0, 1, 2],
        ..Seen::default()
    };
    drain(&mut rx, &HALF, &mut seen);
    publisher.join().unwrap();
    check_account(&rx, &HALF, &seen, &[], 0);
}

#[test]
#[cfg(not(seqcast_loom_broken_record))]
fn record_lap_at_a_record_start() {
    check("record_lap_at_a_record_start", lap_at_a_record_start);
}

#[test]
#[cfg(not(seqcast_loom_broken_record))]
fn record_lap_in_the_middle_of_a_record() {
    check(
        "record_lap_in_the_middle_of_a_record",
        lap_in_the_middle_of_a_record,
    );
}

#[test]
#[cfg(not(seqcast_loom_broken_record))]
fn record_half_written_across_the_ring_end_is_resumed() {
    check(
        "record_half_written_across_the_ring_end_is_resumed",
        record_half_written_across_the_ring_end,
    );
}

/// Teeth: the first model against the broken record reader. Passes only if loom finds the
/// interleaving in which the send laps the read, and the broken reader miscounts it.
#[test]
#[cfg(seqcast_loom_broken_record)]
#[should_panic(expected = "record violation")]
fn teeth_unchecked_record_number_is_caught() {
    check("teeth (must fail)", lap_at_a_record_start);
}
