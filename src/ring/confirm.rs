//! Delivery-confirmed publish: send, then wait until every subscriber that reports its
//! position (gated ones always, lossy ones that opted in with `report_position`) has read the
//! message, or until a timeout that names those that have not.
//!
//! Confirmation reads the positions the subscribers publish (`gate` module); it costs the
//! confirming sender a registry scan per check and costs nobody else anything. What it cannot
//! promise: a lossy subscriber that reports nothing is invisible to it (it may have read the
//! message, missed it, or not got there yet), and a reporting one confirms only when it
//! publishes a position past the message (every `every` messages).
//!
//! The async variant (`send_confirmed_async`, feature `async`) makes the same checks, yielding
//! to its executor and sleeping on the crate's timer thread instead of blocking the thread.

use super::{Ring, SubscriberPosition};
use crate::sync::{spin_loop, yield_now};
use std::time::{Duration, Instant};

/// The subscribers that have not read message `seq` yet (none: confirmed).
pub(crate) fn pending<T: Copy>(ring: &Ring<T>, seq: u64) -> Vec<SubscriberPosition> {
    let mut all = ring.positions();
    all.retain(|p| p.position <= seq);
    all
}

/// Waits (spin, yield, then sleep with growing pauses up to 1 ms) until message `seq` is
/// confirmed or `timeout` passes; returns the subscribers still pending.
pub(crate) fn wait<T: Copy>(
    ring: &Ring<T>,
    seq: u64,
    timeout: Duration,
) -> Vec<SubscriberPosition> {
    let deadline = Instant::now().checked_add(timeout);
    let mut round = 0u32;
    loop {
        let left = pending(ring, seq);
        if left.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            return left;
        }
        round = round.saturating_add(1);
        match round {
            0..64 => spin_loop(),
            64..80 => yield_now(),
            _ => {
                let pause = Duration::from_micros(20u64 << (round - 80).min(6));
                let pause = deadline.map_or(pause, |d| {
                    pause.min(d.saturating_duration_since(Instant::now()))
                });
                std::thread::sleep(pause);
            }
        }
    }
}

