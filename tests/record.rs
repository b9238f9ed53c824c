//! Record topics: whole records of any length, exact lag in records, every policy, typed
//! serde messages. Records are built so that every byte derives from their sequence number
//! and length: a torn, mixed or misplaced byte is detected.

use seqcast::error::{CapacityError, RecordError, RecvError, TryRecvError};
use seqcast::record::{self, Postcard};
use seqcast::{GateConfig, LagPolicy};
use std::time::Duration;

/// Record `seq`: `len` bytes, each a function of `seq`, `len` and its index.
fn record_of(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq.wrapping_mul(131) ^ (i as u64).wrapping_mul(7) ^ len as u64) as u8)
        .collect()
}

/// A length that varies with `seq`, up to `max`, hitting the chunk boundaries (40, 88, ...).
fn len_of(seq: u64, max: usize) -> usize {
    const EDGES: [usize; 8] = [0, 1, 39, 40, 41, 88, 89, 200];
    let l = if seq % 3 == 0 {
        EDGES[(seq / 3 % 8) as usize]
    } else {
        (seq.wrapping_mul(2654435761) % (max as u64 + 1)) as usize
    };
    l.min(max)
}

/// Checks that `buf` is exactly some record `seq` (its length tells which lengths fit).
fn check(buf: &[u8], seq: u64) {
    assert_eq!(buf, record_of(seq, buf.len()), "record {seq} is not whole");
}

#[test]
fn capacity_and_limits() {
    assert_eq!(record::try_channel(0).unwrap_err(), CapacityError::Zero);
    let (mut tx, _rx) = record::channel(64);
    assert_eq!(tx.capacity(), 64);
    assert_eq!(tx.max_len(), 40);
    let (mut big, _rx2) = record::channel(4096);
    assert_eq!(big.max_len(), 40 + 31 * 48);
    let too_long = vec![0u8; big.max_len() + 1];
    assert_eq!(
        big.send(&too_long),
        Err(RecordError::TooLarge {
            len: big.max_len() + 1,
            max: big.max_len()
        })
    );
    assert_eq!(big.published(), 0, "a refused record is not published");
    assert!(tx.send(&[1; 40]).is_ok());
    assert!(format!("{tx:?}").contains("max_len"));
}

#[test]
fn records_of_every_length_round_trip_and_wrap() {
    let (mut tx, mut rx) = record::channel(2048);
    let max = tx.max_len();
    let mut buf = Vec::new();
    // Many laps of a small ring, read as we go: records straddle the ring's end.
    for seq in 0..2000u64 {
        let len = len_of(seq, max);
        assert_eq!(tx.send(&record_of(seq, len)), Ok(seq));
        assert_eq!(rx.try_recv_into(&mut buf), Ok(len));
        check(&buf, seq);
    }
    assert_eq!(rx.try_recv_into(&mut buf), Err(TryRecvError::Empty));
    assert_eq!(rx.stats().received, 2000);
}

#[test]
fn a_lapped_subscriber_learns_exactly_how_many_records_it_missed() {
    for policy in [LagPolicy::Skip, LagPolicy::SkipToNewest] {
        let (mut tx, mut rx) = record::channel(1024);
        rx.set_lag_policy(policy);
        let max = tx.max_len();
        let mut next_check = 0u64;
        let mut buf = Vec::new();
        for round in 0..50u64 {
            // Bursts longer than the ring, then drain.
            for _ in 0..(round % 7 + 1) * 5 {
                let seq = tx.published();
                tx.send(&record_of(seq, len_of(seq, max))).unwrap();
            }
            loop {
                match rx.try_recv_into(&mut buf) {
                    Ok(_) => {
                        let seq = rx.position() - 1;
                        assert!(seq >= next_check);
                        check(&buf, seq);
                        next_check = seq + 1;
                    }
                    Err(TryRecvError::Lagged(n)) => assert!(n > 0),
                    Err(TryRecvError::Empty) => break,
                    Err(e) => panic!("{e:?}"),
                }
            }
            let s = rx.stats();
            assert_eq!(s.received + s.missed, tx.published(), "{policy:?}");
        }
        assert!(rx.stats().missed > 0, "the test must lap the subscriber");
    }
}

#[test]
fn close_drains_then_reports_closed_and_counts_what_was_lost() {
    let (mut tx, mut rx) = record::channel(1024);
    let mut slow = tx.subscribe();
    for seq in 0..3 {
        tx.send(&record_of(seq, 100)).unwrap();
    }
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_into(&mut buf), Ok(100));
    for seq in 3..40 {
        tx.send(&record_of(seq, 100)).unwrap();
    }
    drop(tx);
    let mut got = 0;
    let mut missed = 0;
    loop {
        match slow.try_recv_into(&mut buf) {
            Ok(_) => {
                check(&buf, slow.position() - 1);
                got += 1;
            }
            Err(TryRecvError::Lagged(n)) => missed += n,
            Err(TryRecvError::Closed) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got + missed, 40);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(slow.recv(), Err(RecvError::Closed));
}

