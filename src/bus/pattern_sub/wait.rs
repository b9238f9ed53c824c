//! How a [`PatternSubscriber`] waits: it parks like a [`Subscriber`], and is woken by a send
//! on any topic it reads, by a new matching topic, and by the removal of a topic it reads.
//! Blocking receive, async receive and the `Stream` share this one protocol.
//!
//! # The protocol
//! A pattern subscriber reads one ring per matching topic and must also notice new topics in
//! the table, so it cannot sleep on one event. It *arms*:
//!
//! 1. it listens on the table's event (`TopicTable::event`, notified after every create and
//!    remove), and on the event of every ring it polls (`Subscriber::register_waiter`: listen,
//!    then count itself in the ring's `waiters`, exactly as a parking `Subscriber` does). Each
//!    entry holds the same waker, the subscriber's *bell*;
//! 2. it runs one heavy barrier (`crate::sync::heavy_barrier`) for all of those rings;
//! 3. it re-checks: a whole `try_recv` (the table's generation, then every ring);
//! 4. it sleeps until the bell rings, unless the re-check found an item, or made a new ring
//!    one it polls (it joined a new topic, or a re-created name's older instance was dropped):
//!    that ring is armed too and everything re-checked again (back to 2).
//!
//! Once woken it re-checks; if that finds nothing (a spurious wake-up) it *disarms* and arms
//! afresh, since a notify used up at least one of its registrations and it cannot tell which
//! without asking every event. Whenever it returns an item, times out, or its future is
//! dropped, it disarms: every registration is dropped and every `waiters` count undone.
//!
//! # The bell
//! A flag `rung` and the sleeper to wake (a thread or a task's waker), under one lock. A ring
//! of the bell (any registration's notify) sets `rung` and takes the sleeper under the lock,
//! then wakes it after unlocking; the sleeper checks `rung` and stores itself under the same
//! lock, so a ring either finds the sleeper or comes before the check, which sees `rung`.
//! `rung` is reset only when arming from scratch, before the first registration: a ring
//! caused by a registration of the current arming is never cleared. The bell is the crate's
//! own waker, so the events clone and wake it without running any user code; the user's
//! waker is only ever cloned, woken and dropped outside the bell's lock (as in
//! `crate::sync::event`), so it may publish on or close the very topics being waited on.
//!
//! # No lost wake-up
//! Say the subscriber went to sleep after a re-check (step 3) that found nothing. Whatever
//! could give it an item later is one of these, and each rings the bell:
//!
//! * **A message on a ring it polls.** The publisher stores the stamp, runs the light barrier
//!   and loads `waiters`; the subscriber counted itself in `waiters`, ran the heavy barrier,
//!   then loaded the stamp. That is the ring's own barrier pair (`crate::sync`): one of the
//!   two loads sees the other side's store. The re-check did not see the message, so the
//!   publisher saw `waiters > 0`. Its Acquire load read the subscriber's increment, which is
//!   sequenced after the listen, so its notify locks the event after the listen did and finds
//!   the entry: the bell rings.
//! * **The removal of a topic it polls.** `Ring::close` stores `closed`, then notifies the
//!   ring's event whoever waits. In that event's lock order the notify comes after the listen
//!   (it finds the entry) or before it: then the `closed` store happens before the listen,
//!   hence before the re-check, which would have seen it (`Closed` is an item).
//! * **A new matching topic**, created (and perhaps sent to or removed) in any order. The
//!   creator raises the table's `generation`, then notifies the table's event, always. As
//!   above, either the notify finds the listen of step 1 (the bell rings), or the raise
//!   happens before the re-check's Acquire load of `generation`, which then rescans (a table
//!   at least that new) and joins the topic. A ring joined by a re-check is armed, behind the
//!   barrier of step 2, before the subscriber sleeps (step 4), so a later send on it is the
//!   first case, and an earlier one is seen by the re-check that follows its arming.
//! * **A ring it did not poll becoming one it polls** (the newer instance of a re-created
//!   name, `Source::behind`): only a `try_recv` makes that happen (when it drops the older
//!   instance), and a re-check that does is caught by step 4.
//!
//! And a registration the bell does not know to be used up is still in its event: every
//! notify that takes one rings the bell, and an armed subscriber whose bell rang disarms
//! everything before it trusts any registration again.
//!
//! # Costs
//! * Publishers: a pattern subscriber that is not waiting is registered nowhere, so a send
//!   costs its publisher the one load of a zero `waiters` it always costs. While it is parked
//!   it is one waiter on each of its rings: every send costs a notify, as for a parked
//!   `Subscriber`. Creators and removers of topics notify the table's event (one lock),
//!   whether or not anybody waits.
//! * The subscriber: arming takes one lock per ring (and one for the table), one
//!   read-modify-write per ring and one heavy barrier (a `membarrier` system call where
//!   available); disarming one lock per ring. So a park costs time linear in the number of
//!   topics read, which is why blocking receive first polls for a while (64 spins, then 16
//!   `yield_now`s) and arms only once that found nothing.
//! * Spurious wake-ups: every create and remove on the bus wakes its parked pattern
//!   subscribers, those whose pattern does not match included; each rescans and parks again.
//!   A notify that had already taken a registration when the subscriber disarmed may ring
//!   the next arming's bell: one extra re-check.
//!
//! # Under loom
//! loom's stand-in event (a `Mutex` and `Condvar`) holds no waker, so under loom the
//! subscriber sleeps in a `yield_now` loop that asks each event it listens on whether its
//! generation moved since the listen: the question the bell answers in normal builds. A lost
//! wake-up then shows as a thread that never stops looping (loom's branch limit) rather than
//! as a deadlock. The bell itself (a flag under a lock) is not modelled.

