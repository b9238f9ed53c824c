//! Multi-threaded stress of the batch operations: a publisher using `send_batch` with batch
//! sizes from 0 to past the capacity, subscribers receiving with `try_recv_batch` and
//! `try_recv_many` (limits from 1 to past a run read's 32-slot chunk), under `Skip`,
//! `SkipToNewest` and gated, in every `SlotLayout`, for payloads of 8, 16, 24 and 64 bytes
//! (one to four slots per cache line when packed); and two `SharedPublisher`s racing
//! `send_batch`.
//!
//! Every word of a payload derives from its sequence number (or, with two producers, from
//! the producer and its counter), so a copy mixing two messages is caught as torn. For every
//! subscriber it checks, batch by batch: `Ok(n)` hands over exactly `n <= limit` messages,
//! each the one sent at the position the cursor moved past (so: in order, none skipped or
//! repeated silently), an error hands over nothing, and at the end **delivered + sum of
//! reported lag == published**, with `stats()` agreeing; a gated subscriber gets everything.
//! With two producers, every delivery at position `t` is the message of the batch whose
//! returned range holds `t`: batches are contiguous and never interleave, and each producer's
//! messages stay in order. One single-threaded test runs the same steps whatever the
//! scheduler does: runs across two 32-slot chunks, a lap before a run, payloads over 2 KiB.
//!
//! Sizes: `SEQCAST_STRESS_MESSAGES` (default 200 000) / 10 messages per layout and payload
//! (at least 48), and `SEQCAST_STRESS_ROUNDS` (default 1). Under Miri (`.ci/miri.sh`, 200)
//! that is a few dozen messages per case: enough to lap the ring, pack slots and read runs.
//! No timings are asserted.

use seqcast::error::TryRecvError;
use seqcast::{GateConfig, LagPolicy, SlotLayout, Subscriber};
use std::sync::Barrier;
use std::thread;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn messages() -> u64 {
    (env("SEQCAST_STRESS_MESSAGES", 200_000) / 10).max(48)
}

const LAYOUTS: [SlotLayout; 3] = [SlotLayout::Auto, SlotLayout::Line, SlotLayout::Packed];

/// A payload whose every word derives from one value, so a mix of two writes shows.
trait Shape: Copy + Send + PartialEq + std::fmt::Debug + 'static {
    fn make(value: u64) -> Self;
    /// The value, after checking that every word agrees with it.
    fn value(&self) -> u64;
}

fn word(value: u64, i: usize) -> u64 {
    value
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(i as u32 * 5)
        ^ i as u64
}

/// 8 bytes: one word cannot tear; a stale one is caught by its position.
impl Shape for u64 {
    fn make(value: u64) -> Self {
        value
    }
    fn value(&self) -> u64 {
        *self
    }
}

/// 16, 24, 64 bytes: word 0 is the value, the others derive from it.
impl<const N: usize> Shape for [u64; N] {
    fn make(value: u64) -> Self {
        let mut w: [u64; N] = std::array::from_fn(|i| word(value, i));
        w[0] = value;
        w
    }
    fn value(&self) -> u64 {
        assert_eq!(*self, Self::make(self[0]), "torn payload");
        self[0]
    }
}

/// Batch sizes the publisher cycles through: 0, 1, small, a run read's chunk (32) and past
/// it, and more than a small ring holds.
const BATCHES: [u64; 9] = [1, 3, 0, 7, 2, 32, 5, 40, 1];

/// Limits the subscribers cycle through: 1 (the first message only, no run read), small,
/// one chunk, past a chunk (two run reads).
const LIMITS: [usize; 7] = [1, 2, 5, 32, 3, 33, 64];

/// How a subscriber receives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Via {
    Callback,
    Many,
}

/// What one subscriber saw.
#[derive(Debug, Default)]
struct Seen {
    delivered: u64,
    lagged: u64,
    lag_events: u64,
    batches: u64,
}

