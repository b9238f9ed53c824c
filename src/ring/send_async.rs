//! Async sends: a publisher that finds the ring full for a gated subscriber awaits room
//! instead of blocking its thread, so that the subscriber's task can run on the same one.
//!
//! The wake-up protocol is the blocking send's (`gate` module docs, "Waiting for room"): a
//! pending send is counted in `Ring::room_waiters`, sets `Ring::room_wanted` and listens on
//! `Ring::room`, which the gated subscriber that next advances notifies. Eviction deadlines and timeouts come from the crate's
//! timer thread (`crate::timer`), so any executor works.
//!
//! Cancel safety: a future holds no ticket while it waits (a `SharedPublisher` claims one only
//! once there is room, with `Ring::claim_if`), and dropping it drops its registration, its
//! alarm and the value (a `Copy` type: nothing to release).

use super::gate::{earliest, Stall, Stalled};
use super::{Publisher, Ring, SharedPublisher};
use crate::error::{SendError, SendTimeoutError};
use crate::sync::Listening;
use crate::timer::Alarm;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Why `RoomWait::poll` gave up.
enum NoRoom {
    Timeout,
    Closed,
}

/// The state of a send waiting for room.
#[derive(Debug, Default)]
struct RoomWait {
    /// Counted in `Ring::room_waiters` (before the latest scan) while `Some`.
    listening: Option<Listening>,
    stalled: Stalled,
    /// Set while pending with a deadline (eviction or timeout) ahead.
    alarm: Option<Alarm>,
}

impl RoomWait {
    /// Waits until message `seq` may be written: re-scan, evict a stalled gate, register,
    /// re-scan, sleep (the same steps as `Ring::wait_for_gates`, with a waker).
    fn poll<T: Copy>(
        &mut self,
        ring: &Ring<T>,
        seq: u64,
        deadline: Option<Instant>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), NoRoom>> {
        loop {
            let (bound, slowest) = ring.scan_gates(seq);
            let now = Instant::now();
            let outcome = if seq < bound {
                Some(Ok(()))
            } else if ring.is_closed() {
                Some(Err(NoRoom::Closed))
            } else if deadline.is_some_and(|d| now >= d) {
                Some(Err(NoRoom::Timeout))
            } else {
                None
            };
            if let Some(outcome) = outcome {
                self.stop(ring);
                return Poll::Ready(outcome);
            }
            let evict_at = match ring.track_stall(slowest, &mut self.stalled, now) {
                Stall::Evicted => continue,
                Stall::EvictAt(at) => at,
            };
            match &mut self.listening {
                // Register, then loop to re-scan before sleeping (no lost wake-up).
                None => self.listening = Some(ring.start_room_wait()),
                Some(l) => match Pin::new(l).poll(cx) {
                    Poll::Pending => {
                        self.set_alarm(earliest(deadline, evict_at), cx);
                        return Poll::Pending;
                    }
                    Poll::Ready(()) => {
                        self.listening = None;
                        ring.stop_room_wait();
                    }
                },
            }
        }
    }

    /// Makes sure the task is woken at `at`, if any.
    fn set_alarm(&mut self, at: Option<Instant>, cx: &mut Context<'_>) {
        let Some(at) = at else {
            self.alarm = None;
            return;
        };
        if let Some(alarm) = &self.alarm {
            if alarm.at() == at && alarm.refresh(cx.waker()) {
                return;
            }
        }
        self.alarm = Alarm::set(at, cx.waker());
        if self.alarm.is_none() {
            // No timer thread: poll again soon rather than miss the deadline.
            cx.waker().wake_by_ref();
        }
    }

    /// Drops the registration and the alarm, if any.
    fn stop<T: Copy>(&mut self, ring: &Ring<T>) {
        if self.listening.take().is_some() {
            ring.stop_room_wait();
        }
        self.alarm = None;
    }
}

