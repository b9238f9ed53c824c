//! Gated (lossless) subscribers: never lapped, backpressure (`try_send` Full, `send_timeout`),
//! eviction of a stalled one, multi-producer gating, and position reporting.

use seqcast::error::{RecvError, SendTimeoutError, TryRecvError, TrySendError};
use seqcast::{channel, GateConfig, LagPolicy, OnEvict};
use std::thread;
use std::time::Duration;

/// A gated subscriber that is slower than the publisher still receives every message exactly
/// once, in order, while a lossy subscriber on the same topic lags and resyncs.
#[test]
fn gated_subscriber_receives_everything_while_lossy_ones_lag() {
    // Far fewer under Miri, which interprets every step.
    let messages = if cfg!(miri) { 500 } else { 50_000u64 };
    let (mut tx, mut lossy) = channel::<[u64; 4]>(8);
    let mut gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    assert!(gated.is_gated() && !lossy.is_gated());
    thread::scope(|s| {
        let g = s.spawn(move || {
            let mut next = 0;
            while let Ok(v) = gated.recv() {
                assert_eq!(
                    v,
                    [next, next + 1, next + 2, next + 3],
                    "gated subscriber lost or tore"
                );
                next += 1;
                if next % 97 == 0 {
                    thread::yield_now(); // slower than the publisher
                }
            }
            assert_eq!(gated.stats().missed, 0);
            next
        });
        let l = s.spawn(move || {
            let (mut got, mut missed) = (0, 0);
            loop {
                match lossy.try_recv() {
                    Ok(_) => got += 1,
                    Err(TryRecvError::Lagged(n)) => missed += n,
                    Err(TryRecvError::Empty) => thread::sleep(Duration::from_micros(50)),
                    Err(_) => return got + missed,
                }
            }
        });
        for i in 0..messages {
            tx.send([i, i + 1, i + 2, i + 3]);
        }
        drop(tx);
        assert_eq!(g.join().unwrap(), messages);
        assert_eq!(l.join().unwrap(), messages);
    });
}

#[test]
fn try_send_reports_full_and_send_timeout_gives_up() {
    let (mut tx, _lossy) = channel::<u64>(4);
    let mut gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    for i in 0..4 {
        assert_eq!(tx.try_send(i), Ok(i));
    }
    assert_eq!(tx.try_send(4), Err(TrySendError::Full(4)));
    assert_eq!(
        tx.send_timeout(4, Duration::from_millis(5)),
        Err(SendTimeoutError::Timeout(4))
    );
    assert_eq!(gated.try_recv(), Ok(0));
    assert_eq!(tx.try_send(4), Ok(4));
    assert_eq!(TrySendError::Full(1).into_inner(), 1);
    assert!(TrySendError::Full(1).to_string().contains("full"));
    let rest: Vec<_> = gated.try_iter().collect();
    assert_eq!(rest, [Ok(1), Ok(2), Ok(3), Ok(4)]);
}

#[test]
fn a_stalled_gated_subscriber_is_evicted_and_detached() {
    let (mut tx, _lossy) = channel::<u64>(4);
    let mut stalled =
        tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::from_millis(20))));
    assert_eq!(tx.positions().len(), 1);
    tx.send(0);
    assert_eq!(stalled.try_recv(), Ok(0)); // read one, then stall
    for i in 1..20 {
        tx.send(i); // blocks once the ring is full, until the eviction
    }
    assert!(
        tx.positions().is_empty(),
        "evicted gates leave the registry"
    );
    assert!(!stalled.is_gated(), "evicted, even before it noticed");
    // received + missed == published: what it will never read is reported, once.
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Lagged(19)));
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Detached));
    assert!(stalled.is_evicted() && stalled.is_detached());
    let stats = stalled.stats();
    assert_eq!((stats.received, stats.missed, stats.lag_events), (1, 19, 1));
}

#[test]
fn an_evicted_subscriber_can_carry_on_lossy() {
    let (mut tx, _lossy) = channel::<u64>(4);
    let cfg = GateConfig::new()
        .evict_after(Some(Duration::from_millis(20)))
        .on_evict(OnEvict::Lossy);
    let mut rx = tx.subscribe_gated_with(cfg);
    tx.send(0);
    assert_eq!(rx.try_recv(), Ok(0));
    for i in 1..20 {
        tx.send(i);
    }
    // 19 more sent into 4 slots: 16..20 remain; 1..16 were overwritten after the eviction.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(15)));
    assert_eq!(
        rx.try_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [16, 17, 18, 19]
    );
    let st = rx.stats();
    assert_eq!(st.received + st.missed, 20);
    assert!(rx.is_evicted());
}

#[test]
fn an_evicted_lossy_subscriber_keeps_skip_to_newest_and_drops_disconnect() {
    let (mut tx, _lossy) = channel::<u64>(4);
    let cfg = GateConfig::new()
        .evict_after(Some(Duration::from_millis(20)))
        .on_evict(OnEvict::Lossy);
    let mut newest = tx.subscribe_gated_with(cfg.clone());
    newest.set_lag_policy(LagPolicy::SkipToNewest);
    let mut disconnect = tx.subscribe_gated_with(cfg);
    disconnect.set_lag_policy(LagPolicy::Disconnect);
    for i in 0..20 {
        tx.send(i);
    }
    // Evicted while 1..20 were sent; the newest message is 19.
    assert_eq!(newest.try_recv(), Err(TryRecvError::Lagged(19)));
    assert_eq!(newest.try_recv(), Ok(19));
    assert_eq!(newest.lag_policy(), LagPolicy::SkipToNewest);
    // Disconnect would contradict "carry on": it becomes Skip (16..20 still held).
    assert_eq!(disconnect.try_recv(), Err(TryRecvError::Lagged(16)));
    assert_eq!(disconnect.try_recv(), Ok(16));
    assert_eq!(disconnect.lag_policy(), LagPolicy::Skip);
    assert!(!disconnect.is_detached());
}

