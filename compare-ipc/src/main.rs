//! Cross-process one-way latency and burst throughput: a raw shared cache line (the hardware
//! floor), `seqcast::shm`, and iceoryx2 publish-subscribe, measured by the same harness in the
//! same run with the same payloads.
//!
//! ```text
//! cd compare-ipc && cargo run --release -- [--rounds 31] [--samples 5000] [--quick] [--help]
//! ```
//!
//! The process that runs is the publisher; for every measurement it sets up the channel,
//! spawns itself as the subscriber (`--role sub ...`) pinned to another core, waits for it to
//! say `ready`, publishes, and reads one result line back from the child's stdout.
//!
//! * Latency: one message every `--interval-ns` (2 µs), stamped with
//!   `clock_gettime(CLOCK_MONOTONIC)` (one clock for every process on the machine) just
//!   before the send; the busy-polling subscriber records `now - stamp`. The first
//!   `--warmup` receptions of each run are dropped.
//! * Throughput: the publisher sends flat out for `--burst-ms`; the subscriber counts what
//!   it receives until a stop message, and seqcast's subscriber also reports what it lost to
//!   lag.
//!
//! Rows of one round run in rotating order; each row reports the median over rounds of a
//! round's percentile, and the range over rounds.
//!
//! `seqcast::shm` runs four ways, with the same subscriber (`ShmSubscriber`, busy-polling
//! `try_recv`) and the same 1024 slots:
//! * `seqcast::shm`: a ring with one publisher (`ShmPublisher`), the comparison;
//! * `shared ring, 1 publisher`: a ring made by `ShmSharedPublisher::create_at`, which takes
//!   up to `MAX_PUBLISHERS` publisher processes, with only the measuring process in it: what
//!   allowing more publishers costs a topic that has one (per send, two stores of its owner
//!   word, a ticket `fetch_add` and a compare-exchange of the head, where the exclusive ring
//!   stores the head);
//! * `shared ring, + a 2nd publisher process` (latency only): the same, with a second
//!   process (`--role pub2`, pinned to `--pub2-core`, the publisher's core unless told
//!   otherwise) joined by `open_at` before the subscriber starts and kept there, sending
//!   nothing, until the subscriber has reported: what a publisher that only holds its place
//!   (its heartbeat thread wakes every 50 ms) costs the one that sends;
//! * `shared ring, send_batch(64)` (burst only): the one-publisher shared ring, sent to flat
//!   out with `send_batch` in batches of 64 messages (stamped `1, 2, ..` as the one-at-a-time
//!   burst rows stamp theirs; the stop message goes with a plain `send`): one ticket
//!   `fetch_add` and one head step per batch. A `send`'s two locked instructions wait, on
//!   x86, for the slot stores before them, which is what holds the one-at-a-time shared
//!   burst far below the exclusive ring's; the batch pays them once per 64 messages.
//!   (`ShmPublisher` has no `send_batch`: the exclusive ring's rows send one at a time.)
//!
//! No row has two publishers sending at once: on the two-core machine these runs are made
//! on, a third busy process has no core, and such a row would time the scheduler's slices
//! rather than the ticket claims.
//!
//! The summary then gives the shared rows' p50 as ratios to the exclusive ring, the raw line
//! and iceoryx2 at each size, and the second publisher's row to the first; and, after the
//! burst tables, the shared ring's sent and received rates (`send`, `send_batch(64)`) as
//! ratios to the exclusive ring's at 8 and 64 B.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use iceoryx2::prelude::*;
use seqcast::error::TryRecvError;
use seqcast::shm::{
    path_for, Plain, ShmPublisher, ShmRecordPublisher, ShmRecordSubscriber, ShmSharedPublisher,
    ShmSubscriber,
};
use seqcast::LagPolicy;

/// Nanoseconds the calling thread has spent runnable but waiting for its core (the second
/// field of `/proc/thread-self/schedstat`): other work on the machine took the core.
fn waited_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// A round counts as clean when publisher and subscriber together waited less than this for
/// their cores.
const CLEAN_WAIT_NS: u64 = 50_000;

/// `CLOCK_MONOTONIC` in nanoseconds: system-wide, so stamps compare across processes.
#[inline(always)]
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The payload: a send stamp padded to the measured size (`8 + P` bytes). A stamp of 0 is
/// the stop message.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct Msg<const P: usize> {
    sent_ns: u64,
    pad: [u8; P],
}
// SAFETY: `repr(C)`, an integer and bytes: any bit pattern is a valid `Msg`; no pointers.
unsafe impl<const P: usize> Plain for Msg<P> {}
// SAFETY: as above; self-contained, no pointers or handles, the same layout in every process
// (both sides are this binary).
unsafe impl<const P: usize> ZeroCopySend for Msg<P> {}

impl<const P: usize> Msg<P> {
    #[inline(always)]
    fn new(sent_ns: u64) -> Self {
        Msg {
            sent_ns,
            pad: [0x5a; P],
        }
    }
}