/// Which publisher a future sends through.
enum Target<'a, T: Copy> {
    Single(&'a mut Publisher<T>),
    Shared(&'a SharedPublisher<T>),
}

/// A timeout not yet turned into a deadline: that happens when the send first finds the ring
/// full (as in the blocking `send_timeout`), so a send with room reads no clock.
#[derive(Debug, Clone, Copy)]
enum Limit {
    None,
    After(Duration),
    Until(Option<Instant>),
}

impl Limit {
    fn deadline(&mut self) -> Option<Instant> {
        match *self {
            Limit::None => None,
            Limit::After(timeout) => {
                // A deadline too far to represent is no deadline.
                let d = Instant::now().checked_add(timeout);
                *self = Limit::Until(d);
                d
            }
            Limit::Until(d) => d,
        }
    }
}

/// What every send future shares: the target, the value (taken when written), the limit and
/// the waiting state.
struct Sending<'a, T: Copy + Send + 'static> {
    target: Target<'a, T>,
    value: Option<T>,
    limit: Limit,
    room: RoomWait,
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<'a, T: Copy + Send + 'static> Sending<'a, T> {
    fn new(target: Target<'a, T>, value: T, limit: Limit) -> Self {
        Sending {
            target,
            value: Some(value),
            limit,
            room: RoomWait::default(),
        }
    }

    fn ring(&self) -> &Ring<T> {
        match &self.target {
            Target::Single(tx) => tx.ring(),
            Target::Shared(tx) => tx.ring(),
        }
    }

    fn take_value(&mut self) -> T {
        self.value
            .take()
            .expect("send future polled after completion")
    }

    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<u64, SendTimeoutError<T>>> {
        let give_back = |value: &mut Option<T>, why: NoRoom| {
            let v = value.take().expect("send future polled after completion");
            Poll::Ready(Err(match why {
                NoRoom::Timeout => SendTimeoutError::Timeout(v),
                NoRoom::Closed => SendTimeoutError::Closed(v),
            }))
        };
        match &mut self.target {
            Target::Single(tx) => {
                let seq = tx.next_seq();
                let ring = tx.ring();
                // The fast path: exactly `Publisher::send`'s check.
                if !ring.gate_allows(seq) {
                    let deadline = self.limit.deadline();
                    match self.room.poll(ring, seq, deadline, cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(why)) => return give_back(&mut self.value, why),
                    }
                }
                let value = self
                    .value
                    .take()
                    .expect("send future polled after completion");
                Poll::Ready(Ok(tx.write(seq, value)))
            }
            Target::Shared(tx) => {
                let tx: &SharedPublisher<T> = tx;
                let ring = tx.ring();
                loop {
                    // Claim a ticket only if it may be written now, so that a pending (and
                    // maybe dropped) future holds none.
                    let no_room = match ring.claim_if(|t| {
                        if ring.gate_allows(t) {
                            Ok(())
                        } else {
                            Err(t)
                        }
                    }) {
                        Ok(Some(seq)) => {
                            self.room.stop(ring);
                            let value = self.take_value();
                            return Poll::Ready(Ok(tx.write(seq, value)));
                        }
                        Ok(None) => {
                            self.room.stop(ring);
                            return give_back(&mut self.value, NoRoom::Closed);
                        }
                        Err(t) => t,
                    };
                    let deadline = self.limit.deadline();
                    match self.room.poll(ring, no_room, deadline, cx) {
                        Poll::Pending => return Poll::Pending,
                        // Room for that ticket: claim again (another producer may take it).
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(why)) => return give_back(&mut self.value, why),
                    }
                }
            }
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> Drop for Sending<'_, T> {
    fn drop(&mut self) {
        // Cancelled while waiting: leave nothing registered. (The value, `Copy`, just goes.)
        if self.room.listening.is_some() || self.room.alarm.is_some() {
            let mut room = core::mem::take(&mut self.room);
            room.stop(self.ring());
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> fmt::Debug for Sending<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sending")
            .field("shared", &matches!(self.target, Target::Shared(_)))
            .field("done", &self.value.is_none())
            .field("limit", &self.limit)
            .field("waiting", &self.room.listening.is_some())
            .finish()
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> Publisher<T> {
    /// Publishes `value`, waiting asynchronously while a gated subscriber is a full ring
    /// behind; returns its sequence number. Works under any executor (tokio, including its
    /// current-thread runtime, smol, `futures::executor`): unlike [`send`](Self::send), it
    /// lets a gated subscriber's task run on the same thread while it waits.
    ///
    /// With room (always, on a topic without gated subscribers) it completes on its first poll,
    /// doing exactly what `send` does. Otherwise it waits until the slowest gated subscriber
    /// advances, or until that subscriber has stalled for its
    /// [`evict_after`](crate::GateConfig::evict_after) (it is then evicted, and the send goes
    /// on). Lossy subscribers are unaffected while it waits: they keep reading what the ring
    /// holds.
    ///
    /// Cancel safety: dropping the future before it completes sends nothing, leaves nothing
    /// registered, and drops the value.
    ///
    /// # Examples
    /// ```
    /// use seqcast::GateConfig;
    /// use std::time::Duration;
    ///
    /// # futures::executor::block_on(async {
    /// let (mut tx, _lossy) = seqcast::channel::<u32>(2);
    /// let mut gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    /// let reader = std::thread::spawn(move || {
    ///     (0..5).map(|_| gated.recv().unwrap()).collect::<Vec<_>>()
    /// });
    /// for i in 0..5 {
    ///     tx.send_async(i).await; // waits for `gated` whenever it is 2 behind
    /// }
    /// assert_eq!(reader.join().unwrap(), [0, 1, 2, 3, 4]);
    /// # });
    /// ```
    pub fn send_async(&mut self, value: T) -> SendFuture<'_, T> {
        SendFuture(Sending::new(Target::Single(self), value, Limit::None))
    }

    /// Like [`send_async`](Self::send_async), but waits for gated subscribers at most
    /// `timeout` (counted from when the send first finds the ring full), then hands the value
    /// back in `SendTimeoutError::Timeout`.
    ///
    /// # Examples
    /// ```
    /// use seqcast::error::SendTimeoutError;
    /// use seqcast::GateConfig;
    /// use std::time::Duration;
    ///
    /// # futures::executor::block_on(async {
    /// let (mut tx, _lossy) = seqcast::channel::<u32>(1);
    /// let _stuck = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    /// let ms = Duration::from_millis(1);
    /// assert_eq!(tx.send_timeout_async(1, ms).await, Ok(0));
    /// assert_eq!(tx.send_timeout_async(2, ms).await, Err(SendTimeoutError::Timeout(2)));
    /// # });
    /// ```
    pub fn send_timeout_async(&mut self, value: T, timeout: Duration) -> SendTimeoutFuture<'_, T> {
        SendTimeoutFuture(Sending::new(
            Target::Single(self),
            value,
            Limit::After(timeout),
        ))
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> SharedPublisher<T> {
    /// Publishes `value`, waiting asynchronously while a gated subscriber is a full ring
    /// behind (see [`Publisher::send_async`]); hands the value back in `SendError` if the
    /// topic was closed (removed from its `Bus`), also while it waits.
    ///
    /// It claims its ticket only once there is room (a compare-and-swap, as
    /// [`try_send`](Self::try_send) does, where `send` uses one `fetch_add`), so a pending or
    /// dropped future holds up no other producer. Lossy subscribers are unaffected while it
    /// waits.
    ///
    /// # Examples
    /// ```
    /// # futures::executor::block_on(async {
    /// let bus = seqcast::Bus::new();
    /// let tx = bus.publisher::<u32>("ticks").unwrap();
    /// let mut rx = tx.subscribe();
    /// assert_eq!(tx.send_async(7).await, Ok(0));
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// bus.remove("ticks").unwrap();
    /// assert_eq!(tx.send_async(8).await.unwrap_err().into_inner(), 8);
    /// # });
    /// ```
    pub fn send_async(&self, value: T) -> SharedSendFuture<'_, T> {
        SharedSendFuture(Sending::new(Target::Shared(self), value, Limit::None))
    }

    /// Like [`send_async`](Self::send_async), but waits for gated subscribers at most
    /// `timeout` (counted from when the send first finds the ring full). The value comes back
    /// in `SendTimeoutError::Timeout` or, if the topic was closed, `SendTimeoutError::Closed`.
    ///
    /// # Examples
    /// ```
    /// use seqcast::error::SendTimeoutError;
    /// use seqcast::GateConfig;
    /// use std::time::Duration;
    ///
    /// # futures::executor::block_on(async {
    /// let (tx, _lossy) = seqcast::channel::<u32>(1);
    /// let tx = tx.into_shared();
    /// let mut gated = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
    /// let ms = Duration::from_millis(1);
    /// assert_eq!(tx.send_timeout_async(1, ms).await, Ok(0));
    /// assert_eq!(tx.send_timeout_async(2, ms).await, Err(SendTimeoutError::Timeout(2)));
    /// assert_eq!(gated.try_recv(), Ok(1));
    /// assert_eq!(tx.send_timeout_async(3, ms).await, Ok(1));
    /// # });
    /// ```
    pub fn send_timeout_async(&self, value: T, timeout: Duration) -> SendTimeoutFuture<'_, T> {
        SendTimeoutFuture(Sending::new(
            Target::Shared(self),
            value,
            Limit::After(timeout),
        ))
    }
}

/// The future returned by [`Publisher::send_async`]: the message's sequence number.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T: Copy + Send + 'static>(Sending<'a, T>);

/// The future returned by [`SharedPublisher::send_async`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct SharedSendFuture<'a, T: Copy + Send + 'static>(Sending<'a, T>);

/// The future returned by [`Publisher::send_timeout_async`] and
/// [`SharedPublisher::send_timeout_async`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct SendTimeoutFuture<'a, T: Copy + Send + 'static>(Sending<'a, T>);

// The futures never pin their value (it is moved out to be written), so they need not be
// pinned themselves, whatever `T` is.
impl<T: Copy + Send + 'static> Unpin for SendFuture<'_, T> {}
impl<T: Copy + Send + 'static> Unpin for SharedSendFuture<'_, T> {}
impl<T: Copy + Send + 'static> Unpin for SendTimeoutFuture<'_, T> {}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> Future for SendFuture<'_, T> {
    type Output = u64;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        self.0.poll_send(cx).map(|r| match r {
            Ok(seq) => seq,
            // No deadline, and a live `Publisher`'s topic is never closed under it.
            Err(_) => unreachable!("a Publisher's send_async cannot fail"),
        })
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> Future for SharedSendFuture<'_, T> {
    type Output = Result<u64, SendError<T>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0
            .poll_send(cx)
            .map(|r| r.map_err(|e| SendError(e.into_inner())))
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl<T: Copy + Send + 'static> Future for SendTimeoutFuture<'_, T> {
    type Output = Result<u64, SendTimeoutError<T>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_send(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GateConfig;
    use std::task::Waker;

    #[test]
    fn a_dropped_pending_send_cancels_its_registration_and_alarm() {
        let _serial = crate::timer::SERIAL.lock();
        let (mut tx, _lossy) = crate::channel::<u64>(1);
        let _rx = tx.subscribe_gated_with(GateConfig::new().evict_after(Some(Duration::MAX)));
        tx.send(0);
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut fut = tx.send_timeout_async(1, Duration::from_secs(60));
            assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
            assert!(fut.0.room.listening.is_some());
            assert_eq!(crate::timer::alarms_set(), 1);
        }
        assert_eq!(crate::timer::alarms_set(), 0);
        assert_eq!(tx.waiting_publishers(), 0);
        assert_eq!(tx.published(), 1);
        // No deadline at all (never evicted, no timeout): pending without an alarm.
        let (mut tx, _lossy) = crate::channel::<u64>(1);
        let _rx = tx.subscribe_gated_with(GateConfig::new().evict_after(None));
        tx.send(0);
        let mut fut = tx.send_async(1);
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        assert_eq!(crate::timer::alarms_set(), 0);
        drop(fut);
        assert_eq!(tx.waiting_publishers(), 0);
        assert_eq!(tx.published(), 1);
    }
}
