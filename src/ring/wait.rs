//! How a subscriber waits for the next message: wait strategies (named after the LMAX
//! Disruptor's) and async receive. The wake-up protocol itself is in `Ring::wake_waiters` /
//! `Ring::start_waiting` (see the ring's module docs, "Waiting").

use super::Subscriber;
use crate::error::TryRecvError;
use crate::sync::{spin_loop, yield_now};
use std::time::Instant;

/// How [`Subscriber::recv`] and [`Subscriber::recv_timeout`] wait while the topic is empty.
/// `try_recv` never waits, whatever the strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WaitStrategy {
    /// Spin on the slot without ever giving up the CPU: the lowest latency, and a whole core
    /// burnt per subscriber. For pinned, isolated cores.
    BusySpin,
    /// Spin briefly, then `yield_now` between polls: low latency, and the core stays busy
    /// unless other threads want it.
    Yielding,
    /// Spin briefly, yield a few times, then park the thread until a publisher wakes it
    /// (no CPU used while idle). A publisher pays one extra load per message while nobody is
    /// parked, and a notify while somebody is. The default.
    #[default]
    Blocking,
}

/// Polls before a `Blocking` subscriber parks, and before a `Yielding` one starts yielding.
/// (Under loom: park at once, so the models exercise the parking protocol.)
const SPINS: u32 = if cfg!(seqcast_loom) { 0 } else { 128 };
/// `yield_now` calls before a `Blocking` subscriber parks.
const YIELDS: u32 = if cfg!(seqcast_loom) { 0 } else { 16 };

impl<T: Copy + Send + 'static> Subscriber<T> {
    /// Waits for the next message following the wait strategy; `None` = deadline passed.
    // Under loom SPINS and YIELDS are 0, which makes some comparisons below constant.
    #[allow(clippy::absurd_extreme_comparisons)]
    pub(super) fn wait_recv(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<Result<T, TryRecvError>> {
        let mut round = 0u32;
        loop {
            match self.try_recv() {
                Err(TryRecvError::Empty) => {}
                other => return Some(other),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            round = round.saturating_add(1);
            match self.wait_strategy() {
                WaitStrategy::BusySpin => spin_loop(),
                WaitStrategy::Yielding if round < SPINS => spin_loop(),
                WaitStrategy::Yielding => yield_now(),
                WaitStrategy::Blocking if round < SPINS => spin_loop(),
                WaitStrategy::Blocking if round < SPINS + YIELDS => yield_now(),
                WaitStrategy::Blocking => {
                    let listening = self.ring().start_waiting();
                    // Re-check after registering: a message sent before the registration was
                    // visible to the publisher is visible to us now (no lost wake-up).
                    let again = self.try_recv();
                    if !matches!(again, Err(TryRecvError::Empty)) {
                        self.ring().stop_waiting();
                        return Some(again);
                    }
                    self.count_park();
                    self.ring().wait(listening, deadline);
                    self.ring().stop_waiting();
                }
            }
        }
    }
}

/// Waiting on several rings at once, for the bus's pattern subscriber
/// (`bus::pattern_sub::wait` has the protocol): the two halves of `Ring::start_waiting` /
/// `Ring::stop_waiting` without the heavy barrier, which such a receiver runs once after
/// registering on every ring.
impl<T: Copy + Send + 'static> Subscriber<T> {
    /// Listens on this ring's event with `waker` stored in the entry, then counts itself in
    /// `waiters`. The caller runs the heavy barrier and re-checks before sleeping, and calls
    /// `unregister_waiter` (after dropping or consuming the result) to stop counting.
    #[cfg(not(seqcast_loom))]
    pub(crate) fn register_waiter(&self, waker: &std::task::Waker) -> crate::sync::Listening {
        let ring = self.ring();
        let listening = ring.event.listen_waking(waker);
        // SeqCst: one half of the Dekker pair with `wake_waiters`, as in `start_waiting`.
        ring.waiters.fetch_add(1, crate::sync::Ordering::SeqCst);
        listening
    }

    /// Under loom: the stand-in event holds no waker; the caller waits by watching the
    /// generation (`notified_since`).
    #[cfg(seqcast_loom)]
    pub(crate) fn register_waiter(&self) -> crate::sync::Listening {
        let ring = self.ring();
        let listening = ring.event.listen();
        // SeqCst: as above.
        ring.waiters.fetch_add(1, crate::sync::Ordering::SeqCst);
        listening
    }

    /// Whether this ring's event was notified since `listening` was taken (loom only: the
    /// stand-in's `listen` returns the generation).
    #[cfg(seqcast_loom)]
    pub(crate) fn notified_since(&self, listening: &crate::sync::Listening) -> bool {
        self.ring().event.listen() != *listening
    }

    /// Undoes the count of `register_waiter`.
    pub(crate) fn unregister_waiter(&self) {
        self.ring().stop_waiting();
    }
}

