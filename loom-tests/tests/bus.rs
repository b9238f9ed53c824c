//! Model 5: the topic table (`Bus`), through its loom stand-in for `arc-swap`. Concurrent
//! create / lookup / remove / subscribe on one name, capacity 2, at most 3 threads. (The bus's
//! own unit models in `src/bus/loom_model.rs` cover a pattern subscriber racing a create, and
//! a lookup + send racing a remove.)
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, decode, encode};
use seqcast::error::TryRecvError;
use seqcast::Bus;

/// Two threads create the same topic at once: exactly one topic results, both publishers
/// send into it, and a pattern subscriber made before either gets both messages, in each
/// producer's order, once.
fn create_race() {
    let bus = Bus::builder().capacity(2).build();
    let mut watch = bus.subscribe_pattern::<u64>("t").unwrap();
    let other = bus.clone();
    let t = thread::spawn(move || {
        let p = other.publisher::<u64>("t").unwrap();
        p.send(encode(1, 0)).unwrap()
    });
    let p = bus.publisher::<u64>("t").unwrap();
    let mine = p.send(encode(2, 0)).unwrap();
    let theirs = t.join().unwrap();
    let mut tickets = [mine, theirs];
    tickets.sort_unstable();
    assert_eq!(tickets, [0, 1], "both sends went into one topic");
    let topics = bus.topics();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].published, 2);

    let mut got = Vec::new();
    loop {
        match watch.try_recv() {
            Ok((topic, v)) => {
                assert_eq!(topic.as_str(), "t");
                got.push(decode(v).expect("a value that was sent"));
            }
            Err(e) if e.error == TryRecvError::Empty => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    got.sort_unstable();
    assert_eq!(got, [(1, 0), (2, 0)]);
}

/// Two threads create the same name with different payload types: exactly one wins, the
/// other gets an error (never a panic, never two topics).
fn type_race() {
    let bus = Bus::builder().capacity(2).build();
    let other = bus.clone();
    let t = thread::spawn(move || other.publisher::<u64>("t").is_ok());
    let narrow = bus.publisher::<u32>("t").is_ok();
    let wide = t.join().unwrap();
    assert!(
        narrow != wide,
        "exactly one type wins: u32 {narrow}, u64 {wide}"
    );
    assert_eq!(bus.topics().len(), 1);
}

/// A subscribe (which creates the topic) races a remove of the same name: either the remove
/// came first and found nothing (`false`; the subscriber's topic is live), or it removed the
/// subscriber's topic (`true`; the subscriber sees `Closed`, and a later lookup creates a
/// fresh topic that the old subscriber never sees).
fn subscribe_remove_race() {
    let bus = Bus::builder().capacity(2).build();
    let other = bus.clone();
    let t = thread::spawn(move || other.remove("t").unwrap());
    let mut rx = bus.subscribe::<u64>("t").unwrap();
    let removed = t.join().unwrap();
    let tx = bus.publisher::<u64>("t").unwrap();
    tx.send(encode(0, 0)).unwrap();
    if removed {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert!(rx.is_closed());
    } else {
        assert_eq!(rx.try_recv(), Ok(encode(0, 0)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
    assert_eq!(bus.topics().len(), 1);
}

#[test]
fn bus_concurrent_create_same_topic() {
    check("bus_concurrent_create_same_topic", create_race);
}

#[test]
fn bus_concurrent_create_different_types() {
    check("bus_concurrent_create_different_types", type_race);
}

#[test]
fn bus_subscribe_races_remove() {
    check("bus_subscribe_races_remove", subscribe_remove_race);
}
