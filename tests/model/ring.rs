//! Differential model of one seqcast topic, shared by `tests/differential.rs` (seeded random
//! inputs in every `cargo test`) and the `ring_ops` fuzz target (`fuzz/`).
//!
//! [`run`] decodes arbitrary bytes into a capacity, a payload type, a slot layout and a list
//! of operations (publish, `try_send`, publish a burst, `send_batch`, `try_send_batch`,
//! subscribe, subscribe gated, clone a subscriber, `try_recv`, `recv`, `try_iter`,
//! `recv_timeout(0)`, `try_recv_batch`, `try_recv_many`, `recv_many`, set the lag policy, drop
//! a subscriber, `into_shared`, clone or drop a publisher handle — dropping the last one
//! closes the topic), applies them single-threaded to a real topic and to a reference model,
//! and asserts that every observable agrees exactly: each value and each `Lagged(n)` /
//! `Empty` / `Closed` / `Detached`, the sequence numbers `send` returns and `try_send`'s
//! `Full`, the ranges the batch sends return, the `Ok(n)` of the batch receives and the
//! values they hand over, `stats()`, `position()`, `lag()`, `is_detached()`, `is_gated()`,
//! `is_evicted()`, `is_closed()`, `published()`, `slot_layout()`, the subscriber count and
//! the number of gated positions.
//!
//! The reference model is the specification in its simplest form: the published values in a
//! `VecDeque` holding only the last `capacity`, and per subscriber a cursor. A subscriber
//! whose cursor `c` is below `published - capacity` gets `Lagged(published - capacity - c)`
//! and continues at `published - capacity` (at `published - 1`, the newest message, under
//! `LagPolicy::SkipToNewest`, with `n` counting the skipped backlog too; or is detached for
//! good under `LagPolicy::Disconnect`); a closed, drained topic gives `Closed`. Gated
//! subscribers are created with `evict_after(0)`, so in one thread a send that finds one a
//! whole ring behind evicts it at once: the model marks every gated subscriber whose cursor
//! is `capacity` or more behind the message being sent as evicted (`try_send` is refused
//! with `Full` instead). An evicted subscriber notices on its next receive: under
//! `OnEvict::Detach` it reports everything it has not read as one `Lagged(n)` (nothing if
//! there is none) and is detached; under `OnEvict::Lossy` it carries on as a lossy
//! subscriber (`Disconnect` becoming `Skip`).
//!
//! A batch send is, in the model, one send per value (evictions included); `try_send_batch`
//! sends values until one would be refused with `Full`. A batch receive with a limit of 0 is
//! `Ok(0)` and changes nothing; otherwise its first message is a `try_recv` (an error then
//! is the batch's answer, and nothing is handed over), and it goes on taking messages while
//! they are published and not overwritten, up to the limit: in one thread nothing can lap a
//! reader during a batch, so what ends one early (a lap, the close) is the next call's
//! answer. The layout is invisible to all of this; only `slot_layout()` reports it.
//!
//! Any byte string is a valid input; no input may make the real topic panic.

use seqcast::error::{RecvError, RecvTimeoutError, TryRecvError, TrySendError};
use seqcast::{
    GateConfig, LagPolicy, OnEvict, Publisher, SharedPublisher, SlotLayout, Subscriber,
    SubscriberStats,
};
use std::collections::VecDeque;
use std::fmt::Debug;
use std::time::Duration;

/// Most live subscribers / shared publisher handles an input may create.
const MAX_SUBSCRIBERS: usize = 8;
const MAX_PUBLISHERS: usize = 4;

/// One decoded operation. Indices are reduced modulo the number of live handles.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Publish { via: u8 },
    TryPublish { via: u8 },
    Burst { via: u8, n: u8 },
    Subscribe { via: u8 },
    SubscribeGated { via: u8, on_evict: OnEvict },
    CloneSub(u8),
    TryRecv(u8),
    Recv(u8),
    TryIter { sub: u8, max: u8 },
    RecvTimeoutZero(u8),
    SetPolicy(u8, LagPolicy),
    DropSub(u8),
    IntoShared,
    ClonePublisher(u8),
    DropPublisher(u8),
    SendBatch { via: u8, n: u8 },
    TrySendBatch { n: u8 },
    TryRecvBatch { sub: u8, limit: u8 },
    TryRecvMany { sub: u8, limit: u8 },
    RecvMany { sub: u8, limit: u8 },
}

