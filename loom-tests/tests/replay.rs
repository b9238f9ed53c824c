//! Replay racing a lap: `SharedPublisher::subscribe_oldest()` made while a producer sends into
//! a full 2-slot ring of two-word messages. The oldest message the new subscriber starts at
//! may be overwritten before it reads it; whatever the interleaving, it never delivers a torn
//! or stale message, its deliveries and lag reports tile everything from its start to the
//! end (an exact `Lagged(n)` for what the lap took, nothing skipped unreported), and it starts
//! no earlier than the oldest message held when it was made (replay reports no loss of its
//! own making).
//!
//! Under `--cfg seqcast_loom_broken` (the completing stamp store weakened to `Relaxed`) the
//! replaying subscriber reads a slot's new stamp before its words and delivers a stale
//! message: the teeth test expects that failure.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, drain, Message};

type Msg = [u64; 2];

fn replay_racing_a_lap() {
    let (tx, rx) = seqcast::channel::<Msg>(2);
    drop(rx);
    let tx = tx.into_shared();
    // Two messages before the race: the ring is full, the oldest is message 0.
    let mut sent: Vec<(u64, u64)> = Vec::new();
    for s in 0..2 {
        assert_eq!(tx.send(Msg::make(0, s)), Ok(s));
        sent.push((0, s));
    }
    let producer = {
        let tx = tx.clone();
        thread::spawn(move || {
            for s in 2..4 {
                assert_eq!(tx.send(Msg::make(0, s)), Ok(s));
            }
        })
    };
    let mut late = tx.subscribe_oldest();
    let start = late.position();
    // At least 2 messages had been sent, at most 4: the oldest held was 0, 1 or 2.
    assert!(start <= 2, "started past the oldest message held: {start}");
    // The topic closes when the producer's handle goes too: the subscriber drains while it
    // sends (and laps it), then sees `Closed`.
    drop(tx);
    let seen = drain(&mut late);
    producer.join().unwrap();
    sent.extend((2..4).map(|s| (0, s)));
    seen.check_against(&sent, start, 2);
}

#[test]
#[cfg(not(seqcast_loom_broken))]
fn replay_racing_a_lap_tiles_from_its_start() {
    check(
        "replay_racing_a_lap_tiles_from_its_start",
        replay_racing_a_lap,
    );
}

#[test]
#[cfg(seqcast_loom_broken)]
#[should_panic(expected = "seqlock violation")]
fn teeth_replay_with_a_relaxed_completing_store_is_caught() {
    check("teeth_replay", replay_racing_a_lap);
}
