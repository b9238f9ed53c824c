//! Gated (lossless) subscribers and position reporting: the Disruptor's gating sequences,
//! added to a lossy ring without costing lossy subscribers anything.
//!
//! # The idea
//! A *gated* subscriber publishes its cursor in a [`Gate`] (its own cache line). Publishers may
//! write message `s` only when every gated subscriber has moved past message `s - capacity`,
//! i.e. `s < min(gate cursors) + capacity`. Scanning the gates on every send would cost the
//! publisher a cache miss per gated subscriber per message, so the publishers keep a cached
//! bound, `Ring::gate_limit` ("messages below this may be written"), in the publisher's own
//! line, and re-scan only when a send reaches it.
//!
//! # Who writes what
//! * `Gate::cursor`: the gated subscriber, after each message it takes (`Release`: its payload
//!   copy happens before the publisher, reading the cursor with `Acquire`, may overwrite the
//!   slot). Position-reporting lossy subscribers store it every `K` messages.
//! * `Gate::evicted`: a publisher, once, under the registry lock.
//! * `Registry` (the list of gates): under its `Mutex`, by subscribers joining or leaving and
//!   by publishers scanning or evicting. Never touched on a fast path.
//! * `Ring::gate_limit`: publishers, `fetch_max` after a scan; read (`Acquire`) on every send.
//!
//! # Why a cached bound stays safe when a gated subscriber joins
//! A new gate is registered under the registry lock, counted in `Registry::gating`, and only
//! then (after a SeqCst fence) given its cursor: the current head (a new subscriber) or its
//! source's cursor (a clone). A scan by a publisher about to write `seq` runs a SeqCst fence
//! and reads the count; if it is non-zero, it takes the lock and computes
//! `min(gate cursors) + capacity`; if zero, it allows one more lap, `seq + capacity`. By the
//! two fences, a scan that saw no gate is followed by a registration whose head load sees at
//! least that publisher's claim of `seq`; a scan under the lock either follows the
//! registration (and includes the new gate) or precedes it (and then all gate cursors it
//! used are `<=` the head the registration reads). Either way `bound <= new cursor +
//! capacity`: no send allowed by an old bound overwrites the new subscriber's first message.
//! Cursors only grow, so bounds only grow (`fetch_max`).
//!
//! # Waiting for room
//! A publisher that finds the ring full for the slowest gated subscriber spins and yields a
//! little (a blocking send also sleeps a little: see `SPINS`), then listens on `Ring::room`,
//! counts itself in `Ring::room_waiters`, sets `Ring::room_wanted`, re-scans, and sleeps (a
//! parked thread for the blocking sends, a pending future for the async ones). A gated
//! subscriber, after publishing each new cursor, loads `room_wanted`; only if it is set does
//! it clear it (a swap, so that one subscriber notifies per wait) and notify `room`, waking
//! every waiting publisher (`Ring::room_made`).
//! Each woken publisher re-scans and, if the ring is still full, sets the flag again. A flag
//! rather than the count is what subscribers read so that, between the notify and the
//! publisher's waking up, the subscriber's further messages cost it one load each, not a
//! notify each.
//!
//! This is the same Dekker pair as the subscribers' own wake-up (ring module docs,
//! "Waiting"), with the roles swapped: the subscriber stores its cursor then loads the flag;
//! the publisher stores the flag then loads the cursors. The frequent side (the subscriber)
//! runs the light barrier, a compiler fence where membarrier is available; the rare side (the
//! parking publisher) runs the heavy one. So either the subscriber sees the flag and
//! notifies, or the publisher's re-scan sees the new cursor and does not sleep: no lost
//! wake-up. A subscriber's swap can only clear a flag whose setter was already listening, so
//! the notify that follows reaches it. Removing or evicting a gated subscriber and closing the
//! topic also notify `room` (after a SeqCst fence, paired the same way with the count), so
//! that a waiting publisher re-scans. Lossy subscribers never look at `room_wanted`;
//! position-reporting ones do not either (publishers do not wait for them).
//!
//! With several gated subscribers, a faster one may clear the flag and wake a publisher that
//! waits for a slower one: the publisher re-scans and waits again, at the cost of one
//! registration per such wake-up.
//!
//! A waiting publisher also needs a wake-up without any subscriber: when the slowest gated
//! subscriber has not advanced for its `evict_after` (it is then evicted, and the publisher
//! goes on), and at a `send_timeout` deadline. A blocking send parks with that deadline; an
//! async send sets an alarm on the crate's timer thread (`crate::timer`), so that it needs no
//! executor timer.
//!
//! # Progress
//! With no gated subscriber, a send pays one load of a line it already owns, plus a lock and
//! a scan once per `capacity` messages (to refresh the bound). With gated subscribers, a send
//! that reaches the bound re-scans, and waits if the slowest gated subscriber is a full ring
//! behind, as described above. A gated subscriber pays one barrier (free with membarrier) and
//! one load of a read-mostly line per message, plus one notify per publisher wait.

