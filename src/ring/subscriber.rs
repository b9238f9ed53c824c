//! The receiving half: [`Subscriber`], its lag policy, counters and iterators.

use super::gate::{Gate, GateConfig, OnEvict};
use super::wait::WaitStrategy;
use super::Ring;
use crate::cursor::{Cursor, Lap};
use crate::error::{RecvError, RecvTimeoutError, TryRecvError};
use crate::sync::Arc;
use core::fmt;
use std::time::{Duration, Instant};

/// What a subscriber does when the publisher laps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LagPolicy {
    /// Report `Lagged(n)` with the exact number of messages missed, then continue from the
    /// oldest message still in the ring. The default, as in `tokio::sync::broadcast`.
    ///
    /// The oldest message is the one the publisher overwrites next: a reader that cannot keep
    /// up with a publisher sending flat out is lapped again almost at once, and can lose far
    /// more than its shortfall (see [`SkipToNewest`](Self::SkipToNewest)).
    #[default]
    Skip,
    /// Report `Lagged(n)` once, then detach: every later receive returns `Detached`, an error
    /// distinct from the topic being closed. For consumers that cannot tolerate gaps and would
    /// rather be rebuilt from a snapshot than carry on.
    Disconnect,
    /// Report `Lagged(n)` with the exact number of messages missed, then continue from the
    /// newest message published: the backlog still in the ring is skipped too (and counted
    /// in `n`). For readers that want fresh data rather than old data (market data, game
    /// state, telemetry).
    ///
    /// It also lets a reader that is only a little slower than the publisher recover. Under
    /// `Skip` it resumes at the slot the publisher overwrites next, so it races the writer
    /// for those lines and is lapped again at once, losing far more than its shortfall; here
    /// it loses about its shortfall (the figures are on the performance page,
    /// `docs/performance.md`).
    ///
    /// ```
    /// use seqcast::error::TryRecvError;
    /// use seqcast::LagPolicy;
    ///
    /// let (mut tx, mut rx) = seqcast::channel::<u64>(4);
    /// rx.set_lag_policy(LagPolicy::SkipToNewest);
    /// for i in 0..10 {
    ///     tx.send(i);
    /// }
    /// // Messages 0..=8 are skipped (0..=5 were overwritten, 6..=8 are stale), then 9 arrives.
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(9)));
    /// assert_eq!(rx.try_recv(), Ok(9));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// ```
    SkipToNewest,
}

/// A subscriber's own counters. Kept in the subscriber, never shared.
///
/// Invariant: `received + missed` equals the number of messages the subscriber has moved past
/// since it was created (its clone source's counters included, for a clone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscriberStats {
    /// Messages delivered by `try_recv`/`recv`.
    pub received: u64,
    /// Messages skipped because the publisher lapped this subscriber (sum of every `Lagged(n)`).
    pub missed: u64,
    /// Number of `Lagged` reports.
    pub lag_events: u64,
    /// Times this subscriber went to sleep (parked its thread, or its task returned
    /// `Pending`) waiting for a message; each is followed by one wake-up.
    pub parks: u64,
}

