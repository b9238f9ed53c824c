//! [`SharedRecordPublisher`]: a record topic's publisher that many threads share, as a
//! [`Bus`](crate::Bus) hands it out.
//!
//! # Why a lock, and what it costs
//! A typed [`SharedPublisher`](crate::SharedPublisher) claims its slot with one `fetch_add`.
//! A record needs two numbers claimed together: its run of chunk positions and its message
//! number (the first chunk carries it, and lag is counted from it), and they must rise in the
//! same order, or a reader could not tell how many records a lap took. One 64-bit word cannot
//! hold both without wrapping, so the producers of one record topic take turns: a
//! [`RecordPublisher`] behind a mutex. What stays as it was:
//!
//! * Subscribers never take the lock: they read stamps and chunks exactly as for a
//!   single-producer record topic, and write nothing shared.
//! * Making a subscriber never takes the lock either (the peek in `RecordSubscriber::attach`
//!   finds its first message number from the chunks), so a bus's pattern subscribers never
//!   wait for a publisher.
//! * Closing (`Bus::remove`) never waits: see "Closing" below.
//!
//! A send is then the single-producer send plus one uncontended lock and unlock; with
//! several producers at once they queue on the lock, and one that waits for a gated
//! subscriber holds the others back with it (they would wait for the same room anyway). For
//! lock-free, single-producer publishing keep a [`record::channel`](super::channel) of your
//! own.
//!
//! # Closing
//! `close` must not wait for a send in progress (one waiting on a gated subscriber can take
//! up to its eviction timeout), yet the ring may only be closed while nobody writes to it (a
//! single producer's head store would wipe the ring's closed bit). So `close` raises
//! `closing` and closes the ring itself only if it gets the lock at once; every lock holder,
//! after unlocking, looks at `closing` and closes the ring if it can get the lock. A SeqCst
//! fence between each side's two steps forbids the store-buffer outcome in which the closer
//! finds the lock held and the holder, already unlocked, does not see `closing`: one of the
//! two then sees the other, and the last holder of the lock closes the ring. A send that
//! gets the lock after `closing` is raised is refused with [`RecordError::Closed`]; one that
//! got it before is delivered.

use super::{Chunk, Count, RecordPublisher, RecordSubscriber};
use crate::error::RecordError;
use crate::ring::gate::Wait;
#[cfg(not(seqcast_loom_broken_close))]
use crate::sync::fence;
use crate::sync::{Arc, AtomicBool, Mutex, Ordering};
use crate::{GateConfig, SharedPublisher};
use core::fmt;

/// What every clone of a [`SharedRecordPublisher`] shares.
struct Shared {
    /// The single producer; taken for each send.
    tx: Mutex<RecordPublisher>,
    /// A lock-free view of the same ring, for subscribing and for the figures (never used to
    /// send: every chunk comes from `tx`).
    view: SharedPublisher<Chunk>,
    /// Raised by `close`; the ring is closed by whoever holds the lock next (module docs).
    closing: AtomicBool,
    max_len: usize,
    count: Arc<Count>,
}

/// A record topic's publisher for many threads (`Clone + Send + Sync`); what
/// [`Bus::records`](crate::Bus::records) hands out.
///
/// Producers take turns on a lock: a record's run of chunk positions and its message number
/// must be claimed together, in the same order, and one atomic word cannot hold both. A send
/// is the single-producer send plus one uncontended lock; one that waits for a gated
/// subscriber holds the other producers back with it. Subscribers never take the lock, to
/// subscribe or to receive, and closing (`Bus::remove`) never waits for a send in progress.
/// For lock-free publishing from one thread, keep a [`record::channel`](super::channel).
///
/// ```
/// let tx = seqcast::record::channel(4096).0.into_shared();
/// let mut rx = tx.subscribe();
/// std::thread::scope(|s| {
///     for id in 0..2u8 {
///         let tx = tx.clone();
///         s.spawn(move || for _ in 0..10 { tx.send(&[id; 100]).unwrap(); });
///     }
/// });
/// let mut n = 0;
/// while let Ok(record) = rx.try_recv() {
///     assert!(record == [0; 100] || record == [1; 100]);
///     n += 1;
/// }
/// assert_eq!(n, 20);
/// ```
#[derive(Clone)]
pub struct SharedRecordPublisher {
    inner: Arc<Shared>,
}

impl RecordPublisher {
    /// Turns this publisher into one that many threads can share. Message numbers continue
    /// where this one stopped.
    pub fn into_shared(self) -> SharedRecordPublisher {
        let view = self.tx.view();
        let (max_len, count) = (self.max_len, self.count.clone());
        SharedRecordPublisher {
            inner: Arc::new(Shared {
                tx: Mutex::new(self),
                view,
                closing: AtomicBool::new(false),
                max_len,
                count,
            }),
        }
    }
}

