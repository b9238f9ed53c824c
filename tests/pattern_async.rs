//! Async receive on a `PatternSubscriber`: `recv_async` and the `Stream` park the task and
//! are woken by a send on a topic being read, by a new matching topic, and by a removal;
//! dropping a pending `recv_async` takes nothing and leaves nothing registered; it works
//! under `tokio::select!` with a shutdown signal, on current-thread and multi-thread
//! runtimes, and with a waker that publishes on the topics being waited on.
#![cfg(feature = "async")]

use futures::StreamExt;
use seqcast::error::{RecvError, TopicError};
use seqcast::{Bus, PatternSubscriber, SharedPublisher};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

type Item = Result<(String, u64), TopicError<RecvError>>;

fn named(got: Result<(seqcast::Topic, u64), TopicError<RecvError>>) -> Item {
    got.map(|(t, v)| (t.to_string(), v))
}

/// Waits (bounded) until `n` subscribers wait on `tx`'s topic: proves the pattern
/// subscriber reached its park (it registers with every topic it reads).
fn until_waiting(tx: &SharedPublisher<u64>, n: usize) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while tx.waiting_subscribers() != n {
        assert!(
            Instant::now() < give_up,
            "{} waiting, not {n}",
            tx.waiting_subscribers()
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `f` on its own thread and fails (instead of hanging the suite) if it has not
/// finished within 10 s (natively): here that means a lost wake-up or a deadlock.
fn within_10s<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (done_tx, done_rx) = mpsc::channel();
    let t = thread::spawn(move || {
        let r = f();
        let _ = done_tx.send(());
        r
    });
    // Miri's clock runs with the interpreter, which is slow: a bound it cannot reach by
    // slowness alone.
    let bound = Duration::from_secs(if cfg!(miri) { 3_600 } else { 10 });
    match done_rx.recv_timeout(bound) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => match t.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(r) => r,
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("not woken within {bound:?}"),
    }
}

/// A task on a current-thread runtime awaits `recv_async` on `sub`, on its own thread.
fn await_one(
    mut sub: PatternSubscriber<u64>,
) -> thread::JoinHandle<(Item, PatternSubscriber<u64>)> {
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt.block_on(sub.recv_async());
        (named(got), sub)
    })
}

#[test]
fn recv_async_wakes_for_a_send_on_a_topic_it_reads() {
    let bus = Bus::new();
    let a = bus.publisher::<u64>("user.a").unwrap();
    let b = bus.publisher::<u64>("user.b").unwrap();
    let sub = bus.subscribe_pattern::<u64>("user.*").unwrap();
    let task = await_one(sub);
    until_waiting(&a, 1);
    until_waiting(&b, 1);
    b.send(7).unwrap();
    let (got, sub) = task.join().unwrap();
    assert_eq!(got, Ok(("user.b".into(), 7)));
    // One sleep at most: the subscriber counts as waiting from its registration on, so the
    // send may land before it went to sleep (its re-check then finds the message).
    assert!(sub.stats().parks <= 1, "{:?}", sub.stats());
    // Done waiting: registered nowhere, so the publishers pay nothing for it.
    assert_eq!((a.waiting_subscribers(), b.waiting_subscribers()), (0, 0));
}

#[test]
fn recv_async_wakes_for_a_new_matching_topic_created_and_sent_to_while_parked() {
    let bus = Bus::new();
    // An existing topic that stays quiet: it shows when the task has parked.
    let quiet = bus.publisher::<u64>("user.quiet").unwrap();
    let sub = bus.subscribe_pattern::<u64>("user.*").unwrap();
    let task = await_one(sub);
    until_waiting(&quiet, 1);
    bus.publisher::<u64>("order.x").unwrap().send(1).unwrap(); // does not match
    bus.publisher::<u64>("user.new").unwrap().send(2).unwrap();
    let (got, sub) = task.join().unwrap();
    assert_eq!(got, Ok(("user.new".into(), 2)));
    assert_eq!(quiet.waiting_subscribers(), 0);
    assert_eq!(sub.topics().len(), 2);
}

