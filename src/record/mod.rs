//! Record topics: messages of any length up to a limit (bytes, or any serde type), on the same
//! lock-free seqlock ring as typed topics.
//!
//! A typed topic carries one `T: Copy` per slot. A record topic carries byte records: each
//! record is framed into one or more consecutive slots ("chunks") of the ordinary ring, with
//! line-aligned slots of 56 payload bytes, so a chunk with its stamp is one cache line:
//!
//! | chunk | words 0 .. 4 or 5 | word 5 | word 6 (framing) |
//! |---|---|---|---|
//! | first | 40 bytes of the record | the record's length | `2m + 1` (`m`: the record's message number) |
//! | continuation | 48 bytes of the record | | `2m` |
//!
//! The framing word comes last so that the record bytes of a continuation chunk are words
//! 0 .. 5, the three 16-byte pairs the slot copy moves (`ring::slot`): a receiver reads them
//! back with the same sizes and offsets they were stored with, and its loads are served from
//! the store buffer instead of stalling on a store they only partly overlap.
//!
//! A record of `len` bytes takes `1 + ceil((len - 40) / 48)` chunks (one for up to 40 bytes),
//! written back to back as one unit: the head is stored and parked subscribers are woken
//! once, after the last chunk. Records wrap around the end of the ring like any run of
//! slots: chunk positions count on, slot `p & mask` holds chunk `p`.
//!
//! # Why a lapped reader can never be fooled
//! The trouble with variable-length records in one byte buffer is that a reader that was
//! lapped cannot trust a header found at its old offset: newer payload bytes there can look
//! like a header. Agrona's broadcast receiver validates each copy against the transmitter's
//! tail-intent counter, one shared load per message. Here nothing but stamps is needed, and
//! stamps are never payload: every chunk is a seqlock slot whose stamp sits at a fixed place
//! and names the *chunk position* it holds (`ring::slot`: `2p + 2` for chunk `p`, complete).
//! So:
//!
//! 1. A chunk is interpreted only after the slot recipe has validated it (same stamp before
//!    and after the copy, and equal to the one of the wanted position): its framing and
//!    length words are the ones its writer stored, never another lap's bytes.
//! 2. Chunk positions are exact: the continuation chunks of record `m` are read at the
//!    positions right after its first chunk, each validated for its own position, so they
//!    come from the same lap; a lap in the middle of a record makes the next chunk read
//!    report a lap, and the partly copied record is dropped.
//! 3. After a lap the reader skips continuation chunks (their record's start is gone) up to
//!    the next first chunk, whose framing word says which message it is: the records in
//!    between are reported as `Lagged(n)`, `n` exactly the gap in message numbers. At a
//!    close, or when a gated subscriber is evicted, the publisher's record count (stored
//!    after each record) closes the account.
//!
//! Hence, per subscriber, **received + missed == records published** (up to its position), as
//! for typed topics, and a record is delivered whole or not at all. The memory-model argument
//! is the slot's (`ring::slot`), used unchanged; the cost is the stamp and framing words:
//! 16 of every 64 bytes.
//!
//! # What a record topic keeps from the typed ring
//! Publishing is wait-free with lossy subscribers (a fixed number of stores per chunk) and
//! independent of the number of subscribers; readers write nothing shared; every lag policy
//! (`SkipToNewest` resumes with the first record that starts after the newest chunk), gated
//! (lossless) subscribers with eviction, close-then-drain, blocking and async receive, and no
//! allocation on send or on receive into a reused buffer. A record longer than
//! [`RecordPublisher::max_len`] (half the ring, so that a reader keeping up can always read
//! one whole) is refused with [`RecordError::TooLarge`] and nothing is sent.
//!
//! # Many producers
//! [`RecordPublisher`] is a single producer, lock-free. [`RecordPublisher::into_shared`] (and
//! every record topic of a [`Bus`](crate::Bus)) gives a [`SharedRecordPublisher`], whose
//! producers take turns on a lock: a record's chunk positions and message number must be
//! claimed together. Subscribers never take it: one made from a shared publisher finds its
//! first message number by reading the chunk just before its start (every chunk names its
//! record), so subscribing and receiving stay lock-free.
//!
//! # Examples
//! ```
//! let (mut tx, mut rx) = seqcast::record::channel(64 * 1024);
//! tx.send(b"order 17 created").unwrap();
//! tx.send(&[7u8; 3000]).unwrap();
//! let mut buf = Vec::new();
//! assert_eq!(rx.try_recv_into(&mut buf), Ok(16));
//! assert_eq!(buf, b"order 17 created");
//! assert_eq!(rx.try_recv_into(&mut buf), Ok(3000));
//! ```

