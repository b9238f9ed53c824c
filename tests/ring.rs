//! Unit tests of every state of a topic: empty, ready, lapped, closed, detached, capacity
//! rounding, errors.

use seqcast::error::{CapacityError, RecvError, RecvTimeoutError, TryRecvError};
use seqcast::{channel, try_channel, LagPolicy, SubscriberStats};
use std::time::Duration;

#[test]
fn capacity_rounds_up_to_a_power_of_two() {
    for (asked, got) in [(1, 1), (2, 2), (3, 4), (5, 8), (1000, 1024), (1024, 1024)] {
        let (tx, rx) = channel::<u64>(asked);
        assert_eq!(tx.capacity(), got, "asked {asked}");
        assert_eq!(rx.capacity(), got);
    }
}

#[test]
fn zero_capacity_is_an_error() {
    assert_eq!(try_channel::<u64>(0).unwrap_err(), CapacityError::Zero);
    let msg = CapacityError::Zero.to_string();
    assert!(msg.contains("capacity") && msg.contains('0'), "{msg}");
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn channel_panics_on_zero_capacity() {
    let _ = channel::<u64>(0);
}

#[test]
fn huge_capacity_is_an_error_not_an_abort() {
    for cap in [usize::MAX, usize::MAX / 2 + 2, 1 << 60] {
        assert_eq!(
            try_channel::<[u64; 8]>(cap).unwrap_err(),
            CapacityError::TooLarge { requested: cap }
        );
    }
    assert!(CapacityError::TooLarge { requested: 7 }
        .to_string()
        .contains("too large"));
}

#[test]
fn empty_then_ready_then_empty() {
    let (mut tx, mut rx) = channel::<u64>(4);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.send(10), 0);
    assert_eq!(tx.send(11), 1);
    assert_eq!(rx.try_recv(), Ok(10));
    assert_eq!(rx.try_recv(), Ok(11));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.stats(),
        SubscriberStats {
            received: 2,
            missed: 0,
            lag_events: 0,
            parks: 0
        }
    );
}

#[test]
fn a_full_ring_is_still_readable() {
    let (mut tx, mut rx) = channel::<u64>(4);
    for i in 0..4 {
        tx.send(i);
    }
    assert_eq!(rx.lag(), 4);
    let got: Vec<_> = rx.try_iter().map(Result::unwrap).collect();
    assert_eq!(got, [0, 1, 2, 3]);
    assert_eq!(rx.lag(), 0);
}

#[test]
fn lapped_subscriber_gets_the_exact_count_then_the_oldest_intact() {
    let (mut tx, mut rx) = channel::<u64>(4);
    for i in 0..10 {
        tx.send(i);
    }
    // 10 sent into 4 slots: 6..10 remain, 0..6 are gone.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    let got: Vec<_> = rx.try_iter().map(Result::unwrap).collect();
    assert_eq!(got, [6, 7, 8, 9]);
    assert_eq!(
        rx.stats(),
        SubscriberStats {
            received: 4,
            missed: 6,
            lag_events: 1,
            parks: 0
        }
    );
}

#[test]
fn lag_in_the_middle_of_reading() {
    let (mut tx, mut rx) = channel::<u64>(2);
    tx.send(0);
    tx.send(1);
    assert_eq!(rx.try_recv(), Ok(0));
    tx.send(2);
    tx.send(3); // overwrites 1
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    let s = rx.stats();
    assert_eq!(s.received + s.missed, tx.published());
}

#[test]
fn capacity_one_ring() {
    let (mut tx, mut rx) = channel::<u8>(1);
    tx.send(1);
    assert_eq!(rx.try_recv(), Ok(1));
    tx.send(2);
    tx.send(3);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn disconnect_policy_detaches_after_one_report() {
    let (mut tx, mut rx) = channel::<u64>(2);
    rx.set_lag_policy(LagPolicy::Disconnect);
    assert_eq!(rx.lag_policy(), LagPolicy::Disconnect);
    for i in 0..5 {
        tx.send(i);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert!(rx.is_detached());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Detached));
    assert_eq!(rx.recv(), Err(RecvError::Detached));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Detached)
    );
    assert_ne!(
        TryRecvError::Detached.to_string(),
        TryRecvError::Closed.to_string()
    );
    // The topic itself is still open for everyone else.
    let mut other = tx.subscribe();
    tx.send(9);
    assert_eq!(other.try_recv(), Ok(9));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Detached));
}

