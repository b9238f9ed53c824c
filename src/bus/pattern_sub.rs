//! [`PatternSubscriber`]: one receiver over every topic whose name matches a [`Pattern`],
//! including topics created after it subscribed.
//!
//! # How it works
//! It holds one ordinary [`Subscriber<T>`](crate::Subscriber) per matching topic (a
//! *source*) and polls them round robin, so a busy topic cannot starve a quiet one and each
//! topic's messages arrive in order. New topics are noticed through the table's generation
//! counter: every receive loads it once (an `Acquire` load of a line written only when a
//! topic is created or removed) and only when it moved does the subscriber load the map and
//! attach to new matching topics. `try_recv` takes no lock and writes nothing shared (waiting
//! registers with the topics: see "Waiting" below).
//!
//! * Topics that exist when the pattern subscriber is created are joined at their next
//!   message, like [`Bus::subscribe`](super::Bus::subscribe).
//! * Topics it discovers later were created after it subscribed, so it reads them from their
//!   first message (a subscriber at message 0, see `table.rs`). Messages
//!   overwritten before it got there are reported as `Lagged(missed)` on `topic`, never
//!   silently lost: delivered + lagged == published, per topic.
//! * Matching topics of another payload type are skipped (the type is part of a topic's
//!   identity); [`skipped_topics`](PatternSubscriber::skipped_topics) lists them.
//! * A removed topic is drained, reported once as `Closed` on `topic`, and dropped. A topic
//!   created *and* removed between two receive calls is still read: the table remembers
//!   the last 32 removed topics. If more than 32 topics were removed meanwhile, the table
//!   may have forgotten it (and freed its ring); for the 256 removals before the last 32 it
//!   still knows the name and how many messages were published, so the subscriber reports
//!   them all as `Lagged(missed)` on `topic`, then `Closed` on `topic`. Only a topic removed
//!   more than 288 removals before the receive call that would have found it leaves no
//!   trace, and is missed without a report.
//! * Order holds per topic *name*: a topic re-created under a removed name is read only
//!   after the removed one has been drained and reported `Closed`, so a `Lagged` or `Closed`
//!   report always refers to the oldest instance of that name still being read. (A removed
//!   topic never reports `Empty`, so the newer one waits at most one poll per message.)
//!
//! # Waiting
//! `recv`, `recv_timeout`, `recv_async` and the `Stream` park until a send on a topic being
//! read, a new matching topic, or a removal wakes them: the subscriber registers with every
//! ring it polls and with the table's event, re-checks, then sleeps (`wait` has the
//! protocol, its lost-wake-up argument and its costs).

mod wait;

use super::kind::sealed::{Kind, Rx};
use super::kind::Values;
use super::table::{Forgotten, Listed};
use super::TopicKind;
use super::{Inner, Pattern, Topic};
use crate::error::{RecvError, RecvTimeoutError, TopicError, TryRecvError};
use crate::sync::Arc;
use crate::{LagPolicy, SubscriberStats};
use core::fmt;
use std::time::{Duration, Instant};
use wait::{Reader, Waiting};

#[cfg(seqcast_async)]
pub use wait::PatternRecvFuture;

/// What a receive of kind `K` returns, with error `E`.
pub(super) type Got<K, E> = Result<(Topic, <K as Kind>::Item), TopicError<E>>;

/// One matching topic this subscriber reads.
struct Source<K: TopicKind> {
    /// Generation that created the topic: identifies it (a re-created topic of the same
    /// name has another).
    id: u64,
    /// This subscriber's own copy of the name (its refcount is not shared with others).
    topic: Topic,
    feed: Feed<K>,
    /// An older (removed) topic of the same name is still being drained: not polled until
    /// it is retired, so that items and reports of one name stay in order.
    behind: bool,
}

/// Where a source's messages come from.
enum Feed<K: TopicKind> {
    /// The topic's ring (and this subscriber's registration on it while it waits).
    Live(Reader<K::Rx>),
    /// A topic the table forgot before this subscriber joined it: its `unreported` messages
    /// are reported lost in one `Lagged`, then the topic `Closed` (or, under
    /// [`LagPolicy::Disconnect`], dropped after the `Lagged`, as a live topic would be).
    Forgotten {
        unreported: u64,
        stats: SubscriberStats,
    },
}

