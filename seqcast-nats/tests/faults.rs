//! Faults between two buses bridged through a real `nats-server`: repeated server restarts,
//! a disconnect of the receiving side only, a server dropping a slow consumer, a restarted
//! forwarder, and messages out of order on the wire. After each, the accounting must add up
//! per stream (see the crate docs, "What the bridge promises"):
//!
//! * forwarder: `forwarded + lagged + skipped_remote + encode_errors + publish_errors ==`
//!   the messages it moved past (here: all published on the topic while it ran);
//! * receiver, once the stream's latest message has arrived: `delivered + lost +
//!   unseen_at_start (+ decode_errors + unmapped + bus_errors) == latest seq + 1`;
//! * and what bus B's subscriber got is exactly what was `delivered`, per topic strictly
//!   in publish order (no duplicates).
//!
//! Each topic has a forwarding and a delivery of its own, so that their counters are those
//! of one stream. Every wait is bounded by a generous timeout; no test asserts a duration.

mod common;
mod proxy;
mod server;

use common::{on_runtime, wait_until, Suite, TIMEOUT};
use futures::StreamExt;
use proxy::Proxy;
use seqcast::error::TryRecvError;
use seqcast::{Bus, PatternSubscriber};
use seqcast_nats::wire::{codec_fingerprint, Prefix};
use seqcast_nats::RawCodec;
use seqcast_nats::{Bridge, Codec, DeliverStats, Delivery, ForwardStats, Forwarding, Mapping};
use server::NatsServer;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A 256-byte message, so that a few thousand of them fill a connection's buffers.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Sample {
    /// Per-topic publish index, from 0.
    index: u64,
    /// `!index`: a damaged body is detected.
    check: u64,
    pad: [u64; 30],
}

impl Sample {
    fn new(index: u64) -> Sample {
        Sample {
            index,
            check: !index,
            pad: [index; 30],
        }
    }
}

fn codec() -> RawCodec<Sample> {
    RawCodec::with_tag("sample-v1")
}

const PREFIX: &str = "site-a";

/// What bus B's subscriber received, per topic, in arrival order.
#[derive(Default)]
struct Received {
    by_topic: BTreeMap<String, Vec<u64>>,
}

impl Received {
    fn drain(&mut self, rx: &mut PatternSubscriber<Sample>) {
        loop {
            match rx.try_recv() {
                Ok((topic, s)) => {
                    assert_eq!(s, Sample::new(s.index), "payload intact");
                    let topic = self.by_topic.entry(topic.to_string()).or_default();
                    topic.push(s.index);
                }
                Err(e) if e.error == TryRecvError::Empty => return,
                // B's rings are big enough never to lap its subscriber: everything B misses
                // is NATS's or A's doing, and must show in the bridge's counters.
                Err(e) => panic!("bus B's subscriber: unexpected {e:?}"),
            }
        }
    }

    fn of(&self, topic: &str) -> &[u64] {
        self.by_topic.get(topic).map_or(&[], Vec::as_slice)
    }
}

/// Bus A → bridge A → NATS → bridge B → bus B, one forwarding and one delivery per topic.
struct Link {
    topics: Vec<&'static str>,
    bus_a: Bus,
    bridge_a: Bridge,
    bridge_b: Bridge,
    /// Per topic (same order as `topics`); replaced when a test restarts the forwarder.
    forwardings: Vec<Forwarding>,
    /// Per topic, the counters of forwardings stopped so far (earlier streams).
    stopped: Vec<Vec<ForwardStats>>,
    deliveries: Vec<Delivery>,
    rx: PatternSubscriber<Sample>,
    got: Received,
    /// Per topic, messages published so far.
    published: Vec<u64>,
    /// Per topic, messages published while no forwarding ran: nobody read them, so they
    /// are counted nowhere.
    unforwarded: Vec<u64>,
}

async fn bridge(url: &str) -> Bridge {
    Bridge::builder()
        .max_reconnect_delay(Duration::from_millis(100))
        .connect(url)
        .await
        .expect("connect")
}

