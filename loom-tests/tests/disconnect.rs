//! Model 4: `LagPolicy::Disconnect`. A lapped subscriber reports `Lagged(n)` exactly once and
//! is then `Detached` for good (never `Closed`, never another message); one that is not
//! lapped reads everything and sees `Closed`.
#![cfg(seqcast_loom)]

use loom_tests::{check, lag_race};
use seqcast::error::TryRecvError;
use seqcast::LagPolicy;

/// The ring's capacity in `lag_race`.
const CAP: u64 = 2;

fn disconnect() {
    let (seen, stats, mut late) = lag_race(LagPolicy::Disconnect);
    let sent = [(0, 0), (0, 1), (0, 2)];
    seen.check_against(&sent, 0, CAP);
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
