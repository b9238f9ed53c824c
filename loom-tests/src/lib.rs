//! loom models of seqcast live in `tests/`; they compile only with `--cfg seqcast_loom`.
//!
//! Run them with `loom-tests/run.sh` (release build, bounded `LOOM_MAX_PREEMPTIONS`, plus the
//! "teeth" run against the deliberately broken `--cfg seqcast_loom_broken` build). This library
//! holds what the model files share: the payload encoding that makes a torn or stale read
//! visible, and `check`, which runs one model and reports how many executions loom explored.

/// The payload of message `seq` sent by producer `producer` (0 for a single publisher).
///
/// Never 0 (under loom a slot's payload word starts as 0, so a read of a word that was never
/// written decodes to nothing), and different for every `(producer, seq)`, so a stale or torn
/// word is always detected by [`decode`].
pub const fn encode(producer: u64, seq: u64) -> u64 {
    0x5EC0_0000_0000_0000 | (producer << 16) | seq
}

/// Inverse of [`encode`]: `Some((producer, seq))`, or `None` for a word no sender ever wrote.
pub const fn decode(v: u64) -> Option<(u64, u64)> {
    if v & 0xFFFF_0000_0000_0000 != 0x5EC0_0000_0000_0000 || v & 0x0000_FFFF_0000_0000 != 0 {
        return None;
    }
    Some(((v >> 16) & 0xFFFF, v & 0xFFFF))
}

/// A payload a model can send: built from `(producer, seq)`, and decoded back with a check
/// that every word of it came from that one message.
///
/// `u64` is one word ([`encode`]). `[u64; N]` is `N` words, word `i` being
/// `encode(producer, seq)` with `i + 1` in bits 32..48, so a read that mixes words of two
/// messages (a torn read), or a word no sender wrote (under loom a slot's words start as 0),
/// is told apart from a whole but wrong message.
pub trait Message: Copy + Send + PartialEq + std::fmt::Debug + 'static {
    /// The payload of message `seq` of producer `producer`.
    fn make(producer: u64, seq: u64) -> Self;
    /// `Ok((producer, seq))` if every word belongs to that one message; otherwise the reason.
    fn check(&self) -> Result<(u64, u64), String>;
}

impl Message for u64 {
    fn make(producer: u64, seq: u64) -> Self {
        encode(producer, seq)
    }
    fn check(&self) -> Result<(u64, u64), String> {
        decode(*self).ok_or_else(|| format!("seqlock violation: torn or stale payload {self:#x}"))
    }
}

impl<const N: usize> Message for [u64; N] {
    fn make(producer: u64, seq: u64) -> Self {
        std::array::from_fn(|i| encode(producer, seq) | ((i as u64 + 1) << 32))
    }
    fn check(&self) -> Result<(u64, u64), String> {
        let whole = |w: u64, i: usize| {
            let index = (w >> 32) & 0xFFFF;
            decode(w & !0x0000_FFFF_0000_0000).filter(|_| index == i as u64 + 1)
        };
        if let Some(first) = whole(self[0], 0) {
            if (1..N).all(|i| whole(self[i], i) == Some(first)) {
                return Ok(first);
            }
        }
        let words: Vec<_> = (0..N).map(|i| whole(self[i], i)).collect();
        Err(format!(
            "seqlock violation: torn multi-word read: words from {words:?} ({self:#x?})"
        ))
    }
}

/// Runs `model` under loom (which reads `LOOM_MAX_PREEMPTIONS` and friends from the
/// environment) and prints, on stderr, how many executions were explored and how long it took.
/// Run the tests with `--nocapture` to see it.
#[cfg(seqcast_loom)]
pub fn check<F>(name: &str, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    // A std atomic, invisible to loom: counts executions, not part of the model.
    let executions = Arc::new(AtomicU64::new(0));
    let counter = executions.clone();
    let start = Instant::now();
    loom::model(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        model();
    });
    eprintln!(
        "loom model {name}: {} executions in {:.2?} (LOOM_MAX_PREEMPTIONS={})",
        executions.load(Ordering::Relaxed),
        start.elapsed(),
        std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "unbounded".into()),
    );
}

