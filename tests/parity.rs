//! What a tokio broadcast user reaches for: `resubscribe`, `closed`, `len`, a publisher
//! without a first subscriber, `for msg in &mut rx`, a cooperative budget, and replay for late
//! joiners. The first cases follow tokio's `tests/sync_broadcast.rs` (resubscribe, closed,
//! len), translated to seqcast's calls.

use seqcast::error::{RecvError, TryRecvError};
use seqcast::{LagPolicy, Publisher};

#[test]
fn resubscribe_points_to_tail() {
    let (mut tx, mut rx) = seqcast::channel::<u32>(3);
    tx.send(1);
    let mut rx_resub = rx.resubscribe();
    // The new subscriber has none of the backlog.
    assert_eq!(rx_resub.try_recv(), Err(TryRecvError::Empty));
    tx.send(2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx_resub.try_recv(), Ok(2));
}

#[test]
fn resubscribe_lagged_starts_fresh() {
    let (mut tx, mut rx) = seqcast::channel::<u32>(2);
    rx.set_lag_policy(LagPolicy::SkipToNewest);
    tx.send_batch(&[1, 2, 3, 4]);
    let mut rx_resub = rx.resubscribe();
    assert_eq!(rx_resub.lag_policy(), LagPolicy::SkipToNewest);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx_resub.try_recv(), Err(TryRecvError::Empty));
    tx.send(5);
    assert_eq!(rx_resub.try_recv(), Ok(5));
}

#[test]
fn resubscribe_to_closed_channel() {
    let (mut tx, rx) = seqcast::channel::<u32>(2);
    tx.send(1);
    drop(tx);
    let mut rx_resub = rx.resubscribe();
    assert_eq!(rx_resub.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx_resub.recv(), Err(RecvError::Closed));
}

#[test]
fn receiver_len_with_lagged() {
    let (mut tx, mut rx) = seqcast::channel::<u32>(3);
    assert!(rx.is_empty());
    tx.send_batch(&[10, 20, 30, 40, 50]);
    // Capacity 4 (rounded up): five sent, one of them already gone.
    assert_eq!(rx.len(), 5);
    assert!(
        rx.len() > tx.capacity(),
        "lapped: its next receive is Lagged"
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.len(), 4);
    assert_eq!(rx.try_recv(), Ok(20));
    assert_eq!(rx.len(), 3);
    while rx.try_recv().is_ok() {}
    assert!(rx.is_empty());
}

#[test]
fn a_publisher_without_a_first_subscriber() {
    let mut tx = Publisher::<u64>::new(8);
    assert_eq!(tx.subscriber_count(), 0);
    assert_eq!(
        tx.send(7),
        0,
        "sending with nobody listening is not an error"
    );
    let mut rx = tx.subscribe();
    tx.send(8);
    assert_eq!(rx.try_recv(), Ok(8));
    assert!(Publisher::<u64>::try_new(0).is_err());
}

#[test]
fn for_loop_over_a_subscriber() {
    let (mut tx, mut rx) = seqcast::channel::<u32>(8);
    tx.send_batch(&[1, 2, 3]);
    drop(tx);
    let mut sum = 0;
    for msg in &mut rx {
        sum += msg.unwrap();
    }
    assert_eq!(sum, 6);
}

