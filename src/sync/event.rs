//! The parking primitive: an eventcount that parked threads and pending tasks wait on, and that
//! publishers notify (DESIGN.md §3; the ring's module docs, "Waiting", say when).
//!
//! # Why not `event-listener`
//! A `Waker` is the user's code, and it may do anything, including publish on or close the
//! very topic it waits on, from its `wake` or its `drop`. `event-listener` wakes, replaces and
//! drops stored wakers while it holds its list lock, so such a waker re-enters `notify` and
//! deadlocks on that lock (when a poll replaces the waker, or when a publisher's notify wakes
//! it). Here one rule rules that out: **no waker is cloned, woken or dropped while `state` is
//! locked.** Wakers are taken out under the lock and woken or dropped after unlocking; a poll
//! clones the new waker before locking, swaps it in, and drops the old one after unlocking.
//! The same holds for the thread handles of blocking waiters (unparked after unlocking).
//! Nothing else of the user's runs under the lock, so it cannot be poisoned by a user panic.
//!
//! # State (all under one `Mutex`, written by listeners and notifiers alike)
//! * `generation`: how many `notify_all`s have run. A [`Listening`] remembers the generation
//!   it registered in; it has been notified exactly when the generation has moved on.
//! * `entries`: one entry per listener registered in the current generation, indexed by the
//!   listener's `key`; how to wake it (nothing yet, a thread, or a task's waker). Freed keys
//!   are `Vacant` and listed in `vacant` for reuse.
//! * `notify_all` bumps the generation and takes the whole `entries` list out (swapping in the
//!   empty `spare` buffer, so that a notify allocates nothing once the buffers have grown),
//!   then wakes the taken entries after unlocking and hands their buffer back as `spare`.
//!   Keys of the old generation are thereby all dead: a listener of an older generation never
//!   touches `entries` again (its drop is a no-op).
//!
//! # No lost wake-up
//! `listen` registers under the lock, so a `notify_all` that locks after it (in the mutex's
//! order) sees the entry and wakes it, or has bumped the generation the waiter checks before
//! parking. The ring orders its `listen` before its re-check of the slot (`Ring::start_waiting`),
//! and its publishers' notify after their slot write, which is what makes the pair sound.
//! A blocking waiter parks with `thread::park`, re-checking the generation under the lock
//! before each park: an `unpark` that lands between that check and the park makes the park
//! return at once, and spurious returns just loop. (An `unpark` that arrives after its waiter
//! already returned leaves the thread's token set, so the thread's next `park` anywhere may
//! return early: std allows any `park` to return spuriously, and correct callers loop.)
//!
//! # Cost
//! `listen` (or `listen_waking`, which stores a waker at once), a poll that changes the
//! waker, a blocking wait and a drop each take the lock once or twice; `notify_all` twice
//! (once to take the entries, once to hand the buffer back). Publishers only call `notify_all` while somebody waits (`Ring::wake_waiters`) or on close.

// The std types directly, not the loom shim's: loom builds use the Condvar stand-in in
// `sync.rs` instead of this module.
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

/// Where parked subscribers of one ring wait. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Event(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// `notify_all` calls so far.
    generation: u64,
    /// The current generation's listeners, by key.
    entries: Vec<Entry>,
    /// Keys of `Vacant` entries, for reuse.
    vacant: Vec<usize>,
    /// An empty buffer for the next `notify_all` to swap in for `entries`.
    spare: Vec<Entry>,
}

/// One listener's way to be woken.
#[derive(Debug)]
enum Entry {
    /// Free key (listed in `State::vacant`).
    Vacant,
    /// Registered; neither waiting nor polled yet.
    Idle,
    /// A thread blocked in `Event::wait`.
    Thread(Thread),
    /// A task that polled the listener.
    Task(Waker),
}

impl Entry {
    /// Wakes whoever the entry names. Runs the user's waker: never call it under the lock.
    fn wake(self) {
        match self {
            Entry::Thread(t) => t.unpark(),
            Entry::Task(w) => w.wake(),
            Entry::Vacant | Entry::Idle => {}
        }
    }
}

/// Locks `state`. Only this module's own code runs under the lock (never a waker), so a
/// poisoned lock means a bug here was caught by a panic; the state is still consistent.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A registered interest in the next `notify_all`: await it (a `Future<Output = ()>`), or
/// hand it to [`Event::wait`]. Dropping it deregisters (and drops its waker, outside the lock).
pub(crate) struct Listening {
    state: Arc<Mutex<State>>,
    /// The generation it registered in.
    generation: u64,
    /// Its index in `State::entries` while `generation` is current.
    key: usize,
}

