//! The record rows behind the runners' `Tx` / `Rx` interface: byte records of a chosen size on
//! seqcast's record topic, tokio's broadcast carrying `bytes::Bytes` or `String`, and
//! async-broadcast carrying `Bytes`; and typed serde messages (`OrderCreated`) on seqcast's
//! typed record topic beside tokio's broadcast carrying the struct itself.
//!
//! Every row sends the same bytes. The runners hand a `Msg<1>` (the stamp) to `send`; each
//! sender writes the stamp into the first 8 bytes of its record and the same fill after it.
//! The stamp is stored 7 bits a byte, relative to a shared base, so that the record is ASCII
//! and a `String` can carry exactly the bytes a `Bytes` does. Every receiver reads the whole
//! record (a byte sum, `black_box`ed) before it hands the stamp to the runner: a `Bytes` clone
//! is only a reference count, which is its real cost, but its bytes are still read.

use super::clock::ticks;
use super::libs::{Msg, Poll, Rx, Tx, Visit};
use bytes::Bytes;
use seqcast::error::{RecordError, TryRecvError};
use seqcast::record::{Codec, Postcard, RecordPublisher, RecordSubscriber};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::sync::OnceLock;

/// What the runners pass through a record row: the stamp alone.
pub type Stamp = Msg<1>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecLib {
    /// `seqcast::record::channel`: `RecordPublisher::send(&[u8])`, `try_recv_into` spin.
    SeqcastRecord,
    /// The same with a gated (lossless) subscriber (opt-in).
    SeqcastRecordGated,
    /// tokio's broadcast carrying `Bytes`: one copy into a new `Bytes` per send, a reference
    /// count per receive.
    TokioBytes,
    /// tokio's broadcast carrying `String`: one copy into a new `String` per send, a `String`
    /// clone (allocation and copy) per receive.
    TokioString,
    /// async-broadcast carrying `Bytes`, overflow mode (lossy), `try_broadcast` /
    /// `try_recv` spin.
    AsyncBroadcast,
    /// seqcast's typed ring with a 32-byte `Copy` payload (`Msg<4>`): latency at 32 B only,
    /// the reference for the record ring at the same size.
    SeqcastTyped,
    /// `seqcast::record::typed::<OrderCreated, Postcard>`: encode + send, receive + decode.
    SeqcastSerde,
    /// The same with a gated (lossless) subscriber.
    SeqcastSerdeGated,
    /// tokio's broadcast carrying `OrderCreated` as a `Clone` value.
    TokioStruct,
}

impl RecLib {
    /// The default rows: byte records, the typed 32 B reference, serde messages.
    pub const DEFAULT: [RecLib; 8] = [
        RecLib::SeqcastRecord,
        RecLib::TokioBytes,
        RecLib::TokioString,
        RecLib::AsyncBroadcast,
        RecLib::SeqcastTyped,
        RecLib::SeqcastSerde,
        RecLib::SeqcastSerdeGated,
        RecLib::TokioStruct,
    ];
    /// Only when named in `--rec-libs` (and in the smoke run).
    pub const OPT_IN: [RecLib; 1] = [RecLib::SeqcastRecordGated];
    /// The byte-record rows, in table order.
    pub const BYTES: [RecLib; 5] = [
        RecLib::SeqcastRecord,
        RecLib::SeqcastRecordGated,
        RecLib::TokioBytes,
        RecLib::TokioString,
        RecLib::AsyncBroadcast,
    ];
    /// The serde rows, in table order.
    pub const SERDE: [RecLib; 3] = [
        RecLib::SeqcastSerde,
        RecLib::SeqcastSerdeGated,
        RecLib::TokioStruct,
    ];
    pub fn name(self) -> &'static str {
        match self {
            RecLib::SeqcastRecord => "seqcast-record",
            RecLib::SeqcastRecordGated => "seqcast-record-gated",
            RecLib::TokioBytes => "tokio-bytes",
            RecLib::TokioString => "tokio-string",
            RecLib::AsyncBroadcast => "async-broadcast",
            RecLib::SeqcastTyped => "seqcast-typed",
            RecLib::SeqcastSerde => "seqcast-serde",
            RecLib::SeqcastSerdeGated => "seqcast-serde-gated",
            RecLib::TokioStruct => "tokio-struct",
        }
    }
    pub fn parse(s: &str) -> Option<RecLib> {
        RecLib::DEFAULT
            .into_iter()
            .chain(RecLib::OPT_IN)
            .find(|l| l.name() == s)
    }
    /// True if the sender never waits (a slow subscriber loses messages, reported).
    pub fn lossy(self) -> bool {
        !matches!(self, RecLib::SeqcastRecordGated | RecLib::SeqcastSerdeGated)
    }
}

