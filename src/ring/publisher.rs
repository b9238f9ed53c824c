//! Publisher handles: the single-producer [`Publisher`] and the multi-producer
//! [`SharedPublisher`] (ticket claim, DESIGN.md §1).

use super::gate::{GateConfig, SubscriberPosition, Wait};
use super::slot::done;
use super::{Ring, SlotLayout, Subscriber};
use crate::error::{ConfirmError, SendError, SendTimeoutError, TrySendError};
use crate::sync::{spin_loop, yield_now, Arc};
use core::fmt;
use core::ops::Range;
use std::time::{Duration, Instant};

/// Counts one live publisher handle; the last one to drop closes the topic.
struct PublisherHandle<T: Copy>(Arc<Ring<T>>);

impl<T: Copy> Clone for PublisherHandle<T> {
    fn clone(&self) -> Self {
        self.0.publisher_added();
        PublisherHandle(self.0.clone())
    }
}

impl<T: Copy> Drop for PublisherHandle<T> {
    fn drop(&mut self) {
        self.0.publisher_dropped();
    }
}

/// The sending half of a topic, for a single producer thread.
///
/// `send` never blocks, never allocates and costs the same whatever the number of
/// subscribers: it writes one slot and one counter, and reads nothing a subscriber writes.
/// A subscriber that falls more than `capacity` messages behind is lapped and told so
/// ([`TryRecvError::Lagged`](crate::error::TryRecvError::Lagged)).
///
/// Dropping the publisher closes the topic (unless it was turned into
/// [`SharedPublisher`]s, in which case the last of those closes it): subscribers drain what
/// they can still read, then get `Closed`.
///
/// `Publisher` is not `Clone`; use [`into_shared`](Publisher::into_shared) for many producers.
/// ```compile_fail
/// let (tx, _rx) = seqcast::channel::<u8>(4);
/// let _ = tx.clone();
/// ```
pub struct Publisher<T: Copy> {
    handle: PublisherHandle<T>,
    /// Sequence number of the next message. Private to this handle.
    next: u64,
}

