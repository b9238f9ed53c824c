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
//! The codec's id travels with each message and a receiver refuses other codecs' messages.
//! See [`codec`] for why raw bytes need `Pod`.
//!
//! # Wire format
//! No NATS headers: every forwarded message's body starts with what identifies it, then
//! holds the codec's output. Two formats ([`wire`], where both are specified byte by byte),
//! each with a version so that it can evolve; a bridge sends one
//! ([`BridgeBuilder::wire_format`]) and its deliveries read both:
//!
//! * **binary** (default): a fixed 32-byte prefix: the magic `SQC`, a version byte, the
//!   forwarding's origin (its bridge's random id and its number in that bridge), the
//!   message's number in its *stream* (one stream per origin and subject, counting lapped
//!   messages too), and a 64-bit fingerprint of the codec's id; little-endian.
//! * **JSON**, for subscribers in other languages: one JSON object per message,
//!   `{"seqcast":1,"origin":"<16 hex digits>-<n>","seq":<n>,"codec":"<id>","data":<value>}`,
//!   with a JSON codec's output as `data`.
//!
//! # What the bridge promises
//! **At most once, in order, every loss counted.** A message published on a forwarded
//! topic reaches a delivering bus at most once, and in the order of its stream; where it
//! does not arrive the bridge counts it. It never waits for a message, retries it, or
//! slows a local publisher for it: the forwarder is an ordinary subscriber that lags when
//! NATS is slower than the publisher, and NATS core itself is at-most-once.
//!
//! A *stream* is what one [`Forwarding`] sends on one subject. Its messages carry
//! ([`wire`]) the forwarding's origin and their number in the stream, from 0, numbers
//! included for messages the forwarder missed; so the receiver sees every hole, whatever
//! made it. Per stream:
//!
//! * sending side: `forwarded + lagged + skipped_remote + encode_errors + publish_errors`
//!   ([`ForwardStats`]) is the number of the topic's messages the forwarding moved past:
//!   all those published from its start on;
//! * receiving side, once the stream's latest message has arrived:
//!   `delivered + lost + unseen_at_start == latest seq + 1` ([`DeliverStats`]), where a
//!   message refused by the codec, the mapping or the local bus counts in
//!   `decode_errors`, `unmapped` or `bus_errors` instead of `delivered`;
//! * and per delivery: `received == delivered + out_of_order + echoes + decode_errors +
//!   unmapped + bus_errors`.
//!
//! The receiving counters:
//! * [`lost`](DeliverStats::lost): gaps in a stream's numbers: messages the forwarder was
//!   lapped on ([`ForwardStats::lagged`]), in flight when a connection dropped, published
//!   while the receiving side was disconnected, or dropped for a slow consumer, by the
//!   server or by the client. Known when a later message of the stream arrives.
//! * [`unseen_at_start`](DeliverStats::unseen_at_start): the numbers before a stream's
//!   first message at this delivery: forwarded before it subscribed, or lost; the two
//!   cannot be told apart.
//! * [`out_of_order`](DeliverStats::out_of_order): messages whose number the stream has
//!   already passed, a duplicate or a late one (the receiver cannot tell which): dropped,
//!   so that nothing is delivered twice or after its successors, and counted only here.
//!   NATS keeps the order of each connection, so the bridge's own forwarders cause none.
//!
//! Faults, and what they do:
//! * **A lost connection or a server restart**: the client reconnects by itself (forever,
//!   with backoff: [`BridgeBuilder`]), replays the subscriptions and flushes what it
//!   buffered meanwhile. Messages in flight are gone; a forwarding side disconnected for
//!   longer than the client's buffer and the ring hold is lapped. Streams continue across
//!   reconnects, so all of it is counted as `lost`. The bridge counts disconnects and
//!   reconnects ([`ConnectionStats`]) and can call a hook ([`BridgeBuilder::on_event`]).
//! * **Only the receiving side disconnected**: the server drops what its subscriptions
//!   would have had meanwhile: `lost`, once it is back.
//! * **A slow consumer**: a server whose buffer for a client exceeds its limit
//!   (`max_pending`) drops what it held and closes the connection: `lost`, after the
//!   reconnect. A client whose subscription buffer is full drops messages itself
//!   ([`ConnectionStats::slow_consumers`]): `lost` too.
//! * **A restarted forwarder** (a new [`Bridge`], or a forwarding stopped and started
//!   again on the same one) is a new origin, so a new stream numbered from 0: nothing is
//!   counted lost or out of order for it.
//!
//! Not promised:
//! * Delivery itself: nothing is redelivered (use JetStream for at-least-once).
//! * Counting the loss of a stream's *last* messages: a gap is only seen when a later
//!   message of the same stream arrives, so what is lost just before a stream ends (its
//!   forwarding stopped, its bridge dropped) is never counted. Flush before dropping a
//!   bridge ([`Bridge::client`]`().flush()`) so that at least its buffer goes out.
//! * Counting messages published while no forwarding of the topic runs: nobody reads them.
//! * Per-stream counters: a delivery's counters are summed over its streams (subjects and
//!   origins); a delivery per subject with one forwarding per topic gives one stream's.
//! * Messages from other NATS clients (in neither wire format) have no stream: they are
//!   delivered, but their loss cannot be seen.
//! * Order across streams (different subjects, or different origins on one subject).
//! * Forgetting streams: a delivery keeps the next expected number of every stream it
//!   has seen while it runs (a few bytes per origin and subject).
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
//! called on one): the client, the delivery tasks, and the forwarder tasks, each of which
//! parks on its local subscription while idle (no thread of its own, no polling), so that
//! an idle bridge costs no CPU and the first message after a quiet spell is forwarded at
//! once.
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
pub mod wire;

pub use bridge::{Bridge, BridgeBuilder};
#[cfg(feature = "serde-json")]
pub use codec::JsonCodec;
pub use codec::{Codec, CodecError, RawCodec};
pub use deliver::Delivery;
pub use error::Error;
pub use forward::Forwarding;
pub use mapping::Mapping;
pub use stats::{BridgeStats, ConnectionStats, DeliverStats, ForwardStats};
pub use wire::WireFormat;