mod reader;
mod shared;
#[cfg(feature = "serde")]
mod typed;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use typed::Json;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use typed::{
    typed, Codec, Postcard, SharedTypedPublisher, TypedPair, TypedPublisher, TypedSubscriber,
};

pub use reader::ChunkReader;
pub use shared::SharedRecordPublisher;

use crate::error::{CapacityError, RecordError, RecvError, TryRecvError};
use crate::ring::gate::Wait;
use crate::ring::CachePadded;
use crate::sync::{Arc, AtomicU64, Ordering};
use crate::{
    GateConfig, LagPolicy, Publisher, SharedPublisher, SlotLayout, Subscriber, SubscriberStats,
};
use core::fmt;

/// One slot's payload: seven words, so that a chunk and its stamp fill one cache line.
pub(crate) type Chunk = [u64; 7];
/// Bytes of a chunk, and of the record in a first and in a continuation chunk.
const CHUNK_BYTES: usize = 64;
const FIRST_BYTES: usize = 40;
const NEXT_BYTES: usize = 48;
/// The framing word of a chunk (`2m + 1` in a first chunk, `2m` in a continuation), and the
/// length word of a first chunk.
pub(crate) const FRAME: usize = 6;
const LEN: usize = 5;

/// Chunks a record of `len` bytes takes.
pub(crate) const fn chunks_for(len: usize) -> usize {
    if len <= FIRST_BYTES {
        1
    } else {
        1 + (len - FIRST_BYTES).div_ceil(NEXT_BYTES)
    }
}

/// The longest record that fits in `chunks` chunks.
pub(crate) const fn len_for(chunks: usize) -> usize {
    FIRST_BYTES + (chunks - 1) * NEXT_BYTES
}

/// Packs `bytes` (at most 8 per word, at most 48 in all) into `words`, little-endian,
/// zero-padded. Through one stack buffer, so that the compiler emits one copy per chunk
/// instead of one per word. For the short tail of a record: whole continuation chunks go
/// through [`pack_full`].
#[inline]
fn pack(bytes: &[u8], words: &mut [u64]) {
    let mut b = [0u8; NEXT_BYTES];
    b[..bytes.len()].copy_from_slice(bytes);
    for (i, w) in words.iter_mut().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i * 8..i * 8 + 8]);
        *w = u64::from_le_bytes(word);
    }
}

/// Packs 48 bytes into the six record words of a continuation chunk. The sizes are
/// constants, so this is three 16-byte loads with no call and no padding buffer (a
/// variable-length `pack` costs a `memcpy` call per chunk: most of a 4 KiB send).
#[inline(always)]
fn pack_full(bytes: &[u8; NEXT_BYTES], words: &mut [u64; 6]) {
    for (w, b) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        // `chunks_exact(8)`: every `b` is 8 bytes, so the conversion cannot fail.
        *w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
    }
}

/// Appends the first `n` bytes held in `words` (at most 48) to `out`, in one copy.
#[inline]
fn unpack(words: &[u64], n: usize, out: &mut Vec<u8>) {
    let mut b = [0u8; NEXT_BYTES];
    for (i, w) in words.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&b[..n]);
}

/// The 48 record bytes of a continuation chunk's six words (a constant-size copy, as
/// [`pack_full`]; the caller appends it whole).
#[inline(always)]
fn unpack_full(words: &[u64; 6]) -> [u8; NEXT_BYTES] {
    let mut b = [0u8; NEXT_BYTES];
    for (d, w) in b.chunks_exact_mut(8).zip(words) {
        d.copy_from_slice(&w.to_le_bytes());
    }
    b
}

