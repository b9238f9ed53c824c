//! Criterion micro-benchmarks of the ring's operations and of a `Bus` topic lookup, each
//! beside `tokio::sync::broadcast` doing the same. Payload: one `u64`, and for `try_recv`
//! also 64 and 256 bytes.
//!
//! `cargo bench --bench ring`. The `base` group measures the harness's own overhead:
//! subtract it mentally from the figures it applies to.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// Ring capacity for every bench (both libraries).
const CAP: usize = 4096;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

/// Runs `f(iters)` on each of `threads` scoped threads released together by a barrier and
/// returns the wall time from the release until the last one finished.
fn parallel(threads: usize, iters: u64, f: impl Fn(u64) + Sync) -> Duration {
    let barrier = Barrier::new(threads + 1);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    f(iters);
                    Instant::now()
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .max()
            .expect("at least one thread")
            - start
    })
}

/// The harness's own cost: an empty timed loop, and the two-thread barrier launch used by
/// the `shared_send/*/2_producers` benches doing nothing.
fn base(c: &mut Criterion) {
    let mut g = c.benchmark_group("base");
    g.bench_function("black_box_loop", |b| b.iter(|| black_box(1u64)));
    g.bench_function("2_threads_barrier", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, |n| {
                for i in 0..n {
                    black_box(i);
                }
            })
        })
    });
    g.finish();
}

/// `send` with 0, 1 and 4 idle subscribers (they never read, so the ring keeps lapping them).
fn send(c: &mut Criterion) {
    let mut g = c.benchmark_group("send");
    for subs in [0usize, 1, 4] {
        g.bench_function(format!("seqcast/{subs}_subs"), |b| {
            let (mut tx, rx) = seqcast::channel::<u64>(CAP);
            let rxs: Vec<_> = (0..subs).map(|_| tx.subscribe()).collect();
            drop(rx);
            let mut i = 0u64;
            b.iter(|| {
                i += 1;
                tx.send(black_box(i))
            });
            drop(rxs);
        });
        g.bench_function(format!("tokio/{subs}_subs"), |b| {
            // With 0 receivers tokio's send returns Err(SendError) after checking the count.
            let (tx, rx) = tokio::sync::broadcast::channel::<u64>(CAP);
            let rxs: Vec<_> = (0..subs).map(|_| tx.subscribe()).collect();
            drop(rx);
            let mut i = 0u64;
            b.iter(|| {
                i += 1;
                tx.send(black_box(i)).is_ok()
            });
            drop(rxs);
        });
    }
    g.finish();
}

/// `try_recv` that finds a message (the ring is refilled, untimed, every `CAP` receives) and
/// `try_recv` on an empty ring, for payloads of 8, 64 and 256 bytes (`[u64; N]`). The 8 B
/// benches keep their unsuffixed names. An empty poll of a payload of up to 256 B copies the
/// slot before it checks the stamp (`slot.rs`, `Payload::EAGER`), so the `empty` rows show
/// what that costs a reader that polls an idle topic.
fn try_recv(c: &mut Criterion) {
    let mut g = c.benchmark_group("try_recv");
    try_recv_payload::<1>(&mut g, "");
    try_recv_payload::<8>(&mut g, "_64B");
    try_recv_payload::<32>(&mut g, "_256B");
    g.finish();
}

fn try_recv_payload<const N: usize>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    suffix: &str,
) {
    let msg = |i: u64| [i; N];
    g.bench_function(format!("seqcast/hit{suffix}"), |b| {
        let (mut tx, mut rx) = seqcast::channel::<[u64; N]>(CAP);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CAP as u64);
                for i in 0..n {
                    tx.send(msg(i));
                }
                let t = Instant::now();
                for _ in 0..n {
                    black_box(rx.try_recv().ok());
                }
                total += t.elapsed();
                left -= n;
            }
            total
        })
    });
    g.bench_function(format!("tokio/hit{suffix}"), |b| {
        let (tx, mut rx) = tokio::sync::broadcast::channel::<[u64; N]>(CAP);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CAP as u64);
                for i in 0..n {
                    let _ = tx.send(msg(i));
                }
                let t = Instant::now();
                for _ in 0..n {
                    black_box(rx.try_recv().ok());
                }
                total += t.elapsed();
                left -= n;
            }
            total
        })
    });
    g.bench_function(format!("seqcast/empty{suffix}"), |b| {
        let (_tx, mut rx) = seqcast::channel::<[u64; N]>(CAP);
        b.iter(|| black_box(rx.try_recv().is_err()))
    });
    g.bench_function(format!("tokio/empty{suffix}"), |b| {
        let (_tx, mut rx) = tokio::sync::broadcast::channel::<[u64; N]>(CAP);
        b.iter(|| black_box(rx.try_recv().is_err()))
    });
}

