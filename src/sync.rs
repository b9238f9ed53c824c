//! The loom shim: the one place that chooses between `std` and `loom`.
//!
//! Every atomic, fence, `Arc` and spin hint in the crate comes from here. Built with
//! `RUSTFLAGS="--cfg seqcast_loom"`, the same code runs under loom's model checker (see
//! `loom-tests/`). We use a crate-specific cfg name because tokio and other dependencies react
//! to a plain `cfg(loom)`.
//!
//! [`Word`] is the unit of a payload copy: an 8-byte atomic that may hold uninitialised bytes
//! (padding of `T`). In normal builds it is `atomic_maybe_uninit::AtomicMaybeUninit<u64>`,
//! which copies such bytes with plain `mov`s in inline assembly, so a payload with padding is
//! copied without undefined behaviour. loom has no such type: under loom a `Word` wraps a loom
//! `AtomicU64`, which is only sound for payloads without padding (the loom models use `u64`
//! and arrays of `u64`).
//!
//! Miri cannot run inline assembly either, so under `cfg(miri)` a `Word` is a std `AtomicU64`
//! too: Miri then checks the seqlock's atomics and fences as they are written, but only for
//! payloads without padding bytes inside `T` (storing an uninitialised byte through a `u64`
//! is undefined behaviour, which Miri reports). The bytes that widen a `T` to whole words are
//! zeroed under Miri (`ring::slot`), so `u8` or `[u8; 3]` payloads are checked too. Tests that
//! send payloads with padding are ignored under Miri.

#[cfg(not(seqcast_loom))]
mod imp {
    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use std::thread::{sleep, yield_now};

    /// One payload word (see the module docs).
    #[cfg(not(miri))]
    pub(crate) type Word = atomic_maybe_uninit::AtomicMaybeUninit<u64>;

    /// One payload word under Miri: a std `AtomicU64` (see the module docs).
    #[cfg(miri)]
    pub(crate) use super::miri_word::Word;
}

/// The Miri stand-in for `AtomicMaybeUninit<u64>`: the same `from_ptr`/`load`/`store` surface
/// over a std `AtomicU64`, sound only for words that are initialised (payloads without padding).
#[cfg(all(miri, not(seqcast_loom)))]
mod miri_word {
    use std::mem::MaybeUninit;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[repr(transparent)]
    pub(crate) struct Word(AtomicU64);

    impl Word {
        /// # Safety
        /// As `AtomicU64::from_ptr`: `ptr` is 8-aligned, valid for the returned lifetime, and
        /// only accessed atomically meanwhile.
        pub(crate) unsafe fn from_ptr<'a>(ptr: *mut MaybeUninit<u64>) -> &'a Word {
            // SAFETY: `Word` is a transparent `AtomicU64`, and `MaybeUninit<u64>` has the
            // layout of `u64`; the caller upholds `AtomicU64::from_ptr`'s contract.
            let atomic: &'a AtomicU64 = unsafe { AtomicU64::from_ptr(ptr.cast::<u64>()) };
            // SAFETY: `Word` is `repr(transparent)` over `AtomicU64`.
            unsafe { &*(atomic as *const AtomicU64).cast::<Word>() }
        }
        pub(crate) fn load(&self, order: Ordering) -> MaybeUninit<u64> {
            MaybeUninit::new(self.0.load(order))
        }
        pub(crate) fn store(&self, v: MaybeUninit<u64>, order: Ordering) {
            // SAFETY: under Miri only padding-free payloads are sent (module docs), so every
            // word is initialised; were one not, Miri would report this `assume_init`.
            self.0.store(unsafe { v.assume_init() }, order)
        }
    }
}

#[cfg(seqcast_loom)]
mod imp {
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::thread::yield_now;
    // For the topic table's stand-in for `arc-swap` (`bus::swap`), which loom cannot model,
    // and the gate registry.
    pub(crate) use loom::sync::{Mutex, MutexGuard};

    /// loom has no clock: a sleeping publisher just yields.
    pub(crate) fn sleep(_: std::time::Duration) {
        loom::thread::yield_now();
    }
    use std::mem::MaybeUninit;

    /// One payload word, modelled by a loom `AtomicU64` (see the module docs).
    #[derive(Debug)]
    pub(crate) struct Word(loom::sync::atomic::AtomicU64);

    impl Word {
        pub(crate) fn new(v: MaybeUninit<u64>) -> Self {
            // SAFETY: loom builds are test-only; their payloads are `u64`s or arrays of them
            // (no padding), so every word handed to a `Word` is initialised.
            Word(loom::sync::atomic::AtomicU64::new(unsafe {
                v.assume_init()
            }))
        }
        pub(crate) fn load(&self, order: Ordering) -> MaybeUninit<u64> {
            MaybeUninit::new(self.0.load(order))
        }
        pub(crate) fn store(&self, v: MaybeUninit<u64>, order: Ordering) {
            // SAFETY: as in `new`: loom payloads have no uninitialised bytes.
            self.0.store(unsafe { v.assume_init() }, order)
        }
    }
}

pub(crate) use imp::*;

// ---------------------------------------------------------------------------------------------
// Waiting: asymmetric barriers and the parking event (DESIGN.md §3).
//
// A parked subscriber and the publisher form a Dekker pair: the publisher stores a stamp then
// loads `waiters`; the subscriber increments `waiters` then loads the stamp. Without a full
// fence on both sides both loads may miss (store-load reordering) and the subscriber sleeps
// through its message. A full fence on every send would cost the publisher a store-buffer
// drain, so the fences are asymmetric (as in folly's `asymmetricLightBarrier`): the publisher's
// side is a compiler fence, and the rare parking side runs `membarrier(PRIVATE_EXPEDITED)`,
// which forces a full barrier on every CPU running a thread of this process. Where membarrier
// is unavailable (not Linux, or refused), both sides use `fence(SeqCst)`. Under loom both
// sides are `fence(SeqCst)`, which is what the asymmetric pair guarantees.

