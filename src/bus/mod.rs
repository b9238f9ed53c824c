//! Topics: the [`Bus`], a lock-free table of named, typed topics with wildcard
//! subscriptions, for code used to a Go-style event bus (`Publish("user.created", evt)`,
//! `Subscribe("user.*")`).
//!
//! Each topic is an ordinary seqcast ring ([`channel`](crate::channel)); the bus only finds
//! it by name. Publishing and receiving through a bus handle is exactly publishing and
//! receiving on the ring: the table is consulted when a handle is made, never per message.
//!
//! ```
//! use seqcast::Bus;
//!
//! #[derive(Clone, Copy, Debug, PartialEq)]
//! struct UserCreated { id: u64 }
//!
//! let bus = Bus::new();
//! let mut email = bus.subscribe::<UserCreated>("user.created")?;     // creates the topic
//! let mut audit = bus.subscribe_pattern::<UserCreated>("user.*")?;
//!
//! let users = bus.publisher::<UserCreated>("user.created")?;         // same topic
//! users.send(UserCreated { id: 7 });
//!
//! assert_eq!(email.try_recv(), Ok(UserCreated { id: 7 }));
//! let (topic, event) = audit.try_recv().unwrap();
//! assert_eq!((topic.as_str(), event), ("user.created", UserCreated { id: 7 }));
//!
//! // A topic's payload type is fixed by whoever created it.
//! assert!(bus.publisher::<u32>("user.created").is_err());
//! # Ok::<(), seqcast::error::BusError>(())
//! ```
//!
//! # Names and patterns
//! Topic names are dot-separated tokens, as in NATS: `order.created`, `metrics.eu.cpu`. A
//! token is any non-empty text without `.`, whitespace or control characters; `*` and `>`
//! are reserved for patterns. In a [`Pattern`], `*` matches exactly one token and `>`
//! matches one or more trailing tokens (last token only):
//!
//! | pattern        | matches                          | does not match             |
//! |----------------|----------------------------------|----------------------------|
//! | `user.*`       | `user.created`, `user.deleted`   | `user`, `user.created.eu`  |
//! | `*.error`      | `api.error`, `db.error`          | `error`, `db.read.error`   |
//! | `order.>`      | `order.created`, `order.eu.paid` | `order`                    |
//! | `>`            | every name                       |                            |
//!
//! Bad input is a [`BusError`] naming it: empty names, empty tokens
//! (`a..b`, `.a`, `a.`), wildcards in a topic name, `>` before the end (`a.>.b`), partial
//! wildcards (`a*`, `*b`), whitespace or control characters. [`validate_topic`] and
//! [`Pattern::parse`] check names up front.
//!
//! # Record topics
//! Besides typed rings of `T: Copy`, a bus holds [record](crate::record) topics by the same
//! names: [`Bus::records`] (byte records of any length up to half the ring) and, with the
//! `serde` feature, [`Bus::typed`] (any `Serialize + DeserializeOwned` type, encoded by a
//! codec). The kind is part of a topic's identity: raw records, or one `(type, codec)`; a
//! lookup of another kind is [`BusError::TypeMismatch`] naming both. Raw record subscribers
//! may read a typed record topic's bytes. Pattern subscribers read any kind
//! ([`PatternReceiver`], [`TopicKind`]): `subscribe_pattern_records`,
//! `subscribe_pattern_typed`. Record topics are removed, listed and monitored like the rest
//! ([`TopicInfo`]: their capacity is in bytes and `published` counts records). Their
//! publishers take turns on a lock (see [`SharedRecordPublisher`]); their subscribers never
//! do, and never write shared memory.
//!
//! # Topic lifetime
//! * [`Bus::publisher`] and [`Bus::subscribe`] create a missing topic, with the bus's
//!   capacity and lag policy ([`Bus::builder`]). The bus holds a publisher of its own, so a
//!   topic stays open while user publishers come and go.
//! * [`Bus::remove`] closes the topic: its subscribers read what is left and then get
//!   [`Closed`](crate::error::TryRecvError::Closed); its publishers are refused:
//!   [`SharedPublisher::send`](crate::SharedPublisher::send) hands the value back in
//!   [`SendError`](crate::error::SendError), [`try_send`](crate::SharedPublisher::try_send)
//!   in [`TrySendError::Closed`](crate::error::TrySendError::Closed), and
//!   [`is_closed`](crate::SharedPublisher::is_closed) turns true. A later lookup of the same
//!   name creates a new topic with a fresh ring (of any type); old handles stay on the old,
//!   closed one. The bus remembers the last 32 removed topics for pattern subscribers that
//!   have not yet looked at them, so a removed ring's memory is freed once no handle holds it
//!   and 32 more topics have been removed. Of the 256 removals before those it keeps only
//!   the name and message count, so that such a subscriber reports the messages lost.
//!
//! # Wildcard subscriptions
//! [`Bus::subscribe_pattern`] returns a [`PatternSubscriber`] that reads every matching
//! topic of its payload type, including topics created after it subscribed (noticed through
//! a generation counter it loads on each receive: no lock, no shared write). Items are
//! `(Topic, T)`; order is kept per topic; topics are polled round robin; lag and removal are
//! reported per topic. Matching topics of another payload type are skipped and listed by
//! [`PatternSubscriber::skipped_topics`].
//!
//! A pattern subscriber waits like a [`Subscriber`]: [`recv`](PatternSubscriber::recv)
//! parks the thread, and with the `async` feature `recv_async` and its `Stream` park the
//! task, until a send on a topic it reads, a new matching topic or a removal wakes it. While
//! parked it is registered with each of its topics, which then pay a notify per send, as for
//! a parked `Subscriber`; once it returns it is registered nowhere. Creating or removing a
//! topic wakes every parked pattern subscriber of the bus (each rescans, and parks again if
//! nothing concerns it).
//!
//! # Costs and guarantees
//! * Looking up an existing topic ([`Bus::publisher`], [`Bus::subscribe`]): lock-free, one
//!   `arc-swap` load and a `BTreeMap` lookup, plus the handle's own reference counts.
//!   Creating or removing a topic copies the map (copy-on-write) and never blocks
//!   publishers or subscribers of any topic.
//! * A [`SharedPublisher`] from the bus is the ring's multi-producer
//!   publisher; to publish from one thread at single-producer cost, keep a `channel` outside
//!   the bus.
//! * [`Bus::topics`] lists each topic's type, capacity, messages published and live
//!   subscribers. It cannot say how far the slowest *lossy* subscriber is behind: subscribers
//!   keep their position in private memory and never write shared memory, which is what
//!   keeps publishing at the same cost with 1 or 100 subscribers. Reporting positions costs a
//!   shared store, so it is opt-in: gated subscribers always publish theirs, and a lossy one
//!   can call [`Subscriber::report_position`](crate::Subscriber::report_position); then
//!   [`SharedPublisher::positions`] shows them, slowest first. Each subscriber knows its own
//!   [`lag`](crate::Subscriber::lag).

