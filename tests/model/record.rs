//! Differential model of one record topic (`seqcast::record`), shared by
//! `tests/record_differential.rs` (seeded random inputs in every `cargo test`) and the
//! `record_ops` fuzz target (`fuzz/`).
//!
//! [`run`] decodes arbitrary bytes into a ring size and a list of operations (send a record
//! of some length, `try_send`, a burst of sends, subscribe, subscribe gated, clone a
//! subscriber, `try_recv_into`, `try_recv`, `recv_into`, a drain, set the lag policy, drop a
//! subscriber, drop the publisher, which closes the topic), applies them single-threaded to a
//! real record topic and to a reference model, and asserts that every observable agrees
//! exactly: each delivered record's bytes and length, each `Lagged(n)` / `Empty` / `Closed` /
//! `Detached`, the sequence numbers `send` returns, `TooLarge` and `try_send`'s `Full`,
//! `stats()`, `position()`, `lag_policy()`, `is_gated()`, `is_evicted()`, `published()`,
//! `capacity()`, `max_len()` and the subscriber count. In one thread the ring's behaviour is
//! exact: a send writes a whole record before anything else runs.
//!
//! The reference model is the specification (the `record` module docs) in its simplest form.
//! The ring holds `C` chunks (the capacity in 64-byte chunks, rounded up to a power of two);
//! a record of `len` bytes takes `1 + ceil((len - 40) / 48)` consecutive chunk positions (one
//! for up to 40 bytes), and `max_len` is what fits in half the ring. The model keeps the
//! records whose first chunk is still among the last `C` chunk positions, in a `VecDeque`,
//! and per subscriber a cursor: the next record number and its chunk position. A subscriber
//! whose chunk position is older than the ring (`head - C`) was lapped: the records from its
//! own to the first one whose first chunk is still held (at or after the newest chunk under
//! `SkipToNewest`) are lost, reported as one `Lagged(n)`, `n` records, and it goes on with
//! that record (its first chunk already copied, so only its continuation can still be
//! overwritten before the next receive, which then loses it too); if no record starts there,
//! everything published is lost (`SkipToNewest`, the newest chunk being a continuation).
//! `Disconnect` detaches after the report. A closed topic, drained, gives `Closed`.
//!
//! Gated subscribers are created with `evict_after(0)`, so in one thread a send that needs
//! the slot of a gated subscriber's chunk position (a whole ring behind the record's last
//! chunk) evicts it at once; `try_send` is refused with `Full` instead, and nothing is sent.
//! An evicted subscriber notices on its next receive, as `OnEvict` documents: under `Detach`
//! it reports every record it has not read as one `Lagged(n)` (nothing if there is none) and
//! is detached; under `Lossy` it carries on as a lossy subscriber, a `Disconnect` policy
//! becoming `Skip`.
//!
//! Every record's bytes derive from its number, length and index ([`record_of`]), so a
//! record delivered under the wrong number, mixed, or cut short is caught. Any byte string is
//! a valid input; no input may make the real topic panic.

use seqcast::error::{RecordError, RecvError, TryRecvError};
use seqcast::record::{self, RecordPublisher, RecordSubscriber};
use seqcast::{GateConfig, LagPolicy, OnEvict, SubscriberStats};
use std::collections::VecDeque;
use std::time::Duration;

/// Most live subscribers an input may create.
const MAX_SUBSCRIBERS: usize = 8;
/// Bytes of a chunk, and of the record in a first and in a continuation chunk (module docs).
const CHUNK_BYTES: usize = 64;
const FIRST_BYTES: usize = 40;
const NEXT_BYTES: usize = 48;

/// One decoded operation. Subscriber indices are reduced modulo the number of live ones;
/// `len` selects a record length (see [`length`]).
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Send { len: u8 },
    TrySend { len: u8 },
    Burst { n: u8, salt: u8 },
    Subscribe,
    SubscribeGated(OnEvict),
    CloneSub(u8),
    TryRecvInto(u8),
    TryRecv(u8),
    RecvInto(u8),
    Drain(u8),
    SetPolicy(u8, LagPolicy),
    DropSub(u8),
    Close,
}

/// A decoded input: the capacity asked for, in bytes, and the operations.
#[derive(Debug)]
pub struct Program {
    pub capacity: usize,
    pub ops: Vec<Op>,
}

