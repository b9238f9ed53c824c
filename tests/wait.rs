//! Waiting: blocking receive parks and wakes, close wakes everyone, detachment reaches a
//! waiter, idle subscribers do not wake up, and async receive works under two executors.

use seqcast::error::{RecvError, RecvTimeoutError};
use seqcast::{channel, LagPolicy, Publisher, WaitStrategy};
use std::thread;
use std::time::{Duration, Instant};

/// Waits (bounded) until `n` subscribers are parked: proves they reached the park.
fn until_parked<T: Copy + Send + 'static>(tx: &Publisher<T>, n: usize) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while tx.waiting_subscribers() < n {
        assert!(
            Instant::now() < give_up,
            "only {} of {n} parked",
            tx.waiting_subscribers()
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn default_strategy_is_blocking() {
    let (_tx, rx) = channel::<u8>(2);
    assert_eq!(rx.wait_strategy(), WaitStrategy::Blocking);
}

#[test]
fn a_parked_subscriber_wakes_for_a_message() {
    let (mut tx, mut rx) = channel::<u64>(8);
    let t = thread::spawn(move || (rx.recv(), rx.stats().parks));
    until_parked(&tx, 1);
    tx.send(7);
    let (got, parks) = t.join().unwrap();
    assert_eq!(got, Ok(7));
    assert_eq!(parks, 1);
    assert_eq!(tx.waiting_subscribers(), 0);
}

/// Twenty idle blocking subscribers: each parks once, and nothing wakes them until the one
/// message arrives (a spurious or polling wake-up would show as a second park).
#[test]
fn idle_subscribers_sleep_without_waking() {
    let (mut tx, rx) = channel::<u64>(8);
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let mut rx = rx.clone();
            thread::spawn(move || (rx.recv(), rx.stats().parks))
        })
        .collect();
    drop(rx);
    until_parked(&tx, 20);
    thread::sleep(Duration::from_millis(200)); // idle: any wake-up now would be counted
    assert_eq!(tx.waiting_subscribers(), 20);
    tx.send(1);
    for h in handles {
        assert_eq!(h.join().unwrap(), (Ok(1), 1));
    }
}

#[test]
fn close_wakes_every_waiter() {
    let (tx, rx) = channel::<u64>(8);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let mut rx = rx.clone();
            thread::spawn(move || rx.recv())
        })
        .collect();
    drop(rx);
    until_parked(&tx, 8);
    drop(tx);
    for h in handles {
        assert_eq!(h.join().unwrap(), Err(RecvError::Closed));
    }
}

#[test]
fn shared_publishers_wake_waiters_too() {
    let (tx, mut rx) = channel::<u64>(8);
    let tx = tx.into_shared();
    let t = thread::spawn(move || rx.recv());
    let give_up = Instant::now() + Duration::from_secs(60);
    while tx.waiting_subscribers() == 0 {
        assert!(Instant::now() < give_up);
        thread::sleep(Duration::from_millis(1));
    }
    tx.send(3).unwrap();
    assert_eq!(t.join().unwrap(), Ok(3));
}

#[test]
fn detachment_is_reported_to_a_waiting_subscriber() {
    let (mut tx, mut rx) = channel::<u64>(2);
    rx.set_lag_policy(LagPolicy::Disconnect);
    let t = thread::spawn(move || {
        let mut seen = Vec::new();
        loop {
            let r = rx.recv();
            seen.push(r);
            if r == Err(RecvError::Detached) {
                return seen;
            }
            assert!(seen.len() < 100_000, "never detached: {:?}", &seen[..10]);
        }
    });
    until_parked(&tx, 1);
    // Bursts far faster than a parked thread wakes: it is lapped at some point, whatever
    // the scheduling, and must then see exactly one Lagged(n) and Detached.
    let mut i = 0;
    while !t.is_finished() {
        for _ in 0..16 {
            tx.send(i);
            i += 1;
        }
        thread::yield_now();
    }
    let seen = t.join().unwrap();
    let (last, rest) = seen.split_last().unwrap();
    assert_eq!(*last, Err(RecvError::Detached));
    let (lag, delivered) = rest.split_last().unwrap();
    let Err(RecvError::Lagged(n)) = *lag else {
        panic!("no lag report before Detached: {seen:?}")
    };
    assert!(n >= 1);
    for (k, v) in delivered.iter().enumerate() {
        assert_eq!(*v, Ok(k as u64), "in order, no gaps before the lap");
    }
}

