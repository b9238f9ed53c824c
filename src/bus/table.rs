//! The topic table: an immutable [`Table`] (name -> topic) behind a [`Swap`], read without a
//! lock and replaced copy-on-write, plus the generation counter pattern subscribers poll.
//!
//! # Shape
//! * `TopicTable::current`: a `Swap<Table>`. A `Table` is never modified once published:
//!   creating or removing a topic clones it (cloning only `Arc`s), edits the clone and
//!   installs it with `rcu` (a compare-and-swap loop). Lookups `load()` the current table, no
//!   lock, and so never wait for a writer; writers never wait for readers either.
//! * Each [`Entry`] holds one topic type-erased (`Box<dyn ErasedTopic>`): a [`TopicCell<T>`]
//!   with the bus's own [`SharedPublisher<T>`], or a [`RecordCell`] with its own
//!   `SharedRecordPublisher` (either keeps the topic open while user publishers come and
//!   go), and the [`KindKey`] that says which; pattern subscribers that discover a topic after its creation read it from
//!   its first message (`SharedPublisher::subscribe_at(0)`). A typed lookup downcasts the cell (`Any`); the wrong `T` is
//!   [`BusError::TypeMismatch`], never a panic.
//! * `Table::generation`: each installed table has its predecessor's generation plus one, so
//!   a topic's `created` generation identifies it (a topic removed and re-created under the
//!   same name is a different entry) and tells a pattern subscriber whether it was created
//!   after its last scan.
//! * `Table::removed`: the last [`REMEMBERED_REMOVALS`] removed topics (closed), so that a
//!   pattern subscriber that did not look at the table between a topic's creation and its
//!   removal still reads what was published on it. Older removals are forgotten: their rings
//!   are freed once no handle holds them.
//! * `Table::forgotten`: for the [`REMEMBERED_FORGOTTEN`] removals before those, only the
//!   name, identity, payload type and message count ([`Forgotten`]), so that such a pattern
//!   subscriber can at least report those messages lost. Removals older still leave no trace.
//! * `TopicTable::generation`: the highest generation installed, raised (`fetch_max`) after
//!   each install. Written only by creators and removers; pattern subscribers load it on
//!   every receive and load the table only when it passed their last scan.
//! * `TopicTable::event`: where parked pattern subscribers listen for a new table. Every
//!   create and remove notifies it after raising `generation`, whether or not anybody
//!   listens: one uncontended lock on a path that already copies the map, and no counter and
//!   no barrier pair to get right (`pattern_sub::wait` has the wake-up argument).
//!
//! # Orderings
//! * `TopicTable::generation`: `Release` raise after the table is installed, `Acquire` load
//!   by pattern subscribers: one that sees generation `g` then loads a table at least as new
//!   as `g`.
//! * The table pointer itself: `arc-swap`'s own orderings (a load sees a fully built table).
//!
//! # Progress
//! Lookups of existing topics are lock-free (`arc-swap` load). Creation and removal are
//! lock-free among writers (an `rcu` retries only because another writer succeeded) and
//! never block publishers or subscribers: they touch neither rings nor handles, except that
//! `remove` closes the removed ring (one `fetch_or`).

use super::swap::{Loaded, Swap};
use super::Topic;
use crate::error::BusError;
use crate::record::SharedRecordPublisher;
use crate::sync::{Arc, AtomicU64, Event, Listening, Ordering};
use crate::{LagPolicy, SharedPublisher, Subscriber};
use core::any::{Any, TypeId};
use std::collections::{BTreeMap, VecDeque};

/// How many removed topics a table remembers for pattern subscribers (module docs).
pub(crate) const REMEMBERED_REMOVALS: usize = 32;

/// How many forgotten removals a table still describes, after the remembered ones.
pub(crate) const REMEMBERED_FORGOTTEN: usize = 256;

/// One version of the topic table. Immutable once installed.
#[derive(Clone, Default)]
pub(crate) struct Table {
    /// Predecessor's generation + 1 (0 for the empty first table).
    pub(crate) generation: u64,
    /// The live topics, by name.
    pub(crate) topics: BTreeMap<Topic, Listed>,
    /// The last `REMEMBERED_REMOVALS` removed topics, oldest first. Closed (`remove` closes
    /// a topic right after installing the table that drops it).
    pub(crate) removed: VecDeque<Listed>,
    /// The `REMEMBERED_FORGOTTEN` removals before those, oldest first.
    pub(crate) forgotten: VecDeque<Forgotten>,
}

