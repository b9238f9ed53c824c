//! [`Forwarding`]: local bus → NATS.
//!
//! One tokio task per forwarding reads a `PatternSubscriber` and hands each message to the
//! NATS client. Idle, the task is parked in `recv_async`: no thread, no polling, no CPU; a
//! message on any of its topics, a new matching topic or a removal wakes it at once (the
//! pattern subscriber's parking protocol). Woken, it drains what is ready, up to [`BATCH`]
//! messages, with `try_recv`, then checks the stop signal once, and parks again only when
//! the subscription is empty.
//!
//! What the task hands to the client reaches the socket without any help from it: the
//! client's own connection task is woken by every publish and writes (and flushes) on its
//! own, whether or not the forwarder has parked meanwhile. The forwarder never flushes:
//! a flush is a round trip to the server.
//!
//! Per message, the common case does no hashing and no allocation: the topic's route is
//! found in a small cache of the latest topics by the address of the topic's name (every
//! message of a topic shares one), the body is encoded into a reused buffer and framed
//! ([`crate::wire`]) into a reused `BytesMut`, of which a `Bytes` is split off for the client.
//!
//! Why the local publisher is never blocked: the forwarder is an ordinary, non-gated
//! subscriber. If NATS is slow or gone, `publish().await` waits (once the client's buffer,
//! `ConnectOptions::client_capacity`, is full), the ring laps the forwarder, and the next
//! receive reports `Lagged { missed }`: counted in [`ForwardStats::lagged`] and skipped in
//! the stream's sequence numbers, so the receiving side sees the gap too.
//!
//! Stopping: [`Forwarding::stop`] (and drop) signal the task and wait for it to end, so that
//! the counters it returns are final. A publish waiting for room in the client's buffer
//! gives up when the stop signal comes; that message counts as a publish error, so that the
//! forwarding's side of the accounting stays exact.
//!
//! [`ForwardStats::lagged`]: crate::ForwardStats::lagged

use crate::bridge::Shared;
use crate::stats::{bump, ForwardCounters};
use crate::wire::Framer;
use crate::{Codec, ForwardStats, Mapping};
use async_nats::Subject;
use bytes::BytesMut;
use core::fmt;
use futures::future::{self, Either};
use seqcast::error::{RecvError, TopicError, TryRecvError};
use seqcast::{PatternSubscriber, Topic};
use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::watch;

/// Most messages taken per wake-up before the stop signal is checked again.
const BATCH: usize = 256;

/// How many topics the route cache remembers (see the module docs).
const RECENT: usize = 4;

/// A running forwarding (local topics → NATS subjects), made by
/// [`Bridge::forward`](crate::Bridge::forward). Dropping it stops the forwarder task (and
/// waits for it to end, see [`stop`](Self::stop)).
pub struct Forwarding {
    pattern: String,
    stop: watch::Sender<bool>,
    /// `None` once stopped.
    task: Option<tokio::task::JoinHandle<()>>,
    /// Set when the task's future is dropped (finished or cancelled): after that, nothing
    /// touches `counters` any more.
    ended: Arc<Ended>,
    counters: Arc<ForwardCounters>,
}

/// Whether the forwarder task has ended, for `Forwarding::halt` to wait on.
#[derive(Default)]
struct Ended {
    done: Mutex<bool>,
    cv: Condvar,
}

impl Ended {
    fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*done {
            done = self.cv.wait(done).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Owned by the task's future: marks the task ended when the future is dropped, however it
/// ends (stopped, aborted, or its runtime shut down).
struct EndGuard(Arc<Ended>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.0.cv.notify_all();
    }
}

impl fmt::Debug for Forwarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forwarding")
            .field("pattern", &self.pattern)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Forwarding {
    /// This forwarding's counters.
    pub fn stats(&self) -> ForwardStats {
        self.counters.snapshot()
    }

    /// The local pattern it reads.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Stops the forwarder, waits for its task to end, and returns its final counters.
    /// Messages already handed to the client are still sent by it.
    ///
    /// The wait is short (the task ends at its next poll) and blocks the calling thread;
    /// on a worker of a multi-threaded runtime it does so through `block_in_place`, so that
    /// the runtime's other tasks, the forwarder's included, keep running. On a
    /// current-thread runtime's own thread, which cannot run the task meanwhile, the task is
    /// cancelled instead: it never runs again, so the counters are final too.
    pub fn stop(mut self) -> ForwardStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        let _ = self.stop.send(true);
        let Some(task) = self.task.take() else {
            return;
        };
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Err(_) => self.ended.wait(),
            Ok(RuntimeFlavor::CurrentThread) => task.abort(),
            Ok(_) => tokio::task::block_in_place(|| self.ended.wait()),
        }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        self.halt();
    }
}

