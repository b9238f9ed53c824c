//! Stress aimed at the slot copy's 16-byte pairs (on x86-64 one SSE load or store moves two
//! payload words; `src/ring/slot.rs`). One publisher sends flat out into a 2-slot ring, so
//! nearly every read races a write, and two subscribers check each message as it arrives:
//!
//! * every 8-byte word is derived from the message's sequence number and the word's index,
//!   so each word says which message it came from; a message whose words disagree is torn,
//!   and the failure names the words, so a torn *pair* (two halves of one 16-byte access
//!   from different messages) is told apart from pairs taken from different messages;
//! * a whole message must be the one at the subscriber's position (no stale or duplicate
//!   delivery), and at the end delivered + lagged == published, for each subscriber.
//!
//! Payloads of 16, 48, 64 and 200 bytes: one pair; pairs inside the stamp's line; pairs on
//! both sides of the line split with a trailing word in the line; many pairs after the line
//! and an odd word count. `SEQCAST_STRESS_MESSAGES` scales the run (default 200 000 messages
//! per payload size). No timings are asserted.

use seqcast::channel;
use seqcast::error::TryRecvError;
use std::thread;

/// Word `i` of message `seq`: invertible, and different for every index, so that a word in
/// the wrong place, or from another message, decodes to another sequence number.
fn word(seq: u64, i: usize) -> u64 {
    (seq ^ 0xA5A5_5A5A_0F0F_F0F0u64.wrapping_mul(i as u64 + 1)).rotate_left(i as u32 * 9 + 1)
}

/// The sequence number word `i` claims to come from.
fn seq_of(w: u64, i: usize) -> u64 {
    w.rotate_right(i as u32 * 9 + 1) ^ 0xA5A5_5A5A_0F0F_F0F0u64.wrapping_mul(i as u64 + 1)
}

fn make<const N: usize>(seq: u64) -> [u64; N] {
    std::array::from_fn(|i| word(seq, i))
}

/// The sequence number of a whole message; panics naming the words that disagree.
fn whole<const N: usize>(p: &[u64; N]) -> u64 {
    check(p).unwrap_or_else(|e| panic!("{e}"))
}

/// The sequence number of a whole message, or which words disagree.
fn check<const N: usize>(p: &[u64; N]) -> Result<u64, String> {
    let seqs: [u64; N] = std::array::from_fn(|i| seq_of(p[i], i));
    if seqs.iter().all(|&s| s == seqs[0]) {
        return Ok(seqs[0]);
    }
    // Name the pairs the x86-64 copy moves with one SSE access whose two words disagree (a
    // pair torn inside one access), besides the message each word came from.
    let torn_pairs: Vec<(usize, usize)> = copy_pairs(N)
        .into_iter()
        .filter(|&(a, b)| seqs[a] != seqs[b])
        .collect();
    Err(format!(
        "torn {}-byte payload: words came from messages {seqs:?}; pairs torn inside one \
         16-byte access: {torn_pairs:?}",
        N * 8
    ))
}

/// The word pairs `src/ring/slot.rs` moves as one on x86-64 for an 8-aligned payload of `n`
/// words: the payload starts 8 bytes into a 64-byte slot, so its first 7 words share the
/// stamp's line; each side of that split is copied in pairs from its start, leaving a single
/// word where a side has an odd count.
fn copy_pairs(n: usize) -> Vec<(usize, usize)> {
    let split = n.min(7);
    let side = |from: usize, to: usize| (from..to.saturating_sub(1)).step_by(2).map(|i| (i, i + 1));
    side(0, split).chain(side(split, n)).collect()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One size at a time: run side by side, four publishers and eight subscribers on a small
/// machine leave the subscribers little time to read, so few reads race a write.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn pairs_are_never_torn<const N: usize>() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let messages = env("SEQCAST_STRESS_MESSAGES", 200_000);
    let (mut tx, rx) = channel::<[u64; N]>(2);
    let subs: Vec<_> = (0..2).map(|_| rx.clone()).collect();
    drop(rx);
    thread::scope(|s| {
        let handles: Vec<_> = subs
            .into_iter()
            .map(|mut rx| {
                s.spawn(move || {
                    let (mut delivered, mut lagged) = (0u64, 0u64);
                    loop {
                        let at = rx.position();
                        match rx.try_recv() {
                            Ok(p) => {
                                assert_eq!(whole(&p), at, "a whole message, but not message {at}");
                                delivered += 1;
                            }
                            Err(TryRecvError::Lagged(n)) => {
                                assert!(n > 0, "Lagged(0)");
                                assert_eq!(rx.position(), at + n, "Lagged({n}) moved the cursor");
                                lagged += n;
                            }
                            Err(TryRecvError::Empty) => thread::yield_now(),
                            Err(e) => {
                                assert_eq!(e, TryRecvError::Closed);
                                break;
                            }
                        }
                    }
                    (delivered, lagged)
                })
            })
            .collect();
        for seq in 0..messages {
            assert_eq!(tx.send(make::<N>(seq)), seq);
        }
        drop(tx);
        for h in handles {
            let (delivered, lagged) = h.join().unwrap();
            // How much of the run raced: shown with `--nocapture`, never asserted (timing).
            eprintln!(
                "{}-byte payload: delivered {delivered}, lagged {lagged}",
                N * 8
            );
            assert_eq!(
                delivered + lagged,
                messages,
                "{}-byte payload: delivered {delivered} + lagged {lagged}",
                N * 8
            );
        }
    });
}

#[test]
fn copy_pairs_follow_the_stamp_line_split() {
    assert_eq!(copy_pairs(2), [(0, 1)]);
    assert_eq!(copy_pairs(6), [(0, 1), (2, 3), (4, 5)]);
    assert_eq!(copy_pairs(8), [(0, 1), (2, 3), (4, 5)]);
    assert_eq!(copy_pairs(9), [(0, 1), (2, 3), (4, 5), (7, 8)]);
    assert_eq!(copy_pairs(25).len(), 3 + 9);
}

#[test]
fn encoding_names_the_message_of_every_word() {
    for seq in [0, 1, 2, 1 << 40, u64::MAX] {
        let p = make::<25>(seq);
        assert_eq!(whole(&p), seq);
        for i in 0..25 {
            let mut torn = p;
            torn[i] = word(seq.wrapping_add(1), i);
            assert!(check(&torn).is_err());
            // A word moved to another index decodes to another message too.
            let mut moved = p;
            moved[i] = p[(i + 1) % 25];
            assert!(check(&moved).is_err());
        }
    }
}

#[test]
fn pairs_16_bytes() {
    pairs_are_never_torn::<2>();
}

#[test]
fn pairs_48_bytes() {
    pairs_are_never_torn::<6>();
}

#[test]
fn pairs_64_bytes() {
    pairs_are_never_torn::<8>();
}

#[test]
fn pairs_200_bytes() {
    pairs_are_never_torn::<25>();
}
