//! Gated (lossless) subscribers: with capacity 2 and 3 messages the publisher must wait for
//! the gated subscriber, never overwrite a message it has not read, and an eviction must not
//! lose or duplicate what the subscriber already read, nor lose anything without a report.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, encode};
use seqcast::error::TryRecvError;
use seqcast::{GateConfig, OnEvict};
use std::time::Duration;

/// Never evicted: the subscriber gets all three messages, in order, with no lag.
fn gated_never_lapped() {
    let (mut tx, lossy) = seqcast::channel::<u64>(2);
    drop(lossy);
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
    });
    let mut next = 0;
    while next < 3 {
        match rx.try_recv() {
            Ok(v) => {
                assert_eq!(
                    v,
                    encode(0, next),
                    "gated subscriber read a wrong or torn value"
                );
                next += 1;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(e) => panic!("gated subscriber got {e:?}"),
        }
    }
    publisher.join().unwrap();
}

/// Evicted as soon as the publisher sees it stall (evict_after = 0) and then lossy: whatever
/// the interleaving, every value it got is right, in order, once, and received + missed is
/// exactly where its cursor moved.
fn eviction_keeps_accounting() {
    let (mut tx, lossy) = seqcast::channel::<u64>(2);
    drop(lossy);
    let cfg = GateConfig::new()
        .evict_after(Some(Duration::ZERO))
        .on_evict(OnEvict::Lossy);
    let mut rx = tx.subscribe_gated_with(cfg);
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
    });
    let mut expected = 0;
    loop {
        match rx.try_recv() {
            Ok(v) => {
                assert_eq!(v, encode(0, expected));
                expected += 1;
            }
            Err(TryRecvError::Lagged(n)) => {
                assert!(rx.is_evicted(), "lag before eviction");
                expected += n;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Closed) => break,
            Err(e) => panic!("configured lossy, in process: {e:?}"),
        }
    }
    publisher.join().unwrap();
    let st = rx.stats();
    assert_eq!(expected, 3);
    assert_eq!(st.received + st.missed, 3);
}

/// Evicted under the default `OnEvict::Detach`: whatever the interleaving, what it did not
/// read is reported in at most one nonzero `Lagged(n)` before `Detached` (none if it caught
/// up between the publisher's last look and the eviction), so received + missed is where its
/// cursor moved: at least a full ring, the head when it was evicted (all three messages when
/// it was not evicted).
fn eviction_detach_reports_the_rest() {
    let (mut tx, lossy) = seqcast::channel::<u64>(2);
    drop(lossy);
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::ZERO)));
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
    });
    let (mut expected, mut lag_reports) = (0, 0);
    loop {
        match rx.try_recv() {
            Ok(v) => {
                assert_eq!(v, encode(0, expected), "wrong or torn value");
                expected += 1;
            }
            Err(TryRecvError::Lagged(n)) => {
                assert!(n > 0, "Lagged(0)");
                assert!(rx.is_evicted(), "lag before eviction");
                lag_reports += 1;
                expected += n;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Closed) => break,
            Err(TryRecvError::Detached) => {
                assert!(lag_reports <= 1, "one lag report at most, then Detached");
                assert!(
                    rx.position() >= 2,
                    "evicted a full ring behind: the report reaches the head at eviction"
                );
                assert_eq!(rx.try_recv(), Err(TryRecvError::Detached));
                break;
            }
            Err(e) => panic!("an in-process subscriber reported {e:?}"),
        }
    }
    publisher.join().unwrap();
    let st = rx.stats();
    assert_eq!(st.received + st.missed, expected);
    assert_eq!(rx.position(), expected);
    if !rx.is_detached() {
        assert_eq!(
            (expected, lag_reports),
            (3, 0),
            "never evicted: everything read"
        );
    }
}

#[test]
fn gated_eviction_detach_reports_the_rest() {
    check(
        "gated_eviction_detach_reports_the_rest",
        eviction_detach_reports_the_rest,
    );
}

#[test]
fn gated_subscriber_never_lapped() {
    check("gated_subscriber_never_lapped", gated_never_lapped);
}

#[test]
fn gated_eviction_keeps_accounting() {
    check("gated_eviction_keeps_accounting", eviction_keeps_accounting);
}
