//! Tickets for publishers that may die holding one: the claim protocol of a ring written by
//! several *processes* (shared-memory rings created by `ShmSharedPublisher`).
//!
//! In process, `SharedPublisher`s claim tickets with one `fetch_add` and trust each other to
//! finish: a thread cannot die alone and leave the ring open. Processes can. A publisher
//! killed between its claim and its final stamp would leave its slot "not yet" forever: the
//! readers wait at it, and the publisher that claims the same slot one lap later waits for
//! it. Aeron answers the same problem (a log buffer claim whose publisher died) by
//! *unblocking* the stuck claim after a timeout; a seqlock ring cannot do that on a timer,
//! because a publisher that is only slow would go on storing payload words into a slot that
//! the next lap is already writing, and a reader could then take a torn value. So a claim is
//! unblocked only when its owner is *proven* gone, and the proof is the owner's record.
//!
//! # Who writes what
//! 1. `claim`: the next ticket. Publishers `fetch_add` it (AcqRel), nobody else writes it.
//! 2. Each publisher has an *owner record* ([`Owner`]: the words `ticket` and `len`), written
//!    only by that publisher: it stores [`CLAIMING`] in `ticket` before every claim, then the
//!    number of tickets it claimed in `len` and the first of them in `ticket`, and [`IDLE`]
//!    in `ticket` when it leaves. Between sends it keeps its last claim. A claim of several
//!    tickets (a batch) is one `fetch_add`, so the owner of ticket `h` is the record whose
//!    run `ticket .. ticket + len` holds `h`.
//! 3. `head`: the number of messages from 0 that are complete or abandoned (the completed
//!    prefix). Only ever moved forward by one, by a compare-exchange from `h` to `h + 1`
//!    after the slot of `h` was seen complete ([`Tickets::advance`]). So a reader that loads
//!    head `h` may rely on messages below `h` having completed, as with one publisher.
//! 4. Slots: the owner of ticket `t` writes slot `t & mask` with the seqlock recipe, after it
//!    saw the previous lap there complete or abandoned. The only other write of a slot is
//!    [`Slot::abandon`]: stamp `2t + 3` in place of a stamp that says "not yet", by whoever
//!    proved the owner of `t` gone.
//! 5. Liveness: an [`Owners`] implementation says whether a publisher may still write. For
//!    processes it is a lock the kernel drops when the process exits, so once a publisher is
//!    seen gone every store it ever made is visible and none is still to come.
//!
//! # The unblock rule ([`Tickets::unblock`])
//! The message at the head `h` is abandoned if its slot is not complete, `claim > h` (its
//! ticket was claimed), and no *live* owner record shows `CLAIMING` or a run holding `h`.
//! Why a live owner `O` of ticket `h` always shows one of them to the unblocker: `O` stored
//! `CLAIMING` before its claim; the unblocker's Acquire load of `claim` reads a value past
//! `h`, so it reads from `O`'s claim or a later one (every write of `claim` is a
//! read-modify-write, in the release sequence of `O`'s), which makes `O`'s `CLAIMING` store
//! happen-before the unblocker's load of `ticket`. That load then sees `CLAIMING`, the first
//! ticket of `O`'s run holding `h`, or a store `O` made after finishing its run (its next
//! `CLAIMING`, its next first ticket, `IDLE`): those are Release stores after `O`'s final
//! stamp of `h`, so the stamp `2h + 2` is visible to the unblocker's compare-exchange, which
//! then fails. The `len` the unblocker loads after `ticket` (both Acquire, both stored
//! Release, `len` first) is that run's or a later one's; a later one was stored after the
//! run completed, so it too makes the stamp visible. The compare-exchange is also what makes two unblockers,
//! or an unblocker and a late but complete write, agree: it replaces only the exact stamp the
//! unblocker saw.
//!
//! # Moving the head ([`Tickets::advance`])
//! After completing ticket `t` a publisher moves the head over every complete message from
//! `t` on. The head is only read by read-modify-writes or by a compare-exchange's success
//! here, so each step reads the latest head: if another publisher's step came first, this
//! one sees its value (and the stamps it saw, through the release sequence of `head`); if it
//! comes later, that publisher sees this one's stamp. So no completed message is left below
//! the head with nobody to move it, and the slot check `stamp >= 2h + 2` counts a later lap
//! in the slot as complete too (a lap starts only after the one before it completed or was
//! abandoned).
//!
//! # Progress
//! A send is lock-free while every owner runs; a live but descheduled owner delays the
//! readers of its message and the publisher of the same slot one lap later, as in process. A
//! dead owner's claim is abandoned as soon as a live publisher runs [`Tickets::unblock`] (its
//! heartbeat does, every period, while the head stands still; a publisher waiting for that
//! slot does too), and the readers report the message lost.

#![cfg_attr(not(seqcast_shm), allow(dead_code))] // only the loom model uses it there

use super::slot::{done, Slot};
use crate::sync::{AtomicU64, Ordering};

/// An owner record's `ticket` holding no claim (a publisher that left, or a place never used).
pub(crate) const IDLE: u64 = u64::MAX;
/// An owner record's `ticket` while its publisher is claiming a ticket right now.
pub(crate) const CLAIMING: u64 = u64::MAX - 1;

/// One publisher's owner record (module docs, rule 2).
#[derive(Clone, Copy)]
pub(crate) struct Owner<'a> {
    /// `CLAIMING`, `IDLE`, or the first ticket of its last claim.
    pub(crate) ticket: &'a AtomicU64,
    /// How many tickets its last claim took.
    pub(crate) len: &'a AtomicU64,
}

