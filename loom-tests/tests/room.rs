//! Waiting for room: a publisher that finds the ring full for a gated subscriber parks on the
//! ring's room event (under loom: at once after one yield), and the gated subscriber must wake
//! it after advancing. The subscriber parks too (`WaitStrategy::Blocking`), so a lost wake-up
//! on either side leaves every thread blocked, which loom reports as a deadlock. The async
//! sends share this protocol (`Ring::start_room_wait` / `Ring::room_made`); loom cannot run
//! them, so the blocking send stands in for them.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, encode};
use seqcast::{GateConfig, WaitStrategy};
use std::mem::ManuallyDrop;

/// Three messages into two slots: the third send waits for the gated subscriber to take the
/// first one, and only that subscriber's advance can wake it.
fn publisher_waits_for_room() {
    let (mut tx, lossy) = seqcast::channel::<u64>(2);
    drop(lossy);
    // Dropped by hand at the end: when loom aborts a deadlocked execution by panicking, the
    // gated subscriber's drop (which takes the gate lock) must not run during the unwinding.
    let mut rx = ManuallyDrop::new(tx.subscribe_gated_with(GateConfig::new().evict_after(None)));
    rx.set_wait_strategy(WaitStrategy::Blocking);
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
        tx
    });
    for s in 0..3 {
        assert_eq!(rx.recv(), Ok(encode(0, s)), "gated subscriber lost or tore");
    }
    assert_eq!(rx.stats().missed, 0);
    let tx = publisher.join().unwrap();
    assert_eq!(tx.waiting_publishers(), 0);
    drop(ManuallyDrop::into_inner(rx));
}

/// The same with one slot, so that every send after the first waits for room.
#[cfg_attr(seqcast_loom_broken_room, allow(dead_code))]
fn every_send_waits() {
    let (mut tx, lossy) = seqcast::channel::<u64>(1);
    drop(lossy);
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
        tx
    });
    for s in 0..3 {
        assert_eq!(rx.recv(), Ok(encode(0, s)));
    }
    drop(publisher.join().unwrap());
}

#[cfg(not(seqcast_loom_broken_room))]
#[test]
fn room_publisher_waits_for_room() {
    check("room_publisher_waits_for_room", publisher_waits_for_room);
}

#[cfg(not(seqcast_loom_broken_room))]
#[test]
fn room_every_send_waits() {
    check("room_every_send_waits", every_send_waits);
}

/// Teeth: without the gated subscriber's half of the barrier pair (`--cfg
/// seqcast_loom_broken_room` drops its light barrier, and only that one: the subscribers' own
/// wake-up stays intact), loom must find the lost wake-up: the publisher parked forever
/// waiting for room, the subscriber parked waiting for the message it cannot send.
#[cfg(seqcast_loom_broken_room)]
#[test]
#[should_panic(expected = "deadlock")]
fn teeth_missing_subscriber_barrier_is_caught() {
    check("teeth_room_missing_barrier", publisher_waits_for_room);
}
