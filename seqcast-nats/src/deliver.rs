//! [`Delivery`]: NATS → local bus.
//!
//! A tokio task reads one NATS subscription and publishes each message into the local topic
//! its subject maps to, through a [`SharedPublisher`] per topic (created on first use with
//! [`Bus::publisher`], so the topic is created if needed). Publishing into a ring never
//! waits (unless a local subscriber of that topic is *gated*), so the task keeps up with
//! NATS as long as decoding does; if it does not, the client drops messages for the slow
//! subscription (a slow-consumer event) and the gap shows up in [`DeliverStats::lost`].
//!
//! Per message, in order: read the [`HEADER`](crate::HEADER), drop our own echoes (its
//! origin is this bridge's), account the stream's sequence number (a jump is loss; a
//! number already passed is dropped as out of order), check the codec id, map the subject
//! to a topic name, decode, publish.
//!
//! Why a late message is dropped rather than delivered: the receiver cannot tell a
//! duplicate from a message it had given up as lost, and delivering either would break
//! what the bridge promises: a duplicate is a second delivery (at most once), a late one
//! lands after its successors in the local topic (stream order), and both would be counted
//! twice (`delivered` and `lost`, or `delivered` twice), so that `delivered + lost +
//! unseen_at_start` would exceed the stream's length. Dropped, each number of a stream is
//! accounted exactly once. Messages without the
//! seqcast header (from other NATS clients) are decoded and delivered too; they have no
//! stream, so their loss cannot be detected.
//!
//! [`DeliverStats::lost`]: crate::DeliverStats::lost

use crate::bridge::{bridge_of, parse_header, Shared, HEADER};
use crate::stats::{bump, DeliverCounters};
use crate::{Codec, DeliverStats, Error, Mapping};
use core::fmt;
use futures::StreamExt;
use seqcast::{Bus, SharedPublisher};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::task::JoinHandle;

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
    // The SUB is registered by the server once this round trip completes.
    shared.client.flush().await.map_err(Error::Flush)?;
    let mut worker = Deliverer {
        shared: shared.clone(),
        bus,
        mapping,
        codec,
        counters: counters.clone(),
        streams: HashMap::new(),
        publishers: HashMap::new(),
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

struct Deliverer<T: Copy, C> {
    shared: Arc<Shared>,
    bus: Bus,
    mapping: Mapping,
    codec: C,
    counters: Arc<DeliverCounters>,
    /// Next expected sequence number, per origin (forwarding), per subject.
    streams: HashMap<String, HashMap<String, u64>>,
    /// A publisher per local topic delivered into.
    publishers: HashMap<String, SharedPublisher<T>>,
}

impl<T: Copy + Send + 'static, C: Codec<T>> Deliverer<T, C> {
    fn handle(&mut self, message: &async_nats::Message) {
        let c = self.counters.clone();
        bump(&c.received, 1);
        let header = message
            .headers
            .as_ref()
            .and_then(|h| h.get(HEADER))
            .map(|v| v.as_str());
        if let Some(header) = header {
            let Some((origin, seq, codec)) = parse_header(header) else {
                bump(&c.decode_errors, 1);
                return;
            };
            if bridge_of(origin) == self.shared.origin {
                bump(&c.echoes, 1);
                return;
            }
            if !self.account(origin, message.subject.as_str(), seq) {
                return;
            }
            if codec != self.codec.id() {
                bump(&c.decode_errors, 1);
                return;
            }
        }
        let Some(local) = self.mapping.to_local(message.subject.as_str()) else {
            bump(&c.unmapped, 1);
            return;
        };
        let value = match self.codec.decode(&message.payload) {
            Ok(value) => value,
            Err(_) => {
                bump(&c.decode_errors, 1);
                return;
            }
        };
        if self.publish(local, value) {
            bump(&self.counters.delivered, 1);
        } else {
            bump(&self.counters.bus_errors, 1);
        }
    }

    /// Counts the gap (if any) between the expected and the received sequence number.
    /// `false`: the stream is already past `seq` (counted out of order): drop the message.
    fn account(&mut self, origin: &str, subject: &str, seq: u64) -> bool {
        let c = self.counters.clone();
        let stream = match self.streams.get_mut(origin) {
            Some(stream) => stream,
            None => self.streams.entry(origin.to_owned()).or_default(),
        };
        match stream.get_mut(subject) {
            None => {
                // First message of the stream here: what came before it is unseen.
                bump(&c.unseen_at_start, seq);
                stream.insert(subject.to_owned(), seq + 1);
                true
            }
            Some(next) if seq < *next => {
                bump(&c.out_of_order, 1);
                false
            }
            Some(next) => {
                bump(&c.lost, seq - *next);
                *next = seq + 1;
                true
            }
        }
    }

    /// Publishes into topic `local`, creating it (and a publisher) if needed, and once more
    /// if the topic was removed meanwhile. `false`: the bus refused the name or the type.
    fn publish(&mut self, local: &str, value: T) -> bool {
        for _ in 0..2 {
            let publisher = match self.publishers.get(local) {
                Some(p) => p,
                None => {
                    // Before the first message: the forwarders of this bridge must know the
                    // topic is fed from NATS by the time they read it (see RemoteTopics).
                    self.shared.remote.insert(local);
                    match self.bus.publisher::<T>(local) {
                        Ok(p) => self.publishers.entry(local.to_owned()).or_insert(p),
                        Err(_) => return false,
                    }
                }
            };
            if publisher.send(value).is_ok() {
                return true;
            }
            // The topic was removed from the bus: a new lookup makes a new one.
            self.publishers.remove(local);
        }
        false
    }
}
