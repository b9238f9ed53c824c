//! Model: a parking pattern subscriber (`bus::pattern_sub::wait`). It registers with the
//! table's event and with every ring it reads, re-checks, then sleeps; under loom it sleeps
//! in a yield loop on those events' generations, so a lost wake-up shows as a thread that
//! loops forever: loom stops it at its branch limit ("Model exceeded maximum number of
//! branches"), and the model fails.
//!
//! Small on purpose: one extra thread, capacity 2, one or two messages.
#![cfg(seqcast_loom)]
// `seqcast_loom_broken_pattern` is declared in the root Cargo.toml's check-cfg list; this
// package's own list is left to the models it already has.
#![allow(unexpected_cfgs)]

use loom::thread;
use loom_tests::{check, encode};
use seqcast::error::{RecvError, TopicError};
use seqcast::Bus;

/// The subscriber reads no topic yet and parks while another thread creates a matching
/// topic and sends to it: only the table's event can wake it (it was registered with no
/// ring), and it must then read the topic from its first message.
fn created_and_sent_while_parked() {
    let bus = Bus::builder().capacity(2).build();
    let mut sub = bus.subscribe_pattern::<u64>("t.*").unwrap();
    let creator = {
        let bus = bus.clone();
        thread::spawn(move || {
            bus.publisher::<u64>("t.a")
                .unwrap()
                .send(encode(0, 0))
                .unwrap();
        })
    };
    let (topic, v) = sub.recv().unwrap();
    assert_eq!((topic.as_str(), v), ("t.a", encode(0, 0)));
    creator.join().unwrap();
}

/// The subscriber reads one quiet topic and parks on it and on the table while another
/// thread creates a second matching topic and sends to it: woken by the creation, it must
/// also register with the new ring before it sleeps again, or the send is missed.
#[cfg_attr(seqcast_loom_broken_pattern, allow(dead_code))]
fn new_topic_beside_a_quiet_one() {
    let bus = Bus::builder().capacity(2).build();
    let _quiet = bus.publisher::<u64>("t.quiet").unwrap();
    let mut sub = bus.subscribe_pattern::<u64>("t.*").unwrap();
    let creator = {
        let bus = bus.clone();
        thread::spawn(move || {
            bus.publisher::<u64>("t.new")
                .unwrap()
                .send(encode(1, 0))
                .unwrap();
        })
    };
    let (topic, v) = sub.recv().unwrap();
    assert_eq!((topic.as_str(), v), ("t.new", encode(1, 0)));
    creator.join().unwrap();
}

/// Two topics read, two sends on the second, the topic then removed: the subscriber wakes
/// for each send (the rings' barrier pair, one heavy barrier for both rings) and for the
/// removal, and reports it.
#[cfg_attr(seqcast_loom_broken_pattern, allow(dead_code))]
fn sends_then_removal_on_a_topic_read() {
    let bus = Bus::builder().capacity(2).build();
    let _a = bus.publisher::<u64>("t.a").unwrap();
    let b = bus.publisher::<u64>("t.b").unwrap();
    let mut sub = bus.subscribe_pattern::<u64>("t.*").unwrap();
    let sender = {
        let bus = bus.clone();
        thread::spawn(move || {
            b.send(encode(2, 0)).unwrap();
            b.send(encode(2, 1)).unwrap();
            assert!(bus.remove("t.b").unwrap());
        })
    };
    for seq in 0..2 {
        let (topic, v) = sub.recv().unwrap();
        assert_eq!((topic.as_str(), v), ("t.b", encode(2, seq)));
    }
    match sub.recv() {
        Err(TopicError {
            topic: Some(topic),
            error: RecvError::Closed,
        }) => assert_eq!(topic.as_str(), "t.b"),
        other => panic!("expected t.b's removal, got {other:?}"),
    }
    sender.join().unwrap();
}

#[cfg(not(seqcast_loom_broken_pattern))]
#[test]
fn pattern_parks_while_a_matching_topic_is_created_and_sent_to() {
    check(
        "pattern_parks_while_a_matching_topic_is_created_and_sent_to",
        created_and_sent_while_parked,
    );
}

#[cfg(not(seqcast_loom_broken_pattern))]
#[test]
fn pattern_parks_on_a_quiet_topic_while_a_new_one_is_created_and_sent_to() {
    check(
        "pattern_parks_on_a_quiet_topic_while_a_new_one_is_created_and_sent_to",
        new_topic_beside_a_quiet_one,
    );
}

#[cfg(not(seqcast_loom_broken_pattern))]
#[test]
fn pattern_wakes_for_sends_and_the_removal_of_a_topic_it_reads() {
    check(
        "pattern_wakes_for_sends_and_the_removal_of_a_topic_it_reads",
        sends_then_removal_on_a_topic_read,
    );
}

/// Teeth: without the re-check after registering (`--cfg seqcast_loom_broken_pattern`), a
/// topic created between the subscriber's last look at the table and its registration is
/// missed, and so is the send on it: loom must find the subscriber looping forever.
#[cfg(seqcast_loom_broken_pattern)]
#[test]
#[should_panic(expected = "maximum number of branches")]
fn teeth_missing_pattern_recheck_is_caught() {
    check(
        "teeth_missing_pattern_recheck",
        created_and_sent_while_parked,
    );
}
