//! Record topics in shared memory: [`ShmRecordPublisher`] and [`ShmRecordSubscriber`], the
//! variable-length records of [`seqcast::record`](crate::record) in a ring file that other
//! processes map read-only.
//!
//! The file is an ordinary shm ring of 64-byte chunks (`[u64; 7]` payloads, one per line),
//! with the framing of in-process record topics, unchanged. The publisher writes each record
//! whole, then stores the head once, so a subscriber that opens the file starts at a record
//! boundary and finds its first record's number in the chunk just before the head.
//!
//! # A corrupt file
//! The slot rules of [`shm`](super) still hold (a slot is read only through its stamp check,
//! a stamp only trusted if a publisher could have written it). On top of them, the record
//! layer trusts no framing word: a continuation chunk where none belongs, a message number
//! that goes back, a length over the topic's limit, or a chunk of another record in the middle
//! of one, each make the record (and what the file claims was before it) lost: reported as
//! `Lagged(n)`, never a panic, never an allocation past the limit, never a hang. What a hostile
//! writer can still do is deliver well-framed garbage or inflate lag reports (counters
//! saturate).

use super::{ShmPublisher, ShmSubscriber};
use crate::error::{RecordError, RecvError, ShmError, TryRecvError};
use crate::record::{chunks_for, frame, len_for, Chunk, Count, RecordSubscriber, FRAME};
use crate::LagPolicy;
use core::fmt;
use std::path::Path;

/// The type name a record ring file carries, around the user's own, so that a record ring
/// opened as a typed one (or the other way round) is a type mismatch.
fn tag(type_name: &str) -> String {
    format!("seqcast::record/{type_name}")
}

/// The longest record a ring of `chunks` chunks takes: half of it, as in process.
fn max_len(chunks: usize) -> usize {
    len_for((chunks / 2).max(1))
}

/// The writing half of a shared-memory record topic. Single producer, like
/// [`ShmPublisher`]; `send` never blocks and costs the same whatever the subscribers do.
///
/// ```
/// # #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))] {
/// use seqcast::shm::{ShmRecordPublisher, ShmRecordSubscriber};
/// let path = std::env::temp_dir().join(format!("seqcast-rec-doc-{}", std::process::id()));
/// let mut tx = ShmRecordPublisher::create_at(&path, 64 * 1024, "log-lines").unwrap();
/// // Normally in another process:
/// let mut rx = ShmRecordSubscriber::open_at(&path, "log-lines").unwrap();
/// tx.send(b"GET /orders/17 200").unwrap();
/// tx.send(&[7; 3000]).unwrap();
/// assert_eq!(rx.try_recv().unwrap(), b"GET /orders/17 200");
/// assert_eq!(rx.try_recv().unwrap(), [7; 3000]);
/// # }
/// ```
pub struct ShmRecordPublisher {
    tx: ShmPublisher<Chunk>,
    /// Message number of the next record.
    next: u64,
    max_len: usize,
}

impl ShmRecordPublisher {
    /// Creates the record ring `/dev/shm/<name>` with room for `capacity` bytes of framed
    /// records (rounded up to a power-of-two number of 64-byte chunks); `type_name` names
    /// what the records hold, and subscribers must give the same.
    pub fn create(name: &str, capacity: usize, type_name: &str) -> Result<Self, ShmError> {
        Self::create_at(super::path_for(name)?, capacity, type_name)
    }

    /// Like [`create`](Self::create), at any path.
    pub fn create_at(
        path: impl AsRef<Path>,
        capacity: usize,
        type_name: &str,
    ) -> Result<Self, ShmError> {
        let chunks = capacity.div_ceil(64).max(1);
        let tx = ShmPublisher::create_at(path.as_ref(), chunks, &tag(type_name))?;
        let max_len = max_len(tx.capacity());
        Ok(ShmRecordPublisher {
            tx,
            next: 0,
            max_len,
        })
    }

    /// Publishes `record` and returns its sequence number. A record longer than
    /// [`max_len`](Self::max_len) is refused ([`RecordError::TooLarge`]) and nothing is sent.
    pub fn send(&mut self, record: &[u8]) -> Result<u64, RecordError> {
        let len = record.len();
        if len > self.max_len {
            return Err(RecordError::TooLarge {
                len,
                max: self.max_len,
            });
        }
        let seq = self.next;
        self.tx.send_unit(chunks_for(len), frame(record, seq));
        self.next = seq + 1;
        Ok(seq)
    }