/// What one subscriber saw, in order, until the topic closed (or it was detached).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Delivered payloads as `(position, (producer, seq))`: the subscriber's position (the
    /// message's sequence number) when it took the message, and the decoded payload.
    pub delivered: Vec<(u64, (u64, u64))>,
    /// Each `Lagged(n)` as `(position before the report, n)`.
    pub lags: Vec<(u64, u64)>,
    /// Whether it ended with `Detached` (otherwise with `Closed`).
    pub detached: bool,
}

impl Seen {
    /// Sum of every reported lag.
    pub fn lagged(&self) -> u64 {
        self.lags.iter().map(|&(_, n)| n).sum()
    }

    /// Checks what the subscriber saw against what was sent: `sent[t]` is the decoded payload
    /// of the message with sequence number (ticket) `t`, as returned by `send`, for a
    /// subscriber that started at position `start`.
    ///
    /// * every delivery at position `t` is exactly `sent[t]` (so: order, no duplicates, and
    ///   every delivered value was sent);
    /// * delivered and lag reports tile `start..end` with no gap and no overlap, where `end`
    ///   is `sent.len()` for a subscriber that saw `Closed` (delivered + lagged == published);
    /// * the last `capacity` messages are never overwritten, so a closed subscriber delivered
    ///   each of them (it saw everything it could still read).
    pub fn check_against(&self, sent: &[(u64, u64)], start: u64, capacity: u64) {
        for &(pos, msg) in &self.delivered {
            assert_eq!(
                sent.get(pos as usize),
                Some(&msg),
                "seqlock violation: delivered {msg:?} at position {pos}, but that message was not sent there (stale or torn read)"
            );
        }
        // Tile the positions: deliveries and lags, sorted by position, must be contiguous.
        let mut events: Vec<(u64, u64)> = self.delivered.iter().map(|&(p, _)| (p, 1)).collect();
        events.extend(self.lags.iter().copied());
        events.sort_unstable();
        let mut at = start;
        for (pos, n) in events {
            assert_eq!(pos, at, "gap or overlap at position {at}: {self:?}");
            at += n;
        }
        let published = sent.len() as u64;
        assert!(at <= published, "moved past the last message: {self:?}");
        if !self.detached {
            assert_eq!(at, published, "delivered + lagged != published: {self:?}");
            for t in published.saturating_sub(capacity).max(start)..published {
                assert!(
                    self.delivered.iter().any(|&(p, _)| p == t),
                    "closed subscriber never got message {t}, which was never overwritten: {self:?}"
                );
            }
        }
    }
}

/// Polls `rx` with `try_recv` (yielding to loom on `Empty`) until `Closed` or `Detached`, and
/// checks, on the way, what holds for every subscriber whatever the interleaving:
/// every delivered word is one a sender wrote (no torn or stale read), a `Lagged(n)` has
/// `n > 0`, and the subscriber's `position()` moves by exactly 1 per delivery and `n` per lag
/// report (no duplicates, no silent skip). After `Detached`, keeps polling a little to check
/// that it stays detached; after `Closed`, checks that it stays closed. Finally checks
/// `stats()` against what was seen.
///
/// Panics with a message containing "seqlock violation" on a torn or stale payload.
#[cfg(seqcast_loom)]
pub fn drain<T: Message>(rx: &mut seqcast::Subscriber<T>) -> Seen {
    let mut seen = Seen::default();
    finish(rx, &mut seen);
    seen
}

/// What [`lag_race`] returns: the racing subscriber's view, its final counters, and a clone
/// made before the race that has not read anything yet.
#[cfg(seqcast_loom)]
pub type Race = (Seen, seqcast::SubscriberStats, seqcast::Subscriber<u64>);