use super::{Feed, Got, PatternReceiver, Source};
use crate::bus::kind::sealed::Rx;
use crate::bus::TopicKind;
use crate::cursor::poll;
use crate::error::TryRecvError;
use crate::sync::{asymmetric_available, heavy_barrier, Backoff, Listening};
use std::time::{Duration, Instant};

/// Polls with a spin hint before a blocking receive arms, then polls with `yield_now`.
/// (Under loom: arm at once, so that the models exercise the parking protocol.)
const SPINS: u32 = if cfg!(seqcast_loom) { 0 } else { 64 };
/// Polls with `yield_now` before a blocking receive arms.
const YIELDS: u32 = if cfg!(seqcast_loom) { 0 } else { 16 };

/// What one source reads from: its topic's ring, and this subscriber's registration on the
/// ring's event while armed.
pub(super) struct Reader<R: Rx> {
    rx: R,
    /// `Some` while armed: the listen, counted in the ring's `waiters`.
    wait: Option<Listening>,
}

impl<R: Rx> Reader<R> {
    pub(super) fn new(rx: R) -> Self {
        Reader { rx, wait: None }
    }

    fn arm(&mut self, waiting: &Waiting) {
        debug_assert!(self.wait.is_none(), "armed twice");
        #[cfg(not(seqcast_loom))]
        let listening = self.rx.ring_reader().register_waiter(&waiting.waker);
        #[cfg(seqcast_loom)]
        let listening = {
            let _ = waiting;
            self.rx.ring_reader().register_waiter()
        };
        self.wait = Some(listening);
    }

    /// Whether the ring's event was notified since the arming (loom only: see module docs).
    #[cfg(seqcast_loom)]
    fn notified(&self) -> bool {
        self.wait
            .as_ref()
            .is_some_and(|l| self.rx.ring_reader().notified_since(l))
    }

    fn disarm(&mut self) {
        // The listen deregisters as it drops (it is gone already if a notify took it).
        if self.wait.take().is_some() {
            self.rx.ring_reader().unregister_waiter();
        }
    }
}

impl<R: Rx> Drop for Reader<R> {
    fn drop(&mut self) {
        // A source dropped while armed (retired by a re-check, or the whole subscriber
        // dropped while a `Stream` poll was pending) must not stay counted in `waiters`.
        self.disarm();
    }
}

impl<R: Rx> core::ops::Deref for Reader<R> {
    type Target = R;
    fn deref(&self) -> &R {
        &self.rx
    }
}

impl<R: Rx> core::ops::DerefMut for Reader<R> {
    fn deref_mut(&mut self) -> &mut R {
        &mut self.rx
    }
}

/// A pattern subscriber's waiting state.
pub(super) struct Waiting {
    /// `Some` while armed: the listen on the table's event. Every armed ring implies it.
    table: Option<Listening>,
    /// Whether an async poll returned `Pending` since the last wake-up (to count parks).
    #[cfg(seqcast_async)]
    pending: bool,
    /// Items handed over by async polls in a row without a `Pending` (the budget).
    #[cfg(seqcast_async)]
    streak: u32,
    #[cfg(not(seqcast_loom))]
    bell: std::sync::Arc<bell::Bell>,
    /// `bell` as a waker, handed to every event (cloning it is one reference count).
    #[cfg(not(seqcast_loom))]
    waker: std::task::Waker,
}