pub(crate) fn start<T, C>(
    shared: Arc<Shared>,
    forwarding: u32,
    subscriber: PatternSubscriber<T>,
    mapping: Mapping,
    codec: C,
    counters: Arc<ForwardCounters>,
) -> Forwarding
where
    T: Copy + Send + 'static,
    C: Codec<T>,
{
    let pattern = subscriber.pattern().as_str().to_owned();
    let (stop, stopped) = watch::channel(false);
    let ended = Arc::new(Ended::default());
    let framer = Framer::new(shared.wire, shared.origin_id, forwarding, codec.id());
    let worker = Forwarder {
        shared: shared.clone(),
        subscriber,
        mapping,
        codec,
        counters: counters.clone(),
        framer,
        routes: Vec::new(),
        by_name: HashMap::new(),
        recent: Default::default(),
        scratch: Vec::new(),
        out: BytesMut::new(),
    };
    let guard = EndGuard(ended.clone());
    let task = shared.runtime.spawn(async move {
        let _guard = guard;
        worker.run(stopped).await;
    });
    Forwarding {
        pattern,
        stop,
        task: Some(task),
        ended,
        counters,
    }
}

/// Per-topic state of a forwarder.
struct Route {
    subject: Subject,
    /// Sequence number of the next message of this topic: received + lapped so far.
    next_seq: u64,
    /// Whether a delivery of this bridge feeds the topic, as of `checked`.
    remote: bool,
    /// `RemoteTopics::generation` when `remote` was computed (`u64::MAX`: never).
    checked: u64,
}

/// What one receive gave, from `recv_async` or `try_recv`.
enum Got<T> {
    Message(Topic, T),
    Lagged(Topic, u64),
    Closed,
    Empty,
}

impl<T> From<Result<(Topic, T), TopicError<RecvError>>> for Got<T> {
    fn from(got: Result<(Topic, T), TopicError<RecvError>>) -> Self {
        match got {
            Ok((topic, value)) => Got::Message(topic, value),
            Err(TopicError {
                topic: Some(topic),
                error: RecvError::Lagged(missed),
            }) => Got::Lagged(topic, missed),
            Err(TopicError {
                error: RecvError::Closed,
                ..
            }) => Got::Closed,
            // A pattern subscriber's receive reports nothing else.
            Err(_) => Got::Empty,
        }
    }
}

impl<T> From<Result<(Topic, T), TopicError<TryRecvError>>> for Got<T> {
    fn from(got: Result<(Topic, T), TopicError<TryRecvError>>) -> Self {
        match got {
            Ok((topic, value)) => Got::Message(topic, value),
            Err(TopicError {
                topic: Some(topic),
                error: TryRecvError::Lagged(missed),
            }) => Got::Lagged(topic, missed),
            Err(TopicError {
                error: TryRecvError::Closed,
                ..
            }) => Got::Closed,
            Err(_) => Got::Empty,
        }
    }
}

struct Forwarder<T: Copy + Send + 'static, C> {
    shared: Arc<Shared>,
    subscriber: PatternSubscriber<T>,
    mapping: Mapping,
    codec: C,
    counters: Arc<ForwardCounters>,
    framer: Framer,
    /// Every topic seen, by index; `by_name` finds one by name.
    routes: Vec<Route>,
    by_name: HashMap<Topic, usize>,
    /// The latest topics' routes, most recent first. Each entry holds its `Topic`, so that
    /// the name's address it is found by cannot be reused by another topic meanwhile.
    recent: [Option<(Topic, usize)>; RECENT],
    /// The codec's output for the current message.
    scratch: Vec<u8>,
    /// Framed bodies are split off this buffer (see `Framer::frame`).
    out: BytesMut,
}

