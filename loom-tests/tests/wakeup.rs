//! Model 6: waiting. A subscriber with `WaitStrategy::Blocking` parks (under loom the event is
//! a Mutex/Condvar eventcount and the asymmetric barriers are SeqCst fences). No lost wake-up:
//! if a send or the close could slip past the parked subscriber, every thread would end up
//! blocked and loom would report a deadlock.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, encode};
use seqcast::error::RecvError;
use seqcast::WaitStrategy;

/// One message then close, against a blocking `recv` loop: the subscriber gets the message,
/// then `Closed`, and never sleeps forever.
#[cfg_attr(seqcast_loom_broken_wakeup, allow(dead_code))]
fn send_then_close() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(2);
    rx.set_wait_strategy(WaitStrategy::Blocking);
    let publisher = thread::spawn(move || {
        tx.send(encode(0, 0));
        // dropped: close
    });
    assert_eq!(rx.recv(), Ok(encode(0, 0)));
    assert_eq!(rx.recv(), Err(RecvError::Closed));
    publisher.join().unwrap();
}

/// Two messages, the publisher still alive after sending them: the subscriber must wake for
/// each (no close to rescue a lost wake-up).
fn two_messages_no_close() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(2);
    let publisher = thread::spawn(move || {
        tx.send(encode(0, 0));
        tx.send(encode(0, 1));
        tx
    });
    assert_eq!(rx.recv(), Ok(encode(0, 0)));
    assert_eq!(rx.recv(), Ok(encode(0, 1)));
    drop(publisher.join().unwrap());
}

#[cfg(not(seqcast_loom_broken_wakeup))]
#[test]
fn wakeup_send_then_close() {
    check("wakeup_send_then_close", send_then_close);
}

#[cfg(not(seqcast_loom_broken_wakeup))]
#[test]
fn wakeup_two_messages_no_close() {
    check("wakeup_two_messages_no_close", two_messages_no_close);
}

/// Teeth: without the publisher's half of the barrier pair (`--cfg
/// seqcast_loom_broken_wakeup`), loom must find the lost wake-up: the subscriber parked
/// forever while the publisher waits to be joined.
#[cfg(seqcast_loom_broken_wakeup)]
#[test]
#[should_panic(expected = "deadlock")]
fn teeth_missing_publisher_barrier_is_caught() {
    check("teeth_missing_publisher_barrier", two_messages_no_close);
}
