//! One slot of the ring: a sequence-stamped seqlock cell, and the race-free payload copy.
//!
//! This file holds the whole seqlock protocol (the write recipe and the read recipe) and all
//! of the ring's `unsafe`. The recipe is H.-J. Boehm's "Can seqlocks get along with
//! programming language memory models?" (MSPC 2012), with the lock word replaced by a
//! per-slot stamp that names the message it guards:
//!
//! | stamp      | meaning                                   |
//! |------------|-------------------------------------------|
//! | `0`        | never written                             |
//! | `2s + 1`   | message `s` is being written              |
//! | `2s + 2`   | message `s` is complete                   |
//!
//! A ring with many publisher *processes* (`ring::claim`) has one more stamp: `2s + 3` in the
//! slot of message `s` says message `s` was abandoned (its publisher died holding the
//! ticket). `2s + 3` is the odd stamp of message `s + 1`, which lives in another slot
//! (capacity >= 2), so a reader of message `s` sees a stamp past its own that no lap of its
//! slot explains: the message is lost, and reported.
//!
//! Stamps of one slot only grow (message `s + capacity` is written after message `s`), so a
//! reader that wants message `s` compares the stamp with `2s + 2`: smaller means "not there
//! yet", equal means "ready", larger means "overwritten" (the reader was lapped).
//!
//! # Why the payload copy is sound
//! A reader may copy a payload while a writer overwrites it. Plain `ptr::read` would be a data
//! race (undefined behaviour even if the torn value is discarded), so every payload access is
//! an 8-byte *atomic* access ([`Word`]), and the copy lands in a `MaybeUninit` that is only
//! `assume_init`ed once the stamp check proves it is not torn:
//!
//! * writer: `stamp = 2s+1` (Relaxed); `fence(Release)`; words (Relaxed); `stamp = 2s+2`
//!   (Release).
//! * reader: `a = stamp` (Acquire); words (Relaxed); `fence(Acquire)`; `b = stamp`
//!   (Relaxed); deliver only if `a == b == 2s+2`. (Payloads over 256 bytes skip the copy
//!   when `a != 2s+2`; smaller ones copy first, so that all their lines are fetched at once.)
//!   On read-only mappings (shared-memory subscribers) the Acquire load of `a` is a Relaxed
//!   load followed by `fence(Acquire)` (`Slot::read_read_only`), the form Rust documents
//!   for read-only memory; the argument below is the same.
//!
//! If any word the reader loaded came from a later write `s'`, the writer's release fence
//! (before that word's store) synchronises with the reader's acquire fence (after that word's
//! load), so the later write's odd stamp happens-before the reader's second stamp load, which
//! then sees a value `!= a`. If `b == a`, every word came from write `s` or earlier, and the
//! `Acquire` on `a` (pairing with the `Release` that wrote `2s+2`) excludes earlier ones.
//!
//! Padding bytes of `T` are uninitialised; copying them through integer atomics would be UB, so
//! words are `MaybeUninit<u64>` end to end ([`Word`] is `AtomicMaybeUninit<u64>`).
//!
//! On x86-64 words move two at a time: one 16-byte SSE load or store in an `asm!` block
//! (`Payload::load_pair`, `Payload::store_pair`). For the memory model such a block stands
//! for two Relaxed 8-byte atomic accesses of those words, in either order, with no fence
//! between them (byte-wise ones if the hardware splits it further): exactly what the word
//! loop does, so the argument above holds unchanged, and a torn pair is caught by the stamp
//! check like a torn word. With 8-byte atomics a 256 B copy is 32 loads and 32 stores on each
//! side; the pairs halve that and measurably lower the one-way latency of large payloads
//! (`bench-results/2vcpu-epyc/sse-pairs-ab.txt`).
//!
//! The checkers see the pair path as follows. Under loom the same pair loop is compiled, and
//! a pair is what the argument says it stands for: two Relaxed loom word accesses (high word
//! first, the opposite of the word loop; with no fence between them the order changes no
//! outcome the model allows). That is weaker than one 16-byte step, so every execution of
//! the real instruction is among those loom explores. Miri cannot run `asm!`: under Miri the
//! copy is the plain word loop, and the pair loop is left to loom and the stress tests.

use crate::sync::{fence, AtomicU64, Ordering, Word};
use core::mem::{align_of, size_of, MaybeUninit};

/// `T` widened to whole 8-byte words: the union has alignment `max(align_of::<T>(), 8)`, so its
/// size is `size_of::<T>()` rounded up to a multiple of 8. The extra bytes stay uninitialised.
#[repr(C)]
#[derive(Clone, Copy)]
union Words<T: Copy> {
    value: T,
    _align: [u64; 0],
}