/// Appends a continuation chunk's record bytes to `out`: `left` is how many bytes of the
/// record are still missing. A whole chunk (every one but a record's last) is one
/// constant-size append.
#[inline(always)]
fn unpack_next(c: &Chunk, left: usize, out: &mut Vec<u8>) {
    let words: &[u64; 6] = c[..6].try_into().expect("6 words");
    if left >= NEXT_BYTES {
        out.extend_from_slice(&unpack_full(words));
    } else {
        unpack_tail(words, left, out);
    }
}

/// [`unpack`] for a record's last, partial chunk: out of line and cold (once per record), so
/// the per-chunk delivery that calls it stays small enough for the compiler to inline.
#[cold]
#[inline(never)]
fn unpack_tail(words: &[u64; 6], n: usize, out: &mut Vec<u8>) {
    unpack(words, n, out);
}

/// The chunks of record `seq` (`record` at most `max_len` bytes): `fill(i)` is chunk `i` of
/// `chunks_for(record.len())`, asked for in order (module docs for the format): continuation
/// chunk `i` takes the next 48 bytes, the last one the remainder.
pub(crate) fn frame(record: &[u8], seq: u64) -> impl FnMut(usize) -> Chunk + '_ {
    let len = record.len();
    let rest = record.get(FIRST_BYTES..).unwrap_or_default();
    let mut whole = rest.chunks_exact(NEXT_BYTES);
    let tail = whole.remainder();
    move |i: usize| {
        let mut c: Chunk = [0; 7];
        if i == 0 {
            c[FRAME] = seq << 1 | 1;
            c[LEN] = len as u64;
            pack(&record[..len.min(FIRST_BYTES)], &mut c[..LEN]);
        } else {
            c[FRAME] = seq << 1;
            let words: &mut [u64; 6] = (&mut c[..FRAME]).try_into().expect("6 words");
            match whole.next() {
                Some(b) => pack_full(b.try_into().expect("48 bytes"), words),
                None => pack(tail, words),
            }
        }
        c
    }
}

/// Records published so far on one topic: written by its publisher after each record, read
/// by subscribers only when a close or an eviction ends their account.
pub(crate) struct Count(CachePadded<AtomicU64>);

impl Count {
    #[cfg_attr(not(seqcast_shm), allow(dead_code))] // shm record subscribers only
    pub(crate) fn new() -> Arc<Count> {
        Arc::new(Count(CachePadded(AtomicU64::new(0))))
    }
}

/// Creates a record topic with room for `capacity` bytes of framed records (rounded up to a
/// power-of-two number of 64-byte chunks) and returns its publisher and a first subscriber.
///
/// # Panics
/// If `capacity` is 0 or too large to allocate; [`try_channel`] returns the error instead.
pub fn channel(capacity: usize) -> (RecordPublisher, RecordSubscriber) {
    match try_channel(capacity) {
        Ok(pair) => pair,
        Err(e) => panic!("seqcast::record::channel: {e}"),
    }
}

/// Like [`channel`], but reports a bad capacity as an error.
///
/// ```
/// use seqcast::error::CapacityError;
/// assert_eq!(seqcast::record::try_channel(0).unwrap_err(), CapacityError::Zero);
/// let (tx, _rx) = seqcast::record::try_channel(1000).unwrap();
/// assert_eq!(tx.capacity(), 1024); // 16 chunks of 64 bytes
/// assert_eq!(tx.max_len(), 40 + 7 * 48);
/// ```
pub fn try_channel(capacity: usize) -> Result<(RecordPublisher, RecordSubscriber), CapacityError> {
    if capacity == 0 {
        return Err(CapacityError::Zero);
    }
    let chunks = capacity.div_ceil(CHUNK_BYTES);
    let (tx, rx) =
        crate::try_channel_with::<Chunk>(chunks, SlotLayout::Line).map_err(|e| match e {
            CapacityError::TooLarge { .. } => CapacityError::TooLarge {
                requested: capacity,
            },
            other => other,
        })?;
    let max_len = len_for((tx.capacity() / 2).max(1));
    let count = Arc::new(Count(CachePadded(AtomicU64::new(0))));
    let rx = RecordSubscriber::new(rx, 0, max_len, count.clone());
    Ok((
        RecordPublisher {
            tx,
            next: 0,
            max_len,
            count,
        },
        rx,
    ))
}