/// A decoded input: capacity asked for (1..=16), payload type and layout, operations.
#[derive(Debug)]
pub struct Program {
    pub capacity: usize,
    pub payload: Payload,
    pub layout: SlotLayout,
    pub ops: Vec<Op>,
}

/// The payload types an input can choose, each with its size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// `u64`: one word (8 B).
    Word,
    /// `(u8, u64, u16)`: 24 bytes with padding (two runs of uninitialised bytes).
    Padded,
    /// `[u64; 9]`: 72 bytes, past the stamp's cache line.
    Lines,
    /// `u8`: less than a word.
    Byte,
    /// `()`: zero-sized.
    Unit,
    /// `[u64; 2]`: two words (16 B), one SSE pair.
    Pair,
}

/// What the header's high nibble selects: a payload and the layout the ring is built in.
/// Entries 0..=4 are the five original payloads under `Auto`, as every input decoded before
/// layouts existed (the committed seeds use them); the others cover every payload in each
/// layout that places it differently (`[u64; 9]` is too large to pack: `Packed` gives it
/// lines, the same as `Auto`).
const CONFIGS: [(Payload, SlotLayout); 16] = {
    use Payload::*;
    use SlotLayout::{Auto, Line, Packed};
    [
        (Word, Auto),
        (Padded, Auto),
        (Lines, Auto),
        (Byte, Auto),
        (Unit, Auto),
        (Word, Line),
        (Padded, Packed),
        (Lines, Packed),
        (Byte, Line),
        (Unit, Line),
        (Pair, Auto),
        (Pair, Packed),
        (Pair, Line),
        (Word, Packed),
        (Padded, Line),
        (Byte, Packed),
    ]
};

/// The layout a topic reports for `requested` and payloads of `size` bytes, as
/// `SlotLayout`'s documentation states it: `Packed` packs payloads of up to 24 bytes, `Auto`
/// those of up to 8; every other slot gets whole lines.
fn resolved(requested: SlotLayout, size: usize) -> SlotLayout {
    match requested {
        // `Auto` packs what `Packed` packs (the documented rule): payloads up to 24 bytes.
        SlotLayout::Packed | SlotLayout::Auto if size <= 24 => SlotLayout::Packed,
        _ => SlotLayout::Line,
    }
}

/// Decodes any byte string (missing bytes read as 0).
pub fn decode(data: &[u8]) -> Program {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let header = next().unwrap_or(0);
    let capacity = (header & 0x0F) as usize + 1;
    let (payload, layout) = CONFIGS[(header >> 4) as usize];
    let mut ops = Vec::new();
    while let Some(code) = next() {
        let arg = next().unwrap_or(0);
        // Codes 0..=20 mean what they meant before the batch operations were appended, so
        // older inputs whose codes are below 21 (the committed seeds) decode as they did.
        let op = match code % 26 {
            // Publishing is the most common operation, so that laps happen.
            0..=4 => Op::Publish { via: arg },
            5 => Op::Burst {
                via: arg,
                n: next().unwrap_or(0) % 40,
            },
            6 => Op::Subscribe { via: arg },
            7 => Op::CloneSub(arg),
            8..=10 => Op::TryRecv(arg),
            11 => Op::Recv(arg),
            12 => Op::TryIter {
                sub: arg,
                max: next().unwrap_or(0) % 24,
            },
            13 => Op::RecvTimeoutZero(arg),
            14 => Op::SetPolicy(
                arg,
                match next().unwrap_or(0) % 3 {
                    0 => LagPolicy::Skip,
                    1 => LagPolicy::Disconnect,
                    _ => LagPolicy::SkipToNewest,
                },
            ),
            15 => Op::DropSub(arg),
            16 => Op::IntoShared,
            17 => Op::ClonePublisher(arg),
            18 => Op::DropPublisher(arg),
            19 => Op::TryPublish { via: arg },
            20 => Op::SubscribeGated {
                via: arg,
                on_evict: if next().unwrap_or(0) % 2 == 0 {
                    OnEvict::Detach
                } else {
                    OnEvict::Lossy
                },
            },
            // Batches of 0..=19 values cross every capacity (up to 16) now and then.
            21 => Op::SendBatch {
                via: arg,
                n: next().unwrap_or(0) % 20,
            },
            22 => Op::TrySendBatch { n: arg % 20 },
            // Limits of 0..=23: 0 (a no-op), 1 (no run read), and runs longer than the ring.
            23 => Op::TryRecvBatch {
                sub: arg,
                limit: next().unwrap_or(0) % 24,
            },
            24 => Op::TryRecvMany {
                sub: arg,
                limit: next().unwrap_or(0) % 24,
            },
            _ => Op::RecvMany {
                sub: arg,
                limit: next().unwrap_or(0) % 24,
            },
        };
        ops.push(op);
    }
    Program {
        capacity,
        payload,
        layout,
        ops,
    }
}