impl Link {
    /// A's rings are small, so that an outage laps its forwarders; B's big, so that its
    /// subscriber never lags. A connects to `url_a`, B to `url_b`.
    async fn new(url_a: &str, url_b: &str, topics: &[&'static str]) -> Link {
        let bus_a = Bus::builder().capacity(256).build();
        let bus_b = Bus::builder().capacity(1 << 16).build();
        let bridge_a = bridge(url_a).await;
        let bridge_b = bridge(url_b).await;
        let mapping = Mapping::prefix(PREFIX).unwrap();
        let mut deliveries = Vec::new();
        for topic in topics {
            let subject = mapping.to_subject(topic);
            let delivery = bridge_b
                .deliver(&subject, &bus_b, mapping.clone(), codec())
                .await
                .expect("deliver");
            deliveries.push(delivery);
        }
        let rx = bus_b.subscribe_pattern::<Sample>(">").unwrap();
        let mut link = Link {
            topics: topics.to_vec(),
            bus_a,
            bridge_a,
            bridge_b,
            forwardings: Vec::new(),
            stopped: vec![Vec::new(); topics.len()],
            deliveries,
            rx,
            got: Received::default(),
            published: vec![0; topics.len()],
            unforwarded: vec![0; topics.len()],
        };
        link.start_forwarding();
        link
    }

    /// A forwarding per topic on `bridge_a` (after stopping the current ones, if any).
    fn start_forwarding(&mut self) {
        self.stop_forwarding();
        let mapping = Mapping::prefix(PREFIX).unwrap();
        for topic in &self.topics {
            let fwd = self
                .bridge_a
                .forward(&self.bus_a, topic, mapping.clone(), codec());
            self.forwardings.push(fwd.expect("forward"));
        }
    }

    fn stop_forwarding(&mut self) {
        for (i, fwd) in self.forwardings.drain(..).enumerate() {
            self.stopped[i].push(fwd.stop());
        }
    }

    /// Publishes `n` messages on each topic, continuing each topic's index.
    fn publish(&mut self, n: u64) {
        if self.forwardings.is_empty() {
            self.unforwarded.iter_mut().for_each(|u| *u += n);
        }
        for _ in 0..n {
            for (topic, next) in self.topics.iter().zip(&mut self.published) {
                let publisher = self.bus_a.publisher::<Sample>(topic).unwrap();
                publisher.send(Sample::new(*next)).expect("topic is live");
                *next += 1;
            }
        }
    }

    /// Publishes `n` per topic in chunks the forwarders keep up with (so they never lag).
    async fn publish_paced(&mut self, n: u64) {
        for _ in 0..n / 100 {
            self.publish(100);
            self.forwarders_move_past_everything().await;
        }
        self.publish(n % 100);
        self.forwarders_move_past_everything().await;
    }

    async fn forwarders_move_past_everything(&self) {
        wait_until("the forwarders move past every message", || {
            self.forwardings
                .iter()
                .zip(self.published.iter().zip(&self.unforwarded))
                .zip(&self.stopped)
                .all(|((fwd, (&published, &unforwarded)), stopped)| {
                    moved_past(&fwd.stats())
                        + stopped.iter().map(moved_past).sum::<u64>()
                        + unforwarded
                        >= published
                })
        })
        .await;
    }

    /// Until every topic's latest message has reached bus B: after a fault the latest may
    /// have been lost in flight, so publish probes (one per topic) until it has. Then waits
    /// for the delivery counters to catch up with what B's subscriber got.
    async fn settle(&mut self) {
        let start = Instant::now();
        loop {
            self.forwarders_move_past_everything().await;
            let arrived = Instant::now();
            while arrived.elapsed() < Duration::from_millis(500) && !self.latest_arrived() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if self.latest_arrived() {
                break;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out waiting for the latest messages to reach bus B"
            );
            self.publish(1);
        }
        wait_until("the delivery counters catch up", || {
            self.deliveries
                .iter()
                .zip(&self.topics)
                .all(|(d, t)| d.stats().delivered == self.got.of(t).len() as u64)
        })
        .await;
    }

    fn latest_arrived(&mut self) -> bool {
        self.got.drain(&mut self.rx);
        self.topics
            .iter()
            .zip(&self.published)
            .all(|(t, &n)| self.got.of(t).last().copied() == n.checked_sub(1))
    }

    /// Checks the accounting of every stream (see the module docs); returns the delivery
    /// counters per topic for further checks.
    fn check_accounting(&self) -> Vec<DeliverStats> {
        let mut out = Vec::new();
        for (i, topic) in self.topics.iter().enumerate() {
            let running = self.forwardings.get(i).map(Forwarding::stats);
            let streams: Vec<ForwardStats> =
                self.stopped[i].iter().copied().chain(running).collect();
            let moved: u64 = streams.iter().map(moved_past).sum();
            let dlv = self.deliveries[i].stats();
            let got = self.got.of(topic);
            eprintln!(
                "{topic}: published {}, forward {streams:?}, deliver {dlv:?}",
                self.published[i]
            );
            assert_eq!(
                moved + self.unforwarded[i],
                self.published[i],
                "{topic}: each forwarder moved past every message published while it ran"
            );
            assert_eq!(
                dlv.delivered
                    + dlv.lost
                    + dlv.unseen_at_start
                    + dlv.decode_errors
                    + dlv.unmapped
                    + dlv.bus_errors,
                moved,
                "{topic}: per stream, delivered + lost + unseen_at_start == latest seq + 1"
            );
            assert_eq!(
                (dlv.decode_errors, dlv.unmapped, dlv.bus_errors, dlv.echoes),
                (0, 0, 0, 0),
                "{topic}: nothing refused"
            );
            assert_eq!(
                dlv.received,
                dlv.delivered + dlv.out_of_order,
                "{topic}: every message received is delivered or counted out of order"
            );
            assert_eq!(
                dlv.delivered,
                got.len() as u64,
                "{topic}: B got what was delivered"
            );
            assert!(
                got.windows(2).all(|w| w[0] < w[1]),
                "{topic}: strictly in publish order, no duplicates"
            );
            out.push(dlv);
        }
        out
    }
}

/// Messages a forwarder moved past: its side of the accounting.
fn moved_past(s: &ForwardStats) -> u64 {
    s.forwarded + s.lagged + s.skipped_remote + s.encode_errors + s.publish_errors
}

const TOPICS: [&str; 2] = ["sensors.temp", "sensors.eu.wind"];

/// The server is killed and restarted three times while a thread publishes without pause:
/// each outage laps A's forwarders and loses what was in flight, and every lost message is
/// counted, once, per stream.
async fn repeated_server_restarts_while_publishing() {
    let mut server = NatsServer::start();
    let url = server.url();
    let mut link = Link::new(&url, &url, &TOPICS).await;
    link.publish_paced(500).await;
    link.settle().await;

    // A publisher thread that never waits for anything: the bridge must not slow it.
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (stop, rounds) = (stop.clone(), rounds.clone());
        let bus = link.bus_a.clone();
        let mut next = link.published.clone();
        std::thread::spawn(move || {
            let publishers: Vec<_> = TOPICS
                .iter()
                .map(|t| bus.publisher::<Sample>(t).unwrap())
                .collect();
            while !stop.load(Ordering::Relaxed) {
                for (p, n) in publishers.iter().zip(&mut next) {
                    p.send(Sample::new(*n)).expect("topic is live");
                    *n += 1;
                }
                rounds.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(50));
            }
            next
        })
    };
    // Waits until the publisher has done `n` more rounds.
    let more_rounds = |n: u64| {
        let target = rounds.load(Ordering::Relaxed) + n;
        let rounds = rounds.clone();
        wait_until("the publisher goes on", move || {
            rounds.load(Ordering::Relaxed) >= target
        })
    };
    for restart in 1..=3 {
        more_rounds(500).await;
        server.kill();
        wait_until("both bridges see the outage", || {
            !link.bridge_a.is_connected() && !link.bridge_b.is_connected()
        })
        .await;
        // Longer than A's rings and the client's buffer hold.
        more_rounds(3000).await;
        server.restart();
        wait_until("both bridges reconnect", || {
            let (a, b) = (link.bridge_a.stats(), link.bridge_b.stats());
            a.connection.reconnects >= restart
                && b.connection.reconnects >= restart
                && a.connection.connected
                && b.connection.connected
        })
        .await;
    }
    more_rounds(500).await;
    stop.store(true, Ordering::Relaxed);
    link.published = publisher.join().expect("publisher thread");
    link.settle().await;

    let dlv = link.check_accounting();
    for (i, topic) in TOPICS.iter().enumerate() {
        let fwd = link.forwardings[i].stats();
        assert!(fwd.lagged > 0, "{topic}: the outages lapped the forwarder");
        assert!(
            dlv[i].lost >= fwd.lagged,
            "{topic}: forwarder lag shows downstream"
        );
        assert_eq!(dlv[i].unseen_at_start, 0, "{topic}: B subscribed first");
    }
    let (a, b) = (link.bridge_a.stats(), link.bridge_b.stats());
    eprintln!("A: {:?}\nB: {:?}", a.connection, b.connection);
    assert!(a.connection.disconnects >= 3 && b.connection.disconnects >= 3);
    assert!(a.connection.reconnects >= 3 && b.connection.reconnects >= 3);
}

