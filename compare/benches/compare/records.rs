//! `--runs records`: record topics against their peers, 1 publisher -> 1 subscriber on one
//! core pair, through the same latency and throughput runners as the other tables.
//!
//! * byte records of each `--rec-sizes` size: one-way latency (paced, stamped in the record's
//!   first 8 bytes) and useful throughput (the subscriber's delivered records/s, loss
//!   reported), seqcast's record topic beside tokio's broadcast carrying `Bytes` and
//!   `String`, and async-broadcast carrying `Bytes`;
//! * at 32 B, seqcast's typed ring with a 32-byte `Copy` payload beside the record ring;
//! * typed serde messages (`OrderCreated`, three items): the publisher encodes and sends as
//!   fast as it can, the subscriber receives and decodes; beside tokio's broadcast carrying
//!   the struct as a `Clone` value.
//!
//! Every job runs once per round; the order rotates each round, as in the other runs.

use super::cli::Opts;
use super::clock::Clock;
use super::libs::{with_lib, Lib, Msg};
use super::pin;
use super::reclibs::{order_bytes, with_orders, with_records, RecLib};
use super::run;
use super::stats::{median, LatSeries, TpSeries, CURVE};
use core_affinity::CoreId;
use serde_json::{json, Value};
use std::fmt::Write;
use std::time::Instant;

/// Size of the typed ring's reference payload (`Msg<4>`).
const TYPED_BYTES: usize = 32;

/// Latency runs send at most one byte of record per this many ns (500 MB/s): a 4096 B
/// record every 8.2 us. At `--interval-ns` (500k records/s by default) a 4 KiB record would
/// keep some rows' publisher or subscriber busy all the time, and the run would time a
/// backlog, not a delivery.
const PACE_NS_PER_BYTE: f64 = 2.0;

/// A latency run's send interval (ns) and record count for `size`: `--interval-ns`, or longer
/// for large records; the run lasts as long as one at `--interval-ns` with `--messages`.
pub fn pace(o: &Opts, size: usize) -> (f64, u64) {
    let interval = o.interval_ns.max(size as f64 * PACE_NS_PER_BYTE);
    let msgs = (o.messages as f64 * o.interval_ns / interval)
        .round()
        .max(1.0) as u64;
    (interval, msgs)
}

pub struct Results {
    /// Latency per row and record size (`payload` is the record's size in bytes).
    pub lat: Vec<LatSeries<RecLib>>,
    /// Throughput per byte-record row and size.
    pub tp: Vec<TpSeries<RecLib>>,
    /// Throughput of the serde rows (`payload`: the order's postcard size).
    pub serde: Vec<TpSeries<RecLib>>,
    pub order_bytes: usize,
    /// Seconds each round took.
    pub round_secs: Vec<f64>,
}

#[derive(Clone, Copy)]
enum Job {
    Latency(RecLib, usize),
    Throughput(RecLib, usize),
    Serde(RecLib),
}

/// Every message accounted for (received or reported lost), and none lost by a lossless row.
fn check(lib: RecLib, sent: u64, received: &[u64], lost: &[u64]) {
    for (got, lost) in received.iter().zip(lost) {
        assert_eq!(got + lost, sent, "{}: messages unaccounted for", lib.name());
        if !lib.lossy() {
            assert_eq!(*lost, 0, "{}: a lossless row lost messages", lib.name());
        }
    }
}

fn series<S, F: Fn(&S) -> bool>(v: &mut Vec<S>, hit: F, new: impl FnOnce() -> S) -> &mut S {
    match v.iter().position(hit) {
        Some(i) => &mut v[i],
        None => {
            v.push(new());
            v.last_mut().expect("just pushed")
        }
    }
}

