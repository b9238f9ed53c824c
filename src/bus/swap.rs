//! The atomic pointer behind the topic table: [`Swap<T>`], an `Arc<T>` that readers load
//! without a lock and writers replace copy-on-write.
//!
//! In normal builds it is a thin wrapper over [`arc_swap::ArcSwap`]: `load` is lock-free
//! (a few atomic operations on a thread-local "debt" slot, never on a shared counter that
//! other readers write), and `rcu` is a compare-and-swap loop that re-runs its closure if
//! another writer got in first.
//!
//! loom cannot see inside `arc-swap` (its debt lists use `std` atomics), so under
//! `cfg(seqcast_loom)` the same surface (`new`, `load`, `store`, `rcu`) is a stand-in built
//! on loom's `Mutex` and `Arc` (DESIGN.md §4). The stand-in keeps `rcu`'s observable
//! behaviour: the closure runs outside the lock on a snapshot and is re-run if the snapshot
//! was replaced meanwhile, so models explore the same interleavings of writers.

use crate::sync::Arc;

#[cfg(not(seqcast_loom))]
mod imp {
    use super::Arc;

    /// What [`Swap::load`] returns: a guard that dereferences to the current `Arc<T>`.
    /// Hold it briefly (it occupies one of the thread's few debt slots).
    pub(crate) type Loaded<T> = arc_swap::Guard<Arc<T>>;

    /// An atomically replaceable `Arc<T>` (see the module docs).
    pub(crate) struct Swap<T>(arc_swap::ArcSwap<T>);

    impl<T> Swap<T> {
        pub(crate) fn new(value: Arc<T>) -> Self {
            Swap(arc_swap::ArcSwap::new(value))
        }

        /// The current value. Lock-free; no shared write.
        #[inline]
        pub(crate) fn load(&self) -> Loaded<T> {
            self.0.load()
        }

        /// Replaces the current value.
        #[allow(dead_code)] // part of the mirrored surface; the bus only uses `rcu`
        pub(crate) fn store(&self, value: Arc<T>) {
            self.0.store(value)
        }

        /// Read-copy-update: runs `f` on the current value and installs its result if the
        /// value was not replaced meanwhile, else retries with the newer value. Returns the
        /// value that was replaced.
        pub(crate) fn rcu<R, F>(&self, f: F) -> Arc<T>
        where
            F: FnMut(&Arc<T>) -> R,
            R: Into<Arc<T>>,
        {
            self.0.rcu(f)
        }
    }
}

#[cfg(seqcast_loom)]
mod imp {
    use super::Arc;
    use crate::sync::Mutex;

    /// What [`Swap::load`] returns: a clone of the current `Arc<T>`.
    pub(crate) type Loaded<T> = Arc<T>;

    /// loom stand-in for `arc_swap::ArcSwap<T>` (see the module docs).
    pub(crate) struct Swap<T>(Mutex<Arc<T>>);

    impl<T> Swap<T> {
        pub(crate) fn new(value: Arc<T>) -> Self {
            Swap(Mutex::new(value))
        }

        fn locked(&self) -> crate::sync::MutexGuard<'_, Arc<T>> {
            // A panic while holding the lock leaves a valid `Arc` behind: ignore poisoning.
            match self.0.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            }
        }

        pub(crate) fn load(&self) -> Loaded<T> {
            self.locked().clone()
        }

        #[allow(dead_code)] // part of the mirrored surface; the bus only uses `rcu`
        pub(crate) fn store(&self, value: Arc<T>) {
            let old = core::mem::replace(&mut *self.locked(), value);
            drop(old);
        }

        pub(crate) fn rcu<R, F>(&self, mut f: F) -> Arc<T>
        where
            F: FnMut(&Arc<T>) -> R,
            R: Into<Arc<T>>,
        {
            loop {
                let current = self.load();
                let new = f(&current).into();
                let mut guard = self.locked();
                if Arc::ptr_eq(&guard, &current) {
                    return core::mem::replace(&mut *guard, new);
                }
            }
        }
    }
}

pub(crate) use imp::{Loaded, Swap};

impl<T> core::fmt::Debug for Swap<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Swap(..)")
    }
}
