//! Batch receive, batch publish and slot layouts: what each call promises, case by case.
//! (The stress and differential tests cover them under concurrency and at random.)

use seqcast::error::{SendError, TryRecvError};
use seqcast::{Bus, GateConfig, LagPolicy, SlotLayout, WaitStrategy};
use std::time::Duration;

#[test]
fn limit_zero_takes_nothing() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(4);
    tx.send(1);
    assert_eq!(rx.try_recv_batch(0, |_| panic!("limit 0")), Ok(0));
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_many(&mut buf, 0), Ok(0));
    assert_eq!(rx.recv_many(&mut buf, 0), Ok(0));
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn a_batch_stops_at_its_limit_and_at_the_head() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(64);
    assert_eq!(tx.send_batch(&(0..50).collect::<Vec<_>>()), 0..50);
    let mut got = Vec::new();
    assert_eq!(rx.try_recv_batch(40, |v| got.push(v)), Ok(40));
    assert_eq!(rx.try_recv_batch(40, |v| got.push(v)), Ok(10));
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    assert_eq!(rx.try_recv_batch(40, |_| {}), Err(TryRecvError::Empty));
    assert_eq!(rx.stats().received, 50);
}

#[test]
fn a_lap_before_the_batch_is_its_answer() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(4);
    tx.send_batch(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(rx.try_recv_batch(8, |_| {}), Err(TryRecvError::Lagged(6)));
    let mut got = Vec::new();
    assert_eq!(rx.try_recv_batch(8, |v| got.push(v)), Ok(4));
    assert_eq!(got, [6, 7, 8, 9]);
}

#[test]
fn a_lap_in_the_middle_ends_the_batch_and_is_reported_next() {
    // The callback itself laps the subscriber after the first message: the run that follows
    // must not hand over anything from the new lap as if it were the old one.
    for layout in [SlotLayout::Line, SlotLayout::Packed] {
        let (mut tx, mut rx) = seqcast::try_channel_with::<[u64; 2]>(4, layout).unwrap();
        for i in 0..4 {
            tx.send([i, !i]);
        }
        let mut got = Vec::new();
        let first = rx.try_recv_batch(16, |v| {
            if got.is_empty() {
                for i in 4..12 {
                    tx.send([i, !i]);
                }
            }
            got.push(v);
        });
        let n = first.unwrap();
        assert!(got.iter().all(|v| v[1] == !v[0]), "torn: {got:?}");
        // Message 0 was read before the lap; whatever else came was read whole, in order.
        assert!(got.windows(2).all(|w| w[1][0] == w[0][0] + 1));
        assert_eq!(got.len(), n);
        let mut missed = 0;
        loop {
            match rx.try_recv_batch(16, |v| got.push(v)) {
                Ok(_) => {}
                Err(TryRecvError::Lagged(k)) => missed += k,
                Err(TryRecvError::Empty) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(got.len() as u64 + missed, 12, "{layout:?}");
        assert_eq!(got.last().unwrap()[0], 11);
    }
}

#[test]
fn close_is_reported_after_the_drain() {
    let (mut tx, mut rx) = seqcast::channel::<u32>(8);
    tx.send_batch(&[1, 2, 3]);
    drop(tx);
    let mut buf = Vec::new();
    assert_eq!(rx.try_recv_many(&mut buf, 8), Ok(3));
    assert_eq!(rx.try_recv_many(&mut buf, 8), Err(TryRecvError::Closed));
    assert_eq!(buf, [1, 2, 3]);
}

#[test]
fn disconnect_reports_the_lag_then_detaches() {
    let (mut tx, mut rx) = seqcast::channel::<u32>(2);
    rx.set_lag_policy(LagPolicy::Disconnect);
    tx.send_batch(&[1, 2, 3, 4, 5]);
    assert_eq!(rx.try_recv_batch(8, |_| {}), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx.try_recv_batch(8, |_| {}), Err(TryRecvError::Detached));
}

#[test]
fn a_reused_buffer_does_not_grow() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(16);
    let mut buf = Vec::with_capacity(16);
    let cap = buf.capacity();
    for round in 0..10u64 {
        tx.send_batch(&[round; 16]);
        buf.clear();
        assert_eq!(rx.try_recv_many(&mut buf, 16), Ok(16));
        assert_eq!(buf.capacity(), cap);
    }
}

#[test]
fn a_panicking_callback_is_given_nothing_twice() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(8);
    tx.send_batch(&[0, 1, 2, 3]);
    let mut seen = Vec::new();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rx.try_recv_batch(8, |v| {
            seen.push(v);
            if v == 1 {
                panic!("callback gives up");
            }
        })
    }));
    assert!(r.is_err());
    assert_eq!(seen, [0, 1]);
    // Messages 0 and 1 were handed over; the next receive starts at 2.
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.stats().received, 3);
}

#[test]
fn try_send_batch_sends_the_prefix_the_gates_allow() {
    let (mut tx, lossy) = seqcast::channel::<u8>(2);
    drop(lossy);
    let mut gated = tx.subscribe_gated();
    assert_eq!(tx.try_send_batch(&[1, 2, 3]), 0..2);
    assert_eq!(tx.try_send_batch(&[3]), 2..2);
    let mut buf = Vec::new();
    assert_eq!(gated.try_recv_many(&mut buf, 8), Ok(2));
    // One position update for the whole batch made room for two.
    assert_eq!(tx.try_send_batch(&[3, 4, 5]), 2..4);
    assert_eq!(gated.try_recv_many(&mut buf, 8), Ok(2));
    assert_eq!(buf, [1, 2, 3, 4]);
}

