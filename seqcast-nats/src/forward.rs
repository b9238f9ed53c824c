//! [`Forwarding`]: local bus → NATS.
//!
//! One thread per forwarding reads a `PatternSubscriber` and hands each message to the NATS
//! client. The thread, not a tokio task, because `PatternSubscriber` has no async wake-up:
//! the thread polls with `try_recv`, spins briefly when it finds nothing, then sleeps with a
//! doubling sleep up to [`BridgeBuilder::idle_sleep`](crate::BridgeBuilder::idle_sleep).
//! Publishing is `async` (the client's command channel); the thread runs its loop inside
//! one `Handle::block_on`, so awaiting a full client buffer parks only this thread.
//!
//! Why the local publisher is never blocked: the forwarder is an ordinary, non-gated
//! subscriber. If NATS is slow or gone, `publish().await` waits (once the client's buffer,
//! `ConnectOptions::client_capacity`, is full), the ring laps the forwarder, and the next
//! `try_recv` reports `Lagged { missed }`: counted in [`ForwardStats::lagged`] and skipped
//! in the stream's sequence numbers, so the receiving side sees the gap too.
//!
//! [`ForwardStats::lagged`]: crate::ForwardStats::lagged

use crate::bridge::{Shared, HEADER};
use crate::stats::{bump, ForwardCounters};
use crate::{Codec, Error, ForwardStats, Mapping};
use async_nats::{HeaderMap, Subject};
use bytes::Bytes;
use core::fmt;
use seqcast::error::{TopicError, TryRecvError};
use seqcast::{PatternSubscriber, Topic};
use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

/// A running forwarding (local topics → NATS subjects), made by
/// [`Bridge::forward`](crate::Bridge::forward). Dropping it stops the forwarder thread (and
/// waits for it).
pub struct Forwarding {
    pattern: String,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<ForwardCounters>,
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

    /// Stops the forwarder, waits for its thread, and returns its final counters. Messages
    /// already handed to the client are still sent by it.
    pub fn stop(mut self) -> ForwardStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
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
    let worker = Forwarder {
        shared,
        origin,
        subscriber,
        mapping,
        codec,
        counters: counters.clone(),
        routes: HashMap::new(),
        body: Vec::new(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("seqcast-nats fwd {pattern}"))
        .spawn(move || worker.run(stopped))
        .map_err(Error::Thread)?;
    Ok(Forwarding {
        pattern,
        stop,
        thread: Some(thread),
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
    fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let runtime = self.shared.runtime.clone();
        runtime.block_on(async move {
            let mut idle = 0u32;
            while !*stopped.borrow() {
                match self.subscriber.try_recv() {
                    Ok((topic, value)) => {
                        idle = 0;
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
                        error: TryRecvError::Lagged(missed),
                    }) => {
                        self.route(&topic).next_seq += missed;
                        bump(&self.counters.lagged, missed);
                        bump(&self.counters.lag_events, 1);
                    }
                    Err(TopicError {
                        error: TryRecvError::Closed,
                        ..
                    }) => {
                        // Keep the route: a topic re-created under the same name continues
                        // the same stream of sequence numbers.
                        bump(&self.counters.closed_topics, 1);
                    }
                    // Empty (a pattern subscriber reports nothing else).
                    Err(_) => {
                        idle = idle.saturating_add(1);
                        self.snooze(idle);
                    }
                }
            }
        });
    }

    /// Spin 64 polls, yield 16, then sleep 20 µs, 40 µs, ... up to `idle_sleep`.
    fn snooze(&self, idle: u32) {
        if idle <= 64 {
            core::hint::spin_loop();
        } else if idle <= 80 {
            std::thread::yield_now();
        } else {
            let shift = (idle - 81).min(16);
            let sleep = Duration::from_micros(20u64 << shift).min(self.shared.idle_sleep);
            std::thread::sleep(sleep);
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