impl Waiting {
    pub(super) fn new() -> Self {
        #[cfg(not(seqcast_loom))]
        let bell = std::sync::Arc::new(bell::Bell::default());
        Waiting {
            table: None,
            #[cfg(seqcast_async)]
            pending: false,
            #[cfg(seqcast_async)]
            streak: 0,
            #[cfg(not(seqcast_loom))]
            waker: std::task::Waker::from(bell.clone()),
            #[cfg(not(seqcast_loom))]
            bell,
        }
    }

    /// Whether the subscriber is armed (registered on the table's event, at least).
    pub(super) fn armed(&self) -> bool {
        self.table.is_some()
    }
}

/// The rings a `try_recv` polls (those that can answer `Empty`): live sources not waiting
/// behind an older instance of their name.
fn polled<K: TopicKind>(sources: &mut [Source<K>]) -> impl Iterator<Item = &mut Reader<K::Rx>> {
    sources.iter_mut().filter_map(|s| match &mut s.feed {
        Feed::Live(reader) if !s.behind => Some(reader),
        _ => None,
    })
}

impl<K: TopicKind> PatternReceiver<K> {
    /// Steps 1 and 2 of the protocol (module docs): registers on whatever is not registered
    /// yet (the table's event, then each polled ring), then one heavy barrier.
    fn arm(&mut self) {
        let waiting = &mut self.wait;
        if waiting.table.is_none() {
            // From scratch: forget rings of registrations that are all gone now, before
            // registering anything (a ring from here on is one of this arming's).
            #[cfg(not(seqcast_loom))]
            waiting.bell.reset();
            #[cfg(not(seqcast_loom))]
            let listening = self.bus.table.watch(&waiting.waker);
            #[cfg(seqcast_loom)]
            let listening = self.bus.table.watch();
            waiting.table = Some(listening);
        }
        let mut rings = 0;
        for reader in polled(&mut self.sources) {
            if reader.wait.is_none() {
                reader.arm(waiting);
                rings += 1;
            }
        }
        // SeqCst (heavy side): the other half of each new registration's pair with the
        // ring's `wake_waiters`. Rings armed before had theirs, and a re-check after it; the
        // table's event needs none (its notify is unconditional: module docs).
        if rings > 0 {
            heavy_barrier(asymmetric_available());
        }
    }

    /// Drops every registration (no-op when not armed).
    pub(super) fn disarm(&mut self) {
        if self.wait.table.take().is_none() {
            // Not armed, so no ring is (arming starts with the table): the common case of
            // a receive that found a message at once costs no scan of the sources.
            debug_assert!(self.sources.iter().all(|s| match &s.feed {
                Feed::Live(reader) => reader.wait.is_none(),
                Feed::Forgotten { .. } => true,
            }));
            return;
        }
        for source in &mut self.sources {
            if let Feed::Live(reader) = &mut source.feed {
                reader.disarm();
            }
        }
        #[cfg(seqcast_async)]
        {
            self.wait.pending = false;
        }
        // The thread handle or the task's waker: not kept past the wait it was for.
        #[cfg(not(seqcast_loom))]
        self.wait.bell.clear();
    }

    /// Whether a registration of this arming was notified.
    fn rung(&self) -> bool {
        #[cfg(not(seqcast_loom))]
        {
            self.wait.bell.rung()
        }
        #[cfg(seqcast_loom)]
        {
            let table = self.wait.table.as_ref();
            table.is_some_and(|l| self.bus.table.notified_since(l))
                || self.sources.iter().any(|s| match &s.feed {
                    Feed::Live(reader) => reader.notified(),
                    Feed::Forgotten { .. } => false,
                })
        }
    }

    /// Try, then arm and re-check (steps 1 to 4), until an item is found (`Some`, disarmed)
    /// or the subscriber is armed on everything that could bring one and nothing rang
    /// (`None`: sleep on the bell).
    fn step(&mut self) -> Option<Got<K, TryRecvError>> {
        loop {
            if let Some(got) = self.try_recv_nonempty() {
                self.disarm();
                return Some(got);
            }
            if self.wait.armed() {
                if self.rung() {
                    // Woken, and nothing to show for it: some registration is used up.
                    self.disarm();
                } else if polled(&mut self.sources).all(|r| r.wait.is_some()) {
                    return None;
                }
            }
            self.arm();
            // Teeth (loom): sleep without the re-check of step 3. A topic created between
            // the `try_recv` above and the table listen is then missed, and so is every
            // send to it; the pattern loom model must find that.
            #[cfg(seqcast_loom_broken_pattern)]
            return None;
        }
    }

