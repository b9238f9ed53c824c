//! Wake-up latency of a *parked* receiver: how long from a `send` until a receiver that was
//! asleep has the message, for the three ways seqcast lets a thread sleep on topics:
//!
//! * a plain `Subscriber::recv` (default `WaitStrategy::Blocking`), parked on one ring;
//! * a `PatternSubscriber::recv` (`Bus::subscribe_pattern`), parked on its rings and on the
//!   bus's table with one bell;
//! * `Select::ready` over two subscribers (the message goes to the second), parked on both.
//!
//! Each sample: the sender waits until the receiver is counted as parked on the ring it will
//! send to (`waiting_subscribers`), stamps the message with the time, sends it; the receiver
//! wakes, takes it, records `now - stamp`, and acknowledges; the sender waits for the ack and
//! a little longer (so the receiver gets past its spin phase and parks again). Rounds of the
//! three kinds alternate, so that a noisy stretch of the machine hits all of them alike; the
//! table shows the median over rounds of each round's p50 and p99 (and the range of the p50s).
//!
//! `cargo bench -p seqcast-compare --bench wakeup` (a few seconds). On a machine with at
//! least two cores the sender and the receiver are pinned to different ones.

use seqcast::{Bus, Select};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Rounds per kind, and samples per round: 2000 samples of each kind in all.
const ROUNDS: usize = 10;
const PER_ROUND: usize = 200;
/// Tells the receiver to stop (never a time stamp: those are nanoseconds since `base`).
const STOP: u64 = u64::MAX;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Subscriber,
    Pattern,
    Select,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Subscriber => "Subscriber::recv (Blocking)",
            Kind::Pattern => "PatternSubscriber::recv",
            Kind::Select => "Select::ready over 2 subscribers",
        }
    }
}

/// Where the two threads go: different cores when there are two, else wherever.
struct Cores {
    /// Cores in this process's affinity mask.
    count: usize,
    sender: Option<core_affinity::CoreId>,
    receiver: Option<core_affinity::CoreId>,
}

fn cores() -> Cores {
    let ids = core_affinity::get_core_ids().unwrap_or_default();
    match ids.as_slice() {
        [a, b, ..] => Cores {
            count: ids.len(),
            sender: Some(*a),
            receiver: Some(*b),
        },
        _ => Cores {
            count: ids.len(),
            sender: None,
            receiver: None,
        },
    }
}

fn pin(core: Option<core_affinity::CoreId>) {
    if let Some(c) = core {
        let _ = core_affinity::set_for_current(c);
    }
}

/// Until `parked()` (bounded: a receiver that never parks is a broken bench, not a slow one).
fn until(parked: impl Fn() -> bool) {
    let give_up = Instant::now() + Duration::from_secs(10);
    while !parked() {
        assert!(Instant::now() < give_up, "the receiver never parked");
        thread::sleep(Duration::from_micros(20));
    }
}

/// The sender's side of one round: `PER_ROUND` stamped messages, each to a parked receiver,
/// then `STOP`. `send` publishes, `parked` says whether the receiver sleeps on that ring.
fn drive(base: Instant, acks: &AtomicU64, mut send: impl FnMut(u64), parked: impl Fn() -> bool) {
    for i in 0..PER_ROUND as u64 {
        until(&parked);
        send(base.elapsed().as_nanos() as u64);
        while acks.load(Ordering::Acquire) <= i {
            std::hint::spin_loop();
        }
        // Let it get through its spins and yields and park again.
        thread::sleep(Duration::from_micros(100));
    }
    send(STOP);
}