// ---- the payload: stamp, then fill ------------------------------------------------------------

/// Bytes of the stamp at the head of every record.
pub const STAMP_BYTES: usize = 8;

/// Ticks at the first call: stamps are stored relative to it (56 bits, sign-extended).
fn base() -> u64 {
    static BASE: OnceLock<u64> = OnceLock::new();
    *BASE.get_or_init(ticks)
}

/// Writes `stamp` into `out` as eight ASCII bytes of 7 bits each, relative to `base()`.
#[inline(always)]
fn put_stamp(out: &mut [u8; STAMP_BYTES], stamp: u64) {
    let v = stamp.wrapping_sub(base());
    for (i, b) in out.iter_mut().enumerate() {
        *b = (v >> (7 * i)) as u8 & 0x7f;
    }
}

/// Reads the stamp `put_stamp` wrote at the head of `rec`.
#[inline(always)]
fn get_stamp(rec: &[u8]) -> u64 {
    let v = rec[..STAMP_BYTES]
        .iter()
        .enumerate()
        .fold(0u64, |v, (i, &b)| v | u64::from(b & 0x7f) << (7 * i));
    // Sign-extend the 56 bits: a stamp may lie before the base (the throughput runs send
    // message indices, which nobody reads back).
    base().wrapping_add(((v << 8) as i64 >> 8) as u64)
}

/// The fill after the stamp: ASCII letters.
fn fill(size: usize) -> Vec<u8> {
    (0..size.saturating_sub(STAMP_BYTES))
        .map(|i| b'a' + (i % 26) as u8)
        .collect()
}

/// A record's bytes summed: the receiver's proof that it read all of them.
#[inline(always)]
fn sum(rec: &[u8]) -> u64 {
    rec.iter().fold(0u64, |a, &b| a.wrapping_add(u64::from(b)))
}

/// What a receiver expects of every record: its size, and the sum of its fill.
#[derive(Clone, Copy)]
struct Expect {
    size: usize,
    fill_sum: u64,
}

impl Expect {
    fn new(size: usize) -> Self {
        Expect {
            size,
            fill_sum: sum(&fill(size)),
        }
    }

    /// Reads the whole record, then hands its stamp to `f`. Debug builds (the smoke run) check
    /// the record's length and fill, so a torn or mis-framed record fails the run.
    #[inline(always)]
    fn deliver(self, rec: &[u8], f: &mut impl FnMut(&Stamp)) {
        black_box(sum(black_box(rec)));
        if cfg!(debug_assertions) {
            assert_eq!(rec.len(), self.size, "record of the wrong length");
            assert_eq!(
                sum(&rec[STAMP_BYTES..]),
                self.fill_sum,
                "record's fill changed"
            );
        }
        f(&Msg([get_stamp(rec)]));
    }
}

/// The sender's reusable record: stamp bytes in front, the fill after them.
struct Record {
    buf: Vec<u8>,
}

impl Record {
    fn new(size: usize) -> Self {
        assert!(
            size >= STAMP_BYTES,
            "a record holds at least its 8-byte stamp"
        );
        let mut buf = vec![0; STAMP_BYTES];
        buf.extend(fill(size));
        Record { buf }
    }

    /// The record for `m`, stamped.
    #[inline(always)]
    fn stamped(&mut self, m: &Stamp) -> &[u8] {
        let head: &mut [u8; STAMP_BYTES] =
            (&mut self.buf[..STAMP_BYTES]).try_into().expect("8 bytes");
        put_stamp(head, m.0[0]);
        &self.buf
    }
}

