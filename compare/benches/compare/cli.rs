//! Command-line options (`cargo bench --bench compare -- --help`).

use super::libs::Lib;
use super::reclibs::RecLib;

#[derive(Debug, Clone)]
pub struct Opts {
    pub limit: bool,
    pub latency: bool,
    pub throughput: bool,
    /// Record topics against their peers (`records.rs`).
    pub records: bool,
    pub libs: Vec<Lib>,
    /// `None`: every count of 1, 2, 4, 8, 14 that gets its own core (at least 1).
    pub subs: Option<Vec<usize>>,
    pub payloads: Vec<usize>,
    pub tp_payloads: Vec<usize>,
    /// Record sizes in bytes for the records run (at least the 8-byte stamp).
    pub rec_sizes: Vec<usize>,
    pub rec_libs: Vec<RecLib>,
    pub rounds: usize,
    /// Rounds of the records run.
    pub rec_rounds: usize,
    pub messages: u64,
    pub tp_messages: u64,
    pub tp_seconds: f64,
    pub interval_ns: f64,
    pub capacity: usize,
    pub out: String,
    pub tsc: bool,
    /// `--clock tscp`: `rdtscp`, which waits for every earlier instruction (loads included).
    pub tscp: bool,
    pub share: bool,
    /// Not run by `cargo bench` (e.g. `cargo test --benches`): a seconds-long smoke run.
    pub smoke: bool,
}

pub const HELP: &str = "\
seqcast compare: one-way latency and fan-out throughput against the hardware limit and peers,
and record topics (bytes, serde messages) against tokio's broadcast and async-broadcast

usage: cargo bench --bench compare -- [options]
  --runs LIST         limit,latency,throughput,records (default: all four)
  --libs LIST         seqcast,seqcast-newest,seqcast-gated,tokio,crossbeam,bus,disruptor
                      (default: these seven); lossy rows lose messages to a slow subscriber,
                      lossless ones (seqcast-gated, bus, disruptor) make the publisher wait
                      opt-in rows, only when named: seqcast-line, seqcast-packed (seqcast
                      with SlotLayout::Line / ::Packed), seqcast-batch-send (send_batch in
                      chunks of 32; throughput only), layout-* (compare/benches/compare/
                      layout.rs)
  --subs LIST         subscriber counts, e.g. 1,2,4,8,14 (default: those of 1,2,4,8,14
                      that get a core each, at least 1)
  --share             also run subscriber counts that must share cores (labelled 'shared')
  --payloads LIST     latency payload sizes in bytes, of 8,16,56,64,256 (default: 8,64,256;
                      56 B is the largest payload that shares one line with seqcast's stamp)
  --tp-payloads LIST  throughput payload sizes in bytes, of 8,16,56,64,256 (default: all
                      five: small messages are where per-message costs show)
  --rounds N          rounds; each round runs every library once, interleaved (default: 7)
  --rec-sizes LIST    record sizes in bytes for the records run, each at least 8 (the
                      stamp) (default: 32,256,4096)
  --rec-libs LIST     records run rows: seqcast-record,tokio-bytes,tokio-string,
                      async-broadcast,seqcast-typed (32 B latency only),seqcast-serde,
                      seqcast-serde-gated,tokio-struct (default: these eight); opt-in:
                      seqcast-record-gated
  --rec-rounds N      rounds of the records run (default: --rounds); it takes --messages,
                      --interval-ns (slowed to at most 500 MB/s of records), --tp-messages,
                      --tp-seconds and --capacity (messages per channel) from below
  --messages N        messages per latency run (default: 150000)
  --interval-ns N     latency send interval in ns (default: 2000, i.e. 500k msgs/s)
  --tp-messages N     messages per throughput run (default: 2000000)
  --tp-seconds S      cap on one throughput run's publishing time (default: 0.4)
  --capacity N        ring / channel capacity, for every library (default: 1024)
  --clock tscp|tsc|instant
                      clock for stamps (default on x86_64: tscp, i.e. rdtscp, which reads
                      the counter only after every earlier load has completed, so a
                      receive time cannot be taken before the payload has arrived; tsc:
                      plain rdtsc, which may be read ahead of the payload loads)
  --out DIR           where table.txt, results.json and *.svg go, relative to the repository
                      root (default: target/seqcast-bench)
  --smoke             a seconds-long check that everything runs (what `cargo test` runs)
";

/// Payload sizes the runners have a message type for.
pub const PAYLOADS: [usize; 5] = [8, 16, 56, 64, 256];

fn payloads(s: &str, what: &str) -> Vec<usize> {
    let sizes = list(s, what);
    if let Some(bad) = sizes.iter().find(|p| !PAYLOADS.contains(p)) {
        panic!("{what}: no message type of {bad} bytes; pick from {PAYLOADS:?}");
    }
    sizes
}

fn list<T: std::str::FromStr>(s: &str, what: &str) -> Vec<T> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.trim()
                .parse()
                .unwrap_or_else(|_| panic!("bad {what}: {x:?}"))
        })
        .collect()
}