impl<K: TopicKind> Feed<K> {
    fn try_recv(&mut self, policy: LagPolicy) -> Result<K::Item, TryRecvError> {
        match self {
            Feed::Live(rx) => rx.try_recv(),
            Feed::Forgotten { unreported, stats } => {
                if *unreported > 0 {
                    stats.missed += *unreported;
                    stats.lag_events += 1;
                    Err(TryRecvError::Lagged(core::mem::take(unreported)))
                } else if stats.lag_events > 0 && policy == LagPolicy::Disconnect {
                    Err(TryRecvError::Detached)
                } else {
                    Err(TryRecvError::Closed)
                }
            }
        }
    }

    fn stats(&self) -> SubscriberStats {
        match self {
            Feed::Live(rx) => rx.stats(),
            Feed::Forgotten { stats, .. } => *stats,
        }
    }
}

/// Receives from every topic of payload type `T` whose name matches a pattern, including
/// topics created after it subscribed. Created by [`Bus::subscribe_pattern`](super::Bus::subscribe_pattern).
///
/// Each message comes with the [`Topic`] it was published on. Messages of one topic arrive
/// in order; topics are polled round robin. A topic re-created under a removed name is read
/// after the removed one has been drained and reported `Closed`. Lag is reported per topic
/// (`Lagged(n)` in a [`TopicError`] naming the topic), as is the removal of a topic
/// (`Closed`); neither ends the subscription.
///
/// Matching topics whose payload type is not `T` are skipped; see
/// [`skipped_topics`](Self::skipped_topics). A topic created and removed between two receive
/// calls is still read, unless more than 32 topics were removed in between: then its
/// messages may be reported lost instead (module docs).
///
/// # Examples
/// ```
/// use seqcast::error::{TopicError, TryRecvError};
///
/// let bus = seqcast::Bus::new();
/// let mut users = bus.subscribe_pattern::<u32>("user.*").unwrap();
///
/// // Topics created after the subscription are picked up, from their first message.
/// bus.publisher::<u32>("user.created").unwrap().send(1).unwrap();
/// bus.publisher::<u32>("user.deleted").unwrap().send(2).unwrap();
/// bus.publisher::<u32>("order.created").unwrap().send(3).unwrap(); // does not match
///
/// let (topic, id) = users.try_recv().unwrap();
/// assert_eq!((topic.as_str(), id), ("user.created", 1));
/// let (topic, id) = users.try_recv().unwrap();
/// assert_eq!((topic.as_str(), id), ("user.deleted", 2));
/// let nothing = users.try_recv().unwrap_err();
/// assert_eq!(nothing, TopicError { topic: None, error: TryRecvError::Empty });
/// ```
///
/// # Kinds
/// `PatternSubscriber<T>` is the name for typed topics (a `PatternReceiver<Values<T>>`);
/// [`RecordPatternSubscriber`] reads record topics as bytes, and `TypedPatternSubscriber<T>`
/// (feature `serde`) record topics of serde type `T`. They work alike: the kind only decides
/// which topics are read and what a message is ([`TopicKind`]).
pub struct PatternReceiver<K: TopicKind> {
    bus: Arc<Inner>,
    pattern: Pattern,
    policy: LagPolicy,
    /// Generation of the table last scanned: topics created later are new to us.
    scanned: u64,
    /// Topics being read, in the order they were joined.
    sources: Vec<Source<K>>,
    /// Index (mod `sources.len()`) of the source to poll first next time.
    next: usize,
    /// Counters of the sources that were dropped.
    retired: SubscriberStats,
    /// Registrations and bell while waiting (`wait`).
    wait: Waiting,
    /// Times this subscriber slept waiting for an item (its `stats().parks`).
    parks: u64,
}

