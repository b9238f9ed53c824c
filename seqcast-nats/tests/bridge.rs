//! Two `Bus` instances that exchange messages only through a real `nats-server` (a child
//! process on a loopback port; see `server/mod.rs`). Every wait is bounded by a generous
//! timeout; no test asserts a duration.
//!
//! A harness of its own (libtest-mimic, see `common/mod.rs`), so that on a machine without
//! `nats-server` the tests that need one are listed as *ignored* instead of failing.

mod common;
mod server;

use common::{on_runtime, wait_until, Suite};
use seqcast::error::{TopicError, TryRecvError};
use seqcast::{Bus, PatternSubscriber};
use seqcast_nats::wire::{codec_fingerprint, Prefix};
use seqcast_nats::{Bridge, Error, Mapping, RawCodec};
use server::NatsServer;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
struct Reading {
    /// Per-topic publish index, from 0.
    index: u64,
    value: f64,
}

fn codec() -> RawCodec<Reading> {
    RawCodec::with_tag("reading-v1")
}

/// What a local subscriber on bus B has received, per topic, in arrival order.
#[derive(Default)]
struct Received {
    by_topic: BTreeMap<String, Vec<u64>>,
    lagged: u64,
}

impl Received {
    fn drain(&mut self, rx: &mut PatternSubscriber<Reading>) {
        loop {
            match rx.try_recv() {
                Ok((topic, r)) => {
                    assert_eq!(r.value, r.index as f64 * 0.5, "payload intact");
                    self.by_topic
                        .entry(topic.to_string())
                        .or_default()
                        .push(r.index);
                }
                Err(TopicError {
                    error: TryRecvError::Lagged(missed),
                    ..
                }) => self.lagged += missed,
                Err(e) if e.error == TryRecvError::Empty => return,
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    }

    fn count(&self) -> usize {
        self.by_topic.values().map(Vec::len).sum()
    }

    fn last(&self, topic: &str) -> Option<u64> {
        self.by_topic.get(topic).and_then(|v| v.last().copied())
    }
}

/// Publishes `n` readings on each topic, continuing each topic's index.
fn publish(bus: &Bus, topics: &[&str], next: &mut [u64], n: u64) {
    for _ in 0..n {
        for (topic, index) in topics.iter().zip(next.iter_mut()) {
            let publisher = bus.publisher::<Reading>(topic).unwrap();
            publisher
                .send(Reading {
                    index: *index,
                    value: *index as f64 * 0.5,
                })
                .expect("topic is live");
            *index += 1;
        }
    }
}

/// The main scenario: delivery and per-subject order, then a server outage (killed
/// mid-test), its detection, a restart on the same port, and resumed forwarding with the
/// loss reported.
async fn two_buses_through_nats_survive_a_server_outage() {
    let mut server = NatsServer::start();
    let url = server.url();

    // A's topics are small so that an outage laps the forwarder; B's are big so that its
    // local subscriber never lags (everything B misses is then NATS's or A's doing).
    let bus_a = Bus::builder().capacity(256).build();
    let bus_b = Bus::builder().capacity(1 << 16).build();
    let disconnect_events = Arc::new(AtomicU64::new(0));
    let hook_count = disconnect_events.clone();
    let bridge_a = Bridge::builder()
        .max_reconnect_delay(Duration::from_millis(100))
        .on_event(move |e| {
            if matches!(e, async_nats::Event::Disconnected) {
                hook_count.fetch_add(1, Ordering::Relaxed);
            }
        })
        .connect(&url)
        .await
        .expect("connect A");
    let bridge_b = Bridge::builder()
        .max_reconnect_delay(Duration::from_millis(100))
        .connect(&url)
        .await
        .expect("connect B");

    let site_a = Mapping::prefix("site-a").unwrap();
    let forwarding = bridge_a
        .forward(&bus_a, "sensors.>", site_a.clone(), codec())
        .unwrap();
    let delivery = bridge_b
        .deliver("site-a.sensors.>", &bus_b, site_a, codec())
        .await
        .unwrap();
    let mut rx = bus_b.subscribe_pattern::<Reading>("sensors.>").unwrap();
    let mut got = Received::default();

    let topics = ["sensors.temp", "sensors.hum", "sensors.eu.wind"];
    let mut next = [0u64; 3];
    let published = |next: &[u64]| next.iter().sum::<u64>();

    // Phase 1: 1000 per topic, in chunks the forwarder can keep up with (no lag).
    for _ in 0..10 {
        publish(&bus_a, &topics, &mut next, 100);
        let target = published(&next);
        wait_until("forwarder catches up", || {
            forwarding.stats().forwarded >= target
        })
        .await;
    }
    wait_until("B receives phase 1", || {
        got.drain(&mut rx);
        got.count() as u64 == published(&next)
    })
    .await;
    for topic in topics {
        let expected: Vec<u64> = (0..1000).collect();
        assert_eq!(got.by_topic[topic], expected, "{topic}: all, in order");
    }
    assert_eq!(forwarding.stats().lagged, 0);
    assert_eq!(delivery.stats().lost, 0);
    assert_eq!(
        bridge_b.stats().deliver.delivered,
        3000,
        "bridge totals agree"
    );

    // Phase 2: the server dies. Both bridges notice; A keeps publishing, never blocked,
    // far more than the client can buffer (2048 messages) plus A's rings hold.
    server.kill();
    wait_until("both bridges report the outage", || {
        bridge_a.stats().connection.disconnects >= 1 && bridge_b.stats().connection.disconnects >= 1
    })
    .await;
    assert!(!bridge_a.is_connected());
    let outage_start = published(&next);
    publish(&bus_a, &topics, &mut next, 5000);
    assert_eq!(
        published(&next) - outage_start,
        15_000,
        "publishing never blocked"
    );

    // Phase 3: the server comes back on the same port; the clients reconnect by themselves.
    server.restart();
    wait_until("both bridges reconnect", || {
        bridge_a.stats().connection.reconnects >= 1 && bridge_b.stats().connection.reconnects >= 1
    })
    .await;

    // Forwarding resumes: publish probes until B has a post-restart message on every topic
    // (B's subscription may be replayed after A's buffered messages went out).
    let resume_from = next;
    wait_until("forwarding resumes on every topic", || {
        publish(&bus_a, &topics, &mut next, 1);
        got.drain(&mut rx);
        topics
            .iter()
            .zip(resume_from)
            .all(|(t, from)| got.last(t).is_some_and(|last| last >= from))
    })
    .await;

    // Phase 4: a last batch, without lag, all of which must arrive.
    for _ in 0..5 {
        publish(&bus_a, &topics, &mut next, 100);
        let target = published(&next);
        wait_until("forwarder moves past everything", || {
            let s = forwarding.stats();
            s.forwarded + s.lagged >= target
        })
        .await;
    }
    wait_until("B receives the last message of every topic", || {
        got.drain(&mut rx);
        topics
            .iter()
            .zip(next)
            .all(|(t, n)| got.last(t) == Some(n - 1))
    })
    .await;

    // Order per subject: strictly increasing indices (no duplicates, no reordering).
    for topic in topics {
        let v = &got.by_topic[topic];
        assert!(
            v.windows(2).all(|w| w[0] < w[1]),
            "{topic}: order kept across the outage"
        );
    }
    let total = published(&next);
    let fwd = forwarding.stats();
    let dlv = delivery.stats();
    let a = bridge_a.stats();
    let b = bridge_b.stats();
    eprintln!("published {total}, received {}", got.count());
    eprintln!("A: {a:?}");
    eprintln!("B: {b:?}");

    // The forwarder moved past every message: forwarded or counted as lagged.
    assert_eq!(fwd.forwarded + fwd.lagged, total);
    assert!(
        fwd.lagged > 0,
        "the outage outlasted the client buffer: lag must be reported"
    );
    // Nothing is silently lost: B got each message or counted it lost.
    assert_eq!(got.lagged, 0, "B's own subscriber kept up");
    assert_eq!(
        dlv.unseen_at_start, 0,
        "B subscribed before the first message"
    );
    assert_eq!(got.count() as u64 + dlv.lost, total);
    assert!(dlv.lost >= fwd.lagged, "forwarder lag shows up downstream");
    assert_eq!(dlv.delivered, got.count() as u64);
    assert_eq!(
        (dlv.decode_errors, dlv.unmapped, dlv.bus_errors, dlv.echoes),
        (0, 0, 0, 0)
    );
    // The outage was reported, by counters and by the hook.
    assert!(a.connection.disconnects >= 1 && a.connection.reconnects >= 1);
    assert!(b.connection.disconnects >= 1 && b.connection.reconnects >= 1);
    assert!(a.connection.connected && b.connection.connected);
    assert!(disconnect_events.load(Ordering::Relaxed) >= 1);

    drop(forwarding);
    drop(delivery);
    drop(server); // killed by its guard (as it would be on a panic above)
}

/// Both buses forward and deliver the same names, without prefixes: no message loops, each
/// bridge drops its own echoes, and foreign payloads are counted as decode errors.
async fn same_names_both_ways_do_not_loop() {
    let server = NatsServer::start();
    let url = server.url();
    let bus_a = Bus::builder().capacity(4096).build();
    let bus_b = Bus::builder().capacity(4096).build();
    let bridge_a = Bridge::connect(&url).await.expect("connect A");
    let bridge_b = Bridge::connect(&url).await.expect("connect B");
    let mut handles = Vec::new();
    for (bridge, bus) in [(&bridge_a, &bus_a), (&bridge_b, &bus_b)] {
        let fwd = bridge
            .forward(bus, "chat.>", Mapping::Same, codec())
            .unwrap();
        let dlv = bridge
            .deliver("chat.>", bus, Mapping::Same, codec())
            .await
            .unwrap();
        handles.push((fwd, dlv));
    }
    let mut rx_a = bus_a.subscribe_pattern::<Reading>("chat.>").unwrap();
    let mut rx_b = bus_b.subscribe_pattern::<Reading>("chat.>").unwrap();
    let (mut got_a, mut got_b) = (Received::default(), Received::default());

    let mut next_a = [0u64];
    let mut next_b = [0u64];
    for _ in 0..4 {
        publish(&bus_a, &["chat.room1"], &mut next_a, 50);
        publish(&bus_b, &["chat.room2"], &mut next_b, 25);
        wait_until("forwarders catch up", || {
            bridge_a.stats().forward.forwarded == next_a[0]
                && bridge_b.stats().forward.forwarded == next_b[0]
        })
        .await;
    }
    // A foreign message in neither wire format, and one that names another codec.
    let junk = bridge_a.client();
    junk.publish("chat.junk", "not a reading".into())
        .await
        .unwrap();
    let prefix = Prefix {
        bridge: 0x0123_4567_89ab_cdef,
        forwarding: 0,
        seq: 0,
        codec: codec_fingerprint("json"),
    };
    let mut body = prefix.to_bytes().to_vec();
    body.extend_from_slice(&[0u8; 16]);
    junk.publish("chat.junk", body.into()).await.unwrap();

    wait_until(
        "each side delivers the other's messages, and drops its echoes",
        || {
            got_a.drain(&mut rx_a);
            got_b.drain(&mut rx_b);
            let (a, b) = (bridge_a.stats(), bridge_b.stats());
            got_b.by_topic.get("chat.room1").map(Vec::len) == Some(200)
                && got_a.by_topic.get("chat.room2").map(Vec::len) == Some(100)
                && a.deliver.echoes == 200
                && b.deliver.echoes == 100
                && a.forward.skipped_remote == 100
                && b.forward.skipped_remote == 200
                && a.deliver.decode_errors == 2
                && b.deliver.decode_errors == 2
        },
    )
    .await;
    let (a, b) = (bridge_a.stats(), bridge_b.stats());
    eprintln!("A: {a:?}\nB: {b:?}");
    // Nothing was forwarded back: each bridge forwarded exactly its own bus's messages.
    assert_eq!((a.forward.forwarded, b.forward.forwarded), (200, 100));
    assert_eq!((a.deliver.delivered, b.deliver.delivered), (100, 200));
    assert_eq!((a.deliver.lost, b.deliver.lost), (0, 0));
    // Each bus holds its own topic and a copy of the other's, nothing more.
    let published = |bus: &Bus| -> Vec<(String, u64)> {
        bus.topics()
            .into_iter()
            .map(|t| (t.name.as_str().to_owned(), t.published))
            .collect()
    };
    let expected = vec![
        ("chat.room1".to_string(), 200),
        ("chat.room2".to_string(), 100),
    ];
    assert_eq!(published(&bus_a), expected);
    assert_eq!(published(&bus_b), expected);
    for topic in ["chat.room1", "chat.room2"] {
        for got in [&got_a, &got_b] {
            let v = &got.by_topic[topic];
            assert_eq!(
                *v,
                (0..v.len() as u64).collect::<Vec<_>>(),
                "{topic}: in order"
            );
        }
    }
    drop(handles);
    drop(server);
}

/// The JSON wire format: a plain NATS subscriber reads each message as one JSON object with
/// the stream's fields and the value; a delivering bridge reads it as a stream (its loss is
/// accounted); a codec whose output is not JSON is refused up front.
#[cfg(feature = "serde-json")]
async fn json_wire_format_is_readable_without_the_bridge() {
    use futures::StreamExt;
    use seqcast_nats::{JsonCodec, WireFormat};

    #[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Tick {
        index: u64,
        price: f64,
    }

    let server = NatsServer::start();
    let url = server.url();
    let bus_a = Bus::new();
    let bus_b = Bus::new();
    let bridge_a = Bridge::builder()
        .wire_format(WireFormat::Json)
        .connect(&url)
        .await
        .expect("connect A");
    let bridge_b = Bridge::connect(&url).await.expect("connect B");
    let refused = bridge_a.forward(&bus_a, "ticks.>", Mapping::Same, codec());
    assert!(matches!(refused, Err(Error::Codec(_))), "{refused:?}");

    let plain = async_nats::connect(&url).await.expect("plain client");
    let mut sub = plain.subscribe("ticks.>").await.expect("subscribe");
    plain.flush().await.expect("flush");
    let codec = || JsonCodec::<Tick>::with_tag("tick \"v1\"");
    let _fwd = bridge_a
        .forward(&bus_a, "ticks.>", Mapping::Same, codec())
        .unwrap();
    let delivery = bridge_b
        .deliver("ticks.>", &bus_b, Mapping::Same, codec())
        .await
        .unwrap();
    let mut rx = bus_b.subscribe_pattern::<Tick>("ticks.>").unwrap();
    let publisher = bus_a.publisher::<Tick>("ticks.eu").unwrap();
    for index in 0..3 {
        publisher
            .send(Tick {
                index,
                price: 1.5 + index as f64,
            })
            .unwrap();
    }

    for index in 0..3u64 {
        let m = tokio::time::timeout(common::TIMEOUT, sub.next())
            .await
            .expect("a message in time")
            .expect("subscription open");
        let v: serde_json::Value = serde_json::from_slice(&m.payload).expect("one JSON object");
        assert_eq!(v["seqcast"], 1);
        assert_eq!(v["origin"], format!("{}-0", bridge_a.origin()));
        assert_eq!(v["seq"], index);
        assert_eq!(v["codec"], "json;tag=tick \"v1\"");
        assert_eq!(v["data"]["index"], index);
        assert_eq!(v["data"]["price"], 1.5 + index as f64);
    }
    let mut got = Vec::new();
    wait_until("B delivers all three", || {
        while let Ok((_, t)) = rx.try_recv() {
            got.push(t.index);
        }
        got.len() == 3
    })
    .await;
    assert_eq!(got, [0, 1, 2]);
    let d = delivery.stats();
    assert_eq!(
        (d.delivered, d.lost, d.unseen_at_start, d.decode_errors),
        (3, 0, 0, 0),
        "{d:?}"
    );
}

/// Connecting where no server listens is an error, not a hang.
async fn connect_without_server_fails() {
    let port = server::free_port();
    let err = Bridge::connect(&format!("nats://127.0.0.1:{port}"))
        .await
        .expect_err("nobody listens there");
    assert!(matches!(err, Error::Connect(_)), "{err}");
}

fn main() {
    let suite = Suite::new()
        .needs_server("two_buses_through_nats_survive_a_server_outage", || {
            on_runtime(two_buses_through_nats_survive_a_server_outage)
        })
        .needs_server("same_names_both_ways_do_not_loop", || {
            on_runtime(same_names_both_ways_do_not_loop)
        })
        .test("connect_without_server_fails", || {
            on_runtime(connect_without_server_fails)
        });
    #[cfg(feature = "serde-json")]
    let suite = suite.needs_server("json_wire_format_is_readable_without_the_bridge", || {
        on_runtime(json_wire_format_is_readable_without_the_bridge)
    });
    suite.run()
}
