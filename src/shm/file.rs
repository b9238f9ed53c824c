//! Opening and sizing ring files without trusting what lies at the path.
//!
//! * Whatever is at a ring's name is checked to be a regular file *before* `open(2)` (a
//!   FIFO's `open` blocks until the other end is opened; a device's `open` may act), opened
//!   with `O_NONBLOCK` in case the name was replaced in between, and checked again with
//!   `fstat` on the open descriptor (what is mapped is what was checked).
//! * Its owner must be this process's effective user, or root: anyone who can create the name
//!   first (in `/dev/shm`, any local user) could otherwise feed subscribers well-formed fake
//!   data, which no header check can tell from the real thing.
//! * A new ring file's space is reserved up front (`statvfs`, then `fallocate`), so that a
//!   ring the file system cannot hold is an error at creation instead of a `SIGBUS` in the
//!   publisher on its first write past the free space (a sparse file on a full `tmpfs`).

use super::io_error;
use crate::error::ShmError;
use std::fs::{File, FileType, Metadata, OpenOptions};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Opens the existing file at `path` read-only, refusing anything but a regular file.
pub(crate) fn open_regular(path: &Path) -> Result<(File, Metadata), ShmError> {
    open_checked(path, false)
}

/// [`open_regular`] for reading and writing (a publisher joining a ring).
pub(crate) fn open_regular_rw(path: &Path) -> Result<(File, Metadata), ShmError> {
    open_checked(path, true)
}

fn open_checked(path: &Path, write: bool) -> Result<(File, Metadata), ShmError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    require_regular(path, meta.file_type())?;
    let file = OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    require_regular(path, meta.file_type())?;
    Ok((file, meta))
}

fn require_regular(path: &Path, ty: FileType) -> Result<(), ShmError> {
    if ty.is_file() {
        return Ok(());
    }
    let kind = if ty.is_fifo() {
        "FIFO"
    } else if ty.is_socket() {
        "socket"
    } else if ty.is_char_device() {
        "character device"
    } else if ty.is_block_device() {
        "block device"
    } else if ty.is_dir() {
        "directory"
    } else {
        "special file"
    };
    Err(ShmError::NotRegularFile {
        path: path.to_owned(),
        kind,
    })
}

/// This process's effective user id.
pub(crate) fn euid() -> u32 {
    // SAFETY: `geteuid` takes no arguments, touches no memory of ours and cannot fail.
    unsafe { libc::geteuid() }
}

/// Refuses a file not owned by `accept` or by root.
pub(crate) fn require_owner(path: &Path, meta: &Metadata, accept: u32) -> Result<(), ShmError> {
    let owner = meta.uid();
    if owner == accept || owner == 0 {
        return Ok(());
    }
    Err(ShmError::Owner {
        path: path.to_owned(),
        owner,
        expected: accept,
    })
}

/// Makes the new, empty `file` `len` bytes long with its space reserved. Errors name `path`,
/// the ring the caller asked for.
pub(crate) fn reserve(path: &Path, file: &File, len: u64) -> Result<(), ShmError> {
    let fd = file.as_raw_fd();
    let mut st = core::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `fd` is open for the whole call; `st` is a writable `statvfs` that the call
    // fills in completely when it returns 0.
    let available = if unsafe { libc::fstatvfs(fd, st.as_mut_ptr()) } == 0 {
        // SAFETY: `fstatvfs` returned 0, so it initialised `st`.
        let st = unsafe { st.assume_init() };
        // Both `u64` on the 64-bit Linux targets this module is built for.
        st.f_bavail.saturating_mul(st.f_frsize)
    } else {
        u64::MAX // unknown: let `fallocate` decide
    };
    let no_space = |available| ShmError::NoSpace {
        path: path.to_owned(),
        need: len,
        available,
    };
    if len > available {
        return Err(no_space(available));
    }
    let off = libc::off_t::try_from(len).map_err(|_| no_space(available))?;
    loop {
        // SAFETY: `fd` is open for the whole call; `fallocate` takes integers only.
        if unsafe { libc::fallocate(fd, 0, 0, off) } == 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ENOSPC) => return Err(no_space(available)),
            // A file system without `fallocate`: the free-space check above stands.
            Some(libc::EOPNOTSUPP) => break,
            _ => return Err(io_error(path, e)),
        }
    }
    file.set_len(len).map_err(|e| io_error(path, e))
}

/// The byte range of publisher place `i`'s lock: the bytes of its owner record's first word. A live
/// publisher holds an open-file-description write lock on it (`F_OFD_SETLK`) for as long as
/// it holds the place; the kernel drops the lock when the process exits, however it exits,
/// so a place whose lock nobody holds belongs to no running process (`ring::claim`, rule 5).
fn place_range(kind: libc::c_int, first: usize, places: usize) -> libc::flock {
    use super::header::{PLACE_WORDS, W_PLACES};
    libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: ((W_PLACES + first * PLACE_WORDS) * 8) as libc::off_t,
        l_len: (places * PLACE_WORDS * 8) as libc::off_t,
        // `F_OFD_*` requires 0.
        l_pid: 0,
    }
}

/// `fcntl(fd, cmd, &mut lock)`, retried on `EINTR`.
fn fcntl_lock(file: &File, cmd: libc::c_int, lock: &mut libc::flock) -> std::io::Result<()> {
    loop {
        // SAFETY: `file`'s descriptor is open for the whole call; `lock` is a valid, writable
        // `flock` that the call reads (and for `F_OFD_GETLK` overwrites) and does not keep.
        if unsafe { libc::fcntl(file.as_raw_fd(), cmd, lock as *mut libc::flock) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Takes publisher place `i`'s lock on `file` (open for writing) without waiting: `Ok(false)`
/// if a live publisher holds it.
pub(crate) fn lock_place(file: &File, i: usize) -> std::io::Result<bool> {
    let mut lock = place_range(libc::F_WRLCK, i, 1);
    match fcntl_lock(file, libc::F_OFD_SETLK, &mut lock) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Gives place `i`'s lock back (a publisher leaving cleanly).
pub(crate) fn unlock_place(file: &File, i: usize) {
    let mut lock = place_range(libc::F_UNLCK, i, 1);
    let _ = fcntl_lock(file, libc::F_OFD_SETLK, &mut lock);
}

/// Whether any of `places` places from `first` is held by a live publisher, as seen through
/// `file` (any open description of the ring file, read-only too: testing takes no lock). A
/// lock of `file`'s own description does not count. An error counts as held: a place is
/// only ever treated as dead on the kernel's word.
pub(crate) fn place_held(file: &File, first: usize, places: usize) -> bool {
    let mut lock = place_range(libc::F_WRLCK, first, places);
    match fcntl_lock(file, libc::F_OFD_GETLK, &mut lock) {
        Ok(()) => lock.l_type != libc::F_UNLCK as libc::c_short,
        Err(_) => true,
    }
}
