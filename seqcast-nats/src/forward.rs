//! [`Forwarding`]: local bus → NATS.
//!
//! One tokio task per forwarding awaits its `PatternSubscriber` (`recv_async`) and hands
//! each message to the NATS client. Idle, the task is parked: it costs no CPU, and a message
//! on any of its topics, a new matching topic or a removal wakes it (the pattern
//! subscriber's parking protocol). It waits with `tokio::select!` on the stop signal too,
//! so stopping never waits for a message; dropping a pending `recv_async` is cancel-safe
//! (nothing is taken, nothing stays registered).
//!
//! Why the local publisher is never blocked: the forwarder is an ordinary, non-gated
//! subscriber. If NATS is slow or gone, `publish().await` waits (once the client's buffer,
//! `ConnectOptions::client_capacity`, is full), the ring laps the forwarder, and the next
//! receive reports `Lagged { missed }`: counted in [`ForwardStats::lagged`] and skipped
//! in the stream's sequence numbers, so the receiving side sees the gap too.
//!
//! [`ForwardStats::lagged`]: crate::ForwardStats::lagged

use crate::bridge::{Shared, HEADER};
use crate::stats::{bump, ForwardCounters};
use crate::{Codec, Error, ForwardStats, Mapping};
use async_nats::{HeaderMap, Subject};
use bytes::Bytes;
use core::fmt;
use seqcast::error::{RecvError, TopicError};
use seqcast::{PatternSubscriber, Topic};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::watch;

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
    /// Waiting blocks the calling thread briefly (the task ends at its next poll); on a
    /// multi-threaded runtime's thread it does so through `block_in_place`, so the task can
    /// still run. On a current-thread runtime it cannot wait: the task is cancelled, and
    /// ends the next time that runtime runs.
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
    origin: String,
    subscriber: PatternSubscriber<T>,
    mapping: Mapping,
    codec: C,
    counters: Arc<ForwardCounters>,
) -> Result<Forwarding, Error>
where
    T: Copy + Send + 'static,
    C: Codec<T>,
{
    let pattern = subscriber.pattern().as_str().to_owned();
    let (stop, stopped) = watch::channel(false);
    let ended = Arc::new(Ended::default());
    let worker = Forwarder {
        shared: shared.clone(),
        origin,
        subscriber,
        mapping,
        codec,
        counters: counters.clone(),
        routes: HashMap::new(),
        body: Vec::new(),
    };
    let guard = EndGuard(ended.clone());
    let task = shared.runtime.spawn(async move {
        let _guard = guard;
        worker.run(stopped).await;
    });
    Ok(Forwarding {
        pattern,
        stop,
        task: Some(task),
        ended,
        counters,
    })
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

struct Forwarder<T: Copy, C> {
    shared: Arc<Shared>,
    /// This forwarding's origin in [`HEADER`]: `<bridge id>-<forwarding number>`.
    origin: String,
    subscriber: PatternSubscriber<T>,
    mapping: Mapping,
    codec: C,
    counters: Arc<ForwardCounters>,
    routes: HashMap<Topic, Route>,
    body: Vec<u8>,
}

impl<T: Copy + Send + 'static, C: Codec<T>> Forwarder<T, C> {
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        loop {
            // `biased`: the stop signal first, so a busy subscription cannot delay it.
            // Dropping a pending `recv_async` when it wins takes nothing.
            let got = tokio::select! {
                biased;
                _ = stopped.changed() => break,
                got = self.subscriber.recv_async() => got,
            };
            match got {
                Ok((topic, value)) => {
                    if let Some((subject, headers, body)) = self.prepare(&topic, &value) {
                        let client = &self.shared.client;
                        tokio::select! {
                            biased;
                            _ = stopped.changed() => break,
                            sent = client.publish_with_headers(subject, headers, body) => match sent {
                                Ok(()) => bump(&self.counters.forwarded, 1),
                                Err(_) => bump(&self.counters.publish_errors, 1),
                            },
                        }
                    }
                }
                Err(TopicError {
                    topic: Some(topic),
                    error: RecvError::Lagged(missed),
                }) => {
                    self.route(&topic).next_seq += missed;
                    bump(&self.counters.lagged, missed);
                    bump(&self.counters.lag_events, 1);
                }
                Err(TopicError {
                    error: RecvError::Closed,
                    ..
                }) => {
                    // Keep the route: a topic re-created under the same name continues
                    // the same stream of sequence numbers.
                    bump(&self.counters.closed_topics, 1);
                }
                // A pattern subscriber's receive reports nothing else.
                Err(_) => {}
            }
        }
    }

    fn route(&mut self, topic: &Topic) -> &mut Route {
        if !self.routes.contains_key(topic) {
            let subject = Subject::from(self.mapping.to_subject(topic));
            let route = Route {
                subject,
                next_seq: 0,
                remote: false,
                checked: u64::MAX,
            };
            self.routes.insert(topic.clone(), route);
        }
        self.routes.get_mut(topic).expect("inserted above")
    }

    /// The subject, headers and body to publish for `value`, or `None` (counted) if it is
    /// not to be forwarded.
    fn prepare(&mut self, topic: &Topic, value: &T) -> Option<(Subject, HeaderMap, Bytes)> {
        let generation = self.shared.remote.generation();
        let shared = self.shared.clone();
        let route = self.route(topic);
        if route.checked != generation {
            route.remote = shared.remote.contains(topic);
            route.checked = generation;
        }
        if route.remote {
            // Not part of the stream: no sequence number used.
            bump(&self.counters.skipped_remote, 1);
            return None;
        }
        let seq = route.next_seq;
        route.next_seq += 1;
        let subject = route.subject.clone();
        self.body.clear();
        if self.codec.encode(value, &mut self.body).is_err() {
            bump(&self.counters.encode_errors, 1);
            return None;
        }
        let mut headers = HeaderMap::new();
        let value = format!("{} {seq} {}", self.origin, self.codec.id());
        headers.insert(HEADER, value.as_str());
        Some((subject, headers, Bytes::copy_from_slice(&self.body)))
    }
}