/// The receiving half of a topic: an independent cursor into the ring.
///
/// Receiving writes no shared memory, so subscribers cost the publisher nothing and never
/// slow each other down. A subscriber that falls more than `capacity` messages behind is
/// lapped: it learns exactly how many messages it missed (`Lagged(n)`) and then follows its
/// [`LagPolicy`]. A torn value is never returned.
///
/// `Clone` gives an independent subscriber at the same position (with the same counters and
/// policy).
///
/// # Examples
/// ```
/// use seqcast::error::TryRecvError;
/// let (mut tx, mut rx) = seqcast::channel::<u32>(4);
/// for i in 0..6 { tx.send(i); }            // 6 messages into 4 slots: 2 are gone
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
/// assert_eq!(rx.try_recv(), Ok(2));
/// assert_eq!(rx.lag(), 3);
/// drop(tx);                                  // close: drain, then Closed
/// assert_eq!(rx.try_iter().count(), 3);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
pub struct Subscriber<T: Copy> {
    ring: Arc<Ring<T>>,
    /// Position, counters and lap rule (the receive engine, `crate::cursor`). Private to
    /// this handle.
    cur: Cursor,
    /// The lag policy as set by the user; `cur.lap` is what it means for this subscriber
    /// (see `lap_rule`).
    policy: LagPolicy,
    wait: WaitStrategy,
    /// Gated or position-reporting subscribers: the published position (`gate` module).
    gate: Option<Arc<Gate>>,
    /// Publish the position every this many messages (1 for gated subscribers).
    report_every: u64,
    /// Set once a publisher evicted this (gated) subscriber.
    evicted: bool,
    /// Async receive: the registration held while a task waits (counted in `Ring::waiters`).
    #[cfg(seqcast_async)]
    listener: Option<crate::sync::Listening>,
    /// Async receive: messages handed over since the task last yielded (the cooperative
    /// budget in `ring::wait`).
    #[cfg(seqcast_async)]
    streak: u32,
}

