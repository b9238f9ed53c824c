//! Slot-layout experiments, to test what the measurements suggest before seqcast adopts it: small
//! single-producer seqlock rings that differ from seqcast's only in where the stamp sits and
//! in which order the publisher stores, run through the same latency and throughput runners
//! as the libraries. Selected with `--libs layout-head,layout-premark,...`; never in the
//! default run. Safe code only (every word is an `AtomicU64`), so they are slower to write
//! than a `memcpy` but compare with each other, and with `seqcast` itself, like for like.
//!
//! | variant | stamp | publisher's stores for message `s` |
//! |---|---|---|
//! | `layout-head` | first word of a 64-byte-aligned slot (seqcast's layout) | odd stamp, words in order, even stamp (seqcast's recipe) |
//! | `layout-ordered` | as `head` | odd stamp, words outside the stamp's line, words in it, even stamp |
//! | `layout-head128` | as `ordered`, slots padded to 128 bytes | as `ordered` |
//! | `layout-premark` | as `head` | words (as `ordered`), even stamp, then the *next* slot's odd stamp |
//! | `layout-tail` | last word (after the payload) | odd stamp, words outside its line, words in it, even stamp |
//! | `layout-split` | a marker word first, the stamp last | marker = `s`, words, even stamp; the reader spins on the stamp and re-checks the marker |
//! | `layout-touch` | as `ordered` | as `ordered`, then takes ownership of the *next* slot's payload lines (outside its stamp's line) by storing back the word it loads from each: a write-prefetch in safe code |
//! | `layout-cursor` | no stamp: one shared cursor line (the Disruptor's shape) | words, then `cursor = s + 1`; the reader spins on the cursor. **Not a seqlock**: it cannot detect an overwrite, so it is only a timing reference for the paced latency run |
//! | `layout-pause` | as `head` | as `head`; the reader runs one `spin_loop` hint after each empty poll (fewer steals of the line being written) |
//! | `layout-hint` | as `head` | as `head`, then `cursor = s + 1` in its own line; the reader reads slots below the last cursor it saw without looking at the cursor, and polls only the cursor when caught up (the Disruptor's batching, stamps still checked) |
//! | `layout-eager` | as `head` | as `head`; the reader copies the payload *before* checking the stamp, so every line of the slot is requested at once |
//! | `layout-eager-ordered` | as `head` | as `ordered`, with the eager reader: seqcast's own recipe |
//! | `layout-stamps` | stamps in an array of their own (8 per line), payloads packed at their size | as `eager` |
//! | `layout-dense` | first word, slots packed back to back (stride `8 + size`, no line alignment) | as `eager-ordered` |
//!
//! `premark` keeps one slot fewer readable (a reader exactly a lap behind is told it lagged
//! one message early), which is why it is an experiment here and not seqcast's protocol.

use super::{Poll, Rx, Stamped, Tx, Visit};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Head,
    Ordered,
    Head128,
    Premark,
    Tail,
    Split,
    Touch,
    Cursor,
    Pause,
    Hint,
    Eager,
    EagerOrdered,
    Dense,
    Stamps,
}

impl Variant {
    pub const ALL: [Variant; 14] = [
        Variant::Head,
        Variant::Ordered,
        Variant::Head128,
        Variant::Premark,
        Variant::Tail,
        Variant::Split,
        Variant::Touch,
        Variant::Cursor,
        Variant::Pause,
        Variant::Hint,
        Variant::Eager,
        Variant::EagerOrdered,
        Variant::Dense,
        Variant::Stamps,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Variant::Head => "layout-head",
            Variant::Ordered => "layout-ordered",
            Variant::Head128 => "layout-head128",
            Variant::Premark => "layout-premark",
            Variant::Tail => "layout-tail",
            Variant::Split => "layout-split",
            Variant::Touch => "layout-touch",
            Variant::Cursor => "layout-cursor",
            Variant::Pause => "layout-pause",
            Variant::Hint => "layout-hint",
            Variant::Eager => "layout-eager",
            Variant::EagerOrdered => "layout-eager-ordered",
            Variant::Dense => "layout-dense",
            Variant::Stamps => "layout-stamps",
        }
    }
}

/// 128 bytes of words, 128-byte aligned: the ring's storage, addressed by flat word index.
#[repr(C, align(128))]
struct Block([AtomicU64; 16]);

