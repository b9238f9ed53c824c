//! Differential model of the topic table, shared by `tests/differential.rs` and the `bus_ops`
//! fuzz target.
//!
//! [`run`] decodes bytes into operations on a [`Bus`] (capacity 1, 2, 4 or 8): get a
//! publisher or a subscriber of a name (five valid names, two invalid ones; payload `u64` or
//! `u32`, or a record topic of one-chunk records whose every byte derives from its value, so
//! kind mismatches happen), pattern-subscribe (`a.*`, `*.c`, `a.>`, `>`, `a.b`,
//! `b.*`), send / `try_send` / bursts through a publisher handle, receive, remove a name,
//! drop handles, list topics. A reference model tracks every topic ever created (live or
//! removed) as the ring model does (a window of the last `capacity` values, a closed flag),
//! and checks exactly: which calls fail, which handles share a topic, every value and
//! `Lagged`/`Empty`/`Closed` of plain subscribers, refused sends on removed topics,
//! `topics()`. Pattern subscribers are checked by invariant: every item comes from a
//! matching `u64` topic, per topic in order from the right starting point (next message for
//! topics that existed at subscription, first message for later ones), lag reports exact,
//! a removed topic reported `Closed` once after it was drained, a re-created name read only
//! after its removed predecessor was reported `Closed`, `Empty` only when every live
//! matching topic is drained, stats consistent; and, after a final drain, delivered + lagged
//! == published for every live matching topic.

use seqcast::bus::PatternSubscriber;
use seqcast::error::{RecordError, TopicError, TryRecvError, TrySendError};
use seqcast::record::{RecordSubscriber, SharedRecordPublisher};
use seqcast::{Bus, SharedPublisher, Subscriber, SubscriberStats};
use std::collections::{BTreeMap, HashMap, VecDeque};

const NAMES: [&str; 7] = ["a", "a.b", "a.c", "b.c", "a.b.c", "a.*", "b..c"];
const PATTERNS: [&str; 6] = ["a.*", "*.c", "a.>", ">", "a.b", "b.*"];
const MAX_HANDLES: usize = 8;

/// Naive NATS-style matcher for the fixed patterns above.
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let n: Vec<&str> = name.split('.').collect();
    if p.last() == Some(&">") {
        return n.len() >= p.len()
            && p[..p.len() - 1]
                .iter()
                .zip(&n)
                .all(|(p, n)| *p == "*" || p == n);
    }
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| *p == "*" || p == n)
}

fn valid(name: &str) -> bool {
    !name.is_empty() && !name.contains(['*', '>']) && name.split('.').all(|t| !t.is_empty())
}

/// One topic ever created: id = index in `Model::topics`.
struct TopicM {
    name: &'static str,
    /// A `u64` ring (the pattern subscribers' kind); otherwise a `u32` ring or, with `rec`,
    /// a record topic.
    wide: bool,
    rec: bool,
    published: u64,
    window: VecDeque<u64>,
    closed: bool,
    /// How many topics had been removed before this one was (`None`: live).
    removed_at: Option<u64>,
}

/// A payload: the topic id and the sequence number, so that any item names its origin.
fn value(id: usize, seq: u64) -> u64 {
    ((id as u64) << 32) | seq
}

enum Pub {
    Wide(SharedPublisher<u64>),
    Narrow(SharedPublisher<u32>),
    Rec(SharedRecordPublisher),
}

enum Sub {
    Wide(Subscriber<u64>),
    Narrow(Subscriber<u32>),
    Rec(RecordSubscriber),
}

/// A record topic's message `v`: its 8 bytes, then `v % 33` bytes derived from it, so that a
/// record is one chunk (at most 40 bytes) and the ring holds `capacity` of them, as a typed
/// ring does; every byte is checked on receipt.
fn record_of(v: u64) -> Vec<u8> {
    let mut r = v.to_le_bytes().to_vec();
    r.extend((0..v % 33).map(|i| (v as u8).wrapping_add(i as u8)));
    r
}