/// The stamp of message `seq` while it is being written.
#[inline]
pub(crate) const fn writing(seq: u64) -> u64 {
    2 * seq + 1
}

/// The stamp of message `seq` once it is complete.
#[inline]
pub(crate) const fn done(seq: u64) -> u64 {
    2 * seq + 2
}

/// The stamp of message `seq` once its claim was abandoned (`ring::claim`): above `done(seq)`
/// and below the next lap's `writing(seq + capacity)` for any capacity of at least 2.
#[cfg_attr(not(any(seqcast_shm, seqcast_loom)), allow(dead_code))] // shared shm rings only
#[inline]
pub(crate) const fn abandoned(seq: u64) -> u64 {
    2 * seq + 3
}

/// The message a non-zero stamp belongs to (`2s+1` and `2s+2` both give `s`).
#[inline]
pub(crate) const fn message_of(stamp: u64) -> u64 {
    (stamp - 1) / 2
}

/// The ordering of the completing stamp store. Only the loom "teeth" build
/// (`--cfg seqcast_loom_broken`) weakens it, to show that the loom models catch the bug.
#[cfg(not(seqcast_loom_broken))]
const DONE_ORDER: Ordering = Ordering::Release;
#[cfg(seqcast_loom_broken)]
const DONE_ORDER: Ordering = Ordering::Relaxed;

/// The lag rule, shared by the in-process ring and shared-memory topics: a reader at `cursor`
/// whose slot holds (or is receiving) the message of `stamp` moves to the oldest message still
/// intact. `message_of(stamp)` replaced message `message_of(stamp) - capacity` and every
/// earlier one in its slot; `head - capacity` is the oldest any publisher could still leave
/// intact. Never below `cursor + 1`, so a reader always moves forward (a consistent ring has
/// `message_of(stamp) >= cursor + capacity` anyway). `stamp` must be non-zero: a reader of a
/// shared-memory file checks that the stamp is one a publisher could have written first.
#[inline]
pub(crate) fn resync(cursor: u64, stamp: u64, head: u64, capacity: u64) -> u64 {
    (message_of(stamp).saturating_add(1).saturating_sub(capacity))
        .max(head.saturating_sub(capacity))
        .max(cursor.saturating_add(1))
}

/// What a reader found in a slot.
pub(crate) enum Read<T> {
    /// The message is not there yet (an earlier lap, or it is being written right now).
    NotYet,
    /// The message, whole.
    Ready(T),
    /// The slot holds, or is receiving, a later message; carries the stamp that said so.
    Overwritten(u64),
}

/// One slot: the stamp and the payload words (`8 + size_of::<T>()` rounded up to 8 bytes, or
/// to `T`'s alignment). Where slots sit is up to their storage: [`Slots`] places them one or
/// several to a cache line, [`LineSlot`] aligns one to a line.
///
/// `stamp` is written only by the publisher that owns message `s` (see the encoding above);
/// `payload` is written only between that publisher's odd and even stamp stores. Readers only
/// load.
#[repr(C)]
pub(crate) struct Slot<T: Copy> {
    stamp: AtomicU64,
    payload: Payload<T>,
}

impl<T: Copy> Slot<T> {
    pub(crate) fn new() -> Self {
        Slot {
            stamp: AtomicU64::new(0),
            payload: Payload::new(),
        }
    }

    /// Writes message `seq`. The caller must be the only writer of this slot until it returns:
    /// the single `Publisher`, or the `SharedPublisher` holding ticket `seq` that saw the
    /// previous lap complete.
    #[inline]
    pub(crate) fn write(&self, seq: u64, value: T) {
        self.stamp.store(writing(seq), Ordering::Relaxed);
        // Release fence: orders the odd stamp before every payload word store, so a reader that
        // loads one of the new words sees the odd stamp on its re-check (module docs). The loom
        // teeth build `seqcast_loom_broken_fence` drops it: the multi-word models must then
        // find a torn read.
        #[cfg(not(seqcast_loom_broken_fence))]
        fence(Ordering::Release);
        self.payload.store(value);
        // Release: pairs with the Acquire stamp load in `read`, publishing the payload words.
        self.stamp.store(done(seq), DONE_ORDER);
    }

    /// Zeroes the payload words in place (Miri only: see `Payload::zero`). Relaxed stores:
    /// the ring is not shared yet; handing it to other threads orders them.
    #[cfg(miri)]
    pub(crate) fn zero_payload(&self) {
        self.payload.zero();
    }