#[test]
fn recv_async_wakes_for_a_new_topic_when_it_read_no_topic_at_all() {
    // Nothing to observe the park by: give it time to get there, longer each attempt, until
    // an attempt shows that it did park before the topic appeared.
    for attempt in 1..=5 {
        let bus = Bus::new();
        let sub = bus.subscribe_pattern::<u64>("job.>").unwrap();
        let task = await_one(sub);
        thread::sleep(Duration::from_millis(50 * attempt));
        bus.publisher::<u64>("job.eu.done")
            .unwrap()
            .send(3)
            .unwrap();
        let (got, sub) = task.join().unwrap();
        assert_eq!(got, Ok(("job.eu.done".into(), 3)));
        if sub.stats().parks >= 1 {
            return;
        }
    }
    panic!("never parked before the topic was created");
}

#[test]
fn recv_async_wakes_for_the_removal_of_a_topic_it_reads() {
    let bus = Bus::new();
    let a = bus.publisher::<u64>("user.a").unwrap();
    let sub = bus.subscribe_pattern::<u64>("user.*").unwrap();
    let task = await_one(sub);
    until_waiting(&a, 1);
    assert!(bus.remove("user.a").unwrap());
    let (got, sub) = task.join().unwrap();
    let removed = got.unwrap_err();
    assert_eq!(removed.topic.as_deref(), Some("user.a"));
    assert_eq!(removed.error, RecvError::Closed);
    assert!(sub.topics().is_empty());
}

#[test]
fn a_dropped_recv_async_takes_nothing_and_leaves_nothing_registered() {
    let bus = Bus::new();
    let a = bus.publisher::<u64>("t.a").unwrap();
    let b = bus.publisher::<u64>("t.b").unwrap();
    let mut sub = bus.subscribe_pattern::<u64>("t.*").unwrap();
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for round in 0..3 {
        {
            let mut fut = pin!(sub.recv_async());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert!(
                fut.as_mut().poll(&mut cx).is_pending(),
                "re-polled while idle"
            );
            assert_eq!((a.waiting_subscribers(), b.waiting_subscribers()), (1, 1));
        }
        assert_eq!((a.waiting_subscribers(), b.waiting_subscribers()), (0, 0));
        // What arrives after the cancel is still there for the next receive.
        a.send(round).unwrap();
        let got = futures::executor::block_on(sub.recv_async());
        assert_eq!(named(got), Ok(("t.a".into(), round)));
    }
    // A cancelled wait that was woken (the message arrived, the future was dropped before
    // it was polled again) took nothing either.
    {
        let mut fut = pin!(sub.recv_async());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        b.send(10).unwrap();
    }
    assert_eq!(
        sub.try_recv().map(|(t, v)| (t.to_string(), v)),
        Ok(("t.b".into(), 10))
    );
    assert_eq!((a.waiting_subscribers(), b.waiting_subscribers()), (0, 0));
}

#[test]
fn a_pending_stream_poll_stays_registered_until_the_subscriber_is_dropped() {
    let bus = Bus::new();
    let a = bus.publisher::<u64>("t.a").unwrap();
    let mut sub = bus.subscribe_pattern::<u64>("t.*").unwrap();
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(sub.poll_next_unpin(&mut cx).is_pending());
    assert_eq!(a.waiting_subscribers(), 1);
    a.send(1).unwrap();
    assert_eq!(
        sub.poll_next_unpin(&mut cx).map(|i| i.map(named)),
        Poll::Ready(Some(Ok(("t.a".into(), 1))))
    );
    assert_eq!(a.waiting_subscribers(), 0);
    assert!(sub.poll_next_unpin(&mut cx).is_pending());
    drop(sub);
    assert_eq!(a.waiting_subscribers(), 0);
}

