//! [`Delivery`]: NATS → local bus.
//!
//! A tokio task reads one NATS subscription and publishes each message into the local topic
//! its subject maps to, through a [`SharedPublisher`] per topic (created on first use with
//! [`Bus::publisher`], so the topic is created if needed). Publishing into a ring never
//! waits (unless a local subscriber of that topic is *gated*), so the task keeps up with
//! NATS as long as decoding does; if it does not, the client drops messages for the slow
//! subscription (a slow-consumer event) and the gap shows up in [`DeliverStats::lost`].
//!
//! Per message, in order: take the body apart ([`crate::wire`]), drop our own echoes (its
//! origin is this bridge's), account the stream's sequence number (a jump is loss; a
//! number already passed is dropped as out of order), check the codec, map the subject to
//! a topic name, decode, publish.
//!
//! The common message does no hashing and no allocation: its stream (origin and subject)
//! is found in a small cache of the latest streams by comparing the origin's two integers
//! and the subject's bytes, and the stream holds the index of its subject's route: the
//! mapped name and the publisher. Only a stream or subject not among the latest few is
//! looked up in a map. The body is decoded from the received bytes where they lie.
//!
//! Why a late message is dropped rather than delivered: the receiver cannot tell a
//! duplicate from a message it had given up as lost, and delivering either would break
//! what the bridge promises: a duplicate is a second delivery (at most once), a late one
//! lands after its successors in the local topic (stream order), and both would be counted
//! twice (`delivered` and `lost`, or `delivered` twice), so that `delivered + lost +
//! unseen_at_start` would exceed the stream's length. Dropped, each number of a stream is
//! accounted exactly once. Messages in neither wire format (from other NATS clients) are
//! decoded and delivered too; they have no stream, so their loss cannot be detected.
//!
//! [`DeliverStats::lost`]: crate::DeliverStats::lost

use crate::bridge::Shared;
use crate::stats::{bump, DeliverCounters};
use crate::wire::{self, CodecTag, Framed};
use crate::{Codec, DeliverStats, Error, Mapping};
use core::fmt;
use futures::StreamExt;
use seqcast::{Bus, SharedPublisher};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How many streams, and how many subjects, the caches remember (see the module docs).
const RECENT: usize = 4;