#[test]
fn a_gated_batch_longer_than_the_ring_waits_for_a_parked_subscriber() {
    // The publisher must wake a blocking gated subscriber before it waits for room, or both
    // wait for each other.
    let (mut tx, lossy) = seqcast::channel::<u64>(4);
    drop(lossy);
    let mut gated =
        tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::from_secs(60))));
    gated.set_wait_strategy(WaitStrategy::Blocking);
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        while buf.len() < 1000 {
            gated.recv_many(&mut buf, 7).unwrap();
        }
        buf
    });
    let values: Vec<u64> = (0..1000).collect();
    assert_eq!(tx.send_batch(&values), 0..1000);
    assert_eq!(reader.join().unwrap(), values);
}

#[test]
fn a_shared_batch_is_all_or_nothing_and_never_interleaved() {
    let bus = Bus::new();
    let tx = bus.publisher::<u32>("t").unwrap();
    let mut rx = bus.subscribe::<u32>("t").unwrap();
    std::thread::scope(|s| {
        for id in 0..2u32 {
            let tx = tx.clone();
            s.spawn(move || {
                for b in 0..50u32 {
                    let batch: Vec<u32> = (0..5).map(|i| id << 16 | b << 4 | i).collect();
                    let r = tx.send_batch(&batch).unwrap();
                    assert_eq!(r.end - r.start, 5);
                }
            });
        }
    });
    let mut got = Vec::new();
    while let Ok(n) = rx.try_recv_many(&mut got, 64) {
        assert!(n > 0);
    }
    assert_eq!(got.len(), 500);
    for batch in got.chunks(5) {
        let head = batch[0] & !0xf;
        assert!(
            batch.iter().enumerate().all(|(i, &v)| v == head | i as u32),
            "{batch:?}"
        );
    }
    bus.remove("t").unwrap();
    let values = [7, 8];
    let published = tx.published();
    assert_eq!(tx.send_batch(&values), Err(SendError(&values[..])));
    assert_eq!(tx.published(), published);
}

#[test]
fn a_reporting_subscriber_publishes_its_position_once_per_batch() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(64);
    rx.report_position(Some("dash"), 4);
    tx.send_batch(&[0; 10]);
    assert_eq!(rx.try_recv_batch(64, |_| {}), Ok(10));
    let positions = tx.positions();
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].position, 10);
}

#[test]
fn layouts_resolve_by_payload_size() {
    let line = |layout| {
        (
            seqcast::try_channel_with::<u64>(4, layout)
                .unwrap()
                .0
                .slot_layout(),
            seqcast::try_channel_with::<[u64; 3]>(4, layout)
                .unwrap()
                .0
                .slot_layout(),
            seqcast::try_channel_with::<[u64; 4]>(4, layout)
                .unwrap()
                .0
                .slot_layout(),
        )
    };
    use SlotLayout::{Line, Packed};
    assert_eq!(line(Line), (Line, Line, Line));
    // Packed changes payloads up to 24 bytes; a larger one still gets whole lines.
    assert_eq!(line(Packed), (Packed, Packed, Line));
    let (tx, _rx) = seqcast::channel::<[u8; 64]>(4);
    assert_eq!(tx.slot_layout(), Line);
    let bus = Bus::builder().slot_layout(Packed).build();
    let p = bus.publisher::<u32>("small").unwrap();
    assert_eq!(p.slot_layout(), Packed);
    assert!(format!("{p:?}").contains("Packed"));
}

#[test]
fn every_layout_carries_odd_sizes_and_alignments() {
    fn round_trip<T: Copy + Send + PartialEq + std::fmt::Debug + 'static>(make: fn(u64) -> T) {
        for layout in [SlotLayout::Auto, SlotLayout::Line, SlotLayout::Packed] {
            let (mut tx, mut rx) = seqcast::try_channel_with::<T>(8, layout).unwrap();
            let values: Vec<T> = (0..20).map(make).collect();
            tx.send_batch(&values);
            let mut got = Vec::new();
            assert_eq!(rx.try_recv_batch(64, |_| {}), Err(TryRecvError::Lagged(12)));
            while rx.try_recv_many(&mut got, 3).is_ok() {}
            assert_eq!(got, values[12..], "{layout:?}");
        }
    }
    round_trip::<u8>(|i| i as u8);
    round_trip::<()>(|_| ());
    round_trip::<(u8, u32)>(|i| (i as u8, i as u32 * 3));
    round_trip::<u128>(|i| (i as u128) << 70 | i as u128);
    round_trip::<[u16; 11]>(|i| [i as u16; 11]);
    round_trip::<[u64; 300]>(|i| [i; 300]);
}

#[cfg(feature = "async")]
#[test]
fn recv_many_async_waits_and_a_cancelled_one_takes_nothing() {
    use futures::FutureExt;
    let (mut tx, mut rx) = seqcast::channel::<u32>(8);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_many_async(&mut buf, 8).now_or_never(), None);
    // Dropped while pending: no longer registered, nothing taken.
    assert_eq!(tx.waiting_subscribers(), 0);
    tx.send_batch(&[1, 2]);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        tx.send(3);
    });
    assert_eq!(
        futures::executor::block_on(rx.recv_many_async(&mut buf, 1)),
        Ok(1)
    );
    assert_eq!(
        futures::executor::block_on(rx.recv_many_async(&mut buf, 8)),
        Ok(1)
    );
    assert_eq!(
        futures::executor::block_on(rx.recv_many_async(&mut buf, 8)),
        Ok(1)
    );
    assert_eq!(buf, [1, 2, 3]);
    t.join().unwrap();
}