use super::Ring;
use crate::sync::{
    fence, heavy_barrier, light_barrier, sleep, spin_loop, yield_now, Arc, AtomicBool, AtomicU64,
    AtomicUsize, Listening, Mutex, Ordering,
};
use std::time::{Duration, Instant};

/// A subscriber's name: immutable data, not a synchronisation object, so loom need not see
/// it (`std`'s `Arc` even under loom).
type Name = std::sync::Arc<str>;

/// What a gated subscriber becomes when it is evicted for stalling the publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnEvict {
    /// Like `LagPolicy::Disconnect`: the next receive reports every message it has not read
    /// as `Lagged(n)`, and every later one returns `Detached`. The default.
    #[default]
    Detach,
    /// It carries on as an ordinary lossy subscriber: it reads what is still in the ring and
    /// gets `Lagged(n)` for what was overwritten, then follows its lag policy (`Skip` if the
    /// policy was `Disconnect`; `SkipToNewest` is kept).
    Lossy,
}

/// Options for a gated (lossless) subscriber: see [`Publisher::subscribe_gated_with`].
///
/// [`Publisher::subscribe_gated_with`]: crate::Publisher::subscribe_gated_with
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfig {
    pub(crate) evict_after: Option<Duration>,
    pub(crate) on_evict: OnEvict,
    pub(crate) name: Option<Name>,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            evict_after: Some(Duration::from_secs(1)),
            on_evict: OnEvict::Detach,
            name: None,
        }
    }
}

impl GateConfig {
    /// Defaults: evicted (and detached) after stalling a waiting publisher for 1 s.
    pub fn new() -> Self {
        Self::default()
    }
    /// Evict after stalling a waiting publisher this long; `None`: never (the publisher waits
    /// for as long as it takes: use with care).
    pub fn evict_after(mut self, after: Option<Duration>) -> Self {
        self.evict_after = after;
        self
    }
    /// What the subscriber becomes when evicted.
    pub fn on_evict(mut self, on_evict: OnEvict) -> Self {
        self.on_evict = on_evict;
        self
    }
    /// A name shown in [`Publisher::positions`](crate::Publisher::positions).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One subscriber's published position. Aligned so that it shares no line with anything.
#[repr(align(128))]
#[derive(Debug)]
pub(crate) struct Gate {
    /// The next message the subscriber will read. Written by that subscriber only.
    cursor: AtomicU64,
    /// Set once by a publisher that evicted this gate.
    evicted: AtomicBool,
    /// Whether publishers wait for this gate (gated) or only report it (position reporting).
    gating: bool,
    evict_after: Option<Duration>,
    pub(crate) on_evict: OnEvict,
    name: Option<Name>,
}

impl Gate {
    /// Publishes the subscriber's position. `Release`: see the module docs.
    #[inline]
    pub(crate) fn advance(&self, cursor: u64) {
        self.cursor.store(cursor, Ordering::Release);
    }

    #[inline]
    pub(crate) fn is_evicted(&self) -> bool {
        // Relaxed: the flag only changes what the subscriber does next; no data hangs on it.
        self.evicted.load(Ordering::Relaxed)
    }

    pub(crate) fn is_gating(&self) -> bool {
        self.gating
    }

    pub(crate) fn config(&self) -> GateConfig {
        GateConfig {
            evict_after: self.evict_after,
            on_evict: self.on_evict,
            name: self.name.clone(),
        }
    }
}

/// A subscriber's published position, as reported by [`Publisher::positions`].
///
/// [`Publisher::positions`]: crate::Publisher::positions
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberPosition {
    /// The subscriber's name, if it was given one.
    pub name: Option<Name>,
    /// The next message it will read (as last published: a reporting lossy subscriber
    /// publishes every `K` messages, so this may be up to `K - 1` behind).
    pub position: u64,
    /// How many messages it is behind the publisher.
    pub behind: u64,
    /// Whether it is gated (lossless) or a lossy subscriber reporting its position.
    pub gated: bool,
}

/// The list of gates, under a lock that only joins, leaves, scans and evictions take, and
/// the number of gating gates, so that a scan of a topic without any takes no lock.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    gates: Mutex<Vec<Arc<Gate>>>,
    /// Gating gates in `gates`; changed under the lock, read by lock-free scans.
    gating: AtomicUsize,
}