/// A running delivery (NATS subjects → local topics), made by
/// [`Bridge::deliver`](crate::Bridge::deliver). Dropping it stops the task and unsubscribes.
pub struct Delivery {
    subject: String,
    task: JoinHandle<()>,
    counters: Arc<DeliverCounters>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("subject", &self.subject)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Delivery {
    /// This delivery's counters.
    pub fn stats(&self) -> DeliverStats {
        self.counters.snapshot()
    }

    /// The NATS subject (or wildcard) it subscribes to.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Stops the delivery (unsubscribing) and returns its final counters.
    pub fn stop(self) -> DeliverStats {
        self.task.abort();
        self.stats()
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn start<T, C>(
    shared: Arc<Shared>,
    subject: &str,
    bus: Bus,
    mapping: Mapping,
    codec: C,
    counters: Arc<DeliverCounters>,
) -> Result<Delivery, Error>
where
    T: Copy + Send + 'static,
    C: Codec<T>,
{
    let mut subscription = shared
        .client
        .subscribe(subject.to_owned())
        .await
        .map_err(Error::Subscribe)?;
    let probe = confirm_registered(&shared.client).await?;
    // The probe's subject is one this subscription may match: its messages are dropped.
    let probe = seqcast::bus::Pattern::parse(subject)
        .map_or(true, |p| p.matches(probe.as_str()))
        .then_some(probe);
    let mut worker = Deliverer {
        shared: shared.clone(),
        bus,
        mapping,
        fingerprint: wire::codec_fingerprint(codec.id()),
        json_id: wire::json_escape(codec.id()).into_bytes(),
        codec,
        counters: counters.clone(),
        streams: Vec::new(),
        stream_index: HashMap::new(),
        recent_streams: [usize::MAX; RECENT],
        routes: Vec::new(),
        route_index: HashMap::new(),
        recent_routes: [usize::MAX; RECENT],
        probe,
    };
    let task = shared.runtime.spawn(async move {
        while let Some(message) = subscription.next().await {
            worker.handle(&message);
        }
    });
    Ok(Delivery {
        subject: subject.to_owned(),
        task,
        counters,
    })
}

/// One stream seen by a delivery: an origin (bridge and forwarding) on one subject.
struct Stream {
    bridge: u64,
    forwarding: u32,
    subject: async_nats::Subject,
    /// The next sequence number expected; `None` before the stream's first message here.
    next: Option<u64>,
    /// Its subject's entry in `Deliverer::routes`.
    route: usize,
}

/// Where the messages of one subject go.
struct Route<T: Copy> {
    subject: async_nats::Subject,
    /// The local topic name, `None` if the subject is outside the mapping.
    local: Option<String>,
    /// Made at the first message published into `local`.
    publisher: Option<SharedPublisher<T>>,
}

/// Waits until the server has registered every subscription this client has sent so far,
/// and returns the subject it probed with.
///
/// `Client::flush` only writes the client's buffer to the socket: it does not wait for the
/// server, which may still have the SUB unread while messages from other connections go
/// by without it (and are lost to it: the first messages of a stream, counted as
/// `unseen_at_start`). The server handles one connection's protocol in order, so a message
/// of ours that comes back on a subscription sent after the others proves they are all
/// registered. Sent again (with a growing wait) if it does not come back: a reconnect may
/// have lost it; the client replays the probe's subscription itself.
async fn confirm_registered(client: &async_nats::Client) -> Result<async_nats::Subject, Error> {
    let inbox = async_nats::Subject::from(client.new_inbox());
    let mut probe = client
        .subscribe(inbox.clone())
        .await
        .map_err(Error::Subscribe)?;
    let mut wait = Duration::from_millis(100);
    loop {
        // A failed publish (disconnected, the client's buffer full) is retried like a lost one.
        let _ = client.publish(inbox.clone(), bytes::Bytes::new()).await;
        client.flush().await.map_err(Error::Flush)?;
        match tokio::time::timeout(wait, probe.next()).await {
            Ok(Some(_)) => break,
            Ok(None) => {
                return Err(Error::Flush(async_nats::client::FlushError::from(
                    async_nats::client::FlushErrorKind::FlushError,
                )))
            }
            Err(_) => wait = (wait * 2).min(Duration::from_secs(1)),
        }
    }
    let _ = probe.unsubscribe().await;
    Ok(inbox)
}

struct Deliverer<T: Copy, C> {
    shared: Arc<Shared>,
    bus: Bus,
    mapping: Mapping,
    codec: C,
    /// `codec`'s id as the binary format carries it.
    fingerprint: u64,
    /// `codec`'s id as the JSON format carries it (escaped).
    json_id: Vec<u8>,
    counters: Arc<DeliverCounters>,
    /// Every stream seen; `stream_index` finds one by origin, then subject.
    streams: Vec<Stream>,
    stream_index: HashMap<(u64, u32), HashMap<String, usize>>,
    /// The latest streams, most recent first (`usize::MAX`: empty).
    recent_streams: [usize; RECENT],
    /// Every subject seen; `route_index` finds one by subject.
    routes: Vec<Route<T>>,
    route_index: HashMap<String, usize>,
    /// The latest routes, most recent first (`usize::MAX`: empty).
    recent_routes: [usize; RECENT],
    /// The subject of `confirm_registered`'s probe, if this subscription matches it.
    probe: Option<async_nats::Subject>,
}

impl<T: Copy + Send + 'static, C: Codec<T>> Deliverer<T, C> {
    fn handle(&mut self, message: &async_nats::Message) {
        if self.probe.as_ref() == Some(&message.subject) {
            return;
        }
        bump(&self.counters.received, 1);
        let (route, body) = match wire::unframe(&message.payload) {
            Framed::Malformed => {
                bump(&self.counters.decode_errors, 1);
                return;
            }
            Framed::Foreign(body) => (self.route(&message.subject), body),
            Framed::Stream {
                bridge,
                forwarding,
                seq,
                codec,
                body,
            } => {
                if bridge == self.shared.origin_id {
                    bump(&self.counters.echoes, 1);
                    return;
                }
                let stream = self.stream(bridge, forwarding, &message.subject);
                if !self.account(stream, seq) {
                    return;
                }
                let ours = match codec {
                    CodecTag::Fingerprint(f) => f == self.fingerprint,
                    CodecTag::JsonString(id) => id == self.json_id.as_slice(),
                };
                if !ours {
                    bump(&self.counters.decode_errors, 1);
                    return;
                }
                (self.streams[stream].route, body)
            }
        };
        if self.routes[route].local.is_none() {
            bump(&self.counters.unmapped, 1);
            return;
        }
        let value = match self.codec.decode(body) {
            Ok(value) => value,
            Err(_) => {
                bump(&self.counters.decode_errors, 1);
                return;
            }
        };
        if self.publish(route, value) {
            bump(&self.counters.delivered, 1);
        } else {
            bump(&self.counters.bus_errors, 1);
        }
    }

    /// The index of the stream of `bridge`, `forwarding` on `subject`, made on first sight.
    fn stream(&mut self, bridge: u64, forwarding: u32, subject: &async_nats::Subject) -> usize {
        let streams = &self.streams;
        let hit = self.recent_streams.iter().position(|&i| {
            streams.get(i).is_some_and(|s| {
                s.bridge == bridge && s.forwarding == forwarding && s.subject == *subject
            })
        });
        if let Some(k) = hit {
            self.recent_streams[..=k].rotate_right(1);
            return self.recent_streams[0];
        }
        let found = self
            .stream_index
            .get(&(bridge, forwarding))
            .and_then(|by_subject| by_subject.get(subject.as_str()))
            .copied();
        let index = match found {
            Some(i) => i,
            None => {
                let route = self.route(subject);
                self.streams.push(Stream {
                    bridge,
                    forwarding,
                    subject: subject.clone(),
                    next: None,
                    route,
                });
                let i = self.streams.len() - 1;
                self.stream_index
                    .entry((bridge, forwarding))
                    .or_default()
                    .insert(subject.as_str().to_owned(), i);
                i
            }
        };
        self.recent_streams.rotate_right(1);
        self.recent_streams[0] = index;
        index
    }

    /// The index of `subject`'s route, made on first sight.
    fn route(&mut self, subject: &async_nats::Subject) -> usize {
        let routes = &self.routes;
        let hit = self
            .recent_routes
            .iter()
            .position(|&i| routes.get(i).is_some_and(|r| r.subject == *subject));
        if let Some(k) = hit {
            self.recent_routes[..=k].rotate_right(1);
            return self.recent_routes[0];
        }
        let index = match self.route_index.get(subject.as_str()) {
            Some(&i) => i,
            None => {
                let local = self.mapping.to_local(subject.as_str()).map(str::to_owned);
                self.routes.push(Route {
                    subject: subject.clone(),
                    local,
                    publisher: None,
                });
                let i = self.routes.len() - 1;
                self.route_index.insert(subject.as_str().to_owned(), i);
                i
            }
        };
        self.recent_routes.rotate_right(1);
        self.recent_routes[0] = index;
        index
    }

    /// Counts the gap (if any) between the expected and the received sequence number.
    /// `false`: the stream is already past `seq` (counted out of order): drop the message.
    fn account(&mut self, stream: usize, seq: u64) -> bool {
        let c = &self.counters;
        let next = &mut self.streams[stream].next;
        match *next {
            None => {
                // First message of the stream here: what came before it is unseen.
                bump(&c.unseen_at_start, seq);
            }
            Some(expected) if seq < expected => {
                bump(&c.out_of_order, 1);
                return false;
            }
            Some(expected) => bump(&c.lost, seq - expected),
        }
        // The last number a stream can carry is u64::MAX - 1: saturating keeps it ordered.
        *next = Some(seq.saturating_add(1));
        true
    }

    /// Publishes into the route's local topic, creating it (and a publisher) if needed, and
    /// once more if the topic was removed meanwhile. `false`: the bus refused the name or
    /// the type.
    fn publish(&mut self, route: usize, value: T) -> bool {
        let route = &mut self.routes[route];
        let Some(local) = route.local.as_deref() else {
            return false;
        };
        for _ in 0..2 {
            let publisher = match &route.publisher {
                Some(p) => p,
                None => {
                    // Before the first message: the forwarders of this bridge must know the
                    // topic is fed from NATS by the time they read it (see RemoteTopics).
                    self.shared.remote.insert(local);
                    match self.bus.publisher::<T>(local) {
                        Ok(p) => route.publisher.insert(p),
                        Err(_) => return false,
                    }
                }
            };
            if publisher.send(value).is_ok() {
                return true;
            }
            // The topic was removed from the bus: a new lookup makes a new one.
            route.publisher = None;
        }
        false
    }
}