/// Drains `rx` with batch receives until `Closed`, checking each delivery with `check(pos, v)`
/// (the message sent at position `pos`) and every batch's accounting.
fn drain<T: Shape>(
    mut rx: Subscriber<T>,
    via: Via,
    mut check: impl FnMut(u64, &T),
    yield_every: u64,
) -> Seen {
    let mut seen = Seen::default();
    let start = rx.position();
    let mut pos = start;
    let mut buf: Vec<T> = Vec::new();
    let mut round = 0u64;
    loop {
        round += 1;
        let limit = LIMITS[round as usize % LIMITS.len()];
        buf.clear();
        let answer = match via {
            Via::Callback => rx.try_recv_batch(limit, |v| buf.push(v)),
            Via::Many => rx.try_recv_many(&mut buf, limit),
        };
        if answer.is_err() {
            assert!(buf.is_empty(), "{answer:?} after handing over {buf:?}");
        }
        match answer {
            Ok(n) => {
                assert!((1..=limit).contains(&n), "Ok({n}) from a batch of {limit}");
                assert_eq!(buf.len(), n, "Ok({n}), but {} handed over", buf.len());
                for v in &buf {
                    check(pos, v);
                    pos += 1;
                }
                seen.delivered += n as u64;
                seen.batches += 1;
                if yield_every > 0 && seen.batches % yield_every == 0 {
                    thread::yield_now();
                }
            }
            Err(TryRecvError::Lagged(n)) => {
                assert!(n > 0, "Lagged(0)");
                pos += n;
                seen.lagged += n;
                seen.lag_events += 1;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Closed) => break,
            Err(e) => panic!("an in-process subscriber reported {e:?}"),
        }
        assert_eq!(
            rx.position(),
            pos,
            "position drifted from delivered + lagged"
        );
    }
    let stats = rx.stats();
    assert_eq!(
        (stats.received, stats.missed, stats.lag_events),
        (seen.delivered, seen.lagged, seen.lag_events),
        "stats"
    );
    assert_eq!(seen.delivered + seen.lagged, pos - start);
    seen
}

/// One publisher sending `messages` with `send_batch`; a `Skip` subscriber on
/// `try_recv_batch`, a `SkipToNewest` one on `try_recv_many`, a gated one on
/// `try_recv_batch`, all in `layout`.
fn one_publisher<T: Shape>(layout: SlotLayout, capacity: usize, messages: u64) {
    let (mut tx, skip) = seqcast::try_channel_with::<T>(capacity, layout).unwrap();
    let mut newest = tx.subscribe();
    newest.set_lag_policy(LagPolicy::SkipToNewest);
    let gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let subs = [
        (skip, Via::Callback, 0),
        (newest, Via::Many, 8),
        (gated, Via::Callback, 4),
    ];
    let barrier = Barrier::new(subs.len() + 1);
    let seen: Vec<Seen> = thread::scope(|s| {
        let handles: Vec<_> = subs
            .into_iter()
            .map(|(rx, via, yield_every)| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let check = |pos: u64, v: &T| assert_eq!(v.value(), pos, "wrong message");
                    drain(rx, via, check, yield_every)
                })
            })
            .collect();
        barrier.wait();
        let mut next = 0;
        for k in 0.. {
            if next == messages {
                break;
            }
            let n = BATCHES[k % BATCHES.len()].min(messages - next);
            let values: Vec<T> = (next..next + n).map(T::make).collect();
            assert_eq!(tx.send_batch(&values), next..next + n, "send_batch's range");
            next += n;
        }
        drop(tx);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let what = format!("{layout:?}, {} B, capacity {capacity}", size_of::<T>());
    for (i, seen) in seen.iter().enumerate() {
        assert_eq!(
            seen.delivered + seen.lagged,
            messages,
            "subscriber {i} ({what}): {seen:?}"
        );
    }
    assert_eq!(
        (seen[2].delivered, seen[2].lagged),
        (messages, 0),
        "gated ({what})"
    );
}

fn every_layout<T: Shape>() {
    let messages = messages();
    for _ in 0..env("SEQCAST_STRESS_ROUNDS", 1) {
        for (i, layout) in LAYOUTS.into_iter().enumerate() {
            // A small ring (laps, and batches longer than the ring) and one a few lines long.
            let capacity = if i % 2 == 0 { 4 } else { 16 };
            one_publisher::<T>(layout, capacity, messages);
        }
    }
}

#[test]
fn batches_of_8_byte_payloads() {
    every_layout::<u64>();
}

#[test]
fn batches_of_16_byte_payloads() {
    every_layout::<[u64; 2]>();
}

#[test]
fn batches_of_24_byte_payloads() {
    every_layout::<[u64; 3]>();
}

#[test]
fn batches_of_64_byte_payloads() {
    every_layout::<[u64; 8]>();
}

