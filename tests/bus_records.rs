//! Record topics on a `Bus`: raw and typed (serde) topics by name, kind mismatches, removal,
//! pattern subscribers over records, many producers, replay, and exact loss accounting.

#![cfg(feature = "serde")]

use seqcast::error::{BusError, RecordError, RecvError, TopicError, TryRecvError};
#[cfg(feature = "json")]
use seqcast::record::Json;
use seqcast::record::{Codec, Postcard};
use seqcast::{Bus, LagPolicy};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Item {
    sku: String,
    qty: u32,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct OrderCreated {
    order_id: String,
    items: Vec<Item>,
    total: f64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct MetricEvent {
    name: String,
    tags: HashMap<String, String>,
    value: f64,
}

fn order(i: u32) -> OrderCreated {
    OrderCreated {
        order_id: format!("ord-{i:06}-{}", "x".repeat(i as usize % 40)),
        items: (0..i % 25)
            .map(|k| Item {
                sku: format!("sku-{k}"),
                qty: k,
            })
            .collect(),
        total: f64::from(i) * 1.25,
    }
}

#[test]
fn typed_topic_round_trips_strings_and_vecs_by_name() {
    let bus = Bus::new();
    let mut tx = bus.typed::<OrderCreated>("order.created").unwrap();
    let mut billing = tx.subscribe();
    // A second lookup of the same name finds the same topic.
    let mut tx2 = bus.typed::<OrderCreated>("order.created").unwrap();
    for i in 0..50 {
        if i % 2 == 0 { &mut tx } else { &mut tx2 }
            .send(&order(i))
            .unwrap();
    }
    for i in 0..50 {
        assert_eq!(billing.try_recv(), Ok(order(i)));
    }
    assert_eq!(
        billing.try_recv(),
        Err(RecordError::Recv(TryRecvError::Empty))
    );
    let info = &bus.topics()[0];
    assert_eq!((info.name.as_str(), info.published), ("order.created", 50));
    assert!(
        info.type_name.contains("OrderCreated"),
        "{}",
        info.type_name
    );
}

#[test]
fn kind_mismatches_are_errors_naming_both_sides() {
    let bus = Bus::new();
    bus.typed::<OrderCreated>("order.created").unwrap();
    bus.records("log.api").unwrap();
    bus.publisher::<u64>("ticks").unwrap();

    let mismatch = |e: BusError| match e {
        BusError::TypeMismatch {
            expected, found, ..
        } => (expected, found),
        other => panic!("not a mismatch: {other:?}"),
    };
    let (expected, found) = mismatch(bus.typed::<MetricEvent>("order.created").unwrap_err());
    assert!(expected.contains("OrderCreated") && found.contains("MetricEvent"));
    #[cfg(feature = "json")]
    {
        let e = bus.typed_with::<OrderCreated, Json>("order.created");
        let (expected, found) = mismatch(e.unwrap_err());
        assert!(expected.contains("Postcard") && found.contains("Json"));
    }
    // Raw bytes may not be published on a typed topic (its readers could not decode them).
    let (expected, _) = mismatch(bus.records("order.created").unwrap_err());
    assert!(expected.contains("OrderCreated"));
    mismatch(bus.publisher::<u64>("log.api").unwrap_err());
    mismatch(bus.typed::<OrderCreated>("log.api").unwrap_err());
    mismatch(bus.records("ticks").unwrap_err());
    mismatch(bus.subscribe_records("ticks").unwrap_err());
    // A raw subscriber reads a typed topic's records as bytes.
    let mut raw = bus.subscribe_records("order.created").unwrap();
    bus.typed::<OrderCreated>("order.created")
        .unwrap()
        .send(&order(3))
        .unwrap();
    let bytes = raw.try_recv().unwrap();
    assert_eq!(Postcard::decode::<OrderCreated>(&bytes), Ok(order(3)));
    // Bad names are still errors.
    assert!(bus.records("log.*").is_err());
    assert!(bus.typed::<OrderCreated>("").is_err());
}

#[test]
fn removal_refuses_sends_and_drains_subscribers() {
    let bus = Bus::new();
    let tx = bus.records("log.api").unwrap();
    let mut rx = tx.subscribe();
    tx.send(b"one").unwrap();
    tx.send(&[7; 500]).unwrap();
    assert!(bus.remove("log.api").unwrap());
    assert!(tx.is_closed());
    assert_eq!(tx.send(b"late"), Err(RecordError::Closed));
    assert_eq!(rx.try_recv().unwrap(), b"one");
    assert_eq!(rx.try_recv().unwrap(), [7; 500]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    // The name is free again, for any kind.
    bus.publisher::<u32>("log.api").unwrap();
}

#[test]
fn oversized_records_are_refused_whole() {
    let bus = Bus::builder().record_capacity(4096).build();
    let tx = bus.records("blob").unwrap();
    let mut rx = tx.subscribe();
    let max = tx.max_len();
    assert_eq!(
        tx.send(&vec![1; max + 1]),
        Err(RecordError::TooLarge { len: max + 1, max })
    );
    tx.send(&vec![2; max]).unwrap();
    assert_eq!(rx.try_recv().unwrap(), vec![2; max]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.stats().missed, 0);
}

#[test]
fn pattern_over_record_topics_reads_new_topics_from_their_start() {
    let bus = Bus::new();
    let before = bus.records("log.api").unwrap();
    before.send(b"before").unwrap(); // before the pattern subscribed: not seen
    let mut logs = bus.subscribe_pattern_records("log.*").unwrap();
    before.send(b"api 1").unwrap();
    let later = bus.records("log.db").unwrap();
    later.send(&[9; 300]).unwrap();
    bus.publisher::<u64>("log.ticks").unwrap().send(1).unwrap(); // a typed ring: skipped
    bus.records("metrics.cpu").unwrap().send(b"no").unwrap(); // does not match

    let mut got = Vec::new();
    while let Ok((topic, bytes)) = logs.try_recv() {
        got.push((topic.to_string(), bytes));
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("log.api".to_string(), b"api 1".to_vec()),
            ("log.db".to_string(), vec![9; 300]),
        ]
    );
    let skipped: Vec<_> = logs.skipped_topics().into_iter().map(|(t, _)| t).collect();
    assert_eq!(skipped, vec!["log.ticks"]);
    // Removal is reported once, per topic.
    bus.remove("log.db").unwrap();
    let gone = logs.try_recv().unwrap_err();
    assert_eq!(gone.topic.unwrap(), "log.db");
    assert_eq!(gone.error, TryRecvError::Closed);
}

#[test]
fn typed_pattern_reads_only_its_type_and_codec() {
    let bus = Bus::new();
    let mut metrics = bus
        .subscribe_pattern_typed::<MetricEvent>("metrics.>")
        .unwrap();
    let mut cpu = bus.typed::<MetricEvent>("metrics.cpu").unwrap();
    bus.records("metrics.raw").unwrap().send(b"raw").unwrap();
    let event = MetricEvent {
        name: "cpu.load".into(),
        tags: HashMap::from([("host".into(), "web-1".into()), ("dc".into(), "eu".into())]),
        value: 0.75,
    };
    cpu.send(&event).unwrap();
    #[cfg(feature = "json")]
    {
        // Another codec: another kind of topic, not read.
        let mut json = bus.typed_with::<MetricEvent, Json>("metrics.json").unwrap();
        json.send(&event).unwrap();
    }
    let (topic, got) = metrics.try_recv().unwrap();
    assert_eq!((topic.as_str(), got), ("metrics.cpu", Ok(event)));
    assert_eq!(metrics.try_recv().unwrap_err().error, TryRecvError::Empty);
    assert_eq!(metrics.topics(), vec!["metrics.cpu"]);
}

#[test]
fn a_lapped_record_pattern_subscriber_counts_every_record() {
    let bus = Bus::builder().record_capacity(1024).build(); // 16 chunks
    let mut logs = bus.subscribe_pattern_records("log.*").unwrap();
    let tx = bus.records("log.api").unwrap();
    let sent = 200u64;
    for i in 0..sent {
        tx.send(&vec![i as u8; (i as usize * 7) % 150]).unwrap();
    }
    let (mut received, mut missed) = (0, 0);
    loop {
        match logs.try_recv() {
            Ok((_, bytes)) => {
                received += 1;
                assert!(bytes
                    .iter()
                    .all(|&b| b == bytes.first().copied().unwrap_or(0)));
            }
            Err(TopicError {
                error: TryRecvError::Lagged(n),
                ..
            }) => missed += n,
            Err(e) if e.error == TryRecvError::Empty => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(missed > 0);
    assert_eq!(received + missed, sent);
    let stats = logs.stats();
    assert_eq!((stats.received, stats.missed), (received, missed));
}

#[test]
fn many_producers_on_one_record_topic_lose_nothing_for_a_gated_reader() {
    let bus = Bus::builder().record_capacity(2048).build();
    let tx = bus.records("orders").unwrap();
    let mut audit = tx.subscribe_gated_with(seqcast::GateConfig::default());
    let (producers, per) = (3u8, 400u32);
    let reader = std::thread::spawn(move || {
        let mut next = vec![0u32; producers as usize];
        let mut buf = Vec::new();
        for _ in 0..u32::from(producers) * per {
            audit.recv_into(&mut buf).unwrap();
            // Record of producer p, number i: p, i (4 bytes), then i bytes of p.
            let (p, i) = (buf[0], u32::from_le_bytes(buf[1..5].try_into().unwrap()));
            assert_eq!(i, next[p as usize], "producer {p}: out of order");
            assert_eq!(buf.len(), 5 + (i as usize % 200));
            assert!(buf[5..].iter().all(|&b| b == p));
            next[p as usize] += 1;
        }
        audit
    });
    std::thread::scope(|s| {
        for p in 0..producers {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    let mut r = vec![p];
                    r.extend_from_slice(&i.to_le_bytes());
                    r.resize(5 + (i as usize % 200), p);
                    tx.send(&r).unwrap();
                }
            });
        }
    });
    let audit = reader.join().unwrap();
    assert_eq!(audit.stats().missed, 0);
    assert_eq!(tx.published(), u64::from(producers) * u64::from(per));
}

#[test]
fn a_subscriber_made_while_others_publish_counts_exactly() {
    // Subscribing takes no lock: the start's message number comes from the ring. Check it
    // against the publisher's count under a racing producer.
    let bus = Bus::builder().record_capacity(1024).build();
    let tx = bus.records("t").unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tx.send(&i.to_le_bytes().repeat(1 + (i % 9) as usize))
                    .unwrap();
                i += 1;
            }
        });
        // Stops the producer even if an assertion below fails (the scope joins it).
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let _stop = Stop(&stop);
        for _ in 0..300 {
            let mut rx = tx.subscribe();
            let start = rx.position();
            let mut buf = Vec::new();
            // The first record it reads (or is told it lost) is numbered `start`.
            loop {
                match rx.try_recv_into(&mut buf) {
                    Ok(_) => {
                        let first = u64::from_le_bytes(buf[..8].try_into().unwrap());
                        assert_eq!(first, start);
                        break;
                    }
                    Err(TryRecvError::Lagged(_)) => break,
                    Err(TryRecvError::Empty) => std::thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            }
        }
    });
}