#[cfg(seqcast_async)]
mod asynchronous {
    use super::*;
    use crate::error::RecvError;
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    /// Messages an async subscriber hands over in a row before it yields (tokio's budget).
    const BUDGET: u32 = 128;

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<T: Copy + Send + 'static> Subscriber<T> {
        /// Waits asynchronously for the next message. Works under any executor (tokio, smol,
        /// `futures::executor`). Lag is reported as `Err(RecvError::Lagged(n))`, never hidden.
        ///
        /// ```
        /// # futures::executor::block_on(async {
        /// let (mut tx, mut rx) = seqcast::channel::<u32>(8);
        /// let t = std::thread::spawn(move || { tx.send(5); });
        /// assert_eq!(rx.recv_async().await, Ok(5));
        /// t.join().unwrap();
        /// assert_eq!(rx.recv_async().await, Err(seqcast::error::RecvError::Closed));
        /// # });
        /// ```
        pub fn recv_async(&mut self) -> RecvFuture<'_, T> {
            RecvFuture { rx: self }
        }

        /// Like [`recv_many`](Subscriber::recv_many), asynchronously: waits for the first
        /// message as [`recv_async`](Self::recv_async) does, then appends whatever else is
        /// ready, up to `limit`. Cancel-safe: dropped before it completes, it has taken
        /// nothing.
        ///
        /// ```
        /// # futures::executor::block_on(async {
        /// let (mut tx, mut rx) = seqcast::channel::<u32>(8);
        /// tx.send_batch(&[1, 2, 3]);
        /// let mut buf = Vec::new();
        /// assert_eq!(rx.recv_many_async(&mut buf, 8).await, Ok(3));
        /// assert_eq!(buf, [1, 2, 3]);
        /// # });
        /// ```
        pub async fn recv_many_async(
            &mut self,
            buf: &mut Vec<T>,
            limit: usize,
        ) -> Result<usize, RecvError> {
            if limit == 0 {
                return Ok(0);
            }
            let first = self.recv_async().await?;
            buf.reserve(limit.min(self.capacity()));
            buf.push(first);
            Ok(1 + self.take_ready(limit - 1, &mut |v| buf.push(v)))
        }

        /// The poll behind `recv_async` and `Stream::poll_next`: try, register, re-try, sleep.
        ///
        /// Cooperative budget: a subscriber that always has a message ready would never
        /// return `Pending`, and its task would keep its executor thread from every other
        /// task. After `BUDGET` messages in a row without waiting it yields once (wakes
        /// itself and returns `Pending`), as tokio's own resources do.
        pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
            if *self.streak_mut() >= BUDGET {
                *self.streak_mut() = 0;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            loop {
                match self.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    other => {
                        self.stop_listening();
                        *self.streak_mut() += 1;
                        return Poll::Ready(other.map_err(RecvError::from_try));
                    }
                }
                match self.listener_mut() {
                    None => {
                        // Register, then loop to re-check (no lost wake-up).
                        let listening = self.ring().start_waiting();
                        *self.listener_mut() = Some(listening);
                    }
                    Some(l) => match Pin::new(l).poll(cx) {
                        Poll::Pending => {
                            *self.streak_mut() = 0;
                            return Poll::Pending;
                        }
                        Poll::Ready(()) => {
                            self.stop_listening();
                            self.count_park();
                        }
                    },
                }
            }
        }
    }

    /// The future returned by [`Subscriber::recv_async`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct RecvFuture<'a, T: Copy + Send + 'static> {
        rx: &'a mut Subscriber<T>,
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<T: Copy + Send + 'static> Future for RecvFuture<'_, T> {
        type Output = Result<T, RecvError>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.rx.poll_recv(cx)
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<T: Copy + Send + 'static> Drop for RecvFuture<'_, T> {
        fn drop(&mut self) {
            // Cancelled while registered: stop costing the publisher a notify per message.
            self.rx.stop_listening();
        }
    }

    /// A subscriber is a `Stream` of `Result<T, RecvError>`: messages, and `Lagged(n)` items
    /// for gaps (lag is never hidden). It ends when the topic is closed and drained, or after
    /// the lag report that detaches a `Disconnect`-policy subscriber.
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<T: Copy + Send + 'static> futures_core::Stream for Subscriber<T> {
        type Item = Result<T, RecvError>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.poll_recv(cx).map(|r| match r {
                Err(RecvError::Closed | RecvError::Detached) => None,
                other => Some(other),
            })
        }
    }
}

#[cfg(seqcast_async)]
pub use asynchronous::RecvFuture;