/// The sending half of a record topic, for a single producer thread.
///
/// `send` writes the record's chunks and one head; it never allocates, never blocks without
/// gated subscribers, and costs the same whatever the number of subscribers.
pub struct RecordPublisher {
    tx: Publisher<Chunk>,
    /// Message number of the next record. Private to this handle.
    next: u64,
    max_len: usize,
    count: Arc<Count>,
}

impl RecordPublisher {
    /// Publishes `record` and returns its sequence number (0 for the first record). A record
    /// longer than [`max_len`](Self::max_len) is refused, and nothing is sent. With gated
    /// subscribers it waits, as [`Publisher::send`] does, until there is room for the whole
    /// record.
    pub fn send(&mut self, record: &[u8]) -> Result<u64, RecordError> {
        self.write(record, Wait::Forever)
    }

    /// Like [`send`](Self::send), but never waits: if a gated subscriber leaves no room for
    /// the whole record, returns [`RecordError::Full`] and sends nothing.
    pub fn try_send(&mut self, record: &[u8]) -> Result<u64, RecordError> {
        self.write(record, Wait::No)
    }

    fn write(&mut self, record: &[u8], wait: Wait) -> Result<u64, RecordError> {
        let len = record.len();
        if len > self.max_len {
            return Err(RecordError::TooLarge {
                len,
                max: self.max_len,
            });
        }
        let seq = self.next;
        let fill = frame(record, seq);
        if self.tx.write_unit(chunks_for(len), wait, fill).is_none() {
            return Err(RecordError::Full);
        }
        self.next = seq + 1;
        // Release: a subscriber that reads the count (after seeing the close, or after its
        // eviction) counts this record as published, with its chunks written before.
        self.count.0 .0.store(self.next, Ordering::Release);
        Ok(seq)
    }

    /// A new subscriber that starts with the next record sent.
    pub fn subscribe(&self) -> RecordSubscriber {
        RecordSubscriber::new(
            self.tx.subscribe(),
            self.next,
            self.max_len,
            self.count.clone(),
        )
    }

    /// A new subscriber that starts with the oldest record whose first chunk the ring still
    /// holds (replay for a late joiner, as [`Publisher::subscribe_oldest`]).
    ///
    /// ```
    /// let (mut tx, _rx) = seqcast::record::channel(1024);
    /// for i in 0..40u8 {
    ///     tx.send(&[i; 30]).unwrap(); // one chunk each; the ring holds 16
    /// }
    /// let mut late = tx.subscribe_oldest();
    /// assert_eq!(late.try_recv().unwrap(), [24; 30]);
    /// ```
    pub fn subscribe_oldest(&self) -> RecordSubscriber {
        RecordSubscriber::attach_oldest(&self.tx.view(), self.max_len, &self.count)
    }

    /// A new gated (lossless) subscriber starting with the next record: the publisher waits
    /// for it instead of lapping it (see [`Publisher::subscribe_gated`]).
    pub fn subscribe_gated(&self) -> RecordSubscriber {
        self.subscribe_gated_with(GateConfig::default())
    }

    /// Like [`subscribe_gated`](Self::subscribe_gated), with options.
    pub fn subscribe_gated_with(&self, config: GateConfig) -> RecordSubscriber {
        let rx = self.tx.subscribe_gated_with(config);
        RecordSubscriber::new(rx, self.next, self.max_len, self.count.clone())
    }

    /// Number of records sent so far.
    pub fn published(&self) -> u64 {
        self.next
    }

    /// The longest record the topic takes, in bytes: what fits in half its ring.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The ring's size in bytes (chunks of 64 bytes, each holding up to 48 bytes of record).
    pub fn capacity(&self) -> usize {
        self.tx.capacity() * CHUNK_BYTES
    }

    /// Number of live subscribers (a snapshot).
    pub fn subscriber_count(&self) -> usize {
        self.tx.subscriber_count()
    }
}

impl fmt::Debug for RecordPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordPublisher")
            .field("capacity", &self.capacity())
            .field("max_len", &self.max_len)
            .field("published", &self.next)
            .field("subscribers", &self.tx.subscriber_count())
            .finish()
    }
}

