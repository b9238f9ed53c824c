use std::time::Instant;
fn main() {
    for size in [32usize, 256, 4096] {
        let (mut tx, mut rx) = seqcast::record::channel(1 << 20);
        let rec = vec![7u8; size];
        let mut buf = Vec::with_capacity(8192);
        let n = 200_000;
        let t = Instant::now();
        for _ in 0..n { tx.send(&rec).unwrap(); rx.try_recv_into(&mut buf).unwrap(); }
        let el = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for _ in 0..n { tx.send(&rec).unwrap(); }
        let snd = t.elapsed().as_nanos() as f64 / n as f64;
        println!("{size} B: send+recv {el:.0} ns, send only {snd:.0} ns");
    }
}