/// A pattern subscriber over typed topics of `T` (see [`PatternReceiver`]), from
/// [`Bus::subscribe_pattern`](super::Bus::subscribe_pattern).
pub type PatternSubscriber<T> = PatternReceiver<Values<T>>;

/// A pattern subscriber over record topics, each message a record's bytes (see
/// [`PatternReceiver`] and [`Records`](super::Records)), from
/// [`Bus::subscribe_pattern_records`](super::Bus::subscribe_pattern_records).
pub type RecordPatternSubscriber = PatternReceiver<super::Records>;

/// A pattern subscriber over record topics of serde type `T` with codec `C`, each message
/// `Ok(value)` or a decode error (see [`TypedRecords`](super::TypedRecords)), from
/// [`Bus::subscribe_pattern_typed`](super::Bus::subscribe_pattern_typed).
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub type TypedPatternSubscriber<T, C = crate::record::Postcard> =
    PatternReceiver<super::TypedRecords<T, C>>;

impl<K: TopicKind> PatternReceiver<K> {
    pub(crate) fn new(bus: Arc<Inner>, pattern: Pattern, policy: LagPolicy) -> Self {
        Self::starting(bus, pattern, policy, false)
    }

    /// As `new`; with `oldest`, topics that exist now are joined at the oldest message they
    /// still hold instead of their next one (replay).
    pub(crate) fn starting(
        bus: Arc<Inner>,
        pattern: Pattern,
        policy: LagPolicy,
        oldest: bool,
    ) -> Self {
        let table = bus.table.load(); // an owned guard: `bus` can move below
        let mut sub = PatternReceiver {
            bus,
            pattern,
            policy,
            scanned: table.generation,
            sources: Vec::new(),
            next: 0,
            retired: SubscriberStats::default(),
            wait: Waiting::new(),
            parks: 0,
        };
        // Topics that exist now are joined at their next message (or their oldest held).
        for listed in table.topics.values() {
            let join = |e: &super::table::Entry| match oldest {
                true => K::subscribe_oldest(e, policy),
                false => K::subscribe_now(e, policy),
            };
            if let Some(rx) = sub.wanted(listed, join) {
                sub.join(&listed.name, listed.created, Feed::Live(Reader::new(rx)));
            }
        }
        sub
    }

    /// A reader of the topic made by `join`, if it matches and is of this subscriber's kind.
    fn wanted(
        &self,
        listed: &Listed,
        join: impl FnOnce(&super::table::Entry) -> Option<K::Rx>,
    ) -> Option<K::Rx> {
        if !self.pattern.matches_valid(&listed.name) || !K::accepts(&listed.kind) {
            return None;
        }
        debug_assert!(self.sources.iter().all(|s| s.id != listed.created));
        join(listed)
    }

    fn join(&mut self, name: &str, created: u64, mut feed: Feed<K>) {
        if let Feed::Live(rx) = &mut feed {
            rx.set_lag_policy(self.policy);
        }
        // Joined in creation order per name (`rescan` lists removed topics first, forgotten
        // ones before remembered ones), so an existing source of this name is an older
        // instance.
        let behind = self.sources.iter().any(|s| s.topic.as_str() == name);
        self.sources.push(Source {
            id: created,
            topic: Topic::new(name),
            feed,
            behind,
        });
    }

    /// Joins topics created since the last scan, if the table changed.
    #[inline]
    fn refresh(&mut self) {
        if self.bus.table.generation() > self.scanned {
            self.rescan();
        }
    }

    #[cold]
    fn rescan(&mut self) {
        let table = self.bus.table.load();
        let since = core::mem::replace(&mut self.scanned, table.generation);
        // Created after our last scan, so after we subscribed: read from the first message.
        // Removed ones included: they were published to while we were subscribed. Those the
        // table forgot can only be reported lost.
        for gone in table.forgotten.iter().filter(|g| g.created > since) {
            if self.pattern.matches_valid(&gone.name) && K::accepts(&gone.kind) {
                self.join_forgotten(gone);
            }
        }
        let created = table.removed.iter().chain(table.topics.values());
        for listed in created.filter(|l| l.created > since) {
            if let Some(rx) = self.wanted(listed, K::subscribe_from_start) {
                self.join(&listed.name, listed.created, Feed::Live(Reader::new(rx)));
            }
        }
    }

