//! loom models of the ticket protocol for publishers that may die (`ring::claim`), built from
//! the crate's own `Tickets` and `Slot` (compiled only under `cfg(all(test, seqcast_loom))`).
//! Run with
//!
//! ```text
//! RUSTFLAGS="--cfg seqcast_loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!     CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
//!     cargo test -p seqcast --release --lib ring::claim::loom_model -- --nocapture
//! ```
//!
//! Each publisher's send is the one the shared-memory publisher makes: claim (one claim for a
//! whole batch), then for each ticket a wait for its slot (running `unblock` while waiting)
//! and its write, then one head step over the run. A publisher "dies" by storing
//! `alive = false` (Release) as its last act, which is what the kernel's release of a dead
//! process's lock gives the survivors. Capacity 2, payload `[u64; 2]` whose words name
//! `(publisher, ticket)` and their own index, so a torn or misplaced read is visible.
//!
//! Models: a dead owner's claim is unblocked, and a dead owner's complete write is not
//! (model 1, two variants); a live owner is never abandoned (model 2); concurrent head steps
//! never strand a completed message (model 3); three live publishers, one waiting for a lap,
//! abandon nothing and end with the head at the claim (model 4); a heartbeat `unblock` moves
//! the head over a complete message whose owner died before its head step (model 5); no
//! ticket of a live owner's batch is abandoned, the second no more than the first (model 6);
//! a batch whose owner died before, between or after its writes loses exactly its unwritten
//! tickets, each abandoned when the head reaches it (model 7, three variants).
//!
//! Two teeth builds, each compiling only its `teeth_` model, which passes only if loom finds
//! a live owner's ticket abandoned: `--cfg seqcast_loom_broken_unblock` (no `CLAIMING` store
//! before a claim; model 2) and `--cfg seqcast_loom_broken_run_owner` (`unblock` takes an
//! owner record for its first ticket only, ignoring `len`; model 6).

use super::{Owner, Owners, Tickets, IDLE};
use crate::ring::slot::{abandoned, done, resync, Read, Slot};
use crate::sync::{Arc, AtomicBool, AtomicU64, Ordering};
use loom::thread;

const CAPACITY: u64 = 2;
/// Owner places: one per publisher (or unblocker) thread of a model; a place no thread holds
/// stays alive with the word `IDLE`, as a live publisher that left.
const PLACES: usize = 3;

type Msg = [u64; 2];

/// The message of ticket `seq` sent by publisher `p`: word `i` carries `p`, `seq` and `i + 1`,
/// so every word differs from every word of every other message and from a slot's initial 0.
fn make(p: u64, seq: u64) -> Msg {
    std::array::from_fn(|i| 0x5EC0_0000_0000_0000 | (p << 16) | seq | ((i as u64 + 1) << 32))
}

/// `(publisher, ticket)` of a whole message; panics (the model fails) on a torn one.
fn decode(v: &Msg) -> (u64, u64) {
    let p = (v[0] >> 16) & 0xFFFF;
    let seq = v[0] & 0xFFFF;
    assert_eq!(*v, make(p, seq), "seqlock violation: torn read {v:#x?}");
    (p, seq)
}

/// Owner records and liveness flags of the model's publishers.
struct Places {
    /// The owner records' `ticket` words (`ring::claim` rule 2), written only by the thread
    /// in that place.
    ticket: [AtomicU64; PLACES],
    /// The owner records' `len` words, likewise.
    len: [AtomicU64; PLACES],
    /// `false` once the thread in that place died; written only by it, as its last act.
    alive: [AtomicBool; PLACES],
}

impl Owners for Places {
    fn count(&self) -> usize {
        PLACES
    }
    fn owner(&self, i: usize) -> Owner<'_> {
        Owner {
            ticket: &self.ticket[i],
            len: &self.len[i],
        }
    }
    fn alive(&self, i: usize) -> bool {
        // Acquire: pairs with the dying thread's Release store, so all its stores are visible
        // once it is seen gone (what a released process lock gives).
        self.alive[i].load(Ordering::Acquire)
    }
}