mod kind;
#[cfg(all(test, seqcast_loom))]
mod loom_model;
mod pattern;
mod pattern_sub;
mod swap;
mod table;
mod topic;
#[cfg(feature = "serde")]
mod typed;

#[cfg(feature = "serde")]
pub use kind::TypedRecords;
pub use kind::{Records, TopicKind, Values};
pub use pattern::{validate_topic, Pattern};
#[cfg(seqcast_async)]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use pattern_sub::PatternRecvFuture;
#[cfg(feature = "serde")]
pub use pattern_sub::TypedPatternSubscriber;
pub use pattern_sub::{PatternReceiver, PatternSubscriber, RecordPatternSubscriber};
pub use topic::Topic;

use crate::error::{BusError, CapacityError};
use crate::record::{RecordSubscriber, SharedRecordPublisher};
use crate::sync::Arc;
use crate::{LagPolicy, SharedPublisher, SlotLayout, Subscriber};
use core::fmt;
use table::TopicTable;

/// Ring capacity of the topics of a [`Bus::new`] bus.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Ring size in bytes of the record topics of a [`Bus::new`] bus (records up to half of it).
pub const DEFAULT_RECORD_CAPACITY: usize = 64 * 1024;

/// State shared by every clone of a [`Bus`] and by its pattern subscribers.
pub(crate) struct Inner {
    pub(crate) table: TopicTable,
    /// Ring capacity of new topics (already validated).
    capacity: usize,
    /// Slot layout of every topic's ring.
    layout: SlotLayout,
    /// Ring size in bytes of new record topics.
    record_capacity: usize,
    /// Lag policy given to new subscribers.
    policy: LagPolicy,
}

