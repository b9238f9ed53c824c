//! loom models of the topic table (compiled only under `cfg(seqcast_loom)`, where the table's
//! `arc-swap` is replaced by the `Mutex` stand-in of `swap.rs`). Run with
//!
//! ```text
//! RUSTFLAGS="--cfg seqcast_loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!     cargo test -p seqcast --release --lib bus::loom_model
//! ```
//!
//! Small on purpose: one extra thread, capacity 2, one message.

use crate::error::TryRecvError;
use crate::Bus;
use loom::thread;

/// A topic created (and published to) concurrently with a pattern subscriber's receive is
/// found by it, and read from its first message: nothing is lost, whatever the interleaving
/// of the table install, the generation bump and the subscriber's scan.
#[test]
fn pattern_subscriber_finds_a_topic_created_concurrently() {
    loom::model(|| {
        let bus = Bus::builder().capacity(2).build();
        let mut sub = bus.subscribe_pattern::<u64>("t.*").unwrap();
        let creator = {
            let bus = bus.clone();
            thread::spawn(move || {
                bus.publisher::<u64>("t.a").unwrap().send(7).unwrap();
            })
        };
        let mut got = Vec::new();
        match sub.try_recv() {
            Ok((_, v)) => got.push(v),
            Err(e) if e.error == TryRecvError::Empty => {}
            Err(e) => panic!("{e:?}"),
        }
        creator.join().unwrap();
        loop {
            match sub.try_recv() {
                Ok((_, v)) => got.push(v),
                Err(e) if e.error == TryRecvError::Empty => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(got, [7]);
    });
}

/// A lookup racing with a removal gets either the old topic (then its send is delivered to
/// the old topic's subscriber, or refused because the topic closed) or a fresh topic; the old
/// subscriber always ends with `Closed`, having received exactly the accepted sends.
#[test]
fn lookup_and_send_race_with_remove() {
    loom::model(|| {
        let bus = Bus::builder().capacity(2).build();
        let mut rx = bus.subscribe::<u64>("t").unwrap();
        let remover = {
            let bus = bus.clone();
            thread::spawn(move || assert!(bus.remove("t").unwrap()))
        };
        let tx = bus.publisher::<u64>("t").unwrap();
        let accepted = tx.try_send(1).is_ok();
        remover.join().unwrap();

        let mut delivered = 0;
        loop {
            match rx.try_recv() {
                Ok(1) => delivered += 1,
                Err(TryRecvError::Closed) => break,
                // A send claimed just before the close may still be finishing: not here, the
                // sender is this thread, but keep the model honest.
                Err(TryRecvError::Empty) => loom::thread::yield_now(),
                other => panic!("{other:?}"),
            }
        }
        if tx.is_closed() {
            // `tx` is on the removed topic.
            assert_eq!(delivered, u64::from(accepted));
        } else {
            // `tx` created a fresh topic after the removal.
            assert!(accepted);
            assert_eq!(delivered, 0);
            assert_eq!(bus.topics().len(), 1);
        }
    });
}