/// A ring of shared-memory publishers, as the shm header holds it.
struct Ring {
    slots: [Slot<Msg>; CAPACITY as usize],
    claim: AtomicU64,
    head: AtomicU64,
    owners: Places,
}

/// What one send did: its ticket (a batch's first) and the tickets its waits abandoned.
struct Sent {
    ticket: u64,
    abandoned: Vec<u64>,
}

impl Ring {
    fn new() -> Arc<Self> {
        Arc::new(Ring {
            slots: [Slot::new(), Slot::new()],
            claim: AtomicU64::new(0),
            head: AtomicU64::new(0),
            owners: Places {
                ticket: std::array::from_fn(|_| AtomicU64::new(IDLE)),
                len: std::array::from_fn(|_| AtomicU64::new(0)),
                alive: std::array::from_fn(|_| AtomicBool::new(true)),
            },
        })
    }

    fn tickets(&self) -> Tickets<'_> {
        Tickets {
            claim: &self.claim,
            head: &self.head,
            capacity: CAPACITY,
        }
    }

    fn slot(&self, t: u64) -> &Slot<Msg> {
        &self.slots[(t % CAPACITY) as usize]
    }

    /// The shm publisher's `send` by the publisher in `place`: the steps of `send_batch` with
    /// one value.
    fn send(&self, place: usize) -> Sent {
        self.send_batch(place, 1)
    }

    /// The shm publisher's `send_batch` of `n` values, step for step, by the publisher in
    /// `place`: one claim of the run, then for each ticket in order its wait for the slot
    /// (running `unblock` while waiting) and its write, then one head step over the run.
    fn send_batch(&self, place: usize, n: u64) -> Sent {
        let tickets = self.tickets();
        let slot = |t| self.slot(t);
        let start = tickets.claim(self.owners.owner(place), n);
        let mut gone = Vec::new();
        for t in start..start + n {
            while !tickets.slot_free(slot(t), t) {
                gone.extend(tickets.unblock(&self.owners, slot));
                thread::yield_now();
            }
            slot(t).write(t, make(place as u64, t));
        }
        tickets.advance(start, n, slot);
        Sent {
            ticket: start,
            abandoned: gone,
        }
    }

    /// The publisher in `place` dies: its last act, as the kernel's release of its lock.
    fn die(&self, place: usize) {
        // Release: every store the publisher made is visible to whoever sees it gone.
        self.owners.alive[place].store(false, Ordering::Release);
    }
}

/// A reader as a subscriber reads: one slot per cursor position, a stamp past its own that is
/// `abandoned(pos)` reported lost, a later lap's stamp a lag.
#[derive(Default)]
struct Reader {
    cursor: u64,
    /// `(position, publisher)` of each delivered message.
    delivered: Vec<(u64, u64)>,
    lost: Vec<u64>,
    lagged: u64,
}

impl Reader {
    /// One read at the cursor; `false` if the message is not there yet.
    fn step(&mut self, ring: &Ring) -> bool {
        let pos = self.cursor;
        match ring.slot(pos).read(pos) {
            Read::NotYet => return false,
            Read::Ready(v) => {
                let (p, seq) = decode(&v);
                assert_eq!(seq, pos, "seqlock violation: message {seq} read at {pos}");
                self.delivered.push((pos, p));
                self.cursor += 1;
            }
            Read::Overwritten(s) if s == abandoned(pos) => {
                self.lost.push(pos);
                self.cursor += 1;
            }
            Read::Overwritten(s) => {
                // Acquire: the head the lag rule moves the reader to, as a subscriber loads it.
                let head = ring.head.load(Ordering::Acquire);
                let next = resync(pos, s, head, CAPACITY);
                self.lagged += next - pos;
                self.cursor = next;
            }
        }
        true
    }

    /// Reads on until `end` or a message that is not there yet.
    fn read_until(&mut self, ring: &Ring, end: u64) {
        while self.cursor < end && self.step(ring) {}
    }
}

