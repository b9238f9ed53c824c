//! [`ShmSubscriber`]: a read-only cursor into a ring file, with publisher-death detection.

use super::file::place_held;
use super::header::{W_CLOSED, W_FINAL_HEAD, W_HEAD, W_HEARTBEAT};
use super::plain::Plain;
use super::region::Region;
use super::{path_for, RingInfo};
use crate::cursor::{answer, poll, Cursor, Lap, Source};
use crate::error::{RecvError, RecvTimeoutError, ShmError, TryRecvError};
use crate::ring::slot::{done, message_of, Read};
use crate::sync::{fence, Backoff, Ordering};
use crate::{LagPolicy, SubscriberStats};
use core::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Consecutive `Empty` results between two liveness checks (each reads the clock).
const CHECK_EVERY: u32 = 16;
/// The largest head a subscriber accepts (cursors only go one past a head it accepted), so
/// that stamp arithmetic (`2s + 2`) cannot overflow, whatever a corrupted file says. A real
/// ring takes centuries to get there.
const MAX_SEQ: u64 = 1 << 62;
/// Default [`ShmSubscriber::set_dead_after`].
const DEFAULT_DEAD_AFTER: Duration = Duration::from_secs(1);

/// The receiving half of a shared-memory topic, usually in another process than the
/// publisher: maps the ring file read-only and keeps its cursor to itself.
///
/// Behaves as an in-process [`Subscriber`](crate::Subscriber) with
/// [`LagPolicy::Skip`](crate::LagPolicy::Skip): `Lagged(n)` with the exact number missed,
/// then the oldest message still intact; `Closed` after a clean publisher drop and a drain.
/// In addition it reports
/// [`PublisherDied`](TryRecvError::PublisherDied) when the publisher's process is gone
/// (or its heartbeat stopped) without closing the topic; on a ring with several publishers,
/// when none of them is left ([module docs](crate::shm)).
///
/// Receiving writes no shared memory (the mapping is not even writable).
pub struct ShmSubscriber<T: Plain> {
    region: Region<T>,
    /// The ring file, kept open only for a ring with several publishers: their liveness is
    /// their locks on it (`shm::file::place_held`).
    places: Option<std::fs::File>,
    /// Position, counters and lap rule (the receive engine, `crate::cursor`).
    cur: Cursor,
    policy: LagPolicy,
    dead_after: Duration,
    idle: Idle,
}

/// Liveness tracking while the subscriber sees nothing new. Reset by every delivery.
#[derive(Debug, Default, Clone, Copy)]
struct Idle {
    /// Consecutive `Empty` results.
    polls: u32,
    /// When the heartbeat was last seen to move (or the idle period began).
    since: Option<Instant>,
    /// The heartbeat value seen then.
    heartbeat: u64,
    /// `head` seen then (progress without delivery, e.g. while lapped, also counts).
    head: u64,
    /// Set when the publisher was found dead; cleared if it turns out to be alive again.
    dead: bool,
}

impl<T: Plain> ShmSubscriber<T> {
    /// Opens the ring `/dev/shm/<name>` ([`path_for`]) read-only as a ring of `T` named
    /// `type_name`, positioned at the next message the publisher will send.
    pub fn open(name: &str, type_name: &str) -> Result<Self, ShmError> {
        Self::open_at(path_for(name)?, type_name)
    }

    /// Like [`open`](Self::open), for a ring file at any path.
    ///
    /// Fails with a [`ShmError`] if the file is missing, not a regular file (a FIFO at the
    /// name is refused without blocking), owned by another user than this process's
    /// effective user or root ([`ShmError::Owner`]: whoever owns the file can feed
    /// subscribers anything; see [`open_at_owned_by`](Self::open_at_owned_by)), truncated,
    /// not a seqcast ring, of another layout version, carries another payload type, or has a
    /// head word its slots contradict.
    pub fn open_at(path: impl AsRef<Path>, type_name: &str) -> Result<Self, ShmError> {
        Self::open_at_owned_by(path, type_name, super::file::euid())
    }

    /// Like [`open_at`](Self::open_at), for a ring whose publisher runs as another user:
    /// accepts a file owned by `uid` (or by root) instead of this process's effective user.
    pub fn open_at_owned_by(
        path: impl AsRef<Path>,
        type_name: &str,
        uid: u32,
    ) -> Result<Self, ShmError> {
        let path = path.as_ref();
        let (file, meta) = super::file::open_regular(path)?;
        super::file::require_owner(path, &meta, uid)?;
        let region = Region::<T>::open(path, &file, type_name)?;
        let start = region.published().ok_or(ShmError::Corrupt(
            "the head (messages published) is past what the slots hold",
        ))?;
        let places = (region.info().publishers > 0).then_some(file);
        Ok(ShmSubscriber {
            region,
            places,
            cur: Cursor::new(start, Lap::Skip),
            policy: LagPolicy::Skip,
            dead_after: DEFAULT_DEAD_AFTER,
            idle: Idle::default(),
        })
    }