/// A table of named, typed topics, each a seqcast ring. See the [module docs](self).
///
/// `Bus` is a cheap handle (`Clone`, `Send`, `Sync`): clones share the same topics.
///
/// # Examples
/// ```
/// use seqcast::{Bus, LagPolicy};
/// use seqcast::error::{TryRecvError, TrySendError};
///
/// let bus = Bus::builder().capacity(64).lag_policy(LagPolicy::Skip).build();
/// let mut rx = bus.subscribe::<f64>("metrics.cpu")?;
/// let tx = bus.publisher::<f64>("metrics.cpu")?;
/// tx.send(0.25);
/// assert_eq!(rx.try_recv(), Ok(0.25));
///
/// let topics = bus.topics();
/// assert_eq!(topics[0].name, "metrics.cpu");
/// assert_eq!((topics[0].capacity, topics[0].published, topics[0].subscribers), (64, 1, 1));
///
/// assert!(bus.remove("metrics.cpu")?);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// assert_eq!(tx.try_send(0.5), Err(TrySendError::Closed(0.5))); // the value comes back
/// # Ok::<(), seqcast::error::BusError>(())
/// ```
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

impl Bus {
    /// A bus whose topics have [`DEFAULT_CAPACITY`] slots and whose subscribers use
    /// [`LagPolicy::Skip`].
    pub fn new() -> Bus {
        Bus::builder().build()
    }

    /// A builder to choose the capacity and lag policy of the bus's topics.
    pub fn builder() -> BusBuilder {
        BusBuilder {
            capacity: DEFAULT_CAPACITY,
            layout: SlotLayout::Auto,
            record_capacity: DEFAULT_RECORD_CAPACITY,
            policy: LagPolicy::Skip,
        }
    }