/// The value a received record carries, or `u64::MAX` (which no model value is) if any of
/// its bytes is not what `record_of` made.
fn value_of(r: &[u8]) -> u64 {
    let v = r
        .get(..8)
        .map_or(u64::MAX, |b| u64::from_le_bytes(b.try_into().unwrap()));
    if record_of(v) == r {
        v
    } else {
        u64::MAX
    }
}

impl Sub {
    fn try_recv(&mut self) -> Result<u64, TryRecvError> {
        match self {
            Sub::Wide(rx) => rx.try_recv(),
            Sub::Narrow(rx) => rx.try_recv().map(u64::from),
            Sub::Rec(rx) => rx.try_recv().map(|r| value_of(&r)),
        }
    }
    fn stats(&self) -> SubscriberStats {
        match self {
            Sub::Wide(rx) => rx.stats(),
            Sub::Narrow(rx) => rx.stats(),
            Sub::Rec(rx) => rx.stats(),
        }
    }
}

struct SubM {
    topic: usize,
    cursor: u64,
    stats: SubscriberStats,
    /// A record subscriber that reports a lag has already read the oldest record whole (the
    /// chunk that told it how many were lost): it delivers that one next, even if the ring
    /// has moved on since. A typed subscriber re-reads the ring instead.
    stash: Option<u64>,
}

/// What a pattern subscriber is known to have read.
struct PSubM {
    pattern: &'static str,
    /// Per topic id: the next message it should deliver from that topic (absent: not met yet,
    /// start from `start`).
    cursor: HashMap<usize, u64>,
    /// Topic ids that existed (live, `u64`, matching) at subscription: start at that
    /// `published`. Others start at 0.
    start: HashMap<usize, u64>,
    closed_reported: Vec<usize>,
    stats: SubscriberStats,
    /// Topics created since this subscriber's last receive call: it joins them at the next
    /// one. If the table has forgotten them by then (removed, then more than `REMEMBERED`
    /// other removals) it reports all their messages lost; after `FORGOTTEN` more removals
    /// they leave no trace (documented).
    unscanned: Vec<usize>,
    /// Topics joined after the table forgot them: nothing of theirs can be read.
    forgotten: Vec<usize>,
}

impl PSubM {
    fn cursor(&self, id: usize) -> u64 {
        self.cursor
            .get(&id)
            .copied()
            .unwrap_or_else(|| self.start.get(&id).copied().unwrap_or(0))
    }
}

struct Model {
    capacity: u64,
    topics: Vec<TopicM>,
    live: BTreeMap<&'static str, usize>,
    /// Topics removed so far.
    removals: u64,
}

/// How many removed topics the table remembers for pattern subscribers that have not looked
/// at it since they were created (`Bus` docs: "the last 32 removed topics").
const REMEMBERED: u64 = 32;

/// How many removals before those the table still describes (name and message count).
const FORGOTTEN: u64 = 256;

impl Model {
    fn publish(&mut self, id: usize) -> Option<u64> {
        let t = &mut self.topics[id];
        if t.closed {
            return None;
        }
        let seq = t.published;
        if t.window.len() as u64 == self.capacity {
            t.window.pop_front();
        }
        // A `u32` topic carries the value truncated (its low 32 bits: the sequence number).
        let v = if t.wide || t.rec {
            value(id, seq)
        } else {
            u64::from(value(id, seq) as u32)
        };
        t.window.push_back(v);
        t.published += 1;
        Some(seq)
    }

    fn try_recv(&self, s: &mut SubM) -> Result<u64, TryRecvError> {
        let t = &self.topics[s.topic];
        if let Some(v) = s.stash.take() {
            s.cursor += 1;
            s.stats.received += 1;
            return Ok(v);
        }
        let oldest = t.published - t.window.len() as u64;
        if s.cursor < oldest {
            let n = oldest - s.cursor;
            s.cursor = oldest;
            s.stats.missed += n;
            s.stats.lag_events += 1;
            if t.rec {
                s.stash = t.window.front().copied();
            }
            return Err(TryRecvError::Lagged(n));
        }
        if s.cursor < t.published {
            let v = t.window[(s.cursor - oldest) as usize];
            s.cursor += 1;
            s.stats.received += 1;
            return Ok(v);
        }
        Err(if t.closed {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        })
    }

