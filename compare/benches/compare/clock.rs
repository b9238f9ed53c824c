//! One clock for every measurement: the TSC on x86_64, calibrated against `Instant`, or
//! nanoseconds since a shared `Instant` epoch elsewhere (or with `--clock instant`).
//!
//! The TSC is read with `rdtscp` by default: it waits until every earlier instruction has
//! executed and every earlier load is globally visible, so a receiver's `now` is taken after
//! it has the payload. Plain `rdtsc` (`--clock tsc`) may execute ahead of loads still in
//! flight; measured here it flattered libraries whose readiness check does not depend on the
//! payload (the Disruptor at 64 B: 1.08x the limit with `rdtsc`, 1.76x with `rdtscp`).
//!
//! Publisher and subscribers read the same clock, so `now - stamp` is a one-way latency in
//! ticks; ticks are converted to nanoseconds only when results are reported.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static USE_INSTANT: AtomicBool = AtomicBool::new(false);
static USE_TSCP: AtomicBool = AtomicBool::new(false);
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Which clock `ticks()` reads, and how to turn its ticks into nanoseconds.
#[derive(Debug, Clone)]
pub struct Clock {
    pub name: &'static str,
    pub ns_per_tick: f64,
    /// Cost of one `ticks()` call, in ns (the same for every library and the limit).
    pub read_cost_ns: f64,
    pub warning: Option<String>,
}

/// Reads the clock. Cheap and monotonic on one core; comparable across cores.
#[inline(always)]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if USE_TSCP.load(Ordering::Relaxed) {
            let mut aux = 0u32;
            // SAFETY: `rdtscp` (checked present in /proc/cpuinfo by `init`) only reads the
            // time-stamp counter and the TSC_AUX register into `aux`, a live local.
            return unsafe { core::arch::x86_64::__rdtscp(&mut aux) };
        }
        if !USE_INSTANT.load(Ordering::Relaxed) {
            // SAFETY: `rdtsc` has no preconditions on x86_64; it only reads the time-stamp
            // counter.
            return unsafe { core::arch::x86_64::_rdtsc() };
        }
    }
    instant_ticks()
}

#[inline(always)]
fn instant_ticks() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn cpu_flag(flag: &str) -> bool {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_whitespace().any(|x| x == flag))
}

fn tsc_flags() -> (bool, bool) {
    (cpu_flag("constant_tsc"), cpu_flag("nonstop_tsc"))
}

/// Picks and calibrates the clock. `want_tsc = false` forces the `Instant` epoch.
pub fn init(want_tsc: bool, want_tscp: bool) -> Clock {
    EPOCH.get_or_init(Instant::now);
    let mut warning = None;
    let tsc = cfg!(target_arch = "x86_64") && want_tsc;
    if tsc {
        let (constant, nonstop) = tsc_flags();
        if !(constant && nonstop) {
            warning = Some(format!(
                "CPU flags: constant_tsc={constant} nonstop_tsc={nonstop}; TSC may drift \
                 (use --clock instant to compare)"
            ));
        }
    }
    USE_INSTANT.store(!tsc, Ordering::Relaxed);
    let tscp = tsc && want_tscp && cpu_flag("rdtscp");
    if tsc && want_tscp && !tscp {
        warning = Some(
            "rdtscp unavailable: using rdtsc, which may be read before the payload has arrived"
                .into(),
        );
    }
    USE_TSCP.store(tscp, Ordering::Relaxed);
    let ns_per_tick = if tsc { calibrate() } else { 1.0 };
    let n = 1_000_000u64;
    let t0 = Instant::now();
    let mut acc = 0u64;
    for _ in 0..n {
        acc = acc.wrapping_add(ticks());
    }
    std::hint::black_box(acc);
    let read_cost_ns = t0.elapsed().as_nanos() as f64 / n as f64;
    Clock {
        name: if tscp {
            "rdtscp (calibrated against Instant; waits for earlier loads)"
        } else if tsc {
            "rdtsc (calibrated against Instant)"
        } else {
            "Instant since a shared epoch"
        },
        ns_per_tick,
        read_cost_ns,
        warning,
    }
}

/// ns per TSC tick: median of 5 windows of 20 ms each.
fn calibrate() -> f64 {
    let mut r: Vec<f64> = (0..5)
        .map(|_| {
            let (i0, t0) = (Instant::now(), ticks());
            while i0.elapsed() < Duration::from_millis(20) {}
            let (i1, t1) = (Instant::now(), ticks());
            (i1 - i0).as_nanos() as f64 / (t1 - t0) as f64
        })
        .collect();
    r.sort_by(f64::total_cmp);
    r[2]
}

impl Clock {
    pub fn to_ns(&self, ticks: u64) -> f64 {
        ticks as f64 * self.ns_per_tick
    }
    pub fn ticks_for_ns(&self, ns: f64) -> u64 {
        (ns / self.ns_per_tick).round().max(1.0) as u64
    }
}