    /// The blocking wait behind `recv` and `recv_timeout`; `None`: the deadline passed.
    pub(super) fn wait_recv(&mut self, deadline: Option<Instant>) -> Option<Got<K, TryRecvError>> {
        // Poll for a while first: a busy subscriber never pays for arming.
        let mut polls = SPINS + YIELDS;
        let backoff = Backoff::new(SPINS, YIELDS, Duration::ZERO);
        let polled = poll(deadline, backoff, || {
            if polls == 0 {
                return Some(None);
            }
            polls -= 1;
            self.try_recv_nonempty().map(Some)
        });
        match polled {
            None => return None,
            Some(Some(got)) => return Some(got),
            Some(None) => {}
        }
        loop {
            if let Some(got) = self.step() {
                return Some(got);
            }
            self.parks += 1;
            if !self.sleep(deadline) {
                self.disarm();
                return None;
            }
        }
    }

    /// Step 4 for a thread: until the bell rings (true) or `deadline` passes (false).
    #[cfg(not(seqcast_loom))]
    fn sleep(&self, deadline: Option<Instant>) -> bool {
        self.wait.bell.sleep(deadline)
    }

    /// Under loom: a yield loop on the events' generations (module docs); loom has no clock.
    #[cfg(seqcast_loom)]
    fn sleep(&self, _deadline: Option<Instant>) -> bool {
        while !self.rung() {
            crate::sync::yield_now();
        }
        true
    }
}

#[cfg(seqcast_async)]
mod asynchronous {
    use super::*;
    use crate::bus::Topic;
    use crate::error::{RecvError, TopicError};
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    /// Items an async pattern subscriber hands over in a row before it yields, as a
    /// `Subscriber` does (tokio's budget).
    const BUDGET: u32 = 128;

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<K: TopicKind> PatternReceiver<K> {
        /// Waits asynchronously for the next message from any matching topic. Works under
        /// any executor. Answers as [`recv`](Self::recv) does: lag and removal are items
        /// (`Lagged(n)` and `Closed` on their topic), never hidden, and it never ends for
        /// lack of topics.
        ///
        /// While it waits, the subscriber is registered with every topic it reads and with
        /// the bus's table (the [module docs](crate::bus) say what that costs); it parks the
        /// task, and a send on any of its topics, a new matching topic, or a removal wakes
        /// it. **Cancel-safe**: dropping the future before it completes takes nothing and
        /// leaves nothing registered.
        ///
        /// ```
        /// # futures::executor::block_on(async {
        /// let bus = seqcast::Bus::new();
        /// let mut users = bus.subscribe_pattern::<u32>("user.*").unwrap();
        /// let publisher = bus.clone();
        /// let t = std::thread::spawn(move || {
        ///     // Created after the task parked: its first message wakes it.
        ///     publisher.publisher::<u32>("user.created").unwrap().send(7).unwrap();
        /// });
        /// let (topic, id) = users.recv_async().await.unwrap();
        /// assert_eq!((topic.as_str(), id), ("user.created", 7));
        /// t.join().unwrap();
        /// # });
        /// ```
        ///
        /// With a shutdown signal, under `tokio::select!`: whichever comes first; a message
        /// that arrives meanwhile stays for the next receive.
        ///
        /// ```
        /// use seqcast::error::{RecvError, TopicError};
        ///
        /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
        /// let bus = seqcast::Bus::new();
        /// let mut users = bus.subscribe_pattern::<u64>("user.*").unwrap();
        /// let (stop, mut stopped) = futures::channel::oneshot::channel::<()>();
        ///
        /// let publisher = bus.clone();
        /// std::thread::spawn(move || {
        ///     let signups = publisher.publisher::<u64>("user.signup").unwrap();
        ///     signups.send(1).unwrap();
        ///     signups.send(2).unwrap();
        ///     publisher.remove("user.signup").unwrap();
        ///     stop.send(()).unwrap();
        /// });
        ///
        /// let mut seen = Vec::new();
        /// loop {
        ///     tokio::select! {
        ///         biased;
        ///         got = users.recv_async() => match got {
        ///             Ok((topic, id)) => seen.push(format!("{topic} {id}")),
        ///             Err(TopicError { topic: Some(topic), error: RecvError::Closed }) => {
        ///                 seen.push(format!("{topic} removed"));
        ///             }
        ///             Err(TopicError { topic, error }) => panic!("{topic:?}: {error}"),
        ///         },
        ///         _ = &mut stopped => break,
        ///     }
        /// }
        /// // `biased`: the subscription is polled first, so nothing sent before the signal
        /// // is left behind.
        /// assert_eq!(seen, ["user.signup 1", "user.signup 2", "user.signup removed"]);
        /// # });
        /// ```
        pub fn recv_async(&mut self) -> PatternRecvFuture<'_, K> {
            PatternRecvFuture { sub: self }
        }

