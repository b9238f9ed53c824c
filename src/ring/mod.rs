//! The broadcast ring: one topic, one seqlock ring buffer, any number of independent readers.
//!
//! # Shape
//! `capacity` slots (a power of two, `mask = capacity - 1`); message number `s` (a `u64`
//! counted from 0, which never wraps in practice) lives in slot `s & mask`. Each slot is a
//! seqlock cell whose stamp names the message it holds ([`slot`] has the encoding and the
//! memory-model argument). The idea is the classic seqlock broadcast ring (as in the LMAX
//! Disruptor's ring, without its gating of the publisher by the readers).
//!
//! # Who writes what
//! * `Ring::slots[i]`: written only by the publisher that owns the message being stored there
//!   (the single [`Publisher`], or the [`SharedPublisher`] holding that ticket).
//! * `Ring::head`: written only by publishers. With a single `Publisher` it is the number of
//!   messages completed (stored after each message); with `SharedPublisher`s it is the next
//!   ticket to claim (`fetch_add`). Readers load it only when they subscribe, resync after a
//!   lap, compute `lag()`, or see the topic closed: never on the fast path.
//! * `Ring::closed` / `Ring::final_head`: set once, by `close` (last publisher handle
//!   dropped, or the topic removed from its `Bus`).
//! * `Ring::publishers` / `Ring::subscribers`: handle counts, written when a handle is created
//!   or dropped, never while sending or receiving.
//! * Subscribers write nothing shared while receiving: their cursor, policy and counters are
//!   private fields of the [`Subscriber`].
//!
//! # Invariants a reader may rely on
//! 1. The stamps of a slot only increase, and the slot of message `s` holds stamp `2s+2`
//!    exactly while message `s` is intact and complete.
//! 2. Messages are written in sequence order per slot: message `s + capacity` starts only
//!    after message `s` completed (single publisher: program order; shared: a ticket waits
//!    for the previous lap's completed stamp).
//! 3. Once `closed` is seen (Acquire), `final_head` holds the number of messages ever
//!    claimed, and no further claim succeeds (the close sets a bit in `head`, which every
//!    claim's `fetch_add` returns). After a last-publisher close every one of those messages
//!    is complete; after a `Bus::remove` a send claimed just before the close may still be
//!    finishing, so a reader below `final_head` whose slot is not ready yet sees `Empty`.
//!
//! Hence for a reader whose cursor is `s`: stamp `< 2s+2` means "not yet" (`Empty`), stamp
//! `== 2s+2` means "copy and re-check", stamp `> 2s+2` means "lapped". After a lap the reader
//! moves to the oldest message still intact, `max(head - capacity, m + 1 - capacity)` where
//! `m` is the message found in its slot, and reports the exact distance it jumped as
//! `Lagged(n)`. So for every subscriber, **delivered + sum of reported lag == messages
//! published since it subscribed** (up to its cursor), in order, with no duplicates.
//!
//! # Waiting
//! Busy-polling (`try_recv`) is the fast path. A subscriber that would rather sleep
//! ([`WaitStrategy::Blocking`], or async receive) registers in `waiters`, re-checks its slot,
//! and parks on the ring's eventcount (`crate::sync`'s `Event`, which never runs a waker under
//! its lock, so a waker may itself publish on or close this topic). After every message a
//! publisher runs `wake_waiters`: a compiler fence and one load of `waiters`, which lives in
//! the read-mostly line, and notifies only if it is non-zero. The store→load pair on each side is made safe by
//! asymmetric barriers (`crate::sync`: membarrier on the parking side), so there is no lost
//! wake-up and no fence on the publisher's fast path. loom checks the protocol with symmetric
//! fences and a Mutex/Condvar event.
//!
//! Publishers waiting for a gated subscriber to make room use the same protocol the other way
//! round, on `room_wanted` and the `room` event (`gate` module docs, "Waiting for room").
//!
//! # Progress
//! * `Publisher::send`: wait-free (a fixed number of stores, whatever the readers do).
//! * `Subscriber::try_recv`: wait-free (at most two slot reads and two shared loads).
//! * `SharedPublisher::send`: lock-free among producers that keep running; a producer that is
//!   descheduled in the middle of writing message `t` makes the producer holding ticket
//!   `t + capacity` (one full lap later) wait until it finishes. Nothing else waits.
//!
//! # Orderings
//! * Slot stamps and payload words: see [`slot`].
//! * `head`: `Relaxed` everywhere. Nobody infers payload visibility from `head` (stamps do
//!   that); it is only a monotone estimate of where the publishers are. A reader that needs
//!   its final value (after close) gets it through the `closed` Acquire.
//! * `closed`: `Release` store after the last publisher's final send, `Acquire` load by
//!   readers, so a reader that sees it also sees every stamp and the final `head`.
//! * handle counts: `Relaxed` increments (like `Arc`), `AcqRel` decrement of `publishers` so
//!   the last publisher's close happens after every other publisher's sends.