impl<T: Copy + Send + 'static> Publisher<T> {
    pub(super) fn from_ring(ring: Arc<Ring<T>>) -> Self {
        Publisher {
            handle: PublisherHandle(ring),
            next: 0,
        }
    }

    /// A topic with no subscriber yet, as `tokio::sync::broadcast::Sender::new`: subscribers
    /// come from [`subscribe`](Self::subscribe) and its siblings. Sends with nobody listening
    /// are not an error (they are there for [replay](Self::subscribe_oldest)).
    ///
    /// # Panics
    /// If `capacity` is 0 or too large, like [`channel`](crate::channel);
    /// [`try_new`](Self::try_new) returns the error.
    ///
    /// ```
    /// let mut tx = seqcast::Publisher::<u64>::new(16);
    /// assert_eq!(tx.subscriber_count(), 0);
    /// tx.send(1);
    /// let mut late = tx.subscribe_oldest();
    /// assert_eq!(late.try_recv(), Ok(1));
    /// ```
    pub fn new(capacity: usize) -> Self {
        match Self::try_new(capacity) {
            Ok(tx) => tx,
            Err(e) => panic!("seqcast::Publisher::new: {e}"),
        }
    }

    /// Like [`new`](Self::new), but reports a bad capacity as an error.
    pub fn try_new(capacity: usize) -> Result<Self, crate::error::CapacityError> {
        crate::try_channel::<T>(capacity).map(|(tx, _first)| tx)
    }

    /// Publishes `value` and returns its sequence number (0 for the first message).
    ///
    /// Wait-free while the topic has no gated subscriber: a fixed number of stores, whatever
    /// the subscribers do. With [gated subscribers](Self::subscribe_gated), it waits while
    /// the slowest of them is a full ring behind (evicting it if it stalls too long).
    #[inline]
    pub fn send(&mut self, value: T) -> u64 {
        let seq = self.next;
        let ring = &*self.handle.0;
        if !ring.gate_allows(seq) {
            // Only fails for `Wait::No` / `Wait::Until`.
            let _ = ring.wait_for_gates(seq, Wait::Forever);
        }
        self.write(seq, value)
    }

    /// Like [`send`](Self::send), but never waits: if a gated subscriber is a full ring
    /// behind, returns the value in `TrySendError::Full`.
    pub fn try_send(&mut self, value: T) -> Result<u64, TrySendError<T>> {
        let seq = self.next;
        let ring = &*self.handle.0;
        if !ring.gate_allows(seq) && ring.wait_for_gates(seq, Wait::No).is_err() {
            return Err(TrySendError::Full(value));
        }
        Ok(self.write(seq, value))
    }

    /// Like [`send`](Self::send), but waits for gated subscribers at most `timeout`.
    pub fn send_timeout(
        &mut self,
        value: T,
        timeout: Duration,
    ) -> Result<u64, SendTimeoutError<T>> {
        let seq = self.next;
        let ring = &*self.handle.0;
        if !ring.gate_allows(seq) {
            let wait = Instant::now()
                .checked_add(timeout)
                .map_or(Wait::Forever, Wait::Until);
            if ring.wait_for_gates(seq, wait).is_err() {
                return Err(SendTimeoutError::Timeout(value));
            }
        }
        Ok(self.write(seq, value))
    }

    /// Publishes every value of `values`, in order, and returns their sequence numbers.
    ///
    /// The same as `send` for each value, with the head stored and parked subscribers
    /// checked once per batch instead of once per message. With gated subscribers it waits
    /// (as `send` does) whenever the slowest is a full ring behind, first making what it
    /// already wrote visible and waking whoever waits for it.
    ///
    /// ```
    /// let (mut tx, mut rx) = seqcast::channel::<u64>(8);
    /// assert_eq!(tx.send_batch(&[10, 20, 30]), 0..3);
    /// assert_eq!(tx.send_batch(&[]), 3..3);
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.try_recv_many(&mut buf, 8), Ok(3));
    /// assert_eq!(buf, [10, 20, 30]);
    /// ```
    pub fn send_batch(&mut self, values: &[T]) -> Range<u64> {
        self.write_batch(values, Wait::Forever)
    }

    /// Like [`send_batch`](Self::send_batch), but never waits: sends the longest prefix of
    /// `values` that the gated subscribers leave room for, and returns the sequence numbers
    /// of the messages that went (an empty range when none did; compare its length with
    /// `values.len()`). Without gated subscribers every value goes.
    ///
    /// ```
    /// let (mut tx, _lossy) = seqcast::channel::<u8>(2);
    /// let _gated = tx.subscribe_gated();
    /// let sent = tx.try_send_batch(&[1, 2, 3]);
    /// assert_eq!(sent, 0..2); // the gated subscriber has room for two
    /// ```
    pub fn try_send_batch(&mut self, values: &[T]) -> Range<u64> {
        self.write_batch(values, Wait::No)
    }

    /// Writes `values` from the next sequence number on, waiting for gates as `wait` says;
    /// stops at the first value the gates refuse.
    fn write_batch(&mut self, values: &[T], wait: Wait) -> Range<u64> {
        let start = self.next;
        let ring = &*self.handle.0;
        let mut seq = start;
        for &value in values {
            if !ring.gate_allows(seq) {
                // Publish what is written before waiting: a gated subscriber parked for it
                // is the one that makes room.
                ring.set_head(seq);
                ring.wake_waiters();
                if ring.wait_for_gates(seq, wait).is_err() {
                    break;
                }
            }
            ring.slot(seq).write(seq, value);
            seq += 1;
        }
        self.next = seq;
        if seq != start {
            ring.set_head(seq);
            ring.wake_waiters();
        }
        start..seq
    }

    /// Writes `n` messages made by `fill(0..n)` as one unit, for storages that frame one
    /// value across several slots (records): all of them or, if the gated subscribers leave
    /// no room for all `n` within `wait`, none. `n` must be at most the capacity.
    pub(crate) fn write_unit(
        &mut self,
        n: usize,
        wait: Wait,
        mut fill: impl FnMut(usize) -> T,
    ) -> Option<Range<u64>> {
        let ring = &*self.handle.0;
        debug_assert!(n >= 1 && n as u64 <= ring.capacity());
        let start = self.next;
        let last = start + n as u64 - 1;
        // Gates only move forward: room for the last message is room for all of them.
        if !ring.gate_allows(last) && ring.wait_for_gates(last, wait).is_err() {
            return None;
        }
        for i in 0..n {
            let seq = start + i as u64;
            ring.slot(seq).write(seq, fill(i));
        }
        self.next = last + 1;
        ring.set_head(last + 1);
        ring.wake_waiters();
        Some(start..last + 1)
    }

    /// The topic (for the async sends).
    #[cfg(seqcast_async)]
    #[inline]
    pub(super) fn ring(&self) -> &Ring<T> {
        &self.handle.0
    }

    /// The sequence number the next message will get.
    #[cfg(seqcast_async)]
    #[inline]
    pub(super) fn next_seq(&self) -> u64 {
        self.next
    }

    #[inline]
    pub(super) fn write(&mut self, seq: u64, value: T) -> u64 {
        let ring = &*self.handle.0;
        ring.slot(seq).write(seq, value);
        self.next = seq + 1;
        ring.set_head(seq + 1);
        ring.wake_waiters();
        seq
    }

    /// Delivery-confirmed publish: sends `value`, then waits until every subscriber that
    /// reports its position (gated ones, and lossy ones that called
    /// [`report_position`](Subscriber::report_position)) has read it, at most `timeout`.
    /// On timeout the message stays published and the error names the subscribers that had
    /// not read it. Only this call waits: other sends and subscribers are unaffected.
    ///
    /// What it cannot promise: lossy subscribers that report nothing are not waited for
    /// (nothing tells whether they read the message), and a reporting one confirms only when
    /// it publishes a position past the message (every `every` messages). The wait polls the
    /// positions (spin, yield, then sleeps of up to 1 ms), so a confirmation takes up to
    /// about a millisecond longer than the slowest reader.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (mut tx, _lossy) = seqcast::channel::<u32>(8);
    /// let mut audit = tx.subscribe_gated();
    /// let t = std::thread::spawn(move || audit.recv().unwrap());
    /// assert_eq!(tx.send_confirmed(7, Duration::from_secs(5)), Ok(0));
    /// assert_eq!(t.join().unwrap(), 7);
    /// ```
    pub fn send_confirmed(&mut self, value: T, timeout: Duration) -> Result<u64, ConfirmError<T>> {
        let seq = self.send(value);
        let pending = super::confirm::wait(&self.handle.0, seq, timeout);
        if pending.is_empty() {
            Ok(seq)
        } else {
            Err(ConfirmError::Timeout { seq, pending })
        }
    }

    /// A new gated (lossless) subscriber starting with the next message: the publisher never
    /// laps it, waiting instead (see [`GateConfig`] for eviction of a stalled one). Lossy
    /// subscribers on the same topic are unaffected.
    pub fn subscribe_gated(&self) -> Subscriber<T> {
        self.subscribe_gated_with(GateConfig::default())
    }

    /// Like [`subscribe_gated`](Self::subscribe_gated), with options.
    pub fn subscribe_gated_with(&self, config: GateConfig) -> Subscriber<T> {
        Subscriber::new_gated(self.handle.0.clone(), config)
    }

    /// The positions of gated subscribers and of lossy ones that report theirs
    /// ([`Subscriber::report_position`]), slowest first. Takes a lock; not for hot loops.
    pub fn positions(&self) -> Vec<SubscriberPosition> {
        self.handle.0.positions()
    }

    /// A new subscriber that starts with the next message sent.
    pub fn subscribe(&self) -> Subscriber<T> {
        Subscriber::new(self.handle.0.clone(), self.next)
    }

    /// A new subscriber that starts with the oldest message the ring still holds (replay for
    /// a late joiner: a dashboard that wants the last values). See
    /// [`subscribe_at`](Self::subscribe_at).
    pub fn subscribe_oldest(&self) -> Subscriber<T> {
        self.subscribe_at(self.next.saturating_sub(self.handle.0.capacity()))
    }

    /// A new subscriber that starts at message `seq` (a start past the next message starts at
    /// the next message). If message `seq` is already overwritten, its first receive is an
    /// exact `Lagged(n)` up to the oldest message still held, then it reads on from there,
    /// like any lapped subscriber.
    ///
    /// ```
    /// use seqcast::error::TryRecvError;
    /// let (mut tx, _rx) = seqcast::channel::<u64>(4);
    /// tx.send_batch(&[0, 1, 2, 3, 4, 5]);
    /// let mut at_1 = tx.subscribe_at(1);
    /// assert_eq!(at_1.try_recv(), Err(TryRecvError::Lagged(1))); // message 1 is gone
    /// assert_eq!(at_1.try_recv(), Ok(2));
    /// ```
    pub fn subscribe_at(&self, seq: u64) -> Subscriber<T> {
        Subscriber::new(self.handle.0.clone(), seq.min(self.next))
    }

    /// Waits until this topic has no subscriber left (as
    /// `tokio::sync::broadcast::Sender::closed`); ready at once if it has none now. A
    /// subscriber made afterwards does not undo it: check
    /// [`subscriber_count`](Self::subscriber_count) again if that matters.
    #[cfg(seqcast_async)]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn closed(&self) -> impl core::future::Future<Output = ()> + Send + '_ {
        self.handle.0.no_subscribers()
    }

    /// Number of messages sent so far through this topic.
    pub fn published(&self) -> u64 {
        self.next
    }

    /// Number of live subscribers (a snapshot; subscribers may come and go concurrently).
    pub fn subscriber_count(&self) -> usize {
        self.handle.0.subscriber_count()
    }

    /// Number of subscribers currently parked in `recv`/`recv_timeout` or pending in async
    /// receive (a snapshot). While it is non-zero each `send` also notifies them.
    pub fn waiting_subscribers(&self) -> usize {
        self.handle.0.waiting()
    }

    /// Number of sends currently waiting for a gated subscriber to make room (a snapshot: 0
    /// or 1 for a `Publisher`, which sends one message at a time; a dropped pending
    /// async send is not counted).
    pub fn waiting_publishers(&self) -> usize {
        self.handle.0.waiting_publishers()
    }

    /// Number of slots: the most messages a subscriber can fall behind without losing any.
    pub fn capacity(&self) -> usize {
        self.handle.0.capacity() as usize
    }

    /// How the topic's slots sit in memory (`SlotLayout::Auto` resolved to what it chose).
    pub fn slot_layout(&self) -> SlotLayout {
        self.handle.0.layout()
    }

    /// A handle on the same ring for everything but sending (subscribing, closing, the
    /// figures), for storages that keep this single producer behind a lock
    /// (`record::SharedRecordPublisher`). It counts as a publisher handle: the topic closes
    /// when it and this publisher are both gone.
    pub(crate) fn view(&self) -> SharedPublisher<T> {
        SharedPublisher {
            handle: self.handle.clone(),
        }
    }

    /// Turns this publisher into a [`SharedPublisher`] that can be cloned across threads.
    /// Sequence numbers continue where this publisher stopped.
    pub fn into_shared(self) -> SharedPublisher<T> {
        SharedPublisher {
            handle: self.handle,
        }
    }
}

