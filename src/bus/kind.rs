//! [`TopicKind`]: what a [`PatternSubscriber`](super::PatternSubscriber) reads, so that one
//! pattern subscriber serves typed rings, raw record topics and typed record topics.
//!
//! A kind says which topics of the table it reads (by their [`KindKey`]), how to join one
//! (a subscriber at the next message, or at the first), and what one message is. The
//! pattern subscriber's polling, waiting and accounting are the same for every kind.

// The sealed traits' methods take and return crate-private types (table entries, event
// registrations): nothing outside the crate can name the traits, so none can call them.
#![allow(private_interfaces)]

use super::table::{Entry, KindKey};
use crate::error::TryRecvError;
use crate::record::RecordSubscriber;
use crate::{LagPolicy, Subscriber, SubscriberStats};

/// Typed topics of `T` (rings of `T: Copy`), as a [`PatternSubscriber<T>`](super::PatternSubscriber)
/// reads them: each message is a `T`.
pub struct Values<T>(core::marker::PhantomData<fn() -> T>);

impl<T> core::fmt::Debug for Values<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Values<{}>", core::any::type_name::<T>())
    }
}

/// Raw record topics, as a [`PatternSubscriber`](super::PatternSubscriber) reads them: each
/// message is a record's bytes. Reads every record topic whose name matches, typed record
/// topics included (their records are the encoded values).
///
/// ```
/// let bus = seqcast::Bus::new();
/// let mut all = bus.subscribe_pattern_records("log.>").unwrap();
/// bus.records("log.api").unwrap().send(b"GET /orders 200").unwrap();
/// let (topic, line) = all.try_recv().unwrap();
/// assert_eq!((topic.as_str(), &line[..]), ("log.api", &b"GET /orders 200"[..]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Records;

/// Record topics of serde values of type `T` with codec `C`, as a
/// [`PatternSubscriber`](super::PatternSubscriber) reads them (see
/// [`Bus::subscribe_pattern_typed`](super::Bus::subscribe_pattern_typed)): each message is
/// `Ok(value)`, or `Err(RecordError::Decode)` for a record that did not decode (counted as
/// received; never the case for records the bus's typed publishers sent).
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub struct TypedRecords<T, C = crate::record::Postcard>(core::marker::PhantomData<fn() -> (T, C)>);

#[cfg(feature = "serde")]
impl<T, C> core::fmt::Debug for TypedRecords<T, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TypedRecords<{}>", core::any::type_name::<(T, C)>())
    }
}

/// What a [`PatternReceiver`](super::PatternReceiver) reads: [`Values<T>`] (typed topics of
/// `T: Copy`: [`PatternSubscriber<T>`](super::PatternSubscriber)), [`Records`] (record
/// topics, as bytes) and, with the `serde` feature, `TypedRecords<T, C>` (record topics of
/// serde type `T`). Sealed.
pub trait TopicKind: sealed::Kind {}

impl<K: sealed::Kind> TopicKind for K {}

pub(crate) mod sealed {
    use super::*;

    /// The pattern subscriber's view of one kind (module docs).
    pub trait Kind: Send + 'static {
        /// One message.
        type Item;
        /// The per-topic reader.
        type Rx: Rx<Item = Self::Item>;
        /// Whether topics of this kind are read.
        fn accepts(kind: &KindKey) -> bool;
        /// A reader at the topic's next message (`None`: not of this kind).
        fn subscribe_now(entry: &Entry, policy: LagPolicy) -> Option<Self::Rx>;
        /// A reader at the oldest message the topic still holds, with `policy` (replay).
        fn subscribe_oldest(entry: &Entry, policy: LagPolicy) -> Option<Self::Rx>;
        /// A reader at the topic's first message: an exact `Lagged(n)` for those gone.
        fn subscribe_from_start(entry: &Entry) -> Option<Self::Rx>;
    }

    /// A per-topic reader: what the pattern subscriber polls and waits on.
    pub trait Rx: Send + Unpin + 'static {
        type Item;
        fn try_recv(&mut self) -> Result<Self::Item, TryRecvError>;
        fn set_lag_policy(&mut self, policy: LagPolicy);
        fn stats(&self) -> SubscriberStats;
        /// The ring whose event a wait registers on.
        fn ring_reader(&self) -> &dyn Waitable;
    }

    /// The registration calls of a ring's subscriber, whatever its payload.
    pub trait Waitable {
        #[cfg(not(seqcast_loom))]
        fn register_waiter(&self, waker: &std::task::Waker) -> crate::sync::Listening;
        #[cfg(seqcast_loom)]
        fn register_waiter(&self) -> crate::sync::Listening;
        #[cfg(seqcast_loom)]
        fn notified_since(&self, listening: &crate::sync::Listening) -> bool;
        fn unregister_waiter(&self);
    }
}

use sealed::{Kind, Rx, Waitable};

impl<T: Copy + Send + 'static> Waitable for Subscriber<T> {
    #[cfg(not(seqcast_loom))]
    fn register_waiter(&self, waker: &std::task::Waker) -> crate::sync::Listening {
        Subscriber::register_waiter(self, waker)
    }
    #[cfg(seqcast_loom)]
    fn register_waiter(&self) -> crate::sync::Listening {
        Subscriber::register_waiter(self)
    }
    #[cfg(seqcast_loom)]
    fn notified_since(&self, listening: &crate::sync::Listening) -> bool {
        Subscriber::notified_since(self, listening)
    }
    fn unregister_waiter(&self) {
        Subscriber::unregister_waiter(self)
    }
}