#[test]
fn skip_to_newest_jumps_over_the_backlog_and_counts_it() {
    let (mut tx, mut rx) = channel::<u64>(4);
    rx.set_lag_policy(LagPolicy::SkipToNewest);
    assert_eq!(rx.lag_policy(), LagPolicy::SkipToNewest);
    let mut skip = rx.clone();
    assert_eq!(
        skip.lag_policy(),
        LagPolicy::SkipToNewest,
        "clones keep the policy"
    );
    skip.set_lag_policy(LagPolicy::Skip);
    for i in 0..10 {
        tx.send(i);
    }
    // Under Skip: 0..=5 overwritten, continues at the oldest still held (6).
    assert_eq!(skip.try_recv(), Err(TryRecvError::Lagged(6)));
    assert_eq!(skip.try_recv(), Ok(6));
    // Under SkipToNewest: 6..=8 are still held but skipped too, and counted.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(9)));
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_detached());
    let s = rx.stats();
    assert_eq!((s.received, s.missed, s.lag_events), (1, 9, 1));
    assert_eq!(s.received + s.missed, tx.published());
    // It carries on normally, and lags again the same way.
    tx.send(10);
    assert_eq!(rx.try_recv(), Ok(10));
    for i in 11..20 {
        tx.send(i);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(8)));
    assert_eq!(rx.recv(), Ok(19));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn skip_to_newest_without_a_lap_reads_the_whole_backlog() {
    let (mut tx, mut rx) = channel::<u64>(4);
    rx.set_lag_policy(LagPolicy::SkipToNewest);
    for i in 0..4 {
        tx.send(i);
    }
    // A full ring is a backlog, not a lap: nothing is skipped.
    let got: Vec<_> = rx.try_iter().collect();
    assert_eq!(got, vec![Ok(0), Ok(1), Ok(2), Ok(3)]);
}

#[test]
fn skip_to_newest_with_shared_publishers() {
    let (tx, mut rx) = channel::<u64>(2);
    let tx = tx.into_shared();
    let tx2 = tx.clone();
    rx.set_lag_policy(LagPolicy::SkipToNewest);
    for i in 0..3 {
        tx.send(i).unwrap();
        tx2.send(100 + i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(5)));
    assert_eq!(rx.try_recv(), Ok(102));
    drop((tx, tx2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn disconnect_policy_without_lag_behaves_normally() {
    let (mut tx, mut rx) = channel::<u64>(4);
    rx.set_lag_policy(LagPolicy::Disconnect);
    tx.send(1);
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(!rx.is_detached());
}

#[test]
fn closing_drains_then_reports_closed() {
    let (mut tx, mut rx) = channel::<u64>(4);
    tx.send(1);
    tx.send(2);
    assert!(!rx.is_closed());
    drop(tx);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.recv(), Err(RecvError::Closed));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)),
        Err(RecvTimeoutError::Closed)
    );
}