/// Decodes any byte string (missing bytes read as 0).
pub fn decode(data: &[u8]) -> Program {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let header = next().unwrap_or(0);
    // 1..=16 chunks' worth, less 0..=60 bytes: every ring from 1 to 16 chunks, asked for
    // with sizes that are and are not multiples of a chunk.
    let capacity = ((header & 0x0F) as usize + 1) * CHUNK_BYTES - (header >> 4) as usize * 4;
    let mut ops = Vec::new();
    while let Some(code) = next() {
        let arg = next().unwrap_or(0);
        let op = match code % 20 {
            // Sending is the most common operation, so that laps happen.
            0..=4 => Op::Send { len: arg },
            5 => Op::Burst {
                n: arg % 24,
                salt: next().unwrap_or(0),
            },
            6 | 7 => Op::TrySend { len: arg },
            8 => Op::Subscribe,
            9 => Op::SubscribeGated(if arg % 2 == 0 {
                OnEvict::Detach
            } else {
                OnEvict::Lossy
            }),
            10 => Op::CloneSub(arg),
            11..=13 => Op::TryRecvInto(arg),
            14 => Op::TryRecv(arg),
            15 => Op::RecvInto(arg),
            16 => Op::Drain(arg),
            17 => Op::SetPolicy(
                arg,
                match next().unwrap_or(0) % 3 {
                    0 => LagPolicy::Skip,
                    1 => LagPolicy::Disconnect,
                    _ => LagPolicy::SkipToNewest,
                },
            ),
            18 => Op::DropSub(arg),
            _ => Op::Close,
        };
        ops.push(op);
    }
    Program { capacity, ops }
}

/// The record length `sel` picks on a topic whose limit is `max`: the chunk boundaries, the
/// limit and one past it (refused), or any length up to the limit.
fn length(sel: u8, max: usize) -> usize {
    match sel % 10 {
        0 => 0,
        1 => FIRST_BYTES,
        2 => FIRST_BYTES + 1,
        3 => FIRST_BYTES + NEXT_BYTES,
        4 => FIRST_BYTES + NEXT_BYTES + 1,
        5 => max,
        6 => max + 1,
        _ => (sel as usize * 13) % (max + 1),
    }
}

/// The bytes of record `seq`, `len` long: each a function of the record's number, its length
/// and its index.
pub fn record_of(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq.wrapping_mul(0x9E37) ^ (i as u64).wrapping_mul(31) ^ (len as u64) << 3) as u8)
        .collect()
}

/// Chunks a record of `len` bytes takes (module docs).
fn chunks_for(len: usize) -> u64 {
    if len <= FIRST_BYTES {
        1
    } else {
        1 + (len - FIRST_BYTES).div_ceil(NEXT_BYTES) as u64
    }
}

/// One record, as the model keeps it.
#[derive(Debug, Clone, Copy)]
struct Rec {
    seq: u64,
    /// Chunk position of its first chunk.
    start: u64,
    chunks: u64,
    len: usize,
}

/// The model of one subscriber.
#[derive(Debug, Clone)]
struct ModelSub {
    /// Number of the next record it delivers (`position()`).
    next: u64,
    /// Chunk position it reads next: the first chunk of record `next` (or the head), or,
    /// with `held`, the chunk after that record's first chunk.
    pos: u64,
    /// Record `next`, whose first chunk it copied when it reported the lag before it.
    held: Option<Rec>,
    policy: LagPolicy,
    detached: bool,
    stats: SubscriberStats,
    /// Gated: what it becomes when evicted. `None` for lossy subscribers and once it noticed.
    gate: Option<OnEvict>,
    /// Evicted by a send, not noticed yet (its next receive does).
    evict_pending: bool,
    /// Noticed its eviction (`is_evicted()`).
    evicted: bool,
    /// The record it started at (its source's, for a clone).
    joined: u64,
}

impl ModelSub {
    fn fresh(next: u64, pos: u64) -> ModelSub {
        ModelSub {
            next,
            pos,
            held: None,
            policy: LagPolicy::Skip,
            detached: false,
            stats: SubscriberStats::default(),
            gate: None,
            evict_pending: false,
            evicted: false,
            joined: next,
        }
    }

    /// Gated and not evicted: the publisher waits for it.
    fn gating(&self) -> bool {
        self.gate.is_some() && !self.evict_pending
    }