#[cfg(any(seqcast_shm, seqcast_loom))]
pub(crate) mod claim;
mod confirm;
pub(crate) mod gate;
pub(crate) mod publisher;
mod select;
#[cfg(seqcast_async)]
mod send_async;
pub(crate) mod slot;
pub(crate) mod subscriber;
pub(crate) mod wait;

use crate::error::CapacityError;
use crate::sync::{
    asymmetric_available, heavy_barrier, light_barrier, AtomicBool, AtomicU64, AtomicUsize, Event,
    Listening, Ordering,
};
use slot::{Slot, Slots};

pub use slot::SlotLayout;

pub use gate::{GateConfig, OnEvict, SubscriberPosition};
pub use publisher::{Publisher, SharedPublisher};
pub use select::Select;
#[cfg(seqcast_async)]
pub use send_async::{SendFuture, SendTimeoutFuture, SharedSendFuture};
pub use subscriber::{Iter, LagPolicy, Subscriber, SubscriberStats, TryIter};
#[cfg(seqcast_async)]
pub use wait::RecvFuture;
pub use wait::WaitStrategy;

/// Bit of `Ring::head` that marks the topic closed.
const CLOSED_BIT: u64 = 1 << 63;

/// Pads and aligns a value to 128 bytes (two cache lines: x86 and Apple CPUs prefetch lines
/// in adjacent pairs) so that fields written by different parties never share a line.
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct CachePadded<V>(pub(crate) V);

/// The publishers' line: the head and the cached gating bound, both touched on every send.
#[derive(Debug)]
pub(crate) struct Head {
    /// See `Ring::head`.
    next: AtomicU64,
    /// Messages below this may be written without looking at the gates (`gate`).
    gate_limit: AtomicU64,
}

/// One topic's shared state. See the module docs for who writes each field.
#[repr(C)]
pub(crate) struct Ring<T: Copy> {
    /// The slots; never resized. Read-only field (the cells inside are atomic).
    slots: Slots<T>,
    /// `capacity - 1`; read-only.
    mask: u64,
    /// Set once, by `close` (module docs, invariant 3).
    closed: AtomicBool,
    /// The number of messages ever claimed, fixed by `close` before it sets `closed`.
    final_head: AtomicU64,
    /// Subscribers (threads or tasks) registered to be woken; written only when one parks or
    /// wakes. Publishers load it after every send (module docs, "Waiting").
    waiters: AtomicUsize,
    /// Publishers (blocking sends and pending async sends) registered to be woken when a
    /// gated subscriber makes room; written only by publishers, when one parks or wakes.
    room_waiters: AtomicUsize,
    /// Set by a publisher about to wait for room, cleared by the gated subscriber that then
    /// notifies `room`. Gated subscribers load it after every message they take; it is written
    /// once per wait (`gate` module docs, "Waiting for room").
    room_wanted: AtomicBool,
    /// Whether the waiting protocol may use asymmetric barriers (`crate::sync`); read-only.
    asymmetric: bool,
    /// Single publisher: messages completed. Shared publishers: next ticket. Written per send.
    /// Bit 63 (`CLOSED_BIT`) is set by `close`, so that a ticket claim and the closed check
    /// are one atomic step: a claim that returns the bit was refused.
    head: CachePadded<Head>,
    /// Gated and position-reporting subscribers (`gate`).
    gates: gate::Registry,
    /// Live publisher handles and live subscriber handles; written on handle create/drop only.
    publishers: CachePadded<AtomicUsize>,
    subscribers: AtomicUsize,
    /// Where parked subscribers sleep.
    event: Event,
    /// Where publishers waiting for a gated subscriber sleep.
    room: Event,
    /// Where `closed()` futures wait for the last subscriber to go; notified only then.
    idle: Event,
}