/// Runs `$body` with `$p` bound to the padding for a payload of `$size` bytes.
macro_rules! with_size {
    ($size:expr, $p:ident => $body:expr) => {
        match $size {
            8 => {
                const $p: usize = 0;
                $body
            }
            32 => {
                const $p: usize = 24;
                $body
            }
            64 => {
                const $p: usize = 56;
                $body
            }
            1024 => {
                const $p: usize = 1016;
                $body
            }
            s => panic!("unsupported size {s} (8, 32, 64 or 1024)"),
        }
    };
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lib {
    /// One shared cache line: a stamp and a sequence word.
    Raw,
    /// `seqcast::shm`, busy-polling `try_recv`.
    Seqcast,
    /// The same with `LagPolicy::SkipToNewest` (a lapped reader resumes at the newest
    /// message instead of the oldest, which the publisher overwrites next).
    SeqcastNewest,
    /// `seqcast::shm` ring for several publisher processes (`ShmSharedPublisher`), with the
    /// measuring process as its only publisher: what allowing more publishers costs one.
    Shared,
    /// The same with a second publisher process joined (`open_at`) for the whole
    /// measurement, idle: what another publisher that merely holds its place costs.
    Shared2,
    /// The one-publisher shared ring again, sending with `send_batch` in batches of `BATCH`
    /// (burst only): one ticket claim and one head step per batch instead of per message.
    SharedBatch,
    /// `seqcast::shm` record topic (`ShmRecordPublisher`): byte records, framed into the
    /// ring's chunks; the record is the timestamp and padding up to the size.
    Record,
    /// iceoryx2 ipc publish-subscribe, safe overflow (the oldest queued sample is dropped
    /// when the subscriber's queue is full: lossy, like seqcast).
    Ice,
    /// iceoryx2 with `RetryUntilDelivered` and no overflow: lossless, the publisher waits.
    IceBp,
}

impl Lib {
    fn arg(self) -> &'static str {
        match self {
            Lib::Raw => "raw",
            Lib::Seqcast => "seqcast",
            Lib::SeqcastNewest => "seqcast-newest",
            Lib::Shared => "seqcast-shared",
            Lib::Shared2 => "seqcast-shared2",
            Lib::SharedBatch => "seqcast-shared-batch",
            Lib::Record => "seqcast-record",
            Lib::Ice => "iceoryx2",
            Lib::IceBp => "iceoryx2-bp",
        }
    }
    fn parse(s: &str) -> Lib {
        match s {
            "raw" => Lib::Raw,
            "seqcast" => Lib::Seqcast,
            "seqcast-newest" => Lib::SeqcastNewest,
            "seqcast-shared" => Lib::Shared,
            "seqcast-shared2" => Lib::Shared2,
            "seqcast-shared-batch" => Lib::SharedBatch,
            "seqcast-record" => Lib::Record,
            "iceoryx2" => Lib::Ice,
            "iceoryx2-bp" => Lib::IceBp,
            _ => panic!("unknown --lib {s}"),
        }
    }
    fn label(self) -> &'static str {
        match self {
            Lib::Raw => "raw cache line (stamp + seq word)",
            Lib::Seqcast => "seqcast::shm",
            Lib::SeqcastNewest => "seqcast::shm, SkipToNewest",
            Lib::Shared => "seqcast::shm shared ring, 1 publisher",
            Lib::Shared2 => "seqcast::shm shared ring, + a 2nd publisher process",
            Lib::SharedBatch => "seqcast::shm shared ring, send_batch(64)",
            Lib::Record => "seqcast::shm record topic",
            Lib::Ice => "iceoryx2 (safe overflow)",
            Lib::IceBp => "iceoryx2 (RetryUntilDelivered)",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Lat,
    Thr,
}

/// Ring slots for seqcast and the subscriber queue for iceoryx2: the same depth for both.
const DEPTH: usize = 1024;

/// Messages per `send_batch` in the `seqcast-shared-batch` burst row (the label says 64).
const BATCH: usize = 64;

struct Opts {
    rounds: usize,
    thr_rounds: usize,
    samples: usize,
    warmup: usize,
    interval_ns: u64,
    burst_ms: u64,
    sizes: Vec<usize>,
    pub_core: usize,
    sub_core: usize,
    /// The second publisher's core: by default the sending publisher's (where that one's own
    /// heartbeat thread runs too), so that the subscriber keeps its core to itself as in every
    /// other row.
    pub2_core: usize,
}

fn arg_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn num<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    arg_value(args, name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("bad value for {name}: {v}"))
    })
}