impl<T: Copy + Send + 'static, C: Codec<T>> Forwarder<T, C> {
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        loop {
            // The subscription first (`biased`): with messages ready the stop signal is not
            // even polled; it is checked once per batch below.
            let first = tokio::select! {
                biased;
                got = self.subscriber.recv_async() => Got::from(got),
                _ = stopped.changed() => break,
            };
            if !self.handle(first, &mut stopped).await {
                break;
            }
            for _ in 1..BATCH {
                let got = Got::from(self.subscriber.try_recv());
                if matches!(got, Got::Empty) {
                    break;
                }
                if !self.handle(got, &mut stopped).await {
                    return;
                }
            }
            // Err: the `Forwarding` is gone, which also means stop.
            if stopped.has_changed().unwrap_or(true) {
                break;
            }
        }
    }

    /// Accounts (and forwards) one receive. `false`: stopped while publishing.
    async fn handle(&mut self, got: Got<T>, stopped: &mut watch::Receiver<bool>) -> bool {
        match got {
            Got::Message(topic, value) => {
                let Some((subject, body)) = self.prepare(&topic, &value) else {
                    return true;
                };
                let publish = pin!(self.shared.client.publish(subject, body));
                // The publish first: it only waits when the client's buffer is full, and only
                // then is the stop signal polled.
                let stop = pin!(stopped.changed());
                match future::select(publish, stop).await {
                    Either::Left((Ok(()), _)) => bump(&self.counters.forwarded, 1),
                    Either::Left((Err(_), _)) => bump(&self.counters.publish_errors, 1),
                    Either::Right(_) => {
                        // Given up: counted, so that the accounting stays exact.
                        bump(&self.counters.publish_errors, 1);
                        return false;
                    }
                }
            }
            Got::Lagged(topic, missed) => {
                let i = self.route(&topic);
                self.routes[i].next_seq += missed;
                bump(&self.counters.lagged, missed);
                bump(&self.counters.lag_events, 1);
            }
            // Keep the route: a topic re-created under the same name continues the same
            // stream of sequence numbers.
            Got::Closed => bump(&self.counters.closed_topics, 1),
            Got::Empty => {}
        }
        true
    }

    /// The index of `topic`'s route, made on first sight.
    fn route(&mut self, topic: &Topic) -> usize {
        let key = topic.as_str().as_ptr();
        if let Some(k) = self
            .recent
            .iter()
            .position(|e| e.as_ref().is_some_and(|(t, _)| t.as_str().as_ptr() == key))
        {
            // Most recent first; a hit on the first entry (one busy topic) moves nothing.
            self.recent[..=k].rotate_right(1);
            return self.recent[0].as_ref().expect("just found").1;
        }
        let index = match self.by_name.get(topic) {
            Some(&i) => i,
            None => {
                let subject = Subject::from(self.mapping.to_subject(topic));
                self.routes.push(Route {
                    subject,
                    next_seq: 0,
                    remote: false,
                    checked: u64::MAX,
                });
                self.by_name.insert(topic.clone(), self.routes.len() - 1);
                self.routes.len() - 1
            }
        };
        self.recent.rotate_right(1);
        self.recent[0] = Some((topic.clone(), index));
        index
    }

    /// The subject and framed body to publish for `value`, or `None` (counted) if it is
    /// not to be forwarded.
    fn prepare(&mut self, topic: &Topic, value: &T) -> Option<(Subject, bytes::Bytes)> {
        let generation = self.shared.remote.generation();
        let i = self.route(topic);
        let route = &mut self.routes[i];
        if route.checked != generation {
            route.remote = self.shared.remote.contains(topic);
            route.checked = generation;
        }
        if route.remote {
            // Not part of the stream: no sequence number used.
            bump(&self.counters.skipped_remote, 1);
            return None;
        }
        self.scratch.clear();
        if self.codec.encode(value, &mut self.scratch).is_err() {
            // Counted against the stream's number like any message moved past; the
            // receiver sees it as lost.
            route.next_seq += 1;
            bump(&self.counters.encode_errors, 1);
            return None;
        }
        let seq = route.next_seq;
        route.next_seq += 1;
        let body = self.framer.frame(seq, &self.scratch, &mut self.out);
        Some((route.subject.clone(), body))
    }
}
