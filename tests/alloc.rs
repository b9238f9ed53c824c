//! A counting global allocator shows that `send`, `try_recv`, `SharedPublisher::send` and the
//! batch calls (into a reused buffer) allocate nothing (the ring is allocated once, by
//! `channel`).

use seqcast::error::TryRecvError;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread (thread-local so the test harness's own threads
    /// cannot disturb the count).
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 100]);
    assert!(
        allocations() > before,
        "the counting allocator must see a Vec"
    );
    drop(v);
}

#[test]
fn send_and_try_recv_allocate_nothing() {
    let (mut tx, mut rx) = seqcast::channel::<[u64; 8]>(64);
    let mut other = tx.subscribe();
    other.set_lag_policy(seqcast::LagPolicy::Disconnect);
    let before = allocations();
    for i in 0..10_000u64 {
        tx.send([i; 8]);
        assert_eq!(rx.try_recv(), Ok([i; 8]));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
    // Lapped and detached paths too.
    assert!(matches!(other.try_recv(), Err(TryRecvError::Lagged(_))));
    assert_eq!(other.try_recv(), Err(TryRecvError::Detached));
    let shared = tx.into_shared();
    for i in 0..10_000u64 {
        shared.send([i; 8]).unwrap();
        assert_eq!(rx.try_recv(), Ok([i; 8]));
    }
    assert_eq!(allocations(), before, "the hot paths allocated");
}

#[test]
fn batch_calls_allocate_nothing() {
    let (mut tx, mut rx) = seqcast::channel::<u64>(64);
    let mut gated = tx.subscribe_gated();
    let values: Vec<u64> = (0..32).collect();
    let mut buf = Vec::with_capacity(64);
    let before = allocations();
    for _ in 0..1_000 {
        assert_eq!(tx.send_batch(&values).count(), 32);
        buf.clear();
        assert_eq!(rx.try_recv_many(&mut buf, 64), Ok(32));
        let mut sum = 0;
        assert_eq!(gated.try_recv_batch(64, |v| sum += v), Ok(32));
        assert_eq!(sum, 31 * 32 / 2);
        assert_eq!(tx.try_send_batch(&values[..1]).count(), 1);
        assert_eq!(rx.try_recv_batch(8, |_| {}), Ok(1));
        assert_eq!(gated.try_recv_batch(8, |_| {}), Ok(1));
    }
    let shared = tx.into_shared();
    for _ in 0..1_000 {
        assert_eq!(shared.send_batch(&values).map(|r| r.count()), Ok(32));
        buf.clear();
        assert_eq!(rx.try_recv_many(&mut buf, 64), Ok(32));
        assert_eq!(gated.try_recv_batch(64, |_| {}), Ok(32));
    }
    assert_eq!(allocations(), before, "the batch calls allocated");
}

#[test]
fn record_send_and_receive_into_a_reused_buffer_allocate_nothing() {
    let (mut tx, mut rx) = seqcast::record::channel(64 * 1024);
    let record: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut buf = Vec::with_capacity(4096);
    let before = allocations();
    for i in 0..2_000usize {
        let len = i % 3000;
        tx.send(&record[..len]).unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Ok(len));
        assert_eq!(buf[..], record[..len]);
    }
    assert_eq!(allocations(), before, "record send or receive allocated");
}

#[test]
fn bus_record_topics_send_and_receive_without_allocating() {
    // The shared publisher's lock and the typed publisher's reused encoding buffer.
    let bus = seqcast::Bus::new();
    let tx = bus.records("log.api").unwrap();
    let mut rx = bus.subscribe_records("log.api").unwrap();
    let record: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut buf = Vec::with_capacity(4096);
    tx.send(&record).unwrap(); // the first lock may set up lazily
    rx.try_recv_into(&mut buf).unwrap();
    let before = allocations();
    for i in 0..2_000usize {
        let len = i % 3000;
        tx.send(&record[..len]).unwrap();
        assert_eq!(rx.try_recv_into(&mut buf), Ok(len));
    }
    assert_eq!(allocations(), before, "a bus record topic allocated");
}
