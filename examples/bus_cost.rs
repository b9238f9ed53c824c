//! A rough measurement, not a benchmark: what a `Bus` adds on top of a bare ring.
//!
//! * the cost of looking up an existing topic (`bus.publisher::<T>(name)`), with 1 and with
//!   100 topics in the table;
//! * the cost of a `send` through a bus-obtained `SharedPublisher`, next to a bare
//!   `channel` `Publisher::send` and a bare `SharedPublisher::send` (same ring type).
//!
//! Single thread, no reader running; prints the median (and range) of several interleaved
//! rounds in ns/op. For real
//! numbers use the criterion benches in `compare/benches/`.
//!
//! Run with `cargo run --release --example bus_cost`.

use seqcast::Bus;
use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 15;
const OPS: u64 = 1_000_000;

/// Times `OPS` calls of `op`: ns per call.
fn ns_per_op(mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for i in 0..OPS {
        op(i);
    }
    start.elapsed().as_nanos() as f64 / OPS as f64
}

type Case<'a> = (&'a str, Box<dyn FnMut() -> f64 + 'a>);

fn main() {
    if cfg!(debug_assertions) {
        println!("(debug build: run with --release for meaningful numbers)");
    }
    let small = Bus::new();
    let _keep = small.subscribe::<u64>("prices.eu.spot").unwrap();
    let large = Bus::new();
    let _keep_too = large.subscribe::<u64>("prices.eu.spot").unwrap();
    for i in 0..99 {
        large
            .publisher::<u64>(&format!("prices.r{i:02}.spot"))
            .unwrap();
    }
    let via_bus = small.publisher::<u64>("prices.eu.spot").unwrap();
    let (shared, _rx1) = seqcast::channel::<u64>(small.capacity());
    let shared = shared.into_shared();
    let (mut bare, _rx2) = seqcast::channel::<u64>(small.capacity());

    let mut cases: Vec<Case> = vec![
        (
            "bus.publisher::<u64>(name), existing topic,   1 topic ",
            Box::new(|| {
                ns_per_op(|_| {
                    black_box(small.publisher::<u64>(black_box("prices.eu.spot")).unwrap());
                })
            }),
        ),
        (
            "bus.publisher::<u64>(name), existing topic, 100 topics",
            Box::new(|| {
                ns_per_op(|_| {
                    black_box(large.publisher::<u64>(black_box("prices.eu.spot")).unwrap());
                })
            }),
        ),
        (
            "send via a Bus SharedPublisher<u64>                   ",
            Box::new(|| {
                ns_per_op(|i| {
                    let _ = black_box(via_bus.send(black_box(i)));
                })
            }),
        ),
        (
            "send via a bare channel SharedPublisher<u64>          ",
            Box::new(|| {
                ns_per_op(|i| {
                    let _ = black_box(shared.send(black_box(i)));
                })
            }),
        ),
        (
            "send via a bare channel Publisher<u64>                ",
            Box::new(|| {
                ns_per_op(|i| {
                    black_box(bare.send(black_box(i)));
                })
            }),
        ),
    ];

    // Rounds interleave the cases, so that a noisy neighbour hurts them all alike.
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        for (case, out) in cases.iter_mut().zip(&mut samples) {
            out.push((case.1)());
        }
    }
    println!("median (min..max) of {ROUNDS} rounds x {OPS} ops, ns/op:");
    for (case, mut s) in cases.iter().zip(samples) {
        s.sort_by(f64::total_cmp);
        println!(
            "  {}: {:6.1}  ({:.1}..{:.1})",
            case.0,
            s[ROUNDS / 2],
            s[0],
            s[ROUNDS - 1]
        );
    }
}