/// One thread, so the same steps run whatever the scheduler does (under Miri too, where
/// the threaded tests are short): runs of packed slots read across two 32-slot chunks, a
/// lap reported before a run, and payloads over 2 KiB, which the run read takes one at a
/// time.
fn runs_in_one_thread<T: Shape>() {
    for layout in LAYOUTS {
        let (mut tx, mut rx) = seqcast::try_channel_with::<T>(64, layout).unwrap();
        let mut got = Vec::new();
        let values: Vec<T> = (0..40).map(T::make).collect();
        assert_eq!(tx.send_batch(&values), 0..40);
        assert_eq!(rx.try_recv_batch(64, |v| got.push(v.value())), Ok(40));
        // 70 more into 64 slots: messages 40..46 are overwritten.
        let values: Vec<T> = (40..110).map(T::make).collect();
        assert_eq!(tx.send_batch(&values), 40..110);
        assert_eq!(
            rx.try_recv_batch(64, |_| panic!("handed over")),
            Err(TryRecvError::Lagged(6))
        );
        let mut buf = Vec::new();
        assert_eq!(rx.try_recv_many(&mut buf, 100), Ok(64));
        got.extend(buf.iter().map(T::value));
        let want: Vec<u64> = (0..40).chain(46..110).collect();
        assert_eq!(got, want, "{layout:?}, {} B", size_of::<T>());
        assert_eq!(rx.try_recv_batch(1, |_| {}), Err(TryRecvError::Empty));
    }
}

#[test]
fn runs_in_one_thread_every_layout_and_size() {
    runs_in_one_thread::<u64>();
    runs_in_one_thread::<[u64; 2]>();
    runs_in_one_thread::<[u64; 3]>();
    runs_in_one_thread::<[u64; 8]>();
    // Under Miri over 2 KiB is minutes of word copies, for the path `Slot::read` already
    // takes in the other tests.
    #[cfg(not(miri))]
    runs_in_one_thread::<[u64; 300]>();
}

/// Two producers' payload: producer, counter, and a word derived from both.
type Tagged = [u64; 3];

fn tagged(producer: u64, counter: u64) -> Tagged {
    [producer, counter, word(producer << 40 ^ counter, 2)]
}

fn untag(v: &Tagged) -> (u64, u64) {
    assert_eq!(*v, tagged(v[0], v[1]), "torn payload");
    (v[0], v[1])
}

/// Two `SharedPublisher`s, each sending `messages` in batches with `send_batch`, a lossy
/// and a gated subscriber. Afterwards the ranges the producers got back say which message
/// sits at each position; every delivery must be that one.
fn shared_publishers(layout: SlotLayout, capacity: usize, messages: u64) {
    let (tx, lossy) = seqcast::try_channel_with::<Tagged>(capacity, layout).unwrap();
    let tx = tx.into_shared();
    let gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    let barrier = Barrier::new(4);
    let (ranges, seen) = thread::scope(|s| {
        let subs: Vec<_> = [(lossy, Via::Callback), (gated, Via::Many)]
            .into_iter()
            .map(|(rx, via)| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let mut got = Vec::new();
                    let seen = drain(rx, via, |pos, v| got.push((pos, untag(v))), 0);
                    (seen, got)
                })
            })
            .collect();
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let (tx, barrier) = (tx.clone(), &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut ranges = Vec::new();
                    let mut next = 0;
                    for k in p as usize.. {
                        if next == messages {
                            break;
                        }
                        let n = BATCHES[k % BATCHES.len()].min(messages - next);
                        let values: Vec<Tagged> = (next..next + n).map(|c| tagged(p, c)).collect();
                        let range = tx.send_batch(&values).expect("the topic is open");
                        assert_eq!(range.end - range.start, n, "one ticket per value");
                        ranges.push((range, p, next));
                        next += n;
                    }
                    ranges
                })
            })
            .collect();
        drop(tx);
        let ranges: Vec<_> = producers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let seen: Vec<_> = subs.into_iter().map(|h| h.join().unwrap()).collect();
        (ranges, seen)
    });
    // Which message each position holds: the ranges must tile 0..total.
    let total = 2 * messages;
    let mut by_pos = vec![None; total as usize];
    for (range, p, first) in ranges {
        for (i, t) in range.enumerate() {
            let slot = &mut by_pos[t as usize];
            assert!(slot.is_none(), "position {t} claimed twice");
            *slot = Some((p, first + i as u64));
        }
    }
    assert!(by_pos.iter().all(Option::is_some), "tickets not dense");
    let what = format!("{layout:?}, capacity {capacity}");
    for (i, (seen, got)) in seen.iter().enumerate() {
        assert_eq!(
            seen.delivered + seen.lagged,
            total,
            "subscriber {i} ({what}): {seen:?}"
        );
        for &(pos, msg) in got {
            assert_eq!(
                by_pos[pos as usize],
                Some(msg),
                "subscriber {i} ({what}): position {pos} holds another message"
            );
        }
    }
    assert_eq!(seen[1].0.delivered, total, "gated ({what})");
}

#[test]
fn shared_publishers_batches_stay_contiguous() {
    let messages = messages() / 2;
    for _ in 0..env("SEQCAST_STRESS_ROUNDS", 1) {
        for (i, layout) in LAYOUTS.into_iter().enumerate() {
            let capacity = if i % 2 == 0 { 4 } else { 16 };
            shared_publishers(layout, capacity, messages);
        }
    }
}