impl<T: Copy + Send + 'static> Subscriber<T> {
    pub(crate) fn new(ring: Arc<Ring<T>>, cursor: u64) -> Self {
        ring.subscriber_added();
        Subscriber {
            ring,
            cur: Cursor::new(cursor, Lap::Skip),
            policy: LagPolicy::Skip,
            wait: WaitStrategy::default(),
            gate: None,
            report_every: 1,
            evicted: false,
            #[cfg(seqcast_async)]
            listener: None,
            #[cfg(seqcast_async)]
            streak: 0,
        }
    }

    /// A gated subscriber starting at the head (registered under the gate lock).
    pub(crate) fn new_gated(ring: Arc<Ring<T>>, config: GateConfig) -> Self {
        let (gate, cursor) = ring.add_gate(None, true, config);
        let mut rx = Subscriber::new(ring, cursor);
        rx.gate = Some(gate);
        rx.cur.lap = rx.lap_rule();
        rx
    }

    /// What a lap means for this subscriber: its policy, unless it is gated. A gated
    /// subscriber is lapped only after its publisher evicted it; then it reports everything
    /// up to the head and detaches (`OnEvict::Detach`), or carries on lossy, where a
    /// `Disconnect` policy becomes `Skip` (`OnEvict::Lossy`).
    fn lap_rule(&self) -> Lap {
        match self.gate.as_deref() {
            Some(g) if g.is_gating() => match g.on_evict {
                OnEvict::Detach => Lap::DetachAtHead,
                OnEvict::Lossy if self.policy == LagPolicy::Disconnect => Lap::Skip,
                OnEvict::Lossy => self.policy.into(),
            },
            _ => self.policy.into(),
        }
    }

    /// Takes the next message if there is one; never blocks.
    ///
    /// * `Ok(v)`: the next message, whole.
    /// * `Err(Empty)`: nothing new yet.
    /// * `Err(Lagged(n))`: the publisher overwrote `n` messages this subscriber had not read;
    ///   under [`LagPolicy::Skip`] the next call continues from the oldest message still held.
    /// * `Err(Closed)`: every publisher is gone and everything still readable has been read.
    /// * `Err(Detached)`: detached by [`LagPolicy::Disconnect`] after a lag report.
    ///
    /// Wait-free; writes nothing shared.
    #[inline]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // Gated and reporting subscribers publish their position around the engine.
        let Some(gate) = self.gate.as_deref() else {
            return self.cur.try_recv(&*self.ring);
        };
        let gating = gate.is_gating();
        if gating && gate.is_evicted() {
            if let Some(e) = self.on_evicted() {
                return Err(e);
            }
            return self.cur.try_recv(&*self.ring);
        }
        let got = self.cur.try_recv(&*self.ring);
        match &got {
            // Gated subscribers publish every message: skip the division for them.
            Ok(_) if self.report_every == 1 || self.cur.pos % self.report_every == 0 => {
                gate.advance(self.cur.pos);
                // A publisher may be waiting for this subscriber (never for a reporting one).
                if gating {
                    self.ring.room_made();
                }
            }
            Ok(_) | Err(TryRecvError::Empty | TryRecvError::Closed) => {}
            // Publishers overwrite a gated subscriber's message only after evicting it, so
            // a lap means it has been evicted, even if the flag's store is not visible to us
            // yet. The lap rule already did what the eviction asks (`lap_rule`).
            Err(_) if gating => self.note_eviction(),
            Err(_) => gate.advance(self.cur.pos),
        }
        got
    }

    /// A publisher evicted this gated subscriber, and it has not been lapped since: become
    /// detached or lossy, as configured. Returns what this receive reports instead of
    /// reading on: under `OnEvict::Detach`, the messages it will never read as one
    /// `Lagged(n)` (then `Detached` from the next call on), so that `received + missed`
    /// still counts every message published before it left.
    #[cold]
    fn on_evicted(&mut self) -> Option<TryRecvError> {
        let on_evict = self.gate.as_ref()?.on_evict;
        // Takes the registry lock the evicting publisher held: the head loaded below is at
        // least the head at the eviction, a full ring past the cursor then.
        self.note_eviction();
        match on_evict {
            OnEvict::Detach => Some(self.cur.detach_at(self.ring.head())),
            OnEvict::Lossy => None,
        }
    }

    /// Bookkeeping of an eviction: the gate is gone; the subscriber carries on lossy (or is
    /// detached, by its lap rule).
    #[cold]
    fn note_eviction(&mut self) {
        let Some(gate) = self.gate.take() else { return };
        // Usually already unregistered by the evicting publisher; a clone registered while
        // its source was being evicted is not, and must not hold the publishers back.
        self.ring.remove_gate(&gate);
        self.evicted = true;
        if gate.on_evict == OnEvict::Lossy {
            // Lossy means "carry on": a `Disconnect` policy becomes `Skip`, the others stay.
            if self.policy == LagPolicy::Disconnect {
                self.policy = LagPolicy::Skip;
            }
            self.cur.lap = self.policy.into();
        }
    }

    /// Whether a `try_recv` now would answer anything but `Empty` (a message, a lag report,
    /// `Closed`, `Detached`), without taking it: `Select` holds subscribers by shared
    /// reference and leaves the taking to the caller. Runs the engine on a copy of the
    /// cursor, so it reads what `try_recv` would read and writes nothing.
    pub(crate) fn has_answer(&self) -> bool {
        if self.cur.detached {
            return true;
        }
        // Evicted, not noticed yet: under `OnEvict::Detach` the next receive reports the
        // messages it leaves behind (`on_evicted`); under `Lossy` it reads on as below.
        if let Some(g) = self.gate.as_deref() {
            if g.is_gating() && g.is_evicted() && g.on_evict == OnEvict::Detach {
                return true;
            }
        }
        !matches!(
            self.cur.clone().try_recv(&*self.ring),
            Err(TryRecvError::Empty)
        )
    }

    /// Whether a publisher evicted this gated subscriber for stalling it.
    pub fn is_evicted(&self) -> bool {
        self.evicted
    }

    /// Whether the publisher waits for this subscriber (it was created by `subscribe_gated`
    /// and has not been evicted).
    pub fn is_gated(&self) -> bool {
        self.gate
            .as_ref()
            .is_some_and(|g| g.is_gating() && !g.is_evicted())
    }

    /// Opt-in for a lossy subscriber: publish its position every `every` messages (a store to
    /// its own cache line), so that `Publisher::positions` can show how far behind it is.
    /// Takes a lock once. No effect on a gated subscriber (its position is always published).
    pub fn report_position(&mut self, name: Option<&str>, every: u64) {
        if self.gate.is_some() {
            return;
        }
        let mut config = GateConfig::new();
        config.name = name.map(Into::into);
        let (gate, _) = self.ring.add_gate(Some(self.cur.pos), false, config);
        self.gate = Some(gate);
        self.report_every = every.max(1);
    }

    /// Takes every message that is ready now, up to `limit`, handing each to `f` in order;
    /// never blocks. Returns `Ok(n)`, the number handed over (`n >= 1`; `Ok(0)` only for a
    /// `limit` of 0), or, when not even one message could be taken, the error
    /// [`try_recv`](Self::try_recv) would give (`Empty`, `Lagged(n)`, `Closed`,
    /// `Detached`). A lap or close met after the first message ends the batch and is reported
    /// by the next call, so nothing is hidden.
    ///
    /// Cheaper per message than `try_recv` in a loop: the messages after the first are
    /// validated a run at a time (two fences per run of up to 32 instead of two per message),
    /// and a gated or reporting subscriber publishes its position once per batch. Allocates
    /// nothing.
    ///
    /// ```
    /// use seqcast::error::TryRecvError;
    /// let (mut tx, mut rx) = seqcast::channel::<u64>(8);
    /// tx.send_batch(&[1, 2, 3]);
    /// let mut sum = 0;
    /// assert_eq!(rx.try_recv_batch(16, |v| sum += v), Ok(3));
    /// assert_eq!(sum, 6);
    /// assert_eq!(rx.try_recv_batch(16, |_| {}), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv_batch(
        &mut self,
        limit: usize,
        mut f: impl FnMut(T),
    ) -> Result<usize, TryRecvError> {
        if limit == 0 {
            return Ok(0);
        }
        f(self.try_recv()?);
        Ok(1 + self.take_ready(limit - 1, &mut f))
    }

    /// [`try_recv_batch`](Self::try_recv_batch) into `buf`: appends up to `limit` messages
    /// that are ready and returns how many. `buf` grows at most once per `limit` it has not
    /// had room for, so a reused buffer makes the call allocation-free.
    ///
    /// ```
    /// let (mut tx, mut rx) = seqcast::channel::<u32>(8);
    /// tx.send_batch(&[7, 8, 9]);
    /// let mut buf = Vec::with_capacity(8);
    /// assert_eq!(rx.try_recv_many(&mut buf, 2), Ok(2));
    /// assert_eq!(rx.try_recv_many(&mut buf, 2), Ok(1));
    /// assert_eq!(buf, [7, 8, 9]);
    /// ```
    pub fn try_recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> Result<usize, TryRecvError> {
        buf.reserve(limit.min(self.ring.capacity() as usize));
        self.try_recv_batch(limit, |v| buf.push(v))
    }

    /// Like [`try_recv_many`](Self::try_recv_many), but waits for the first message as
    /// [`recv`](Self::recv) does; then takes whatever else is ready, up to `limit`.
    ///
    /// ```
    /// let (mut tx, mut rx) = seqcast::channel::<u32>(8);
    /// let t = std::thread::spawn(move || { tx.send_batch(&[1, 2]); });
    /// let mut buf = Vec::new();
    /// let mut got = 0;
    /// while got < 2 {
    ///     got += rx.recv_many(&mut buf, 8).unwrap();
    /// }
    /// assert_eq!(buf, [1, 2]);
    /// t.join().unwrap();
    /// ```
    pub fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> Result<usize, RecvError> {
        if limit == 0 {
            return Ok(0);
        }
        buf.reserve(limit.min(self.ring.capacity() as usize));
        buf.push(self.recv()?);
        Ok(1 + self.take_ready(limit - 1, &mut |v| buf.push(v)))
    }

    /// After a message was taken: up to `max` more that are ready, through the engine's run
    /// read; a gated or reporting subscriber then publishes its position once.
    pub(super) fn take_ready(&mut self, max: usize, f: &mut impl FnMut(T)) -> usize {
        let before = self.cur.pos;
        let n = self.cur.take_ready(&*self.ring, max, f);
        if n == 0 {
            return 0;
        }
        if let Some(gate) = self.gate.as_deref() {
            let gating = gate.is_gating();
            // A reporting subscriber publishes when the batch crossed a multiple of its period.
            if gating || before / self.report_every != self.cur.pos / self.report_every {
                gate.advance(self.cur.pos);
                if gating {
                    self.ring.room_made();
                }
            }
        }
        n
    }

    /// Waits for the next message, as the [`WaitStrategy`] says (by default: spin briefly,
    /// then park the thread until a publisher wakes it).
    ///
    /// Returns `Lagged(n)` when lapped, `Closed` once the topic is closed and drained, and
    /// `Detached` after a `Disconnect`-policy lag report.
    pub fn recv(&mut self) -> Result<T, RecvError> {
        RecvError::after_wait(self.wait_recv(None))
    }

    /// Like [`recv`](Self::recv), but gives up with `Timeout` after `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        // A deadline too far to represent is no deadline.
        let deadline = Instant::now().checked_add(timeout);
        RecvTimeoutError::after_wait(self.wait_recv(deadline))
    }

    /// Sets how `recv` and `recv_timeout` wait. Default: [`WaitStrategy::Blocking`].
    pub fn set_wait_strategy(&mut self, wait: WaitStrategy) {
        self.wait = wait;
    }

    /// The current wait strategy.
    pub fn wait_strategy(&self) -> WaitStrategy {
        self.wait
    }

    pub(super) fn ring(&self) -> &Ring<T> {
        &self.ring
    }

    pub(super) fn count_park(&mut self) {
        self.cur.stats.parks += 1;
    }

    #[cfg(seqcast_async)]
    pub(super) fn listener_mut(&mut self) -> &mut Option<crate::sync::Listening> {
        &mut self.listener
    }

    #[cfg(seqcast_async)]
    pub(super) fn streak_mut(&mut self) -> &mut u32 {
        &mut self.streak
    }

    /// A blocking iterator: yields `Ok(message)` and `Err(RecvError::Lagged(n))` (lag is never
    /// hidden), and ends when the topic is closed and drained, or after the lag report that
    /// detaches a `Disconnect`-policy subscriber.
    pub fn iter(&mut self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// A non-blocking iterator over what is available now: yields `Ok(message)` and
    /// `Err(TryRecvError::Lagged(n))`, and ends at `Empty`, `Closed` or `Detached`.
    pub fn try_iter(&mut self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// How many messages this subscriber is behind the publisher (0 when caught up). Loads the
    /// shared head: cheap, but not free, so keep it off the hottest loop.
    pub fn lag(&self) -> u64 {
        self.ring.head().saturating_sub(self.cur.pos)
    }

    /// Sequence number of the next message this subscriber will read.
    pub fn position(&self) -> u64 {
        self.cur.pos
    }

    /// How many messages were published that this subscriber has not received yet, as
    /// `tokio::sync::broadcast::Receiver::len` counts them: the same as [`lag`](Self::lag).
    /// Above the capacity it has been lapped, and its next receive is `Lagged(n)`.
    ///
    /// ```
    /// let (mut tx, rx) = seqcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// tx.send_batch(&[1, 2, 3]);
    /// assert_eq!(rx.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        usize::try_from(self.lag()).unwrap_or(usize::MAX)
    }

    /// Whether this subscriber has received everything published so far.
    pub fn is_empty(&self) -> bool {
        self.lag() == 0
    }

    /// A new subscriber of the same topic that starts with the next message published, as
    /// `tokio::sync::broadcast::Receiver::resubscribe` does: lossy, with this one's lag
    /// policy and wait strategy, none of its backlog or counters. Works after the publisher
    /// is gone too (the new subscriber then drains nothing and sees `Closed`).
    ///
    /// ```
    /// let (mut tx, mut rx) = seqcast::channel::<u32>(4);
    /// tx.send(1);
    /// let mut fresh = rx.resubscribe();
    /// tx.send(2);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(fresh.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Subscriber<T> {
        let start = self.ring.closed_head().unwrap_or_else(|| self.ring.head());
        let mut rx = Subscriber::new(self.ring.clone(), start);
        rx.set_lag_policy(self.policy);
        rx.wait = self.wait;
        rx
    }

    /// Sets what happens when the publisher laps this subscriber. Default: [`LagPolicy::Skip`].
    pub fn set_lag_policy(&mut self, policy: LagPolicy) {
        self.policy = policy;
        self.cur.lap = self.lap_rule();
    }

    /// The current lag policy.
    pub fn lag_policy(&self) -> LagPolicy {
        self.policy
    }

    /// Whether a `Disconnect`-policy lag report has detached this subscriber.
    pub fn is_detached(&self) -> bool {
        self.cur.detached
    }

    /// Whether every publisher has gone (messages may still be left to read).
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// This subscriber's counters: received, missed and lag events.
    pub fn stats(&self) -> SubscriberStats {
        self.cur.stats
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.ring.capacity() as usize
    }
}

