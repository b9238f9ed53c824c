//! `cargo bench --bench compare`: one-way latency and fan-out throughput of seqcast beside its
//! peers and the hardware's own limit, in one run, on pinned cores (DESIGN.md §5); and record
//! topics (bytes and serde messages) beside tokio's broadcast and async-broadcast
//! (`records.rs`).
//!
//! Prints a table, writes `results.json` and SVG plots to `target/seqcast-bench/` (`--out`,
//! relative to the repository root).
//! `-- --help` lists the options. Without `--bench` (i.e. under `cargo test`) it only runs a
//! seconds-long smoke check.

mod cli;
mod clock;
mod libs;
mod pin;
mod plot;
mod reclibs;
mod records;
mod report;
mod run;
mod stats;

use libs::{with_lib, Lib, Msg};
use stats::{LatSeries, TpSeries};
use std::time::Instant;

/// Runs one latency configuration with the payload size picked at run time.
fn latency_run(lib: Lib, payload: usize, cap: usize, n: usize, r: run::Latency) -> run::LatencyOut {
    match payload {
        8 => with_lib::<Msg<1>, _>(lib, cap, n, r),
        16 => with_lib::<Msg<2>, _>(lib, cap, n, r),
        56 => with_lib::<Msg<7>, _>(lib, cap, n, r),
        64 => with_lib::<Msg<8>, _>(lib, cap, n, r),
        256 => with_lib::<Msg<32>, _>(lib, cap, n, r),
        other => unreachable!("payload {other} B was not rejected by the option parser"),
    }
}

fn throughput_run(
    lib: Lib,
    payload: usize,
    cap: usize,
    n: usize,
    r: run::Throughput,
) -> run::ThroughputOut {
    match payload {
        8 => with_lib::<Msg<1>, _>(lib, cap, n, r),
        16 => with_lib::<Msg<2>, _>(lib, cap, n, r),
        56 => with_lib::<Msg<7>, _>(lib, cap, n, r),
        64 => with_lib::<Msg<8>, _>(lib, cap, n, r),
        256 => with_lib::<Msg<32>, _>(lib, cap, n, r),
        other => unreachable!("payload {other} B was not rejected by the option parser"),
    }
}

/// Adds one latency run to its series; returns the run's curve (ns at each of `CURVE`).
fn record(
    lat: &mut Vec<LatSeries>,
    lib: Lib,
    payload: usize,
    n: usize,
    shared: bool,
    clk: &clock::Clock,
    out: &run::LatencyOut,
) -> Vec<f64> {
    let idx = match lat
        .iter()
        .position(|s| s.lib == lib && s.payload == payload && s.subs == n)
    {
        Some(i) => i,
        None => {
            lat.push(LatSeries::new(lib, payload, n, shared));
            lat.len() - 1
        }
    };
    lat[idx].push_run(clk, out)
}

