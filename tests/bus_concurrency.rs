//! The `Bus` under concurrency: topics created, looked up and removed while other threads
//! publish and receive. Checks invariants, never timings:
//! * every subscriber (plain, late, or pattern) ends with delivered + lagged == the number of
//!   messages published while it was subscribed, with each producer's messages in order;
//! * a pattern subscriber reads topics created after it subscribed, from their first message;
//! * racing creators of one name agree on its type; table operations never panic.
//!
//! Sized to run in a few seconds in a debug build on 2 cores.

use seqcast::error::{BusError, RecvError, RecvTimeoutError, TopicError};
use seqcast::{Bus, Subscriber};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

// Far fewer under Miri, which interprets every step.
const ROUNDS: usize = if cfg!(miri) { 1 } else { 12 };
const PRODUCERS: u64 = 2;
const PER_PRODUCER: u64 = if cfg!(miri) { 100 } else { 5_000 };
/// Long enough to mean "stuck", never reached in a passing run.
const STUCK: Duration = Duration::from_secs(60);

/// A payload: producer id in the high half, its counter in the low half.
fn payload(producer: u64, i: u64) -> u64 {
    (producer << 32) | i
}

/// Per-producer order check: counters strictly increase (gaps are lag, never reordering).
#[derive(Default)]
struct Order(HashMap<u64, u64>);

impl Order {
    fn check(&mut self, what: &str, v: u64) {
        let (producer, i) = (v >> 32, v & 0xFFFF_FFFF);
        if let Some(&last) = self.0.get(&producer) {
            assert!(i > last, "{what}: producer {producer} went {last} -> {i}");
        }
        self.0.insert(producer, i);
    }
}

/// Receives until the topic is closed; returns (delivered, lagged).
fn drain_to_close(what: &str, rx: &mut Subscriber<u64>) -> (u64, u64) {
    let (mut delivered, mut lagged) = (0, 0);
    let mut order = Order::default();
    loop {
        match rx.recv() {
            Ok(v) => {
                order.check(what, v);
                delivered += 1;
            }
            Err(RecvError::Lagged(n)) => lagged += n,
            Err(RecvError::Closed) => break,
            Err(e) => unreachable!("Skip policy, in process: {e:?}"),
        }
    }
    let stats = rx.stats();
    assert_eq!(
        (stats.received, stats.missed),
        (delivered, lagged),
        "{what}"
    );
    (delivered, lagged)
}

/// Topics churned by other threads while the measured rounds run.
fn churn(bus: Bus, seed: u64, stop: Arc<AtomicBool>) -> u64 {
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut watcher = bus.subscribe_pattern::<u32>("churn.*").unwrap();
    let mut ops = 0;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("churn.{}", next() % 4);
        match next() % 7 {
            0 | 1 => {
                let tx = bus.publisher::<u32>(&name).unwrap();
                for i in 0..8 {
                    let _ = tx.send(i); // refused (Err) if removed meanwhile: fine
                }
            }
            2 => {
                let mut rx = bus.subscribe::<u32>(&name).unwrap();
                let start = rx.position();
                while let Ok(_) | Err(seqcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
                let s = rx.stats();
                assert_eq!(s.received + s.missed, rx.position() - start);
            }
            3 => {
                bus.remove(&name).unwrap();
            }
            4 => {
                let topics = bus.topics();
                assert!(topics.windows(2).all(|w| w[0].name < w[1].name));
                for t in &topics {
                    seqcast::bus::validate_topic(&t.name).unwrap();
                }
            }
            5 => {
                // `other.*` topics carry u64 and are never removed.
                let other = format!("other.{}", next() % 2);
                assert!(matches!(
                    bus.subscribe::<u32>(&other),
                    Err(BusError::TypeMismatch {
                        expected: "u64",
                        found: "u32",
                        ..
                    })
                ));
            }
            _ => {
                let mut p = bus.subscribe_pattern::<u32>("churn.>").unwrap();
                for _ in 0..4 {
                    let _ = p.try_recv();
                }
            }
        }
        for _ in 0..4 {
            let _ = watcher.try_recv();
        }
        ops += 1;
        thread::yield_now();
    }
    ops
}