#[test]
fn replay_of_a_record_topic_starts_at_a_whole_record() {
    let bus = Bus::builder().record_capacity(1024).build(); // 16 chunks
    let tx = bus.records("t").unwrap();
    for i in 0..30u8 {
        tx.send(&[i; 100]).unwrap(); // 3 chunks each: the window starts mid-record
    }
    let mut late = tx.subscribe_oldest();
    let mut first = None;
    let mut n = 0;
    while let Ok(r) = late.try_recv() {
        assert!(r.iter().all(|&b| b == r[0]) && r.len() == 100);
        first.get_or_insert(r[0]);
        n += 1;
    }
    assert_eq!(late.stats().missed, 0);
    let first = first.unwrap();
    assert_eq!(u64::from(first) + n, 30, "contiguous up to the newest");
    assert!(first >= 25, "at most a ring's worth: {first}");
}

#[test]
fn a_parked_record_pattern_subscriber_is_woken() {
    let bus = Bus::new();
    let mut logs = bus.subscribe_pattern_records("log.>").unwrap();
    let b = bus.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        b.records("log.eu.api").unwrap().send(&[5; 1000]).unwrap();
    });
    let (topic, bytes) = logs.recv().unwrap();
    assert_eq!((topic.as_str(), bytes), ("log.eu.api", vec![5; 1000]));
    t.join().unwrap();
    assert!(matches!(
        logs.recv_timeout(Duration::from_millis(10))
            .unwrap_err()
            .error,
        seqcast::error::RecvTimeoutError::Timeout
    ));
}