/// Runs `model` under loom (`LOOM_MAX_PREEMPTIONS` and friends from the environment) and prints
/// how many executions it explored and how long they took.
fn check(name: &str, model: impl Fn() + Sync + Send + 'static) {
    // std atomics, invisible to loom: they count executions and are no part of the model.
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = executions.clone();
    let start = std::time::Instant::now();
    loom::model::Builder::new().check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    eprintln!(
        "loom model ring::claim::{name}: {} executions in {:.2?} (LOOM_MAX_PREEMPTIONS={})",
        executions.load(std::sync::atomic::Ordering::Relaxed),
        start.elapsed(),
        std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "unbounded".into()),
    );
}

/// When the dead publisher of model 1 dies.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Death {
    /// Right after its claim: its slot says "not yet" for good.
    BeforeWrite,
    /// After its final stamp, before its head step: complete, but nobody moved the head.
    BeforeAdvance,
}

/// Publisher A (place 0) claims ticket 0 and dies (`death` says when); publisher B (place 1,
/// alive) sends tickets 1 and 2, and ticket 2 reuses A's slot, so B must get past A's ticket:
/// abandon it if A never wrote it, never if A's write completed. Main reads while they run.
fn dead_owner(death: Death) {
    let ring = Ring::new();
    let a = {
        let ring = ring.clone();
        thread::spawn(move || {
            let tickets = ring.tickets();
            let t = tickets.claim(ring.owners.owner(0), 1);
            if death == Death::BeforeAdvance {
                ring.slot(t).write(t, make(0, t));
            }
            ring.die(0);
            t
        })
    };
    let b = {
        let ring = ring.clone();
        thread::spawn(move || {
            // The case under test is A holding ticket 0: B starts after A's claim. Relaxed, a
            // gate of the model only: it gives B no view of A's stores that B's own claim and
            // `unblock` would not give it.
            while ring.claim.load(Ordering::Relaxed) == 0 {
                thread::yield_now();
            }
            [ring.send(1), ring.send(1)]
        })
    };
    let mut reader = Reader::default();
    reader.read_until(&ring, 3);
    let a_ticket = a.join().unwrap();
    let [b1, b2] = b.join().unwrap();

    assert_eq!((a_ticket, b1.ticket, b2.ticket), (0, 1, 2));
    // Only ticket 2 waits (for slot 0); ticket 1's slot was never used.
    assert!(b1.abandoned.is_empty());
    match death {
        Death::BeforeWrite => assert_eq!(b2.abandoned, [0], "a dead owner's claim stuck"),
        Death::BeforeAdvance => {
            assert!(
                b2.abandoned.is_empty(),
                "unblock violation: ticket 0 abandoned though its owner wrote it"
            )
        }
    }
    let unwritten: &[u64] = if death == Death::BeforeWrite {
        &[0]
    } else {
        &[]
    };
    finish(&ring, &mut reader, 1, 3, unwritten);
}

/// Model 1: a publisher dead after its claim, before writing, is unblocked by the live one
/// waiting for its slot; the message is reported lost and the head reaches the claim.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn dead_owner_is_unblocked() {
    check("dead_owner_is_unblocked", || dead_owner(Death::BeforeWrite));
}

/// Model 1, second variant: a publisher dead after its final stamp but before its head step
/// is never abandoned (its message is delivered or lapped, never lost), and the live
/// publisher's head steps (its own, or those of its `unblock`) carry the head over it.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn dead_owner_after_its_write_is_not_abandoned() {
    check("dead_owner_after_its_write_is_not_abandoned", || {
        dead_owner(Death::BeforeAdvance)
    });
}