pub fn run(o: &Opts, clk: &Clock, cores: &[CoreId]) -> Results {
    let mut jobs = Vec::new();
    for &size in &o.rec_sizes {
        for &lib in RecLib::BYTES.iter().filter(|l| o.rec_libs.contains(l)) {
            jobs.push(Job::Latency(lib, size));
            jobs.push(Job::Throughput(lib, size));
        }
        if size == TYPED_BYTES && o.rec_libs.contains(&RecLib::SeqcastTyped) {
            jobs.push(Job::Latency(RecLib::SeqcastTyped, size));
        }
    }
    for &lib in RecLib::SERDE.iter().filter(|l| o.rec_libs.contains(l)) {
        jobs.push(Job::Serde(lib));
    }
    let order = order_bytes();
    let mut r = Results {
        lat: Vec::new(),
        tp: Vec::new(),
        serde: Vec::new(),
        order_bytes: order,
        round_secs: Vec::new(),
    };
    let place = pin::place(cores, 1);
    let lead_ticks = clk.ticks_for_ns(200_000.0);
    let tp_run = || run::Throughput {
        msgs: o.tp_messages,
        max_ticks: clk.ticks_for_ns(o.tp_seconds * 1e9),
        place: &place,
    };
    for round in 0..o.rec_rounds {
        let t = Instant::now();
        let k = round * jobs.len() / o.rec_rounds.max(1);
        for &job in jobs[k..].iter().chain(&jobs[..k]) {
            match job {
                Job::Latency(lib, size) => {
                    let (interval_ns, msgs) = pace(o, size);
                    let lr = run::Latency {
                        msgs,
                        interval_ticks: clk.ticks_for_ns(interval_ns),
                        warmup: (msgs / 100).min(1000),
                        lead_ticks,
                        place: &place,
                    };
                    let out = if lib == RecLib::SeqcastTyped {
                        with_lib::<Msg<4>, _>(Lib::Seqcast, o.capacity, 1, lr)
                    } else {
                        with_records(lib, size, o.capacity, lr)
                    };
                    if o.smoke {
                        check(lib, msgs, &out.received, &out.lagged);
                    }
                    series(
                        &mut r.lat,
                        |s| s.lib == lib && s.payload == size,
                        || LatSeries::new(lib, size, 1, place.shared),
                    )
                    .push_run(clk, &out);
                }
                Job::Throughput(lib, size) => {
                    let out = with_records(lib, size, o.capacity, tp_run());
                    if o.smoke {
                        check(lib, out.sent, &out.received, &out.lagged);
                    }
                    series(
                        &mut r.tp,
                        |s| s.lib == lib && s.payload == size,
                        || TpSeries::new(lib, size, 1, place.shared),
                    )
                    .push_run(clk, &out);
                }
                Job::Serde(lib) => {
                    let out = with_orders(lib, o.capacity, tp_run());
                    if o.smoke {
                        check(lib, out.sent, &out.received, &out.lagged);
                    }
                    series(
                        &mut r.serde,
                        |s| s.lib == lib,
                        || TpSeries::new(lib, order, 1, place.shared),
                    )
                    .push_run(clk, &out);
                }
            }
        }
        r.round_secs.push(t.elapsed().as_secs_f64());
        eprintln!(
            "records round {}/{} done in {:.1}s",
            round + 1,
            o.rec_rounds,
            t.elapsed().as_secs_f64()
        );
    }
    r
}

// ---- report ----------------------------------------------------------------------------------

pub const NOTES: &[&str] = &[
    "records: 1 publisher -> 1 subscriber, each pinned to its own core (one core pair). Latency \
     runs send a record every --interval-ns, or every 2 ns per byte where that is longer (at \
     most 500 MB/s, so that no row is kept busy all the time: a 4096 B record every 8192 ns), \
     each run as long as the latency table's. Every row sends the same bytes: an 8-byte stamp (7 bits a byte, so the record is ASCII and a \
     String can hold it) and a fill of letters; every receiver sums all the bytes of each \
     record (black_box) before the next poll, and debug builds check each record's length and \
     fill. Each channel holds --capacity messages: seqcast's record ring gets room for that \
     many records of the size (64-byte chunks: 40 bytes of record in the first, 48 in each \
     further one, so 4096 B takes 86 chunks).",
    "seqcast-record: seqcast::record::channel, RecordPublisher::send(&[u8]) from one reused \
     buffer, RecordSubscriber::try_recv_into spin into one reused Vec; lossy (Lagged(n) counts \
     records). seqcast-record-gated (opt-in, --rec-libs): the subscriber is gated \
     (subscribe_gated), lossless: the publisher waits for it.",
    "tokio-bytes: tokio::sync::broadcast<bytes::Bytes>, Bytes::copy_from_slice per send (one \
     allocation and copy), try_recv spin; a receive clones the Bytes (a reference count) and \
     then reads its bytes; lossy. tokio-string: the same carrying String (one allocation and \
     copy per send, and tokio's clone on receive is another). async-broadcast: \
     async_broadcast<Bytes> in overflow mode (set_overflow(true): a full channel drops its \
     oldest message, so it is lossy like tokio's), try_broadcast and try_recv spin, a \
     Bytes::copy_from_slice per send; with one receiver a receive moves the message out.",
    "seqcast-typed: seqcast's typed ring (Publisher<Msg<4>>, a 32-byte Copy payload, the same \
     row as 'seqcast' in the latency table), the reference for the record ring at 32 B.",
    "serde: an OrderCreated { order_id: String, items: Vec<Item> (3 items: sku String, \
     quantity u32, unit_price f64), total: f64 }; each message is a fresh value (a clone of \
     one order, the stand-in for a producer building its event, total set to the message \
     index). seqcast-serde: seqcast::record::typed::<OrderCreated, Postcard>, \
     TypedPublisher::send(&order) encodes into a reused buffer and sends one record, \
     TypedSubscriber::try_recv spin receives and decodes; lossy. seqcast-serde-gated: the \
     same with a gated subscriber, lossless: its rate is the whole encode-send-receive-decode \
     pipeline's. tokio-struct: tokio::sync::broadcast<OrderCreated>, send moves the value in, \
     try_recv clones it out (3 Strings and a Vec: 5 allocations); lossy. Every receiver reads \
     every field (string bytes summed) and drops the value.",
];

