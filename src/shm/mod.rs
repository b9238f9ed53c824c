//! Shared-memory topics: one seqlock ring in a file mapped by several processes.
//!
//! A [`ShmPublisher`] creates a ring file (under `/dev/shm`, from a name, or at a path) and is
//! its only writer; a ring made by [`ShmSharedPublisher`] takes several publisher processes
//! ("Several publishers" below). [`ShmSubscriber`]s in other processes map the same file **read-only**
//! (`PROT_READ`) and receive exactly as an in-process [`Subscriber`](crate::Subscriber) does:
//! same slots, same seqlock protocol (`ring::slot`, reused unchanged), same lag rule, same
//! `delivered + lagged == published` invariant. A subscriber process can neither corrupt the
//! ring (its pages are not writable) nor slow the publisher (it writes nothing the publisher
//! reads: it writes nothing shared at all).
//!
//! Record topics (messages of any length, `seqcast::record`) live in shared memory too:
//! [`ShmRecordPublisher`] and [`ShmRecordSubscriber`] frame records across the slots of such
//! a ring, with a record layer that trusts no framing word of the file.
//!
//! # File layout
//! ```text
//! offset 0     header line 0 (128 B)  written once, before `magic` is published
//!              magic, version, slots_offset, capacity, slot_size, slot_align,
//!              payload_size, payload_align, fingerprint, pid, heartbeat_ns,
//!              type name (40 bytes, for error messages)
//! offset 128   header line 1 (128 B)  heartbeat, closed, final_head, publisher places
//! offset 256   header line 2 (128 B)  head
//! offset 384   header line 3 (128 B)  claim (rings with several publishers)
//! offset 512   8 × 128 B              publisher places: ticket, pid, len
//! offset 1536  capacity × Slot<T>     (`slots_offset`: 1536 rounded up to the slot alignment)
//! ```
//! Every header field is a native-endian `u64` word, accessed only atomically. Who writes
//! what:
//! * line 0: the publisher, once, while the file still has a temporary name; then it is
//!   renamed into place, so a subscriber never sees a half-written header. `magic` is stored
//!   last (Release) and loaded first (Acquire) all the same.
//! * `heartbeat`: the publisher's heartbeat thread, every `heartbeat_ns` (see "Publisher
//!   death"). `closed` / `final_head`: the publisher, once, when its handle is dropped.
//! * `head`: the publisher, after every message, with Release (after that message's final
//!   stamp): a subscriber that loads head `h` (then an Acquire fence) sees slot `h - 1` hold
//!   message `h - 1` or a later one, so it can check the head against the slots, and a
//!   stamp older than a head past it is known to be corrupt rather than not yet visible. It
//!   has its own line, so a subscriber spinning on a slot does not share a line with it.
//! * slots: the publisher, through `Slot::write`. Subscribers only call `Slot::read`.
//! * `publishers` (line 1, written once before `magic`), `claim` and the places: see
//!   "Several publishers" below; a single-publisher ring leaves them 0.
//!
//! # Opening is validated, never trusted
//! Whatever is at the name must be a regular file (checked before `open(2)`, which blocks on
//! a FIFO, opened `O_NONBLOCK`, and checked again with `fstat`) owned by this process's
//! effective user or root ([`ShmError::Owner`]: the owner of a ring can feed its subscribers
//! well-formed fake data, so a ring another local user created first under an expected name
//! is refused; [`ShmSubscriber::open_at_owned_by`] names another trusted owner). The
//! publisher refuses to replace a non-regular file or another user's file the same way.
//!
//! A subscriber maps the file, checks that it holds at least a header, copies the header
//! words out with atomic loads, and checks the copy with [`validate_header`] (a pure function
//! of the bytes, fuzzed by the tests): magic, version, the payload's size and alignment, the
//! slot size and alignment and offset this build computes for `T`, the type fingerprint, a
//! power-of-two capacity, and a file long enough for every slot. Only then does it view the
//! slot area as `[Slot<T>]`, after checking that line 0 did not change while it was read
//! (it is written once), and it starts at the head only if the slots agree with it. A
//! mismatch is a [`ShmError`]; a type mismatch names both types ([`ShmError::TypeMismatch`]).
//!
//! Casting the header before it is validated is sound because the header is 48 `AtomicU64`s
//! (any bytes are a valid value), the mapping is page-aligned and was checked to be long
//! enough. Casting the slot area is sound because any bytes are a valid `Slot<T>` too (an
//! `AtomicU64` stamp and `MaybeUninit` payload words): a slot's bytes only become a `T`
//! through `Slot::read`, after its stamp check, and [`Plain`] promises any bytes are a valid
//! `T`. What a hostile or corrupted file can do is deliver garbage values or lag reports; it
//! cannot make a subscriber read out of bounds, panic, or hang.
//!
//! # Receiving never trusts a word either
//! The stamps and the head come from a file anyone with write access may scribble on. A
//! subscriber at message `s` uses a stamp past `2s + 2` as a lap only if a publisher could
//! have written it there: a stamp of the same slot, at most one message past a head that the
//! slots agree with (the head is stored after the stamps, so a genuine stamp of message `m`
//! comes with a head of at least `m - 1`). Then the in-process lag rule applies unchanged.
//! Any other stamp (zero or an older lap on the re-check, another slot's, far past the head,
//! `u64::MAX`) means the slot of message `s` is garbage: if the head is past `s`, the
//! message is lost, and the subscriber skips it and whatever the head says was overwritten
//! since, reporting exactly that many as `Lagged(n)`, `n >= 1`; otherwise message `s` is not
//! published yet and the publisher's own write of it will replace the garbage (`Empty`
//! until then). A stamp reset below `2s + 2` after its message was published is found the
//! same way on the liveness check (every 16th `Empty`): the head is past `s`, and after the
//! head's Release store an honest slot shows that message's stamp. A head the slots
//! contradict is refused at open ([`ShmError::Corrupt`]) and ignored while receiving (the
//! next send rewrites it). Cursors therefore move only forward, to at most one past an
//! accepted head, and lag counters saturate.
//!
//! A file that is *shrunk* while mapped (someone truncates it) raises `SIGBUS` in every
//! process that touches the lost pages, as with any memory-mapped file; seqcast itself never
//! shrinks a ring file (a new publisher replaces it by renaming a new file over it).
//!
//! # Why atomics on a read-only, cross-process mapping are fine
//! * The memory model: Rust's (C++'s) atomics say nothing about processes, but lock-free
//!   atomics are required to be *address-free* in C++ ([atomics.lockfree]: "usable for
//!   communication between processes via memory that is mapped into a process more than
//!   once"). The seqlock argument of `ring::slot` only uses the hardware's ordering of loads,
//!   stores and fences on coherent memory, which is the same whether the other party is a
//!   thread or a process.
//! * Read-only pages: a subscriber only ever *loads*, and only with Relaxed loads followed
//!   by `fence(Acquire)` where it needs Acquire (`Slot::read_read_only`, the header
//!   snapshot, `closed`, `head`): Rust's atomics documentation guarantees only Relaxed loads
//!   on read-only memory. On x86_64 such a load is a plain `mov`, on aarch64 an `ldr`, and
//!   `atomic-maybe-uninit` copies payload words with the same instructions in inline
//!   assembly; fences touch no memory. None of them writes, so `PROT_READ` pages are enough. A subscriber never does a
//!   read-modify-write (which would fault on a read-only page, a crash and not silent
//!   corruption). Some 32-bit targets implement 64-bit atomic loads with a compare-exchange,
//!   which would write: this module is therefore built only on Linux x86_64 and aarch64.
//! * Aliasing: the code never creates `&[u8]`, `&T` or `&mut` over shared bytes, only `&` to
//!   `AtomicU64`s and `&Slot<T>` (whose payload sits in an `UnsafeCell`), which explicitly
//!   allow other parties to mutate the memory behind them.
//!
//! # Publisher death
//! A publisher stores its pid in the header, and a background thread (`seqcast-shm-hb`)
//! bumps `heartbeat` every `heartbeat_ns` (50 ms) while the [`ShmPublisher`] lives. A thread
//! rather than "every N sends" so that an idle but healthy publisher is not mistaken for a
//! dead one. A subscriber that has seen only `Empty` for its `dead_after` window (default
//! 1 s, [`ShmSubscriber::set_dead_after`]) with the heartbeat frozen throughout, or whose
//! publisher pid no longer exists (`kill(pid, 0)` fails with `ESRCH`) at the end of that
//! window, reports [`PublisherDied`](crate::error::TryRecvError::PublisherDied): after
//! delivering everything the publisher completed. A half-written slot (the publisher died
//! between its odd and even stamp stores) reads as "not yet" and therefore ends the same way:
//! never a hang, never a torn value. The heartbeat covers what the pid check cannot: a pid
//! reused by another process, or a publisher in another pid namespace. A stopped
//! (`SIGSTOP`) publisher also looks dead; the report is not sticky, so a subscriber that keeps
//! polling receives again if it resumes.
//!
//! A clean drop of the publisher stores `final_head`, then `closed` (Release), and unlinks the
//! file: subscribers already attached keep their mapping, drain, and see `Closed`.
//!
//! A [`ShmPublisher`] is the only publisher of its ring: it keeps an exclusive `flock` on the
//! file, so [`ShmPublisher::create`] on a name whose publisher is alive fails with
//! [`ShmError::InUse`] (the kernel drops the lock when the process dies, so a crashed
//! publisher's file is simply replaced).
//!
//! # Several publishers
//! A ring made by [`ShmSharedPublisher::create`] takes up to [`MAX_PUBLISHERS`] publishers at
//! once, usually one per process; others join with [`ShmSharedPublisher::open`]. Subscribers
//! are unchanged and see one stream. The protocol is `ring::claim` (its module docs have the
//! whole argument; the loom model `ring::claim::loom_model` checks it):
//! * A send claims a ticket, the message's sequence number, with a `fetch_add` of `claim`,
//!   waits until the previous lap in its slot is complete, writes the slot with the same
//!   seqlock recipe, and moves `head` with a compare-exchange. `head` stays what a
//!   subscriber relies on: every message below it is complete (or abandoned, below), and
//!   it is stored after those stamps.
//! * Each publisher holds a *place*: an owner record in the header, in its own line, and an
//!   open-file-description lock (`F_OFD_SETLK`) on its first word's bytes, which the kernel
//!   releases when the process exits, however it exits. Before each claim the publisher
//!   stores "claiming" in its owner record, and the run it claimed right after (one ticket
//!   for `send`, a batch's for `send_batch`, which claims them with one `fetch_add` and moves
//!   the head once).
//! * A publisher killed between its claim and its final stamp leaves its message "not yet"
//!   for good. A live publisher (its heartbeat thread, every 50 ms while the head stands
//!   still, or a send waiting for that slot) then abandons it: it stamps the slot `2s + 3`,
//!   but only if no place whose lock is held shows a run holding it or "claiming", and moves
//!   the head on. Subscribers find a stamp no lap explains, with the head past it, and
//!   report the message lost (`Lagged(1)`). A publisher that is merely slow or stopped
//!   still holds its lock, so its message is waited for and never skipped: skipping a live
//!   writer's slot could hand a reader a torn value once the next lap writes it too.
//! * Every publisher holds a shared `flock` on the file. The last one to leave (its
//!   conversion to an exclusive lock succeeds) abandons what dead publishers left claimed,
//!   stores `final_head` and `closed`, and removes the file. A subscriber reports
//!   `PublisherDied` when no place's lock is held after its `dead_after` window of silence;
//!   a message whose publisher died with nobody left to abandon it is then reported lost,
//!   and complete messages after it are still delivered.
//! * All publishers of a ring must run as the same user (the file's owner) and see the same
//!   file (lock state is per file, so a bind mount of it works; a copy does not).
//!
//! //! # Progress
//! `ShmPublisher::send` is wait-free (as `Publisher::send`: one slot write and one store of
//! `head`). `ShmSharedPublisher::send` is lock-free while every publisher runs (a claim, the
//! slot write, a compare-exchange of `head` per message it completes); it waits only for a
//! slot's previous lap, as the in-process `SharedPublisher` does. Creating a ring reserves its file's space up front (`statvfs`, then
//! `fallocate`): a ring the file system cannot hold is [`ShmError::NoSpace`] at creation,
//! not a `SIGBUS` on a later `send`. `ShmSubscriber::try_recv` is wait-free; every 16th consecutive `Empty` it reads the
//! clock for the liveness check, and only after a silent `dead_after` window does it make a
//! `kill(pid, 0)` system call.
mod file;
mod header;
mod plain;
mod publisher;
mod records;
mod region;
mod shared;
mod subscriber;