    /// `Ok(id)` of the live topic `name` of kind `(wide, rec)`, created if missing, or
    /// `Err(())` when the call must fail (invalid name, other kind).
    fn lookup(
        &mut self,
        name: &'static str,
        (wide, rec): (bool, bool),
        psubs: &mut [(PatternSubscriber<u64>, PSubM)],
    ) -> Result<usize, ()> {
        if !valid(name) {
            return Err(());
        }
        if let Some(&id) = self.live.get(name) {
            return if (self.topics[id].wide, self.topics[id].rec) == (wide, rec) {
                Ok(id)
            } else {
                Err(())
            };
        }
        let id = self.topics.len();
        self.topics.push(TopicM {
            name,
            wide,
            rec,
            published: 0,
            window: VecDeque::new(),
            closed: false,
            removed_at: None,
        });
        self.live.insert(name, id);
        // Existing pattern subscribers read a topic created later from its first message.
        for (_, p) in psubs.iter_mut() {
            p.start.insert(id, 0);
            p.unscanned.push(id);
        }
        Ok(id)
    }
}

pub fn run(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let header = next().unwrap_or(0);
    let capacity = 1usize << (header & 3);
    // Record topics of `capacity` one-chunk records.
    let bus = Bus::builder()
        .capacity(capacity)
        .record_capacity(capacity * 64)
        .build();
    assert_eq!(bus.capacity(), capacity);
    let mut m = Model {
        capacity: capacity as u64,
        topics: Vec::new(),
        live: BTreeMap::new(),
        removals: 0,
    };
    let mut pubs: Vec<(Pub, usize)> = Vec::new();
    let mut subs: Vec<(Sub, SubM)> = Vec::new();
    let mut psubs: Vec<(PatternSubscriber<u64>, PSubM)> = Vec::new();

    // BUS_MODEL_TRACE=1: print each operation (to debug a failing input).
    let trace = std::env::var_os("BUS_MODEL_TRACE").is_some();
    let mut step = 0usize;
    while let Some(code) = next() {
        step += 1;
        let arg = next().unwrap_or(0);
        let ctx = format!("step {step} code {} arg {arg}", code % 16);
        let name = NAMES[arg as usize % NAMES.len()];
        let wide = arg & 0x80 == 0;
        let rec = !wide && arg & 0x40 != 0;
        if trace {
            eprintln!(
                "{ctx} name {name:?} wide {wide} rec {rec} pubs {} subs {} psubs {}",
                pubs.len(),
                subs.len(),
                psubs.len()
            );
        }
        match code % 16 {
            0 | 1 => {
                if pubs.len() >= MAX_HANDLES {
                    continue;
                }
                let want = m.lookup(name, (wide, rec), &mut psubs);
                let got = if wide {
                    bus.publisher::<u64>(name).map(Pub::Wide)
                } else if rec {
                    bus.records(name).map(Pub::Rec)
                } else {
                    bus.publisher::<u32>(name).map(Pub::Narrow)
                };
                match (got, want) {
                    (Ok(p), Ok(id)) => pubs.push((p, id)),
                    (Err(e), Err(())) => assert!(!e.to_string().is_empty()),
                    (got, want) => panic!(
                        "{ctx}: publisher({name:?}, wide {wide}): got ok={} want {want:?}",
                        got.is_ok()
                    ),
                }
            }
            2 => {
                if subs.len() >= MAX_HANDLES {
                    continue;
                }
                let want = m.lookup(name, (wide, rec), &mut psubs);
                let got = if wide {
                    bus.subscribe::<u64>(name).map(Sub::Wide)
                } else if rec {
                    bus.subscribe_records(name).map(Sub::Rec)
                } else {
                    bus.subscribe::<u32>(name).map(Sub::Narrow)
                };
                match (got, want) {
                    (Ok(s), Ok(id)) => {
                        let cursor = m.topics[id].published;
                        subs.push((
                            s,
                            SubM {
                                topic: id,
                                cursor,
                                stats: SubscriberStats::default(),
                                stash: None,
                            },
                        ));
                    }
                    (Err(_), Err(())) => {}
                    (got, want) => panic!(
                        "{ctx}: subscribe({name:?}): got ok={} want {want:?}",
                        got.is_ok()
                    ),
                }
            }
            3 => {
                if psubs.len() >= MAX_HANDLES {
                    continue;
                }
                let pattern = PATTERNS[arg as usize % PATTERNS.len()];
                let p = bus
                    .subscribe_pattern::<u64>(pattern)
                    .expect("valid pattern");
                let start = m
                    .live
                    .values()
                    .filter(|&&id| m.topics[id].wide && matches(pattern, m.topics[id].name))
                    .map(|&id| (id, m.topics[id].published))
                    .collect();
                psubs.push((
                    p,
                    PSubM {
                        pattern,
                        cursor: HashMap::new(),
                        start,
                        closed_reported: Vec::new(),
                        stats: SubscriberStats::default(),
                        unscanned: Vec::new(),
                        forgotten: Vec::new(),
                    },
                ));
            }
            4..=6 => {
                let n = if code % 16 == 6 {
                    next().unwrap_or(0) % 12
                } else {
                    1
                };
                if pubs.is_empty() {
                    continue;
                }
                let i = arg as usize % pubs.len();
                for _ in 0..n {
                    let (p, id) = &pubs[i];
                    let id = *id;
                    let seq = m.topics[id].published;
                    let v = value(id, seq);
                    let use_try = code % 16 == 5;
                    let got: Result<u64, ()> = match (p, use_try) {
                        (Pub::Wide(p), true) => p
                            .try_send(v)
                            .map_err(|e| assert_eq!(e, TrySendError::Closed(v), "{ctx}")),
                        (Pub::Narrow(p), true) => p
                            .try_send(v as u32)
                            .map_err(|e| assert_eq!(e, TrySendError::Closed(v as u32), "{ctx}")),
                        (Pub::Wide(p), false) => p
                            .send(v)
                            .map_err(|e| assert_eq!(e.into_inner(), v, "{ctx}: value handed back")),
                        (Pub::Narrow(p), false) => p.send(v as u32).map_err(|e| {
                            assert_eq!(e.into_inner(), v as u32, "{ctx}: value handed back")
                        }),
                        (Pub::Rec(p), true) => p
                            .try_send(&record_of(v))
                            .map_err(|e| assert_eq!(e, RecordError::Closed, "{ctx}")),
                        (Pub::Rec(p), false) => p
                            .send(&record_of(v))
                            .map_err(|e| assert_eq!(e, RecordError::Closed, "{ctx}")),
                    };
                    let want = m.publish(id);
                    match (got, want) {
                        (Ok(s), Some(w)) => assert_eq!(s, w, "{ctx}: sequence number"),
                        (Ok(s), None) => panic!("{ctx}: send on a removed topic returned Ok({s})"),
                        (Err(()), None) => {}
                        (Err(()), Some(_)) => panic!("{ctx}: send refused on a live topic"),
                    }
                    let closed = match &pubs[i].0 {
                        Pub::Wide(p) => p.is_closed(),
                        Pub::Narrow(p) => p.is_closed(),
                        Pub::Rec(p) => p.is_closed(),
                    };
                    assert_eq!(closed, m.topics[id].closed, "{ctx}: is_closed");
                }
            }
            7 | 8 => {
                if let Some(i) = (!subs.is_empty()).then(|| arg as usize % subs.len()) {
                    let (s, sm) = &mut subs[i];
                    assert_eq!(
                        s.try_recv(),
                        m.try_recv(sm),
                        "{ctx}: try_recv on topic {}",
                        sm.topic
                    );
                    assert_eq!(s.stats(), sm.stats, "{ctx}: stats");
                }
            }
            9 | 10 => {
                if let Some(i) = (!psubs.is_empty()).then(|| arg as usize % psubs.len()) {
                    let (p, pm) = &mut psubs[i];
                    pattern_recv(&m, p, pm, &ctx);
                }
            }
            11 => {
                let got = bus.remove(name);
                match (valid(name), m.live.remove(name)) {
                    (false, _) => assert!(got.is_err(), "{ctx}: remove({name:?})"),
                    (true, Some(id)) => {
                        assert_eq!(got, Ok(true), "{ctx}: remove({name:?})");
                        m.topics[id].closed = true;
                        m.topics[id].removed_at = Some(m.removals);
                        m.removals += 1;
                    }
                    (true, None) => assert_eq!(got, Ok(false), "{ctx}: remove({name:?})"),
                }
            }
            12 => match arg % 3 {
                0 if !pubs.is_empty() => drop(pubs.swap_remove(arg as usize % pubs.len())),
                1 if !subs.is_empty() => drop(subs.swap_remove(arg as usize % subs.len())),
                2 if !psubs.is_empty() => drop(psubs.swap_remove(arg as usize % psubs.len())),
                _ => {}
            },
            13 => {
                let got: Vec<(String, usize, u64)> = bus
                    .topics()
                    .into_iter()
                    .map(|t| (t.name.as_str().to_owned(), t.capacity, t.published))
                    .collect();
                let want: Vec<(String, usize, u64)> = m
                    .live
                    .iter()
                    .map(|(n, &id)| {
                        let t = &m.topics[id];
                        let bytes = if t.rec { capacity * 64 } else { capacity };
                        (n.to_string(), bytes, t.published)
                    })
                    .collect();
                assert_eq!(got, want, "{ctx}: topics()");
            }
            _ => {
                // Plain subscribers are independent: a receive never changes another's view.
                if let Some(i) = (!subs.is_empty()).then(|| arg as usize % subs.len()) {
                    let (s, sm) = &mut subs[i];
                    for _ in 0..4 {
                        assert_eq!(s.try_recv(), m.try_recv(sm), "{ctx}: try_recv burst");
                    }
                }
            }
        }
    }

    // Final drain: plain subscribers agree to the end; pattern subscribers, polled until
    // Empty, have accounted for every message of every live matching topic.
    for (s, sm) in &mut subs {
        for _ in 0..capacity + 3 {
            assert_eq!(s.try_recv(), m.try_recv(sm), "final drain");
        }
    }
    for (p, pm) in &mut psubs {
        let mut polls = 0;
        while pattern_recv(&m, p, pm, "final drain") {
            polls += 1;
            assert!(polls < 10_000, "pattern subscriber never reaches Empty");
        }
        // Every removed topic it reads was reported `Closed`: none went missing unreported.
        for (id, t) in m.topics.iter().enumerate() {
            if t.closed && t.wide && matches(pm.pattern, t.name) && pm.start.contains_key(&id) {
                assert!(
                    pm.closed_reported.contains(&id),
                    "final drain: {:?} (topic id {id}) removed, never reported Closed",
                    t.name
                );
            }
        }
    }
}