    /// The current stamp. `Acquire`: a `SharedPublisher` waiting for the previous lap to finish
    /// must see that lap's payload stores ordered before its own.
    #[inline]
    pub(crate) fn stamp_acquire(&self) -> u64 {
        self.stamp.load(Ordering::Acquire)
    }

    /// The current stamp, Relaxed: for a reader that orders it with its own fences (a
    /// shared-memory subscriber checking a stamp against the head).
    #[cfg_attr(not(seqcast_shm), allow(dead_code))] // shm only
    #[inline]
    pub(crate) fn stamp_relaxed(&self) -> u64 {
        self.stamp.load(Ordering::Relaxed)
    }

    /// Marks message `seq` abandoned (`ring::claim`): replaces the stamp with
    /// [`abandoned`]`(seq)` if it still is `observed`. The caller proved that the ticket's
    /// owner is gone, so nobody writes the payload any more. `AcqRel`: the success orders the
    /// abandon after the observed stamp's writer (Acquire) and publishes it to the next lap's
    /// publisher, which waits for it with an Acquire load (Release); a failure (Acquire) hands
    /// back the stamp that won.
    #[cfg_attr(not(any(seqcast_shm, seqcast_loom)), allow(dead_code))] // shared shm rings only
    #[inline]
    pub(crate) fn abandon(&self, seq: u64, observed: u64) -> Result<u64, u64> {
        self.stamp.compare_exchange(
            observed,
            abandoned(seq),
            Ordering::AcqRel,
            Ordering::Acquire,
        )
    }

    /// Tries to read message `seq` (never blocks, never writes).
    #[inline]
    pub(crate) fn read(&self, seq: u64) -> Read<T> {
        self.read_as::<false>(seq)
    }

    /// [`read`](Self::read) for memory mapped read-only (`PROT_READ`): the first stamp load is
    /// Relaxed, then a `fence(Acquire)`, instead of an Acquire load. Rust's atomics
    /// documentation only promises Relaxed loads on read-only memory; the load-then-fence
    /// pair gives the same synchronisation (the fence pairs with the writer's Release store,
    /// as the Acquire load does). A separate instantiation, so the in-process ring's code is
    /// unchanged.
    #[cfg_attr(not(seqcast_shm), allow(dead_code))] // shm only
    #[inline]
    pub(crate) fn read_read_only(&self, seq: u64) -> Read<T> {
        self.read_as::<true>(seq)
    }

    #[inline(always)]
    fn read_as<const READ_ONLY: bool>(&self, seq: u64) -> Read<T> {
        let want = done(seq);
        let early = |a: u64| {
            if a < want {
                Read::NotYet
            } else {
                Read::Overwritten(a)
            }
        };
        let a = if READ_ONLY {
            // Relaxed: made Acquire by the fence below, before any payload word is loaded.
            self.stamp.load(Ordering::Relaxed)
        } else {
            // Acquire: pairs with the Release store of `2s+2` in `write`.
            self.stamp.load(Ordering::Acquire)
        };
        if !Payload::<T>::EAGER && a != want {
            return early(a);
        }
        if READ_ONLY {
            // Acquire fence: with the Relaxed load of `a`, pairs with the Release store of
            // `2s+2` in `write` (what the Acquire load does in the other instantiation).
            fence(Ordering::Acquire);
        }
        // Small payloads are copied whatever `a` says (see `Payload::EAGER`).
        let copy = self.payload.load();
        // Acquire fence: pairs with the writer's Release fence, so that a word taken from a
        // later write forces the re-check below to see that write's odd stamp.
        fence(Ordering::Acquire);
        // Relaxed: ordered after the word loads by the fence above.
        let b = self.stamp.load(Ordering::Relaxed);
        // Checked only after the fence: the fence keeps the copy's loads ahead of this
        // branch, so the compiler cannot sink them into the delivering path.
        if a != want {
            return early(a);
        }
        if b != a {
            return Read::Overwritten(b);
        }
        // SAFETY: `b == a == 2s+2`: by the argument in the module docs every word of `copy`
        // came from the complete write of message `s`, which stored a whole, valid `T`
        // (uninitialised bytes of `copy` are exactly the padding bytes of that `T`).
        Read::Ready(unsafe { copy.assume_init().value })
    }
}