/// A record that `try_recv` found still being written (what has arrived of it is in
/// `RecordSubscriber::partial_bytes`).
#[derive(Clone, Copy)]
struct Partial {
    seq: u64,
    len: usize,
    /// Continuation chunks not read yet.
    left: usize,
}

/// The receiving half of a record topic: an independent cursor, as a typed
/// [`Subscriber`] is, that delivers whole records and counts in records.
///
/// `Clone` gives an independent subscriber at the same position.
///
/// `R` is where the chunks come from: an in-process ring (the default), or a shared-memory
/// ring file ([`ShmRecordSubscriber`](crate::shm::ShmRecordSubscriber)).
#[derive(Clone)]
pub struct RecordSubscriber<R = Subscriber<Chunk>> {
    /// The chunk reader (always `Skip`, or `SkipToNewest`, at the chunk level: the record
    /// policy is applied here).
    rx: R,
    /// Message number of the next record to deliver.
    next: u64,
    stats: SubscriberStats,
    policy: LagPolicy,
    /// Set after a lag report under `LagPolicy::Disconnect`, or once an eviction detached
    /// the chunk reader.
    detached: bool,
    /// Whether the eviction of this (gated) subscriber has been seen (`note_eviction`).
    evict_seen: bool,
    /// The chunk reader was lapped since the last record: the next first chunk (or the
    /// publisher's count, at the end) tells how many records were lost.
    lapped: bool,
    /// One past the newest record whose continuation chunks were skipped since the lap:
    /// those records are lost even if no first chunk follows yet.
    lost_upto: u64,
    /// A chunk read ahead (a first chunk found while reporting a lag, or one a blocking or
    /// async wait brought), handled before reading on.
    stash: Option<Result<Chunk, TryRecvError>>,
    partial: Option<Partial>,
    /// The bytes of `partial`: the caller's buffer, swapped in at the `Empty` and swapped back
    /// at the resume (empty otherwise), so keeping a partial record copies nothing.
    partial_bytes: Vec<u8>,
    max_len: usize,
    count: Arc<Count>,
}

impl<R: ChunkReader> RecordSubscriber<R> {
    pub(crate) fn new(rx: R, next: u64, max_len: usize, count: Arc<Count>) -> Self {
        RecordSubscriber {
            rx,
            next,
            stats: SubscriberStats::default(),
            policy: LagPolicy::Skip,
            detached: false,
            evict_seen: false,
            lapped: false,
            lost_upto: 0,
            stash: None,
            partial: None,
            partial_bytes: Vec::new(),
            max_len,
            count,
        }
    }

    /// Lets the next continuation chunks through without a lap report: a subscriber that
    /// starts in the middle of a record skips its rest (it was never in its window).
    #[cfg_attr(not(seqcast_shm), allow(dead_code))] // shm record subscribers only
    pub(crate) fn skip_partial(&mut self) {
        self.lapped = true;
    }
}

impl RecordSubscriber {
    /// A subscriber on `view`'s ring made by `make`, which starts at a record boundary (the
    /// head, or a gate registered at the head), with its message number found without the
    /// publisher's help: the chunk just before the start is the last one of the record
    /// before, and names it. Peeked with a second reader, validated like any chunk; if that
    /// chunk was overwritten meanwhile (a whole lap between two loads), or its stamp is not
    /// visible to this thread yet (the head is loaded Relaxed), start again.
    fn attach(
        view: &SharedPublisher<Chunk>,
        max_len: usize,
        count: &Arc<Count>,
        make: impl Fn(&SharedPublisher<Chunk>) -> Subscriber<Chunk>,
    ) -> RecordSubscriber {
        loop {
            let rx = make(view);
            let start = rx.position();
            let next = if start == 0 {
                Some(0)
            } else {
                match view.subscribe_at(start - 1).try_recv() {
                    // First or continuation chunk, its framing word holds `2m + 1` or `2m`. (The
                    // loom teeth build drops the `+ 1`: `loom-tests/tests/shared_record.rs`.)
                    #[cfg(not(seqcast_loom_broken_attach))]
                    Ok(c) => Some((c[FRAME] >> 1) + 1),
                    #[cfg(seqcast_loom_broken_attach)]
                    Ok(c) => Some(c[FRAME] >> 1),
                    // The chunk is complete (the head is stored after it), but the head was
                    // loaded Relaxed: its stamp may not be visible to this thread yet. Look
                    // again rather than guess a number.
                    Err(TryRecvError::Empty) => {
                        crate::sync::spin_loop();
                        None
                    }
                    // A closed topic has nothing to read: any number will do.
                    Err(TryRecvError::Closed) => Some(0),
                    Err(_) => {
                        crate::sync::spin_loop();
                        None
                    }
                }
            };
            if let Some(next) = next {
                return RecordSubscriber::new(rx, next, max_len, count.clone());
            }
        }
    }

