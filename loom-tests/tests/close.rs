//! Model 3: closing. Dropping the last publisher closes the topic; a subscriber then drains
//! every message it can still read and gets `Closed`, never `Empty` forever (a hang would
//! exceed loom's branch limit and fail the model).
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, drain, encode};
use seqcast::error::TryRecvError;

const CAP: usize = 2;

/// One publisher sends 3 messages and drops while a subscriber drains concurrently; a second
/// subscriber reads only after the publisher is gone and must see exactly `Lagged(1)`,
/// messages 1 and 2, then `Closed` for good.
fn close_single() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(CAP);
    let mut late = rx.clone();
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
        // `tx` dropped here: closes the topic.
    });
    let seen = drain(&mut rx);
    let sent = [(0, 0), (0, 1), (0, 2)];
    seen.check_against(&sent, 0, CAP as u64);
    publisher.join().unwrap();

    assert!(late.is_closed());
    assert_eq!(late.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(late.try_recv(), Ok(encode(0, 1)));
    assert_eq!(late.try_recv(), Ok(encode(0, 2)));
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
}

/// Two `SharedPublisher`s each send one message and drop, concurrently; the topic closes
/// when the second is dropped. The subscriber must get both messages (nothing is
/// overwritten at 2 messages in 2 slots), in ticket order, then `Closed`: seeing `closed`
/// must imply every message is complete and `head` is final.
fn close_shared() {
    let (tx, mut rx) = seqcast::channel::<u64>(CAP);
    let a = tx.into_shared();
    let b = a.clone();
    let pa = thread::spawn(move || a.send(encode(1, 0)).unwrap());
    let pb = thread::spawn(move || b.send(encode(2, 0)).unwrap());
    let seen = drain(&mut rx);
    let ta = pa.join().unwrap();
    let tb = pb.join().unwrap();
    let mut sent = [(0, 0); 2];
    sent[ta as usize] = (1, 0);
    sent[tb as usize] = (2, 0);
    seen.check_against(&sent, 0, CAP as u64);
    assert!(seen.lags.is_empty(), "nothing was overwritten: {seen:?}");
    assert_eq!(seen.delivered.len(), 2);
}

#[test]
fn close_single_publisher() {
    check("close_single_publisher", close_single);
}

#[test]
fn close_two_shared_publishers() {
    check("close_two_shared_publishers", close_shared);
}
