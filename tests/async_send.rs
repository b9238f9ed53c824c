//! Async sends: a publisher awaits room for gated subscribers instead of blocking its thread,
//! under tokio (current-thread and multi-thread) and `futures::executor`; eviction and
//! timeouts without an executor timer; cancel safety; shared publishers and closed topics.
#![cfg(feature = "async")]

use futures::FutureExt;
use seqcast::error::{RecvError, SendError, SendTimeoutError, TryRecvError};
use seqcast::{channel, Bus, GateConfig, OnEvict, Subscriber};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

/// Never evicted in these tests, however slow the machine.
fn patient() -> GateConfig {
    GateConfig::new().evict_after(Some(Duration::from_secs(10)))
}

/// Stalled subscribers are evicted quickly.
fn impatient() -> GateConfig {
    GateConfig::new().evict_after(Some(Duration::from_millis(20)))
}

/// Receives until `Closed`, collecting values and any error that ends it early.
async fn collect(mut rx: Subscriber<u64>) -> (Vec<u64>, Option<RecvError>, Subscriber<u64>) {
    let mut got = Vec::new();
    loop {
        match rx.recv_async().await {
            Ok(v) => got.push(v),
            Err(RecvError::Closed) => return (got, None, rx),
            Err(e) => return (got, Some(e), rx),
        }
    }
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll_unpin(&mut Context::from_waker(&waker))
}

#[test]
fn a_gated_subscriber_on_a_current_thread_runtime_gets_everything() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut tx, lossy) = channel::<u64>(2);
        drop(lossy);
        let rx = tx.subscribe_gated_with(patient());
        let sub = tokio::spawn(collect(rx));
        for i in 0..10 {
            assert_eq!(tx.send_async(i).await, i);
        }
        drop(tx);
        let (got, err, rx) = sub.await.unwrap();
        assert_eq!(err, None);
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert_eq!(rx.stats().missed, 0);
        assert!(!rx.is_evicted());
    });
}

#[test]
fn many_messages_through_a_tiny_ring_on_a_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut tx, lossy) = channel::<u64>(2);
        drop(lossy);
        let subs: Vec<_> = (0..2)
            .map(|_| tokio::spawn(collect(tx.subscribe_gated_with(patient()))))
            .collect();
        let n = if cfg!(miri) { 100 } else { 2_000 };
        for i in 0..n {
            assert_eq!(tx.send_async(i).await, i);
        }
        drop(tx);
        for sub in subs {
            let (got, err, rx) = sub.await.unwrap();
            assert_eq!(err, None);
            assert_eq!(got, (0..n).collect::<Vec<_>>());
            assert!(!rx.is_evicted());
        }
    });
}

#[test]
fn block_on_with_a_gated_subscriber_on_another_thread() {
    let (mut tx, lossy) = channel::<u64>(2);
    drop(lossy);
    let mut rx = tx.subscribe_gated_with(patient());
    let n = if cfg!(miri) { 100 } else { 2_000 };
    let reader = thread::spawn(move || {
        let got: Vec<u64> = rx.iter().collect::<Result<_, _>>().unwrap();
        (got, rx.is_evicted())
    });
    futures::executor::block_on(async {
        for i in 0..n {
            assert_eq!(tx.send_async(i).await, i);
        }
    });
    drop(tx);
    let (got, evicted) = reader.join().unwrap();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
    assert!(!evicted);
}

#[test]
fn a_stalled_gated_subscriber_is_evicted_and_the_async_send_completes() {
    let (mut tx, mut lossy) = channel::<u64>(2);
    let mut stalled = tx.subscribe_gated_with(impatient());
    futures::executor::block_on(async {
        for i in 0..5 {
            assert_eq!(tx.send_async(i).await, i);
        }
    });
    assert_eq!(tx.waiting_publishers(), 0);
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Lagged(5)));
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Detached));
    assert!(stalled.is_evicted());
    assert_eq!(lossy.try_recv(), Err(TryRecvError::Lagged(3)));
}

#[test]
fn eviction_under_a_current_thread_runtime_with_the_subscriber_never_polled() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (mut tx, lossy) = channel::<u64>(1);
    drop(lossy);
    let mut stalled = tx.subscribe_gated_with(impatient().on_evict(OnEvict::Lossy));
    rt.block_on(async {
        for i in 0..3 {
            assert_eq!(tx.send_async(i).await, i);
        }
    });
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Lagged(2)));
    assert!(stalled.is_evicted() && !stalled.is_gated());
    assert_eq!(stalled.try_recv(), Ok(2));
}

#[test]
fn send_timeout_async_times_out_and_hands_the_value_back() {
    let (mut tx, lossy) = channel::<u64>(2);
    drop(lossy);
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    futures::executor::block_on(async {
        let ms = Duration::from_millis(20);
        assert_eq!(tx.send_timeout_async(0, ms).await, Ok(0));
        assert_eq!(tx.send_timeout_async(1, ms).await, Ok(1));
        assert_eq!(
            tx.send_timeout_async(2, ms).await,
            Err(SendTimeoutError::Timeout(2))
        );
        assert_eq!(tx.waiting_publishers(), 0);
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(tx.send_timeout_async(3, ms).await, Ok(2));
    });
    assert!(rx.is_gated());
    assert_eq!(rx.try_iter().collect::<Result<Vec<_>, _>>(), Ok(vec![1, 3]));
}