/// Only the receiving bridge loses its connection (a proxy between it and the server is
/// cut): the forwarder keeps forwarding, the server drops what B's gone subscription would
/// have had, and B counts all of it as lost once it is back.
async fn receiver_side_disconnect() {
    let server = NatsServer::start();
    let proxy = Proxy::start(server.addr()).await;
    let mut link = Link::new(&server.url(), &proxy.url(), &TOPICS).await;
    link.publish_paced(500).await;
    link.settle().await;

    proxy.cut();
    wait_until("B sees the disconnect", || {
        link.bridge_b.stats().connection.disconnects >= 1
    })
    .await;
    assert!(!link.bridge_b.is_connected());
    let before = link.published.clone();
    // Everything published now reaches the server and goes nowhere: B has no subscription.
    link.publish_paced(2000).await;
    let during_cut: Vec<u64> = link
        .published
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    proxy.pass();
    wait_until("B reconnects", || {
        let b = link.bridge_b.stats().connection;
        b.reconnects >= 1 && b.connected
    })
    .await;
    link.publish_paced(500).await;
    link.settle().await;

    let dlv = link.check_accounting();
    for (i, topic) in TOPICS.iter().enumerate() {
        assert_eq!(
            link.forwardings[i].stats().lagged,
            0,
            "{topic}: A never lagged"
        );
        assert!(
            dlv[i].lost >= during_cut[i],
            "{topic}: what was published during the cut is counted lost"
        );
    }
    let a = link.bridge_a.stats().connection;
    assert_eq!(
        (a.disconnects, a.reconnects),
        (0, 0),
        "A never lost its connection"
    );
}

