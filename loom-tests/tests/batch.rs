//! Batch publish and batch receive on a packed ring of two-word payloads (capacity 2).
//!
//! `try_recv_batch` takes its first message through `try_recv` and the rest through the run
//! read (`read_run` in `src/ring/slot.rs`), which validates a run of slots with one fence
//! after the stamp loads and one after the copies, instead of a pair per message. Every
//! payload here is `[u64; 2]` with both words derived from `(producer, seq)`
//! ([`Message`]), so a copy that mixes two messages is caught as torn, and a whole message
//! delivered at the wrong position as stale. The ring is built `SlotLayout::Packed` (the
//! layout whose run reads move several messages per line), although loom, to which
//! addresses mean nothing, sees the same slots in every layout.
//!
//! Proves, for every interleaving explored:
//! * `send_batch` / `try_recv_batch`: nothing torn or stale is delivered; `Ok(n)` hands over
//!   exactly `n` messages, those at the positions the cursor moved past, in order; an error
//!   hands over nothing; received + lagged == published once closed and drained; the last
//!   `capacity` messages, which nothing overwrites, are all delivered.
//! * a lap in the middle of a run: the publisher overwrites a slot of the run the reader is
//!   copying; the run stops before that slot, and the next call reports the lap exactly.
//! * `SharedPublisher::send_batch` from two threads: each batch gets contiguous tickets
//!   (batches never interleave), tickets are dense, nothing is lost or duplicated.
//!
//! Under `--cfg seqcast_loom_broken_run` (the run read's fence between the payload copies
//! and the stamp re-checks dropped) only the teeth test is built, and it must fail: a copy
//! that took words of the overwriting message can pass a re-check that still sees the old
//! stamp, so an overwritten or torn message is delivered.
#![cfg(seqcast_loom)]
#![cfg_attr(seqcast_loom_broken_run, allow(dead_code, unused_imports))]

use loom::thread;
use loom_tests::{check, finish_batch, poll_batch, Batch, Message, Seen};
use seqcast::{Publisher, SlotLayout, Subscriber};

type Payload = [u64; 2];
const CAP: usize = 2;

fn packed() -> (Publisher<Payload>, Subscriber<Payload>) {
    let (tx, rx) = seqcast::try_channel_with::<Payload>(CAP, SlotLayout::Packed).unwrap();
    assert_eq!(tx.slot_layout(), SlotLayout::Packed);
    (tx, rx)
}

/// Sends `batches` (sizes) of consecutive messages of producer 0 with `send_batch`, checking
/// the ranges it returns; returns what was sent, by sequence number.
fn send_batches(mut tx: Publisher<Payload>, first: u64, batches: &[u64]) -> Vec<(u64, u64)> {
    let mut next = first;
    for &n in batches {
        let values: Vec<Payload> = (next..next + n).map(|s| Payload::make(0, s)).collect();
        assert_eq!(tx.send_batch(&values), next..next + n, "send_batch's range");
        next += n;
    }
    (0..next).map(|s| (0, s)).collect()
}

/// One publisher sending `batches`, one subscriber draining with batches of up to `limit`.
fn one_publisher(batches: &'static [u64], limit: usize) {
    let (tx, mut rx) = packed();
    let publisher = thread::spawn(move || send_batches(tx, 0, batches));
    let mut seen = Seen::default();
    finish_batch(&mut rx, &mut seen, limit, Batch::Callback);
    let sent = publisher.join().unwrap();
    seen.check_against(&sent, 0, CAP as u64);
}

/// Messages 0 and 1 are in the ring before the race; the publisher then sends 2 and 3 in one
/// batch, overwriting both slots, while the subscriber drains with batches of up to 4. The
/// subscriber's first batch takes message 0 through `try_recv` and reads message 1 (and 2,
/// once written) as a run, which the publisher can overwrite at any step of the copy.
fn lap_inside_a_run(how: Batch) {
    let (mut tx, mut rx) = packed();
    assert_eq!(
        tx.send_batch(&[Payload::make(0, 0), Payload::make(0, 1)]),
        0..2
    );
    let publisher = thread::spawn(move || send_batches(tx, 2, &[2]));
    let mut seen = Seen::default();
    finish_batch(&mut rx, &mut seen, 4, how);
    let sent = publisher.join().unwrap();
    assert_eq!(sent.len(), 4);
    seen.check_against(&sent, 0, CAP as u64);
}

#[test]
#[cfg(not(seqcast_loom_broken_run))]
fn batch_one_batch_laps_itself() {
    // Three messages in one batch into two slots: message 2 overwrites message 0 before the
    // head moves (it is stored once, after the batch).
    check("batch_one_batch_laps_itself", || one_publisher(&[3], 3));
}

#[test]
#[cfg(not(seqcast_loom_broken_run))]
fn batch_two_batches() {
    check("batch_two_batches", || one_publisher(&[2, 1], 2));
}

#[test]
#[cfg(not(seqcast_loom_broken_run))]
fn batch_lap_inside_a_run() {
    check("batch_lap_inside_a_run", || {
        lap_inside_a_run(Batch::Callback)
    });
}

#[test]
#[cfg(not(seqcast_loom_broken_run))]
fn batch_lap_inside_a_run_many() {
    check("batch_lap_inside_a_run_many", || {
        lap_inside_a_run(Batch::Many)
    });
}

/// Two `SharedPublisher`s: producer 1 sends two messages in one batch, producer 2 one; the
/// subscriber polls a bounded number of times while they run (two pollers without a bound
/// exceed loom's branch limit, see `loom_tests::poll`), then drains.
fn two_shared_batches() {
    let (tx, mut rx) = packed();
    let a = tx.into_shared();
    let b = a.clone();
    let pa = thread::spawn(move || {
        let batch = [Payload::make(1, 0), Payload::make(1, 1)];
        (a.send_batch(&batch).unwrap(), 1, 2)
    });
    let pb = thread::spawn(move || (b.send_batch(&[Payload::make(2, 0)]).unwrap(), 2, 1));
    let mut seen = Seen::default();
    poll_batch(&mut rx, &mut seen, 2, 3, Batch::Many);
    let mut batches = vec![pa.join().unwrap(), pb.join().unwrap()];
    finish_batch(&mut rx, &mut seen, 3, Batch::Many);

    // Each batch owns a contiguous range of its own length; together they tile 0..3.
    batches.sort_by_key(|(r, _, _)| r.start);
    let mut sent = Vec::new();
    for (range, producer, len) in batches {
        assert_eq!(range.start, sent.len() as u64, "tickets dense: {range:?}");
        assert_eq!(
            range.end - range.start,
            len,
            "one ticket per value: {range:?}"
        );
        sent.extend((0..len).map(|i| (producer, i)));
    }
    assert_eq!(sent.len(), 3);
    // Every delivery is the message of its ticket: so no batch was split by the other's
    // message, per-producer order holds, and nothing is duplicated.
    seen.check_against(&sent, 0, CAP as u64);
}

#[test]
#[cfg(not(seqcast_loom_broken_run))]
fn batch_shared_two_producers() {
    check("batch_shared_two_producers", two_shared_batches);
}

/// Teeth: the lap-inside-a-run model against the broken build. Passes only if loom finds a
/// torn or overwritten message delivered by a run read.
#[test]
#[cfg(seqcast_loom_broken_run)]
#[should_panic(expected = "seqlock violation")]
fn teeth_no_fence_before_the_recheck_delivers_an_overwritten_copy() {
    check("teeth (must fail)", || lap_inside_a_run(Batch::Callback));
}
