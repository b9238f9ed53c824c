//! The text table and the JSON file: both built from the run's own figures.

use super::cli::Opts;
use super::clock::Clock;
use super::libs::Lib;
use super::records;
use super::stats::{median, LatSeries, TpSeries, CURVE, TABLE};
use serde_json::{json, Value};
use std::fmt::Write;

pub struct Context<'a> {
    pub opts: &'a Opts,
    pub clock: &'a Clock,
    pub cores: usize,
    pub subs: &'a [usize],
    pub warnings: &'a [String],
    /// Ping-pong half round trip p50 per round, ns.
    pub ping: &'a [f64],
    pub run_secs: f64,
    /// `/proc/loadavg` before and after the run.
    pub load: (String, String),
    /// The records run's results, if it ran.
    pub records: Option<&'a records::Results>,
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{model}, {cpus} CPUs, {} {}",
        std::env::consts::OS,
        kernel.trim()
    )
}

const NOTES: &[&str] = &[
    "lossy rows (seqcast, seqcast-newest, tokio-broadcast, crossbeam-channel, and the opt-in \
     seqcast-line, seqcast-packed, seqcast-batch-send and layout-* rows): the publisher never \
     waits, a subscriber that falls a ring behind loses messages, reported in 'lost' and not \
     counted as useful. lossless rows (seqcast-gated, bus, disruptor): the publisher waits for \
     the slowest subscriber, nothing is lost, and throughput is the slowest subscriber's pace.",
    "limit: the publisher's whole send is one store of its stamp into one 128-byte-aligned line; \
     the subscriber spins on that line (8-byte stamp only, whatever the payload). Same pacing, \
     clock and recording code as the libraries. A shorter limit run (a quarter of the messages) \
     precedes every library run on the same cores; ratios are the median over rounds of \
     library/paired-limit, and the limit row pools all paired runs. The line holds only the \
     newest stamp, so a stalled subscriber finds no backlog there: the limit's tail hides stalls \
     that queue messages behind a library's reader (compare p50/p90 against it, not the tails).",
    "ping-pong: half of a round trip between the same two cores; printed for reference only \
     (it carries half a clock read where one-way samples carry a whole one).",
    "Every receiver copies the whole payload out (black_box) before the next poll; receivers \
     busy-poll without a pause instruction; the publisher spins until each message's intended \
     send time and stamps it with that time (no coordinated omission). With rdtscp (the \
     default clock) a receive time is read only after the payload loads have completed.",
    "seqcast: Publisher::send, one message at a time; Subscriber::try_recv_batch spin, each \
     poll taking every message that is ready (up to a ring's worth), as the disruptor's \
     pollers take whole batches; lossy: a lapped reader gets Lagged(n) and continues from the \
     oldest message still held (LagPolicy::Skip, the default).",
    "seqcast-newest: seqcast with LagPolicy::SkipToNewest (a lapped reader continues from the \
     newest message); throughput runs only, since a paced latency run never laps a reader.",
    "seqcast-gated: every subscriber is gated (Publisher::subscribe_gated, default GateConfig; \
     the lossy subscriber that channel() returns is dropped before the run): lossless, send \
     waits while the slowest subscriber is a full ring behind, like bus and the disruptor, and \
     each receive publishes the subscriber's position. Its ratio to the disruptor is the \
     like-for-like one; the lossy seqcast rows' ratios compare a publisher that never waits \
     with one that does.",
    "seqcast-line, seqcast-packed: only when named in --libs: seqcast built with \
     try_channel_with(capacity, SlotLayout::Line) (one message per 64-byte line or more) or \
     SlotLayout::Packed (payloads up to 24 B two or four to a line; larger ones as Line), \
     beside seqcast's SlotLayout::Auto, to measure which layout Auto should pick at each size \
     (where Auto already picks the same layout, the row repeats seqcast's).",
    "seqcast-batch-send: only when named in --libs: seqcast whose publisher collects 32 \
     messages and sends them with one Publisher::send_batch; throughput runs only (a paced \
     message would wait for its chunk). Every other row publishes one message at a time.",
    "tokio-broadcast: tokio::sync::broadcast without a runtime (Receiver::try_recv spin); lossy \
     (Lagged(n)); send takes the channel's tail mutex.",
    "crossbeam-channel: one bounded(capacity) channel per subscriber, the publisher try_sends \
     the message to each; a full channel drops it (counted as lost), so the publisher never \
     blocks but its cost grows with the number of subscribers.",
    "bus: Bus::try_broadcast retried in a spin loop (the bus blocks its writer when the slowest \
     reader is a capacity behind: no loss, throughput gated by the slowest reader); readers \
     spin on BusReader::try_recv.",
    "disruptor: single producer, one EventPoller per subscriber busy-polled (single-consumer \
     barrier for 1 subscriber, multi-consumer for more); publish spins when the ring is full \
     (gated by the slowest poller: no loss). Pollers take whole batches, the library's natural \
     mode; events are copied out of the ring like every other library's.",
    "layout-*: only when named in --libs: safe-code seqlock rings that differ from seqcast in \
     stamp placement and store order (compare/benches/compare/layout.rs), to test layout ideas \
     side by side; layout-cursor is not a seqlock (no overwrite detection), a timing reference \
     only.",
];