impl Event {
    /// Registers for the next `notify_all`: one that starts after this returns wakes it.
    pub(crate) fn listen(&self) -> Listening {
        self.register(Entry::Idle)
    }

    /// Like `listen` followed by a first poll with `waker`, in one lock: the entry holds the
    /// waker from the start. For a receiver that waits on several events at once and hands
    /// each the same waker (the bus's pattern subscriber, `bus::pattern_sub::wait`), so that
    /// registering on `n` events takes `n` locks, not `3n`.
    pub(crate) fn listen_waking(&self, waker: &Waker) -> Listening {
        // Cloning runs the waker's code: before locking.
        self.register(Entry::Task(waker.clone()))
    }

    fn register(&self, entry: Entry) -> Listening {
        let state = self.0.clone();
        let mut s = lock(&self.0);
        let key = match s.vacant.pop() {
            Some(key) => {
                debug_assert!(matches!(s.entries[key], Entry::Vacant));
                s.entries[key] = entry;
                key
            }
            None => {
                s.entries.push(entry);
                s.entries.len() - 1
            }
        };
        let generation = s.generation;
        drop(s);
        Listening {
            state,
            generation,
            key,
        }
    }

    /// Blocks until `l` is notified, or until `deadline`; returns false on timeout. `l` drops
    /// on return: a no-op once notified, else it deregisters.
    pub(crate) fn wait(&self, l: Listening, deadline: Option<Instant>) -> bool {
        debug_assert!(
            Arc::ptr_eq(&self.0, &l.state),
            "a listener of another event"
        );
        let me = thread::current();
        let mut registered = false;
        loop {
            let replaced = {
                let mut s = lock(&l.state);
                if s.generation != l.generation {
                    return true;
                }
                if registered {
                    None
                } else {
                    registered = true;
                    Some(mem::replace(
                        &mut s.entries[l.key],
                        Entry::Thread(me.clone()),
                    ))
                }
            };
            // After unlocking: the entry may hold a waker (if `l` was polled before).
            drop(replaced);
            match deadline {
                None => thread::park(),
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => thread::park_timeout(left),
                    // The generation was checked just above: not notified in time.
                    _ => return false,
                },
            }
        }
    }

    /// Wakes every listener registered before this call.
    pub(crate) fn notify_all(&self) {
        let mut taken = {
            let mut s = lock(&self.0);
            s.generation += 1;
            if s.entries.is_empty() {
                return;
            }
            s.vacant.clear();
            let spare = mem::take(&mut s.spare);
            mem::replace(&mut s.entries, spare)
        };
        // Unlocked: a waker may publish or close on this topic (re-entering `notify_all`), or
        // listen again; either just takes the lock afresh.
        for entry in taken.drain(..) {
            entry.wake();
        }
        // Hand the (now empty) buffer back for the next notify, unless a re-entrant notify
        // from one of the wakers above already left a bigger one.
        let mut s = lock(&self.0);
        if s.spare.capacity() < taken.capacity() {
            s.spare = taken;
        }
    }
}

impl Future for Listening {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        {
            let s = lock(&this.state);
            if s.generation != this.generation {
                return Poll::Ready(());
            }
            // `will_wake` only compares pointers: no user code under the lock.
            if let Entry::Task(w) = &s.entries[this.key] {
                if w.will_wake(cx.waker()) {
                    return Poll::Pending;
                }
            }
        }
        // Cloning runs the waker's code: before locking.
        let new = Entry::Task(cx.waker().clone());
        let old = {
            let mut s = lock(&this.state);
            if s.generation != this.generation {
                // Notified meanwhile: unlock before dropping the clone.
                drop(s);
                drop(new);
                return Poll::Ready(());
            }
            mem::replace(&mut s.entries[this.key], new)
        };
        // After unlocking: the old waker's drop may publish on or close this topic, which
        // wakes the waker just stored; the caller will be polled again.
        drop(old);
        Poll::Pending
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let entry = {
            let mut s = lock(&self.state);
            if s.generation != self.generation {
                // Notified: its entry left with that notify.
                return;
            }
            let entry = if self.key + 1 == s.entries.len() {
                s.entries.pop()
            } else {
                s.vacant.push(self.key);
                Some(mem::replace(&mut s.entries[self.key], Entry::Vacant))
            };
            debug_assert!(!matches!(entry, None | Some(Entry::Vacant)));
            entry
        };
        // After unlocking: dropping a waker runs the user's code.
        drop(entry);
    }
}