/// The publishers that may own tickets: their owner records and whether each can still write.
pub(crate) trait Owners {
    /// Number of owner places.
    fn count(&self) -> usize;
    /// The owner record of place `i` (module docs, rule 2).
    fn owner(&self, i: usize) -> Owner<'_>;
    /// Whether the publisher in place `i` may still write. `false` must mean gone for good,
    /// with every store it made visible to the caller (a released process lock), or a place
    /// nobody holds.
    fn alive(&self, i: usize) -> bool;
}

/// The shared words of a ring with many publisher processes.
pub(crate) struct Tickets<'a> {
    /// The next ticket (rule 1).
    pub(crate) claim: &'a AtomicU64,
    /// The completed prefix (rule 3).
    pub(crate) head: &'a AtomicU64,
    /// Slots in the ring, a power of two, at least 2.
    pub(crate) capacity: u64,
}

impl Tickets<'_> {
    /// Claims the next `n >= 1` tickets for the publisher whose owner record is `mine`;
    /// returns the first.
    #[inline]
    pub(crate) fn claim(&self, mine: Owner<'_>, n: u64) -> u64 {
        debug_assert!(n >= 1);
        // Relaxed: published by the AcqRel claim right after it (module docs, the unblock
        // rule). The teeth build `seqcast_loom_broken_unblock` leaves it out: the claim model
        // must then see a live owner's ticket abandoned.
        #[cfg(not(seqcast_loom_broken_unblock))]
        mine.ticket.store(CLAIMING, Ordering::Relaxed);
        // AcqRel: Release publishes the `CLAIMING` store to unblockers; Acquire orders it after
        // the claims before it.
        let t = self.claim.fetch_add(n, Ordering::AcqRel);
        // Release, both, `len` first: an unblocker that reads either sees everything before
        // it (the module docs need that of the stores after a finished run, and that the
        // `len` it reads after a `ticket` is that run's or a later one's).
        mine.len.store(n, Ordering::Release);
        mine.ticket.store(t, Ordering::Release);
        t
    }

    /// Whether ticket `t` may write its slot now: the previous lap there is complete or
    /// abandoned (any stamp from `2(t - capacity) + 2` on; only the owner of `t` writes a
    /// later one).
    #[inline]
    pub(crate) fn slot_free<T: Copy>(&self, slot: &Slot<T>, t: u64) -> bool {
        t < self.capacity || slot.stamp_acquire() >= done(t - self.capacity)
    }

    /// The latest head (a read-modify-write, so never a stale value).
    #[inline]
    fn latest_head(&self) -> u64 {
        // AcqRel: reads the last head in its modification order and synchronises with the
        // step that wrote it, so the stamps that step saw complete are visible here.
        self.head.fetch_add(0, Ordering::AcqRel)
    }

    /// Moves the head over every complete message from `from` on (module docs), the `n`
    /// messages from `from` being known complete. Called by the owner of the run `from ..
    /// from + n` after its final stamps (one step over the whole run if the head waits at
    /// its start), and by unblockers (`n == 1`).
    pub(crate) fn advance<'s, T: Copy + 's>(
        &self,
        from: u64,
        n: u64,
        slot: impl Fn(u64) -> &'s Slot<T>,
    ) {
        debug_assert!(n >= 1);
        let (mut h, mut step) = (from, n);
        loop {
            // AcqRel: Release publishes our final stamps to the next step's owner (which may
            // then stop relying on us), Acquire takes the stamps the step before us saw.
            match self
                .head
                .compare_exchange(h, h + step, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    h += step;
                    // Acquire: a claim made before a step that came ahead of ours is visible;
                    // a claim we do not see here comes with a step after ours, whose owner
                    // then finds our head and goes on from it.
                    if self.claim.load(Ordering::Acquire) <= h {
                        return;
                    }
                }
                Err(_) => h = self.latest_head(),
            }
            // From here on, one message at a time: only its stamp says it is complete.
            step = 1;
            if slot(h).stamp_acquire() < done(h) {
                return;
            }
        }
    }

    /// If the message at the head is stuck because the owner of its ticket is gone, marks it
    /// abandoned and moves the head on (module docs, the unblock rule). Returns the ticket it
    /// abandoned, or `None` if there was nothing to do or its owner may still write it.
    pub(crate) fn unblock<'s, T: Copy + 's>(
        &self,
        owners: &impl Owners,
        slot: impl Fn(u64) -> &'s Slot<T> + Copy,
    ) -> Option<u64> {
        let h = self.latest_head();
        let seen = slot(h).stamp_acquire();
        if seen >= done(h) {
            // Complete: its owner is between its final stamp and its head step, or died
            // there. Moving the head over a complete message is every publisher's right.
            self.advance(h, 1, slot);
            return None;
        }
        // Acquire: pairs with the claims' AcqRel, making the owner records' `CLAIMING` stores
        // before every claim seen here visible below.
        if self.claim.load(Ordering::Acquire) <= h {
            return None;
        }
        for i in 0..owners.count() {
            if !owners.alive(i) {
                continue;
            }
            let owner = owners.owner(i);
            // Acquire, both: pair with the owner's Release stores after its final stamps.
            let t = owner.ticket.load(Ordering::Acquire);
            if t == CLAIMING {
                return None;
            }
            #[cfg(not(seqcast_loom_broken_run_owner))]
            let len = owner.len.load(Ordering::Acquire);
            // The teeth build `seqcast_loom_broken_run_owner` takes every run for one ticket
            // (the owner of `h` only if `h == t`): the batch model must then see a live
            // owner's second ticket abandoned.
            #[cfg(seqcast_loom_broken_run_owner)]
            let len = 1;
            if h >= t && h - t < len {
                return None;
            }
        }
        slot(h).abandon(h, seen).ok()?;
        self.advance(h, 1, slot);
        Some(h)
    }
}

#[cfg(all(test, seqcast_loom))]
mod loom_model;