/// Publisher A (place 0, alive throughout) sends tickets `0..n` (one `send`, or a batch of
/// `n`) while an unblocker (place 1, a live publisher's heartbeat, holding no ticket) runs
/// `unblock` twice: it must never abandon A's tickets, whatever it reads of A's owner record
/// and stamps. With a batch of 2 the first call can move the head over A's complete ticket 0,
/// so the second can find the head at ticket 1, which A's owner record names only through its
/// run (`ticket` 0, `len` 2).
fn live_owner(n: u64) {
    let ring = Ring::new();
    let a = {
        let ring = ring.clone();
        thread::spawn(move || ring.send_batch(0, n))
    };
    let unblocker = {
        let ring = ring.clone();
        thread::spawn(move || {
            for _ in 0..2 {
                let gone = ring.tickets().unblock(&ring.owners, |t| ring.slot(t));
                assert!(
                    gone.is_none(),
                    "unblock violation: live owner's ticket {gone:?} abandoned"
                );
            }
        })
    };
    let sent = a.join().unwrap();
    unblocker.join().unwrap();
    assert_eq!(sent.ticket, 0);
    assert!(sent.abandoned.is_empty());
    // Acquire: as a reader would load it (the joins already order every store).
    assert_eq!(
        ring.head.load(Ordering::Acquire),
        n,
        "advance violation: a completed message left below the head"
    );
    for t in 0..n {
        assert_eq!(ring.slot(t).stamp_acquire(), done(t));
        match ring.slot(t).read(t) {
            Read::Ready(v) => assert_eq!(decode(&v), (0, t)),
            _ => panic!("unblock violation: A's complete message {t} not readable"),
        }
    }
    // Between sends an owner keeps its last claim (`ring::claim` rule 2): the whole run.
    assert_eq!(ring.owners.ticket[0].load(Ordering::Acquire), 0);
    assert_eq!(ring.owners.len[0].load(Ordering::Acquire), n);
}

/// Model 2: `unblock` never abandons the ticket of a live owner, even one caught between its
/// claim and its owner-word store.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn live_slow_owner_is_never_abandoned() {
    check("live_slow_owner_is_never_abandoned", || live_owner(1));
}

/// Teeth: without the `CLAIMING` store before the claim, an unblocker that sees the claim can
/// read a live owner's word before its ticket is stored there, and abandons the ticket.
#[test]
#[cfg(seqcast_loom_broken_unblock)]
#[should_panic(expected = "unblock violation")]
fn teeth_unblock_abandons_a_live_owner() {
    check("teeth_unblock_abandons_a_live_owner", || live_owner(1));
}

/// Model 3: two live publishers send one message each, concurrently, in either ticket order;
/// once both returned the head is 2: whichever finished first, the other's head steps found it.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn advance_never_strands_a_completed_message() {
    check("advance_never_strands_a_completed_message", || {
        let ring = Ring::new();
        let publishers = [0, 1].map(|place| {
            let ring = ring.clone();
            thread::spawn(move || ring.send(place))
        });
        let mut tickets = publishers.map(|p| p.join().unwrap().ticket);
        tickets.sort_unstable();
        assert_eq!(tickets, [0, 1]);
        // Acquire: as a reader would load it (the joins already order every store).
        assert_eq!(
            ring.head.load(Ordering::Acquire),
            2,
            "advance violation: a completed message left below the head"
        );
        let mut reader = Reader::default();
        reader.read_until(&ring, 2);
        assert_eq!(reader.delivered.len(), 2);
    });
}

/// Model 4: three live publishers, one message each, capacity 2: the holder of ticket 2 waits
/// for slot 0 running `unblock` meanwhile, which must abandon nothing (every owner is alive);
/// the head steps count the later lap in slot 0 as complete, and the head reaches 3.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn live_publishers_wait_for_a_lap_without_abandoning() {
    check("live_publishers_wait_for_a_lap_without_abandoning", || {
        let ring = Ring::new();
        let publishers = [0, 1, 2].map(|place| {
            let ring = ring.clone();
            thread::spawn(move || ring.send(place))
        });
        let sent = publishers.map(|p| p.join().unwrap());
        for s in &sent {
            assert!(
                s.abandoned.is_empty(),
                "unblock violation: live owner's tickets {:?} abandoned",
                s.abandoned
            );
        }
        let mut tickets: Vec<u64> = sent.iter().map(|s| s.ticket).collect();
        tickets.sort_unstable();
        assert_eq!(tickets, [0, 1, 2]);
        // Acquire: as a reader would load it (the joins already order every store).
        assert_eq!(
            ring.head.load(Ordering::Acquire),
            3,
            "advance violation: a completed message left below the head"
        );
        // Slot 0 holds ticket 2 now: a reader from 0 lags one and reads the other two whole,
        // each from the publisher that claimed it.
        let mut reader = Reader::default();
        reader.read_until(&ring, 3);
        assert_eq!((reader.lagged, reader.delivered.len()), (1, 2));
        for (pos, p) in reader.delivered {
            assert_eq!(
                sent[p as usize].ticket, pos,
                "seqlock violation: misplaced message"
            );
        }
    });
}