    /// A publisher for topic `name`, creating the topic if it does not exist.
    ///
    /// Errors: an invalid name ([`validate_topic`]), [`BusError::TypeMismatch`] if the
    /// topic exists with another payload type, [`BusError::Capacity`] if its ring cannot be
    /// allocated. If the topic is removed while the publisher lives, its sends are refused
    /// (see [`Bus::remove`]).
    pub fn publisher<T: Copy + Send + 'static>(
        &self,
        name: &str,
    ) -> Result<SharedPublisher<T>, BusError> {
        self.inner
            .table
            .with_topic(name, (self.inner.capacity, self.inner.layout), |cell| {
                cell.publisher.clone()
            })
    }

    /// A subscriber to topic `name` that starts with the next message published, creating
    /// the topic if it does not exist. It has the bus's lag policy. Errors as
    /// [`publisher`](Self::publisher).
    pub fn subscribe<T: Copy + Send + 'static>(
        &self,
        name: &str,
    ) -> Result<Subscriber<T>, BusError> {
        let policy = self.inner.policy;
        self.inner
            .table
            .with_topic(name, (self.inner.capacity, self.inner.layout), |cell| {
                cell.subscribe_now(policy)
            })
    }

    /// A subscriber to topic `name` that starts with the oldest message its ring still holds
    /// (replay for a late joiner: a dashboard that wants the last values), creating the topic
    /// if it does not exist. See [`SharedPublisher::subscribe_oldest`]. Errors as
    /// [`publisher`](Self::publisher).
    ///
    /// ```
    /// let bus = seqcast::Bus::new();
    /// let tx = bus.publisher::<u32>("metrics.cpu").unwrap();
    /// tx.send(41).unwrap();
    /// tx.send(42).unwrap();
    /// let mut late = bus.subscribe_oldest::<u32>("metrics.cpu").unwrap();
    /// assert_eq!(late.try_recv(), Ok(41));
    /// assert_eq!(late.try_recv(), Ok(42));
    /// ```
    pub fn subscribe_oldest<T: Copy + Send + 'static>(
        &self,
        name: &str,
    ) -> Result<Subscriber<T>, BusError> {
        let policy = self.inner.policy;
        self.inner
            .table
            .with_topic(name, (self.inner.capacity, self.inner.layout), |cell| {
                let mut rx = cell.publisher.subscribe_oldest();
                rx.set_lag_policy(policy);
                rx
            })
    }

    /// A gated (lossless) subscriber to topic `name`, creating the topic if it does not exist:
    /// the topic's publishers wait for it instead of lapping it, until it stalls for longer
    /// than `config` allows (see [`Publisher::subscribe_gated`](crate::Publisher::subscribe_gated)).
    ///
    /// ```
    /// let bus = seqcast::Bus::new();
    /// let mut audit = bus.subscribe_gated::<u64>("orders.filled", Default::default())?;
    /// bus.publisher::<u64>("orders.filled")?.send(7);
    /// assert_eq!(audit.try_recv(), Ok(7));
    /// # Ok::<(), seqcast::error::BusError>(())
    /// ```
    pub fn subscribe_gated<T: Copy + Send + 'static>(
        &self,
        name: &str,
        config: crate::GateConfig,
    ) -> Result<Subscriber<T>, BusError> {
        self.inner
            .table
            .with_topic(name, (self.inner.capacity, self.inner.layout), |cell| {
                cell.publisher.subscribe_gated_with(config)
            })
    }

    /// A subscriber to every topic of payload type `T` whose name matches `pattern`, now and
    /// in the future (see [`PatternSubscriber`]). Errors: an invalid pattern
    /// ([`Pattern::parse`]).
    pub fn subscribe_pattern<T: Copy + Send + 'static>(
        &self,
        pattern: &str,
    ) -> Result<PatternSubscriber<T>, BusError> {
        let pattern = Pattern::parse(pattern)?;
        Ok(PatternSubscriber::new(
            self.inner.clone(),
            pattern,
            self.inner.policy,
        ))
    }

    /// A publisher for record topic `name` (messages of any length up to
    /// [`max_len`](SharedRecordPublisher::max_len): see [`record`](crate::record)), creating
    /// the topic if it does not exist, with a ring of
    /// [`record_capacity`](BusBuilder::record_capacity) bytes. Its subscribers come from the
    /// publisher (`subscribe`, `subscribe_gated`, `subscribe_oldest`) or from
    /// [`subscribe_records`](Self::subscribe_records).
    ///
    /// Errors as [`publisher`](Self::publisher): the topic's kind is fixed by whoever created
    /// it, so a typed topic, or a record topic of serde values ([`typed`](Self::typed)), is a
    /// [`BusError::TypeMismatch`] here.
    ///
    /// ```
    /// let bus = seqcast::Bus::new();
    /// let logs = bus.records("log.api")?;
    /// let mut rx = logs.subscribe();
    /// logs.send(b"GET /orders/17 200 1.2ms").unwrap();
    /// assert_eq!(rx.try_recv().unwrap(), b"GET /orders/17 200 1.2ms");
    /// assert!(bus.publisher::<u64>("log.api").is_err()); // a record topic
    /// # Ok::<(), seqcast::error::BusError>(())
    /// ```
    pub fn records(&self, name: &str) -> Result<SharedRecordPublisher, BusError> {
        let capacity = self.inner.record_capacity;
        self.inner.table.with_entry(
            name,
            || table::NewTopic::records(name, capacity, None),
            |entry| {
                let cell = entry.records(None, table::RAW_RECORDS)?;
                match entry.kind.typed {
                    None => Ok(cell.publisher.clone()),
                    Some(_) => Err(BusError::TypeMismatch {
                        topic: name.to_owned(),
                        expected: entry.type_name,
                        found: table::RAW_RECORDS,
                    }),
                }
            },
        )
    }

    /// A subscriber to record topic `name` that starts with the next record, creating the
    /// topic (raw) if it does not exist. It reads any record topic, typed ones included (as
    /// their encoded bytes). It has the bus's lag policy.
    pub fn subscribe_records(&self, name: &str) -> Result<RecordSubscriber, BusError> {
        let (capacity, policy) = (self.inner.record_capacity, self.inner.policy);
        self.inner.table.with_entry(
            name,
            || table::NewTopic::records(name, capacity, None),
            |entry| {
                let mut rx = entry
                    .records(None, table::RAW_RECORDS)?
                    .publisher
                    .subscribe();
                rx.set_lag_policy(policy);
                Ok(rx)
            },
        )
    }

    /// A subscriber to every record topic whose name matches `pattern`, typed ones included,
    /// each message a record's bytes (see [`PatternReceiver`]).
    pub fn subscribe_pattern_records(
        &self,
        pattern: &str,
    ) -> Result<RecordPatternSubscriber, BusError> {
        let pattern = Pattern::parse(pattern)?;
        Ok(PatternReceiver::new(
            self.inner.clone(),
            pattern,
            self.inner.policy,
        ))
    }

    /// Like [`subscribe_pattern`](Self::subscribe_pattern), but the matching topics that
    /// exist now are read from the oldest message each still holds (replay for a late
    /// joiner, as [`subscribe_oldest`](Self::subscribe_oldest) for one topic); topics created
    /// later are read from their first message, as always. The same replay for record
    /// topics: `PatternReceiver` of any kind through
    /// [`subscribe_pattern_oldest_of`](Self::subscribe_pattern_oldest_of).
    ///
    /// ```
    /// let bus = seqcast::Bus::new();
    /// bus.publisher::<f64>("metrics.cpu").unwrap().send(0.25).unwrap();
    /// bus.publisher::<f64>("metrics.mem").unwrap().send(0.5).unwrap();
    /// let mut late = bus.subscribe_pattern_oldest::<f64>("metrics.*").unwrap();
    /// let mut last: Vec<_> = std::iter::from_fn(|| late.try_recv().ok())
    ///     .map(|(topic, v)| (topic.to_string(), v))
    ///     .collect();
    /// last.sort_by(|a, b| a.0.cmp(&b.0));
    /// assert_eq!(last, [("metrics.cpu".to_string(), 0.25), ("metrics.mem".to_string(), 0.5)]);
    /// ```
    pub fn subscribe_pattern_oldest<T: Copy + Send + 'static>(
        &self,
        pattern: &str,
    ) -> Result<PatternSubscriber<T>, BusError> {
        self.subscribe_pattern_oldest_of(pattern)
    }

    /// Replay for a pattern subscriber of any kind ([`Values<T>`], [`Records`],
    /// `TypedRecords<T, C>`): see [`subscribe_pattern_oldest`](Self::subscribe_pattern_oldest).
    pub fn subscribe_pattern_oldest_of<K: TopicKind>(
        &self,
        pattern: &str,
    ) -> Result<PatternReceiver<K>, BusError> {
        let pattern = Pattern::parse(pattern)?;
        Ok(PatternReceiver::starting(
            self.inner.clone(),
            pattern,
            self.inner.policy,
            true,
        ))
    }

    /// Removes topic `name` and closes it. Returns whether it existed.
    ///
    /// Its subscribers (pattern subscribers included) read what is left, then see `Closed`.
    /// Its publishers are refused from then on: `send` hands the value back in
    /// [`SendError`](crate::error::SendError), `try_send` in
    /// [`TrySendError::Closed`](crate::error::TrySendError::Closed). A send
    /// racing with the removal either lands before the close (and is delivered) or is
    /// refused. The name is free again: a later lookup creates a new topic.
    ///
    /// Errors: an invalid name ([`validate_topic`]): `remove("user.*")` is an error, not a
    /// bulk removal.
    pub fn remove(&self, name: &str) -> Result<bool, BusError> {
        validate_topic(name)?;
        Ok(self.inner.table.remove(name))
    }

    /// A snapshot of the topics, sorted by name.
    ///
    /// It has no "slowest subscriber" figure: see the [module docs](self#costs-and-guarantees)
    /// for why that cannot be had without slowing subscribers down.
    pub fn topics(&self) -> Vec<TopicInfo> {
        let table = self.inner.table.load();
        table
            .topics
            .values()
            .map(|e| TopicInfo {
                name: e.name.clone(),
                type_name: e.type_name,
                capacity: e.capacity(),
                published: e.published(),
                subscribers: e.subscribers(),
            })
            .collect()
    }

    /// Ring capacity given to new topics.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// Lag policy given to new subscribers.
    pub fn lag_policy(&self) -> LagPolicy {
        self.inner.policy
    }
}