#[cfg(not(seqcast_loom))]
mod barrier {
    use std::sync::atomic::{compiler_fence, fence, Ordering};

    /// Whether this process registered for expedited private membarriers (asked once).
    /// Never under Miri, which cannot run the syscall: both sides then use `fence(SeqCst)`,
    /// the symmetric fallback, which Miri's weak-memory emulation can check.
    #[cfg(miri)]
    pub(crate) fn asymmetric_available() -> bool {
        false
    }

    /// Whether this process registered for expedited private membarriers (asked once).
    #[cfg(not(miri))]
    pub(crate) fn asymmetric_available() -> bool {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(register)
    }

    #[cfg(all(target_os = "linux", not(miri)))]
    fn register() -> bool {
        const REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;
        // SAFETY: membarrier takes two integers and no pointers; an unsupported command just
        // fails with an error code.
        unsafe { libc::syscall(libc::SYS_membarrier, REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 }
    }

    #[cfg(all(not(target_os = "linux"), not(miri)))]
    fn register() -> bool {
        false
    }

    /// The publisher's side: free when `asymmetric` (see above).
    #[inline(always)]
    pub(crate) fn light_barrier(asymmetric: bool) {
        if asymmetric {
            compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
    }

    /// The parking side: a full barrier on every CPU running this process.
    pub(crate) fn heavy_barrier(asymmetric: bool) {
        #[cfg(all(target_os = "linux", not(miri)))]
        if asymmetric {
            const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
            // SAFETY: as in `register`; the process registered for this command (`asymmetric`
            // is only true after a successful registration).
            if unsafe { libc::syscall(libc::SYS_membarrier, PRIVATE_EXPEDITED, 0, 0) } == 0 {
                return;
            }
        }
        let _ = asymmetric;
        fence(Ordering::SeqCst);
    }
}

#[cfg(seqcast_loom)]
mod barrier {
    use loom::sync::atomic::{fence, Ordering};

    pub(crate) fn asymmetric_available() -> bool {
        false
    }
    pub(crate) fn light_barrier(_: bool) {
        // The wake-up "teeth" build drops the publisher's half of the barrier pair; the loom
        // wake-up model must then find a lost wake-up.
        #[cfg(not(seqcast_loom_broken_wakeup))]
        fence(Ordering::SeqCst);
    }
    pub(crate) fn heavy_barrier(_: bool) {
        fence(Ordering::SeqCst);
    }
}

/// The parking primitive: our own eventcount (`sync/event.rs` says why not `event-listener`:
/// a waker may re-enter it).
#[cfg(not(seqcast_loom))]
mod event;

/// Under loom: an eventcount on loom's `Mutex` and `Condvar` with the same surface.
#[cfg(seqcast_loom)]
mod event {
    use loom::sync::{Condvar, Mutex};
    use std::time::Instant;

    /// The generation seen when listening.
    pub(crate) type Listening = u64;

    #[derive(Debug, Default)]
    pub(crate) struct Event {
        generation: Mutex<u64>,
        cv: Condvar,
    }

    impl Event {
        pub(crate) fn listen(&self) -> Listening {
            *self.generation.lock().unwrap()
        }
        /// loom cannot model timeouts: waits for a notification whatever the deadline.
        pub(crate) fn wait(&self, l: Listening, _deadline: Option<Instant>) -> bool {
            let mut g = self.generation.lock().unwrap();
            while *g == l {
                g = self.cv.wait(g).unwrap();
            }
            true
        }
        pub(crate) fn notify_all(&self) {
            *self.generation.lock().unwrap() += 1;
            self.cv.notify_all();
        }
    }
}

pub(crate) use barrier::{asymmetric_available, heavy_barrier, light_barrier};
pub(crate) use event::{Event, Listening};

/// How every waiter that cannot park polls: `spins` spin hints, then `yields` calls to
/// `yield_now`, then sleeps that double from `first_sleep` up to 1 ms, never past a deadline.
/// Used by publishers waiting for gated subscribers, shm subscribers and pattern subscribers.
#[derive(Debug)]
pub(crate) struct Backoff {
    round: u32,
    spins: u32,
    yields: u32,
    pause: std::time::Duration,
}

impl Backoff {
    pub(crate) const MAX_SLEEP: std::time::Duration = std::time::Duration::from_millis(1);

    pub(crate) const fn new(spins: u32, yields: u32, first_sleep: std::time::Duration) -> Self {
        Backoff {
            round: 0,
            spins,
            yields,
            pause: first_sleep,
        }
    }

    /// Still in the spinning phase (callers may skip reading the clock then).
    #[cfg_attr(seqcast_loom, allow(dead_code))] // only shm uses it; loom builds leave shm out
    pub(crate) fn spinning(&self) -> bool {
        self.round < self.spins
    }

    /// Waits once, as the current phase says.
    pub(crate) fn snooze(&mut self, deadline: Option<std::time::Instant>) {
        let round = self.round;
        self.round = round.saturating_add(1);
        if round < self.spins {
            spin_loop();
        } else if round < self.spins.saturating_add(self.yields) {
            yield_now();
        } else {
            let mut pause = self.pause;
            self.pause = (pause * 2).min(Self::MAX_SLEEP);
            if let Some(d) = deadline {
                pause = pause.min(d.saturating_duration_since(std::time::Instant::now()));
            }
            sleep(pause);
        }
    }
}
