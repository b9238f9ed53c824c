//! Per-round results and their medians. A series is keyed by its row (`Lib` for the
//! latency and throughput tables, the record rows' own type for the record tables).

use super::clock::Clock;
use super::libs::Lib;
use super::run::{LatencyOut, ThroughputOut};

/// Percentiles on the curves and in the table (the table shows 50, 90, 99, 99.9, 99.99).
pub const CURVE: [f64; 9] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99];
pub const TABLE: [f64; 5] = [50.0, 90.0, 99.0, 99.9, 99.99];

pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// One latency configuration's rounds (all in ns).
#[derive(Debug, Clone)]
pub struct LatSeries<L = Lib> {
    pub lib: L,
    pub payload: usize,
    pub subs: usize,
    pub shared: bool,
    /// Per round: value at each of `CURVE`.
    pub curve: Vec<Vec<f64>>,
    pub max: Vec<f64>,
    pub samples: Vec<u64>,
    pub received: Vec<u64>,
    pub lagged: Vec<u64>,
    pub negative: Vec<u64>,
    pub preempted: Vec<u64>,
    /// Per round: the paired limit run's curve (measured just before this run).
    pub limit_curve: Vec<Vec<f64>>,
}

impl<L> LatSeries<L> {
    pub fn new(lib: L, payload: usize, subs: usize, shared: bool) -> Self {
        LatSeries {
            lib,
            payload,
            subs,
            shared,
            curve: Vec::new(),
            max: Vec::new(),
            samples: Vec::new(),
            received: Vec::new(),
            lagged: Vec::new(),
            negative: Vec::new(),
            preempted: Vec::new(),
            limit_curve: Vec::new(),
        }
    }
    /// Adds one run's figures; returns its curve (ns at each of `CURVE`).
    pub fn push_run(&mut self, clk: &Clock, out: &LatencyOut) -> Vec<f64> {
        let curve: Vec<f64> = CURVE
            .iter()
            .map(|p| clk.to_ns(out.hist.value_at_percentile(*p)))
            .collect();
        self.curve.push(curve.clone());
        self.max.push(clk.to_ns(out.hist.max()));
        self.samples.push(out.hist.len());
        self.received.push(out.received.iter().sum());
        self.lagged.push(out.lagged.iter().sum());
        self.negative.push(out.negative);
        self.preempted.push(out.preempted);
        curve
    }
    /// Per round: this run's percentile `p` over its paired limit run's.
    pub fn ratios(&self, p: f64) -> Vec<f64> {
        let i = CURVE
            .iter()
            .position(|&c| c == p)
            .expect("percentile in CURVE");
        self.curve
            .iter()
            .zip(&self.limit_curve)
            .map(|(r, l)| r[i] / l[i])
            .collect()
    }
    /// Median over rounds of the ratio to the paired limit (NaN without a limit).
    pub fn ratio(&self, p: f64) -> f64 {
        median(&self.ratios(p))
    }
    /// Median over rounds of the percentile `p` (one of `CURVE`).
    pub fn pct(&self, p: f64) -> f64 {
        let i = CURVE
            .iter()
            .position(|&c| c == p)
            .expect("percentile in CURVE");
        median(&self.curve.iter().map(|r| r[i]).collect::<Vec<_>>())
    }
    pub fn per_round(&self, p: f64) -> Vec<f64> {
        let i = CURVE
            .iter()
            .position(|&c| c == p)
            .expect("percentile in CURVE");
        self.curve.iter().map(|r| r[i]).collect()
    }
    pub fn median_max(&self) -> f64 {
        median(&self.max)
    }
}

/// One throughput configuration's rounds.
#[derive(Debug, Clone)]
pub struct TpSeries<L = Lib> {
    pub lib: L,
    pub payload: usize,
    pub subs: usize,
    pub shared: bool,
    /// Per round: publisher msgs/s.
    pub publisher: Vec<f64>,
    /// Per round, per subscriber: delivered msgs/s.
    pub delivered: Vec<Vec<f64>>,
    /// Per round, per subscriber: messages lost (lagged / dropped).
    pub lagged: Vec<Vec<u64>>,
    pub sent: Vec<u64>,
    pub preempted: Vec<u64>,
}

impl<L> TpSeries<L> {
    pub fn new(lib: L, payload: usize, subs: usize, shared: bool) -> Self {
        TpSeries {
            lib,
            payload,
            subs,
            shared,
            publisher: Vec::new(),
            delivered: Vec::new(),
            lagged: Vec::new(),
            sent: Vec::new(),
            preempted: Vec::new(),
        }
    }
    /// Adds one run's figures.
    pub fn push_run(&mut self, clk: &Clock, out: &ThroughputOut) {
        let secs = |t: u64| clk.to_ns(t) / 1e9;
        self.publisher
            .push(out.sent as f64 / secs(out.publish_ticks));
        self.delivered.push(
            out.received
                .iter()
                .zip(&out.sub_ticks)
                .map(|(&g, &t)| g as f64 / secs(t))
                .collect(),
        );
        self.lagged.push(out.lagged.clone());
        self.sent.push(out.sent);
        self.preempted.push(out.preempted);
    }
    pub fn slowest_per_round(&self) -> Vec<f64> {
        self.delivered
            .iter()
            .map(|r| r.iter().copied().fold(f64::INFINITY, f64::min))
            .collect()
    }
    /// Useful throughput: median over rounds of the slowest subscriber's delivered msgs/s.
    pub fn useful(&self) -> f64 {
        median(&self.slowest_per_round())
    }
    pub fn publisher_rate(&self) -> f64 {
        median(&self.publisher)
    }
    /// Median over rounds of the mean subscriber delivered msgs/s.
    pub fn mean_delivered(&self) -> f64 {
        median(
            &self
                .delivered
                .iter()
                .map(|r| r.iter().sum::<f64>() / r.len() as f64)
                .collect::<Vec<_>>(),
        )
    }
    /// Median over rounds of the share of sent messages lost, over all subscribers.
    pub fn loss_frac(&self) -> f64 {
        median(
            &self
                .lagged
                .iter()
                .zip(&self.sent)
                .map(|(l, &s)| l.iter().sum::<u64>() as f64 / (s as f64 * l.len() as f64))
                .collect::<Vec<_>>(),
        )
    }
}