    /// Reports `n` lost records: it moves on to record `to`, read from chunk `pos`.
    fn lag(&mut self, to: u64, pos: u64, held: Option<Rec>) -> TryRecvError {
        let n = to - self.next;
        assert!(n > 0, "the model never reports Lagged(0)");
        self.next = to;
        self.pos = pos;
        self.held = held;
        self.stats.missed += n;
        self.stats.lag_events += 1;
        if self.policy == LagPolicy::Disconnect {
            self.detached = true;
            self.held = None;
        }
        TryRecvError::Lagged(n)
    }

    fn deliver(&mut self, r: Rec) -> Vec<u8> {
        self.next = r.seq + 1;
        self.pos = r.start + r.chunks;
        self.held = None;
        self.stats.received += 1;
        record_of(r.seq, r.len)
    }
}

/// The model of the topic.
struct Model {
    /// Chunks in the ring.
    chunks: u64,
    max_len: usize,
    /// Chunk positions written so far.
    head: u64,
    /// Records published so far.
    published: u64,
    /// Every record whose first chunk is among the last `chunks` positions, oldest first.
    window: VecDeque<Rec>,
    closed: bool,
}

impl Model {
    /// The oldest chunk position the ring still holds.
    fn oldest(&self) -> u64 {
        self.head.saturating_sub(self.chunks)
    }

    /// What `send` (`wait`) or `try_send` (`!wait`) of a record of `len` bytes does.
    fn send(&mut self, len: usize, wait: bool, subs: &mut [ModelSub]) -> Result<u64, RecordError> {
        if len > self.max_len {
            return Err(RecordError::TooLarge {
                len,
                max: self.max_len,
            });
        }
        let chunks = chunks_for(len);
        let last = self.head + chunks - 1;
        // A gated subscriber at chunk `pos` holds back every chunk from `pos + C` on.
        let blocks = |s: &ModelSub| s.gating() && s.pos + self.chunks <= last;
        if wait {
            for s in subs.iter_mut().filter(|s| blocks(s)) {
                s.evict_pending = true;
            }
        } else if subs.iter().any(blocks) {
            return Err(RecordError::Full);
        }
        let seq = self.published;
        self.window.push_back(Rec {
            seq,
            start: self.head,
            chunks,
            len,
        });
        self.head += chunks;
        self.published += 1;
        let oldest = self.oldest();
        while self.window.front().is_some_and(|r| r.start < oldest) {
            self.window.pop_front();
        }
        Ok(seq)
    }

