//! The `Bus`: pattern subscriptions (joining topics, lag, removal, order per name).

use seqcast::error::{BusError, RecvError, RecvTimeoutError, TopicError, TryRecvError};
use seqcast::{Bus, LagPolicy, PatternSubscriber, SharedPublisher, Topic};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Pattern subscriptions

fn drain<T: Copy + Send + 'static>(
    sub: &mut PatternSubscriber<T>,
) -> Vec<Result<(String, T), TopicError<TryRecvError>>> {
    let mut out = Vec::new();
    loop {
        match sub.try_recv() {
            Err(TopicError {
                topic: None,
                error: TryRecvError::Empty,
            }) => return out,
            other => out.push(other.map(|(t, v)| (t.to_string(), v))),
        }
    }
}

#[test]
fn pattern_sees_existing_topics_from_now_and_new_topics_from_their_start() {
    let bus = Bus::new();
    let before = bus.publisher::<u32>("user.created").unwrap();
    before.send(1).unwrap(); // before the pattern subscribed: not seen
    let mut users = bus.subscribe_pattern::<u32>("user.*").unwrap();
    assert_eq!(users.pattern().as_str(), "user.*");
    assert_eq!(users.topics(), vec![Topic::clone(&bus.topics()[0].name)]);
    before.send(2).unwrap();

    // Created after the subscription, and published to before the subscriber polls again:
    // read from its first message.
    let later = bus.publisher::<u32>("user.deleted").unwrap();
    later.send(3).unwrap();
    later.send(4).unwrap();
    bus.publisher::<u32>("order.created")
        .unwrap()
        .send(5)
        .unwrap(); // no match
    bus.publisher::<u32>("user.created.eu")
        .unwrap()
        .send(6)
        .unwrap(); // no match for `*`

    let got = drain(&mut users);
    assert_eq!(
        got,
        vec![
            Ok(("user.created".into(), 2)),
            Ok(("user.deleted".into(), 3)),
            Ok(("user.deleted".into(), 4)),
        ]
    );
    assert_eq!(users.topics().len(), 2);
    assert_eq!(users.stats().received, 3);
}

#[test]
fn pattern_polls_round_robin_and_keeps_per_topic_order() {
    let bus = Bus::new();
    let mut all = bus.subscribe_pattern::<u32>(">").unwrap();
    let a = bus.publisher::<u32>("a").unwrap();
    let b = bus.publisher::<u32>("b").unwrap();
    for i in 0..3 {
        a.send(i).unwrap();
    }
    for i in 100..103 {
        b.send(i).unwrap();
    }
    let got: Vec<_> = drain(&mut all).into_iter().map(Result::unwrap).collect();
    let expect: Vec<(String, u32)> = vec![
        ("a".into(), 0),
        ("b".into(), 100),
        ("a".into(), 1),
        ("b".into(), 101),
        ("a".into(), 2),
        ("b".into(), 102),
    ];
    assert_eq!(got, expect);
}

#[test]
fn pattern_reports_lag_per_topic() {
    let bus = Bus::builder().capacity(4).build();
    let mut sub = bus.subscribe_pattern::<u32>("m.*").unwrap();
    let busy = bus.publisher::<u32>("m.busy").unwrap();
    let quiet = bus.publisher::<u32>("m.quiet").unwrap();
    for i in 0..10 {
        busy.send(i).unwrap();
    }
    quiet.send(7).unwrap();
    let got = drain(&mut sub);
    assert_eq!(
        got,
        vec![
            Err(TopicError {
                topic: Some(Topic::clone(&bus.topics()[0].name)),
                error: TryRecvError::Lagged(6)
            }),
            Ok(("m.quiet".into(), 7)),
            Ok(("m.busy".into(), 6)),
            Ok(("m.busy".into(), 7)),
            Ok(("m.busy".into(), 8)),
            Ok(("m.busy".into(), 9)),
        ]
    );
    let per_topic: Vec<_> = sub
        .topic_stats()
        .into_iter()
        .map(|(t, s)| (t.to_string(), s.received, s.missed))
        .collect();
    assert_eq!(
        per_topic,
        vec![("m.busy".into(), 4, 6), ("m.quiet".into(), 1, 0)]
    );
    // delivered + lagged == published, per topic and overall
    let s = sub.stats();
    assert_eq!((s.received + s.missed, s.lag_events), (11, 1));
}