fn ns(v: f64) -> String {
    if v >= 100_000.0 {
        format!("{:.0}us", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn ratio(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.2}x")
    } else {
        format!("{v:.0}x")
    }
}

fn mode(lib: Lib) -> &'static str {
    if lib.lossy() {
        "lossy"
    } else {
        "lossless"
    }
}

/// One line naming which of `libs` lose messages and which make the publisher wait.
fn legend(libs: impl Iterator<Item = Lib>) -> String {
    let mut seen: Vec<(&str, bool)> = Vec::new();
    for l in libs.filter(|&l| l != Lib::Limit) {
        // The layout experiments are all lossy seqlock rings: one name for the lot.
        let name = match l {
            Lib::Layout(_) => "layout-*",
            _ => l.name(),
        };
        if !seen.iter().any(|&(n, _)| n == name) {
            seen.push((name, l.lossy()));
        }
    }
    let names = |lossy: bool| {
        let v: Vec<&str> = seen
            .iter()
            .filter(|&&(_, l)| l == lossy)
            .map(|&(n, _)| n)
            .collect();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "lossy (a slow subscriber loses messages, counted in 'lost'): {}; lossless (the \
         publisher waits for the slowest subscriber): {}",
        names(true),
        names(false)
    )
}

fn label(s_lib: Lib, shared: bool) -> String {
    if shared {
        format!("{} (shared)", s_lib.name())
    } else {
        s_lib.name().to_string()
    }
}