    fn join_forgotten(&mut self, gone: &Forgotten) {
        let feed = Feed::Forgotten {
            unreported: gone.published,
            stats: SubscriberStats::default(),
        };
        self.join(&gone.name, gone.created, feed);
    }

    /// Drops source `i`, keeping its counters and the round-robin position.
    fn retire(&mut self, i: usize) -> Topic {
        let source = self.sources.remove(i);
        debug_assert!(!source.behind, "only polled sources are retired");
        if self.next > i {
            self.next -= 1;
        }
        // The next instance of this name, if any, is read from now on.
        if let Some(newer) = self.sources.iter_mut().find(|s| s.topic == source.topic) {
            newer.behind = false;
        }
        let stats = source.feed.stats();
        self.retired.received += stats.received;
        self.retired.missed += stats.missed;
        self.retired.lag_events += stats.lag_events;
        source.topic
    }

    /// Takes the next message from any matching topic, if one has one; never blocks.
    ///
    /// * `Ok((topic, value))`: the next message of `topic`.
    /// * `Err` with `error: Empty` (and `topic: None`): no matching topic has a new message.
    /// * `Err` with `error: Lagged(missed)` on `topic`: `topic`'s publisher lapped this
    ///   subscriber, which skipped `missed` unread messages. Under [`LagPolicy::Skip`] reading `topic`
    ///   continues from its oldest message still held, under [`LagPolicy::SkipToNewest`]
    ///   from its newest (the skipped backlog counts in `missed`), and under
    ///   [`LagPolicy::Disconnect`] `topic` is dropped from this subscription (the others
    ///   continue).
    /// * `Err` with `error: Closed` on `topic`: `topic` was removed and drained; it is
    ///   dropped from the subscription. Reported once.
    ///
    /// Costs one atomic load (the table generation) plus one `try_recv` per joined topic
    /// polled; writes nothing shared.
    pub fn try_recv(&mut self) -> Result<(Topic, K::Item), TopicError<TryRecvError>> {
        self.refresh();
        let policy = self.policy;
        'scan: loop {
            let n = self.sources.len();
            if n == 0 {
                return Err(TopicError::all(TryRecvError::Empty));
            }
            let start = self.next % n;
            for k in 0..n {
                let i = (start + k) % n;
                debug_assert!(i < self.sources.len());
                let source = &mut self.sources[i];
                if source.behind {
                    continue;
                }
                match source.feed.try_recv(policy) {
                    Ok(value) => {
                        self.next = i + 1;
                        return Ok((source.topic.clone(), value));
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(e @ TryRecvError::Lagged(_)) => {
                        self.next = i + 1;
                        return Err(TopicError::on(source.topic.clone(), e));
                    }
                    Err(TryRecvError::Detached) => {
                        // Its lag was reported by the previous call: drop it silently.
                        self.retire(i);
                        continue 'scan;
                    }
                    // Closed (in-process topics end no other way).
                    Err(e) => {
                        let topic = self.retire(i);
                        return Err(TopicError::on(topic, e));
                    }
                }
            }
            return Err(TopicError::all(TryRecvError::Empty));
        }
    }

