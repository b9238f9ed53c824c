//! Where a [`RecordSubscriber`](super::RecordSubscriber) reads its chunks from: an
//! in-process ring ([`Subscriber`]), or a shared-memory ring file
//! ([`ShmSubscriber`](crate::shm::ShmSubscriber)) whose every word may be garbage.
//!
//! The record state machine is the same for both. What differs is trust: chunks from an
//! in-process ring were written by this crate's publisher, so a framing word that breaks the
//! format is a bug (a `debug_assert`); chunks from a file were validated as slots but their
//! framing may still be anything, so the same cases are handled as lost records, never a
//! panic, an unbounded allocation or a hang.

// The sealed trait's hidden methods take the crate's record count: nothing outside the crate
// can implement the trait or name the count, so none can call them.
#![allow(private_interfaces)]

use super::{Chunk, Count};
use crate::error::{RecvError, TryRecvError};
use crate::sync::Ordering;
use crate::{LagPolicy, Subscriber};

/// The chunk source of a record subscriber. Sealed: implemented for `Subscriber<[u64; 7]>`
/// and, with the `shm` feature, `ShmSubscriber<[u64; 7]>`.
pub trait ChunkReader: sealed::Sealed + Send + 'static {
    /// Whether framing words can be trusted (module docs).
    #[doc(hidden)]
    const TRUSTED: bool;
    #[doc(hidden)]
    fn try_recv(&mut self) -> Result<Chunk, TryRecvError>;
    #[doc(hidden)]
    fn try_recv_batch(&mut self, limit: usize, f: impl FnMut(Chunk))
        -> Result<usize, TryRecvError>;
    #[doc(hidden)]
    fn recv(&mut self) -> Result<Chunk, RecvError>;
    #[doc(hidden)]
    fn is_evicted(&self) -> bool;
    #[doc(hidden)]
    fn is_detached(&self) -> bool;
    #[doc(hidden)]
    fn set_lag_policy(&mut self, policy: LagPolicy);
    #[doc(hidden)]
    fn parks(&self) -> u64;
    /// Records published when the stream ended (at `Closed`, `Detached` or
    /// `PublisherDied`), from the publisher's count (`count`) or from the stream itself.
    #[doc(hidden)]
    fn end_count(&self, count: &Count) -> u64;
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for Subscriber<Chunk> {}

impl ChunkReader for Subscriber<Chunk> {
    const TRUSTED: bool = true;
    #[inline]
    fn try_recv(&mut self) -> Result<Chunk, TryRecvError> {
        Subscriber::try_recv(self)
    }
    #[inline]
    fn try_recv_batch(
        &mut self,
        limit: usize,
        f: impl FnMut(Chunk),
    ) -> Result<usize, TryRecvError> {
        Subscriber::try_recv_batch(self, limit, f)
    }
    fn recv(&mut self) -> Result<Chunk, RecvError> {
        Subscriber::recv(self)
    }
    fn is_evicted(&self) -> bool {
        Subscriber::is_evicted(self)
    }
    fn is_detached(&self) -> bool {
        Subscriber::is_detached(self)
    }
    fn set_lag_policy(&mut self, policy: LagPolicy) {
        Subscriber::set_lag_policy(self, policy)
    }
    fn parks(&self) -> u64 {
        Subscriber::stats(self).parks
    }
    fn end_count(&self, count: &Count) -> u64 {
        // Acquire: pairs with the Release store after each record.
        count.0 .0.load(Ordering::Acquire)
    }
}

#[cfg(seqcast_shm)]
mod shm {
    use super::*;
    use crate::shm::ShmSubscriber;

    impl sealed::Sealed for ShmSubscriber<Chunk> {}

    impl ChunkReader for ShmSubscriber<Chunk> {
        const TRUSTED: bool = false;
        #[inline]
        fn try_recv(&mut self) -> Result<Chunk, TryRecvError> {
            ShmSubscriber::try_recv(self)
        }
        #[inline]
        fn try_recv_batch(
            &mut self,
            limit: usize,
            f: impl FnMut(Chunk),
        ) -> Result<usize, TryRecvError> {
            ShmSubscriber::try_recv_batch(self, limit, f)
        }
        fn recv(&mut self) -> Result<Chunk, RecvError> {
            ShmSubscriber::recv(self)
        }
        fn is_evicted(&self) -> bool {
            false
        }
        fn is_detached(&self) -> bool {
            false
        }
        fn set_lag_policy(&mut self, policy: LagPolicy) {
            ShmSubscriber::set_lag_policy(self, policy)
        }
        fn parks(&self) -> u64 {
            0
        }
        /// The publisher writes each record whole before the head, so the chunk below the
        /// final head (or the head, after a crash) is a record's last and names it. A file
        /// that says otherwise gives a wrong count, reported as a lag, nothing worse.
        fn end_count(&self, _: &Count) -> u64 {
            match self.end() {
                Some(0) | None => 0,
                Some(end) => self
                    .peek(end - 1)
                    .map_or(0, |c| (c[super::super::FRAME] >> 1) + 1),
            }
        }
    }
}
