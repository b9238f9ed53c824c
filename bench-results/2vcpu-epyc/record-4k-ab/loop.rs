//! Single-thread and two-thread cost of record send + receive (see README.md).
use std::time::Instant;

fn one_thread(size: usize, n: usize) -> (f64, f64) {
    let (mut tx, mut rx) = seqcast::record::channel(1 << 20);
    let rec = vec![7u8; size];
    let mut buf = Vec::with_capacity(8192);
    for _ in 0..1000 {
        tx.send(&rec).unwrap();
        rx.try_recv_into(&mut buf).unwrap();
    }
    let t = Instant::now();
    for _ in 0..n {
        tx.send(&rec).unwrap();
        rx.try_recv_into(&mut buf).unwrap();
    }
    let both = t.elapsed().as_nanos() as f64 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        tx.send(&rec).unwrap();
    }
    let snd = t.elapsed().as_nanos() as f64 / n as f64;
    (both, snd)
}

/// Publisher on this thread, a gated (lossless) subscriber on another: ns per record.
fn two_threads(size: usize, n: usize) -> f64 {
    let (mut tx, rx) = seqcast::record::channel(256 * 1024);
    let mut rx = {
        let g = tx.subscribe_gated();
        drop(rx);
        g
    };
    let rec = vec![7u8; size];
    let h = std::thread::spawn(move || {
        let mut buf = Vec::with_capacity(8192);
        let mut sum = 0u64;
        for _ in 0..n {
            loop {
                match rx.try_recv_into(&mut buf) {
                    Ok(_) => break,
                    Err(seqcast::error::TryRecvError::Empty) => std::hint::spin_loop(),
                    Err(e) => panic!("{e:?}"),
                }
            }
            sum += buf[size - 1] as u64;
        }
        sum
    });
    let t = Instant::now();
    for _ in 0..n {
        tx.send(&rec).unwrap();
    }
    let sum = h.join().unwrap();
    assert_eq!(sum, 7 * n as u64);
    t.elapsed().as_nanos() as f64 / n as f64
}

/// Publisher on this thread sending as fast as it can, a lossy subscriber on another (as the
/// compare harness's throughput row: a ring of 1024 records): records delivered per second of
/// publishing, and the share lost. `newest`: the subscriber uses `LagPolicy::SkipToNewest`.
fn lossy(size: usize, n: usize, newest: bool) -> (f64, f64, f64) {
    let (mut tx, mut rx) = seqcast::record::channel(1024 * size.div_ceil(48).max(1) * 64);
    if newest {
        rx.set_lag_policy(seqcast::LagPolicy::SkipToNewest);
    }
    let rec = vec![7u8; size];
    let h = std::thread::spawn(move || {
        let mut buf = Vec::with_capacity(8192);
        let (mut got, mut lost) = (0u64, 0u64);
        loop {
            match rx.try_recv_into(&mut buf) {
                Ok(_) => {
                    got += 1;
                    std::hint::black_box(buf.iter().map(|&b| b as u64).sum::<u64>());
                }
                Err(seqcast::error::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(seqcast::error::TryRecvError::Lagged(k)) => lost += k,
                Err(_) => break,
            }
        }
        (got, lost)
    });
    let t = Instant::now();
    for _ in 0..n {
        tx.send(&rec).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    drop(tx);
    let (got, lost) = h.join().unwrap();
    assert_eq!(got + lost, n as u64);
    (n as f64 / secs / 1e6, got as f64 / secs / 1e6, lost as f64 / n as f64)
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode == "lossy" {
        for size in [32usize, 256, 4096] {
            for newest in [false, true] {
                let n = if size == 4096 { 200_000 } else { 2_000_000 };
                let (p, u, l) = lossy(size, n, newest);
                let pol = if newest { "SkipToNewest" } else { "Skip" };
                println!("{size} B lossy {pol}: publish {p:.2} M/s, useful {u:.3} M/s, lost {:.1}%", l * 100.0);
            }
        }
        return;
    }
    if let Some(size) = mode.strip_prefix("cg") {
        // For callgrind: a fixed single-thread loop, 4 KiB records unless `cgSIZE` says.
        let (b, _) = one_thread(size.parse().unwrap_or(4096), 20_000);
        println!("cg {b:.0}");
        return;
    }
    for size in [32usize, 256, 4096] {
        let (both, snd) = one_thread(size, 200_000);
        let two = two_threads(size, 200_000);
        println!("{size} B: 1-thread send+recv {both:.0} ns, send only {snd:.0} ns; 2-thread gated {two:.0} ns/record");
    }
}