/// A removed topic the table no longer holds (its ring is freed once no handle holds it):
/// what a pattern subscriber needs to report that it missed all of the topic's messages.
#[derive(Clone)]
pub(crate) struct Forgotten {
    pub(crate) name: Topic,
    /// As `Listed::created`.
    pub(crate) created: u64,
    /// What it carried.
    pub(crate) kind: KindKey,
    /// Messages published on it, all of them (it is closed).
    pub(crate) published: u64,
}

/// What a topic carries, comparable without its cell: the cell's type (`TopicCell<T>` for a
/// typed ring, `RecordCell` for records) and, for a record topic of serde values, the
/// `(T, C)` of its values and codec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KindKey {
    pub(crate) cell: TypeId,
    pub(crate) typed: Option<TypeId>,
}

/// A topic as a table lists it.
#[derive(Clone)]
pub(crate) struct Listed {
    pub(crate) entry: Arc<Entry>,
    /// Generation of the table that first listed it: unique per creation.
    pub(crate) created: u64,
}

impl Listed {
    /// What is left of this removed topic once the table forgets it. Closes it first
    /// (`remove` closes it too; closing twice is harmless), so that the count is final.
    fn forget(&self) -> Forgotten {
        self.topic.close();
        Forgotten {
            name: self.name.clone(),
            created: self.created,
            kind: self.kind,
            published: self.published(),
        }
    }
}

impl core::ops::Deref for Listed {
    type Target = Entry;

    fn deref(&self) -> &Entry {
        &self.entry
    }
}

/// What the bus needs of a topic without knowing its payload type.
trait ErasedTopic: Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn close(&self);
    fn capacity(&self) -> usize;
    fn published(&self) -> u64;
    /// Live subscribers.
    fn subscribers(&self) -> usize;
}

/// A topic of payload type `T`, as the table holds it.
pub(crate) struct TopicCell<T: Copy> {
    /// The bus's own publisher: keeps the topic open until it is removed.
    pub(crate) publisher: SharedPublisher<T>,
}

impl<T: Copy + Send + 'static> TopicCell<T> {
    /// A subscriber at message 0 (reports `Lagged` first if older messages were overwritten).
    pub(crate) fn subscribe_from_start(&self) -> Subscriber<T> {
        let mut rx = self.publisher.subscribe_at(0);
        rx.set_lag_policy(LagPolicy::Skip);
        rx
    }

    /// A subscriber starting at the next message, with `policy`.
    pub(crate) fn subscribe_now(&self, policy: LagPolicy) -> Subscriber<T> {
        let mut rx = self.publisher.subscribe();
        rx.set_lag_policy(policy);
        rx
    }
}

impl<T: Copy + Send + 'static> ErasedTopic for TopicCell<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn close(&self) {
        self.publisher.close();
    }

    fn capacity(&self) -> usize {
        self.publisher.capacity()
    }

    fn published(&self) -> u64 {
        self.publisher.published()
    }

    fn subscribers(&self) -> usize {
        self.publisher.subscriber_count()
    }
}

/// A record topic, as the table holds it: raw bytes, or serde values of one type and codec.
pub(crate) struct RecordCell {
    /// The bus's own publisher (as `TopicCell::publisher`).
    pub(crate) publisher: SharedRecordPublisher,
}

impl ErasedTopic for RecordCell {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn close(&self) {
        self.publisher.close();
    }

    fn capacity(&self) -> usize {
        self.publisher.capacity()
    }

    fn published(&self) -> u64 {
        self.publisher.published()
    }

    fn subscribers(&self) -> usize {
        self.publisher.subscriber_count()
    }
}

/// A new topic's parts, as a lookup that misses builds them.
pub(crate) struct NewTopic {
    type_name: &'static str,
    kind: KindKey,
    topic: Box<dyn ErasedTopic>,
}