impl core::fmt::Debug for Listening {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Listening")
            .field("generation", &self.generation)
            .field("key", &self.key)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;
    use std::time::Duration;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn counting() -> (Waker, Arc<Count>) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (Waker::from(c.clone()), c)
    }

    #[test]
    fn a_notify_after_listen_is_never_lost() {
        let e = Event::default();
        let l = e.listen();
        e.notify_all();
        assert!(e.wait(l, Some(Instant::now())));
        let l = e.listen();
        assert!(!e.wait(l, Some(Instant::now() + Duration::from_millis(5))));
    }

    #[test]
    fn a_parked_thread_is_woken() {
        let e = Arc::new(Event::default());
        let l = e.listen();
        let t = {
            let e = e.clone();
            thread::spawn(move || e.wait(l, None))
        };
        thread::sleep(Duration::from_millis(10));
        e.notify_all();
        assert!(t.join().unwrap());
    }

    /// A notify racing a waiter that has just listened: the waiter must always be woken (a
    /// lost wake-up would leave it to time out).
    #[test]
    fn racing_notifies_are_never_lost() {
        let e = Arc::new(Event::default());
        let listened = Arc::new(AtomicUsize::new(0));
        const ROUNDS: usize = 2_000;
        let waiter = {
            let (e, listened) = (e.clone(), listened.clone());
            thread::spawn(move || {
                for round in 0..ROUNDS {
                    let l = e.listen();
                    listened.store(round + 1, Ordering::SeqCst);
                    let deadline = Instant::now() + Duration::from_secs(10);
                    assert!(e.wait(l, Some(deadline)), "round {round}: wake-up lost");
                }
            })
        };
        for round in 0..ROUNDS {
            while listened.load(Ordering::SeqCst) <= round {
                thread::yield_now();
            }
            e.notify_all();
        }
        waiter.join().unwrap();
    }

    #[test]
    fn a_poll_keeps_only_the_latest_waker() {
        let e = Event::default();
        let mut l = e.listen();
        let (a, a_count) = counting();
        let (b, b_count) = counting();
        assert!(Pin::new(&mut l)
            .poll(&mut Context::from_waker(&a))
            .is_pending());
        assert!(Pin::new(&mut l)
            .poll(&mut Context::from_waker(&b))
            .is_pending());
        // `a` was dropped by the second poll: only our handle is left.
        assert_eq!(Arc::strong_count(&a_count), 2);
        drop(a);
        assert_eq!(Arc::strong_count(&a_count), 1);
        e.notify_all();
        assert_eq!(a_count.0.load(Ordering::SeqCst), 0);
        assert_eq!(b_count.0.load(Ordering::SeqCst), 1);
        assert!(Pin::new(&mut l)
            .poll(&mut Context::from_waker(&b))
            .is_ready());
    }

    #[test]
    fn listen_waking_stores_the_waker_from_the_start() {
        let e = Event::default();
        let (w, count) = counting();
        let mut l = e.listen_waking(&w);
        assert_eq!(Arc::strong_count(&count), 3, "ours, `w`, the entry's clone");
        e.notify_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(Pin::new(&mut l)
            .poll(&mut Context::from_waker(&w))
            .is_ready());
        // Deregistered before any notify: the entry's clone goes with it.
        let l = e.listen_waking(&w);
        drop(l);
        assert_eq!(Arc::strong_count(&count), 2);
        e.notify_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropped_listeners_free_their_keys_and_notify_reuses_its_buffer() {
        let e = Event::default();
        for _ in 0..100 {
            let ls: Vec<_> = (0..8).map(|_| e.listen()).collect();
            // Drop in an order that leaves holes before the last key.
            for (i, l) in ls.into_iter().enumerate().rev() {
                if i % 2 == 0 {
                    drop(l);
                }
            }
        }
        assert!(lock(&e.0).entries.len() <= 8);
        let ls: Vec<_> = (0..8).map(|_| e.listen()).collect();
        e.notify_all();
        let buffer = lock(&e.0).spare.capacity();
        assert!(buffer >= 8);
        drop(ls);
        let again: Vec<_> = (0..8).map(|_| e.listen()).collect();
        e.notify_all();
        assert_eq!(lock(&e.0).spare.capacity(), buffer);
        drop(again);
    }
}