/// The server's per-client buffer is tiny and B stops reading (a stalled proxy): the server
/// marks B a slow consumer, drops what it held for B and closes B's connection. B
/// reconnects and counts the dropped messages as lost.
async fn server_drops_a_slow_consumer() {
    // max_payload may not exceed max_pending.
    let server = NatsServer::start_with("max_pending: 131072\nmax_payload: 65536\n");
    let proxy = Proxy::start(server.addr()).await;
    let mut link = Link::new(&server.url(), &proxy.url(), &TOPICS).await;
    link.publish_paced(500).await;
    link.settle().await;
    let slow_before = server.varz("slow_consumers").expect("varz slow_consumers");

    proxy.stall();
    let start = Instant::now();
    while server.varz("slow_consumers").expect("varz") == slow_before {
        assert!(
            start.elapsed() < TIMEOUT,
            "timed out waiting for the server to drop B"
        );
        link.publish_paced(200).await;
    }
    proxy.pass();
    wait_until("B sees the server close it, and reconnects", || {
        let b = link.bridge_b.stats().connection;
        b.disconnects >= 1 && b.reconnects >= 1 && b.connected
    })
    .await;
    link.publish_paced(500).await;
    link.settle().await;

    let dlv = link.check_accounting();
    let lost: u64 = dlv.iter().map(|d| d.lost).sum();
    assert!(lost > 0, "what the server dropped for B is counted lost");
    for (i, topic) in TOPICS.iter().enumerate() {
        assert_eq!(
            link.forwardings[i].stats().lagged,
            0,
            "{topic}: A never lagged"
        );
    }
    eprintln!("server slow_consumers: {:?}", server.varz("slow_consumers"));
}

/// The forwarding bridge is dropped and a new one (a new origin) forwards the same topics
/// of the same bus: B sees a new stream starting at 0 and counts nothing as lost or out of
/// order. What was published while no forwarder ran is counted nowhere.
async fn a_new_forwarding_bridge_starts_a_new_stream() {
    forwarding_pause(true).await;
}