/// Model 5: publisher A (place 0) completes ticket 0 and dies before its head step; nobody
/// sends again, and a live publisher's heartbeat (place 1, holding no ticket) runs `unblock`
/// while A runs and once more after seeing A gone. The head must then pass ticket 0: a
/// complete message whose owner died there is not abandoned, but it must not hold the head.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn heartbeat_moves_the_head_over_a_dead_owners_complete_message() {
    check(
        "heartbeat_moves_the_head_over_a_dead_owners_complete_message",
        || {
            let ring = Ring::new();
            let a = {
                let ring = ring.clone();
                thread::spawn(move || {
                    let t = ring.tickets().claim(ring.owners.owner(0), 1);
                    ring.slot(t).write(t, make(0, t));
                    ring.die(0);
                })
            };
            let heartbeat = {
                let ring = ring.clone();
                thread::spawn(move || {
                    let beat = || ring.tickets().unblock(&ring.owners, |t| ring.slot(t));
                    let early = beat();
                    // The beat after A is gone; `alive` is Acquire, as `unblock` reads it.
                    while ring.owners.alive(0) {
                        thread::yield_now();
                    }
                    [early, beat()]
                })
            };
            a.join().unwrap();
            let beats = heartbeat.join().unwrap();
            assert_eq!(
                beats,
                [None, None],
                "unblock violation: a complete message abandoned"
            );
            // Acquire: as a reader would load it (the joins already order every store).
            assert_eq!(
                ring.head.load(Ordering::Acquire),
                1,
                "advance violation: the head left below a dead owner's complete message"
            );
            match ring.slot(0).read(0) {
                Read::Ready(v) => assert_eq!(decode(&v), (0, 0)),
                _ => panic!("unblock violation: A's complete message not readable"),
            }
        },
    );
}

/// Model 6: `unblock` never abandons a ticket in a live owner's run, not only its first (the
/// `len` half of the unblock rule).
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn live_batch_owner_is_never_abandoned() {
    check("live_batch_owner_is_never_abandoned", || live_owner(2));
}

/// Teeth: if `unblock` takes a live owner for the owner of its record's first ticket only,
/// the unblocker abandons ticket 1 of A's batch once the head stands there.
#[test]
#[cfg(seqcast_loom_broken_run_owner)]
#[should_panic(expected = "unblock violation")]
fn teeth_unblock_abandons_a_live_batch_owner() {
    check("teeth_unblock_abandons_a_live_batch_owner", || {
        live_owner(2)
    });
}

/// Publisher A (place 0) claims tickets 0 and 1 with one claim, writes the first `written` of
/// them and dies; publisher B (place 1, alive) sends a batch of 2, tickets 2 and 3, which
/// reuse A's slots 0 and 1, so B must get past each of A's tickets: abandon exactly those A
/// never wrote, one at a time as the head reaches them, and none A wrote. Main reads up to
/// `read_early` while they run, and on to the end after.
fn dead_batch_owner(written: u64, read_early: u64) {
    let ring = Ring::new();
    let a = {
        let ring = ring.clone();
        thread::spawn(move || {
            let start = ring.tickets().claim(ring.owners.owner(0), 2);
            for t in start..start + written {
                ring.slot(t).write(t, make(0, t));
            }
            ring.die(0);
            start
        })
    };
    let b = {
        let ring = ring.clone();
        thread::spawn(move || {
            // The case under test is A holding tickets 0 and 1: B starts after A's claim.
            // Relaxed, a gate of the model only (as in `dead_owner`).
            while ring.claim.load(Ordering::Relaxed) == 0 {
                thread::yield_now();
            }
            ring.send_batch(1, 2)
        })
    };
    let mut reader = Reader::default();
    reader.read_until(&ring, read_early);
    let a_start = a.join().unwrap();
    let sent = b.join().unwrap();

    assert_eq!((a_start, sent.ticket), (0, 2));
    let unwritten: Vec<u64> = (written..2).collect();
    assert_eq!(
        sent.abandoned, unwritten,
        "unblock violation: abandoned {:?}, A left {unwritten:?} unwritten",
        sent.abandoned
    );
    finish(&ring, &mut reader, 2, 4, &unwritten);
}