#[test]
fn a_dropped_pending_send_leaves_nothing_registered_and_consumes_no_number() {
    let (mut tx, mut lossy) = channel::<u64>(2);
    let mut rx = tx.subscribe_gated_with(patient());
    tx.send(0);
    tx.send(1);
    {
        let mut fut = pin!(tx.send_async(2));
        assert_eq!(poll_once(&mut fut), Poll::Pending);
        assert_eq!(poll_once(&mut fut), Poll::Pending);
    }
    assert_eq!(tx.waiting_publishers(), 0);
    assert!(tx
        .send_timeout_async(2, Duration::from_secs(10))
        .now_or_never()
        .is_none());
    assert_eq!(tx.waiting_publishers(), 0);
    assert_eq!(tx.published(), 2);
    assert_eq!(
        lossy.try_iter().collect::<Result<Vec<_>, _>>(),
        Ok(vec![0, 1])
    );
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.send_async(20).now_or_never(), Some(2));
    assert_eq!(
        rx.try_iter().collect::<Result<Vec<_>, _>>(),
        Ok(vec![1, 20])
    );
    assert_eq!(lossy.try_recv(), Ok(20));
    assert!(rx.is_gated());
}

#[test]
fn lossy_subscribers_keep_reading_while_a_send_awaits_room() {
    let (mut tx, mut lossy) = channel::<u64>(2);
    let mut rx = tx.subscribe_gated_with(patient());
    tx.send(0);
    tx.send(1);
    let mut fut = pin!(tx.send_async(2));
    assert_eq!(poll_once(&mut fut), Poll::Pending);
    assert_eq!(lossy.try_recv(), Ok(0));
    assert_eq!(lossy.try_recv(), Ok(1));
    assert_eq!(lossy.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(poll_once(&mut fut), Poll::Ready(2));
    assert_eq!(lossy.try_recv(), Ok(2));
}

#[test]
fn shared_publishers_in_tasks_on_a_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, lossy) = channel::<u64>(2);
        drop(lossy);
        let tx = tx.into_shared();
        let rx = tx.subscribe_gated_with(patient());
        let sub = tokio::spawn(collect(rx));
        let producers: Vec<_> = (0..3u64)
            .map(|p| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..20 {
                        tx.send_async(p << 32 | i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for p in producers {
            p.await.unwrap();
        }
        let (got, err, rx) = sub.await.unwrap();
        assert_eq!(err, None);
        assert!(!rx.is_evicted());
        for p in 0..3u64 {
            let mine: Vec<u64> = got
                .iter()
                .filter(|v| *v >> 32 == p)
                .map(|v| v & 0xFFFF_FFFF)
                .collect();
            assert_eq!(mine, (0..20).collect::<Vec<_>>(), "producer {p}");
        }
        assert_eq!(got.len(), 60);
    });
}

#[test]
fn shared_sends_time_out_get_evicted_past_and_cancel_cleanly() {
    let (tx, lossy) = channel::<u64>(2);
    drop(lossy);
    let tx = tx.into_shared();
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let ms = Duration::from_millis(20);
    futures::executor::block_on(async {
        assert_eq!(tx.send_async(0).await, Ok(0));
        assert_eq!(tx.send_timeout_async(1, ms).await, Ok(1));
        assert_eq!(
            tx.send_timeout_async(2, ms).await,
            Err(SendTimeoutError::Timeout(2))
        );
    });
    assert!(tx.send_async(3).now_or_never().is_none());
    assert_eq!(tx.waiting_publishers(), 0);
    assert_eq!(tx.published(), 2);
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(tx.send_async(4).now_or_never(), Some(Ok(2)));
    drop(rx);

    let mut stalled = tx.subscribe_gated_with(impatient());
    futures::executor::block_on(async {
        for i in 3..6 {
            assert_eq!(tx.send_async(10 + i).await, Ok(i));
        }
    });
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(stalled.try_recv(), Err(TryRecvError::Detached));
}

#[test]
fn a_shared_send_on_a_closed_topic_hands_the_value_back_even_while_waiting() {
    let bus = Bus::new();
    let tx = bus.publisher::<u64>("orders").unwrap();
    let mut rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    futures::executor::block_on(async {
        assert_eq!(tx.send_async(0).await, Ok(0));
        assert_eq!(tx.send_async(1).await, Ok(1));
    });
    let cap = tx.capacity() as u64;
    futures::executor::block_on(async {
        for i in 2..cap {
            assert_eq!(tx.send_async(i).await, Ok(i));
        }
    });
    let remover = {
        let bus = bus.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            bus.remove("orders").unwrap();
        })
    };
    let sent = futures::executor::block_on(tx.send_async(99));
    remover.join().unwrap();
    assert_eq!(sent, Err(SendError(99)));
    assert_eq!(tx.waiting_publishers(), 0);
    let timed = futures::executor::block_on(tx.send_timeout_async(7, Duration::from_secs(10)));
    assert_eq!(timed, Err(SendTimeoutError::Closed(7)));
    assert_eq!(
        rx.try_iter().collect::<Result<Vec<_>, _>>(),
        Ok((0..cap).collect::<Vec<_>>())
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}
