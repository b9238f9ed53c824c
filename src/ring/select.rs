//! Waiting on several subscribers at once, whatever their message types: [`Select`], after
//! crossbeam-channel's `Select` and its `ready` family (the wait says *which* subscriber has
//! an answer; the caller takes it with `try_recv`).
//!
//! # The protocol
//! The bus's pattern subscriber's (`bus::pattern_sub::wait`, "The protocol"), over a fixed
//! list of rings and without the topic table:
//!
//! 1. register on every subscriber's ring (`Subscriber::register_waiter`: listen on the ring's
//!    event with the *bell* as the waker, then count itself in the ring's `waiters`, as a
//!    parking `Subscriber` does);
//! 2. run one heavy barrier (`crate::sync::heavy_barrier`) for all of them;
//! 3. re-check every subscriber (`Subscriber::has_answer`: would a `try_recv` answer
//!    anything but `Empty`?);
//! 4. sleep until the bell rings, unless the re-check found one.
//!
//! Once woken it *disarms* (drops every registration, undoes every `waiters` count: a notify
//! used up at least one registration, and it cannot tell which without asking every event),
//! checks, and arms afresh if that found nothing. Whatever it returns (an index, or a
//! timeout), it has disarmed first: a `Select` that is not inside a wait is registered
//! nowhere.
//!
//! # No lost wake-up
//! Say the thread went to sleep after a re-check (step 3) that found nothing. What can give a
//! subscriber an answer later is one of these, and each rings the bell:
//!
//! * **A message** (and with it a lap, or the eviction of a gated subscriber: publishers do
//!   both only while sending). The publisher stores the stamp, runs the light barrier and
//!   loads `waiters`; the selecting thread counted itself in `waiters`, ran the heavy barrier,
//!   then loaded the stamp. That is the ring's barrier pair (`crate::sync`): one of the two
//!   loads sees the other side's store. The re-check did not see the message, so the
//!   publisher saw `waiters > 0`; its Acquire load read the increment, which is sequenced
//!   after the listen, so its notify finds the entry and wakes the bell.
//! * **The close.** `Ring::close` stores `closed`, then notifies the ring's event whoever
//!   waits. In the event's lock order that notify comes after the listen (it finds the
//!   entry) or before it: then the `closed` store happens before the listen, hence before the
//!   re-check, which would have seen it (`Closed` is an answer).
//!
//! # The bell
//! The thread to unpark and a flag `rung`, which any registration's wake sets before it
//! unparks; the sleeper checks `rung` before each `park`, so an unpark that lands between the
//! check and the park makes the park return at once. Each arming makes a fresh bell, so a
//! wake that one of the previous arming's registrations was already running rings a bell
//! nobody listens to (at most an early return from a `park`, which loops). The bell is the
//! crate's own waker: the events clone and wake it without running any user code.
//!
//! # Under loom
//! loom's stand-in event holds no waker, so under loom the thread sleeps in a `yield_now`
//! loop that asks each event whether its generation moved since the listen, as the pattern
//! subscriber does; a lost wake-up shows as a thread that never stops looping (loom's branch
//! limit). The bell itself is not modelled.

use super::Subscriber;
use crate::error::ReadyTimeoutError;
use crate::sync::{asymmetric_available, heavy_barrier, spin_loop, yield_now, Listening};
use core::fmt;
use std::time::{Duration, Instant};

/// Polls with a spin hint before a wait arms, then polls with `yield_now`. (Under loom: arm
/// at once, so that the models exercise the parking protocol.)
const SPINS: u32 = if cfg!(seqcast_loom) { 0 } else { 64 };
/// Polls with `yield_now` before a wait arms.
const YIELDS: u32 = if cfg!(seqcast_loom) { 0 } else { 16 };

/// What a `Select` needs of a subscriber, for any `T`: the type-erased half of
/// `Subscriber<T>`'s waiting surface.
trait Selectable {
    fn has_answer(&self) -> bool;
    #[cfg(not(seqcast_loom))]
    fn register(&self, waker: &std::task::Waker) -> Listening;
    #[cfg(seqcast_loom)]
    fn register(&self) -> Listening;
    #[cfg(seqcast_loom)]
    fn notified(&self, listening: &Listening) -> bool;
    fn unregister(&self);
}