    /// A subscriber at the oldest chunk `view`'s ring holds: the peek reads that chunk; a
    /// first chunk is where it starts, a continuation means its record's start is gone, and
    /// the subscriber skips to the next one without reporting a lag (that record was never
    /// in its window).
    fn attach_oldest(
        view: &SharedPublisher<Chunk>,
        max_len: usize,
        count: &Arc<Count>,
    ) -> RecordSubscriber {
        loop {
            let rx = view.subscribe_oldest();
            let start = rx.position();
            match view.subscribe_at(start).try_recv() {
                Ok(c) => {
                    let (m, first) = (c[FRAME] >> 1, c[FRAME] & 1 == 1);
                    let mut sub = RecordSubscriber::new(rx, m, max_len, count.clone());
                    if !first {
                        sub.next = m + 1;
                        sub.lapped = true;
                    }
                    return sub;
                }
                // Nothing held (the start is the head): as a subscriber at the head.
                Err(TryRecvError::Empty | TryRecvError::Closed) => {
                    return RecordSubscriber::attach(view, max_len, count, |v| v.subscribe());
                }
                Err(_) => crate::sync::spin_loop(),
            }
        }
    }
}

impl<R: ChunkReader> RecordSubscriber<R> {
    /// Takes the next record into `buf` (replacing its contents) and returns its length;
    /// never blocks. The errors are those of [`Subscriber::try_recv`], counted in records:
    /// `Lagged(n)` says exactly how many records were lost. A reused `buf` makes this
    /// allocation-free once it has grown to the longest record.
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, TryRecvError> {
        self.take(buf).map(|_| buf.len())
    }

    /// Like [`try_recv_into`](Self::try_recv_into), into a new `Vec`.
    pub fn try_recv(&mut self) -> Result<Vec<u8>, TryRecvError> {
        let mut buf = Vec::new();
        self.take(&mut buf).map(|_| buf)
    }