/// One thread sends a message and receives it back.
fn send_recv(c: &mut Criterion) {
    let mut g = c.benchmark_group("send_recv_one_thread");
    g.bench_function("seqcast", |b| {
        let (mut tx, mut rx) = seqcast::channel::<u64>(CAP);
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            tx.send(black_box(i));
            rx.try_recv().ok()
        })
    });
    g.bench_function("tokio", |b| {
        let (tx, mut rx) = tokio::sync::broadcast::channel::<u64>(CAP);
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            let _ = tx.send(black_box(i));
            rx.try_recv().ok()
        })
    });
    g.finish();
}

/// `SharedPublisher::send` alone and with two producers sending at once (time per send as
/// seen by each producer; compare with `base/2_threads_barrier`). One idle subscriber.
fn shared_send(c: &mut Criterion) {
    let mut g = c.benchmark_group("shared_send");
    g.bench_function("seqcast/uncontended", |b| {
        let (tx, _rx) = seqcast::channel::<u64>(CAP);
        let tx = tx.into_shared();
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            tx.send(black_box(i))
        })
    });
    g.bench_function("tokio/uncontended", |b| {
        let (tx, _rx) = tokio::sync::broadcast::channel::<u64>(CAP);
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            tx.send(black_box(i)).is_ok()
        })
    });
    g.bench_function("seqcast/2_producers", |b| {
        let (tx, _rx) = seqcast::channel::<u64>(CAP);
        let tx = tx.into_shared();
        b.iter_custom(|iters| {
            parallel(2, iters, |n| {
                for i in 0..n {
                    let _ = black_box(tx.send(i));
                }
            })
        })
    });
    g.bench_function("tokio/2_producers", |b| {
        let (tx, _rx) = tokio::sync::broadcast::channel::<u64>(CAP);
        b.iter_custom(|iters| {
            parallel(2, iters, |n| {
                for i in 0..n {
                    black_box(tx.send(i).is_ok());
                }
            })
        })
    });
    g.finish();
}

/// The Go-style topic table a `Bus` replaces, built on tokio: a `RwLock`ed map from name to
/// `broadcast::Sender`, looked up under the read lock and cloned (what `bus.publisher` gives).
type TokioTable = std::sync::RwLock<std::collections::HashMap<String, TokioSender>>;
type TokioSender = tokio::sync::broadcast::Sender<u64>;

/// The names of a table of `n` topics; the one looked up is the first.
fn topic_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("prices.r{i:02}.spot")).collect()
}

/// Looking up an existing topic by name, with 1 and 100 topics in the table, from one thread
/// and from two at once (time per lookup as seen by each thread; compare with
/// `base/2_threads_barrier`). seqcast: `Bus::publisher` (one atomic load of the table, a map
/// lookup, a type check, a `SharedPublisher` clone). tokio: `RwLock::read`, a map lookup and
/// a `Sender` clone. Both handles are dropped inside the loop.
fn bus_lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("bus_lookup");
    for topics in [1, 100] {
        let names = topic_names(topics);
        let bus = seqcast::Bus::new();
        for name in &names {
            bus.publisher::<u64>(name).unwrap();
        }
        let table: TokioTable = std::sync::RwLock::new(
            names
                .iter()
                .map(|n| (n.clone(), tokio::sync::broadcast::channel(CAP).0))
                .collect(),
        );
        let name = names[0].as_str();
        let seqcast_lookup = || black_box(bus.publisher::<u64>(black_box(name)).unwrap());
        let tokio_lookup =
            || black_box(table.read().unwrap().get(black_box(name)).unwrap().clone());
        g.bench_function(format!("seqcast/{topics}_topics"), |b| {
            b.iter(seqcast_lookup)
        });
        g.bench_function(format!("tokio/{topics}_topics"), |b| b.iter(tokio_lookup));
        g.bench_function(format!("seqcast/{topics}_topics_2_threads"), |b| {
            b.iter_custom(|iters| {
                parallel(2, iters, |n| {
                    for _ in 0..n {
                        seqcast_lookup();
                    }
                })
            })
        });
        g.bench_function(format!("tokio/{topics}_topics_2_threads"), |b| {
            b.iter_custom(|iters| {
                parallel(2, iters, |n| {
                    for _ in 0..n {
                        tokio_lookup();
                    }
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = base, send, try_recv, send_recv, shared_send, bus_lookup
}
criterion_main!(benches);