/// The lag-policy race: a single publisher sends messages 0, 1, 2 into a 2-slot ring while a
/// subscriber on `policy` drains it (lapped or not, depending on the interleaving). Returns
/// once both are done. The messages sent are `[(0, 0), (0, 1), (0, 2)]` (see [`encode`]).
#[cfg(seqcast_loom)]
pub fn lag_race(policy: seqcast::LagPolicy) -> Race {
    use loom::thread;
    let (mut tx, mut rx) = seqcast::channel::<u64>(2);
    rx.set_lag_policy(policy);
    let late = rx.clone();
    let publisher = thread::spawn(move || {
        for s in 0..3 {
            tx.send(encode(0, s));
        }
    });
    let racer = thread::spawn(move || {
        let seen = drain(&mut rx);
        (seen, rx.stats())
    });
    publisher.join().unwrap();
    let (seen, stats) = racer.join().unwrap();
    (seen, stats, late)
}

/// Like [`drain`], continuing from what [`poll`] already saw.
#[cfg(seqcast_loom)]
pub fn finish<T: Message>(rx: &mut seqcast::Subscriber<T>, seen: &mut Seen) {
    while !poll(rx, seen, usize::MAX) {}
    check_end(rx, seen);
}

/// After `Closed` or `Detached`: the answer is final, and `stats()` agrees with what was seen.
#[cfg(seqcast_loom)]
fn check_end<T: Message>(rx: &mut seqcast::Subscriber<T>, seen: &Seen) {
    use seqcast::error::TryRecvError;
    if seen.detached {
        for _ in 0..2 {
            assert_eq!(rx.try_recv(), Err(TryRecvError::Detached));
        }
    } else {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "Closed is final");
    }
    let stats = rx.stats();
    assert_eq!(
        stats.received,
        seen.delivered.len() as u64,
        "stats.received"
    );
    assert_eq!(stats.missed, seen.lagged(), "stats.missed");
    assert_eq!(stats.lag_events, seen.lags.len() as u64, "stats.lag_events");
}

/// At most `polls` calls of `try_recv`, with the checks of [`drain`], yielding to loom after
/// each `Empty`. Returns `true` once `Closed` or `Detached` was seen.
///
/// A model may have only one thread that polls without bound: loom does not schedule fairly
/// between two threads that both spin with `yield_now`, and such a model exceeds its branch
/// limit. Other pollers use a small bound, then [`finish`] after the publishers are joined.
#[cfg(seqcast_loom)]
pub fn poll<T: Message>(rx: &mut seqcast::Subscriber<T>, seen: &mut Seen, polls: usize) -> bool {
    use seqcast::error::TryRecvError;
    for _ in 0..polls {
        let before = rx.position();
        match rx.try_recv() {
            Ok(v) => {
                let msg = v
                    .check()
                    .unwrap_or_else(|e| panic!("{e} at position {before}"));
                seen.delivered.push((before, msg));
                assert_eq!(rx.position(), before + 1);
            }
            Err(TryRecvError::Lagged(n)) => {
                assert!(n > 0, "Lagged(0) at position {before}");
                seen.lags.push((before, n));
                assert_eq!(
                    rx.position(),
                    before + n,
                    "Lagged({n}) moved the cursor by a different amount"
                );
            }
            Err(TryRecvError::Empty) => loom::thread::yield_now(),
            Err(TryRecvError::Closed) => return true,
            Err(TryRecvError::Detached) => {
                seen.detached = true;
                assert!(rx.is_detached());
                return true;
            }
            Err(e) => panic!("an in-process subscriber reported {e:?}"),
        }
    }
    false
}

/// Which batch receive [`poll_batch`] calls.
#[cfg(seqcast_loom)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// `try_recv_batch(limit, f)`, collecting through the callback.
    Callback,
    /// `try_recv_many(&mut buf, limit)`, into a buffer that already holds a value, so that
    /// an append that overwrites or drops what was there is caught.
    Many,
}