    /// Number of records sent so far.
    pub fn published(&self) -> u64 {
        self.next
    }

    /// The longest record the topic takes, in bytes (half the ring).
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The ring's size in bytes.
    pub fn capacity(&self) -> usize {
        self.tx.capacity() * 64
    }

    /// The ring file.
    pub fn path(&self) -> &Path {
        self.tx.path()
    }

    /// The ring's header fields (chunks, slot layout, pid, heartbeat period).
    pub fn info(&self) -> super::RingInfo {
        self.tx.info()
    }
}

impl fmt::Debug for ShmRecordPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmRecordPublisher")
            .field("path", &self.tx.path())
            .field("capacity", &self.capacity())
            .field("max_len", &self.max_len)
            .field("published", &self.next)
            .finish()
    }
}

/// The receiving half of a shared-memory record topic: whole records, counted in records,
/// from a ring file mapped read-only. The record layer trusts no word of the file (module
/// docs); the chunks come from a [`ShmSubscriber`], with its liveness rule
/// (`PublisherDied`).
pub struct ShmRecordSubscriber {
    rx: RecordSubscriber<ShmSubscriber<Chunk>>,
}

impl ShmRecordSubscriber {
    /// Opens the record ring `/dev/shm/<name>` read-only, at the next record the publisher
    /// will send. Errors as [`ShmSubscriber::open`] (a typed ring, or one of another
    /// `type_name`, is a type mismatch).
    pub fn open(name: &str, type_name: &str) -> Result<Self, ShmError> {
        Self::open_at(super::path_for(name)?, type_name)
    }

    /// Like [`open`](Self::open), at any path.
    pub fn open_at(path: impl AsRef<Path>, type_name: &str) -> Result<Self, ShmError> {
        let path = path.as_ref();
        // The chunk below the head is the last of the record before (the publisher stores
        // the head after whole records only), and names it. If it was overwritten between the
        // open and the peek (a whole lap), open again; if it never reads (garbage), start at
        // number 0 and let the first record's number tell what was missed, skipping the rest
        // of any record the start falls into.
        let mut tries = 0;
        let (chunks, start, peeked) = loop {
            let chunks = ShmSubscriber::<Chunk>::open_at(path, &tag(type_name))?;
            let start = chunks.position();
            let peeked = start.checked_sub(1).and_then(|p| chunks.peek(p));
            tries += 1;
            if peeked.is_some() || start == 0 || tries == 4 {
                break (chunks, start, peeked);
            }
        };
        let next = peeked.map_or(0, |c| (c[FRAME] >> 1) + 1);
        let max = max_len(chunks.capacity());
        let mut rx = RecordSubscriber::new(chunks, next, max, Count::new());
        if peeked.is_none() && start > 0 {
            rx.skip_partial();
        }
        Ok(ShmRecordSubscriber { rx })
    }

    /// Takes the next record into `buf` (replacing its contents) and returns its length;
    /// never blocks. `Lagged(n)` counts records; `Closed` after a clean close and drain;
    /// `PublisherDied` when the publisher vanished (see [`ShmSubscriber::try_recv`]).
    pub fn try_recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, TryRecvError> {
        self.rx.try_recv_into(buf)
    }

    /// Like [`try_recv_into`](Self::try_recv_into), into a new `Vec`.
    pub fn try_recv(&mut self) -> Result<Vec<u8>, TryRecvError> {
        self.rx.try_recv()
    }

    /// Waits for the next record (polling, as [`ShmSubscriber::recv`]), into `buf`.
    pub fn recv_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, RecvError> {
        self.rx.recv_into(buf)
    }

    /// Like [`recv_into`](Self::recv_into), into a new `Vec`.
    pub fn recv(&mut self) -> Result<Vec<u8>, RecvError> {
        self.rx.recv()
    }

    /// Sets what happens when the publisher laps this subscriber (counted in records).
    pub fn set_lag_policy(&mut self, policy: LagPolicy) {
        self.rx.set_lag_policy(policy);
    }

    /// This subscriber's counters, in records.
    pub fn stats(&self) -> crate::SubscriberStats {
        self.rx.stats()
    }

    /// Message number of the next record this subscriber will read.
    pub fn position(&self) -> u64 {
        self.rx.position()
    }
}

impl fmt::Debug for ShmRecordSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmRecordSubscriber")
            .field("records", &self.rx)
            .finish()
    }
}