/// Decodes `data` and runs it against the real topic and the model, for the payload type and
/// layout the input selects (word-sized, padded, multi-cache-line, sub-word, zero-sized, two
/// words).
pub fn run(data: &[u8]) {
    let p = decode(data);
    match p.payload {
        Payload::Word => run_typed(&p, |s| s.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5),
        Payload::Padded => run_typed(&p, |s| (s as u8, s.rotate_left(17) ^ 0x1234_5678, s as u16)),
        Payload::Lines => run_typed(&p, |s| {
            core::array::from_fn::<u64, 9, _>(|i| s * 31 + i as u64)
        }),
        Payload::Byte => run_typed(&p, |s| s as u8),
        Payload::Unit => run_typed(&p, |_| ()),
        // Both words differ for every message, and from each other's.
        Payload::Pair => run_typed(&p, |s| [s.wrapping_mul(0x9E37_79B9_7F4A_7C15), !s]),
    }
}

/// The model of one subscriber.
#[derive(Debug, Clone)]
struct ModelSub {
    cursor: u64,
    policy: LagPolicy,
    detached: bool,
    stats: SubscriberStats,
    /// Gated: what it becomes when evicted. `None` for lossy subscribers and once it noticed.
    gate: Option<OnEvict>,
    /// Evicted by a send, not noticed yet (its next receive does).
    evict_pending: bool,
    /// Noticed its eviction (`is_evicted()`).
    evicted: bool,
}

impl ModelSub {
    /// Gated and not evicted: the publisher waits for it.
    fn gating(&self) -> bool {
        self.gate.is_some() && !self.evict_pending
    }
}

/// The model of the topic.
struct Model<T> {
    capacity: u64,
    published: u64,
    /// The last `capacity` values: `window[i]` is message `published - window.len() + i`.
    window: VecDeque<T>,
    closed: bool,
}

impl<T: Copy> Model<T> {
    fn publish(&mut self, v: T) -> u64 {
        if self.window.len() as u64 == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(v);
        self.published += 1;
        self.published - 1
    }

    fn try_recv(&self, s: &mut ModelSub) -> Result<T, TryRecvError> {
        if s.detached {
            return Err(TryRecvError::Detached);
        }
        if s.evict_pending {
            s.evict_pending = false;
            s.evicted = true;
            match s.gate.take() {
                Some(OnEvict::Detach) => {
                    s.detached = true;
                    let n = self.published - s.cursor;
                    if n == 0 {
                        return Err(TryRecvError::Detached);
                    }
                    s.cursor = self.published;
                    s.stats.missed += n;
                    s.stats.lag_events += 1;
                    return Err(TryRecvError::Lagged(n));
                }
                _ => {
                    if s.policy == LagPolicy::Disconnect {
                        s.policy = LagPolicy::Skip;
                    }
                }
            }
        }
        let oldest = self.published - self.window.len() as u64;
        if s.cursor < oldest {
            let to = if s.policy == LagPolicy::SkipToNewest {
                self.published - 1
            } else {
                oldest
            };
            let n = to - s.cursor;
            s.cursor = to;
            s.stats.missed += n;
            s.stats.lag_events += 1;
            s.detached = s.policy == LagPolicy::Disconnect;
            return Err(TryRecvError::Lagged(n));
        }
        if s.cursor < self.published {
            let v = self.window[(s.cursor - oldest) as usize];
            s.cursor += 1;
            s.stats.received += 1;
            return Ok(v);
        }
        Err(if self.closed {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        })
    }