#[test]
fn dropping_a_gated_subscriber_releases_the_publisher() {
    let (mut tx, _lossy) = channel::<u64>(2);
    let gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let twin = gated.clone();
    assert!(twin.is_gated());
    assert_eq!(tx.positions().len(), 2);
    tx.send(0);
    tx.send(1);
    assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    drop(gated);
    assert!(
        matches!(tx.try_send(2), Err(TrySendError::Full(2))),
        "the twin still gates"
    );
    drop(twin);
    assert_eq!(tx.try_send(2), Ok(2));
}

#[test]
fn gated_subscriber_with_many_producers_gets_each_message_once() {
    let (tx, _lossy) = channel::<(u64, u64)>(8);
    let tx = tx.into_shared();
    let mut gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let per = if cfg!(miri) { 200 } else { 20_000u64 };
    thread::scope(|s| {
        for id in 0..3 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    tx.send((id, i)).unwrap();
                }
            });
        }
        let tx_try = tx.clone();
        s.spawn(move || {
            // try_send and send_timeout race with the others: whatever they report, the
            // values they do send are counted by the subscriber.
            let mut sent = 0;
            for i in 0..200 {
                if tx_try.try_send((9, i)).is_ok() {
                    sent += 1;
                }
            }
            sent
        });
        drop(tx);
        let mut last = [None::<u64>; 10];
        let mut total = 0;
        while let Ok((id, i)) = gated.recv() {
            if let Some(prev) = last[id as usize] {
                assert!(i > prev, "producer {id}: {i} after {prev}");
            }
            if id < 3 {
                assert_eq!(
                    i,
                    last[id as usize].map_or(0, |p| p + 1),
                    "producer {id} lost a message"
                );
            }
            last[id as usize] = Some(i);
            total += 1;
        }
        assert_eq!(gated.stats().missed, 0);
        assert!(total >= 3 * per);
        assert_eq!(
            last[..3],
            [Some(per - 1); 3],
            "each producer's last message arrived"
        );
    });
}

#[test]
fn positions_show_gated_and_reporting_subscribers_slowest_first() {
    let (mut tx, mut lossy) = channel::<u64>(64);
    lossy.report_position(Some("dashboard"), 4);
    let mut gated = tx.subscribe_gated_with(GateConfig::new().name("audit"));
    for i in 0..20 {
        tx.send(i);
    }
    for _ in 0..8 {
        lossy.try_recv().unwrap();
    }
    for _ in 0..15 {
        gated.try_recv().unwrap();
    }
    let pos = tx.positions();
    assert_eq!(pos.len(), 2);
    assert_eq!(pos[0].name.as_deref(), Some("dashboard"));
    assert_eq!(
        (pos[0].position, pos[0].behind, pos[0].gated),
        (8, 12, false)
    );
    assert_eq!(pos[1].name.as_deref(), Some("audit"));
    assert_eq!(
        (pos[1].position, pos[1].behind, pos[1].gated),
        (15, 5, true)
    );
}

#[test]
fn a_topic_without_gates_never_blocks_on_a_stalled_subscriber() {
    let (mut tx, mut stalled) = channel::<u64>(2);
    for i in 0..1000 {
        assert_eq!(tx.try_send(i), Ok(i));
    }
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Lagged(998)));
}

#[test]
fn an_evicted_detached_subscriber_reports_what_it_missed_before_detaching() {
    let (mut tx, _lossy) = channel::<u64>(2);
    let mut stalled =
        tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::from_millis(10))));
    for i in 0..10 {
        tx.send(i);
    }
    assert_eq!(stalled.recv(), Err(RecvError::Lagged(10)));
    assert_eq!(stalled.recv(), Err(RecvError::Detached));
    let stats = stalled.stats();
    assert_eq!(stats.received + stats.missed, tx.published());
}

#[test]
fn a_clone_of_an_evicted_subscriber_is_evicted_too() {
    let (mut tx, _lossy) = channel::<u64>(2);
    let stalled =
        tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::from_millis(10))));
    for i in 0..5 {
        tx.send(i);
    }
    // Evicted before either handle noticed: the clone must not gate the publisher again.
    let mut clone = stalled.clone();
    assert!(!clone.is_gated());
    assert!(tx.positions().is_empty());
    assert_eq!(clone.try_recv(), Err(TryRecvError::Lagged(5)));
    assert_eq!(clone.try_recv(), Err(TryRecvError::Detached));
    for i in 5..10 {
        assert_eq!(tx.try_send(i), Ok(i), "nobody gates the publisher any more");
    }
}

/// A blocking send that waits long enough parks (it is counted in `waiting_publishers`) and is
/// woken by the gated subscriber's next receive, not by a timer: the subscriber never evicts.
#[test]
fn a_parked_blocking_send_is_woken_by_the_gated_subscriber() {
    let (tx, lossy) = channel::<u64>(2);
    drop(lossy);
    let tx = tx.into_shared();
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    tx.send(0).unwrap();
    tx.send(1).unwrap();
    thread::scope(|s| {
        let sender = tx.clone();
        let waiter = s.spawn(move || sender.send(2).unwrap());
        let give_up = std::time::Instant::now() + Duration::from_secs(30);
        while tx.waiting_publishers() == 0 {
            assert!(std::time::Instant::now() < give_up, "the send never parked");
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(waiter.join().unwrap(), 2);
    });
    assert_eq!(tx.waiting_publishers(), 0);
    assert_eq!(rx.try_iter().collect::<Result<Vec<_>, _>>(), Ok(vec![1, 2]));
    assert!(rx.is_gated());
}