/// The end of a model where publisher A (index 0) owned the tickets below `a_tickets` and B
/// (index 1) the rest, up to `end`: after the joins, the head and the claim are at `end`,
/// the reader reads on to the end, every delivery is whole and from the ticket's owner, only
/// A's `unwritten` tickets are lost, deliveries + losses + lag tile the `end` messages, and a
/// reader that comes after the joins finds B's messages whole (A's slots hold them by now,
/// so it counts A's tickets as lagged).
fn finish(ring: &Ring, reader: &mut Reader, a_tickets: u64, end: u64, unwritten: &[u64]) {
    // Acquire: the joins already order every store; Acquire is what a reader would use.
    assert_eq!(
        ring.head.load(Ordering::Acquire),
        end,
        "head left below a finished ticket"
    );
    assert_eq!(ring.claim.load(Ordering::Acquire), end);

    // Everything is finished: the reader reads on to the end without a "not yet".
    reader.read_until(ring, end);
    assert_eq!(reader.cursor, end, "a message below the head was not there");
    for &(pos, p) in &reader.delivered {
        assert_eq!(
            p,
            u64::from(pos >= a_tickets),
            "seqlock violation: message {pos} from publisher {p}"
        );
        assert!(
            !unwritten.contains(&pos),
            "A's message {pos} delivered though A never wrote it"
        );
    }
    for &pos in &reader.lost {
        assert!(
            unwritten.contains(&pos),
            "message {pos} reported lost though its write completed"
        );
    }
    assert_eq!(
        reader.delivered.len() as u64 + reader.lost.len() as u64 + reader.lagged,
        end
    );
    let mut late = Reader::default();
    late.read_until(ring, end);
    let b: Vec<(u64, u64)> = (a_tickets..end).map(|t| (t, 1)).collect();
    assert_eq!(late.delivered, b);
    assert!(late.lost.is_empty());
    assert_eq!(late.lagged, a_tickets);
}

/// Model 7: a publisher dead right after claiming a batch, before writing any of it: the live
/// publisher whose batch reuses its slots abandons its two tickets one by one (each when the
/// head reaches it), the head reaches the claim, and only those two are reported lost.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn dead_batch_owner_is_unblocked_run_by_run() {
    check("dead_batch_owner_is_unblocked_run_by_run", || {
        dead_batch_owner(0, 4)
    });
}

/// Model 7, second variant: a publisher dead after writing the first ticket of its batch:
/// only the second is abandoned, the first is delivered or lapped, never lost.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn dead_batch_owner_after_its_first_write_loses_only_the_second() {
    check(
        "dead_batch_owner_after_its_first_write_loses_only_the_second",
        || dead_batch_owner(1, 4),
    );
}

/// Model 7, third variant: a publisher dead after writing its whole batch but before its head
/// step: nothing is abandoned, and the live publisher's head steps carry the head over the
/// run it never stepped over. Main reads only message 0 while they run: reading all four
/// there takes the model from about 2·10^5 executions to 1.5·10^6, and what it adds, a read
/// racing B's writes, the seqlock models cover.
#[test]
#[cfg(not(any(seqcast_loom_broken_unblock, seqcast_loom_broken_run_owner)))]
fn dead_batch_owner_after_its_writes_is_not_abandoned() {
    check("dead_batch_owner_after_its_writes_is_not_abandoned", || {
        dead_batch_owner(2, 1)
    });
}