impl NewTopic {
    /// A typed ring of `capacity` slots in `layout`.
    pub(crate) fn ring<T: Copy + Send + 'static>(
        name: &str,
        capacity: usize,
        layout: crate::SlotLayout,
    ) -> Result<NewTopic, BusError> {
        let (publisher, _first) =
            crate::try_channel_with::<T>(capacity, layout).map_err(|error| BusError::Capacity {
                topic: name.to_owned(),
                error,
            })?;
        Ok(NewTopic {
            type_name: core::any::type_name::<T>(),
            kind: KindKey {
                cell: TypeId::of::<TopicCell<T>>(),
                typed: None,
            },
            topic: Box::new(TopicCell {
                publisher: publisher.into_shared(),
            }),
        })
    }

    /// A record topic of `capacity` bytes; `typed` names its values' type and codec.
    pub(crate) fn records(
        name: &str,
        capacity: usize,
        typed: Option<(TypeId, &'static str)>,
    ) -> Result<NewTopic, BusError> {
        let (publisher, _first) =
            crate::record::try_channel(capacity).map_err(|error| BusError::Capacity {
                topic: name.to_owned(),
                error,
            })?;
        Ok(NewTopic {
            type_name: typed.map_or(RAW_RECORDS, |(_, name)| name),
            kind: KindKey {
                cell: TypeId::of::<RecordCell>(),
                typed: typed.map(|(id, _)| id),
            },
            topic: Box::new(RecordCell {
                publisher: publisher.into_shared(),
            }),
        })
    }
}

/// The type name a raw record topic lists and reports in a mismatch.
pub(crate) const RAW_RECORDS: &str = "records (bytes)";

/// One topic in the table. Immutable; shared by every map version that contains it.
pub(crate) struct Entry {
    /// The topic's name (also its key in the map).
    pub(crate) name: Topic,
    /// `core::any::type_name` of its payload type (of `(T, C)` for a typed record topic,
    /// `RAW_RECORDS` for a raw one), for errors and listings.
    pub(crate) type_name: &'static str,
    /// What it carries.
    pub(crate) kind: KindKey,
    /// The `TopicCell<T>`, type-erased.
    topic: Box<dyn ErasedTopic>,
}

impl Entry {
    /// The topic as a `TopicCell<T>`, or `TypeMismatch` if its payload type is not `T`.
    pub(crate) fn cell<T: Copy + Send + 'static>(&self) -> Result<&TopicCell<T>, BusError> {
        self.topic
            .as_any()
            .downcast_ref::<TopicCell<T>>()
            .ok_or_else(|| BusError::TypeMismatch {
                topic: self.name.as_str().to_owned(),
                expected: self.type_name,
                found: core::any::type_name::<T>(),
            })
    }

    /// The topic as a record topic, if it is one and (with `typed`) carries those values.
    /// `found` names what the caller wanted, for the error.
    pub(crate) fn records(
        &self,
        typed: Option<TypeId>,
        found: &'static str,
    ) -> Result<&RecordCell, BusError> {
        self.topic
            .as_any()
            .downcast_ref::<RecordCell>()
            .filter(|_| typed.is_none() || typed == self.kind.typed)
            .ok_or_else(|| BusError::TypeMismatch {
                topic: self.name.as_str().to_owned(),
                expected: self.type_name,
                found,
            })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.topic.capacity()
    }

    pub(crate) fn published(&self) -> u64 {
        self.topic.published()
    }

    pub(crate) fn subscribers(&self) -> usize {
        self.topic.subscribers()
    }
}

/// The table of a [`Bus`](super::Bus) (see the module docs).
pub(crate) struct TopicTable {
    /// The current table; replaced whole, never edited in place.
    current: Swap<Table>,
    /// Highest `Table::generation` installed; polled by pattern subscribers.
    generation: AtomicU64,
    /// Notified after every raise of `generation` (module docs); listened on by parked
    /// pattern subscribers.
    event: Event,
}

impl TopicTable {
    pub(crate) fn new() -> Self {
        TopicTable {
            current: Swap::new(Arc::new(Table::default())),
            generation: AtomicU64::new(0),
            event: Event::default(),
        }
    }

    /// The current table. Lock-free; hold it briefly.
    #[inline]
    pub(crate) fn load(&self) -> Loaded<Table> {
        self.current.load()
    }