        /// The poll behind `recv_async` and `Stream::poll_next`: try, arm, re-check, sleep.
        ///
        /// Cooperative budget: with messages always ready it would never return `Pending`,
        /// and its task would keep its executor thread from every other task. After `BUDGET`
        /// items in a row without waiting it yields once (wakes itself and returns
        /// `Pending`; nothing is taken, nothing registered).
        fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Got<K, RecvError>> {
            if self.wait.streak >= BUDGET {
                self.wait.streak = 0;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // Polled again after a `Pending`, and the bell rang: one park, and its wake-up.
            // (A poll with nothing rung, say `select!` polling every branch, is not one.)
            if self.wait.pending && self.rung() {
                self.wait.pending = false;
                self.parks += 1;
            }
            loop {
                if let Some(got) = self.step() {
                    self.wait.streak += 1;
                    return Poll::Ready(got.map_err(|e| e.map(RecvError::from_try)));
                }
                match self.wait.bell.poll(cx) {
                    Poll::Pending => {
                        self.wait.pending = true;
                        self.wait.streak = 0;
                        return Poll::Pending;
                    }
                    // Rung between the re-check and now: re-check again.
                    Poll::Ready(()) => {}
                }
            }
        }
    }

    /// The future returned by [`PatternReceiver::recv_async`]. Dropping it before it
    /// completes deregisters the subscriber from every topic and from the table.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct PatternRecvFuture<'a, K: TopicKind> {
        sub: &'a mut PatternReceiver<K>,
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<K: TopicKind> Future for PatternRecvFuture<'_, K> {
        type Output = Result<(Topic, K::Item), TopicError<RecvError>>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.sub.poll_recv(cx)
        }
    }

    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<K: TopicKind> Drop for PatternRecvFuture<'_, K> {
        fn drop(&mut self) {
            // Cancelled while armed: stop costing the publishers a notify per message, and
            // let go of the task's waker.
            self.sub.disarm();
        }
    }

    /// A pattern subscriber is a `Stream` of what [`recv_async`](PatternReceiver::recv_async)
    /// returns: messages as `Ok((topic, value))`, and `Lagged(n)` and `Closed` reports on
    /// their topic as `Err` items (a removed topic is reported, then dropped from the
    /// subscription; lag is never hidden). It never ends: a matching topic may be created at
    /// any time.
    ///
    /// A poll that returns `Pending` to wait leaves the subscriber registered (it is woken
    /// as `recv_async` is) until it is polled again, receives in another way, or is
    /// dropped; a `recv_async` future, dropped, deregisters at once. Like a `Subscriber`'s,
    /// the stream also returns `Pending` (registered nowhere, its task woken at once) after
    /// 128 items in a row, so that a busy subscription leaves its executor thread to other
    /// tasks now and then.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use seqcast::error::TopicError;
    ///
    /// let bus = seqcast::Bus::builder().capacity(4).build();
    /// let mut metrics = bus.subscribe_pattern::<u32>("metrics.>").unwrap();
    /// let cpu = bus.publisher::<u32>("metrics.cpu").unwrap();
    /// for i in 0..6 {
    ///     cpu.send(i).unwrap(); // 6 into 4 slots: the first 2 are lost, and reported
    /// }
    /// bus.remove("metrics.cpu").unwrap();
    ///
    /// let items = metrics.by_ref().take(6).map(|item| match item {
    ///     Ok((topic, value)) => format!("{topic} {value}"),
    ///     Err(TopicError { topic: Some(topic), error }) => format!("{topic} {error:?}"),
    ///     Err(TopicError { topic: None, error }) => panic!("{error}"),
    /// });
    /// let items: Vec<String> = futures::executor::block_on(items.collect());
    /// assert_eq!(items, [
    ///     "metrics.cpu Lagged(2)",
    ///     "metrics.cpu 2", "metrics.cpu 3", "metrics.cpu 4", "metrics.cpu 5",
    ///     "metrics.cpu Closed",
    /// ]);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    impl<K: TopicKind> futures_core::Stream for PatternReceiver<K> {
        type Item = Result<(Topic, K::Item), TopicError<RecvError>>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.poll_recv(cx).map(Some)
        }
    }
}