/// How a topic's slots sit in memory.
///
/// A reader pays one cache-line transfer per line it reads, not per message. With one
/// message per line (`Line`) a reader that is behind fetches a line for every message; with
/// small payloads packed several to a line (`Packed`) one fetch brings several messages, so
/// a reader catching up (or draining a batch) moves up to four times fewer lines. The price:
/// a reader polling the newest message shares its line with the slots the publisher writes
/// next, so the line moves between the two cores more often while the reader keeps up.
///
/// | layout | slot stride | payloads it changes |
/// |---|---|---|
/// | `Line` | `8 + size` rounded up to 64 bytes | none (every slot starts a line) |
/// | `Packed` | 16 bytes up to 8 B, 32 bytes up to 24 B | up to 24 bytes; larger ones as `Line` |
/// | `Auto` | chosen per payload size from measurements (the performance page) | |
///
/// The protocol, the lag count and every guarantee are the same in every layout: only the
/// addresses of the slots differ.
///
/// ```
/// use seqcast::SlotLayout;
/// let (mut tx, mut rx) = seqcast::try_channel_with::<u64>(64, SlotLayout::Packed).unwrap();
/// tx.send(1);
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SlotLayout {
    /// `Packed` for payloads of up to 24 bytes, `Line` for larger ones: where each pays on
    /// the project's measurements (`docs/performance.md`).
    #[default]
    Auto,
    /// One slot per cache line (or several whole lines for payloads over 56 bytes).
    Line,
    /// Slots of payloads up to 24 bytes packed two or four to a line; larger payloads as
    /// `Line`.
    Packed,
}

impl SlotLayout {
    /// The byte distance between consecutive slots of `T` in this layout.
    pub(crate) const fn stride<T: Copy>(self) -> usize {
        let size = size_of::<Slot<T>>();
        let line = size.next_multiple_of(64);
        let packed = if size <= 32 {
            size.next_power_of_two()
        } else {
            line
        };
        match self {
            SlotLayout::Line => line,
            SlotLayout::Packed | SlotLayout::Auto => packed,
        }
    }
}

/// A slot aligned to a cache line, for storages with a fixed layout (shared-memory files).
#[cfg_attr(not(seqcast_shm), allow(dead_code))] // shared-memory files only
#[repr(C, align(64))]
pub(crate) struct LineSlot<T: Copy>(pub(crate) Slot<T>);

/// A ring's slots, `stride` bytes apart in one allocation aligned to a cache line, so that a
/// packed line never straddles two (the stride is a power of two dividing 64, or a multiple
/// of 64). Under loom, where addresses mean nothing to the model, a plain boxed slice.
pub(crate) struct Slots<T: Copy> {
    #[cfg(not(seqcast_loom))]
    base: core::ptr::NonNull<u8>,
    #[cfg(seqcast_loom)]
    slots: Box<[Slot<T>]>,
    /// Bytes from one slot to the next; read-only.
    stride: usize,
    /// Number of slots; read-only.
    len: usize,
    _own: core::marker::PhantomData<Slot<T>>,
}

impl<T: Copy> Slots<T> {
    /// `len` fresh slots (stamp 0) in `layout`, or `None` if that many do not fit in memory.
    pub(crate) fn try_new(len: usize, layout: SlotLayout) -> Option<Self> {
        let stride = layout.stride::<T>();
        debug_assert!(stride >= size_of::<Slot<T>>() && stride % align_of::<Slot<T>>() == 0);
        debug_assert!(stride % 64 == 0 || 64 % stride == 0);
        let bytes = len.checked_mul(stride)?;
        let align = align_of::<Slot<T>>().max(64);
        let alloc = std::alloc::Layout::from_size_align(bytes, align).ok()?;
        #[cfg(seqcast_loom)]
        {
            let _ = alloc;
            let slots = (0..len).map(|_| Slot::new()).collect();
            Some(Slots {
                slots,
                stride,
                len,
                _own: core::marker::PhantomData,
            })
        }
        #[cfg(not(seqcast_loom))]
        {
            debug_assert!(bytes > 0);
            // SAFETY: `alloc` has a non-zero size (`len >= 1` slots of at least 8 bytes).
            let base = core::ptr::NonNull::new(unsafe { std::alloc::alloc(alloc) })?;
            for i in 0..len {
                // SAFETY: slot `i` lies at `i * stride`, inside the allocation (`i < len`), and
                // is aligned for `Slot<T>` (the base is aligned to `align`, the stride is a
                // multiple of the slot's alignment). Writing does not read the old bytes.
                unsafe {
                    base.as_ptr()
                        .add(i * stride)
                        .cast::<Slot<T>>()
                        .write(Slot::new())
                };
            }
            let slots = Slots {
                base,
                stride,
                len,
                _own: core::marker::PhantomData,
            };
            // Under Miri payload words are `AtomicU64`s, which must never load uninitialised
            // bytes, and readers copy small payloads before checking the stamp: zero the
            // payloads where they stay.
            #[cfg(miri)]
            (0..len).for_each(|i| slots.get(i).zero_payload());
            Some(slots)
        }
    }

