//! Real-time dashboards: a metrics producer publishes on `metrics.<name>` topics; dashboards
//! subscribe with the pattern `metrics.>` and may join late, starting from "now" (no
//! backlog). Two deliberately slow wallboards show lag being reported per topic, not hidden,
//! and what the lag policy changes: under `LagPolicy::Skip` a lapped wallboard resumes at the
//! oldest sample still held, under `LagPolicy::SkipToNewest` at the newest. Both then read on
//! in order until the next lap, so the second shows samples about half as old (the median age
//! is printed at the end); a display that wants only the latest value would also drain what
//! is queued before each redraw.
//!
//! Run with `cargo run --example dashboard`.

use seqcast::error::{RecvTimeoutError, TopicError};
use seqcast::{Bus, LagPolicy};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Sample {
    seq: u64,
    value: f64,
    taken: Instant,
}

const METRICS: [&str; 4] = ["cpu", "memory", "disk_io", "requests"];

fn dashboard(
    bus: &Bus,
    name: &'static str,
    delay: Duration,
    policy: LagPolicy,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    let mut metrics = bus
        .subscribe_pattern::<Sample>("metrics.>")
        .expect("valid pattern");
    metrics.set_lag_policy(policy);
    println!("[{name}] connected, reading {:?}", metrics.topics());
    thread::spawn(move || {
        // per topic: (first seq seen, samples, missed)
        let mut seen: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        // How old each sample was when shown.
        let mut ages = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match metrics.recv_timeout(Duration::from_millis(20)) {
                Ok((topic, sample)) => {
                    let entry = seen.entry(topic.to_string()).or_insert((sample.seq, 0, 0));
                    if entry.1 == 0 && entry.2 == 0 {
                        println!(
                            "[{name}] first {topic} sample is #{} ({:.1})",
                            sample.seq, sample.value
                        );
                    }
                    entry.1 += 1;
                    ages.push(sample.taken.elapsed());
                    thread::sleep(delay);
                }
                Err(TopicError {
                    topic: Some(topic),
                    error: RecvTimeoutError::Lagged(missed),
                }) => {
                    seen.entry(topic.to_string()).or_insert((0, 0, 0)).2 += missed;
                }
                Err(TopicError {
                    topic: Some(topic),
                    error,
                }) => println!("[{name}] {topic}: {error}"),
                Err(_) => {} // timed out: nothing new on any topic
            }
        }
        for (topic, (_, samples, missed)) in seen {
            println!("[{name}] {topic:<16} {samples:>4} samples shown, {missed:>4} missed");
        }
        ages.sort_unstable();
        if let Some(&median) = ages.get(ages.len() / 2) {
            println!(
                "[{name}] ({policy:?}) median age of a sample when shown: {:.1} ms",
                median.as_secs_f64() * 1e3
            );
        }
    })
}

fn main() {
    // Small rings so that the slow dashboard falls behind within a second.
    let bus = Bus::builder()
        .capacity(64)
        .lag_policy(LagPolicy::Skip)
        .build();
    let stop = Arc::new(AtomicBool::new(false));

    // The admin dashboard connects before any metric exists: it picks up each metric topic
    // as the producer creates it, from its first sample.
    let admin = dashboard(&bus, "admin", Duration::ZERO, LagPolicy::Skip, stop.clone());

    let producer = {
        let (bus, stop) = (bus.clone(), stop.clone());
        thread::spawn(move || {
            let publishers: Vec<_> = METRICS
                .iter()
                .map(|m| bus.publisher::<Sample>(&format!("metrics.{m}")).unwrap())
                .collect();
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for (i, p) in publishers.iter().enumerate() {
                    let value = ((seq * 37 + i as u64 * 11) % 1000) as f64 / 10.0;
                    p.send(Sample {
                        seq,
                        value,
                        taken: Instant::now(),
                    })
                    .expect("topic is live");
                }
                seq += 1;
                thread::sleep(Duration::from_millis(2));
            }
        })
    };

    // The ops dashboard joins late: it starts from the next sample, no replay.
    thread::sleep(Duration::from_millis(300));
    let ops = dashboard(&bus, "ops", Duration::ZERO, LagPolicy::Skip, stop.clone());
    // Two wallboards redraw slowly and fall behind: each is told exactly what it missed. The
    // first resumes at the oldest sample still held after each lap, the second at the newest.
    let slow = Duration::from_millis(5);
    let wall = dashboard(&bus, "wallboard", slow, LagPolicy::Skip, stop.clone());
    let live = dashboard(
        &bus,
        "wallboard-live",
        slow,
        LagPolicy::SkipToNewest,
        stop.clone(),
    );

    thread::sleep(Duration::from_millis(700));
    println!("\ntopics after one second:");
    for t in bus.topics() {
        println!(
            "  {:<16} {:>4} published, {} subscribers, capacity {}",
            t.name.as_str(),
            t.published,
            t.subscribers,
            t.capacity
        );
    }
    println!();
    stop.store(true, Ordering::Relaxed);
    producer.join().unwrap();
    for d in [admin, ops, wall, live] {
        d.join().unwrap();
    }
}