/// Chunks of 64 bytes a record of `len` bytes takes on a record topic (40 bytes in the first,
/// 48 in each further one: `seqcast::record`'s framing).
pub fn chunks_for(len: usize) -> usize {
    1 + len.saturating_sub(40).div_ceil(48)
}

/// Bytes a record topic needs to hold `msgs` records of `len` bytes: the same number of
/// messages as the peers' channels hold.
fn ring_bytes(msgs: usize, len: usize) -> usize {
    msgs * chunks_for(len) * 64
}

// ---- seqcast record topic ------------------------------------------------------------------------

pub struct RecordTx {
    tx: RecordPublisher,
    rec: Record,
}

impl Tx<Stamp> for RecordTx {
    #[inline]
    fn send(&mut self, m: Stamp) {
        let rec = self.rec.stamped(&m);
        black_box(self.tx.send(rec).expect("record within max_len"));
    }
}

pub struct RecordRx {
    rx: RecordSubscriber,
    buf: Vec<u8>,
    expect: Expect,
}

impl Rx<Stamp> for RecordRx {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&Stamp)) -> Poll {
        match self.rx.try_recv_into(&mut self.buf) {
            Ok(_) => {
                self.expect.deliver(&self.buf, f);
                Poll::Got(1)
            }
            Err(TryRecvError::Empty) => Poll::Empty,
            Err(TryRecvError::Lagged(n)) => Poll::Lagged(n),
            Err(TryRecvError::Detached) => {
                panic!("a gated subscriber was evicted: the run is void")
            }
            Err(_) => Poll::Closed,
        }
    }
}

// ---- tokio::sync::broadcast carrying Bytes or String -------------------------------------------

pub struct TokioBytesTx {
    tx: tokio::sync::broadcast::Sender<Bytes>,
    rec: Record,
}

impl Tx<Stamp> for TokioBytesTx {
    #[inline]
    fn send(&mut self, m: Stamp) {
        let b = Bytes::copy_from_slice(self.rec.stamped(&m));
        black_box(self.tx.send(b).is_ok());
    }
}

pub struct TokioStringTx {
    tx: tokio::sync::broadcast::Sender<String>,
    /// The fill, as the `String` every message ends with.
    tail: String,
}

impl Tx<Stamp> for TokioStringTx {
    #[inline]
    fn send(&mut self, m: Stamp) {
        let mut head = [0u8; STAMP_BYTES];
        put_stamp(&mut head, m.0[0]);
        let mut s = String::with_capacity(STAMP_BYTES + self.tail.len());
        s.push_str(std::str::from_utf8(&head).expect("the stamp is ASCII"));
        s.push_str(&self.tail);
        black_box(self.tx.send(s).is_ok());
    }
}

/// A tokio receiver of `Bytes` or `String`: `try_recv` spin (tokio clones the value out).
pub struct TokioRx<T> {
    rx: tokio::sync::broadcast::Receiver<T>,
    expect: Expect,
}

impl<T: Clone + Send + AsRef<[u8]>> Rx<Stamp> for TokioRx<T> {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&Stamp)) -> Poll {
        use tokio::sync::broadcast::error::TryRecvError as E;
        match self.rx.try_recv() {
            Ok(v) => {
                self.expect.deliver(v.as_ref(), f);
                Poll::Got(1)
            }
            Err(E::Empty) => Poll::Empty,
            Err(E::Lagged(n)) => Poll::Lagged(n),
            Err(E::Closed) => Poll::Closed,
        }
    }
}

// ---- async-broadcast carrying Bytes, overflow mode ---------------------------------------------

pub struct AsyncTx {
    tx: async_broadcast::Sender<Bytes>,
    rec: Record,
}

impl Tx<Stamp> for AsyncTx {
    #[inline]
    fn send(&mut self, m: Stamp) {
        let b = Bytes::copy_from_slice(self.rec.stamped(&m));
        // Overflow mode: a full channel hands back its oldest message (dropped here) instead
        // of refusing the new one; Err only once the receivers are gone.
        black_box(self.tx.try_broadcast(b).is_ok());
    }
}