impl<T: Copy> Ring<T> {
    fn try_new(capacity: usize, layout: SlotLayout) -> Result<Self, CapacityError> {
        let cap = CapacityError::check(capacity)?;
        let slots = Slots::try_new(cap, layout).ok_or(CapacityError::TooLarge {
            requested: capacity,
        })?;
        Ok(Ring {
            slots,
            mask: cap as u64 - 1,
            closed: AtomicBool::new(false),
            final_head: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            room_waiters: AtomicUsize::new(0),
            room_wanted: AtomicBool::new(false),
            asymmetric: asymmetric_available(),
            head: CachePadded(Head {
                next: AtomicU64::new(0),
                gate_limit: AtomicU64::new(cap as u64),
            }),
            gates: Default::default(),
            publishers: CachePadded(AtomicUsize::new(1)),
            subscribers: AtomicUsize::new(0),
            event: Event::default(),
            room: Event::default(),
            idle: Event::default(),
        })
    }

    #[inline]
    pub(crate) fn capacity(&self) -> u64 {
        self.mask + 1
    }

    #[inline]
    pub(crate) fn slot(&self, seq: u64) -> &Slot<T> {
        let i = (seq & self.mask) as usize;
        debug_assert!(i < self.slots.len());
        self.slots.get(i)
    }

    /// The layout the slots were placed in (`Auto` resolved).
    pub(crate) fn layout(&self) -> SlotLayout {
        if self.slots.stride() < core::mem::size_of::<Slot<T>>().next_multiple_of(64) {
            SlotLayout::Packed
        } else {
            SlotLayout::Line
        }
    }

    /// `head` (module docs), without the closed bit. Once the topic is closed this is the
    /// final head: refused claims (see `claim`) are not counted.
    #[inline]
    pub(crate) fn head(&self) -> u64 {
        let h = self.head.0.next.load(Ordering::Relaxed);
        if h & CLOSED_BIT != 0 && self.is_closed() {
            return self.final_head();
        }
        // Between the close's `fetch_or` and its `closed` store, a refused claim may still be
        // counted here for a moment (it is undone right after): at worst a resync skips that
        // many extra messages, and reports them in `Lagged`.
        h & !CLOSED_BIT
    }

    /// Single publisher: message `next - 1` is complete.
    #[inline]
    pub(crate) fn set_head(&self, next: u64) {
        debug_assert!(next < CLOSED_BIT);
        self.head.0.next.store(next, Ordering::Relaxed);
    }

    /// Shared publishers: claims the next ticket, or `None` if the topic was closed.
    #[inline]
    pub(crate) fn claim(&self) -> Option<u64> {
        let ticket = self.head.0.next.fetch_add(1, Ordering::Relaxed);
        if ticket & CLOSED_BIT != 0 {
            // Refused: undo the increment so that `head` stays the number of messages sent.
            self.head.0.next.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(ticket)
    }

    /// Shared publishers: claims the next `n` tickets in one step (the first is returned), or
    /// `None` if the topic was closed.
    #[inline]
    pub(crate) fn claim_n(&self, n: u64) -> Option<u64> {
        // Relaxed: as in `claim`.
        let ticket = self.head.0.next.fetch_add(n, Ordering::Relaxed);
        if ticket & CLOSED_BIT != 0 {
            self.head.0.next.fetch_sub(n, Ordering::Relaxed);
            return None;
        }
        Some(ticket)
    }

    /// Shared publishers: claims the next ticket only if `allowed(ticket)` (a CAS loop, for
    /// `try_send`/`send_timeout`, which must not claim a ticket they cannot use).
    pub(crate) fn claim_if<E>(
        &self,
        mut allowed: impl FnMut(u64) -> Result<(), E>,
    ) -> Result<Option<u64>, E> {
        let mut h = self.head.0.next.load(Ordering::Relaxed);
        loop {
            if h & CLOSED_BIT != 0 {
                return Ok(None);
            }
            allowed(h)?;
            // Relaxed: as in `claim`.
            match self.head.0.next.compare_exchange_weak(
                h,
                h + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Some(h)),
                Err(now) => h = now,
            }
        }
    }