impl<T: Copy + Send + 'static> Rx for Subscriber<T> {
    type Item = T;
    #[inline]
    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        Subscriber::try_recv(self)
    }
    fn set_lag_policy(&mut self, policy: LagPolicy) {
        Subscriber::set_lag_policy(self, policy)
    }
    fn stats(&self) -> SubscriberStats {
        Subscriber::stats(self)
    }
    fn ring_reader(&self) -> &dyn Waitable {
        self
    }
}

impl<T: Copy + Send + 'static> Kind for Values<T> {
    type Item = T;
    type Rx = Subscriber<T>;
    fn accepts(kind: &KindKey) -> bool {
        kind.cell == core::any::TypeId::of::<super::table::TopicCell<T>>()
    }
    fn subscribe_now(entry: &Entry, policy: LagPolicy) -> Option<Subscriber<T>> {
        entry
            .cell::<T>()
            .ok()
            .map(|cell| cell.subscribe_now(policy))
    }
    fn subscribe_oldest(entry: &Entry, policy: LagPolicy) -> Option<Subscriber<T>> {
        entry.cell::<T>().ok().map(|cell| {
            let mut rx = cell.publisher.subscribe_oldest();
            rx.set_lag_policy(policy);
            rx
        })
    }
    fn subscribe_from_start(entry: &Entry) -> Option<Subscriber<T>> {
        entry
            .cell::<T>()
            .ok()
            .map(|cell| cell.subscribe_from_start())
    }
}

impl Rx for RecordSubscriber {
    type Item = Vec<u8>;
    fn try_recv(&mut self) -> Result<Vec<u8>, TryRecvError> {
        RecordSubscriber::try_recv(self)
    }
    fn set_lag_policy(&mut self, policy: LagPolicy) {
        RecordSubscriber::set_lag_policy(self, policy)
    }
    fn stats(&self) -> SubscriberStats {
        RecordSubscriber::stats(self)
    }
    fn ring_reader(&self) -> &dyn Waitable {
        self.chunks()
    }
}

/// A record topic's cell, if `entry` is one (of any typing).
fn record_cell(entry: &Entry) -> Option<&super::table::RecordCell> {
    entry.records(None, super::table::RAW_RECORDS).ok()
}

impl Kind for Records {
    type Item = Vec<u8>;
    type Rx = RecordSubscriber;
    fn accepts(kind: &KindKey) -> bool {
        kind.cell == core::any::TypeId::of::<super::table::RecordCell>()
    }
    fn subscribe_now(entry: &Entry, policy: LagPolicy) -> Option<RecordSubscriber> {
        record_cell(entry).map(|cell| {
            let mut rx = cell.publisher.subscribe();
            rx.set_lag_policy(policy);
            rx
        })
    }
    fn subscribe_oldest(entry: &Entry, policy: LagPolicy) -> Option<RecordSubscriber> {
        record_cell(entry).map(|cell| {
            let mut rx = cell.publisher.subscribe_oldest();
            rx.set_lag_policy(policy);
            rx
        })
    }
    fn subscribe_from_start(entry: &Entry) -> Option<RecordSubscriber> {
        record_cell(entry).map(|cell| cell.publisher.subscribe_from_start())
    }
}

#[cfg(feature = "serde")]
mod typed {
    use super::*;
    use crate::error::RecordError;
    use crate::record::{Codec, TypedSubscriber};
    use core::any::TypeId;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    impl<T, C> Rx for TypedSubscriber<T, C>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        C: Codec + Send + 'static,
    {
        type Item = Result<T, RecordError>;
        fn try_recv(&mut self) -> Result<Result<T, RecordError>, TryRecvError> {
            match TypedSubscriber::try_recv(self) {
                Ok(value) => Ok(Ok(value)),
                Err(RecordError::Recv(e)) => Err(e),
                Err(e) => Ok(Err(e)),
            }
        }
        fn set_lag_policy(&mut self, policy: LagPolicy) {
            TypedSubscriber::set_lag_policy(self, policy)
        }
        fn stats(&self) -> SubscriberStats {
            TypedSubscriber::stats(self)
        }
        fn ring_reader(&self) -> &dyn Waitable {
            self.record_reader().chunks()
        }
    }

    impl<T, C> Kind for TypedRecords<T, C>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        C: Codec + Send + 'static,
    {
        type Item = Result<T, RecordError>;
        type Rx = TypedSubscriber<T, C>;
        fn accepts(kind: &KindKey) -> bool {
            kind.typed == Some(TypeId::of::<(T, C)>())
        }
        fn subscribe_now(entry: &Entry, policy: LagPolicy) -> Option<Self::Rx> {
            let cell = entry.records(Some(TypeId::of::<(T, C)>()), "").ok()?;
            let mut rx = TypedSubscriber::new(cell.publisher.subscribe());
            rx.set_lag_policy(policy);
            Some(rx)
        }
        fn subscribe_oldest(entry: &Entry, policy: LagPolicy) -> Option<Self::Rx> {
            let cell = entry.records(Some(TypeId::of::<(T, C)>()), "").ok()?;
            let mut rx = TypedSubscriber::new(cell.publisher.subscribe_oldest());
            rx.set_lag_policy(policy);
            Some(rx)
        }
        fn subscribe_from_start(entry: &Entry) -> Option<Self::Rx> {
            let cell = entry.records(Some(TypeId::of::<(T, C)>()), "").ok()?;
            Some(TypedSubscriber::new(cell.publisher.subscribe_from_start()))
        }
    }
}