    /// Slot `i`, for `i < len`.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> &Slot<T> {
        debug_assert!(i < self.len);
        #[cfg(seqcast_loom)]
        {
            &self.slots[i]
        }
        // `i < len` (callers mask the sequence number with `len - 1`); slots are only ever
        // accessed through `&Slot<T>` (their cells are atomic).
        #[cfg(not(seqcast_loom))]
        // SAFETY: slot `i` at `i * stride` was initialised by `try_new` and lives as long as
        // `self` (see above).
        unsafe {
            &*self.base.as_ptr().add(i * self.stride).cast::<Slot<T>>()
        }
    }

    /// Number of slots.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes from one slot to the next.
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }
}

#[cfg(not(seqcast_loom))]
impl<T: Copy> Drop for Slots<T> {
    fn drop(&mut self) {
        let align = align_of::<Slot<T>>().max(64);
        // `try_new` built this very layout; `Slot<T>` has no drop glue (`T: Copy`, atomics).
        let alloc = std::alloc::Layout::from_size_align(self.len * self.stride, align)
            .expect("the layout try_new allocated");
        // SAFETY: `base` came from `alloc(alloc)` with this layout and is freed once, here.
        unsafe { std::alloc::dealloc(self.base.as_ptr(), alloc) };
    }
}

// SAFETY: `Slots` owns its slots (like a `Box<[Slot<T>]>`); sharing or sending it shares or
// sends them, which `Slot<T>`'s own `Sync`/`Send` allow.
unsafe impl<T: Copy + Send> Sync for Slots<T> {}
// SAFETY: as above.
unsafe impl<T: Copy + Send> Send for Slots<T> {}

/// Words a run read buffers at most (2 KiB), and messages per run at most.
const RUN_WORDS: usize = 256;
const RUN_MAX: usize = 32;

/// A run read's copies: whole `Words<T>` back to back, so the buffer is aligned for any
/// payload whose alignment is at most 64 (larger ones read one message at a time).
#[repr(C, align(64))]
struct RunBuf([MaybeUninit<u64>; RUN_WORDS]);

/// Reads messages `seq, seq + 1, ...` that are ready, at most `max` of them, handing each to
/// `deliver` in order; returns how many it delivered. Stops at the first message that is
/// not there whole (not yet written, being written, or overwritten): the caller's engine
/// reads that one on its own, to tell which.
///
/// The batch form of [`Slot::read`]: for each chunk of up to 32 slots it loads every stamp
/// first, then copies every payload whose stamp is the one wanted, then re-checks those
/// stamps, with one `fence(Acquire)` after the stamps and one after the copies for the whole
/// chunk instead of a pair per message. Per slot that is exactly the read-only recipe of the
/// module docs (Relaxed stamp load, fence, words, fence, Relaxed re-check; loads of other
/// slots in between change nothing in the argument), so a torn or overwritten copy is never
/// delivered. `slot(s)` must return the slot of message `s`.
#[inline]
pub(crate) fn read_run<'a, T: Copy + 'a>(
    slot: impl Fn(u64) -> &'a Slot<T>,
    seq: u64,
    max: usize,
    mut deliver: impl FnMut(T),
) -> usize {
    let words = Payload::<T>::WORDS.max(1);
    let per_chunk = if align_of::<Words<T>>() > 64 {
        0
    } else {
        (RUN_WORDS / words).min(RUN_MAX)
    };
    if per_chunk == 0 {
        // Payloads over 2 KiB (or over-aligned): one message at a time.
        let mut n = 0;
        while n < max {
            let s = seq + n as u64;
            match slot(s).read(s) {
                Read::Ready(v) => deliver(v),
                _ => break,
            }
            n += 1;
        }
        return n;
    }
    let mut buf = RunBuf([MaybeUninit::uninit(); RUN_WORDS]);
    // The slots of the current run, looked up once by the stamp loop and reused by the copy
    // and the re-check (a lookup is a mask, a multiply and three loads of the ring's fields,
    // which the copy's asm makes the compiler redo each time). Slot `i` of a run is the one
    // of message `first + i`; its first stamp load found `done(first + i)`, which the
    // re-check compares with: the loads and fences are the same as with a lookup each time.
    let mut slots = [slot(seq); RUN_MAX];
    let mut done_total = 0;
    while done_total < max {
        let first = seq + done_total as u64;
        let want = (max - done_total).min(per_chunk);
        // Relaxed: made Acquire for the copies below by the fence after this loop.
        let mut ready = 0;
        while ready < want {
            let s = first + ready as u64;
            let at = slot(s);
            let a = at.stamp.load(Ordering::Relaxed);
            if a != done(s) {
                break;
            }
            slots[ready] = at;
            ready += 1;
        }
        if ready == 0 {
            break;
        }
        // Acquire fence: with the Relaxed stamp loads above, pairs with the Release stores of
        // `2s+2` in `write`, so each copy sees at least its message's words.
        fence(Ordering::Acquire);
        let dst = buf.0.as_mut_ptr();
        // An index loop: `i` also places the copy in `buf` (and iterating `slots[..ready]`
        // measured slower: about 500 more instructions per 4 KiB record under callgrind).
        #[allow(clippy::needless_range_loop)]
        for i in 0..ready {
            // `i * words + words <= per_chunk * words <= RUN_WORDS`: inside `buf`.
            let out = dst.wrapping_add(i * words);
            let payload = &slots[i].payload;
            payload.load_range(out, 0, Payload::<T>::IN_STAMP_LINE);
            payload.load_range(out, Payload::<T>::IN_STAMP_LINE, Payload::<T>::WORDS);
        }
        // Acquire fence: pairs with the writers' Release fences, so that a word taken from a
        // later write forces its slot's re-check below to see that write's odd stamp. The
        // loom teeth build `seqcast_loom_broken_run` drops it: the batch model must then
        // find an overwritten or torn copy delivered.
        #[cfg(not(seqcast_loom_broken_run))]
        fence(Ordering::Acquire);
        let mut whole = 0;
        while whole < ready {
            // Relaxed: ordered after the copies by the fence above.
            let b = slots[whole].stamp.load(Ordering::Relaxed);
            if b != done(first + whole as u64) {
                break;
            }
            whole += 1;
        }
        for i in 0..whole {
            // Copy `i` lies inside `buf` at a multiple of `size_of::<Words<T>>()` from a
            // 64-aligned base (alignment at most 64, checked above); its slot's stamps
            // before and after the copy were both `2s+2` (module docs: the copy is whole).
            // SAFETY: in bounds, aligned, and a complete write of a valid `T` (see above).
            let v = unsafe { dst.add(i * words).cast::<Words<T>>().read().value };
            deliver(v);
        }
        done_total += whole;
        if whole < want {
            break;
        }
    }
    done_total
}

