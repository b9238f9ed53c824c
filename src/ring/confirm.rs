//! Delivery-confirmed publish: send, then wait until every subscriber that reports its
//! position (gated ones always, lossy ones that opted in with `report_position`) has read the
//! message, or until a timeout that names those that have not.
//!
//! Confirmation reads the positions the subscribers publish (`gate` module); it costs the
//! confirming sender a registry scan per check and costs nobody else anything. What it cannot
//! promise: a lossy subscriber that reports nothing is invisible to it (it may have read the
//! message, missed it, or not got there yet), and a reporting one confirms only when it
//! publishes a position past the message (every `every` messages).

use super::{Ring, SubscriberPosition};
use crate::sync::{spin_loop, yield_now};
use std::time::{Duration, Instant};

/// The subscribers that have not read message `seq` yet (none: confirmed).
pub(crate) fn pending<T: Copy>(ring: &Ring<T>, seq: u64) -> Vec<SubscriberPosition> {
    let mut all = ring.positions();
    all.retain(|p| p.position <= seq);
    all
}

/// Waits (spin, yield, then sleep with growing pauses up to 1 ms) until message `seq` is
/// confirmed or `timeout` passes; returns the subscribers still pending.
pub(crate) fn wait<T: Copy>(
    ring: &Ring<T>,
    seq: u64,
    timeout: Duration,
) -> Vec<SubscriberPosition> {
    let deadline = Instant::now().checked_add(timeout);
    let mut round = 0u32;
    loop {
        let left = pending(ring, seq);
        if left.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            return left;
        }
        round = round.saturating_add(1);
        match round {
            0..64 => spin_loop(),
            64..80 => yield_now(),
            _ => {
                let pause = Duration::from_micros(20u64 << (round - 80).min(6));
                let pause = deadline.map_or(pause, |d| {
                    pause.min(d.saturating_duration_since(Instant::now()))
                });
                std::thread::sleep(pause);
            }
        }
    }
}
