//! Model: payloads of several words (capacity 2, 3 messages, so laps happen).
//!
//! The other models send one-word `u64`s, so no copy can tear across words. Here every word
//! of a payload derives from `(producer, seq)` ([`Message`] for `[u64; N]`), so a read that
//! mixes words of two messages, or a word never written, is caught as a *torn* read, and a
//! whole but wrong message as a stale one.
//!
//! * `[u64; 2]` is one pair: under loom the slot copy compiles the same pair loop as x86-64
//!   builds (`Payload::load_pair` / `store_pair` in `src/ring/slot.rs`), and each pair is what
//!   the pair path's argument says one SSE access stands for: two Relaxed word accesses with
//!   no fence between them. A single 16-byte step would allow fewer executions, so this covers
//!   the real instruction.
//! * `[u64; 3]` is a pair and a trailing single word (the word loop after the pair loop).
//!
//! Proves, for every interleaving explored: nothing torn or stale is delivered, deliveries are
//! in order and exact, the only possible lap reports `Lagged(1)` at position 0, and
//! delivered + lagged == published; with two subscribers too (bounded polls, as in
//! `seqlock.rs`).
//!
//! Under `--cfg seqcast_loom_broken_fence` (the writer's release fence between the odd stamp
//! and the payload words dropped) only the teeth test is built, and it must fail with a torn
//! multi-word read: a reader that takes a word of the overwriting message no longer sees the
//! odd stamp on its re-check.
#![cfg(seqcast_loom)]
#![cfg_attr(seqcast_loom_broken_fence, allow(dead_code))]

use loom::thread;
use loom_tests::{check, check_one_lap, drain, finish, poll, publish_all, Message, Seen};
use seqcast::Publisher;

const CAP: usize = 2;
const MSGS: u64 = 3;

fn publish<T: Message>(tx: Publisher<T>) -> Vec<(u64, u64)> {
    publish_all(tx, MSGS)
}

fn one_subscriber<T: Message>() {
    let (tx, mut rx) = seqcast::channel::<T>(CAP);
    let publisher = thread::spawn(move || publish(tx));
    let seen = drain(&mut rx);
    let sent = publisher.join().unwrap();
    check_one_lap(&seen, &sent);
}

/// As `seqlock.rs`'s two-subscriber model: bounded polls (1 and 1) while the publisher runs.
fn two_subscribers<T: Message>() {
    let (tx, mut rx) = seqcast::channel::<T>(CAP);
    let mut rx2 = rx.clone();
    let publisher = thread::spawn(move || publish(tx));
    let other = thread::spawn(move || {
        let mut seen = Seen::default();
        poll(&mut rx2, &mut seen, 1);
        (rx2, seen)
    });
    let mut seen = Seen::default();
    poll(&mut rx, &mut seen, 1);
    let sent = publisher.join().unwrap();
    let (mut rx2, mut seen2) = other.join().unwrap();
    finish(&mut rx, &mut seen);
    finish(&mut rx2, &mut seen2);
    check_one_lap(&seen, &sent);
    check_one_lap(&seen2, &sent);
}

#[test]
#[cfg(not(seqcast_loom_broken_fence))]
fn pair_copy_two_words_one_subscriber() {
    check(
        "pair_copy_two_words_one_subscriber",
        one_subscriber::<[u64; 2]>,
    );
}

#[test]
#[cfg(not(seqcast_loom_broken_fence))]
fn pair_and_word_three_words_one_subscriber() {
    check(
        "pair_and_word_three_words_one_subscriber",
        one_subscriber::<[u64; 3]>,
    );
}

#[test]
#[cfg(not(seqcast_loom_broken_fence))]
fn pair_copy_two_words_two_subscribers() {
    check(
        "pair_copy_two_words_two_subscribers",
        two_subscribers::<[u64; 2]>,
    );
}

/// Teeth: the two-word model against the broken build, checking only that every delivered
/// payload is whole (not its position), so that it passes only if loom finds a torn read.
#[test]
#[cfg(seqcast_loom_broken_fence)]
#[should_panic(expected = "torn multi-word read")]
fn teeth_no_writer_fence_tears_a_pair() {
    check("teeth (must fail)", || {
        let (tx, mut rx) = seqcast::channel::<[u64; 2]>(CAP);
        let publisher = thread::spawn(move || publish(tx));
        drain(&mut rx);
        publisher.join().unwrap();
    });
}
