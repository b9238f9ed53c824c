//! [`ShmPublisher`]: creates a ring file and is its only writer.

use super::header::{W_CLOSED, W_FINAL_HEAD, W_HEAD, W_HEARTBEAT, W_PID};
use super::plain::Plain;
use super::region::Region;
use super::{io_error, path_for, RingInfo};
use crate::error::{CapacityError, ShmError};
use crate::sync::{Arc, AtomicBool, Ordering};
use core::fmt;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a publisher's heartbeat thread bumps the header's heartbeat word.
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(50);

/// The writing half of a shared-memory topic: creates the ring file and publishes into it.
///
/// `send` is the in-process [`Publisher::send`](crate::Publisher::send): one seqlock slot
/// write and one store of `head`, wait-free, whatever the subscribers (in any process) do.
///
/// While it lives, a background thread bumps the header's heartbeat every 50 ms, so that
/// subscribers can tell an idle publisher from a dead one ([module docs](crate::shm)).
/// Dropping it closes the topic (subscribers drain, then see `Closed`), stops that thread
/// and removes the file (attached subscribers keep their mapping).
///
/// # Examples
/// ```
/// # #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))] {
/// use seqcast::error::TryRecvError;
/// use seqcast::shm::{ShmPublisher, ShmSubscriber};
///
/// let path = std::env::temp_dir().join(format!("seqcast-doc-{}", std::process::id()));
/// let mut tx = ShmPublisher::<[u64; 2]>::create_at(&path, 8, "pair").unwrap();
/// // Normally in another process:
/// let mut rx = ShmSubscriber::<[u64; 2]>::open_at(&path, "pair").unwrap();
/// tx.send([1, 2]);
/// assert_eq!(rx.try_recv(), Ok([1, 2]));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// # }
/// ```
pub struct ShmPublisher<T: Plain> {
    region: Arc<Region<T>>,
    /// Sequence number of the next message.
    next: u64,
    path: PathBuf,
    /// The ring file, held open for its exclusive `flock` (released by the kernel when this
    /// process dies), and to recognise it at drop time.
    file: File,
    heartbeat: Option<Heartbeat>,
}

/// The heartbeat thread and its stop flag.
pub(crate) struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl<T: Plain> ShmPublisher<T> {
    /// Creates the ring `/dev/shm/<name>` ([`path_for`]) with room for `capacity` messages
    /// (rounded up to a power of two) of `T`, identified by `type_name` (see
    /// [`fingerprint`](super::fingerprint)).
    ///
    /// An existing file of that name is replaced, unless a live publisher holds it
    /// ([`ShmError::InUse`]), it is not a regular file ([`ShmError::NotRegularFile`]), or it
    /// belongs to another user ([`ShmError::Owner`]).
    ///
    /// The file's space is reserved up front: a ring the file system cannot hold is
    /// [`ShmError::NoSpace`] here, not a `SIGBUS` on a later `send`.
    pub fn create(name: &str, capacity: usize, type_name: &str) -> Result<Self, ShmError> {
        Self::create_at(path_for(name)?, capacity, type_name)
    }

    /// Like [`create`](Self::create), at any path (a `tmpfs` such as `/dev/shm` keeps the
    /// ring in memory; on a disk-backed file system the kernel also writes it back).
    ///
    /// The file is built under a temporary name in the same directory and renamed into place,
    /// so a subscriber never sees it half-initialised; subscribers still attached to a
    /// replaced file keep reading the old one (and see its publisher closed or dead).
    ///
    /// Two processes creating the same ring at the same instant may both pass the "no live
    /// publisher" check; the later rename wins and the other publisher writes into a file no
    /// subscriber can open any more. Give each ring one owner.
    pub fn create_at(
        path: impl AsRef<Path>,
        capacity: usize,
        type_name: &str,
    ) -> Result<Self, ShmError> {
        let path = path.as_ref();
        let capacity = CapacityError::check(capacity).map_err(ShmError::Capacity)?;
        let (file, region) = build::<T>(path, capacity as u64, type_name, 0, |_, _| Ok(()))?;
        let region = Arc::new(region);
        let beating = region.clone();
        let heartbeat = match Heartbeat::start(move || Heartbeat::bump(&beating)) {
            Ok(heartbeat) => heartbeat,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(io_error(path, e));
            }
        };
        Ok(ShmPublisher {
            region,
            next: 0,
            path: path.to_owned(),
            file,
            heartbeat: Some(heartbeat),
        })
    }

    /// Publishes `value` and returns its sequence number (0 for the first message).
    ///
    /// Wait-free: one slot write (the seqlock recipe of the in-process ring) and one Release
    /// store of the header's `head`.
    #[inline]
    pub fn send(&mut self, value: T) -> u64 {
        let seq = self.next;
        self.region.slot(seq).write(seq, value);
        self.next = seq + 1;
        // Release: a subscriber that sees this head then sees the final stamp of every message
        // below it, so it can tell a corrupted stamp from one not yet visible (`shm` module
        // docs). A plain `mov` on x86-64, like the Relaxed store.
        self.region
            .header()
            .word(W_HEAD)
            .store(seq + 1, Ordering::Release);
        seq
    }

    /// Writes `n` messages made by `fill(0..n)` as one unit, then one store of `head`: a
    /// subscriber that opens the file starts at a unit's boundary (record topics frame one
    /// record across several slots). Returns the first sequence number.
    pub(crate) fn send_unit(&mut self, n: usize, mut fill: impl FnMut(usize) -> T) -> u64 {
        let start = self.next;
        for i in 0..n {
            let seq = start + i as u64;
            self.region.slot(seq).write(seq, fill(i));
        }
        self.next = start + n as u64;
        // Release: as in `send`.
        self.region
            .header()
            .word(W_HEAD)
            .store(self.next, Ordering::Release);
        start
    }

    /// Number of messages sent so far (the next sequence number).
    pub fn sent(&self) -> u64 {
        self.next
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.region.capacity() as usize
    }

    /// The ring file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ring's header fields (capacity, slot layout, pid, heartbeat period).
    pub fn info(&self) -> RingInfo {
        self.region.info()
    }
}

