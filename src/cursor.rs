//! The receive engine: one cursor state machine over any storage of seqlock slots
//! (DESIGN.md §8).
//!
//! Every kind of subscriber keeps a [`Cursor`] and asks it for the next message of its
//! [`Source`]: the in-process ring ([`Subscriber`](crate::Subscriber)) and the
//! shared-memory file ([`ShmSubscriber`](crate::shm::ShmSubscriber)) are two sources; a new
//! storage (packed slots, variable-length records) is one more `Source`, not one more copy of
//! the rules below. What only one kind has stays with it, around the engine: eviction of a
//! gated subscriber and position publishing (`ring::subscriber`), liveness of a publisher in
//! another process (`shm::subscriber`), parking and async wake-ups (`ring::wait`).
//!
//! # The state machine (reader at `pos`)
//! * The slot holds message `pos`, whole: deliver it, `pos + 1`.
//! * It holds an earlier message (or `pos` is being written): not yet. `Empty`, unless the
//!   source is closed: then `Closed` once `pos` reaches the final head, and until then the
//!   slot is read once more (everything below the final head completed before the close).
//! * It holds a later message: lapped. Move to the resync target of the [`Lap`] rule and
//!   report exactly how far the cursor jumped, `Lagged(n)` with `n > 0`.
//!
//! So for every cursor, **`stats.received + stats.missed == pos - start`**: every message
//! it moves past is either delivered or counted in a lag report, whatever the rule.
//!
//! # Untrusted storage
//! A source in memory that other processes can write (a shared-memory file) cannot vouch for
//! its head or its stamps. It says so through [`Source::head`] (`None`: no head can be
//! trusted right now), [`Source::genuine_lap`] (whether a stamp past `pos` is one a
//! publisher could have written there) and [`Source::COMPLETES_AFTER_CLOSE`]. A stamp that
//! is not genuine means the message's slot is garbage: the message is lost if the head is
//! past it (skipped and reported), otherwise not written yet. The in-process ring trusts its
//! own memory and keeps the defaults, which the compiler folds away.

use crate::error::TryRecvError;
use crate::ring::slot::{message_of, resync, Read};
use crate::sync::Backoff;
use crate::{LagPolicy, SubscriberStats};
use std::time::Instant;

/// A storage of seqlock-stamped messages that a [`Cursor`] reads.
pub(crate) trait Source {
    /// The message type.
    type Item: Copy;

    /// Whether a message below the final head of a closed source that is not ready yet may
    /// still complete (a send claimed just before the close), so that a reader waits
    /// (`Empty`). Sources whose publisher is gone once closed say `false`: such a slot is
    /// garbage, and the message is lost.
    const COMPLETES_AFTER_CLOSE: bool = true;

    /// What the slot of message `seq` holds for a reader of `seq`.
    fn read(&self, seq: u64) -> Read<Self::Item>;

    /// Hands the messages from `seq` on that are ready, whole, to `deliver` (at most `max`),
    /// stopping at the first that is not; returns how many it delivered. A source whose
    /// slots can be validated together ([`read_run`](crate::ring::slot::read_run))
    /// overrides this one-at-a-time default.
    #[inline]
    fn read_run(&self, seq: u64, max: usize, deliver: &mut impl FnMut(Self::Item)) -> usize {
        let mut n = 0;
        while n < max {
            match self.read(seq + n as u64) {
                Read::Ready(v) => deliver(v),
                _ => break,
            }
            n += 1;
        }
        n
    }

    /// Number of slots (a power of two).
    fn capacity(&self) -> u64;

    /// The number of messages published (claimed) so far, or `None` if the source cannot
    /// vouch for any head right now. A head read after a stamp of message `m` (through
    /// [`read`](Self::read)) is at least `m - 1`.
    fn head(&self) -> Option<u64>;

    /// `Some(final head)` once the source is closed: then every message below it completed
    /// (or, see [`COMPLETES_AFTER_CLOSE`](Self::COMPLETES_AFTER_CLOSE), is being completed).
    fn closed(&self) -> Option<u64>;