pub use header::{
    fingerprint, validate_header, RingInfo, HEADER_BYTES, LAYOUT_VERSION, MAGIC, MAX_PUBLISHERS,
};
pub use plain::Plain;
pub use publisher::ShmPublisher;
pub use records::{ShmRecordPublisher, ShmRecordSubscriber};
pub use shared::ShmSharedPublisher;
pub use subscriber::ShmSubscriber;

use crate::error::ShmError;
use std::path::{Path, PathBuf};

/// Where shared-memory names live (as `shm_open(3)` does).
pub const SHM_DIR: &str = "/dev/shm";

/// The file for a shared-memory name: `/dev/shm/<name>` (one leading `/` is ignored, as with
/// `shm_open`).
///
/// # Examples
/// ```
/// # #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))] {
/// let path = seqcast::shm::path_for("/md.prices").unwrap();
/// assert_eq!(path, std::path::Path::new("/dev/shm/md.prices"));
/// assert!(seqcast::shm::path_for("a/b").is_err());
/// # }
/// ```
pub fn path_for(name: &str) -> Result<PathBuf, ShmError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let bad = bare.is_empty()
        || bare.len() > 255
        || bare == "."
        || bare == ".."
        || bare.contains('/')
        || bare.contains('\0');
    if bad {
        return Err(ShmError::InvalidName(name.to_owned()));
    }
    Ok(Path::new(SHM_DIR).join(bare))
}

pub(crate) fn io_error(path: &Path, error: std::io::Error) -> ShmError {
    ShmError::Io {
        path: path.to_owned(),
        error,
    }
}