pub fn parse() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let libs_given = args.iter().any(|a| a == "--libs");
    let mut rec_libs_given = false;
    let mut rec_rounds = None;
    let mut o = Opts {
        limit: true,
        latency: true,
        throughput: true,
        records: true,
        libs: Lib::PEERS.to_vec(),
        subs: None,
        payloads: vec![8, 64, 256],
        tp_payloads: PAYLOADS.to_vec(),
        rec_sizes: vec![32, 256, 4096],
        rec_libs: RecLib::DEFAULT.to_vec(),
        rounds: 7,
        rec_rounds: 0,
        messages: 150_000,
        tp_messages: 2_000_000,
        tp_seconds: 0.4,
        interval_ns: 2000.0,
        capacity: 1024,
        out: "target/seqcast-bench".into(),
        tsc: true,
        tscp: true,
        share: false,
        smoke: !bench,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--bench" => {}
            "--help" | "-h" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--runs" => {
                let v = val();
                o.limit = v.contains("limit");
                o.latency = v.contains("latency");
                o.throughput = v.contains("throughput");
                o.records = v.contains("records");
            }
            "--libs" => {
                o.libs = val()
                    .split(',')
                    .map(|s| Lib::parse(s.trim()).unwrap_or_else(|| panic!("unknown lib {s:?}")))
                    .collect()
            }
            "--subs" => o.subs = Some(list(&val(), "--subs")),
            "--share" => o.share = true,
            "--payloads" => o.payloads = payloads(&val(), "--payloads"),
            "--tp-payloads" => o.tp_payloads = payloads(&val(), "--tp-payloads"),
            "--rounds" => o.rounds = val().parse().expect("--rounds N"),
            "--rec-sizes" => {
                o.rec_sizes = list(&val(), "--rec-sizes");
                if let Some(bad) = o.rec_sizes.iter().find(|&&s| s < 8) {
                    panic!("--rec-sizes: {bad} B cannot hold the 8-byte stamp");
                }
            }
            "--rec-libs" => {
                o.rec_libs = val()
                    .split(',')
                    .map(|s| {
                        RecLib::parse(s.trim())
                            .unwrap_or_else(|| panic!("unknown --rec-libs row {s:?}"))
                    })
                    .collect();
                rec_libs_given = true;
            }
            "--rec-rounds" => rec_rounds = Some(val().parse().expect("--rec-rounds N")),
            "--messages" => o.messages = val().parse().expect("--messages N"),
            "--tp-messages" => o.tp_messages = val().parse().expect("--tp-messages N"),
            "--tp-seconds" => o.tp_seconds = val().parse().expect("--tp-seconds S"),
            "--interval-ns" => o.interval_ns = val().parse().expect("--interval-ns N"),
            "--capacity" => o.capacity = val().parse().expect("--capacity N"),
            "--clock" => {
                let v = val();
                o.tsc = v != "instant";
                o.tscp = v == "tscp";
            }
            "--out" => o.out = val(),
            "--smoke" => o.smoke = true,
            // Flags cargo may pass to any bench binary.
            "--nocapture" | "--quiet" | "-q" | "--test" => {}
            other => panic!("unknown option {other:?}\n{HELP}"),
        }
    }
    if o.smoke {
        // Every library, the opt-in rows and layout experiments included (so they cannot rot).
        if !libs_given {
            o.libs.extend(Lib::OPT_IN);
            o.libs.extend(Lib::LAYOUTS);
        }
        if !rec_libs_given {
            o.rec_libs.extend(RecLib::OPT_IN);
        }
        o.rounds = 1;
        rec_rounds = Some(1);
        o.messages = o.messages.min(2_000);
        o.tp_messages = o.tp_messages.min(20_000);
        o.tp_seconds = o.tp_seconds.min(0.05);
        o.payloads = vec![64];
        o.subs = Some(vec![1]);
    }
    o.rec_rounds = rec_rounds.unwrap_or(o.rounds);
    o
}