impl<T: Copy + Send + 'static> Selectable for Subscriber<T> {
    fn has_answer(&self) -> bool {
        Subscriber::has_answer(self)
    }
    #[cfg(not(seqcast_loom))]
    fn register(&self, waker: &std::task::Waker) -> Listening {
        self.register_waiter(waker)
    }
    #[cfg(seqcast_loom)]
    fn register(&self) -> Listening {
        self.register_waiter()
    }
    #[cfg(seqcast_loom)]
    fn notified(&self, listening: &Listening) -> bool {
        self.notified_since(listening)
    }
    fn unregister(&self) {
        self.unregister_waiter()
    }
}

/// One subscriber of a `Select`, and its registration while a wait is armed.
struct Entry<'a> {
    rx: &'a dyn Selectable,
    /// `Some` while armed: the listen, counted in the ring's `waiters`.
    wait: Option<Listening>,
}

/// Waits until one of several subscribers, of any message types, has something to answer,
/// then says which: the [`Select`] of crossbeam-channel, for seqcast's subscribers.
///
/// Add subscribers with [`recv`](Select::recv), which returns each one's index, then wait
/// with [`ready`](Select::ready), [`ready_timeout`](Select::ready_timeout) or
/// [`ready_deadline`](Select::ready_deadline), or ask with [`try_ready`](Select::try_ready).
/// The index returned names a subscriber whose `try_recv` will not return `Empty`: it has a
/// message, a `Lagged(n)` report, `Closed` or `Detached` to give (lag is reported there,
/// never hidden). `Select` takes nothing itself.
///
/// A `Select` borrows its subscribers, and `try_recv` needs them mutably: build one for
/// each wait (it allocates one small `Vec`), as crossbeam-channel's `select!` does.
///
/// # Fairness
/// Each wait scans from a different start (a per-thread counter), so a subscriber that is
/// always ready cannot hide the others.
///
/// # Progress and cost
/// `try_ready` is wait-free: one non-taking `try_recv` per subscriber. A wait first polls every subscriber for a while (64 spin hints, then 16 `yield_now`s),
/// then parks the thread: no polling while parked. Parked, it is one waiter on each ring,
/// so each of their publishers pays what a parked [`Subscriber`] costs it (a notify per
/// message); before it parks and after it returns it costs them nothing (the one load of a
/// zero waiter count every send makes anyway). Arming costs the waiting thread one lock and
/// one read-modify-write per subscriber and one heavy barrier (a `membarrier` system call
/// where available), so a park costs time linear in the number of subscribers; a wake-up
/// that then finds nothing (a notify that raced with a disarm) costs one re-arming.
///
/// # Examples
/// ```
/// use seqcast::Select;
///
/// let (mut prices, mut price_rx) = seqcast::channel::<f64>(8);
/// let (mut orders, mut order_rx) = seqcast::channel::<(u32, u64)>(8);
///
/// let feeds = std::thread::spawn(move || {
///     orders.send((7, 300));
///     prices.send(101.5);
/// });
///
/// let mut seen = Vec::new();
/// while seen.len() < 2 {
///     let mut sel = Select::new();
///     let p = sel.recv(&price_rx);
///     let o = sel.recv(&order_rx);
///     let i = sel.ready();
///     drop(sel); // lets go of the subscribers, to `try_recv` on the one it named
///     if i == p {
///         seen.push(format!("price {}", price_rx.try_recv().unwrap()));
///     } else if i == o {
///         let (id, qty) = order_rx.try_recv().unwrap();
///         seen.push(format!("order {id} x{qty}"));
///     }
/// }
/// feeds.join().unwrap();
/// seen.sort();
/// assert_eq!(seen, ["order 7 x300", "price 101.5"]);
/// ```
#[must_use = "a Select does nothing until one of its `ready` methods is called"]
pub struct Select<'a> {
    entries: Vec<Entry<'a>>,
}