impl SharedRecordPublisher {
    /// Publishes `record`; returns its sequence number. As [`RecordPublisher::send`], plus
    /// [`RecordError::Closed`] once the topic was removed from its bus (nothing is sent).
    pub fn send(&self, record: &[u8]) -> Result<u64, RecordError> {
        self.write(record, Wait::Forever)
    }

    /// Like [`send`](Self::send), but never waits for a gated subscriber
    /// ([`RecordError::Full`]). It may still wait for another producer's send in progress.
    pub fn try_send(&self, record: &[u8]) -> Result<u64, RecordError> {
        self.write(record, Wait::No)
    }

    fn write(&self, record: &[u8], wait: Wait) -> Result<u64, RecordError> {
        let got = {
            let mut tx = self.lock();
            // SeqCst: `closing` and the lock are read and written in a single total order
            // with `close` (module docs).
            if self.inner.closing.load(Ordering::SeqCst) {
                self.inner.view.close();
                Err(RecordError::Closed)
            } else {
                tx.write(record, wait)
            }
        };
        self.settle();
        got
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, RecordPublisher> {
        // A producer that panicked while holding the lock left no half-written record (a
        // record's head is stored after its last chunk), so the state is sound to go on with.
        self.inner
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// After unlocking: closes the ring if a `close` asked for it and the lock is free.
    fn settle(&self) {
        // SeqCst fence: the holder's half of the store-buffer pair, and the closer's (module
        // docs). The loom teeth build drops it (`loom-tests/tests/shared_record.rs`).
        #[cfg(not(seqcast_loom_broken_close))]
        fence(Ordering::SeqCst);
        // SeqCst: as in `write`.
        if self.inner.closing.load(Ordering::SeqCst) {
            let free = match self.inner.tx.try_lock() {
                Ok(_) | Err(std::sync::TryLockError::Poisoned(_)) => true,
                Err(std::sync::TryLockError::WouldBlock) => false,
            };
            if free {
                self.inner.view.close();
            }
        }
    }

    /// Closes the topic (`Bus::remove`) without waiting for a send in progress: later sends
    /// are refused, subscribers drain what was sent and then see `Closed`.
    pub(crate) fn close(&self) {
        // SeqCst: as in `write`.
        self.inner.closing.store(true, Ordering::SeqCst);
        self.settle();
    }

    /// Whether the topic was closed (removed from its bus). Sends are refused from then on.
    pub fn is_closed(&self) -> bool {
        // SeqCst: as in `write`.
        self.inner.closing.load(Ordering::SeqCst) || self.inner.view.is_closed()
    }

    /// A new subscriber that starts with the next record sent. Takes no lock.
    pub fn subscribe(&self) -> RecordSubscriber {
        RecordSubscriber::attach(&self.inner.view, self.max_len(), &self.inner.count, |v| {
            v.subscribe()
        })
    }

    /// A new subscriber that starts with the oldest record whose first chunk the ring still
    /// holds (replay for a late joiner). Takes no lock.
    pub fn subscribe_oldest(&self) -> RecordSubscriber {
        RecordSubscriber::attach_oldest(&self.inner.view, self.max_len(), &self.inner.count)
    }

    /// A new gated (lossless) subscriber starting with the next record (see
    /// [`RecordPublisher::subscribe_gated`]). Takes no lock.
    pub fn subscribe_gated(&self) -> RecordSubscriber {
        self.subscribe_gated_with(GateConfig::default())
    }

    /// Like [`subscribe_gated`](Self::subscribe_gated), with options.
    pub fn subscribe_gated_with(&self, config: GateConfig) -> RecordSubscriber {
        RecordSubscriber::attach(&self.inner.view, self.max_len(), &self.inner.count, |v| {
            v.subscribe_gated_with(config.clone())
        })
    }

    /// A subscriber at the topic's first record: an exact `Lagged(n)` for those already
    /// overwritten (how a pattern subscriber reads a topic it discovers).
    pub(crate) fn subscribe_from_start(&self) -> RecordSubscriber {
        RecordSubscriber::new(
            self.inner.view.subscribe_at(0),
            0,
            self.max_len(),
            self.inner.count.clone(),
        )
    }

    /// Number of records sent so far.
    pub fn published(&self) -> u64 {
        // Acquire: pairs with the Release store after each record.
        self.inner.count.0 .0.load(Ordering::Acquire)
    }

    /// The longest record the topic takes, in bytes.
    pub fn max_len(&self) -> usize {
        self.inner.max_len
    }

    /// The ring's size in bytes.
    pub fn capacity(&self) -> usize {
        self.inner.view.capacity() * super::CHUNK_BYTES
    }

    /// Number of live subscribers (a snapshot).
    pub fn subscriber_count(&self) -> usize {
        self.inner.view.subscriber_count()
    }
}

impl fmt::Debug for SharedRecordPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRecordPublisher")
            .field("capacity", &self.capacity())
            .field("max_len", &self.max_len())
            .field("published", &self.published())
            .field("subscribers", &self.subscriber_count())
            .field("closed", &self.is_closed())
            .finish()
    }
}
