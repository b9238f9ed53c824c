//! Alarms for async waits that need a wake-up at a deadline: one process-wide timer thread.
//!
//! An async send waiting for a gated subscriber must wake up when that subscriber is due for
//! eviction, or when its own timeout expires, even if nothing else happens. seqcast works
//! under any executor, so it cannot use one executor's timer; instead a single thread, spawned
//! the first time an alarm is set, sleeps on a `Condvar` until the earliest alarm and wakes
//! its waker. This is the shape of `futures-timer`'s global helper thread, reduced to what the
//! sends need: set, refresh the waker, cancel on drop.
//!
//! # Who writes what
//! * `State::alarms`: under the mutex, by `Alarm::set` / `refresh` / drop (the futures) and by
//!   the timer thread, which removes each alarm as it fires and wakes it after unlocking (a
//!   waker may poll the future inline, which may set an alarm again).
//! * `State::started`: set once, under the mutex, when the thread is spawned.
//!
//! The thread never exits; it holds no memory beyond the alarms still set. Alarms are rare
//! (only sends that found the ring full for a gated subscriber set one), so a mutex suffices.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::Instant;

/// An alarm's key: when it fires, and a number that tells apart alarms set for one instant.
type Key = (Instant, u64);

struct State {
    alarms: BTreeMap<Key, Waker>,
    next_id: u64,
    started: bool,
}

struct Timers {
    state: Mutex<State>,
    /// Notified when an alarm earlier than every other one is set.
    earlier: Condvar,
}

static TIMERS: Timers = Timers {
    state: Mutex::new(State {
        alarms: BTreeMap::new(),
        next_id: 0,
        started: false,
    }),
    earlier: Condvar::new(),
};

fn lock() -> MutexGuard<'static, State> {
    // A panic while holding the lock leaves the map consistent (every change is one call).
    TIMERS.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A set alarm: wakes its waker at `at` unless dropped first. Dropping it cancels it.
#[derive(Debug)]
pub(crate) struct Alarm {
    key: Key,
}

impl Alarm {
    /// Sets an alarm that wakes `waker` at `at`. `None` if the timer thread could not be
    /// started (the caller must then poll again without it).
    pub(crate) fn set(at: Instant, waker: &Waker) -> Option<Alarm> {
        let mut st = lock();
        if !st.started {
            let spawned = std::thread::Builder::new()
                .name("seqcast-timer".into())
                .spawn(run);
            if spawned.is_err() {
                return None;
            }
            st.started = true;
        }
        let key = (at, st.next_id);
        st.next_id += 1;
        st.alarms.insert(key, waker.clone());
        if st.alarms.keys().next() == Some(&key) {
            TIMERS.earlier.notify_one();
        }
        Some(Alarm { key })
    }

    /// When it fires.
    pub(crate) fn at(&self) -> Instant {
        self.key.0
    }

    /// Makes it wake `waker` instead (the future moved to another task). False if it has
    /// fired already.
    pub(crate) fn refresh(&self, waker: &Waker) -> bool {
        match lock().alarms.get_mut(&self.key) {
            Some(w) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            None => false,
        }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        lock().alarms.remove(&self.key);
    }
}

/// Alarms currently set (for tests, which hold `SERIAL` so that they do not see each other's).
#[cfg(test)]
pub(crate) fn alarms_set() -> usize {
    lock().alarms.len()
}

/// Held by every unit test that sets alarms.
#[cfg(test)]
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

/// The timer thread: fire what is due, then sleep until the earliest alarm (or a new one).
fn run() {
    let mut due = Vec::new();
    let mut st = lock();
    loop {
        let now = Instant::now();
        while let Some(alarm) = st.alarms.first_entry() {
            if alarm.key().0 > now {
                break;
            }
            due.push(alarm.remove());
        }
        if !due.is_empty() {
            drop(st);
            for waker in due.drain(..) {
                // A panicking waker must not stop the alarms of every other future.
                let _ = catch_unwind(AssertUnwindSafe(|| waker.wake()));
            }
            st = lock();
            continue;
        }
        st = match st.alarms.keys().next() {
            Some(&(at, _)) => {
                let wait = at.saturating_duration_since(now);
                TIMERS
                    .earlier
                    .wait_timeout(st, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => TIMERS
                .earlier
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn an_alarm_fires_once_and_a_dropped_one_never() {
        let _serial = SERIAL.lock();
        let fired = Arc::new(Count(AtomicUsize::new(0)));
        let cancelled = Arc::new(Count(AtomicUsize::new(0)));
        let now = Instant::now();
        let a = Alarm::set(now + Duration::from_millis(5), &Waker::from(fired.clone())).unwrap();
        // Far in the future: the test must not depend on `drop(b)` running within a few
        // milliseconds of `set` (a slow machine, or Miri's virtual clock, misses that).
        let b = Alarm::set(
            now + Duration::from_secs(3600),
            &Waker::from(cancelled.clone()),
        );
        drop(b);
        while fired.0.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            !a.refresh(&Waker::from(fired.clone())),
            "fired alarms are gone"
        );
        drop(a);
        // A dropped alarm is gone from the timer's map, so it can never fire.
        assert_eq!(alarms_set(), 0, "dropped alarms are removed");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(fired.0.load(Ordering::SeqCst), 1);
        assert_eq!(cancelled.0.load(Ordering::SeqCst), 0);
    }
}