pub struct AsyncRx {
    rx: async_broadcast::Receiver<Bytes>,
    expect: Expect,
}

impl Rx<Stamp> for AsyncRx {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&Stamp)) -> Poll {
        use async_broadcast::TryRecvError as E;
        match self.rx.try_recv() {
            Ok(b) => {
                self.expect.deliver(&b, f);
                Poll::Got(1)
            }
            Err(E::Empty) => Poll::Empty,
            Err(E::Overflowed(n)) => Poll::Lagged(n),
            Err(E::Closed) => Poll::Closed,
        }
    }
}

/// Builds `lib`'s sender and one subscriber for records of `size` bytes, each channel holding
/// `cap` messages (seqcast's ring: room for `cap` records of that size), and calls `go`.
pub fn with_records<V: Visit<Stamp>>(lib: RecLib, size: usize, cap: usize, go: V) -> V::Out {
    let expect = Expect::new(size);
    let rec = Record::new(size);
    match lib {
        RecLib::SeqcastRecord | RecLib::SeqcastRecordGated => {
            let (tx, rx) = seqcast::record::try_channel(ring_bytes(cap, size)).expect("--capacity");
            assert!(tx.max_len() >= size, "{size} B records do not fit the ring");
            let rx = if lib == RecLib::SeqcastRecordGated {
                // Only gated subscribers count: the lossy first one goes before the run.
                drop(rx);
                tx.subscribe_gated()
            } else {
                rx
            };
            let rx = RecordRx {
                rx,
                buf: Vec::with_capacity(size),
                expect,
            };
            go.visit(RecordTx { tx, rec }, vec![rx])
        }
        RecLib::TokioBytes => {
            let (tx, rx) = tokio::sync::broadcast::channel(cap);
            go.visit(TokioBytesTx { tx, rec }, vec![TokioRx { rx, expect }])
        }
        RecLib::TokioString => {
            let (tx, rx) = tokio::sync::broadcast::channel(cap);
            let tail = String::from_utf8(fill(size)).expect("the fill is ASCII");
            go.visit(TokioStringTx { tx, tail }, vec![TokioRx { rx, expect }])
        }
        RecLib::AsyncBroadcast => {
            let (mut tx, rx) = async_broadcast::broadcast(cap);
            tx.set_overflow(true);
            go.visit(AsyncTx { tx, rec }, vec![AsyncRx { rx, expect }])
        }
        RecLib::SeqcastTyped | RecLib::SeqcastSerde | RecLib::SeqcastSerdeGated => {
            unreachable!("{} is not a byte-record row", lib.name())
        }
        RecLib::TokioStruct => unreachable!("{} is not a byte-record row", lib.name()),
    }
}

// ---- typed serde messages ------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Item {
    pub sku: String,
    pub quantity: u32,
    pub unit_price: f64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct OrderCreated {
    pub order_id: String,
    pub items: Vec<Item>,
    pub total: f64,
}

/// The order every serde row sends: three items. Each message is a fresh value built from it
/// (`clone`, the stand-in for a producer building its event), with `total` set to the
/// message's index.
pub fn sample_order() -> OrderCreated {
    let items = vec![
        Item {
            sku: "sku-apple-0001".into(),
            quantity: 3,
            unit_price: 0.45,
        },
        Item {
            sku: "sku-pear-0042".into(),
            quantity: 1,
            unit_price: 0.8,
        },
        Item {
            sku: "sku-milk-1l-07".into(),
            quantity: 2,
            unit_price: 1.19,
        },
    ];
    let total = items
        .iter()
        .map(|i| i.unit_price * f64::from(i.quantity))
        .sum();
    OrderCreated {
        order_id: "ord-2024-000017".into(),
        items,
        total,
    }
}

/// Bytes of the sample order encoded with postcard (what the record topic carries).
pub fn order_bytes() -> usize {
    let mut buf = Vec::new();
    Postcard::encode(&sample_order(), &mut buf).expect("the sample order encodes");
    buf.len()
}

