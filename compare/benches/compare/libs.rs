//! The libraries under test behind one small interface, so the latency and throughput runners
//! are the same code for all of them. Every adapter moves the whole payload out to the reader
//! (a copy, `black_box`ed by the runner), so no library gets to skip the copy.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[path = "layout.rs"]
pub mod layout;

/// A `[u64; N]` message: word 0 is the send timestamp (ticks), word 1 (if any) the index.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Msg<const N: usize>(pub [u64; N]);

impl<const N: usize> Msg<N> {
    #[inline(always)]
    pub fn new(stamp: u64, index: u64) -> Self {
        let mut w = [index; N];
        w[0] = stamp;
        Msg(w)
    }
    #[inline(always)]
    pub fn stamp(&self) -> u64 {
        self.0[0]
    }
}

/// What one poll of a subscriber found.
pub enum Poll {
    /// This many messages were handed to the callback.
    Got(u64),
    Empty,
    /// The library reported this many messages lost to this subscriber.
    Lagged(u64),
    /// Sender gone and everything drained.
    Closed,
}

pub trait Tx<M>: Send {
    /// Sends one message. Libraries that block when full (bus, disruptor) spin here.
    fn send(&mut self, m: M);
    /// Sends whatever the adapter still holds back (seqcast-batch-send's partial chunk).
    fn flush(&mut self) {}
    /// Messages the sender itself dropped per subscriber (crossbeam `try_send`), if any.
    fn dropped(&self) -> Vec<u64> {
        Vec::new()
    }
}

pub trait Rx<M>: Send {
    /// Polls once; calls `f` for each message received (disruptor and seqcast hand over
    /// every message that is ready), and says how many that was.
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    Limit,
    Seqcast,
    /// seqcast with every subscriber on `LagPolicy::SkipToNewest` (throughput runs only).
    SeqcastNewest,
    /// seqcast with every subscriber gated (`subscribe_gated`): lossless, the publisher waits
    /// for the slowest subscriber, like the Disruptor and bus.
    SeqcastGated,
    /// seqcast with `SlotLayout::Line`: one message per 64-byte line or more (opt-in).
    SeqcastLine,
    /// seqcast with `SlotLayout::Packed`: payloads up to 24 B several to a line (opt-in).
    SeqcastPacked,
    /// seqcast publishing with `send_batch` in chunks of `BATCH_SEND` (opt-in, throughput
    /// runs only).
    SeqcastBatchSend,
    Tokio,
    Crossbeam,
    Bus,
    Disruptor,
    /// A slot-layout experiment (`layout.rs`); only run when named in `--libs`.
    Layout(layout::Variant),
}

impl Lib {
    pub const PEERS: [Lib; 7] = [
        Lib::Seqcast,
        Lib::SeqcastNewest,
        Lib::SeqcastGated,
        Lib::Tokio,
        Lib::Crossbeam,
        Lib::Bus,
        Lib::Disruptor,
    ];
    /// seqcast in other configurations, only run when named in `--libs` (and in the smoke
    /// run): the slot layouts, to measure which one `SlotLayout::Auto` should pick at each
    /// size, and batch publishing.
    pub const OPT_IN: [Lib; 3] = [Lib::SeqcastLine, Lib::SeqcastPacked, Lib::SeqcastBatchSend];
    /// The slot-layout experiments (`layout.rs`), never in the default run.
    pub const LAYOUTS: [Lib; layout::Variant::ALL.len()] = {
        let mut out = [Lib::Limit; layout::Variant::ALL.len()];
        let mut i = 0;
        while i < out.len() {
            out[i] = Lib::Layout(layout::Variant::ALL[i]);
            i += 1;
        }
        out
    };
    pub fn name(self) -> &'static str {
        match self {
            Lib::Limit => "limit",
            Lib::Seqcast => "seqcast",
            Lib::SeqcastNewest => "seqcast-newest",
            Lib::SeqcastGated => "seqcast-gated",
            Lib::SeqcastLine => "seqcast-line",
            Lib::SeqcastPacked => "seqcast-packed",
            Lib::SeqcastBatchSend => "seqcast-batch-send",
            Lib::Tokio => "tokio-broadcast",
            Lib::Crossbeam => "crossbeam-channel",
            Lib::Bus => "bus",
            Lib::Disruptor => "disruptor",
            Lib::Layout(v) => v.name(),
        }
    }
    pub fn parse(s: &str) -> Option<Lib> {
        Some(match s {
            "limit" => Lib::Limit,
            "seqcast" => Lib::Seqcast,
            "seqcast-newest" => Lib::SeqcastNewest,
            "seqcast-gated" => Lib::SeqcastGated,
            "seqcast-line" => Lib::SeqcastLine,
            "seqcast-packed" => Lib::SeqcastPacked,
            "seqcast-batch-send" => Lib::SeqcastBatchSend,
            "tokio" | "tokio-broadcast" => Lib::Tokio,
            "crossbeam" | "crossbeam-channel" => Lib::Crossbeam,
            "bus" => Lib::Bus,
            "disruptor" => Lib::Disruptor,
            _ => Lib::Layout(*layout::Variant::ALL.iter().find(|v| v.name() == s)?),
        })
    }
    /// The rows that run seqcast itself (not the layout experiments, which only imitate it).
    pub fn is_seqcast(self) -> bool {
        matches!(
            self,
            Lib::Seqcast
                | Lib::SeqcastNewest
                | Lib::SeqcastGated
                | Lib::SeqcastLine
                | Lib::SeqcastPacked
                | Lib::SeqcastBatchSend
        )
    }
    /// True if the sender never waits for readers (slow readers lose messages instead);
    /// false for the lossless rows, whose sender waits for the slowest reader.
    pub fn lossy(self) -> bool {
        matches!(
            self,
            Lib::Seqcast
                | Lib::SeqcastNewest
                | Lib::SeqcastLine
                | Lib::SeqcastPacked
                | Lib::SeqcastBatchSend
                | Lib::Tokio
                | Lib::Crossbeam
                | Lib::Limit
                | Lib::Layout(_)
        )
    }
}