/// One `try_recv` of a pattern subscriber, checked; returns `false` on `Empty`.
fn pattern_recv(m: &Model, p: &mut PatternSubscriber<u64>, pm: &mut PSubM, ctx: &str) -> bool {
    // The receive call joins the topics created since the last one. Those the table forgot
    // are reported lost; those it no longer describes are a documented, unreported loss.
    for id in pm.unscanned.drain(..) {
        match m.topics[id].removed_at {
            Some(r) if r + REMEMBERED + FORGOTTEN < m.removals => {
                pm.start.remove(&id);
            }
            Some(r) if r + REMEMBERED < m.removals => pm.forgotten.push(id),
            _ => {}
        }
    }
    let got = p.try_recv();
    if std::env::var_os("BUS_MODEL_TRACE").is_some() {
        eprintln!("  {ctx}: pattern {:?} got {got:?}", pm.pattern);
    }
    let more = match &got {
        Ok((topic, v)) => {
            let id = (v >> 32) as usize;
            let seq = v & 0xFFFF_FFFF;
            let t = m
                .topics
                .get(id)
                .unwrap_or_else(|| panic!("{ctx}: value {v:#x} was never sent"));
            assert_eq!(
                topic.as_str(),
                t.name,
                "{ctx}: item labelled with the wrong topic"
            );
            assert!(
                t.wide && matches(pm.pattern, t.name),
                "{ctx}: {:?} got an item from {:?}",
                pm.pattern,
                t.name
            );
            assert_eq!(
                seq,
                pm.cursor(id),
                "{ctx}: out of order, duplicate or skipped item on {:?} (topic id {id}, published {}, \
                 window {}, closed {}); real per-topic stats: {:?}",
                t.name,
                t.published,
                t.window.len(),
                t.closed,
                p.topic_stats()
            );
            assert!(seq < t.published);
            assert_eq!(
                oldest_read(m, pm, t.name),
                Some(id),
                "{ctx}: item of a re-created {:?} before the removed one was drained",
                t.name
            );
            pm.cursor.insert(id, seq + 1);
            pm.stats.received += 1;
            true
        }
        Err(TopicError {
            topic: Some(topic),
            error: TryRecvError::Lagged(missed),
        }) => {
            // Reports refer to the oldest instance of the name still being read (a re-created
            // topic waits until the removed one is drained), and must be exact.
            let id = oldest_read(m, pm, topic.as_str())
                .unwrap_or_else(|| panic!("{ctx}: Lagged {{ {topic:?} }} for no topic read"));
            let t = &m.topics[id];
            // A forgotten topic's ring is gone: every message is lost.
            let held = if pm.forgotten.contains(&id) {
                0
            } else {
                t.window.len() as u64
            };
            assert_eq!(
                pm.cursor(id) + missed,
                t.published - held,
                "{ctx}: inexact Lagged {{ {topic:?}, {missed} }} for topic id {id} (closed {}, \
                 published {}, window {}, cursor {}); real per-topic stats after the report: {:?}",
                t.closed,
                t.published,
                t.window.len(),
                pm.cursor(id),
                p.topic_stats()
            );
            assert!(*missed > 0);
            pm.cursor.insert(id, pm.cursor(id) + missed);
            pm.stats.missed += missed;
            pm.stats.lag_events += 1;
            true
        }
        Err(TopicError {
            topic: Some(topic),
            error: TryRecvError::Closed,
        }) => {
            let id = oldest_read(m, pm, topic.as_str())
                .filter(|&id| m.topics[id].closed && pm.cursor(id) == m.topics[id].published)
                .unwrap_or_else(|| {
                    let seen: Vec<_> = (0..m.topics.len())
                        .filter(|&id| m.topics[id].name == topic.as_str())
                        .map(|id| {
                            let t = &m.topics[id];
                            (id, t.closed, t.published, pm.start.get(&id).copied(),
                             pm.cursor(id), pm.closed_reported.contains(&id))
                        })
                        .collect();
                    panic!(
                        "{ctx}: Closed {{ {topic:?} }} before draining, twice, or for a live topic; \
                         (id, closed, published, start, cursor, reported): {seen:?}"
                    )
                });
            pm.closed_reported.push(id);
            true
        }
        Err(TopicError {
            topic: None,
            error: TryRecvError::Empty,
        }) => {
            for &id in m.live.values() {
                let t = &m.topics[id];
                if t.wide && matches(pm.pattern, t.name) {
                    assert_eq!(
                        pm.cursor(id),
                        t.published,
                        "{ctx}: Empty, but {:?} has unread messages",
                        t.name
                    );
                }
            }
            false
        }
        Err(e) => panic!("{ctx}: a pattern subscriber reported {e:?}"),
    };
    assert_eq!(
        p.stats(),
        pm.stats,
        "{ctx}: pattern subscriber stats after {got:?}"
    );
    more
}

/// The oldest topic named `name` that the pattern subscriber reads (a matching `u64` topic
/// live at subscription or created later) and has not yet reported `Closed`.
fn oldest_read(m: &Model, pm: &PSubM, name: &str) -> Option<usize> {
    (0..m.topics.len()).find(|&id| {
        let t = &m.topics[id];
        t.name == name
            && t.wide
            && matches(pm.pattern, t.name)
            && pm.start.contains_key(&id)
            && !pm.closed_reported.contains(&id)
    })
}