/// Builds a new ring file at `path` under a temporary name in the same directory, and renames
/// it into place once its header is complete (so a subscriber never sees it half-made). The
/// file keeps a `flock`: exclusive for a single-publisher ring, shared for one with
/// `publishers` places. `before_rename` runs on the finished ring while it is still unnamed
/// (a shared ring's creator takes its place there). On an error nothing is left behind.
pub(crate) fn build<T: Plain>(
    path: &Path,
    capacity: u64,
    type_name: &str,
    publishers: u32,
    before_rename: impl FnOnce(&File, &Region<T>) -> Result<(), ShmError>,
) -> Result<(File, Region<T>), ShmError> {
    check_not_in_use(path)?;
    let name = path
        .file_name()
        .ok_or_else(|| ShmError::InvalidName(path.display().to_string()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    // A leftover from an earlier process with our pid; nobody else uses this name.
    let _ = std::fs::remove_file(&tmp);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(|e| io_error(path, e))?;
    let how = if publishers == 0 {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // Errors name `path`, the ring the caller asked for, not the temporary file.
    let built = lock(&file, how | libc::LOCK_NB)
        .map_err(|e| io_error(path, e))
        .and_then(|()| {
            let ns = HEARTBEAT_INTERVAL.as_nanos() as u64;
            Region::<T>::create(path, &file, capacity, type_name, ns, publishers)
        })
        .and_then(|region| {
            before_rename(&file, &region)?;
            std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))?;
            Ok(region)
        });
    match built {
        Ok(region) => Ok((file, region)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

impl Heartbeat {
    /// Starts the heartbeat thread: `beat` runs every `HEARTBEAT_INTERVAL` until `stop`.
    pub(crate) fn start(mut beat: impl FnMut() + Send + 'static) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("seqcast-shm-hb".into())
            .spawn(move || {
                // Acquire: pairs with the Release store in `stop` (nothing else to see, but
                // cheap and obviously right).
                while !flag.load(Ordering::Acquire) {
                    beat();
                    std::thread::park_timeout(HEARTBEAT_INTERVAL);
                }
            })?;
        Ok(Heartbeat { stop, thread })
    }

    /// Bumps the header's heartbeat word: subscribers compare its values over time.
    pub(crate) fn bump<T: Plain>(region: &Region<T>) {
        // Relaxed: subscribers only compare heartbeat values over time.
        region
            .header()
            .word(W_HEARTBEAT)
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

impl<T: Plain> Drop for ShmPublisher<T> {
    fn drop(&mut self) {
        if let Some(hb) = self.heartbeat.take() {
            hb.stop();
        }
        close(&self.region, self.next, &self.path, &self.file);
    }
}

impl<T: Plain> fmt::Debug for ShmPublisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmPublisher")
            .field("path", &self.path)
            .field("sent", &self.next)
            .field("capacity", &self.region.capacity())
            .finish()
    }
}

/// Closes the ring: stores `final_head`, then `closed` (Release), and removes the name unless
/// another publisher has since replaced the file. The last step of every publisher's drop
/// that ends the topic.
pub(crate) fn close<T: Plain>(region: &Region<T>, final_head: u64, path: &Path, file: &File) {
    let header = region.header();
    // Relaxed: published by the Release store of `closed`.
    header
        .word(W_FINAL_HEAD)
        .store(final_head, Ordering::Relaxed);
    // Release: pairs with the subscribers' Acquire load of `closed`: a subscriber that sees
    // it also sees `final_head` and every completed stamp.
    header.word(W_CLOSED).store(1, Ordering::Release);
    let ours = |m: std::fs::Metadata| {
        file.metadata()
            .is_ok_and(|f| f.ino() == m.ino() && f.dev() == m.dev())
    };
    if std::fs::metadata(path).is_ok_and(ours) {
        let _ = std::fs::remove_file(path);
    }
}

/// `flock(2)` on `file`.
pub(crate) fn lock(file: &File, op: libc::c_int) -> std::io::Result<()> {
    // SAFETY: `flock` takes a file descriptor (valid: `file` is open for the whole call) and
    // an integer, and touches no memory of ours.
    if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Fails with `InUse` if a live publisher holds the file at `path` (the exclusive `flock` of
/// a single publisher, or the shared `flock` every publisher of a shared ring holds);
/// refuses to replace something that is not a regular file, or another user's file.
pub(crate) fn check_not_in_use(path: &Path) -> Result<(), ShmError> {
    let file = match super::file::open_regular(path) {
        Ok((file, meta)) => {
            super::file::require_owner(path, &meta, super::file::euid())?;
            file
        }
        Err(ShmError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    match lock(&file, libc::LOCK_EX | libc::LOCK_NB) {
        // Nobody holds it: a crashed or closed publisher's file. (Closing `file` unlocks.)
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => {
            let mut pid = [0u8; 8];
            let pid = match file.read_exact_at(&mut pid, (W_PID * 8) as u64) {
                Ok(()) => u32::try_from(u64::from_ne_bytes(pid)).unwrap_or(0),
                Err(_) => 0,
            };
            Err(ShmError::InUse {
                path: path.to_owned(),
                pid,
            })
        }
        Err(e) => Err(io_error(path, e)),
    }
}