    fn try_recv(&self, s: &mut ModelSub) -> Result<Vec<u8>, TryRecvError> {
        if s.detached {
            return Err(TryRecvError::Detached);
        }
        if s.evict_pending {
            s.evict_pending = false;
            s.evicted = true;
            match s.gate.take() {
                Some(OnEvict::Detach) => {
                    let end = self.published;
                    // Everything published up to the eviction is reported once; then
                    // `Detached` for good.
                    let got = if end > s.next {
                        Err(s.lag(end, self.head, None))
                    } else {
                        Err(TryRecvError::Detached)
                    };
                    s.detached = true;
                    return got;
                }
                _ => {
                    // `OnEvict::Lossy`: carry on, under `Skip` if the policy was `Disconnect`.
                    if s.policy == LagPolicy::Disconnect {
                        s.policy = LagPolicy::Skip;
                    }
                }
            }
        }
        let oldest = self.oldest();
        match s.held.take() {
            // Its first chunk is copied already; the rest must still be there.
            Some(r) if r.chunks == 1 || s.pos >= oldest => return Ok(s.deliver(r)),
            Some(_) => {}
            None if s.pos >= oldest => {
                if s.pos == self.head {
                    return Err(if self.closed {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                let r = *self
                    .window
                    .iter()
                    .find(|r| r.start == s.pos)
                    .expect("the model's cursor is at a record's first chunk");
                assert_eq!(r.seq, s.next);
                return Ok(s.deliver(r));
            }
            None => {}
        }
        // Lapped: record `next` is lost, and every one up to the first that starts at the
        // chunk the lag policy resumes from.
        let from = if s.policy == LagPolicy::SkipToNewest {
            self.head - 1
        } else {
            oldest
        };
        match self.window.iter().find(|r| r.start >= from) {
            Some(&r) => Err(s.lag(r.seq, r.start + 1, Some(r))),
            None => Err(s.lag(self.published, self.head, None)),
        }
    }
}

fn pick(i: u8, len: usize) -> Option<usize> {
    (len > 0).then(|| i as usize % len)
}

/// A real subscriber, its receive buffer (reused, so it holds the previous record), and its
/// model.
type Sub = (RecordSubscriber, Vec<u8>, ModelSub);

/// Decodes `data` and runs it against a real record topic and the model of the
/// specification.
pub fn run(data: &[u8]) {
    run_as(data)
}

/// [`run`], kept under its old name for the tests that reproduced two fixed bugs.
#[allow(dead_code)] // the fuzz target runs `run` only
pub fn run_strict(data: &[u8]) {
    run_as(data)
}

fn run_as(data: &[u8]) {
    let p = decode(data);
    let (tx, rx) = record::channel(p.capacity);
    let chunks = p.capacity.div_ceil(CHUNK_BYTES).next_power_of_two();
    let max_len = FIRST_BYTES + ((chunks / 2).max(1) - 1) * NEXT_BYTES;
    assert_eq!(
        tx.capacity(),
        chunks * CHUNK_BYTES,
        "capacity({})",
        p.capacity
    );
    assert_eq!(tx.max_len(), max_len, "max_len of {chunks} chunks");
    let mut m = Model {
        chunks: chunks as u64,
        max_len,
        head: 0,
        published: 0,
        window: VecDeque::new(),
        closed: false,
    };
    let mut tx: Option<RecordPublisher> = Some(tx);
    // A first buffer with stale bytes in it: `try_recv_into` replaces them.
    let mut subs: Vec<Sub> = vec![(rx, vec![0xEE; 5], ModelSub::fresh(0, 0))];

    for (step, &op) in p.ops.iter().enumerate() {
        let ctx = || format!("step {step} {op:?} ({chunks} chunks, max_len {max_len})");
        match op {
            Op::Send { len } | Op::TrySend { len } => {
                let Some(tx) = &mut tx else { continue };
                let len = length(len, max_len);
                let bytes = record_of(m.published, len);
                let wait = matches!(op, Op::Send { .. });
                let got = if wait {
                    tx.send(&bytes)
                } else {
                    tx.try_send(&bytes)
                };
                let mut models: Vec<ModelSub> = subs.iter().map(|s| s.2.clone()).collect();
                let want = m.send(len, wait, &mut models);
                for (s, model) in subs.iter_mut().zip(models) {
                    s.2 = model;
                }
                assert_eq!(got, want, "send of {len} bytes: {}", ctx());
            }
            Op::Burst { n, salt } => {
                let Some(tx) = &mut tx else { continue };
                for _ in 0..n {
                    // Lengths that vary with the record's number, up to the limit.
                    let len = (m.published as usize * 37 + salt as usize) % (max_len + 1);
                    let got = tx.send(&record_of(m.published, len));
                    let mut models: Vec<ModelSub> = subs.iter().map(|s| s.2.clone()).collect();
                    let want = m.send(len, true, &mut models);
                    for (s, model) in subs.iter_mut().zip(models) {
                        s.2 = model;
                    }
                    assert_eq!(got, want, "burst send of {len} bytes: {}", ctx());
                }
            }
            Op::Subscribe => {
                let Some(tx) = &tx else { continue };
                if subs.len() < MAX_SUBSCRIBERS {
                    let model = ModelSub::fresh(m.published, m.head);
                    subs.push((tx.subscribe(), Vec::new(), model));
                }
            }
            Op::SubscribeGated(on_evict) => {
                let Some(tx) = &tx else { continue };
                if subs.len() < MAX_SUBSCRIBERS {
                    let config = GateConfig::new()
                        .evict_after(Some(Duration::ZERO))
                        .on_evict(on_evict);
                    let mut model = ModelSub::fresh(m.published, m.head);
                    model.gate = Some(on_evict);
                    subs.push((tx.subscribe_gated_with(config), Vec::new(), model));
                }
            }
            Op::CloneSub(i) => {
                if let Some(i) = pick(i, subs.len()).filter(|_| subs.len() < MAX_SUBSCRIBERS) {
                    let clone = (subs[i].0.clone(), Vec::new(), subs[i].2.clone());
                    assert_eq!(clone.0.stats(), subs[i].0.stats(), "{}", ctx());
                    subs.push(clone);
                }
            }
            Op::TryRecvInto(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, buf, model) = &mut subs[i];
                    recv_into_and_compare(real, buf, &m, model, &ctx);
                }
            }
            Op::TryRecv(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, _, model) = &mut subs[i];
                    assert_eq!(real.try_recv(), m.try_recv(model), "try_recv: {}", ctx());
                }
            }
            Op::RecvInto(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, buf, model) = &mut subs[i];
                    // `recv_into` would block on Empty in this single thread: only call it
                    // when the model says something other than Empty is due.
                    if m.try_recv(&mut model.clone()) != Err(TryRecvError::Empty) {
                        let want = m.try_recv(model);
                        let got = real.recv_into(buf);
                        match want {
                            Ok(bytes) => {
                                assert_eq!(got, Ok(bytes.len()), "recv_into: {}", ctx());
                                assert!(*buf == bytes, "recv_into's record: {}", ctx());
                            }
                            Err(e) => {
                                let e = match e {
                                    TryRecvError::Lagged(n) => RecvError::Lagged(n),
                                    TryRecvError::Closed => RecvError::Closed,
                                    TryRecvError::Detached => RecvError::Detached,
                                    e => unreachable!("the model never says {e:?} here"),
                                };
                                assert_eq!(got, Err(e), "recv_into: {}", ctx());
                            }
                        }
                    }
                }
            }
            Op::Drain(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, buf, model) = &mut subs[i];
                    for _ in 0..chunks + 4 {
                        if !recv_into_and_compare(real, buf, &m, model, &ctx) {
                            break;
                        }
                    }
                }
            }
            Op::SetPolicy(i, policy) => {
                if let Some(i) = pick(i, subs.len()) {
                    subs[i].0.set_lag_policy(policy);
                    subs[i].2.policy = policy;
                }
            }
            Op::DropSub(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    drop(subs.swap_remove(i));
                }
            }
            Op::Close => {
                if tx.take().is_some() {
                    m.closed = true;
                }
            }
        }
        check_handles(&tx, &subs, &m, &ctx);
    }

    // Drain everyone at the end: the same answers, and a closed topic ends in Closed.
    for (real, buf, model) in &mut subs {
        for _ in 0..chunks + 4 {
            recv_into_and_compare(real, buf, &m, model, &|| "final drain".into());
        }
        // The model's own account: every record from where it joined is delivered or
        // reported lost, and a closed topic's lossy subscribers end at its end.
        let s = model.stats;
        assert_eq!(
            s.received + s.missed,
            model.next - model.joined,
            "final account"
        );
        if m.closed && !model.detached {
            assert_eq!(
                model.next, m.published,
                "a drained subscriber of a closed topic"
            );
        }
    }
}

