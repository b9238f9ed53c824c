//! [`ShmSharedPublisher`]: one of several publisher processes of a ring file.

use super::file::{lock_place, open_regular_rw, place_held, require_owner, unlock_place};
use super::header::{MAX_PUBLISHERS, PLACE_WORDS, W_CLOSED, W_HEAD, W_PLACES};
use super::plain::Plain;
use super::publisher::{build, close, lock, Heartbeat};
use super::region::Region;
use super::{io_error, path_for, RingInfo};
use crate::error::{CapacityError, ShmError};
use crate::ring::claim::{Owner, Owners, IDLE};
use crate::sync::{spin_loop, Arc, Ordering};
use core::fmt;
use core::ops::Range;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a publisher waiting for its slot spins between two looks at whether the slot's
/// previous owner is gone (each look is a system call per publisher place).
const UNBLOCK_EVERY: Duration = Duration::from_millis(1);
/// How long [`ShmSharedPublisher::open`] waits for a last publisher that is closing the ring.
const JOIN_WAIT: Duration = Duration::from_secs(2);

/// One of several publishers of a shared-memory topic, each usually in its own process.
///
/// A ring made by [`create`](Self::create) takes up to [`MAX_PUBLISHERS`] publishers at once;
/// others join it with [`open`](Self::open). Subscribers are the same [`ShmSubscriber`](super::ShmSubscriber)s
/// as for a single publisher, and see one stream: every message has one sequence number,
/// claimed as a ticket in the file (as [`SharedPublisher`](crate::SharedPublisher) does in
/// process), so `received + missed == published` holds for them across all publishers.
///
/// A publisher process that dies at any point of a send (killed between its claim and its
/// final stamp) does not wedge the topic: once the kernel has released that process's lock
/// on its publisher place, a live publisher marks the stuck message abandoned, and
/// subscribers report it as lost (`Lagged(1)`) and go on. A publisher that is merely slow is
/// never skipped: a message is abandoned only when its writer is proven gone
/// ([`ring::claim`](crate::shm#several-publishers) in the module docs).
///
/// The last publisher to leave closes the topic (subscribers drain, then see `Closed`) and
/// removes the file. If every publisher dies instead, subscribers report
/// [`PublisherDied`](crate::error::TryRecvError::PublisherDied).
///
/// # Examples
/// ```
/// # #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))] {
/// use seqcast::shm::{ShmSharedPublisher, ShmSubscriber};
///
/// let path = std::env::temp_dir().join(format!("seqcast-doc-shared-{}", std::process::id()));
/// let mut a = ShmSharedPublisher::<u64>::create_at(&path, 8, "u64").unwrap();
/// // Normally in other processes:
/// let mut b = ShmSharedPublisher::<u64>::open_at(&path, "u64").unwrap();
/// let mut rx = ShmSubscriber::<u64>::open_at(&path, "u64").unwrap();
/// assert_eq!(a.send(10), 0);
/// assert_eq!(b.send(20), 1);
/// assert_eq!(rx.try_recv(), Ok(10));
/// assert_eq!(rx.try_recv(), Ok(20));
/// # }
/// ```
pub struct ShmSharedPublisher<T: Plain> {
    region: Arc<Region<T>>,
    /// This publisher's place: its owner record and its lock.
    place: usize,
    path: PathBuf,
    /// The ring file, read-write: holds the shared `flock` (every publisher of the ring) and
    /// the place's lock, both dropped by the kernel when the process dies.
    file: Arc<File>,
    /// Messages this publisher sent.
    sent: u64,
    heartbeat: Option<Heartbeat>,
}

/// The publisher places of a ring as the claim protocol sees them from one publisher: a
/// place is alive if it is ours or a live process holds its lock.
struct Places<'a, T: Plain> {
    region: &'a Region<T>,
    file: &'a File,
    mine: usize,
}

