//! The `Bus`: typed topics, removal.

use seqcast::error::{BusError, CapacityError, TryRecvError, TrySendError};
use seqcast::{Bus, LagPolicy};

// ---------------------------------------------------------------------------------------------
// Typed topics

#[derive(Clone, Copy, Debug, PartialEq)]
struct Order {
    id: u32,
    cents: u64,
}

#[test]
#[cfg_attr(
    miri,
    ignore = "`Order` has padding bytes: under Miri payload words are plain AtomicU64s (src/sync.rs)"
)]
fn publish_and_subscribe_share_a_topic() {
    let bus = Bus::new();
    let mut a = bus.subscribe::<Order>("order.created").unwrap();
    let tx = bus.publisher::<Order>("order.created").unwrap();
    let mut b = bus.clone().subscribe::<Order>("order.created").unwrap();
    let order = Order { id: 1, cents: 999 };
    assert_eq!(tx.send(order), Ok(0));
    assert_eq!(a.try_recv(), Ok(order));
    assert_eq!(b.try_recv(), Ok(order));
    // Dropping every user handle does not close the topic: the bus holds it.
    drop((tx, a));
    let tx = bus.publisher::<Order>("order.created").unwrap();
    assert!(!tx.is_closed());
    assert_eq!(tx.send(order), Ok(1));
    assert_eq!(b.try_recv(), Ok(order));
    assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn type_mismatch_is_an_error_not_a_panic() {
    let bus = Bus::new();
    let _tx = bus.publisher::<Order>("order.created").unwrap();
    let err = bus.publisher::<u64>("order.created").unwrap_err();
    assert_eq!(
        err,
        BusError::TypeMismatch {
            topic: "order.created".into(),
            expected: std::any::type_name::<Order>(),
            found: "u64",
        }
    );
    assert!(matches!(
        bus.subscribe::<(u32, u64)>("order.created"),
        Err(BusError::TypeMismatch {
            found: "(u32, u64)",
            ..
        })
    ));
    // The topic is untouched.
    let topics = bus.topics();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].type_name, std::any::type_name::<Order>());
}

#[test]
fn builder_capacity_and_policy() {
    assert_eq!(
        Bus::builder().capacity(0).try_build().unwrap_err(),
        CapacityError::Zero
    );
    assert!(matches!(
        Bus::builder().capacity(usize::MAX).try_build(),
        Err(CapacityError::TooLarge { .. })
    ));
    let bus = Bus::builder()
        .capacity(5)
        .lag_policy(LagPolicy::Disconnect)
        .build();
    assert_eq!(bus.capacity(), 8);
    assert_eq!(bus.lag_policy(), LagPolicy::Disconnect);
    let rx = bus.subscribe::<u8>("t").unwrap();
    assert_eq!(rx.capacity(), 8);
    assert_eq!(rx.lag_policy(), LagPolicy::Disconnect);
    assert_eq!(Bus::new().capacity(), seqcast::bus::DEFAULT_CAPACITY);
    assert!(format!("{bus:?}").contains("\"t\""));
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn builder_panics_on_zero_capacity() {
    Bus::builder().capacity(0).build();
}

#[test]
fn too_large_ring_is_a_capacity_error() {
    let bus = Bus::builder().capacity(1 << 62).build();
    assert!(matches!(
        bus.publisher::<[u64; 8]>("huge"),
        Err(BusError::Capacity { ref topic, error: CapacityError::TooLarge { .. } }) if topic == "huge"
    ));
    assert!(bus.topics().is_empty());
}

#[test]
fn topics_lists_type_capacity_published_and_subscribers() {
    let bus = Bus::builder().capacity(16).build();
    let tx = bus.publisher::<u32>("b.two").unwrap();
    let _rx1 = bus.subscribe::<u32>("b.two").unwrap();
    let _rx2 = bus.subscribe::<u32>("b.two").unwrap();
    let _p = bus.subscribe_pattern::<u32>("b.*").unwrap(); // one more reader of b.two
    bus.publisher::<i8>("a.one").unwrap();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    let topics = bus.topics();
    let summary: Vec<_> = topics
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.type_name,
                t.capacity,
                t.published,
                t.subscribers,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![("a.one", "i8", 16, 0, 0), ("b.two", "u32", 16, 5, 3)]
    );
}

// ---------------------------------------------------------------------------------------------
// Removal

#[test]
fn remove_closes_drains_and_refuses_sends() {
    let bus = Bus::new();
    let tx = bus.publisher::<u32>("jobs").unwrap();
    let mut rx = bus.subscribe::<u32>("jobs").unwrap();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(bus.remove("jobs"), Ok(true));
    assert_eq!(bus.remove("jobs"), Ok(false));
    assert_eq!(bus.remove("never.existed"), Ok(false));
    // subscribers drain, then Closed
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    // `tx` is alive: the message must not claim every publisher is gone.
    let closed = TryRecvError::Closed.to_string();
    assert!(closed.contains("removed"), "{closed}");
    // publishers are refused
    assert!(tx.is_closed());
    let refused = tx.send(3).unwrap_err();
    assert_eq!(refused.into_inner(), 3, "the value is handed back");
    assert!(refused.to_string().contains("closed"), "{refused}");
    assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
    assert!(bus.topics().is_empty());
}

#[test]
fn remove_then_recreate_gives_a_fresh_topic() {
    let bus = Bus::builder().capacity(4).build();
    let old_tx = bus.publisher::<u32>("t").unwrap();
    let mut old_rx = bus.subscribe::<u32>("t").unwrap();
    old_tx.send(10).unwrap();
    assert!(bus.remove("t").unwrap());

    // Same name, same type: a new ring, numbered from 0.
    let tx = bus.publisher::<u32>("t").unwrap();
    let mut rx = bus.subscribe::<u32>("t").unwrap();
    assert!(!tx.is_closed());
    assert_eq!(tx.send(20), Ok(0));
    assert_eq!(rx.try_recv(), Ok(20));
    // The old handles stay on the old, closed topic.
    assert_eq!(old_tx.try_send(11), Err(TrySendError::Closed(11)));
    assert_eq!(old_rx.try_recv(), Ok(10));
    assert_eq!(old_rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(bus.topics()[0].published, 1);

    // Same name, another type, once removed.
    assert!(bus.remove("t").unwrap());
    let tx = bus.publisher::<[u8; 3]>("t").unwrap();
    tx.send(*b"new").unwrap();
    assert_eq!(bus.topics()[0].type_name, "[u8; 3]");
}