#[test]
fn async_typed_pattern_subscriber_under_select_with_shutdown() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let bus = Bus::builder().lag_policy(LagPolicy::Skip).build();
        let mut users = bus
            .subscribe_pattern_typed::<OrderCreated>("user.*")
            .unwrap();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let b = bus.clone();
        let producer = std::thread::spawn(move || {
            let mut tx = b.typed::<OrderCreated>("user.created").unwrap();
            for i in 0..10 {
                tx.send(&order(i)).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
            stop_tx.send(()).unwrap();
        });
        let mut got = Vec::new();
        loop {
            tokio::select! {
                item = users.recv_async() => match item {
                    Ok((_, value)) => got.push(value.unwrap()),
                    Err(e) => assert!(!matches!(e.error, RecvError::Closed), "{e:?}"),
                },
                _ = &mut stop_rx => break,
            }
        }
        producer.join().unwrap();
        while let Ok((_, v)) = users.try_recv() {
            got.push(v.unwrap());
        }
        assert_eq!(got, (0..10).map(order).collect::<Vec<_>>());
    });
}

#[test]
fn pattern_replay_reads_each_topics_retained_window() {
    let bus = Bus::builder().capacity(8).record_capacity(1024).build();
    // Typed rings: 20 messages on an 8-slot ring leave the last 8.
    let cpu = bus.publisher::<u64>("metrics.cpu").unwrap();
    for i in 0..20 {
        cpu.send(i).unwrap();
    }
    bus.publisher::<u64>("metrics.mem")
        .unwrap()
        .send(7)
        .unwrap();
    let mut late = bus.subscribe_pattern_oldest::<u64>("metrics.*").unwrap();
    let mut got: Vec<(String, u64)> = Vec::new();
    while let Ok((t, v)) = late.try_recv() {
        got.push((t.to_string(), v));
    }
    got.sort();
    let mut want: Vec<(String, u64)> = (12..20).map(|i| ("metrics.cpu".into(), i)).collect();
    want.push(("metrics.mem".into(), 7));
    assert_eq!(got, want);
    assert_eq!(
        late.stats().missed,
        0,
        "what was gone before it joined is not a loss"
    );

    // Record topics: the window starts at the oldest whole record.
    let logs = bus.records("log.api").unwrap();
    for i in 0..30u8 {
        logs.send(&[i; 100]).unwrap();
    }
    let mut late = bus
        .subscribe_pattern_oldest_of::<seqcast::bus::Records>("log.*")
        .unwrap();
    let mut seen = Vec::new();
    while let Ok((_, r)) = late.try_recv() {
        seen.push(r[0]);
    }
    assert_eq!(*seen.last().unwrap(), 29);
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");
    assert_eq!(late.stats().missed, 0);
}