impl<T: Plain> Owners for Places<'_, T> {
    fn count(&self) -> usize {
        self.region.info().publishers as usize
    }

    fn owner(&self, i: usize) -> Owner<'_> {
        self.region.place(i)
    }

    fn alive(&self, i: usize) -> bool {
        // Our own description's lock is invisible to `F_OFD_GETLK` on it.
        i == self.mine || place_held(self.file, i, 1)
    }
}

impl<T: Plain> ShmSharedPublisher<T> {
    /// Creates the ring `/dev/shm/<name>` ([`path_for`]) for up to [`MAX_PUBLISHERS`]
    /// publishers, with room for `capacity` messages (rounded up to a power of two, and to at
    /// least 2) of `T`, identified by `type_name` (see [`fingerprint`](super::fingerprint)).
    ///
    /// Fails as [`ShmPublisher::create`](super::ShmPublisher::create) does; in particular with
    /// [`ShmError::InUse`] while any publisher of an existing ring of that name lives (join it
    /// with [`open`](Self::open) instead).
    pub fn create(name: &str, capacity: usize, type_name: &str) -> Result<Self, ShmError> {
        Self::create_at(path_for(name)?, capacity, type_name)
    }

    /// Like [`create`](Self::create), at any path.
    pub fn create_at(
        path: impl AsRef<Path>,
        capacity: usize,
        type_name: &str,
    ) -> Result<Self, ShmError> {
        let path = path.as_ref();
        let capacity = CapacityError::check(capacity).map_err(ShmError::Capacity)?;
        let capacity = capacity.max(2) as u64;
        let (file, region) = build::<T>(path, capacity, type_name, MAX_PUBLISHERS, |file, _| {
            // Place 0 is the creator's: taken before the file has its name, so nobody can.
            match lock_place(file, 0) {
                Ok(true) => Ok(()),
                Ok(false) => Err(ShmError::TooManyPublishers {
                    path: path.to_owned(),
                    max: MAX_PUBLISHERS,
                }),
                Err(e) => Err(io_error(path, e)),
            }
        })?;
        Self::start(path, file, region, 0)
    }

    /// Joins the ring `/dev/shm/<name>` that a [`create`](Self::create) made, as one more
    /// publisher of `T` named `type_name`.
    pub fn open(name: &str, type_name: &str) -> Result<Self, ShmError> {
        Self::open_at(path_for(name)?, type_name)
    }