/// Builds one sender and `n` subscribers for `lib`, `cap` slots each (crossbeam: per channel).
/// Calls `go` with them (the adapters have different types, hence the visitor).
pub fn with_lib<M, V>(lib: Lib, cap: usize, n: usize, go: V) -> V::Out
where
    M: Copy + Send + Sync + 'static + Stamped,
    V: Visit<M>,
{
    match lib {
        Lib::Limit => {
            let line = Arc::new(StampLine::default());
            let rxs = (0..n)
                .map(|_| LimitRx {
                    line: line.clone(),
                    last: 0,
                })
                .collect();
            go.visit(LimitTx { line }, rxs)
        }
        Lib::Seqcast
        | Lib::SeqcastNewest
        | Lib::SeqcastLine
        | Lib::SeqcastPacked
        | Lib::SeqcastBatchSend => {
            let layout = match lib {
                Lib::SeqcastLine => seqcast::SlotLayout::Line,
                Lib::SeqcastPacked => seqcast::SlotLayout::Packed,
                _ => seqcast::SlotLayout::Auto,
            };
            let (tx, rx0) = seqcast::try_channel_with::<M>(cap, layout).expect("--capacity");
            let mut rxs: Vec<_> = (1..n).map(|_| tx.subscribe()).collect();
            rxs.insert(0, rx0);
            if lib == Lib::SeqcastNewest {
                for rx in &mut rxs {
                    rx.set_lag_policy(seqcast::LagPolicy::SkipToNewest);
                }
            }
            if lib == Lib::SeqcastBatchSend {
                let buf = Vec::with_capacity(BATCH_SEND);
                return go.visit(BatchTx { tx, buf }, rxs);
            }
            go.visit(tx, rxs)
        }
        Lib::SeqcastGated => {
            let (tx, rx0) = seqcast::channel::<M>(cap);
            // `channel` always hands back one lossy subscriber: dropped before the run, so
            // every subscriber that counts is gated and the publisher waits for the slowest.
            drop(rx0);
            let rxs: Vec<_> = (0..n).map(|_| tx.subscribe_gated()).collect();
            go.visit(tx, rxs)
        }
        Lib::Tokio => {
            let (tx, rx0) = tokio::sync::broadcast::channel::<M>(cap);
            let mut rxs: Vec<_> = (1..n).map(|_| tx.subscribe()).collect();
            rxs.insert(0, rx0);
            go.visit(tx, rxs)
        }
        Lib::Crossbeam => {
            let (txs, rxs): (Vec<_>, Vec<_>) =
                (0..n).map(|_| crossbeam_channel::bounded::<M>(cap)).unzip();
            let dropped = vec![0; n];
            go.visit(CrossbeamTx { txs, dropped }, rxs)
        }
        Lib::Bus => {
            let mut bus = bus::Bus::<M>::new(cap);
            let rxs = (0..n).map(|_| bus.add_rx()).collect();
            go.visit(BusTx(bus), rxs)
        }
        Lib::Disruptor => disruptor_adapter::build(cap, n, go),
        Lib::Layout(v) => layout::build(v, cap, n, go),
    }
}

/// Something that runs a benchmark over a sender and its subscribers.
pub trait Visit<M> {
    type Out;
    fn visit<T: Tx<M>, R: Rx<M>>(self, tx: T, rxs: Vec<R>) -> Self::Out;
}