#[test]
fn closing_a_lapped_subscriber_reports_the_lag_first() {
    let (mut tx, mut rx) = channel::<u64>(2);
    for i in 0..7 {
        tx.send(i);
    }
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(5)));
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Ok(6));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn shared_publishers_close_when_the_last_one_drops() {
    let (tx, mut rx) = channel::<u64>(8);
    let a = tx.into_shared();
    let b = a.clone();
    assert_eq!(a.send(1), Ok(0));
    assert_eq!(b.send(2), Ok(1));
    drop(a);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "b is still alive");
    assert_eq!(b.send(3), Ok(2));
    drop(b);
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn into_shared_continues_the_sequence() {
    let (mut tx, mut rx) = channel::<u64>(2);
    tx.send(0);
    tx.send(1);
    tx.send(2); // laps message 0
    let tx = tx.into_shared();
    assert_eq!(tx.published(), 3);
    assert_eq!(tx.send(3), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn subscribe_starts_at_the_next_message() {
    let (mut tx, _rx) = channel::<u64>(8);
    tx.send(1);
    let mut late = tx.subscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(late.position(), 1);
    tx.send(2);
    assert_eq!(late.try_recv(), Ok(2));
    let shared = tx.into_shared();
    shared.send(3).unwrap();
    let mut later = shared.subscribe();
    shared.send(4).unwrap();
    assert_eq!(later.try_recv(), Ok(4));
}

#[test]
fn clone_continues_from_the_same_position_independently() {
    let (mut tx, mut rx) = channel::<u64>(8);
    tx.send(1);
    tx.send(2);
    assert_eq!(rx.try_recv(), Ok(1));
    let mut twin = rx.clone();
    assert_eq!(twin.position(), rx.position());
    assert_eq!(twin.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(twin.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn subscriber_count_follows_handles() {
    let (tx, rx) = channel::<u64>(8);
    assert_eq!(tx.subscriber_count(), 1);
    let a = tx.subscribe();
    let b = rx.clone();
    assert_eq!(tx.subscriber_count(), 3);
    drop((a, b, rx));
    assert_eq!(tx.subscriber_count(), 0);
    let shared = tx.into_shared();
    let _c = shared.subscribe();
    assert_eq!(shared.subscriber_count(), 1);
}

#[test]
fn recv_timeout_times_out_on_an_open_empty_topic() {
    let (_tx, mut rx) = channel::<u64>(8);
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn recv_wakes_for_a_message_from_another_thread() {
    let (mut tx, mut rx) = channel::<u64>(8);
    let t = std::thread::spawn(move || {
        let v = rx.recv();
        (v, rx.recv())
    });
    tx.send(42);
    drop(tx);
    assert_eq!(t.join().unwrap(), (Ok(42), Err(RecvError::Closed)));
}

#[test]
fn iter_yields_lag_and_ends_at_close() {
    let (mut tx, mut rx) = channel::<u64>(2);
    for i in 0..5 {
        tx.send(i);
    }
    drop(tx);
    let items: Vec<_> = rx.iter().collect();
    assert_eq!(items, [Err(RecvError::Lagged(3)), Ok(3), Ok(4)]);
}

#[test]
fn iter_ends_after_the_detaching_report() {
    let (mut tx, mut rx) = channel::<u64>(2);
    rx.set_lag_policy(LagPolicy::Disconnect);
    for i in 0..5 {
        tx.send(i);
    }
    let items: Vec<_> = rx.iter().collect();
    assert_eq!(items, [Err(RecvError::Lagged(3))]);
}

#[test]
fn try_iter_yields_lag_and_stops_at_empty() {
    let (mut tx, mut rx) = channel::<u64>(2);
    for i in 0..3 {
        tx.send(i);
    }
    let items: Vec<_> = rx.try_iter().collect();
    assert_eq!(items, [Err(TryRecvError::Lagged(1)), Ok(1), Ok(2)]);
    tx.send(3);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [Ok(3)]);
}

/// A payload with padding bytes (u8 then u64) and one with odd size: the word-wise copy must
/// carry them whole.
#[test]
#[cfg_attr(
    miri,
    ignore = "padding bytes: under Miri payload words are plain AtomicU64s (src/sync.rs)"
)]
fn payloads_with_padding_and_odd_sizes_round_trip() {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Padded {
        a: u8,
        b: u64,
        c: u16,
    }
    let (mut tx, mut rx) = channel::<Padded>(4);
    let v = Padded {
        a: 1,
        b: u64::MAX - 3,
        c: 0xBEEF,
    };
    tx.send(v);
    assert_eq!(rx.try_recv(), Ok(v));

    let (mut tx, mut rx) = channel::<[u8; 13]>(4);
    tx.send(*b"hello, world!");
    assert_eq!(rx.try_recv(), Ok(*b"hello, world!"));

    let (mut tx, mut rx) = channel::<()>(4);
    tx.send(());
    assert_eq!(rx.try_recv(), Ok(()));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(align(128))]
    struct Aligned(u32);
    let (mut tx, mut rx) = channel::<Aligned>(4);
    tx.send(Aligned(7));
    assert_eq!(rx.try_recv(), Ok(Aligned(7)));
}

#[test]
fn handles_are_send_and_debug() {
    fn send<X: Send>() {}
    fn sync<X: Sync>() {}
    send::<seqcast::Publisher<u64>>();
    send::<seqcast::Subscriber<u64>>();
    send::<seqcast::SharedPublisher<u64>>();
    sync::<seqcast::SharedPublisher<u64>>();
    let (tx, rx) = channel::<u64>(4);
    assert!(format!("{tx:?}").contains("capacity: 4"));
    assert!(format!("{rx:?}").contains("position: 0"));
    assert!(format!("{:?}", tx.into_shared()).contains("SharedPublisher"));
}

#[test]
fn errors_display_and_are_std_errors() {
    fn is_error<E: std::error::Error>(_: &E) {}
    is_error(&TryRecvError::Lagged(3));
    is_error(&RecvError::Closed);
    is_error(&RecvTimeoutError::Timeout);
    assert!(TryRecvError::Lagged(3).to_string().contains('3'));
    assert!(RecvTimeoutError::Timeout.to_string().contains("timed out"));
}