/// Like [`poll`], receiving up to `limit` messages per call with a batch receive (`how`).
/// Checks, besides what [`poll`] checks for each message: `Ok(n)` has `1 <= n <= limit` and
/// hands over exactly `n` messages, the ones at the positions the cursor moved past (so a
/// batch never skips or repeats one silently); an error hands over nothing.
#[cfg(seqcast_loom)]
pub fn poll_batch<T: Message>(
    rx: &mut seqcast::Subscriber<T>,
    seen: &mut Seen,
    polls: usize,
    limit: usize,
    how: Batch,
) -> bool {
    use seqcast::error::TryRecvError;
    // A value no sender wrote: producer 0xFFFF is never used.
    let filler = T::make(0xFFFF, 0xFFFF);
    for _ in 0..polls {
        let before = rx.position();
        let mut got = Vec::new();
        let answer = match how {
            Batch::Callback => rx.try_recv_batch(limit, |v| got.push(v)),
            Batch::Many => {
                got.push(filler);
                let answer = rx.try_recv_many(&mut got, limit);
                assert_eq!(
                    got.remove(0),
                    filler,
                    "try_recv_many touched what was in buf"
                );
                answer
            }
        };
        if answer.is_err() {
            assert!(got.is_empty(), "{answer:?} after handing over {got:?}");
        }
        match answer {
            Ok(n) => {
                assert!(
                    (1..=limit).contains(&n),
                    "Ok({n}) from a batch of at most {limit}"
                );
                assert_eq!(got.len(), n, "Ok({n}) but {} handed over", got.len());
                for (i, v) in got.iter().enumerate() {
                    let at = before + i as u64;
                    let msg = v.check().unwrap_or_else(|e| panic!("{e} at position {at}"));
                    seen.delivered.push((at, msg));
                }
                assert_eq!(rx.position(), before + n as u64, "Ok({n}) moved the cursor");
            }
            Err(TryRecvError::Lagged(n)) => {
                assert!(n > 0, "Lagged(0) at position {before}");
                seen.lags.push((before, n));
                assert_eq!(
                    rx.position(),
                    before + n,
                    "Lagged({n}) moved the cursor by a different amount"
                );
            }
            Err(TryRecvError::Empty) => loom::thread::yield_now(),
            Err(TryRecvError::Closed) => return true,
            Err(TryRecvError::Detached) => {
                seen.detached = true;
                return true;
            }
            Err(e) => panic!("an in-process subscriber reported {e:?}"),
        }
    }
    false
}

/// [`finish`] with a batch receive: polls with [`poll_batch`] until `Closed` or `Detached`,
/// then checks that the answer is final and that `stats()` agrees with what was seen.
#[cfg(seqcast_loom)]
pub fn finish_batch<T: Message>(
    rx: &mut seqcast::Subscriber<T>,
    seen: &mut Seen,
    limit: usize,
    how: Batch,
) {
    while !poll_batch(rx, seen, usize::MAX, limit, how) {}
    check_end(rx, seen);
}

/// Publishes messages `0..msgs` of producer 0, checking the sequence numbers `send` returns;
/// returns what was sent, by sequence number. Dropping the publisher then closes the topic.
pub fn publish_all<T: Message>(mut tx: seqcast::Publisher<T>, msgs: u64) -> Vec<(u64, u64)> {
    (0..msgs)
        .map(|s| {
            assert_eq!(tx.send(T::make(0, s)), s);
            (0, s)
        })
        .collect()
}