    /// A batch receive of up to `limit` (module docs): what it hands over, and its answer.
    fn try_recv_batch(
        &self,
        s: &mut ModelSub,
        limit: usize,
    ) -> (Vec<T>, Result<usize, TryRecvError>) {
        if limit == 0 {
            return (Vec::new(), Ok(0));
        }
        let mut got = match self.try_recv(s) {
            Ok(v) => vec![v],
            Err(e) => return (Vec::new(), Err(e)),
        };
        let oldest = self.published - self.window.len() as u64;
        while got.len() < limit && s.cursor >= oldest && s.cursor < self.published {
            got.push(self.window[(s.cursor - oldest) as usize]);
            s.cursor += 1;
            s.stats.received += 1;
        }
        let n = got.len();
        (got, Ok(n))
    }
}

enum Pubs<T: Copy> {
    Single(Publisher<T>),
    Shared(Vec<SharedPublisher<T>>),
}

fn pick(i: u8, len: usize) -> Option<usize> {
    (len > 0).then(|| i as usize % len)
}

fn run_typed<T, F>(p: &Program, make: F)
where
    T: Copy + PartialEq + Debug + Send + 'static,
    F: Fn(u64) -> T,
{
    let (tx, rx) =
        seqcast::try_channel_with::<T>(p.capacity, p.layout).expect("capacities of at most 16 fit");
    let capacity = p.capacity.next_power_of_two();
    assert_eq!(tx.capacity(), capacity);
    assert_eq!(rx.capacity(), capacity);
    let layout = resolved(p.layout, core::mem::size_of::<T>());
    assert_eq!(tx.slot_layout(), layout, "slot_layout() for {:?}", p.layout);
    let mut m = Model {
        capacity: capacity as u64,
        published: 0,
        window: VecDeque::new(),
        closed: false,
    };
    let mut pubs = Some(Pubs::Single(tx));
    let mut subs: Vec<(Subscriber<T>, ModelSub)> = vec![(rx, fresh(0))];

    for (step, &op) in p.ops.iter().enumerate() {
        let ctx = || format!("step {step} {op:?} (capacity {capacity})");
        match op {
            Op::Publish { via } => publish(&mut pubs, &mut m, &mut subs, via, &make, 1, &ctx),
            Op::TryPublish { via } => {
                // The topic is open: `try_send` succeeds unless a gated subscriber is a whole
                // ring behind.
                let v = make(m.published);
                let got = match &mut pubs {
                    Some(Pubs::Single(tx)) => tx.try_send(v),
                    Some(Pubs::Shared(all)) if !all.is_empty() => {
                        all[via as usize % all.len()].try_send(v)
                    }
                    _ => continue,
                };
                if full(&m, &subs) {
                    assert!(got == Err(TrySendError::Full(v)), "try_send: {}", ctx());
                } else {
                    assert!(got == Ok(m.publish(v)), "try_send: {}", ctx());
                }
            }
            Op::Burst { via, n } => {
                publish(&mut pubs, &mut m, &mut subs, via, &make, n.into(), &ctx)
            }
            Op::SendBatch { via, n } => {
                if pubs.is_none() {
                    continue;
                }
                let first = m.published;
                let values: Vec<T> = (first..first + u64::from(n)).map(&make).collect();
                let got = match &mut pubs {
                    Some(Pubs::Single(tx)) => tx.send_batch(&values),
                    Some(Pubs::Shared(all)) if !all.is_empty() => all[via as usize % all.len()]
                        .send_batch(&values)
                        .expect("a topic with a live SharedPublisher is open"),
                    _ => continue,
                };
                // One send per value, evictions included.
                for &v in &values {
                    evict_overrun(&m, &mut subs);
                    m.publish(v);
                }
                assert_eq!(got, first..m.published, "send_batch's range: {}", ctx());
            }
            Op::TrySendBatch { n } => {
                // Only the single publisher has it.
                let Some(Pubs::Single(tx)) = &mut pubs else {
                    continue;
                };
                let first = m.published;
                let values: Vec<T> = (first..first + u64::from(n)).map(&make).collect();
                let got = tx.try_send_batch(&values);
                // The values `try_send` would take one by one, up to the first `Full`.
                for &v in &values {
                    if full(&m, &subs) {
                        break;
                    }
                    m.publish(v);
                }
                assert_eq!(got, first..m.published, "try_send_batch's range: {}", ctx());
            }
            Op::TryRecvBatch { sub, limit } => {
                if let Some(i) = pick(sub, subs.len()) {
                    let (real, model) = &mut subs[i];
                    let mut got = Vec::new();
                    let answer = real.try_recv_batch(limit.into(), |v| got.push(v));
                    let (want, want_answer) = m.try_recv_batch(model, limit.into());
                    assert_eq!(answer, want_answer, "try_recv_batch's answer: {}", ctx());
                    assert_eq!(got, want, "try_recv_batch's values: {}", ctx());
                }
            }
            Op::TryRecvMany { sub, limit } => {
                if let Some(i) = pick(sub, subs.len()) {
                    let (real, model) = &mut subs[i];
                    // Appends: what the buffer held (a message no input gets to send) stays.
                    let old = make(u64::from(u32::MAX));
                    let mut buf = vec![old];
                    let answer = real.try_recv_many(&mut buf, limit.into());
                    let (want, want_answer) = m.try_recv_batch(model, limit.into());
                    assert_eq!(answer, want_answer, "try_recv_many's answer: {}", ctx());
                    assert!(buf[0] == old, "try_recv_many changed the buffer: {}", ctx());
                    assert_eq!(buf[1..], want, "try_recv_many's values: {}", ctx());
                }
            }
            Op::RecvMany { sub, limit } => {
                if let Some(i) = pick(sub, subs.len()) {
                    let (real, model) = &mut subs[i];
                    // `recv_many` waits for its first message: only call it when the model
                    // says something other than Empty is due (a limit of 0 never waits).
                    let mut probe = model.clone();
                    if limit > 0 && m.try_recv(&mut probe) == Err(TryRecvError::Empty) {
                        continue;
                    }
                    let mut buf = Vec::new();
                    let answer = real.recv_many(&mut buf, limit.into());
                    let (want, want_answer) = m.try_recv_batch(model, limit.into());
                    let want_answer = want_answer.map_err(|e| match e {
                        TryRecvError::Lagged(n) => RecvError::Lagged(n),
                        TryRecvError::Closed => RecvError::Closed,
                        TryRecvError::Detached => RecvError::Detached,
                        e => unreachable!("the model never says {e:?} here"),
                    });
                    assert_eq!(answer, want_answer, "recv_many's answer: {}", ctx());
                    assert_eq!(buf, want, "recv_many's values: {}", ctx());
                }
            }
            Op::Subscribe { via } => {
                if subs.len() < MAX_SUBSCRIBERS {
                    let real = match &pubs {
                        Some(Pubs::Single(tx)) => tx.subscribe(),
                        Some(Pubs::Shared(v)) if !v.is_empty() => {
                            v[via as usize % v.len()].subscribe()
                        }
                        _ => continue,
                    };
                    subs.push((real, fresh(m.published)));
                }
            }
            Op::SubscribeGated { via, on_evict } => {
                if subs.len() < MAX_SUBSCRIBERS {
                    let config = GateConfig::new()
                        .evict_after(Some(Duration::ZERO))
                        .on_evict(on_evict);
                    let real = match &pubs {
                        Some(Pubs::Single(tx)) => tx.subscribe_gated_with(config),
                        Some(Pubs::Shared(v)) if !v.is_empty() => {
                            v[via as usize % v.len()].subscribe_gated_with(config)
                        }
                        _ => continue,
                    };
                    let mut model = fresh(m.published);
                    model.gate = Some(on_evict);
                    subs.push((real, model));
                }
            }
            Op::CloneSub(i) => {
                if let Some(i) = pick(i, subs.len()).filter(|_| subs.len() < MAX_SUBSCRIBERS) {
                    let clone = (subs[i].0.clone(), subs[i].1.clone());
                    assert_eq!(clone.0.stats(), subs[i].0.stats(), "{}", ctx());
                    subs.push(clone);
                }
            }
            Op::TryRecv(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, model) = &mut subs[i];
                    assert_eq!(real.try_recv(), m.try_recv(model), "{}", ctx());
                }
            }
            Op::Recv(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, model) = &mut subs[i];
                    let mut probe = model.clone();
                    // `recv` would block on Empty in this single thread: only call it when the
                    // model says something other than Empty is due.
                    if m.try_recv(&mut probe) != Err(TryRecvError::Empty) {
                        let want = m.try_recv(model).map_err(|e| match e {
                            TryRecvError::Lagged(n) => RecvError::Lagged(n),
                            TryRecvError::Closed => RecvError::Closed,
                            TryRecvError::Detached => RecvError::Detached,
                            e => unreachable!("the model never says {e:?} here"),
                        });
                        assert_eq!(real.recv(), want, "{}", ctx());
                    }
                }
            }
            Op::TryIter { sub, max } => {
                if let Some(i) = pick(sub, subs.len()) {
                    let (real, model) = &mut subs[i];
                    let got: Vec<_> = real.try_iter().take(max.into()).collect();
                    let mut want = Vec::new();
                    while want.len() < max as usize {
                        match m.try_recv(model) {
                            Err(
                                TryRecvError::Empty | TryRecvError::Closed | TryRecvError::Detached,
                            ) => {
                                // The iterator consumed this (stateless) answer and stopped.
                                break;
                            }
                            other => want.push(other),
                        }
                    }
                    assert_eq!(got, want, "{}", ctx());
                }
            }
            Op::RecvTimeoutZero(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    let (real, model) = &mut subs[i];
                    let want = m.try_recv(model).map_err(|e| match e {
                        TryRecvError::Empty => RecvTimeoutError::Timeout,
                        TryRecvError::Lagged(n) => RecvTimeoutError::Lagged(n),
                        TryRecvError::Closed => RecvTimeoutError::Closed,
                        TryRecvError::Detached => RecvTimeoutError::Detached,
                        e => unreachable!("the model never says {e:?}"),
                    });
                    assert_eq!(real.recv_timeout(Duration::ZERO), want, "{}", ctx());
                }
            }
            Op::SetPolicy(i, policy) => {
                if let Some(i) = pick(i, subs.len()) {
                    subs[i].0.set_lag_policy(policy);
                    subs[i].1.policy = policy;
                    assert_eq!(subs[i].0.lag_policy(), policy, "{}", ctx());
                }
            }
            Op::DropSub(i) => {
                if let Some(i) = pick(i, subs.len()) {
                    drop(subs.swap_remove(i));
                }
            }
            Op::IntoShared => {
                if let Some(Pubs::Single(_)) = pubs {
                    let Some(Pubs::Single(tx)) = pubs.take() else {
                        unreachable!()
                    };
                    let shared = tx.into_shared();
                    assert_eq!(shared.published(), m.published, "{}", ctx());
                    assert_eq!(shared.slot_layout(), layout, "{}", ctx());
                    pubs = Some(Pubs::Shared(vec![shared]));
                }
            }
            Op::ClonePublisher(i) => {
                if let Some(Pubs::Shared(v)) = &mut pubs {
                    if let Some(i) = pick(i, v.len()).filter(|_| v.len() < MAX_PUBLISHERS) {
                        let c = v[i].clone();
                        v.push(c);
                    }
                }
            }
            Op::DropPublisher(i) => match &mut pubs {
                Some(Pubs::Single(_)) => {
                    pubs = None;
                    m.closed = true;
                }
                Some(Pubs::Shared(v)) => {
                    if let Some(i) = pick(i, v.len()) {
                        drop(v.swap_remove(i));
                    }
                    if v.is_empty() {
                        pubs = None;
                        m.closed = true;
                    }
                }
                None => {}
            },
        }
        check_handles(&pubs, &subs, &m, &ctx);
    }

    // Drain everyone at the end: the same answers, and closed topics end in Closed.
    for (real, model) in &mut subs {
        for _ in 0..capacity + 3 {
            assert_eq!(real.try_recv(), m.try_recv(model), "final drain");
        }
    }
}