impl<T: Copy> Payload<T> {
    /// Number of 8-byte words a `T` occupies in a slot.
    const WORDS: usize = size_of::<Words<T>>() / 8;

    /// Number of leading words that share the stamp's cache line (the payload starts right
    /// after the stamp, at the payload's alignment; a slot starts a line).
    const IN_STAMP_LINE: usize = {
        // Under loom the slot's fields are loom objects of other sizes: compute the offset of
        // the real layout, so the loom models copy in the same order as real builds.
        #[cfg(not(seqcast_loom))]
        let offset = core::mem::offset_of!(Slot<T>, payload);
        #[cfg(seqcast_loom)]
        let offset = core::mem::offset_of!(RealLayout<T>, payload);
        let room = if offset < 64 { (64 - offset) / 8 } else { 0 };
        if room < Self::WORDS {
            room
        } else {
            Self::WORDS
        }
    };

    /// Whether a reader copies the payload before it knows the stamp is the one it wants.
    /// A payload that spans several lines then has all of them requested at once when the
    /// message lands, instead of the stamp's line first and the others only after the
    /// stamp check (one cross-core transfer instead of two in a row; the A/B of the two
    /// recipes is on the performance page). Up to 256 bytes, so an empty poll of a big
    /// payload does not copy kilobytes for nothing.
    const EAGER: bool = Self::WORDS <= 32;

    /// Copies `value` in with Relaxed atomic stores (ordered by the caller's fences). The
    /// words outside the stamp's line go first, so the line a waiting reader spins on is
    /// written in one burst right before the final stamp (DESIGN.md §5).
    #[inline]
    fn store(&self, value: T) {
        #[cfg(not(miri))]
        let src = MaybeUninit::new(Words { value });
        // Under Miri a word is a plain `AtomicU64` (`crate::sync`), which must not be handed
        // uninitialised bytes: zero the bytes that widen `T` to whole words, so that only
        // padding inside `T` itself stays uninitialised (and Miri reports such payloads). The
        // buffer is written in place: a typed move of it could drop the zeroed tail again.
        #[cfg(miri)]
        let mut src = MaybeUninit::<Words<T>>::uninit();
        #[cfg(miri)]
        // SAFETY: both writes stay inside `src` (`value` is a field of the union `Words<T>`,
        // so its write is in bounds and aligned); the second overwrites only the first
        // `size_of::<T>()` bytes.
        unsafe {
            src.as_mut_ptr().write_bytes(0, 1);
            core::ptr::addr_of_mut!((*src.as_mut_ptr()).value).write(value);
        }
        let src = src.as_ptr().cast::<MaybeUninit<u64>>();
        self.store_range(src, Self::IN_STAMP_LINE, Self::WORDS);
        self.store_range(src, 0, Self::IN_STAMP_LINE);
    }