impl<T: Copy> fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("capacity", &self.handle.0.capacity())
            .field("slot_layout", &self.handle.0.layout())
            .field("published", &self.next)
            .field("subscribers", &self.handle.0.subscriber_count())
            .finish()
    }
}

/// A publisher that many threads can share (`Clone + Send + Sync`).
///
/// Each `send` claims a ticket (the sequence number) with one `fetch_add`, waits until its
/// slot holds the previous lap's completed message, and writes. Messages from one producer
/// reach every subscriber in the order that producer sent them.
///
/// Progress: lock-free among running producers. A producer descheduled in the middle of a
/// `send` delays only the producer that claims the same slot one full lap later (`capacity`
/// messages on); readers and other producers are unaffected.
///
/// The topic closes when the last `SharedPublisher` clone is dropped.
///
/// # Examples
/// ```
/// let (tx, mut rx) = seqcast::channel::<(u8, u32)>(64);
/// let tx = tx.into_shared();
/// std::thread::scope(|s| {
///     for id in 0..2u8 {
///         let tx = tx.clone();
///         s.spawn(move || for i in 0..10 { tx.send((id, i)); });
///     }
/// });
/// drop(tx);
/// let got: Vec<_> = rx.try_iter().collect::<Result<_, _>>().unwrap();
/// assert_eq!(got.len(), 20);
/// ```
pub struct SharedPublisher<T: Copy> {
    handle: PublisherHandle<T>,
}