    /// The highest table generation installed so far.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        // Acquire: pairs with the Release in `installed`, so a table loaded after seeing a
        // generation is at least that new.
        self.generation.load(Ordering::Acquire)
    }

    /// Announces that a table of generation `generation` is installed, and wakes the parked
    /// pattern subscribers (they rescan; a spurious wake-up for those it does not concern).
    fn installed(&self, generation: u64) {
        // Release: pairs with the Acquire in `generation`.
        self.generation.fetch_max(generation, Ordering::Release);
        // After the raise: a pattern subscriber that listened before this notify is woken,
        // one that listens after it sees the raised generation on its re-check (the event's
        // lock orders the two).
        self.event.notify_all();
    }

    /// Listens for the next `installed`, with `waker` stored in the event's entry.
    #[cfg(not(seqcast_loom))]
    pub(crate) fn watch(&self, waker: &std::task::Waker) -> Listening {
        self.event.listen_waking(waker)
    }

    /// Under loom: listens (the stand-in event returns its generation; see `notified_since`).
    #[cfg(seqcast_loom)]
    pub(crate) fn watch(&self) -> Listening {
        self.event.listen()
    }

    /// Whether an `installed` notified since `listening` was taken (loom only).
    #[cfg(seqcast_loom)]
    pub(crate) fn notified_since(&self, listening: &Listening) -> bool {
        self.event.listen() != *listening
    }

    /// Runs `f` on topic `name` as a `TopicCell<T>`, creating the topic (with a ring of
    /// `capacity` slots in `layout`) if it does not exist.
    pub(crate) fn with_topic<T, R>(
        &self,
        name: &str,
        (capacity, layout): (usize, crate::SlotLayout),
        f: impl FnOnce(&TopicCell<T>) -> R,
    ) -> Result<R, BusError>
    where
        T: Copy + Send + 'static,
    {
        self.with_entry(
            name,
            || NewTopic::ring::<T>(name, capacity, layout),
            |entry| entry.cell::<T>().map(f),
        )
    }

    /// Runs `f` on topic `name`, creating it with `make` if it does not exist. Existing
    /// topics cost one `load` and a map lookup; the name is only validated when the topic is
    /// missing (tables hold valid names only).
    pub(crate) fn with_entry<R>(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<NewTopic, BusError>,
        f: impl FnOnce(&Entry) -> Result<R, BusError>,
    ) -> Result<R, BusError> {
        {
            let table = self.load();
            if let Some(listed) = table.topics.get(name) {
                return f(listed);
            }
        }
        super::validate_topic(name)?;
        let entry = self.create(name, make()?);
        f(&entry)
    }

    /// Inserts a new topic `name` unless one appeared meanwhile; returns whichever is in the
    /// table (possibly of another payload type, if another thread won the race).
    fn create(&self, name: &str, new: NewTopic) -> Arc<Entry> {
        let fresh = Arc::new(Entry {
            name: Topic::new(name),
            type_name: new.type_name,
            kind: new.kind,
            topic: new.topic,
        });
        let mut winner = fresh.clone();
        let mut generation = None;
        self.current.rcu(|table| match table.topics.get(name) {
            Some(existing) => {
                winner = existing.entry.clone();
                generation = None;
                table.clone()
            }
            None => {
                winner = fresh.clone();
                let mut next = Table::clone(table);
                next.generation += 1;
                generation = Some(next.generation);
                let listed = Listed {
                    entry: fresh.clone(),
                    created: next.generation,
                };
                next.topics.insert(fresh.name.clone(), listed);
                Arc::new(next)
            }
        });
        if let Some(generation) = generation {
            self.installed(generation);
        }
        winner
    }

    /// Removes topic `name` from the table and closes it. Returns whether it was there.
    pub(crate) fn remove(&self, name: &str) -> bool {
        if !self.load().topics.contains_key(name) {
            return false;
        }
        let mut removed = None;
        let mut generation = 0;
        self.current.rcu(|table| {
            removed = table.topics.get(name).map(|l| l.entry.clone());
            if removed.is_none() {
                return table.clone();
            }
            let mut next = Table::clone(table);
            next.generation += 1;
            generation = next.generation;
            if let Some(listed) = next.topics.remove(name) {
                if next.removed.len() == REMEMBERED_REMOVALS {
                    if let Some(old) = next.removed.pop_front() {
                        if next.forgotten.len() == REMEMBERED_FORGOTTEN {
                            next.forgotten.pop_front();
                        }
                        next.forgotten.push_back(old.forget());
                    }
                }
                next.removed.push_back(listed);
            }
            Arc::new(next)
        });
        let Some(entry) = removed else {
            return false;
        };
        // After the table no longer lists it: a lookup that misses creates a fresh topic,
        // and every handle to this one (publishers included) sees it closed.
        entry.topic.close();
        self.installed(generation);
        true
    }
}

impl core::fmt::Debug for TopicTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let table = self.load();
        f.debug_struct("TopicTable")
            .field("topics", &table.topics.keys().collect::<Vec<_>>())
            .field("generation", &table.generation)
            .finish()
    }
}