    /// Whether `stamp`, read in the slot of message `seq` and past it, is one a publisher
    /// could have written there while the head is `head`.
    #[inline]
    fn genuine_lap(&self, _seq: u64, _stamp: u64, _head: u64) -> bool {
        true
    }
}

/// Where a lapped cursor goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lap {
    /// [`LagPolicy::Skip`]: the oldest message still intact.
    Skip,
    /// [`LagPolicy::SkipToNewest`]: the newest message published.
    SkipToNewest,
    /// [`LagPolicy::Disconnect`]: as `Skip`, then detached.
    Disconnect,
    /// A gated subscriber that its publisher evicted (`OnEvict::Detach`): every message up
    /// to the head is reported lost, then detached.
    DetachAtHead,
}

impl From<LagPolicy> for Lap {
    fn from(policy: LagPolicy) -> Lap {
        match policy {
            LagPolicy::Skip => Lap::Skip,
            LagPolicy::SkipToNewest => Lap::SkipToNewest,
            LagPolicy::Disconnect => Lap::Disconnect,
        }
    }
}

/// One reader's position and counters. Private to its subscriber: nothing here is shared.
#[derive(Clone)]
pub(crate) struct Cursor {
    /// Sequence number of the next message to read.
    pub(crate) pos: u64,
    pub(crate) stats: SubscriberStats,
    /// What a lap does (module docs).
    pub(crate) lap: Lap,
    /// Set by a lap under `Disconnect` or `DetachAtHead`; every later receive is `Detached`.
    pub(crate) detached: bool,
}

