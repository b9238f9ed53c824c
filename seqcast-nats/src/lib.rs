//! # seqcast-nats
//!
//! A bridge between a [`seqcast::Bus`] and [NATS](https://nats.io): past one machine,
//! seqcast hands off to an existing distributed messaging system instead of growing a
//! network layer of its own.
//!
//! * [`Bridge::forward`]: every local topic matching a name or pattern is published to the
//!   NATS subject of the same name (optionally below a prefix: [`Mapping`]).
//! * [`Bridge::deliver`]: every NATS message on a subject or wildcard is published into the
//!   local topic of the same name, created as needed.
//!
//! Topic names and subjects follow the same rules (dot-separated tokens, `*` for one token,
//! `>` for one or more trailing tokens), so the mapping is one to one.
//!
//! ```no_run
//! use seqcast::Bus;
//! use seqcast_nats::{Bridge, Mapping, RawCodec};
//!
//! #[repr(C)]
//! #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
//! struct Reading { sensor: u64, value: f64 }
//!
//! # async fn run() -> Result<(), seqcast_nats::Error> {
//! // Machine A: publish locally, forward `sensors.>` to NATS as `site-a.sensors.>`.
//! let bus_a = Bus::new();
//! let bridge_a = Bridge::connect("nats://10.0.0.1:4222").await?;
//! let _out = bridge_a.forward(&bus_a, "sensors.>", Mapping::prefix("site-a")?,
//!                             RawCodec::<Reading>::with_tag("reading-v1"))?;
//! bus_a.publisher::<Reading>("sensors.temp").unwrap().send(Reading { sensor: 1, value: 20.5 });
//!
//! // Machine B: deliver `site-a.sensors.>` into local topics `sensors.>`.
//! let bus_b = Bus::new();
//! let bridge_b = Bridge::connect("nats://10.0.0.1:4222").await?;
//! let _in = bridge_b.deliver("site-a.sensors.>", &bus_b, Mapping::prefix("site-a")?,
//!                            RawCodec::<Reading>::with_tag("reading-v1")).await?;
//! let mut rx = bus_b.subscribe_pattern::<Reading>("sensors.>").unwrap();
//! # Ok(()) }
//! ```
//!
//! # Payload encoding
//! Explicit: each direction is given a [`Codec`]. [`RawCodec`] sends the bytes of a
//! plain-data (`bytemuck::Pod`) value; [`JsonCodec`] (feature `serde-json`) sends JSON.
//! The codec's id travels in a header and a receiver refuses other codecs' messages. See
//! [`codec`] for why raw bytes need `Pod`.
//!
//! # Headers
//! Every forwarded message carries one header, [`HEADER`]: `Seqcast: <origin> <seq>
//! <codec>`: the forwarding bridge's random id, the message's number in its *stream* (one
//! stream per origin and subject, counting lapped messages too), and the codec's id. The
//! body is the codec's output alone, so other NATS clients can read it.
//!
//! # Lag and loss stay visible
//! * The forwarder is an ordinary subscriber: it never slows a local publisher. When it
//!   falls a ring behind (NATS slower than the publisher, or disconnected) it counts what it
//!   missed in [`ForwardStats::lagged`].
//! * Sequence numbers include what was missed, so the receiving side sees every hole,
//!   whatever made it (forwarder lag, an outage, a slow consumer) and counts it in
//!   [`DeliverStats::lost`] (or, before the first message a delivery receives, in
//!   [`DeliverStats::unseen_at_start`]). For each stream, once its latest message has
//!   arrived: `delivered + lost + unseen_at_start == messages the forwarder moved past`.
//! * NATS core is at-most-once: messages in flight when a connection drops are gone. The
//!   client reconnects by itself (forever, with backoff: [`BridgeBuilder`]), replays the
//!   subscriptions and flushes what it buffered meanwhile; the bridge counts disconnects
//!   and reconnects ([`ConnectionStats`]) and can call a hook
//!   ([`BridgeBuilder::on_event`]).
//!
//! # Loop prevention
//! A bus that both forwards and delivers the same names would otherwise send its own
//! messages round and round (A forwards `x`, B delivers it into its `x`, B forwards it
//! back...). Two rules, both on by default, stop it:
//!
//! 1. **A topic is fed either locally or from NATS.** Once a [`Delivery`] publishes into a
//!    local topic, the forwardings of the same [`Bridge`] stop forwarding that topic
//!    (counted in [`ForwardStats::skipped_remote`]). So B never re-forwards what it
//!    received. The catch: local publishers on such a topic are not forwarded either; give
//!    locally produced data its own names.
//! 2. **A bridge drops its own messages.** A delivery whose subscription also matches what
//!    its bridge forwards gets those messages back from the server; they carry its own
//!    origin id and are dropped ([`DeliverStats::echoes`]).
//!
//! Use one bridge per bus (rule 1 is per bridge). The cheapest setup needs neither rule:
//! give each site its own prefix ([`Mapping::prefix`]) and deliver only the others'.
//!
//! # Runtime
//! The bridge runs on the caller's multi-threaded tokio runtime ([`Bridge::connect`] must be
//! called on one): the client, the delivery tasks, and the publishing of the forwarders,
//! each of which also has a thread of its own to poll its local subscription.
#![warn(missing_docs, missing_debug_implementations)]
#![deny(unsafe_code)]
// Under the loom cfg, seqcast's atomics are loom's and only work inside a loom model: the
// bridge has nothing to model and compiles to an empty crate.
#![cfg(not(seqcast_loom))]

mod bridge;
pub mod codec;
mod deliver;
mod error;
mod forward;
mod mapping;
mod stats;

pub use bridge::{Bridge, BridgeBuilder, HEADER};
#[cfg(feature = "serde-json")]
pub use codec::JsonCodec;
pub use codec::{Codec, CodecError, RawCodec};
pub use deliver::Delivery;
pub use error::Error;
pub use forward::Forwarding;
pub use mapping::Mapping;
pub use stats::{BridgeStats, ConnectionStats, DeliverStats, ForwardStats};
