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
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    require_regular(path, meta.file_type())?;
    let file = OpenOptions::new()
        .read(true)
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