/// A forwarding is stopped and started again on the same bridge: also a new stream, not a
/// replay of the old one's sequence numbers.
async fn a_restarted_forwarding_starts_a_new_stream() {
    forwarding_pause(false).await;
}

/// Forwarding stops (after a flush: messages still in the client's buffer when forwarding
/// goes are lost, and the loss of a stream's last messages cannot be seen downstream), 50
/// messages per topic are published unforwarded, and forwarding starts again, on a new
/// bridge (`new_bridge`) or the same one. Either way B sees a new stream.
async fn forwarding_pause(new_bridge: bool) {
    let server = NatsServer::start();
    let url = server.url();
    let mut link = Link::new(&url, &url, &TOPICS).await;
    link.publish_paced(300).await;
    link.settle().await;

    link.stop_forwarding();
    link.bridge_a.client().flush().await.expect("flush");
    if new_bridge {
        let old_origin = link.bridge_a.origin().to_owned();
        link.bridge_a = bridge(&url).await;
        assert_ne!(link.bridge_a.origin(), old_origin);
    }
    link.publish(50); // nobody forwards these
    link.start_forwarding();
    link.publish_paced(300).await;
    link.settle().await;

    assert_eq!(link.unforwarded, [50, 50]);
    let dlv = link.check_accounting();
    for (topic, d) in TOPICS.iter().zip(&dlv) {
        assert_eq!(
            (d.lost, d.unseen_at_start, d.out_of_order),
            (0, 0, 0),
            "{topic}: a new origin or a restarted forwarding is a new stream"
        );
    }
}

/// The server reads the receiving side's connection late (a proxy holds what B sends):
/// `deliver` must not return before the server has B's subscription, or the first messages
/// published after it returns go by without it and are lost (`unseen_at_start`).
///
/// A task publishes one message from another connection as soon as `deliver` returns, makes
/// sure the server has handled it, and only then lets B's bytes through; another lets them
/// through anyway after a while, since a `deliver` that waits for the server needs them to
/// return. A `deliver` that returned early loses the message: the final wait times out.
async fn deliver_returns_once_the_server_has_the_subscription() {
    let server = NatsServer::start();
    let proxy = Arc::new(Proxy::start(server.addr()).await);
    let bus = Bus::builder().capacity(64).build();
    let bridge_b = bridge(&proxy.url()).await;
    let mapping = Mapping::prefix(PREFIX).unwrap();
    let subject = mapping.to_subject("held.topic");
    let client = async_nats::connect(&server.url())
        .await
        .expect("raw client");
    let mut rx = bus.subscribe_pattern::<Sample>("held.>").unwrap();

    proxy.hold();
    let published = Arc::new(AtomicBool::new(false));
    let release = {
        let (proxy, published) = (proxy.clone(), published.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            while !published.load(Ordering::Relaxed) && start.elapsed() < Duration::from_millis(300)
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            proxy.pass();
        })
    };
    let delivery = bridge_b
        .deliver(&subject, &bus, mapping.clone(), codec())
        .await
        .expect("deliver");
    let mut body = Vec::new();
    codec().encode(&Sample::new(0), &mut body).unwrap();
    client.publish(subject, body.into()).await.expect("publish");
    // The server has handled the publish once a message sent after it on the same
    // connection comes back.
    let inbox = client.new_inbox();
    let mut echo = client.subscribe(inbox.clone()).await.expect("subscribe");
    client.publish(inbox, "".into()).await.expect("publish");
    tokio::time::timeout(TIMEOUT, echo.next())
        .await
        .expect("the server answers")
        .expect("echo");
    published.store(true, Ordering::Relaxed);
    release.await.expect("release task");

    let mut got = Received::default();
    wait_until(
        "B gets the message published right after deliver returned",
        || {
            got.drain(&mut rx);
            got.of("held.topic") == [0]
        },
    )
    .await;
    assert_eq!(delivery.stats().delivered, 1);
}