    /// Like [`open`](Self::open), for a ring file at any path.
    ///
    /// Fails with a [`ShmError`] if the file is missing, not a regular file, owned by another
    /// user, not a valid ring of `T` (as for [`ShmSubscriber::open_at`]), a ring for a single
    /// publisher ([`ShmError::SinglePublisher`]), closed by its last publisher
    /// ([`ShmError::Closed`]), or if [`MAX_PUBLISHERS`] live publishers hold it
    /// ([`ShmError::TooManyPublishers`]).
    ///
    /// [`ShmSubscriber::open_at`]: super::ShmSubscriber::open_at
    pub fn open_at(path: impl AsRef<Path>, type_name: &str) -> Result<Self, ShmError> {
        let path = path.as_ref();
        let (file, meta) = open_regular_rw(path)?;
        require_owner(path, &meta, super::file::euid())?;
        let region = Region::<T>::open_rw(path, &file, type_name)?;
        if region.info().publishers == 0 {
            return Err(ShmError::SinglePublisher {
                path: path.to_owned(),
            });
        }
        // Every publisher holds the shared `flock`; only a last publisher closing the ring
        // holds it exclusively, for a moment. Once we hold it nobody can close the ring
        // under us, so the `closed` check after it is final.
        let give_up = Instant::now() + JOIN_WAIT;
        loop {
            match lock(&file, libc::LOCK_SH | libc::LOCK_NB) {
                Ok(()) => break,
                Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => {
                    if Instant::now() >= give_up {
                        return Err(ShmError::InUse {
                            path: path.to_owned(),
                            pid: region.info().pid,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(io_error(path, e)),
            }
        }
        // Relaxed: nobody can close the ring now (we hold the shared `flock`); a close
        // before it happened-before our lock, which the kernel orders.
        if region.header().word(W_CLOSED).load(Ordering::Relaxed) != 0 {
            return Err(ShmError::Closed {
                path: path.to_owned(),
            });
        }
        let places = region.info().publishers as usize;
        let mut place = None;
        for i in 0..places {
            if lock_place(&file, i).map_err(|e| io_error(path, e))? {
                place = Some(i);
                break;
            }
        }
        let place = place.ok_or_else(|| ShmError::TooManyPublishers {
            path: path.to_owned(),
            max: places as u32,
        })?;
        // The place may hold the last ticket of a publisher that died there: clear it, or
        // our live place would keep that ticket from ever being abandoned. Release: as every
        // store of an owner record after a finished run (`ring::claim`).
        region.place(place).ticket.store(IDLE, Ordering::Release);
        Self::start(path, file, region, place)
    }

    /// Records our pid in our place and starts the heartbeat, which also unblocks the claims
    /// of dead publishers while the head stands still.
    fn start(path: &Path, file: File, region: Region<T>, place: usize) -> Result<Self, ShmError> {
        // Relaxed: only read for `Debug` and error messages.
        region
            .header()
            .word(W_PLACES + place * PLACE_WORDS + 1)
            .store(u64::from(std::process::id()), Ordering::Relaxed);
        let region = Arc::new(region);
        let file = Arc::new(file);
        let (beating, file2) = (region.clone(), file.clone());
        let mut last_head = u64::MAX;
        let heartbeat = Heartbeat::start(move || {
            Heartbeat::bump(&beating);
            // Relaxed: a hint of progress; `unblock` reads the head it acts on with a
            // read-modify-write.
            let head = beating.header().word(W_HEAD).load(Ordering::Relaxed);
            if head == last_head {
                unblock_all(&beating, &file2, place);
            }
            last_head = head;
        })
        .map_err(|e| io_error(path, e))?;
        Ok(ShmSharedPublisher {
            region,
            place,
            path: path.to_owned(),
            file,
            sent: 0,
            heartbeat: Some(heartbeat),
        })
    }

    /// Publishes `value` and returns its sequence number in the ring (shared by all its
    /// publishers).
    ///
    /// Lock-free while every publisher runs: a ticket claim (`fetch_add`), the seqlock slot
    /// write, and a compare-exchange of the head (plus plain stores of this publisher's owner
    /// record on each side of the claim). It waits only when the slot's previous message, one
    /// lap back, is still being written: by a live publisher (as in process), or by a dead
    /// one, whose message it then abandons once the kernel says that process is gone.
    #[inline]
    pub fn send(&mut self, value: T) -> u64 {
        let r = &*self.region;
        let tickets = r.tickets();
        let t = tickets.claim(r.place(self.place), 1);
        let slot = r.slot(t);
        if !tickets.slot_free(slot, t) {
            self.wait_for_slot(t);
        }
        slot.write(t, value);
        tickets.advance(t, 1, |s| r.slot(s));
        self.sent += 1;
        t
    }

    /// Publishes every value of `values` on consecutive sequence numbers and returns them.
    ///
    /// The same as `send` for each value, except that the tickets are claimed with one
    /// `fetch_add` and the head moves once for the whole batch: a send's two locked
    /// instructions, which on x86 wait for the stores before them, are paid once per batch.
    /// Subscribers see the batch's messages as they are written, one by one, as from `send`.
    /// An empty slice claims nothing.
    pub fn send_batch(&mut self, values: &[T]) -> Range<u64> {
        let r = &*self.region;
        let tickets = r.tickets();
        let n = values.len() as u64;
        if n == 0 {
            let next = self.published();
            return next..next;
        }
        let start = tickets.claim(r.place(self.place), n);
        for (t, &value) in (start..).zip(values) {
            let slot = r.slot(t);
            if !tickets.slot_free(slot, t) {
                self.wait_for_slot(t);
            }
            slot.write(t, value);
        }
        tickets.advance(start, n, |s| r.slot(s));
        self.sent += n;
        start..start + n
    }

    /// Waits until the previous lap in ticket `t`'s slot is complete or abandoned, looking
    /// every `UNBLOCK_EVERY` whether its writer is gone.
    #[cold]
    fn wait_for_slot(&self, t: u64) {
        let r = &*self.region;
        let tickets = r.tickets();
        let mut last_look = Instant::now();
        let mut spins = 0u32;
        while !tickets.slot_free(r.slot(t), t) {
            if spins < 64 {
                spins += 1;
                spin_loop();
                continue;
            }
            std::thread::yield_now();
            if last_look.elapsed() >= UNBLOCK_EVERY {
                unblock_all(r, &self.file, self.place);
                last_look = Instant::now();
            }
        }
    }

    /// Messages this publisher sent.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Messages claimed on the ring so far, by all its publishers (sent or being sent).
    pub fn published(&self) -> u64 {
        // Relaxed: a monotone count, for information.
        self.region
            .header()
            .word(super::header::W_CLAIM)
            .load(Ordering::Relaxed)
    }

    /// This publisher's place in the ring (`0..MAX_PUBLISHERS`; the creator's is 0).
    pub fn place(&self) -> usize {
        self.place
    }

    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.region.capacity() as usize
    }

    /// The ring file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ring's header fields (capacity, slot layout, creator pid, heartbeat period,
    /// publisher places).
    pub fn info(&self) -> RingInfo {
        self.region.info()
    }
}

/// Abandons the head's message while its owner is proven gone, as often as that moves the
/// head (at most a lap: each step moves the head by at least one).
fn unblock_all<T: Plain>(region: &Region<T>, file: &File, mine: usize) {
    let places = Places { region, file, mine };
    let tickets = region.tickets();
    for _ in 0..region.capacity() {
        if tickets.unblock(&places, |s| region.slot(s)).is_none() {
            break;
        }
    }
}

impl<T: Plain> Drop for ShmSharedPublisher<T> {
    fn drop(&mut self) {
        if let Some(hb) = self.heartbeat.take() {
            hb.stop();
        }
        // Release: as every store of an owner record after a finished run (`ring::claim`).
        self.region
            .place(self.place)
            .ticket
            .store(IDLE, Ordering::Release);
        unlock_place(&self.file, self.place);
        // The last publisher out closes the ring: converting our shared `flock` to an
        // exclusive one succeeds only if no other publisher (alive: the kernel dropped the
        // dead ones' locks) holds it. Two leaving at once cannot both fail: the conversion
        // first gives up our shared lock, so whichever converts last finds none.
        if lock(&self.file, libc::LOCK_EX | libc::LOCK_NB).is_err() {
            return;
        }
        let r = &*self.region;
        // Every other place is dead now: abandon what their processes left claimed, so that
        // the final head is the claim and subscribers account for every ticket.
        let claim = self.published();
        for _ in 0..=r.capacity() {
            // Relaxed: `unblock` rereads it with a read-modify-write; this only decides when to stop.
            if r.header().word(W_HEAD).load(Ordering::Relaxed) >= claim {
                break;
            }
            unblock_all(r, &self.file, self.place);
        }
        close(r, claim, &self.path, &self.file);
    }
}

impl<T: Plain> fmt::Debug for ShmSharedPublisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmSharedPublisher")
            .field("path", &self.path)
            .field("place", &self.place)
            .field("sent", &self.sent)
            .field("published", &self.published())
            .field("capacity", &self.region.capacity())
            .finish()
    }
}
