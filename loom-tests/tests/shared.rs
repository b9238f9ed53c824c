//! Model 2: two `SharedPublisher`s, one subscriber (capacity 2, 3 messages: producer 1 sends
//! two, producer 2 sends one).
//!
//! Proves: every delivered value was sent, and is exactly the message that holds the ticket
//! (sequence number) at which it was delivered; per-producer order; no duplicates; a
//! producer never overwrites a slot whose previous lap is unfinished (a torn value would be
//! caught); delivered + lagged == final position == messages sent; the subscriber delivers
//! the last `capacity` messages, which nobody overwrites; the topic closes only after the last
//! of the two producers is dropped, and the subscriber never hangs.
#![cfg(seqcast_loom)]

use loom::thread;
use loom_tests::{check, encode, finish, poll, Seen};

const CAP: usize = 2;

fn two_producers() {
    let (tx, mut rx) = seqcast::channel::<u64>(CAP);
    let a = tx.into_shared();
    let b = a.clone();
    let pa = thread::spawn(move || {
        (0..2)
            .map(|i| (a.send(encode(1, i)).unwrap(), (1, i)))
            .collect::<Vec<_>>()
    });
    let pb = thread::spawn(move || vec![(b.send(encode(2, 0)).unwrap(), (2, 0))]);
    // A producer may spin (waiting for the previous lap of its slot), so the subscriber polls
    // a bounded number of times while they run (see `loom_tests::poll`), then finishes.
    let mut seen = Seen::default();
    poll(&mut rx, &mut seen, 4);

    // Rebuild "message by ticket" from what each producer's `send` returned.
    let mut by_ticket: Vec<(u64, (u64, u64))> = pa.join().unwrap();
    by_ticket.extend(pb.join().unwrap());
    by_ticket.sort_unstable();
    let tickets: Vec<u64> = by_ticket.iter().map(|&(t, _)| t).collect();
    assert_eq!(tickets, [0, 1, 2], "tickets must be unique and dense");
    let sent: Vec<(u64, u64)> = by_ticket.into_iter().map(|(_, m)| m).collect();
    finish(&mut rx, &mut seen);

    seen.check_against(&sent, 0, CAP as u64);
    assert_eq!(rx.position(), 3, "final position");
    // Per-producer order and no duplicates, stated directly.
    for p in [1, 2] {
        let mine: Vec<u64> = seen
            .delivered
            .iter()
            .filter(|(_, (q, _))| *q == p)
            .map(|&(_, (_, i))| i)
            .collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "producer {p} out of order: {seen:?}"
        );
    }
}

#[test]
fn shared_two_producers_one_subscriber() {
    check("shared_two_producers_one_subscriber", two_producers);
}
