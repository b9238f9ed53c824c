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
//! `AtomicU64`, which is only sound for payloads without padding (the loom models use `u64`).

#[cfg(not(seqcast_loom))]
mod imp {
    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use std::sync::Arc;
    pub(crate) use std::thread::yield_now;

    /// One payload word (see the module docs).
    pub(crate) type Word = atomic_maybe_uninit::AtomicMaybeUninit<u64>;
}

#[cfg(seqcast_loom)]
mod imp {
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::thread::yield_now;
    use std::mem::MaybeUninit;

    /// One payload word, modelled by a loom `AtomicU64` (see the module docs).
    #[derive(Debug)]
    pub(crate) struct Word(loom::sync::atomic::AtomicU64);

    impl Word {
        pub(crate) fn new(v: MaybeUninit<u64>) -> Self {
            // SAFETY: loom builds are test-only; their payloads are `u64`s (no padding), so
            // every word handed to a `Word` is initialised.
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