impl<T: Copy> Clone for Subscriber<T> {
    /// An independent subscriber at the same position. The clone of a gated subscriber is
    /// gated too (registered at the same position, so the publisher's bound stays valid).
    fn clone(&self) -> Self {
        self.ring.subscriber_added();
        let gate = self.gate.as_ref().map(|g| {
            if g.is_gating() && g.is_evicted() {
                // Evicted, not noticed yet: the clone shares the (unregistered) gate, so it
                // notices the eviction too instead of holding the publishers back again.
                g.clone()
            } else {
                self.ring
                    .add_gate(Some(self.cur.pos), g.is_gating(), g.config())
                    .0
            }
        });
        Subscriber {
            ring: self.ring.clone(),
            cur: self.cur.clone(),
            policy: self.policy,
            wait: self.wait,
            gate,
            report_every: self.report_every,
            evicted: self.evicted,
            #[cfg(seqcast_async)]
            listener: None,
            #[cfg(seqcast_async)]
            streak: 0,
        }
    }
}

impl<T: Copy> Subscriber<T> {
    /// Async receive: drops the registration, if any (no-op otherwise).
    #[inline]
    pub(super) fn stop_listening(&mut self) {
        #[cfg(seqcast_async)]
        if self.listener.take().is_some() {
            self.ring.stop_waiting();
        }
    }
}