    /// Waits for the next record as the chunk subscriber's [`WaitStrategy`](crate::WaitStrategy)
    /// says (by default: spin briefly, then park), into `buf`; returns its length.
    pub fn recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        loop {
            match self.take(buf) {
                Err(TryRecvError::Empty) => {
                    let got = self.rx.recv().map_err(TryRecvError::from);
                    self.stash = Some(got);
                }
                other => return other.map(|_| buf.len()).map_err(RecvError::from_try),
            }
        }
    }

    /// Like [`recv_into`](Self::recv_into), into a new `Vec`.
    pub fn recv(&mut self) -> Result<Vec<u8>, RecvError> {
        let mut buf = Vec::new();
        self.recv_into(&mut buf).map(|_| buf)
    }

    /// The next chunk: the stashed one first.
    #[inline]
    fn next_chunk(&mut self) -> Result<Chunk, TryRecvError> {
        match self.stash.take() {
            Some(got) => got,
            None => self.rx.try_recv(),
        }
    }

    /// Reports `n` lost records and applies the lag policy.
    fn lagged(&mut self, n: u64) -> TryRecvError {
        // Saturating: a corrupt file can claim any number lost, and counters must not wrap.
        self.stats.missed = self.stats.missed.saturating_add(n);
        self.stats.lag_events += 1;
        self.note_eviction();
        if self.policy == LagPolicy::Disconnect {
            self.detached = true;
            self.stash = None;
        }
        TryRecvError::Lagged(n)
    }

    /// An evicted gated subscriber that carries on (`OnEvict::Lossy`) does so under `Skip`,
    /// as a typed one does (a `Disconnect` policy would end it at once). Once, when the
    /// eviction is first seen; a policy set afterwards applies as set.
    fn note_eviction(&mut self) {
        if !self.evict_seen && self.rx.is_evicted() {
            self.evict_seen = true;
            if self.policy == LagPolicy::Disconnect && !self.rx.is_detached() {
                self.policy = LagPolicy::Skip;
            }
        }
    }

    /// The receive state machine (module docs); returns the record's message number.
    fn take(&mut self, buf: &mut Vec<u8>) -> Result<u64, TryRecvError> {
        self.note_eviction();
        'record: loop {
            if self.detached {
                return Err(TryRecvError::Detached);
            }
            let (seq, len, mut left) = match self.partial.take() {
                Some(p) => {
                    // The bytes kept at the `Empty` below, back without a copy (a caller that
                    // reuses one buffer gets its own back: the two were swapped there).
                    core::mem::swap(buf, &mut self.partial_bytes);
                    self.partial_bytes.clear();
                    (p.seq, p.len, p.left)
                }
                None => loop {
                    let c = match self.next_chunk() {
                        Ok(c) => c,
                        Err(TryRecvError::Lagged(_)) => {
                            self.lapped = true;
                            continue;
                        }
                        Err(e @ (TryRecvError::Closed | TryRecvError::Detached)) => {
                            // The end of the chunks: the publisher's count says what was lost.
                            let end = self.rx.end_count(&self.count);
                            // Detached (an eviction under `OnEvict::Detach`) is for good: the
                            // account closes once, here, and never counts later records.
                            if e == TryRecvError::Detached {
                                self.detached = true;
                            }
                            if end > self.next {
                                let n = end - self.next;
                                self.next = end;
                                self.lapped = false;
                                self.stash = Some(Err(e));
                                return Err(self.lagged(n));
                            }
                            return Err(e);
                        }
                        Err(TryRecvError::Empty) if self.lost_upto > self.next => {
                            // Caught up after a lap, inside the newest record: everything up
                            // to it is lost, whether or not another record follows soon.
                            let n = self.lost_upto - self.next;
                            self.next = self.lost_upto;
                            return Err(self.lagged(n));
                        }
                        Err(e) => return Err(e),
                    };
                    let (m, first) = (c[FRAME] >> 1, c[FRAME] & 1 == 1);
                    if !first {
                        // The rest of a record whose first chunk is gone (only after a lap,
                        // or, from a corrupt file, anywhere): that record and every one before
                        // it are lost.
                        debug_assert!(self.lapped || !R::TRUSTED, "continuation without a lap");
                        self.lost_upto = self.lost_upto.max(m + 1);
                        continue;
                    }
                    let len = c[LEN] as usize;
                    if (m < self.next || len > self.max_len) && !R::TRUSTED {
                        // Not a record a publisher wrote here (a number gone back, a length
                        // over the limit): garbage, skipped with whatever follows it.
                        self.lapped = true;
                        continue;
                    }
                    self.lapped = false;
                    // The loom teeth build drops this check (`loom-tests/tests/record.rs`).
                    #[cfg(not(seqcast_loom_broken_record))]
                    if m != self.next {
                        debug_assert!(m > self.next);
                        // Records `next..m` are gone: report them; this one comes next.
                        let n = m - self.next;
                        self.next = m;
                        self.stash = Some(Ok(c));
                        return Err(self.lagged(n));
                    }
                    debug_assert!(len <= self.max_len);
                    buf.clear();
                    buf.reserve(len);
                    unpack(&c[..LEN], len.min(FIRST_BYTES), buf);
                    break (m, len, chunks_for(len) - 1);
                },
            };
            while left > 0 {
                // A chunk of another record where this one's should be: only in a corrupt
                // file. The record is dropped as lost.
                let mut foreign = false;
                let mut take = |c: Chunk, buf: &mut Vec<u8>| {
                    if c[FRAME] == seq << 1 && !foreign {
                        unpack_next(&c, len - buf.len(), buf);
                    } else {
                        debug_assert!(!R::TRUSTED, "chunk of another record");
                        foreign = true;
                    }
                };
                let got = match self.stash.take() {
                    Some(got) => got.map(|c| {
                        take(c, buf);
                        1
                    }),
                    // The rest of the record in runs: one validation per run of chunks.
                    None => self.rx.try_recv_batch(left, |c| take(c, buf)),
                };
                if foreign {
                    buf.clear();
                    self.lapped = true;
                    self.lost_upto = self.lost_upto.max(seq + 1);
                    continue 'record;
                }
                match got {
                    Ok(n) => left -= n,
                    Err(TryRecvError::Empty) => {
                        // The publisher is writing the rest right now: keep what arrived.
                        // Kept by swapping buffers, not by copying: a receiver polling a large
                        // record as it is written finds it incomplete many times, and a copy
                        // each time (and another at each resume) is quadratic in its length.
                        self.partial = Some(Partial { seq, len, left });
                        self.partial_bytes.clear();
                        core::mem::swap(&mut self.partial_bytes, buf);
                        return Err(TryRecvError::Empty);
                    }
                    Err(e) => {
                        // Lapped in the middle of the record: it is lost, and the next first
                        // chunk (or the end) counts it. (A close cannot fall inside a record:
                        // each is written whole before the head that a close fixes.)
                        buf.clear();
                        self.lapped = true;
                        self.lost_upto = self.lost_upto.max(seq + 1);
                        if !matches!(e, TryRecvError::Lagged(_)) {
                            self.stash = Some(Err(e));
                        }
                        continue 'record;
                    }
                }
            }
            self.next = seq + 1;
            self.stats.received += 1;
            return Ok(seq);
        }
    }

    /// Sets what happens when the publisher laps this subscriber (counted in records).
    /// `SkipToNewest` resumes with the first record that starts after the newest chunk
    /// published (the record being written then, or the next one).
    pub fn set_lag_policy(&mut self, policy: LagPolicy) {
        self.policy = policy;
        self.rx.set_lag_policy(match policy {
            LagPolicy::SkipToNewest => LagPolicy::SkipToNewest,
            _ => LagPolicy::Skip,
        });
    }

    /// The current lag policy.
    pub fn lag_policy(&self) -> LagPolicy {
        self.policy
    }

    /// This subscriber's counters, in records: `received + missed` is the number of records
    /// it has moved past.
    pub fn stats(&self) -> SubscriberStats {
        SubscriberStats {
            parks: self.rx.parks(),
            ..self.stats
        }
    }

    /// Message number of the next record this subscriber will read.
    pub fn position(&self) -> u64 {
        self.next
    }
}