#[test]
fn blocking_recv_timeout_times_out_and_unregisters() {
    let (tx, mut rx) = channel::<u64>(8);
    // Long enough to get past the spinning and yielding phases first. Under Miri those alone
    // take longer than 20 ms of its virtual clock (which ticks with every step interpreted).
    let wait = Duration::from_millis(if cfg!(miri) { 2_000 } else { 20 });
    assert_eq!(rx.recv_timeout(wait), Err(RecvTimeoutError::Timeout));
    assert_eq!(tx.waiting_subscribers(), 0);
    assert!(rx.stats().parks >= 1, "a {wait:?} wait should have parked");
}

#[test]
fn every_strategy_delivers_everything_in_order() {
    for strategy in [
        WaitStrategy::BusySpin,
        WaitStrategy::Yielding,
        WaitStrategy::Blocking,
    ] {
        let (mut tx, mut rx) = channel::<u64>(1024);
        rx.set_wait_strategy(strategy);
        let t = thread::spawn(move || {
            let mut next = 0;
            loop {
                match rx.recv() {
                    Ok(v) => {
                        assert_eq!(v, next);
                        next += 1;
                    }
                    Err(RecvError::Lagged(n)) => next += n,
                    Err(_) => return next,
                }
            }
        });
        // Far fewer under Miri, which interprets every step.
        let messages = if cfg!(miri) { 400 } else { 20_000 };
        for i in 0..messages {
            tx.send(i);
            if i % 1000 == 0 {
                thread::sleep(Duration::from_micros(200)); // let the receiver park sometimes
            }
        }
        drop(tx);
        assert_eq!(t.join().unwrap(), messages, "{strategy:?}");
    }
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use futures::StreamExt;
    use std::future::Future;

    #[test]
    fn recv_async_under_tokio() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let (mut tx, rx) = channel::<u64>(64);
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.clone();
                rt.spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match rx.recv_async().await {
                            Ok(v) => got.push(v),
                            Err(RecvError::Closed) => return got,
                            Err(e) => panic!("{e}"),
                        }
                    }
                })
            })
            .collect();
        drop(rx);
        until_parked(&tx, 4);
        for i in 0..10 {
            tx.send(i);
            thread::sleep(Duration::from_millis(1));
        }
        drop(tx);
        for t in tasks {
            assert_eq!(rt.block_on(t).unwrap(), (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn stream_under_futures_executor_surfaces_lag_and_ends_at_close() {
        let (mut tx, rx) = channel::<u64>(4);
        for i in 0..6 {
            tx.send(i);
        }
        drop(tx);
        let items: Vec<_> = futures::executor::block_on(rx.collect());
        assert_eq!(
            items,
            [Err(RecvError::Lagged(2)), Ok(2), Ok(3), Ok(4), Ok(5)]
        );
    }

    #[test]
    fn stream_wakes_for_messages_from_another_thread() {
        let (mut tx, rx) = channel::<u64>(64);
        let t = thread::spawn(move || {
            let mut rx = rx;
            futures::executor::block_on(async { rx.by_ref().take(3).collect::<Vec<_>>().await })
        });
        until_parked(&tx, 1);
        for i in 0..3 {
            tx.send(i);
        }
        assert_eq!(t.join().unwrap(), [Ok(0), Ok(1), Ok(2)]);
    }

    #[test]
    fn a_cancelled_recv_async_unregisters() {
        let (tx, mut rx) = channel::<u64>(8);
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        {
            let mut fut = std::pin::pin!(rx.recv_async());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert_eq!(tx.waiting_subscribers(), 1);
        }
        assert_eq!(tx.waiting_subscribers(), 0);
    }
}