#[test]
fn skip_to_newest_through_the_bus_and_a_pattern() {
    let bus = Bus::builder()
        .capacity(2)
        .lag_policy(LagPolicy::SkipToNewest)
        .build();
    let mut rx = bus.subscribe::<u8>("y.a").unwrap();
    let mut sub = bus.subscribe_pattern::<u8>("y.*").unwrap();
    assert_eq!(
        (rx.lag_policy(), sub.lag_policy()),
        (LagPolicy::SkipToNewest, LagPolicy::SkipToNewest)
    );
    let tx = bus.publisher::<u8>("y.a").unwrap();
    for i in 0..6 {
        tx.send(i).unwrap();
    }
    // 0..=3 overwritten, 4 still held but not the newest: all five skipped.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(5)));
    assert_eq!(rx.try_recv(), Ok(5));
    assert!(matches!(
        sub.try_recv(),
        Err(TopicError { topic: Some(ref topic), error: TryRecvError::Lagged(5) }) if topic == "y.a"
    ));
    assert_eq!(sub.try_recv().unwrap().1, 5);
    assert_eq!(
        sub.try_recv(),
        Err(TopicError {
            topic: None,
            error: TryRecvError::Empty
        })
    );
    assert_eq!(sub.topics().len(), 1, "the topic stays joined");
}

#[test]
fn pattern_disconnect_policy_drops_only_the_lagging_topic() {
    let bus = Bus::builder()
        .capacity(2)
        .lag_policy(LagPolicy::Disconnect)
        .build();
    let mut sub = bus.subscribe_pattern::<u8>("x.*").unwrap();
    assert_eq!(sub.lag_policy(), LagPolicy::Disconnect);
    let fast = bus.publisher::<u8>("x.fast").unwrap();
    let slow = bus.publisher::<u8>("x.slow").unwrap();
    for i in 0..5 {
        fast.send(i).unwrap();
    }
    slow.send(1).unwrap();
    assert!(matches!(
        sub.try_recv(),
        Err(TopicError { topic: Some(ref topic), error: TryRecvError::Lagged(3) }) if topic == "x.fast"
    ));
    assert_eq!(sub.try_recv().unwrap().1, 1);
    assert_eq!(
        sub.try_recv(),
        Err(TopicError {
            topic: None,
            error: TryRecvError::Empty
        })
    );
    assert_eq!(sub.topics().len(), 1, "x.fast was dropped");
    fast.send(9).unwrap();
    slow.send(2).unwrap();
    assert_eq!(sub.try_recv().unwrap().1, 2);
    assert_eq!(
        sub.try_recv(),
        Err(TopicError {
            topic: None,
            error: TryRecvError::Empty
        })
    );
}

#[test]
fn pattern_reports_removal_once_and_picks_up_a_recreated_topic() {
    let bus = Bus::new();
    let mut sub = bus.subscribe_pattern::<u32>("job.*").unwrap();
    let tx = bus.publisher::<u32>("job.a").unwrap();
    tx.send(1).unwrap();
    assert!(bus.remove("job.a").unwrap());
    let got = drain(&mut sub);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], Ok(("job.a".into(), 1)));
    assert!(
        matches!(&got[1], Err(TopicError { topic: Some(topic), error: TryRecvError::Closed }) if topic == "job.a")
    );
    assert!(sub.topics().is_empty());

    let tx = bus.publisher::<u32>("job.a").unwrap();
    tx.send(2).unwrap();
    assert_eq!(drain(&mut sub), vec![Ok(("job.a".into(), 2))]);
    assert_eq!(sub.stats().received, 2);
}

