//! Model 7: `LagPolicy::SkipToNewest`. A lapped subscriber reports `Lagged(n)` and jumps to
//! the newest message published; with the publisher racing it, whatever the
//! interleaving: no torn or stale value, deliveries and lag reports tile every message sent
//! (nothing skipped without being counted), and the last message is always delivered.
#![cfg(seqcast_loom)]

use loom_tests::{check, encode, lag_race};
use seqcast::error::TryRecvError;
use seqcast::LagPolicy;

fn skip_to_newest() {
    let (seen, stats, mut late) = lag_race(LagPolicy::SkipToNewest);
    let sent = [(0, 0), (0, 1), (0, 2)];
    // Only the newest message is sure to be delivered: the backlog may be skipped.
    seen.check_against(&sent, 0, 1);
    assert!(!seen.detached, "SkipToNewest never detaches: {seen:?}");
    assert!(seen.lags.len() <= 1, "one lap at most in 3 sends: {seen:?}");
    if let Some(&(pos, n)) = seen.lags.first() {
        // Lapped at message 0 (the only one a 2-slot ring can lose to 3 sends). It jumps to
        // the newest published message: 2, or 1 if it saw 2 being written before `send(2)`
        // returned (message 1 is then still intact, and is delivered).
        assert_eq!(pos, 0, "{seen:?}");
        assert!(n == 1 || n == 2, "skipped to the newest: {seen:?}");
        assert_eq!((stats.missed, stats.lag_events), (n, 1));
    }

    // A subscriber that reads only after the publisher is gone skips 0 (overwritten) and
    // 1 (held, but not the newest).
    assert_eq!(late.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(late.try_recv(), Ok(encode(0, 2)));
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
    let stats = late.stats();
    assert_eq!((stats.received, stats.missed, stats.lag_events), (1, 2, 1));
}

#[test]
fn skip_to_newest_lapped_subscriber_tiles_and_gets_the_last() {
    check(
        "skip_to_newest_lapped_subscriber_tiles_and_gets_the_last",
        skip_to_newest,
    );
}