/// Messages crafted with a raw client in the bridge's binary wire format, out of order
/// and duplicated: a late message (below one already seen on its stream) is counted in
/// `out_of_order` and dropped, so no message is delivered twice, the local topic stays in
/// stream order, and the identity holds.
async fn out_of_order_messages_are_counted_and_dropped() {
    let server = NatsServer::start();
    let url = server.url();
    let bus = Bus::builder().capacity(1024).build();
    let bridge_b = bridge(&url).await;
    let mapping = Mapping::prefix(PREFIX).unwrap();
    let topics = ["raw.a", "raw.b"];
    let mut deliveries = Vec::new();
    for topic in topics {
        let subject = mapping.to_subject(topic);
        let d = bridge_b
            .deliver(&subject, &bus, mapping.clone(), codec())
            .await;
        deliveries.push(d.expect("deliver"));
    }
    let mut rx = bus.subscribe_pattern::<Sample>("raw.>").unwrap();

    // Per topic: one stream's sequence numbers, in the order they are sent.
    let sent: [&[u64]; 2] = [
        &[0, 1, 2, 5, 3, 4, 6, 6, 7], // a gap filled late, a duplicate
        &[10, 11, 9, 12],             // a late start, then one from before it
    ];
    let client = async_nats::connect(&url).await.expect("raw client");
    let origins = [0xaaaa_aaaa_aaaa_aaaa_u64, 0xbbbb_bbbb_bbbb_bbbb];
    // Interleaved, to check streams are kept apart.
    for k in 0..sent.iter().map(|s| s.len()).max().unwrap() {
        for ((topic, seqs), origin) in topics.iter().zip(sent).zip(origins) {
            let Some(&seq) = seqs.get(k) else { continue };
            let prefix = Prefix {
                bridge: origin,
                forwarding: 0,
                seq,
                codec: codec_fingerprint(codec().id()),
            };
            let mut body = prefix.to_bytes().to_vec();
            codec().encode(&Sample::new(seq), &mut body).unwrap();
            client
                .publish(mapping.to_subject(topic), body.into())
                .await
                .expect("publish");
        }
    }
    client.flush().await.expect("flush");
    let mut got = Received::default();
    wait_until("B receives everything sent", || {
        got.drain(&mut rx);
        let received = |(d, s): (&Delivery, &[u64])| d.stats().received == s.len() as u64;
        deliveries.iter().zip(sent).all(received)
    })
    .await;
    for d in &deliveries {
        let d = d.stats();
        assert_eq!(d.received, d.delivered + d.out_of_order, "{d:?}");
    }
    wait_until("the delivered messages reach the subscriber", || {
        got.drain(&mut rx);
        deliveries
            .iter()
            .zip(topics)
            .all(|(d, t)| d.stats().delivered == got.of(t).len() as u64)
    })
    .await;

    let [a, b] = [deliveries[0].stats(), deliveries[1].stats()];
    eprintln!("raw.a: {a:?}\nraw.b: {b:?}");
    assert_eq!(
        got.of("raw.a"),
        [0, 1, 2, 5, 6, 7],
        "raw.a: late ones dropped"
    );
    assert_eq!(
        (a.delivered, a.lost, a.unseen_at_start, a.out_of_order),
        (6, 2, 0, 3)
    );
    assert_eq!(got.of("raw.b"), [10, 11, 12], "raw.b: late one dropped");
    assert_eq!(
        (b.delivered, b.lost, b.unseen_at_start, b.out_of_order),
        (3, 0, 10, 1)
    );
    for (d, latest) in [(a, 7), (b, 12)] {
        assert_eq!(d.delivered + d.lost + d.unseen_at_start, latest + 1);
    }
}

fn main() {
    Suite::new()
        .needs_server("repeated_server_restarts_while_publishing", || {
            on_runtime(repeated_server_restarts_while_publishing)
        })
        .needs_server("receiver_side_disconnect", || {
            on_runtime(receiver_side_disconnect)
        })
        .needs_server("server_drops_a_slow_consumer", || {
            on_runtime(server_drops_a_slow_consumer)
        })
        .needs_server("a_new_forwarding_bridge_starts_a_new_stream", || {
            on_runtime(a_new_forwarding_bridge_starts_a_new_stream)
        })
        .needs_server("a_restarted_forwarding_starts_a_new_stream", || {
            on_runtime(a_restarted_forwarding_starts_a_new_stream)
        })
        .needs_server(
            "deliver_returns_once_the_server_has_the_subscription",
            || on_runtime(deliver_returns_once_the_server_has_the_subscription),
        )
        .needs_server("out_of_order_messages_are_counted_and_dropped", || {
            on_runtime(out_of_order_messages_are_counted_and_dropped)
        })
        .run()
}
