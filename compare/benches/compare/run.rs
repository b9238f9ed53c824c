//! The runners: the same code times the `limit` and every library.

use super::clock::ticks;
use super::libs::{Poll, Rx, StampLine, Stamped, Tx, Visit};
use super::pin::{pin, Placement};
use hdrhistogram::Histogram;
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::sync::Barrier;
use std::thread;

/// Highest latency the histograms hold, in ticks (larger values saturate).
pub const MAX_TICKS: u64 = 1 << 40;

/// This thread's involuntary context switches so far (0 where /proc is unavailable): a pinned
/// busy-polling thread that was preempted says the host or another process took its core.
pub fn preemptions() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("nonvoluntary_ctxt_switches"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_max(MAX_TICKS, 3).expect("histogram bounds")
}

/// One latency run: fixed-rate publisher with intended send times, busy-polling subscribers.
pub struct Latency<'a> {
    pub msgs: u64,
    pub interval_ticks: u64,
    /// Receipts per subscriber not recorded at the start (cache and branch warm-up).
    pub warmup: u64,
    pub lead_ticks: u64,
    pub place: &'a Placement,
}

pub struct LatencyOut {
    /// All subscribers' samples merged, in ticks.
    pub hist: Histogram<u64>,
    pub received: Vec<u64>,
    pub lagged: Vec<u64>,
    /// Samples where the receiver's clock read below the stamp (recorded as 0).
    pub negative: u64,
    /// Involuntary context switches of the publisher and subscribers during the run.
    pub preempted: u64,
}

impl<M: Copy + Send + Sync + Stamped + 'static> Visit<M> for Latency<'_> {
    type Out = LatencyOut;

    fn visit<T: Tx<M>, R: Rx<M>>(self, mut tx: T, rxs: Vec<R>) -> LatencyOut {
        let barrier = Barrier::new(rxs.len() + 1);
        let shared = self.place.shared;
        let warmup = self.warmup;
        thread::scope(|s| {
            let subs: Vec<_> = rxs
                .into_iter()
                .zip(self.place.subscribers.iter().copied())
                .map(|(mut rx, core)| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        pin(core);
                        let mut h = new_hist();
                        let (mut got, mut lagged, mut neg, mut seen) = (0u64, 0u64, 0u64, 0u64);
                        barrier.wait();
                        let cs = preemptions();
                        let mut record = |m: &M| {
                            let now = ticks();
                            let m = black_box(m);
                            seen += 1;
                            if seen > warmup {
                                let stamp = m.stamp_of();
                                if now >= stamp {
                                    h.saturating_record(now - stamp);
                                } else {
                                    neg += 1;
                                    h.saturating_record(0);
                                }
                            }
                        };
                        loop {
                            match rx.poll(&mut record) {
                                Poll::Got(n) => got += n,
                                Poll::Empty => {
                                    if shared {
                                        thread::yield_now();
                                    }
                                }
                                Poll::Lagged(n) => lagged += n,
                                Poll::Closed => break,
                            }
                        }
                        // One sample per message: an adapter's count matches its callbacks.
                        debug_assert_eq!(seen, got, "messages reported != messages handed over");
                        (h, got, lagged, neg, preemptions() - cs)
                    })
                })
                .collect();
            let publisher = s.spawn(|| {
                pin(self.place.publisher);
                barrier.wait();
                let cs = preemptions();
                let start = ticks() + self.lead_ticks;
                for i in 0..self.msgs {
                    let t = start + i * self.interval_ticks;
                    while ticks() < t {}
                    tx.send(M::make(t, i));
                }
                tx.flush();
                let dropped = tx.dropped();
                drop(tx);
                (dropped, preemptions() - cs)
            });
            let (dropped, preempted) = publisher.join().expect("publisher panicked");
            let mut out = LatencyOut {
                hist: new_hist(),
                received: Vec::new(),
                lagged: Vec::new(),
                negative: 0,
                preempted,
            };
            for (i, sub) in subs.into_iter().enumerate() {
                let (h, got, lagged, neg, cs) = sub.join().expect("subscriber panicked");
                out.preempted += cs;
                out.hist.add(&h).expect("same bounds");
                out.received.push(got);
                out.lagged
                    .push(lagged + dropped.get(i).copied().unwrap_or(0));
                out.negative += neg;
            }
            out
        })
    }
}

/// One throughput run: the publisher sends as fast as it can for `msgs` messages or until
/// `max_ticks` have passed; subscribers busy-poll until the topic closes.
pub struct Throughput<'a> {
    pub msgs: u64,
    pub max_ticks: u64,
    pub place: &'a Placement,
}