/// Payloads that carry a timestamp in their first word.
pub trait Stamped {
    /// Size in 8-byte words (for the layout experiments, which store word by word).
    const WORDS: usize;
    fn stamped(stamp: u64) -> Self;
    fn make(stamp: u64, index: u64) -> Self;
    fn stamp_of(&self) -> u64;
    fn word(&self, i: usize) -> u64;
    fn from_words(f: impl FnMut(usize) -> u64) -> Self;
}

impl<const N: usize> Stamped for Msg<N> {
    const WORDS: usize = N;
    #[inline(always)]
    fn word(&self, i: usize) -> u64 {
        self.0[i]
    }
    #[inline(always)]
    fn from_words(f: impl FnMut(usize) -> u64) -> Self {
        Msg(std::array::from_fn(f))
    }
    #[inline(always)]
    fn stamped(stamp: u64) -> Self {
        Msg::new(stamp, 0)
    }
    #[inline(always)]
    fn make(stamp: u64, index: u64) -> Self {
        Msg::new(stamp, index)
    }
    #[inline(always)]
    fn stamp_of(&self) -> u64 {
        self.stamp()
    }
}

// ---- limit: one stamp in one 128-byte-aligned line -------------------------------------------

/// The physical minimum: the publisher's whole "send" is one store of its stamp into this line.
#[repr(C, align(128))]
#[derive(Default)]
pub struct StampLine(pub AtomicU64);

pub struct LimitTx {
    line: Arc<StampLine>,
}

impl<M: Stamped> Tx<M> for LimitTx {
    #[inline]
    fn send(&mut self, m: M) {
        self.line.0.store(m.stamp_of(), Ordering::Release);
    }
}

impl Drop for LimitTx {
    fn drop(&mut self) {
        self.line.0.store(u64::MAX, Ordering::Release);
    }
}

pub struct LimitRx {
    line: Arc<StampLine>,
    last: u64,
}

impl<M: Stamped + Send> Rx<M> for LimitRx {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
        let v = self.line.0.load(Ordering::Acquire);
        if v == self.last {
            return Poll::Empty;
        }
        if v == u64::MAX {
            return Poll::Closed;
        }
        self.last = v;
        f(&M::stamped(v));
        Poll::Got(1)
    }
}

// ---- seqcast -----------------------------------------------------------------------------------

impl<M: Copy + Send + 'static> Tx<M> for seqcast::Publisher<M> {
    #[inline]
    fn send(&mut self, m: M) {
        black_box(seqcast::Publisher::send(self, m));
    }
}

impl<M: Copy + Send + 'static> Rx<M> for seqcast::Subscriber<M> {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
        use seqcast::error::TryRecvError as E;
        // Everything ready, up to a ring's worth: the Disruptor's poller hands over a whole
        // batch too. Each message still reaches `f` on its own, copied out of the ring.
        let limit = self.capacity();
        match self.try_recv_batch(limit, |m| f(&m)) {
            Ok(n) => Poll::Got(n as u64),
            Err(E::Empty) => Poll::Empty,
            Err(E::Lagged(n)) => Poll::Lagged(n),
            // Only a gated subscriber that stalled its publisher for a whole second (the
            // default `GateConfig`) is detached; its row would quietly lose messages.
            Err(E::Detached) => panic!("a gated subscriber was evicted: the run is void"),
            Err(_) => Poll::Closed,
        }
    }
}

/// Messages per `send_batch` call in the seqcast-batch-send row.
pub const BATCH_SEND: usize = 32;

/// seqcast-batch-send's sender: holds messages back until it has `BATCH_SEND`, then
/// publishes them with one `send_batch` (one head store for the lot).
pub struct BatchTx<M: Copy + Send + 'static> {
    tx: seqcast::Publisher<M>,
    buf: Vec<M>,
}

impl<M: Copy + Send + 'static> Tx<M> for BatchTx<M> {
    #[inline]
    fn send(&mut self, m: M) {
        self.buf.push(m);
        if self.buf.len() == BATCH_SEND {
            black_box(self.tx.send_batch(&self.buf));
            self.buf.clear();
        }
    }
    fn flush(&mut self) {
        if !self.buf.is_empty() {
            black_box(self.tx.send_batch(&self.buf));
            self.buf.clear();
        }
    }
}

impl<M: Copy + Send + 'static> Drop for BatchTx<M> {
    fn drop(&mut self) {
        // The runners flush before they drop; this only keeps a forgotten chunk from vanishing.
        if !self.buf.is_empty() {
            self.tx.send_batch(&self.buf);
        }
    }
}

// ---- tokio::sync::broadcast (no runtime: try_recv spin) -----------------------------------------