    /// The final head once the topic is closed (Acquire on `closed`, invariant 3).
    #[inline]
    pub(crate) fn closed_head(&self) -> Option<u64> {
        self.is_closed().then(|| self.final_head())
    }

    /// The number of messages ever sent. Only meaningful once `is_closed()` returned true.
    #[inline]
    pub(crate) fn final_head(&self) -> u64 {
        self.final_head.load(Ordering::Relaxed)
    }

    /// Closes the topic: later claims are refused, and readers drain up to the final head and
    /// then see `Closed`. Idempotent. Called by the last publisher's drop, or by `Bus::remove`
    /// (shared publishers only: a live single `Publisher` is never closed under it).
    pub(crate) fn close(&self) {
        // Relaxed: the claim order is all that matters here; `closed` below publishes it.
        let prev = self.head.0.next.fetch_or(CLOSED_BIT, Ordering::Relaxed);
        if prev & CLOSED_BIT == 0 {
            self.final_head.store(prev, Ordering::Relaxed);
            // Release: pairs with the Acquire in `is_closed`: a reader that sees `closed`
            // sees `final_head`, and (after a last-publisher drop) every completed stamp.
            self.closed.store(true, Ordering::Release);
            // SeqCst fence + unconditional notify: a subscriber that registered before this
            // point is woken; one registering later sees `closed` on its re-check.
            crate::sync::fence(Ordering::SeqCst);
            self.event.notify_all();
            // The same for publishers waiting for room: a shared publisher that has not
            // claimed its ticket yet must see the close and give its value back.
            self.room.notify_all();
        }
    }

    /// Called by publishers after each completed message: wakes parked subscribers, if any.
    /// One compiler fence and one load when nobody is parked.
    #[inline]
    pub(crate) fn wake_waiters(&self) {
        light_barrier(self.asymmetric);
        // Acquire: pairs with the SeqCst increment in `start_waiting`, so the notify below
        // sees the listener registered before it.
        if self.waiters.load(Ordering::Acquire) != 0 {
            self.wake_all();
        }
    }

    #[cold]
    fn wake_all(&self) {
        self.event.notify_all();
    }

    /// A subscriber is about to park: listen, count itself in `waiters`, then the heavy side
    /// of the barrier pair. The caller must re-check the ring before waiting on the result,
    /// and must call `stop_waiting` afterwards.
    pub(crate) fn start_waiting(&self) -> Listening {
        let listening = self.event.listen();
        // SeqCst: one half of the Dekker pair with `wake_waiters` (see `crate::sync`).
        self.waiters.fetch_add(1, Ordering::SeqCst);
        heavy_barrier(self.asymmetric);
        listening
    }

    /// Sleeps until a publisher notifies (or `deadline` passes: returns false).
    pub(crate) fn wait(&self, listening: Listening, deadline: Option<std::time::Instant>) -> bool {
        self.event.wait(listening, deadline)
    }

    pub(crate) fn stop_waiting(&self) {
        self.waiters.fetch_sub(1, Ordering::Relaxed);
    }

