//! Counters of a bridge, per direction and for its NATS connection, and their snapshots.
//!
//! Each counter is an `AtomicU64` written by one task or thread (the forwarder task, the
//! delivery task, or the client's event callback) with `Relaxed` adds and read with
//! `Relaxed` loads by [`stats`](crate::Bridge::stats): counters are independent of each
//! other and of the messages, so a snapshot is a set of values each of which was true at
//! some moment during the call, not one consistent cut.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one or more [`Forwarding`](crate::Forwarding)s (local bus → NATS).
///
/// For each forwarded topic, `forwarded + lagged + skipped_remote + encode_errors +
/// publish_errors` is the number of its messages the bridge moved past.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForwardStats {
    /// Messages handed to the NATS client for publishing.
    pub forwarded: u64,
    /// Messages the local ring overwrote before the bridge read them: the bridge is a
    /// subscriber like any other, and a lagging subscriber loses messages instead of slowing
    /// the publisher. They also show up downstream as gaps in the stream's sequence numbers
    /// ([`DeliverStats::lost`]).
    pub lagged: u64,
    /// How many times the bridge was lapped (each adding to `lagged`).
    pub lag_events: u64,
    /// Messages not forwarded because their topic is fed by a
    /// [`Delivery`](crate::Delivery) of the same bridge (loop prevention).
    pub skipped_remote: u64,
    /// Messages the codec could not encode.
    pub encode_errors: u64,
    /// Messages the NATS client refused (e.g. over the server's payload limit), and a
    /// message given up because the forwarding was stopped while it waited for room in the
    /// client's buffer.
    pub publish_errors: u64,
    /// Forwarded topics that were removed from the bus (and drained).
    pub closed_topics: u64,
}

/// Counters of one or more [`Delivery`](crate::Delivery)s (NATS → local bus).
///
/// Per stream, once its latest message has arrived: `delivered + lost + unseen_at_start ==
/// latest seq + 1` (plus `decode_errors`, `unmapped` and `bus_errors` for messages that
/// were refused); per delivery, `received == delivered + out_of_order + echoes +
/// decode_errors + unmapped + bus_errors`. See the [crate docs](crate#what-the-bridge-promises).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliverStats {
    /// NATS messages received on the subscription.
    pub received: u64,
    /// Messages published into a local topic.
    pub delivered: u64,
    /// Messages of a stream that never arrived here: gaps in its
    /// sequence numbers ([`wire`](crate::wire); one stream per forwarding and subject).
    /// Counts what the forwarder lost to lag, what was in flight when a connection dropped,
    /// what was published while this side was disconnected, and what the server or the
    /// client dropped for a slow consumer. Known once a later message of the stream
    /// arrives. (Before a stream's first message here, see
    /// [`unseen_at_start`](Self::unseen_at_start).)
    pub lost: u64,
    /// Per stream, the sequence number of the first message this delivery received: the
    /// messages of the stream before it, which were either forwarded before this delivery
    /// subscribed or lost (the two cannot be told apart). So, per stream, once its latest
    /// message has arrived: `delivered + lost + unseen_at_start == latest seq + 1`.
    pub unseen_at_start: u64,
    /// Messages whose sequence number their stream had already passed: a duplicate or a
    /// late message, which the receiver cannot tell apart. Dropped, so that nothing is
    /// delivered twice or after its successors, and counted only here (a late one was
    /// already counted in [`lost`](Self::lost)). NATS keeps each connection's order and
    /// every forwarding is a stream of its own, so the bridge's forwarders cause none.
    pub out_of_order: u64,
    /// Messages forwarded by this very bridge that came back (their origin is ours):
    /// dropped (loop prevention).
    pub echoes: u64,
    /// Bodies the codec refused, messages that name another codec, and bodies that start
    /// like a [wire format](crate::wire) but are malformed or of an unknown version.
    pub decode_errors: u64,
    /// Subjects that do not map to a local topic (outside the mapping's prefix).
    pub unmapped: u64,
    /// Local publish failures: the topic exists with another payload type, or the mapped
    /// name is not a valid topic name.
    pub bus_errors: u64,
}

/// Counters of a bridge's NATS connection, from the client's connection events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Whether the client is connected now.
    pub connected: bool,
    /// Successful connections, the first included.
    pub connects: u64,
    /// Connections lost (each followed by reconnect attempts, made by the client).
    pub disconnects: u64,
    /// Successful reconnections: `connects - 1`.
    pub reconnects: u64,
    /// Slow-consumer events: the client dropped messages for a subscription whose buffer
    /// was full (they also show up as [`DeliverStats::lost`]). A server that finds this
    /// client too slow closes its connection instead: a disconnect here, and loss.
    pub slow_consumers: u64,
    /// Server and client errors reported by the client.
    pub errors: u64,
}

/// A snapshot of a [`Bridge`](crate::Bridge)'s counters: its connection, and each direction
/// summed over its [`Forwarding`](crate::Forwarding)s and [`Delivery`](crate::Delivery)s
/// (stopped ones included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeStats {
    /// The NATS connection.
    pub connection: ConnectionStats,
    /// Local bus → NATS.
    pub forward: ForwardStats,
    /// NATS → local bus.
    pub deliver: DeliverStats,
}

macro_rules! counters {
    ($name:ident => $snap:ident { $($field:ident),* $(,)? }) => {
        #[derive(Debug, Default)]
        pub(crate) struct $name {
            $(pub(crate) $field: AtomicU64,)*
        }

        impl $name {
            pub(crate) fn snapshot(&self) -> $snap {
                $snap { $($field: self.$field.load(Relaxed),)* }
            }
        }

        impl $snap {
            pub(crate) fn add(&mut self, other: &$snap) {
                $(self.$field += other.$field;)*
            }
        }
    };
}

counters!(ForwardCounters => ForwardStats {
    forwarded, lagged, lag_events, skipped_remote, encode_errors, publish_errors, closed_topics,
});

counters!(DeliverCounters => DeliverStats {
    received, delivered, lost, unseen_at_start, out_of_order, echoes, decode_errors, unmapped, bus_errors,
});

/// Bumps a counter; only its owner writes it (see the module docs for `Relaxed`).
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Relaxed);
}

/// Connection counters, written by the client's event callback.
#[derive(Debug, Default)]
pub(crate) struct ConnectionCounters {
    pub(crate) connects: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) slow_consumers: AtomicU64,
    pub(crate) errors: AtomicU64,
}

impl ConnectionCounters {
    pub(crate) fn record(&self, event: &async_nats::Event) {
        use async_nats::Event;
        match event {
            Event::Connected => bump(&self.connects, 1),
            Event::Disconnected => bump(&self.disconnects, 1),
            Event::SlowConsumer(_) => bump(&self.slow_consumers, 1),
            Event::ServerError(_) | Event::ClientError(_) => bump(&self.errors, 1),
            _ => {}
        }
    }

    pub(crate) fn snapshot(&self, connected_now: bool) -> ConnectionStats {
        let connects = self.connects.load(Relaxed);
        ConnectionStats {
            connected: connected_now,
            connects,
            disconnects: self.disconnects.load(Relaxed),
            reconnects: connects.saturating_sub(1),
            slow_consumers: self.slow_consumers.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}
