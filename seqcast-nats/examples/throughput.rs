//! Bridge throughput (bus A → NATS → bus B) and round-trip latency through NATS.
//!
//! ```text
//! cargo run --release -p seqcast-nats --example throughput              # starts nats-server
//! cargo run --release -p seqcast-nats --example throughput -- nats://127.0.0.1:4222
//! ```
//!
//! Without a URL it runs `nats-server` on a free loopback port (it must be installed).
//!
//! * **paced**: the publisher keeps at most half a ring (2048 messages) ahead of what bus B
//!   has received, so nothing is lost: the rate is what the bridge sustains end to end
//!   (messages published into bus B by its delivery, per second).
//! * **flat out**: the publisher never waits; the forwarder lags and says so, and bus B's
//!   delivery counts the gaps.
//! * **round trip**: bus A publishes a ping with a timestamp on `lat.ping`, bus B's echo
//!   thread answers on `lat.pong`; one message in flight; each leg is forward → NATS →
//!   deliver. Run with the default forwarder idle sleep (1 ms) and with 50 µs.
#![cfg_attr(seqcast_loom, allow(unused))]

#[cfg(not(seqcast_loom))]
#[path = "../tests/server/mod.rs"]
mod server;

#[cfg(seqcast_loom)]
fn main() {}

#[cfg(not(seqcast_loom))]
fn main() {
    bench::main();
}

#[cfg(not(seqcast_loom))]
mod bench {
    use super::server::NatsServer;
    use seqcast::Bus;
    use seqcast_nats::{Bridge, Mapping, RawCodec};
    use std::time::{Duration, Instant};

    #[repr(C)]
    #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
    struct Msg {
        seq: u64,
        /// Nanoseconds since the run's epoch (round trip only).
        sent_ns: u64,
    }

    const RING: usize = 4096;