impl<'a> Select<'a> {
    /// An empty `Select`.
    pub fn new() -> Select<'a> {
        Select {
            entries: Vec::new(),
        }
    }

    /// Adds a subscriber; returns its index (0 for the first, then 1, 2, …).
    pub fn recv<T: Copy + Send + 'static>(&mut self, rx: &'a Subscriber<T>) -> usize {
        self.entries.push(Entry { rx, wait: None });
        self.entries.len() - 1
    }

    /// The index of a subscriber whose `try_recv` would not return `Empty` now, if any;
    /// never waits.
    ///
    /// ```
    /// let (mut tx, rx) = seqcast::channel::<u8>(4);
    /// let (_other_tx, other) = seqcast::channel::<u64>(4);
    /// let mut sel = seqcast::Select::new();
    /// sel.recv(&other);
    /// let i = sel.recv(&rx);
    /// assert_eq!(sel.try_ready(), None);
    /// tx.send(1);
    /// assert_eq!(sel.try_ready(), Some(i));
    /// ```
    pub fn try_ready(&mut self) -> Option<usize> {
        self.find()
    }

    /// Waits until a subscriber's `try_recv` would not return `Empty`; returns its index.
    ///
    /// # Panics
    /// If no subscriber was added (it would wait forever).
    pub fn ready(&mut self) -> usize {
        assert!(
            !self.entries.is_empty(),
            "Select::ready with no subscriber would wait forever"
        );
        match self.wait(None) {
            Some(i) => i,
            None => unreachable!("a wait without a deadline returns an index"),
        }
    }

    /// Like [`ready`](Self::ready), giving up after `timeout`. With no subscriber, it just
    /// waits out the timeout (or, if `timeout` is too long to represent, returns at once).
    ///
    /// ```
    /// use std::time::Duration;
    /// use seqcast::error::ReadyTimeoutError;
    ///
    /// let (_tx, rx) = seqcast::channel::<u8>(4);
    /// let mut sel = seqcast::Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.ready_timeout(Duration::from_millis(1)), Err(ReadyTimeoutError));
    /// ```
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.ready_deadline(deadline),
            // Too far ahead to represent: as good as no deadline.
            None if !self.entries.is_empty() => Ok(self.ready()),
            None => Err(ReadyTimeoutError),
        }
    }

    /// Like [`ready`](Self::ready), giving up at `deadline`.
    pub fn ready_deadline(&mut self, deadline: Instant) -> Result<usize, ReadyTimeoutError> {
        if self.entries.is_empty() {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            return Err(ReadyTimeoutError);
        }
        self.wait(Some(deadline)).ok_or(ReadyTimeoutError)
    }

    /// One scan, from this wait's start (see "Fairness").
    fn find(&self) -> Option<usize> {
        let n = self.entries.len();
        let start = start(n);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| self.entries[i].rx.has_answer())
    }

    /// Poll, then arm, re-check and sleep (module docs); `None`: `deadline` passed. Returns
    /// disarmed.
    // Under loom SPINS and YIELDS are 0, which makes a comparison below constant.
    #[allow(clippy::absurd_extreme_comparisons)]
    fn wait(&mut self, deadline: Option<Instant>) -> Option<usize> {
        let mut round = 0u32;
        loop {
            if let Some(i) = self.find() {
                return Some(i);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            if round >= SPINS + YIELDS {
                break;
            }
            if round < SPINS {
                spin_loop();
            } else {
                yield_now();
            }
            round += 1;
        }
        loop {
            let bell = self.arm();
            // Step 3. Teeth (loom): without it, a message sent between the last scan and the
            // registration is missed (its publisher saw no waiter); the select model must
            // find that.
            #[cfg(not(seqcast_loom_broken_select))]
            if let Some(i) = self.find() {
                self.disarm();
                return Some(i);
            }
            let rung = self.sleep(&bell, deadline);
            self.disarm();
            if let Some(i) = self.find() {
                return Some(i);
            }
            if !rung {
                return None;
            }
        }
    }

    /// Steps 1 and 2: registers on every ring, then one heavy barrier. Returns the bell.
    fn arm(&mut self) -> Bell {
        let bell = Bell::new();
        for entry in &mut self.entries {
            debug_assert!(entry.wait.is_none(), "armed twice");
            #[cfg(not(seqcast_loom))]
            let listening = entry.rx.register(&bell.waker);
            #[cfg(seqcast_loom)]
            let listening = entry.rx.register();
            entry.wait = Some(listening);
        }
        // SeqCst (heavy side): the other half of each registration's pair with the ring's
        // `wake_waiters` (module docs, "No lost wake-up").
        heavy_barrier(asymmetric_available());
        bell
    }

    /// Drops every registration (the listen first, then the `waiters` count).
    fn disarm(&mut self) {
        for entry in &mut self.entries {
            if entry.wait.take().is_some() {
                entry.rx.unregister();
            }
        }
    }

    /// Step 4 for a thread: until the bell rings (true) or `deadline` passes (false).
    #[cfg(not(seqcast_loom))]
    fn sleep(&self, bell: &Bell, deadline: Option<Instant>) -> bool {
        bell.sleep(deadline)
    }

    /// Under loom: a yield loop on the events' generations (module docs); loom has no clock.
    #[cfg(seqcast_loom)]
    fn sleep(&self, _bell: &Bell, _deadline: Option<Instant>) -> bool {
        while !self
            .entries
            .iter()
            .any(|e| e.wait.as_ref().is_some_and(|l| e.rx.notified(l)))
        {
            yield_now();
        }
        true
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl Drop for Select<'_> {
    fn drop(&mut self) {
        // Only a panic inside a wait could leave it armed; even then no ring may keep
        // counting a waiter that is gone.
        self.disarm();
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("subscribers", &self.entries.len())
            .finish()
    }
}

/// Where this thread's next scan of `n` subscribers starts (see "Fairness").
#[cfg(not(seqcast_loom))]
fn start(n: usize) -> usize {
    use std::cell::Cell;
    thread_local! {
        static NEXT: Cell<usize> = const { Cell::new(0) };
    }
    if n <= 1 {
        return 0;
    }
    NEXT.with(|next| {
        let s = next.get();
        next.set(s.wrapping_add(1));
        s % n
    })
}

/// Under loom: always the first (a model must run the same way each time it is replayed).
#[cfg(seqcast_loom)]
fn start(_n: usize) -> usize {
    0
}

#[cfg(not(seqcast_loom))]
use bell::Bell;

/// Under loom there is no bell (module docs): the sleep watches the events instead.
#[cfg(seqcast_loom)]
struct Bell;

#[cfg(seqcast_loom)]
impl Bell {
    fn new() -> Bell {
        Bell
    }
}

/// The bell (module docs): what every event a waiting `Select` listens on wakes.
#[cfg(not(seqcast_loom))]
mod bell {
    use crate::sync::{AtomicBool, Ordering};
    // The std `Arc`: `Waker::from` needs it, and the bell is not modelled under loom.
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    use std::thread::{self, Thread};
    use std::time::Instant;

    /// One arming's bell, and the same as a waker for the events.
    pub(super) struct Bell {
        ring: Arc<Ring>,
        pub(super) waker: Waker,
    }

    /// Written by whoever notifies one of the arming's events (`rung`); the thread is fixed.
    struct Ring {
        /// Set by a wake; never reset (each arming has its own).
        rung: AtomicBool,
        /// The waiting thread.
        sleeper: Thread,
    }

    impl Bell {
        pub(super) fn new() -> Bell {
            let ring = Arc::new(Ring {
                rung: AtomicBool::new(false),
                sleeper: thread::current(),
            });
            Bell {
                waker: Waker::from(ring.clone()),
                ring,
            }
        }

        /// Parks until a wake (true) or `deadline` (false). Spurious unparks just loop.
        pub(super) fn sleep(&self, deadline: Option<Instant>) -> bool {
            loop {
                // Acquire: pairs with the Release in `wake_by_ref`. What the wake announces
                // is read from the rings by the re-check that follows, not through this flag.
                if self.ring.rung.load(Ordering::Acquire) {
                    return true;
                }
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
    }

    impl Wake for Ring {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            // Release: pairs with the Acquire in `sleep`; the unpark after it makes a `park`
            // that missed the flag return.
            self.rung.store(true, Ordering::Release);
            self.sleeper.unpark();
        }
    }
}