fn fresh(cursor: u64) -> ModelSub {
    ModelSub {
        cursor,
        policy: LagPolicy::Skip,
        detached: false,
        stats: SubscriberStats::default(),
        gate: None,
        evict_pending: false,
        evicted: false,
    }
}

fn publish<T, F>(
    pubs: &mut Option<Pubs<T>>,
    m: &mut Model<T>,
    subs: &mut [(Subscriber<T>, ModelSub)],
    via: u8,
    make: &F,
    n: u64,
    ctx: &dyn Fn() -> String,
) where
    T: Copy + PartialEq + Debug + Send + 'static,
    F: Fn(u64) -> T,
{
    for _ in 0..n {
        if pubs.is_none() {
            return;
        }
        evict_overrun(m, subs);
        let v = make(m.published);
        let seq = match pubs {
            Some(Pubs::Single(tx)) => tx.send(v),
            Some(Pubs::Shared(all)) if !all.is_empty() => all[via as usize % all.len()]
                .send(v)
                .expect("a topic with a live SharedPublisher is open"),
            _ => return,
        };
        assert_eq!(
            seq,
            m.publish(v),
            "sequence number returned by send: {}",
            ctx()
        );
    }
}

/// Whether a gated subscriber is a whole ring behind: the next `try_send` is refused (`Full`).
fn full<T: Copy>(m: &Model<T>, subs: &[(Subscriber<T>, ModelSub)]) -> bool {
    subs.iter()
        .any(|(_, s)| s.gating() && s.cursor + m.capacity <= m.published)
}