pub struct ThroughputOut {
    pub sent: u64,
    pub publish_ticks: u64,
    pub received: Vec<u64>,
    pub lagged: Vec<u64>,
    /// Per subscriber: ticks from the start barrier until it saw the topic closed and drained.
    pub sub_ticks: Vec<u64>,
    /// Involuntary context switches of the publisher and subscribers during the run.
    pub preempted: u64,
}

impl<M: Copy + Send + Sync + Stamped + 'static> Visit<M> for Throughput<'_> {
    type Out = ThroughputOut;

    fn visit<T: Tx<M>, R: Rx<M>>(self, mut tx: T, rxs: Vec<R>) -> ThroughputOut {
        let barrier = Barrier::new(rxs.len() + 1);
        let shared = self.place.shared;
        thread::scope(|s| {
            let subs: Vec<_> = rxs
                .into_iter()
                .zip(self.place.subscribers.iter().copied())
                .map(|(mut rx, core)| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        pin(core);
                        let (mut got, mut lagged, mut seen) = (0u64, 0u64, 0u64);
                        let mut sink = |m: &M| {
                            black_box(m);
                            // Counted in the smoke run only: the measured loop stays bare.
                            if cfg!(debug_assertions) {
                                seen += 1;
                            }
                        };
                        barrier.wait();
                        let cs = preemptions();
                        let t0 = ticks();
                        loop {
                            match rx.poll(&mut sink) {
                                Poll::Got(n) => got += n,
                                Poll::Empty => {
                                    if shared {
                                        thread::yield_now();
                                    }
                                }
                                Poll::Lagged(n) => lagged += n,
                                Poll::Closed => break,
                            }
                        }
                        let t = ticks() - t0;
                        if cfg!(debug_assertions) {
                            assert_eq!(seen, got, "messages reported != messages handed over");
                        }
                        (got, lagged, t, preemptions() - cs)
                    })
                })
                .collect();
            let publisher = s.spawn(|| {
                pin(self.place.publisher);
                barrier.wait();
                let cs = preemptions();
                let t0 = ticks();
                let deadline = t0 + self.max_ticks;
                let mut sent = 0;
                while sent < self.msgs {
                    tx.send(M::make(sent, sent));
                    sent += 1;
                    if sent % 1024 == 0 && ticks() > deadline {
                        break;
                    }
                }
                // A chunk still held back counts as sent: it goes out inside the timed span.
                tx.flush();
                let t1 = ticks();
                let dropped = tx.dropped();
                drop(tx);
                (sent, t1 - t0, dropped, preemptions() - cs)
            });
            let (sent, publish_ticks, dropped, preempted) =
                publisher.join().expect("publisher panicked");
            let mut out = ThroughputOut {
                sent,
                publish_ticks,
                received: Vec::new(),
                lagged: Vec::new(),
                sub_ticks: Vec::new(),
                preempted,
            };
            for (i, sub) in subs.into_iter().enumerate() {
                let (got, lagged, t, cs) = sub.join().expect("subscriber panicked");
                out.preempted += cs;
                out.received.push(got);
                out.lagged
                    .push(lagged + dropped.get(i).copied().unwrap_or(0));
                out.sub_ticks.push(t);
            }
            out
        })
    }
}

/// The classic ping-pong: half of each round trip between two pinned threads, in ticks.
/// (Reference only: it carries half a clock read where one-way samples carry a whole one.)
pub fn ping_pong(rounds: u64, place: &Placement) -> Histogram<u64> {
    let ping = StampLine::default();
    let pong = StampLine::default();
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            pin(place.subscribers.first().copied().flatten());
            barrier.wait();
            let mut last = 0;
            while last != u64::MAX {
                let v = ping.0.load(Ordering::Acquire);
                if v != last {
                    pong.0.store(v, Ordering::Release);
                    last = v;
                }
            }
        });
        let h = s.spawn(|| {
            pin(place.publisher);
            barrier.wait();
            let mut h = new_hist();
            for i in 1..=rounds {
                let t0 = ticks();
                ping.0.store(i, Ordering::Release);
                while pong.0.load(Ordering::Acquire) != i {}
                let rtt = ticks() - t0;
                if i > rounds / 100 {
                    h.saturating_record(rtt / 2);
                }
            }
            ping.0.store(u64::MAX, Ordering::Release);
            h
        });
        h.join().expect("ping-pong panicked")
    })
}
