use seqcast::{SlotLayout, error::TryRecvError};
use std::time::Instant;
use std::hint::black_box;

#[derive(Clone, Copy)]
#[repr(C)]
struct M<const N: usize>([u64; N]);

fn run<const N: usize>(layout: SlotLayout, batch: bool, gated: bool, msgs: u64) -> (f64, f64) {
    let (mut tx, rx0) = seqcast::try_channel_with::<M<N>>(1024, layout).unwrap();
    let mut rx = if gated { let g = tx.subscribe_gated(); drop(rx0); g } else { let mut r = rx0; r.set_lag_policy(seqcast::LagPolicy::SkipToNewest); r };
    let cores = CORES.get().unwrap().clone();
    let c1 = cores[1];
    let h = std::thread::spawn(move || {
        core_affinity::set_for_current(c1);
        let (mut got, mut lost) = (0u64, 0u64);
        let mut sum = 0u64;
        let t = Instant::now();
        loop {
            let r = if batch {
                rx.try_recv_batch(256, |m| { sum = sum.wrapping_add(m.0[0]); })
            } else {
                rx.try_recv().map(|m| { sum = sum.wrapping_add(m.0[0]); 1 })
            };
            match r {
                Ok(n) => got += n as u64,
                Err(TryRecvError::Lagged(n)) => lost += n,
                Err(TryRecvError::Empty) => {}
                Err(_) => break,
            }
        }
        black_box(sum);
        (got, lost, t.elapsed())
    });
    core_affinity::set_for_current(cores[0]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    for i in 0..msgs { tx.send(M([i; N])); }
    drop(tx);
    let (got, lost, el) = h.join().unwrap();
    assert_eq!(got + lost, msgs);
    (got as f64 / el.as_secs_f64() / 1e6, lost as f64 / msgs as f64 * 100.0)
}

static CORES: std::sync::OnceLock<Vec<core_affinity::CoreId>> = std::sync::OnceLock::new();
fn main() {
    CORES.set(core_affinity::get_core_ids().unwrap()).unwrap();
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(5);
    let msgs = 3_000_000;
    let cases: Vec<(&str, Box<dyn Fn() -> (f64, f64)>)> = vec![
        ("8B line newest single", Box::new(move || run::<1>(SlotLayout::Line, false, false, msgs))),
        ("8B packed newest single", Box::new(move || run::<1>(SlotLayout::Packed, false, false, msgs))),
        ("8B line newest batch", Box::new(move || run::<1>(SlotLayout::Line, true, false, msgs))),
        ("8B packed newest batch", Box::new(move || run::<1>(SlotLayout::Packed, true, false, msgs))),
        ("8B line gated single", Box::new(move || run::<1>(SlotLayout::Line, false, true, msgs))),
        ("8B line gated batch", Box::new(move || run::<1>(SlotLayout::Line, true, true, msgs))),
        ("8B packed gated batch", Box::new(move || run::<1>(SlotLayout::Packed, true, true, msgs))),
        ("16B line gated batch", Box::new(move || run::<2>(SlotLayout::Line, true, true, msgs))),
        ("16B packed gated batch", Box::new(move || run::<2>(SlotLayout::Packed, true, true, msgs))),
    ];

    let mut res: Vec<Vec<(f64,f64)>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (i, (_, f)) in cases.iter().enumerate() { res[i].push(f()); }
    }
    for (i, (name, _)) in cases.iter().enumerate() {
        let mut v: Vec<f64> = res[i].iter().map(|r| r.0).collect();
        v.sort_by(|a,b| a.partial_cmp(b).unwrap());
        let mut l: Vec<f64> = res[i].iter().map(|r| r.1).collect();
        l.sort_by(|a,b| a.partial_cmp(b).unwrap());
        let per: Vec<String> = res[i].iter().map(|r| format!("{:.0}", r.0)).collect();
        println!("{name:24} useful M/s median {:7.1}  lost% median {:5.1}  rounds {}", v[v.len()/2], l[l.len()/2], per.join(" "));
    }
}