#[test]
fn disconnect_reports_once_then_detaches() {
    let (mut tx, mut rx) = record::channel(256);
    rx.set_lag_policy(LagPolicy::Disconnect);
    for seq in 0..20 {
        tx.send(&record_of(seq, 60)).unwrap();
    }
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Lagged(n)) if n > 0));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Detached));
    tx.send(b"later").unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Detached));
}

#[test]
fn gated_subscribers_lose_nothing_and_try_send_is_all_or_nothing() {
    let (mut tx, lossy) = record::channel(512); // 8 chunks
    drop(lossy);
    let mut gated = tx.subscribe_gated();
    assert!(gated.is_gated());
    // Three records of 2 chunks fill 6 of 8 chunks; a 3-chunk record does not fit.
    for seq in 0..3 {
        tx.try_send(&record_of(seq, 80)).unwrap();
    }
    assert_eq!(tx.try_send(&record_of(3, 130)), Err(RecordError::Full));
    assert_eq!(tx.published(), 3);
    let mut buf = Vec::new();
    assert_eq!(gated.try_recv_into(&mut buf), Ok(80));
    check(&buf, 0);
    assert_eq!(tx.try_send(&record_of(3, 130)), Ok(3));
    for seq in 1..4 {
        gated.try_recv_into(&mut buf).unwrap();
        check(&buf, seq);
    }
    // A blocking publisher and a parked gated subscriber: thousands of records, none lost.
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        for seq in 4..3000u64 {
            gated.recv_into(&mut buf).unwrap();
            assert_eq!(gated.position(), seq + 1);
            check(&buf, seq);
        }
        gated.stats()
    });
    for seq in 4..3000u64 {
        tx.send(&record_of(seq, len_of(seq, tx.max_len()))).unwrap();
    }
    let s = reader.join().unwrap();
    assert_eq!((s.received, s.missed), (3000, 0));
}

#[test]
fn an_evicted_gated_subscriber_reports_what_it_will_not_read() {
    let (mut tx, lossy) = record::channel(256);
    drop(lossy);
    let mut gated =
        tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::from_millis(20))));
    for seq in 0..30 {
        tx.send(&record_of(seq, 50)).unwrap();
    }
    let mut got = 0;
    let mut missed = 0;
    loop {
        match gated.try_recv() {
            Ok(r) => {
                check(&r, gated.position() - 1);
                got += 1;
            }
            Err(TryRecvError::Lagged(n)) => missed += n,
            Err(TryRecvError::Detached) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(gated.is_evicted());
    assert_eq!(got + missed, 30);
}

#[test]
fn records_cross_threads_whole_under_a_racing_publisher() {
    // The stress case: a publisher flat out, readers under each policy, small rings so that
    // laps land in the middle of records and readers catch records half written.
    for (capacity, policy, gated) in [
        (512, LagPolicy::Skip, false),
        (1024, LagPolicy::SkipToNewest, false),
        (2048, LagPolicy::Skip, true),
    ] {
        let (mut tx, rx) = record::channel(capacity);
        let mut rx = if gated {
            let g = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
            drop(rx);
            g
        } else {
            rx
        };
        rx.set_lag_policy(policy);
        let max = tx.max_len();
        let total = if cfg!(miri) { 200 } else { 40_000u64 };
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut last = None;
            loop {
                match rx.try_recv_into(&mut buf) {
                    Ok(_) => {
                        let seq = rx.position() - 1;
                        assert!(last.is_none_or(|l| seq > l), "out of order");
                        assert_eq!(buf.len(), len_of(seq, max));
                        check(&buf, seq);
                        last = Some(seq);
                    }
                    Err(TryRecvError::Empty | TryRecvError::Lagged(_)) => {}
                    Err(TryRecvError::Closed) => break,
                    Err(e) => panic!("{e:?}"),
                }
            }
            rx.stats()
        });
        for seq in 0..total {
            tx.send(&record_of(seq, len_of(seq, max))).unwrap();
        }
        drop(tx);
        let s = reader.join().unwrap();
        assert_eq!(s.received + s.missed, total, "{policy:?} gated={gated}");
        if gated {
            assert_eq!(s.missed, 0);
        }
    }
}