#[cfg(seqcast_async)]
pub use asynchronous::PatternRecvFuture;

/// The bell (module docs): what every event a parked pattern subscriber listens on wakes.
#[cfg(not(seqcast_loom))]
mod bell {
    // The std types directly: the bell is not modelled under loom (module docs).
    use std::mem;
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::task::Wake;
    #[cfg(seqcast_async)]
    use std::task::{Context, Poll, Waker};
    use std::thread::{self, Thread};
    use std::time::Instant;

    /// See the module docs, "The bell". Written by the subscriber (reset, sleeper) and by
    /// whoever notifies one of its events (rings).
    #[derive(Debug, Default)]
    pub(super) struct Bell(Mutex<State>);

    #[derive(Debug, Default)]
    struct State {
        /// Set by a wake since the last `reset`.
        rung: bool,
        /// Whom a wake wakes; taken by it.
        sleeper: Sleeper,
    }

    #[derive(Debug, Default)]
    enum Sleeper {
        #[default]
        Nobody,
        Thread(Thread),
        /// Async receive only.
        #[cfg(seqcast_async)]
        Task(Waker),
    }

    impl Sleeper {
        /// Runs the user's waker: never under the lock.
        fn wake(self) {
            match self {
                Sleeper::Nobody => {}
                Sleeper::Thread(t) => t.unpark(),
                #[cfg(seqcast_async)]
                Sleeper::Task(w) => w.wake(),
            }
        }
    }

    impl Bell {
        /// Only this module's code runs under the lock (no waker), so a poisoned lock still
        /// holds a consistent state.
        fn lock(&self) -> MutexGuard<'_, State> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }

        pub(super) fn rung(&self) -> bool {
            self.lock().rung
        }

        /// Before arming from scratch (module docs).
        pub(super) fn reset(&self) {
            self.lock().rung = false;
        }

        /// Lets go of the sleeper (dropped after unlocking: it may be the user's waker).
        pub(super) fn clear(&self) {
            let sleeper = mem::take(&mut self.lock().sleeper);
            drop(sleeper);
        }

        /// Parks the calling thread until a wake (true) or `deadline` (false). Spurious
        /// unparks just loop.
        pub(super) fn sleep(&self, deadline: Option<Instant>) -> bool {
            let mut stored = false;
            loop {
                let replaced = {
                    let mut s = self.lock();
                    if s.rung {
                        return true;
                    }
                    if stored {
                        None
                    } else {
                        stored = true;
                        Some(mem::replace(
                            &mut s.sleeper,
                            Sleeper::Thread(thread::current()),
                        ))
                    }
                };
                // After unlocking: it may hold a task's waker from an earlier async wait.
                drop(replaced);
                match deadline {
                    None => thread::park(),
                    Some(d) => match d.checked_duration_since(Instant::now()) {
                        Some(left) if !left.is_zero() => thread::park_timeout(left),
                        // `rung` was checked just above: not woken in time.
                        _ => return false,
                    },
                }
            }
        }

        /// `Ready` once rung; else stores the task's waker (cloned and dropped outside the
        /// lock) and returns `Pending`.
        #[cfg(seqcast_async)]
        pub(super) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
            {
                let s = self.lock();
                if s.rung {
                    return Poll::Ready(());
                }
                // `will_wake` only compares pointers: no user code under the lock.
                if let Sleeper::Task(w) = &s.sleeper {
                    if w.will_wake(cx.waker()) {
                        return Poll::Pending;
                    }
                }
            }
            let new = Sleeper::Task(cx.waker().clone());
            let old = {
                let mut s = self.lock();
                if s.rung {
                    drop(s);
                    drop(new);
                    return Poll::Ready(());
                }
                mem::replace(&mut s.sleeper, new)
            };
            drop(old);
            Poll::Pending
        }
    }

    impl Wake for Bell {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            let sleeper = {
                let mut s = self.lock();
                s.rung = true;
                mem::take(&mut s.sleeper)
            };
            sleeper.wake();
        }
    }
}