    /// Copies a payload out with Relaxed atomic loads. The result may be torn: the caller
    /// checks the stamp before trusting it.
    #[inline]
    fn load(&self) -> MaybeUninit<Words<T>> {
        let mut out = MaybeUninit::<Words<T>>::uninit();
        let dst = out.as_mut_ptr().cast::<MaybeUninit<u64>>();
        self.load_range(dst, 0, Self::IN_STAMP_LINE);
        self.load_range(dst, Self::IN_STAMP_LINE, Self::WORDS);
        out
    }

    /// Stores words `from..to` of `src`, a local of `WORDS` words. Split at the stamp's line,
    /// so no 16-byte pair straddles two cache lines.
    #[inline(always)]
    fn store_range(&self, src: *const MaybeUninit<u64>, from: usize, to: usize) {
        #[cfg(any(seqcast_loom, all(target_arch = "x86_64", not(miri))))]
        let from = {
            let mut i = from;
            while i + 1 < to {
                // SAFETY: `i + 1 < to <= WORDS`: the 16-byte read stays inside `src`;
                // `read_unaligned` needs no alignment; any bytes are valid in a register.
                let v = unsafe { src.add(i).cast::<Pair>().read_unaligned() };
                self.store_pair(i, v);
                i += 2;
            }
            i
        };
        for i in from..to {
            // SAFETY: `i < WORDS`, so the read stays inside `src`, a live local of
            // `WORDS * 8` bytes, 8-aligned; any bytes are valid as `MaybeUninit<u64>`.
            let w = unsafe { src.add(i).read() };
            self.word(i).store(w, Ordering::Relaxed);
        }
    }

    /// Loads words `from..to` into `dst`, a local of `WORDS` words (split as `store_range`).
    #[inline(always)]
    fn load_range(&self, dst: *mut MaybeUninit<u64>, from: usize, to: usize) {
        #[cfg(any(seqcast_loom, all(target_arch = "x86_64", not(miri))))]
        let from = {
            let mut i = from;
            while i + 1 < to {
                let v = self.load_pair(i);
                // SAFETY: `i + 1 < to <= WORDS`: the 16-byte write stays inside `dst`;
                // `write_unaligned` needs no alignment.
                unsafe { dst.add(i).cast::<Pair>().write_unaligned(v) };
                i += 2;
            }
            i
        };
        for i in from..to {
            let w = self.word(i).load(Ordering::Relaxed);
            // SAFETY: `i < WORDS`: the write stays inside `dst`, a local of `WORDS * 8`
            // bytes, 8-aligned.
            unsafe { dst.add(i).write(w) };
        }
    }
}

/// Two payload words, moved by one SSE instruction (x86-64 only; see `Payload::load_pair`).
#[cfg(all(target_arch = "x86_64", not(seqcast_loom), not(miri)))]
type Pair = core::arch::x86_64::__m128i;

/// Under loom, a pair is two words moved by two loom accesses (module docs).
#[cfg(seqcast_loom)]
type Pair = [MaybeUninit<u64>; 2];

/// The real slot's layout, for `Payload::IN_STAMP_LINE` under loom.
#[cfg(seqcast_loom)]
#[repr(C, align(64))]
struct RealLayout<T: Copy> {
    stamp: u64,
    payload: MaybeUninit<Words<T>>,
}

#[cfg(not(seqcast_loom))]
use core::cell::UnsafeCell;

/// The payload words of a slot. Only ever accessed through 8-byte atomic operations, or SSE
/// pairs that stand for two of them (module docs).
#[cfg(not(seqcast_loom))]
struct Payload<T: Copy>(UnsafeCell<MaybeUninit<Words<T>>>);

#[cfg(not(seqcast_loom))]
impl<T: Copy> Payload<T> {
    fn new() -> Self {
        Payload(UnsafeCell::new(MaybeUninit::uninit()))
    }

    /// Stores zeros into every word, in place: under Miri readers load words of slots never
    /// written (`Ring::new` calls this once the slots are where they stay).
    #[cfg(miri)]
    fn zero(&self) {
        for i in 0..Self::WORDS {
            self.word(i).store(MaybeUninit::new(0), Ordering::Relaxed);
        }
    }