/// Reads every field of a received order (string bytes included), then counts it.
#[inline(always)]
fn deliver_order(o: &OrderCreated, f: &mut impl FnMut(&Stamp)) {
    let o = black_box(o);
    let mut acc = sum(o.order_id.as_bytes()).wrapping_add(o.total.to_bits());
    for i in &o.items {
        acc = acc
            .wrapping_add(sum(i.sku.as_bytes()))
            .wrapping_add(u64::from(i.quantity))
            .wrapping_add(i.unit_price.to_bits());
    }
    black_box(acc);
    if cfg!(debug_assertions) {
        let want = sample_order();
        assert_eq!(
            (&o.order_id, &o.items),
            (&want.order_id, &want.items),
            "order changed on the way"
        );
    }
    f(&Msg([0]));
}

/// A fresh order for message `index`.
#[inline(always)]
fn order_for(template: &OrderCreated, index: u64) -> OrderCreated {
    let mut o = template.clone();
    o.total = index as f64;
    o
}

type SerdeTopic = seqcast::record::TypedPublisher<OrderCreated, Postcard>;

pub struct SerdeTx {
    tx: SerdeTopic,
    template: OrderCreated,
}

impl Tx<Stamp> for SerdeTx {
    #[inline]
    fn send(&mut self, m: Stamp) {
        let o = order_for(&self.template, m.0[0]);
        black_box(self.tx.send(&o).expect("the order encodes within max_len"));
    }
}

pub struct SerdeRx {
    rx: seqcast::record::TypedSubscriber<OrderCreated, Postcard>,
}

impl Rx<Stamp> for SerdeRx {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&Stamp)) -> Poll {
        match self.rx.try_recv() {
            Ok(o) => {
                deliver_order(&o, f);
                Poll::Got(1)
            }
            Err(RecordError::Recv(TryRecvError::Empty)) => Poll::Empty,
            Err(RecordError::Recv(TryRecvError::Lagged(n))) => Poll::Lagged(n),
            Err(RecordError::Recv(TryRecvError::Closed)) => Poll::Closed,
            Err(e) => panic!("seqcast-serde: {e}"),
        }
    }
}

pub struct TokioStructTx {
    tx: tokio::sync::broadcast::Sender<OrderCreated>,
    template: OrderCreated,
}

impl Tx<Stamp> for TokioStructTx {
    #[inline]
    fn send(&mut self, m: Stamp) {
        let o = order_for(&self.template, m.0[0]);
        black_box(self.tx.send(o).is_ok());
    }
}

pub struct TokioStructRx {
    rx: tokio::sync::broadcast::Receiver<OrderCreated>,
}

impl Rx<Stamp> for TokioStructRx {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&Stamp)) -> Poll {
        use tokio::sync::broadcast::error::TryRecvError as E;
        match self.rx.try_recv() {
            Ok(o) => {
                deliver_order(&o, f);
                Poll::Got(1)
            }
            Err(E::Empty) => Poll::Empty,
            Err(E::Lagged(n)) => Poll::Lagged(n),
            Err(E::Closed) => Poll::Closed,
        }
    }
}

/// Builds a serde row's sender and one subscriber, each channel holding `cap` messages.
pub fn with_orders<V: Visit<Stamp>>(lib: RecLib, cap: usize, go: V) -> V::Out {
    let template = sample_order();
    match lib {
        RecLib::SeqcastSerde | RecLib::SeqcastSerdeGated => {
            let (tx, rx) =
                seqcast::record::typed::<OrderCreated, Postcard>(ring_bytes(cap, order_bytes()))
                    .expect("--capacity");
            let rx = if lib == RecLib::SeqcastSerdeGated {
                drop(rx);
                tx.subscribe_gated()
            } else {
                rx
            };
            go.visit(SerdeTx { tx, template }, vec![SerdeRx { rx }])
        }
        RecLib::TokioStruct => {
            let (tx, rx) = tokio::sync::broadcast::channel(cap);
            go.visit(TokioStructTx { tx, template }, vec![TokioStructRx { rx }])
        }
        other => unreachable!("{} is not a serde row", other.name()),
    }
}