/// One round of `kind`: the latencies in nanoseconds, as the receiver saw them.
fn round(kind: Kind, cores: &Cores) -> Vec<u64> {
    let base = Instant::now();
    let acks = Arc::new(AtomicU64::new(0));
    let rx_core = cores.receiver;
    let record = move |acks: &AtomicU64, stamp: u64, out: &mut Vec<u64>| {
        out.push((base.elapsed().as_nanos() as u64).saturating_sub(stamp));
        acks.fetch_add(1, Ordering::Release);
    };
    pin(cores.sender);
    match kind {
        Kind::Subscriber => {
            let (tx, mut rx) = seqcast::channel::<u64>(64);
            let a = acks.clone();
            let receiver = thread::spawn(move || {
                pin(rx_core);
                let mut out = Vec::with_capacity(PER_ROUND);
                loop {
                    match rx.recv() {
                        Ok(STOP) | Err(_) => return out,
                        Ok(stamp) => record(&a, stamp, &mut out),
                    }
                }
            });
            // `send` needs `&mut`, `parked` only `&`: two closures over one publisher.
            let tx = std::cell::RefCell::new(tx);
            drive(
                base,
                &acks,
                |v| {
                    tx.borrow_mut().send(v);
                },
                || tx.borrow().waiting_subscribers() >= 1,
            );
            receiver.join().unwrap()
        }
        Kind::Pattern => {
            let bus = Bus::builder().capacity(64).build();
            let mut sub = bus.subscribe_pattern::<u64>("wake.*").unwrap();
            let tx = bus.publisher::<u64>("wake.up").unwrap();
            let a = acks.clone();
            let receiver = thread::spawn(move || {
                pin(rx_core);
                let mut out = Vec::with_capacity(PER_ROUND);
                loop {
                    match sub.recv() {
                        Ok((_, STOP)) | Err(_) => return out,
                        Ok((_, stamp)) => record(&a, stamp, &mut out),
                    }
                }
            });
            drive(
                base,
                &acks,
                |v| {
                    tx.send(v).unwrap();
                },
                || tx.waiting_subscribers() >= 1,
            );
            receiver.join().unwrap()
        }
        Kind::Select => {
            let (_quiet_tx, quiet) = seqcast::channel::<u32>(64);
            let (tx, mut hot) = seqcast::channel::<u64>(64);
            let tx = tx.into_shared();
            let a = acks.clone();
            let receiver = thread::spawn(move || {
                pin(rx_core);
                let mut out = Vec::with_capacity(PER_ROUND);
                loop {
                    let mut sel = Select::new();
                    sel.recv(&quiet);
                    let h = sel.recv(&hot);
                    let i = sel.ready();
                    drop(sel);
                    assert_eq!(i, h, "only the second topic is sent to");
                    match hot.try_recv() {
                        Ok(STOP) | Err(_) => return out,
                        Ok(stamp) => record(&a, stamp, &mut out),
                    }
                }
            });
            drive(
                base,
                &acks,
                |v| {
                    tx.send(v).unwrap();
                },
                || tx.waiting_subscribers() >= 1,
            );
            receiver.join().unwrap()
        }
    }
}

/// The `q`-quantile of sorted `v` (nearest rank).
fn quantile(v: &[u64], q: f64) -> u64 {
    let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

fn main() {
    // `cargo test` runs bench targets with `--bench` absent: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let cores = cores();
    let kinds = [Kind::Subscriber, Kind::Pattern, Kind::Select];
    // Per kind: each round's (p50, p99).
    let mut per_round: Vec<Vec<(u64, u64)>> = vec![Vec::new(); kinds.len()];
    let started = Instant::now();
    // One warm-up round of each (thread start-up, first membarrier registration), not kept.
    for &kind in &kinds {
        round(kind, &cores);
    }
    for _ in 0..ROUNDS {
        for (k, &kind) in kinds.iter().enumerate() {
            let mut lat = round(kind, &cores);
            assert_eq!(lat.len(), PER_ROUND);
            lat.sort_unstable();
            per_round[k].push((quantile(&lat, 0.50), quantile(&lat, 0.99)));
        }
    }
    println!(
        "wake-up latency of a parked receiver, send -> receive: {ROUNDS} rounds x {PER_ROUND} \
         samples per kind, kinds interleaved; median over rounds of each round's p50 and p99"
    );
    println!(
        "cores: {} in the affinity mask ({} by available_parallelism), sender and receiver {}",
        cores.count,
        thread::available_parallelism().map_or(0, |n| n.get()),
        if cores.receiver.is_some() {
            "pinned to different cores"
        } else {
            "not pinned"
        }
    );
    println!();
    println!(
        "| {:<34} | {:>8} | {:>8} | {:>17} |",
        "receiver (parked)", "p50 us", "p99 us", "p50 range us"
    );
    println!("|{:-<36}|{:->10}|{:->10}|{:->19}|", "", "", "", "");
    for (k, &kind) in kinds.iter().enumerate() {
        let p50s: Vec<u64> = per_round[k].iter().map(|r| r.0).collect();
        let p99s: Vec<u64> = per_round[k].iter().map(|r| r.1).collect();
        let (lo, hi) = (*p50s.iter().min().unwrap(), *p50s.iter().max().unwrap());
        println!(
            "| {:<34} | {:>8} | {:>8} | {:>17} |",
            kind.label(),
            us(median(p50s)),
            us(median(p99s)),
            format!("{} .. {}", us(lo), us(hi))
        );
    }
    println!();
    println!("run time: {:.1} s", started.elapsed().as_secs_f64());
}
