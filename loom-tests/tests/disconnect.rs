//! Model 4: `LagPolicy::Disconnect`. A lapped subscriber reports `Lagged(n)` exactly once and
//! is then `Detached` for good (never `Closed`, never another message); one that is not
//! lapped reads everything and sees `Closed`.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, drain, encode};
use seqcast::error::TryRecvError;
use seqcast::LagPolicy;

const CAP: usize = 2;

fn disconnect() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(CAP);
    rx.set_lag_policy(LagPolicy::Disconnect);
    let mut late = rx.clone();
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
    });
    // Concurrent subscriber: lapped or not, depending on the interleaving.
    let racer = thread::spawn(move || {
        let seen = drain(&mut rx);
        (seen, rx.stats())
    });
    publisher.join().unwrap();
    let (seen, stats) = racer.join().unwrap();
    let sent = [(0, 0), (0, 1), (0, 2)];
    seen.check_against(&sent, 0, CAP as u64);
    if seen.detached {
        assert_eq!(
            seen.lags,
            [(0, 1)],
            "detached exactly once, after Lagged(1): {seen:?}"
        );
        assert!(
            seen.delivered.is_empty(),
            "nothing after the lag report: {seen:?}"
        );
        assert_eq!((stats.missed, stats.lag_events), (1, 1));
    } else {
        assert!(seen.lags.is_empty(), "a lag report must detach: {seen:?}");
        assert_eq!(seen.delivered.len(), 3);
    }

    // A subscriber that reads only after the publisher is gone was certainly lapped.
    assert_eq!(late.try_recv(), Err(TryRecvError::Lagged(1)));
    assert!(late.is_detached());
    for _ in 0..3 {
        assert_eq!(late.try_recv(), Err(TryRecvError::Detached));
    }
    let stats = late.stats();
    assert_eq!((stats.received, stats.missed, stats.lag_events), (0, 1, 1));
}

#[test]
fn disconnect_lapped_subscriber_detached_once() {
    check("disconnect_lapped_subscriber_detached_once", disconnect);
}