impl<T: Copy> Clone for SharedPublisher<T> {
    fn clone(&self) -> Self {
        SharedPublisher {
            handle: self.handle.clone(),
        }
    }
}

impl<T: Copy + Send + 'static> SharedPublisher<T> {
    /// Publishes `value` and returns its sequence number.
    ///
    /// A topic only closes under a live `SharedPublisher` when it is removed from its
    /// `Bus`; `send` then hands the value back in [`SendError`] and publishes nothing. With
    /// gated subscribers, `send` waits while the slowest is a full ring behind (see
    /// [`Publisher::send`]).
    ///
    /// ```
    /// let bus = seqcast::Bus::new();
    /// let tx = bus.publisher::<u32>("ticks").unwrap();
    /// assert_eq!(tx.send(7), Ok(0));
    /// bus.remove("ticks").unwrap();
    /// assert_eq!(tx.send(8).unwrap_err().into_inner(), 8);
    /// ```
    #[inline]
    pub fn send(&self, value: T) -> Result<u64, SendError<T>> {
        let ring = &*self.handle.0;
        let Some(seq) = ring.claim() else {
            return Err(SendError(value));
        };
        if !ring.gate_allows(seq) {
            let _ = ring.wait_for_gates(seq, Wait::Forever);
        }
        Ok(self.write(seq, value))
    }

    /// Publishes `value` and returns its sequence number, or hands the value back if the
    /// topic was closed (removed from its `Bus`) or, without waiting, if a gated subscriber is
    /// a full ring behind.
    pub fn try_send(&self, value: T) -> Result<u64, TrySendError<T>> {
        let ring = &*self.handle.0;
        match ring.claim_if(|t| ring.wait_for_gates_if_needed(t, Wait::No)) {
            Ok(Some(seq)) => Ok(self.write(seq, value)),
            Ok(None) => Err(TrySendError::Closed(value)),
            Err(_) => Err(TrySendError::Full(value)),
        }
    }

    /// Like [`send`](Self::send), but waits for gated subscribers at most `timeout`.
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<u64, SendTimeoutError<T>> {
        let ring = &*self.handle.0;
        let wait = Instant::now()
            .checked_add(timeout)
            .map_or(Wait::Forever, Wait::Until);
        match ring.claim_if(|t| ring.wait_for_gates_if_needed(t, wait)) {
            Ok(Some(seq)) => Ok(self.write(seq, value)),
            Ok(None) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Publishes every value of `values` on consecutive tickets, claimed with one atomic
    /// step for the whole batch, and returns their sequence numbers. All or nothing: if the
    /// topic was closed (removed from its `Bus`) nothing is sent and the values come back in
    /// the error. Other producers' messages never interleave with a batch. Parked subscribers
    /// are checked once per batch. With gated subscribers it waits as `send` does.
    ///
    /// ```
    /// let (tx, mut rx) = seqcast::channel::<u32>(8);
    /// let tx = tx.into_shared();
    /// assert_eq!(tx.send_batch(&[1, 2]), Ok(0..2));
    /// assert_eq!(tx.send(3), Ok(2));
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.try_recv_many(&mut buf, 8), Ok(3));
    /// assert_eq!(buf, [1, 2, 3]);
    /// ```
    pub fn send_batch<'a>(&self, values: &'a [T]) -> Result<Range<u64>, SendError<&'a [T]>> {
        let ring = &*self.handle.0;
        // Only a slice of zero-sized values could be this long; its claim could reach the
        // closed bit of the head.
        assert!(
            values.len() as u64 <= u64::from(u32::MAX),
            "SharedPublisher::send_batch: more than u32::MAX values in one batch"
        );
        let Some(start) = ring.claim_n(values.len() as u64) else {
            return Err(SendError(values));
        };
        for (i, &value) in values.iter().enumerate() {
            let seq = start + i as u64;
            if !ring.gate_allows(seq) {
                // Wake first: a parked gated subscriber may be waiting for what this batch
                // already wrote, and is the one that makes room.
                ring.wake_waiters();
                let _ = ring.wait_for_gates(seq, Wait::Forever);
            }
            self.write_slot(seq, value);
        }
        ring.wake_waiters();
        Ok(start..start + values.len() as u64)
    }

    /// The topic (for the async sends).
    #[cfg(seqcast_async)]
    #[inline]
    pub(super) fn ring(&self) -> &Ring<T> {
        &self.handle.0
    }

    /// Writes message `seq` on a claimed ticket and wakes parked subscribers.
    #[inline]
    pub(super) fn write(&self, seq: u64, value: T) -> u64 {
        self.write_slot(seq, value);
        self.handle.0.wake_waiters();
        seq
    }

    /// Writes message `seq` on a claimed ticket.
    #[inline]
    fn write_slot(&self, seq: u64, value: T) {
        let ring = &*self.handle.0;
        let slot = ring.slot(seq);
        let cap = ring.capacity();
        // The slot must hold the previous lap's message, complete, before we overwrite it
        // (invariant 2 in the module docs). Only the holder of ticket `seq` waits for this
        // exact stamp, so a plain store suffices after it; no CAS is needed.
        let previous = if seq >= cap { done(seq - cap) } else { 0 };
        let mut spins = 0u32;
        while slot.stamp_acquire() != previous {
            if spins < 64 {
                spins += 1;
                spin_loop();
            } else {
                yield_now();
            }
        }
        slot.write(seq, value);
    }

    /// See [`Publisher::send_confirmed`]; a closed topic (removed from its `Bus`) sends
    /// nothing and hands the value back.
    pub fn send_confirmed(&self, value: T, timeout: Duration) -> Result<u64, ConfirmError<T>> {
        let seq = self
            .send(value)
            .map_err(|e| ConfirmError::Closed(e.into_inner()))?;
        let pending = super::confirm::wait(&self.handle.0, seq, timeout);
        if pending.is_empty() {
            Ok(seq)
        } else {
            Err(ConfirmError::Timeout { seq, pending })
        }
    }

    /// A new gated (lossless) subscriber starting with the next message claimed; see
    /// [`Publisher::subscribe_gated`].
    pub fn subscribe_gated(&self) -> Subscriber<T> {
        self.subscribe_gated_with(GateConfig::default())
    }

    /// Like [`subscribe_gated`](Self::subscribe_gated), with options.
    pub fn subscribe_gated_with(&self, config: GateConfig) -> Subscriber<T> {
        Subscriber::new_gated(self.handle.0.clone(), config)
    }

    /// See [`Publisher::positions`].
    pub fn positions(&self) -> Vec<SubscriberPosition> {
        self.handle.0.positions()
    }

    /// Whether the topic was closed (removed from its `Bus`): later sends are refused.
    pub fn is_closed(&self) -> bool {
        self.handle.0.is_closed()
    }

    /// Closes the topic for every publisher and subscriber (used by `Bus::remove`).
    pub(crate) fn close(&self) {
        self.handle.0.close();
    }

    /// A new subscriber that starts with the next message claimed.
    pub fn subscribe(&self) -> Subscriber<T> {
        let ring = self.handle.0.clone();
        let start = ring.head();
        Subscriber::new(ring, start)
    }

    /// See [`Publisher::subscribe_oldest`]. (A message claimed by another producer may still
    /// be in progress; the subscriber then waits for it, as any subscriber does.)
    pub fn subscribe_oldest(&self) -> Subscriber<T> {
        let ring = &self.handle.0;
        self.subscribe_at(ring.head().saturating_sub(ring.capacity()))
    }

    /// See [`Publisher::subscribe_at`].
    pub fn subscribe_at(&self, seq: u64) -> Subscriber<T> {
        let ring = self.handle.0.clone();
        let start = seq.min(ring.head());
        Subscriber::new(ring, start)
    }

    /// See [`Publisher::closed`].
    #[cfg(seqcast_async)]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn closed(&self) -> impl core::future::Future<Output = ()> + Send + '_ {
        self.handle.0.no_subscribers()
    }

    /// Number of messages claimed so far (sent or being sent).
    pub fn published(&self) -> u64 {
        self.handle.0.head()
    }

    /// Number of live subscribers (a snapshot).
    pub fn subscriber_count(&self) -> usize {
        self.handle.0.subscriber_count()
    }

    /// Number of subscribers currently parked or pending in async receive (a snapshot).
    pub fn waiting_subscribers(&self) -> usize {
        self.handle.0.waiting()
    }

    /// Number of sends, over every clone, currently waiting for a gated subscriber to make
    /// room (a snapshot).
    pub fn waiting_publishers(&self) -> usize {
        self.handle.0.waiting_publishers()
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.handle.0.capacity() as usize
    }

    /// See [`Publisher::slot_layout`].
    pub fn slot_layout(&self) -> SlotLayout {
        self.handle.0.layout()
    }
}

impl<T: Copy> fmt::Debug for SharedPublisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedPublisher")
            .field("capacity", &self.handle.0.capacity())
            .field("slot_layout", &self.handle.0.layout())
            .field("published", &self.handle.0.head())
            .field("subscribers", &self.handle.0.subscriber_count())
            .finish()
    }
}