/// One `drain` result as text: `"topic value"`, `"topic lagged n"` or `"topic closed"`.
fn describe<T: std::fmt::Display>(r: Result<(String, T), TopicError<TryRecvError>>) -> String {
    match r {
        Ok((t, v)) => format!("{t} {v}"),
        Err(TopicError {
            topic: Some(topic),
            error: TryRecvError::Lagged(missed),
        }) => format!("{topic} lagged {missed}"),
        Err(TopicError {
            topic: Some(topic),
            error: TryRecvError::Closed,
        }) => format!("{topic} closed"),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn pattern_reads_a_removed_topic_before_its_recreation() {
    // Both instances of `job.a` are unread when the subscriber looks: the removed one is
    // drained and reported Closed before anything of the new one, so a Lagged or Closed
    // report on `job.a` always means the oldest instance (found by the bus_ops fuzzer).
    let bus = Bus::builder().capacity(2).build();
    let mut sub = bus.subscribe_pattern::<u32>("job.*").unwrap();
    let old = bus.publisher::<u32>("job.a").unwrap();
    let other = bus.publisher::<u32>("job.b").unwrap();
    for v in 0..5 {
        old.send(v).unwrap();
    }
    assert!(bus.remove("job.a").unwrap());
    let new = bus.publisher::<u32>("job.a").unwrap();
    for v in 10..16 {
        new.send(v).unwrap();
        other.send(v + 100).unwrap();
    }
    let got: Vec<String> = drain(&mut sub)
        .into_iter()
        .map(describe)
        .filter(|e| e.starts_with("job.a"))
        .collect();
    // old: 0..5, holds 3 and 4; new: 10..16, holds 14 and 15.
    let want = [
        "job.a lagged 3",
        "job.a 3",
        "job.a 4",
        "job.a closed",
        "job.a lagged 4",
        "job.a 14",
        "job.a 15",
    ];
    assert_eq!(got, want);
}

#[test]
fn pattern_reads_topics_created_and_removed_before_it_looked() {
    // The table remembers the last 32 removed topics: a pattern subscriber that did not poll
    // while 40 topics came and went still reads the last 32 of them, whole. Of the first 8
    // it knows only the message count: those are reported lost, then closed.
    let bus = Bus::new();
    let mut sub = bus.subscribe_pattern::<u32>("burst.*").unwrap();
    for i in 0..40 {
        let name = format!("burst.t{i:02}");
        let tx = bus.publisher::<u32>(&name).unwrap();
        tx.send(i).unwrap();
        tx.send(i + 100).unwrap();
        assert!(bus.remove(&name).unwrap());
    }
    let got = drain(&mut sub);
    let values: Vec<u32> = got
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.1)
        .collect();
    let closed = got.iter().filter(|r| {
        matches!(
            r,
            Err(TopicError {
                error: TryRecvError::Closed,
                ..
            })
        )
    });
    assert_eq!(closed.count(), 40);
    let lost: Vec<String> = got
        .iter()
        .filter_map(|r| match r {
            Err(TopicError {
                topic: Some(topic),
                error: TryRecvError::Lagged(2),
            }) => Some(topic.to_string()),
            _ => None,
        })
        .collect();
    let forgotten: Vec<String> = (0..8).map(|i| format!("burst.t{i:02}")).collect();
    assert_eq!(lost, forgotten);
    let mut expected: Vec<u32> = (8..40).flat_map(|i| [i, i + 100]).collect();
    let mut values_sorted = values.clone();
    values_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(values_sorted, expected);
    assert_eq!(sub.stats().missed, 16);
    assert_eq!(sub.stats().received, 64);
    assert!(sub.topics().is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "300 topics created and removed: minutes under Miri")]
fn pattern_reports_forgotten_topics_only_if_they_match_and_up_to_288_removals_back() {
    // A subscriber under Disconnect that does not poll while 300 topics are removed: 40
    // match (every 7th one, "job.*", `u64`), others do not match or carry another type.
    let bus = Bus::builder().lag_policy(LagPolicy::Disconnect).build();
    let mut sub = bus.subscribe_pattern::<u64>("job.*").unwrap();
    let mut matching = Vec::new();
    for i in 0..300u64 {
        let name = match i % 3 {
            _ if i % 7 == 0 => format!("job.n{i:03}"),
            0 => format!("other.n{i:03}"),
            _ => format!("job.bytes{i:03}"),
        };
        if name.starts_with("job.n") {
            let tx = bus.publisher::<u64>(&name).unwrap();
            for k in 0..i % 4 {
                tx.send(k).unwrap();
            }
            matching.push((i, name.clone()));
        } else if name.starts_with("job.bytes") {
            bus.publisher::<[u8; 8]>(&name)
                .unwrap()
                .send([1; 8])
                .unwrap();
        } else {
            bus.publisher::<u64>(&name).unwrap().send(i).unwrap();
        }
        assert!(bus.remove(&name).unwrap());
    }
    let got: Vec<String> = drain(&mut sub).into_iter().map(describe).collect();
    // Removals 0..12 are more than 288 removals back: forgotten without a trace.
    // Removals 12..268 are described: reported lost (a topic with no message is only
    // closed; under Disconnect one with lost messages is dropped after the report).
    // Removals 268..300 are remembered: read whole.
    let mut want = Vec::new();
    for (i, name) in &matching {
        let sent = i % 4;
        if *i < 12 {
            continue;
        }
        if *i < 268 {
            if sent > 0 {
                want.push(format!("{name} lagged {sent}"));
            } else {
                want.push(format!("{name} closed"));
            }
        } else {
            want.extend((0..sent).map(|k| format!("{name} {k}")));
            want.push(format!("{name} closed"));
        }
    }
    // Topics are polled round robin: compare each topic's own sequence.
    let per_topic = |events: &[String]| {
        let mut map = std::collections::BTreeMap::<String, Vec<String>>::new();
        for e in events {
            let name = e.split(' ').next().unwrap().to_string();
            map.entry(name).or_default().push(e.clone());
        }
        map
    };
    assert_eq!(per_topic(&got), per_topic(&want));
    assert_eq!(got.len(), want.len());
}

#[test]
fn pattern_skips_topics_of_other_types_and_lists_them() {
    let bus = Bus::new();
    let mut sub = bus.subscribe_pattern::<u32>("*.error").unwrap();
    bus.publisher::<u32>("db.error").unwrap().send(1).unwrap();
    bus.publisher::<[u8; 16]>("api.error")
        .unwrap()
        .send(*b"connection reset")
        .unwrap();
    assert_eq!(drain(&mut sub), vec![Ok(("db.error".into(), 1))]);
    let skipped: Vec<_> = sub
        .skipped_topics()
        .into_iter()
        .map(|(t, ty)| (t.to_string(), ty))
        .collect();
    assert_eq!(skipped, vec![("api.error".to_string(), "[u8; 16]")]);
}

#[test]
fn pattern_recv_and_recv_timeout() {
    let bus = Bus::new();
    let mut sub = bus.subscribe_pattern::<u64>("tick.>").unwrap();
    assert_eq!(
        sub.recv_timeout(Duration::from_millis(5)),
        Err(TopicError {
            topic: None,
            error: RecvTimeoutError::Timeout
        })
    );
    let publisher = bus.clone();
    let handle = std::thread::spawn(move || {
        let tx = publisher.publisher::<u64>("tick.fast.1").unwrap();
        tx.send(42).unwrap();
    });
    let (topic, value) = sub.recv().unwrap();
    assert_eq!((topic.as_str(), value), ("tick.fast.1", 42));
    handle.join().unwrap();
}

#[test]
fn pattern_recv_wakes_after_idle_spells() {
    // Idle long enough to park, several times over, on a topic that exists and on one
    // created meanwhile: every message still arrives, in order, and recv_timeout still times
    // out while idle.
    let bus = Bus::new();
    let mut sub = bus.subscribe_pattern::<u64>("slow.*").unwrap();
    let tx = bus.publisher::<u64>("slow.a").unwrap();
    let publisher = bus.clone();
    let handle = std::thread::spawn(move || {
        for i in 0..3 {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(i).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
        publisher
            .publisher::<u64>("slow.b")
            .unwrap()
            .send(99)
            .unwrap();
    });
    let mut got = Vec::new();
    while got.len() < 4 {
        let (topic, v) = sub.recv().unwrap();
        got.push((topic.to_string(), v));
    }
    handle.join().unwrap();
    let want: Vec<(String, u64)> = [("slow.a", 0), ("slow.a", 1), ("slow.a", 2), ("slow.b", 99)]
        .iter()
        .map(|&(t, v)| (t.to_string(), v))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        sub.recv_timeout(Duration::from_millis(30)),
        Err(TopicError {
            topic: None,
            error: RecvTimeoutError::Timeout
        })
    );
}

/// Waits (bounded) until `n` subscribers wait on `tx`'s topic: a pattern subscriber
/// registers with every topic it reads when it parks.
fn until_waiting(tx: &SharedPublisher<u64>, n: usize) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while tx.waiting_subscribers() != n {
        assert!(
            Instant::now() < give_up,
            "{} waiting, not {n}",
            tx.waiting_subscribers()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What `recv_on_a_thread` hands back: the item (topic name, value) and the subscriber.
type Received = (
    Result<(String, u64), TopicError<RecvError>>,
    PatternSubscriber<u64>,
);

/// `recv` on its own thread.
fn recv_on_a_thread(mut sub: PatternSubscriber<u64>) -> std::thread::JoinHandle<Received> {
    std::thread::spawn(move || {
        let got = sub.recv().map(|(t, v)| (t.to_string(), v));
        (got, sub)
    })
}

#[test]
fn a_parked_pattern_recv_wakes_for_a_send_a_new_topic_and_a_removal() {
    let bus = Bus::new();
    let a = bus.publisher::<u64>("user.a").unwrap();
    let sub = bus.subscribe_pattern::<u64>("user.*").unwrap();

    // A send on a topic it reads.
    let t = recv_on_a_thread(sub);
    until_waiting(&a, 1);
    a.send(1).unwrap();
    let (got, sub) = t.join().unwrap();
    assert_eq!(got, Ok(("user.a".into(), 1)));
    assert_eq!(
        a.waiting_subscribers(),
        0,
        "registered nowhere once it returned"
    );

    // A new matching topic, created and sent to while it is parked (`user.a` stays quiet).
    let t = recv_on_a_thread(sub);
    until_waiting(&a, 1);
    bus.publisher::<u64>("user.b").unwrap().send(2).unwrap();
    let (got, sub) = t.join().unwrap();
    assert_eq!(got, Ok(("user.b".into(), 2)));
    assert_eq!(a.waiting_subscribers(), 0);

    // The removal of a topic it reads.
    let t = recv_on_a_thread(sub);
    until_waiting(&a, 1);
    assert!(bus.remove("user.a").unwrap());
    let (got, _) = t.join().unwrap();
    let removed = got.unwrap_err();
    assert_eq!(
        (removed.topic.as_deref(), removed.error),
        (Some("user.a"), RecvError::Closed)
    );
}

/// Ten idle pattern subscribers over three topics: each parks and nothing wakes it until a
/// message arrives (a spurious wake-up would show as a second park; a polling subscriber
/// would not be registered with the topics).
#[test]
fn idle_pattern_subscribers_sleep_without_waking() {
    let bus = Bus::new();
    let topics: Vec<_> = ["m.a", "m.b", "m.c"]
        .iter()
        .map(|name| bus.publisher::<u64>(name).unwrap())
        .collect();
    let threads: Vec<_> = (0..10)
        .map(|_| recv_on_a_thread(bus.subscribe_pattern::<u64>("m.*").unwrap()))
        .collect();
    for tx in &topics {
        until_waiting(tx, 10);
    }
    std::thread::sleep(Duration::from_millis(200)); // idle: a wake-up now would be counted
    for tx in &topics {
        assert_eq!(tx.waiting_subscribers(), 10);
    }
    topics[2].send(5).unwrap();
    for t in threads {
        let (got, sub) = t.join().unwrap();
        assert_eq!(got, Ok(("m.c".into(), 5)));
        // Registered all along (above), and never woken before the message: one sleep at
        // most (none if it was still between registering and sleeping when it came).
        assert!(sub.stats().parks <= 1, "{:?}", sub.stats());
    }
    for tx in &topics {
        assert_eq!(tx.waiting_subscribers(), 0);
    }
}

#[test]
fn pattern_recv_timeout_parks_times_out_and_leaves_nothing_registered() {
    let bus = Bus::new();
    let a = bus.publisher::<u64>("q.a").unwrap();
    let mut sub = bus.subscribe_pattern::<u64>("q.*").unwrap();
    let start = Instant::now();
    assert_eq!(
        sub.recv_timeout(Duration::from_millis(30)),
        Err(TopicError {
            topic: None,
            error: RecvTimeoutError::Timeout
        })
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    // Once, unless the time ran out while it was still polling (a slow machine, or Miri's
    // clock).
    let parks = sub.stats().parks;
    assert!(parks <= 1, "{:?}", sub.stats());
    assert_eq!(a.waiting_subscribers(), 0);
    // A zero timeout never parks.
    assert!(sub.recv_timeout(Duration::ZERO).is_err());
    assert_eq!(sub.stats().parks, parks);
    a.send(9).unwrap();
    assert_eq!(
        sub.recv_timeout(Duration::ZERO).map(|(_, v)| v),
        Ok(9),
        "a message already there is returned whatever the timeout"
    );
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<X: Send + Sync>() {}
    fn send<X: Send>() {}
    send_sync::<Bus>();
    send_sync::<Topic>();
    send::<PatternSubscriber<u64>>();
    send_sync::<BusError>();
}