impl<M: Clone + Send + 'static> Tx<M> for tokio::sync::broadcast::Sender<M> {
    #[inline]
    fn send(&mut self, m: M) {
        // Err only when there is no receiver left; the harness ignores it like seqcast's seq.
        black_box(tokio::sync::broadcast::Sender::send(self, m).is_ok());
    }
}

impl<M: Clone + Send + 'static> Rx<M> for tokio::sync::broadcast::Receiver<M> {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
        use tokio::sync::broadcast::error::TryRecvError as E;
        match self.try_recv() {
            Ok(m) => {
                f(&m);
                Poll::Got(1)
            }
            Err(E::Empty) => Poll::Empty,
            Err(E::Lagged(n)) => Poll::Lagged(n),
            Err(E::Closed) => Poll::Closed,
        }
    }
}

// ---- crossbeam-channel: one bounded channel per subscriber, try_send (drops counted) ----------

pub struct CrossbeamTx<M> {
    txs: Vec<crossbeam_channel::Sender<M>>,
    dropped: Vec<u64>,
}

impl<M: Copy + Send> Tx<M> for CrossbeamTx<M> {
    #[inline]
    fn send(&mut self, m: M) {
        for (tx, d) in self.txs.iter().zip(self.dropped.iter_mut()) {
            if tx.try_send(m).is_err() {
                *d += 1;
            }
        }
    }
    fn dropped(&self) -> Vec<u64> {
        self.dropped.clone()
    }
}

impl<M: Send> Rx<M> for crossbeam_channel::Receiver<M> {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
        use crossbeam_channel::TryRecvError as E;
        match self.try_recv() {
            Ok(m) => {
                f(&m);
                Poll::Got(1)
            }
            Err(E::Empty) => Poll::Empty,
            Err(E::Disconnected) => Poll::Closed,
        }
    }
}

// ---- bus: the writer waits for the slowest reader when full (try_broadcast spin) ----------------

pub struct BusTx<M>(bus::Bus<M>);

impl<M: Clone + Send + Sync> Tx<M> for BusTx<M> {
    #[inline]
    fn send(&mut self, mut m: M) {
        while let Err(back) = self.0.try_broadcast(m) {
            m = back;
            std::hint::spin_loop();
        }
    }
}

impl<M: Clone + Send + Sync> Rx<M> for bus::BusReader<M> {
    #[inline]
    fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
        use std::sync::mpsc::TryRecvError as E;
        match self.try_recv() {
            Ok(m) => {
                f(&m);
                Poll::Got(1)
            }
            Err(E::Empty) => Poll::Empty,
            Err(E::Disconnected) => Poll::Closed,
        }
    }
}

// ---- disruptor: single producer, one EventPoller per subscriber (busy polling) -----------------

mod disruptor_adapter {
    use super::{Poll, Rx, Tx, Visit};
    use disruptor::{BusySpin, EventPoller, Polling, Producer, SingleProducerBarrier};

    pub struct DTx<P>(P);

    impl<M: Copy + Send, P: Producer<M> + Send> Tx<M> for DTx<P> {
        #[inline]
        fn send(&mut self, m: M) {
            // `publish` spins while the ring is full (gated by the slowest poller).
            self.0.publish(|e| *e = m);
        }
    }

    /// Pollers of the first stage depend on the producer's barrier.
    pub struct DRx<M>(EventPoller<M, SingleProducerBarrier>);

    impl<M: Copy + Send + Sync> Rx<M> for DRx<M> {
        #[inline]
        fn poll(&mut self, f: &mut impl FnMut(&M)) -> Poll {
            match self.0.poll() {
                Ok(mut events) => {
                    let mut n = 0;
                    for e in &mut events {
                        let m: M = *e;
                        f(&m);
                        n += 1;
                    }
                    Poll::Got(n)
                }
                Err(Polling::NoEvents) => Poll::Empty,
                Err(Polling::Shutdown) => Poll::Closed,
            }
        }
    }

    pub fn build<M, V>(cap: usize, n: usize, go: V) -> V::Out
    where
        M: Copy + Send + Sync + 'static + super::Stamped,
        V: Visit<M>,
    {
        let size = cap.next_power_of_two();
        let b = disruptor::build_single_producer(size, || M::stamped(0), BusySpin);
        if n == 1 {
            // The single-consumer barrier: the Disruptor's fastest configuration.
            let (p, b) = b.new_event_poller();
            return go.visit(DTx(b.build()), vec![DRx(p)]);
        }
        let mut b = b.with_multi_consumer();
        let mut rxs = Vec::with_capacity(n);
        for _ in 0..n {
            let (p, next) = b.new_event_poller();
            rxs.push(DRx(p));
            b = next;
        }
        go.visit(DTx(b.build()), rxs)
    }
}