    /// Subscribers registered as waiting (parked threads and pending tasks); a snapshot.
    pub(crate) fn waiting(&self) -> usize {
        self.waiters.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release in `publisher_dropped` (invariant 3).
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn subscriber_count(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    pub(crate) fn subscriber_added(&self) {
        self.subscribers.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn subscriber_dropped(&self) {
        // Relaxed: `idle`'s lock orders this decrement before any `no_subscribers` re-check
        // that listened after the notify below (and a listener registered before it is woken).
        if self.subscribers.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.idle.notify_all();
        }
    }

    /// Completes once no subscriber is left: listen, re-check, sleep (no lost wake-up: see
    /// `subscriber_dropped`).
    #[cfg(seqcast_async)]
    pub(crate) async fn no_subscribers(&self) {
        loop {
            if self.subscriber_count() == 0 {
                return;
            }
            let listening = self.idle.listen();
            if self.subscriber_count() == 0 {
                return;
            }
            listening.await;
        }
    }

    pub(crate) fn publisher_added(&self) {
        self.publishers.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn publisher_dropped(&self) {
        // AcqRel: the last decrement acquires every other publisher's sends (their earlier
        // Release decrements), so the close below is ordered after all of them.
        if self.publishers.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }
}

/// Creates a topic with room for `capacity` messages (rounded up to a power of two) and
/// returns its publisher and a first subscriber.
///
/// `T` is copied in and out of the ring; any `Copy + Send + 'static` type works, padding
/// bytes included. Payloads up to 56 bytes share one cache line with their slot's stamp;
/// the slots of small ones are packed several to a line where that pays ([`SlotLayout`],
/// and [`try_channel_with`] to choose).
///
/// # Panics
/// If `capacity` is 0, or too large to allocate. Use [`try_channel`] to get an error instead.
///
/// # Examples
/// ```
/// let (mut tx, mut rx) = seqcast::channel::<u64>(8);
/// let mut late = tx.subscribe();
/// assert_eq!(tx.send(7), 0);
/// assert_eq!(rx.try_recv(), Ok(7));
/// assert_eq!(late.try_recv(), Ok(7));
/// ```
pub fn channel<T: Copy + Send + 'static>(capacity: usize) -> (Publisher<T>, Subscriber<T>) {
    match try_channel(capacity) {
        Ok(pair) => pair,
        Err(e) => panic!("seqcast::channel: {e}"),
    }
}

/// Like [`channel`], but reports a bad capacity as an error instead of panicking.
///
/// # Examples
/// ```
/// use seqcast::error::CapacityError;
/// assert_eq!(seqcast::try_channel::<u8>(0).unwrap_err(), CapacityError::Zero);
/// let (tx, _rx) = seqcast::try_channel::<u8>(5).unwrap();
/// assert_eq!(tx.capacity(), 8);
/// ```
pub fn try_channel<T: Copy + Send + 'static>(
    capacity: usize,
) -> Result<(Publisher<T>, Subscriber<T>), CapacityError> {
    try_channel_with(capacity, SlotLayout::Auto)
}

/// Like [`try_channel`], with the slots placed in `layout` instead of the one chosen for
/// `T`'s size ([`SlotLayout`] says what each costs).
///
/// # Examples
/// ```
/// use seqcast::SlotLayout;
/// let (mut tx, mut rx) = seqcast::try_channel_with::<[u64; 2]>(8, SlotLayout::Line).unwrap();
/// tx.send([1, 2]);
/// assert_eq!(rx.try_recv(), Ok([1, 2]));
/// ```
pub fn try_channel_with<T: Copy + Send + 'static>(
    capacity: usize,
    layout: SlotLayout,
) -> Result<(Publisher<T>, Subscriber<T>), CapacityError> {
    let ring = crate::sync::Arc::new(Ring::try_new(capacity, layout)?);
    let rx = Subscriber::new(ring.clone(), 0);
    Ok((Publisher::from_ring(ring), rx))
}

/// The in-process ring as a source of the receive engine: trusted memory, so every lap
/// stamp is genuine (ring invariants 1 and 2) and a message claimed before a close may still
/// complete (invariant 3).
impl<T: Copy> crate::cursor::Source for Ring<T> {
    type Item = T;

    #[inline]
    fn read(&self, seq: u64) -> slot::Read<T> {
        self.slot(seq).read(seq)
    }

    #[inline]
    fn read_run(&self, seq: u64, max: usize, deliver: &mut impl FnMut(T)) -> usize {
        slot::read_run(|s| self.slot(s), seq, max, deliver)
    }

    #[inline]
    fn capacity(&self) -> u64 {
        Ring::capacity(self)
    }

    #[inline]
    fn head(&self) -> Option<u64> {
        Some(Ring::head(self))
    }

    #[inline]
    fn closed(&self) -> Option<u64> {
        // Closed (Acquire): `final_head` is the number of messages ever claimed (invariant 3).
        self.is_closed().then(|| self.final_head())
    }

    #[inline]
    fn genuine_lap(&self, seq: u64, stamp: u64, _head: u64) -> bool {
        debug_assert!(slot::message_of(stamp) >= seq + Ring::capacity(self));
        true
    }
}