/// The async confirmation: the same checks as [`wait`], with the task yielding instead of
/// spinning, and sleeping on the crate's timer thread (`crate::timer`) instead of the
/// thread, so any executor works and a subscriber's task on the same thread gets to run.
#[cfg(seqcast_async)]
mod asynchronous {
    use super::{pending, Ring, SubscriberPosition};
    use crate::error::ConfirmError;
    use crate::timer::Alarm;
    use crate::{Publisher, SharedPublisher};
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};
    use std::time::{Duration, Instant};

    /// Checks made by yielding to the executor (one poll each) before the first sleep.
    const YIELDS: u32 = 16;

    /// Like [`super::wait`], asynchronously: yield `YIELDS` times, then sleep with growing
    /// pauses (20 µs doubling up to 1 ms), never past the deadline.
    async fn wait_async<T: Copy>(
        ring: &Ring<T>,
        seq: u64,
        timeout: Duration,
    ) -> Vec<SubscriberPosition> {
        let deadline = Instant::now().checked_add(timeout);
        let mut round = 0u32;
        loop {
            let left = pending(ring, seq);
            if left.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
                return left;
            }
            round = round.saturating_add(1);
            if round <= YIELDS {
                YieldNow(false).await;
            } else {
                let pause = Duration::from_micros(20u64 << (round - YIELDS - 1).min(6));
                let now = Instant::now();
                let at = now.checked_add(pause).unwrap_or(now);
                Sleep {
                    at: deadline.map_or(at, |d| at.min(d)),
                    alarm: None,
                }
                .await;
            }
        }
    }

    /// Pending once (waking itself at once), then ready: lets the executor run other tasks.
    struct YieldNow(bool);

    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Ready at `at`; woken then by an alarm of the timer thread (dropped, it cancels it).
    struct Sleep {
        at: Instant,
        alarm: Option<Alarm>,
    }

    impl Future for Sleep {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if Instant::now() >= self.at {
                self.alarm = None;
                return Poll::Ready(());
            }
            if let Some(alarm) = &self.alarm {
                if alarm.refresh(cx.waker()) {
                    return Poll::Pending;
                }
            }
            self.alarm = Alarm::set(self.at, cx.waker());
            if self.alarm.is_none() {
                // No timer thread: poll again soon rather than never.
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<T: Copy + Send + 'static> Publisher<T> {
        /// Like [`send_confirmed`](Self::send_confirmed), asynchronously: publishes `value`
        /// as [`send_async`](Self::send_async) does (waiting for room for a gated subscriber
        /// without blocking the thread), then waits until every subscriber that reports its
        /// position (gated ones, and lossy ones that called
        /// [`report_position`](crate::Subscriber::report_position)) has read it, at most
        /// `timeout` (counted from when the message is published). On timeout the message
        /// stays published and the error names the subscribers that had not read it. Works
        /// under any executor; only this future waits, other sends and subscribers are
        /// unaffected.
        ///
        /// What it cannot promise: lossy subscribers that report nothing are not waited for
        /// (nothing tells whether they read the message), and a reporting one confirms only
        /// when it publishes a position past the message (every `every` messages). The wait
        /// polls the positions: it yields to the executor a few times, then sleeps on the
        /// crate's timer thread with pauses growing to 1 ms, so a confirmation takes up to
        /// about a millisecond longer than the slowest reader.
        ///
        /// Cancel safety: dropped while it waits for room, it sends nothing (as
        /// `send_async`); dropped while it waits for the confirmation, the message stays
        /// published and nothing stays registered.
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// # futures::executor::block_on(async {
        /// let (mut tx, _lossy) = seqcast::channel::<u32>(8);
        /// let mut audit = tx.subscribe_gated();
        /// let t = std::thread::spawn(move || audit.recv().unwrap());
        /// assert_eq!(tx.send_confirmed_async(7, Duration::from_secs(5)).await, Ok(0));
        /// assert_eq!(t.join().unwrap(), 7);
        /// # });
        /// ```
        pub async fn send_confirmed_async(
            &mut self,
            value: T,
            timeout: Duration,
        ) -> Result<u64, ConfirmError<T>> {
            let seq = self.send_async(value).await;
            let pending = wait_async(self.ring(), seq, timeout).await;
            if pending.is_empty() {
                Ok(seq)
            } else {
                Err(ConfirmError::Timeout { seq, pending })
            }
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<T: Copy + Send + 'static> SharedPublisher<T> {
        /// See [`Publisher::send_confirmed_async`]; a closed topic (removed from its `Bus`,
        /// also while the send waits for room) sends nothing and hands the value back.
        ///
        /// ```
        /// use seqcast::error::ConfirmError;
        /// use std::time::Duration;
        ///
        /// # futures::executor::block_on(async {
        /// let bus = seqcast::Bus::new();
        /// let tx = bus.publisher::<u32>("orders").unwrap();
        /// let mut audit = tx.subscribe_gated();
        /// let t = std::thread::spawn(move || audit.recv().unwrap());
        /// assert_eq!(tx.send_confirmed_async(1, Duration::from_secs(5)).await, Ok(0));
        /// assert_eq!(t.join().unwrap(), 1);
        /// bus.remove("orders").unwrap();
        /// let refused = tx.send_confirmed_async(2, Duration::from_secs(5)).await;
        /// assert_eq!(refused, Err(ConfirmError::Closed(2)));
        /// # });
        /// ```
        pub async fn send_confirmed_async(
            &self,
            value: T,
            timeout: Duration,
        ) -> Result<u64, ConfirmError<T>> {
            let seq = self
                .send_async(value)
                .await
                .map_err(|e| ConfirmError::Closed(e.into_inner()))?;
            let pending = wait_async(self.ring(), seq, timeout).await;
            if pending.is_empty() {
                Ok(seq)
            } else {
                Err(ConfirmError::Timeout { seq, pending })
            }
        }
    }
}