/// `try_recv_into` on the real subscriber and the model; the same answer, and on `Ok` the
/// same record in `buf` (replaced, not appended to). Returns whether it was a record or a lag
/// report (so that another receive may bring more).
fn recv_into_and_compare(
    real: &mut RecordSubscriber,
    buf: &mut Vec<u8>,
    m: &Model,
    model: &mut ModelSub,
    ctx: &dyn Fn() -> String,
) -> bool {
    let got = real.try_recv_into(buf);
    match m.try_recv(model) {
        Ok(bytes) => {
            assert_eq!(got, Ok(bytes.len()), "try_recv_into: {}", ctx());
            assert!(
                *buf == bytes,
                "try_recv_into's record {}: got {buf:?}, want {bytes:?}: {}",
                model.next - 1,
                ctx()
            );
            true
        }
        Err(e) => {
            assert_eq!(got, Err(e), "try_recv_into: {}", ctx());
            matches!(e, TryRecvError::Lagged(_))
        }
    }
}

fn check_handles(tx: &Option<RecordPublisher>, subs: &[Sub], m: &Model, ctx: &dyn Fn() -> String) {
    if let Some(tx) = tx {
        assert_eq!(tx.published(), m.published, "published: {}", ctx());
        assert_eq!(
            tx.subscriber_count(),
            subs.len(),
            "subscriber_count: {}",
            ctx()
        );
    }
    for (real, _, model) in subs {
        assert_eq!(real.stats(), model.stats, "stats: {}", ctx());
        assert_eq!(real.position(), model.next, "position: {}", ctx());
        assert_eq!(real.lag_policy(), model.policy, "lag_policy: {}", ctx());
        assert_eq!(real.is_gated(), model.gating(), "is_gated: {}", ctx());
        assert_eq!(real.is_evicted(), model.evicted, "is_evicted: {}", ctx());
    }
}