    /// Takes the next message if there is one; never blocks.
    ///
    /// * `Ok(v)`: the next message, whole.
    /// * `Err(Empty)`: nothing new yet.
    /// * `Err(Lagged(n))`: the publisher overwrote `n` unread messages; the next call goes on
    ///   as the [lag policy](Self::set_lag_policy) says (by default from the oldest message
    ///   still held). Also how a message whose slot was corrupted (a stamp no publisher
    ///   writes) is accounted for: skipped.
    /// * `Err(Closed)`: the publisher closed the topic and everything has been read.
    /// * `Err(Detached)`: detached after a lag report under `LagPolicy::Disconnect`.
    /// * `Err(PublisherDied)`: the publisher vanished without closing, and everything it
    ///   completed has been read (checked only after `dead_after` of `Empty`).
    ///
    /// Wait-free; writes nothing shared.
    #[inline]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.cur.try_recv(&self.region) {
            Ok(v) => {
                if self.idle.polls != 0 {
                    self.idle = Idle::default();
                }
                Ok(v)
            }
            Err(TryRecvError::Empty) => self.idle(),
            Err(e) => Err(e),
        }
    }

    /// Takes every message that is ready now, up to `limit`, handing each to `f` in order, as
    /// [`Subscriber::try_recv_batch`](crate::Subscriber::try_recv_batch) does: `Ok(n)` with
    /// `n >= 1` (`Ok(0)` for a `limit` of 0), or the error `try_recv` would give when
    /// nothing could be taken. The messages after the first are validated a run at a time.
    pub fn try_recv_batch(
        &mut self,
        limit: usize,
        mut f: impl FnMut(T),
    ) -> Result<usize, TryRecvError> {
        if limit == 0 {
            return Ok(0);
        }
        f(self.try_recv()?);
        Ok(1 + self.cur.take_ready(&self.region, limit - 1, &mut f))
    }

    /// Nothing to deliver: every `CHECK_EVERY`th time, whether our message was lost, and the
    /// liveness check.
    fn idle(&mut self) -> Result<T, TryRecvError> {
        self.idle.polls = self.idle.polls.wrapping_add(1);
        if self.idle.dead || self.idle.polls % CHECK_EVERY == 0 {
            if let Some(lost) = self.check_lost() {
                return Err(lost);
            }
            self.check_liveness(Instant::now());
            if self.idle.dead {
                if let Some(lost) = self.skip_dead_claim() {
                    return Err(lost);
                }
                return Err(TryRecvError::PublisherDied);
            }
        }
        Err(TryRecvError::Empty)
    }

    /// Whether our message was published (the head is past it) while its slot shows an older
    /// stamp: someone reset the stamp, and the publisher will not write that slot again for a
    /// whole lap. Then the message is lost: skip it (`Lagged`) rather than wait a lap.
    fn check_lost(&mut self) -> Option<TryRecvError> {
        let seq = self.cur.pos;
        // Relaxed: a cheap first look; `published` loads it again with the ordering that
        // counts.
        if self.region.header().word(W_HEAD).load(Ordering::Relaxed) <= seq {
            return None;
        }
        let head = self.region.published().filter(|&h| h > seq)?;
        // Relaxed: ordered after the head load by the fence in `published`, and the head's
        // Release store followed message `seq`'s final stamp: an honest slot shows that stamp
        // (or a later lap's) now, and the next read takes the message or finds it lapped.
        if self.region.slot(seq).stamp_relaxed() >= done(seq) {
            return None;
        }
        Some(self.cur.skip_lost(head, self.region.capacity()))
    }

    /// Every publisher of a ring with several is gone, and our message was claimed but never
    /// completed (its publisher died holding it, and no live publisher was left to abandon
    /// it): it is lost, and the messages claimed after it may be complete. Skip it alone.
    fn skip_dead_claim(&mut self) -> Option<TryRecvError> {
        self.places.as_ref()?;
        // Relaxed: every publisher is gone (the kernel released their locks), so the claim
        // is final; a corrupted value past `MAX_SEQ` is not believed.
        let claim = self
            .region
            .header()
            .word(super::header::W_CLAIM)
            .load(Ordering::Relaxed);
        (claim > self.cur.pos && claim <= MAX_SEQ).then(|| self.cur.skip_to(self.cur.pos + 1))
    }

    /// The liveness rule ([module docs](crate::shm)): dead when, after `dead_after` without
    /// a message, the heartbeat has not moved for that long or the publisher's pid is gone.
    #[cold]
    fn check_liveness(&mut self, now: Instant) {
        let header = self.region.header();
        // Relaxed: only compared with earlier values of the same words.
        let heartbeat = header.word(W_HEARTBEAT).load(Ordering::Relaxed);
        let head = header.word(W_HEAD).load(Ordering::Relaxed);
        let idle = &mut self.idle;
        let moved = heartbeat != idle.heartbeat || head != idle.head;
        if idle.since.is_none() || moved {
            idle.since = Some(now);
            idle.heartbeat = heartbeat;
            idle.head = head;
            idle.dead = false;
            return;
        }
        let silent = idle
            .since
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        if silent < self.dead_after {
            return;
        }
        // Silent for `dead_after`. The pid check decides for a publisher without a heartbeat
        // (and is checked first, so a debugger sees which rule fired); with a heartbeat, its
        // standing still for that long is enough (pid reused, other pid namespace, stopped).
        if let Some(file) = &self.places {
            // Several publishers: dead when none holds its place (the kernel's word).
            idle.dead = !place_held(file, 0, self.region.info().publishers as usize);
            return;
        }
        let pid_gone = !pid_alive(self.region.info().pid);
        let heart_stopped = !self.region.info().heartbeat.is_zero();
        idle.dead = pid_gone || heart_stopped;
    }

    /// Waits for the next message: spins briefly, then yields, then sleeps in growing steps
    /// up to 1 ms (no futex: the publisher never wakes anyone).
    ///
    /// Returns `Lagged(n)` when lapped, `Closed` after a clean close and drain,
    /// `PublisherDied` when the publisher vanished.
    pub fn recv(&mut self) -> Result<T, RecvError> {
        RecvError::after_wait(poll(None, backoff(), || answer(self.try_recv())))
    }

    /// Like [`recv`](Self::recv), but gives up with `Timeout` after `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = Instant::now().checked_add(timeout);
        RecvTimeoutError::after_wait(poll(deadline, backoff(), || answer(self.try_recv())))
    }

    /// Sets what happens when the publisher laps this subscriber, as for an in-process
    /// [`Subscriber`](crate::Subscriber). Default: [`LagPolicy::Skip`].
    pub fn set_lag_policy(&mut self, policy: LagPolicy) {
        self.policy = policy;
        self.cur.lap = policy.into();
    }

    /// The current lag policy.
    pub fn lag_policy(&self) -> LagPolicy {
        self.policy
    }

    /// How long the publisher may stay silent (no message, no heartbeat) before this
    /// subscriber reports it dead. Default 1 s; at least four heartbeat periods (200 ms).
    pub fn set_dead_after(&mut self, timeout: Duration) {
        let floor = self.region.info().heartbeat.saturating_mul(4);
        self.dead_after = timeout.max(floor);
    }

    /// The current [`set_dead_after`](Self::set_dead_after) timeout.
    pub fn dead_after(&self) -> Duration {
        self.dead_after
    }

    /// Moves the cursor back to message 0, the first the publisher ever sent: the next
    /// receive delivers it, or reports what has been overwritten since as `Lagged(n)`. A
    /// subscriber that starts at 0 accounts for every message of the ring:
    /// `received + missed == published`.
    pub fn rewind(&mut self) {
        self.cur.pos = 0;
    }

    /// Message `seq` if its slot holds it whole now (validated as any read), for record
    /// topics to find a record's number from its neighbours. Trusts nothing more than a read.
    pub(crate) fn peek(&self, seq: u64) -> Option<T> {
        match self.region.read(seq) {
            Read::Ready(v) => Some(v),
            _ => None,
        }
    }

    /// Where the stream ends now: the final head once closed, else the head (if the slots
    /// agree with it).
    pub(crate) fn end(&self) -> Option<u64> {
        self.region.closed().or_else(|| self.region.published())
    }

    /// This subscriber's counters (`parks` stays 0: it never parks).
    pub fn stats(&self) -> SubscriberStats {
        self.cur.stats
    }

    /// Sequence number of the next message this subscriber will read.
    pub fn position(&self) -> u64 {
        self.cur.pos
    }

    /// How many messages this subscriber is behind the publisher (0 when caught up, or while
    /// the file's head word is one the slots contradict).
    pub fn lag(&self) -> u64 {
        self.region
            .published()
            .map_or(0, |head| head.saturating_sub(self.cur.pos))
    }

    /// Whether the publisher closed the topic (messages may still be left to read).
    pub fn is_closed(&self) -> bool {
        // A caller that sees `true` sees every completed message (`Source::closed`).
        self.region.closed().is_some()
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.region.capacity() as usize
    }

    /// The ring's header fields (capacity, slot layout, publisher pid, heartbeat period).
    pub fn info(&self) -> RingInfo {
        self.region.info()
    }
}