pub fn table(c: &Context, lat: &[LatSeries], tp: &[TpSeries]) -> String {
    let o = c.opts;
    let mut t = String::new();
    let _ = writeln!(t, "seqcast compare: {}", machine());
    let _ = writeln!(
        t,
        "clock: {} ({:.3} ns/tick, one read costs {:.1} ns); {} cores detected, publisher and \
         each subscriber pinned to its own core unless marked 'shared'",
        c.clock.name, c.clock.ns_per_tick, c.clock.read_cost_ns, c.cores
    );
    let _ = writeln!(
        t,
        "rounds: {} (every library once per round, interleaved); figures are medians over \
         rounds; capacity {} for every library",
        o.rounds, o.capacity
    );
    let _ = writeln!(
        t,
        "load average (1/5/15 min) before: {}, after: {}; 'preempt' columns count involuntary \
         context switches of the pinned threads (0 = nobody took their cores)",
        c.load.0, c.load.1
    );
    for w in c.warnings {
        let _ = writeln!(t, "warning: {w}");
    }
    if !c.ping.is_empty() {
        let _ = writeln!(
            t,
            "\nping-pong half round trip p50 (reference, not a ratio base): {} ns   per round: {}",
            ns(median(c.ping)),
            c.ping.iter().map(|v| ns(*v)).collect::<Vec<_>>().join(" ")
        );
    }
    let mut subs_lat: Vec<usize> = lat.iter().map(|s| s.subs).collect();
    subs_lat.dedup();
    subs_lat.sort_unstable();
    subs_lat.dedup();
    for &n in &subs_lat {
        let _ = writeln!(
            t,
            "\n== one-way latency (ns), 1 publisher -> {n} subscriber(s), a message every {} ns, \
             {} messages per run ==",
            o.interval_ns, o.messages
        );
        let _ = writeln!(
            t,
            "{}",
            legend(lat.iter().filter(|s| s.subs == n).map(|s| s.lib))
        );
        let _ = writeln!(
            t,
            "{:<26}{:>8}{:>8}{:>8}{:>8}{:>9}{:>9}{:>9}{:>10}{:>10}{:>8}{:>9}",
            "library",
            "payload",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "p99.99",
            "max",
            "p50/limit",
            "p99/limit",
            "lost",
            "preempt"
        );
        for s in lat.iter().filter(|s| s.subs == n) {
            let ratio = |p: f64| {
                if s.lib == Lib::Limit {
                    "base".to_string()
                } else if s.limit_curve.is_empty() {
                    "-".to_string()
                } else {
                    ratio(s.ratio(p))
                }
            };
            let _ = writeln!(
                t,
                "{:<26}{:>8}{:>8}{:>8}{:>8}{:>9}{:>9}{:>9}{:>10}{:>10}{:>8}{:>9}",
                label(s.lib, s.shared),
                format!("{} B", s.payload),
                ns(s.pct(50.0)),
                ns(s.pct(90.0)),
                ns(s.pct(99.0)),
                ns(s.pct(99.9)),
                ns(s.pct(99.99)),
                ns(s.median_max()),
                ratio(50.0),
                ratio(99.0),
                median(&s.lagged.iter().map(|&v| v as f64).collect::<Vec<_>>()),
                s.preempted.iter().sum::<u64>(),
            );
        }
        let _ = writeln!(
            t,
            "per-round p50 (ns) as library/paired-limit, in round order:"
        );
        for s in lat.iter().filter(|s| s.subs == n && s.lib != Lib::Limit) {
            let lim = s.limit_curve.iter().map(|c| c[0]);
            let _ = writeln!(
                t,
                "  {:<24}{:>6}  {}",
                label(s.lib, s.shared),
                format!("{} B", s.payload),
                s.per_round(50.0)
                    .iter()
                    .zip(lim.map(Some).chain(std::iter::repeat(None)))
                    .map(|(v, l)| match l {
                        Some(l) => format!("{:>14}", format!("{}/{}", ns(*v), ns(l))),
                        None => format!("{:>8}", ns(*v)),
                    })
                    .collect::<String>()
            );
        }
    }
    let mut payloads: Vec<usize> = tp.iter().map(|s| s.payload).collect();
    payloads.sort_unstable();
    payloads.dedup();
    for &p in &payloads {
        let _ = writeln!(
            t,
            "\n== throughput, {p}-byte payload: publisher as fast as it can (up to {} messages \
             or {} s per run) ==",
            o.tp_messages, o.tp_seconds
        );
        let _ = writeln!(
            t,
            "{}",
            legend(tp.iter().filter(|s| s.payload == p).map(|s| s.lib))
        );
        let _ = writeln!(
            t,
            "{:<26}{:>9}{:>5}{:>13}{:>13}{:>14}{:>9}{:>9}   useful (slowest subscriber) per \
             round, M/s",
            "library",
            "mode",
            "subs",
            "publish M/s",
            "useful M/s",
            "mean sub M/s",
            "lost",
            "preempt",
        );
        for s in tp.iter().filter(|s| s.payload == p) {
            let _ = writeln!(
                t,
                "{:<26}{:>9}{:>5}{:>13.2}{:>13.2}{:>14.2}{:>8.1}%{:>9}   {}",
                label(s.lib, s.shared),
                mode(s.lib),
                s.subs,
                s.publisher_rate() / 1e6,
                s.useful() / 1e6,
                s.mean_delivered() / 1e6,
                s.loss_frac() * 100.0,
                s.preempted.iter().sum::<u64>(),
                s.slowest_per_round()
                    .iter()
                    .map(|v| format!("{:.2}", v / 1e6))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        // Every seqcast row against the Disruptor at the same fan-out, each saying whether it
        // is the like-for-like (lossless) comparison or a lossy publisher against a waiting one.
        for d in tp
            .iter()
            .filter(|s| s.payload == p && s.lib == Lib::Disruptor)
        {
            for s in tp
                .iter()
                .filter(|s| s.payload == p && s.subs == d.subs && s.lib.is_seqcast())
            {
                let _ = writeln!(
                    t,
                    "{} useful throughput / disruptor's, {} subscriber(s): {} ({})",
                    s.lib.name(),
                    d.subs,
                    ratio(s.useful() / d.useful()),
                    if s.lib.lossy() {
                        "lossy against lossless"
                    } else {
                        "lossless against lossless"
                    }
                );
            }
        }
    }
    let _ = writeln!(
        t,
        "\nuseful = the slowest subscriber's delivered msgs/s (median over rounds); lost = \
         messages a subscriber never got (Lagged / dropped), as a share of those sent (lossy \
         rows only: a lossless row's publisher waits instead, so its 'lost' is 0)"
    );
    if let Some(r) = c.records {
        t.push_str(&records::table(o, r));
    }
    let _ = writeln!(t, "notes:");
    let rec_notes = c.records.map_or(&[][..], |_| records::NOTES);
    for n in NOTES.iter().chain(rec_notes) {
        let _ = writeln!(t, "  - {n}");
    }
    let _ = writeln!(t, "run time: {:.1} s", c.run_secs);
    t
}

pub fn json(c: &Context, lat: &[LatSeries], tp: &[TpSeries]) -> Value {
    let o = c.opts;
    let latency: Vec<Value> = lat
        .iter()
        .map(|s| {
            json!({
                "library": s.lib.name(),
                "payload_bytes": s.payload,
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
                "paired_limit_per_round_ns": s.limit_curve,
                "ratio_to_paired_limit": TABLE.iter().map(|&p| s.ratio(p)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let throughput: Vec<Value> = tp
        .iter()
        .map(|s| {
            json!({
                "library": s.lib.name(),
                "payload_bytes": s.payload,
                "subscribers": s.subs,
                "shared_cores": s.shared,
                "lossy": s.lib.lossy(),
                "publisher_msgs_per_s": s.publisher_rate(),
                "useful_msgs_per_s": s.useful(),
                "mean_delivered_msgs_per_s": s.mean_delivered(),
                "loss_fraction": s.loss_frac(),
                "per_round": {
                    "sent": s.sent,
                    "publisher_msgs_per_s": s.publisher,
                    "delivered_msgs_per_s": s.delivered,
                    "lost": s.lagged,
                    "preempted": s.preempted,
                },
            })
        })
        .collect();
    json!({
        "machine": machine(),
        "cores": c.cores,
        "clock": { "name": c.clock.name, "ns_per_tick": c.clock.ns_per_tick,
                   "read_cost_ns": c.clock.read_cost_ns },
        "options": {
            "rounds": o.rounds, "messages": o.messages, "interval_ns": o.interval_ns,
            "tp_messages": o.tp_messages, "tp_seconds": o.tp_seconds,
            "capacity": o.capacity, "subscribers": c.subs,
            "payloads": o.payloads, "tp_payloads": o.tp_payloads,
        },
        "warnings": c.warnings,
        "load_average_before": c.load.0,
        "load_average_after": c.load.1,
        "ping_pong_half_rtt_p50_ns_per_round": c.ping,
        "latency": latency,
        "throughput": throughput,
        "records": c.records.map(|r| records::json(o, r)),
        "notes": NOTES,
        "run_seconds": c.run_secs,
    })
}