#[test]
fn accounting_holds_while_the_table_churns() {
    let bus = Bus::builder().capacity(64).build();
    bus.publisher::<u64>("other.0").unwrap();
    bus.publisher::<u64>("other.1").unwrap();

    // The pattern subscriber exists before any `inv.*` topic: it must find each one and read
    // it from its first message.
    let mut pattern = bus.subscribe_pattern::<u64>("inv.>").unwrap();
    let (report, reports) = mpsc::channel::<(String, u64, u64)>();
    let pattern_seen: Arc<Vec<AtomicU64>> =
        Arc::new((0..ROUNDS).map(|_| AtomicU64::new(0)).collect());
    let pattern_thread = {
        let seen = pattern_seen.clone();
        thread::spawn(move || {
            let mut per_topic: HashMap<String, (u64, u64, Order)> = HashMap::new();
            let mut closed = 0;
            while closed < ROUNDS {
                let round = |t: &str| t.trim_start_matches("inv.r").parse::<usize>().unwrap();
                match pattern.recv_timeout(STUCK) {
                    Ok((topic, v)) => {
                        let e = per_topic.entry(topic.to_string()).or_default();
                        e.2.check(&topic, v);
                        e.0 += 1;
                        seen[round(&topic)].fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TopicError {
                        topic: Some(topic),
                        error: RecvTimeoutError::Lagged(missed),
                    }) => {
                        per_topic.entry(topic.to_string()).or_default().1 += missed;
                        seen[round(&topic)].fetch_add(missed, Ordering::Relaxed);
                    }
                    Err(TopicError {
                        topic: Some(topic),
                        error: RecvTimeoutError::Closed,
                    }) => {
                        let (d, l, _) = per_topic.remove(topic.as_str()).unwrap_or_default();
                        report.send((topic.to_string(), d, l)).unwrap();
                        closed += 1;
                    }
                    Err(e) => panic!("pattern subscriber stuck, or {e}"),
                }
            }
            pattern.stats()
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    let churners: Vec<_> = (0..2)
        .map(|i| {
            let (bus, stop) = (bus.clone(), stop.clone());
            thread::spawn(move || churn(bus, 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i + 1), stop))
        })
        .collect();

    let mut pattern_total = 0;
    for round in 0..ROUNDS {
        let name = format!("inv.r{round}");
        // Subscribed before the first message: they must account for every message sent.
        let subscribers: Vec<_> = (0..2)
            .map(|i| {
                let mut rx = bus.subscribe::<u64>(&name).unwrap();
                let what = format!("{name} subscriber {i}");
                thread::spawn(move || drain_to_close(&what, &mut rx))
            })
            .collect();
        let sent = Arc::new(AtomicU64::new(0));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let (tx, sent) = (bus.publisher::<u64>(&name).unwrap(), sent.clone());
                thread::spawn(move || {
                    for i in 0..PER_PRODUCER {
                        if tx.try_send(payload(p, i)).is_err() {
                            break; // removed mid-round
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        // Joins mid-stream: accounts for what was published after its start position.
        let (joined, late_joined) = mpsc::channel();
        let late = {
            let (bus, name) = (bus.clone(), name.clone());
            thread::spawn(move || {
                thread::yield_now();
                let mut rx = bus.subscribe::<u64>(&name).unwrap();
                joined.send(()).unwrap();
                let start = rx.position();
                let (d, l) = drain_to_close(&format!("{name} late"), &mut rx);
                assert_eq!(d + l, rx.position() - start);
                rx.position()
            })
        };
        // (It must subscribe before the removal, or it would create a new topic.)
        late_joined.recv().unwrap();
        if round % 2 == 1 {
            // Remove while the producers are still sending (once the pattern subscriber has
            // seen the topic, or the producers are done).
            while pattern_seen[round].load(Ordering::Relaxed) == 0
                && sent.load(Ordering::Relaxed) < PRODUCERS * PER_PRODUCER
            {
                thread::yield_now();
            }
            assert!(bus.remove(&name).unwrap());
            for p in producers {
                p.join().unwrap();
            }
        } else {
            for p in producers {
                p.join().unwrap();
            }
            assert!(bus.remove(&name).unwrap());
        }
        let total = sent.load(Ordering::Relaxed);
        for s in subscribers {
            let (d, l) = s.join().unwrap();
            assert_eq!(d + l, total, "{name}: delivered {d} + lagged {l}");
        }
        let late_end = late.join().unwrap();
        assert_eq!(late_end, total, "{name}: a closed topic's last position");

        let (topic, d, l) = reports
            .recv_timeout(STUCK)
            .expect("pattern subscriber report");
        assert_eq!(topic, name);
        assert_eq!(
            d + l,
            total,
            "{name} via pattern: delivered {d} + lagged {l}"
        );
        pattern_total += total;
    }

    stop.store(true, Ordering::Relaxed);
    let ops: u64 = churners.into_iter().map(|c| c.join().unwrap()).sum();
    let stats = pattern_thread.join().unwrap();
    assert_eq!(stats.received + stats.missed, pattern_total);
    assert!(ops > 0);
    assert!(bus.topics().iter().all(|t| !t.name.starts_with("inv.")));
}

#[test]
fn racing_creators_agree_on_the_type() {
    const RACES: usize = if cfg!(miri) { 10 } else { 200 };
    let bus = Bus::new();
    let barrier = Arc::new(Barrier::new(2));
    let racer = |typed_u64: bool| {
        let (bus, barrier) = (bus.clone(), barrier.clone());
        thread::spawn(move || {
            (0..RACES)
                .map(|i| {
                    let name = format!("race.{i}");
                    barrier.wait();
                    let result = if typed_u64 {
                        bus.publisher::<u64>(&name).map(drop)
                    } else {
                        bus.subscribe::<u32>(&name).map(drop)
                    };
                    result.err()
                })
                .collect::<Vec<_>>()
        })
    };
    let (a, b) = (racer(true), racer(false));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let topics = bus.topics();
    assert_eq!(topics.len(), RACES);
    for i in 0..RACES {
        let info = topics
            .iter()
            .find(|t| t.name == format!("race.{i}").as_str())
            .unwrap();
        // Exactly one side won; the loser got a TypeMismatch naming the winner's type.
        match (&a[i], &b[i]) {
            (
                None,
                Some(BusError::TypeMismatch {
                    expected, found, ..
                }),
            ) => {
                assert_eq!((*expected, *found, info.type_name), ("u64", "u32", "u64"));
            }
            (
                Some(BusError::TypeMismatch {
                    expected, found, ..
                }),
                None,
            ) => {
                assert_eq!((*expected, *found, info.type_name), ("u32", "u64", "u32"));
            }
            other => panic!("race.{i}: {other:?}"),
        }
    }
}

#[test]
fn lookups_and_sends_race_with_create_and_remove() {
    // One long-lived topic that every thread looks up again and again while another thread
    // creates and removes unrelated topics: nothing is lost (capacity > total, no lag).
    const THREADS: u64 = 3;
    const SENDS: u64 = if cfg!(miri) { 50 } else { 1_500 };
    // Under Miri every slot of every topic the remover creates costs interpreted steps.
    let bus = Bus::builder()
        .capacity(if cfg!(miri) { 256 } else { 8192 })
        .build();
    let mut rx = bus.subscribe::<u64>("steady").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let remover = {
        let (bus, stop) = (bus.clone(), stop.clone());
        thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("tmp.{}", n % 8);
                bus.publisher::<u8>(&name).unwrap().send(1).unwrap();
                bus.remove(&name).unwrap();
                n += 1;
                thread::yield_now();
            }
            n
        })
    };
    let senders: Vec<_> = (0..THREADS)
        .map(|p| {
            let bus = bus.clone();
            thread::spawn(move || {
                for i in 0..SENDS {
                    let tx = bus.publisher::<u64>("steady").unwrap();
                    assert!(tx.send(payload(p, i)).is_ok());
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    remover.join().unwrap();
    assert!(bus.remove("steady").unwrap());
    let (d, l) = drain_to_close("steady", &mut rx);
    assert_eq!((d, l), (THREADS * SENDS, 0));
}
