//! Bridge throughput (bus A → NATS → bus B) and round-trip latency through NATS, each beside
//! async-nats alone in the same run, and the bridge's CPU use while idle.
//!
//! ```text
//! cargo run --release -p seqcast-nats --example throughput              # starts nats-server
//! cargo run --release -p seqcast-nats --example throughput -- nats://127.0.0.1:4222
//! cargo run --release -p seqcast-nats --example throughput -- --rounds 1
//! ```
//!
//! Without a URL it runs `nats-server` on a free loopback port (it must be installed).
//!
//! * **throughput** at 16 and 256 B, lossless: the publisher keeps at most half a ring
//!   (2048 messages) ahead of what the receiving side has, so nothing is lost; the rate is
//!   what is sustained end to end. `raw` is async-nats alone (one client publishing, another
//!   receiving, paced the same way); `bridge` is bus A → forwarding → NATS → delivery → bus B.
//! * **round trip**, one message in flight: `raw` is client A → NATS → client B's echo task
//!   → NATS → client A; `bridge` is bus A → NATS → bus B, whose echo task answers → NATS →
//!   bus A, each leg a forwarding and a delivery, with the bridge's default settings; both
//!   ends are tokio tasks, as in `raw`. `bridge-threads` is the same with both ends threads
//!   in a blocking receive, which adds two hand-offs between threads per round trip.
//! * **idle CPU**: a bridge with 4 forwardings (and 4 deliveries) that have each moved a
//!   message, then ~5 s without traffic: this process's CPU time (user + system, from
//!   `/proc/self/stat`) over those seconds.
//!
//! Every line starts with the measurement's name, so that runs can be grepped and compared.
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
    use futures::StreamExt;
    use seqcast::Bus;
    use seqcast_nats::{Bridge, Mapping, RawCodec};
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// A payload of 16 or 256 bytes: its number, a send timestamp (round trip only), and
    /// padding.
    trait Payload: bytemuck::Pod + Send + core::fmt::Debug {
        const SIZE: usize = core::mem::size_of::<Self>();
        fn new(seq: u64, sent_ns: u64) -> Self;
        fn seq(&self) -> u64;
        fn sent_ns(&self) -> u64;
    }

    macro_rules! payload {
        ($name:ident, $words:literal) => {
            #[repr(C)]
            #[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
            struct $name {
                words: [u64; $words],
            }

            impl Payload for $name {
                fn new(seq: u64, sent_ns: u64) -> Self {
                    let mut words = [seq; $words];
                    words[1] = sent_ns;
                    $name { words }
                }
                fn seq(&self) -> u64 {
                    self.words[0]
                }
                fn sent_ns(&self) -> u64 {
                    self.words[1]
                }
            }
        };
    }
    payload!(Msg16, 2);
    payload!(Msg256, 32);

    const RING: usize = 4096;
    const N_MSGS: u64 = 500_000;
    const RT_SAMPLES: usize = 2_000;

    #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    pub async fn main() {
        let mut url = None;
        let mut rounds = 3;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--rounds" => rounds = args.next().and_then(|r| r.parse().ok()).expect("rounds"),
                _ => url = Some(arg),
            }
        }
        let (_server, url) = match url {
            Some(url) => (None, url),
            None => {
                let server = NatsServer::start();
                let url = server.url();
                (Some(server), url)
            }
        };
        println!("NATS at {url}");
        for round in 1..=rounds {
            println!("-- round {round}");
            raw_throughput::<Msg16>(&url).await;
            bridge_throughput::<Msg16>(&url).await;
            raw_throughput::<Msg256>(&url).await;
            bridge_throughput::<Msg256>(&url).await;
            raw_round_trip(&url).await;
            bridge_round_trip(&url, true).await;
            bridge_round_trip(&url, false).await;
        }
        idle_cpu(&url).await;
    }

    fn rate(n: u64, elapsed: Duration) -> f64 {
        n as f64 / elapsed.as_secs_f64()
    }

    /// Waits until the server has registered `client`'s subscriptions: `Client::flush` only
    /// writes the client's buffer out, so a message of its own is sent round instead.
    async fn registered(client: &async_nats::Client) {
        let inbox = client.new_inbox();
        let mut probe = client.subscribe(inbox.clone()).await.unwrap();
        client.publish(inbox, bytes::Bytes::new()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), probe.next())
            .await
            .expect("the server answers");
    }

    /// async-nats alone: one client publishing `M::SIZE`-byte bodies from a task (as the
    /// bridge's forwarder does), another receiving, at most half a ring in flight.
    async fn raw_throughput<M: Payload>(url: &str) {
        let tx = async_nats::connect(url).await.unwrap();
        let rx = async_nats::connect(url).await.unwrap();
        let mut sub = rx.subscribe("base.data").await.unwrap();
        registered(&rx).await;
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let reader = tokio::spawn(async move {
            while let Some(m) = sub.next().await {
                std::hint::black_box(&m);
                if counter.fetch_add(1, Relaxed) + 1 == N_MSGS {
                    break;
                }
            }
        });
        let start = Instant::now();
        // A clone: a client whose last handle is dropped stops without writing its buffer.
        let client = tx.clone();
        let publisher = tokio::spawn(async move {
            for seq in 0..N_MSGS {
                if seq % 256 == 0 {
                    while seq - received.load(Relaxed) >= (RING / 2) as u64 {
                        tokio::task::yield_now().await;
                        assert!(start.elapsed() < Duration::from_secs(120), "raw stuck");
                    }
                }
                let body = bytes::Bytes::copy_from_slice(bytemuck::bytes_of(&M::new(seq, 0)));
                client.publish("base.data", body).await.unwrap();
            }
        });
        publisher.await.unwrap();
        tx.flush().await.unwrap();
        tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .unwrap()
            .unwrap();
        println!(
            "throughput raw    {:3} B: {N_MSGS} msgs -> {:>9.0} msg/s end to end",
            M::SIZE,
            rate(N_MSGS, start.elapsed())
        );
    }

    /// Bus A → NATS → bus B, at most half a ring in flight (lossless).
    async fn bridge_throughput<M: Payload>(url: &str) {
        let bus_a = Bus::builder().capacity(RING).build();
        let bus_b = Bus::builder().capacity(RING).build();
        let bridge_a = Bridge::connect(url).await.unwrap();
        let bridge_b = Bridge::connect(url).await.unwrap();
        let codec = || RawCodec::<M>::with_tag("bench");
        let forwarding = bridge_a
            .forward(&bus_a, "bench.>", Mapping::Same, codec())
            .unwrap();
        let delivery = bridge_b
            .deliver("bench.>", &bus_b, Mapping::Same, codec())
            .await
            .unwrap();
        let publisher = bus_a.publisher::<M>("bench.data").unwrap();
        let stats_b = bridge_b.clone();
        let start = Instant::now();
        let publish = std::thread::spawn(move || {
            for seq in 0..N_MSGS {
                if seq % 256 == 0 {
                    loop {
                        let d = stats_b.stats().deliver;
                        if seq - (d.delivered + d.lost + d.unseen_at_start) < (RING / 2) as u64 {
                            break;
                        }
                        std::thread::yield_now();
                        assert!(start.elapsed() < Duration::from_secs(120), "bridge stuck");
                    }
                }
                publisher.send(M::new(seq, 0)).expect("topic is live");
            }
        });
        tokio::task::spawn_blocking(move || publish.join().unwrap())
            .await
            .unwrap();
        loop {
            let d = delivery.stats();
            if d.delivered + d.lost + d.unseen_at_start == N_MSGS {
                break;
            }
            let f = forwarding.stats();
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "stuck: {f:?} {d:?}"
            );
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
        let elapsed = start.elapsed();
        let (f, d) = (forwarding.stats(), delivery.stats());
        println!(
            "throughput bridge {:3} B: {N_MSGS} msgs -> {:>9.0} msg/s end to end \
             (forwarded {} lagged {} delivered {} lost {})",
            M::SIZE,
            rate(d.delivered, elapsed),
            f.forwarded,
            f.lagged,
            d.delivered,
            d.lost,
        );
    }

    fn print_round_trip(what: &str, hist: &hdrhistogram::Histogram<u64>, timeouts: u32) {
        let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "round trip {what:14} 16 B: {} samples, p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, \
             max {:.0} µs, lost {timeouts}",
            hist.len(),
            us(0.5),
            us(0.9),
            us(0.99),
            hist.max() as f64 / 1000.0,
        );
    }

    /// Client A → NATS → client B's echo task → NATS → client A, one message in flight.
    async fn raw_round_trip(url: &str) {
        let a = async_nats::connect(url).await.unwrap();
        let b = async_nats::connect(url).await.unwrap();
        let mut pings = b.subscribe("rawlat.ping").await.unwrap();
        let mut pongs = a.subscribe("rawlat.pong").await.unwrap();
        registered(&a).await;
        registered(&b).await;
        let echo = tokio::spawn(async move {
            while let Some(m) = pings.next().await {
                if m.payload.is_empty() {
                    break;
                }
                b.publish("rawlat.pong", m.payload).await.unwrap();
            }
        });
        let epoch = Instant::now();
        let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let mut timeouts = 0;
        for seq in 0..RT_SAMPLES as u64 {
            let sent_ns = epoch.elapsed().as_nanos() as u64;
            let body = bytes::Bytes::copy_from_slice(bytemuck::bytes_of(&Msg16::new(seq, sent_ns)));
            a.publish("rawlat.ping", body).await.unwrap();
            match tokio::time::timeout(Duration::from_secs(2), pongs.next()).await {
                Ok(Some(m)) => {
                    let m: Msg16 = bytemuck::pod_read_unaligned(&m.payload);
                    assert_eq!(m.seq(), seq);
                    hist.record(epoch.elapsed().as_nanos() as u64 - m.sent_ns())
                        .unwrap();
                }
                _ => timeouts += 1,
            }
        }
        a.publish("rawlat.ping", bytes::Bytes::new()).await.unwrap();
        echo.await.unwrap();
        print_round_trip("raw", &hist, timeouts);
    }

    /// Bus A → NATS → bus B's echo → NATS → bus A, one message in flight. With `tasks`, both
    /// ends are tokio tasks awaiting `Subscriber::recv_async`, as in the raw round trip (so
    /// both count the same thread hand-offs); without, both are threads in a blocking
    /// receive.
    async fn bridge_round_trip(url: &str, tasks: bool) {
        let bus_a = Bus::builder().capacity(RING).build();
        let bus_b = Bus::builder().capacity(RING).build();
        let bridge_a = Bridge::connect(url).await.unwrap();
        let bridge_b = Bridge::connect(url).await.unwrap();
        let codec = || RawCodec::<Msg16>::with_tag("ping");
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

        let mut pings = bus_b.subscribe::<Msg16>("lat.ping").unwrap();
        let pong = bus_b.publisher::<Msg16>("lat.pong").unwrap();
        let mut pongs = bus_a.subscribe::<Msg16>("lat.pong").unwrap();
        let ping = bus_a.publisher::<Msg16>("lat.ping").unwrap();
        let (hist, timeouts) = if tasks {
            let echo = tokio::spawn(async move {
                while let Ok(Ok(m)) =
                    tokio::time::timeout(Duration::from_secs(5), pings.recv_async()).await
                {
                    if m.seq() == u64::MAX {
                        break;
                    }
                    pong.send(m).expect("topic is live");
                }
            });
            let epoch = Instant::now();
            let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
            let mut timeouts = 0;
            for seq in 0..RT_SAMPLES as u64 {
                let sent_ns = epoch.elapsed().as_nanos() as u64;
                ping.send(Msg16::new(seq, sent_ns)).expect("topic is live");
                match tokio::time::timeout(Duration::from_secs(2), pongs.recv_async()).await {
                    Ok(Ok(m)) if m.seq() == seq => {
                        hist.record(epoch.elapsed().as_nanos() as u64 - m.sent_ns())
                            .unwrap();
                    }
                    _ => timeouts += 1,
                }
            }
            ping.send(Msg16::new(u64::MAX, 0)).expect("topic is live");
            echo.await.unwrap();
            (hist, timeouts)
        } else {
            // Bus B: answer each ping (blocking receive: parks, no spinning).
            let echo = std::thread::spawn(move || {
                while let Ok(m) = pings.recv_timeout(Duration::from_secs(5)) {
                    if m.seq() == u64::MAX {
                        break;
                    }
                    pong.send(m).expect("topic is live");
                }
            });
            let got = tokio::task::spawn_blocking(move || {
                let epoch = Instant::now();
                let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
                let mut timeouts = 0;
                for seq in 0..RT_SAMPLES as u64 {
                    let sent_ns = epoch.elapsed().as_nanos() as u64;
                    ping.send(Msg16::new(seq, sent_ns)).expect("topic is live");
                    match pongs.recv_timeout(Duration::from_secs(2)) {
                        Ok(m) if m.seq() == seq => {
                            hist.record(epoch.elapsed().as_nanos() as u64 - m.sent_ns())
                                .unwrap();
                        }
                        _ => timeouts += 1,
                    }
                }
                ping.send(Msg16::new(u64::MAX, 0)).expect("topic is live");
                (hist, timeouts)
            })
            .await
            .unwrap();
            echo.join().unwrap();
            got
        };
        print_round_trip(
            if tasks { "bridge" } else { "bridge-threads" },
            &hist,
            timeouts,
        );
    }

    /// This process's CPU time so far (user + system), from `/proc/self/stat`.
    fn cpu_time() -> Option<Duration> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name (which is in parentheses and may hold spaces):
        // state is field 3, utime 14 and stime 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // USER_HZ is 100 on every Linux configuration that matters here.
        Some(Duration::from_millis(ticks * 10))
    }

    /// A bridge with 4 forwardings and 4 deliveries, each having moved one message, then
    /// ~5 s idle: CPU time spent meanwhile.
    async fn idle_cpu(url: &str) {
        let bus_a = Bus::new();
        let bus_b = Bus::new();
        let bridge_a = Bridge::connect(url).await.unwrap();
        let bridge_b = Bridge::connect(url).await.unwrap();
        let codec = || RawCodec::<Msg16>::with_tag("idle");
        let mut keep = Vec::new();
        let mut publishers = Vec::new();
        for i in 0..4 {
            let topic = format!("idle.t{i}");
            keep.push(
                bridge_a
                    .forward(&bus_a, &topic, Mapping::Same, codec())
                    .unwrap(),
            );
            let delivery = bridge_b
                .deliver(&topic, &bus_b, Mapping::Same, codec())
                .await
                .unwrap();
            let publisher = bus_a.publisher::<Msg16>(&topic).unwrap();
            publisher.send(Msg16::new(0, 0)).unwrap();
            let start = Instant::now();
            while delivery.stats().delivered < 1 {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "idle setup stuck"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            publishers.push((publisher, delivery));
        }
        // Let the forwarders reach their idle state.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (Some(cpu0), wall0) = (cpu_time(), Instant::now()) else {
            println!("idle cpu: /proc/self/stat unavailable");
            return;
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        let cpu = cpu_time().unwrap() - cpu0;
        let wall = wall0.elapsed();
        println!(
            "idle cpu 4 forwardings + 4 deliveries: {:.0} ms CPU over {:.1} s = {:.1}% of one core",
            cpu.as_secs_f64() * 1e3,
            wall.as_secs_f64(),
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
        );
        drop(keep);
    }
}