/// A send evicts every gated subscriber it would overwrite (`evict_after(0)`).
fn evict_overrun<T: Copy>(m: &Model<T>, subs: &mut [(Subscriber<T>, ModelSub)]) {
    for (_, s) in subs.iter_mut() {
        if s.gating() && s.cursor + m.capacity <= m.published {
            s.evict_pending = true;
        }
    }
}

fn check_handles<T>(
    pubs: &Option<Pubs<T>>,
    subs: &[(Subscriber<T>, ModelSub)],
    m: &Model<T>,
    ctx: &dyn Fn() -> String,
) where
    T: Copy + PartialEq + Debug + Send + 'static,
{
    let gated = subs.iter().filter(|(_, s)| s.gating()).count();
    match pubs {
        Some(Pubs::Single(tx)) => {
            assert_eq!(tx.published(), m.published, "published: {}", ctx());
            assert_eq!(tx.positions().len(), gated, "gated positions: {}", ctx());
            assert_eq!(
                tx.subscriber_count(),
                subs.len(),
                "subscriber_count: {}",
                ctx()
            );
        }
        Some(Pubs::Shared(all)) => {
            for tx in all {
                assert!(
                    !tx.is_closed(),
                    "is_closed with a live SharedPublisher: {}",
                    ctx()
                );
                assert_eq!(tx.published(), m.published, "published: {}", ctx());
                assert_eq!(tx.positions().len(), gated, "gated positions: {}", ctx());
                assert_eq!(
                    tx.subscriber_count(),
                    subs.len(),
                    "subscriber_count: {}",
                    ctx()
                );
            }
        }
        None => {}
    }
    for (real, model) in subs {
        assert_eq!(real.stats(), model.stats, "stats: {}", ctx());
        assert_eq!(real.position(), model.cursor, "position: {}", ctx());
        assert_eq!(
            real.lag(),
            m.published.saturating_sub(model.cursor),
            "lag: {}",
            ctx()
        );
        assert_eq!(real.is_detached(), model.detached, "is_detached: {}", ctx());
        assert_eq!(real.is_gated(), model.gating(), "is_gated: {}", ctx());
        assert_eq!(real.is_evicted(), model.evicted, "is_evicted: {}", ctx());
        assert_eq!(real.is_closed(), m.closed, "is_closed: {}", ctx());
    }
}