impl<T: Plain> fmt::Debug for ShmSubscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmSubscriber")
            .field("cursor", &self.cur)
            .field("publisher_pid", &self.region.info().pid)
            .field("dead_after", &self.dead_after)
            .finish()
    }
}

/// A read-only ring file as a source of the receive engine. Nothing in the file is trusted:
/// the head only if the slots agree with it, a lap stamp only if a publisher could have
/// written it, and a message below the final head of a closed ring that is not ready is lost
/// (its publisher is gone; nobody repairs the slot).
impl<T: Plain> Source for Region<T> {
    type Item = T;
    const COMPLETES_AFTER_CLOSE: bool = false;

    #[inline]
    fn read(&self, seq: u64) -> Read<T> {
        self.slot(seq).read_read_only(seq)
    }

    /// The run read only loads (Relaxed stamps, each made Acquire by a fence), the form
    /// read-only memory allows, and delivers only slots whose stamp is exactly the one a
    /// publisher writes for that message.
    #[inline]
    fn read_run(&self, seq: u64, max: usize, deliver: &mut impl FnMut(T)) -> usize {
        crate::ring::slot::read_run(|s| self.slot(s), seq, max, deliver)
    }

    #[inline]
    fn capacity(&self) -> u64 {
        Region::capacity(self)
    }