    /// Words `i` and `i + 1` in one 16-byte SSE load (x86-64 has SSE2 on every CPU).
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[inline(always)]
    fn load_pair(&self, i: usize) -> Pair {
        debug_assert!(i + 1 < Self::WORDS);
        let p = self.0.get().cast::<u64>().wrapping_add(i);
        let v;
        // The asm stands for two Relaxed 8-byte atomic loads (byte-wise ones if the hardware
        // splits it): what the word loop does. A torn value is discarded by the caller's
        // stamp check, and no asm option lets the compiler move it across the caller's fences.
        // SAFETY: `i + 1 < WORDS`: the 16 bytes are inside the cell; the asm only reads them
        // into a register, as an atomic access (above) that races with nothing non-atomic.
        unsafe {
            core::arch::asm!(
                "movdqu {v}, xmmword ptr [{p}]",
                p = in(reg) p,
                v = out(xmm_reg) v,
                options(nostack, preserves_flags),
            );
        }
        v
    }

    /// Stores `v` into words `i` and `i + 1` with one 16-byte SSE store.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[inline(always)]
    fn store_pair(&self, i: usize, v: Pair) {
        debug_assert!(i + 1 < Self::WORDS);
        let p = self.0.get().cast::<u64>().wrapping_add(i);
        // Under the memory model the store stands for two Relaxed 8-byte atomic stores (or
        // byte-wise ones), as in `load_pair`.
        // SAFETY: `i + 1 < WORDS`: the 16 bytes are inside the cell, written only by the one
        // writer of this slot (`Slot::write`).
        unsafe {
            core::arch::asm!(
                "movdqu xmmword ptr [{p}], {v}",
                p = in(reg) p,
                v = in(xmm_reg) v,
                options(nostack, preserves_flags),
            );
        }
    }

    #[inline]
    fn word(&self, i: usize) -> &Word {
        const { assert!(core::mem::align_of::<Word>() <= 8) };
        debug_assert!(i < Self::WORDS);
        // The cell is 8-aligned (the union contains `[u64; 0]`), which is `Word`'s alignment
        // (checked above); the memory lives as long as `&self`; and every access to it, by
        // any thread, is an 8-byte atomic access through `Word` or an SSE pair standing for
        // two of them: nothing mixes atomic and non-atomic accesses.
        let base = self.0.get().cast::<MaybeUninit<u64>>();
        // SAFETY: `i < WORDS` keeps the word inside the cell; alignment and access: see above.
        unsafe { Word::from_ptr(base.add(i)) }
    }
}

/// The payload words of a slot under loom: one loom atomic per word.
#[cfg(seqcast_loom)]
struct Payload<T: Copy>(Box<[Word]>, core::marker::PhantomData<T>);

#[cfg(seqcast_loom)]
impl<T: Copy> Payload<T> {
    fn new() -> Self {
        let words = (0..Self::WORDS)
            .map(|_| Word::new(MaybeUninit::new(0)))
            .collect();
        Payload(words, core::marker::PhantomData)
    }

    #[inline]
    fn word(&self, i: usize) -> &Word {
        &self.0[i]
    }

    /// Words `i` and `i + 1` as the SSE load stands for them: two Relaxed loads, with no fence
    /// between (module docs). The multi-word teeth build (`seqcast_loom_broken_fence`) relies
    /// on this path too: a torn pair must be caught by the stamp check.
    #[inline]
    fn load_pair(&self, i: usize) -> Pair {
        debug_assert!(i + 1 < Self::WORDS);
        let hi = self.word(i + 1).load(Ordering::Relaxed);
        let lo = self.word(i).load(Ordering::Relaxed);
        [lo, hi]
    }

    /// Words `i` and `i + 1` as the SSE store stands for them: two Relaxed stores.
    #[inline]
    fn store_pair(&self, i: usize, v: Pair) {
        debug_assert!(i + 1 < Self::WORDS);
        self.word(i + 1).store(v[1], Ordering::Relaxed);
        self.word(i).store(v[0], Ordering::Relaxed);
    }
}

// SAFETY: a `Slot` is shared between the publisher and subscribers. Its only interior
// mutability is the stamp (an atomic) and the payload words, every access to which is an
// atomic `Word` operation or an SSE pair standing for two; values of `T` cross threads by
// copy, hence `T: Send`.
unsafe impl<T: Copy + Send> Sync for Slot<T> {}
// SAFETY: as above; owning a `Slot` owns at most one `T`, which is `Send`.
unsafe impl<T: Copy + Send> Send for Slot<T> {}