impl RecordSubscriber {
    /// Waits asynchronously for the next record, into `buf`; returns its length. Works under
    /// any executor. Cancel-safe: dropped before it completes, it has lost nothing (a chunk
    /// it already took is kept for the next receive).
    #[cfg(seqcast_async)]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub async fn recv_into_async(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        loop {
            match self.take(buf) {
                Err(TryRecvError::Empty) => {
                    let got = self.rx.recv_async().await.map_err(TryRecvError::from);
                    self.stash = Some(got);
                }
                other => return other.map(|_| buf.len()).map_err(RecvError::from_try),
            }
        }
    }

    /// Sets how `recv` and `recv_into` wait (see [`Subscriber::set_wait_strategy`]).
    pub fn set_wait_strategy(&mut self, wait: crate::WaitStrategy) {
        self.rx.set_wait_strategy(wait);
    }

    /// The chunk reader (for a pattern subscriber's registrations while it waits).
    pub(crate) fn chunks(&self) -> &Subscriber<Chunk> {
        &self.rx
    }

    /// Whether the publisher waits for this subscriber (see [`Subscriber::is_gated`]).
    pub fn is_gated(&self) -> bool {
        self.rx.is_gated()
    }

    /// Whether a publisher evicted this gated subscriber for stalling it.
    pub fn is_evicted(&self) -> bool {
        self.rx.is_evicted()
    }
}

impl<R> fmt::Debug for RecordSubscriber<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordSubscriber")
            .field("position", &self.next)
            .field("policy", &self.policy)
            .field("detached", &self.detached)
            .field("stats", &self.stats)
            .field("max_len", &self.max_len)
            .finish()
    }
}