impl Default for Bus {
    fn default() -> Bus {
        Bus::new()
    }
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus")
            .field("capacity", &self.inner.capacity)
            .field("slot_layout", &self.inner.layout)
            .field("record_capacity", &self.inner.record_capacity)
            .field("lag_policy", &self.inner.policy)
            .field("table", &self.inner.table)
            .finish()
    }
}

/// Builds a [`Bus`]: the ring capacity and the lag policy of its topics.
#[derive(Debug, Clone)]
pub struct BusBuilder {
    capacity: usize,
    layout: SlotLayout,
    record_capacity: usize,
    policy: LagPolicy,
}

impl BusBuilder {
    /// Ring capacity of each topic (rounded up to a power of two, as in
    /// [`channel`](crate::channel)). Default: [`DEFAULT_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// How each topic's slots sit in memory, as in [`try_channel_with`](crate::try_channel_with).
    /// Default: [`SlotLayout::Auto`], chosen per payload size.
    pub fn slot_layout(mut self, layout: SlotLayout) -> Self {
        self.layout = layout;
        self
    }

    /// Ring size in bytes of each record topic ([`Bus::records`], [`Bus::typed`]), rounded
    /// up as in [`record::channel`](crate::record::channel); a record may take up to half of
    /// it. Default: [`DEFAULT_RECORD_CAPACITY`].
    pub fn record_capacity(mut self, bytes: usize) -> Self {
        self.record_capacity = bytes;
        self
    }