/// A row's name, marked where its threads had to share cores.
fn label(lib: RecLib, shared: bool) -> String {
    if shared {
        format!("{} (shared)", lib.name())
    } else {
        lib.name().to_string()
    }
}

fn mode(lib: RecLib) -> &'static str {
    if lib.lossy() {
        "lossy"
    } else {
        "lossless"
    }
}

fn ns(v: f64) -> String {
    if v >= 100_000.0 {
        format!("{:.0}us", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn ratio(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v < 100.0 {
        format!("{v:.2}x")
    } else {
        format!("{v:.0}x")
    }
}

fn lost_pct(s: &TpSeries<RecLib>) -> String {
    format!("{:.1}%", s.loss_frac() * 100.0)
}

fn lat_lost(s: &LatSeries<RecLib>) -> f64 {
    median(&s.lagged.iter().map(|&v| v as f64).collect::<Vec<_>>())
}

fn per_round(s: &TpSeries<RecLib>) -> String {
    s.slowest_per_round()
        .iter()
        .map(|v| format!("{:.2}", v / 1e6))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which rows of `libs` are lossy and which lossless, in one line.
fn legend(libs: impl Iterator<Item = RecLib>) -> String {
    let mut lossy = Vec::new();
    let mut lossless = Vec::new();
    for l in libs {
        let v = if l.lossy() { &mut lossy } else { &mut lossless };
        if !v.contains(&l.name()) {
            v.push(l.name());
        }
    }
    let names = |v: Vec<&str>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "lossy (a slow subscriber loses messages, counted in 'lost'): {}; lossless (the \
         publisher waits for the subscriber): {}",
        names(lossy),
        names(lossless)
    )
}

fn lossy_against(a: RecLib, b: RecLib) -> String {
    format!("{} against {}", mode(a), mode(b))
}

pub fn table(o: &Opts, r: &Results) -> String {
    let mut t = String::new();
    let mut sizes: Vec<usize> = r.lat.iter().map(|s| s.payload).collect();
    sizes.extend(r.tp.iter().map(|s| s.payload));
    sizes.sort_unstable();
    sizes.dedup();
    let _ = writeln!(
        t,
        "\n== records: 1 publisher -> 1 subscriber on one core pair, records of {} B; {} \
         round(s), medians over rounds; each channel holds {} messages ==",
        sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        r.round_secs.len(),
        o.capacity
    );
    if !r.lat.is_empty() {
        let paces: Vec<String> = sizes
            .iter()
            .map(|&size| {
                let (i, n) = pace(o, size);
                format!("{size} B: every {i:.0} ns, {n} per run")
            })
            .collect();
        let _ = writeln!(
            t,
            "-- one-way latency (ns), records sent at a fixed pace of at most {:.0} MB/s ({}) --",
            1e3 / PACE_NS_PER_BYTE,
            paces.join("; ")
        );
        let _ = writeln!(t, "{}", legend(r.lat.iter().map(|s| s.lib)));
        let _ = writeln!(
            t,
            "{:<22}{:>9}{:>7}{:>9}{:>9}{:>9}{:>10}{:>10}{:>10}{:>8}{:>9}{:>17}   p50 per round",
            "library",
            "mode",
            "size",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "p99.99",
            "max",
            "lost",
            "preempt",
            "p50/tokio-bytes"
        );
        for &size in &sizes {
            let base = r
                .lat
                .iter()
                .find(|s| s.lib == RecLib::TokioBytes && s.payload == size);
            for s in r.lat.iter().filter(|s| s.payload == size) {
                let _ = writeln!(
                    t,
                    "{:<22}{:>9}{:>7}{:>9}{:>9}{:>9}{:>10}{:>10}{:>10}{:>8.0}{:>9}{:>17}   {}",
                    label(s.lib, s.shared),
                    mode(s.lib),
                    format!("{size} B"),
                    ns(s.pct(50.0)),
                    ns(s.pct(90.0)),
                    ns(s.pct(99.0)),
                    ns(s.pct(99.9)),
                    ns(s.pct(99.99)),
                    ns(s.median_max()),
                    lat_lost(s),
                    s.preempted.iter().sum::<u64>(),
                    base.map_or("-".into(), |b| ratio(s.pct(50.0) / b.pct(50.0))),
                    s.per_round(50.0)
                        .iter()
                        .map(|v| ns(*v))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
        }
        let find = |lib: RecLib, size: usize| {
            r.lat
                .iter()
                .find(move |s| s.lib == lib && s.payload == size)
        };
        if let (Some(rec), Some(typed)) = (
            find(RecLib::SeqcastRecord, TYPED_BYTES),
            find(RecLib::SeqcastTyped, TYPED_BYTES),
        ) {
            let _ = writeln!(
                t,
                "p50 seqcast-record 32 B / seqcast typed 32 B: {} ({:.0} ns / {:.0} ns)",
                ratio(rec.pct(50.0) / typed.pct(50.0)),
                rec.pct(50.0),
                typed.pct(50.0)
            );
        }
    }
    if !r.tp.is_empty() {
        let _ = writeln!(
            t,
            "-- throughput: the publisher sends records as fast as it can (up to {} or {} s per \
             run) --",
            o.tp_messages, o.tp_seconds
        );
        let _ = writeln!(t, "{}", legend(r.tp.iter().map(|s| s.lib)));
        let _ = writeln!(
            t,
            "{:<22}{:>9}{:>7}{:>13}{:>12}{:>12}{:>8}{:>9}   useful per round, M/s",
            "library",
            "mode",
            "size",
            "publish M/s",
            "useful M/s",
            "useful MB/s",
            "lost",
            "preempt"
        );
        for &size in &sizes {
            for s in r.tp.iter().filter(|s| s.payload == size) {
                let _ = writeln!(
                    t,
                    "{:<22}{:>9}{:>7}{:>13.2}{:>12.2}{:>12.0}{:>8}{:>9}   {}",
                    label(s.lib, s.shared),
                    mode(s.lib),
                    format!("{size} B"),
                    s.publisher_rate() / 1e6,
                    s.useful() / 1e6,
                    s.useful() * size as f64 / 1e6,
                    lost_pct(s),
                    s.preempted.iter().sum::<u64>(),
                    per_round(s)
                );
            }
        }
        for &size in &sizes {
            let at = |lib: RecLib| r.tp.iter().find(|s| s.lib == lib && s.payload == size);
            for rec in [RecLib::SeqcastRecord, RecLib::SeqcastRecordGated]
                .into_iter()
                .filter_map(at)
            {
                // The line the comparison is about (against tokio-bytes) first, then the
                // other peers on the same line.
                let mut line = String::new();
                for peer in [
                    RecLib::TokioBytes,
                    RecLib::TokioString,
                    RecLib::AsyncBroadcast,
                ]
                .into_iter()
                .filter_map(at)
                {
                    let figure = format!(
                        "{} ({})",
                        ratio(rec.useful() / peer.useful()),
                        lossy_against(rec.lib, peer.lib)
                    );
                    if line.is_empty() {
                        let _ = write!(
                            line,
                            "{} useful throughput / {}'s, {size} B: {figure}",
                            rec.lib.name(),
                            peer.lib.name()
                        );
                    } else {
                        let _ = write!(line, "; / {}'s: {figure}", peer.lib.name());
                    }
                }
                if !line.is_empty() {
                    let _ = writeln!(t, "{line}");
                }
            }
        }
    }
    if !r.serde.is_empty() {
        let _ = writeln!(
            t,
            "-- typed serde messages: OrderCreated with 3 items ({} B in postcard); the \
             publisher builds, encodes and sends as fast as it can (up to {} or {} s per run), \
             the subscriber receives and decodes --",
            r.order_bytes, o.tp_messages, o.tp_seconds
        );
        let _ = writeln!(t, "{}", legend(r.serde.iter().map(|s| s.lib)));
        let _ = writeln!(
            t,
            "{:<22}{:>9}{:>13}{:>14}{:>8}{:>9}   decoded per round, M/s",
            "library", "mode", "publish M/s", "decoded M/s", "lost", "preempt"
        );
        for s in &r.serde {
            let _ = writeln!(
                t,
                "{:<22}{:>9}{:>13.2}{:>14.2}{:>8}{:>9}   {}",
                label(s.lib, s.shared),
                mode(s.lib),
                s.publisher_rate() / 1e6,
                s.useful() / 1e6,
                lost_pct(s),
                s.preempted.iter().sum::<u64>(),
                per_round(s)
            );
        }
        if let Some(tk) = r.serde.iter().find(|s| s.lib == RecLib::TokioStruct) {
            for s in r.serde.iter().filter(|s| s.lib != RecLib::TokioStruct) {
                let _ = writeln!(
                    t,
                    "{} decoded msgs/s / tokio-struct's received: {} ({})",
                    s.lib.name(),
                    ratio(s.useful() / tk.useful()),
                    lossy_against(s.lib, tk.lib)
                );
            }
        }
    }
    let _ = writeln!(
        t,
        "records run: {:.1} s ({} round(s): {})",
        r.round_secs.iter().sum::<f64>(),
        r.round_secs.len(),
        r.round_secs
            .iter()
            .map(|s| format!("{s:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    t
}

fn lat_json(o: &Opts, s: &LatSeries<RecLib>) -> Value {
    let (interval_ns, msgs) = pace(o, s.payload);
    json!({
        "library": s.lib.name(),
        "record_bytes": s.payload,
        "interval_ns": interval_ns,
        "messages": msgs,
        "subscribers": s.subs,
        "shared_cores": s.shared,
        "lossy": s.lib.lossy(),
        "percentiles": CURVE,
        "median_ns": CURVE.iter().map(|&p| s.pct(p)).collect::<Vec<_>>(),
        "per_round_ns": s.curve,
        "max_ns_per_round": s.max,
        "samples_per_round": s.samples,
        "received_per_round": s.received,
        "lost_per_round": s.lagged,
        "negative_per_round": s.negative,
        "preempted_per_round": s.preempted,
    })
}

fn tp_json(s: &TpSeries<RecLib>, size_key: &str) -> Value {
    json!({
        "library": s.lib.name(),
        size_key: s.payload,
        "subscribers": s.subs,
        "shared_cores": s.shared,
        "lossy": s.lib.lossy(),
        "publisher_msgs_per_s": s.publisher_rate(),
        "useful_msgs_per_s": s.useful(),
        "useful_bytes_per_s": s.useful() * s.payload as f64,
        "loss_fraction": s.loss_frac(),
        "per_round": {
            "sent": s.sent,
            "publisher_msgs_per_s": s.publisher,
            "delivered_msgs_per_s": s.delivered,
            "lost": s.lagged,
            "preempted": s.preempted,
        },
    })
}

pub fn json(o: &Opts, r: &Results) -> Value {
    json!({
        "options": {
            "rounds": r.round_secs.len(), "record_sizes": o.rec_sizes,
            "libraries": o.rec_libs.iter().map(|l| l.name()).collect::<Vec<_>>(),
            "latency_max_bytes_per_s": 1e9 / PACE_NS_PER_BYTE,
            "tp_messages": o.tp_messages, "tp_seconds": o.tp_seconds,
            "capacity_messages": o.capacity,
        },
        "latency": r.lat.iter().map(|s| lat_json(o, s)).collect::<Vec<_>>(),
        "throughput": r.tp.iter().map(|s| tp_json(s, "record_bytes")).collect::<Vec<_>>(),
        "serde": {
            "message": "OrderCreated { order_id: String, items: Vec<Item> (3), total: f64 }",
            "postcard_bytes": r.order_bytes,
            "rows": r.serde.iter().map(|s| tp_json(s, "postcard_bytes")).collect::<Vec<_>>(),
        },
        "round_seconds": r.round_secs,
        "notes": NOTES,
    })
}