    /// Waits for the next message from any matching topic. Returns `Lagged`/`Closed` as
    /// [`try_recv`](Self::try_recv) does; never returns for lack of topics (one may be
    /// created later).
    ///
    /// It polls briefly (64 spins, then 16 `yield_now`s), then parks the thread, like a
    /// [`Subscriber`](crate::Subscriber) with [`WaitStrategy::Blocking`](crate::WaitStrategy):
    /// a send on any topic it reads wakes it, and so do a new matching topic and the removal
    /// of a topic it reads. Parked, it costs no CPU, and costs each publisher of its topics
    /// what a parked `Subscriber` costs (a notify per send); once it returns, nothing.
    /// Parking takes time linear in the number of topics read (it registers with each).
    ///
    /// ```
    /// let bus = seqcast::Bus::new();
    /// let mut orders = bus.subscribe_pattern::<u64>("order.>").unwrap();
    /// let publisher = bus.clone();
    /// let t = std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_millis(10)); // `recv` parks meanwhile
    ///     publisher.publisher::<u64>("order.eu.paid").unwrap().send(99).unwrap();
    /// });
    /// let (topic, id) = orders.recv().unwrap();
    /// assert_eq!((topic.as_str(), id), ("order.eu.paid", 99));
    /// t.join().unwrap();
    /// ```
    pub fn recv(&mut self) -> Result<(Topic, K::Item), TopicError<RecvError>> {
        let got = self.wait_recv(None);
        got.expect("a wait without a deadline ends with an answer")
            .map_err(|e| e.map(RecvError::from_try))
    }

    /// Like [`recv`](Self::recv), but gives up with `Timeout` after `timeout` (and leaves
    /// nothing registered).
    pub fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<(Topic, K::Item), TopicError<RecvTimeoutError>> {
        // A deadline too far to represent is no deadline.
        let deadline = Instant::now().checked_add(timeout);
        match self.wait_recv(deadline) {
            None => Err(TopicError::all(RecvTimeoutError::Timeout)),
            Some(got) => got.map_err(|e| e.map(RecvTimeoutError::from_try)),
        }
    }

    /// `try_recv` for `poll`: `None` while every topic is empty.
    fn try_recv_nonempty(&mut self) -> Option<Got<K, TryRecvError>> {
        match self.try_recv() {
            Err(e) if e.error == TryRecvError::Empty => None,
            other => Some(other),
        }
    }

    /// The pattern this subscriber matches.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The topics being read, in the order they were joined (as of the last receive call:
    /// topics created since are joined by the next one).
    pub fn topics(&self) -> Vec<Topic> {
        self.sources.iter().map(|s| s.topic.clone()).collect()
    }

    /// Per-topic counters of the topics being read (as [`topics`](Self::topics)).
    pub fn topic_stats(&self) -> Vec<(Topic, SubscriberStats)> {
        self.sources
            .iter()
            .map(|s| (s.topic.clone(), s.feed.stats()))
            .collect()
    }

    /// Topics that match the pattern but carry another payload type, with that type's name:
    /// this subscriber does not read them. Read from the current table.
    pub fn skipped_topics(&self) -> Vec<(Topic, &'static str)> {
        let table = self.bus.table.load();
        table
            .topics
            .values()
            .filter(|e| self.pattern.matches_valid(&e.name) && !K::accepts(&e.kind))
            .map(|e| (e.name.clone(), e.type_name))
            .collect()
    }

    /// Counters summed over every topic this subscriber has read, dropped ones included:
    /// `received + missed` is the number of messages it moved past. `parks` counts this
    /// subscriber's own sleeps.
    pub fn stats(&self) -> SubscriberStats {
        let mut total = self.retired;
        total.parks = self.parks;
        for s in &self.sources {
            let stats = s.feed.stats();
            total.received += stats.received;
            total.missed += stats.missed;
            total.lag_events += stats.lag_events;
        }
        total
    }

    /// Sets what happens when a topic laps this subscriber, for the topics joined so far and
    /// those joined later. Default: the bus's [`lag_policy`](super::BusBuilder::lag_policy).
    pub fn set_lag_policy(&mut self, policy: LagPolicy) {
        self.policy = policy;
        for s in &mut self.sources {
            if let Feed::Live(rx) = &mut s.feed {
                rx.set_lag_policy(policy);
            }
        }
    }

    /// The current lag policy.
    pub fn lag_policy(&self) -> LagPolicy {
        self.policy
    }
}

impl<K: TopicKind> fmt::Debug for PatternReceiver<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternReceiver")
            .field("pattern", &self.pattern.as_str())
            .field("policy", &self.policy)
            .field(
                "topics",
                &self.sources.iter().map(|s| &s.topic).collect::<Vec<_>>(),
            )
            .field("waiting", &self.wait.armed())
            .finish()
    }
}