fn main() {
    let wall = Instant::now();
    let load_before = report::loadavg();
    let o = cli::parse();
    let clk = clock::init(o.tsc, o.tscp);
    let cores = pin::cores();
    let mut warnings: Vec<String> = clk.warning.iter().cloned().collect();

    // Subscriber counts: those that get a core each, unless asked otherwise.
    let fits = |n: usize| cores.len() > n;
    let subs: Vec<usize> = match &o.subs {
        Some(v) => v.clone(),
        None => {
            let v: Vec<usize> = [1, 2, 4, 8, 14].into_iter().filter(|&n| fits(n)).collect();
            if v.is_empty() {
                vec![1]
            } else {
                v
            }
        }
    };
    if cores.len() < 16 && o.subs.is_none() {
        warnings.push(format!(
            "{} cores: fan-out beyond {} subscriber(s) needs more cores (run with --subs and \
             --share to run them sharing cores, labelled 'shared')",
            cores.len(),
            cores.len().saturating_sub(1).max(1)
        ));
    }
    let subs: Vec<usize> = subs
        .into_iter()
        .filter(|&n| {
            let ok = fits(n) || o.share || o.smoke;
            if !ok {
                warnings.push(format!(
                    "skipped {n} subscriber(s): only {} cores (publisher + {n} subscribers \
                     need {}); --share runs them sharing cores",
                    cores.len(),
                    n + 1
                ));
            } else if !fits(n) {
                warnings.push(format!(
                    "{n} subscriber(s) share {} core(s): labelled 'shared', subscribers \
                     yield when empty; not a latency figure",
                    cores.len().saturating_sub(1).max(1)
                ));
            }
            ok
        })
        .collect();

    let busy: f64 = load_before
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    if busy > 0.5 {
        warnings.push(format!(
            "load average {busy} before the run: other processes compete for the cores and \
             every figure will be noisier (see the 'preempt' columns)"
        ));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let interval_ticks = clk.ticks_for_ns(o.interval_ns);
    let lead_ticks = clk.ticks_for_ns(200_000.0);
    let mut lat: Vec<LatSeries> = Vec::new();
    let mut tp: Vec<TpSeries> = Vec::new();
    let mut ping = Vec::new();

    // ---- latency (and the limit), interleaved in rounds ----
    // Each library run is paired with a shorter limit run just before it, on the same cores:
    // the host moves vCPUs now and then (DESIGN.md §5), so each ratio is taken against the
    // limit measured moments earlier. The `limit` row pools those paired runs.
    if o.limit || o.latency {
        let mut jobs: Vec<(Lib, usize, usize)> = Vec::new();
        for &n in &subs {
            if o.latency {
                for &p in &o.payloads {
                    // seqcast-newest differs from seqcast only once lapped, which a paced
                    // latency run never is: it runs in the throughput runs alone. (A paced
                    // run never fills the ring either, but seqcast-gated's subscribers
                    // publish their position on every receive: that cost is worth timing.)
                    // seqcast-batch-send holds messages back until a chunk is full, which
                    // only a throughput run can take.
                    let paced = |l: Lib| l != Lib::SeqcastNewest && l != Lib::SeqcastBatchSend;
                    for &lib in o.libs.iter().filter(|&&l| paced(l)) {
                        jobs.push((lib, p, n));
                    }
                }
            } else {
                jobs.push((Lib::Limit, 8, n));
            }
        }
        for round in 0..o.rounds {
            let t = Instant::now();
            if o.limit {
                let place = pin::place(&cores, 1);
                let h = run::ping_pong(100_000, &place);
                ping.push(clk.to_ns(h.value_at_quantile(0.5)));
            }
            // Rotate the order each round so no library always runs first or last.
            let k = round * jobs.len() / o.rounds.max(1);
            for &(lib, payload, n) in jobs[k..].iter().chain(&jobs[..k]) {
                let place = pin::place(&cores, n);
                let mut paired = None;
                if o.limit && lib != Lib::Limit {
                    let msgs = (o.messages / 4).max(1000);
                    let r = run::Latency {
                        msgs,
                        interval_ticks,
                        warmup: (msgs / 100).min(1000),
                        lead_ticks,
                        place: &place,
                    };
                    let out = latency_run(Lib::Limit, 8, o.capacity, n, r);
                    let c = record(&mut lat, Lib::Limit, 8, n, place.shared, &clk, &out);
                    paired = Some(c);
                }
                let r = run::Latency {
                    msgs: o.messages,
                    interval_ticks,
                    warmup: (o.messages / 100).min(1000),
                    lead_ticks,
                    place: &place,
                };
                let out = latency_run(lib, payload, o.capacity, n, r);
                if o.smoke {
                    // Every message is accounted for: received, or reported lost.
                    for (got, lost) in out.received.iter().zip(&out.lagged) {
                        assert_eq!(
                            got + lost,
                            o.messages,
                            "{}: messages unaccounted for",
                            lib.name()
                        );
                        if !lib.lossy() {
                            assert_eq!(*lost, 0, "{}: a lossless row lost messages", lib.name());
                        }
                    }
                }
                record(&mut lat, lib, payload, n, place.shared, &clk, &out);
                if let Some(c) = paired {
                    let s = lat
                        .iter_mut()
                        .find(|s| s.lib == lib && s.payload == payload && s.subs == n)
                        .expect("just recorded");
                    s.limit_curve.push(c);
                }
            }
            eprintln!(
                "latency round {}/{} done in {:.1}s",
                round + 1,
                o.rounds,
                t.elapsed().as_secs_f64()
            );
        }
    }

    // ---- throughput, interleaved in rounds ----
    if o.throughput {
        let mut jobs: Vec<(Lib, usize, usize)> = Vec::new();
        for &n in &subs {
            for &p in &o.tp_payloads {
                for &lib in &o.libs {
                    jobs.push((lib, p, n));
                }
            }
        }
        for round in 0..o.rounds {
            let t = Instant::now();
            let k = round * jobs.len() / o.rounds.max(1);
            for &(lib, payload, n) in jobs[k..].iter().chain(&jobs[..k]) {
                let place = pin::place(&cores, n);
                let r = run::Throughput {
                    msgs: o.tp_messages,
                    max_ticks: clk.ticks_for_ns(o.tp_seconds * 1e9),
                    place: &place,
                };
                let out = throughput_run(lib, payload, o.capacity, n, r);
                if o.smoke {
                    for (got, lost) in out.received.iter().zip(&out.lagged) {
                        assert_eq!(
                            got + lost,
                            out.sent,
                            "{}: messages unaccounted for",
                            lib.name()
                        );
                        if !lib.lossy() {
                            assert_eq!(*lost, 0, "{}: a lossless row lost messages", lib.name());
                        }
                    }
                }
                let idx = match tp
                    .iter()
                    .position(|s| s.lib == lib && s.payload == payload && s.subs == n)
                {
                    Some(i) => i,
                    None => {
                        tp.push(TpSeries::new(lib, payload, n, place.shared));
                        tp.len() - 1
                    }
                };
                tp[idx].push_run(&clk, &out);
            }
            eprintln!(
                "throughput round {}/{} done in {:.1}s",
                round + 1,
                o.rounds,
                t.elapsed().as_secs_f64()
            );
        }
    }

    // ---- records: record topics against their peers, on one core pair ----
    let rec = o.records.then(|| records::run(&o, &clk, &cores));

    let ctx = report::Context {
        opts: &o,
        clock: &clk,
        cores: cores.len(),
        subs: &subs,
        warnings: &warnings,
        ping: &ping,
        run_secs: wall.elapsed().as_secs_f64(),
        load: (load_before, report::loadavg()),
        records: rec.as_ref(),
    };
    let table = report::table(&ctx, &lat, &tp);
    print!("{table}");
    if o.smoke {
        println!("smoke run: every library ran; no files written (run `cargo bench --bench compare` for the comparison)");
        return;
    }
    // cargo runs a bench inside its package (`compare/`), but `--out` is typed at the
    // repository root: a relative path is taken from there (an absolute one replaces it).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the compare crate sits inside the repository");
    let dir = &root.join(&o.out);
    std::fs::create_dir_all(dir).expect("create output dir");
    std::fs::write(dir.join("table.txt"), &table).expect("write table.txt");
    let json = report::json(&ctx, &lat, &tp);
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&json).expect("json"),
    )
    .expect("write results.json");
    let mut files = plot::all(dir, &lat, &tp);
    if let Some(r) = &rec {
        files.extend(plot::records(dir, r));
    }
    println!(
        "\nwrote {} ({} files: table.txt, results.json{})",
        dir.display(),
        files.len() + 2,
        files.iter().map(|f| format!(", {f}")).collect::<String>()
    );
}