struct Ring {
    v: Variant,
    /// Payload words per message.
    words: usize,
    /// Words per slot (a multiple of 8 or, for `Head128`, of 16; `words + 1` for `Dense`).
    stride: usize,
    mask: u64,
    /// `Stamps` only: word index of the stamp array (after the payloads, line-aligned).
    stamps_at: usize,
    data: Vec<Block>,
    closed: AtomicBool,
    final_head: AtomicU64,
    /// `Cursor` only: messages published, alone in its line.
    cursor: Block,
}

const fn writing(seq: u64) -> u64 {
    2 * seq + 1
}
const fn done(seq: u64) -> u64 {
    2 * seq + 2
}

impl Ring {
    fn new(v: Variant, words: usize, cap: usize) -> Self {
        let cap = cap.next_power_of_two().max(2);
        let extra = usize::from(v == Variant::Split);
        let line = match v {
            Variant::Head128 => 16,
            Variant::Dense => 1,
            _ => 8,
        };
        let stride = if v == Variant::Stamps {
            words
        } else {
            (words + 1 + extra).div_ceil(line) * line
        };
        let stamps_at = (cap * stride).div_ceil(16) * 16;
        let blocks = (stamps_at + if v == Variant::Stamps { cap } else { 0 }).div_ceil(16);
        Ring {
            v,
            words,
            stride,
            mask: cap as u64 - 1,
            stamps_at,
            data: (0..blocks)
                .map(|_| Block(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
            closed: AtomicBool::new(false),
            final_head: AtomicU64::new(0),
            cursor: Block(std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }

    #[inline(always)]
    fn at(&self, k: usize) -> &AtomicU64 {
        &self.data[k >> 4].0[k & 15]
    }

    #[inline(always)]
    fn base(&self, seq: u64) -> usize {
        (seq & self.mask) as usize * self.stride
    }

    /// The stamp of the slot at `base`.
    #[inline(always)]
    fn stamp(&self, base: usize) -> &AtomicU64 {
        if self.v == Variant::Stamps {
            return self.at(self.stamps_at + base / self.stride);
        }
        self.at(base + self.stamp_offset())
    }

    /// Offset of payload word 0 in a slot.
    #[inline(always)]
    fn first_word(&self) -> usize {
        match self.v {
            Variant::Tail | Variant::Stamps => 0,
            _ => 1,
        }
    }

    /// Offset of the stamp within its slot: right after the payload for the tail layouts.
    #[inline(always)]
    fn stamp_offset(&self) -> usize {
        match self.v {
            Variant::Tail | Variant::Split => self.first_word() + self.words,
            _ => 0,
        }
    }

    #[inline(always)]
    fn store_words<M: Stamped>(&self, base: usize, m: &M) {
        let first = self.first_word();
        if matches!(self.v, Variant::Head | Variant::Eager | Variant::Stamps) {
            for i in 0..self.words {
                self.at(base + first + i)
                    .store(m.word(i), Ordering::Relaxed);
            }
            return;
        }
        // Words outside the stamp's line first, then those sharing it, right before the stamp.
        let line = (base + self.stamp_offset()) / 8;
        let in_line = |i: usize| (base + first + i) / 8 == line;
        for i in (0..self.words).filter(|&i| !in_line(i)) {
            self.at(base + first + i)
                .store(m.word(i), Ordering::Relaxed);
        }
        for i in (0..self.words).filter(|&i| in_line(i)) {
            self.at(base + first + i)
                .store(m.word(i), Ordering::Relaxed);
        }
    }
}

pub struct LTx {
    ring: Arc<Ring>,
    next: u64,
    premarked: u64,
}

impl<M: Stamped + Send> Tx<M> for LTx {
    #[inline]
    fn send(&mut self, m: M) {
        let r = &*self.ring;
        let seq = self.next;
        let base = r.base(seq);
        match r.v {
            Variant::Cursor => {
                r.store_words(base, &m);
                r.cursor.0[0].store(seq + 1, Ordering::Release);
            }
            Variant::Split => {
                r.at(base).store(seq, Ordering::Relaxed);
                fence(Ordering::Release);
                r.store_words(base, &m);
                r.stamp(base).store(done(seq), Ordering::Release);
            }
            Variant::Premark => {
                if self.premarked != seq {
                    r.stamp(base).store(writing(seq), Ordering::Relaxed);
                }
                fence(Ordering::Release);
                r.store_words(base, &m);
                r.stamp(base).store(done(seq), Ordering::Release);
                r.stamp(r.base(seq + 1))
                    .store(writing(seq + 1), Ordering::Relaxed);
                self.premarked = seq + 1;
            }
            _ => {
                r.stamp(base).store(writing(seq), Ordering::Relaxed);
                fence(Ordering::Release);
                r.store_words(base, &m);
                r.stamp(base).store(done(seq), Ordering::Release);
                if r.v == Variant::Hint {
                    r.cursor.0[0].store(seq + 1, Ordering::Release);
                }
                if r.v == Variant::Touch {
                    // Own the next slot's other lines before its send needs them. Storing
                    // back what is there changes nothing a reader could see.
                    let next = r.base(seq + 1);
                    for line in (8..r.stride).step_by(8) {
                        let w = r.at(next + line).load(Ordering::Relaxed);
                        r.at(next + line).store(w, Ordering::Relaxed);
                    }
                }
            }
        }
        self.next = seq + 1;
    }
}

impl Drop for LTx {
    fn drop(&mut self) {
        self.ring.final_head.store(self.next, Ordering::Relaxed);
        self.ring.closed.store(true, Ordering::Release);
    }
}

pub struct LRx {
    ring: Arc<Ring>,
    cursor: u64,
    known: u64,
}

impl<M: Stamped + Send> Rx<M> for LRx {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
        let r = &*self.ring;
        let seq = self.cursor;
        let base = r.base(seq);
        if r.v == Variant::Cursor {
            if r.cursor.0[0].load(Ordering::Acquire) <= seq {
                if r.closed.load(Ordering::Acquire) && seq >= r.final_head.load(Ordering::Relaxed) {
                    return Poll::Closed;
                }
                return Poll::Empty;
            }
            let first = r.first_word();
            let m = M::from_words(|i| r.at(base + first + i).load(Ordering::Relaxed));
            self.cursor = seq + 1;
            f(&m);
            return Poll::Got(1);
        }
        if r.v == Variant::Hint && seq >= self.known {
            self.known = r.cursor.0[0].load(Ordering::Relaxed);
            if seq >= self.known {
                if r.closed.load(Ordering::Acquire) && seq >= r.final_head.load(Ordering::Relaxed) {
                    return Poll::Closed;
                }
                return Poll::Empty;
            }
        }
        let want = done(seq);
        if matches!(
            r.v,
            Variant::Eager | Variant::EagerOrdered | Variant::Dense | Variant::Stamps
        ) {
            let a = r.stamp(base).load(Ordering::Acquire);
            let first = r.first_word();
            let m = M::from_words(|i| r.at(base + first + i).load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            let b = r.stamp(base).load(Ordering::Relaxed);
            if a < want {
                if r.closed.load(Ordering::Acquire) && seq >= r.final_head.load(Ordering::Relaxed) {
                    return Poll::Closed;
                }
                return Poll::Empty;
            }
            if a == want && b == a {
                self.cursor = seq + 1;
                f(&m);
                return Poll::Got(1);
            }
        }
        let a = r.stamp(base).load(Ordering::Acquire);
        if a < want {
            if r.v == Variant::Pause {
                std::hint::spin_loop();
            }
            if r.closed.load(Ordering::Acquire) && seq >= r.final_head.load(Ordering::Relaxed) {
                return Poll::Closed;
            }
            return Poll::Empty;
        }
        if a == want {
            let first = r.first_word();
            let m = M::from_words(|i| r.at(base + first + i).load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            let ok = if r.v == Variant::Split {
                r.at(base).load(Ordering::Relaxed) == seq
            } else {
                r.stamp(base).load(Ordering::Relaxed) == a
            };
            if ok {
                self.cursor = seq + 1;
                f(&m);
                return Poll::Got(1);
            }
        }
        // Lapped: move to the oldest message the ring can still hold.
        let newest = (r.stamp(base).load(Ordering::Relaxed) - 1) / 2;
        let to = (newest + 1).saturating_sub(r.mask + 1).max(seq + 1);
        self.cursor = to;
        Poll::Lagged(to - seq)
    }
}

pub fn build<M, V>(v: Variant, cap: usize, n: usize, go: V) -> V::Out
where
    M: Copy + Send + Sync + 'static + Stamped,
    V: Visit<M>,
{
    let ring = Arc::new(Ring::new(v, M::WORDS, cap));
    let rxs = (0..n)
        .map(|_| LRx {
            ring: ring.clone(),
            cursor: 0,
            known: 0,
        })
        .collect();
    go.visit(
        LTx {
            ring,
            next: 0,
            premarked: u64::MAX,
        },
        rxs,
    )
}