    /// Lag policy of the subscribers the bus hands out (plain and pattern). Default:
    /// [`LagPolicy::Skip`].
    pub fn lag_policy(mut self, policy: LagPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Builds the bus.
    ///
    /// # Panics
    /// If the capacity is 0 or cannot be rounded up to a power of two, like
    /// [`channel`](crate::channel). Use [`try_build`](Self::try_build) to get an error.
    pub fn build(self) -> Bus {
        match self.try_build() {
            Ok(bus) => bus,
            Err(e) => panic!("seqcast::Bus: {e}"),
        }
    }

    /// Builds the bus, or reports a capacity of 0 or one that cannot be rounded up to a power
    /// of two. (A capacity too large to allocate for a given payload type is reported when a
    /// topic is created: [`BusError::Capacity`].)
    ///
    /// ```
    /// use seqcast::error::CapacityError;
    /// assert_eq!(seqcast::Bus::builder().capacity(0).try_build().unwrap_err(), CapacityError::Zero);
    /// assert_eq!(seqcast::Bus::builder().capacity(100).try_build().unwrap().capacity(), 128);
    /// ```
    pub fn try_build(self) -> Result<Bus, CapacityError> {
        let capacity = CapacityError::check(self.capacity)?;
        Ok(Bus {
            inner: Arc::new(Inner {
                table: TopicTable::new(),
                capacity,
                layout: self.layout,
                record_capacity: CapacityError::check(self.record_capacity.div_ceil(64))? * 64,
                policy: self.policy,
            }),
        })
    }
}

/// One topic, as listed by [`Bus::topics`]: a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicInfo {
    /// The topic's name.
    pub name: Topic,
    /// Its payload type (`core::any::type_name`).
    pub type_name: &'static str,
    /// Its ring capacity: slots for a typed topic, bytes for a record topic.
    pub capacity: usize,
    /// Messages published so far (claimed by a send); records for a record topic.
    pub published: u64,
    /// Live subscribers, pattern subscribers' per-topic readers included (the reader the
    /// bus keeps for itself, see [`Bus::publisher`], is not counted).
    pub subscribers: usize,
}