/// Why a publisher could not write: the ring is full for the slowest gated subscriber.
pub(crate) struct Full;

/// How long a publisher may wait for gated subscribers.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    No,
    Until(Instant),
    Forever,
}

/// What a waiting publisher remembers between re-scans: the slowest gating gate, the cursor
/// it had, and when the publisher first saw it there (for `evict_after`).
pub(crate) type Stalled = Option<(Arc<Gate>, u64, Instant)>;

/// What `Ring::track_stall` decided.
pub(crate) enum Stall {
    /// The slowest gate was evicted: re-scan at once.
    Evicted,
    /// Keep waiting; the slowest gate is due for eviction at this instant (`None`: never).
    EvictAt(Option<Instant>),
}

/// Polls of a blocking send before it parks: spin hints, `yield_now` calls, then sleeps that
/// double from `FIRST_SLEEP` while shorter than `LAST_SLEEP` (10 µs to 640 µs: about 1.3 ms
/// in all). A ring that fills for a moment is thus handled as before waking existed, with no
/// registration (a membarrier) and no notify per fill; a longer wait parks, and is woken as
/// soon as the subscriber advances. (Under loom: one yield, then park, so that the models exercise
/// both a re-scan without parking and the parking.)
const SPINS: u32 = if cfg!(seqcast_loom) { 0 } else { 64 };
const YIELDS: u32 = if cfg!(seqcast_loom) { 1 } else { 64 };
const FIRST_SLEEP: Duration = Duration::from_micros(10);
const LAST_SLEEP: Duration = if cfg!(seqcast_loom) {
    Duration::ZERO
} else {
    Duration::from_millis(1)
};