impl<T: Copy> Drop for Subscriber<T> {
    fn drop(&mut self) {
        self.stop_listening();
        if let Some(gate) = self.gate.take() {
            self.ring.remove_gate(&gate);
        }
        self.ring.subscriber_dropped();
    }
}

impl<T: Copy> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("cursor", &self.cur)
            .field("policy", &self.policy)
            .field("gated", &self.gate.as_ref().is_some_and(|g| g.is_gating()))
            .field("evicted", &self.evicted)
            .finish()
    }
}

/// Blocking iterator returned by [`Subscriber::iter`].
#[derive(Debug)]
pub struct Iter<'a, T: Copy> {
    rx: &'a mut Subscriber<T>,
}

impl<T: Copy + Send + 'static> Iterator for Iter<'_, T> {
    type Item = Result<T, RecvError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rx.recv() {
            Err(RecvError::Closed | RecvError::Detached) => None,
            other => Some(other),
        }
    }
}

/// `for msg in &mut subscriber`: the blocking iterator of [`Subscriber::iter`].
impl<'a, T: Copy + Send + 'static> IntoIterator for &'a mut Subscriber<T> {
    type Item = Result<T, RecvError>;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// Non-blocking iterator returned by [`Subscriber::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T: Copy> {
    rx: &'a mut Subscriber<T>,
}

impl<T: Copy + Send + 'static> Iterator for TryIter<'_, T> {
    type Item = Result<T, TryRecvError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rx.try_recv() {
            Err(TryRecvError::Empty | TryRecvError::Closed | TryRecvError::Detached) => None,
            other => Some(other),
        }
    }
}