#[test]
fn replay_from_the_oldest_message_or_a_given_one() {
    let (mut tx, _rx) = seqcast::channel::<u64>(4);
    tx.send_batch(&[0, 1, 2, 3, 4, 5]);
    let mut oldest = tx.subscribe_oldest();
    assert_eq!(oldest.position(), 2);
    let got: Vec<u64> = oldest.try_iter().map(Result::unwrap).collect();
    assert_eq!(got, [2, 3, 4, 5]);
    // Message 0 is gone: an exact lag report, then the oldest still held.
    let mut at0 = tx.subscribe_at(0);
    assert_eq!(at0.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(at0.try_recv(), Ok(2));
    // At a message still held: no lag.
    let mut at4 = tx.subscribe_at(4);
    assert_eq!(at4.try_recv(), Ok(4));
    // Past the head: from the next message.
    let ahead = tx.subscribe_at(100);
    assert_eq!(ahead.position(), 6);
    let shared = tx.into_shared();
    let mut s_oldest = shared.subscribe_oldest();
    assert_eq!(s_oldest.try_recv(), Ok(2));
    let s = s_oldest.stats();
    assert_eq!(s.received + s.missed, 1);
}

#[test]
fn replay_races_a_publisher_lapping_it_and_keeps_the_account() {
    // A late joiner replays while the publisher keeps lapping the ring.
    let (mut tx, _rx) = seqcast::channel::<[u64; 2]>(8);
    tx.send_batch(&[[0, !0], [1, !1], [2, !2]]);
    let mut late = tx.subscribe_oldest();
    let start = late.position();
    let writer = std::thread::spawn(move || {
        for i in 3..20_000u64 {
            tx.send([i, !i]);
        }
    });
    let mut last = None;
    loop {
        match late.try_recv() {
            Ok(v) => {
                assert_eq!(v[1], !v[0], "torn");
                assert!(last.is_none_or(|l| v[0] > l));
                last = Some(v[0]);
            }
            Err(TryRecvError::Lagged(_) | TryRecvError::Empty) => {}
            Err(TryRecvError::Closed) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    writer.join().unwrap();
    let s = late.stats();
    assert_eq!(s.received + s.missed, 20_000 - start);
}

#[test]
fn delivery_confirmed_send_names_who_did_not_confirm() {
    use seqcast::error::ConfirmError;
    use std::time::Duration;
    let (mut tx, _lossy) = seqcast::channel::<u32>(8);
    let mut audit = tx.subscribe_gated();
    let mut dash = tx.subscribe();
    dash.report_position(Some("dashboard"), 1);
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..2 {
            got.push(audit.recv().unwrap());
        }
        got
    });
    // The dashboard never reads: the confirmation times out and names it.
    match tx.send_confirmed(1, Duration::from_millis(30)) {
        Err(ConfirmError::Timeout { seq: 0, pending }) => {
            assert_eq!(pending.len(), 1);
            assert_eq!(pending[0].name.as_deref(), Some("dashboard"));
            let shown = ConfirmError::<u32>::Timeout { seq: 0, pending }.to_string();
            assert!(shown.contains("dashboard"), "{shown}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dash.try_recv(), Ok(1));
    // Once the dashboard keeps up, both confirm.
    let t = std::thread::spawn(move || {
        let v = dash.recv().unwrap();
        (v, dash)
    });
    assert_eq!(tx.send_confirmed(2, Duration::from_secs(10)), Ok(1));
    assert_eq!(t.join().unwrap().0, 2);
    assert_eq!(reader.join().unwrap(), [1, 2]);
    // Shared publishers: a removed topic hands the value back.
    let bus = seqcast::Bus::new();
    let shared = bus.publisher::<u8>("t").unwrap();
    assert_eq!(shared.send_confirmed(3, Duration::ZERO), Ok(0));
    bus.remove("t").unwrap();
    assert_eq!(
        shared.send_confirmed(4, Duration::ZERO),
        Err(ConfirmError::Closed(4))
    );
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use futures::FutureExt;
    use std::future::Future;
    use std::task::{Context, Poll};

    #[test]
    fn sender_closed_waits_for_the_last_subscriber() {
        let (tx, rx) = seqcast::channel::<u32>(4);
        let mut closed = Box::pin(tx.closed());
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(closed.as_mut().poll(&mut cx).is_pending());
        let rx2 = rx.resubscribe();
        drop(rx);
        assert!(closed.as_mut().poll(&mut cx).is_pending());
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(10));
            drop(rx2);
        });
        futures::executor::block_on(closed);
        t.join().unwrap();
        // No subscriber at all: ready at once.
        let lonely = Publisher::<u32>::new(4);
        assert_eq!(lonely.closed().now_or_never(), Some(()));
        // A bus topic counts the subscribers the bus handed out.
        let bus = seqcast::Bus::new();
        let shared = bus.publisher::<u8>("t").unwrap();
        assert_eq!(shared.closed().now_or_never(), Some(()));
        let sub = bus.subscribe::<u8>("t").unwrap();
        assert_eq!(shared.closed().now_or_never(), None);
        drop(sub);
        assert_eq!(shared.closed().now_or_never(), Some(()));
    }

    #[test]
    fn a_ready_subscriber_still_yields_to_its_executor() {
        // tokio's coop budget: a stream that is always ready must return Pending now and
        // then, or one busy subscriber starves every other task on its thread.
        let (mut tx, mut rx) = seqcast::channel::<u64>(1 << 12);
        let values: Vec<u64> = (0..4000).collect();
        tx.send_batch(&values);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let (mut got, mut pending, mut streak, mut longest) = (0, 0, 0, 0);
        while got < 4000 {
            let mut fut = rx.recv_async();
            match fut.poll_unpin(&mut cx) {
                Poll::Ready(Ok(v)) => {
                    assert_eq!(v, got);
                    got += 1;
                    streak += 1;
                    longest = longest.max(streak);
                }
                Poll::Ready(Err(e)) => panic!("{e:?}"),
                Poll::Pending => {
                    pending += 1;
                    streak = 0;
                }
            }
        }
        assert!(pending >= 4000 / 200, "yielded only {pending} times");
        assert!(longest <= 256, "{longest} ready polls in a row");
    }

    #[test]
    fn select_over_a_subscriber_and_a_shutdown_signal() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let (mut tx, mut rx) = seqcast::channel::<u32>(16);
            let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
            let service = tokio::spawn(async move {
                let mut seen = 0;
                loop {
                    tokio::select! {
                        msg = rx.recv_async() => match msg {
                            Ok(_) => seen += 1,
                            Err(e) => panic!("{e}"),
                        },
                        _ = &mut stop_rx => return seen,
                    }
                }
            });
            for i in 0..10 {
                tx.send(i);
                tokio::task::yield_now().await;
            }
            while tx.waiting_subscribers() == 0 {
                tokio::task::yield_now().await;
            }
            stop_tx.send(()).unwrap();
            assert_eq!(service.await.unwrap(), 10);
            // The cancelled receive deregistered: the publisher no longer notifies anyone.
            assert_eq!(tx.waiting_subscribers(), 0);
        });
    }
}

#[test]
fn bus_replay_for_a_late_joiner() {
    let bus = seqcast::Bus::builder().capacity(4).build();
    let tx = bus.publisher::<u64>("metrics.cpu").unwrap();
    for v in 0..6 {
        tx.send(v).unwrap();
    }
    let mut late = bus.subscribe_oldest::<u64>("metrics.cpu").unwrap();
    let got: Vec<u64> = late.try_iter().map(Result::unwrap).collect();
    assert_eq!(got, [2, 3, 4, 5], "the ring's last four");
    // A topic that does not exist yet: created, nothing to replay.
    let mut fresh = bus.subscribe_oldest::<u64>("metrics.new").unwrap();
    assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
    // A type mismatch is still an error.
    assert!(bus.subscribe_oldest::<u8>("metrics.cpu").is_err());
}