    #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    pub async fn main() {
        let (_server, url) = match std::env::args().nth(1) {
            Some(url) => (None, url),
            None => {
                let server = NatsServer::start();
                let url = server.url();
                (Some(server), url)
            }
        };
        println!("NATS at {url}; payload {} B", core::mem::size_of::<Msg>());
        for round in 1..=3 {
            println!("-- round {round}");
            baseline(&url, false, 500_000).await;
            baseline(&url, true, 500_000).await;
            throughput(&url, true, 500_000).await;
            throughput(&url, false, 500_000).await;
        }
        for idle in [Duration::from_millis(1), Duration::from_micros(50)] {
            round_trip(&url, idle, 2_000).await;
        }
    }

    async fn throughput(url: &str, paced: bool, n: u64) {
        let bus_a = Bus::builder().capacity(RING).build();
        let bus_b = Bus::builder().capacity(RING).build();
        let bridge_a = Bridge::connect(url).await.unwrap();
        let bridge_b = Bridge::connect(url).await.unwrap();
        let codec = || RawCodec::<Msg>::with_tag("bench");
        let forwarding = bridge_a
            .forward(&bus_a, "bench.>", Mapping::Same, codec())
            .unwrap();
        let delivery = bridge_b
            .deliver("bench.>", &bus_b, Mapping::Same, codec())
            .await
            .unwrap();

        let publisher = bus_a.publisher::<Msg>("bench.data").unwrap();
        let stats_b = bridge_b.clone();
        let start = Instant::now();
        let publish = std::thread::spawn(move || {
            for seq in 0..n {
                if paced && seq % 256 == 0 {
                    // At most half a ring in flight (published, not yet in bus B): A's ring
                    // never laps the forwarder, and B's client never drops for a full buffer.
                    loop {
                        let d = stats_b.stats().deliver;
                        if seq - (d.delivered + d.lost + d.unseen_at_start) < (RING / 2) as u64 {
                            break;
                        }
                        std::thread::yield_now();
                    }
                }
                publisher
                    .send(Msg { seq, sent_ns: 0 })
                    .expect("topic is live");
            }
            start.elapsed()
        });
        let publish_time = tokio::task::spawn_blocking(move || publish.join().unwrap())
            .await
            .unwrap();
        // Done when bus B has every message, or every message it will get: the forwarder has
        // moved past all of them and B's counts stop moving.
        let mut last = (u64::MAX, Instant::now());
        let end = loop {
            let d = delivery.stats();
            let f = forwarding.stats();
            if d.delivered + d.lost + d.unseen_at_start == n && f.forwarded + f.lagged == n {
                break Instant::now();
            }
            if f.forwarded + f.lagged == n {
                if d.delivered != last.0 {
                    last = (d.delivered, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(2) {
                    break last.1; // the tail was lost; timed from the last delivery
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "stuck: {f:?} {d:?}"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        let elapsed = end - start;
        let f = forwarding.stats();
        let d = delivery.stats();
        println!(
            "{:9} {n} msgs: publish {:>10.0} msg/s | forwarded {} lagged {} | bus B got {} \
             lost {} (+{} before its first) -> {:>9.0} msg/s end to end",
            if paced { "paced" } else { "flat out" },
            n as f64 / publish_time.as_secs_f64(),
            f.forwarded,
            f.lagged,
            d.delivered,
            d.lost,
            d.unseen_at_start,
            d.delivered as f64 / elapsed.as_secs_f64(),
        );
        if std::env::var_os("DEBUG_BRIDGE").is_some() {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let sa = bridge_a.client().statistics();
            let sb = bridge_b.client().statistics();
            println!("  later: A {:?} B {:?}", bridge_a.stats(), bridge_b.stats());
            println!(
                "  A client out {} ; B client in {}",
                sa.out_messages.load(std::sync::atomic::Ordering::Relaxed),
                sb.in_messages.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
    }

    /// The ceiling: async-nats alone, one client publishing 16-byte bodies (with or without
    /// headers like the bridge's), another receiving, paced like the bridge's paced run.
    async fn baseline(url: &str, headers: bool, n: u64) {
        use futures::StreamExt;
        use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
        use std::sync::Arc;
        let tx = async_nats::connect(url).await.unwrap();
        let rx = async_nats::connect(url).await.unwrap();
        let mut sub = rx.subscribe("base.data").await.unwrap();
        rx.flush().await.unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let reader = tokio::spawn(async move {
            while let Some(m) = sub.next().await {
                std::hint::black_box(&m);
                if counter.fetch_add(1, Relaxed) + 1 == n {
                    break;
                }
            }
        });
        let start = Instant::now();
        for seq in 0..n {
            if seq % 256 == 0 {
                let wait = Instant::now();
                while seq - received.load(Relaxed) >= (RING / 2) as u64 {
                    tokio::task::yield_now().await;
                    if wait.elapsed() > Duration::from_secs(5) {
                        panic!("stuck at {seq}: received {}", received.load(Relaxed));
                    }
                }
            }
            let body = bytes::Bytes::copy_from_slice(bytemuck::bytes_of(&Msg { seq, sent_ns: 0 }));
            if headers {
                let mut h = async_nats::HeaderMap::new();
                h.insert("Seqcast-Origin", "0123456789abcdef");
                h.insert("Seqcast-Seq", seq.to_string().as_str());
                h.insert("Seqcast-Codec", "raw;size=16;le;tag=bench");
                tx.publish_with_headers("base.data", h, body).await.unwrap();
            } else {
                tx.publish("base.data", body).await.unwrap();
            }
        }
        tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .unwrap()
            .unwrap();
        println!(
            "async-nats alone, {} headers: {n} msgs -> {:>9.0} msg/s end to end",
            if headers { "with" } else { "without" },
            n as f64 / start.elapsed().as_secs_f64()
        );
    }

    async fn round_trip(url: &str, idle_sleep: Duration, samples: usize) {
        let bus_a = Bus::builder().capacity(RING).build();
        let bus_b = Bus::builder().capacity(RING).build();
        let connect = || Bridge::builder().idle_sleep(idle_sleep).connect(url);
        let bridge_a = connect().await.unwrap();
        let bridge_b = connect().await.unwrap();
        let codec = || RawCodec::<Msg>::with_tag("ping");
        let _ping_out = bridge_a
            .forward(&bus_a, "lat.ping", Mapping::Same, codec())
            .unwrap();
        let _ping_in = bridge_b
            .deliver("lat.ping", &bus_b, Mapping::Same, codec())
            .await
            .unwrap();
        let _pong_out = bridge_b
            .forward(&bus_b, "lat.pong", Mapping::Same, codec())
            .unwrap();
        let _pong_in = bridge_a
            .deliver("lat.pong", &bus_a, Mapping::Same, codec())
            .await
            .unwrap();

        // Bus B: answer each ping (blocking receive: parks, no spinning).
        let mut pings = bus_b.subscribe::<Msg>("lat.ping").unwrap();
        let pong = bus_b.publisher::<Msg>("lat.pong").unwrap();
        let echo = std::thread::spawn(move || {
            while let Ok(m) = pings.recv_timeout(Duration::from_secs(5)) {
                if m.seq == u64::MAX {
                    break;
                }
                pong.send(m).expect("topic is live");
            }
        });

        let mut pongs = bus_a.subscribe::<Msg>("lat.pong").unwrap();
        let ping = bus_a.publisher::<Msg>("lat.ping").unwrap();
        let p = tokio::task::spawn_blocking(move || {
            let epoch = Instant::now();
            let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
            let mut timeouts = 0;
            for seq in 0..samples as u64 {
                let sent_ns = epoch.elapsed().as_nanos() as u64;
                ping.send(Msg { seq, sent_ns }).expect("topic is live");
                match pongs.recv_timeout(Duration::from_secs(2)) {
                    Ok(m) if m.seq == seq => {
                        hist.record(epoch.elapsed().as_nanos() as u64 - m.sent_ns)
                            .unwrap();
                    }
                    _ => timeouts += 1,
                }
            }
            ping.send(Msg {
                seq: u64::MAX,
                sent_ns: 0,
            })
            .expect("topic is live");
            (hist, timeouts)
        });
        let (hist, timeouts) = p.await.unwrap();
        echo.join().unwrap();
        let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "round trip A→NATS→B→NATS→A, forwarder idle sleep ≤ {idle_sleep:?}: {} samples, \
             p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs, lost {timeouts}",
            hist.len(),
            us(0.5),
            us(0.9),
            us(0.99),
            hist.max() as f64 / 1000.0,
        );
    }
}