/// Checks `seen` against `sent` for a model of 3 messages in 2 slots: only message 0 can be
/// overwritten, so every lag report is exactly `Lagged(1)` at position 0.
pub fn check_one_lap(seen: &Seen, sent: &[(u64, u64)]) {
    seen.check_against(sent, 0, 2);
    for &lag in &seen.lags {
        assert_eq!(lag, (0, 1), "inexact lag report: {seen:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, encode, Message};

    #[test]
    fn encoding_round_trips_and_rejects_zero() {
        for p in 0..3 {
            for s in 0..5 {
                assert_eq!(decode(encode(p, s)), Some((p, s)));
                assert_eq!(<[u64; 3]>::make(p, s).check(), Ok((p, s)));
            }
        }
        assert_eq!(decode(0), None);
        assert!(0u64.check().is_err());
    }

    #[test]
    fn multi_word_payloads_tell_torn_reads_apart() {
        let (a, b) = (<[u64; 3]>::make(0, 0), <[u64; 3]>::make(0, 2));
        // Every mix of words of two messages, or with a never-written word, is torn.
        for mask in 1..7u32 {
            let mut torn = a;
            for (i, w) in torn.iter_mut().enumerate() {
                if mask & (1 << i) != 0 {
                    *w = b[i];
                }
            }
            assert!(torn.check().unwrap_err().contains("torn multi-word read"));
            let mut unwritten = a;
            unwritten[mask.trailing_zeros() as usize] = 0;
            assert!(unwritten
                .check()
                .unwrap_err()
                .contains("torn multi-word read"));
        }
        // Words in the wrong place are torn too.
        assert!([a[1], a[0], a[2]].check().is_err());
    }
}

/// What the record models share: records whose every byte names its record and index, and
/// one checked receive.
#[cfg(seqcast_loom)]
pub mod records {
    use seqcast::error::TryRecvError;
    use seqcast::record::RecordSubscriber;

    /// The models' ring size in bytes: 4 chunks of 64.
    pub const RING: usize = 256;

    /// Byte `i` of record `m`: the high bits name the record (never 0, so a word never
    /// written reads as no record's), the low bits the index (so a byte moved within a record
    /// is caught).
    pub fn byte(m: u64, i: usize) -> u8 {
        ((m as u8 + 1) << 5) | (i as u8 & 0x1F)
    }

    /// Record `m` of a model whose records have the lengths `lens`.
    pub fn record_of(lens: &[usize], m: u64) -> Vec<u8> {
        (0..lens[m as usize]).map(|i| byte(m, i)).collect()
    }

    /// What one checked receive gave.
    #[derive(Debug, PartialEq, Eq)]
    pub enum Step {
        /// Record `m`, whole.
        Delivered(u64),
        /// `Lagged(n)` reported at position `at`.
        Lagged { at: u64, n: u64 },
        /// Any other answer (`Empty`, `Closed`, ...), for the model to judge.
        Other(TryRecvError),
    }

    /// One `try_recv_into`, checked: a delivery is exactly the record of the position it was
    /// taken at and moves the position by 1; a lag report has `n > 0` and moves it by exactly
    /// `n`. A wrong answer panics with "`what` violation".
    pub fn step(rx: &mut RecordSubscriber, lens: &[usize], buf: &mut Vec<u8>, what: &str) -> Step {
        let before = rx.position();
        match rx.try_recv_into(buf) {
            Ok(len) => {
                assert_eq!(
                    rx.position(),
                    before + 1,
                    "{what} violation: a delivery moved the position from {before} to {}",
                    rx.position()
                );
                assert_eq!(len, buf.len());
                let want = record_of(lens, before);
                assert!(
                    *buf == want,
                    "{what} violation: record {before} is not whole: got {buf:?}, want {want:?}"
                );
                Step::Delivered(before)
            }
            Err(TryRecvError::Lagged(n)) => {
                assert!(n > 0, "{what} violation: Lagged(0) at {before}");
                assert_eq!(
                    rx.position(),
                    before + n,
                    "{what} violation: Lagged({n}) at {before} moved the position by another amount"
                );
                Step::Lagged { at: before, n }
            }
            Err(e) => Step::Other(e),
        }
    }
}