/// The earlier of two optional deadlines (`None`: no deadline).
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl<T: Copy> Ring<T> {
    /// Registers a gate whose cursor is `start`, or the current head if `None` (read under the
    /// lock: module docs). Returns the gate and the cursor it starts at.
    pub(crate) fn add_gate(
        &self,
        start: Option<u64>,
        gating: bool,
        config: GateConfig,
    ) -> (Arc<Gate>, u64) {
        let mut gates = self.gates.gates.lock().unwrap();
        if gating {
            // SeqCst, then a SeqCst fence before reading the head: pairs with the fence in a
            // lock-free scan (`scan_gates`): either that scan sees this gate counted, or this
            // head load sees the scanning publisher's head (module docs).
            self.gates.gating.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
        }
        let cursor = start.unwrap_or_else(|| self.head());
        let gate = Arc::new(Gate {
            cursor: AtomicU64::new(cursor),
            evicted: AtomicBool::new(false),
            gating,
            evict_after: config.evict_after,
            on_evict: config.on_evict,
            name: config.name,
        });
        gates.push(gate.clone());
        (gate, cursor)
    }

    pub(crate) fn remove_gate(&self, gate: &Arc<Gate>) {
        let removed = self.unregister(&mut self.gates.gates.lock().unwrap(), gate);
        if removed && gate.gating {
            self.gate_gone();
        }
    }

    /// A gating gate was unregistered: publishers waiting for it must re-scan.
    #[cold]
    fn gate_gone(&self) {
        // SeqCst fence: pairs with the increment and barrier in `start_room_wait`: either the
        // waiting publisher's re-scan sees the gate gone, or this load sees it counted.
        fence(Ordering::SeqCst);
        // Relaxed: the fence above orders it.
        if self.room_waiters.load(Ordering::Relaxed) != 0 {
            self.room.notify_all();
        }
    }

    /// Called by a gated subscriber right after it published a new cursor: wakes publishers
    /// waiting for room, if any. One barrier (a compiler fence with membarrier) and one load
    /// of a read-mostly line when none waits (module docs, "Waiting for room").
    #[inline]
    pub(crate) fn room_made(&self) {
        // The room "teeth" build drops this half of the barrier pair; the loom room model must
        // then find a lost wake-up.
        if !cfg!(seqcast_loom_broken_room) {
            light_barrier(self.asymmetric);
        }
        // Acquire: pairs with the SeqCst store in `start_room_wait`, so the notify below sees
        // the listener registered before it.
        if self.room_wanted.load(Ordering::Acquire) {
            self.wake_room();
        }
    }

    #[cold]
    fn wake_room(&self) {
        // AcqRel: as the load in `room_made`; only the subscriber that clears the flag
        // notifies.
        if self.room_wanted.swap(false, Ordering::AcqRel) {
            self.room.notify_all();
        }
    }

    /// A publisher is about to wait for room: listen, count itself in `room_waiters`, set
    /// `room_wanted`, then the heavy side of the barrier pair. The caller must re-scan before
    /// waiting on the result, and must call `stop_room_wait` afterwards.
    pub(crate) fn start_room_wait(&self) -> Listening {
        let listening = self.room.listen();
        // SeqCst: one half of the Dekker pair with `gate_gone`.
        self.room_waiters.fetch_add(1, Ordering::SeqCst);
        // SeqCst: one half of the Dekker pair with `room_made` (module docs).
        self.room_wanted.store(true, Ordering::SeqCst);
        heavy_barrier(self.asymmetric);
        listening
    }

    /// The flag is left as it is: another publisher may have set it since. A stale flag costs
    /// one needless notify.
    pub(crate) fn stop_room_wait(&self) {
        // Relaxed: a remover that still sees the count only sends a needless notify.
        self.room_waiters.fetch_sub(1, Ordering::Relaxed);
    }

    /// Publishers registered as waiting for room (parked threads and pending sends).
    pub(crate) fn waiting_publishers(&self) -> usize {
        // Relaxed: a snapshot for callers; nothing is inferred from it.
        self.room_waiters.load(Ordering::Relaxed)
    }

    /// Removes `gate` (if still registered; the lock is held by the caller).
    fn unregister(&self, gates: &mut Vec<Arc<Gate>>, gate: &Arc<Gate>) -> bool {
        let Some(i) = gates.iter().position(|g| Arc::ptr_eq(g, gate)) else {
            return false;
        };
        gates.swap_remove(i);
        if gate.gating {
            // Relaxed: a scan that still counts the gate just takes the lock needlessly.
            self.gates.gating.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    /// Fast path of every send: may message `seq` be written without looking at the gates?
    #[inline]
    pub(crate) fn gate_allows(&self, seq: u64) -> bool {
        // Acquire: pairs with the fetch_max in `scan_gates`, which published a bound computed
        // from gate cursors loaded with Acquire (their readers are done with the slots).
        seq < self.head.0.gate_limit.load(Ordering::Acquire)
    }

    /// Re-scans the gates for a publisher about to write `seq`; returns the new bound and the
    /// slowest gating gate, if any.
    pub(crate) fn scan_gates(&self, seq: u64) -> (u64, Option<(Arc<Gate>, u64)>) {
        let cap = self.capacity();
        // SeqCst fence: pairs with the one in `add_gate` (module docs).
        fence(Ordering::SeqCst);
        if self.gates.gating.load(Ordering::Relaxed) == 0 {
            // No gate: allow one more lap. `seq` (not the head) is the base, because it is
            // what a gate registering after this scan is sure to see in the head.
            let bound = seq + cap;
            // AcqRel: as below.
            let bound = self
                .head
                .0
                .gate_limit
                .fetch_max(bound, Ordering::AcqRel)
                .max(bound);
            return (bound, None);
        }
        let gates = self.gates.gates.lock().unwrap();
        let mut slowest: Option<(Arc<Gate>, u64)> = None;
        for g in gates.iter().filter(|g| g.gating) {
            // Acquire: pairs with `Gate::advance`.
            let c = g.cursor.load(Ordering::Acquire);
            if slowest.as_ref().is_none_or(|(_, s)| c < *s) {
                slowest = Some((g.clone(), c));
            }
        }
        let min = slowest.as_ref().map_or(seq, |(_, c)| *c);
        let bound = min + cap;
        // AcqRel: publishes the bound (and the cursor loads behind it) to other producers.
        let bound = self
            .head
            .0
            .gate_limit
            .fetch_max(bound, Ordering::AcqRel)
            .max(bound);
        (bound, slowest)
    }

    fn evict(&self, gate: &Arc<Gate>) {
        let mut gates = self.gates.gates.lock().unwrap();
        if self.unregister(&mut gates, gate) {
            gate.evicted.store(true, Ordering::Relaxed);
            drop(gates);
            // Other publishers (shared ones) may be waiting for the same gate.
            self.gate_gone();
        }
    }

    /// A publisher found the ring full at `now`, `slowest` being the gate that holds it back:
    /// evicts that gate if it has not moved for its `evict_after`, or says when it will be due.
    pub(crate) fn track_stall(
        &self,
        slowest: Option<(Arc<Gate>, u64)>,
        stalled: &mut Stalled,
        now: Instant,
    ) -> Stall {
        let Some((gate, cursor)) = slowest else {
            return Stall::EvictAt(None);
        };
        match stalled {
            Some((g, c, since)) if Arc::ptr_eq(g, &gate) && *c == cursor => {
                let Some(after) = gate.evict_after else {
                    return Stall::EvictAt(None);
                };
                if now.duration_since(*since) >= after {
                    self.evict(&gate);
                    *stalled = None;
                    return Stall::Evicted;
                }
                Stall::EvictAt(since.checked_add(after))
            }
            _ => {
                let due = gate.evict_after.and_then(|after| now.checked_add(after));
                *stalled = Some((gate, cursor, now));
                Stall::EvictAt(due)
            }
        }
    }

    /// Slow path of a send whose `seq` reached the cached bound: re-scan, and wait (evicting
    /// stalled gates) as `wait` allows: spin, yield, sleep briefly, then park until a gated
    /// subscriber makes room, a gate is due for eviction, or the deadline passes (module docs).
    #[cold]
    // Under loom SPINS is 0, which makes a comparison below constant.
    #[allow(clippy::absurd_extreme_comparisons)]
    pub(crate) fn wait_for_gates(&self, seq: u64, wait: Wait) -> Result<(), Full> {
        let mut stalled: Stalled = None;
        // Registered in `room_waiters` (before the latest scan) while `Some`.
        let mut listening: Option<Listening> = None;
        let mut round = 0u32;
        let mut pause = FIRST_SLEEP;
        let result = loop {
            let (bound, slowest) = self.scan_gates(seq);
            if seq < bound {
                break Ok(());
            }
            let deadline = match wait {
                Wait::No => break Err(Full),
                Wait::Until(d) => Some(d),
                Wait::Forever => None,
            };
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break Err(Full);
            }
            let evict_at = match self.track_stall(slowest, &mut stalled, now) {
                Stall::Evicted => continue,
                Stall::EvictAt(at) => at,
            };
            round = round.saturating_add(1);
            if round <= SPINS {
                spin_loop();
            } else if round <= SPINS + YIELDS {
                yield_now();
            } else if pause < LAST_SLEEP {
                let until = earliest(deadline, evict_at).map(|d| d.saturating_duration_since(now));
                sleep(until.map_or(pause, |u| u.min(pause)));
                pause *= 2;
            } else if let Some(l) = listening.take() {
                // Registered before the scan above, which still found the ring full.
                self.room.wait(l, earliest(deadline, evict_at));
                self.stop_room_wait();
            } else {
                // Register, then loop to re-scan before parking (no lost wake-up).
                listening = Some(self.start_room_wait());
            }
        };
        if listening.is_some() {
            self.stop_room_wait();
        }
        result
    }

    /// For CAS claims: `Ok` if ticket `seq` may be written (after waiting as `wait` allows).
    pub(crate) fn wait_for_gates_if_needed(&self, seq: u64, wait: Wait) -> Result<(), Full> {
        if self.gate_allows(seq) {
            Ok(())
        } else {
            self.wait_for_gates(seq, wait)
        }
    }

    /// Every registered gate's position, slowest first.
    pub(crate) fn positions(&self) -> Vec<SubscriberPosition> {
        let head = self.head();
        let gates = self.gates.gates.lock().unwrap();
        let mut out: Vec<_> = gates
            .iter()
            .map(|g| {
                let position = g.cursor.load(Ordering::Relaxed);
                SubscriberPosition {
                    name: g.name.clone(),
                    position,
                    behind: head.saturating_sub(position),
                    gated: g.gating,
                }
            })
            .collect();
        out.sort_by_key(|p| std::cmp::Reverse(p.behind));
        out
    }
}