/// The shutdown pattern: `tokio::select!` over the subscription and a shutdown signal, on a
/// current-thread and on a multi-thread runtime. Every item sent before the signal is seen
/// (the subscription is polled first), the removal is reported, and once the loop is left
/// the subscriber is registered nowhere and has lost nothing sent afterwards.
#[test]
fn select_over_a_subscription_and_a_shutdown_signal() {
    for multi in [false, true] {
        let bus = Bus::new();
        let existing = bus.publisher::<u64>("svc.existing").unwrap();
        let mut sub = bus.subscribe_pattern::<u64>("svc.*").unwrap();
        let (stop, mut stopped) = futures::channel::oneshot::channel::<()>();
        let service = async move {
            let mut seen = Vec::new();
            loop {
                tokio::select! {
                    biased;
                    got = sub.recv_async() => seen.push(named(got)),
                    _ = &mut stopped => break,
                }
            }
            (seen, sub)
        };
        // The runtime on a thread of its own, driving the service while this thread
        // publishes.
        let service = thread::spawn(move || {
            let rt = if multi {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
            } else {
                tokio::runtime::Builder::new_current_thread().build()
            }
            .unwrap();
            if multi {
                rt.block_on(rt.spawn(service)).unwrap()
            } else {
                rt.block_on(service)
            }
        });
        until_waiting(&existing, 1);
        existing.send(1).unwrap();
        thread::sleep(Duration::from_millis(5));
        let fresh = bus.publisher::<u64>("svc.fresh").unwrap();
        fresh.send(2).unwrap();
        thread::sleep(Duration::from_millis(5));
        bus.remove("svc.fresh").unwrap();
        thread::sleep(Duration::from_millis(5));
        existing.send(3).unwrap();
        // Whether or not the task has taken 3 yet, `biased` polls the subscription before
        // the signal, so 3 is seen.
        stop.send(()).unwrap();
        let (seen, mut sub) = service.join().unwrap();
        // Order holds per topic (topics are read round robin, so how the two interleave
        // depends on when the task ran).
        let on = |topic: &str| -> Vec<String> {
            seen.iter()
                .filter_map(|item| match item {
                    Ok((t, v)) if t == topic => Some(v.to_string()),
                    Err(TopicError {
                        topic: Some(t),
                        error,
                    }) if t.as_str() == topic => Some(format!("{error:?}")),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(seen.len(), 4, "multi-thread {multi}: {seen:?}");
        assert_eq!(on("svc.existing"), ["1", "3"], "{seen:?}");
        assert_eq!(on("svc.fresh"), ["2", "Closed"], "{seen:?}");
        assert_eq!(
            existing.waiting_subscribers(),
            0,
            "the cancelled wait deregistered"
        );
        existing.send(4).unwrap();
        assert_eq!(sub.try_recv().map(|(_, v)| v), Ok(4));
    }
}

/// Many topics, each with its own publishing thread, read as a `Stream` by a task on a
/// multi-thread runtime that also creates topics as it goes: every topic's messages arrive
/// in order, and delivered + lagged == published per topic.
#[test]
fn stream_on_a_multi_thread_runtime_gets_everything_in_order_per_topic() {
    const TOPICS: u64 = 6;
    const MESSAGES: u64 = 2_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let bus = Bus::builder().capacity(64).build();
    let sub = bus.subscribe_pattern::<u64>("feed.*").unwrap();
    let reader = rt.spawn(async move {
        let mut sub = sub;
        let mut next = vec![0u64; TOPICS as usize];
        let mut removed = 0;
        while removed < TOPICS {
            match sub.next().await.expect("a pattern subscription never ends") {
                Ok((topic, v)) => {
                    let t: usize = topic["feed.".len()..].parse().unwrap();
                    assert_eq!(v, next[t], "order on {topic}");
                    next[t] += 1;
                }
                Err(TopicError {
                    topic: Some(topic),
                    error: RecvError::Lagged(n),
                }) => next[topic["feed.".len()..].parse::<usize>().unwrap()] += n,
                Err(TopicError {
                    error: RecvError::Closed,
                    ..
                }) => removed += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
        next
    });
    let writers: Vec<_> = (0..TOPICS)
        .map(|t| {
            let bus = bus.clone();
            thread::spawn(move || {
                let name = format!("feed.{t}");
                let tx = bus.publisher::<u64>(&name).unwrap();
                for i in 0..MESSAGES {
                    tx.send(i).unwrap();
                    if i % 256 == 0 {
                        thread::sleep(Duration::from_micros(200)); // let the reader park
                    }
                }
                bus.remove(&name).unwrap();
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let next = within_10s(move || rt.block_on(reader).unwrap());
    assert_eq!(next, vec![MESSAGES; TOPICS as usize]);
}

/// Races the park against topic creation over and over: each round a thread creates a new
/// matching topic and sends one message on it (and on a topic already read, every other
/// round) while the task is arming. A lost wake-up would leave the task asleep.
#[test]
fn racing_creations_and_sends_never_lose_a_wake_up() {
    // Each creation copies the topic table: a few rounds under Miri, which interprets it.
    const ROUNDS: u64 = if cfg!(miri) { 20 } else { 300 };
    let bus = Bus::new();
    let old = bus.publisher::<u64>("race.old").unwrap();
    let mut sub = bus.subscribe_pattern::<u64>("race.*").unwrap();
    let creator = {
        let bus = bus.clone();
        thread::spawn(move || {
            for round in 0..ROUNDS {
                if round % 3 == 0 {
                    thread::yield_now();
                }
                let name = format!("race.{round}");
                bus.publisher::<u64>(&name).unwrap().send(round).unwrap();
                if round % 2 == 0 {
                    old.send(round).unwrap();
                }
            }
        })
    };
    let got = within_10s(move || {
        let mut got = 0;
        futures::executor::block_on(async {
            while got < ROUNDS + ROUNDS / 2 {
                sub.recv_async().await.unwrap();
                got += 1;
            }
        });
        got
    });
    creator.join().unwrap();
    assert_eq!(got, ROUNDS + ROUNDS / 2);
}

/// tokio's coop budget: a subscription that always has an item ready still returns
/// `Pending` now and then (having taken nothing), or one busy pattern subscriber would starve
/// every other task on its thread.
#[test]
fn a_ready_pattern_subscriber_still_yields_to_its_executor() {
    let bus = Bus::builder().capacity(1 << 12).build();
    let mut sub = bus.subscribe_pattern::<u64>("b.*").unwrap();
    let (x, y) = (
        bus.publisher::<u64>("b.x").unwrap(),
        bus.publisher::<u64>("b.y").unwrap(),
    );
    for i in 0..2000 {
        x.send(i).unwrap();
        y.send(i).unwrap();
    }
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let (mut got, mut pending, mut streak, mut longest) = (0, 0, 0, 0);
    let mut next = [0u64; 2];
    while got < 4000 {
        match sub.poll_next_unpin(&mut cx) {
            Poll::Ready(Some(Ok((topic, v)))) => {
                let t = usize::from(topic.as_str() == "b.y");
                assert_eq!(v, next[t], "order on {topic}");
                next[t] += 1;
                got += 1;
                streak += 1;
                longest = longest.max(streak);
            }
            Poll::Ready(other) => panic!("{other:?}"),
            Poll::Pending => {
                pending += 1;
                streak = 0;
            }
        }
    }
    assert!(pending >= 4000 / 200, "yielded only {pending} times");
    assert!(longest <= 256, "{longest} ready polls in a row");
    assert_eq!((x.waiting_subscribers(), y.waiting_subscribers()), (0, 0));
}

/// A waker that publishes on a topic being waited on when woken, and removes one when
/// dropped (here: by the wake itself, which holds the last reference): neither may deadlock
/// (the bell never runs a waker under its lock).
#[test]
fn a_waker_may_publish_and_remove_topics_being_waited_on() {
    struct Publishing {
        tx: SharedPublisher<u64>,
        bus: Bus,
        wakes: Arc<AtomicUsize>,
    }
    impl Wake for Publishing {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
            let _ = self.tx.send(100);
        }
    }
    impl Drop for Publishing {
        fn drop(&mut self) {
            let _ = self.bus.remove("w.b");
        }
    }
    within_10s(|| {
        let bus = Bus::new();
        let a = bus.publisher::<u64>("w.a").unwrap();
        let mut sub = bus.subscribe_pattern::<u64>("w.*").unwrap();
        let wakes = Arc::new(AtomicUsize::new(0));
        let waker = Waker::from(Arc::new(Publishing {
            tx: bus.publisher::<u64>("w.b").unwrap(),
            bus: bus.clone(),
            wakes: wakes.clone(),
        }));
        let first = {
            let mut fut = pin!(sub.recv_async());
            assert!(fut
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            // The subscriber now holds the only reference to the waker.
            drop(waker);
            // Wakes it from this send: it publishes on w.b, then its drop removes w.b.
            a.send(1).unwrap();
            let noop = futures::task::noop_waker();
            match fut.as_mut().poll(&mut Context::from_waker(&noop)) {
                Poll::Ready(item) => named(item),
                Poll::Pending => panic!("woken, yet pending"),
            }
        };
        assert_eq!(first, Ok(("w.a".into(), 1)));
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        assert_eq!(
            sub.try_recv().map(|(t, v)| (t.to_string(), v)),
            Ok(("w.b".into(), 100))
        );
        let removed = sub.try_recv().unwrap_err();
        assert_eq!(removed.topic.as_deref(), Some("w.b"));
        assert_eq!(a.waiting_subscribers(), 0);
    });
}