    fn head(&self) -> Option<u64> {
        // Acquire fence: orders the engine's stamp loads before the head load in
        // `published`, so that a stamp of message `m` comes with a head of at least `m - 1`
        // (the publisher's Release fence before that stamp follows its store of head `m - 1`).
        fence(Ordering::Acquire);
        self.published()
    }

    fn closed(&self) -> Option<u64> {
        // Relaxed, then an Acquire fence: pairs with the publisher's Release store of
        // `closed`, so `final_head` and every completed stamp are visible below.
        let closed = self.header().word(W_CLOSED).load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        // Relaxed: ordered after the `closed` load by the fence.
        (closed != 0).then(|| self.header().word(W_FINAL_HEAD).load(Ordering::Relaxed))
    }

    /// A stamp past our message is used only if a publisher could have written it: for our
    /// slot, and at most one message past a head the slots agree with. Anything else (zero or
    /// an older lap on the re-check, a stamp of another slot, far past the head, `u64::MAX`)
    /// means our message's slot is garbage (the engine then skips the message if the head is
    /// past it, and otherwise waits for the publisher's write of it to replace the garbage).
    fn genuine_lap(&self, seq: u64, stamp: u64, head: u64) -> bool {
        let m = message_of(stamp.max(1));
        let cap = Region::capacity(self);
        // With several publishers the head is the completed prefix, which may trail a
        // message being written by up to a lap (its ticket waits only for its own slot).
        let ahead = if self.info().publishers > 0 { cap } else { 1 };
        stamp > done(seq) && (m ^ seq) & (cap - 1) == 0 && m <= head.saturating_add(ahead)
    }
}

impl<T: Plain> Region<T> {
    /// The head, if the slots agree with it: `None` for a head no publisher wrote (past what
    /// the slots hold, or beyond `MAX_SEQ`). The publisher stores the head with Release after
    /// the final stamp of every message below it, and stamps of a slot only grow, so for an
    /// honest head `h > 0` slot `h - 1` holds message `h - 1` or a later one.
    fn published(&self) -> Option<u64> {
        // Relaxed: made Acquire by the fence below (the mapping is read-only).
        let head = self.header().word(W_HEAD).load(Ordering::Relaxed);
        // Acquire fence: pairs with the publisher's Release store of `head`.
        fence(Ordering::Acquire);
        if head > MAX_SEQ {
            return None;
        }
        if head == 0 {
            return Some(0);
        }
        // Relaxed: ordered after the head load by the fence above.
        let stamp = self.slot(head - 1).stamp_relaxed();
        (stamp >= done(head - 1)).then_some(head)
    }
}

/// How `recv` waits: 128 spins, 16 yields, then sleeps doubling from 20 µs to 1 ms.
fn backoff() -> Backoff {
    Backoff::new(128, 16, Duration::from_micros(20))
}

/// Whether process `pid` exists: `kill(pid, 0)` fails with `ESRCH` only if it does not
/// (`EPERM` means it exists under another user).
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 sends nothing; `kill` only checks that `pid` exists and may be
    // signalled. No memory is passed.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}