#[cfg(feature = "async")]
#[test]
fn async_receive_waits_for_whole_records() {
    let (mut tx, mut rx) = record::channel(4096);
    let t = std::thread::spawn(move || {
        for seq in 0..500u64 {
            tx.send(&record_of(seq, len_of(seq, 1000))).unwrap();
        }
    });
    let mut buf = Vec::new();
    let mut seen = 0;
    futures::executor::block_on(async {
        loop {
            match rx.recv_into_async(&mut buf).await {
                Ok(_) => {
                    check(&buf, rx.position() - 1);
                    seen += 1;
                }
                Err(RecvError::Lagged(n)) => seen += n,
                Err(RecvError::Closed) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
    });
    t.join().unwrap();
    assert_eq!(seen, 500);
}

mod typed {
    use super::*;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

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
        tags: BTreeMap<String, String>,
        value: f64,
    }

    fn order(i: u64) -> OrderCreated {
        OrderCreated {
            order_id: format!("ord-{i:031}"), // longer than any fixed-size text type had room for
            items: (0..(i % 25))
                .map(|k| Item {
                    sku: format!("sku-{k}"),
                    qty: k as u32,
                })
                .collect(),
            total: i as f64 * 1.25,
        }
    }

    #[test]
    fn orders_with_strings_and_vecs_round_trip() {
        let (mut tx, mut rx) = record::typed::<OrderCreated, Postcard>(64 * 1024).unwrap();
        let mut audit = tx.subscribe_gated();
        for i in 0..200 {
            assert_eq!(tx.send(&order(i)), Ok(i));
            assert_eq!(rx.try_recv(), Ok(order(i)));
        }
        for i in 0..200 {
            assert_eq!(audit.try_recv(), Ok(order(i)));
        }
        assert_eq!(rx.try_recv(), Err(RecordError::Recv(TryRecvError::Empty)));
        assert!(format!("{tx:?}").contains("postcard"));
    }

    #[test]
    fn metrics_with_tag_maps_round_trip_across_threads() {
        let (mut tx, mut rx) = record::typed::<MetricEvent, Postcard>(256 * 1024).unwrap();
        let t = std::thread::spawn(move || {
            for i in 0..1000u64 {
                let tags = (0..i % 5)
                    .map(|k| (format!("tag{k}"), format!("value-{i}-{k}")))
                    .collect();
                tx.send(&MetricEvent {
                    name: format!("cpu.load.{}", i % 7),
                    tags,
                    value: i as f64,
                })
                .unwrap();
            }
        });
        let (mut got, mut missed) = (0, 0);
        loop {
            match rx.recv() {
                Ok(m) => {
                    assert_eq!(m.tags.len() as f64, m.value % 5.0);
                    got += 1;
                }
                Err(RecordError::Recv(TryRecvError::Lagged(n))) => missed += n,
                Err(RecordError::Recv(TryRecvError::Closed)) => break,
                Err(e) => panic!("{e}"),
            }
        }
        t.join().unwrap();
        assert_eq!(got + missed, 1000);
    }

    #[test]
    fn encoding_errors_are_errors_and_send_nothing() {
        struct Refuses;
        impl Serialize for Refuses {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom(
                    "this value refuses to be encoded",
                ))
            }
        }
        impl<'de> Deserialize<'de> for Refuses {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                Err(serde::de::Error::custom("never"))
            }
        }
        let (mut tx, _rx) = record::typed::<Refuses, Postcard>(1024).unwrap();
        let err = tx.send(&Refuses).unwrap_err();
        // postcard reports its own message, not the value's.
        assert!(matches!(&err, RecordError::Encode(_)), "{err}");
        assert_eq!(tx.records().published(), 0);
        // Too large once encoded: refused whole.
        let (mut tx, _rx) = record::typed::<Vec<u8>, Postcard>(1024).unwrap();
        let max = tx.records().max_len();
        assert!(matches!(
            tx.send(&vec![0u8; max]),
            Err(RecordError::TooLarge { .. })
        ));
        assert_eq!(tx.records().published(), 0);
    }

    #[test]
    fn a_record_of_another_type_is_a_decode_error_and_the_stream_goes_on() {
        let (mut raw, rx) = record::channel(4096);
        let mut rx = seqcast::record::TypedSubscriber::<OrderCreated, Postcard>::new(rx);
        raw.send(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
            .unwrap();
        let mut ok = seqcast::record::TypedPublisher::<OrderCreated, Postcard>::new(raw);
        ok.send(&order(3)).unwrap();
        assert!(matches!(
            rx.try_recv(),
            Err(RecordError::Decode { seq: 0, .. })
        ));
        assert_eq!(rx.try_recv(), Ok(order(3)));
        assert_eq!(rx.stats().received, 2);
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_records_are_readable_as_text() {
        use seqcast::record::Json;
        let (tx, rx) = record::channel(4096);
        let mut tx = seqcast::record::TypedPublisher::<OrderCreated, Json>::new(tx);
        let mut raw = rx;
        let mut typed = seqcast::record::TypedSubscriber::<OrderCreated, Json>::new(raw.clone());
        tx.send(&order(2)).unwrap();
        let text = String::from_utf8(raw.try_recv().unwrap()).unwrap();
        assert!(text.contains("\"order_id\":\"ord-"), "{text}");
        assert_eq!(typed.try_recv(), Ok(order(2)));
    }
}