/// Shown inside a subscriber's `Debug`, in the user's terms.
impl core::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cursor")
            .field("position", &self.pos)
            .field("detached", &self.detached)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Cursor {
    pub(crate) fn new(pos: u64, lap: Lap) -> Cursor {
        Cursor {
            pos,
            stats: SubscriberStats::default(),
            lap,
            detached: false,
        }
    }

    /// Takes the next message of `src` if there is one (module docs). Never blocks; writes
    /// nothing shared.
    #[inline]
    pub(crate) fn try_recv<S: Source>(&mut self, src: &S) -> Result<S::Item, TryRecvError> {
        if self.detached {
            return Err(TryRecvError::Detached);
        }
        match src.read(self.pos) {
            Read::Ready(v) => Ok(self.take(v)),
            Read::NotYet => self.not_yet(src),
            Read::Overwritten(stamp) => self.lapped(src, stamp, false),
        }
    }

    /// Takes up to `max` more messages that are ready, handing each to `f`, and stops at the
    /// first that is not (what that one is, `try_recv` finds out). Returns how many. The
    /// position and counters move with each message handed over, so a panicking `f` loses
    /// nothing it was not given and is given nothing twice.
    #[inline]
    pub(crate) fn take_ready<S: Source>(
        &mut self,
        src: &S,
        max: usize,
        f: &mut impl FnMut(S::Item),
    ) -> usize {
        if self.detached || max == 0 {
            return 0;
        }
        let (pos, received) = (&mut self.pos, &mut self.stats.received);
        src.read_run(*pos, max, &mut |v| {
            *pos += 1;
            *received += 1;
            f(v)
        })
    }

    #[inline]
    fn take<T>(&mut self, v: T) -> T {
        self.pos += 1;
        self.stats.received += 1;
        v
    }

    /// Our slot does not hold our message yet: empty, unless the source is closed.
    #[cold]
    fn not_yet<S: Source>(&mut self, src: &S) -> Result<S::Item, TryRecvError> {
        let Some(end) = src.closed() else {
            return Err(TryRecvError::Empty);
        };
        if self.pos >= end {
            return Err(TryRecvError::Closed);
        }
        match src.read(self.pos) {
            Read::Ready(v) => Ok(self.take(v)),
            Read::Overwritten(stamp) => self.lapped(src, stamp, true),
            Read::NotYet if S::COMPLETES_AFTER_CLOSE => Err(TryRecvError::Empty),
            // Garbage below the final head: lost if the head agrees it was published;
            // otherwise end the stream rather than wait for a publisher that is gone.
            Read::NotYet => match src.head() {
                Some(head) if head > self.pos => Err(self.skip_lost(head.min(end), src.capacity())),
                _ => Err(TryRecvError::Closed),
            },
        }
    }

    /// Our slot holds a stamp past our message: we were lapped (if the source vouches for
    /// the stamp). Moves to the target of the lap rule and reports exactly how far.
    #[cold]
    fn lapped<S: Source>(
        &mut self,
        src: &S,
        stamp: u64,
        closed: bool,
    ) -> Result<S::Item, TryRecvError> {
        let unready = if closed {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        };
        // A head the source cannot vouch for: nothing to resync to yet. Answer as for a slot
        // that is not ready.
        let Some(head) = src.head() else {
            return if closed {
                Err(TryRecvError::Closed)
            } else {
                self.not_yet(src)
            };
        };
        let (pos, cap) = (self.pos, src.capacity());
        if !src.genuine_lap(pos, stamp, head) {
            return Err(if head > pos {
                self.skip_lost(head, cap)
            } else {
                unready
            });
        }
        let to = match self.lap {
            Lap::Skip | Lap::Disconnect => resync(pos, stamp, head, cap),
            // `head - 1` is the newest message published (with shared publishers: claimed,
            // so it may still be in progress; we then wait for it). `resync` already moved
            // past `pos`, so this only ever moves further forward.
            Lap::SkipToNewest => resync(pos, stamp, head, cap).max(head.saturating_sub(1)),
            // The head may lag behind the stamp we saw; the message in our slot was claimed
            // after the eviction, so everything below it was published before.
            Lap::DetachAtHead => return Err(self.detach_at(head.max(message_of(stamp)))),
        };
        let lagged = self.skip_to(to);
        self.detached = self.lap == Lap::Disconnect;
        Err(lagged)
    }

    /// Message `pos` was published (`head > pos`) but its slot no longer holds it: skip it,
    /// and everything the head says has been overwritten since.
    pub(crate) fn skip_lost(&mut self, head: u64, capacity: u64) -> TryRecvError {
        debug_assert!(head > self.pos);
        self.skip_to(head.saturating_sub(capacity))
    }

    /// Moves forward to `to` (at least one message) and reports the jump as `Lagged(n)`.
    pub(crate) fn skip_to(&mut self, to: u64) -> TryRecvError {
        let to = to.max(self.pos.saturating_add(1));
        let n = to - self.pos;
        self.pos = to;
        // Saturating: lag reports derived from a corrupted shared file may be huge, and
        // rewinding lets them repeat.
        self.stats.missed = self.stats.missed.saturating_add(n);
        self.stats.lag_events = self.stats.lag_events.saturating_add(1);
        TryRecvError::Lagged(n)
    }

    /// Detaches for good, first reporting every message below `head` not read yet as one
    /// `Lagged(n)` (or `Detached` at once if there is none), so that nothing is lost without a
    /// report.
    pub(crate) fn detach_at(&mut self, head: u64) -> TryRecvError {
        self.detached = true;
        if head <= self.pos {
            return TryRecvError::Detached;
        }
        self.skip_to(head)
    }
}

/// How a receiver that cannot park waits: calls `try_recv` until it has an answer (`Some`),
/// backing off between calls as `backoff` says. `None` once `deadline` passes.
pub(crate) fn poll<R>(
    deadline: Option<Instant>,
    mut backoff: Backoff,
    mut try_recv: impl FnMut() -> Option<R>,
) -> Option<R> {
    loop {
        if let Some(answer) = try_recv() {
            return Some(answer);
        }
        // The clock is read only once the spinning is over.
        if !backoff.spinning() && deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        backoff.snooze(deadline);
    }
}

/// `try_recv`'s answer for [`poll`]: `None` for `Empty`.
#[cfg_attr(not(seqcast_shm), allow(dead_code))] // shm only
pub(crate) fn answer<T>(got: Result<T, TryRecvError>) -> Option<Result<T, TryRecvError>> {
    match got {
        Err(TryRecvError::Empty) => None,
        other => Some(other),
    }
}