/// Pins the calling thread to `core` (directly with `sched_setaffinity`: a child inherits the
/// parent's one-core mask, which `core_affinity::get_core_ids` would report as all there is).
fn pin(core: usize) {
    // SAFETY: `set` is a plain bit set, zeroed and then filled by the libc macros; the call
    // only reads it.
    let ok = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    };
    if !ok {
        eprintln!(
            "warning: could not pin to core {core}: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    set_log_level(LogLevel::Error);
    match arg_value(&args, "--role") {
        Some("sub") => return subscriber(&args),
        Some("pub2") => return second_publisher(&args),
        _ => {}
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "options: --rounds N (31) --thr-rounds N (11) --samples N (5000) --warmup N (1000)\n\
             \x20        --interval-ns N (2000) --burst-ms N (500) --sizes 8,64,1024\n\
             \x20        --pub-core N (0) --sub-core N (1) --pub2-core N (the pub core) --quick"
        );
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let opts = Opts {
        rounds: num(&args, "--rounds", if quick { 3 } else { 31 }),
        thr_rounds: num(&args, "--thr-rounds", if quick { 1 } else { 11 }),
        samples: num(&args, "--samples", if quick { 2000 } else { 5000 }),
        warmup: num(&args, "--warmup", 1000),
        interval_ns: num(&args, "--interval-ns", 2000),
        burst_ms: num(&args, "--burst-ms", if quick { 200 } else { 500 }),
        sizes: arg_value(&args, "--sizes")
            .unwrap_or("8,64,1024")
            .split(',')
            .map(|s| s.parse().expect("--sizes: numbers"))
            .collect(),
        pub_core: num(&args, "--pub-core", 0),
        sub_core: num(&args, "--sub-core", 1),
        pub2_core: num(&args, "--pub2-core", num(&args, "--pub-core", 0)),
    };
    orchestrate(&opts);
}

// ---------------------------------------------------------------------------------------
// The publisher side: one child process per measurement.

struct Child {
    child: std::process::Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Child {
    fn spawn(opts: &Opts, lib: Lib, size: usize, mode: Mode, name: &str) -> Child {
        let exe = std::env::current_exe().expect("current_exe");
        let mut child = Command::new(exe)
            .args(["--role", "sub", "--lib", lib.arg(), "--name", name])
            .args(["--size", &size.to_string()])
            .args(["--mode", if mode == Mode::Lat { "lat" } else { "thr" }])
            .args(["--warmup", &opts.warmup.to_string()])
            .args(["--samples", &opts.samples.to_string()])
            .args(["--core", &opts.sub_core.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the subscriber");
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut c = Child { child, out };
        let line = c.line();
        assert_eq!(line, "ready", "subscriber did not start: {line:?}");
        c
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        self.out.read_line(&mut s).expect("read the subscriber");
        s.trim().to_owned()
    }

    /// The result line, parsed as `key=value` pairs.
    fn finish(mut self) -> Vec<(String, u64)> {
        let line = self.line();
        let status = self.child.wait().expect("wait for the subscriber");
        assert!(status.success(), "subscriber failed: {status} ({line:?})");
        line.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.parse().expect("a number")))
            .collect()
    }
}

/// The second publisher process of the `seqcast-shared2` row (`--role pub2`).
struct SecondPublisher {
    child: std::process::Child,
}

impl SecondPublisher {
    /// Spawns it and waits until it holds a publisher place of the ring at `path`.
    fn join(opts: &Opts, path: &std::path::Path, size: usize) -> SecondPublisher {
        let exe = std::env::current_exe().expect("current_exe");
        let mut child = Command::new(exe)
            .args(["--role", "pub2", "--size", &size.to_string()])
            .arg("--path")
            .arg(path)
            .args(["--core", &opts.pub2_core.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the second publisher");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the second publisher");
        // The creator holds place 0: a second place shows the join took one of its own.
        assert_eq!(
            line.trim(),
            "ready place=1",
            "second publisher did not join"
        );
        SecondPublisher { child }
    }

    /// Closes its stdin, which tells it to leave, and waits for it to exit.
    fn leave(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("wait for the second publisher");
        assert!(status.success(), "second publisher failed: {status}");
    }
}

fn get(kv: &[(String, u64)], k: &str) -> u64 {
    kv.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no {k} in the subscriber's result"))
}

/// Sends `n` messages, one per `interval_ns` (busy-waiting on the clock; after a stall the
/// schedule restarts from now instead of bursting to catch up), then the stop message.
fn paced(n: usize, interval_ns: u64, mut send: impl FnMut(u64)) {
    let mut next = now_ns() + interval_ns;
    for _ in 0..n {
        let mut t = now_ns();
        while t < next {
            std::hint::spin_loop();
            t = now_ns();
        }
        next = if t > next + interval_ns {
            t + interval_ns
        } else {
            next + interval_ns
        };
        send(now_ns());
    }
    send(0);
}

/// Sends flat out for `ms`, then the stop message; returns (messages sent, elapsed ns).
fn burst(ms: u64, mut send: impl FnMut(u64)) -> (u64, u64) {
    let start = now_ns();
    let end = start + ms * 1_000_000;
    let mut n = 0u64;
    loop {
        for _ in 0..256 {
            send(1 + n);
            n += 1;
        }
        if now_ns() >= end {
            break;
        }
    }
    let elapsed = now_ns() - start;
    send(0);
    (n, elapsed)
}

/// `burst` for a publisher that sends in batches: flat out for `ms`, calling
/// `send(first)` for a batch of `BATCH` messages stamped `first, first + 1, ..` (the stamps
/// `burst` gives them one by one), then `send(0)` for the stop message alone; returns
/// (messages sent, elapsed ns).
fn burst_batched(ms: u64, mut send: impl FnMut(u64)) -> (u64, u64) {
    let start = now_ns();
    let end = start + ms * 1_000_000;
    let mut n = 0u64;
    loop {
        // 256 messages between clock reads, as in `burst`.
        for _ in 0..256 / BATCH {
            send(1 + n);
            n += BATCH as u64;
        }
        if now_ns() >= end {
            break;
        }
    }
    let elapsed = now_ns() - start;
    send(0);
    (n, elapsed)
}

/// What the publisher does with the channel once the subscriber is ready.
enum Drive {
    Paced(usize, u64),
    Burst(u64),
}

impl Drive {
    /// Returns (messages sent, elapsed ns) for a burst, zeros when paced, and how often the
    /// nanoseconds the publisher waited for its core meanwhile.
    fn run(&self, send: impl FnMut(u64)) -> (u64, u64, u64) {
        let before = waited_ns();
        let (sent, ns) = match *self {
            Drive::Paced(n, interval) => {
                paced(n, interval, send);
                (0, 0)
            }
            Drive::Burst(ms) => burst(ms, send),
        };
        (sent, ns, waited_ns() - before)
    }

    /// `run` for a burst sent in batches (`burst_batched`): `send(first)` sends a batch,
    /// `send(0)` the stop message. Burst only.
    fn run_batched(&self, send: impl FnMut(u64)) -> (u64, u64, u64) {
        let before = waited_ns();
        let (sent, ns) = match *self {
            Drive::Paced(..) => panic!("batched sends are a burst row only"),
            Drive::Burst(ms) => burst_batched(ms, send),
        };
        (sent, ns, waited_ns() - before)
    }
}

struct RawLine {
    ptr: *mut u8,
    len: usize,
    path: String,
}

impl RawLine {
    fn map(path: &str, create: bool) -> RawLine {
        let len = 4096;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(create)
            .create(create)
            .truncate(create)
            .open(path)
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        if create {
            file.set_len(len as u64).expect("size the raw mapping");
        }
        let prot = if create {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh shared mapping of a file of at least `len` bytes; the file
        // descriptor may close afterwards, the mapping stays.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED, "mmap {path}");
        RawLine {
            ptr: ptr.cast(),
            len,
            path: path.to_owned(),
        }
    }
    /// Word 0: the stamp; word 1: the sequence number. Both in the page's first cache line.
    fn word(&self, i: usize) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned and `len` bytes long, so words 0 and 1 are in
        // bounds and aligned; it lives as long as `self`, and is only accessed atomically.
        unsafe { &*self.ptr.cast::<AtomicU64>().add(i) }
    }
}

impl Drop for RawLine {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`; no reference outlives `self`.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Publishes one measurement to a freshly spawned subscriber; returns the subscriber's
/// result line with the publisher's `sent` and `pub_ns` added for bursts.
fn publish(opts: &Opts, lib: Lib, size: usize, mode: Mode, id: usize) -> Vec<(String, u64)> {
    let name = format!("seqcast-compare-ipc-{}-{id}", std::process::id());
    let drive = match mode {
        Mode::Lat => Drive::Paced(opts.warmup + opts.samples, opts.interval_ns),
        Mode::Thr => Drive::Burst(opts.burst_ms),
    };
    let (sent, pub_ns, pre, mut kv) = match lib {
        Lib::Raw => {
            let path = format!("/dev/shm/{name}");
            let line = RawLine::map(&path, true);
            let child = Child::spawn(opts, lib, size, mode, &name);
            let (stamp, seq) = (line.word(0), line.word(1));
            let mut n = 0u64;
            let (sent, ns, pre) = drive.run(|t| {
                n += 1;
                stamp.store(t, Ordering::Relaxed);
                seq.store(n, Ordering::Release);
            });
            let kv = child.finish();
            let _ = std::fs::remove_file(&line.path);
            (sent, ns, pre, kv)
        }
        Lib::Seqcast | Lib::SeqcastNewest => with_size!(size, P => {
            let mut tx = ShmPublisher::<Msg<P>>::create(&name, DEPTH, "compare-ipc::Msg")
                .expect("create the seqcast ring");
            let child = Child::spawn(opts, lib, size, mode, &name);
            let (sent, ns, pre) = drive.run(|t| {
                tx.send(Msg::new(t));
            });
            let kv = child.finish();
            (sent, ns, pre, kv)
        }),
        Lib::Shared | Lib::Shared2 => with_size!(size, P => {
            let path = path_for(&name).expect("a valid shm name");
            let mut tx = ShmSharedPublisher::<Msg<P>>::create_at(&path, DEPTH, "compare-ipc::Msg")
                .expect("create the seqcast shared ring");
            // Joined before the subscriber starts, so it is there for the whole run.
            let second = (lib == Lib::Shared2).then(|| SecondPublisher::join(opts, &path, size));
            let child = Child::spawn(opts, lib, size, mode, &name);
            let (sent, ns, pre) = drive.run(|t| {
                tx.send(Msg::new(t));
            });
            let kv = child.finish();
            if let Some(second) = second {
                second.leave();
            }
            (sent, ns, pre, kv)
        }),
        Lib::SharedBatch => with_size!(size, P => {
            let path = path_for(&name).expect("a valid shm name");
            let mut tx = ShmSharedPublisher::<Msg<P>>::create_at(&path, DEPTH, "compare-ipc::Msg")
                .expect("create the seqcast shared ring");
            let child = Child::spawn(opts, lib, size, mode, &name);
            // The padding is written once; each batch restamps its messages.
            let mut batch = [Msg::<P>::new(0); BATCH];
            let (sent, ns, pre) = drive.run_batched(|first| {
                if first == 0 {
                    // The stop message, with a plain send.
                    tx.send(Msg::new(0));
                    return;
                }
                for (m, t) in batch.iter_mut().zip(first..) {
                    m.sent_ns = t;
                }
                tx.send_batch(&batch);
            });
            let kv = child.finish();
            (sent, ns, pre, kv)
        }),
        Lib::Record => {
            // DEPTH chunks of 64 bytes: as many one-chunk records as the typed ring's slots.
            let mut tx = ShmRecordPublisher::create(&name, DEPTH * 64, "compare-ipc::record")
                .expect("create the seqcast record ring");
            let child = Child::spawn(opts, lib, size, mode, &name);
            let mut record = vec![0x5a_u8; size.max(8)];
            let (sent, ns, pre) = drive.run(|t| {
                record[..8].copy_from_slice(&t.to_le_bytes());
                tx.send(&record).expect("record within the limit");
            });
            let kv = child.finish();
            (sent, ns, pre, kv)
        }
        Lib::Ice | Lib::IceBp => with_size!(size, P => {
            let node = NodeBuilder::new()
                .create::<ipc::Service>()
                .expect("iceoryx2 node");
            let service = node
                .service_builder(&name.as_str().try_into().expect("service name"))
                .publish_subscribe::<Msg<P>>()
                .subscriber_max_buffer_size(DEPTH)
                .history_size(0)
                .max_publishers(1)
                .max_subscribers(1)
                .enable_safe_overflow(lib == Lib::Ice)
                .create()
                .expect("iceoryx2 service");
            let publisher = service
                .publisher_builder()
                .backpressure_strategy(if lib == Lib::Ice {
                    BackpressureStrategy::DiscardData
                } else {
                    BackpressureStrategy::RetryUntilDelivered
                })
                .create()
                .expect("iceoryx2 publisher");
            let child = Child::spawn(opts, lib, size, mode, &name);
            let (sent, ns, pre) = drive.run(|t| {
                let sample = publisher.loan_uninit().expect("loan");
                sample.write_payload(Msg::new(t)).send().expect("send");
            });
            let kv = child.finish();
            (sent, ns, pre, kv)
        }),
    };
    kv.push(("sent".into(), sent));
    kv.push(("pub_ns".into(), pub_ns));
    kv.push(("pub_waited".into(), pre));
    kv
}

// ---------------------------------------------------------------------------------------
// The subscriber side.

fn subscriber(args: &[String]) {
    let lib = Lib::parse(arg_value(args, "--lib").expect("--lib"));
    let name = arg_value(args, "--name").expect("--name").to_owned();
    let size: usize = num(args, "--size", 8);
    let mode = if arg_value(args, "--mode") == Some("thr") {
        Mode::Thr
    } else {
        Mode::Lat
    };
    let warmup: usize = num(args, "--warmup", 1000);
    let samples: usize = num(args, "--samples", 5000);
    pin(num(args, "--core", 1));
    let base = std::cell::Cell::new(0);
    let ready = || {
        base.set(waited_ns());
        println!("ready");
        std::io::stdout().flush().unwrap();
    };
    let result = match lib {
        Lib::Raw => {
            let line = RawLine::map(&format!("/dev/shm/{name}"), false);
            let (stamp, seq) = (line.word(0), line.word(1));
            let mut last = seq.load(Ordering::Acquire);
            ready();
            consume(
                mode,
                warmup,
                samples,
                || {
                    let s = seq.load(Ordering::Acquire);
                    if s == last {
                        return Poll::Empty;
                    }
                    last = s;
                    Poll::Msg(stamp.load(Ordering::Relaxed))
                },
                || 0,
            )
        }
        // The shared rings' subscriber is the exclusive ring's, unchanged.
        Lib::Seqcast | Lib::SeqcastNewest | Lib::Shared | Lib::Shared2 | Lib::SharedBatch => {
            with_size!(size, P => {
                let mut rx = ShmSubscriber::<Msg<P>>::open(&name, "compare-ipc::Msg")
                    .expect("open the seqcast ring");
                if lib == Lib::SeqcastNewest {
                    rx.set_lag_policy(LagPolicy::SkipToNewest);
                }
                let rx = std::cell::RefCell::new(rx);
                ready();
                consume(mode, warmup, samples, || match rx.borrow_mut().try_recv() {
                    Ok(m) => Poll::Msg(m.sent_ns),
                    Err(TryRecvError::Empty) | Err(TryRecvError::Lagged(_)) => Poll::Empty,
                    Err(e) => panic!("seqcast subscriber: {e}"),
                }, || rx.borrow().stats().missed)
            })
        }
        Lib::Record => {
            let rx = ShmRecordSubscriber::open(&name, "compare-ipc::record")
                .expect("open the seqcast record ring");
            let rx = std::cell::RefCell::new(rx);
            let mut buf = Vec::with_capacity(size.max(8));
            ready();
            consume(
                mode,
                warmup,
                samples,
                || match rx.borrow_mut().try_recv_into(&mut buf) {
                    Ok(_) => Poll::Msg(u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"))),
                    Err(TryRecvError::Empty) | Err(TryRecvError::Lagged(_)) => Poll::Empty,
                    Err(e) => panic!("seqcast record subscriber: {e}"),
                },
                || rx.borrow().stats().missed,
            )
        }
        Lib::Ice | Lib::IceBp => with_size!(size, P => {
            let node = NodeBuilder::new()
                .create::<ipc::Service>()
                .expect("iceoryx2 node");
            let service = node
                .service_builder(&name.as_str().try_into().expect("service name"))
                .publish_subscribe::<Msg<P>>()
                .open()
                .expect("open the iceoryx2 service");
            let sub = service
                .subscriber_builder()
                .buffer_size(DEPTH)
                .create()
                .expect("iceoryx2 subscriber");
            ready();
            consume(mode, warmup, samples, || match sub.receive() {
                Ok(Some(s)) => Poll::Msg(s.sent_ns),
                Ok(None) => Poll::Empty,
                Err(e) => panic!("iceoryx2 receive: {e:?}"),
            }, || 0)
        }),
    };
    println!("{result} waited={}", waited_ns() - base.get());
}

/// The second publisher: joins the shared ring at `--path` and keeps its place, sending
/// nothing, until its stdin closes. Only its heartbeat thread runs meanwhile (every 50 ms: a
/// store to the header's heartbeat word, a load of the head, and, when the head stood still,
/// a look for claims of dead publishers), which is all a joined but idle publisher does.
fn second_publisher(args: &[String]) {
    let path = arg_value(args, "--path").expect("--path");
    let size: usize = num(args, "--size", 8);
    // Pinned before joining, so that the heartbeat thread inherits the core.
    pin(num(args, "--core", 0));
    with_size!(size, P => {
        let tx = ShmSharedPublisher::<Msg<P>>::open_at(path, "compare-ipc::Msg")
            .expect("join the seqcast shared ring");
        println!("ready place={}", tx.place());
        std::io::stdout().flush().unwrap();
        // Blocks until the orchestrator closes the pipe: end of the measurement.
        let mut rest = String::new();
        let _ = std::io::stdin().read_line(&mut rest);
        drop(tx);
    });
}

enum Poll {
    Empty,
    /// A message with this send stamp (0: the stop message).
    Msg(u64),
}

/// Busy-polls until the stop message; returns the result line.
fn consume(
    mode: Mode,
    warmup: usize,
    samples: usize,
    mut poll: impl FnMut() -> Poll,
    missed: impl Fn() -> u64,
) -> String {
    // Give up if the publisher falls silent for this long (a lost stop message).
    const SILENCE_NS: u64 = 5_000_000_000;
    let mut idle = 0u32;
    let mut last_seen = now_ns();
    let mut received = 0u64;
    match mode {
        Mode::Lat => {
            let mut lat = Vec::with_capacity(warmup + samples + 16);
            loop {
                match poll() {
                    Poll::Msg(0) => break,
                    Poll::Msg(sent) => {
                        let now = now_ns();
                        received += 1;
                        if received > warmup as u64 {
                            lat.push(now.saturating_sub(sent));
                        }
                        idle = 0;
                    }
                    Poll::Empty => {
                        idle += 1;
                        if idle & 0xfffff == 0 {
                            let now = now_ns();
                            if now - last_seen > SILENCE_NS {
                                break;
                            }
                            last_seen = now;
                        }
                    }
                }
            }
            lat.sort_unstable();
            let q = |p: f64| {
                if lat.is_empty() {
                    0
                } else {
                    lat[((lat.len() - 1) as f64 * p).round() as usize]
                }
            };
            format!(
                "received={received} n={} p50={} p90={} p99={} max={} missed={}",
                lat.len(),
                q(0.50),
                q(0.90),
                q(0.99),
                lat.last().copied().unwrap_or(0),
                missed()
            )
        }
        Mode::Thr => {
            let mut first = 0u64;
            let end;
            loop {
                match poll() {
                    Poll::Msg(0) => {
                        end = now_ns();
                        break;
                    }
                    Poll::Msg(_) => {
                        if received == 0 {
                            first = now_ns();
                        }
                        received += 1;
                    }
                    Poll::Empty => {}
                }
            }
            format!(
                "received={received} sub_ns={} missed={}",
                end.saturating_sub(first),
                missed()
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rounds and the table.

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn ns(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} µs", v / 1000.0)
    } else {
        format!("{v:.0} ns")
    }
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    format!("{}–{}", ns(lo), ns(hi))
}

/// The version of a dependency, from the committed lock file.
fn locked_version(krate: &str) -> &'static str {
    let lock = include_str!("../Cargo.lock");
    let key = format!("name = \"{krate}\"\nversion = \"");
    lock.find(&key)
        .map(|i| {
            let rest = &lock[i + key.len()..];
            &rest[..rest.find('"').unwrap_or(0)]
        })
        .unwrap_or("?")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".into());
    let clock =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "?".into());
    // SAFETY: sysconf only reads its argument.
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    format!("{cpu}, {cores} CPUs, Linux {kernel}, clocksource {clock}")
}

/// `/proc/loadavg`: other work on the machine is what widens the ranges.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn orchestrate(opts: &Opts) {
    pin(opts.pub_core);
    println!("# seqcast-compare-ipc: cross-process one-way latency and burst throughput");
    println!("machine: {}; load average {}", machine(), loadavg());
    println!(
        "iceoryx2 {} (ipc service), seqcast {} (shm); publisher on core {}, subscriber on core {}",
        locked_version("iceoryx2"),
        locked_version("seqcast"),
        opts.pub_core,
        opts.sub_core
    );
    println!(
        "latency: {} rounds x {} samples (after {} warm-up), one message every {} ns; \
         throughput: {} rounds x {} ms flat out; depth {DEPTH} (seqcast ring slots, \
         iceoryx2 subscriber buffer)",
        opts.rounds, opts.samples, opts.warmup, opts.interval_ns, opts.thr_rounds, opts.burst_ms
    );
    println!();

    let mut id = 0;
    // Latency: the raw line once per round, then every (lib, size).
    let mut cases: Vec<(Lib, usize)> = vec![(Lib::Raw, 16)];
    for &s in &opts.sizes {
        cases.push((Lib::Seqcast, s));
        cases.push((Lib::Shared, s));
        cases.push((Lib::Shared2, s));
        cases.push((Lib::Ice, s));
    }
    // Record topics against typed ones, at 32 B (one chunk).
    if !opts.sizes.contains(&32) {
        cases.push((Lib::Seqcast, 32));
    }
    cases.push((Lib::Record, 32));
    // per case: rounds of ([p50, p90, p99, max], waited over CLEAN_WAIT_NS)
    let mut lat: Vec<Vec<([f64; 4], bool)>> = vec![Vec::new(); cases.len()];
    let mut lost: Vec<u64> = vec![0; cases.len()];
    let per_run = (opts.warmup + opts.samples + 1) as u64;
    let start = std::time::Instant::now();
    for round in 0..opts.rounds {
        for k in 0..cases.len() {
            let c = (k + round) % cases.len();
            let (lib, size) = cases[c];
            id += 1;
            let kv = publish(opts, lib, size, Mode::Lat, id);
            let row = [
                get(&kv, "p50") as f64,
                get(&kv, "p90") as f64,
                get(&kv, "p99") as f64,
                get(&kv, "max") as f64,
            ];
            // The stop message is not counted in `received`.
            let lost_now = per_run - 1 - get(&kv, "received");
            lost[c] += lost_now;
            let (pp, sp) = (get(&kv, "pub_waited"), get(&kv, "waited"));
            println!(
                "lat round {} {:<15} {:>4} B: n={} p50={} p90={} p99={} max={} lost={lost_now} \
                 waited pub={pp} sub={sp} ns",
                round + 1,
                lib.arg(),
                size,
                get(&kv, "n"),
                row[0],
                row[1],
                row[2],
                row[3],
            );
            // A round whose subscriber got nothing past the warm-up has no percentiles.
            if get(&kv, "n") > 0 {
                lat[c].push((row, pp + sp >= CLEAN_WAIT_NS));
            }
        }
    }
    println!("latency runs took {:.1} s", start.elapsed().as_secs_f64());
    println!();

    // Throughput.
    let mut tcases: Vec<(Lib, usize)> = Vec::new();
    for &s in opts.sizes.iter().filter(|&&s| s <= 64) {
        tcases.push((Lib::Seqcast, s));
        tcases.push((Lib::SeqcastNewest, s));
        tcases.push((Lib::Shared, s));
        tcases.push((Lib::SharedBatch, s));
        tcases.push((Lib::Ice, s));
        tcases.push((Lib::IceBp, s));
    }
    // per case: rounds of ([sent M/s, received M/s, received fraction], waited over 2 %)
    let mut thr: Vec<Vec<([f64; 3], bool)>> = vec![Vec::new(); tcases.len()];
    let start = std::time::Instant::now();
    for round in 0..opts.thr_rounds {
        for k in 0..tcases.len() {
            let c = (k + round) % tcases.len();
            let (lib, size) = tcases[c];
            id += 1;
            let kv = publish(opts, lib, size, Mode::Thr, id);
            let (sent, pub_ns) = (get(&kv, "sent") as f64, get(&kv, "pub_ns") as f64);
            let (recv, sub_ns) = (get(&kv, "received") as f64, get(&kv, "sub_ns") as f64);
            let row = [
                sent / pub_ns * 1e3,
                recv / sub_ns.max(1.0) * 1e3,
                recv / sent,
            ];
            let (pp, sp) = (get(&kv, "pub_waited"), get(&kv, "waited"));
            println!(
                "thr round {} {:<20} {:>4} B: sent={} in {:.0} ms ({:.2} M/s) received={} in {:.0} ms \
                 ({:.2} M/s) missed(lag)={} waited pub={pp} sub={sp} ns",
                round + 1,
                lib.arg(),
                size,
                sent,
                pub_ns / 1e6,
                row[0],
                recv,
                sub_ns / 1e6,
                row[1],
                get(&kv, "missed"),
            );
            // A burst is long: clean when the two waited less than 2 % of it.
            thr[c].push((row, pp + sp >= opts.burst_ms * 20_000));
        }
    }
    println!(
        "throughput runs took {:.1} s; load average {}",
        start.elapsed().as_secs_f64(),
        loadavg()
    );
    println!();

    let payload = |lib: Lib, size: usize| {
        if lib == Lib::Raw {
            "16 B".to_owned()
        } else {
            format!("{size} B")
        }
    };
    for clean_only in [false, true] {
        println!(
            "## One-way latency, publisher process -> subscriber process{}",
            if clean_only { ": clean rounds" } else { "" }
        );
        println!();
        println!(
            "Median over rounds of each round's percentile (range over rounds in brackets); \
             {} samples per round, one every {} ns.{}",
            opts.samples,
            opts.interval_ns,
            if clean_only {
                " Only rounds in which publisher and subscriber together waited less than \
                 50 µs for their cores (/proc/thread-self/schedstat): what the path costs \
                 when it has its cores."
            } else {
                ""
            }
        );
        println!();
        println!(
            "| payload | path | rounds | p50 | p90 | p99 |{}",
            if clean_only { "" } else { " lost |" }
        );
        println!(
            "|---|---|---|---|---|---|{}",
            if clean_only { "" } else { "---|" }
        );
        for (c, &(lib, size)) in cases.iter().enumerate() {
            let rows: Vec<[f64; 4]> = lat[c]
                .iter()
                .filter(|(_, dirty)| !clean_only || !dirty)
                .map(|(r, _)| *r)
                .collect();
            let col = |i: usize| {
                if rows.is_empty() {
                    return "—".to_owned();
                }
                let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
                let r = range(&v);
                format!("{} ({r})", ns(median(&mut v)))
            };
            let lost = if clean_only {
                String::new()
            } else {
                format!(" {} of {} |", lost[c], (per_run - 1) * opts.rounds as u64)
            };
            println!(
                "| {} | {} | {} of {} | {} | {} | {} |{lost}",
                payload(lib, size),
                lib.label(),
                rows.len(),
                opts.rounds,
                col(0),
                col(1),
                col(2),
            );
        }
        println!();
    }
    // The shared ring's p50 against the paths it must keep up with, from the tables above.
    let p50 = |lib: Lib, size: usize, clean_only: bool| {
        let c = cases.iter().position(|&k| k == (lib, size))?;
        let mut v: Vec<f64> = lat[c]
            .iter()
            .filter(|(_, dirty)| !clean_only || !dirty)
            .map(|(r, _)| r[0])
            .collect();
        (!v.is_empty()).then(|| median(&mut v))
    };
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "—".to_owned(),
    };
    for clean_only in [false, true] {
        println!(
            "## Shared ring p50 ratios{}",
            if clean_only { ": clean rounds" } else { "" }
        );
        println!();
        println!(
            "Ratios of the p50 medians in the latency table{}: `shared` is the shared ring \
             with 1 publisher, `+2nd` the same with a 2nd publisher process joined; \
             `exclusive` is `seqcast::shm` (ShmPublisher), `raw` the raw cache line (16 B), \
             `iceoryx2` its safe-overflow row, each at the same payload.",
            if clean_only { " of clean rounds" } else { "" }
        );
        println!();
        println!(
            "| payload | shared / exclusive | shared / raw | shared / iceoryx2 | +2nd / shared \
             | +2nd / raw | +2nd / iceoryx2 |"
        );
        println!("|---|---|---|---|---|---|---|");
        let raw = p50(Lib::Raw, 16, clean_only);
        for &size in &opts.sizes {
            let shared = p50(Lib::Shared, size, clean_only);
            let second = p50(Lib::Shared2, size, clean_only);
            let ice = p50(Lib::Ice, size, clean_only);
            println!(
                "| {size} B | {} | {} | {} | {} | {} | {} |",
                ratio(shared, p50(Lib::Seqcast, size, clean_only)),
                ratio(shared, raw),
                ratio(shared, ice),
                ratio(second, shared),
                ratio(second, raw),
                ratio(second, ice),
            );
        }
        println!();
    }
    for clean_only in [false, true] {
        println!(
            "## Burst throughput to one subscriber process{}",
            if clean_only { ": clean rounds" } else { "" }
        );
        println!();
        println!(
            "Publisher flat out for {} ms; median over rounds (range). `received` is the \
             subscriber's rate from its first message to the stop message.{}",
            opts.burst_ms,
            if clean_only {
                " Only rounds in which the two processes together waited for their cores \
                 less than 2 % of the burst."
            } else {
                ""
            }
        );
        println!();
        println!("| payload | path | rounds | sent M msg/s | received M msg/s | received / sent |");
        println!("|---|---|---|---|---|---|");
        for (c, &(lib, size)) in tcases.iter().enumerate() {
            let rows: Vec<[f64; 3]> = thr[c]
                .iter()
                .filter(|(_, dirty)| !clean_only || !dirty)
                .map(|(r, _)| *r)
                .collect();
            let col = |i: usize, prec: usize| {
                if rows.is_empty() {
                    return "—".to_owned();
                }
                let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(0.0, f64::max);
                format!("{:.prec$} ({lo:.prec$}–{hi:.prec$})", median(&mut v))
            };
            println!(
                "| {size} B | {} | {} of {} | {} | {} | {} |",
                lib.label(),
                rows.len(),
                thr[c].len(),
                col(0, 2),
                col(1, 2),
                col(2, 3)
            );
        }
        println!();
    }
    // The shared ring's burst rates against the exclusive ring's, from the tables above.
    let thr_median = |lib: Lib, size: usize, clean_only: bool, i: usize| {
        let c = tcases.iter().position(|&k| k == (lib, size))?;
        let mut v: Vec<f64> = thr[c]
            .iter()
            .filter(|(_, dirty)| !clean_only || !dirty)
            .map(|(r, _)| r[i])
            .collect();
        (!v.is_empty()).then(|| median(&mut v))
    };
    for clean_only in [false, true] {
        println!(
            "## Shared ring burst ratios{}",
            if clean_only { ": clean rounds" } else { "" }
        );
        println!();
        println!(
            "Ratios of the sent and received M msg/s medians in the burst table{}: `send` is \
             the shared ring with 1 publisher sending one message at a time, `send_batch(64)` \
             the same ring sent to in batches of {BATCH}; `exclusive` is `seqcast::shm` \
             (ShmPublisher), at the same payload.",
            if clean_only { " of clean rounds" } else { "" }
        );
        println!();
        println!(
            "| payload | send / exclusive, sent | send / exclusive, received \
             | send_batch(64) / exclusive, sent | send_batch(64) / exclusive, received |"
        );
        println!("|---|---|---|---|---|");
        for &size in opts.sizes.iter().filter(|&&s| s <= 64) {
            let m = |lib: Lib, i: usize| thr_median(lib, size, clean_only, i);
            println!(
                "| {size} B | {} | {} | {} | {} |",
                ratio(m(Lib::Shared, 0), m(Lib::Seqcast, 0)),
                ratio(m(Lib::Shared, 1), m(Lib::Seqcast, 1)),
                ratio(m(Lib::SharedBatch, 0), m(Lib::Seqcast, 0)),
                ratio(m(Lib::SharedBatch, 1), m(Lib::Seqcast, 1)),
            );
        }
        println!();
    }
}
